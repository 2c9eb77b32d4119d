"""The reuse benchmark: `policylex reuse` on the benchmark corpus with borrowed paragraphs planted in it.

    .venv/bin/python benchmarks/reuse.py                       # 2,000 and 10,000 documents
    .venv/bin/python benchmarks/reuse.py --sizes 2000,100000 --workdir /tmp/reuse-bench

The documents are the benchmark corpus's (``corpus.document_text``: clauses of the
seeds recombined, one in a hundred an exact repost, one in a hundred a repost with
a header and footer), so unrelated documents share many short clauses, and a few
clauses are in thousands of them: the templates.  Into one document in fifty a
paragraph of an earlier document is planted, about 200 characters taken whole from
it with 3 characters changed (a character replaced, one inserted, one deleted), as a
province's notice takes a paragraph of another's.  The planted pairs are the ones to
find: recall is how many of them `policylex reuse` reports (a planted document is
later than its source in corpus order, not always by date, so direction is not
scored), and the other pairs it reports are counted beside them.

Each command runs in its own process (``run.measure``: wall time with start-up,
peak PSS of the process tree).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import random
import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import document_path, document_text  # noqa: E402
from run import _load, measure  # noqa: E402

PLANT_EVERY = 50
PARAGRAPH = 200
EDITS = 3


def is_repost(i: int) -> bool:
    """Whether ``corpus.document_text(i)`` is a repost (flagged at ingest, so never compared)."""
    return i >= 50 and random.Random(f"policylex-bench-{i}").random() < 0.02


def planted_source(i: int) -> int | None:
    """The earlier document (not a repost) whose paragraph document ``i`` takes, or None."""
    if i < PLANT_EVERY or i % PLANT_EVERY or is_repost(i):
        return None
    rng = random.Random(f"reuse-source-{i}")
    while True:
        source = rng.randrange(i)
        if not is_repost(source):
            return source


# Converter pinyin as the traditional seeds have it, 會(huì)議: normalise removes it whole, so a
# paragraph is taken without it (an edit inside 會(huì)議 would leave pinyin in the copy's text).
_PINYIN = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")


def _paragraph(text: str, rng: random.Random) -> str:
    """About 200 characters of a document's body (after its title and date line), 3 characters changed."""
    body = _PINYIN.sub("", "".join(text.split("\n")[2:]) or text)
    start = rng.randrange(max(1, len(body) - PARAGRAPH))
    chars = list(body[start: start + PARAGRAPH])
    for kind in ("replace", "insert", "delete"):
        at = rng.randrange(10, len(chars) - 10)
        if kind == "replace":
            chars[at] = "某"
        elif kind == "insert":
            chars.insert(at, "的")
        else:
            del chars[at]
    return "".join(chars)


def planted(n: int) -> list[tuple[str, str]]:
    """The (source, copy) names of the planted pairs among documents 0 … n-1."""
    return [(f"{planted_source(i):06d}", f"{i:06d}") for i in range(n) if planted_source(i) is not None]


def write(folder: Path, n: int) -> None:
    """Write documents 0 … n-1 (UTF-8), the planted ones with their paragraph."""
    shutil.rmtree(folder, ignore_errors=True)
    for i in range(n):
        text = document_text(i)
        source = planted_source(i)
        if source is not None:
            rng = random.Random(f"reuse-paragraph-{i}")
            lines = text.split("\n")
            lines.insert(len(lines) // 2 + 1, _paragraph(document_text(source), rng))
            text = "\n".join(lines)
        path = document_path(folder, i)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def generator_hash() -> str:
    """What the documents are made by: corpus.py and the planting code here."""
    import inspect

    code = "".join(inspect.getsource(f) for f in (is_repost, planted_source, _paragraph, write)) + _PINYIN.pattern
    return hashlib.sha256((HERE / "corpus.py").read_bytes() + code.encode()).hexdigest()[:12]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="2000,10000")
    parser.add_argument("--workdir", type=Path, default=Path(".bench/reuse"))
    options = parser.parse_args(argv)
    options.workdir.mkdir(parents=True, exist_ok=True)
    policylex = [sys.executable, "-m", "policylex"]
    lines = [f"cores: {len(os.sched_getaffinity(0))}; load average before: {_load()}", "",
             "| documents | command | wall s | peak MB | pairs | planted found | note |", "|---|---|---|---|---|---|---|"]
    for size in [int(s) for s in options.sizes.split(",")]:
        folder = options.workdir / f"docs-{size}"
        corpus = options.workdir / f"reuse-{size}.db"
        env = dict(os.environ, POLICYLEX_CORPUS=str(corpus))
        # The corpus is made again only when the generators changed (ingest is most of the time).
        made_by = generator_hash()
        marker = options.workdir / f"reuse-{size}.complete"
        if not (corpus.exists() and marker.exists() and marker.read_text() == made_by):
            write(folder, size)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{corpus}{suffix}").unlink(missing_ok=True)
            seconds, _, _ = measure(policylex + ["ingest", str(folder)], env)
            print(f"{size}: ingest {seconds:.1f} s", file=sys.stderr, flush=True)
            marker.write_text(made_by)
        pairs_planted = planted(size)
        for args in (["reuse", "--format", "csv"], ["reuse", "--clusters", "--format", "csv"],
                     ["reuse", "--by", "province", "--format", "csv"]):
            seconds, peak, out = measure(policylex + args, env)
            rows = list(csv.DictReader(io.StringIO(out)))
            found = note = ""
            if args == ["reuse", "--format", "csv"]:
                pairs = {frozenset((r["earlier"], r["later"])) for r in rows}
                hits = sum(frozenset(p) in pairs for p in pairs_planted)
                found = f"{hits}/{len(pairs_planted)}"
                other = len(pairs - {frozenset(p) for p in pairs_planted})
                note = f"{other} other pairs"
            lines.append(f"| {size:,} | `policylex {' '.join(args)}` | {seconds:.2f} | {peak:.0f} | {len(rows)} | "
                         f"{found} | {note} |")
            print(lines[-1], file=sys.stderr, flush=True)
    lines[0] += f", after: {_load()}"
    print("\n".join(lines))


if __name__ == "__main__":
    main()
