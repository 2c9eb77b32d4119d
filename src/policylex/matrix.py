"""The document-feature matrix: documents × features (terms or formulations), with the documents' variables.

One type, :class:`FeatureMatrix`, for every analysis (quanteda's ``dfm``)::

    import policylex as plx
    corpus = plx.open("policylex.db")
    m = corpus.dfm()                       # terms, counted on the tokens; duplicates left out
    f = corpus.dfm(lexicon="bundled")      # formulations, found in the text
    m.select(where=["year>=2020"]).group("province,year")

``counts`` is a scipy CSR matrix, ``features`` the column names, ``docvars`` a
pandas DataFrame with one row per document (or per group, after
:meth:`FeatureMatrix.group`).  The term matrix is built from the stored term
counts and cached beside the corpus (``<corpus>.dtm.npz``, see
:func:`term_matrix`), the formulation matrix from the stored matches
(``<corpus>.slogans.npz``, :func:`policylex.slogans.slogan_matrix`); both are
rebuilt only when the corpus changes.

A matrix derived by :meth:`~FeatureMatrix.select` shares its parent's counts:
selecting, grouping and summing are sparse products over the rows, never
copies of them, so an analysis of 100,000 documents reads its sums straight
from the cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from policylex.cache import read_arrays, write_arrays
from policylex.errors import UsageError
from policylex.selection import (CODE_FIELDS, FIELDS, SIZE_FIELDS, UNKNOWN, DocumentSet, group_fields,
                                 metadata_arrays)
from policylex.store import COUNTED, NOT_TOKENISED, Corpus

if TYPE_CHECKING:
    import scipy.sparse as sp

TERMS_FORMAT = 6  # raise when the cached arrays or their meaning change
# The documents' variables kept with every matrix: the selection fields, title, sizes and codes.
META_FIELDS = FIELDS + ("title",) + SIZE_FIELDS + CODE_FIELDS
# ``docvars``' columns, in order (``tokens`` is the stored ``token_count``).
DOCVARS = ("id", "name", "title", "date", "year", "province", "province_code", "city", "city_code", "source",
           "chars", "tokens")
KINDS = ("token", "slogan")  # what a feature is: a term of the tokens, or a formulation of a lexicon


# --- the counts ----------------------------------------------------------------------------


class Counts:
    """The counts of every document of a corpus (documents × features), shared by the matrices derived from them.

    ``arrays`` holds ``data``, ``indices`` and ``indptr`` (int32 counts in CSR),
    read from the cache when first used, or a ready matrix.
    """

    def __init__(self, arrays: "Mapping[str, np.ndarray] | sp.csr_matrix", features: np.ndarray,
                 meta: Mapping[str, np.ndarray], counted: np.ndarray, *, sums: tuple | None = None,
                 term_pos: np.ndarray | None = None, not_tokenised: int | None = None, generation: int = 0):
        self._arrays = arrays
        self.features = features
        self.meta = meta
        self.counted = counted
        self.term_pos = term_pos
        self.not_tokenised = not_tokenised
        self.generation = generation
        self._counted_sums = sums

    @property
    def n_docs(self) -> int:
        return self.counted.size

    @cached_property
    def feature_list(self) -> list[str]:
        return self.features.tolist()

    @cached_property
    def csr(self) -> "sp.csr_matrix":
        import scipy.sparse as sp

        if sp.issparse(self._arrays):
            return self._arrays
        return sp.csr_matrix((self._arrays["data"], self._arrays["indices"], self._arrays["indptr"]),
                             shape=(self.n_docs, self.features.size))

    @cached_property
    def present(self) -> "sp.csr_matrix":
        """1 where a document holds the feature: document frequencies are its sums."""
        import scipy.sparse as sp

        csr = self.csr
        return sp.csr_matrix((np.ones(csr.data.size, dtype=np.int32), csr.indices, csr.indptr), shape=csr.shape)

    @property
    def counted_sums(self) -> tuple[np.ndarray, np.ndarray]:
        """(count, document frequency) of every feature over the documents that are not duplicates."""
        if self._counted_sums is None:
            self._counted_sums = self.sums(self.counted)
        return self._counted_sums

    def sums(self, selected: np.ndarray, docfreq: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """(count, document frequency or None) of every feature over the rows where ``selected`` is true.

        Over a minority of the rows (a keyness target, a year), only those rows are
        read: at 100,000 documents a year's sums took 0.27 s over every row.  Otherwise
        sparse matrix-vector products, O(non-zeros) in C, no copy of the selected rows.
        """
        rows = np.flatnonzero(selected)
        if rows.size * 2 < selected.size:
            part = self.csr[rows]
            width = self.features.size
            # bincount weighs in float64: exact for any count below 2**53
            totals = np.bincount(part.indices, weights=part.data, minlength=width).astype(np.int64)
            return totals, (np.bincount(part.indices, minlength=width).astype(np.int64) if docfreq else None)
        weights = selected.astype(np.int64)
        totals = np.asarray(self.csr.T @ weights, dtype=np.int64)
        return totals, (np.asarray(self.present.T @ weights, dtype=np.int64) if docfreq else None)

    def grouped(self, indicator: "sp.csr_matrix", *, docfreq: bool = False) -> "sp.csr_matrix":
        """groups × features: the counts (or document frequencies) summed by ``indicator`` (groups × documents)."""
        import scipy.sparse as sp

        # In the counts' own int32 when no sum can overflow it: an int64 indicator made
        # scipy copy every count to int64 first (0.3 s of 0.4 at 23M counts).
        small = int(self.csr.data.sum(dtype=np.int64)) < np.iinfo(np.int32).max
        indicator = indicator.astype(np.int32 if small else np.int64)
        summed = sp.csr_matrix(indicator @ (self.present if docfreq else self.csr), dtype=np.int64)
        summed.sort_indices()
        return summed

    def columns(self, columns: list[int], features: np.ndarray, places: list[int]) -> "Counts":
        """Counts of ``features``: column ``columns[i]`` of these at ``places[i]``, the rest 0."""
        import scipy.sparse as sp

        place = sp.csr_matrix((np.ones(len(columns), dtype=np.int64), (np.arange(len(columns)), places)),
                              shape=(len(columns), features.size))
        sub = sp.csr_matrix(self.csr[:, columns] @ place)
        return Counts(sub, features, self.meta, self.counted)


# --- groups ----------------------------------------------------------------------------------


@dataclass
class Groups:
    """Selected documents in groups, with each group's denominators and administrative codes.

    The one grouping of policylex: every analysis that groups comes through
    :func:`group_documents` (and :meth:`policylex.selection.DocumentSet.grouping`).
    """

    fields: tuple[str, ...]
    keys: list[tuple[str, ...]]  # each group's value of each field, ``unknown`` where it has none
    members: list[np.ndarray]  # the rows in each group, in corpus order
    rows: np.ndarray  # the selected rows
    group_of_row: np.ndarray  # each selected row's group
    documents: np.ndarray
    tokens: np.ndarray
    chars: np.ndarray
    codes: dict[str, list[str | None]]  # province_code / city_code per group, if grouped by them

    @property
    def labels(self) -> list[str]:
        """One label per group: the value, or the values joined by a space (``山东省 2023``); ``all`` ungrouped."""
        return [" ".join(key) for key in self.keys] if self.fields else ["all"]

    @cached_property
    def indicator(self) -> "sp.csr_matrix":
        """groups × selected rows, 1 where the row is in the group."""
        import scipy.sparse as sp

        return sp.csr_matrix((np.ones(self.rows.size, dtype=np.int64), (self.group_of_row, np.arange(self.rows.size))),
                             shape=(len(self.keys), self.rows.size))

    def over(self, n_docs: int) -> "sp.csr_matrix":
        """groups × all ``n_docs`` documents, 1 where the document is in the group."""
        import scipy.sparse as sp

        return sp.csr_matrix((np.ones(self.rows.size, dtype=np.int64), (self.group_of_row, self.rows)),
                             shape=(len(self.keys), n_docs))

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
    """Group the selected rows by one field or several (``province,year``); each group's sizes and codes."""
    grouping = documents.grouping(rows, by)
    n = len(grouping.keys)
    of_row = grouping.group_of_row
    meta = documents.meta
    codes = {}
    for field in ("province", "city"):
        if field in grouping.fields:
            codes[f"{field}_code"] = [_common_code(meta[f"{field}_code"][m]) for m in grouping.members]
    return Groups(
        grouping.fields, grouping.keys, grouping.members, rows, of_row,
        np.bincount(of_row, minlength=n).astype(np.int64),
        np.bincount(of_row, weights=meta["token_count"][rows], minlength=n).astype(np.int64),
        np.bincount(of_row, weights=meta["chars"][rows], minlength=n).astype(np.int64),
        codes,
    )


def _common_code(codes: np.ndarray) -> str | None:
    """The group's code when its documents agree on one; None for none or several."""
    distinct = set(np.unique(codes).tolist()) - {""}
    return distinct.pop() if len(distinct) == 1 else None


# --- the matrix ------------------------------------------------------------------------------


class FeatureMatrix:
    """Documents (or groups of them) × features: counts, feature names, and the documents' variables.

    Made by :meth:`policylex.Corpus.dfm`; :meth:`select` and :meth:`group` give
    matrices again, and every measure (:func:`policylex.frequency`, …) takes one.
    """

    def __init__(self, source: Counts, rows: np.ndarray, *, kind: str = "token", lexicon=None,
                 corpus: Corpus | None = None, groups: Groups | None = None):
        self._source = source
        self.rows = rows  # the documents, as rows of the source
        self.kind = kind
        self.lexicon = lexicon  # formulations: the lexicon they come from
        self.corpus = corpus  # formulations: where their matches are stored (co-occurrence reads them)
        self.groups_of = groups  # set on a grouped matrix: its rows are these groups

    def __repr__(self) -> str:
        what = "groups" if self.grouped else "documents"
        return (f"<FeatureMatrix of {'formulations' if self.kind == 'slogan' else 'terms'}: "
                f"{self.shape[0]} {what} × {self.shape[1]} features>")

    # --- what a user reads -----------------------------------------------------------------

    @property
    def grouped(self) -> bool:
        return self.groups_of is not None

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.groups_of.keys) if self.grouped else self.rows.size), self._source.features.size

    @property
    def feature_array(self) -> np.ndarray:
        return self._source.features

    @property
    def features(self) -> list[str]:
        """The column names: terms, or formulations as the lexicon writes them."""
        return self._source.feature_list

    @property
    def names(self) -> np.ndarray:
        """The documents' names (``docvars['name']`` without pandas), or the groups' labels."""
        if self.grouped:
            return np.array(self.groups_of.labels, dtype=str)
        return self._source.meta["name"][self.rows]

    @cached_property
    def counts(self) -> "sp.csr_matrix":
        """The counts as scipy's CSR matrix (int): rows are the documents (or groups), columns the features."""
        if self.grouped:
            return self._source.grouped(self.groups_of.over(self._source.n_docs))
        if self.rows.size == self._source.n_docs and np.array_equal(self.rows, np.arange(self.rows.size)):
            return self._source.csr
        return self._source.csr[self.rows]

    @property
    def docvars(self):
        """A pandas DataFrame, one row per document (``DOCVARS``), or per group: its keys, codes and sizes."""
        from policylex.output import pandas

        pd = pandas()
        if self.grouped:
            g = self.groups_of
            records = [g.values(i) + (int(g.documents[i]), int(g.tokens[i]), int(g.chars[i]))
                       for i in range(len(g.keys))]
            return pd.DataFrame(records, columns=list(g.columns()) + ["documents", "tokens", "chars"])
        meta = self._source.meta
        columns = {}
        for name in DOCVARS:
            stored = "token_count" if name == "tokens" else name
            values = meta[stored][self.rows] if stored in meta else np.full(self.rows.size, "")
            columns[name] = pd.Series(values).where(values > 0).astype("Int64") if name == "year" else values
        return pd.DataFrame(columns)

    def to_scipy(self) -> "sp.csr_matrix":
        return self.counts

    def to_pandas(self):
        """The counts as a sparse pandas DataFrame: a row per document name (or group label), a column per feature."""
        from policylex.output import pandas

        pd = pandas()
        index = self.names.tolist()
        return pd.DataFrame.sparse.from_spmatrix(self.counts, index=index, columns=self.features)

    # --- deriving matrices --------------------------------------------------------------------

    def _with_rows(self, rows: np.ndarray) -> "FeatureMatrix":
        return FeatureMatrix(self._source, rows, kind=self.kind, lexicon=self.lexicon, corpus=self.corpus)

    def _ungrouped(self, what: str) -> None:
        if self.grouped:
            raise UsageError(f"{what}: the matrix is grouped already; {what} the documents' matrix, then group")

    @property
    def documents(self) -> DocumentSet:
        """Every document of the source (not only this matrix's rows), for selection rules."""
        return DocumentSet(self._source.meta, self._source.counted)

    def select(self, where: list[str] | str | None = None) -> "FeatureMatrix":
        """The documents for which every condition holds: ``year=2021``, ``province!=辽宁省``, ``year=2020,2021``.

        Fields: ``year province city source doc date``; ``province=辽宁`` means 辽宁省.
        """
        self._ungrouped("select")
        if not where:
            return self
        documents = self.documents
        mask = np.ones(self.rows.size, dtype=bool)
        for condition in [where] if isinstance(where, str) else where:
            mask &= documents.condition_mask(condition)[self.rows]
        return self._with_rows(self.rows[mask])

    def take(self, positions: np.ndarray) -> "FeatureMatrix":
        """The documents at these positions (0 … rows − 1) of this matrix."""
        self._ungrouped("take")
        return self._with_rows(self.rows[positions])

    def groups(self, by: str | None) -> Groups:
        """This matrix's documents grouped ``by`` one field or several (``province,year``)."""
        self._ungrouped("group")
        return group_documents(self.documents, self.rows, by)

    def group(self, by: str) -> "FeatureMatrix":
        """A matrix with one row per group (the counts of its documents added up); docvars: keys and sizes."""
        if not group_fields(by):
            raise UsageError("by: name a field to group by (year, province, city, source, doc, or province,year)")
        return FeatureMatrix(self._source, self.rows, kind=self.kind, lexicon=self.lexicon, corpus=self.corpus,
                             groups=self.groups(by))

    def group_sums(self, groups: Groups, *, docfreq: bool = False) -> "sp.csr_matrix":
        """groups × features: each group's counts (or, with ``docfreq``, documents holding each feature)."""
        return self._source.grouped(groups.over(self._source.n_docs), docfreq=docfreq)

    def sums(self, *, docfreq: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """(count, document frequency or None) of every feature over this matrix's documents."""
        self._ungrouped("sums")
        source = self._source
        selected = np.zeros(source.n_docs, dtype=bool)
        selected[self.rows] = True
        if np.array_equal(selected, source.counted):  # the usual selection: summed once, kept in the cache
            return source.counted_sums
        return source.sums(selected, docfreq)

    def pick(self, features: list[str]) -> "FeatureMatrix":
        """The matrix of these features only, in this order; a feature not in the matrix is a column of 0."""
        self._ungrouped("pick")
        index = self.feature_index()
        found = [(j, index[f]) for j, f in enumerate(features) if f in index]
        names = np.array(features, dtype=str) if features else np.zeros(0, dtype="<U1")
        source = self._source.columns([c for _, c in found], names, [j for j, _ in found])
        return FeatureMatrix(source, self.rows, kind=self.kind, lexicon=self.lexicon, corpus=self.corpus)

    def feature_index(self) -> dict[str, int]:
        return {feature: i for i, feature in enumerate(self.features)}

    def features_with_pos(self, prefixes: list[str]) -> np.ndarray:
        """Columns of the terms whose part of speech starts with one of ``prefixes`` (n: n, nr, ns, …)."""
        tags = self._source.term_pos
        if tags is None or not any(tags.tolist()):
            raise UsageError("pos: the tokens carry no part of speech: tokenise with it first "
                             "(`policylex tokenise --pos`, corpus.tokenise(pos=True))", option="pos")
        wanted = tuple(p.strip() for p in prefixes if p.strip())
        return np.array([i for i, tag in enumerate(tags.tolist()) if tag.startswith(wanted)], dtype=np.int64)

    @property
    def not_tokenised(self) -> int | None:
        return self._source.not_tokenised


def as_matrix(data, *, where=None, include_duplicates: bool = False, kind: str = "token") -> FeatureMatrix:
    """A measure's input as a matrix: a :class:`FeatureMatrix` as it is (``where`` selects in it), or a
    corpus's term matrix (``include_duplicates`` keeps duplicates), so that ``frequency(corpus)`` works too.

    A matrix of no documents is an error that says why.
    """
    if isinstance(data, Corpus):
        if kind != "token":
            raise UsageError("give the matrix of formulations: corpus.dfm(lexicon=...)")
        data = term_matrix(data, include_duplicates=include_duplicates)
    if not isinstance(data, FeatureMatrix):
        raise UsageError(f"a measure takes a FeatureMatrix (corpus.dfm()) or a Corpus, not {type(data).__name__}")
    if data.kind != kind:
        raise UsageError("this measure takes a matrix of " + ("terms: corpus.dfm()" if kind == "token"
                                                               else "formulations: corpus.dfm(lexicon=...)"))
    if data.grouped:
        raise UsageError("a measure takes the documents' matrix (and groups them itself, by=...): "
                         "this one is grouped already")
    matrix = data.select(where)
    if matrix.rows.size == 0:
        raise UsageError("no documents match" + (f" where {' '.join(where)}" if where else ""), option="where")
    return matrix


# --- the term matrix and its cache ----------------------------------------------------------


def cache_path(corpus: Corpus) -> Path:
    return corpus.path.with_name(corpus.path.name + ".dtm.npz")


def cache_key(corpus: Corpus, generation: int) -> str:
    """What the cache must have been built for: its format, the corpus (a new corpus made at the
    same path can reach the same generation with other documents), its state and tokeniser settings."""
    return f"terms {TERMS_FORMAT} {corpus.identity()} {generation} {corpus.get_meta('tokenise.settings', '')}"


def build_terms(corpus: Corpus) -> Counts:
    """The counts of every tokenised document, from the term counts tokenise stored.

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
    tag_counts: dict[tuple[int, str], int] = {}
    query = (f"SELECT {', '.join(META_FIELDS)}, {COUNTED} AS counted, term_counts, "
             "CASE WHEN term_counts IS NULL OR pos IS NOT NULL THEN tokens END AS tokens, pos, "
             f"tokens IS NOT NULL AS tokenised, {COUNTED} AND {NOT_TOKENISED} AS stale FROM documents_with_tokens ORDER BY seq")
    cursor = corpus.db.cursor()
    cursor.row_factory = None  # plain tuples: a Row object a document, and its lookups by name, cost more
    width = len(META_FIELDS)
    counted_at, blob_at, tokens_at, pos_at, tokenised_at, stale_at = range(width, width + 6)
    id_parts: list[np.ndarray] = []
    count_parts: list[np.ndarray] = []
    lengths: list[int] = []
    meta_rows: list[tuple] = []
    counted: list[bool] = []
    not_tokenised = 0
    # Row by row: all rows at once, with their counts, doubled the peak memory at 100k (1.7 GB).
    for row in cursor.execute(query):
        not_tokenised += row[stale_at]
        if not row[tokenised_at]:
            continue
        blob = row[blob_at]
        if blob is not None:
            packed = np.frombuffer(blob, dtype="<i4")
            half = packed.size // 2
            id_parts.append(column_of[packed[:half]])
            count_parts.append(packed[half:])
            lengths.append(half)
        tokens = row[tokens_at]
        if tokens is not None and (blob is None or row[pos_at]):
            if index is None:
                index = {term: i for i, term in enumerate(vocabulary)}
            tokens = tokens.split()
            if blob is None:  # tokens stored before the counts (schema version 2 and older)
                doc: dict[int, int] = {}
                for token in tokens:
                    column = index.setdefault(token, len(index))
                    doc[column] = doc.get(column, 0) + 1
                id_parts.append(np.fromiter(doc.keys(), dtype=np.int32, count=len(doc)))
                count_parts.append(np.fromiter(doc.values(), dtype=np.int32, count=len(doc)))
                lengths.append(len(doc))
            if row[pos_at]:
                for token, tag in zip(tokens, row[pos_at].split()):
                    key = (index.setdefault(token, len(index)), tag)
                    tag_counts[key] = tag_counts.get(key, 0) + 1
        meta_rows.append(row[:width])
        counted.append(bool(row[counted_at]))
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
    arrays = metadata_arrays(meta_rows, META_FIELDS)
    best: dict[int, tuple[int, str]] = {}
    for (column, tag), n in sorted(tag_counts.items()):
        if column not in best or n > best[column][0]:
            best[column] = (n, tag)
    term_pos = np.array([best.get(i, (0, ""))[1] for i in used.tolist()], dtype=str)
    return Counts(matrix, vocab, arrays, np.array(counted, dtype=bool), term_pos=term_pos,
                  not_tokenised=not_tokenised, generation=generation)


def save_terms(counts: Counts, path: Path, key: str) -> None:
    """Write the term matrix's cache (with the sums over the counted documents, what a plain ``freq`` reads)."""
    totals, docfreq = counts.counted_sums
    csr = counts.csr
    write_arrays(path, key, {
        "data": csr.data, "indices": csr.indices, "indptr": csr.indptr, "vocabulary": counts.features,
        "counted": counts.counted, "counted_totals": totals, "counted_docfreq": docfreq,
        "term_pos": counts.term_pos if counts.term_pos is not None else np.zeros(0, dtype="<U1"),
        "not_tokenised": np.array(-1 if counts.not_tokenised is None else counts.not_tokenised),
        **{f"meta_{f}": counts.meta[f] for f in META_FIELDS},
    })


def load_terms(path: Path, key: str, generation: int) -> Counts | None:
    """The cached term matrix if it was built for ``key``, else None; the counts are read when first used."""
    cached = read_arrays(path, key, required=("vocabulary", "counted", "counted_totals", "not_tokenised"))
    if cached is None:
        return None
    not_tokenised = int(cached["not_tokenised"])
    return Counts(cached, cached["vocabulary"], cached.prefixed("meta_"), cached["counted"],
                  sums=(cached["counted_totals"], cached["counted_docfreq"]), term_pos=cached["term_pos"],
                  not_tokenised=None if not_tokenised < 0 else not_tokenised, generation=generation)


def cached_not_tokenised(corpus: Corpus) -> int | None:
    """The corpus's count of documents not tokenised as they are, from the matrix cache if it is current."""
    cached = read_arrays(cache_path(corpus), cache_key(corpus, corpus.generation()), required=("not_tokenised",))
    if cached is None:
        return None
    count = int(cached["not_tokenised"])
    return None if count < 0 else count


def require_documents(corpus: Corpus) -> None:
    """An empty corpus is a usage error that says so (not 'run tokenise', nor an empty table)."""
    if corpus.db.execute("SELECT 1 FROM documents LIMIT 1").fetchone() is None:
        raise UsageError(f"the corpus {corpus.path} has no documents: run `policylex ingest PATH...` first")


def term_counts(corpus: Corpus, *, use_cache: bool = True) -> Counts:
    """Every document's term counts, from the cache when the corpus has not changed (else built and cached)."""
    if corpus.db.execute("SELECT 1 FROM document_tokens LIMIT 1").fetchone() is None:
        require_documents(corpus)
        raise UsageError("no tokenised documents: run `policylex tokenise` first")
    with corpus.snapshot():  # the matrix and the generation it is filed under are of one moment
        generation = corpus.generation()
        key = cache_key(corpus, generation)
        path = cache_path(corpus)
        if use_cache:
            cached = load_terms(path, key, generation)
            if cached is not None:
                return cached
        counts = build_terms(corpus)
    if use_cache:
        save_terms(counts, path, key)
    return counts


def build_cache(corpus: Corpus) -> None:
    """Bring the term matrix's cache up to date (after tokenise, say), so the first analysis reads it."""
    term_counts(corpus)


def term_matrix(corpus: Corpus, *, include_duplicates: bool = False, use_cache: bool = True) -> FeatureMatrix:
    """The corpus's documents × terms matrix (the tokens counted); exact and near duplicates left out unless asked."""
    counts = term_counts(corpus, use_cache=use_cache)
    rows = np.arange(counts.n_docs) if include_duplicates else np.flatnonzero(counts.counted)
    return FeatureMatrix(counts, rows, kind="token", corpus=corpus)


def dfm(corpus: Corpus, *, lexicon=None, include_duplicates: bool = False, nested: str = "key",
        progress: Callable[[int, int], None] | None = None) -> FeatureMatrix:
    """The corpus's document-feature matrix: of terms, or with ``lexicon`` of its formulations.

    ``lexicon``: ``"bundled"`` (the lexicon that comes with policylex), a lexicon
    file's path (CSV/TSV, adding to the bundled one), or a :class:`~policylex.lexicon.Lexicon`.
    ``nested`` (formulations): see :func:`policylex.slogans.slogan_matrix`.
    """
    if lexicon is None:
        return term_matrix(corpus, include_duplicates=include_duplicates)
    from policylex.lexicon import Lexicon, load_lexicon
    from policylex.slogans import slogan_matrix

    if not isinstance(lexicon, Lexicon):
        lexicon = load_lexicon(None if str(lexicon) == "bundled" else Path(lexicon))
    matrix = slogan_matrix(corpus, lexicon, nested=nested, progress=progress)
    return matrix if include_duplicates else matrix._with_rows(np.flatnonzero(matrix.documents.counted))
