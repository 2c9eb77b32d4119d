"""Metadata of a document read off its text: title, date, region, source.

Works on *cleaned* text (see :func:`policylex.normalise.clean`): simplified script,
no converter pinyin, half-width digits, page-date and source lines still present.
Every field may be absent; nothing is guessed (a date with no year gives no year, and
a date that cannot be trusted is left out: a wrong year is worse than none).

Pages open with furniture (download, print and font-size bars, breadcrumbs, visit
counters, CSS or JavaScript left in the text): the *header* is the first
:data:`HEADER_LINES` lines that are not furniture, wherever they start.

Dates are found with a *role*, and the best role wins (see :data:`DATE_ROLES`):

1. ``version``: the latest date of a law's or regulation's header history
   (通过 / 修正 / 修订 / 批准 / 公布 lines), never its 施行 (commencement) date;
2. ``signed``: 成文日期, 签发日期, 公布日期, 印发日期;
3. ``own``: a line that is nothing but a date (often in brackets) under the title or
   at the foot, as official documents date themselves;
4. ``delivered``: ``——2014年3月5日在…会议上``, the date a report was delivered;
5. ``posted``: 发布日期, 发布时间, 发稿时间, 公告日, 日期 …, and page-date lines;
6. ``lead``: a date opening the lead (``2021年2月25日下午，…``).

A page clock (``2023年10月11日 星期三``, ``今天是 …``) and print, crawl and visit dates
(``列印時間``, ``访问时间``) never count.
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
    per_line,
)
from policylex.places import (ANY_BODY, NATIONAL_PLACE, TAIWAN, Place, find_mentions, national_outlet, resolve_name,
                              resolve_region, sar_cue, sar_site, site_place, taiwan_central,
                              taiwan_cue)

HEADER_LINES = 12
FOOTER_LINES = 6
LEAD_CHARS = 300
MAX_TITLE_CHARS = 120
MIN_TITLE_CHARS = 5

DATE_ROLES = ("version", "signed", "own", "delivered", "posted", "lead")

_SIGNED_LABEL = r"成文日期|成文时间|签发日期|签署日期|公布日期|印发日期|颁布日期"
_POSTED_LABEL = (r"发布时间|发布日期|发布于|发稿时间|发稿日期|发文日期|公告日期|公告日|生成日期|发表时间|发表日期|"
                 r"上传时间|更新时间|时间发布|日期发布|(?<![\u4e00-\u9fff])(?:日期|时间)")
_DATE_LABEL = re.compile(rf"(?:(?P<signed>{_SIGNED_LABEL})|{_POSTED_LABEL})\s*[:：]?\s*[(（]?\s*$")
# Dates that are the reader's, not the document's.
_NOT_THE_DOCUMENT = re.compile(r"(?:今天是|今日是|当前时间|现在是|列印时间|列印日期|打印时间|打印日期|下载时间|"
                               r"访问时间|浏览时间|抓取时间|采集时间|爬取时间|查询时间|截至)\s*[:：]?\s*$")
_PAGE_CLOCK = re.compile(r"^\s*(?:[（(]?\s*)?(?:星期|周)[一二三四五六日天]")
_ACT = re.compile(r"通过|修正|修订|修改|批准|公布|发布|颁布|施行|实施|废止")
# ——2014年3月5日在第十二届全国人民代表大会第二次会议上: the day a report was delivered.
_DELIVERED_BEFORE = re.compile(r"^\s*[—\-─－]{0,3}\s*[(（]?\s*$")
_DELIVERED_AFTER = re.compile(r"\s*(?:至\d{1,2}日\s*)?在[^。]{2,60}?(?:会议|大会|全会|常委会)")
# A label printed on a line of its own, its value on the next (时间：\n2026-02-02 09:20).
_BARE_LABEL = re.compile(rf"^(?:{_SIGNED_LABEL}|{_POSTED_LABEL}|来源|信息来源|文章来源|发文机关|发布机构|发文字号|文号|作者|"
                         r"编辑|责任编辑|索引号|主题分类|标题)\s*[:：]$")
# A source that names a site (烟台市人民政府网站) names its body with a suffix too many.
_SITE_SUFFIX = re.compile(r"(?:门户网站|网站|官网|客户端|公众号|微信公众号|微博)$")
_SOURCE = re.compile(r"(?:信息来源|文章来源|发文机关|发布机构|发布单位|发稿单位|主管机关|作出决定机关|作出处罚决定的机关|"
                     r"来源|稿源|转载自|转自)\s*(?:[:：]\s*|\t)([^\s:：|/()（）\[\]【】]{2,30})")
_TITLE_LABEL = re.compile(r"^(?:标题|题目|名称)\s*[:：]\s*(.{4,})$")
_MASTHEAD = re.compile(r"^(\S{2,12}?(?:网|报|台|社))讯")
_LEAD_DATE = re.compile(rf"^(?:\S{{2,12}}?讯\s*)?(?:本报讯\s*)?(?:[(（][^)）]{{0,20}}[)）]\s*)?(?={DATE_PATTERN.pattern})")
_SALUTATION = re.compile(r"^(?:各位|尊敬的|亲爱的|同志们|女士们|先生们|代表们|朋友们)[^。]{0,20}[:：,，!！]?$|[:：]$")
_MARKDOWN = re.compile(r"^\s*(?:#{1,6}\s+|>\s*)")
# A year typed with spaces between its digits (1 9 9 8 年), as some reports are.
_SPACED_YEAR = re.compile(r"(?<!\d)\d(?:[ \u3000]\d){3}(?=[ \u3000]*年)")


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
    date_role: str | None = field(default=None, compare=False)  # what the text's date is (DATE_ROLES)

    @property
    def year(self) -> int | None:
        return self.date.year if self.date else None

    def with_place(self, place: Place | None, origin: str) -> "Metadata":
        """The region of ``place``; a municipality's districts have no city of their own (北京市 is the province)."""
        if place is None:
            return self
        city = place.city if place.city != place.province else None
        return replace(
            self,
            province=place.province,
            province_code=place.province_code,
            city=city,
            city_code=place.city_code if city else None,
            origin=self.origin | {"province": origin, "city": origin},
        )

    def within(self, place: Place, origin: str) -> "Metadata":
        """``place`` as the region, keeping a city this metadata has inside it (a path's 广东 + the text's 广州)."""
        if (place.level == "province" and self.city and self.province == place.province):
            return replace(self, origin=self.origin | {"province": origin})
        return self.with_place(place, origin)

    def override(self, values: dict[str, str | None], origin: str) -> "Metadata":
        """Fields given by the user (columns, sidecar, page tags) win over extracted ones.

        A region that does not resolve is kept as written, in the field it was given
        for, with the codes and the city that no longer belong cleared.  A date that
        does not parse leaves the date there was (see :func:`problems`).
        """
        result = self
        for key, value in values.items():
            if value is None or str(value).strip() == "":
                continue
            value = str(value).strip()
            if key == "date":
                date = parse_date(value)
                if date is not None:
                    result = replace(result, date=date, origin=result.origin | {"date": origin})
            elif key in ("province", "city", "region"):
                place = resolve_name(value)
                if place is None:
                    field_name = "city" if key == "city" else "province"
                    cleared = ({"city": value, "city_code": None} if field_name == "city" else
                               {"province": value, "province_code": None, "city": None, "city_code": None})
                    result = replace(result, **cleared, origin=result.origin | {field_name: origin})
                elif key == "city" and place.level == "province":
                    continue
                else:
                    result = result.within(place, origin)
            elif key in ("title", "source", "url"):
                result = replace(result, **{key: value}, origin=result.origin | {key: origin})
        return result


def problems(values: dict[str, str | None]) -> list[str]:
    """What in user-given fields cannot be used: an unparseable date, a region no division list knows."""
    found = []
    date = values.get("date")
    if date not in (None, "") and parse_date(str(date)) is None:
        found.append(f"date {str(date).strip()!r} is not a date (the text's date is kept)")
    for key in ("province", "city", "region"):
        value = values.get(key)
        if value not in (None, "") and resolve_name(str(value)) is None:
            found.append(f"{key} {str(value).strip()!r} is not a known place (kept as written, without codes)")
    return found


# --- the header -------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    lines: list[str] = []
    for line in text.split("\n"):
        line = _MARKDOWN.sub("", line).strip()
        if not line:
            continue
        if lines and _BARE_LABEL.match(lines[-1]):
            lines[-1] += line
        else:
            lines.append(line)
    return lines


@dataclass
class _Page:
    """A text's lines, split into the header (past the furniture), the body and the footer."""

    lines: list[str]
    header: list[str]
    header_end: int  # index in ``lines`` after the header
    footer: list[str]

    @classmethod
    def of(cls, text: str) -> "_Page":
        lines = _lines(text)
        header, end = [], 0
        for index, line in enumerate(lines):
            end = index + 1
            if is_boilerplate_line(line) and not _is_dated_metadata(line):
                continue
            header.append(line)
            if len(header) >= HEADER_LINES:
                break
        footer = lines[-FOOTER_LINES:]  # a short text's foot is also its head
        return cls(lines, header, end, footer)


def _is_dated_metadata(line: str) -> bool:
    return _is_metadata_line(line) and any(True for _ in find_dates(line))


def find_title(lines: list[str]) -> str | None:
    """The first header line that reads as a title: not furniture, a salutation, a date or a sentence."""
    for line in lines:
        if is_boilerplate_line(line):
            continue
        labelled = _TITLE_LABEL.match(line)
        if labelled:
            return labelled.group(1).strip()
        if _SALUTATION.search(line) or _is_date_line(line):
            continue
        if (MIN_TITLE_CHARS <= len(line) <= MAX_TITLE_CHARS and not line.endswith(("。", "；", "，", ",", "：", ":"))
                and not _LEAD_DATE.match(line) and sum(ch.isalpha() for ch in line) >= 2):  # not 00:30:01
            return line
        return None
    return None


@per_line
def _is_date_line(line: str) -> bool:
    """A line that is a date and nothing else: （2023年4月12日）, 2019年1月27日, ——1998年3月5日."""
    dates = list(find_dates(line))
    if not dates:
        return False
    rest = line[: dates[0][0]] + _CLOCK.sub("", line[dates[-1][1]:])
    return not re.sub(r"[\s()（）\[\]【】—\-─－]", "", rest)


# The time after a date (09:51, 09时32分): a page's date line is still a date line.
_CLOCK = re.compile(r"^\s*\d{1,2}\s*(?::\s*\d{2}(?:\s*:\s*\d{2})?|时\s*\d{1,2}\s*分(?:\s*\d{1,2}\s*秒)?)")


# --- dates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DateCandidate:
    role: str
    date: PartialDate
    line: int  # where it was found, for ties: the earlier wins

    @property
    def rank(self) -> tuple[int, int]:
        return DATE_ROLES.index(self.role), self.line


def _version_date(header: list[str]) -> DateCandidate | None:
    """A law's version: the latest date of its header history (通过 / 修正 / 修订 / 批准 / 公布 / 施行).

    The 施行 (commencement) date counts: where a file names no version, the latest date
    the header gives is how collections of laws date the text they hold.
    """
    best = None
    for index, line in enumerate(header):
        dates = list(find_dates(line))
        if not dates or not _ACT.search(line) or not _starts_with_date(line, dates[0][0]):
            continue
        for position, (start, end, date) in enumerate(dates):
            following = line[end: dates[position + 1][0] if position + 1 < len(dates) else len(line)]
            if date.year is None or not _ACT.search(following):
                continue
            if best is None or (date.year, date.month or 0, date.day or 0) > (
                    best.date.year, best.date.month or 0, best.date.day or 0):
                best = DateCandidate("version", date, index)
    return best


def _starts_with_date(line: str, start: int) -> bool:
    return not re.sub(r"[\s(（\[【]", "", line[:start])


def _date_candidates(lines: list[str], offset: int = 0, *, lead_ok: bool = False) -> list[DateCandidate]:
    found: list[DateCandidate] = []
    for index, line in enumerate(lines, start=offset):
        if _is_furniture_line(line) and not _DATE_LABEL.search(re.split(r"今天是|今日是", line)[0]):
            continue
        if " " in line or "\u3000" in line:
            line = _SPACED_YEAR.sub(lambda m: re.sub(r"\s", "", m.group()), line)
        date_only = _is_date_line(line)
        for start, end, date in find_dates(line):
            before, after = line[:start], line[end:]
            if _NOT_THE_DOCUMENT.search(before) or _PAGE_CLOCK.match(after):
                continue
            label = _DATE_LABEL.search(before)
            if label:
                found.append(DateCandidate("signed" if label.group("signed") else "posted", date, index))
            elif date_only:  # 2019年1月27日, （2023年4月12日）, ——2019年1月27日 alone on a line
                found.append(DateCandidate("own", date, index))
            elif _DELIVERED_BEFORE.match(before) and _DELIVERED_AFTER.match(after):
                found.append(DateCandidate("delivered", date, index))
            elif date.year is not None and _is_metadata_line(line):
                found.append(DateCandidate("posted", date, index))
    return found


def find_labelled_date(lines: list[str], *, whole: bool = False) -> PartialDate | None:
    """The best date of the header and footer lines (or all of them, ``whole``), by role."""
    zone = lines if whole else lines[:HEADER_LINES] + lines[-FOOTER_LINES:]
    candidates = [c for c in _date_candidates(zone) if c.role != "own" or c.date.year is not None]
    return min(candidates, key=lambda c: c.rank).date if candidates else None


def find_lead_date(lead: str) -> PartialDate | None:
    """A date opening the lead: 2021年2月25日下午，… or 辽宁长安网讯 10月30日，…."""
    match = _LEAD_DATE.match(lead)
    if not match:
        return None
    return next((date for start, _e, date in find_dates(lead[match.end():]) if start == 0), None)


def document_dates(page: _Page, lead: str) -> list[DateCandidate]:
    """Every date the text gives for itself, best first."""
    candidates = _date_candidates(page.header)
    candidates += _date_candidates(page.footer, offset=len(page.lines))
    version = _version_date(page.header)
    if version is not None:
        candidates.append(version)
    lead_date = find_lead_date(lead)
    if lead_date is not None:
        candidates.append(DateCandidate("lead", lead_date, len(page.lines) * 2))
    # A date with no year (10月30日) is kept only where nothing better is known.
    return sorted(candidates, key=lambda c: (c.date.year is None, c.rank))


# --- source and region ------------------------------------------------------------------


def find_source(lines: list[str], masthead: str | None, *, whole: bool = False) -> str | None:
    """The value after 来源 / 发文机关 / 稿源 … on a header or footer line, else the masthead's site."""
    zone = lines if whole else lines[:HEADER_LINES] + lines[-FOOTER_LINES:]
    for line in zone:
        if not (_is_metadata_line(line) or _is_widget_line(line) or len(line) <= 60):
            continue
        match = _SOURCE.search(line)
        if match:
            return match.group(1)
    return masthead


def site_body(source: str) -> str:
    """The body a source names: 烟台市人民政府网站 → 烟台市人民政府, 某局（原市文广新局） → 某局."""
    body = re.sub(r"[（(]原[^）)]*[）)]$", "", _SITE_SUFFIX.sub("", source.strip())).strip()
    return body or source


def signature(page: _Page) -> str | None:
    """The body signing a document at its foot (落款): a line that is a body's name, then a line that is a date."""
    for line, following in zip(page.footer, page.footer[1:]):
        if len(line) <= 30 and ANY_BODY.search(line) and _is_date_line(following) and not _SENTENCE.search(line):
            return line
    return None


_SENTENCE = re.compile(r"[。，；：:,;]")


def _lead(page: _Page, title: str | None) -> str:
    """The first line of prose after the title: not furniture, a date line or an addressee."""
    start = page.lines.index(title) + 1 if title in page.lines else 0
    fallback = None
    for line in page.lines[start:]:
        if line == title or is_boilerplate_line(line) or _is_date_line(line):
            continue
        if not _SALUTATION.search(line):
            return line[:LEAD_CHARS]
        fallback = fallback or line
    return (fallback or "")[:LEAD_CHARS]


def _issuer_lines(page: _Page, title: str | None) -> str:
    """Header lines that are not sentences (signatures, law histories, speech headers) and a short foot."""
    return "\n".join(line for line in page.header + page.footer if line != title and _is_issuer_line(line))


_LIST_ITEM = re.compile(r"^\s*(?:\d{1,2}\s*[.、．)）]|[(（]?[一二三四五六七八九十]{1,3}[)）、]|[•·●■◆▪-]\s)")


def _is_issuer_line(line: str) -> bool:
    """A line that can name who issues the text: a signature, a dated history line, a speech header.

    Not a sentence, not an item of a list (a news bulletin's summary names the places
    it reports on), not an addressee (河北省人民政府：, whom the document is for).
    """
    if len(line) > 120 or "。" in line.rstrip("。") or line.endswith(("；", "，", ";", ",")):
        return False
    if _SALUTATION.search(line) or _LIST_ITEM.match(line) or _LINK_LIST.search(line):
        return False
    return bool(ANY_BODY.search(line))


# A footer's links (中国政府网及国务院部门网站|): the sites a page points to, not its issuer.
_LINK_LIST = re.compile(r"[|｜/·]\s*$|网站|网址|链接")


_SITE_LINE = re.compile(r"^站点：(.+)$", re.M)  # the site's own name, as readers.py adds it to a page's text


def _opening_place(title: str | None) -> Place | None:
    """The place a title opens with (江西省2022年…公报; quotation marks and brackets before it aside)."""
    mentions = find_mentions(title) if title else []
    if mentions and not re.sub(r"[\s“”\"'‘’「」《》【】\[\]()（）]", "", title[: mentions[0].start]):
        return mentions[0].place
    return None


def _near(lines: list[str], title: str | None, reach: int = 3) -> set[int]:
    """The lines just after a page's title line, where templates print the article's date."""
    if not title:
        return set()
    return {i + k for i, line in enumerate(lines) if line == title or title in line and len(line) < len(title) + 20
            for k in range(1, reach + 1)}


def find_region(page: _Page, title: str | None, lead: str, masthead: str | None,
                source: str | None = None, context: str = "") -> Place | None:
    """The issuing region: the body in the title, then in the header, signature and lead; then places named.

    A text that dates itself in the ROC calendar, or names a body only Taiwan has,
    is Taiwan's (台湾省) unless a Taiwan city is found.
    """
    issuers = _issuer_lines(page, title)
    outlet = national_outlet(title, masthead, source, lead[:16])  # …讯, 新华社北京3月5日电
    cues = "\n".join(filter(None, (title, "\n".join(page.header), source, context)))
    if taiwan_cue(cues, "" if outlet else "\n".join(filter(None, (source, title, issuers)))):
        # A mainland place the text names is not its region (安定区 is also Lanzhou's); a
        # central body's (總統府, 行政院, 內政部) has no city, whatever town it visits.
        central = any(text and taiwan_central(text) for text in (source, title, issuers, context))
        mentions = [] if central else [m for text in (source, title, issuers, lead) if text
                                       for m in find_mentions(text) if m.place.province == TAIWAN]
        issuer = next((m.place for m in mentions if m.body), None)  # 臺南市政府, 安南區公所
        site = None if central else site_place(context)  # www.tainan.gov.tw
        return issuer or (mentions[0].place if mentions else site or resolve_name(TAIWAN))
    site = None if outlet else sar_site("\n".join(filter(None, (source, context))))
    if site is not None:
        return site  # a SAR government's site speaks for it, whatever national body it reports on
    place = resolve_region(title, issuers, masthead, places=False)
    if place is None and not outlet:  # 本澳, 特区政府: a SAR's own release (never a page's sidebar)
        place = sar_cue("\n".join(filter(None, (title, "\n".join(page.header), source, lead))))
    if place is None and outlet:
        place = NATIONAL_PLACE  # 新闻联播 names the places it reports on; it speaks for the country
    if place is None:
        place = resolve_region(title, lead, masthead, places=False)
    if place is None:
        # Places merely named: the one a title opens with (江西省2022年…公报) is the issuer's; a
        # place further on is often the news's subject (…书画展亮相澳门), so the source, then the
        # site, come before it.
        opening = _opening_place(title)
        site = _SITE_LINE.search(context) if context else None
        place = (opening or (resolve_region(source, "", None) if source else None)
                 or (resolve_region(site.group(1), "", None) if site else None)
                 or (site_place(context) if context else None) or resolve_region(title, lead, masthead))
    if place is None and source:
        place = resolve_region(source, "", None)
    if place is None and _ENGLISH_NATIONAL.search("\n".join(page.header)):
        place = NATIONAL_PLACE  # an official translation: "Report on the Work of the Government … State Council"
    if place is None and context:
        place = site_place(context)  # the site a scraper took it from, where the text names no issuer
    return place


_ENGLISH_NATIONAL = re.compile(r"\bState Council\b|National People's Congress|Central Committee of the Communist "
                               r"Party of China|Supreme People's (?:Court|Procuratorate)")


def extract(text: str, *, title: str | None = None, context: str = "", fallback_title: str | None = None,
            stated_source: str | None = None) -> Metadata:
    """Read title, date, region and source off cleaned text.

    ``title`` is the page's own title where the reader has one (HTML ``<h1>``).
    ``context`` is what else the source says around the text (a record's other
    fields, as ``key：value`` lines): read for labelled dates, sources and Taiwan cues.
    ``fallback_title`` is the title where the text has none (a file named after it);
    ``stated_source`` the source a page's tags or a record's column name, read for the
    region where the text names no source.
    """
    page = _Page.of(text)
    found_title = title or find_title(page.header)
    title = found_title or fallback_title
    lead = _lead(page, title)
    masthead_match = _MASTHEAD.match(lead)
    masthead = masthead_match.group(1) if masthead_match else None
    candidates = document_dates(page, lead)
    page_lines = _lines(context) if context else []
    if context:
        near_title = _near(page_lines, title)
        candidates += [replace(c, role="posted" if c.role == "own" else c.role, line=c.line + 10**6)
                       for c in _date_candidates(page_lines) if c.date.year is not None
                       and (c.role in ("signed", "posted") or c.role == "own" and c.line in near_title)]
        candidates.sort(key=lambda c: (c.date.year is None, c.rank))
    date = candidates[0].date if candidates else None
    origin = {}
    if title:
        origin["title"] = "text" if found_title else "path"
    if date:
        origin["date"] = "text"
    source = find_source(page.lines[: page.header_end] + page.footer, masthead, whole=True)
    if source is None and context:
        source = find_source(page_lines, None, whole=True)
    source = signature(page) if source is None else site_body(source)
    if source:
        origin["source"] = "text"
    region_source = source or stated_source
    meta = Metadata(title=title, date=date, source=source, origin=origin,
                    date_role=candidates[0].role if candidates else None)
    return meta.with_place(find_region(page, title, lead, masthead, region_source, context), "text")

