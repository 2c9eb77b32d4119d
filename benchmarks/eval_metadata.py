"""Score metadata extraction against a labelled set: precision and coverage per kind and field.

    make eval                                              # ../shared/data/devset and seeds/
    .venv/bin/python benchmarks/eval_metadata.py DEVSET_DIR [--errors FIELD] [--json out.json]

The labelled set is a folder with ``truth.csv`` (columns ``path, kind, date, year,
province, city, title, source``; a row of a table export is ``file.csv#row=N``).  The
folder is ingested as a researcher would ingest it, with no sidecar and no options,
into a fresh corpus; each document's stored metadata is then compared with its label.

- **coverage**: the share of labelled documents given a value at all;
- **precision**: the share of those values that equal the label (date, year, province and
  city exactly; title and source after white space is removed and both are converted to
  simplified script).

A label that is empty counts for neither (there is nothing to be right about), except
that a value given where the label is empty counts against precision for date and year
(a date where none can be trusted is a wrong date) and for city where the province is
labelled (a national or provincial body has no city).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

FIELDS = ("date", "year", "province", "city", "title", "source")
# An empty label means "no value can be trusted" for these: a value there is wrong.
EMPTY_IS_A_LABEL = ("date", "year")
SEEDS_TRUTH = {  # the seeds as README shows them (and tests/test_seeds.py checks)
    "000_3043bcc22da62dc9": ("2023-08-08", "2023", "山东省", "青岛市"),
    "001_51ab78aa7355bd4e": ("2022-05-10", "2022", "全国", ""),
    "002_130074c844f02ffc": ("", "", "辽宁省", ""),
    "003_d72a806f25a1289a": ("2021-02-25", "2021", "广东省", "湛江市"),
    "004_62f5ec710eaefd93": ("--10-30", "", "辽宁省", "丹东市"),
}


def _plain(value: str | None) -> str:
    from policylex.normalise import convert_script

    return convert_script(re.sub(r"\s+", "", value or ""))


def _same(field: str, given: str, truth: str) -> bool:
    if field in ("title", "source"):
        return _plain(given) == _plain(truth)
    return given == truth


def ingest_folder(folder: Path, corpus_path: Path) -> dict[str, dict[str, str]]:
    """Ingest ``folder`` into a new corpus; each document's metadata keyed by path relative to it (``#row=N``)."""
    from policylex import Corpus

    started = time.perf_counter()
    # The collections inside the folder, not the folder: its truth.csv names every file, and
    # would be read as their metadata table (a sidecar), which is what is being measured.
    inputs = sorted(str(p) for p in folder.iterdir() if p.is_dir() or p.suffix not in (".csv", ".md"))
    with Corpus.open(corpus_path, create=True) as corpus:
        report = corpus.ingest(inputs)
    print(f"ingested {folder}: {report.added} documents, {len(report.skipped)} skipped "
          f"in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    for skipped in report.skipped:
        print(f"  skipped {skipped}", file=sys.stderr)
    db = sqlite3.connect(corpus_path)
    db.row_factory = sqlite3.Row
    found: dict[str, dict[str, str]] = {}
    prefix = str(folder).rstrip("/") + "/"
    for row in db.execute("SELECT s.path, s.record, d.* FROM sources s JOIN documents d ON d.id = s.doc_id"):
        key = row["path"][len(prefix):] if row["path"].startswith(prefix) else row["path"]
        if row["record"]:
            key += "#row=" + row["record"].split()[-1]
        found[key] = {f: "" if row[f] is None else str(row[f]) for f in FIELDS} | {
            "origin": row["meta_origin"] or "{}"}
    db.close()
    return found


def score(truth: list[dict[str, str]], found: dict[str, dict[str, str]]):
    """{(kind, field): [labelled, given, right, labelled and given]} and the list of mistakes."""
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    mistakes: list[tuple[str, str, str, str]] = []
    for label in truth:
        got = found.get(label["path"], {})
        for kind in (label["kind"], "all"):
            for field in FIELDS:
                want, given = label.get(field, "") or "", got.get(field, "")
                # No city where the province is known: a city given there is wrong (a central body's).
                empty_is_label = field in EMPTY_IS_A_LABEL or (field == "city" and label.get("province"))
                if not want and not (given and empty_is_label):
                    continue
                cell = counts[(kind, field)]
                cell[0] += bool(want)
                if given:
                    cell[1] += 1
                    cell[3] += bool(want)
                    right = _same(field, given, want)
                    cell[2] += right
                    if not right and kind == "all":
                        mistakes.append((field, label["path"], given, want))
                elif kind == "all" and want:
                    mistakes.append((field, label["path"], "", want))
    return counts, mistakes


def table(counts) -> list[dict[str, str]]:
    kinds = sorted({k for k, _ in counts}, key=lambda k: (k == "all", k))
    rows = []
    for kind in kinds:
        row = {"kind": kind, "documents": str(max(counts[(kind, f)][0] for f in FIELDS if (kind, f) in counts))}
        for field in FIELDS:
            labelled, given, right, covered = counts.get((kind, field), (0, 0, 0, 0))
            row[f"{field} P"] = f"{100 * right / given:.1f}" if given else "–"
            row[f"{field} C"] = f"{100 * covered / labelled:.1f}" if labelled else "–"
        rows.append(row)
    return rows


def print_markdown(rows: list[dict[str, str]]) -> None:
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(row[c] for c in columns) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("devset", nargs="?", default=str(Path(__file__).resolve().parents[1] / ".." / "shared" /
                                                         "data" / "devset"))
    parser.add_argument("--seeds", default=str(Path(__file__).resolve().parents[1] / "seeds"))
    parser.add_argument("--errors", metavar="FIELD", help="print every mistake for FIELD (or 'all')")
    parser.add_argument("--kind", help="with --errors: only this kind of document")
    parser.add_argument("--json", metavar="FILE", help="write the scores and mistakes as JSON")
    args = parser.parse_args(argv)
    devset = Path(args.devset).resolve()
    if not (devset / "truth.csv").exists():
        print(f"no labelled set at {devset} (truth.csv missing): nothing to evaluate", file=sys.stderr)
        return 2
    with open(devset / "truth.csv", encoding="utf-8", newline="") as handle:
        truth = list(csv.DictReader(handle))
    kinds = {row["path"]: row["kind"] for row in truth}
    with tempfile.TemporaryDirectory() as tmp:
        found = ingest_folder(devset, Path(tmp) / "eval.db")
        seeds = ingest_folder(Path(args.seeds).resolve(), Path(tmp) / "seeds.db")
    counts, mistakes = score(truth, found)
    print(f"\nDevelopment set: {len(truth)} labelled documents, {len(found)} ingested\n")
    print_markdown(table(counts))
    seed_errors = [
        (Path(name).stem, field, got.get(field, ""), want)
        for name, got in seeds.items()
        for field, want in zip(("date", "year", "province", "city"), SEEDS_TRUTH.get(Path(name).stem, ()))
        if got.get(field, "") != want
    ]
    print(f"\nSeeds: {len(seeds)} documents, {len(seed_errors)} fields differ from README's table")
    for error in seed_errors:
        print("  seed", *error, sep="  ")
    if args.errors:
        print()
        for field, path, given, want in mistakes:
            if args.errors in ("all", field) and (not args.kind or kinds.get(path) == args.kind):
                print(f"{field}\t{path}\tgot {given!r}\twant {want!r}\t{found.get(path, {}).get('origin', '')}")
    if args.json:
        Path(args.json).write_text(json.dumps({"table": table(counts), "mistakes": mistakes, "seeds": seed_errors},
                                              ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
