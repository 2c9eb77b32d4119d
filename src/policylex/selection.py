"""Which documents an analysis counts, and how it groups them.

Every analysis selects documents with ``where`` conditions (``year=2021``,
``province!=辽宁省``, ``year=2020,2021``) and groups them ``by`` a field.  The
rules live here once, on a :class:`DocumentSet` of per-document metadata arrays,
whether the numbers come from tokens (the document-term matrix) or from the text
(slogans).
"""

from __future__ import annotations

import operator as operator_module
import re
import warnings
from dataclasses import dataclass

import numpy as np

from policylex.errors import UnknownGroupWarning, UsageError
from policylex.store import COUNTED, Corpus

FIELDS = ("id", "name", "date", "year", "province", "city", "source")
GROUP_FIELDS = ("year", "province", "city", "source", "doc")
# Denominators and administrative codes, for analyses that report them (trends).
SIZE_FIELDS = ("chars", "token_count")  # numbers, 0 for none
CODE_FIELDS = ("province_code", "city_code")  # GB/T 2260, '' for none
UNKNOWN = "unknown"
# Above this share of documents in a year's or region's unknown group, grouping warns (UnknownGroupWarning).
UNKNOWN_WARNING_SHARE = 0.2
METADATA_GROUPS = ("year", "province", "city")
_CONDITION = re.compile(r"^\s*(?P<field>\w*)\s*(?P<operator>!=|>=|<=|=|>|<)(?P<value>.*)$", re.S)


def group_fields(by: str | None) -> tuple[str, ...]:
    """The fields of a ``by``: ``None`` → (); ``province`` → (province,); ``province,year`` → (province, year)."""
    if not by:
        return ()
    fields = tuple(f.strip() for f in by.split(","))
    for field in fields:
        if field not in GROUP_FIELDS:
            raise UsageError(f"by {by!r}: no such field {field!r}; choose from {', '.join(GROUP_FIELDS)}, "
                             "or several joined by commas (province,year)", option="by")
    if len(set(fields)) < len(fields):
        raise UsageError(f"by {by!r}: a field is named twice", option="by")
    return fields


@dataclass
class Grouping:
    """Documents split into groups: one group per combination of the fields' values that occurs."""

    fields: tuple[str, ...]
    keys: list[tuple[str, ...]]  # each group's value of each field, ``unknown`` where it has none
    members: list[np.ndarray]  # the rows in each group, in corpus order
    group_of_row: np.ndarray  # each selected row's group number

    @property
    def labels(self) -> list[str]:
        """One label per group: the value, or the values joined by a space (``山东省 2023``); ``all`` ungrouped."""
        return [" ".join(key) for key in self.keys] if self.fields else ["all"]


@dataclass
class DocumentSet:
    """Metadata of a corpus's documents, one array entry per document, in corpus order."""

    meta: dict[str, np.ndarray]  # FIELDS, '' for none; year 0 for none
    counted: np.ndarray  # bool per document: not an exact or near duplicate

    @property
    def n_docs(self) -> int:
        return self.counted.size

    def rows(self, *, include_duplicates: bool = False, where: list[str] | None = None) -> np.ndarray:
        """Indices of the documents selected by ``where`` (and not duplicates, unless asked)."""
        mask = np.ones(self.n_docs, dtype=bool) if include_duplicates else self.counted.copy()
        for condition in where or []:
            mask &= self.condition_mask(condition)
        return np.flatnonzero(mask)

    def condition_mask(self, condition: str) -> np.ndarray:
        """``field=value`` or ``field!=value`` (several values with commas: ``year=2020,2021``), or a
        comparison of a year or date: ``year>=2020``, ``date<2021-07`` (an unknown year or date never holds)."""
        match = _CONDITION.match(condition)
        if not match or not match["field"]:
            raise UsageError(f"where {condition!r}: write field=value, e.g. year=2021, province=辽宁省 or year>=2020",
                             option="where")
        field, operator, value = match["field"], match["operator"], match["value"].strip()
        if field not in FIELDS and field != "doc":
            raise UsageError(f"where: no such field {field!r}; choose from {', '.join(GROUP_FIELDS + ('date',))}",
                             option="where")
        if operator in ("=", "!="):
            wanted = {canonical_value(field, v) for v in value.split(",")}
            mask = np.isin(self.group_labels(field), list(wanted))
            return ~mask if operator == "!=" else mask
        if field == "year":
            if not value.isdigit():
                raise UsageError(f"where {condition!r}: compare the year with a number (year>=2020)", option="where")
            values, known, bound = self.meta["year"], self.meta["year"] > 0, int(value)
        elif field == "date":
            values, bound = self.meta["date"], value
            known = (values != "") & ~np.char.startswith(values, "-")  # --10-30: no year, no place in time
        else:
            raise UsageError(f"where {condition!r}: only year and date compare with {operator}", option="where")
        compare = {">=": operator_module.ge, "<=": operator_module.le, ">": operator_module.gt,
                   "<": operator_module.lt}[operator]
        return known & compare(values, bound)

    def group_labels(self, field: str) -> np.ndarray:
        """Each document's value of ``field`` as a label, ``unknown`` where it has none."""
        if field == "doc":
            return self.meta["name"]
        if field not in FIELDS:
            raise UsageError(f"by: no such field {field!r}; choose from {', '.join(GROUP_FIELDS)}", option="by")
        values = self.meta[field]
        if field == "year":
            return np.where(values > 0, values.astype(str), UNKNOWN)
        return np.where(values == "", UNKNOWN, values)

    def grouping(self, rows: np.ndarray, by: str | None) -> Grouping:
        """The selected ``rows`` grouped by one field or several (``province,year``).

        Groups are sorted field by field, each field's values in order with
        ``unknown`` last.  Vectorised: no Python loop over documents.
        """
        fields = group_fields(by)
        if not fields:
            return Grouping((), [()], [rows], np.zeros(rows.size, dtype=np.int64))
        if rows.size == 0:
            return Grouping(fields, [], [], np.zeros(0, dtype=np.int64))
        code = np.zeros(rows.size, dtype=np.int64)
        values: list[list[str]] = []
        for field in fields:
            labels = self.group_labels(field)[rows]
            if field in METADATA_GROUPS:
                warn_if_mostly_unknown(field, labels)
            names, inverse = np.unique(labels, return_inverse=True)
            ordered = sorted(names.tolist(), key=lambda name: (name == UNKNOWN, name))
            position = {name: i for i, name in enumerate(ordered)}
            rank = np.array([position[name] for name in names.tolist()], dtype=np.int64)
            code = code * len(ordered) + rank[inverse.ravel()]
            values.append(ordered)
        present, group_of_row = np.unique(code, return_inverse=True)
        group_of_row = group_of_row.ravel()
        keys = []
        for combined in present.tolist():
            key = []
            for ordered in reversed(values):
                combined, index = divmod(combined, len(ordered))
                key.append(ordered[index])
            keys.append(tuple(reversed(key)))
        order = np.argsort(group_of_row, kind="stable")
        members = np.split(rows[order], np.cumsum(np.bincount(group_of_row, minlength=len(keys)))[:-1])
        return Grouping(fields, keys, members, group_of_row)


def warn_if_mostly_unknown(field: str, labels: np.ndarray) -> None:
    """Warn when more than UNKNOWN_WARNING_SHARE of the documents grouped by ``field`` have none.

    Every analysis that groups comes through :meth:`DocumentSet.grouping`, so this
    is said here once rather than by each command; the CLI prints the warning once
    on stderr with the ways to fix the metadata.
    """
    unknown = int((labels == UNKNOWN).sum())
    if labels.size and unknown > UNKNOWN_WARNING_SHARE * labels.size:
        warnings.warn(UnknownGroupWarning(field, unknown, int(labels.size)), stacklevel=3)


def canonical_value(field: str, value: str) -> str:
    """A --where value as stored: 辽宁 / 遼寧 → 辽宁省 for regions."""
    value = value.strip()
    if field in ("province", "city") and value and value != UNKNOWN:
        from policylex.places import resolve_name

        place = resolve_name(value)
        if place is not None:
            return (place.province if field == "province" else place.city) or value
    return value


def numeric_field(field: str) -> bool:
    """Whether the field is a number (0 for none) rather than text ('' for none)."""
    return field == "year" or field in SIZE_FIELDS


def metadata_arrays(rows: list, fields=FIELDS) -> dict[str, np.ndarray]:
    """Column arrays of ``fields``, the rows' first columns in that order (database rows or tuples);
    None becomes '' (0 for year, chars, token_count)."""
    arrays = {}
    for i, f in enumerate(fields):
        missing = 0 if numeric_field(f) else ""
        values = [row[i] if row[i] is not None else missing for row in rows]
        arrays[f] = np.array(values, dtype=np.int64 if numeric_field(f) else str)
    return arrays


def load_documents(corpus: Corpus, *, extra: tuple[str, ...] = ()) -> DocumentSet:
    """Every document's metadata straight from the corpus (tokenised or not), in corpus order.

    ``extra`` adds stored columns (``chars``, ``province_code``, …) to ``meta``.
    """
    columns = ", ".join(FIELDS + extra)
    rows = corpus.db.execute(f"SELECT {columns}, {COUNTED} AS counted FROM documents_with_tokens ORDER BY seq").fetchall()
    meta = metadata_arrays(rows, FIELDS + extra)
    return DocumentSet(meta, np.array([bool(row["counted"]) for row in rows], dtype=bool))
