"""Which documents an analysis counts, and how it groups them.

Every analysis selects documents with ``where`` conditions (``year=2021``,
``province!=辽宁省``, ``year=2020,2021``) and groups them ``by`` a field.  The
rules live here once, on a :class:`DocumentSet` of per-document metadata arrays,
whether the numbers come from tokens (the document-term matrix) or from the text
(slogans).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from policylex.errors import UsageError
from policylex.store import COUNTED, Corpus

FIELDS = ("id", "name", "date", "year", "province", "city", "source")
GROUP_FIELDS = ("year", "province", "city", "source", "doc")
UNKNOWN = "unknown"


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
        """``field=value`` or ``field!=value``; several values with commas: ``year=2020,2021``."""
        negate = "!=" in condition
        field, sep, value = condition.partition("!=" if negate else "=")
        field = field.strip()
        if not sep or not field:
            raise UsageError(f"--where {condition!r}: write field=value, e.g. year=2021 or province=辽宁省")
        if field not in FIELDS and field != "doc":
            raise UsageError(f"--where {field!r}: no such field; choose from {', '.join(GROUP_FIELDS + ('date',))}")
        wanted = {canonical_value(field, v) for v in value.split(",")}
        mask = np.isin(self.group_labels(field), list(wanted))
        return ~mask if negate else mask

    def group_labels(self, field: str) -> np.ndarray:
        """Each document's value of ``field`` as a label, ``unknown`` where it has none."""
        if field == "doc":
            return self.meta["name"]
        if field not in FIELDS:
            raise UsageError(f"--by {field!r}: no such field; choose from {', '.join(GROUP_FIELDS)}")
        values = self.meta[field]
        if field == "year":
            return np.array([str(y) if y else UNKNOWN for y in values.tolist()], dtype=object)
        return np.array([v if v else UNKNOWN for v in values.tolist()], dtype=object)

    def groups(self, rows: np.ndarray, by: str | None) -> tuple[list[str], list[np.ndarray], np.ndarray]:
        """(group labels sorted, ``unknown`` last; the rows in each group; each row's group number)."""
        if by is None:
            return ["all"], [rows], np.zeros(rows.size, dtype=np.int64)
        labels = self.group_labels(by)[rows]
        names = sorted(set(labels.tolist()), key=lambda g: (g == UNKNOWN, g))
        position = {name: i for i, name in enumerate(names)}
        group_of_row = np.fromiter((position[label] for label in labels.tolist()), dtype=np.int64, count=rows.size)
        return names, [rows[group_of_row == i] for i in range(len(names))], group_of_row


def canonical_value(field: str, value: str) -> str:
    """A --where value as stored: 辽宁 / 遼寧 → 辽宁省 for regions."""
    value = value.strip()
    if field in ("province", "city") and value and value != UNKNOWN:
        from policylex.places import resolve_name

        place = resolve_name(value)
        if place is not None:
            return (place.province if field == "province" else place.city) or value
    return value


def metadata_arrays(rows: list, fields=FIELDS) -> dict[str, np.ndarray]:
    """Column arrays of ``fields`` from database rows; None becomes '' (0 for year)."""
    arrays = {}
    for f in fields:
        values = [row[f] if row[f] is not None else (0 if f == "year" else "") for row in rows]
        arrays[f] = np.array(values, dtype=np.int64 if f == "year" else str)
    return arrays


def load_documents(corpus: Corpus, *, extra: tuple[str, ...] = ()) -> DocumentSet:
    """Every document's metadata straight from the corpus (tokenised or not), in corpus order.

    ``extra`` adds stored columns (``chars``, ``province_code``, …) to ``meta``.
    """
    columns = ", ".join(FIELDS + extra)
    rows = corpus.db.execute(f"SELECT {columns}, {COUNTED} AS counted FROM documents ORDER BY seq").fetchall()
    meta = metadata_arrays(rows, FIELDS)
    for f in extra:
        numeric = f in ("chars", "token_count")
        meta[f] = np.array([(row[f] or 0) if numeric else (row[f] or "") for row in rows],
                           dtype=np.int64 if numeric else str)
    return DocumentSet(meta, np.array([bool(row["counted"]) for row in rows], dtype=bool))
