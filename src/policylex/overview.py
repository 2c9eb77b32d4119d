"""What is in a corpus: the summary (``info``), one row per document (``docs``), and ``export``."""

from __future__ import annotations

from collections import Counter
from typing import Iterator

from policylex.output import Table
from policylex.store import COUNTED, NOT_TOKENISED, Corpus

DOC_COLUMNS = ("id", "name", "title", "date", "year", "province", "city", "source", "url", "chars", "tokens",
               "duplicate_of", "near_duplicate_of", "path")

EXPORT_COLUMNS = (
    "id", "name", "title", "date", "year", "province", "province_code", "city", "city_code", "source", "url",
    "path", "reader", "encoding", "raw_sha256", "duplicate_of", "near_duplicate_of", "chars", "token_count",
    "text", "tokens",
)
"""The export's stable column set; ``text`` is the normalised text, ``tokens`` space-separated."""


def _distribution(counter: Counter, limit: int = 12) -> str:
    items = sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))
    shown = "; ".join(f"{k if k is not None else 'unknown'}: {v}" for k, v in items[:limit])
    return shown + (f"; … {len(items) - limit} more" if len(items) > limit else "")


def not_tokenised(corpus: Corpus) -> int:
    """Counted documents without tokens of their current text made with the corpus's tokeniser settings.

    The analyses count the tokens that are there: after an ingest, a normalise or an
    interrupted tokenise these documents are missing or counted by their old tokens.
    Every analysis asks, so the count is kept in the matrix cache for the corpus
    state it was built from; counting reads every document's row (0.4 s at 100k).
    """
    from policylex.matrix import cached_not_tokenised

    cached = cached_not_tokenised(corpus)
    if cached is not None:
        return cached
    return corpus.db.execute(f"SELECT count(*) FROM documents_with_tokens WHERE {COUNTED} AND {NOT_TOKENISED}").fetchone()[0]


def corpus_info(corpus: Corpus) -> Table:
    """Documents, characters, tokens, years, regions, duplicates and skipped files."""
    from policylex.tokenise import describe_settings

    db = corpus.db
    total = corpus.count()
    counted = corpus.count(include_duplicates=False)
    sources = db.execute("SELECT count(*) FROM sources").fetchone()[0]
    chars, tokens = db.execute(
        f"SELECT coalesce(sum(chars), 0), coalesce(sum(token_count), 0) FROM documents_with_tokens WHERE {COUNTED}").fetchone()
    untokenised = not_tokenised(corpus)
    years = Counter(r[0] for r in db.execute(f"SELECT year FROM documents WHERE {COUNTED}"))
    provinces = Counter(r[0] for r in db.execute(f"SELECT province FROM documents WHERE {COUNTED}"))
    near = db.execute("SELECT count(*) FROM documents WHERE near_duplicate_of IS NOT NULL").fetchone()[0]
    exact = db.execute("SELECT count(*) FROM documents WHERE duplicate_of IS NOT NULL").fetchone()[0]
    skipped = db.execute("SELECT count(DISTINCT path || ':' || coalesce(line, '')) FROM log WHERE level = 'skipped'").fetchone()[0]
    rows = [
        ("corpus", str(corpus.path)),
        ("documents", total),
        ("documents counted (duplicates left out)", counted),
        ("source files and rows", sources),
        ("exact duplicates (extra sources of one document)", sources - total + exact),
        ("near-duplicates flagged", near),
        ("characters", chars),
        ("tokens", tokens),
        ("documents not yet tokenised", untokenised),
        ("years", _distribution(years)),
        ("provinces", _distribution(provinces)),
        ("skipped files and rows (see `policylex log`)", skipped),
        ("script variant", corpus.get_meta("normalise.variant", "")),
        ("OpenCC", corpus.get_meta("normalise.opencc", "")),
        ("tokeniser", describe_settings(corpus.get_meta("tokenise.settings"))),
    ]
    return Table(("field", "value"), rows, title="Corpus")


HASHED_COLUMNS = ("id", "norm_hash", "date", "year", "province", "city", "source", "duplicate_of",
                  "near_duplicate_of")


def corpus_hash(corpus: Corpus) -> str:
    """A fingerprint of what the analyses read: sha256 over every document's HASHED_COLUMNS, in corpus order.

    The normalised text enters through its hash; the tokens follow from it and
    the tokeniser settings, which a report lists beside this hash.
    """
    import hashlib

    digest = hashlib.sha256()
    for row in corpus.db.execute(f"SELECT {', '.join(HASHED_COLUMNS)} FROM documents ORDER BY seq"):
        digest.update(("\t".join("" if v is None else str(v) for v in row) + "\n").encode("utf-8"))
    return digest.hexdigest()


def document_table(corpus: Corpus, *, include_duplicates: bool = True) -> Table:
    """One row per document with its metadata and first source path."""
    where = "" if include_duplicates else f"WHERE {COUNTED}"
    rows = corpus.db.execute(
        f"SELECT d.id, d.name, d.title, d.date, d.year, d.province, d.city, d.source, d.url, d.chars, d.token_count, "
        f"d.duplicate_of, d.near_duplicate_of, (SELECT s.path FROM sources s WHERE s.doc_id = d.id "
        f"ORDER BY s.ingested_at, s.path LIMIT 1) FROM documents_with_tokens d {where} ORDER BY d.seq"
    ).fetchall()
    return Table(DOC_COLUMNS, [tuple(r) for r in rows], title="Documents")


def export_rows(corpus: Corpus, *, include_duplicates: bool = True) -> Iterator[tuple]:
    """Every document with metadata, provenance, normalised text and tokens (EXPORT_COLUMNS)."""
    where = "" if include_duplicates else f"WHERE {COUNTED}"
    query = (
        "SELECT d.id, d.name, d.title, d.date, d.year, d.province, d.province_code, d.city, d.city_code, d.source, "
        "d.url, s.path, s.reader, s.encoding, s.raw_sha256, d.duplicate_of, d.near_duplicate_of, d.chars, "
        "d.token_count, d.norm_text, d.tokens FROM documents_with_tokens d JOIN sources s ON s.rowid = "
        "(SELECT rowid FROM sources WHERE doc_id = d.id ORDER BY ingested_at, path LIMIT 1) "
        f"{where} ORDER BY d.seq"
    )
    for row in corpus.db.execute(query):
        yield tuple(row)


def export_table(corpus: Corpus, *, include_duplicates: bool = True) -> Table:
    return Table(EXPORT_COLUMNS, export_rows(corpus, include_duplicates=include_duplicates))


def log_table(corpus: Corpus, *, level: str | None = None, limit: int | None = None) -> Table:
    """The corpus's log: skipped files and rows with their reasons, and one line per run."""
    where, params = ("WHERE level = ?", (level,)) if level else ("", ())
    query = f"SELECT time, command, level, path, line, message FROM log {where} ORDER BY id DESC"
    if limit:
        query += f" LIMIT {int(limit)}"
    rows = [tuple(r) for r in corpus.db.execute(query, params)][::-1]
    return Table(("time", "command", "level", "path", "line", "message"), rows, title="Log")
