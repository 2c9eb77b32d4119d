"""The per-document stages on a real Dask cluster on loopback: the same corpus as the local pool's.

A LocalCluster of worker processes for the library, and `dask scheduler` and
`dask worker` processes for the command line, one of whose workers kills itself
mid-run.  Every wait is bounded.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policylex import Corpus
from policylex.cli import app
from policylex.cluster import KILL_ONCE, dask_backend
from synthetic import write_corpus

pytest.importorskip("distributed")  # an extra; `make setup` installs it with the tests

ARTICLES = 300
BIN = Path(sys.executable).parent
START_TIMEOUT = 60


def state(db: Path) -> tuple[list, ...]:
    """Documents, sources, tokens (with their term ids) and formulation matches, without timestamps."""
    con = sqlite3.connect(db)
    try:
        return (
            con.execute("SELECT id, seq, name, title, date, province, city, source, norm_hash, norm_settings, chars, "
                        "duplicate_of, near_duplicate_of, near_duplicate_score FROM documents ORDER BY seq").fetchall(),
            con.execute("SELECT path, record, doc_id, reader, encoding, raw_sha256, fields_hash FROM sources "
                        "ORDER BY path, record").fetchall(),
            con.execute("SELECT seq, tokens, token_count, term_counts FROM document_tokens ORDER BY seq").fetchall(),
            con.execute("SELECT id, term FROM terms ORDER BY id").fetchall(),
            con.execute("SELECT * FROM slogan_hits ORDER BY 1, 2, 3, 4").fetchall(),
        )
    finally:
        con.close()


@pytest.fixture(scope="module")
def docs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cluster") / "docs"
    write_corpus(folder, ARTICLES)
    return folder


@pytest.fixture(scope="module")
def local(docs, tmp_path_factory) -> tuple[list, ...]:
    """The corpus the local pool of two processes makes: ingest, tokenise, scan."""
    db = tmp_path_factory.mktemp("local") / "local.db"
    with Corpus.open(db, create=True) as corpus:
        corpus.ingest([str(docs)], workers=2)
        corpus.tokenise(workers=2)
        from policylex.slogans import scan

        scan(corpus, workers=2)
    return state(db)


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        client.wait_for_workers(2, timeout=START_TIMEOUT)
        yield client


def build(db: Path, docs: Path, client, *, ship: bool = False) -> tuple[list, ...]:
    from policylex.slogans import scan

    with Corpus.open(db, create=True) as corpus, dask_backend(client=client, ship=ship):
        corpus.ingest([str(docs)])
        corpus.tokenise()
        scan(corpus)
    return state(db)


def test_the_cluster_makes_the_local_pools_corpus(docs, local, client, tmp_path, monkeypatch):
    import policylex.ingest
    import policylex.tokenise

    monkeypatch.setattr(policylex.ingest, "BATCH_FILES", 70)  # several batches, each in pieces
    monkeypatch.setattr(policylex.tokenise, "BATCH_DOCUMENTS", 64)
    assert build(tmp_path / "dask.db", docs, client) == local
    assert len(local[0]) > 200 and local[4]


def test_shipped_bytes_and_scattered_settings_make_the_same_corpus(docs, local, client, tmp_path, monkeypatch):
    import policylex.cluster

    monkeypatch.setattr(policylex.cluster, "SCATTER_ABOVE", 0)  # every job's settings sent to the workers once
    assert build(tmp_path / "shipped.db", docs, client, ship=True) == local


def test_relative_paths_name_the_clients_files(client, tmp_path, monkeypatch):
    write_corpus(tmp_path / "docs", 40, per_folder=20)
    monkeypatch.chdir(tmp_path)  # the workers started elsewhere: they work in the client's directory
    states = []
    for name, backend in (("local", None), ("dask", client)):
        with Corpus.open(tmp_path / f"{name}.db", create=True) as corpus:
            if backend is None:
                corpus.ingest(["docs"], workers=1)
            else:
                with dask_backend(client=backend):
                    corpus.ingest(["docs"])
        states.append(state(tmp_path / f"{name}.db")[:2])
    assert states[0] == states[1] and len(states[0][1]) == 40


def test_renormalise_on_the_cluster_equals_local(docs, client, tmp_path):
    states = []
    for name, backend in (("local", None), ("dask", client)):
        db = tmp_path / f"{name}.db"
        with Corpus.open(db, create=True) as corpus:
            corpus.ingest([str(docs)], workers=2)
            if backend is None:
                corpus.normalise(variant="none", workers=2)
            else:
                with dask_backend(client=backend):
                    corpus.normalise(variant="none")
        states.append(state(db)[:2])
    assert states[0] == states[1]


def test_ctrl_c_cancels_the_tasks_and_keeps_whole_batches(docs, client, tmp_path, monkeypatch):
    import policylex.ingest

    monkeypatch.setattr(policylex.ingest, "BATCH_FILES", 50)
    def progress(done, total):
        if done == 60:  # inside the second batch's transaction
            raise KeyboardInterrupt

    db = tmp_path / "interrupted.db"
    with Corpus.open(db, create=True) as corpus, dask_backend(client=client):
        with pytest.raises(KeyboardInterrupt):
            corpus.ingest([str(docs)], progress=progress)
    assert len(state(db)[1]) == 50  # the first batch, not a file of the second
    deadline = time.monotonic() + 20
    while client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) == 0


def test_batches_interrupted_while_tasks_run_are_cancelled(client, monkeypatch):
    from policylex.cluster import DaskBackend
    from policylex.ingest import _init_job, _renormalise_one

    cancelled = []
    cancel = client.cancel
    monkeypatch.setattr(client, "cancel", lambda futures: (cancelled.extend(futures), cancel(futures)))

    def batches():
        yield [("id", "文本" * 10_000, "", "")] * 64
        raise KeyboardInterrupt  # Ctrl-C while the first batch's tasks are out

    with pytest.raises(KeyboardInterrupt):
        list(DaskBackend(client).map_batches(_renormalise_one, batches(), initializer=_init_job,
                                             initargs=({"variant": "t2s"},)))
    assert cancelled and all(future.status == "cancelled" for future in cancelled)  # the batch's pieces
    deadline = time.monotonic() + 20
    while client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) == 0


# --- the command line on `dask scheduler` and `dask worker` processes -----------------------------


@pytest.fixture
def cluster_of_processes(tmp_path):
    """(scheduler address, kill marker): a scheduler and two single-threaded workers, one of which dies once."""
    marker = tmp_path / "killed"
    address_file = tmp_path / "scheduler.json"
    environment = {**os.environ, KILL_ONCE: str(marker)}
    logs = (tmp_path / "scheduler.log").open("w"), (tmp_path / "workers.log").open("w")
    processes = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                                   "--no-dashboard", "--scheduler-file", str(address_file)],
                                  stdout=logs[0], stderr=subprocess.STDOUT, start_new_session=True)]
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not address_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert address_file.exists(), (tmp_path / "scheduler.log").read_text()
        processes.append(subprocess.Popen(
            [str(BIN / "dask"), "worker", "--scheduler-file", str(address_file), "--nworkers", "2", "--nthreads", "1",
             "--no-dashboard", "--local-directory", str(tmp_path / "workers")],
            stdout=logs[1], stderr=subprocess.STDOUT, env=environment, start_new_session=True))
        from distributed import Client

        with Client(scheduler_file=str(address_file), timeout=START_TIMEOUT) as client:
            client.wait_for_workers(2, timeout=START_TIMEOUT)
            address = client.scheduler.address
        yield address, marker
    finally:
        for process in reversed(processes):
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in reversed(processes):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=20)
        for log in logs:
            log.close()


def test_commands_on_a_cluster_with_a_worker_killed_give_the_local_corpus(docs, local, cluster_of_processes,
                                                                           tmp_path):
    address, marker = cluster_of_processes
    db = tmp_path / "cli.db"
    runner = CliRunner()
    for command in (["ingest", str(docs)], ["tokenise"], ["slogans", "scan"]):
        result = runner.invoke(app, [*command, "--corpus", str(db), "--scheduler", address])
        assert result.exit_code == 0, result.output
    assert marker.exists()  # a worker died mid-run, and its piece was done again elsewhere
    assert state(db) == local


def test_scheduler_option_without_dask_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    result = CliRunner().invoke(app, ["tokenise", "--corpus", str(tmp_path / "c.db"), "--scheduler", "tcp://127.0.0.1:1"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "policylex: error: running on a Dask cluster needs Dask: pip install 'policylex[dask]'"]


def test_scheduler_option_errors(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["tokenise", "--corpus", str(tmp_path / "c.db"), "--workers", "2",
                                 "--scheduler", "tcp://127.0.0.1:1"])
    assert result.exit_code == 2 and "not both" in result.output
    result = runner.invoke(app, ["ingest", str(tmp_path), "--corpus", str(tmp_path / "c.db"), "--ship"])
    assert result.exit_code == 2 and "give --scheduler too" in result.output
    assert not (tmp_path / "c.db").exists()


def test_the_cluster_benchmark_runs_and_prints_one_table(tmp_path, capsys):
    """benchmarks/cluster.py on 100 documents: its table's shape, never its times."""
    from conftest import ROOT

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import cluster as benchmark

    result = benchmark.main(["--size", "100", "--dask-workers", "1", "--workdir", str(tmp_path)])
    out = capsys.readouterr().out
    assert set(result["backends"]) == {"local pool", "dask 1"}
    for stage in ("ingest", "tokenise", "slogans scan"):
        assert f"| local pool | {stage} |" in out and f"| dask 1 | {stage} |" in out
        assert f"| the writer alone | {stage} |" in out
    assert "| a shard's merge |" in out and result["merge"]["mb"] > 0
