"""Kills, Ctrl-C and concurrent use, with real processes on a corpus of a few thousand articles.

A reference corpus is built once without interruption.  Each test runs
``python -m policylex`` in subprocesses, kills them (SIGKILL) at random moments
(seeded, so a failure can be replayed), and checks after every kill that the
corpus opens and passes ``policylex check`` and holds only whole batches; then
a re-run completes the work, and the result equals the reference: nothing lost,
nothing twice.  Every wait is bounded, so a hang fails the test instead of CI.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policylex import Corpus
from policylex.check import check_corpus, passed
from policylex.cli import app
from synthetic import write_corpus

ARTICLES = 2000
BATCH_FILES = 100  # policylex.ingest.BATCH_FILES: every committed ingest batch adds this many sources
RUN_TIMEOUT = 120


def policylex(*args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "policylex", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, **popen)


def finish(*args: str) -> None:
    """Run a command to its end; it must succeed."""
    proc = policylex(*args)
    _, err = proc.communicate(timeout=RUN_TIMEOUT)
    assert proc.returncode == 0, err


def query(db: Path, sql: str) -> int:
    """One number read from the corpus file while another process may be writing it."""
    con = sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True, timeout=30)
    try:
        return con.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:  # no schema yet
        return 0
    finally:
        con.close()


def state(db: Path) -> tuple[list, list]:
    """Everything the analyses and provenance depend on, without timestamps."""
    con = sqlite3.connect(db)
    documents = con.execute(
        "SELECT id, seq, name, title, date, province, city, source, norm_hash, norm_settings, chars, tokens, "
        "token_count, tokens_norm_hash, duplicate_of, near_duplicate_of FROM documents_with_tokens ORDER BY seq").fetchall()
    sources = con.execute("SELECT path, record, doc_id, reader, encoding, raw_sha256 FROM sources "
                          "ORDER BY path, record").fetchall()
    con.close()
    return documents, sources


def copy_corpus(source: Path, target: Path) -> Path:
    with Corpus.open(source) as corpus:
        corpus.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(source, target)
    return target


def assert_sound(db: Path) -> None:
    with Corpus.open(db, readonly=True) as corpus:
        checks = check_corpus(corpus)
    assert passed(checks), [c for c in checks if c.status == "failed"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The articles, and the corpus after ingest, after tokenise and after normalise --variant none, uninterrupted."""
    root = tmp_path_factory.mktemp("reference")
    articles = root / "articles"
    write_corpus(articles, ARTICLES)
    stages = {}
    with Corpus.open(root / "work.db", create=True) as corpus:
        corpus.ingest([str(articles)])
        stages["ingested"] = copy_corpus(corpus.path, root / "ingested.db")
        corpus.tokenise(workers=2)
        stages["tokenised"] = copy_corpus(corpus.path, root / "tokenised.db")
        corpus.normalise(variant="none")
        stages["normalised"] = copy_corpus(corpus.path, root / "normalised.db")
    return articles, stages


def kill_while_working(args: list[str], db: Path, progress_sql: str | None, rnd: random.Random, kills: int,
                       after_kill, jitter: float = 0.8) -> int:
    """Start the command, kill it at a random moment while it works, check the corpus; ``kills`` times.

    With ``progress_sql``, each kill waits until that number moves (the command has
    committed something) and then up to 0.8 s more; without, 0.3–2.5 s after the
    start.  Returns how many processes were killed before they finished.
    """
    killed = 0
    for _ in range(kills):
        before = query(db, progress_sql) if progress_sql and db.exists() else 0
        proc = policylex(*args)
        deadline = time.monotonic() + 30
        if progress_sql:
            while proc.poll() is None and time.monotonic() < deadline and (
                    not db.exists() or query(db, progress_sql) == before):
                time.sleep(0.05)
            time.sleep(rnd.uniform(0, jitter))
        else:
            time.sleep(rnd.uniform(0.3, 2.5))
        if proc.poll() is not None:  # it finished first: nothing to kill
            proc.communicate()
            break
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=RUN_TIMEOUT)
        killed += 1
        if db.exists():
            assert_sound(db)
            after_kill()
    return killed


def test_killed_ingest_keeps_whole_batches_and_a_rerun_completes_it(reference, tmp_path):
    articles, stages = reference
    db = tmp_path / "c.db"
    ref_docs, ref_sources = state(stages["ingested"])

    def whole_batches():
        docs, sources = state(db)
        assert len(sources) % BATCH_FILES == 0  # no half batch
        assert docs == ref_docs[: len(docs)] and sources == sorted(ref_sources[: len(sources)])

    killed = kill_while_working(["ingest", str(articles), "--corpus", str(db)], db, "SELECT count(*) FROM sources",
                                random.Random(1), 4, whole_batches)
    assert killed >= 1
    finish("ingest", str(articles), "--corpus", str(db))
    assert state(db) == (ref_docs, ref_sources)
    assert_sound(db)


def test_killed_tokenise_keeps_finished_documents_and_a_rerun_completes_it(reference, tmp_path):
    _, stages = reference
    db = copy_corpus(stages["ingested"], tmp_path / "c.db")
    ref_docs, ref_sources = state(stages["tokenised"])
    tokens_of = {d[0]: d[11:14] for d in ref_docs}

    def tokens_as_reference():
        docs, sources = state(db)
        assert sources == ref_sources
        done = [d for d in docs if d[11] is not None]
        assert all(d[11:14] == tokens_of[d[0]] for d in done)  # tokens, count and text hash, as uninterrupted

    # The reference segmenter: slow enough to be caught mid-run, and its tokens are the default engine's.
    killed = kill_while_working(["tokenise", "--workers", "2", "--engine", "jieba", "--corpus", str(db)], db,
                                "SELECT count(*) FROM documents_with_tokens WHERE tokens IS NOT NULL", random.Random(2), 3,
                                tokens_as_reference, jitter=0.15)
    assert killed >= 1
    finish("tokenise", "--workers", "2", "--corpus", str(db))
    assert state(db) == (ref_docs, ref_sources)
    assert_sound(db)


def test_killed_normalise_leaves_the_corpus_as_before_and_a_rerun_completes_it(reference, tmp_path):
    _, stages = reference
    db = copy_corpus(stages["tokenised"], tmp_path / "c.db")
    before = state(db)
    after = state(stages["normalised"])

    def before_or_after():
        assert state(db) in (before, after)

    killed = kill_while_working(["normalise", "--variant", "none", "--corpus", str(db)], db, None,
                                random.Random(3), 3, before_or_after)
    assert killed >= 1
    finish("normalise", "--variant", "none", "--corpus", str(db))
    assert state(db) == after
    assert_sound(db)


KEPT = {  # each command says what it keeps
    "ingest": "the corpus keeps the batches of files stored before Ctrl-C: re-run to complete",
    "tokenise": "the corpus keeps the documents tokenised before Ctrl-C: re-run to complete",
    "normalise": "the corpus is as it was: normalise writes every document or none; re-run to normalise",
}


@pytest.mark.parametrize("command", ["ingest", "tokenise", "normalise"])
def test_ctrl_c_stops_with_one_line_and_a_sound_corpus(reference, tmp_path, command):
    articles, stages = reference
    progress_sql = None
    if command == "ingest":
        db, args, progress_sql = tmp_path / "c.db", ["ingest", str(articles)], "SELECT count(*) FROM sources"
    elif command == "tokenise":
        db = copy_corpus(stages["ingested"], tmp_path / "c.db")
        args, progress_sql = (["tokenise", "--workers", "2", "--engine", "jieba"],  # slow enough to interrupt
                              "SELECT count(*) FROM documents_with_tokens WHERE tokens IS NOT NULL")
    else:
        db = copy_corpus(stages["tokenised"], tmp_path / "c.db")
        args = ["normalise", "--variant", "none", "--workers", "1"]  # one worker: still at work after 1.5 s
    before = state(db) if db.exists() else None
    # its own process group, as a shell gives a command: Ctrl-C reaches the group, pool workers too.
    # SIGINT as a terminal has it: a shell starts background jobs (CI's, maybe) with SIGINT
    # ignored, which a child inherits, and Python then installs no KeyboardInterrupt handler.
    proc = policylex(*args, "--corpus", str(db), start_new_session=True,
                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    if progress_sql:
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline and (
                not db.exists() or query(db, progress_sql) == 0):
            time.sleep(0.05)
    else:
        time.sleep(0.9)  # imports done (~0.5 s), normalising with one worker (~1 s more here)
    assert proc.poll() is None, "finished before Ctrl-C"
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=RUN_TIMEOUT)
    assert proc.returncode == 130, err
    assert err.splitlines() == ["policylex: error: interrupted; " + KEPT[command]]
    assert_sound(db)
    if command == "normalise":
        assert state(db) == before


def test_two_ingests_at_once_into_a_new_corpus_and_readers_meanwhile(reference, tmp_path):
    """Both finish; every file is a source once; each text one document; readers see whole states."""
    articles, stages = reference
    db = tmp_path / "c.db"
    parts = sorted(p for p in articles.iterdir())
    half = len(parts) // 2
    first, second = parts[: half + 1], parts[half - 1 :]  # two folders in common
    procs = [policylex("ingest", *map(str, first), "--corpus", str(db)),
             policylex("ingest", *map(str, second), "--corpus", str(db))]
    runner = CliRunner()
    reads = 0
    deadline = time.monotonic() + RUN_TIMEOUT
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
        if db.exists() and query(db, "SELECT count(*) FROM sources") > 0:
            result = runner.invoke(app, ["info", "--corpus", str(db), "--format", "json"])
            assert result.exit_code == 0, result.output
            info = {r["field"]: r["value"] for r in json.loads(result.stdout)}
            assert 0 < info["documents"] <= info["source files and rows"]
            assert info["exact duplicates (extra sources of one document)"] >= 0
            assert_sound(db)  # a snapshot of a database being written: whole batches only
            reads += 1
        time.sleep(0.1)
    for proc in procs:
        _, err = proc.communicate(timeout=RUN_TIMEOUT)
        assert proc.returncode == 0, err
    assert reads >= 1
    ref_docs, ref_sources = state(stages["ingested"])
    docs, sources = state(db)
    assert sorted(s[:2] for s in sources) == sorted(s[:2] for s in ref_sources)  # every file once
    assert len(docs) == len(ref_docs)

    def paths_per_text(documents, sources_):
        text_of = {d[0]: d[8] for d in documents}
        grouped: dict[str, set] = {}
        for path, _, doc_id, *_ in sources_:
            grouped.setdefault(text_of[doc_id], set()).add(path)
        return grouped

    assert paths_per_text(docs, sources) == paths_per_text(ref_docs, ref_sources)
    assert_sound(db)


def test_ctrl_c_while_the_pool_forks_is_not_lost():
    """A Ctrl-C landing in the after-fork callbacks was printed as 'Exception ignored' and dropped:
    tokenise ran on to the end. Here it lands there every time: the first worker's fork sends it."""
    script = (
        "import os, signal, sys\n"
        "from policylex.tokenise import TokeniserSettings, tokenise_texts\n"
        "os.register_at_fork(after_in_parent=lambda: os.kill(os.getpid(), signal.SIGINT))\n"
        "try:\n"
        "    list(tokenise_texts(['检察机关依法履职。'] * 20, TokeniserSettings(), workers=2))\n"
        "except KeyboardInterrupt:\n"
        "    sys.exit(130)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=RUN_TIMEOUT,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert result.returncode == 130 and "Exception ignored" not in result.stderr, result.stderr


def _holds_write_lock(db: Path) -> bool:
    """Whether another process is inside a write transaction on the corpus (tried without waiting)."""
    con = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as error:
        assert "locked" in str(error) or "busy" in str(error), error
        return True
    finally:
        con.close()


def _has_children(pid: int) -> bool:
    """Whether the process has forked (its worker pool is up): Linux's /proc, as CI's."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        return bool(children.read_text().split())
    for stat in Path("/proc").glob("[0-9]*/stat"):  # a kernel without the children file
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                return True
        except (OSError, IndexError, ValueError):
            continue
    return False


def wait_for(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.01)


def test_normalise_variant_during_an_ingest_stores_the_new_files_with_the_new_variant(reference, tmp_path):
    """The ingest reads the variant, then its workers normalise; a `normalise --variant none` commits in
    between. Made to happen every time: normalise is frozen (SIGSTOP) inside its transaction until the
    ingest has read the variant and started its workers, then let go; the ingest waits for its lock."""
    articles, stages = reference
    db = copy_corpus(stages["ingested"], tmp_path / "c.db")
    new = tmp_path / "new"
    write_corpus(new, 40, seed=11)  # at least 32 files: the ingest starts worker processes
    normalise = policylex("normalise", "--variant", "none", "--workers", "1", "--corpus", str(db))
    ingest = None
    try:
        wait_for(lambda: normalise.poll() is not None or _holds_write_lock(db), "normalise holds the lock")
        normalise.send_signal(signal.SIGSTOP)
        assert _holds_write_lock(db), "normalise finished before it could be held in its transaction"
        assert query(db, "SELECT count(*) FROM meta WHERE key = 'normalise.variant' AND value = 't2s'") == 1
        ingest = policylex("ingest", str(new), "--corpus", str(db))
        wait_for(lambda: ingest.poll() is not None or _has_children(ingest.pid), "the ingest has started its workers")
        assert ingest.poll() is None, ingest.communicate()[1]
    finally:
        normalise.send_signal(signal.SIGCONT)
    _, err = normalise.communicate(timeout=RUN_TIMEOUT)
    assert normalise.returncode == 0, err
    _, err = ingest.communicate(timeout=RUN_TIMEOUT)
    assert ingest.returncode == 0, err
    assert query(db, "SELECT count(*) FROM sources") == ARTICLES + 40
    assert query(db, "SELECT count(*) FROM documents WHERE norm_settings != '{\"variant\":\"none\"}'") == 0
    assert_sound(db)
