"""The benchmark: synthetic corpora of 1k, 10k and 100k documents through every stage, one table.

    make bench                                   # 1k, 10k and 100k documents
    BENCH_SIZES=1000 make bench                  # just 1k
    .venv/bin/python benchmarks/run.py --sizes 1000,10000 --workdir /tmp/bench --json out.json

Each stage is one ``policylex`` command run in its own process, so wall times
include start-up; peak memory is the largest total proportional set size (PSS)
of the process and its workers, sampled every 20 ms (PSS, unlike RSS, does not
count twice the pages forked workers share with their parent).  In the same run, the baselines (what a
user would otherwise write) are timed on the same texts, each in its own
process too: plain single-process ``jieba.lcut`` with the HMM on and off, and a
naive ``collections.Counter`` frequency.  Ratios are ours ÷ baseline: a speed
ratio for throughput (above 1 is faster), a time ratio for wall time (below 1
is faster).  A stage whose command this policylex does not have yet
(``policylex CMD --help`` fails) is skipped and says so.

MB are megabytes (10⁶ bytes): of the input files for ingest, of the normalised
texts (UTF-8) for normalise and tokenise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import write_corpus  # noqa: E402

DEFAULT_SIZES = (1_000, 10_000, 100_000)
NEW_DOCUMENTS = 10


@dataclass(frozen=True)
class Stage:
    """One row of the table: a policylex command and what its throughput is measured against."""

    name: str
    args: tuple[str, ...]
    note: str = ""


# The analyses on the tokenised corpus, each from the cached matrix.  One entry a stage:
# slogans, trends and report join as soon as their commands exist.
ANALYSES = (
    Stage("freq", ("freq", "--top", "20", "--format", "csv")),
    Stage("tfidf", ("tfidf", "--by", "province", "--top", "10", "--format", "csv")),
    Stage("keyness", ("keyness", "--target", "year=2020", "--top", "20", "--format", "csv")),
    Stage("slogans", ("slogans", "--format", "csv"), note="first run: scans the documents for the lexicon"),
    Stage("slogans again", ("slogans", "--format", "csv"), note="from the stored matches"),
    Stage("trends", ("trends", "--format", "csv")),
    Stage("trends bootstrap", ("trends", "--interval", "bootstrap", "--format", "csv"),
          note="1,000 resamples of documents within each year"),
    Stage("topics", ("topics", "--k", "20", "--format", "csv"),
          note="NMF on TF-IDF, 20 topics fitted on at most 5,000 documents, every document's shares solved"),
    Stage("reuse", ("reuse", "--format", "csv"), note="shared passages (none planted here: "
          "benchmarks/reuse.py plants and scores them)"),
    Stage("report", ("report", "--out", "{workdir}/report-{size}")),
)


@dataclass
class Row:
    size: int
    stage: str
    command: str
    docs: int | None = None
    mb: float | None = None
    seconds: float | None = None
    peak_mb: float | None = None
    baseline: str = ""
    baseline_value: float | None = None  # MB/s for throughput stages, seconds for the others
    ratio: float | None = None
    note: str = ""

    @property
    def mb_per_s(self) -> float | None:
        return self.mb / self.seconds if self.mb and self.seconds else None

    @property
    def docs_per_s(self) -> float | None:
        return self.docs / self.seconds if self.docs and self.seconds else None


@dataclass
class Result:
    cores: int
    load_before: str
    load_after: str = ""
    python: str = sys.version.split()[0]
    settings: dict[str, str] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)


# --- measuring a process ---------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(b")") + 2 :].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _tree_memory(pid: int) -> int:
    """Memory of ``pid`` and all its descendants, in bytes: the sum of their proportional set sizes.

    PSS shares each page among the processes that map it, so forked workers
    sharing their parent's dictionary are not counted twice (their RSS would be).
    """
    tree = _children() if os.path.isdir("/proc") else {}
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(tree.get(current, []))
        try:
            with open(f"/proc/{current}/smaps_rollup") as handle:
                for line in handle:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            pass
    return total


def measure(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak memory MB of the process tree, what it printed)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_memory(process.pid))
            stop.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    if process.returncode not in (0, 1):  # ingest exits 1 when it skipped something
        sys.stderr.write(stderr.decode("utf-8", "replace"))
        raise SystemExit(f"benchmark: {' '.join(command)} failed with status {process.returncode}")
    return seconds, peak / 1e6, stdout.decode("utf-8", "replace")


# --- the run ------------------------------------------------------------------------


class Bench:
    def __init__(self, workdir: Path, *, baselines: bool = True):
        self.workdir = workdir
        self.baselines = baselines
        self.policylex = [sys.executable, "-m", "policylex"]
        self.result = Result(cores=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
                             load_before=_load())

    def available(self, command: str) -> bool:
        probe = subprocess.run(self.policylex + [command, "--help"], capture_output=True)
        return probe.returncode == 0

    def run(self, size: int, stage: Stage, corpus: Path, **fields) -> Row | None:
        args = [a.format(workdir=self.workdir, size=size) for a in stage.args]
        if not self.available(args[0]):
            self.result.rows.append(Row(size, stage.name, " ".join(args), note="skipped: command not available"))
            return None
        env = dict(os.environ, POLICYLEX_CORPUS=str(corpus))
        seconds, peak, _ = measure(self.policylex + args, env)
        fields.setdefault("note", stage.note)
        row = Row(size, stage.name, "policylex " + " ".join(args), seconds=seconds, peak_mb=peak, **fields)
        self.result.rows.append(row)
        print(f"  {stage.name:<10} {seconds:8.2f} s  {peak:8.0f} MB", file=sys.stderr, flush=True)
        return row

    def size(self, size: int) -> None:
        print(f"{size} documents", file=sys.stderr, flush=True)
        docs = self.workdir / f"docs-{size}"
        input_bytes = prepare(docs, size, 0)
        new = self.workdir / f"new-{size}"
        new_bytes = prepare(new, NEW_DOCUMENTS, size)
        corpus = self.workdir / f"bench-{size}.db"
        for suffix in ("", "-wal", "-shm", ".dtm.npz"):
            Path(f"{corpus}{suffix}").unlink(missing_ok=True)
        shutil.rmtree(self.workdir / f"report-{size}", ignore_errors=True)

        self.run(size, Stage("ingest", ("ingest", str(docs))), corpus, docs=size, mb=input_bytes / 1e6)
        documents, text_mb = corpus_size(corpus)
        self.run(size, Stage("normalise", ("normalise",)), corpus, docs=documents, mb=text_mb)
        tokenise = self.run(size, Stage("tokenise", ("tokenise",)), corpus, docs=documents, mb=text_mb)
        if self.baselines:
            self.compare_jieba(tokenise, corpus, hmm=True)
        self.result.rows.append(Row(size, "corpus file", str(corpus.name), mb=file_mb(corpus), note="after tokenise"))
        matrix = self.run(size, Stage("matrix", ("freq", "--top", "20", "--format", "csv")), corpus,
                          note="first analysis after tokenise (which builds the cached matrix)")
        self.result.rows.append(Row(size, "matrix file", corpus.name + ".dtm.npz", mb=file_mb(Path(f"{corpus}.dtm.npz"))))
        timed = {}
        for stage in ANALYSES:
            row = timed[stage.name] = self.run(size, stage, corpus)
            if row is not None and stage.name == "freq" and self.baselines:
                self.compare_counter(row, corpus)
        ingest = next(r for r in self.result.rows if r.size == size and r.stage == "ingest")
        if self.baselines and timed.get("tfidf") is not None:
            self.compare_script(size, docs, input_bytes, [ingest, tokenise, matrix, timed["tfidf"]])
        self.run(size, Stage("ingest +10", ("ingest", str(new))), corpus, docs=NEW_DOCUMENTS, mb=new_bytes / 1e6,
                 note="10 new documents into the corpus")
        row = self.run(size, Stage("tokenise +10", ("tokenise",)), corpus, docs=NEW_DOCUMENTS)
        row.note = f"re-tokenised {tokenised_last(corpus)} documents"
        documents, text_mb = corpus_size(corpus)
        no_hmm = self.run(size, Stage("tokenise --no-hmm", ("tokenise", "--no-hmm")), corpus, docs=documents, mb=text_mb)
        if self.baselines:
            self.compare_jieba(no_hmm, corpus, hmm=False)

    def compare_jieba(self, row: Row, corpus: Path, *, hmm: bool) -> None:
        out = self.workdir / f"jieba-{'hmm' if hmm else 'nohmm'}.txt"
        command = [sys.executable, str(HERE / "baselines.py"), "jieba", str(corpus), str(out)] + ([] if hmm else ["--no-hmm"])
        _, peak, printed = measure(command)
        seconds = float(printed.strip())  # in jieba only: reading texts and checking tokens not counted
        baseline_mbs = row.mb / seconds
        row.baseline = f"jieba.lcut, 1 process, HMM {'on' if hmm else 'off'} ({seconds:.1f} s, {peak:.0f} MB)"
        row.baseline_value = baseline_mbs
        row.ratio = row.mb_per_s / baseline_mbs
        same = documents = 0
        with sqlite3.connect(corpus) as db, out.open(encoding="utf-8") as theirs:
            for (ours,), line in zip(db.execute("SELECT tokens FROM documents_with_tokens ORDER BY seq"), theirs):
                documents += 1
                same += (ours or "") == line.rstrip("\n")
        row.note = f"tokens identical to jieba's: {same}/{documents} documents"
        out.unlink()

    def compare_script(self, size: int, docs: Path, input_bytes: int, stages: list[Row]) -> None:
        """The user's whole job, ingest + tokenise + freq + tfidf as four commands, against the script."""
        out = self.workdir / "script.tsv"
        seconds, peak, _ = measure([sys.executable, str(HERE / "baselines.py"), "script", str(docs), str(out)])
        ours = sum(row.seconds for row in stages)
        self.result.rows.append(Row(
            size, "end to end", "policylex ingest && tokenise && freq && tfidf", docs=size, mb=input_bytes / 1e6,
            seconds=ours, peak_mb=max(row.peak_mb or 0 for row in stages),
            baseline=f"hand-written script: read, OpenCC t2s, jieba.lcut in 2 processes, Counter, TfidfVectorizer "
                     f"({seconds:.1f} s, {peak:.0f} MB)", baseline_value=seconds, ratio=seconds / ours,
            note="the four commands' wall times, each in its own process"))
        print(f"  end to end {ours:8.2f} s against the script's {seconds:.2f} s", file=sys.stderr, flush=True)
        out.unlink(missing_ok=True)

    def compare_counter(self, row: Row, corpus: Path) -> None:
        out = self.workdir / "counter.tsv"
        seconds, peak, _ = measure([sys.executable, str(HERE / "baselines.py"), "counter", str(corpus), str(out)])
        row.baseline = f"collections.Counter over stored tokens ({seconds:.2f} s, {peak:.0f} MB)"
        row.baseline_value = seconds
        row.ratio = row.seconds / seconds
        out.unlink()


def prepare(folder: Path, n: int, start: int) -> int:
    """Generate the documents unless a complete set is there already; the input size in bytes."""
    marker = folder / ".complete"
    generator = hashlib.sha256((HERE / "corpus.py").read_bytes()).hexdigest()[:12]
    expected = f"{start} {n} {generator}"
    if not (marker.exists() and marker.read_text() == expected):
        shutil.rmtree(folder, ignore_errors=True)
        write_corpus(folder, n, start)
        marker.write_text(expected)
    return sum(p.stat().st_size for p in folder.rglob("*.txt"))


def corpus_size(corpus: Path) -> tuple[int, float]:
    with sqlite3.connect(corpus) as db:
        documents, length = db.execute("SELECT count(*), sum(length(CAST(norm_text AS BLOB))) FROM documents").fetchone()
    return documents, (length or 0) / 1e6


def tokenised_last(corpus: Path) -> str:
    with sqlite3.connect(corpus) as db:
        row = db.execute("SELECT message FROM log WHERE command = 'tokenise' ORDER BY id DESC LIMIT 1").fetchone()
    for part in (row[0] if row else "").split("; "):
        if part.startswith("tokenised now: "):
            return part.removeprefix("tokenised now: ")
    return "?"


def file_mb(path: Path) -> float | None:
    return path.stat().st_size / 1e6 if path.exists() else None


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def settings(corpus: Path) -> dict[str, str]:
    if not corpus.exists():
        return {}
    with sqlite3.connect(corpus) as db:
        return {k: v for k, v in db.execute("SELECT key, value FROM meta WHERE key IN "
                                             "('normalise.opencc', 'tokenise.settings')")}


# --- the table -------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None:
        return ""
    return f"{value:,.{digits}f}" if value < 1000 else f"{value:,.0f}"


COLUMNS = ("size", "stage", "docs/s", "MB/s", "wall s", "peak MB", "size MB", "ours÷baseline", "baseline", "note")


def table_rows(result: Result) -> list[tuple[str, ...]]:
    rows = []
    for r in result.rows:
        throughput = r.stage in ("ingest", "normalise", "tokenise", "tokenise --no-hmm", "ingest +10", "end to end")
        size_mb = r.mb if r.stage.endswith("file") else None
        ratio = ""
        if r.ratio is not None:
            ratio = f"{r.ratio:.1f}× speed" if r.mb_per_s else f"{r.ratio:.2f}× time"
        rows.append((f"{r.size:,}" if r.size else "", r.stage, _fmt(r.docs_per_s, 0) if throughput else "",
                     _fmt(r.mb_per_s) if throughput else "", _fmt(r.seconds), _fmt(r.peak_mb, 0), _fmt(size_mb, 1),
                     ratio, r.baseline, r.note))
    return rows


def markdown(result: Result) -> str:
    lines = [f"cores: {result.cores}; load average before: {result.load_before}, after: {result.load_after}; "
             f"Python {result.python}"]
    lines += [f"{k}: {v}" for k, v in result.settings.items()]
    lines.append("")
    lines.append("| " + " | ".join(COLUMNS) + " |")
    lines.append("|" + "---|" * len(COLUMNS))
    for row in table_rows(result):
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> Result:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env_sizes = os.environ.get("BENCH_SIZES")
    parser.add_argument("--sizes", default=env_sizes or ",".join(map(str, DEFAULT_SIZES)),
                        help="comma-separated corpus sizes in documents (default 1000,10000,100000; or BENCH_SIZES)")
    parser.add_argument("--workdir", type=Path, default=Path(os.environ.get("BENCH_WORKDIR", ".bench")),
                        help="where corpora and their files go (default .bench; reused between runs)")
    parser.add_argument("--no-baselines", action="store_true", help="skip the jieba and Counter baselines")
    parser.add_argument("--json", type=Path, help="also write the results here")
    options = parser.parse_args(argv)
    options.workdir.mkdir(parents=True, exist_ok=True)
    bench = Bench(options.workdir.resolve(), baselines=not options.no_baselines)
    sizes = [int(s.replace("_", "")) for s in options.sizes.split(",") if s.strip()]
    for size in sizes:
        bench.size(size)
    bench.result.load_after = _load()
    bench.result.settings = settings(bench.workdir / f"bench-{sizes[-1]}.db")
    seconds, _, _ = measure(bench.policylex + ["--help"])
    bench.result.rows.append(Row(0, "--help", "policylex --help", seconds=seconds, note="start-up"))
    print(markdown(bench.result))
    if options.json:
        options.json.write_text(json.dumps(asdict(bench.result), ensure_ascii=False, indent=1), encoding="utf-8")
    return bench.result


if __name__ == "__main__":
    main()
