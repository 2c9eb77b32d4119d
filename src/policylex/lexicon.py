"""The lexicon of formulations (提法) and the matcher that finds them in normalised text.

The bundled lexicon is ``data/slogans.csv`` (see ``data/SLOGANS.md``), one row per
formulation: ``slogan`` (the canonical simplified form), ``category``, ``family``
(the series or numbered set it belongs to: 强国系列, 四个全面; may be empty), ``year``
first put forward where known, ``variants`` (``|``-separated: traditional script,
abbreviations, spelled-out enumerations), and ``not_before`` / ``not_after``:
characters that may not touch a match, so that 三农 is not found in 第三农场.

A user's ``--lexicon FILE`` (CSV or TSV, same columns, only ``slogan`` required, so
a file written before ``family`` existed still loads) adds entries or replaces those
with the same ``slogan``.

The matcher accepts each form the way texts print it: with or without
quotation marks around the items of an enumeration, with 、 ， or nothing or
和 / 与 / 及 between them (获得感、幸福感、安全感 = 获得感幸福感安全感 =
“获得感”“幸福感”“安全感”), and in the script the corpus was normalised to.  At
each position the longest form wins, so 一号检察建议 is not also 检察建议, and
matches never overlap.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Callable, Iterator

from policylex.choices import Pool
from policylex.errors import UsageError
from policylex.files import read_option_file
from policylex.normalise import clean, to_traditional
from policylex.output import Table
from policylex.store import json_dumps

CATEGORIES = ("party-political", "rule-of-law", "procuratorial", "criminal-justice", "governance-development")
COLUMNS = ("slogan", "category", "family", "year", "variants", "not_before", "not_after", "note")
# The columns stored with a corpus's matches (its slogan_lexicon table): what detection
# depends on and what a reader of the file needs; family only groups results, so
# changing it does not make every document be scanned again.
STORED_COLUMNS = ("slogan", "category", "year", "variants", "not_before", "not_after", "note")
# What a formulation can be pooled by: the counts and co-occurrences of its family or category.
POOLS = tuple(pool.value for pool in Pool)  # family, category
BUNDLED = "slogans.csv"

# Between the items of an enumeration, each optional and in this order: a closing quote,
# a space, a separator, a space, an opening quote (see _gap_ends).
_QUOTES_CLOSE = "”’」』\"'"
_QUOTES_OPEN = "“‘「『\"'"
_SEPARATORS = ("、", "，", ",", ";", "；", "以及", "和", "与", "及")
_ENUMERATION_MARK = "、"
# A formulation that starts with a number is not one when a bigger number or an
# ordinal comes first: 十四个意识, 第四个意识.
_NUMERALS = "一二两三四五六七八九十百千万0123456789"


@dataclass(frozen=True)
class Entry:
    slogan: str
    category: str = ""
    year: int | None = None
    variants: tuple[str, ...] = ()
    not_before: str = ""
    not_after: str = ""
    note: str = ""
    family: str = ""

    def forms(self) -> tuple[str, ...]:
        """The canonical form and its variants, as written in the lexicon."""
        return (self.slogan,) + tuple(v for v in self.variants if v != self.slogan)

    def row(self) -> tuple:
        """The entry as a lexicon file row, in ``COLUMNS`` order."""
        return (self.slogan, self.category, self.family, self.year, "|".join(self.variants), self.not_before,
                self.not_after, self.note)

    def stored_row(self) -> tuple:
        """The entry in ``STORED_COLUMNS`` order."""
        return (self.slogan, self.category, self.year, "|".join(self.variants), self.not_before, self.not_after,
                self.note)


@dataclass(frozen=True)
class Match:
    slogan: str
    start: int
    stop: int
    matched: str


class Lexicon:
    """Entries by canonical form, in file order."""

    def __init__(self, entries: list[Entry], origin: str):
        self.entries: dict[str, Entry] = {}
        for entry in entries:
            self.entries[entry.slogan] = entry
        self.origin = origin

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries.values())

    def __contains__(self, slogan: str) -> bool:
        return slogan in self.entries

    def slogans(self) -> list[str]:
        return list(self.entries)

    def merged(self, entries: list[Entry], origin: str) -> "Lexicon":
        """This lexicon with ``entries`` added, or replacing the entries of the same slogan."""
        return Lexicon(list(self.entries.values()) + entries, f"{self.origin} + {origin}")

    def fingerprint(self, variant: str) -> str:
        """What detection results depend on: the entries and the corpus's script variant."""
        payload = json_dumps({"entries": [e.stored_row() for e in self], "variant": variant,
                              "matcher": MATCHER_VERSION})
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]

    def table(self) -> Table:
        return Table(COLUMNS, [e.row() for e in self], title=f"Lexicon ({len(self)} formulations; {self.origin})")

    def pools(self, by: str) -> dict[str, list[str]]:
        """The formulations of each family or category (``by``), in file order; entries with none are left out."""
        if by not in POOLS:
            raise UsageError(f"pool by {by!r}: choose from {', '.join(POOLS)}")
        pools: dict[str, list[str]] = {}
        for entry in self:
            name = getattr(entry, by)
            if name:
                pools.setdefault(name, []).append(entry.slogan)
        return pools

    def resolve(self, name: str) -> str:
        """The canonical slogan a user wrote, in any of its forms or scripts."""
        if name in self.entries:
            return name
        wanted = _plain(clean(name, "t2s"))
        for entry in self:
            if any(_plain(clean(form, "t2s")) == wanted for form in entry.forms()):
                return entry.slogan
        raise UsageError(f"{name!r} is not in the lexicon; see `policylex slogans list` or add it with --lexicon")

    def matcher(self, variant: str) -> "Matcher":
        return _matcher(self, variant)


def _plain(text: str) -> str:
    """A form without quotation marks and enumeration separators, for comparing what users type."""
    return re.sub(rf"[{_QUOTES_OPEN}{_QUOTES_CLOSE}、，,\s]", "", text)


MATCHER_VERSION = 1  # raise when the matching rules change, so stored results are recomputed


# --- reading lexicon files -----------------------------------------------------------


def _parse_entry(row: dict[str, str], where: str) -> Entry:
    slogan = (row.get("slogan") or "").strip()
    if not slogan:
        raise UsageError(f"{where}: empty slogan")
    category = (row.get("category") or "").strip()
    if category and category not in CATEGORIES:
        raise UsageError(f"{where}: category {category!r}; choose from {', '.join(CATEGORIES)}")
    year_text = (row.get("year") or "").strip()
    if year_text and not re.fullmatch(r"\d{4}", year_text):
        raise UsageError(f"{where}: year {year_text!r} is not a four-digit year")
    variants = tuple(v.strip() for v in (row.get("variants") or "").split("|") if v.strip())
    return Entry(slogan, category, int(year_text) if year_text else None, variants,
                 (row.get("not_before") or "").strip(), (row.get("not_after") or "").strip(),
                 (row.get("note") or "").strip(), (row.get("family") or "").strip())


def parse_lexicon(text: str, name: str) -> list[Entry]:
    """Entries from CSV or TSV text (the delimiter is taken from the header line)."""
    header = text.split("\n", 1)[0]
    reader = csv.DictReader(io.StringIO(text), delimiter="\t" if "\t" in header else ",")
    if not reader.fieldnames or "slogan" not in [f.strip() for f in reader.fieldnames]:
        raise UsageError(f"{name}: a lexicon needs a header with a 'slogan' column (and {', '.join(COLUMNS[1:])})")
    reader.fieldnames = [f.strip() for f in reader.fieldnames]
    entries = []
    try:
        for row in reader:
            if None in row:
                raise UsageError(f"{name}:{reader.line_num}: more fields than the header has")
            entries.append(_parse_entry(row, f"{name}:{reader.line_num}"))
    except csv.Error as error:
        raise UsageError(f"{name}:{reader.line_num}: {error}") from None
    seen: dict[str, str] = {}
    for entry in entries:
        for form in entry.forms():
            if seen.setdefault(form, entry.slogan) != entry.slogan:
                raise UsageError(f"{name}: {form!r} is a form of both {seen[form]!r} and {entry.slogan!r}")
    return entries


def read_lexicon(path: str | Path) -> list[Entry]:
    path = Path(path)
    try:
        text = read_option_file(path, "--lexicon").decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UsageError(f"lexicon {path}: cannot read it as UTF-8 text ({error})", option="lexicon") from None
    return parse_lexicon(text, str(path))


@lru_cache(maxsize=1)
def bundled_lexicon() -> Lexicon:
    text = resources.files("policylex").joinpath("data", BUNDLED).read_text(encoding="utf-8")
    return Lexicon(parse_lexicon(text, BUNDLED), "bundled")


PROTECTED_MAX_CHARS = 6  # longer formulations are phrases whose words researchers still want to count
PROTECTED_FREQUENCY = 5000  # as the domain dictionary's terms: enough to keep the word whole


def protected_words(lexicon: Lexicon | None = None) -> list[str]:
    """Forms the segmenter keeps whole: every short, single-phrase form (四个意识, 少捕慎诉慎押).

    Enumerations (获得感、幸福感、安全感) and long formulations are left to the
    segmenter: their parts are words of their own.  So are formulations with
    trap guards (三农, 双减): as a dictionary word they would be cut out of the
    longer words the guards protect (第三农场).
    """
    words = []
    for entry in lexicon or bundled_lexicon():
        if entry.not_before or entry.not_after:
            continue
        for form in entry.forms():
            if len(form) <= PROTECTED_MAX_CHARS and re.fullmatch(r"[\u4e00-\u9fff]+", form) and form not in words:
                words.append(form)
    return words


def load_lexicon(path: str | Path | None = None, *, bundled: bool = True) -> Lexicon:
    """The bundled lexicon, with the entries of ``path`` added or replacing; only ``path``'s without ``bundled``."""
    if path is None:
        if not bundled:
            raise UsageError("--no-bundled needs --lexicon FILE")
        return bundled_lexicon()
    entries = read_lexicon(path)
    if not bundled:
        return Lexicon(entries, Path(path).name)
    return bundled_lexicon().merged(entries, Path(path).name)


# --- matching ---------------------------------------------------------------------


def _surface_forms(entry: Entry, variant: str) -> set[str]:
    """Each form as it reads after the corpus's normalisation (its script included)."""
    forms = set()
    for form in entry.forms():
        forms.add(clean(form, variant))
        if variant == "none":  # the text keeps whichever script it came in: match both
            simplified = clean(form, "t2s")
            forms.update((simplified, to_traditional(simplified)))
    return {f.strip() for f in forms if f.strip()}


# The gap's parts, each optional, in order; a part is "space" or its alternatives.
_GAP_PIECES = (tuple(_QUOTES_CLOSE), "space", _SEPARATORS, "space", tuple(_QUOTES_OPEN))
_GAP_FIRST = frozenset(alternative[0] for piece in _GAP_PIECES if piece != "space" for alternative in piece)
# As a regex, atomic: once a gap has matched, no other way through it is tried.
_ITEM_GAP = "(?>" + "".join(r"\s?" if piece == "space" else f"(?:{'|'.join(map(re.escape, piece))})?"
                            for piece in _GAP_PIECES) + ")"


def _gap_piece_length(piece, text: str, position: int) -> int:
    """How many characters one optional part of a gap takes at ``position`` (0: none)."""
    if position >= len(text):
        return 0
    if piece == "space":
        return 1 if text[position].isspace() else 0  # what the regex \s matches
    return next((len(a) for a in piece if text.startswith(a, position)), 0)


def _can_start_a_gap(char: str) -> bool:
    return char in _GAP_FIRST or char.isspace()


def _gap_ends(text: str, starts: set[int]) -> set[int]:
    """Every position a gap between items can end at, from any of ``starts``: all ways at once."""
    if all(p >= len(text) or not _can_start_a_gap(text[p]) for p in starts):
        return starts  # the usual case: the next item follows at once, or nothing does
    ends = set(starts)
    for piece in _GAP_PIECES:
        ends |= {p + n for p in ends if (n := _gap_piece_length(piece, text, p))}
    return ends


class _Enumeration:
    """A form whose later items may begin like a gap (和谐, a space): matched by following every way at once.

    A regex tries the ways through its optional parts one by one: an enumeration
    of n such items that did not match took 2^n tries (87 s at n = 42).  Here the
    ways are a set of positions within the form's span: the work is bounded by the
    form's length (squared at most), never exponential, and linear in the text.
    """

    def __init__(self, items: list[str], not_before: str, not_after: str):
        self.items, self.not_before, self.not_after = items, not_before, not_after

    def match(self, text: str, start: int) -> int | None:
        """Where the longest match starting at ``start`` ends, or None."""
        first = self.items[0]
        if not text.startswith(first, start) or (start and text[start - 1] in self.not_before):
            return None
        ends = {start + len(first)}
        for item in self.items[1:]:
            ends = {p + len(item) for p in _gap_ends(text, ends) if text.startswith(item, p)}
            if not ends:
                return None
        return max((e for e in ends if e == len(text) or text[e] not in self.not_after), default=None)


def _form_matcher(form: str, entry: Entry):
    """``match(text, start)`` for a form: a regex's (items joined by atomic gaps, with the entry's guards),
    or, when a later item could begin a gap (the atomic gap would take its first character), an
    :class:`_Enumeration`'s."""
    items = _plain_items(form)
    not_before = entry.not_before + (_NUMERALS + "第" if form[0] in _NUMERALS else "")
    if any(_can_start_a_gap(item[0]) for item in items[1:]):
        return _Enumeration(items, not_before, entry.not_after).match
    guard_before = f"(?<![{re.escape(not_before)}])" if not_before else ""
    guard_after = f"(?![{re.escape(entry.not_after)}])" if entry.not_after else ""
    return re.compile(guard_before + _ITEM_GAP.join(map(re.escape, items)) + guard_after).match


def _plain_items(form: str) -> list[str]:
    form = form.strip(_QUOTES_OPEN + _QUOTES_CLOSE)
    items = [item.strip(_QUOTES_OPEN + _QUOTES_CLOSE + " ") for item in form.split(_ENUMERATION_MARK)]
    return [item for item in items if item]


def literal_pattern(words: set[str]) -> str:
    """One regex for a set of literals, factored by first character.

    Python's regex engine scans a plain alternation of literals quickly but
    tries every branch at every position; factoring by first character makes
    the lexicon's few hundred anchors cost about as much as one.
    """
    by_first: dict[str, list[str]] = {}
    for word in words:
        by_first.setdefault(word[0], []).append(word[1:])
    branches = []
    for first, rests in sorted(by_first.items()):
        rests = sorted(rests, key=lambda r: (-len(r), r))
        branches.append(re.escape(first) + ("(?:" + "|".join(re.escape(r) for r in rests) + ")" if rests != [""] else ""))
    return "|".join(branches)


class Matcher:
    """Finds every lexicon formulation in a text: leftmost, then longest; never overlapping.

    A fast scan finds where the first item of some form starts; only there are
    the full forms (gaps between items, guards) tried, longest form first.  The
    work at each place is bounded by the forms' lengths, whatever the lexicon holds.
    """

    def __init__(self, lexicon: Lexicon, variant: str):
        candidates: dict[str, list[tuple[int, str, str, Callable]]] = {}
        anchors: set[str] = set()
        for entry in lexicon:
            for form in _surface_forms(entry, variant):
                items = _plain_items(form)
                if not items:
                    continue
                anchors.add(items[0])
                candidates.setdefault(items[0][0], []).append(
                    (len(_plain(form)), entry.slogan, form, _form_matcher(form, entry)))
        for forms in candidates.values():
            forms.sort(key=lambda f: (-f[0], f[1], f[2]))
        self._candidates = {first: [(match, slogan) for _, slogan, _, match in forms]
                            for first, forms in candidates.items()}
        self._anchor = re.compile(literal_pattern(anchors)) if anchors else None

    def find(self, text: str) -> list[Match]:
        matches: list[Match] = []
        if self._anchor is None:
            return matches
        position = 0
        search = self._anchor.search
        while True:
            found = search(text, position)
            if found is None:
                return matches
            start = found.start()
            best, best_slogan = None, None
            for match, slogan in self._candidates[text[start]]:
                end = match(text, start)
                if end is not None and type(end) is not int:  # a regex's match
                    end = end.end()
                if end is not None and (best is None or end > best):
                    best, best_slogan = end, slogan
            if best is None:
                position = start + 1
                continue
            matches.append(Match(best_slogan, start, best, text[start:best]))
            position = best


    def nested(self, text: str) -> list[Match]:
        """The formulations written inside ``text`` (a match of another one), the whole of it excepted.

        At each place, each formulation that starts there once, at its longest:
        ``全面依法治国`` holds ``依法治国``, and ``依法治国`` holds ``法治`` if the lexicon has it.
        """
        found: list[Match] = []
        for start in range(len(text)):
            longest: dict[str, int] = {}
            for match, slogan in self._candidates.get(text[start], ()):
                end = match(text, start)
                if end is not None and type(end) is not int:
                    end = end.end()
                if end is not None and (start, end) != (0, len(text)) and end > longest.get(slogan, -1):
                    longest[slogan] = end
            found.extend(Match(slogan, start, end, text[start:end]) for slogan, end in sorted(longest.items()))
        return found


_matchers: dict[str, Matcher] = {}


def _matcher(lexicon: Lexicon, variant: str) -> Matcher:
    key = lexicon.fingerprint(variant)
    if key not in _matchers:
        _matchers[key] = Matcher(lexicon, variant)
    return _matchers[key]
