"""Dates as Chinese official pages write them, parsed without guessing.

A date is kept only as precisely as it was written: ``2021年2月`` has no day and
``10月30日`` has no year.  Such partial dates print in ISO 8601's reduced forms
(``2021-02``, ``--10-30``), so that ``year`` is never invented.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

_NUMERALS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "○": 0, "Ｏ": 0, "O": 0}

MIN_YEAR, MAX_YEAR = 1949, 2100


@dataclass(frozen=True, order=True)
class PartialDate:
    year: int | None
    month: int | None
    day: int | None

    def iso(self) -> str:
        """ISO 8601, reduced where parts are unknown: 2021-02-25, 2021-02, 2021, --10-30."""
        if self.year is None:
            return f"--{self.month:02d}-{self.day:02d}" if self.day else f"--{self.month:02d}"
        parts = [f"{self.year:04d}"]
        if self.month:
            parts.append(f"{self.month:02d}")
            if self.day:
                parts.append(f"{self.day:02d}")
        return "-".join(parts)

    @property
    def is_complete(self) -> bool:
        return None not in (self.year, self.month, self.day)


def _chinese_number(text: str) -> int | None:
    """二〇二一 → 2021 (digit by digit); 二十五 → 25; 十 → 10."""
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, units = text.partition("十")
        tens_value = _NUMERALS.get(tens, None) if tens else 1
        units_value = _NUMERALS.get(units, None) if units else 0
        if tens_value is None or units_value is None:
            return None
        return tens_value * 10 + units_value
    digits = [_NUMERALS.get(c) for c in text]
    if None in digits:
        return None
    return int("".join(map(str, digits)))


def make_date(year: int | None, month: int | None, day: int | None) -> PartialDate | None:
    """A PartialDate if the parts form a real (possibly partial) calendar date, else None."""
    if year is not None and not MIN_YEAR <= year <= MAX_YEAR:
        return None
    if month is None:
        return PartialDate(year, None, None) if year is not None and day is None else None
    if not 1 <= month <= 12:
        return None
    if day is not None:
        longest = calendar.monthrange(year if year is not None else 2000, month)[1]
        if not 1 <= day <= longest:
            return None
    return PartialDate(year, month, day)


_CN_DIGIT = "〇零○一二三四五六七八九十"
_NUM = rf"(?:\d{{1,4}}|[{_CN_DIGIT}]{{1,4}})"
# Order matters: the fullest pattern that matches at a position wins.
DATE_PATTERN = re.compile(
    rf"(?P<y>\d{{4}}|[{_CN_DIGIT}]{{4}})\s*年\s*(?P<m>{_NUM})\s*月(?:\s*(?P<d>{_NUM})\s*[日号])?"
    rf"|(?P<y2>\d{{4}})\s*(?P<sep>[-/.])\s*(?P<m2>\d{{1,2}})\s*(?P=sep)\s*(?P<d2>\d{{1,2}})(?!\d)"
    rf"|(?P<y3>\d{{4}})(?P<m3>[01]\d)(?P<d3>[0-3]\d)(?=T|\s|$)"
    rf"|(?<![\d年])(?P<m4>{_NUM})\s*月\s*(?P<d4>{_NUM})\s*[日号]"
)


def _match_to_date(match: re.Match) -> PartialDate | None:
    groups = match.groupdict()
    for y, m, d in (("y", "m", "d"), ("y2", "m2", "d2"), ("y3", "m3", "d3"), (None, "m4", "d4")):
        if groups.get(m) is None:
            continue
        year = _chinese_number(groups[y]) if y else None
        day = _chinese_number(groups[d]) if groups.get(d) else None
        month = _chinese_number(groups[m])
        if (y and year is None) or month is None:
            return None
        return make_date(year, month, day)
    return None


def find_dates(text: str):
    """Every well-formed date in the text, as (start, end, PartialDate)."""
    for match in DATE_PATTERN.finditer(text):
        date = _match_to_date(match)
        if date is not None:
            yield match.start(), match.end(), date


def parse_date(value: str | None) -> PartialDate | None:
    """Parse a date written on its own (a column value, a meta tag).

    Accepts ISO (2023-08-08, 2023-08-08T14:02:00+08:00, 2023-08-08 14:02), slashes and
    dots (2021/3/5, 2021.05.06), Chinese (2021年2月25日, 二〇二一年二月二十五日),
    year-month (2021-02, 2021年2月), a bare year (2021) and month-day (10月30日).
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if re.fullmatch(r"\d{4}", text):
        return make_date(int(text), None, None)
    found = re.fullmatch(r"(\d{4})[-/.](\d{1,2})", text)
    if found:
        return make_date(int(found[1]), int(found[2]), None)
    match = DATE_PATTERN.search(text)
    if match is None or match.start() > 0:
        return None
    return _match_to_date(match)
