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
import json
import os
import re
import sqlite3
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from policylex.errors import UsageError
from policylex.dates import make_date
from policylex.files import corpus_files, read_option_file
from policylex.metadata import Metadata, extract, problems, site_body
from policylex.normalise import DEFAULT_VARIANT, VARIANTS, clean, normalise, normalise_newlines, opencc_backend
from policylex.parallel import default_workers, map_batches
from policylex.paths import PathMetadata, compile_pattern, date_in_name, from_path, parse_with_pattern
from policylex.places import resolve_region
from policylex.readers import (COLUMN_NAMES, READERS, ReadOptions, Skipped, SourceText, expand_paths, json_lines,
                               path_text, read_path, record_line)
from policylex.store import Corpus, json_dumps, now, pages

if TYPE_CHECKING:
    import numpy as np

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
    sidecars: list[str] = field(default_factory=list)  # folders' metadata tables, read as metadata
    warnings: list[Skipped] = field(default_factory=list)  # stated metadata that could not be used, once per file

    def summary(self) -> list[tuple[str, int]]:
        return [
            ("files seen", self.files),
            ("documents added", self.added),
            ("documents updated", self.updated),
            ("files and rows unchanged", self.unchanged),  # sources: two files may hold one document
            ("exact duplicates (recorded once)", self.duplicates),
            ("near-duplicates flagged", self.near_duplicates),
            ("read with undecodable bytes replaced", len(self.repaired)),
            ("metadata tables used", len(self.sidecars)),
            ("passed over (other types, hidden files)", len(self.passed_over)),
            ("skipped", len(self.failed)),
        ]

    @property
    def passed_over(self) -> list[Skipped]:
        """Files a folder held that no reader reads: said and logged, not a failure."""
        return [s for s in self.skipped if s.passed_over]

    @property
    def failed(self) -> list[Skipped]:
        """Files and rows that could not be read: ingest exits 1."""
        return [s for s in self.skipped if not s.passed_over]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


SIDECAR_NAMES = ("metadata", "meta", "index", "manifest", "catalog", "catalogue", "元数据", "目录")


@dataclass
class Sidecar:
    """Metadata rows keyed by the file each names: by path (relative to the sidecar's folder) or file name."""

    by_path: dict[str, dict[str, str]] = field(default_factory=dict)  # resolved absolute path → fields
    by_name: dict[str, dict[str, str]] = field(default_factory=dict)  # file name or stem → fields
    scope: Path | None = None  # a folder's metadata table speaks only of the files below its folder

    def __bool__(self) -> bool:
        return bool(self.by_path or self.by_name)

    def fields_for(self, source_path: str, root: str | None = None) -> dict[str, str]:
        path = Path(source_path)
        resolved = path.resolve()  # once: a sidecar is asked of every file of a run
        if self.scope is not None and not resolved.is_relative_to(self.scope):
            return {}
        if str(resolved) in self.by_path:
            return self.by_path[str(resolved)]
        for key in (source_path, path.name, path.stem):
            if key in self.by_name:
                return self.by_name[key]
        if root is not None:
            try:
                relative = resolved.relative_to(Path(root).resolve()).as_posix()
            except ValueError:
                relative = None
            if relative is not None and relative in self.by_name:
                return self.by_name[relative]
        return {}


def _sidecar_rows(path: Path, what: str) -> list[dict[str, str]]:
    """The rows of a CSV, TSV or JSON Lines metadata file."""
    try:
        text = read_option_file(path, what).decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UsageError(f"{what} {path} is not UTF-8: {error}") from None
    if path.suffix.lower() == ".jsonl":
        rows = []
        for number, row in json_lines(text):
            if isinstance(row, (json.JSONDecodeError, RecursionError)):
                raise UsageError(f"{what} {path}:{number}: malformed JSON ({getattr(row, 'msg', row)})")
            if isinstance(row, dict):
                rows.append({str(k): "" if v is None else str(v) for k, v in row.items()})
        return rows
    try:
        return list(csv.DictReader(io.StringIO(text, newline=""), delimiter="\t" if path.suffix.lower() == ".tsv" else ","))
    except csv.Error as error:
        raise UsageError(f"{what} {path} is not a well-formed table: {error}") from None


def _key_column(rows: list[dict[str, str]]) -> str | None:
    return next((k for k in rows[0] if k and k.strip().lower() in SIDECAR_KEYS), None) if rows else None


def load_sidecar(path: str | Path, *, files: Iterable[Path] = (), what: str = "--meta",
                 scoped: bool = False) -> Sidecar:
    """Metadata overrides keyed by file (column file/filename/path/name): by relative path or by file name.

    ``files`` are the files being ingested: a bare file name that names two of them
    is an error, since the row cannot say which it means.
    """
    path = Path(path)
    rows = _sidecar_rows(path, what)
    folder = path.resolve().parent
    sidecar = Sidecar(scope=folder if scoped else None)
    if scoped:
        files = [file for file in files if file.resolve().is_relative_to(folder)]
    if not rows:
        return sidecar
    key = _key_column(rows)
    if key is None:
        raise UsageError(f"{what} {path} needs a column naming the file ({', '.join(SIDECAR_KEYS[:4])})")
    by_name: dict[str, list[Path]] = {}
    for file in files:
        by_name.setdefault(file.name, []).append(file)
        by_name.setdefault(file.stem, []).append(file)
    for row in rows:
        name = (row.get(key) or "").strip()
        if not name:
            continue
        fields = {k.strip().lower(): v for k, v in row.items() if k and k != key and v not in (None, "")}
        candidate = (folder / name).resolve()
        if "/" in name or "\\" in name or candidate.is_file():
            sidecar.by_path[str(candidate)] = fields
            sidecar.by_name.setdefault(name, fields)
            continue
        matches = sorted({str(p) for p in by_name.get(name, [])})
        if len(matches) > 1:
            raise UsageError(f"{what} {path}: {name!r} names two files, {matches[0]} and {matches[1]}: "
                             "key it by relative path")
        sidecar.by_name[name] = fields
    return sidecar


@dataclass
class _FileIndex:
    """The files being ingested, resolved once and by name: asked of each table in a folder."""

    resolved: set[Path]
    by_name: dict[str, list[Path]]  # file name and stem → resolved paths

    @classmethod
    def of(cls, files: Iterable[Path]) -> "_FileIndex":
        index = cls(set(), {})
        for file in files:
            resolved = file.resolve()
            index.resolved.add(resolved)
            index.by_name.setdefault(file.name, []).append(resolved)
            index.by_name.setdefault(file.stem, []).append(resolved)
        return index

    def names_one_below(self, name: str, folder: Path, besides: Path) -> bool:
        """Whether ``name`` (a path relative to ``folder``, or a file name) is one of the files below ``folder``."""
        candidates = [p for p in self.by_name.get(name, ()) if p != besides]
        return (any(p.is_relative_to(folder) for p in candidates)
                or (candidate := (folder / name).resolve()) != besides and candidate in self.resolved)


def _table_columns(path: Path) -> list[str]:
    """A table's column names from its first line (a JSON Lines file's first record): no need to read it all."""
    with path.open("rb") as handle:
        head = handle.read(65_536)
    text = head.decode("utf-8-sig", errors="ignore")
    if path.suffix.lower() == ".jsonl":
        first = next((line for line in text.splitlines() if line.strip()), "")
        try:
            record = json.loads(first)
        except (json.JSONDecodeError, RecursionError):
            return []
        return [str(k) for k in record] if isinstance(record, dict) else []
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        return next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    except csv.Error:
        return []


def is_sidecar(path: Path, files: _FileIndex) -> bool:
    """Whether a table found in a folder is the folder's metadata rather than documents.

    It is when it has a column naming files, names at least one of the files being
    ingested, and either has no text column or is called metadata / index / manifest.
    Its header is read first: a table of documents is never read whole here.
    """
    if path.suffix.lower() not in (".csv", ".tsv", ".jsonl") or path.stat().st_size > MAX_SIDECAR_BYTES:
        return False
    try:
        columns = _table_columns(path)
    except OSError:
        return False
    lowered = {c.strip().lower() for c in columns if c}
    if not lowered & set(SIDECAR_KEYS):
        return False
    if path.stem.lower() not in SIDECAR_NAMES and lowered & set(COLUMN_NAMES["text"]):
        return False
    try:
        rows = _sidecar_rows(path, "metadata file")
    except UsageError:
        return False
    key = _key_column(rows)
    if key is None:
        return False
    folder, itself = path.resolve().parent, path.resolve()
    return any(files.names_one_below(name, folder, itself)
               for name in ((row.get(key) or "").strip() for row in rows[:1000]) if name)


MAX_SIDECAR_BYTES = 50 * 1024 * 1024


def sidecar_fields(sidecars: list[Sidecar], source_path: str, root: str | None) -> dict[str, str]:
    """A source's fields from every sidecar that names it; the later (``--meta``) wins."""
    fields: dict[str, str] = {}
    for sidecar in sidecars:
        fields |= sidecar.fields_for(source_path, root)
    return fields


def apply_path(meta: Metadata, found: PathMetadata) -> Metadata:
    """A path's date and region over the text's (see :mod:`policylex.paths` for the two strengths of date)."""
    if found.date is not None:
        precise = meta.date is not None and meta.date.year == found.date.year and (
            found.date.month is None or (meta.date.month == found.date.month and found.date.day is None))
        if not precise:
            meta = replace(meta, date=found.date, origin=meta.origin | {"date": "path"})
    elif found.year_hint is not None:
        if meta.date is None:
            meta = replace(meta, date=found.year_hint, origin=meta.origin | {"date": "path"})
        elif meta.date.year is None:
            filled = make_date(found.year_hint.year, meta.date.month, meta.date.day)
            if filled is not None:
                meta = replace(meta, date=filled, origin=meta.origin | {"date": "text+path"})
    if found.place is not None:
        meta = meta.within(found.place, "path")
    return meta


# What a text says of its own date that outranks a table's publication-date column: the
# column of a provincial report's export is the newspaper's date, days after delivery.
_DATES_OVER_COLUMNS = ("version", "signed", "delivered")
_TITLE_LIKE_NAME = re.compile(r"[\u4e00-\u9fff]{4,}")


def document_metadata(source: SourceText, sidecar: dict[str, str] | None = None, *,
                      cleaned: str | None = None, path_meta: PathMetadata | None = None,
                      date_column_named: bool = False) -> Metadata:
    """The text's metadata, then the path's, then the source's columns, then the sidecar's.

    An HTML page's date tag is the CMS's posting date (a repost's is years later than
    the document): it counts only where neither the page nor the path dates the document.
    Place names and labels are matched in simplified script: ``cleaned`` is
    ``clean(source.text, "t2s")`` if the caller has it.
    """
    if cleaned is None:
        cleaned = clean(source.text, "t2s")
    page_title = clean(source.fields["title"], "t2s") if source.fields.get("title") else None
    context = clean(source.page_text, "t2s") if source.page_text else ""
    if source.fields.get("url"):  # a site's address can say whose it is (.gov.tw)
        context += f"\nurl：{source.fields['url']}"
    # A plain text without a heading is often named after its title (….行政处罚信息公开表.txt).
    stem = Path(source.path).stem if source.reader == "text" else ""
    named = clean(stem, "t2s") if _TITLE_LIKE_NAME.search(stem) and date_in_name(stem) is None else None
    stated_source = clean(source.fields["source"], "t2s") if source.fields.get("source") else None
    meta = extract(cleaned, title=page_title, context=context, fallback_title=named, stated_source=stated_source)
    if path_meta:
        meta = apply_path(meta, path_meta)
    stated = {k: clean(v, "t2s") if k in ("title", "source") else v for k, v in source.fields.items()}
    text_dated = meta.date is not None and meta.date.year is not None and meta.origin.get("date") == "text"
    if source.reader == "html":
        # A page's tags are its CMS's: the date a repost went up, the site's name as source.
        if meta.date is not None and meta.date.year is not None:
            stated.pop("date", None)
        if meta.source:
            stated.pop("source", None)
    elif text_dated and meta.date_role in _DATES_OVER_COLUMNS and not date_column_named:
        stated.pop("date", None)
    meta = meta.override(stated, source.reader)
    if source.reader == "html" and meta.source:
        meta = replace(meta, source=site_body(meta.source))
    if not meta.province and meta.source and source.fields.get("source"):
        meta = meta.with_place(resolve_region(meta.source, "", None), source.reader)
    if sidecar:
        meta = meta.override(sidecar, "sidecar")
    return meta


@dataclass
class Prepared:
    """A source with everything that does not need the corpus worked out (see :func:`prepare`)."""

    source: SourceText
    fields_hash: str
    sidecar: dict[str, str]
    path_meta: PathMetadata | None = None
    warnings: list[str] = field(default_factory=list)  # stated fields that could not be used
    norm: str = ""  # empty: nothing left after removing page furniture
    norm_hash: str = ""
    meta: Metadata | None = None
    signature: np.ndarray | None = None
    unchanged: bool = False  # the corpus has this source already, as it is


def prepare(source: SourceText, sidecar: dict[str, str], variant: str, known: Callable | None = None,
            path_meta: PathMetadata | None = None) -> Prepared:
    """Clean, normalise, extract metadata and sign one source: the work that needs no corpus.

    ``known(path, record)`` gives the stored (raw_sha256, fields_hash) of a
    source, so that an unchanged one is not normalised again.
    """
    path_fields = path_meta and {"date": path_meta.date and path_meta.date.iso(), "place": path_meta.place and path_meta.place.name,
                                 "year": path_meta.year_hint and path_meta.year_hint.iso()}
    prepared = Prepared(source, _sha(json_dumps([source.fields, sidecar, path_fields or None])), sidecar, path_meta)
    if known is not None and known(source.path, source.record) == (source.raw_sha256, prepared.fields_hash):
        prepared.unchanged = True
        return prepared
    from policylex import dedup  # deferred, as numpy: a run with nothing to do needs neither (0.1 s)

    simplified = clean(source.text, "t2s")
    prepared.norm = normalise(source.text, variant, cleaned=simplified if variant == "t2s" else None)
    if prepared.norm:
        options = _job.get("read_options")
        prepared.meta = document_metadata(source, sidecar, cleaned=simplified, path_meta=path_meta,
                                          date_column_named=bool(options and options.date_column))
        prepared.warnings = problems(source.fields) + problems(sidecar or {})
        prepared.norm_hash = _sha(prepared.norm)
        prepared.signature = dedup.signature(prepared.norm)
    return prepared


class _Writer:
    """Row-level changes to the corpus for one ingest or renormalise run."""

    def __init__(self, corpus: Corpus, report: IngestReport):
        from policylex import dedup

        self.corpus, self.db, self.report = corpus, corpus.db, report
        self.bands = dedup.BandIndex(self.db)
        self.begin_batch()

    def begin_batch(self) -> None:
        """Call inside each batch's transaction: what was read before it may have changed since."""
        self.stamp = now()  # one time for a batch, which is written at one moment anyway
        self._next_seq: int | None = None
        self.bands.sync()

    def next_seq(self) -> int:
        if self._next_seq is None:
            self._next_seq = self.db.execute("SELECT coalesce(max(seq), 0) + 1 FROM documents").fetchone()[0]
        self._next_seq += 1
        return self._next_seq - 1

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
            prepared = prepare(source, prepared.sidecar, variant, path_meta=prepared.path_meta)
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
            (source.path, source.record, doc_id, source.reader, source.encoding, source.raw_sha256, fields_hash, self.stamp),
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
            norm_text=norm, norm_hash=norm_hash, norm_settings=norm_settings(variant), chars=len(norm),
            updated_at=self.stamp,
        )
        if update:
            assignments = ", ".join(f"{k} = :{k}" for k in values)
            self.db.execute(f"UPDATE documents SET {assignments} WHERE id = :id", values | {"id": doc_id})
        else:
            values |= dict(id=doc_id, added_at=values["updated_at"], seq=self.next_seq())
            self.db.execute(_insert_sql(tuple(values)), values)
        self.index_near_duplicates(doc_id, norm, signature, new=not update, seq=values.get("seq"))

    def _drop_if_orphaned(self, doc_id: str) -> None:
        if self.db.execute("SELECT 1 FROM sources WHERE doc_id = ?", (doc_id,)).fetchone():
            return
        dependants = [r[0] for r in self.db.execute(
            "SELECT id FROM documents WHERE near_duplicate_of = ? OR duplicate_of = ?", (doc_id, doc_id))]
        self.db.execute("UPDATE documents SET near_duplicate_of = NULL, near_duplicate_score = NULL "
                        "WHERE near_duplicate_of = ?", (doc_id,))
        self._release_duplicates(doc_id)
        self.bands.remove(self._seq(doc_id))
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

    def index_near_duplicates(self, doc_id: str, norm: str, sig: np.ndarray | None = None, *, new: bool = False,
                              seq: int | None = None) -> None:
        """Store the document's MinHash buckets and flag it (or a later twin) as a near-duplicate.

        Candidates share a bucket; those whose signatures agree too little to
        reach the Jaccard threshold are dropped before the exact check (see
        :func:`policylex.dedup.agree_enough`), so a formulaic corpus
        with many shared buckets does not compare every pair's texts.  A ``new``
        document has no index entries yet, and nothing refers to it.
        """
        from policylex import dedup

        if sig is None:
            sig = dedup.signature(norm)
        me = seq if seq is not None else self._seq(doc_id)
        if not new:
            self.db.execute("UPDATE documents SET near_duplicate_of = NULL, near_duplicate_score = NULL WHERE "
                            "near_duplicate_of = ?", (doc_id,))
            self.db.execute("UPDATE documents SET near_duplicate_of = NULL, near_duplicate_score = NULL WHERE id = ?",
                            (doc_id,))
            self.bands.remove(me)
        keys = self.bands.add(me, sig)
        mine = None
        for candidate in self.bands.candidates(me, sig, keys):
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

    def _seq(self, doc_id: str) -> int:
        return self.db.execute("SELECT seq FROM documents WHERE id = ?", (doc_id,)).fetchone()[0]


@lru_cache(maxsize=None)
def _insert_sql(columns: tuple[str, ...]) -> str:
    return f"INSERT INTO documents({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"


@lru_cache(maxsize=None)
def norm_settings(variant: str) -> str:
    """What ``documents.norm_settings`` holds for texts normalised with ``variant``."""
    return json_dumps({"variant": variant})


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


def _path_metadata(path: Path, root: str | None) -> PathMetadata | None:
    pattern = _job.get("path_pattern")
    if pattern is not None:
        found = parse_with_pattern(pattern, path_text(path))
        if found is not None:
            return found
    return from_path(path_text(path), root) if _job.get("read_paths", True) else None


def _prepare_path(item: tuple[Path, str | None] | tuple[Path, str | None, bytes]) -> list[Prepared | Skipped]:
    path, root, *shipped = item  # shipped: the file's bytes, sent by the client (policylex.cluster)
    out: list[Prepared | Skipped] = []
    path_meta = _path_metadata(path, root)
    for found in read_path(path, _job["read_options"], *shipped):
        if isinstance(found, Skipped):
            out.append(found)
            continue
        fields = sidecar_fields(_job["sidecars"], found.path, root)
        # A table's name dates the export, not each row: its rows take only its folder's region.
        row_meta = PathMetadata(place=path_meta.place) if path_meta and found.record else path_meta
        out.append(prepare(found, fields, _job["variant"], _known, row_meta))
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
    path_pattern: str | None = None,
    read_paths: bool = True,
) -> IngestReport:
    """Read files, folders (recursively) and ``-`` (paths on stdin) into the corpus.

    Metadata comes from the text, the path (``read_paths``; ``path_pattern`` states a
    collection's naming, see :func:`policylex.paths.compile_pattern`), the source's own
    columns or tags, a folder's metadata table (``metadata.csv`` beside the files, see
    :func:`is_sidecar`) and ``meta``, each winning over the one before.

    Unreadable files and rows are skipped, reported and logged; the rest goes in.
    Re-ingesting an unchanged file changes nothing; a changed file updates its
    document; a file whose normalised text is already in the corpus becomes one
    more source of that document.  ``workers`` processes (default: all cores)
    read and normalise; the result does not depend on their number.
    """
    pattern = compile_pattern(path_pattern) if path_pattern else None
    corpus.check_pages()
    report = IngestReport()
    paths: list[tuple[Path, str | None]] = []
    # A folder that holds the corpus: its own files are not input, nor worth a line each.
    own = {os.path.realpath(path) for path in corpus_files(corpus.path)}
    for given in inputs:
        folder = given != "-" and Path(given).is_dir()
        for item in expand_paths([given], stdin):
            if isinstance(item, Skipped) and item.passed_over and os.path.realpath(item.path) in own:
                continue
            if isinstance(item, Skipped):
                report.skipped.append(item)
                report.files += 1  # seen, and passed over with its reason
            else:
                # Path metadata is read below the folder the user named (its own name included).
                paths.append((item, given if folder else str(item.parent)))
    files = {path for path, _ in paths}
    tables = [path for path, _ in paths if path.suffix.lower() in (".csv", ".tsv", ".jsonl") and str(path.parent) != "."]
    index = _FileIndex.of(files) if tables else None
    found_sidecars = [path for path in tables if is_sidecar(path, index)]
    sidecars = [load_sidecar(path, files=files, what="metadata file", scoped=True) for path in found_sidecars]
    report.sidecars = [path_text(path) for path in found_sidecars]
    if found_sidecars:
        metadata_tables = set(found_sidecars)
        paths = [(path, root) for path, root in paths if path not in metadata_tables]
    if meta:
        sidecars.append(load_sidecar(meta, files=files))
    if not paths and not report.sidecars and all(s.passed_over for s in report.skipped):
        other = f"; {len(report.skipped)} files of other types passed over" if report.skipped else ""
        raise UsageError("no input files (supported: " + ", ".join(sorted(READERS)) + ")" + other)
    variant = corpus_variant(corpus)
    writer = _Writer(corpus, report)
    workers = 1 if len(paths) < SERIAL_BELOW else max(1, workers or default_workers())
    # Workers look at the corpus read-only to skip unchanged files; in this process the
    # writer's own check does (a second connection left open here would keep SQLite from
    # folding the WAL into the file when the corpus is closed).
    job = {"read_options": read_options, "sidecars": sidecars, "variant": variant, "path_pattern": pattern,
           "read_paths": read_paths, "corpus": str(corpus.path.resolve()) if workers > 1 else None}
    batches = (paths[start : start + BATCH_FILES] for start in range(0, len(paths), BATCH_FILES))
    logged, done = 0, 0
    warned: set[tuple[str, str]] = set()
    for _, results in map_batches(_prepare_path, batches, workers=workers, initializer=_init_job, initargs=(job,),
                                  chunksize=4):
        with corpus.transaction():
            writer.begin_batch()
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
                        item = prepare(source, item.sidecar, current, path_meta=item.path_meta)
                    writer.store(item, current)
                    for warning in item.warnings:  # once per file and field: a bad column is one mistake
                        if (source.path, warning.split(" ", 1)[0]) not in warned:
                            warned.add((source.path, warning.split(" ", 1)[0]))
                            report.warnings.append(Skipped(source.path, warning, record_line(source.record)))
                            corpus.log("ingest", "warning", warning, source.path, record_line(source.record))
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
    from policylex import dedup

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
    settings = norm_settings(variant)
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
