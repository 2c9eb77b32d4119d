"""`policylex check`: a sound corpus passes; each kind of damage is found and named."""

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from policylex import Corpus, cache, matrix as dtm
from policylex.check import check_corpus, passed
from policylex.cli import app
from policylex.measures import frequency

runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})


def statuses(corpus) -> dict[str, tuple[str, str]]:
    return {c.name: (c.status, c.detail) for c in check_corpus(corpus)}


def damage(corpus, sql: str, *params) -> None:
    """Change the file behind the library's back, as a bug or another program could."""
    con = sqlite3.connect(corpus.path)
    con.execute("PRAGMA foreign_keys = OFF")
    con.execute(sql, params)
    con.commit()
    con.close()


def test_a_sound_corpus_passes_every_check(seeds_corpus):
    frequency(seeds_corpus)  # builds the matrix cache, which is checked too
    result = statuses(seeds_corpus)
    assert {name: status for name, (status, _) in result.items()} == {
        "sqlite integrity": "ok", "schema": "ok", "normalised text": "ok", "tokens": "ok", "sources": "ok",
        "duplicates": "ok", "near-duplicate index": "ok", "slogans": "ok", "matrix cache": "ok"}
    assert "5 documents ×" in result["matrix cache"][1]


def test_untokenised_documents_are_pending_not_failed(corpus, tmp_path):
    (tmp_path / "a.txt").write_text("青岛市检察院召开会议\n会议强调，要依法能动履职。", encoding="utf-8")
    corpus.ingest([str(tmp_path)])
    checks = check_corpus(corpus)
    assert passed(checks)
    assert statuses(corpus)["tokens"] == ("pending", "1 documents, none tokenised yet: run `policylex tokenise`")
    corpus.tokenise(workers=1)
    (tmp_path / "a.txt").write_text("青岛市检察院召开会议\n会议强调，要做优四大检察。", encoding="utf-8")
    corpus.ingest([str(tmp_path)])
    assert statuses(corpus)["tokens"][0] == "pending"
    corpus.tokenise(workers=1)
    assert statuses(corpus)["tokens"][0] == "ok"


@pytest.mark.parametrize(
    "name, sql, message",
    [
        ("normalised text", "UPDATE documents SET norm_text = norm_text || '。' WHERE seq = 1",
         "norm_hash is not the hash of norm_text"),
        ("normalised text", "UPDATE documents SET norm_settings = '{\"variant\":\"none\"}' WHERE seq = 2",
         "other settings than the corpus's (t2s)"),
        ("tokens", "UPDATE document_tokens SET token_count = token_count + 1 WHERE seq = 3", "disagree"),
        ("tokens", "UPDATE document_tokens SET pos = 'n v' WHERE seq = 3", "disagree"),
        ("sources", "DELETE FROM sources WHERE doc_id = (SELECT id FROM documents WHERE seq = 4)",
         "documents without a source"),
        ("sources", "UPDATE sources SET doc_id = 'gone' WHERE rowid = 1", "sources naming no document"),
        ("duplicates", "UPDATE documents SET duplicate_of = (SELECT id FROM documents WHERE seq = 1) WHERE seq = 2",
         "duplicate_of names no earlier document with the same text"),
        ("duplicates", "UPDATE documents SET norm_text = (SELECT norm_text FROM documents WHERE seq = 1), "
         "norm_hash = (SELECT norm_hash FROM documents WHERE seq = 1), chars = (SELECT chars FROM documents "
         "WHERE seq = 1) WHERE seq = 5", "the same text counted twice"),
        ("duplicates", "UPDATE documents SET near_duplicate_of = id WHERE seq = 2", "near_duplicate_of names no other"),
        ("near-duplicate index", "UPDATE signatures SET minhash = x'00' WHERE seq = 2", "without a MinHash signature"),
        ("near-duplicate index", "DELETE FROM signatures WHERE seq = 2", "without a MinHash signature"),
        ("near-duplicate index", "INSERT INTO signatures VALUES (99, x'00')", "signatures of removed documents"),
        ("schema", "DROP TRIGGER documents_changed", "missing trigger documents_changed"),
    ],
)
def test_damage_is_found(seeds_corpus, name, sql, message):
    damage(seeds_corpus, sql)
    status, detail = statuses(seeds_corpus)[name]
    assert status == "failed" and message in detail
    assert not passed(check_corpus(seeds_corpus))


def test_damaged_pages_fail_the_integrity_check(seeds_corpus):
    seeds_corpus.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = seeds_corpus.db.execute("PRAGMA page_size").fetchone()[0]
    # the page of the documents_norm_hash index: damage it and the index disagrees with its table
    root = seeds_corpus.db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'documents_norm_hash'").fetchone()[0]
    seeds_corpus.close()
    with open(seeds_corpus.path, "r+b") as handle:
        handle.seek((root - 1) * page_size + 100)
        handle.write(b"\xff" * (page_size - 100))
    with Corpus.open(seeds_corpus.path, readonly=True) as reopened:  # as `check` opens it
        status, detail = statuses(reopened)["sqlite integrity"]
    assert status == "failed" and detail


def test_matrix_cache_current_stale_damaged_and_wrong(seeds_corpus):
    path = dtm.cache_path(seeds_corpus)
    assert statuses(seeds_corpus)["matrix cache"] == ("ok", "none (the next analysis builds it)")
    matrix = dtm.term_matrix(seeds_corpus, include_duplicates=True)
    assert statuses(seeds_corpus)["matrix cache"][0] == "ok"
    # a cache that claims the corpus's generation but holds other counts
    key = dtm.cache_key(seeds_corpus, seeds_corpus.generation())
    fresh = dtm.build_terms(seeds_corpus)
    wrong = dtm.Counts(fresh.csr * 2, fresh.features, fresh.meta, fresh.counted, term_pos=fresh.term_pos,
                       not_tokenised=fresh.not_tokenised)
    dtm.save_terms(wrong, path, key)
    assert statuses(seeds_corpus)["matrix cache"][0] == "failed"
    path.write_bytes(b"PK\x03\x04 half a zip file")
    assert statuses(seeds_corpus)["matrix cache"][0] == "pending"
    assert dtm.term_matrix(seeds_corpus, include_duplicates=True).counts.sum() == matrix.counts.sum()  # rebuilt
    dtm.save_terms(wrong, path, key)
    seeds_corpus.db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
    assert statuses(seeds_corpus)["matrix cache"][0] == "pending"  # the corpus moved on: stale, not wrong
    seeds_corpus.tokenise(workers=1, keep_stopwords=True)  # tokenising builds it again, for the corpus as it is
    assert statuses(seeds_corpus)["matrix cache"][0] == "ok"


def test_a_new_corpus_at_the_same_path_never_reads_the_old_cache(tmp_path):
    """Two corpora at one path can reach the same generation: the cache must tell them apart."""
    path = tmp_path / "c.db"
    texts = {"a": "青岛市检察院召开会议\n会议强调，要做优四大检察。", "b": "湛江市检察院召开会议\n会议强调，要落实少捕慎诉慎押。"}
    totals = {}
    for name, text in texts.items():
        for leftover in (path, path.with_name("c.db-wal"), path.with_name("c.db-shm")):
            leftover.unlink(missing_ok=True)
        (tmp_path / f"{name}.txt").write_text(text, encoding="utf-8")
        with Corpus.open(path, create=True) as corpus:
            corpus.ingest([str(tmp_path / f"{name}.txt")])
            corpus.tokenise(workers=1)
            totals[name] = ({r["term"] for r in frequency(corpus, top=None).records()}, corpus.generation())
    assert totals["a"][1] == totals["b"][1]  # the same generation ...
    assert "少捕慎诉慎押" in totals["b"][0] and "四大检察" not in totals["b"][0]  # ... and yet b's own counts


def test_check_command(seeds_corpus):
    path = seeds_corpus.path
    result = runner.invoke(app, ["check", "--corpus", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["check"] for r in rows][:2] == ["sqlite integrity", "schema"] and {r["status"] for r in rows} == {"ok"}
    table = runner.invoke(app, ["check", "--corpus", str(path)])
    assert table.exit_code == 0 and "the corpus is consistent" in table.stdout
    damage(seeds_corpus, "UPDATE document_tokens SET token_count = 0 WHERE seq = 1")
    result = runner.invoke(app, ["check", "--corpus", str(path), "--format", "csv"])
    assert result.exit_code == 1 and "tokens,failed," in result.stdout


def test_check_leaves_the_file_as_it_was(seeds_corpus):
    before = seeds_corpus.path.read_bytes()
    assert runner.invoke(app, ["check", "--corpus", str(seeds_corpus.path)]).exit_code == 0
    assert seeds_corpus.path.read_bytes() == before


def test_a_cache_that_cannot_be_written_leaves_no_partial_file(seeds_corpus, monkeypatch):
    """A full disk while the cache is written: the analysis goes on without it, and no .part file stays."""
    import errno

    def full_disk(handle, arrays):
        handle.write(b"PK\x03\x04 the first bytes")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cache, "_write_npz", full_disk)
    assert sum(r["count"] for r in frequency(seeds_corpus, top=None).records()) > 0
    assert list(seeds_corpus.path.parent.glob("*.dtm.npz*")) == []


def test_quick_check_command(seeds_corpus):
    result = runner.invoke(app, ["check", "--quick", "--corpus", str(seeds_corpus.path), "--format", "jsonl"])
    assert result.exit_code == 0
    assert json.loads(result.stdout.splitlines()[0]) == {
        "check": "sqlite integrity", "status": "ok", "detail": "quick_check and foreign_key_check: ok"}


def test_slogan_matches_are_checked_against_the_text(seeds_corpus, tmp_path):
    from policylex.slogans import scan

    assert statuses(seeds_corpus)["slogans"] == ("ok", "never scanned")
    scan(seeds_corpus)
    status, detail = statuses(seeds_corpus)["slogans"]
    assert status == "ok" and detail.endswith("in 5 scanned documents")
    (tmp_path / "new.txt").write_text("丹东市检察院召开会议\n会议强调，要做优四大检察。", encoding="utf-8")
    seeds_corpus.ingest([str(tmp_path / "new.txt")])
    assert statuses(seeds_corpus)["slogans"][0] == "pending"
    scan(seeds_corpus)
    assert statuses(seeds_corpus)["slogans"][0] == "ok"
    first = seeds_corpus.db.execute("SELECT doc_id, start FROM slogan_hits ORDER BY doc_id, start LIMIT 1").fetchone()
    damage(seeds_corpus, "UPDATE slogan_hits SET start = start + 1, stop = stop + 1 WHERE doc_id = ? AND start = ?",
           *first)
    status, detail = statuses(seeds_corpus)["slogans"]
    assert status == "failed" and "matches that are not the text at their offsets" in detail
    damage(seeds_corpus, "DELETE FROM slogan_scans")
    status, detail = statuses(seeds_corpus)["slogans"]
    assert status == "failed" and "matches without a scan of their document" in detail


def test_cached_arrays_are_mapped_from_the_file_and_read_as_written(tmp_path):
    """The cache's arrays start at multiples of 64 bytes, so reading maps them rather than copying;
    np.load reads the file as any .npz, and a cache written by np.savez is still read (by copying)."""
    import numpy as np

    arrays = {"data": np.arange(1, 1000, dtype=np.int32), "indptr": np.arange(0, 40, dtype=np.int64),
              "vocabulary": np.array(["改革", "检察", "x"]), "empty": np.zeros(0, dtype=np.int32),
              "scalar": np.array(7)}
    path = tmp_path / "c.npz"
    cache.write_arrays(path, "key 1", arrays)
    read = cache.read_arrays(path, "key 1")
    for name, array in arrays.items():
        assert np.array_equal(read[name], array) and read[name].dtype == array.dtype, name
    assert isinstance(read["data"].base, np.memmap) and isinstance(read["vocabulary"].base, np.memmap)
    read["data"][0] = -1  # copy-on-write: the file keeps what was written
    assert cache.read_arrays(path, "key 1")["data"][0] == 1
    with np.load(path) as plain:
        assert np.array_equal(plain["indptr"], arrays["indptr"])
    assert cache.read_arrays(path, "key 2") is None
    np.savez(path, _cache_key=np.array("key 1"), **arrays)
    assert np.array_equal(cache.read_arrays(path, "key 1")["data"], arrays["data"])
