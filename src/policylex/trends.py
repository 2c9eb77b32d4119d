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
  document, the mean count).  ``rate_low`` / ``rate_high``: by default the
  exact Poisson (Garwood) interval, see :func:`poisson_interval`.  Occurrences
  cluster in documents (an article that uses a formulation often uses it
  again), so this interval is narrower than the truth when a few documents
  carry the count; ``interval="bootstrap"`` resamples documents within each
  group (:func:`bootstrap_interval`) and ``interval="quasipoisson"`` widens the
  Poisson interval by the documents' over-dispersion (:func:`dispersion`,
  :func:`scaled_poisson_interval`).  ``share`` and its interval count
  documents and are immune to that.
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

import sys
import types
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from policylex.choices import Interval, Per, choose
from policylex.errors import UsageError
from policylex.matrix import FeatureMatrix, Groups, as_matrix, dfm, group_documents
from policylex.output import Table
from policylex.selection import UNKNOWN, group_fields
from policylex.store import Corpus

LEVEL = 0.95
RESAMPLES = 1_000  # bootstrap resamples: the tails of a 95% interval rest on 25 resampled rates each
MIN_RESAMPLES = 100  # fewer leave two or three resampled rates in each tail of a 95% interval
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


def scaled_poisson_interval(k, dispersion, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """The quasi-Poisson interval: the exact interval of ``k / φ`` occurrences, times φ (``dispersion``), vectorised.

    With variance φ·μ instead of μ, k / φ behaves like a Poisson count of mean
    μ / φ; its Garwood interval, gammaincinv(k/φ, α/2) to gammaincinv(k/φ + 1,
    1 − α/2) (lower 0 when k = 0), is scaled back by φ.  At φ = 1 this is
    :func:`poisson_interval`; for φ > 1 it is wider, and stays asymmetric and
    non-negative (a Wald interval would not, nor exist at k = 0).
    """
    from scipy.special import gammaincinv

    k = np.asarray(k, dtype=float)
    phi = np.asarray(dispersion, dtype=float)
    alpha = 1.0 - level
    effective = k / phi
    lower = np.where(k > 0, gammaincinv(np.where(k > 0, effective, 1.0), alpha / 2), 0.0) * phi
    upper = gammaincinv(effective + 1, 1 - alpha / 2) * phi
    return lower, upper


def dispersion(counts: sp.csr_matrix, exposure: np.ndarray, group_of_row: np.ndarray,
               n_groups: int) -> tuple[np.ndarray, int]:
    """Each item's over-dispersion φ across documents, and its degrees of freedom.

    As R's ``glm(count ~ group + offset(log(exposure)), family = quasipoisson)``
    estimates it, one φ per item pooled over the groups: with r_g = k_g / E_g
    the group's rate and μ_i = e_i · r_g each document's expected count,
    φ = Σ (c_i − μ_i)² / μ_i / (documents − groups), which sums per group to
    (E_g / k_g) · Σ c_i² / e_i − k_g (0 where k_g = 0).  Pooling lets a group of
    two documents borrow the dispersion the whole selection shows.  φ is at
    least 1 (fewer documents than that cannot show under-dispersion reliably,
    and the interval is never narrower than Poisson); with no degrees of
    freedom (every group one document) it is 1: the Poisson interval.
    ``counts``: documents × items; ``exposure``: each document's denominator.
    """
    df = int(counts.shape[0]) - n_groups
    items = counts.shape[1]
    if df < 1 or items == 0:
        return np.ones(items), max(df, 0)
    indicator = sp.csr_matrix((np.ones(group_of_row.size), (group_of_row, np.arange(group_of_row.size))),
                              shape=(n_groups, group_of_row.size))
    exposure = np.asarray(exposure, dtype=float)
    inverse = np.divide(1.0, exposure, out=np.zeros_like(exposure), where=exposure > 0)
    squared = sp.csr_matrix(counts, dtype=float).multiply(counts).multiply(inverse[:, None]).tocsr()
    k = np.asarray((indicator @ counts).todense(), dtype=float)
    total = (indicator @ exposure)[:, None]
    summed = np.asarray((indicator @ squared).todense(), dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        pearson = np.where(k > 0, summed * total / k - k, 0.0)
    return np.maximum(1.0, pearson.sum(axis=0) / df), df


BOOTSTRAP_CELLS = 4_000_000  # resample weights held at once (× 8 bytes): memory stays flat for any group size


def group_seed(seed: int, key: tuple[str, ...]) -> np.random.Generator:
    """The generator of one group's resamples: from the seed and the group's own values (not its position).

    So a group's interval does not change when other groups are selected or left out.
    """
    import zlib

    return np.random.default_rng([seed, zlib.crc32("\x1f".join(key).encode("utf-8"))])


def bootstrap_interval(counts: np.ndarray, exposure: np.ndarray, rng: np.random.Generator, *, resamples: int,
                       level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """The percentile bootstrap interval of Σc / Σe over one group's documents, for each item (column).

    ``counts``: the group's documents × items; ``exposure``: each document's
    denominator.  Each of ``resamples`` resamples draws as many documents as
    the group has, with replacement (``rng.integers(0, n, size=(resamples, n))``,
    drawn in blocks of rows), keeping every document's occurrences together:
    documents are the unit that was sampled, not occurrences.  The interval's
    ends are the α/2 and 1 − α/2 quantiles of the resampled rates (numpy's
    linear interpolation).  A resample with no exposure at all has no rate and
    is left out.
    """
    counts = np.asarray(counts, dtype=float)
    exposure = np.asarray(exposure, dtype=float)
    n = exposure.size
    numerator = np.empty((resamples, counts.shape[1]))
    denominator = np.empty(resamples)
    block = max(1, BOOTSTRAP_CELLS // n)
    for start in range(0, resamples, block):
        size = min(block, resamples - start)
        draws = rng.integers(0, n, size=(size, n))
        # How often each document was drawn in each resample: the resample is a weighted sum.
        weights = np.bincount((draws + (np.arange(size) * n)[:, None]).ravel(), minlength=size * n)
        weights = weights.reshape(size, n).astype(float)
        numerator[start:start + size] = weights @ counts
        denominator[start:start + size] = weights @ exposure
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = numerator / denominator[:, None]
    alpha = 1.0 - level
    quantile = np.nanquantile if np.isnan(rates).any() else np.quantile
    low, high = quantile(rates, [alpha / 2, 1 - alpha / 2], axis=0)
    return low, high


# --- what is counted -------------------------------------------------------------------


def _top_columns(totals: np.ndarray, names: np.ndarray, top: int | None) -> list[int]:
    """The columns of most occurrences (``totals``, ties by name), at most ``top``; only those found."""
    from policylex.measures import ranked

    return ranked(totals, names, among=np.flatnonzero(totals > 0), top=top or None).tolist()


def _items(matrix: FeatureMatrix, terms: list[str] | None, top: int | None) -> tuple[FeatureMatrix, list[str]]:
    """The matrix of the items a trend follows, and notes about them.

    Terms are counted on the tokens (a term that is not a token counts 0);
    formulations in any form or script the lexicon knows.  Without ``terms``, the
    ``top`` items found most often in the matrix's documents (for the usual
    selection, their sums are in the matrix cache: no pass over the counts).
    """
    notes: list[str] = []
    if terms and matrix.kind == "slogan":
        items = list(dict.fromkeys(matrix.lexicon.resolve(s) for s in terms))
    elif terms:
        items = list(dict.fromkeys(terms))
        index = matrix.feature_index()
        notes.extend(f"{t}: not among the tokens (0 everywhere)" for t in items if t not in index)
        notes.extend(_formulation_hints(items))
    else:
        totals, _ = matrix.sums(docfreq=False)
        items = matrix.feature_array[_top_columns(totals, matrix.feature_array, top)].tolist()
    if matrix.kind == "slogan":
        notes.append(f"lexicon: {matrix.lexicon.origin}, {len(matrix.lexicon)} formulations")
    return matrix.pick(items), notes


def _formulation_hints(terms: list[str]) -> list[str]:
    from policylex.lexicon import load_lexicon

    lexicon = load_lexicon()
    return [f"{t} is a lexicon formulation: with --slogans it is counted in the text, where the segmenter cannot "
            "split it" for t in terms if t in lexicon]


# --- the panel -----------------------------------------------------------------------------


def _rounded(values: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else round(float(v), DIGITS) for v in values.tolist()]


@dataclass
class IntervalReport:
    """What an interval method did, for the table's notes."""

    method: Interval
    resamples: int = 0
    seed: int = 0
    fallback: int = 0  # bootstrap: group × item cells given the Poisson interval instead
    dispersion: dict[str, float] | None = None  # quasipoisson: φ per item
    df: int = 0


def _rate_interval(items: FeatureMatrix, groups: Groups, occurrences: np.ndarray, per: str,
                   interval: Interval, *, level: float, resamples: int,
                   seed: int) -> tuple[np.ndarray, np.ndarray, IntervalReport]:
    """The interval of each group's and item's count, in occurrences (divide by the exposure for the rate)."""
    if interval is Interval.poisson:
        low, high = poisson_interval(occurrences, level)
        return low, high, IntervalReport(interval)
    selected = items.counts
    rows = items.rows
    field = PER[per][0]
    meta = items.documents.meta
    exposure = (np.ones(rows.size) if field == "documents"
                else meta["token_count" if field == "tokens" else "chars"][rows].astype(float))
    if interval is Interval.quasipoisson:
        phi, df = dispersion(selected, exposure, groups.group_of_row, len(groups.keys))
        low, high = scaled_poisson_interval(occurrences, phi[None, :], level)
        return low, high, IntervalReport(interval, dispersion=dict(zip(items.features, phi.tolist())), df=df)
    # bootstrap: the rates of resampled documents, back in occurrences at the group's own exposure
    low, high = poisson_interval(occurrences, level)
    fallback = 0
    total = np.bincount(groups.group_of_row, weights=exposure, minlength=len(groups.keys))
    for g, key in enumerate(groups.keys):
        positions = np.flatnonzero(groups.group_of_row == g)
        # One document, or no occurrence: every resample is the group itself, a zero-width interval
        # that claims certainty; those cells keep the Poisson interval (the note says how many).
        useful = occurrences[g] > 0 if positions.size > 1 else np.zeros(occurrences.shape[1], dtype=bool)
        fallback += int((~useful).sum())
        if not useful.any() or total[g] <= 0:
            continue
        counts = selected[positions][:, np.flatnonzero(useful)].toarray()
        rate_low, rate_high = bootstrap_interval(counts, exposure[positions], group_seed(seed, key),
                                                 resamples=resamples, level=level)
        low[g, useful], high[g, useful] = rate_low * total[g], rate_high * total[g]
    return low, high, IntervalReport(interval, resamples=resamples, seed=seed, fallback=fallback)


def panel(items: FeatureMatrix, by: str | None, *, per: str, level: float = LEVEL,
          interval: Interval | str = Interval.poisson, resamples: int = RESAMPLES, seed: int = 0) -> Table:
    """The tidy table (see the module's docstring) of every feature of ``items`` in its documents, grouped ``by``.

    ``interval``: how ``rate_low`` and ``rate_high`` are computed (:class:`Interval`);
    ``resamples`` and ``seed`` for the bootstrap.
    """
    return _panel(items, by, per=per, level=level, interval=interval, resamples=resamples, seed=seed)[0]


def _panel(items: FeatureMatrix, by: str | None, *, per: str, level: float, interval: Interval | str,
           resamples: int, seed: int) -> tuple[Table, IntervalReport]:
    per = choose(Per, per, "per").value
    interval = choose(Interval, interval, "interval")
    groups = items.groups(by)
    selected = items.counts
    occurrences = np.asarray((groups.indicator @ selected).todense(), dtype=np.int64)
    holders = np.asarray((groups.indicator @ (selected > 0).astype(np.int64)).todense(), dtype=np.int64)
    denominator_name, scale, unit, _ = PER[per]
    denominator = getattr(groups, denominator_name).astype(float)
    low, high, report = _rate_interval(items, groups, occurrences, per, interval, level=level,
                                       resamples=resamples, seed=seed)
    with np.errstate(divide="ignore", invalid="ignore"):
        exposure = np.where(denominator > 0, denominator / scale, np.nan)[:, None]
        rate = occurrences / exposure
        rate_low, rate_high = low / exposure, high / exposure
        share = holders / groups.documents[:, None]
    share_low, share_high = wilson_interval(holders, groups.documents[:, None], level)
    out = []
    for j, item in enumerate(items.features):
        columns = [_rounded(a[:, j]) for a in (rate, rate_low, rate_high, share, share_low, share_high)]
        for g in range(len(groups.keys)):
            out.append((item, items.kind) + groups.values(g) + (
                int(groups.documents[g]), int(groups.tokens[g]), int(groups.chars[g]), int(occurrences[g, j]),
                int(holders[g, j]), columns[0][g], columns[1][g], columns[2][g], unit, columns[3][g], columns[4][g],
                columns[5][g]))
    return Table(("term", "kind") + groups.columns() + MEASURE_COLUMNS, out, title="Trends"), report


def trends(
    data: FeatureMatrix | Corpus,
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
    interval: Interval | str = Interval.poisson,
    resamples: int = RESAMPLES,
    seed: int = 0,
    lexicon=None,
    nested: str = "key",
    progress=None,
) -> Table:
    """Occurrences, rates and shares of terms (or formulations) per group, with intervals.

    ``data``: a matrix of terms (``corpus.dfm()``), counted on the tokens, or of
    formulations (``corpus.dfm(lexicon=...)``), counted on the text; or a corpus,
    whose matrix is of formulations with ``slogans`` (made with ``lexicon``,
    ``nested`` and ``include_duplicates``).  ``terms`` name the items; without
    them, the ``top`` most frequent ones of the selected documents.  ``by``: one
    group field or several joined by commas (``province,year``); None (or
    ``all``) for one group.  ``per``: ``tokens``, ``chars`` or ``docs`` (default:
    tokens for terms, chars for formulations).  ``interval``: ``poisson``
    (exact, on occurrences), ``bootstrap`` (``resamples`` resamples of
    documents within each group, from ``seed``) or ``quasipoisson`` (widened by
    the documents' over-dispersion); see :class:`~policylex.choices.Interval`.
    Columns and formulas: see :mod:`policylex.trends`.
    """
    by = None if by == "all" else by
    fields = group_fields(by)  # a bad by fails before any work
    if isinstance(data, FeatureMatrix):
        slogans = data.kind == "slogan"
    per = choose(Per, per or ("chars" if slogans else "tokens"), "per").value
    if not 0 < level < 1:
        raise UsageError(f"level {level}: give a confidence level between 0 and 1, e.g. 0.95", option="level")
    interval = choose(Interval, interval, "interval")
    if interval is Interval.bootstrap and resamples < MIN_RESAMPLES:
        raise UsageError(f"resamples {resamples}: a {level:.0%} percentile interval needs at least {MIN_RESAMPLES}",
                         option="resamples")
    if isinstance(data, Corpus):
        from policylex.lexicon import load_lexicon

        data = dfm(data, lexicon=(lexicon or load_lexicon()) if slogans else None, nested=nested,
                   include_duplicates=include_duplicates, progress=progress)
    selected = as_matrix(data, where=where, kind=data.kind if isinstance(data, FeatureMatrix) else "token")
    matrix = selected.select([f"{field}!={UNKNOWN}" for field in fields]) if drop_unknown else selected
    if matrix.rows.size == 0:
        raise UsageError("no documents match" + (f" where {' '.join(where)}" if where else "")
                         + (" with a known " + " and ".join(fields) if drop_unknown else ""), option="where")
    items, item_notes = _items(matrix, terms, top)
    if not items.features:
        raise UsageError("no " + ("formulation of the lexicon" if slogans else "term") + " in the selected documents")
    table, report = _panel(items, by, per=per, level=level, interval=interval, resamples=resamples, seed=seed)
    table.notes = _notes(selected, matrix.rows.size, fields, per, level, drop_unknown, report) + item_notes
    table.title = f"Trends ({'formulations on the text' if slogans else 'terms on the tokens'}, {PER[per][3]})"
    return table


def _notes(selected: FeatureMatrix, n_rows: int, fields, per, level, drop_unknown,
           report: IntervalReport) -> list[str]:
    method = {
        Interval.poisson: "exact Poisson (Garwood)",
        Interval.bootstrap: f"document bootstrap ({report.resamples} resamples within each group, seed "
                            f"{report.seed}, percentile)",
        Interval.quasipoisson: "quasi-Poisson (Garwood on occurrences / φ, times φ)",
    }[report.method]
    notes = [f"{n_rows} documents; rate {PER[per][3]}; {level:.0%} intervals: {method} for the "
             "rate, Wilson for the share"]
    if report.method is Interval.bootstrap and report.fallback:
        notes.append(f"{report.fallback} group and term cells with one document or no occurrence: every resample "
                     "is the same there, so they keep the Poisson interval")
    if report.method is Interval.quasipoisson:
        phi = ", ".join(f"{item} {value:.2f}" for item, value in (report.dispersion or {}).items())
        notes.append(f"dispersion φ (Pearson χ² / {report.df} degrees of freedom, at least 1): {phi}" if report.df
                     else "dispersion φ = 1 (the Poisson interval): every group is one document, no degrees "
                     "of freedom to estimate it")
    for field in fields:
        unknown = int((selected.documents.group_labels(field)[selected.rows] == UNKNOWN).sum())
        if unknown:
            notes.append(f"{field} unknown: {unknown} documents, " + (
                "left out (--drop-unknown)" if drop_unknown else "in the unknown group"))
    return notes


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


class _CallableModule(types.ModuleType):
    """This module, callable as :func:`trends`.

    ``plx.trends(m, ...)`` is the API; but importing ``policylex.trends`` makes
    the module the package's attribute ``trends``, in place of the function, so
    the module answers the call itself.
    """

    def __call__(self, *args, **kwargs) -> Table:
        return trends(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
