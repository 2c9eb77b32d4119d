"""Measures over the tokenised corpus: frequencies, TF-IDF, keyness, concordance, collocations.

:func:`frequency`, :func:`tfidf`, :func:`keyness` and :func:`keyness_by_group`
take a document-feature matrix of terms (:meth:`policylex.Corpus.dfm`) and
return a :class:`~policylex.output.Table` with fixed columns (documented on
each function).  Given a corpus instead, they make its matrix, leaving out
exact and near-duplicates unless ``include_duplicates``.  ``where`` selects
documents (``["year=2021", "province=辽宁省"]``, all must hold); ``by`` groups
them by ``year``, ``province``, ``city``, ``source`` or ``doc``, or several
joined by commas (``province,year``).  :func:`kwic` and :func:`collocations`
read the text and the token sequences, so they take the corpus.
"""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np

from policylex.choices import CollocationSort, Correction, Norm, choose
from policylex.errors import UsageError
from policylex.matrix import FeatureMatrix, as_matrix, require_documents, term_matrix
from policylex.output import Table
from policylex.store import COUNTED, Corpus

PER = 10_000


# --- frequencies ------------------------------------------------------------------


def frequency(
    data: FeatureMatrix | Corpus,
    *,
    top: int | None = 20,
    min_count: int = 1,
    terms: list[str] | None = None,
    by: str | None = None,
    where: list[str] | None = None,
    pos: list[str] | None = None,
    include_duplicates: bool = False,
) -> Table:
    """Per term: ``rank``, ``term``, ``count``, ``per_10k`` (per 10,000 tokens), ``docfreq``.

    With ``by``, the same per group, led by the group's fields (``province``,
    ``year``: one column each, a year as a number); ranks, rates and document
    frequencies are within the group.  Ties rank by term.  ``pos`` keeps terms
    whose most frequent part of speech starts with one of the given tags
    (``["n", "v"]``; needs tokens with parts of speech); ranks and rates still
    count every token.
    """
    matrix = as_matrix(data, where=where, include_duplicates=include_duplicates)
    keep = matrix.features_with_pos(pos) if pos else None
    vocabulary = matrix.feature_array
    index = matrix.feature_index() if terms else {}
    if terms:
        unknown = [t for t in terms if t not in index]
        if unknown:
            raise UsageError(
                f"no token in the corpus is {', '.join(unknown)}: a term is counted as the segmenter cut it "
                "(`policylex kwic TERM` searches the text; a --userdict keeps a formulation whole)")
    if by is None:  # one group: the sums over the rows, without grouping (precomputed for the usual selection)
        keys, labels, sizes = [()], [""], [matrix.rows.size]
        sums = [matrix.sums()]
    else:
        groups = matrix.groups(by)
        grouped = matrix.group_sums(groups)
        docfreqs = matrix.group_sums(groups, docfreq=True)
        keys = [groups.values(g) for g in range(len(groups.keys))]
        labels, sizes = groups.labels, groups.documents.tolist()
        sums = [(grouped[g].toarray().ravel(), docfreqs[g].toarray().ravel()) for g in range(len(keys))]
    out = []
    notes = []
    for key, label, size, (counts, docfreq) in zip(keys, labels, sizes, sums):
        total = int(counts.sum())
        order = ranked(counts, vocabulary, among=np.flatnonzero(counts))
        rank_of = np.zeros(vocabulary.size, dtype=np.int64)
        rank_of[order] = np.arange(1, order.size + 1)
        if terms:
            chosen = [index.get(t, -1) for t in terms]
        else:
            wanted = counts[order] >= min_count
            if keep is not None:
                wanted &= np.isin(order, keep)
            chosen = order[wanted][: top or None].tolist()
        for position, i in enumerate(chosen):
            term = str(vocabulary[i]) if i >= 0 else terms[position]
            count = int(counts[i]) if i >= 0 else 0
            out.append(key + (int(rank_of[i]) if i >= 0 and rank_of[i] else None, term, count,
                              round(count / total * PER, 4) if total else 0.0, int(docfreq[i]) if i >= 0 else 0))
        notes.append((f"{label}: " if by else "") + f"{size} documents, {total} tokens")
    columns = (groups.columns() if by else ()) + ("rank", "term", "count", "per_10k", "docfreq")
    return Table(columns, out, title="Term frequencies", notes=notes)


def ranked(scores: np.ndarray, terms: np.ndarray, *, among: np.ndarray | None = None,
           top: int | None = None) -> np.ndarray:
    """Indices (of ``among``, default all) by score, highest first, ties by term; the first ``top``.

    Only the scores that can reach the first ``top`` are sorted, ties at the
    boundary included, so the result is exactly that of a full sort.
    """
    candidates = np.arange(scores.size) if among is None else np.asarray(among)
    if top is not None and top < candidates.size:
        values = scores[candidates]
        threshold = np.partition(values, values.size - top)[values.size - top]
        candidates = candidates[values >= threshold]
    order = np.lexsort((terms[candidates], -scores[candidates]))
    return candidates[order][:top]


# --- TF-IDF -------------------------------------------------------------------------


def tfidf(
    data: FeatureMatrix | Corpus,
    *,
    top: int = 10,
    by: str | None = None,
    where: list[str] | None = None,
    sublinear_tf: bool = False,
    norm: str | None = "l2",
    smooth_idf: bool = True,
    include_duplicates: bool = False,
) -> Table:
    """The most distinctive terms per document (or per group): ``group``, ``rank``, ``term``, ``tfidf``, ``count``.

    scikit-learn's ``TfidfTransformer`` on raw counts (see :func:`tfidf_weights`):
    idf = ln((1 + n) / (1 + df)) + 1 with ``smooth_idf`` (ln(n / df) + 1 without),
    tf = count (1 + ln(count) with ``sublinear_tf``), rows scaled to unit ``norm``
    (l2, l1 or none).  With ``by``, each group is one pseudo-document: its
    documents' counts summed, and n is the number of groups.  Without ``by``, each
    document is its own group (its name).
    """
    matrix = as_matrix(data, where=where, include_duplicates=include_duplicates)
    groups = matrix.groups(by or "doc")
    grouped = matrix.group_sums(groups)
    weights = tfidf_weights(grouped, norm=norm, smooth_idf=smooth_idf, sublinear_tf=sublinear_tf)
    terms = matrix.feature_array
    vocabulary = terms.tolist()
    out = []
    for g, name in enumerate(groups.labels):
        start, end = weights.indptr[g], weights.indptr[g + 1]
        columns, values = weights.indices[start:end], weights.data[start:end]
        for rank, k in enumerate(ranked(values, terms[columns], top=top).tolist(), start=1):
            i = columns[k]
            out.append((name, rank, vocabulary[i], round(float(values[k]), 6), int(grouped[g, i])))
    return Table(("group", "rank", "term", "tfidf", "count"), out, title="TF-IDF")


def tfidf_weights(counts, *, norm: str | None = "l2", smooth_idf: bool = True, sublinear_tf: bool = False):
    """``TfidfTransformer(norm, smooth_idf, sublinear_tf).fit_transform(counts)``, step by step as
    scikit-learn 1.x computes it, without importing scikit-learn (a second of start-up for one
    command); the tests hold it to scikit-learn's result."""
    import scipy.sparse as sp

    weights = sp.csr_matrix(counts, dtype=np.float64, copy=True)
    n_samples = weights.shape[0] + int(smooth_idf)
    df = np.bincount(weights.indices, minlength=weights.shape[1]).astype(np.float64) + float(smooth_idf)
    with np.errstate(divide="ignore"):  # a term in no group has no weight anywhere
        idf = np.log(np.full_like(df, n_samples) / df) + 1.0
    if sublinear_tf:
        np.log(weights.data, weights.data)
        weights.data += 1.0
    weights.data *= idf[weights.indices]
    norm = None if norm is None else choose(Norm, norm, "norm").value
    if norm not in (None, "none"):
        values = np.abs(weights.data) if norm == "l1" else weights.data ** 2
        lengths = np.diff(weights.indptr)
        sums = np.zeros(weights.shape[0])
        nonempty = lengths > 0
        sums[nonempty] = np.add.reduceat(values, weights.indptr[:-1][nonempty])
        scale = np.sqrt(sums) if norm == "l2" else sums
        scale[scale == 0] = 1.0
        weights.data /= np.repeat(scale, lengths)
    return weights


# --- keyness ---------------------------------------------------------------------------

_EPSILON = 1e-9  # inside the logarithm, as quanteda does, so that a zero cell adds nothing


def keyness_statistics(a, b, target_total, reference_total, correction: str = "default"):
    """G², chi², their p-values and log ratio for each term, vectorised.

    For a term with ``a`` occurrences in the target and ``b`` in the reference,
    the 2×2 table is a, b / c = target_total − a, d = reference_total − b, N the sum,
    and E = (a + b)(a + c) / N the target cell's expected count.

    * correction ``default`` (quanteda's default for both measures) applies Yates:
      δ = 0.5 when |ad − bc| ≥ N/2 and some expected cell is below 5, else 0;
      ``none`` sets δ = 0.
    * chi² = N (|ad − bc| − N δ)² / ((a + b)(c + d)(a + c)(b + d)).
    * G² = 2 Σ O ln(O / E + 10⁻⁹) over the four cells, each moved δ toward its
      expected count (Dunning 1993).
    * both are signed: negative when a < E (the term is rarer in the target);
      p = P(χ²₁ ≥ |statistic|).
    * log ratio = log2((a / target_total) / (b / reference_total)), a zero count
      replaced by 0.5 (Hardie 2014).
    """
    from scipy.special import chdtrc  # what scipy.stats.chi2.sf calls, without importing scipy.stats

    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    c = target_total - a
    d = reference_total - b
    n = a + b + c + d
    expected = (a + b) * (a + c) / n
    sign = np.where(a > expected, 1.0, -1.0)
    if choose(Correction, correction, "correction") is Correction.none:
        delta = np.zeros_like(a)
    else:
        small = np.minimum.reduce([(a + b) * (a + c), (a + b) * (b + d), (a + c) * (c + d), (c + d) * (b + d)]) / n < 5
        delta = np.where((np.abs(a * d - b * c) >= n / 2) & small, 0.5, 0.0)
    chi2 = n * (np.abs(a * d - b * c) - n * delta) ** 2 / ((a + b) * (c + d) * (a + c) * (b + d)) * sign
    toward = np.where(a * d - b * c > 0, -delta, delta)
    aa, bb, cc, dd = a + toward, b - toward, c - toward, d + toward
    g2 = 2 * (
        aa * np.log(aa / ((aa + bb) * (aa + cc) / n) + _EPSILON)
        + bb * np.log(bb / ((aa + bb) * (bb + dd) / n) + _EPSILON)
        + cc * np.log(cc / ((aa + cc) * (cc + dd) / n) + _EPSILON)
        + dd * np.log(dd / ((bb + dd) * (cc + dd) / n) + _EPSILON)
    ) * sign
    log_ratio = np.log2((np.where(a == 0, 0.5, a) / target_total) / (np.where(b == 0, 0.5, b) / reference_total))
    return g2, chdtrc(1, np.abs(g2)), chi2, chdtrc(1, np.abs(chi2)), log_ratio


KEYNESS_COLUMNS = ("rank", "term", "n_target", "n_reference", "G2", "p_G2", "chi2", "p_chi2", "log_ratio")


def keyness(
    data: FeatureMatrix | Corpus,
    target: list[str] | str,
    *,
    reference: list[str] | None = None,
    where: list[str] | None = None,
    top: int | None = 20,
    min_count: int = 1,
    correction: str = "default",
    include_duplicates: bool = False,
) -> Table:
    """Terms that mark the target documents against the reference, sorted by G².

    ``target`` and ``reference`` are conditions like ``where`` (``province=辽宁省``);
    the reference is the rest of the (``where``-selected) corpus unless given.
    Columns: ``rank``, ``term``, ``n_target``, ``n_reference``, ``G2``, ``p_G2``,
    ``chi2``, ``p_chi2``, ``log_ratio``; see :func:`keyness_statistics`.
    """
    matrix = as_matrix(data, where=where, include_duplicates=include_duplicates)
    target = [target] if isinstance(target, str) else target
    reference = [reference] if isinstance(reference, str) else reference
    in_target = matrix.select(target)
    if reference:
        in_reference = matrix.select(reference)
        in_reference = in_reference.take(np.flatnonzero(~np.isin(in_reference.rows, in_target.rows)))
    else:
        in_reference = matrix.take(np.flatnonzero(~np.isin(matrix.rows, in_target.rows)))
    if in_target.rows.size == 0:
        raise UsageError(f"no documents in the target {' '.join(target)}")
    if in_reference.rows.size == 0:
        raise UsageError("no documents left for the reference")
    a, _ = in_target.sums(docfreq=False)
    if reference:
        b, _ = in_reference.sums(docfreq=False)
    else:  # the rest: the whole selection's sums (kept in the cache for the usual one) less the target's
        b = matrix.sums(docfreq=False)[0] - a
    out = _keyness_rows(a, b, matrix.feature_array, min_count=min_count, top=top, correction=correction)
    notes = [f"target: {in_target.rows.size} documents, {int(a.sum())} tokens; "
             f"reference: {in_reference.rows.size} documents, {int(b.sum())} tokens"]
    return Table(KEYNESS_COLUMNS, out, title="Keyness", notes=notes)


def _keyness_rows(a: np.ndarray, b: np.ndarray, terms: np.ndarray, *, min_count: int, top: int | None,
                  correction: str) -> list[tuple]:
    """KEYNESS_COLUMNS rows of the terms with ``a + b >= min_count``, by G² (ties by term)."""
    present = np.flatnonzero((a + b) >= max(min_count, 1))
    g2, p_g2, chi2, p_chi2, log_ratio = keyness_statistics(a[present], b[present], a.sum(), b.sum(), correction)
    order = ranked(g2, terms[present], top=top or None).tolist()
    vocabulary = terms.tolist()
    return [
        (rank, vocabulary[present[k]], int(a[present[k]]), int(b[present[k]]), round(float(g2[k]), 4),
         float(p_g2[k]), round(float(chi2[k]), 4), float(p_chi2[k]), round(float(log_ratio[k]), 4))
        for rank, k in enumerate(order, start=1)
    ]


def keyness_by_group(
    data: FeatureMatrix | Corpus,
    by: str,
    *,
    where: list[str] | None = None,
    top: int | None = 10,
    min_count: int = 1,
    correction: str = "default",
    include_duplicates: bool = False,
) -> Table:
    """Each group's terms against the rest of the selected documents: ``group`` then :data:`KEYNESS_COLUMNS`.

    The same statistics as :func:`keyness` with the group as target and every
    other selected document as reference, for all groups at once; ``unknown``
    is a group like any other.
    """
    matrix = as_matrix(data, where=where, include_duplicates=include_duplicates)
    groups = matrix.groups(by)
    names = groups.labels
    if len(names) < 2:
        raise UsageError(f"by {by}: the documents form one group only ({names[0]}); nothing to compare", option="by")
    grouped = matrix.group_sums(groups)
    total = np.asarray(grouped.sum(axis=0)).ravel()
    out, notes = [], []
    for g, name in enumerate(names):
        a = grouped[g].toarray().ravel()
        out.extend((name,) + row for row in _keyness_rows(a, total - a, matrix.feature_array, min_count=min_count,
                                                          top=top, correction=correction))
        notes.append(f"{name}: {int(groups.documents[g])} documents, {int(a.sum())} tokens")
    notes.append(f"each group against the rest of the {matrix.rows.size} selected documents")
    return Table(("group",) + KEYNESS_COLUMNS, out, title=f"Keyness of each {by} against the rest", notes=notes)


def _allowed(corpus: Corpus, where, include_duplicates: bool) -> set[str] | None:
    """The ids of the documents ``where`` selects (None: no condition, every document)."""
    if not where:
        return None
    matrix = term_matrix(corpus, include_duplicates=include_duplicates).select(where)
    return set(matrix.documents.meta["id"][matrix.rows].tolist())


# --- concordance -----------------------------------------------------------------------


def kwic(
    corpus: Corpus,
    term: str,
    *,
    window: int = 15,
    where: list[str] | None = None,
    include_duplicates: bool = False,
    limit: int | None = None,
) -> Table:
    """Keyword in context on the normalised text: ``doc``, ``position``, ``left``, ``term``, ``right``.

    ``term`` is matched literally in the text (not in the tokens), so a
    formulation the segmenter splits (少捕慎诉慎押) is found whole; ``window`` is
    in characters; ``position`` is the character offset; line breaks show as spaces.
    """
    if not term:
        raise UsageError("kwic needs a term")
    from policylex.normalise import clean

    needle = clean(term).strip()
    if not needle:
        raise UsageError("kwic needs a term, not white space")
    require_documents(corpus)
    conditions = [] if include_duplicates else [COUNTED]
    query = f"SELECT id, name, norm_text FROM documents {'WHERE ' + ' AND '.join(conditions) if conditions else ''} ORDER BY seq"
    allowed = _allowed(corpus, where, include_duplicates)
    out = []
    pattern = re.compile(re.escape(needle))
    for row in corpus.db.execute(query):
        if allowed is not None and row["id"] not in allowed:
            continue
        text = row["norm_text"]
        for match in pattern.finditer(text):
            left = text[max(0, match.start() - window) : match.start()].replace("\n", " ")
            right = text[match.end() : match.end() + window].replace("\n", " ")
            out.append((row["name"], match.start(), left, match.group(), right))
            if limit and len(out) >= limit:
                return Table(("doc", "position", "left", "term", "right"), out, title=f"KWIC {needle}")
    if not out:
        raise UsageError(f"{needle} occurs in none of the {'selected ' if where else ''}documents")
    return Table(("doc", "position", "left", "term", "right"), out, title=f"KWIC {needle}")


# --- collocations ------------------------------------------------------------------------


def _g2_2x2(a, b, c, d) -> float:
    """Log-likelihood G² of a 2×2 table, no correction."""
    n = a + b + c + d
    total = 0.0
    for observed, row, column in ((a, a + b, a + c), (b, a + b, b + d), (c, c + d, a + c), (d, c + d, b + d)):
        if observed > 0:
            total += observed * math.log(observed * n / (row * column))
    return 2 * total


def collocations(
    corpus: Corpus,
    *,
    size: int = 2,
    min_count: int = 2,
    top: int | None = 20,
    sort: str = "ll",
    where: list[str] | None = None,
    include_duplicates: bool = False,
) -> Table:
    """Adjacent token sequences: ``collocation``, ``count``, ``pmi``, ``ll``.

    Sequences never cross documents.  With N_t tokens and N_s sequences of the
    size, p(w) = c(w)/N_t and p(seq) = c(seq)/N_s;
    PMI = log2(p(seq) / Π p(w)).  LL is the G² of the 2×2 table of "the first
    size−1 tokens" against "the last token" over all sequences:
    a = c(seq), b = c(prefix, another last token), c = c(another prefix, last
    token), d = the rest.  ``sort`` by ``ll``, ``pmi`` or ``count``.
    """
    if size not in (2, 3):
        raise UsageError(f"size {size}: give 2 or 3", option="size")
    sort = choose(CollocationSort, sort, "sort").value
    allowed = _allowed(corpus, where, include_duplicates)
    unigrams: Counter = Counter()
    sequences: Counter = Counter()
    condition = "tokens IS NOT NULL" + ("" if include_duplicates else f" AND {COUNTED}")
    for row in corpus.db.execute(f"SELECT id, tokens FROM documents_with_tokens WHERE {condition} ORDER BY seq"):
        if allowed is not None and row["id"] not in allowed:
            continue
        tokens = row["tokens"].split()
        unigrams.update(tokens)
        sequences.update(zip(*(tokens[i:] for i in range(size))))
    if not sequences:
        require_documents(corpus)
        raise UsageError("no tokenised documents to find collocations in: run `policylex tokenise` first")
    n_tokens = sum(unigrams.values())
    n_sequences = sum(sequences.values())
    prefixes: Counter = Counter()
    lasts: Counter = Counter()
    for sequence, count in sequences.items():
        prefixes[sequence[:-1]] += count
        lasts[sequence[-1]] += count
    out = []
    for sequence, count in sequences.items():
        if count < min_count:
            continue
        pmi = math.log2((count / n_sequences) / math.prod(unigrams[w] / n_tokens for w in sequence))
        a = count
        b = prefixes[sequence[:-1]] - a
        c = lasts[sequence[-1]] - a
        d = n_sequences - a - b - c
        out.append((" ".join(sequence), count, round(pmi, 4), round(_g2_2x2(a, b, c, d), 4)))
    key = {"ll": 3, "pmi": 2, "count": 1}[sort]
    out.sort(key=lambda r: (-r[key], -r[1], r[0]))
    return Table(("collocation", "count", "pmi", "ll"), out[: top or None], title="Collocations",
                 notes=[f"{n_tokens} tokens, {n_sequences} sequences of {size}"])
