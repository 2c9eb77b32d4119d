"""Throughput on a Dask cluster against the local pool, and the single writer's ceiling.

    .venv/bin/python benchmarks/cluster.py --size 10000 [--dask-workers 1,2] [--repeat 2] [--writer-only] [--json out.json]

For each backend (the local pool of all cores, then a `dask scheduler` with 1, 2, …
single-threaded `dask worker` processes on loopback) a fresh corpus gets `ingest`,
`tokenise` and `slogans scan`, each a `policylex` command timed from outside.  Then
the writer alone: the same stages in this process, each batch's work timed and taken
off (:class:`Replay`); what is left is the main process's share (reading batches from
the corpus, writing results, one transaction a batch), the ceiling of one SQLite
writer whatever the cluster.  Last, a shard's merge: the finished corpus copied into
an empty one, table by table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import measure, prepare  # noqa: E402  (the benchmark corpus and the timer of run.py)

STAGES = (("ingest", ["ingest", "{docs}"]), ("tokenise", ["tokenise"]), ("slogans scan", ["slogans", "scan"]))


def volumes(corpus: Path, input_bytes: int) -> dict[str, float]:
    """MB each stage moves: input files (ingest), normalised text (tokenise, scan), tokens written."""
    with sqlite3.connect(corpus) as db:
        norm = db.execute("SELECT sum(length(CAST(norm_text AS BLOB))) FROM documents").fetchone()[0] or 0
        tokens = db.execute("SELECT sum(length(CAST(tokens AS BLOB))) + sum(length(term_counts)) "
                            "FROM document_tokens").fetchone()[0] or 0
    return {"input": input_bytes / 1e6, "norm": norm / 1e6, "tokens": tokens / 1e6}


def group_cpu(group: int) -> float:
    """CPU seconds (user + system) the live processes of a process group have used."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # pgrp; utime and stime are fields 14 and 15 of stat
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


class Cluster:
    """A scheduler and ``workers`` single-threaded worker processes on loopback."""

    def __init__(self, workers: int, folder: Path):
        self.folder, self.workers, self.processes = folder, workers, []
        self.address_file = folder / f"scheduler-{workers}.json"

    def cpu(self) -> float:
        """CPU seconds the scheduler and the workers have used so far."""
        return sum(group_cpu(process.pid) for process in self.processes)

    def __enter__(self) -> str:
        dask = str(Path(sys.executable).parent / "dask")
        log = open(self.folder / f"cluster-{self.workers}.log", "w")
        self.processes.append(subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                                                "--no-dashboard", "--scheduler-file", str(self.address_file)],
                                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        deadline = time.monotonic() + 60
        while not self.address_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.processes.append(subprocess.Popen(
            [dask, "worker", "--scheduler-file", str(self.address_file), "--nworkers", str(self.workers),
             "--nthreads", "1", "--no-dashboard", "--local-directory", str(self.folder / "dask-workers")],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        from distributed import Client

        with Client(scheduler_file=str(self.address_file), timeout=60) as client:
            client.wait_for_workers(self.workers, timeout=120)
            return client.scheduler.address

    def __exit__(self, *exc) -> None:
        for process in reversed(self.processes):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
        self.address_file.unlink(missing_ok=True)


def best_of(repeat: int, run, *args) -> list[dict]:
    """Each stage's row from the fastest of ``repeat`` runs (this machine is shared: the slow runs are others' load)."""
    runs = [run(*args) for _ in range(repeat)]
    return [min(rows, key=lambda row: row["seconds"]) for rows in zip(*runs)]


def run_stages(docs: Path, corpus: Path, extra: list[str], input_bytes: int, cluster: Cluster | None = None,
               ) -> list[dict]:
    """Each stage as a command: wall seconds, and CPU seconds of the command, its workers and the cluster's."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{corpus}{suffix}").unlink(missing_ok=True)
    rows = []
    for name, args in STAGES:
        command = [sys.executable, "-m", "policylex", *[a.format(docs=docs) for a in args], "--corpus", str(corpus),
                   *extra]
        before, cluster_before = resource.getrusage(resource.RUSAGE_CHILDREN), cluster.cpu() if cluster else 0.0
        seconds, peak, _ = measure(command)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command and the pool workers it waited for
        client = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        workers = cluster.cpu() - cluster_before if cluster else 0.0
        rows.append({"stage": name, "seconds": seconds, "peak_mb": peak, "cpu": client + workers, "client_cpu": client})
        print(f"  {name:<13} {seconds:7.2f} s, CPU {client + workers:.2f} s (the command's {client:.2f} s)",
              file=sys.stderr, flush=True)
    moved = volumes(corpus, input_bytes)
    for row, key in zip(rows, ("input", "norm", "norm")):
        row["mb"] = moved[key]
    return rows


class Replay:
    """A map_batches backend that works each batch out in this process and keeps count of the time it took.

    The run's time less this is the writer's: reading batches, writing results.
    """

    def __init__(self):
        self.compute_seconds = self.compute_cpu = 0.0

    def map_batches(self, function, batches, *, initializer, initargs=(), chunksize=8):
        initializer(*initargs)
        for batch in batches:
            started, cpu = time.perf_counter(), time.process_time()
            results = [function(item) for item in batch]
            self.compute_seconds += time.perf_counter() - started
            self.compute_cpu += time.process_time() - cpu
            yield batch, results


def writer_ceiling(docs: Path, folder: Path, input_bytes: int) -> list[dict]:
    from policylex import Corpus
    from policylex.parallel import using
    from policylex.slogans import scan

    corpus_path = folder / "writer.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{corpus_path}{suffix}").unlink(missing_ok=True)
    rows = []
    with Corpus.open(corpus_path, create=True) as corpus:
        for name, call in (("ingest", lambda: corpus.ingest([str(docs)])), ("tokenise", lambda: corpus.tokenise()),
                           ("slogans scan", lambda: scan(corpus))):
            replay = Replay()
            started, cpu = time.perf_counter(), time.process_time()
            with using(replay):
                call()
            total, total_cpu = time.perf_counter() - started, time.process_time() - cpu
            rows.append({"stage": name, "seconds": total - replay.compute_seconds, "compute": replay.compute_seconds,
                         "cpu": total_cpu - replay.compute_cpu, "compute_cpu": replay.compute_cpu})
            print(f"  writer {name:<13} {rows[-1]['seconds']:7.2f} s, CPU {rows[-1]['cpu']:.2f} s (the work, taken "
                  f"off: {replay.compute_seconds:.2f} s, CPU {replay.compute_cpu:.2f} s)",
                  file=sys.stderr, flush=True)
    moved = volumes(corpus_path, input_bytes)
    rows[0]["mb"], rows[0]["norm_mb"] = moved["input"], moved["norm"]
    rows[1]["mb"], rows[1]["tokens_mb"] = moved["norm"], moved["tokens"]
    rows[2]["mb"] = moved["norm"]
    return rows


SHARD_TABLES = ("documents", "sources", "signatures", "terms", "document_tokens", "slogan_scans", "slogan_hits")


def merge_ceiling(shard: Path, folder: Path) -> dict:
    """A finished corpus copied into an empty one table by table (ATTACH, INSERT … SELECT): a shard's merge."""
    from policylex import Corpus

    target = folder / "merged.db"
    with Corpus.open(target, create=True) as corpus:
        db = corpus.db
        db.execute("ATTACH DATABASE ? AS shard", (str(shard),))
        started = time.perf_counter()
        with corpus.transaction():
            for table in SHARD_TABLES:
                db.execute(f"INSERT INTO main.{table} SELECT * FROM shard.{table}")
        seconds = time.perf_counter() - started
        db.execute("DETACH DATABASE shard")
    size = sum(Path(f"{shard}{suffix}").stat().st_size for suffix in ("", "-wal") if Path(f"{shard}{suffix}").exists())
    print(f"  merge of a {size / 1e6:.0f} MB corpus {seconds:7.2f} s", file=sys.stderr, flush=True)
    return {"seconds": seconds, "mb": size / 1e6}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--dask-workers", default="1,2")
    parser.add_argument("--workdir", type=Path, default=Path(os.environ.get("BENCH_WORKDIR", ".bench")))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--repeat", type=int, default=1, help="keep each stage's fastest of this many runs")
    parser.add_argument("--writer-only", action="store_true", help="only the writer alone (no backends)")
    args = parser.parse_args(argv)
    docs = args.workdir / f"docs-{args.size}"
    print(f"corpus of {args.size:,} documents in {docs}", file=sys.stderr, flush=True)
    input_bytes = prepare(docs, args.size, 0)
    result: dict = {"size": args.size, "repeat": args.repeat, "cores": len(os.sched_getaffinity(0)), "load_before": os.getloadavg(),
                    "backends": {}}
    with tempfile.TemporaryDirectory(dir=args.workdir) as scratch:
        folder = Path(scratch)
        if not args.writer_only:
            print("local pool", file=sys.stderr, flush=True)
            result["backends"]["local pool"] = best_of(args.repeat, run_stages, docs, folder / "local.db", [],
                                                       input_bytes)
        for workers in [] if args.writer_only else map(int, args.dask_workers.split(",")):
            print(f"dask, {workers} worker(s)", file=sys.stderr, flush=True)
            cluster = Cluster(workers, folder)
            with cluster as address:
                result["backends"][f"dask {workers}"] = best_of(args.repeat, run_stages, docs, folder / "dask.db",
                                                                ["--scheduler", address], input_bytes, cluster)
        print("the writer alone", file=sys.stderr, flush=True)
        result["writer"] = best_of(args.repeat, writer_ceiling, docs, folder, input_bytes)
        result["merge"] = merge_ceiling(folder / "writer.db", folder)
    result["load_after"] = os.getloadavg()
    print(markdown(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return result


def markdown(result: dict) -> str:
    lines = [f"{result['size']:,} documents, fastest of {result['repeat']} runs; cores: {result['cores']}; load average before: "
             + " ".join(f"{x:.2f}" for x in result["load_before"]) + ", after: "
             + " ".join(f"{x:.2f}" for x in result["load_after"]), "",
             "| backend | stage | wall s | MB/s | docs/s | CPU s (command's) | docs per CPU s | peak MB (command) |",
             "|---|---|---|---|---|---|---|---|"]
    for backend, rows in result["backends"].items():
        for row in rows:
            lines.append(f"| {backend} | {row['stage']} | {row['seconds']:.2f} | {row['mb'] / row['seconds']:.2f} | "
                         f"{result['size'] / row['seconds']:,.0f} | {row['cpu']:.2f} ({row['client_cpu']:.2f}) | "
                         f"{result['size'] / row['cpu']:,.0f} | {row['peak_mb']:.0f} |")
    for row in result["writer"]:
        lines.append(f"| the writer alone | {row['stage']} | {row['seconds']:.2f} | {row['mb'] / row['seconds']:.2f} | "
                     f"{result['size'] / row['seconds']:,.0f} | {row['cpu']:.2f} | {result['size'] / row['cpu']:,.0f} | |")
    for row in result["writer"]:
        lines.append(f"| the work alone, 1 process | {row['stage']} | {row['compute']:.2f} | "
                     f"{row['mb'] / row['compute']:.2f} | {result['size'] / row['compute']:,.0f} | "
                     f"{row['compute_cpu']:.2f} | {result['size'] / row['compute_cpu']:,.0f} | |")
    writer = {row["stage"]: row for row in result["writer"]}
    merge = result["merge"]
    lines.append(f"| a shard's merge | ATTACH, INSERT … SELECT | {merge['seconds']:.2f} | "
                 f"{merge['mb'] / merge['seconds']:.2f} (corpus file) | {result['size'] / merge['seconds']:,.0f} | | | |")
    lines += ["", f"writer: ingest {writer['ingest']['norm_mb'] / writer['ingest']['seconds']:.2f} MB/s of normalised "
              f"text stored; tokenise {writer['tokenise']['tokens_mb'] / writer['tokenise']['seconds']:.2f} MB/s of "
              "tokens and term counts stored"]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
