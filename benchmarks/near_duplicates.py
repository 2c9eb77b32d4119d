"""Which near-duplicates a labelled set gets flagged, with and without the floor for short texts.

    .venv/bin/python benchmarks/near_duplicates.py [DEVSET_DIR] [--show N]

The folder (default ``../shared/data/devset``) is copied to a scratch folder and
ingested twice into fresh corpora, once with the near-duplicate rules as they are
and once without the floor for short texts (``dedup.SHORT_SHINGLES = 0``); every
flagged pair is listed with the two texts' lengths and shingle counts, and the
pairs that differ between the two runs are printed side by side for reading.

The copy leaves out ``truth.csv`` and the set's own notes, and gives files holding
one JSON object a form every reader takes (a list of one record; the Taiwan law
files, whose text is nested, as plain text), so that every document is ingested.
Any folder will do: the figures in README (ingest) are from the development set
and from three quarters of kiang/www.tainan.gov.tw at b98fae15 (``docs/data/``
2019/04-06, 2022/07-09 and 2024/01-03, extracted with ``git archive``):

    set                       documents  flags without  with the floor
    development set                 756              7              7
    Tainan 2019 Q2                 2070            504            502
    Tainan 2022 Q3                 2492            456            452
    Tainan 2024 Q1                 1723            290            282
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DEVSET = ROOT.parent / "shared" / "data" / "devset"
SKIP = {"truth.csv", "README.md", "SOURCES.md"}


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def stage(devset: Path, scratch: Path) -> Path:
    """A copy of the set that this branch's readers take whole (see the module's docstring)."""
    out = scratch / "devset"
    for path in sorted(devset.rglob("*")):
        relative = path.relative_to(devset)
        if not path.is_file() or relative.as_posix() in SKIP:
            continue
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".json":
            record = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(record, dict) and "content" in record:
                target.write_text(json.dumps([record], ensure_ascii=False), encoding="utf-8")
            else:
                target.with_suffix(".txt").write_text("\n".join(_strings(record)), encoding="utf-8")
            continue
        shutil.copy(path, target)
    return out


def flagged(folder: Path, corpus_path: Path, floor: bool) -> dict[str, dict]:
    """Ingest ``folder``; each near-duplicate's name → its original's name, score, lengths, shingle counts."""
    from policylex import Corpus, dedup

    saved = dedup.SHORT_SHINGLES
    dedup.SHORT_SHINGLES = saved if floor else 0  # the check runs in this process: workers only sign texts
    try:
        with Corpus.open(corpus_path, create=True) as corpus:
            corpus.ingest([str(folder)], workers=1)
            rows = corpus.db.execute(
                "SELECT (SELECT path FROM sources WHERE doc_id = d.id LIMIT 1) AS path, d.norm_text, "
                "(SELECT path FROM sources WHERE doc_id = o.id LIMIT 1) AS of, o.norm_text AS of_text, "
                "d.near_duplicate_score FROM documents d JOIN documents o ON o.id = d.near_duplicate_of").fetchall()
            documents = corpus.count()
    finally:
        dedup.SHORT_SHINGLES = saved
    out = {}
    for row in rows:
        a, b = dedup.shingles(row["norm_text"]), dedup.shingles(row["of_text"])
        containment, jaccard = dedup.shingle_similarity(a, b)
        out[str(Path(row["path"]).relative_to(folder))] = dict(
            of=str(Path(row["of"]).relative_to(folder)), chars=(len(row["norm_text"]), len(row["of_text"])),
            shingles=(a.size, b.size), containment=round(containment, 3), jaccard=round(jaccard, 3),
            text=row["norm_text"], of_text=row["of_text"])
    print(f"{'with' if floor else 'without'} the floor: {documents} documents, {len(out)} near-duplicates flagged",
          file=sys.stderr)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("devset", nargs="?", type=Path, default=DEFAULT_DEVSET)
    parser.add_argument("--show", type=int, default=400, help="Characters of each text to print.")
    args = parser.parse_args()
    if not args.devset.is_dir():
        sys.exit(f"no labelled set at {args.devset}")
    with tempfile.TemporaryDirectory() as scratch:
        folder = stage(args.devset, Path(scratch))
        without = flagged(folder, Path(scratch) / "without.db", floor=False)
        with_floor = flagged(folder, Path(scratch) / "with.db", floor=True)
    for title, names, source in (("flagged without the floor only", without.keys() - with_floor.keys(), without),
                                 ("flagged with the floor only", with_floor.keys() - without.keys(), with_floor),
                                 ("flagged in both", with_floor.keys() & without.keys(), with_floor)):
        print(f"\n## {title}: {len(names)}")
        for name in sorted(names):
            pair = source[name]
            print(f"\n{name}\n  of {pair['of']}\n  chars {pair['chars']} shingles {pair['shingles']} "
                  f"containment {pair['containment']} jaccard {pair['jaccard']}")
            print("  A: " + pair["text"][:args.show].replace("\n", " / "))
            print("  B: " + pair["of_text"][:args.show].replace("\n", " / "))


if __name__ == "__main__":
    main()
