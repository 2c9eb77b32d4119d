"""Metadata of an article read off its text: title, publication date, region, source.

Works on *cleaned* text (see :func:`policylex.normalise.clean`): simplified script,
no converter pinyin, page-date and source lines still present.  Every field may
be absent; nothing is guessed (a date with no year gives no year).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from policylex.dates import DATE_PATTERN, PartialDate, find_dates, parse_date
from policylex.normalise import (
    _is_furniture_line,
    _is_metadata_line,
    _is_widget_line,
    is_boilerplate_line,
)
from policylex.places import Place, resolve_name, resolve_region

HEADER_LINES = 8
FOOTER_LINES = 6
LEAD_CHARS = 300

_DATE_LABEL = re.compile(r"(?:发布时间|发布日期|发布于|发稿时间|更新时间|日期|时间)\s*[:：]?\s*$")
_SOURCE = re.compile(r"(?:信息来源|文章来源|来源|稿源|转载自|转自)\s*[:：]\s*([^\s:：|/]{2,30})")
_MASTHEAD = re.compile(r"^(\S{2,12}?(?:网|报|台|社))讯")
_LEAD_DATE = re.compile(rf"^(?:\S{{2,12}}?讯\s*)?(?:本报讯\s*)?(?:[(（][^)）]{{0,20}}[)）]\s*)?(?={DATE_PATTERN.pattern})")
_FURNITURE_DATE = re.compile(r"(?:今天是|今日是|当前时间|现在是)\s*$")


@dataclass(frozen=True)
class Metadata:
    title: str | None = None
    date: PartialDate | None = None
    province: str | None = None
    province_code: str | None = None
    city: str | None = None
    city_code: str | None = None
    source: str | None = None
    url: str | None = None
    origin: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def year(self) -> int | None:
        return self.date.year if self.date else None

    def with_place(self, place: Place | None, origin: str) -> "Metadata":
        if place is None:
            return self
        return replace(
            self,
            province=place.province,
            province_code=place.province_code,
            city=place.city,
            city_code=place.city_code,
            origin=self.origin | {"province": origin, "city": origin},
        )

    def override(self, values: dict[str, str | None], origin: str) -> "Metadata":
        """Fields given by the user (columns, sidecar, page tags) win over extracted ones.

        Unknown region names are kept as written rather than dropped.
        """
        result = self
        for key, value in values.items():
            if value is None or str(value).strip() == "":
                continue
            value = str(value).strip()
            if key == "date":
                result = replace(result, date=parse_date(value), origin=result.origin | {"date": origin})
            elif key in ("province", "city", "region"):
                place = resolve_name(value)
                if place is None:
                    result = replace(result, **{"province" if key == "region" else key: value},
                                     origin=result.origin | {key: origin})
                elif key == "city" and place.level == "province":
                    continue
                else:
                    result = result.with_place(place, origin)
            elif key in ("title", "source", "url"):
                result = replace(result, **{key: value}, origin=result.origin | {key: origin})
        return result


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def find_title(lines: list[str]) -> str | None:
    """The first short line of the header that is not page furniture or a lead sentence."""
    for line in lines[:HEADER_LINES]:
        if is_boilerplate_line(line):
            continue
        if 4 <= len(line) <= 80 and not line.endswith(("。", "；", "，", ",")) and not _LEAD_DATE.match(line):
            return line
        return None
    return None


def _lead(lines: list[str], title: str | None) -> str:
    body = [line for line in lines if not is_boilerplate_line(line) and line != title]
    return body[0][:LEAD_CHARS] if body else ""


def _zone(lines: list[str], whole: bool) -> list[str]:
    """Where page templates print dates and sources: the header and footer of an article."""
    return lines if whole else lines[:HEADER_LINES] + lines[-FOOTER_LINES:]


def find_labelled_date(lines: list[str], *, whole: bool = False) -> PartialDate | None:
    """A date after 发布时间 / 日期 / 时间 labels, or on a page-date line, never 今天是 ….

    Only the header and footer lines are read, unless ``whole`` (an HTML page's
    visible text, where the article's own lines are a small part).
    """
    zone = _zone(lines, whole)
    unlabelled = None
    for line in zone:
        if _is_furniture_line(line) and not _DATE_LABEL.search(line.split("今天是")[0]):
            continue
        for start, _end, date in find_dates(line):
            before = line[:start]
            if _FURNITURE_DATE.search(before):
                continue
            if _DATE_LABEL.search(before):
                return date
            if unlabelled is None and date.year is not None and _is_metadata_line(line):
                unlabelled = date
    return unlabelled


def find_lead_date(lead: str) -> PartialDate | None:
    """A date opening the lead: 2021年2月25日下午，… or 辽宁长安网讯 10月30日，…."""
    match = _LEAD_DATE.match(lead)
    if not match:
        return None
    return next((date for start, _e, date in find_dates(lead[match.end():]) if start == 0), None)


def find_source(lines: list[str], masthead: str | None, *, whole: bool = False) -> str | None:
    """The value after 来源 / 稿源 / 转载自 on a header or footer line, else the masthead's site."""
    zone = _zone(lines, whole)
    for line in zone:
        if not (_is_metadata_line(line) or _is_widget_line(line) or len(line) <= 60):
            continue
        match = _SOURCE.search(line)
        if match:
            return match.group(1)
    return masthead


def extract(text: str, *, title: str | None = None) -> Metadata:
    """Read title, date, region and source off cleaned text.

    ``title`` is the page's own title where the reader has one (HTML ``<h1>``).
    """
    lines = _lines(text)
    title = title or find_title(lines)
    lead = _lead(lines, title)
    masthead_match = _MASTHEAD.match(lead)
    masthead = masthead_match.group(1) if masthead_match else None

    date = find_labelled_date(lines) or find_lead_date(lead)
    origin = {}
    if title:
        origin["title"] = "text"
    if date:
        origin["date"] = "text"
    source = find_source(lines, masthead)
    if source:
        origin["source"] = "text"
    meta = Metadata(title=title, date=date, source=source, origin=origin)
    return meta.with_place(resolve_region(title, lead, masthead), "text")
