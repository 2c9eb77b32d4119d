import sqlite3

import pytest

from policylex import Corpus, CorpusError
from policylex.store import SCHEMA_VERSION


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


def test_schema_1_corpus_is_upgraded_and_counted_from_its_tokens(seeds_corpus):
    """A corpus tokenised before term counts were stored opens, and its analyses agree with a new one's."""
    from policylex.measures import term_frequencies

    before = list(term_frequencies(seeds_corpus, top=30).records())
    path = seeds_corpus.path
    seeds_corpus.db.executescript(
        "ALTER TABLE documents DROP COLUMN term_counts; DROP TABLE terms; DROP INDEX documents_duplicate_of; "
        "DROP INDEX documents_near_duplicate_of; "
        "UPDATE meta SET value = '1' WHERE key = 'schema_version';")
    seeds_corpus.close()
    path.with_name(path.name + ".dtm.npz").unlink(missing_ok=True)
    with Corpus.open(path) as upgraded:
        assert upgraded.get_meta("schema_version") == "2"
        assert list(term_frequencies(upgraded, top=30).records()) == before
        assert upgraded.tokenise(workers=1).tokenised == 5  # the next tokenise stores the counts
        assert upgraded.db.execute("SELECT count(*) FROM documents WHERE term_counts IS NULL").fetchone()[0] == 0
        assert list(term_frequencies(upgraded, top=30).records()) == before


def test_newer_schema_is_refused(seeds_corpus):
    seeds_corpus.db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    seeds_corpus.close()
    with pytest.raises(CorpusError, match="schema version 99; this policylex reads version 2"):
        Corpus.open(seeds_corpus.path)
