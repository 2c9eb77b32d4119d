"""Metadata that collections keep in their paths: dates in file names, year folders, region folders.

Researchers file documents the way sites publish them: ``2019/20190305_01.txt``,
``广东/2021/…``, ``guangdong/…``, ``…条例(2024-12-31).md``.  Two strengths of cue are
told apart, because they are not equally reliable:

- a full date in the file name (``20190305``, ``2019-03-05``, ``2019_03_05``,
  ``2019年3月5日``, ``(2024-12-31)``) names the document itself: it is *strong*, and
  wins over the text;
- a year or year-month folder (``2019/``, ``2019/03/``) or a file name that opens with
  a year (``2014政府工作报告``) files the document under a year, which is often the year
  it reports on (a 2022 statistical bulletin, issued in 2023, under ``2022/``): it is
  *weak*, used only where the text gives no date, or gives one without a year.

Region folders (full or short names, 广东 / 广州 / 广东省地方法规, the pinyin of the
provincial-level divisions, 6-digit GB/T 2260 codes, issuing bodies such as 公安部)
name the collection's region, and win over the text.

``--path-pattern`` states a collection's naming outright, e.g.
``{province}/{year}/{date:%Y%m%d}_*.txt``; see :func:`compile_pattern`.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import PurePath

from policylex.dates import MAX_YEAR, MIN_YEAR, PartialDate, make_date
from policylex.errors import UsageError
from policylex.places import (NATIONAL_PLACE, Place, gazetteer, issuing_region, not_a_region_after, place_by_code,
                              resolve_name)


@dataclass(frozen=True)
class PathMetadata:
    date: PartialDate | None = None  # from the file name: the document's own date
    year_hint: PartialDate | None = None  # from a year (or year-month) folder or a year-led file name
    place: Place | None = None

    def __bool__(self) -> bool:
        return bool(self.date or self.year_hint or self.place)


_SEP = r"[-_.\s/]"
# Full dates in a file name, each bounded so that ids (5934949, K0090045) do not count.
_NAME_DATES = (
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d\d)(?P<m>[01]\d)(?P<d>[0-3]\d)(?!\d)"),
    re.compile(rf"(?<!\d)(?P<y>(?:19|20)\d\d){_SEP}(?P<m>\d{{1,2}}){_SEP}(?P<d>\d{{1,2}})(?!\d)"),
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d\d)\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"),
)
_YEAR_MONTH_NAME = re.compile(rf"^(?P<y>(?:19|20)\d\d)(?:{_SEP}|年)?(?P<m>[01]?\d)月?$")
# A name that opens with a year (2014政府工作报告) or ends with one (ch_gov_report-2017).
_YEAR_LED_NAME = re.compile(r"^(?P<y>(?:19|20)\d\d)(?![\d年\-_./]*\d)|(?<=[-_ ])(?P<y2>(?:19|20)\d\d)$")
_YEAR_FOLDER = re.compile(r"^(?P<y>(?:19|20)\d\d)年?$")
_MONTH_FOLDER = re.compile(r"^(?P<m>0?[1-9]|1[0-2])月?$")
_CODE_FOLDER = re.compile(r"^\d{6}$")
# Kinds of document that only national bodies issue, as collections of laws name their folders.
NATIONAL_CATEGORIES = {"法律", "宪法", "宪法相关法", "行政法规", "部门规章", "司法解释", "国务院文件", "中央文件", "国务院公报"}


@lru_cache(maxsize=1)
def _pinyin() -> dict[str, str]:
    """Pinyin (and common English) names of the provincial-level divisions → province name."""
    names: dict[str, str] = {}
    with resources.files("policylex").joinpath("data/province_pinyin.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            for form in row["forms"].split():
                names[form.lower()] = row["province"]
    return names


def date_in_name(name: str) -> PartialDate | None:
    """A full date written in a file name (its stem), or None."""
    for pattern in _NAME_DATES:
        for match in pattern.finditer(name):
            date = make_date(int(match["y"]), int(match["m"]), int(match["d"]))
            if date is not None:
                return date
    return None


@lru_cache(maxsize=4096)  # a collection's files share a few folders
def _year_of(folder: str) -> int | None:
    match = _YEAR_FOLDER.match(folder)
    year = int(match["y"]) if match else None
    return year if year is not None and MIN_YEAR <= year <= MAX_YEAR else None


@lru_cache(maxsize=4096)
def place_in_folder(folder: str) -> Place | None:
    """The region a folder is named after: 广东, 广东省, 广州, 广东地方法规, guangdong, 440000, 公安部."""
    folder = folder.strip()
    if not folder or folder.isdigit() and not _CODE_FOLDER.match(folder):
        return None
    if _CODE_FOLDER.match(folder):
        return place_by_code(folder)
    if folder.isascii():
        words = re.split(r"[^a-z]+", folder.lower())
        provinces = {_pinyin()[w] for w in words if w in _pinyin()}
        return resolve_name(provinces.pop()) if len(provinces) == 1 else None
    from policylex.normalise import convert_script

    folder = convert_script(folder)
    if folder in NATIONAL_CATEGORIES:
        return NATIONAL_PLACE
    place = resolve_name(folder)
    if place is not None:
        return place
    # A folder named after a place and what it holds (广东地方法规, 北京市政府文件): the place
    # must open the name, so that 中国宜春 or 驻京办 do not count.
    opening = next(((end, name) for start, end, name in gazetteer().matches(folder) if start == 0), None)
    if opening and opening[1] in gazetteer().by_form and not not_a_region_after(folder, opening[0]):
        return gazetteer().by_form[opening[1]]
    issuer = issuing_region(folder)
    return issuer if isinstance(issuer, Place) else None


def from_path(path: str, root: str | None = None) -> PathMetadata:
    """Date, year and region from a file's path, read below ``root`` (the folder the user named).

    Folders above ``root`` are the user's own (``/home/…``), not the collection's.
    """
    parts = PurePath(path).parts
    if root is not None:
        root_parts = PurePath(root).parts
        if parts[: len(root_parts)] == root_parts:
            parts = parts[max(0, len(root_parts) - 1):]  # the root folder's own name counts
    folders, stem = parts[:-1], PurePath(parts[-1]).stem if parts else ""
    date = date_in_name(stem)
    year_hint = None
    if date is None:
        led = _YEAR_LED_NAME.search(stem)
        year = int(led["y"] or led["y2"]) if led else None
        if year is not None and MIN_YEAR <= year <= MAX_YEAR:
            year_hint = make_date(year, None, None)
    for index in range(len(folders) - 1, -1, -1):
        if year_hint is not None or date is not None:
            break
        year = _year_of(folders[index])
        if year is not None:
            month_match = _MONTH_FOLDER.match(folders[index + 1]) if index + 1 < len(folders) else None
            year_hint = make_date(year, int(month_match["m"]) if month_match else None, None)
            continue
        ym = _YEAR_MONTH_NAME.match(folders[index])
        if ym and MIN_YEAR <= int(ym["y"]) <= MAX_YEAR:
            year_hint = make_date(int(ym["y"]), int(ym["m"]), None)
    place = None
    for folder in reversed(folders):  # the deepest folder that names a place is the most specific
        found = place_in_folder(folder)
        if found is not None:
            place = found
            break
    return PathMetadata(date, year_hint, place)


# --- --path-pattern -----------------------------------------------------------------------

_FIELD = re.compile(r"\{(?P<name>[a-z_]+)(?::(?P<format>[^}]+))?\}")
_STRFTIME = {"%Y": r"(?P<Y>\d{4})", "%m": r"(?P<m>\d{1,2})", "%d": r"(?P<d>\d{1,2})", "%y": r"(?P<y2>\d{2})"}
PATTERN_FIELDS = ("province", "city", "region", "year", "month", "date", "source", "title")


@dataclass(frozen=True)
class PathPattern:
    """A collection's naming written as a template: ``{province}/{year}/{date:%Y%m%d}_*.txt``."""

    template: str
    regex: re.Pattern
    date_formats: dict[str, str]

    def fields(self, path: str) -> dict[str, str] | None:
        """The values the template names in ``path`` (matched at its end), or None if it does not fit."""
        match = self.regex.search(PurePath(path).as_posix())
        if match is None:
            return None
        values: dict[str, str] = {}
        for name, value in match.groupdict().items():
            field, _, part = name.partition("__")
            if value is None or part:
                continue
            if field == "date":
                date = _date_from_groups(match, self.date_formats.get(field, ""))
                if date is not None:
                    values["date"] = date.iso()
            elif field == "month":
                continue
            elif field == "year" and match.groupdict().get("month"):
                date = make_date(int(value), int(match["month"]), None)
                values["date"] = date.iso() if date else value
            else:
                values[field] = value
        return values


def _date_from_groups(match: re.Match, fmt: str) -> PartialDate | None:
    groups = match.groupdict()
    year = groups.get("date__Y")
    year = int(year) if year else (2000 + int(groups["date__y2"]) if groups.get("date__y2") else None)
    month = int(groups["date__m"]) if groups.get("date__m") else None
    day = int(groups["date__d"]) if groups.get("date__d") else None
    try:
        return make_date(year, month, day)
    except (TypeError, ValueError):
        return None


def compile_pattern(template: str) -> PathPattern:
    """Compile a path template; ``*`` is any run within a name, ``**`` any folders.

    Fields: {province} {city} {region} (a place name, pinyin or code), {year}, {month},
    {date:%Y%m%d} (any strftime-like mix of %Y %y %m %d and literal text), {source}, {title}.
    """
    regex, formats, position, seen = [], {}, 0, set()
    for match in _FIELD.finditer(template):
        regex.append(_glob(template[position:match.start()]))
        name, fmt = match["name"], match["format"]
        if name not in PATTERN_FIELDS:
            raise UsageError(f"path pattern {template!r}: unknown field {{{name}}} "
                             f"(fields: {', '.join(PATTERN_FIELDS)})")
        if name in seen:
            raise UsageError(f"path pattern {template!r}: {{{name}}} appears twice")
        seen.add(name)
        if name == "date":
            fmt = fmt or "%Y-%m-%d"
            formats[name] = fmt
            regex.append("(?P<date>" + _date_regex(fmt, template) + ")")
        elif name == "year":
            regex.append(r"(?P<year>\d{4})")
        elif name == "month":
            regex.append(r"(?P<month>\d{1,2})")
        else:
            regex.append(f"(?P<{name}>[^/]+?)")
        position = match.end()
    regex.append(_glob(template[position:]))
    if not seen:
        raise UsageError(f"path pattern {template!r} names no field (e.g. {{year}}, {{province}}, {{date:%Y%m%d}})")
    return PathPattern(template, re.compile("(?:^|/)" + "".join(regex) + "$"), formats)


def _glob(text: str) -> str:
    out = re.escape(text).replace(r"\*\*/", "(?:[^/]+/)*").replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
    return out.replace(r"\?", "[^/]")


def _date_regex(fmt: str, template: str) -> str:
    parts, position = [], 0
    for match in re.finditer(r"%[A-Za-z]", fmt):
        parts.append(re.escape(fmt[position:match.start()]))
        code = match.group()
        if code not in _STRFTIME:
            raise UsageError(f"path pattern {template!r}: {code} is not one of %Y %y %m %d")
        parts.append(_STRFTIME[code].replace("(?P<", "(?P<date__"))
        position = match.end()
    parts.append(re.escape(fmt[position:]))
    return "".join(parts)


def parse_with_pattern(pattern: PathPattern, path: str) -> PathMetadata | None:
    """What the template says of ``path`` as PathMetadata (strong date, place), or None if it does not fit."""
    values = pattern.fields(path)
    if values is None:
        return None
    from policylex.dates import parse_date

    # A template is the user's word: even a bare {year} is the document's year, not a hint.
    date = parse_date(values.get("date") or values.get("year"))
    place = None
    for key in ("city", "province", "region"):
        if values.get(key):
            place = place_in_folder(values[key]) or place
            if place is not None:
                break
    return PathMetadata(date, None, place)
