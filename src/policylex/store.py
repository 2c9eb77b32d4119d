"""The corpus store: one SQLite file, no server.

Tables (schema version 7; see README for how to open them with sqlite3 or pandas):

``documents``
    one row per distinct article: stable ``id``, ``seq`` (corpus order), metadata,
    the decoded raw text (never modified), the normalised text, and the duplicate
    flags.
``document_tokens``
    the tokens (space-separated) of each tokenised document, keyed by ``seq``,
    with their count, term counts, and the text hash and settings they were made
    from.  A table of their own because SQLite rewrites a whole row for any
    update: tokenising would rewrite every document's texts.  The view
    ``documents_with_tokens`` joins the two.
``sources``
    provenance: every file (or row of a table) that gave a document, with its
    reader, detected encoding, sha256 of the raw bytes and ingest time.  Two files
    with the same normalised text are two sources of one document.
``terms``
    the vocabulary of the tokens: ``document_tokens.term_counts`` holds each document's
    term ids then their counts (little-endian int32), so the document-term
    matrix is built by concatenation, not by recounting.
``signatures``
    the near-duplicate index: each document's MinHash signature (64 little-endian
    uint32, see :mod:`policylex.dedup`), by ``seq``; ingest computes the band
    keys from them in memory.
``log``
    every skipped file or row, with path, line and reason, and every run.
``slogan_lexicon``, ``slogan_scans``, ``slogan_hits``
    the lexicon of formulations last detected, which documents were scanned
    with it (and their paragraph and sentence counts), and every match with its
    character offsets, paragraph and sentence (see :mod:`policylex.slogans`).
``meta``
    schema version, the settings the texts were made with, and ``generation``,
    a counter that triggers raise whenever documents change (caches key on it).

Every write happens inside a transaction, so a crash or Ctrl-C leaves each batch
either wholly written or not at all.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from policylex.errors import CorpusError

SCHEMA_VERSION = 8
APPLICATION = "policylex"
DEFAULT_PATH = "policylex.db"
ENV_VAR = "POLICYLEX_CORPUS"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    title TEXT,
    date TEXT,
    year INTEGER,
    province TEXT,
    province_code TEXT,
    city TEXT,
    city_code TEXT,
    source TEXT,
    url TEXT,
    meta_origin TEXT NOT NULL DEFAULT '{}',
    raw_text TEXT NOT NULL,
    text TEXT,
    norm_text TEXT NOT NULL,
    norm_hash TEXT NOT NULL,
    norm_settings TEXT NOT NULL,
    chars INTEGER NOT NULL,
    duplicate_of TEXT REFERENCES documents(id),
    near_duplicate_of TEXT REFERENCES documents(id),
    near_duplicate_score REAL,
    added_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_norm_hash ON documents(norm_hash);
CREATE UNIQUE INDEX IF NOT EXISTS documents_seq ON documents(seq);
CREATE INDEX IF NOT EXISTS documents_duplicate_of ON documents(duplicate_of) WHERE duplicate_of IS NOT NULL;
CREATE INDEX IF NOT EXISTS documents_near_duplicate_of ON documents(near_duplicate_of)
    WHERE near_duplicate_of IS NOT NULL;
CREATE TABLE IF NOT EXISTS terms (id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS sources (
    path TEXT NOT NULL,
    record TEXT NOT NULL DEFAULT '',
    doc_id TEXT NOT NULL REFERENCES documents(id),
    reader TEXT NOT NULL,
    encoding TEXT NOT NULL,
    raw_sha256 TEXT NOT NULL,
    fields_hash TEXT NOT NULL,
    ingested_at TEXT NOT NULL,
    PRIMARY KEY (path, record)
);
CREATE INDEX IF NOT EXISTS sources_doc ON sources(doc_id);
CREATE TRIGGER IF NOT EXISTS documents_inserted AFTER INSERT ON documents
BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'; END;
CREATE TRIGGER IF NOT EXISTS documents_deleted AFTER DELETE ON documents
BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'; END;
CREATE TABLE IF NOT EXISTS log (
    id INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    command TEXT NOT NULL,
    level TEXT NOT NULL,
    path TEXT,
    line INTEGER,
    message TEXT NOT NULL
);
"""

def _statements(script: str) -> list[str]:
    """The statements of a script, a trigger (``BEGIN … END``) kept whole."""
    statements, pending = [], ""
    for part in script.split(";"):
        pending += part + ";"
        if "CREATE TRIGGER" in pending.upper() and not pending.rstrip(" \n;").upper().endswith("END"):
            continue
        if pending.strip(" \n;"):
            statements.append(pending.strip().rstrip(";"))
        pending = ""
    return statements


# Version 2: slogan detection results (see policylex.slogans), reused by every
# slogan and trend analysis until the document's text or the lexicon changes.
# Version 7: matches keyed by the document's seq, which grows with each document, so that a
# scan in corpus order appends to the table and its slogan index; keyed by the document's
# id (a hash, so random), each batch wrote all over both, and each match looked its
# document up by id for the foreign key (at 100,000 documents, 1.25 million matches: 20 s
# of the scan's writing; appended: the matches' part 9.5 -> 5.0 s).
# The key's columns come first: SQLite 3.40's quick_check reports NULLs in every NOT NULL
# column of a WITHOUT ROWID table whose key columns are declared after others.
HITS_TABLE = """CREATE TABLE IF NOT EXISTS slogan_hits (
    seq INTEGER NOT NULL REFERENCES documents(seq) ON DELETE CASCADE,
    start INTEGER NOT NULL,
    doc_id TEXT NOT NULL,
    stop INTEGER NOT NULL,
    slogan TEXT NOT NULL,
    matched TEXT NOT NULL,
    paragraph INTEGER NOT NULL,
    sentence INTEGER NOT NULL,
    PRIMARY KEY (seq, start)
) WITHOUT ROWID"""
HITS_BY_SEQ = [
    "ALTER TABLE slogan_hits RENAME TO slogan_hits_by_id",
    "DROP INDEX IF EXISTS slogan_hits_slogan",
    HITS_TABLE,
    "INSERT INTO slogan_hits SELECT d.seq, h.start, h.doc_id, h.stop, h.slogan, h.matched, h.paragraph, h.sentence "
    "FROM slogan_hits_by_id h JOIN documents d ON d.id = h.doc_id ORDER BY d.seq, h.start",
    "DROP TABLE slogan_hits_by_id",
    "CREATE INDEX IF NOT EXISTS slogan_hits_slogan ON slogan_hits(slogan)",
]

SLOGAN_TABLES = """
CREATE TABLE IF NOT EXISTS slogan_lexicon (
    slogan TEXT PRIMARY KEY,
    category TEXT NOT NULL,
    year INTEGER,
    variants TEXT NOT NULL,
    not_before TEXT NOT NULL,
    not_after TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS slogan_scans (
    doc_id TEXT PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    norm_hash TEXT NOT NULL,
    lexicon TEXT NOT NULL,
    paragraphs INTEGER NOT NULL,
    sentences INTEGER NOT NULL
);
""" + HITS_TABLE + """;
CREATE INDEX IF NOT EXISTS slogan_hits_slogan ON slogan_hits(slogan);
"""

# Version 3: term counts per document (filled by the next tokenise; until then the
# matrix is counted from the tokens), and the duplicate links indexed (ingest looked
# them up with a scan of every document for every document it added).
TERM_COUNTS = """
ALTER TABLE documents ADD COLUMN term_counts BLOB;
CREATE TABLE IF NOT EXISTS terms (id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE);
CREATE INDEX IF NOT EXISTS documents_duplicate_of ON documents(duplicate_of) WHERE duplicate_of IS NOT NULL;
CREATE INDEX IF NOT EXISTS documents_near_duplicate_of ON documents(near_duplicate_of)
    WHERE near_duplicate_of IS NOT NULL;
"""

# Version 4: tokens in a table of their own.  Tokenising wrote them into the document's
# row, and SQLite rewrites a whole row (raw and normalised text too) for any update: at
# 100,000 documents that was most of the tokenise command's time.  Small columns first:
# SQLite reads a row's columns in order, following its overflow pages to reach a late
# one, so the staleness check (hash and settings) and the matrix (term counts) read
# only a row's first page.
DOCUMENT_TOKENS = """
CREATE TABLE IF NOT EXISTS document_tokens (
    seq INTEGER PRIMARY KEY REFERENCES documents(seq) ON DELETE CASCADE,
    token_count INTEGER NOT NULL,
    tokens_norm_hash TEXT NOT NULL,
    tokens_settings TEXT NOT NULL,
    term_counts BLOB,  -- NULL for tokens of schema version 2: the next tokenise adds the counts
    tokens TEXT NOT NULL,
    pos TEXT
);
CREATE VIEW IF NOT EXISTS documents_with_tokens AS
    SELECT * FROM documents LEFT JOIN document_tokens USING (seq);
CREATE TRIGGER IF NOT EXISTS documents_changed AFTER UPDATE OF
    duplicate_of, near_duplicate_of, title, date, year, province, province_code,
    city, city_code, source, url, name, norm_text ON documents
BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'; END;
CREATE TRIGGER IF NOT EXISTS document_tokens_inserted AFTER INSERT ON document_tokens
BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'; END;
CREATE TRIGGER IF NOT EXISTS document_tokens_changed AFTER UPDATE ON document_tokens
BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'; END;
CREATE TRIGGER IF NOT EXISTS document_tokens_deleted AFTER DELETE ON document_tokens
BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'; END;
"""
TOKEN_COLUMNS = ("tokens", "pos", "token_count", "term_counts", "tokens_norm_hash", "tokens_settings")
MOVE_TOKENS = [
    "DROP TRIGGER IF EXISTS documents_changed",
    *_statements(DOCUMENT_TOKENS),
    f"INSERT INTO document_tokens(seq, {', '.join(TOKEN_COLUMNS)}) SELECT seq, {', '.join(TOKEN_COLUMNS)} "
    "FROM documents WHERE tokens IS NOT NULL AND token_count IS NOT NULL "
    "AND tokens_norm_hash IS NOT NULL AND tokens_settings IS NOT NULL",
    *(f"ALTER TABLE documents DROP COLUMN {column}" for column in TOKEN_COLUMNS),
]



# Version 6: the near-duplicate index keyed by ``seq``, which grows with each document, so
# that ingest appends to it: keyed by document id (a hash, so random) with the signature in
# the documents' row, each document was written at random places of four B-trees (at
# 100,000 documents most of the writer's time).  What the check reads of a candidate (id,
# flags) comes from an index, since those columns follow the texts in a row; with the text's
# hash, the same index answers tokenise's "what is stale?" (0.32 -> 0.10 s at 100k).  Signatures
# are multiply-add hashes since this version (see policylex.dedup): the upgrade computes
# them again from the normalised texts.
NEAR_DUPLICATES = """
CREATE TABLE IF NOT EXISTS signatures (seq INTEGER PRIMARY KEY, minhash BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS documents_candidate ON documents(seq, id, norm_hash, duplicate_of, near_duplicate_of);
"""


def _rebuild_near_duplicate_index(corpus: "Corpus") -> None:
    from policylex import dedup  # numpy: only for the upgrade

    dedup.rebuild_index(corpus.db)


SIGNATURES_BY_SEQ = [
    "DROP INDEX IF EXISTS documents_signature",
    "DROP TABLE IF EXISTS lsh",
    "ALTER TABLE documents DROP COLUMN minhash",
    *_statements(NEAR_DUPLICATES),
    _rebuild_near_duplicate_index,
]

# Version 8: no band keys in the corpus (table ``lsh``): ingest derives them from the
# signatures in memory (see policylex.dedup.BandIndex).  Written as rows, 16 a document at
# random places of a B-tree, and read back 16 lookups a document, they were most of the
# writer's time at 100,000 documents.
BANDS_IN_MEMORY = ["DROP TABLE IF EXISTS lsh"]

# Everything a new corpus file is made with (and what `policylex check` looks for).
FULL_SCHEMA = SCHEMA + SLOGAN_TABLES + DOCUMENT_TOKENS + NEAR_DUPLICATES

# How to bring a corpus of an older schema version up to date: version -> statements, or
# functions of the corpus.  Version 5's index (of the signatures in documents' rows) is
# superseded by version 6's.
MIGRATIONS = {1: _statements(SLOGAN_TABLES), 2: _statements(TERM_COUNTS), 3: MOVE_TOKENS, 4: [],
              5: SIGNATURES_BY_SEQ, 6: HITS_BY_SEQ, 7: BANDS_IN_MEMORY}


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def default_path() -> Path:
    return Path(os.environ.get(ENV_VAR) or DEFAULT_PATH)


class Corpus:
    """A corpus file.  Open with :meth:`open`; use as a context manager to close it."""

    def __init__(self, path: Path, connection: sqlite3.Connection, *, readonly: bool = False):
        self.path = path
        self.db = connection
        self.readonly = readonly
        self._upgrading: Callable[[int, int], None] | None = None

    # --- opening ------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike | None = None, *, create: bool = False,
             readonly: bool = False, upgrading: Callable[[int, int], None] | None = None) -> "Corpus":
        """Open a corpus; with ``create=True`` make a new one if the file does not exist.

        ``readonly=True`` opens the file read-only (SQLite's ``mode=ro``): every
        write then fails with a :class:`CorpusError`, as on a read-only file.
        A file of an older schema version is upgraded, ``upgrading(from, to)`` told
        first (at 100,000 documents, version 6's upgrade takes half a minute).
        """
        path = Path(path) if path is not None else default_path()
        exists = path.exists()
        if not exists and (not create or readonly):
            raise CorpusError(f"no corpus at {path}: run `policylex ingest PATH...` first")
        if exists:
            _check_is_sqlite(path)
        try:
            if readonly:
                db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None, timeout=60)
            else:
                db = sqlite3.connect(path, isolation_level=None, timeout=60)
        except sqlite3.Error as error:
            raise CorpusError(f"cannot open corpus {path}: {error}") from None
        db.row_factory = sqlite3.Row
        corpus = cls(path, db, readonly=readonly)
        corpus._upgrading = upgrading
        deadline = time.monotonic() + 60
        while True:
            try:
                corpus._prepare()
                return corpus
            except sqlite3.OperationalError as error:
                # While another process creates the file and turns on WAL, SQLite answers
                # "locked" at once instead of waiting: wait here as for any other lock.
                if "locked" in str(error) and time.monotonic() < deadline:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    time.sleep(0.05)
                    continue
                db.close()
                raise CorpusError(f"cannot read corpus {path}: {error}") from None
            except sqlite3.DatabaseError as error:  # damaged pages, or not a database after all
                db.close()
                raise CorpusError(f"cannot read corpus {path}: {error}") from None
            except CorpusError:
                db.close()
                raise

    def _prepare(self) -> None:
        """Set the connection up; make the schema in a new file; check (or upgrade) an existing one's."""
        db = self.db
        db.execute("PRAGMA busy_timeout = 60000")
        db.execute("PRAGMA foreign_keys = ON")
        # 64 MB of page cache (the default is 2 MB): ingest updates several indexes at
        # random places (ids and hashes), which thrash a small cache at 100k documents.
        db.execute("PRAGMA cache_size = -65536")
        # In WAL mode NORMAL syncs at checkpoints, not at every commit: a crash of the
        # program loses nothing and the file stays consistent; a power cut may undo the
        # last transactions (each whole).  FULL cost 70 ms a commit when ingesting.
        db.execute("PRAGMA synchronous = NORMAL")
        # Fold the WAL into the file every 64 MB instead of every 4 MB: each fold copies pages
        # written since the last one and syncs, in the writing command's own time (ingest's
        # main process: 0.30 -> 0.22 ms of CPU a document, 0.44 -> 0.25 ms of wall time).
        db.execute("PRAGMA wal_autocheckpoint = 16384")
        if not self._has_table("meta"):
            if self._holds_anything():
                raise CorpusError(f"{self.path} is an SQLite file but not a policylex corpus")
            if self.readonly:
                raise CorpusError(f"{self.path} is not a policylex corpus (an empty file)")
            self._create()
        self._check_schema()

    def _holds_anything(self) -> bool:
        """Whether an SQLite file without our schema holds something of its own: a table, a view, an index,
        pages, or a version number another program set.  Only a file that holds nothing becomes a corpus
        (a new one, or one another policylex process is making: its uncommitted schema is not seen)."""
        db = self.db
        return (db.execute("SELECT 1 FROM sqlite_master").fetchone() is not None
                or db.execute("PRAGMA page_count").fetchone()[0] > 1
                or db.execute("PRAGMA user_version").fetchone()[0] != 0
                or db.execute("PRAGMA application_id").fetchone()[0] != 0)

    def check_pages(self) -> None:
        """Refuse to write documents into damaged pages: SQLite's quick check, every page read once.

        About 1.5 ms per MB (2 s at 100,000 documents), so the commands that write
        documents (ingest, normalise, tokenise) run it, not every command that opens
        the corpus for writing.
        """
        problem = self.db.execute("PRAGMA quick_check(1)").fetchone()[0]
        if problem != "ok":
            # one line: SQLite heads its report with "*** in database main ***"
            problem = " ".join(line for line in problem.splitlines() if line.strip() and not line.startswith("***"))
            raise CorpusError(f"corpus {self.path} is damaged ({problem}); nothing was written: "
                              "`policylex check` tells what is wrong")

    def _has_table(self, name: str) -> bool:
        return self.db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() is not None

    def _create(self) -> None:
        # WAL lets analyses read a consistent snapshot while an ingest writes; it is
        # a property of the file, so it is set once, here.
        self.db.execute("PRAGMA journal_mode = WAL")
        # One script in one transaction: a new file holds the whole schema or none.
        # Every statement is conditional, so two processes creating the same new
        # corpus at once both succeed: the second, waiting for the first's lock,
        # finds everything there and adds nothing.
        self.db.executescript(
            f"BEGIN IMMEDIATE;\n{FULL_SCHEMA}\n"
            f"INSERT OR IGNORE INTO meta(key, value) VALUES ('application', '{APPLICATION}'), "
            f"('schema_version', '{SCHEMA_VERSION}'), ('created_at', '{now()}'), ('generation', '0'), "
            f"('corpus_id', '{uuid.uuid4().hex}');\n"
            "COMMIT;"
        )

    def _check_schema(self) -> None:
        application = self.get_meta("application")
        if application != APPLICATION:
            raise CorpusError(f"{self.path} is not a policylex corpus")
        version = self.get_meta("schema_version")
        if version in {str(v) for v in MIGRATIONS}:
            if self.readonly:
                raise CorpusError(f"corpus {self.path} has schema version {version}: run a command that writes "
                                  f"(`policylex tokenise`) once to upgrade it to version {SCHEMA_VERSION}")
            if self._upgrading is not None:
                self._upgrading(int(version), SCHEMA_VERSION)
            self._migrate(int(version))
            version = self.get_meta("schema_version")
        if version != str(SCHEMA_VERSION):
            raise CorpusError(
                f"corpus {self.path} has schema version {version}; this policylex reads version {SCHEMA_VERSION}"
            )

    def _migrate(self, version: int) -> None:
        """Add what later versions added; one transaction, so the file is upgraded wholly or not at all."""
        with self.transaction():
            while version in MIGRATIONS:
                for statement in MIGRATIONS[version]:
                    if callable(statement):
                        statement(self)
                    elif self._needed(statement):
                        self.db.execute(statement)
                version += 1
                self.set_meta("schema_version", str(version))

    def _needed(self, statement: str) -> bool:
        """False for an ``ALTER TABLE t ADD COLUMN c`` of a column the table has, or ``DROP COLUMN c`` of
        one it has not (SQLite has no IF [NOT] EXISTS for columns)."""
        words = statement.split()
        if [w.upper() for w in words[:2] + words[4:5]] != ["ALTER", "TABLE", "COLUMN"]:
            return True
        has = any(row[1] == words[5] for row in self.db.execute(f"PRAGMA table_info({words[2]})"))
        return has if words[3].upper() == "DROP" else not has

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Corpus":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- transactions and settings ------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any exception (Ctrl-C included)."""
        if self.db.in_transaction:
            yield self.db
            return
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise CorpusError(f"cannot write to corpus {self.path}: {error}") from None
        try:
            yield self.db
        except sqlite3.OperationalError as error:  # read-only file, full disk, lock timeout
            self._rollback()
            raise CorpusError(f"cannot write to corpus {self.path}: {error}; nothing of this batch was written") from None
        except BaseException:
            self._rollback()
            raise
        try:
            self.db.execute("COMMIT")
        except sqlite3.OperationalError as error:
            self._rollback()
            raise CorpusError(f"cannot write to corpus {self.path}: {error}; nothing of this batch was written") from None

    def _rollback(self) -> None:
        # SQLite rolls a transaction back by itself after some errors (a full disk,
        # an I/O error); a second ROLLBACK would then fail and hide the first error.
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    @contextmanager
    def snapshot(self) -> Iterator["Corpus"]:
        """Read the corpus as of one moment: every query inside sees the same state.

        In WAL mode a concurrent ingest or tokenise goes on writing meanwhile; its
        commits become visible only to the next snapshot.
        """
        if self.db.in_transaction:
            yield self
            return
        self.db.execute("BEGIN")
        self.db.execute("SELECT count(*) FROM meta").fetchone()  # the snapshot starts at the first read
        try:
            yield self
        finally:
            try:
                self.db.execute("COMMIT")
            except sqlite3.Error:
                self._rollback()

    def identity(self) -> str:
        """What tells this corpus from another one later made at the same path (caches key on it)."""
        return self.get_meta("corpus_id") or self.get_meta("created_at", "")

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                        (key, value))

    def log(self, command: str, level: str, message: str, path: str | None = None, line: int | None = None) -> None:
        self.db.execute("INSERT INTO log(time, command, level, path, line, message) VALUES (?, ?, ?, ?, ?, ?)",
                        (now(), command, level, path, line, message))

    # --- reading --------------------------------------------------------------

    def count(self, *, include_duplicates: bool = True) -> int:
        where = "" if include_duplicates else f" WHERE {COUNTED}"
        return self.db.execute(f"SELECT count(*) FROM documents{where}").fetchone()[0]

    def documents(self, *, include_duplicates: bool = True, columns: str = "*") -> Iterator[sqlite3.Row]:
        where = "" if include_duplicates else f" WHERE {COUNTED}"
        yield from self.db.execute(f"SELECT {columns} FROM documents_with_tokens{where} ORDER BY seq")

    def document(self, doc_id: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM documents_with_tokens WHERE id = ?", (doc_id,)).fetchone()

    def generation(self) -> int:
        """A counter that triggers raise on every change to documents, their tokens or metadata.

        Caches derived from the corpus (the document-term matrix) are keyed to it.
        """
        return int(self.get_meta("generation", "0"))

    def settings(self) -> dict[str, str]:
        return {row[0]: row[1] for row in self.db.execute("SELECT key, value FROM meta ORDER BY key")}

    # --- the pipeline, as methods for notebook users ------------------------------

    def ingest(self, inputs, **options):
        """Read files and folders into the corpus: see :func:`policylex.ingest.ingest`."""
        from policylex.ingest import ingest

        return ingest(self, inputs, **options)

    def normalise(self, **options):
        """Re-normalise every document: see :func:`policylex.ingest.renormalise`."""
        from policylex.ingest import renormalise

        return renormalise(self, **options)

    def tokenise(self, **options):
        """Tokenise documents whose text changed: see :func:`policylex.tokenise.tokenise_corpus`."""
        from policylex.tokenise import tokenise_corpus

        return tokenise_corpus(self, **options)

    def dfm(self, *, lexicon=None, include_duplicates: bool = False, nested: str = "key", progress=None):
        """The document-feature matrix (:class:`policylex.matrix.FeatureMatrix`): terms, or the ``lexicon``'s
        formulations (``"bundled"``, a lexicon file's path, or a Lexicon); duplicates left out unless asked."""
        from policylex.matrix import dfm

        return dfm(self, lexicon=lexicon, include_duplicates=include_duplicates, nested=nested, progress=progress)


# Documents the analyses count: not an exact or near duplicate of another.
COUNTED = "duplicate_of IS NULL AND near_duplicate_of IS NULL"
# Documents without tokens of their current text made with the corpus's tokeniser settings.
NOT_TOKENISED = ("(tokens IS NULL OR tokens_norm_hash IS NOT norm_hash "
                 "OR tokens_settings IS NOT (SELECT value FROM meta WHERE key = 'tokenise.settings'))")


def pages(db: sqlite3.Connection, query: str, params: dict, size: int) -> Iterator[list[sqlite3.Row]]:
    """The rows of ``query`` a page of ``size`` at a time, in ``seq`` order (keyset pagination).

    ``query`` selects ``seq`` and has ``seq > :last`` in its condition; it runs once
    a page, so memory stays flat however large the corpus, and no list of ids is kept.
    """
    last = 0
    while True:
        rows = db.execute(f"{query} ORDER BY seq LIMIT {size}", params | {"last": last}).fetchall()
        if not rows:
            return
        last = rows[-1]["seq"]
        yield rows


def _check_is_sqlite(path: Path) -> None:
    if path.is_dir():
        raise CorpusError(f"{path} is a folder, not a corpus file")
    try:
        with path.open("rb") as handle:
            header = handle.read(16)
    except OSError as error:
        raise CorpusError(f"cannot read corpus {path}: {error.strerror}") from None
    if header and header != b"SQLite format 3\x00":
        raise CorpusError(f"{path} is not a policylex corpus (not an SQLite file)")


def json_dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
