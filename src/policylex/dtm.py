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

import numpy as np
import scipy.sparse as sp

from policylex.errors import UsageError
from policylex.selection import CODE_FIELDS, FIELDS, SIZE_FIELDS, DocumentSet, numeric_field
from policylex.store import COUNTED, Corpus

CACHE_FORMAT = 3
# Besides the selection fields, each row's sizes and codes, so that trends read
# their denominators from the cache rather than from the documents table.
META_FIELDS = FIELDS + SIZE_FIELDS + CODE_FIELDS


@dataclass
class DocumentTermMatrix:
    counts: sp.csr_matrix  # documents × terms, int32
    vocabulary: np.ndarray  # term per column
    meta: dict[str, np.ndarray]  # META_FIELDS, one value per row ('' for none; 0 for no year, chars, tokens)
    counted: np.ndarray  # bool per row: not an exact or near duplicate
    generation: int
    term_pos: np.ndarray | None = None  # each term's most frequent part of speech, if tokens carry them

    def terms_with_pos(self, prefixes: list[str]) -> np.ndarray:
        """Columns of the terms whose part of speech starts with one of ``prefixes`` (n: n, nr, ns, …)."""
        if self.term_pos is None or not any(self.term_pos.tolist()):
            raise UsageError("the tokens carry no part of speech: run `policylex tokenise --pos` first")
        wanted = tuple(p.strip() for p in prefixes if p.strip())
        return np.array([i for i, tag in enumerate(self.term_pos.tolist()) if tag.startswith(wanted)], dtype=np.int64)

    @property
    def n_docs(self) -> int:
        return self.counts.shape[0]

    def term_index(self) -> dict[str, int]:
        return {term: i for i, term in enumerate(self.vocabulary.tolist())}

    @property
    def documents(self) -> DocumentSet:
        return DocumentSet(self.meta, self.counted)

    def rows(self, *, include_duplicates: bool = False, where: list[str] | None = None) -> np.ndarray:
        """Row indices of the documents selected by ``where`` (and not duplicates, unless asked)."""
        return self.documents.rows(include_duplicates=include_duplicates, where=where)

    def grouped(self, rows: np.ndarray, by: str | None) -> tuple[list[str], sp.csr_matrix, list[np.ndarray]]:
        """(group labels, group × term counts, the row indices in each group), groups sorted."""
        names, members, group_of_row = self.documents.groups(rows, by)
        indicator = sp.csr_matrix((np.ones(rows.size), (group_of_row, np.arange(rows.size))),
                                  shape=(len(names), rows.size))
        return names, sp.csr_matrix(indicator @ self.counts[rows]), members


def cache_path(corpus: Corpus) -> Path:
    return corpus.path.with_name(corpus.path.name + ".dtm.npz")


def build(corpus: Corpus) -> DocumentTermMatrix:
    """Count every tokenised document's tokens into a sparse matrix."""
    vocabulary: dict[str, int] = {}
    indptr = [0]
    indices: list[int] = []
    data: list[int] = []
    meta: dict[str, list] = {f: [] for f in META_FIELDS}
    counted: list[bool] = []
    tag_counts: dict[tuple[int, str], int] = {}
    generation = corpus.generation()
    query = (f"SELECT {', '.join(META_FIELDS)}, {COUNTED} AS counted, tokens, pos "
             "FROM documents WHERE tokens IS NOT NULL ORDER BY seq")
    for row in corpus.db.execute(query):
        doc: dict[int, int] = {}
        tokens = row["tokens"].split()
        for token in tokens:
            column = vocabulary.setdefault(token, len(vocabulary))
            doc[column] = doc.get(column, 0) + 1
        if row["pos"]:
            for token, tag in zip(tokens, row["pos"].split()):
                key = (vocabulary[token], tag)
                tag_counts[key] = tag_counts.get(key, 0) + 1
        indices.extend(doc)
        data.extend(doc.values())
        indptr.append(len(indices))
        for f in META_FIELDS:
            meta[f].append(row[f] if row[f] is not None else (0 if numeric_field(f) else ""))
        counted.append(bool(row["counted"]))
    counts = sp.csr_matrix(
        (np.array(data, dtype=np.int32), np.array(indices, dtype=np.int32), np.array(indptr, dtype=np.int64)),
        shape=(len(indptr) - 1, len(vocabulary)),
    )
    counts.sort_indices()
    vocab = np.array(list(vocabulary), dtype=str) if vocabulary else np.zeros(0, dtype="<U1")
    arrays = {f: np.array(meta[f], dtype=np.int64 if numeric_field(f) else str) for f in META_FIELDS}
    best: dict[int, tuple[int, str]] = {}
    for (column, tag), n in sorted(tag_counts.items()):
        if column not in best or n > best[column][0]:
            best[column] = (n, tag)
    term_pos = np.array([best.get(i, (0, ""))[1] for i in range(len(vocabulary))], dtype=str)
    return DocumentTermMatrix(counts, vocab, arrays, np.array(counted, dtype=bool), generation, term_pos)


def save(dtm: DocumentTermMatrix, path: Path, settings: str) -> None:
    """Write the cache atomically: a reader never sees half a file."""
    partial = path.with_name(path.name + f".{os.getpid()}.part")
    try:
        with partial.open("wb") as handle:
            np.savez(
            handle,
                format=np.array(CACHE_FORMAT), generation=np.array(dtm.generation), settings=np.array(settings),
                data=dtm.counts.data, indices=dtm.counts.indices, indptr=dtm.counts.indptr,
                shape=np.array(dtm.counts.shape), vocabulary=dtm.vocabulary, counted=dtm.counted,
                term_pos=dtm.term_pos if dtm.term_pos is not None else np.zeros(0, dtype="<U1"),
                **{f"meta_{f}": v for f, v in dtm.meta.items()},
            )
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)  # a full disk or Ctrl-C leaves no half-written file behind


def load(path: Path, generation: int, settings: str) -> DocumentTermMatrix | None:
    """The cached matrix if it was built from this corpus state, else None."""
    try:
        with np.load(path, allow_pickle=False) as cache:
            if (int(cache["format"]) != CACHE_FORMAT or int(cache["generation"]) != generation
                    or str(cache["settings"]) != settings):
                return None
            counts = sp.csr_matrix((cache["data"], cache["indices"], cache["indptr"]), shape=tuple(cache["shape"]))
            meta = {f: cache[f"meta_{f}"] for f in META_FIELDS}
            return DocumentTermMatrix(counts, cache["vocabulary"], meta, cache["counted"], generation, cache["term_pos"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None  # a damaged or foreign file is no cache: the matrix is rebuilt


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
    if corpus.db.execute("SELECT 1 FROM documents WHERE tokens IS NOT NULL LIMIT 1").fetchone() is None:
        require_documents(corpus)
        raise UsageError("no tokenised documents: run `policylex tokenise` first")
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
