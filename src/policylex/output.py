"""One renderer for every command: a rich table for people, CSV/TSV/JSON/JSONL for scripts.

Data goes to stdout; the CLI sends everything else to stderr.  Non-ASCII text is
written as it is, so Chinese stays readable in every format.
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass, field
from enum import Enum
from typing import IO, Any, Iterable, Iterator, Sequence


class Format(str, Enum):
    table = "table"
    csv = "csv"
    tsv = "tsv"
    json = "json"
    jsonl = "jsonl"


@dataclass
class Table:
    """Rows with fixed, named columns: what every analysis function returns."""

    columns: Sequence[str]
    rows: Iterable[Sequence[Any]]
    title: str | None = None
    notes: list[str] = field(default_factory=list)
    show_header: bool = True

    def _kept_rows(self) -> Sequence[Sequence[Any]]:
        """The rows, kept once read: rows streamed from the corpus (an export) are read once and kept,
        so that ``to_pandas()`` and ``records()`` give them every time they are asked."""
        if not isinstance(self.rows, (list, tuple)):
            self.rows = list(self.rows)
        return self.rows

    def records(self) -> Iterator[dict[str, Any]]:
        for row in self._kept_rows():
            yield dict(zip(self.columns, row))

    def to_pandas(self):
        """The table as a pandas DataFrame, as often as asked (pandas is not a dependency: install it to use this)."""
        pd = pandas()
        return pd.DataFrame(list(self._kept_rows()), columns=list(self.columns))


def pandas():
    """pandas, which policylex does not depend on (``pip install 'policylex[notebook]'`` brings it)."""
    try:
        import pandas
    except ImportError:
        from policylex.errors import UsageError

        raise UsageError("DataFrames need pandas, which policylex does not install: pip install pandas") from None
    return pandas


def cell_text(value: Any) -> str:
    """A value as people read it (the rich table, the HTML report): 4 decimals, small p-values in e-notation."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value != 0 and abs(value) < 1e-4:
            return f"{value:.2e}"  # p-values: 0 would claim certainty
        return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)


def render(table: Table, fmt: Format | str = Format.table, stream: IO[str] | None = None) -> None:
    stream = stream or sys.stdout
    fmt = Format(fmt)
    if fmt is Format.table:
        _render_rich(table, stream)
    elif fmt in (Format.csv, Format.tsv):
        writer = csv.writer(stream, delimiter="," if fmt is Format.csv else "\t", lineterminator="\n")
        writer.writerow(table.columns)
        for row in table.rows:
            writer.writerow(["" if v is None else v for v in row])
    elif fmt is Format.jsonl:
        for record in _streamed(table):
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        stream.write("[")
        for i, record in enumerate(_streamed(table)):
            stream.write(("," if i else "") + "\n  " + json.dumps(record, ensure_ascii=False))
        stream.write("\n]\n")
    stream.flush()


def _streamed(table: Table) -> Iterator[dict[str, Any]]:
    """The records as they come: an export of 100,000 documents is written without being held."""
    return (dict(zip(table.columns, row)) for row in table.rows)


def _render_rich(table: Table, stream: IO[str]) -> None:
    from rich.console import Console
    from rich.table import Table as RichTable

    rich_table = RichTable(title=table.title, title_justify="left", header_style="bold", show_header=table.show_header)
    rows = [list(row) for row in table.rows]
    for i, column in enumerate(table.columns):
        numeric = bool(rows) and all(isinstance(r[i], (int, float)) or r[i] is None for r in rows)
        rich_table.add_column(column, justify="right" if numeric else "left", overflow="fold")
    for row in rows:
        rich_table.add_row(*(cell_text(v) for v in row))
    console = Console(file=stream, soft_wrap=False, highlight=False)
    console.print(rich_table)
    for note in table.notes:
        console.print(note, style="dim")
