"""``policylex check``: is the corpus file whole and are its parts consistent?

Each check reads the corpus as of one moment (a snapshot, so a running ingest
does not disturb it) and reports ``ok``, ``pending`` (work a command will do
when re-run: documents to tokenise, a cache to rebuild) or ``failed`` (the file
or its data is inconsistent: that should never happen, whatever was killed when).

What is verified, and what is not:

* SQLite's own ``integrity_check`` (pages, indexes) and ``foreign_key_check``;
* the schema: every table, index, trigger and view of this schema version;
* normalised text: each document's ``norm_hash`` is the hash of its stored
  ``norm_text``, ``chars`` its length, and its normalise settings the corpus's.
  Re-normalising every raw text to compare would take as long as ``normalise``
  itself, so the raw → normalised step is trusted to its transaction;
* tokens: stored with their count, the text hash and settings they were made
  from, parts of speech one per token; documents whose text or the tokeniser
  settings changed since are ``pending``;
* sources: every document has at least one, every source names a document;
* duplicates: an exact duplicate points at an earlier document with the same
  text that is not itself a duplicate, and no two counted documents share a
  text; a near-duplicate points at another document; every document has a
  MinHash signature, and no signature is of a removed document;
* slogan matches: each from a recorded scan of its document, and, where that
  scan is of the current text, the characters at its offsets; documents not
  scanned with the current text and lexicon are ``pending``;
* the cached document-term matrix: absent, stale (built for an older state of
  the corpus, so the next analysis rebuilds it), or equal to a fresh build.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass

import numpy as np

from policylex.output import Table
from policylex.store import APPLICATION, COUNTED, FULL_SCHEMA, SCHEMA_VERSION, Corpus

OK, PENDING, FAILED = "ok", "pending", "failed"
EXAMPLES = 3  # ids named in a failure's detail


@dataclass
class Check:
    name: str
    status: str
    detail: str


def _examples(ids: list[str]) -> str:
    shown = ", ".join(ids[:EXAMPLES])
    return shown + (f" … ({len(ids)} in all)" if len(ids) > EXAMPLES else "")


def _verdict(name: str, found: list[tuple[str, list[str]]], ok: str) -> Check:
    """Failed, naming each kind of problem with a few examples; else ok with ``ok``."""
    problems = [f"{what}: {_examples(ids)}" for what, ids in found if ids]
    return Check(name, FAILED, "; ".join(problems)) if problems else Check(name, OK, ok)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _integrity(corpus: Corpus, quick: bool) -> Check:
    pragma = "quick_check" if quick else "integrity_check"
    problems = [row[0] for row in corpus.db.execute(f"PRAGMA {pragma}")]
    if problems != ["ok"]:
        return Check("sqlite integrity", FAILED, "; ".join(problems[:EXAMPLES]))
    keys = corpus.db.execute("PRAGMA foreign_key_check").fetchall()
    if keys:
        return Check("sqlite integrity", FAILED, f"{len(keys)} rows name a missing row of {keys[0][2]}")
    return Check("sqlite integrity", OK, f"{pragma} and foreign_key_check: ok")


def _schema_objects() -> set[tuple[str, str]]:
    import re

    return {(kind.lower().replace("unique ", ""), name) for kind, name in
            re.findall(r"CREATE (TABLE|INDEX|UNIQUE INDEX|TRIGGER|VIEW) IF NOT EXISTS (\w+)", FULL_SCHEMA)}


def _schema(corpus: Corpus) -> Check:
    present = {(r[0], r[1]) for r in corpus.db.execute("SELECT type, name FROM sqlite_master")}
    missing = sorted(f"{kind} {name}" for kind, name in _schema_objects() - present)
    if missing:
        return Check("schema", FAILED, "missing " + ", ".join(missing))
    generation = corpus.get_meta("generation")
    if generation is None or not generation.isdigit():
        return Check("schema", FAILED, f"meta generation is {generation!r}, not a counter")
    return Check("schema", OK, f"{APPLICATION} schema version {SCHEMA_VERSION}: every table, index, trigger and view")


def _normalised(corpus: Corpus) -> Check:
    from policylex.ingest import norm_settings

    variant = corpus.get_meta("normalise.variant")
    expected = norm_settings(variant) if variant else None
    bad_hash, bad_chars, other_settings, empty = [], [], [], []
    total = 0
    for row in corpus.db.execute("SELECT id, norm_text, norm_hash, norm_settings, chars FROM documents ORDER BY seq"):
        total += 1
        if not row["norm_text"]:
            empty.append(row["id"])
        if _sha(row["norm_text"]) != row["norm_hash"]:
            bad_hash.append(row["id"])
        if row["chars"] != len(row["norm_text"]):
            bad_chars.append(row["id"])
        if expected is not None and row["norm_settings"] != expected:
            other_settings.append(row["id"])
    no_variant = [f"{total} documents"] if total and variant is None else []
    return _verdict("normalised text", [
        ("norm_hash is not the hash of norm_text", bad_hash), ("chars is not the text's length", bad_chars),
        ("empty normalised text", empty),
        (f"normalised with other settings than the corpus's ({variant})", other_settings),
        ("no normalise.variant in meta for", no_variant)], f"{total} documents, variant {variant or '(none yet)'}")


def _tokens(corpus: Corpus) -> Check:
    settings = corpus.get_meta("tokenise.settings")
    bad, pending, done = [], 0, 0
    query = ("SELECT id, norm_hash, tokens, pos, token_count, tokens_norm_hash, tokens_settings "
             "FROM documents_with_tokens ORDER BY seq")
    for row in corpus.db.execute(query):
        tokens = row["tokens"]
        if tokens is None:
            if row["token_count"] is not None or row["pos"] is not None:
                bad.append(row["id"])
            pending += 1
            continue
        count = len(tokens.split())
        if (row["token_count"] != count or row["tokens_norm_hash"] is None or row["tokens_settings"] is None
                or (row["pos"] is not None and len(row["pos"].split()) != count)):
            bad.append(row["id"])
        elif row["tokens_norm_hash"] != row["norm_hash"] or row["tokens_settings"] != settings:
            pending += 1
        else:
            done += 1
    if bad:
        return Check("tokens", FAILED, f"tokens, count, parts of speech or provenance disagree: {_examples(bad)}")
    if pending and (done or settings):
        return Check("tokens", PENDING, f"{pending} of {pending + done} documents to tokenise (new, changed, or "
                     "other settings): run `policylex tokenise`")
    if pending:
        return Check("tokens", PENDING, f"{pending} documents, none tokenised yet: run `policylex tokenise`")
    return Check("tokens", OK, f"{done} documents tokenised with the current settings")


def _sources(corpus: Corpus) -> Check:
    db = corpus.db
    orphans = [r[0] for r in db.execute(
        "SELECT id FROM documents d WHERE NOT EXISTS (SELECT 1 FROM sources s WHERE s.doc_id = d.id) ORDER BY seq")]
    dangling = [f"{r[0]} {r[1]}".strip() for r in db.execute(
        "SELECT path, record FROM sources s WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = s.doc_id)")]
    n = db.execute("SELECT count(*) FROM sources").fetchone()[0]
    return _verdict("sources", [("documents without a source", orphans), ("sources naming no document", dangling)],
                    f"{n} files and rows, each naming a document; every document has one")


def _duplicates(corpus: Corpus) -> Check:
    db = corpus.db
    wrong = [r[0] for r in db.execute(
        "SELECT d.id FROM documents d LEFT JOIN documents o ON o.id = d.duplicate_of WHERE d.duplicate_of IS NOT NULL "
        "AND (o.id IS NULL OR o.id = d.id OR o.norm_hash IS NOT d.norm_hash OR o.duplicate_of IS NOT NULL "
        "OR o.seq > d.seq) ORDER BY d.seq")]
    twins = [r[0] for r in db.execute(
        "SELECT norm_hash FROM documents WHERE duplicate_of IS NULL GROUP BY norm_hash HAVING count(*) > 1")]
    near = [r[0] for r in db.execute(
        "SELECT d.id FROM documents d LEFT JOIN documents o ON o.id = d.near_duplicate_of "
        "WHERE d.near_duplicate_of IS NOT NULL AND (o.id IS NULL OR o.id = d.id) ORDER BY d.seq")]
    exact = db.execute("SELECT count(*) FROM documents WHERE duplicate_of IS NOT NULL").fetchone()[0]
    flagged = db.execute("SELECT count(*) FROM documents WHERE near_duplicate_of IS NOT NULL").fetchone()[0]
    counted = db.execute(f"SELECT count(*) FROM documents WHERE {COUNTED}").fetchone()[0]
    return _verdict("duplicates", [
        ("duplicate_of names no earlier document with the same text", wrong),
        ("the same text counted twice, norm_hash", twins), ("near_duplicate_of names no other document", near)],
        f"{exact} exact and {flagged} near-duplicates flagged; {counted} documents counted")


def _near_duplicate_index(corpus: Corpus) -> Check:
    from policylex.dedup import PERMUTATIONS, SIGNATURE_BYTES

    db = corpus.db
    unsigned = [r[0] for r in db.execute(
        "SELECT d.id FROM documents d LEFT JOIN signatures s USING (seq) "
        "WHERE s.minhash IS NULL OR length(s.minhash) != ? ORDER BY d.seq", (SIGNATURE_BYTES,))]
    stale = [str(r[0]) for r in db.execute("SELECT seq FROM signatures WHERE seq NOT IN (SELECT seq FROM documents)")]
    return _verdict("near-duplicate index", [("documents without a MinHash signature", unsigned),
                                             ("signatures of removed documents", stale)],
                    f"a {PERMUTATIONS}-value MinHash signature per document")


def _slogans(corpus: Corpus) -> Check:
    """Slogan matches (see policylex.slogans): each from a recorded scan, and where the scan is of the
    current text, the matched characters are the text's at those offsets."""
    db = corpus.db
    unscanned = [r[0] for r in db.execute(
        "SELECT DISTINCT doc_id FROM slogan_hits WHERE doc_id NOT IN (SELECT doc_id FROM slogan_scans)")]
    wrong = [r[0] for r in db.execute(
        "SELECT DISTINCT h.doc_id FROM slogan_hits h JOIN documents d ON d.id = h.doc_id "
        "JOIN slogan_scans s ON s.doc_id = h.doc_id WHERE s.norm_hash = d.norm_hash AND ("
        "substr(d.norm_text, h.start + 1, h.stop - h.start) IS NOT h.matched "
        "OR h.paragraph NOT BETWEEN 0 AND s.paragraphs - 1 OR h.sentence NOT BETWEEN 0 AND s.sentences - 1)")]
    lexicon = corpus.get_meta("slogans.lexicon")
    scanned = db.execute("SELECT count(*) FROM slogan_scans").fetchone()[0]
    hits = db.execute("SELECT count(*) FROM slogan_hits").fetchone()[0]
    verdict = _verdict("slogans", [("matches without a scan of their document", unscanned),
                                   ("matches that are not the text at their offsets", wrong)],
                       f"{hits} matches in {scanned} scanned documents")
    if verdict.status == FAILED or lexicon is None:
        return verdict if lexicon or scanned or hits else Check("slogans", OK, "never scanned")
    stale = db.execute(
        "SELECT count(*) FROM documents d LEFT JOIN slogan_scans s ON s.doc_id = d.id "
        "WHERE s.doc_id IS NULL OR s.norm_hash IS NOT d.norm_hash OR s.lexicon IS NOT ?", (lexicon,)).fetchone()[0]
    if stale:
        return Check("slogans", PENDING, f"{stale} documents to scan (new, changed, or another lexicon): "
                     "the next `policylex slogans` does it")
    return verdict


def _matrix_cache(corpus: Corpus) -> Check:
    from policylex import matrix

    path = matrix.cache_path(corpus)
    if not path.exists():
        return Check("matrix cache", OK, "none (the next analysis builds it)")
    generation = corpus.generation()
    cached = matrix.load_terms(path, matrix.cache_key(corpus, generation), generation)
    if cached is None:
        return Check("matrix cache", PENDING, f"{path.name} is for another state of the corpus or unreadable: "
                     "the next analysis rebuilds it")
    fresh = matrix.build_terms(corpus)
    try:
        same = (cached.csr.shape == fresh.csr.shape and (cached.csr != fresh.csr).nnz == 0
                and np.array_equal(cached.features, fresh.features) and np.array_equal(cached.counted, fresh.counted)
                and all(np.array_equal(cached.meta[f], fresh.meta[f]) for f in matrix.META_FIELDS)
                and cached.not_tokenised == fresh.not_tokenised)
    except (KeyError, ValueError):
        same = False
    if not same:
        return Check("matrix cache", FAILED, f"{path.name} claims generation {generation} but differs from the "
                     "corpus: delete it")
    return Check("matrix cache", OK, f"{path.name}: {cached.csr.shape[0]} documents × {cached.csr.shape[1]} "
                 "terms, matches the corpus")


CHECKS = (("sqlite integrity", _integrity), ("schema", _schema), ("normalised text", _normalised), ("tokens", _tokens),
          ("sources", _sources), ("duplicates", _duplicates), ("near-duplicate index", _near_duplicate_index),
          ("slogans", _slogans), ("matrix cache", _matrix_cache))


def check_corpus(corpus: Corpus, *, quick: bool = False) -> list[Check]:
    """Every check, on one snapshot of the corpus; ``quick`` uses SQLite's quick_check."""
    results = []
    with corpus.snapshot():
        for name, run in CHECKS:
            try:
                results.append(run(corpus, quick) if run is _integrity else run(corpus))
            except sqlite3.DatabaseError as error:  # a damaged file: report it, go on with the other checks
                results.append(Check(name, FAILED, f"cannot read the corpus: {error}"))
    return results


def check_table(checks: list[Check]) -> Table:
    failed = sum(c.status == FAILED for c in checks)
    return Table(("check", "status", "detail"), [(c.name, c.status, c.detail) for c in checks], title="Corpus check",
                 notes=[f"{failed} checks failed" if failed else "the corpus is consistent"])


def passed(checks: list[Check]) -> bool:
    return not any(c.status == FAILED for c in checks)
