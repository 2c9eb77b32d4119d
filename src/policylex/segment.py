"""Segmentation engines: jieba (the reference) and rjieba (jieba-rs), giving the same tokens.

Every engine takes its dictionary words through one path: a list of
:class:`Entry` (the domain dictionary, then any extra word list, then the user's
dictionary; see :func:`policylex.tokenise.dictionary_entries`), added in order
exactly as ``jieba.Tokenizer.load_userdict`` would add them.

jieba is the reference: :class:`JiebaEngine` is plain ``jieba.Tokenizer.lcut``.
:class:`RjiebaEngine` gives identical tokens several times faster:

* Text is split into blocks with jieba's own expressions (jieba-rs's Han block
  is wider: it includes CJK extension A and U+9FD6-U+9FFF, which jieba treats
  as symbols), and only jieba's Han blocks go to jieba-rs.
* Within a block, jieba-rs computes the same maximum-probability route as jieba
  (same dictionary, same frequencies, same total, same tie-break) once it holds
  the same words.  The dictionary entries are resolved by the reference first:
  a word without a frequency gets jieba's ``suggest_freq``; jieba adds a
  re-added word's frequency to its total without taking the old one off, while
  jieba-rs replaces it, so a sentinel entry that no text can match carries the
  difference.
* With the HMM on, jieba-rs's own HMM is *not* used (its output differs from
  jieba's on about a quarter of news articles): runs of single characters on the
  route are handed to jieba's own ``finalseg`` exactly as ``jieba.__cut_DAG``
  does, with its results cached (the same run always gives the same words).
  jieba-rs joins consecutive single ASCII letters and digits with the HMM off;
  such a run is split back into its characters, except when the run is itself
  a dictionary word (the route may have taken it whole): that block is cut by
  the reference.
* A dictionary entry with frequency 0 (jieba's "always split this word") has no
  jieba-rs equivalent: with one, :func:`make_engine` chooses jieba.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from policylex.choices import Engine
from policylex.errors import UsageError
from policylex.files import read_option_file

# jieba 0.42.1's expressions (jieba/__init__.py), used to split text into blocks.
RE_HAN = re.compile("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]+)")
RE_SKIP = re.compile("(\r\n|\\s)")
RE_USERDICT = re.compile("^(.+?)( [0-9]+)?( [a-z]+)?$")
RE_ASCII_RUN = re.compile("[a-zA-Z0-9]{2,}")
BLOCK_ASCII = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+#&._%-")
# Characters jieba-rs puts in Han blocks and jieba does not: a text with one is split by jieba's rules first.
WIDER_HAN = re.compile("[\u3400-\u4DBF\u9FD6-\u9FFF\uF900-\uFAFF\U00020000-\U0002FA1F]")
SENTINEL = "\x00policylex total"  # a control character: never inside a Han block
HMM_CACHE_SIZE = 500_000
# A run of two or more words that go into jieba's HMM buffer, in words joined by NUL:
# single characters of a Han block, or ASCII letters and digits jieba-rs joined.
_BUFFERED = "(?:[\u4e00-\u9fd5a-zA-Z0-9+#&._%\\-]|[a-zA-Z0-9]{2,})"
_BUFFER_RUN = re.compile(f"(?<![^\x00]){_BUFFERED}(?:\x00{_BUFFERED})+(?![^\x00])")


@dataclass(frozen=True)
class Entry:
    """A dictionary word as jieba's user-dictionary format gives it: ``word [freq] [tag]``."""

    word: str
    freq: int | None = None
    tag: str | None = None


# jieba-rs keeps frequencies (and their sum) in 64-bit integers; a word this frequent
# already wins every segmentation it is part of.
MAX_FREQUENCY = 10**12


def parse_dictionary(path: str | Path, option: str = "dictionary") -> list[Entry]:
    """Entries of a jieba user dictionary, read exactly as ``jieba.Tokenizer.load_userdict`` reads them.

    ``option`` names the file in messages (``--userdict``).
    """
    entries = []
    data = read_option_file(path, option)
    for number, raw in enumerate(data.splitlines(), start=1):
        try:
            line = raw.strip().decode("utf-8").lstrip("\ufeff")
        except UnicodeDecodeError:
            raise UsageError(f"{option} {path}, line {number}: not UTF-8") from None
        if not line:
            continue
        word, freq, tag = RE_USERDICT.match(line).groups()
        if freq is not None and int(freq) > MAX_FREQUENCY:
            raise UsageError(f"{option} {path}, line {number}: frequency {freq.strip()} is larger than "
                             f"{MAX_FREQUENCY:,}")
        entries.append(Entry(word, int(freq) if freq is not None else None, tag.strip() if tag else None))
    return entries


def _jieba_tokenizer(entries: list[Entry]):
    import jieba  # deferred: building the dictionary takes most of a second

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for entry in entries:
        tokenizer.add_word(entry.word, entry.freq, entry.tag)
    return tokenizer


def _resolve(entries: list[Entry]) -> list[tuple[str, int, str | None, int]]:
    """(word, frequency, tag, frequency before) for each entry, as jieba's ``add_word`` sets them.

    When every entry states its frequency, only the earlier frequency of each word
    is needed, read from jieba's main dictionary (a fifth of a second); otherwise
    jieba itself works out the suggested ones (most of a second).
    """
    if all(entry.freq is not None for entry in entries):
        wanted = {entry.word for entry in entries}
        main = _main_frequencies(frozenset(wanted)) if wanted else {}
        current: dict[str, int] = {}
        resolved = []
        for entry in entries:
            resolved.append((entry.word, entry.freq, entry.tag, current.get(entry.word, main.get(entry.word, 0))))
            current[entry.word] = entry.freq
        return resolved
    reference = _jieba_tokenizer([])
    resolved = []
    for entry in entries:
        before = reference.FREQ.get(entry.word, 0)
        reference.add_word(entry.word, entry.freq, entry.tag)
        resolved.append((entry.word, reference.FREQ[entry.word], entry.tag, before))
    return resolved


def _main_frequencies(words: frozenset[str]) -> dict[str, int]:
    """The frequencies jieba's main dictionary gives these words (absent: not in it)."""
    from importlib import resources

    found = {}
    text = resources.files("jieba").joinpath("dict.txt").read_bytes().decode("utf-8")
    for line in text.splitlines():
        word, _, rest = line.partition(" ")
        if word in words:
            found[word] = int(rest.split(" ", 1)[0])
    return found


class JiebaEngine:
    """Plain jieba: the reference every other engine is tested against."""

    def __init__(self, entries: list[Entry], hmm: bool = True):
        self.hmm = hmm
        self.tokenizer = _jieba_tokenizer(entries)

    @staticmethod
    def describe() -> str:
        return f"jieba {version('jieba')}"

    def cut(self, text: str) -> list[str]:
        return self.tokenizer.lcut(text, HMM=self.hmm)


class RjiebaEngine:
    """jieba-rs's route with jieba's block splitting and jieba's HMM: jieba's tokens, faster."""

    def __init__(self, entries: list[Entry], hmm: bool = True):
        import rjieba

        self.hmm = hmm
        self.entries = entries
        self._reference = None
        self._rs = rjieba.Jieba()
        deficit = 0
        for word, freq, tag, before in _resolve(entries):
            deficit += before  # jieba keeps the old frequency in its total; jieba-rs takes it off
            self._rs.add_word(word, freq, tag)
        if deficit:
            self._rs.add_word(SENTINEL, deficit, None)
        self._has_word = self._rs.has_word
        self._rs_cut = self._rs.cut
        # With no ASCII dictionary word, a joined ASCII run is never ambiguous (see _with_hmm)
        # and the buffer runs can be found by one regular expression instead of a loop.
        self._ascii_words = any(RE_ASCII_RUN.fullmatch(entry.word) for entry in entries)
        if hmm:
            from jieba import finalseg

            self._finalseg = finalseg
            self._viterbi_cut = getattr(finalseg, "__cut")  # module-level, so not name-mangled
            self._hmm_cache: dict[str, list[str]] = {}
            self._han_cache: dict[str, list[str]] = {}
            self._run_cache: dict[str, str] = {}

    @staticmethod
    def describe() -> str:
        return f"rjieba {version('rjieba')} (jieba {version('jieba')} blocks and HMM)"

    def cut(self, text: str) -> list[str]:
        if WIDER_HAN.search(text):
            return self._cut_blocks(text)
        words = self._rs_cut(text, False)  # jieba-rs splits blocks as jieba does, given no WIDER_HAN
        if not self.hmm:
            return words
        if not self._ascii_words and "\x00" not in text:
            return _BUFFER_RUN.sub(self._flush_run, "\x00".join(words)).split("\x00") if words else words
        out = self._with_hmm(words)
        return out if out is not None else self._reference_cut(text)

    def _cut_blocks(self, text: str) -> list[str]:
        """jieba's own block splitting, each Han block cut by jieba-rs."""
        out: list[str] = []
        for i, block in enumerate(RE_HAN.split(text)):
            if not block:
                continue
            if i % 2:  # a Han block: split keeps the matches at odd positions
                words = self._rs_cut(block, False)
                if self.hmm:
                    words = self._with_hmm(words)
                    if words is None:
                        words = self._reference_cut(block)
                out.extend(words)
                continue
            for piece in RE_SKIP.split(block):
                if RE_SKIP.match(piece):
                    out.append(piece)
                else:
                    out.extend(piece)
        return out

    def _with_hmm(self, words: list[str]) -> list[str] | None:
        """``jieba.Tokenizer.__cut_DAG`` applied to jieba-rs's HMM-free words.

        Single characters of a Han block collect in a buffer, which a longer
        word or any character outside the block flushes.  None when a run of
        ASCII letters and digits is also a dictionary word: the route may have
        taken it whole or letter by letter, and only the reference can tell.
        """
        out: list[str] = []
        buf = ""
        has_word = self._has_word
        for word in words:
            if len(word) == 1:
                if "\u4e00" <= word <= "\u9fd5" or word in BLOCK_ASCII:
                    buf += word
                    continue
            elif word.isascii() and RE_ASCII_RUN.fullmatch(word):
                if has_word(word):
                    return None
                buf += word  # single letters and digits that jieba-rs joined
                continue
            if buf:
                self._flush(buf, out)
                buf = ""
            out.append(word)
        if buf:
            self._flush(buf, out)
        return out

    def _flush_run(self, run: re.Match) -> str:
        """_flush for a NUL-joined run of buffered words (never a lone one: that is left as it is).

        Cached by the run as found, before it is taken apart: runs recur, and a cut
        took 7% less time on the benchmark corpus.
        """
        found = run.group()
        joined = self._run_cache.get(found)
        if joined is None:
            words: list[str] = []
            self._flush(found.replace("\x00", ""), words)
            if len(self._run_cache) >= HMM_CACHE_SIZE:
                self._run_cache.clear()
            joined = self._run_cache[found] = "\x00".join(words)
        return joined

    def _flush(self, buf: str, out: list[str]) -> None:
        if len(buf) == 1:
            out.append(buf)
        elif self._has_word(buf):
            out.extend(buf)
        else:
            words = self._hmm_cache.get(buf)
            if words is None:
                if len(self._hmm_cache) >= HMM_CACHE_SIZE:
                    self._hmm_cache.clear()
                words = self._hmm_cache[buf] = self._finalseg_cut(buf)
            out.extend(words)

    def _finalseg_cut(self, buf: str) -> list[str]:
        """``jieba.finalseg.cut``, its Viterbi results cached per Han run.

        A buffer with a number in it (186人) is seldom seen twice; its Han runs are.
        """
        finalseg = self._finalseg
        out: list[str] = []
        for i, block in enumerate(finalseg.re_han.split(buf)):
            if i % 2:  # a Han run
                words = self._han_cache.get(block)
                if words is None:
                    if len(self._han_cache) >= HMM_CACHE_SIZE:
                        self._han_cache.clear()
                    words = self._han_cache[block] = list(self._viterbi_cut(block))
                force_split = finalseg.Force_Split_Words
                for word in words:
                    if word in force_split:
                        out.extend(word)
                    else:
                        out.append(word)
            elif block:
                out.extend(x for x in finalseg.re_skip.split(block) if x)
        return out

    def _reference_cut(self, block: str) -> list[str]:
        if self._reference is None:
            self._reference = _jieba_tokenizer(self.entries)
        return self._reference.lcut(block, HMM=self.hmm)


ENGINES = tuple(e.value for e in Engine if e is not Engine.auto)


def engine_name(entries: list[Entry], requested: str | None = None) -> str:
    """The engine asked for, or the fastest whose tokens are jieba's for these entries."""
    if requested is not None:
        if requested not in ENGINES:
            raise UsageError(f"unknown segmenter {requested!r}; choose {' or '.join(ENGINES)}")
        return requested
    return "jieba" if any(entry.freq == 0 for entry in entries) else "rjieba"


def describe_engine(name: str) -> str:
    """Name and version of an engine, as recorded with the tokens."""
    return (RjiebaEngine if name == "rjieba" else JiebaEngine).describe()


def make_engine(entries: list[Entry], hmm: bool, *, name: str | None = None):
    """The engine asked for, or the fastest whose tokens are jieba's for these entries."""
    name = engine_name(entries, name)
    return RjiebaEngine(entries, hmm) if name == "rjieba" else JiebaEngine(entries, hmm)
