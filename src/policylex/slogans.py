"""Formulations (提法) in the corpus: detection, counts, co-occurrence and diffusion.

Detection runs on the normalised text, not on tokens, so a formulation the
segmenter splits is still found (see :mod:`policylex.lexicon` for the matching
rules).  Every match is stored with its character offsets, paragraph (a line of
the normalised text) and sentence (ended by 。！？；!?; or a line break), both
numbered from 0 within the document, in ``slogan_hits``; ``slogan_scans``
records which documents were scanned with which lexicon.  :func:`scan` brings
both up to date, touching only documents whose text or the lexicon changed, and
every analysis here calls it first.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.sparse as sp

from policylex.cache import read_arrays, write_arrays
from policylex.errors import UsageError
from policylex.lexicon import Lexicon, load_lexicon
from policylex.matrix import Counts, FeatureMatrix, as_matrix, dfm
from policylex.output import Table
from policylex.parallel import default_workers, map_batches
from policylex.selection import CODE_FIELDS, SIZE_FIELDS, UNKNOWN, load_documents
from policylex.store import Corpus, pages

Progress = Callable[[int, int], None]
PER = 10_000
# Documents a transaction: the match tables are keyed by document id, a hash, so each
# batch changes pages all over them; at 100k, batches of 500 took 38 s, of 5,000 21 s.
BATCH_DOCUMENTS = 5000
SERIAL_BELOW = 64  # fewer documents than this are not worth starting processes for
_LINE_BREAK = re.compile("\n")
_SENTENCE_END = re.compile(r"[。！？；!?;]+\n?|\n")  # "。\n" ends one sentence, not two


# --- units of text ---------------------------------------------------------------------


def unit_starts(text: str) -> tuple[list[int], list[int]]:
    """Offsets where each paragraph and each sentence of a normalised text starts."""
    paragraphs = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
    sentences = [0]
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if end < len(text) and end != sentences[-1]:
            sentences.append(end)
    return paragraphs, sentences


# --- detection and its store -------------------------------------------------------------


@dataclass
class ScanReport:
    documents: int = 0
    scanned: int = 0
    matches: int = 0
    lexicon: str = ""

    def summary(self) -> list[tuple[str, object]]:
        return [("documents", self.documents), ("scanned now", self.scanned),
                ("already up to date", self.documents - self.scanned), ("matches written", self.matches),
                ("lexicon", self.lexicon)]


def corpus_variant(corpus: Corpus) -> str:
    from policylex.ingest import corpus_variant as variant

    return variant(corpus)


_matcher = None  # the lexicon's matcher in a worker process


def _init_matcher(matcher) -> None:
    global _matcher
    _matcher = matcher


def _scan_text(item: tuple[str, str, str, int]) -> tuple[int, int, list[tuple]]:
    """(paragraphs, sentences, matches as slogan_hits rows) of one (id, text, hash, seq)."""
    doc_id, text, _, seq = item
    paragraphs, sentences = unit_starts(text)
    hits = [(seq, m.start, doc_id, m.stop, m.slogan, m.matched, bisect_right(paragraphs, m.start) - 1,
             bisect_right(sentences, m.start) - 1) for m in _matcher.find(text)]
    return len(paragraphs), len(sentences), hits


def scan(corpus: Corpus, lexicon: Lexicon | None = None, *, workers: int | None = None,
         progress: Progress | None = None) -> ScanReport:
    """Find the lexicon's formulations in every document not yet scanned with it.

    The texts are matched in ``workers`` processes (default: all cores) while the
    previous batch is written.  Each batch is one transaction: an interrupted scan
    keeps what it finished, and the next call does the rest.
    """
    lexicon = lexicon or load_lexicon()
    variant = corpus_variant(corpus)
    fingerprint = lexicon.fingerprint(variant)
    report = ScanReport(documents=corpus.count(), lexicon=f"{lexicon.origin}, {len(lexicon)} formulations")
    db = corpus.db
    if corpus.get_meta("slogans.lexicon") != fingerprint:
        # The cached counts of the previous lexicon would vouch for matches no longer stored.
        matrix_cache_path(corpus).unlink(missing_ok=True)
        with corpus.transaction():
            db.execute("DELETE FROM slogan_lexicon")
            db.executemany("INSERT INTO slogan_lexicon VALUES (?, ?, ?, ?, ?, ?, ?)", [e.stored_row() for e in lexicon])
            corpus.set_meta("slogans.lexicon", fingerprint)
            corpus.set_meta("slogans.lexicon_origin", lexicon.origin)
    # Keyset pagination in corpus order: the texts are read in the order they are stored
    # (by id they were read at random: 20 s of a 100k scan).
    condition = "(s.doc_id IS NULL OR s.norm_hash IS NOT d.norm_hash OR s.lexicon IS NOT :lexicon)"
    stale = "FROM documents d LEFT JOIN slogan_scans s ON s.doc_id = d.id WHERE"
    total = db.execute(f"SELECT count(*) {stale} {condition}", {"lexicon": fingerprint}).fetchone()[0]
    if not total:
        return report

    def batches():
        query = f"SELECT d.seq, d.id, d.norm_text, d.norm_hash {stale} d.seq > :last AND {condition}"
        for rows in pages(db, query, {"lexicon": fingerprint}, BATCH_DOCUMENTS):
            yield [(row["id"], row["norm_text"], row["norm_hash"], row["seq"]) for row in rows]

    workers = 1 if total < SERIAL_BELOW else max(1, workers or default_workers())
    for batch, results in map_batches(_scan_text, batches(), workers=workers, initializer=_init_matcher,
                                      initargs=(lexicon.matcher(variant),), chunksize=25):
        # In key order: the matches are keyed by seq (appended to, in corpus order), the scans by
        # document id, a hash, so a batch's rows land all over it: sorted, each page changes once.
        with corpus.transaction():
            db.executemany("DELETE FROM slogan_hits WHERE seq = ?", [(seq,) for *_, seq in batch])
            db.executemany("INSERT INTO slogan_hits VALUES (?, ?, ?, ?, ?, ?, ?, ?)",  # each text's in order
                           (hit for _, _, hits in results for hit in hits))
            db.executemany("INSERT OR REPLACE INTO slogan_scans VALUES (?, ?, ?, ?, ?)",
                           sorted((doc_id, norm_hash, fingerprint, paragraphs, sentences)
                                  for (doc_id, _, norm_hash, _), (paragraphs, sentences, _) in zip(batch, results)))
        report.matches += sum(len(hits) for _, _, hits in results)
        report.scanned += len(batch)
        if progress:
            progress(report.scanned, total)
    with corpus.transaction():
        corpus.log("slogans", "info", "; ".join(f"{k}: {v}" for k, v in report.summary()))
    return report


# --- counts as a matrix ----------------------------------------------------------------------


def pooled(matrix: FeatureMatrix, by: str) -> tuple[FeatureMatrix, int]:
    """The counts of each family or category (``by``): its members' matches added up.

    Formulations in no family (or with no category) are left out; the second
    value says how many.  The columns are the pools, named as in the lexicon.
    """
    pools = matrix.lexicon.pools(by)
    column = matrix.feature_index()
    members = [(j, column[s]) for j, names in enumerate(pools.values()) for s in names]
    indicator = sp.csr_matrix((np.ones(len(members), dtype=np.int64), ([m for _, m in members],
                                                                      [j for j, _ in members])),
                              shape=(len(column), len(pools)))
    left_out = len(column) - len(members)
    source = matrix.documents
    counts = Counts((matrix._source.csr @ indicator).tocsr(), np.array(list(pools), dtype=str), source.meta,
                    source.counted)
    return FeatureMatrix(counts, matrix.rows, kind="slogan", lexicon=matrix.lexicon, corpus=matrix.corpus), left_out


MATRIX_FORMAT = 4  # raise when the cached arrays or their key change


def matrix_cache_path(corpus: Corpus):
    return corpus.path.with_name(corpus.path.name + ".slogans.npz")


def slogan_matrix(corpus: Corpus, lexicon: Lexicon | None = None, *, nested: str = "key",
                  progress: Progress | None = None) -> FeatureMatrix:
    """Scan what needs scanning, then the matches counted per document and slogan: every document's row.

    ``nested`` (:class:`policylex.choices.Nested`): ``key`` counts a formulation
    written inside a longer one's match under both (全面依法治国 is also 依法治国);
    ``dictionary`` counts the longest match only, as the scan stores it.

    The counts are cached beside the corpus (``<corpus>.slogans.npz``) for the
    corpus state and lexicon they come from, like the term matrix.  A cache for
    this generation was written after a complete scan of it (see below), so with
    one there is nothing to scan: no pass over the documents.
    """
    from policylex.choices import Nested, choose

    with_nested = choose(Nested, nested, "nested") is Nested.key
    lexicon = lexicon or load_lexicon()
    slogans = np.array(lexicon.slogans(), dtype=str)
    fingerprint = lexicon.fingerprint(corpus_variant(corpus))
    path = matrix_cache_path(corpus)

    def key(generation: int) -> str:
        return f"slogans {MATRIX_FORMAT} {corpus.identity()} {generation} {fingerprint}"

    def matrix(meta, counted, counts, nested_counts) -> FeatureMatrix:
        counts = (counts + nested_counts).tocsr() if with_nested else counts
        return FeatureMatrix(Counts(counts, slogans, meta, counted), np.arange(counted.size), kind="slogan",
                             lexicon=lexicon, corpus=corpus)

    before = corpus.generation()
    if corpus.get_meta("slogans.lexicon") == fingerprint:
        cached = read_arrays(path, key(before), required=("shape", "counted"))
        if cached is not None:
            shape = tuple(cached["shape"])
            return matrix(cached.prefixed("meta_"), cached["counted"],
                          sp.csr_matrix((cached["data"], cached["indices"], cached["indptr"]), shape=shape),
                          sp.csr_matrix((cached["nested_data"], cached["nested_indices"], cached["nested_indptr"]),
                                        shape=shape))
    scan(corpus, lexicon, progress=progress)
    with corpus.snapshot():
        generation = corpus.generation()
        documents = load_documents(corpus, extra=("title",) + SIZE_FIELDS + CODE_FIELDS)
        if documents.n_docs == 0:
            raise UsageError("the corpus has no documents: run `policylex ingest PATH...` first")
        # Joining documents in SQL to get positions reads every document's whole row: slower than these lookups.
        triples = corpus.db.execute("SELECT doc_id, slogan, matched, count(*) FROM slogan_hits "
                                    "GROUP BY doc_id, slogan, matched").fetchall()
    row_of = {doc_id: i for i, doc_id in enumerate(documents.meta["id"].tolist())}
    column_of = {slogan: j for j, slogan in enumerate(slogans.tolist())}
    shape = (documents.n_docs, len(slogans))
    counts = _count_matrix(((row_of[t[0]], column_of[t[1]], t[3]) for t in triples), shape)
    inside = _nested_in(lexicon, corpus_variant(corpus), {(t[1], t[2]) for t in triples})
    nested_counts = _count_matrix(((row_of[t[0]], column_of[inner], t[3]) for t in triples
                                   for inner in inside[(t[1], t[2])] if inner in column_of), shape)
    # Documents that came in while the scan ran (another process's ingest) may be unscanned:
    # such counts are right for now but are not filed as those of a complete scan.
    if generation == before:
        write_arrays(path, key(generation), {"counted": documents.counted, "data": counts.data,
                                             "indices": counts.indices, "indptr": counts.indptr,
                                             "shape": np.array(counts.shape), "nested_data": nested_counts.data,
                                             "nested_indices": nested_counts.indices,
                                             "nested_indptr": nested_counts.indptr,
                                             **{f"meta_{f}": a for f, a in documents.meta.items()}})
    return matrix(documents.meta, documents.counted, counts, nested_counts)


def _count_matrix(cells, shape: tuple[int, int]) -> sp.csr_matrix:
    """(row, column, count) cells, summed where they repeat, as a CSR matrix."""
    cells = list(cells)
    rows = np.fromiter((c[0] for c in cells), dtype=np.int64, count=len(cells))
    columns = np.fromiter((c[1] for c in cells), dtype=np.int64, count=len(cells))
    data = np.fromiter((c[2] for c in cells), dtype=np.int64, count=len(cells))
    return sp.csr_matrix((data, (rows, columns)), shape=shape)


def _nested_in(lexicon: Lexicon, variant: str, matches: set[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
    """For each (slogan, matched text) stored, the other formulations written inside that text, once each place.

    Computed on the distinct matched texts (a few hundred in any corpus), not on the documents.
    """
    matcher = lexicon.matcher(variant)
    return {(slogan, matched): [m.slogan for m in matcher.nested(matched) if m.slogan != slogan]
            for slogan, matched in matches}


def _formulations(data, lexicon, nested, progress, where, include_duplicates) -> FeatureMatrix:
    """The matrix of formulations a function was given, or the corpus's, with ``where`` applied."""
    if isinstance(data, Corpus):
        data = dfm(data, lexicon=lexicon or load_lexicon(), nested=nested, include_duplicates=include_duplicates,
                   progress=progress)
    return as_matrix(data, where=where, kind="slogan")


# --- counts -------------------------------------------------------------------------------

COUNT_COLUMNS = ("rank", "slogan", "category", "documents", "occurrences", "per_10k_chars", "doc_share")
# Pooled (``pool="family"`` or ``"category"``): the pool's name, and how many lexicon formulations it has.
POOLED_COUNT_COLUMNS = ("rank", "{pool}", "formulations", "documents", "occurrences", "per_10k_chars", "doc_share")


def count_slogans(
    data: FeatureMatrix | Corpus,
    *,
    lexicon: Lexicon | None = None,
    slogans: list[str] | None = None,
    by: str | None = None,
    where: list[str] | None = None,
    include_duplicates: bool = False,
    include_absent: bool = False,
    top: int | None = None,
    pool: str | None = None,
    nested: str = "key",
    progress: Progress | None = None,
) -> Table:
    """Per formulation: documents containing it, occurrences, rate per 10,000 characters, share of documents.

    With ``by``, the same per group (a leading ``group`` column); the rate's
    denominator is the characters of the group's normalised text.  Ranked by
    occurrences, then documents.  Formulations not found are left out unless
    ``include_absent`` (or named in ``slogans``).

    With ``pool`` (``family`` or ``category``), one row per family or category
    instead: its members' occurrences added up, and the documents holding any
    of them.  Columns ``rank <pool> formulations documents occurrences
    per_10k_chars doc_share``; ``slogans`` then names pools.

    ``nested`` (``key``, the default, or ``dictionary``): whether a formulation written
    inside a longer one's match counts under both (see :func:`slogan_matrix`).

    ``data``: a matrix of formulations (``corpus.dfm(lexicon=...)``), or a corpus,
    whose matrix is made with ``lexicon``, ``nested`` and ``include_duplicates``.
    """
    from policylex.choices import Pool, choose

    matrix = _formulations(data, lexicon, nested, progress, where, include_duplicates)
    lexicon = matrix.lexicon
    pool = pool and choose(Pool, pool, "pool").value
    if pool is None:
        counted, columns, title = matrix, COUNT_COLUMNS, "Formulations"
        chosen = [lexicon.resolve(s) for s in slogans] if slogans else None
        second = {entry.slogan: entry.category for entry in lexicon}  # the column after the name
        note = f"lexicon: {lexicon.origin}, {len(lexicon)} formulations"
    else:
        counted, left_out = pooled(matrix, pool)
        columns = tuple(c.format(pool=pool) for c in POOLED_COUNT_COLUMNS)
        title = f"Formulations by {pool}"
        second = {name: len(members) for name, members in lexicon.pools(pool).items()}
        unknown = [s for s in slogans or () if s not in second]
        if unknown:
            raise UsageError(f"{unknown[0]!r} is not a {pool} of the lexicon; choose from {', '.join(second)}")
        chosen = slogans or None
        note = (f"lexicon: {lexicon.origin}, {len(second)} {_plural(pool)} of {matrix.shape[1] - left_out} "
                f"formulations; {left_out} formulations in no {pool} left out")
    groups = counted.groups(by)
    occurrences = counted.group_sums(groups).toarray()
    documents = counted.group_sums(groups, docfreq=True).toarray()
    items = counted.features
    column = counted.feature_index()
    out, notes = [], []
    for g, name in enumerate(groups.labels):
        chars = int(groups.chars[g])
        n_docs = int(groups.documents[g])
        order = sorted(range(len(items)), key=lambda j: (-occurrences[g, j], -documents[g, j], items[j]))
        rank_of = {j: r for r, j in enumerate((j for j in order if occurrences[g, j] > 0), start=1)}
        if chosen is not None:
            shown = [column[s] for s in chosen]
        else:
            shown = [j for j in order if include_absent or occurrences[g, j] > 0][: top or None]
        for j in shown:
            item = items[j]
            n = int(occurrences[g, j])
            row = (rank_of.get(j), item, second[item], int(documents[g, j]), n,
                   round(n / chars * PER, 4) if chars else 0.0, round(int(documents[g, j]) / n_docs, 4))
            out.append(((name,) if by else ()) + row)
        notes.append((f"{name}: " if by else "") + f"{n_docs} documents, {chars} characters")
    notes.append(note + ("; a formulation inside a longer one counts under both (nested: key)" if nested == "key"
                         else "; only the longest match counts (nested: dictionary)"))
    return Table((("group",) if by else ()) + columns, out, title=title, notes=notes)


def _plural(pool: str) -> str:
    return {"family": "families", "category": "categories"}[pool]


# --- co-occurrence ------------------------------------------------------------------------

COOCCURRENCE_COLUMNS = ("slogan_a", "slogan_b", "joint", "count_a", "count_b", "units", "pmi", "npmi", "jaccard",
                        "ll")


def association(joint: int, count_a: int, count_b: int, units: int) -> tuple[float, float, float, float]:
    """PMI, normalised PMI, Jaccard and log-likelihood of two formulations sharing ``joint`` of ``units``.

    With p(a) = count_a / N, p(b) = count_b / N, p(ab) = joint / N:
    PMI = log2(p(ab) / (p(a) p(b))); NPMI = PMI / −log2 p(ab), 1 when the two
    always occur together in every unit; Jaccard = joint / (count_a + count_b − joint);
    LL = G² of the 2×2 table (joint, count_a − joint, count_b − joint, the rest),
    negative when the pair is rarer than independence predicts.
    """
    from policylex.measures import _g2_2x2

    pmi = math.log2(joint * units / (count_a * count_b))
    p_joint = joint / units
    npmi = 1.0 if p_joint == 1 else pmi / -math.log2(p_joint)
    jaccard = joint / (count_a + count_b - joint)
    a, b, c = joint, count_a - joint, count_b - joint
    ll = _g2_2x2(a, b, c, units - a - b - c)
    if joint * units < count_a * count_b:
        ll = -ll
    return pmi, npmi, jaccard, ll


def cooccurrence(
    data: FeatureMatrix | Corpus,
    *,
    lexicon: Lexicon | None = None,
    window: str = "doc",
    where: list[str] | None = None,
    include_duplicates: bool = False,
    min_count: int = 1,
    sort: str = "ll",
    top: int | None = None,
    pool: str | None = None,
    progress: Progress | None = None,
) -> Table:
    """Pairs of formulations found in the same document, paragraph or sentence (``window``).

    For each pair: ``joint`` (units holding both), ``count_a`` / ``count_b``
    (units holding each), ``units`` (all units of the selected documents, N),
    and :func:`association`'s measures.  Pairs with ``joint < min_count`` are
    left out; sorted by ``sort``, descending.  Only the pairs seen are counted,
    so memory grows with them, not with the square of the lexicon.

    With ``pool`` (``family`` or ``category``), pairs of families or categories:
    a unit holds a family when it holds any of its members, and formulations in
    no family are left out.  Two members of one family in a unit make no pair.

    ``data``: a matrix of formulations (its documents and lexicon; the units are
    read from the matches stored in its corpus), or a corpus.  The matches
    counted are the longest only, whatever the matrix's ``nested``: a
    formulation and the one written inside it would co-occur by construction.
    """
    from policylex.choices import AssociationSort, Pool, Window, choose

    pool = pool and choose(Pool, pool, "pool").value
    window = choose(Window, window, "window").value
    sort = choose(AssociationSort, sort, "sort").value
    matrix = _formulations(data, lexicon, "dictionary", progress, where, include_duplicates)
    corpus = matrix.corpus
    selected = set(matrix.documents.meta["id"][matrix.rows].tolist())
    units = _unit_count(corpus, selected, window)
    holders: dict[tuple, set[str]] = {}
    column = {"doc": "0", "paragraph": "paragraph", "sentence": "sentence"}[window]
    # Each formulation as the item counted: itself, or its family or category.
    item = {s: s for s in matrix.features} if pool is None else {
        s: name for name, members in matrix.lexicon.pools(pool).items() for s in members}
    for doc_id, unit, slogan in corpus.db.execute(f"SELECT doc_id, {column}, slogan FROM slogan_hits"):
        if doc_id in selected and slogan in item:
            holders.setdefault((doc_id, unit), set()).add(item[slogan])
    count: dict[str, int] = {}
    joint: dict[tuple[str, str], int] = {}
    for found in holders.values():
        ordered = sorted(found)
        for i, a in enumerate(ordered):
            count[a] = count.get(a, 0) + 1
            for b in ordered[i + 1:]:
                joint[(a, b)] = joint.get((a, b), 0) + 1
    out = []
    for (a, b), n in joint.items():
        if n >= min_count:
            pmi, npmi, jaccard, ll = association(n, count[a], count[b], units)
            out.append((a, b, n, count[a], count[b], units, round(pmi, 4), round(npmi, 4), round(jaccard, 4),
                        round(ll, 4)))
    key = COOCCURRENCE_COLUMNS.index(sort)
    out.sort(key=lambda r: (-r[key], -r[2], r[0], r[1]))
    found = "formulations" if pool is None else _plural(pool)
    notes = [f"{matrix.rows.size} documents, {units} {window} units, {len(count)} {found} found, {len(joint)} pairs seen"]
    title = f"Co-occurrence by {window}" + (f" of {_plural(pool)}" if pool else "")
    return Table(COOCCURRENCE_COLUMNS, out[: top or None], title=title, notes=notes)


def _unit_count(corpus: Corpus, selected: set[str], window: str) -> int:
    if window == "doc":
        return len(selected)
    column = "paragraphs" if window == "paragraph" else "sentences"
    return sum(n for doc_id, n in corpus.db.execute(f"SELECT doc_id, {column} FROM slogan_scans")
               if doc_id in selected)


# --- diffusion ---------------------------------------------------------------------------

TIMELINE_COLUMNS = ("slogan", "province", "province_code", "first_date", "first_doc", "last_date", "last_doc",
                    "documents", "occurrences", "undated")
YEARLY_COLUMNS = ("slogan", "year", "documents", "occurrences", "provinces")


def _diffusion_columns(matrix: FeatureMatrix, slogans: list[str] | None) -> list[int]:
    if slogans:
        index = matrix.feature_index()
        return [index[matrix.lexicon.resolve(s)] for s in slogans]
    found, _ = matrix.sums(docfreq=False)
    return [j for j in np.argsort(-found, kind="stable").tolist() if found[j] > 0]


def timeline(
    data: FeatureMatrix | Corpus,
    slogans: list[str] | None = None,
    *,
    lexicon: Lexicon | None = None,
    where: list[str] | None = None,
    include_duplicates: bool = False,
    per_year: bool = False,
    nested: str = "key",
    progress: Progress | None = None,
) -> Table:
    """Where and when each formulation appears: per province, its first and last dated document.

    Columns: ``slogan province province_code first_date first_doc last_date
    last_doc documents occurrences undated``.  Dates are the documents'
    (ISO 8601, as precise as the page was); documents whose year is unknown
    are counted (``undated``) but cannot be first or last.  Provinces are
    ordered by first appearance; without ``slogans``, every formulation found.

    With ``per_year``, counts per formulation and year instead:
    ``slogan year documents occurrences provinces`` (``unknown`` year last).
    ``data`` and ``nested`` as for :func:`count_slogans`.
    """
    matrix = _formulations(data, lexicon, nested, progress, where, include_duplicates)
    columns = _diffusion_columns(matrix, slogans)
    if per_year:
        return _yearly(matrix, columns)
    meta = matrix.documents.meta
    provinces = matrix.documents.group_labels("province")
    counts = matrix.counts.tocsc()
    out = []
    for j in columns:
        column = counts[:, j].toarray().ravel()
        per_province: dict[str, list[int]] = {}
        occurrences: dict[str, int] = {}
        for position in np.flatnonzero(column).tolist():
            i = int(matrix.rows[position])
            per_province.setdefault(provinces[i], []).append(i)
            occurrences[provinces[i]] = occurrences.get(provinces[i], 0) + int(column[position])
        lines = []
        for province, docs in per_province.items():
            dated = sorted((meta["date"][i], i) for i in docs if meta["year"][i])
            first = dated[0] if dated else ("", -1)
            last = dated[-1] if dated else ("", -1)
            lines.append((
                matrix.features[j], province, _province_code(meta, docs), first[0] or None,
                meta["name"][first[1]] if first[1] >= 0 else None, last[0] or None,
                meta["name"][last[1]] if last[1] >= 0 else None, len(docs), occurrences[province],
                len(docs) - len(dated)))
        lines.sort(key=lambda r: (r[3] is None, r[3] or "", r[1] == UNKNOWN, r[1]))
        out.extend(lines)
    return Table(TIMELINE_COLUMNS, out, title="Diffusion: first and last appearance per province")


def _province_code(meta, docs: list[int]) -> str | None:
    codes = {meta["province_code"][i] for i in docs} - {""}
    return codes.pop() if len(codes) == 1 else None


def _yearly(matrix: FeatureMatrix, columns: list[int]) -> Table:
    years = matrix.documents.group_labels("year")
    provinces = matrix.documents.group_labels("province")
    counts = matrix.counts.tocsc()
    out = []
    for j in columns:
        column = counts[:, j].toarray().ravel()
        per_year: dict[str, list[int]] = {}
        for position in np.flatnonzero(column).tolist():
            per_year.setdefault(years[matrix.rows[position]], []).append(position)
        for year in sorted(per_year, key=lambda y: (y == UNKNOWN, y)):
            positions = per_year[year]
            out.append((matrix.features[j], year, len(positions), int(column[positions].sum()),
                        len({provinces[matrix.rows[p]] for p in positions} - {UNKNOWN})))
    return Table(YEARLY_COLUMNS, out, title="Formulations per year")
