"""Document metadata as a whole: how much of it a corpus has and where it came from, and corrections in bulk.

:func:`coverage` counts, per field, the documents that have it by the origin
recorded in ``documents.meta_origin`` (``text``, ``page``, ``path``, ``sidecar``,
a reader's name for a column or meta tag, ``set`` for a correction).  The table
is long (``field origin documents share``): one row per field and origin, and a
``none`` row for the documents without the field, so each field's rows sum to
the documents counted.  A long table keeps the same columns whatever origins a
corpus has (a new origin is a new row, never a new column a script does not
know), and ``pivot(index="field", columns="origin", values="documents")`` gives
the wide view in pandas.

:func:`set_metadata` corrects metadata from a CSV without reading any file
again: a key column (``id``, ``name`` or ``path``, the source path) and one
column per field to correct.  Regions resolve through the gazetteer, dates
parse as at ingest, and the whole file is written in one transaction or not at
all.  The update raises the corpus generation (a trigger on the metadata
columns, see :mod:`policylex.store`), so every cache holding metadata (the
document-term matrix, the slogan counts) is rebuilt by the next analysis.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

from policylex.dates import MAX_YEAR, MIN_YEAR, make_date, parse_date
from policylex.errors import UsageError
from policylex.metadata import Metadata
from policylex.output import Table
from policylex.places import resolve_name
from policylex.store import COUNTED, Corpus, json_dumps

FIELDS = ("title", "date", "year", "province", "city", "source", "url")
KEY_COLUMNS = ("id", "name", "path")
SET_ORIGIN = "set"
NONE = "none"  # the coverage row of documents without the field
UNRECORDED = "unrecorded"  # a value with no origin recorded (a corpus written before origins were kept)
CLEAR = "unknown"  # a cell that empties the field, as the analyses name the group of documents without it
COVERAGE_COLUMNS = ("field", "origin", "documents", "share")


# --- coverage ----------------------------------------------------------------------------


def field_origin(origin: dict[str, str], name: str) -> str:
    """Where a field's value came from; a year follows its date unless it has an origin of its own."""
    if name == "year":
        return origin.get("year") or origin.get("date") or UNRECORDED
    return origin.get(name) or UNRECORDED


def _given(value) -> bool:
    return value is not None and value != "" and value != 0


def count_origins(rows: Iterable[tuple]) -> tuple[int, dict[str, Counter]]:
    """(documents, per field a Counter of origins, ``none`` for the documents without the field).

    Each row is the FIELDS' values then the ``meta_origin`` JSON.
    """
    counts = {name: Counter() for name in FIELDS}
    total = 0
    for row in rows:
        total += 1
        origin = json.loads(row[-1] or "{}")
        for name, value in zip(FIELDS, row):
            counts[name][field_origin(origin, name) if _given(value) else NONE] += 1
    return total, counts


def coverage(corpus: Corpus, *, include_duplicates: bool = False) -> Table:
    """Per field, the documents that have it by origin, and those that do not (``none``).

    Columns: field origin documents share (of the documents counted: duplicates
    left out, as the analyses leave them out, unless ``include_duplicates``).
    """
    where = "" if include_duplicates else f" WHERE {COUNTED}"
    total, counts = count_origins(corpus.db.execute(f"SELECT {', '.join(FIELDS)}, meta_origin FROM documents{where}"))
    rows = []
    for name in FIELDS:
        given = sorted(((o, n) for o, n in counts[name].items() if o != NONE), key=lambda item: (-item[1], item[0]))
        for origin, n in given + [(NONE, counts[name][NONE])]:
            rows.append((name, origin, n, round(n / total, 4) if total else None))
    which = "duplicates included" if include_duplicates else "duplicates left out"
    return Table(COVERAGE_COLUMNS, rows, title=f"Metadata coverage ({total} documents)",
                 notes=[f"{which}; origin: where the value came from (set: `meta set`); none: documents without it"])


# --- corrections --------------------------------------------------------------------------


@dataclass
class Correction:
    """One line of a corrections file: which document, and the cells it gives (empty cells left out)."""

    line: int
    key: str
    values: dict[str, str]


@dataclass
class SetReport:
    path: str
    lines: int = 0
    documents: int = 0  # documents whose metadata changed
    unmatched: list[tuple[int, str]] = field(default_factory=list)  # (line, "no document with name 'x'")

    def problems(self) -> list[str]:
        """Each key that matched no document, as FILE:LINE: reason."""
        return [f"{self.path}:{line}: {reason}" for line, reason in self.unmatched]

    def summary(self) -> list[tuple[str, int]]:
        return [("lines read", self.lines), ("documents changed", self.documents),
                ("keys matching no document", len(self.unmatched))]


def read_corrections(path: str | Path) -> tuple[str, list[Correction]]:
    """(the key column, the corrections) of a CSV; a bad header or cell is a UsageError naming the line."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = [h.strip().lower() for h in next(reader, [])]
            rows = [(reader.line_num, row) for row in reader]
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    except (csv.Error, UnicodeDecodeError) as error:
        raise UsageError(f"{path} is not a UTF-8 CSV: {error}") from None
    keys = [h for h in header if h in KEY_COLUMNS]
    if len(keys) != 1:
        raise UsageError(f"{path}: give exactly one key column, id, name or path (found "
                         f"{', '.join(keys) or 'none'})")
    unknown = [h for h in header if h not in KEY_COLUMNS and h not in FIELDS]
    if unknown:
        raise UsageError(f"{path}: {', '.join(map(repr, unknown))} is not a field; columns are the key and "
                         f"{', '.join(FIELDS)}")
    key_column = keys[0]
    corrections = []
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        cells = dict(zip(header, (cell.strip() for cell in row)))
        if not cells.get(key_column):
            raise UsageError(f"{path}:{line}: no {key_column}")
        values = {name: cells[name] for name in FIELDS if cells.get(name)}
        try:
            check_values(values)
        except ValueError as error:
            raise UsageError(f"{path}:{line}: {error}") from None
        corrections.append(Correction(line, cells[key_column], values))
    return key_column, corrections


def check_values(values: dict[str, str]) -> None:
    """Fail (ValueError) on a date, year or region that no stored document could take."""
    date = values.get("date")
    if date and date != CLEAR and parse_date(date) is None:
        raise ValueError(f"date {date!r} is not a date (write 2021-03-05, 2021-03, 2021 or 2021年3月5日)")
    year = values.get("year")
    if year and year != CLEAR and parse_year(year) is None:
        raise ValueError(f"year {year!r} is not a year between {MIN_YEAR} and {MAX_YEAR}")
    corrected({}, values)  # the checks that need no stored values: region and date against year


def parse_year(text: str) -> int | None:
    """2021, or 2021.0 as pandas writes a year column with gaps; None for anything else."""
    match = re.fullmatch(r"(\d{4})(?:\.0)?", text.strip())
    return int(match[1]) if match and MIN_YEAR <= int(match[1]) <= MAX_YEAR else None


REGION_COLUMNS = ("province", "province_code", "city", "city_code")


def corrected(current: dict, values: dict[str, str]) -> tuple[dict, dict[str, str | None]]:
    """(the columns to write, the origins to change: ``set``, or None to drop) for one document.

    ``current`` holds the stored columns (title … url, province_code, city_code).
    A region resolves through the gazetteer: a province that does not resolve is
    kept as written with no code; a city sets its province too; a city the stored
    (or the given) province does not contain is dropped or refused, so no
    document is left with a contradictory place.  ``unknown`` empties a field.
    """
    out: dict = {}
    origin: dict[str, str | None] = {}
    for name in ("title", "source", "url"):
        if name in values:
            out[name] = None if values[name] == CLEAR else values[name]
            origin[name] = None if values[name] == CLEAR else SET_ORIGIN
    _correct_date(current, values, out, origin)
    _correct_region(current, values, out, origin)
    return out, origin


def _correct_date(current: dict, values: dict[str, str], out: dict, origin: dict) -> None:
    date_text, year_text = values.get("date"), values.get("year")
    if date_text == CLEAR or year_text == CLEAR:
        if (date_text or CLEAR) != CLEAR or (year_text or CLEAR) != CLEAR:
            raise ValueError("date and year: one is unknown, the other given")
        out |= {"date": None, "year": None}
        origin |= {"date": None, "year": None}
        return
    year = parse_year(year_text) if year_text else None
    if date_text:
        date = parse_date(date_text)
        if date is not None and year is not None and date.year != year:
            if date.year is not None:
                raise ValueError(f"date {date_text} is not in year {year}")
            date = make_date(year, date.month, date.day)  # 3月5日 with year 2021
        if date is None:
            return  # reported by check_values
        out |= {"date": date.iso(), "year": date.year}
        origin |= {"date": SET_ORIGIN, "year": SET_ORIGIN}
    elif year is not None:
        stored = parse_date(current.get("date"))
        if stored is None or stored.year != year:
            # A date of another year would contradict the year: keep what is known, the year alone.
            out["date"] = str(year)
            origin["date"] = SET_ORIGIN
        out["year"] = year
        origin["year"] = SET_ORIGIN


def _correct_region(current: dict, values: dict[str, str], out: dict, origin: dict) -> None:
    """The region columns a correction sets, by the rules ingest applies to stated regions.

    (:meth:`policylex.metadata.Metadata.override`); refused here, where a person wrote
    them on purpose: a city in another province than the one given, a "city" that is a
    province, and a city without its province.
    """
    province_text, city_text = values.get("province"), values.get("city")
    if province_text is None and city_text is None:
        return
    if province_text == CLEAR:  # a city without its province would be half a place
        if city_text not in (None, CLEAR):
            raise ValueError(f"province unknown but city {city_text!r} given")
        out |= dict.fromkeys(REGION_COLUMNS)
        origin |= {"province": None, "city": None}
        return
    city = resolve_name(city_text) if city_text and city_text != CLEAR else None
    if city is not None:
        if city.level in ("national", "province"):
            raise ValueError(f"city {city_text!r} is not a city (give it as the province)")
        province = resolve_name(province_text) if province_text else None
        if province_text and (province is None or province.province != city.province):
            raise ValueError(f"city {city_text!r} is in {city.province}, not {province_text}")
    stored = Metadata(**{column: current.get(column) for column in REGION_COLUMNS})
    if city_text == CLEAR:
        stored = replace(stored, city=None, city_code=None)
    result = stored.override({"province": province_text, "city": None if city_text == CLEAR else city_text},
                             SET_ORIGIN)
    # The columns the correction speaks of: the province's when it or a city is given, the
    # city's when it is given or no longer belongs.
    touched = set()
    if province_text or city is not None:
        touched |= {"province", "province_code"}
    if city_text or (result.city, result.city_code) != (stored.city, stored.city_code):
        touched |= {"city", "city_code"}
    out |= {column: getattr(result, column) for column in REGION_COLUMNS if column in touched}
    for name in ("province", "city"):
        if name in touched:
            origin[name] = SET_ORIGIN if getattr(result, name) is not None else None


STORED = ("id", "meta_origin") + FIELDS + ("province_code", "city_code")


def set_metadata(corpus: Corpus, path: str | Path, *, command: str = "meta set") -> SetReport:
    """Apply a corrections CSV (see :func:`read_corrections`) in one transaction.

    A key that matches no document is reported (the others are applied); a key
    that matches several documents, or a document named twice, fails the whole
    file, as does any bad cell.
    """
    key_column, corrections = read_corrections(path)
    report = SetReport(str(path), lines=len(corrections))
    with corpus.transaction() as db:
        find = _finder(db, key_column)
        seen: dict[str, int] = {}
        for correction in corrections:
            ids = find(correction.key)
            where = f"{path}:{correction.line}"
            if not ids:
                report.unmatched.append((correction.line, f"no document with {key_column} {correction.key!r}"))
                continue
            if len(ids) > 1:
                raise UsageError(f"{where}: {key_column} {correction.key!r} matches {len(ids)} documents "
                                 f"({', '.join(sorted(ids))}): key them by id")
            doc_id = ids[0]
            if doc_id in seen:
                raise UsageError(f"{where}: document {doc_id} is corrected on line {seen[doc_id]} already")
            seen[doc_id] = correction.line
            current = dict(db.execute(f"SELECT {', '.join(STORED)} FROM documents WHERE id = ?", (doc_id,)).fetchone())
            try:
                columns, origins = corrected(current, correction.values)
            except ValueError as error:
                raise UsageError(f"{where}: {error}") from None
            recorded = json.loads(current["meta_origin"] or "{}")
            for name, value in origins.items():
                if value is None:
                    recorded.pop(name, None)
                else:
                    recorded[name] = value
            changed = {k: v for k, v in columns.items() if current.get(k) != v}
            if not changed and recorded == json.loads(current["meta_origin"] or "{}"):
                continue
            columns["meta_origin"] = json_dumps(recorded)
            db.execute(f"UPDATE documents SET {', '.join(f'{k} = :{k}' for k in columns)} WHERE id = :id",
                       columns | {"id": doc_id})
            report.documents += 1
        corpus.log(command, "info", f"{path}: " + "; ".join(f"{k}: {v}" for k, v in report.summary()))
        for line, reason in report.unmatched:
            corpus.log(command, "warning", reason, str(path), line)  # not "skipped": no file was left out
    return report


def _finder(db, key_column: str):
    """A function key → the ids of the documents it names."""
    if key_column == "id":
        return lambda key: [r[0] for r in db.execute("SELECT id FROM documents WHERE id = ?", (key,))]
    if key_column == "name":
        return lambda key: [r[0] for r in db.execute("SELECT id FROM documents WHERE name = ?", (key,))]
    # A path as stored (as it was given to ingest), or the same file written another way.
    by_path: dict[str, set[str]] = {}
    for stored, doc_id in db.execute("SELECT path, doc_id FROM sources"):
        by_path.setdefault(stored, set()).add(doc_id)
        by_path.setdefault(os.path.abspath(stored), set()).add(doc_id)
    return lambda key: sorted(by_path.get(key) or by_path.get(os.path.abspath(key)) or ())
