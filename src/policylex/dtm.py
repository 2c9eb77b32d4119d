"""The document-term matrix: built once from the stored tokens, cached beside the corpus.

``DocumentTermMatrix`` holds a scipy CSR matrix of counts (documents × terms), the
vocabulary, and each document's metadata.  It is written to ``<corpus>.dtm.npz``
together with the corpus generation it was built from (see
:meth:`policylex.store.Corpus.generation`) and rebuilt only when that changes, so
repeated analyses of an unchanged corpus never recount.

Selection (``--where``) and grouping (``--by``) work on the matrix's metadata.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from functools import cached_property
from typing import TYPE_CHECKING, Callable

import numpy as np

from policylex.errors import UsageError
from policylex.selection import CODE_FIELDS, FIELDS, SIZE_FIELDS, DocumentSet, numeric_field
from policylex.store import COUNTED, NOT_TOKENISED, Corpus

if TYPE_CHECKING:
    import scipy.sparse as sp

CACHE_FORMAT = 5
# Besides the selection fields, each row's sizes and codes, so that trends read
# their denominators from the cache rather than from the documents table.
META_FIELDS = FIELDS + SIZE_FIELDS + CODE_FIELDS


@dataclass
class DocumentTermMatrix:
    # (data, indices, indptr) of the documents × terms counts (int32), or a function that reads them:
    # from the cache they are read on first use, as a plain freq needs only the sums below.
    csr: "tuple[np.ndarray, np.ndarray, np.ndarray] | Callable[[], tuple]"
    vocabulary: np.ndarray  # term per column
    meta: dict[str, np.ndarray]  # META_FIELDS, one value per row ('' for none; 0 for no year, chars, tokens)
    counted: np.ndarray  # bool per row: not an exact or near duplicate
    generation: int
    term_pos: np.ndarray | None = None  # each term's most frequent part of speech, if tokens carry them
    counted_totals: np.ndarray | None = None  # per term, over the counted documents
    counted_docfreq: np.ndarray | None = None
    not_tokenised: int | None = None  # counted documents whose tokens are missing or stale (overview.not_tokenised)

    def __post_init__(self) -> None:
        if self.counted_totals is None:
            self.counted_totals, self.counted_docfreq = self._sums(self.counted)

    @cached_property
    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.csr() if callable(self.csr) else self.csr

    @property
    def data(self) -> np.ndarray:
        return self._arrays[0]

    @property
    def indices(self) -> np.ndarray:
        return self._arrays[1]

    @property
    def indptr(self) -> np.ndarray:
        return self._arrays[2]

    @cached_property
    def counts(self) -> "sp.csr_matrix":
        """The matrix as scipy's ``csr_matrix`` (documents × terms, int32), built on first use."""
        import scipy.sparse as sp

        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=(self.n_docs, self.vocabulary.size))

    def _sums(self, selected: np.ndarray, docfreq: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """(count, document frequency or None) of every term over the rows where ``selected`` is true.

        Sparse matrix-vector products, O(non-zeros) in C, no copy of the selected rows.
        """
        import scipy.sparse as sp

        weights = selected.astype(np.int64)
        totals = np.asarray(self.counts.T @ weights, dtype=np.int64)
        if not docfreq:
            return totals, None
        present = sp.csr_matrix((np.ones(self.data.size, dtype=np.int64), self.indices, self.indptr),
                                shape=self.counts.shape)
        return totals, np.asarray(present.T @ weights, dtype=np.int64)

    def term_sums(self, rows: np.ndarray, *, docfreq: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """(count, document frequency) of every term over ``rows`` (row indices); no frequency unless asked."""
        selected = np.zeros(self.n_docs, dtype=bool)
        selected[rows] = True
        if np.array_equal(selected, self.counted):
            return self.counted_totals, self.counted_docfreq
        return self._sums(selected, docfreq)

    def terms_with_pos(self, prefixes: list[str]) -> np.ndarray:
        """Columns of the terms whose part of speech starts with one of ``prefixes`` (n: n, nr, ns, …)."""
        if self.term_pos is None or not any(self.term_pos.tolist()):
            raise UsageError("the tokens carry no part of speech: run `policylex tokenise --pos` first")
        wanted = tuple(p.strip() for p in prefixes if p.strip())
        return np.array([i for i, tag in enumerate(self.term_pos.tolist()) if tag.startswith(wanted)], dtype=np.int64)

    @property
    def n_docs(self) -> int:
        return self.counted.size

    def term_index(self) -> dict[str, int]:
        return {term: i for i, term in enumerate(self.vocabulary.tolist())}

    @property
    def documents(self) -> DocumentSet:
        return DocumentSet(self.meta, self.counted)

    def rows(self, *, include_duplicates: bool = False, where: list[str] | None = None) -> np.ndarray:
        """Row indices of the documents selected by ``where`` (and not duplicates, unless asked)."""
        return self.documents.rows(include_duplicates=include_duplicates, where=where)

    def grouped(self, rows: np.ndarray, by: str | None, *,
                docfreq: bool = False) -> tuple[list[str], "sp.csr_matrix", list[np.ndarray]]:
        """(group labels, group × term counts, the row indices in each group), groups sorted.

        With ``docfreq``, the matrix holds each group's document frequencies instead.
        The groups are summed by a sparse product, never by copying the selected rows.
        """
        import scipy.sparse as sp

        names, members, group_of_row = self.documents.groups(rows, by)
        # In the counts' own int32 when no sum can overflow it: an int64 indicator made
        # scipy copy every count to int64 first (0.3 s of 0.4 at 23M counts).
        small = int(self.data.sum(dtype=np.int64)) < np.iinfo(np.int32).max
        indicator = sp.csr_matrix((np.ones(rows.size, dtype=np.int32 if small else np.int64), (group_of_row, rows)),
                                  shape=(len(names), self.n_docs))
        matrix = self.counts
        if docfreq:
            matrix = sp.csr_matrix((np.ones_like(self.data), self.indices, self.indptr), shape=matrix.shape)
        summed = sp.csr_matrix(indicator @ matrix, dtype=np.int64)
        summed.sort_indices()
        return names, summed, members


def cache_path(corpus: Corpus) -> Path:
    return corpus.path.with_name(corpus.path.name + ".dtm.npz")


def build(corpus: Corpus) -> DocumentTermMatrix:
    """The matrix of every tokenised document, from the term counts tokenise stored.

    Each document's counts are a slice of term ids and counts (see
    :class:`policylex.tokenise.TermIds`), so building is concatenation; documents
    tokenised before the counts were stored (schema version 2 and older) are
    counted from their tokens.  Terms that no tokenised document uses any more are
    left out.
    """
    import scipy.sparse as sp

    generation = corpus.generation()
    known = corpus.db.execute("SELECT id, term FROM terms ORDER BY id").fetchall()
    term_ids = np.array([row[0] for row in known], dtype=np.int64)
    vocabulary: list[str] = [row[1] for row in known]
    column_of = np.zeros(int(term_ids.max()) + 1 if term_ids.size else 1, dtype=np.int32)
    column_of[term_ids] = np.arange(term_ids.size, dtype=np.int32)
    index: dict[str, int] | None = None  # term → column, only if some document needs counting
    id_parts: list[np.ndarray] = []
    count_parts: list[np.ndarray] = []
    lengths: list[int] = []
    meta: dict[str, list] = {f: [] for f in META_FIELDS}
    counted: list[bool] = []
    tag_counts: dict[tuple[int, str], int] = {}
    not_tokenised = 0
    query = (f"SELECT {', '.join(META_FIELDS)}, {COUNTED} AS counted, term_counts, "
             "CASE WHEN term_counts IS NULL OR pos IS NOT NULL THEN tokens END AS tokens, pos, "
             f"tokens IS NOT NULL AS tokenised, {COUNTED} AND {NOT_TOKENISED} AS stale FROM documents_with_tokens ORDER BY seq")
    for row in corpus.db.execute(query):
        not_tokenised += row["stale"]
        if not row["tokenised"]:
            continue
        blob = row["term_counts"]
        if blob is not None:
            packed = np.frombuffer(blob, dtype="<i4")
            half = packed.size // 2
            id_parts.append(column_of[packed[:half]])
            count_parts.append(packed[half:])
            lengths.append(half)
        if row["tokens"] is not None and (blob is None or row["pos"]):
            if index is None:
                index = {term: i for i, term in enumerate(vocabulary)}
            tokens = row["tokens"].split()
            if blob is None:
                doc: dict[int, int] = {}
                for token in tokens:
                    column = index.setdefault(token, len(index))
                    doc[column] = doc.get(column, 0) + 1
                id_parts.append(np.fromiter(doc.keys(), dtype=np.int32, count=len(doc)))
                count_parts.append(np.fromiter(doc.values(), dtype=np.int32, count=len(doc)))
                lengths.append(len(doc))
            if row["pos"]:
                for token, tag in zip(tokens, row["pos"].split()):
                    key = (index.setdefault(token, len(index)), tag)
                    tag_counts[key] = tag_counts.get(key, 0) + 1
        for f in META_FIELDS:
            meta[f].append(row[f] if row[f] is not None else (0 if numeric_field(f) else ""))
        counted.append(bool(row["counted"]))
    if index is not None and len(index) > len(vocabulary):
        vocabulary.extend(list(index)[len(vocabulary):])
    indices = np.concatenate(id_parts).astype(np.int32, copy=False) if id_parts else np.zeros(0, dtype=np.int32)
    data = np.concatenate(count_parts).astype(np.int32) if count_parts else np.zeros(0, dtype=np.int32)
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    # Keep only the terms some document uses, in their first-seen order.
    used = np.flatnonzero(np.bincount(indices, minlength=len(vocabulary)))
    renumber = np.zeros(len(vocabulary), dtype=np.int32)
    renumber[used] = np.arange(used.size, dtype=np.int32)
    matrix = sp.csr_matrix((data, renumber[indices], indptr), shape=(len(lengths), used.size))
    matrix.sort_indices()  # columns in order within each row, as CSR routines expect
    vocab = np.array([vocabulary[i] for i in used.tolist()], dtype=str) if used.size else np.zeros(0, dtype="<U1")
    arrays = {f: np.array(meta[f], dtype=np.int64 if numeric_field(f) else str) for f in META_FIELDS}
    best: dict[int, tuple[int, str]] = {}
    for (column, tag), n in sorted(tag_counts.items()):
        if column not in best or n > best[column][0]:
            best[column] = (n, tag)
    term_pos = np.array([best.get(i, (0, ""))[1] for i in used.tolist()], dtype=str)
    return DocumentTermMatrix((matrix.data, matrix.indices, matrix.indptr), vocab, arrays,
                              np.array(counted, dtype=bool), generation, term_pos, not_tokenised=not_tokenised)


def save(dtm: DocumentTermMatrix, path: Path, settings: str) -> None:
    """Write the cache atomically: a reader never sees half a file."""
    partial = path.with_name(path.name + f".{os.getpid()}.part")
    try:
        with partial.open("wb") as handle:
            np.savez(
            handle,
                format=np.array(CACHE_FORMAT), generation=np.array(dtm.generation), settings=np.array(settings),
                data=dtm.data, indices=dtm.indices, indptr=dtm.indptr, vocabulary=dtm.vocabulary, counted=dtm.counted,
                counted_totals=dtm.counted_totals, counted_docfreq=dtm.counted_docfreq,
                term_pos=dtm.term_pos if dtm.term_pos is not None else np.zeros(0, dtype="<U1"),
                not_tokenised=np.array(-1 if dtm.not_tokenised is None else dtm.not_tokenised),
                **{f"meta_{f}": v for f, v in dtm.meta.items()},
            )
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)  # a full disk or Ctrl-C leaves no half-written file behind


_FAILURES = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile)


def _open_cache(path: Path, generation: int, settings: str):
    """The cache file, open, if it was built from this corpus state; else None (a damaged file is no cache)."""
    try:
        cache = np.load(path, allow_pickle=False)
    except _FAILURES:
        return None
    try:
        if (int(cache["format"]) == CACHE_FORMAT and int(cache["generation"]) == generation
                and str(cache["settings"]) == settings):
            return cache
    except _FAILURES:
        pass
    cache.close()
    return None


def load(path: Path, generation: int, settings: str) -> DocumentTermMatrix | None:
    """The cached matrix if it was built from this corpus state, else None.

    The count arrays are read when first used (the open file keeps the version
    read here, even if another process replaces the cache meanwhile).
    """
    cache = _open_cache(path, generation, settings)
    if cache is None:
        return None
    try:
        meta = {f: cache[f"meta_{f}"] for f in META_FIELDS}

        def counts() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            try:
                with cache:
                    return cache["data"], cache["indices"], cache["indptr"]
            except _FAILURES as error:
                raise UsageError(f"the matrix cache {path} is damaged ({error}): delete it and run again") from None

        not_tokenised = int(cache["not_tokenised"])
        return DocumentTermMatrix(counts, cache["vocabulary"], meta, cache["counted"], generation, cache["term_pos"],
                                  cache["counted_totals"], cache["counted_docfreq"],
                                  None if not_tokenised < 0 else not_tokenised)
    except _FAILURES:
        cache.close()
        return None  # a damaged or foreign file is no cache: the matrix is rebuilt


def cached_not_tokenised(corpus: Corpus) -> int | None:
    """The corpus's count of documents not tokenised as they are, from the matrix cache if it is current."""
    cache = _open_cache(cache_path(corpus), corpus.generation(), cache_key(corpus))
    if cache is None:
        return None
    with cache:
        try:
            count = int(cache["not_tokenised"])
        except _FAILURES:
            return None
    return None if count < 0 else count


def require_documents(corpus: Corpus) -> None:
    """An empty corpus is a usage error that says so (not 'run tokenise', nor an empty table)."""
    if corpus.db.execute("SELECT 1 FROM documents LIMIT 1").fetchone() is None:
        raise UsageError(f"the corpus {corpus.path} has no documents: run `policylex ingest PATH...` first")


def cache_key(corpus: Corpus) -> str:
    """What the cache must have been built for, besides the generation.

    The corpus's identity belongs in it: a new corpus made at the same path can
    reach the same generation with other documents.
    """
    return f"{corpus.identity()} {corpus.get_meta('tokenise.settings', '')}"


def document_term_matrix(corpus: Corpus, *, use_cache: bool = True) -> DocumentTermMatrix:
    """The corpus's document-term matrix, from the cache when the corpus has not changed."""
    if corpus.db.execute("SELECT 1 FROM document_tokens LIMIT 1").fetchone() is None:
        require_documents(corpus)
        raise UsageError("no tokenised documents: run `policylex tokenise` first")
    with corpus.snapshot():  # the matrix and the generation it is filed under are of one moment
        settings = cache_key(corpus)
        path = cache_path(corpus)
        generation = corpus.generation()
        if use_cache:
            cached = load(path, generation, settings)
            if cached is not None:
                return cached
        dtm = build(corpus)
    if use_cache:
        try:
            save(dtm, path, settings)
        except OSError:
            pass  # a read-only folder: work without the cache
    return dtm
