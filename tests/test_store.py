import sqlite3

import numpy as np
import pytest

from policylex import Corpus, CorpusError
from policylex.check import check_corpus, passed
from policylex.store import SCHEMA_VERSION

from conftest import FIXTURES


def test_missing_corpus_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="no corpus at .*run `policylex ingest"):
        Corpus.open(tmp_path / "none.db")


def test_not_a_corpus(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("just some text, not SQLite", encoding="utf-8")
    with pytest.raises(CorpusError, match="not a policylex corpus"):
        Corpus.open(path)


def test_another_sqlite_database(tmp_path):
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(CorpusError, match="SQLite file but not a policylex corpus"):
        Corpus.open(path, create=True)


def test_other_schema_version(tmp_path):
    path = tmp_path / "c.db"
    Corpus.open(path, create=True).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with pytest.raises(CorpusError, match=f"schema version 99; this policylex reads version {SCHEMA_VERSION}"):
        Corpus.open(path)


def test_a_folder_is_not_a_corpus(tmp_path):
    with pytest.raises(CorpusError, match="is a folder"):
        Corpus.open(tmp_path)


def test_transaction_rolls_back_on_interrupt(corpus):
    with pytest.raises(KeyboardInterrupt):
        with corpus.transaction():
            corpus.set_meta("x", "1")
            raise KeyboardInterrupt
    assert corpus.get_meta("x") is None


def test_a_write_sqlite_refuses_is_a_clear_error(corpus):
    corpus.db.execute("PRAGMA query_only = ON")  # what a read-only file or full disk does to a write
    with pytest.raises(CorpusError, match="cannot write to corpus .*readonly"):
        with corpus.transaction():
            corpus.set_meta("x", "1")
    corpus.db.execute("PRAGMA query_only = OFF")
    assert corpus.get_meta("x") is None


def test_schema_is_plain_sqlite(seeds_corpus):
    con = sqlite3.connect(seeds_corpus.path)
    rows = con.execute("SELECT name, date, province FROM documents ORDER BY seq").fetchall()
    assert len(rows) == 5 and rows[0][1:] == ("2023-08-08", "山东省")


def make_version_3(db) -> None:
    """Turn a corpus of this version back into one of schema version 3: tokens in the documents' rows."""
    columns = ("tokens TEXT", "pos TEXT", "token_count INTEGER", "term_counts BLOB", "tokens_norm_hash TEXT",
               "tokens_settings TEXT")
    names = ", ".join(c.split()[0] for c in columns)
    for column in columns:
        db.execute(f"ALTER TABLE documents ADD COLUMN {column}")
    db.execute(f"UPDATE documents SET ({names}) = (SELECT {names} FROM document_tokens t WHERE t.seq = documents.seq)")
    for statement in ("DROP VIEW documents_with_tokens", "DROP TRIGGER document_tokens_inserted",
                      "DROP TRIGGER document_tokens_changed", "DROP TRIGGER document_tokens_deleted",
                      "DROP TABLE document_tokens", "DROP TRIGGER documents_changed"):
        db.execute(statement)
    db.execute("CREATE TRIGGER documents_changed AFTER UPDATE OF tokens, pos, tokens_settings, duplicate_of, "
               "near_duplicate_of, title, date, year, province, province_code, city, city_code, source, url, name, "
               "norm_text ON documents BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 "
               "WHERE key = 'generation'; END")
    db.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")


def test_version_3_corpus_moves_its_tokens_and_keeps_its_counts(seeds_corpus):
    from policylex.measures import frequency

    before = list(frequency(seeds_corpus, top=30).records())
    tokens = seeds_corpus.db.execute("SELECT seq, tokens, term_counts FROM document_tokens ORDER BY seq").fetchall()
    path = seeds_corpus.path
    make_version_3(seeds_corpus.db)
    seeds_corpus.close()
    path.with_name(path.name + ".dtm.npz").unlink(missing_ok=True)
    with Corpus.open(path) as upgraded:
        assert upgraded.get_meta("schema_version") == str(SCHEMA_VERSION)
        columns = {row[1] for row in upgraded.db.execute("PRAGMA table_info(documents)")}
        assert not columns & {"tokens", "pos", "token_count", "term_counts", "tokens_norm_hash", "tokens_settings"}
        moved = upgraded.db.execute("SELECT seq, tokens, term_counts FROM document_tokens ORDER BY seq").fetchall()
        assert [tuple(r) for r in moved] == [tuple(r) for r in tokens] and len(moved) == 5
        assert upgraded.tokenise(workers=1).tokenised == 0  # nothing to do again
        assert list(frequency(upgraded, top=30).records()) == before


def test_schema_1_corpus_is_upgraded_and_counted_from_its_tokens(seeds_corpus):
    """A corpus tokenised before term counts were stored opens, and its analyses agree with a new one's."""
    from policylex.measures import frequency

    before = list(frequency(seeds_corpus, top=30).records())
    path = seeds_corpus.path
    make_version_3(seeds_corpus.db)
    seeds_corpus.db.executescript(
        "ALTER TABLE documents DROP COLUMN term_counts; DROP TABLE terms; DROP INDEX documents_duplicate_of; "
        "DROP INDEX documents_near_duplicate_of; "
        "UPDATE meta SET value = '2' WHERE key = 'schema_version';")
    seeds_corpus.close()
    path.with_name(path.name + ".dtm.npz").unlink(missing_ok=True)
    with Corpus.open(path) as upgraded:
        assert upgraded.get_meta("schema_version") == str(SCHEMA_VERSION)
        assert list(frequency(upgraded, top=30).records()) == before
        assert upgraded.tokenise(workers=1).tokenised == 5  # the next tokenise stores the counts
        assert upgraded.db.execute("SELECT count(*) FROM document_tokens WHERE term_counts IS NULL").fetchone()[0] == 0
        assert list(frequency(upgraded, top=30).records()) == before


def test_version_1_corpus_is_upgraded_in_place(tmp_path):
    path = tmp_path / "old.db"
    with Corpus.open(path, create=True) as store:
        store.ingest([str(FIXTURES / "encodings" / "utf8.txt")])
        make_version_3(store.db)
        for table in ("slogan_hits", "slogan_scans", "slogan_lexicon", "terms"):
            store.db.execute(f"DROP TABLE {table}")
        store.db.executescript("ALTER TABLE documents DROP COLUMN term_counts; DROP INDEX documents_duplicate_of; "
                               "DROP INDEX documents_near_duplicate_of;")
        store.db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    with Corpus.open(path) as store:
        assert store.get_meta("schema_version") == str(SCHEMA_VERSION) == "8"
        assert store.count() == 1
        assert store.db.execute("SELECT count(*) FROM slogan_hits").fetchone()[0] == 0


def test_a_snapshot_does_not_see_a_concurrent_commit(seeds_corpus):
    with Corpus.open(seeds_corpus.path) as writer:
        with seeds_corpus.snapshot():
            assert seeds_corpus.count() == 5
            with writer.transaction():
                writer.db.execute("DELETE FROM signatures")
                writer.db.execute("UPDATE sources SET doc_id = (SELECT id FROM documents WHERE seq = 1)")
                writer.db.execute("DELETE FROM documents WHERE seq > 1")
            assert seeds_corpus.count() == 5  # the same state throughout the snapshot
        assert seeds_corpus.count() == 1


def test_a_readonly_corpus_refuses_writes_with_a_clear_error(seeds_corpus, tmp_path):
    """What a read-only file does (SQLite opened with mode=ro, as for a file root cannot write either)."""
    (tmp_path / "new.txt").write_text("丹东市检察院召开会议\n会议强调，要依法能动履职。", encoding="utf-8")
    with Corpus.open(seeds_corpus.path, readonly=True) as readonly:
        with pytest.raises(CorpusError, match="cannot write to corpus .*readonly database; nothing of this batch"):
            readonly.ingest([str(tmp_path / "new.txt")])
        with pytest.raises(CorpusError, match="readonly"):
            readonly.tokenise(workers=1, force=True)
    assert seeds_corpus.count() == 5


def test_a_full_disk_is_a_clear_error_and_no_partial_batch(corpus, tmp_path, monkeypatch):
    """SQLite's page limit fails a write exactly as a full disk does (SQLITE_FULL)."""
    import policylex.ingest as ingest_module

    from conftest import SEEDS

    monkeypatch.setattr(ingest_module, "BATCH_FILES", 2)
    corpus.ingest([str(next(SEEDS.glob("000_*.txt")))])
    pages = corpus.db.execute("PRAGMA page_count").fetchone()[0]
    corpus.db.execute(f"PRAGMA max_page_count = {pages + 12}")
    with pytest.raises(CorpusError, match="cannot write to corpus .*database or disk is full; nothing of this batch"):
        corpus.ingest([str(SEEDS)])
    done = corpus.count()
    assert 1 <= done < 5
    # every batch is whole: each document has its source and index entries
    from policylex.check import check_corpus, passed

    assert passed(check_corpus(corpus))
    corpus.db.execute("PRAGMA max_page_count = 1073741823")
    report = corpus.ingest([str(SEEDS)])
    assert report.added == 5 - done and corpus.count() == 5


def test_a_version_1_corpus_opened_read_only_says_how_to_upgrade(tmp_path):
    path = tmp_path / "old.db"
    with Corpus.open(path, create=True) as store:
        make_version_3(store.db)
        store.db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    with pytest.raises(CorpusError, match="schema version 1: run a command that writes"):
        Corpus.open(path, readonly=True)
    with Corpus.open(path) as store:
        assert store.get_meta("schema_version") == str(SCHEMA_VERSION)


def _make_version_5(path) -> dict:
    """A corpus of two documents as version 5 kept it; the version 6 signatures it had."""
    with Corpus.open(path, create=True) as corpus:
        corpus.ingest([str(FIXTURES / "dedup" / name) for name in ("original.txt", "different.txt")])
        signed = dict(corpus.db.execute("SELECT seq, minhash FROM signatures").fetchall())
        corpus.db.executescript(
            "ALTER TABLE documents ADD COLUMN minhash BLOB; UPDATE documents SET minhash = x'00';"
            "DROP TABLE signatures; DROP INDEX documents_candidate;"
            "CREATE TABLE lsh (band INTEGER NOT NULL, bucket INTEGER NOT NULL, doc_id TEXT NOT NULL, "
            "PRIMARY KEY (band, bucket, doc_id)) WITHOUT ROWID; CREATE INDEX lsh_doc ON lsh(doc_id);"
            "INSERT INTO lsh SELECT 0, 1, id FROM documents;"
            "CREATE INDEX documents_signature ON documents(id, seq, duplicate_of, near_duplicate_of, minhash);"
            "UPDATE meta SET value = '5' WHERE key = 'schema_version';")
    return signed


def test_version_5_corpus_is_signed_again_and_finds_reposts_of_its_documents(tmp_path):
    """Version 6 keys the near-duplicate index by seq and signs with other hash functions: an older
    corpus (signatures in the documents' rows, buckets by document id) is signed again from its
    texts on opening, and a repost ingested afterwards is found against a document from before."""
    path = tmp_path / "old.db"
    signed = _make_version_5(path)
    with Corpus.open(path) as upgraded:
        db = upgraded.db
        assert upgraded.get_meta("schema_version") == str(SCHEMA_VERSION)
        assert "minhash" not in [row[1] for row in db.execute("PRAGMA table_info(documents)")]
        assert not db.execute("SELECT 1 FROM sqlite_master WHERE name IN ('documents_signature', 'lsh', 'lsh_doc')"
                              ).fetchone()
        assert dict(db.execute("SELECT seq, minhash FROM signatures").fetchall()) == signed
        assert passed(check_corpus(upgraded))
        report = upgraded.ingest([str(FIXTURES / "dedup" / "repost_with_note.txt")])
        assert report.near_duplicates == 1
        assert db.execute("SELECT o.name FROM documents d JOIN documents o ON o.id = d.near_duplicate_of"
                          ).fetchall()[0][0] == "original"


def test_a_command_says_it_upgrades_the_corpus(tmp_path):
    from typer.testing import CliRunner

    from policylex.cli import app

    path = tmp_path / "old.db"
    _make_version_5(path)
    result = CliRunner().invoke(app, ["tokenise", "--corpus", str(path)])
    assert result.exit_code == 0
    assert f"from schema version 5 to {SCHEMA_VERSION}" in " ".join(result.stderr.split())
    assert "upgrading" not in CliRunner().invoke(app, ["tokenise", "--corpus", str(path)]).stderr


def test_version_6_corpus_keeps_its_formulation_matches_keyed_by_seq(seeds_corpus, tmp_path):
    """Version 7 keys the matches by the document's seq: an older corpus's matches are moved, none lost."""
    from policylex import slogans

    slogans.scan(seeds_corpus)
    columns = "seq, start, doc_id, stop, slogan, matched, paragraph, sentence"
    before = seeds_corpus.db.execute(f"SELECT {columns} FROM slogan_hits ORDER BY seq, start").fetchall()
    assert before
    seeds_corpus.db.executescript(
        "ALTER TABLE slogan_hits RENAME TO new_hits; DROP INDEX slogan_hits_slogan;"
        "CREATE TABLE slogan_hits (doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE, "
        "start INTEGER NOT NULL, stop INTEGER NOT NULL, slogan TEXT NOT NULL, matched TEXT NOT NULL, "
        "paragraph INTEGER NOT NULL, sentence INTEGER NOT NULL, PRIMARY KEY (doc_id, start)) WITHOUT ROWID;"
        "INSERT INTO slogan_hits SELECT doc_id, start, stop, slogan, matched, paragraph, sentence FROM new_hits;"
        "DROP TABLE new_hits; CREATE INDEX slogan_hits_slogan ON slogan_hits(slogan);"
        "UPDATE meta SET value = '6' WHERE key = 'schema_version';")
    seeds_corpus.close()
    with Corpus.open(seeds_corpus.path) as upgraded:
        assert upgraded.get_meta("schema_version") == str(SCHEMA_VERSION)
        assert upgraded.db.execute(f"SELECT {columns} FROM slogan_hits ORDER BY seq, start").fetchall() == before
        assert passed(check_corpus(upgraded))
        assert slogans.scan(upgraded).scanned == 0  # the scans still stand


def test_the_band_index_sees_what_another_connection_committed(tmp_path):
    """One ingest's index lives across its batches: a document another process added between two
    of them must be found as well."""
    from policylex import dedup

    path = tmp_path / "c.db"
    sig = np.arange(dedup.PERMUTATIONS, dtype=np.uint32)
    with Corpus.open(path, create=True) as mine, Corpus.open(path) as theirs:
        index = dedup.BandIndex(mine.db)
        with mine.transaction():
            index.sync()
            index.add(1, sig)
            assert index.similar(2, sig) == [1]
        with theirs.transaction():
            theirs.db.execute("INSERT INTO signatures VALUES (?, ?)", (3, sig.tobytes()))
        with mine.transaction():
            index.sync()
            assert index.similar(2, sig) == [1, 3]
