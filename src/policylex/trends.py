"""Trends: how often terms or formulations appear per year and region, with honest denominators.

A trends table is a tidy panel, one row per item (term or formulation) and group
(year, province, city, or a combination such as province × year), with the
group's denominators beside the counts and a 95% interval around every rate and
share, so that a province with two articles does not look like a trend:

``term kind [year] [province province_code] [city city_code] [source] [doc]
documents tokens chars occurrences docs_with rate rate_low rate_high per
share share_low share_high``

* ``kind`` is ``token`` or ``slogan``.  A *term* is counted on the tokens, from
  the document-term matrix (so it depends on the segmenter: 公益诉讼检察 is one
  token, not 公益诉讼).  A *slogan* (``slogans=True``) is a lexicon formulation
  counted on the normalised text, where the segmenter cannot split it.
* ``documents``, ``tokens``, ``chars``: the group's documents, their tokens
  (after stopword removal, as the matrix counts them) and their characters of
  normalised text.  ``occurrences``: the item's count in the group;
  ``docs_with``: documents holding it at least once.
* ``rate`` = occurrences / denominator × scale, ``per`` names the unit:
  ``10k_tokens`` (per 10,000 tokens, the default for terms), ``10k_chars``
  (per 10,000 characters, the default for slogans) or ``doc`` (occurrences per
  document, the mean count).  ``rate_low`` / ``rate_high``: the exact Poisson
  (Garwood) interval, see :func:`poisson_interval`.  Occurrences cluster in
  documents (an article that uses a formulation often uses it again), so this
  interval is narrower than the truth when a few documents carry the count;
  ``share`` and its interval count documents and are immune to that.
* ``share`` = docs_with / documents; ``share_low`` / ``share_high``: the Wilson
  score interval, see :func:`wilson_interval`.
* Group columns are separate (never a joined label): ``year`` (a number, or
  ``unknown``), ``province`` with ``province_code`` and ``city`` with
  ``city_code`` (6-digit GB/T 2260 codes, ``000000`` for 全国; empty for the
  ``unknown`` group or where a group's documents disagree).
* Documents whose year or region is unknown form an ``unknown`` group, counted
  like any other; ``drop_unknown`` leaves them out (and says how many).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.sparse as sp

from policylex.errors import UsageError
from policylex.output import Table
from policylex.selection import UNKNOWN, DocumentSet, group_fields
from policylex.store import Corpus

LEVEL = 0.95
KINDS = ("token", "slogan")
# --per: (denominator column in the group counts, scale, the ``per`` label, what it reads as)
PER = {
    "tokens": ("tokens", 10_000, "10k_tokens", "per 10,000 tokens"),
    "chars": ("chars", 10_000, "10k_chars", "per 10,000 characters"),
    "docs": ("documents", 1, "doc", "per document"),
}
MEASURE_COLUMNS = ("documents", "tokens", "chars", "occurrences", "docs_with", "rate", "rate_low", "rate_high", "per",
                   "share", "share_low", "share_high")
DIGITS = 6


# --- intervals -------------------------------------------------------------------------


def poisson_interval(k, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """The exact (Garwood 1936) interval for the mean of a Poisson count ``k``, vectorised.

    With α = 1 − level: lower = χ²(α/2; 2k) / 2 (0 when k = 0) and upper =
    χ²(1 − α/2; 2k + 2) / 2, χ²(p; ν) the p-quantile of chi-squared with ν
    degrees of freedom.  Divide by the exposure (tokens, characters,
    documents) for an interval of the rate.  It covers at least ``level``.
    """
    # chi2.ppf(p, ν) is 2·gammaincinv(ν/2, p) in scipy.stats; scipy.special imports in a
    # third of the time (start-up counts: trends should answer within a second).
    from scipy.special import gammaincinv

    k = np.asarray(k, dtype=float)
    alpha = 1.0 - level
    lower = np.where(k > 0, 2 * gammaincinv(np.maximum(2 * k, 1) / 2, alpha / 2) / 2, 0.0)
    upper = 2 * gammaincinv((2 * k + 2) / 2, 1 - alpha / 2) / 2
    return lower, upper


def wilson_interval(x, n, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson (1927) score interval for a share of ``x`` successes out of ``n``, vectorised.

    With p = x / n and z the normal quantile at 1 − α/2:
    centre = (p + z²/2n) / (1 + z²/n),
    half-width = z / (1 + z²/n) × √(p(1 − p)/n + z²/4n²);
    exactly 0 at x = 0 and 1 at x = n; NaN where n = 0.
    """
    from scipy.special import ndtri  # what scipy.stats.norm.ppf computes

    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    z = float(ndtri(1 - (1.0 - level) / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        denominator = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denominator
        half = z / denominator * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # At x = 0 and x = n the ends are exactly 0 and 1; rounding would leave 1e-19 there.
    low = np.where(x == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(x == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    return np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)


# --- what is counted -------------------------------------------------------------------


@dataclass
class ItemCounts:
    """Occurrences of some items (terms or formulations) in each document, with the documents' metadata."""

    documents: DocumentSet  # meta carries chars, token_count, province_code and city_code
    counts: sp.csr_matrix  # documents × items
    items: list[str]
    kind: str  # token | slogan
    notes: list[str]


def _top_columns(totals: np.ndarray, names: np.ndarray, top: int | None) -> list[int]:
    """The columns of most occurrences (``totals``, ties by name), at most ``top``; only those found."""
    from policylex.measures import ranked

    return ranked(totals, names, among=np.flatnonzero(totals > 0), top=top or None).tolist()


Select = Callable[[DocumentSet], np.ndarray]


def term_counts(corpus: Corpus, terms: list[str] | None, select: Select, top: int | None = 10) -> ItemCounts:
    """The terms' counts on the tokens, from the cached document-term matrix.

    Without ``terms``, the ``top`` most frequent terms of the documents
    ``select(documents)`` picks.  A term that is not a token counts 0.
    """
    from policylex.dtm import document_term_matrix

    dtm = document_term_matrix(corpus)
    notes = []
    if terms:
        index = dtm.term_index()
        items = list(dict.fromkeys(terms))
        notes.extend(f"{t}: not among the tokens (0 everywhere)" for t in items if t not in index)
        notes.extend(_formulation_hints(items))
        found = [(j, index[t]) for j, t in enumerate(items) if t in index]
    else:
        # The usual selection's sums are in the matrix cache: no pass over the counts.
        totals, _ = dtm.term_sums(select(dtm.documents), docfreq=False)
        columns = _top_columns(totals, dtm.vocabulary, top)
        items = [str(dtm.vocabulary[c]) for c in columns]
        found = list(enumerate(columns))
    # Slice the few columns out of the whole matrix first; then each found
    # column goes to its item's place (a term not found stays a column of 0).
    sub = dtm.counts[:, [c for _, c in found]]
    place = sp.csr_matrix((np.ones(len(found), dtype=np.int64), (np.arange(len(found)), [j for j, _ in found])),
                          shape=(len(found), len(items)))
    return ItemCounts(dtm.documents, sp.csr_matrix(sub @ place), items, "token", notes)


def _formulation_hints(terms: list[str]) -> list[str]:
    from policylex.lexicon import load_lexicon

    lexicon = load_lexicon()
    return [f"{t} is a lexicon formulation: with --slogans it is counted in the text, where the segmenter cannot "
            "split it" for t in terms if t in lexicon]


def slogan_counts(corpus: Corpus, slogans: list[str] | None, select: Select, top: int | None = 10, *,
                  lexicon=None, progress=None) -> ItemCounts:
    """The formulations' counts on the normalised text (:func:`policylex.slogans.slogan_matrix`).

    ``slogans`` in any form or script the lexicon knows; without them, the
    ``top`` formulations found most often in the documents ``select`` picks.
    """
    from policylex.slogans import slogan_matrix

    matrix = slogan_matrix(corpus, lexicon, progress=progress)
    if slogans:
        items = list(dict.fromkeys(matrix.lexicon.resolve(s) for s in slogans))
        columns = [matrix.column(s) for s in items]
    else:
        totals = np.asarray(matrix.counts[select(matrix.documents)].sum(axis=0)).ravel()
        columns = _top_columns(totals, np.array(matrix.slogans), top)
        items = [matrix.slogans[j] for j in columns]
    return ItemCounts(matrix.documents, sp.csr_matrix(matrix.counts[:, columns]), items, "slogan",
                      [f"lexicon: {matrix.lexicon.origin}, {len(matrix.lexicon)} formulations"])


# --- the panel -----------------------------------------------------------------------------


def selected_rows(documents: DocumentSet, by: str | None, *, where=None, include_duplicates: bool = False,
                  drop_unknown: bool = False) -> np.ndarray:
    """The documents ``where`` selects (duplicates left out unless asked), without those of an unknown group if asked."""
    rows = documents.rows(include_duplicates=include_duplicates, where=where)
    if drop_unknown:
        for field in group_fields(by):
            rows = rows[documents.group_labels(field)[rows] != UNKNOWN]
    return rows


@dataclass
class Groups:
    """The selected documents in groups, with each group's denominators and administrative codes."""

    fields: tuple[str, ...]
    keys: list[tuple[str, ...]]
    members: list[np.ndarray]
    indicator: sp.csr_matrix  # groups × selected rows, 1 where the row is in the group
    documents: np.ndarray
    tokens: np.ndarray
    chars: np.ndarray
    codes: dict[str, list[str | None]]  # province_code / city_code per group

    def columns(self) -> tuple[str, ...]:
        """The group columns of a table: each field, a region followed by its code."""
        out: list[str] = []
        for field in self.fields:
            out.append(field)
            if f"{field}_code" in self.codes:
                out.append(f"{field}_code")
        return tuple(out)

    def values(self, g: int) -> tuple:
        """Group ``g``'s cells for :meth:`columns`: year as a number unless unknown."""
        out: list = []
        for field, value in zip(self.fields, self.keys[g]):
            out.append(int(value) if field == "year" and value != UNKNOWN else value)
            if f"{field}_code" in self.codes:
                out.append(self.codes[f"{field}_code"][g])
        return tuple(out)


def group_documents(documents: DocumentSet, rows: np.ndarray, by: str | None) -> Groups:
    """Group the selected rows; sum each group's documents, tokens and characters; find its codes."""
    grouping = documents.grouping(rows, by)
    n = len(grouping.keys)
    of_row = grouping.group_of_row
    indicator = sp.csr_matrix((np.ones(rows.size, dtype=np.int64), (of_row, np.arange(rows.size))),
                              shape=(n, rows.size))
    meta = documents.meta
    codes = {}
    for field in ("province", "city"):
        if field in grouping.fields:
            codes[f"{field}_code"] = [_common_code(meta[f"{field}_code"][m]) for m in grouping.members]
    return Groups(
        grouping.fields, grouping.keys, grouping.members, indicator,
        np.bincount(of_row, minlength=n).astype(np.int64),
        np.bincount(of_row, weights=meta["token_count"][rows], minlength=n).astype(np.int64),
        np.bincount(of_row, weights=meta["chars"][rows], minlength=n).astype(np.int64),
        codes,
    )


def _common_code(codes: np.ndarray) -> str | None:
    """The group's code when its documents agree on one; None for none or several."""
    distinct = set(np.unique(codes).tolist()) - {""}
    return distinct.pop() if len(distinct) == 1 else None


def _rounded(values: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else round(float(v), DIGITS) for v in values.tolist()]


def panel(items: ItemCounts, rows: np.ndarray, by: str | None, *, per: str, level: float = LEVEL) -> Table:
    """The tidy table (see the module's docstring) of ``items`` in the selected ``rows``, grouped ``by``."""
    if per not in PER:
        raise UsageError(f"--per {per!r}: choose from {', '.join(PER)}")
    groups = group_documents(items.documents, rows, by)
    selected = items.counts[rows]
    occurrences = np.asarray((groups.indicator @ selected).todense(), dtype=np.int64)
    holders = np.asarray((groups.indicator @ (selected > 0).astype(np.int64)).todense(), dtype=np.int64)
    denominator_name, scale, unit, _ = PER[per]
    denominator = getattr(groups, denominator_name).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        exposure = np.where(denominator > 0, denominator / scale, np.nan)[:, None]
        rate = occurrences / exposure
        low, high = poisson_interval(occurrences, level)
        rate_low, rate_high = low / exposure, high / exposure
        share = holders / groups.documents[:, None]
    share_low, share_high = wilson_interval(holders, groups.documents[:, None], level)
    out = []
    for j, item in enumerate(items.items):
        columns = [_rounded(a[:, j]) for a in (rate, rate_low, rate_high, share, share_low, share_high)]
        for g in range(len(groups.keys)):
            out.append((item, items.kind) + groups.values(g) + (
                int(groups.documents[g]), int(groups.tokens[g]), int(groups.chars[g]), int(occurrences[g, j]),
                int(holders[g, j]), columns[0][g], columns[1][g], columns[2][g], unit, columns[3][g], columns[4][g],
                columns[5][g]))
    return Table(("term", "kind") + groups.columns() + MEASURE_COLUMNS, out, title="Trends")


def trends(
    corpus: Corpus,
    terms: list[str] | None = None,
    *,
    slogans: bool = False,
    by: str | None = "year",
    per: str | None = None,
    where: list[str] | None = None,
    include_duplicates: bool = False,
    drop_unknown: bool = False,
    top: int | None = 10,
    level: float = LEVEL,
    lexicon=None,
    progress=None,
) -> Table:
    """Occurrences, rates and shares of terms (or formulations) per group, with intervals.

    ``terms`` are counted on the tokens; with ``slogans``, they name lexicon
    formulations counted on the text.  Without ``terms``, the ``top`` most
    frequent ones of the selected documents.  ``by``: one group field or several
    joined by commas (``province,year``); None (or ``all``) for one group.  ``per``:
    ``tokens``, ``chars`` or ``docs`` (default: tokens for terms, chars for
    formulations).  Columns and formulas: see :mod:`policylex.trends`.
    """
    by = None if by == "all" else by
    group_fields(by)  # a bad --by fails before any work
    per = per or ("chars" if slogans else "tokens")
    if per not in PER:
        raise UsageError(f"--per {per!r}: choose from {', '.join(PER)}")
    if not 0 < level < 1:
        raise UsageError(f"--level {level}: give a confidence level between 0 and 1, e.g. 0.95")

    def select(documents: DocumentSet) -> np.ndarray:
        return selected_rows(documents, by, where=where, include_duplicates=include_duplicates,
                             drop_unknown=drop_unknown)

    if slogans:
        items = slogan_counts(corpus, terms, select, top, lexicon=lexicon, progress=progress)
    else:
        items = term_counts(corpus, terms, select, top)
    rows = select(items.documents)
    if rows.size == 0:
        raise UsageError("no documents match" + (f" --where {' '.join(where)}" if where else "")
                         + (" with a known " + " and ".join(group_fields(by)) if drop_unknown else ""))
    if not items.items:
        raise UsageError("no " + ("formulation of the lexicon" if slogans else "term") + " in the selected documents")
    table = panel(items, rows, by, per=per, level=level)
    table.notes = _notes(items, rows, by, per, level, drop_unknown, where, include_duplicates)
    table.title = f"Trends ({'formulations on the text' if slogans else 'terms on the tokens'}, {PER[per][3]})"
    return table


def _notes(items: ItemCounts, rows, by, per, level, drop_unknown, where, include_duplicates) -> list[str]:
    documents = items.documents
    notes = [f"{rows.size} documents; rate {PER[per][3]}; {level:.0%} intervals: exact Poisson (Garwood) for the "
             "rate, Wilson for the share"]
    everyone = documents.rows(include_duplicates=include_duplicates, where=where)
    for field in group_fields(by):
        unknown = int((documents.group_labels(field)[everyone] == UNKNOWN).sum())
        if unknown:
            notes.append(f"{field} unknown: {unknown} documents, " + (
                "left out (--drop-unknown)" if drop_unknown else "in the unknown group"))
    return notes + items.notes


def wide(table: Table) -> Table:
    """The long table pivoted for reading: one row per group, its denominators, one rate column per term."""
    records = list(table.records())
    group_columns = [c for c in table.columns[2: table.columns.index("documents")]]
    terms = list(dict.fromkeys(r["term"] for r in records))
    rows: dict[tuple, dict] = {}
    for r in records:
        key = tuple(r[c] for c in group_columns)
        row = rows.setdefault(key, {"documents": r["documents"], "tokens": r["tokens"], "chars": r["chars"]})
        row[r["term"]] = r["rate"]
    out = [key + (row["documents"], row["tokens"], row["chars"]) + tuple(row.get(t) for t in terms)
           for key, row in rows.items()]
    return Table(tuple(group_columns) + ("documents", "tokens", "chars") + tuple(terms), out, title=table.title,
                 notes=table.notes + ["each term's column is its rate; intervals are in the long table"])


def _estimate(value, low, high, fmt) -> str:
    return "" if value is None else f"{fmt(value)} ({fmt(low)}–{fmt(high)})"


def readable(table: Table) -> Table:
    """The long table for a terminal: short headers, codes and unused denominators left out, intervals inline.

    Columns: term, the groups, ``docs``, the rate's denominator (``tokens`` or
    ``chars``), ``n`` (occurrences), ``rate (95%)`` reading ``25.5 (3.09–92.2)``
    and ``share (95%)`` reading ``50% (9.5–91%)``.
    """
    columns = list(table.columns)
    groups = [c for c in columns[2: columns.index("documents")] if not c.endswith("_code")]
    records = list(table.records())
    unit = records[0]["per"] if records else ""
    denominator = {"10k_tokens": ["tokens"], "10k_chars": ["chars"]}.get(unit, [])

    def significant(x: float) -> str:  # three digits, never an exponent: 0.0253, 25.5, 240, 2308
        return f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"

    def percent(x: float) -> str:
        return f"{100 * x:.2g}%" if x < 0.995 else "100%"

    out = [tuple(r[c] for c in ["term"] + groups + ["documents"] + denominator + ["occurrences"])
           + (_estimate(r["rate"], r["rate_low"], r["rate_high"], significant),
              _estimate(r["share"], r["share_low"], r["share_high"], percent))
           for r in records]
    return Table(tuple(["term"] + groups + ["docs"] + denominator + ["n", "rate (95%)", "share (95%)"]), out,
                 title=table.title, notes=table.notes)


def documents_by(corpus: Corpus, by: str | None, *, where=None, include_duplicates: bool = False) -> Table:
    """Documents, tokens and characters per group (year, province, …), every document, tokenised or not."""
    from policylex.selection import CODE_FIELDS, SIZE_FIELDS, load_documents

    documents = load_documents(corpus, extra=SIZE_FIELDS + CODE_FIELDS)
    rows = documents.rows(include_duplicates=include_duplicates, where=where)
    groups = group_documents(documents, rows, by)
    out = [groups.values(g) + (int(groups.documents[g]), int(groups.tokens[g]), int(groups.chars[g]))
           for g in range(len(groups.keys))]
    return Table(groups.columns() + ("documents", "tokens", "chars"), out, title="Documents by " + (by or "corpus"))
