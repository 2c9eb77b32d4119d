"""Topic models on the document-term matrix: NMF on TF-IDF weights (the default) or LDA on counts.

:func:`topic_model` fits a model and returns a :class:`TopicModel`; its methods
give the tables the CLI prints:

* :meth:`TopicModel.terms`: ``topic rank term weight``, the top terms of each
  topic; ``weight`` is the term's part of the topic (each topic's weights over
  the whole vocabulary sum to 1).
* :meth:`TopicModel.document_shares`: ``doc topic share``, one row per
  document and topic; a document's shares sum to 1.
* :meth:`TopicModel.group_shares`: ``[year] [province province_code] … topic
  documents share share_low share_high``: the mean of the documents' shares in
  each group (every document counts once, whatever its length), with a
  Student-t interval over the documents, clipped to [0, 1]; a group of one
  document has no interval.

Topics are numbered by prevalence (topic 1 has the largest mean share).

**The vocabulary.**  A topic model finds whatever co-occurs most, and in a
corpus from a few sites that is the sites' furniture (a broadcaster's
央视网 / 消息 / 新闻联播 in every item) and the beat's own words (检察机关 in every
procuratorate article).  So, by default, a term is modelled only if

* it holds a Chinese character (numbers, Latin letters and converter pinyin
  left in a text go);
* it is not on the bundled stopword list (it matters when the corpus was
  tokenised with ``keep_stopwords``);
* it is in at most ``max_df`` (50%) of the modelled documents: the document
  frequency ceiling that takes out the corpus's own furniture, whatever its
  sites are; the notes name the terms it took out;
* it is in at least ``min_df`` (2) documents: a term of one document says
  nothing about what documents share;
* it is not in ``exclude``.

A document left with no term, or given no weight on any topic, has no shares:
it is left out of every table, and the notes say how many.

**Reproducible.**  The same corpus, settings and ``seed`` give the same
output.  NMF (scikit-learn, coordinate descent, ``nndsvda`` initialisation from
a seeded randomised SVD) is fitted on the TF-IDF rows (scikit-learn's
``TfidfTransformer``: smooth idf, l2 rows) of at most ``sample`` documents,
drawn with the seed when there are more; every document's weights are then
solved against the fitted topics (non-negative least squares by coordinate
descent, the same rule for every document), so at 100,000 documents the fit
costs what it costs at ``sample``.  LDA (scikit-learn, online variational
Bayes, one process) is fitted on the counts of the same sample and gives
every document its topic distribution.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from policylex.choices import TopicMethod, choose
from policylex.errors import UsageError
from policylex.output import Table
from policylex.matrix import FeatureMatrix, as_matrix
from policylex.selection import group_fields
from policylex.store import Corpus

MAX_DF = 0.5
MIN_DF = 2
SAMPLE = 5_000  # documents the topics are fitted on; every document gets its shares
LEVEL = 0.95
DIGITS = 6
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
NMF_ITERATIONS = 400
SOLVE_SWEEPS = 200
Progress = Callable[[int, int], None]


@dataclass
class Vocabulary:
    """The modelled terms (columns of the matrix) and what was left out, and why."""

    columns: np.ndarray
    furniture: list[str]  # over the ceiling: in most documents first, then most occurrences
    stopwords: int
    no_han: int
    rare: int
    excluded: int


@dataclass
class TopicModel:
    """A fitted model: the topics' term weights and each modelled document's topic shares."""

    method: TopicMethod
    seed: int
    terms_of_topics: np.ndarray  # topics × vocabulary, each row sums to 1
    vocabulary: np.ndarray  # the modelled terms
    matrix: FeatureMatrix  # the modelled documents' terms (all of them, not only the modelled ones)
    shares: np.ndarray  # documents × topics, each row sums to 1
    notes: list[str] = field(default_factory=list)

    @property
    def k(self) -> int:
        return self.terms_of_topics.shape[0]

    def top_terms(self, topic: int, top: int = 10) -> list[tuple[str, float]]:
        """(term, weight) of a topic (numbered from 1), highest weight first, ties by term."""
        from policylex.measures import ranked

        weights = self.terms_of_topics[topic - 1]
        order = ranked(weights, self.vocabulary, among=np.flatnonzero(weights > 0), top=top)
        return [(str(self.vocabulary[j]), float(weights[j])) for j in order.tolist()]

    def labels(self, terms: int = 3) -> list[str]:
        """A label per topic for charts: its number and first terms, ``1 海洋·经略·战略``."""
        return [f"{t} " + "·".join(term for term, _ in self.top_terms(t, terms)) for t in range(1, self.k + 1)]

    def terms(self, top: int = 10) -> Table:
        """``topic rank term weight``: each topic's ``top`` terms."""
        out = [(t, rank, term, round(weight, DIGITS))
               for t in range(1, self.k + 1) for rank, (term, weight) in enumerate(self.top_terms(t, top), 1)]
        return Table(("topic", "rank", "term", "weight"), out, title=f"Topics ({self._describe()})",
                     notes=list(self.notes))

    def document_shares(self) -> Table:
        """``doc topic share``: one row per modelled document and topic, in corpus order."""
        names = self.matrix.names.tolist()
        rounded = np.round(self.shares, DIGITS).tolist()
        out = [(name, t + 1, share) for name, row in zip(names, rounded) for t, share in enumerate(row)]
        return Table(("doc", "topic", "share"), out, title=f"Topic shares by document ({self._describe()})",
                     notes=list(self.notes))

    def group_shares(self, by: str, *, level: float = LEVEL) -> Table:
        """The mean topic share per group, with a Student-t interval over the group's documents.

        ``by``: one group field or several joined by commas (``province,year``).
        Columns: the group's fields (a region with its code), ``topic``,
        ``documents``, ``share``, ``share_low``, ``share_high``.  The interval
        is mean ± t(1 − α/2; n − 1) · s / √n, s the standard deviation of the
        documents' shares, clipped to [0, 1]; empty for a group of one document.
        """
        from scipy.special import stdtrit

        if not 0 < level < 1:
            raise UsageError(f"level {level}: give a confidence level between 0 and 1, e.g. 0.95", option="level")
        group_fields(by)
        groups = self.matrix.groups(by)
        out = []
        for g in range(len(groups.keys)):
            shares = self.shares[groups.group_of_row == g]
            n = shares.shape[0]
            mean = shares.mean(axis=0)
            if n > 1:
                half = stdtrit(n - 1, 1 - (1 - level) / 2) * shares.std(axis=0, ddof=1) / np.sqrt(n)
                low, high = np.clip(mean - half, 0, 1), np.clip(mean + half, 0, 1)
            for t in range(self.k):
                interval = ((round(float(low[t]), DIGITS), round(float(high[t]), DIGITS)) if n > 1
                            else (None, None))
                out.append(groups.values(g) + (t + 1, n, round(float(mean[t]), DIGITS)) + interval)
        notes = list(self.notes) + [f"share: the mean of the documents' topic shares in the group; {level:.0%} "
                                    "interval: Student's t over the documents (none for one document)"]
        return Table(groups.columns() + ("topic", "documents", "share", "share_low", "share_high"), out,
                     title=f"Topic shares by {by} ({self._describe()})", notes=notes)

    def table(self, by: str | None = None, *, top: int = 10, level: float = LEVEL) -> Table:
        """The top terms (``by`` None), each document's shares (``doc``) or the groups' (:meth:`group_shares`)."""
        if by is None:
            return self.terms(top)
        if by == "doc":
            return self.document_shares()
        return self.group_shares(by, level=level)

    def _describe(self) -> str:
        return f"{self.method.value.upper()}, k={self.k}, seed {self.seed}"


def vocabulary(counts, terms: np.ndarray, *, max_df: float = MAX_DF, min_df: int = MIN_DF,
               exclude: list[str] | None = None) -> Vocabulary:
    """The columns of ``counts`` (documents × ``terms``) a model takes, by the rules in the module's docstring."""
    from policylex.tokenise import stopwords

    n = counts.shape[0]
    docfreq = np.bincount(counts.indices, minlength=terms.size)
    names = terms.tolist()
    han = np.array([bool(HAN.search(t)) for t in names], dtype=bool)
    stop = stopwords()
    unstopped = np.array([t not in stop for t in names], dtype=bool)
    excluded = np.isin(terms, list(exclude or []))
    present = docfreq > 0
    ceiling = docfreq > max_df * n
    base = present & han & unstopped & ~excluded
    keep = base & ~ceiling & (docfreq >= min_df)
    furniture = np.flatnonzero(base & ceiling)
    total = np.asarray(counts.sum(axis=0)).ravel()
    furniture = furniture[np.lexsort((terms[furniture], -total[furniture], -docfreq[furniture]))]
    return Vocabulary(np.flatnonzero(keep), [names[j] for j in furniture.tolist()],
                      int((present & han & ~unstopped).sum()), int((present & ~han).sum()),
                      int((base & ~ceiling & (docfreq < min_df)).sum()), int((present & excluded).sum()))


def topic_model(
    data: FeatureMatrix | Corpus,
    k: int,
    *,
    method: TopicMethod | str = TopicMethod.nmf,
    seed: int = 0,
    where: list[str] | None = None,
    include_duplicates: bool = False,
    max_df: float = MAX_DF,
    min_df: int = MIN_DF,
    exclude: list[str] | None = None,
    sample: int = SAMPLE,
    progress: Progress | None = None,
) -> TopicModel:
    """Fit ``k`` topics on the terms of a matrix's documents (or a corpus's: ``where``, ``include_duplicates``
    select them); see the module's docstring for every rule."""
    method = choose(TopicMethod, method, "method")
    if k < 2:
        raise UsageError(f"k {k}: a topic model needs at least 2 topics")
    if not 0 < max_df <= 1:
        raise UsageError(f"max_df {max_df}: give a share of documents, above 0 and at most 1")
    if min_df < 1:
        raise UsageError(f"min_df {min_df}: give at least 1 document")
    if sample < 2 * k:
        raise UsageError(f"sample {sample}: fit on at least twice as many documents as topics ({2 * k})")
    matrix = as_matrix(data, where=where, include_duplicates=include_duplicates)
    counts = matrix.counts
    vocab = vocabulary(counts, matrix.feature_array, max_df=max_df, min_df=min_df, exclude=exclude)
    counts = counts[:, vocab.columns]
    has_terms = np.diff(counts.indptr) > 0
    if vocab.columns.size < k or int(has_terms.sum()) < k:
        raise UsageError(f"k {k}: the selected documents leave {int(has_terms.sum())} documents with "
                         f"{vocab.columns.size} modelled terms (each in at least {min_df} and at most "
                         f"{max_df:.0%} of the documents); ask for fewer topics or select more documents")
    matrix, counts = matrix.take(np.flatnonzero(has_terms)), counts[has_terms]
    rows = matrix.rows
    if progress:
        progress(1, 3)
    rng = np.random.default_rng(seed)
    fit_rows = np.arange(rows.size)
    if rows.size > sample:
        fit_rows = np.sort(rng.choice(rows.size, size=sample, replace=False))
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    # One BLAS thread: on a busy machine OpenBLAS's threads spin against each other (an NMF fit of
    # 5,000 documents took 41 s with two threads and 4.4 s with one, under a load of 8 on 2 cores),
    # and the sums then come in one order whatever the machine's cores: the same seed, the same output.
    with warnings.catch_warnings(), threadpool_limits(1):
        # The iteration cap is a time budget; the topics at the cap are the topics (the notes say the cap).
        warnings.simplefilter("ignore", ConvergenceWarning)
        if method is TopicMethod.nmf:
            components, weights = _nmf(counts, fit_rows, k, seed)
        else:
            components, weights = _lda(counts, fit_rows, k, seed)
    if progress:
        progress(2, 3)
    totals = weights.sum(axis=1)
    placed = totals > 0
    shares = weights[placed] / totals[placed, None]
    terms_of_topics = components / components.sum(axis=1, keepdims=True)
    order = np.lexsort((np.arange(k), -shares.mean(axis=0)))  # by prevalence; ties keep the fitted order
    model = TopicModel(method, seed, terms_of_topics[order], matrix.feature_array[vocab.columns],
                       matrix.take(np.flatnonzero(placed)), shares[:, order])
    model.notes = _notes(model, vocab, counts.shape[0], int((~has_terms).sum()), int((~placed).sum()), fit_rows.size,
                         max_df=max_df, min_df=min_df)
    if progress:
        progress(3, 3)
    return model


def _nmf(counts, fit_rows: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(topics × terms, documents × topics) by NMF on TF-IDF: fitted on ``fit_rows``, every document solved."""
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfTransformer

    tfidf = TfidfTransformer().fit_transform(counts)
    model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=NMF_ITERATIONS)
    model.fit(tfidf[fit_rows])
    return model.components_, solve_weights(tfidf, model.components_)


def solve_weights(matrix, topics: np.ndarray, *, sweeps: int = SOLVE_SWEEPS, tol: float = 1e-6) -> np.ndarray:
    """Each row's non-negative weights w minimising ||x − w·H||² for fixed topics H (topics × terms).

    Coordinate descent on the k weights of every row at once (HALS: Cichocki
    and Phan 2009): with G = H·Hᵀ and B = X·Hᵀ computed once, each sweep sets
    w_j ← max(0, w_j + (B_j − w·G_j) / G_jj) for j = 1…k, from w = max(0, B·G⁻¹);
    it stops when a sweep moves no weight by more than ``tol`` of the largest
    weight.  One pass over the sparse matrix, whatever the number of sweeps,
    so every document is solved in the time a few NMF iterations take.
    """
    gram = topics @ topics.T
    projected = np.asarray(matrix @ topics.T)
    weights = np.maximum(0.0, projected @ np.linalg.pinv(gram))
    diagonal = np.maximum(np.diag(gram), 1e-12)
    for _ in range(sweeps):
        largest = 0.0
        for j in range(topics.shape[0]):
            step = (projected[:, j] - weights @ gram[:, j]) / diagonal[j]
            updated = np.maximum(0.0, weights[:, j] + step)
            largest = max(largest, float(np.abs(updated - weights[:, j]).max(initial=0.0)))
            weights[:, j] = updated
        if largest <= tol * max(float(weights.max(initial=0.0)), 1e-12):
            break
    return weights


def _lda(counts, fit_rows: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(topics × terms, documents × topics) by LDA (online variational Bayes) on the counts."""
    from sklearn.decomposition import LatentDirichletAllocation

    model = LatentDirichletAllocation(n_components=k, learning_method="online", random_state=seed, n_jobs=1)
    model.fit(counts[fit_rows])
    return model.components_, model.transform(counts)


def _notes(model: TopicModel, vocab: Vocabulary, documents: int, empty: int, unplaced: int, fitted: int, *,
           max_df: float, min_df: int) -> list[str]:
    notes = [f"{model.method.value.upper()} with {model.k} topics, seed {model.seed}, on {documents} documents "
             f"and {model.vocabulary.size} terms" + (f"; topics fitted on {fitted} documents drawn with the seed, "
                                                      "shares solved for every document" if fitted < documents else "")]
    if vocab.furniture:
        shown = ", ".join(vocab.furniture[:12]) + (", …" if len(vocab.furniture) > 12 else "")
        notes.append(f"left out as furniture (in more than {max_df:.0%} of the documents): {len(vocab.furniture)} "
                     f"terms: {shown}")
    left = [(vocab.rare, f"in fewer than {min_df} documents"), (vocab.no_han, "without a Chinese character"),
            (vocab.stopwords, "stopwords"), (vocab.excluded, "excluded by name")]
    said = "; ".join(f"{n} {why}" for n, why in left if n)
    if said:
        notes.append(f"terms also left out: {said}")
    if empty or unplaced:
        notes.append(f"{empty + unplaced} documents with no modelled term (or no weight on any topic) have no "
                     "shares and are left out")
    return notes


def topics(
    corpus: Corpus,
    k: int,
    *,
    by: str | None = None,
    top: int = 10,
    level: float = LEVEL,
    **options,
) -> Table:
    """One table of a fitted model: the top terms (``by`` None), each document's shares (``doc``) or the groups'.

    ``options`` go to :func:`topic_model` (method, seed, where, max_df, …).
    """
    check_by(by)
    return topic_model(corpus, k, **options).table(by, top=top, level=level)


def check_by(by: str | None) -> None:
    """A bad grouping fails before a model is fitted."""
    if by not in (None, "doc"):
        group_fields(by)
