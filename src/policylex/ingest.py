"""The ingest pipeline: read, clean, extract metadata, normalise, de-duplicate, store.

:func:`ingest` adds files to a corpus; :func:`renormalise` rewrites every
document's normalised text with other settings.  Both write in batches, each
batch one transaction.  The work on each text (reading, decoding, cleaning,
script conversion, metadata, MinHash signature: :func:`prepare`) runs in worker
processes, in input order; the main process only compares with and writes to
the corpus, so the result is the same whatever the number of workers.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from policylex import dedup
from policylex.errors import UsageError
from policylex.files import corpus_files, read_option_file
from policylex.metadata import Metadata, extract, find_labelled_date, find_source
from policylex.normalise import DEFAULT_VARIANT, VARIANTS, clean, normalise, normalise_newlines, opencc_backend
from policylex.parallel import default_workers, map_batches
from policylex.readers import READERS, ReadOptions, Skipped, SourceText, expand_paths, read_path, record_line
from policylex.store import Corpus, json_dumps, now, pages

Progress = Callable[[int, int], None]
BATCH_FILES = 500
SERIAL_BELOW = 32  # fewer files than this are not worth starting processes for
SIDECAR_KEYS = ("file", "filename", "file_name", "path", "name", "文件", "文件名")


@dataclass
class IngestReport:
    files: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    near_duplicates: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    repaired: list[Skipped] = field(default_factory=list)  # read, with undecodable bytes as U+FFFD

    def summary(self) -> list[tuple[str, int]]:
        return [
            ("files seen", self.files),
            ("documents added", self.added),
            ("documents updated", self.updated),
            ("files and rows unchanged", self.unchanged),  # sources: two files may hold one document
            ("exact duplicates (recorded once)", self.duplicates),
            ("near-duplicates flagged", self.near_duplicates),
            ("read with undecodable bytes replaced", len(self.repaired)),
            ("skipped", len(self.skipped)),
        ]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_sidecar(path: str | Path) -> dict[str, dict[str, str]]:
    """Metadata overrides from a CSV keyed by file name (column file/filename/path/name)."""
    path = Path(path)
    try:
        text = read_option_file(path, "--meta").decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
    except (csv.Error, UnicodeDecodeError) as error:
        raise UsageError(f"--meta file {path} is not a UTF-8 CSV: {error}") from None
    if not rows:
        return {}
    key = next((k for k in rows[0] if k and k.strip().lower() in SIDECAR_KEYS), None)
    if key is None:
        raise UsageError(f"--meta file {path} needs a column naming the file ({', '.join(SIDECAR_KEYS[:4])})")
    return {row[key].strip(): {k.strip().lower(): v for k, v in row.items() if k and k != key} for row in rows if row.get(key)}


def _sidecar_for(sidecar: dict[str, dict[str, str]], source: SourceText) -> dict[str, str]:
    path = Path(source.path)
    for key in (source.path, str(path.resolve()), path.name, path.stem):
        if key in sidecar:
            return sidecar[key]
    return {}


def document_metadata(source: SourceText, sidecar: dict[str, str] | None = None, *,
                      cleaned: str | None = None) -> Metadata:
    """Extracted metadata, overridden by what the source states, overridden by the sidecar.

    Place names and labels are matched in simplified script: ``cleaned`` is
    ``clean(source.text, "t2s")`` if the caller has it.
    """
    if cleaned is None:
        cleaned = clean(source.text, "t2s")
    page_title = clean(source.fields["title"], "t2s") if source.fields.get("title") else None
    meta = extract(cleaned, title=page_title)
    if source.page_text:
        page_lines = [line for line in clean(source.page_text, "t2s").split("\n") if line.strip()]
        page_date = find_labelled_date(page_lines, whole=True)
        page_source = find_source(page_lines, None, whole=True)
        meta = meta.override({"date": page_date.iso() if page_date else None, "source": page_source}, "page")
    stated = {k: clean(v, "t2s") if k in ("title", "source") else v for k, v in source.fields.items()}
    meta = meta.override(stated, source.reader)
    if sidecar:
        meta = meta.override(sidecar, "sidecar")
    return meta


@dataclass
class Prepared:
    """A source with everything that does not need the corpus worked out (see :func:`prepare`)."""

    source: SourceText
    fields_hash: str
    sidecar: dict[str, str]
    norm: str = ""  # empty: nothing left after removing page furniture
    norm_hash: str = ""
    meta: Metadata | None = None
    signature: np.ndarray | None = None
    unchanged: bool = False  # the corpus has this source already, as it is


def prepare(source: SourceText, sidecar: dict[str, str], variant: str, known: Callable | None = None) -> Prepared:
    """Clean, normalise, extract metadata and sign one source: the work that needs no corpus.

    ``known(path, record)`` gives the stored (raw_sha256, fields_hash) of a
    source, so that an unchanged one is not normalised again.
    """
    prepared = Prepared(source, _sha(json_dumps([source.fields, sidecar])), sidecar)
    if known is not None and known(source.path, source.record) == (source.raw_sha256, prepared.fields_hash):
        prepared.unchanged = True
        return prepared
    simplified = clean(source.text, "t2s")
    prepared.norm = normalise(source.text, variant, cleaned=simplified if variant == "t2s" else None)
    if prepared.norm:
        prepared.meta = document_metadata(source, sidecar, cleaned=simplified)
        prepared.norm_hash = _sha(prepared.norm)
        prepared.signature = dedup.signature(prepared.norm)
    return prepared


class _Writer:
    """Row-level changes to the corpus for one ingest or renormalise run."""

    def __init__(self, corpus: Corpus, report: IngestReport):
        self.corpus, self.db, self.report = corpus, corpus.db, report

    def next_seq(self) -> int:
        return self.db.execute("SELECT coalesce(max(seq), 0) + 1 FROM documents").fetchone()[0]

    def new_id(self, raw_text: str) -> str:
        digest = _sha(raw_text)
        for length in (16, 24, 32, 64):
            if self.db.execute("SELECT 1 FROM documents WHERE id = ?", (digest[:length],)).fetchone() is None:
                return digest[:length]
        raise RuntimeError("sha256 collision")  # pragma: no cover

    def store(self, prepared: Prepared, variant: str) -> None:
        source = prepared.source
        fields_hash = prepared.fields_hash
        existing = self.db.execute(
            "SELECT s.doc_id, s.raw_sha256, s.fields_hash, d.norm_hash FROM sources s JOIN documents d "
            "ON d.id = s.doc_id WHERE s.path = ? AND s.record = ?",
            (source.path, source.record),
        ).fetchone()
        if existing and existing["raw_sha256"] == source.raw_sha256 and existing["fields_hash"] == fields_hash:
            self.report.unchanged += 1
            return
        if prepared.unchanged:  # the worker's snapshot was older than this run's own writes: do the work now
            prepared = prepare(source, prepared.sidecar, variant)
        norm, meta, norm_hash = prepared.norm, prepared.meta, prepared.norm_hash
        if not norm:
            self.report.skipped.append(Skipped(source.path, "no text left after removing page furniture"))
            return
        old_doc = existing["doc_id"] if existing else None
        # Same text, new metadata: the same document, even when other files share it
        # (a new document would count the text twice).
        same_text = existing is not None and existing["norm_hash"] == norm_hash
        twin = None if same_text else self.db.execute(
            "SELECT id FROM documents WHERE norm_hash = ? AND id IS NOT ? ORDER BY seq LIMIT 1", (norm_hash, old_doc)
        ).fetchone()
        if twin is not None:
            doc_id = twin["id"]
            self.report.duplicates += 1
        elif old_doc and (same_text or self._only_source(old_doc, source)):
            doc_id = old_doc
            self._write_document(doc_id, source, meta, norm, norm_hash, variant, update=True,
                                 signature=prepared.signature)
            if not same_text:  # no other document has this text (no twin): not a duplicate, nor original of one
                self.db.execute("UPDATE documents SET duplicate_of = NULL WHERE id = ?", (doc_id,))
                self._release_duplicates(doc_id)
            self.report.updated += 1
        else:
            doc_id = self.new_id(source.raw_text)
            self._write_document(doc_id, source, meta, norm, norm_hash, variant, update=False,
                                 signature=prepared.signature)
            if existing:
                self.report.updated += 1
            else:
                self.report.added += 1
        self.db.execute(
            "INSERT INTO sources(path, record, doc_id, reader, encoding, raw_sha256, fields_hash, ingested_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path, record) DO UPDATE SET doc_id = excluded.doc_id, "
            "reader = excluded.reader, encoding = excluded.encoding, raw_sha256 = excluded.raw_sha256, "
            "fields_hash = excluded.fields_hash, ingested_at = excluded.ingested_at",
            (source.path, source.record, doc_id, source.reader, source.encoding, source.raw_sha256, fields_hash, now()),
        )
        if old_doc and old_doc != doc_id:
            self._drop_if_orphaned(old_doc)

    def _only_source(self, doc_id: str, source: SourceText) -> bool:
        others = self.db.execute(
            "SELECT count(*) FROM sources WHERE doc_id = ? AND NOT (path = ? AND record = ?)",
            (doc_id, source.path, source.record),
        ).fetchone()[0]
        return others == 0

    def _write_document(self, doc_id, source, meta: Metadata, norm, norm_hash, variant, *, update: bool,
                        signature: np.ndarray | None = None) -> None:
        values = dict(
            name=source.name, title=meta.title, date=meta.date.iso() if meta.date else None, year=meta.year,
            province=meta.province, province_code=meta.province_code, city=meta.city, city_code=meta.city_code,
            source=meta.source, url=meta.url, meta_origin=json_dumps(meta.origin), raw_text=source.raw_text,
            text=None if source.text == normalise_newlines(source.raw_text) else source.text,
            norm_text=norm, norm_hash=norm_hash, norm_settings=json_dumps({"variant": variant}), chars=len(norm),
            updated_at=now(),
        )
        if update:
            assignments = ", ".join(f"{k} = :{k}" for k in values)
            self.db.execute(f"UPDATE documents SET {assignments} WHERE id = :id", values | {"id": doc_id})
        else:
            if signature is None:
                signature = dedup.signature(norm)
            values |= dict(id=doc_id, added_at=values["updated_at"], seq=self.next_seq(), minhash=signature.tobytes())
            columns = ", ".join(values)
            self.db.execute(f"INSERT INTO documents({columns}) VALUES ({', '.join(':' + k for k in values)})", values)
        self.index_near_duplicates(doc_id, norm, signature, new=not update)

    def _drop_if_orphaned(self, doc_id: str) -> None:
        if self.db.execute("SELECT 1 FROM sources WHERE doc_id = ?", (doc_id,)).fetchone():
            return
        dependants = [r[0] for r in self.db.execute(
            "SELECT id FROM documents WHERE near_duplicate_of = ? OR duplicate_of = ?", (doc_id, doc_id))]
        self.db.execute("UPDATE documents SET near_duplicate_of = NULL, near_duplicate_score = NULL "
                        "WHERE near_duplicate_of = ?", (doc_id,))
        self._release_duplicates(doc_id)
        self.db.execute("DELETE FROM lsh WHERE doc_id = ?", (doc_id,))
        self.db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
        for dependant in dependants:
            row = self.corpus.document(dependant)
            self.index_near_duplicates(dependant, row["norm_text"])

    def _release_duplicates(self, doc_id: str) -> None:
        """The exact duplicates of a document that is gone or has another text now: the earliest is their original.

        Setting them all free would count their one text several times.
        """
        dependants = [r[0] for r in self.db.execute(
            "SELECT id FROM documents WHERE duplicate_of = ? ORDER BY seq", (doc_id,))]
        if dependants:
            self.db.execute("UPDATE documents SET duplicate_of = NULL WHERE id = ?", (dependants[0],))
            self.db.execute("UPDATE documents SET duplicate_of = ? WHERE duplicate_of = ?", (dependants[0], doc_id))

    def index_near_duplicates(self, doc_id: str, norm: str, sig: np.ndarray | None = None, *, new: bool = False) -> None:
        """Store the document's MinHash buckets and flag it (or a later twin) as a near-duplicate.

        Candidates share a bucket; those whose signatures agree too little to
        reach the Jaccard threshold are dropped before the exact check (see
        :func:`policylex.dedup.may_be_near_duplicate`), so a formulaic corpus
        with many shared buckets does not compare every pair's texts.  A ``new``
        document was inserted with its signature, and nothing refers to it yet.
        """
        if sig is None:
            sig = dedup.signature(norm)
        keys = dedup.band_keys(sig)
        if not new:
            self.db.execute("UPDATE documents SET near_duplicate_of = NULL, near_duplicate_score = NULL WHERE "
                            "near_duplicate_of = ?", (doc_id,))
            self.db.execute("DELETE FROM lsh WHERE doc_id = ?", (doc_id,))
            self.db.execute("UPDATE documents SET minhash = ?, near_duplicate_of = NULL, near_duplicate_score = NULL "
                            "WHERE id = ?", (sig.tobytes(), doc_id))
        self.db.executemany("INSERT OR IGNORE INTO lsh(band, bucket, doc_id) VALUES (?, ?, ?)",
                            [(band, key, doc_id) for band, key in enumerate(keys)])
        placeholders = " OR ".join("(band = ? AND bucket = ?)" for _ in keys)
        params = [v for pair in enumerate(keys) for v in pair]
        candidates = self.db.execute(
            f"SELECT d.id, d.seq, d.minhash, d.near_duplicate_of, d.duplicate_of FROM documents d WHERE d.id IN "
            f"(SELECT doc_id FROM lsh WHERE {placeholders}) AND d.id != ? ORDER BY d.seq",
            params + [doc_id],
        ).fetchall()
        if not candidates:
            return
        me = self.db.execute("SELECT seq FROM documents WHERE id = ?", (doc_id,)).fetchone()["seq"]
        mine = None
        for candidate in candidates:
            if candidate["duplicate_of"] or candidate["near_duplicate_of"]:
                continue
            if candidate["minhash"] is not None and not dedup.may_be_near_duplicate(
                    sig, np.frombuffer(candidate["minhash"], dtype=np.uint32)):
                continue
            if mine is None:
                mine = dedup.shingles(norm)
            text = self.db.execute("SELECT norm_text FROM documents WHERE id = ?", (candidate["id"],)).fetchone()[0]
            similar, score = dedup.is_near_duplicate_shingles(mine, dedup.shingles(text))
            if not similar:
                continue
            if candidate["seq"] < me:
                self.db.execute("UPDATE documents SET near_duplicate_of = ?, near_duplicate_score = ? WHERE id = ?",
                                (candidate["id"], round(score, 4), doc_id))
                self.report.near_duplicates += 1
                return
            self.db.execute("UPDATE documents SET near_duplicate_of = ?, near_duplicate_score = ? WHERE id = ?",
                            (doc_id, round(score, 4), candidate["id"]))
            self.report.near_duplicates += 1


def corpus_variant(corpus: Corpus) -> str:
    return corpus.get_meta("normalise.variant") or DEFAULT_VARIANT


# --- the work in worker processes ----------------------------------------------------------

_job: dict = {}


def _init_job(job: dict) -> None:
    """Per worker: the run's settings, and a read-only view of the corpus to skip unchanged sources."""
    _job.clear()
    _job.update(job)
    _job["db"] = None
    if job.get("corpus"):
        try:
            _job["db"] = sqlite3.connect(f"file:{job['corpus']}?mode=ro", uri=True, timeout=60)
        except sqlite3.Error:
            pass  # the main process checks every source again anyway


def _known(path: str, record: str) -> tuple[str, str] | None:
    db = _job.get("db")
    if db is None:
        return None
    try:
        row = db.execute("SELECT raw_sha256, fields_hash FROM sources WHERE path = ? AND record = ?",
                         (path, record)).fetchone()
    except sqlite3.Error:
        return None
    return tuple(row) if row else None


def _prepare_path(path: Path) -> list[Prepared | Skipped]:
    out: list[Prepared | Skipped] = []
    for item in read_path(path, _job["read_options"]):
        if isinstance(item, Skipped):
            out.append(item)
        else:
            out.append(prepare(item, _sidecar_for(_job["sidecar"], item), _job["variant"], _known))
    return out


def _repaired(corpus: Corpus, report: IngestReport, repaired: Skipped) -> None:
    report.repaired.append(repaired)
    corpus.log("ingest", "repaired", repaired.reason, repaired.path, repaired.line)


def ingest(
    corpus: Corpus,
    inputs: Iterable[str],
    *,
    read_options: ReadOptions | None = None,
    meta: str | Path | None = None,
    stdin=None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> IngestReport:
    """Read files, folders (recursively) and ``-`` (paths on stdin) into the corpus.

    Unreadable files and rows are skipped, reported and logged; the rest goes in.
    Re-ingesting an unchanged file changes nothing; a changed file updates its
    document; a file whose normalised text is already in the corpus becomes one
    more source of that document.  ``workers`` processes (default: all cores)
    read and normalise; the result does not depend on their number.
    """
    sidecar = load_sidecar(meta) if meta else {}
    corpus.check_pages()
    report = IngestReport()
    paths: list[Path] = []
    # A folder that holds the corpus: its own files are not input, nor worth a line each.
    own = {os.path.realpath(path) for path in corpus_files(corpus.path)}
    for item in expand_paths(inputs, stdin):
        if isinstance(item, Skipped) and item.passed_over and os.path.realpath(item.path) in own:
            continue
        if isinstance(item, Skipped):
            report.skipped.append(item)
            report.files += 1  # seen, and passed over with its reason
        else:
            paths.append(item)
    if not paths and all(s.passed_over for s in report.skipped):
        other = f"; {len(report.skipped)} files of other types passed over" if report.skipped else ""
        raise UsageError("no input files (supported: " + ", ".join(sorted(READERS)) + ")" + other)
    variant = corpus_variant(corpus)
    writer = _Writer(corpus, report)
    workers = 1 if len(paths) < SERIAL_BELOW else max(1, workers or default_workers())
    # Workers look at the corpus read-only to skip unchanged files; in this process the
    # writer's own check does (a second connection left open here would keep SQLite from
    # folding the WAL into the file when the corpus is closed).
    job = {"read_options": read_options, "sidecar": sidecar, "variant": variant,
           "corpus": str(corpus.path.resolve()) if workers > 1 else None}
    batches = (paths[start : start + BATCH_FILES] for start in range(0, len(paths), BATCH_FILES))
    logged, done = 0, 0
    for _, results in map_batches(_prepare_path, batches, workers=workers, initializer=_init_job, initargs=(job,),
                                  chunksize=4):
        with corpus.transaction():
            # Read again under the write lock: a `normalise --variant` may have run since the
            # workers started, and this batch must be stored as the corpus is normalised now.
            current = corpus_variant(corpus)
            if corpus.get_meta("normalise.variant") is None:
                corpus.set_meta("normalise.variant", current)
                corpus.set_meta("normalise.opencc", opencc_backend())
            for items in results:
                report.files += 1
                done += 1
                for item in items:
                    if isinstance(item, Skipped):
                        report.skipped.append(item)
                        continue
                    source = item.source
                    if source.replaced and (not report.repaired or report.repaired[-1].path != source.path):
                        _repaired(corpus, report, Skipped(source.path, f"{source.replaced} undecodable byte "
                                                          f"sequences read as U+FFFD ({source.encoding})"))
                    if source.surrogates:
                        line = record_line(source.record)
                        _repaired(corpus, report, Skipped(
                            source.path, f"{'' if line else source.record + ': '}{source.surrogates} lone UTF-16 "
                            "surrogates (\\ud800-\\udfff) read as U+FFFD", line))
                    if current != variant and not item.unchanged:  # normalised with the old variant: again, here
                        item = prepare(source, item.sidecar, current)
                    writer.store(item, current)
                if progress:
                    progress(done, len(paths))
            for skipped in report.skipped[logged:]:
                corpus.log("ingest", "skipped", skipped.reason, skipped.path, skipped.line)
            logged = len(report.skipped)
    with corpus.transaction():
        for skipped in report.skipped[logged:]:
            corpus.log("ingest", "skipped", skipped.reason, skipped.path, skipped.line)
        corpus.log("ingest", "info", "; ".join(f"{k}: {v}" for k, v in report.summary()))
    return report


@dataclass
class NormaliseReport:
    documents: int = 0
    changed: int = 0
    duplicates: int = 0
    variant: str = DEFAULT_VARIANT

    def summary(self) -> list[tuple[str, object]]:
        return [("variant", self.variant), ("documents", self.documents), ("normalised text changed", self.changed),
                ("exact duplicates", self.duplicates)]


def _renormalise_one(item: tuple[str, str, str, str]) -> tuple[str, np.ndarray | None]:
    """(new normalised text, its signature if it changed) for (id, source text, normalised text, settings)."""
    _, source_text, current, _ = item
    norm = normalise(source_text, _job["variant"]) or current
    return norm, (dedup.signature(norm) if norm != current else None)


def renormalise(corpus: Corpus, *, variant: str | None = None, progress: Progress | None = None,
                batch_size: int = 500, workers: int | None = None) -> NormaliseReport:
    """Rewrite every document's normalised text (script variant, pinyin, boilerplate), all or nothing.

    Documents whose normalised text becomes identical are marked exact duplicates
    of the earliest one; near-duplicates are re-checked for changed documents.
    ``workers`` processes (default: all cores) normalise; the result does not
    depend on their number.
    """
    variant = variant or corpus_variant(corpus)
    if variant not in VARIANTS:
        raise UsageError(f"unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    corpus.check_pages()
    report = NormaliseReport(variant=variant)
    total = corpus.count()
    settings = json_dumps({"variant": variant})
    workers = 1 if total < SERIAL_BELOW else max(1, workers or default_workers())

    def batches():
        """(id, source text, normalised text, settings) in ``seq`` order, a batch at a time."""
        query = "SELECT id, seq, text, raw_text, norm_text, norm_settings FROM documents WHERE seq > :last"
        for rows in pages(corpus.db, query, {}, batch_size):
            yield [(r["id"], r["text"] if r["text"] is not None else normalise_newlines(r["raw_text"]),
                    r["norm_text"], r["norm_settings"]) for r in rows]

    # One transaction for the whole run: a corpus half in one script variant and half
    # in another, with duplicate flags from before, would be counted wrongly by every
    # analysis. Killed or interrupted, the run leaves the corpus as it was.  The workers
    # normalise the next batch while one is written.
    with corpus.transaction():
        writer = _Writer(corpus, IngestReport())
        for batch, results in map_batches(_renormalise_one, batches(), workers=workers, initializer=_init_job,
                                          initargs=({"variant": variant},)):
            for (doc_id, _, current, current_settings), (norm, signature) in zip(batch, results):
                report.documents += 1
                if norm == current and current_settings == settings:
                    continue
                if norm != current:
                    report.changed += 1
                corpus.db.execute(
                    "UPDATE documents SET norm_text = ?, norm_hash = ?, norm_settings = ?, chars = ?, updated_at = ? "
                    "WHERE id = ?", (norm, _sha(norm), settings, len(norm), now(), doc_id))
                if norm != current:
                    writer.index_near_duplicates(doc_id, norm, signature)
            if progress:
                progress(report.documents, total)
        corpus.db.execute("UPDATE documents SET duplicate_of = NULL WHERE duplicate_of IS NOT NULL")
        corpus.db.execute(
            "UPDATE documents SET duplicate_of = (SELECT f.id FROM documents f WHERE f.norm_hash = documents.norm_hash "
            "ORDER BY f.seq LIMIT 1) WHERE seq > (SELECT min(f.seq) FROM documents f WHERE f.norm_hash = documents.norm_hash)"
        )
        report.duplicates = corpus.db.execute("SELECT count(*) FROM documents WHERE duplicate_of IS NOT NULL").fetchone()[0]
        corpus.set_meta("normalise.variant", variant)
        corpus.set_meta("normalise.opencc", opencc_backend())
        corpus.log("normalise", "info", "; ".join(f"{k}: {v}" for k, v in report.summary()))
    return report
