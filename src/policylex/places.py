"""Resolve place names and issuing bodies to province and prefecture-level city.

The gazetteer is ``data/places.csv``, derived from the official division list
(see ``data/ADMIN_DIVISIONS.md``).  Text is expected in simplified script; the
callers convert first, so 遼寧 resolves as 辽宁.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

NATIONAL = "全国"

# Bodies that speak for the whole country.  An article they issue is national
# even when a provincial site reposts it.  Ministries that Taiwan has under the same
# name (外交部, 财政部, 教育部 …) are national only without Taiwan cues: see
# :func:`taiwan_cue`.
NATIONAL_BODIES = (
    "最高人民检察院|最高检|最高人民法院|最高法|两高|中共中央|党中央|中央人民政府|国务院|全国人民代表大会|"
    "全国人大常委会|全国人大|全国政协|中国人民政治协商会议全国委员会|中央军事委员会|中央军委|"
    "中央政法委|中央全面依法治国委员会|中央纪委|国家监察委员会|国家监委|中央网络安全和信息化委员会|"
    "外交部|国防部|国家发展和改革委员会|国家发展改革委|教育部|科学技术部|科技部|工业和信息化部|"
    "国家民族事务委员会|国家民委|公安部|国家安全部|民政部|司法部|财政部|人力资源和社会保障部|"
    "人力资源社会保障部|自然资源部|生态环境部|住房和城乡建设部|住房城乡建设部|交通运输部|水利部|"
    "农业农村部|商务部|文化和旅游部|国家卫生健康委员会|国家卫生健康委|国家卫生和计划生育委员会|"
    "退役军人事务部|应急管理部|中国人民银行|审计署|国务院国有资产监督管理委员会|海关总署|"
    "国家税务总局|国家市场监督管理总局|市场监督管理总局|国家金融监督管理总局|中国银行保险监督管理委员会|"
    "中国银行业监督管理委员会|中国保险监督管理委员会|中国证券监督管理委员会|中国证监会|国家广播电视总局|"
    "国家新闻出版署|国家体育总局|国家统计局|国家知识产权局|国家国际发展合作署|国家医疗保障局|"
    "国家互联网信息办公室|国家网信办|国家版权局|国家宗教事务局|国家能源局|国家林业和草原局|"
    "国家铁路局|中国民用航空局|国家邮政局|国家文物局|国家中医药管理局|国家药品监督管理局|"
    "国家外汇管理局|国家粮食和物资储备局|国家移民管理局|国家数据局|国家烟草专卖局|国家保密局|"
    "国家档案局|国家密码管理局|国家航天局|国家原子能机构|工商行政管理总局|国家质量监督检验检疫总局|"
    "国家安全生产监督管理总局|国家食品药品监督管理总局|文化部|卫生部|铁道部|监察部|信息产业部|"
    "国家计划委员会|国家经济贸易委员会|国家计委|劳动和社会保障部|人事部|建设部|农业部|国土资源部|"
    "环境保护部|国家旅游局"
)
# Bodies only Taiwan has (in simplified script, as the callers convert first): its central
# government, and the district offices of its cities.
TAIWAN_CENTRAL_BODIES = (
    "行政院|立法院|司法院|考试院|监察院|总统府|法务部|经济部|内政部|卫生福利部|数位发展部|劳动部|"
    "金融监督管理委员会|国家发展委员会|原住民族委员会|客家委员会|大陆委员会|侨务委员会|president\\.gov\\.tw"
)
TAIWAN_BODIES = TAIWAN_CENTRAL_BODIES + "|公所|区公所|乡公所|镇公所"
# Bodies that issue documents; a place written right before one is the issuer's.
BODIES = (
    "人民检察院|检察院|检察分院|检察机关|人民法院|中级人民法院|高级人民法院|法院|公安局|公安厅|"
    "司法局|司法厅|政法委|人大常委会|人民代表大会常务委员会|人民代表大会|人大|人民政府|政府|党委|"
    "委员会|纪委|监委|长安网|检察|政协|省委|市委|区委|县委|省长|市长|州长|县长|区长|主席"
)
# National media: a text they issue (新闻联播, a 新华社 dispatch) is national, whatever places it reports on.
NATIONAL_OUTLETS = (
    "新闻联播|焦点访谈|央视网|央视新闻|中央电视台|中央广播电视总台|新华社|新华网|人民日报|人民网|中国政府网|"
    "光明日报|经济日报|求是|中国新闻网|中新网|中国日报|法治日报|检察日报|人民法院报|中国长安网"
)
# Any department written right after a place (宜春市统计局, 台南市政府水利局, 安南区公所).
DEPARTMENT = "[\u4e00-\u9fff]{0,6}?(?:局|厅|办公室|办公厅|公所|委)"
_LEVEL_SUFFIX = "(?:省|市|自治区|自治州|地区|盟|区|县)?"


@dataclass(frozen=True)
class Place:
    name: str
    level: str  # national | province | city | county
    province: str | None
    province_code: str | None
    city: str | None = None
    city_code: str | None = None


NATIONAL_PLACE = Place(NATIONAL, "national", NATIONAL, "000000")
TAIWAN = "台湾省"


@dataclass(frozen=True)
class Gazetteer:
    by_form: dict[str, Place]  # full names and unambiguous short forms
    shared: dict[str, list[Place]]  # county names used in several places (朝阳区), resolved by context
    names: list[str]
    automaton: object  # ahocorasick_rs.AhoCorasick over ``names``, leftmost-longest

    def matches(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, name) of the names in ``text``: leftmost first, the longest at each start.

        The same matches as one regular expression of the names longest first, which
        took 0.6 s to compile in every worker and 10 ms a document to run (3,000 names).
        """
        try:
            found = self.automaton.find_matches_as_indexes(text)
        except UnicodeEncodeError:  # a lone surrogate (a JSON "\ud800"): U+FFFD keeps every offset
            from policylex.normalise import replace_lone_surrogates

            found = self.automaton.find_matches_as_indexes(replace_lone_surrogates(text))
        return [(start, end, self.names[index]) for index, start, end in found]


def _place_from_row(row: dict[str, str]) -> Place:
    return Place(
        name=row["name"],
        level=row["level"],
        province=row["province"] or None,
        province_code=row["province_code"] or None,
        city=row["city"] or None,
        city_code=row["city_code"] or None,
    )


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    rank = {"province": 0, "city": 1, "county": 2}
    forms: dict[str, Place] = {}
    counties: dict[str, list[Place]] = {}
    with resources.files("policylex").joinpath("data/places.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            place = _place_from_row(row)
            if place.level == "county":
                counties.setdefault(place.name, []).append(place)
                continue
            # Short forms that are also ordinary words (长治久安) only count written in full.
            short = None if row["ambiguous_short"] else row["short"]
            for form in filter(None, (row["name"], short)):
                known = forms.get(form)
                if known is None or rank[place.level] < rank[known.level]:
                    forms[form] = place
    with resources.files("policylex").joinpath("data/place_aliases.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):  # 莱芜市 → 济南市, 台北县 → 新北市: names a merger retired
            if row["now"] in forms and row["alias"] not in forms:
                forms[row["alias"]] = forms[row["now"]]
    shared: dict[str, list[Place]] = {}
    for name, places in counties.items():
        if name in forms:
            continue
        if len(places) == 1:
            forms[name] = places[0]
        else:
            shared[name] = places  # 朝阳区 in Beijing and in Changchun
    import ahocorasick_rs

    names = sorted(list(forms) + list(shared), key=len, reverse=True)
    automaton = ahocorasick_rs.AhoCorasick(names, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest)
    return Gazetteer(forms, shared, names, automaton)


def place_by_code(code: str) -> Place | None:
    """The province, city or county with this 6-digit GB/T 2260 code (000000: national)."""
    if code == NATIONAL_PLACE.province_code:
        return NATIONAL_PLACE
    return _by_code().get(code)


@lru_cache(maxsize=1)
def _by_code() -> dict[str, Place]:
    places: dict[str, Place] = {}
    with resources.files("policylex").joinpath("data/places.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["code"]:
                places.setdefault(row["code"], _place_from_row(row))
    return places


def province_of(place: Place) -> Place:
    """The province-level unit a place belongs to (itself for a province or the nation)."""
    if place.level in ("province", "national"):
        return place
    return Place(place.province, "province", place.province, place.province_code)


def resolve_name(value: str | None) -> Place | None:
    """A place given as a value (a column, an option): 辽宁, 遼寧省, 丹东市, 全国."""
    if not value:
        return None
    value = value.strip()
    if value in (NATIONAL, "national", "中央", "国家"):
        return NATIONAL_PLACE
    from policylex.normalise import convert_script

    simplified = convert_script(value)
    return gazetteer().by_form.get(simplified) or gazetteer().by_form.get(
        re.sub(r"(省|市|自治区|特别行政区|地区|盟)$", "", simplified)
    )


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    place: Place
    body: str | None  # the body written right after the place, if any


_BODY_AFTER = re.compile(rf"{_LEVEL_SUFFIX}(?:第[一二三四五六七八九十]+届)?(?:人民)?({BODIES}|{DEPARTMENT})")
_NATIONAL_RE = re.compile(NATIONAL_BODIES)
_OUTLET_RE = re.compile(NATIONAL_OUTLETS)
# A place inside a name that is not a government's: 上海合作组织, 博鳌亚洲论坛, 北京大学, 北京路.
_NOT_A_REGION_AFTER = re.compile(r"合作组织|论坛|大学|学院|路(?!线)|大道|大街")
def not_a_region_after(text: str, end: int) -> bool:
    """Whether the place name ending at ``end`` is part of a name that is not a government's (北京大学)."""
    return bool(_NOT_A_REGION_AFTER.match(text, end))


# Anything that issues documents, for telling an issuer's line from a list of news items.
ANY_BODY = re.compile(f"{NATIONAL_BODIES}|{TAIWAN_BODIES}|{BODIES}|{DEPARTMENT}")
_TAIWAN_RE = re.compile(TAIWAN_BODIES)
_TAIWAN_DOMAIN = re.compile(r"\.gov\.tw\b|\.(?:edu|org)\.tw\b")


_TAIWAN_CENTRAL_RE = re.compile(TAIWAN_CENTRAL_BODIES)


# A body named as what is visited, implemented or cited is not the text's issuer: 会见全国政协常委,
# 落实国务院…, 国务院颁布的《…》, 由文化和旅游部主办.
_CITED_BEFORE = re.compile(r"(?:会见|接见|会晤|拜会|拜访|看望|落实|贯彻|根据|依照|依据|按照|响应|遵照|由)[^，。；,]{0,3}$")
_CITED_AFTER = re.compile(r"^[^，。；,]{0,3}(?:颁布|发布|印发|批准|出台|制定)的|^[^，。；,]{0,8}(?:主办|指导|支持)"
                          # 国务院的部署, 国务院150项重大水利工程: a possession or a count, not a document
                          r"|^的|^\d"
                          # a person's post: 全国人大常委会副委员长 某某 attends, the body does not issue
                          r"|^(?:原|前)?(?:副|常务副)?(?:委员长|主席|主任|部长|书记|会长|秘书长|委员|常委|会员|代表|院长|"
                          r"检察长|局长|厅长|司长|理事|顾问)")


def _cited(text: str, start: int, end: int) -> bool:
    return bool(_CITED_BEFORE.search(text[max(0, start - 8):start]) or _CITED_AFTER.match(text[end:end + 12]))


# Hong Kong and Macao speak of themselves as 本港 / 本澳 and through their 行政长官 and 特区政府.
_SAR_DOMAIN = re.compile(r"\.gov\.(hk|mo)\b")
_SAR_SELF = re.compile(r"本(港|澳)(?![门元])|(香港|澳门)特别行政区政府|特区政府|行政长官")


_HOST = re.compile(r"(?:https?://)?((?:[A-Za-z0-9-]+\.)+(?:cn|hk|mo|tw|taipei))(?=[/:?#\s]|$)", re.I)


@lru_cache(maxsize=1)
def _site_regions() -> dict[str, str]:
    with resources.files("policylex").joinpath("data/site_regions.csv").open(encoding="utf-8") as handle:
        return {row["host"]: row["place"] for row in csv.DictReader(handle)}


def site_place(text: str) -> Place | None:
    """The region of the first government site a text names (its URL), by ``data/site_regions.csv``.

    A host matches an entry it equals or ends with after a dot, the longest entry first:
    ``www.tainan.gov.tw`` is 台南市, any other ``.gov.tw`` site 台湾省; a ``.gov.cn`` site
    not listed (a city's, a department's) says nothing.
    """
    for match in _HOST.finditer(text):
        labels = match.group(1).lower().split(".")
        for start in range(len(labels) - 1):
            place = _site_regions().get(".".join(labels[start:]))
            if place is not None:
                return resolve_name(place)
    return None


def sar_site(text: str) -> "Place | None":
    """Hong Kong or Macao where a text comes from one of their government sites (.gov.hk, .gov.mo)."""
    domain = _SAR_DOMAIN.search(text)
    return resolve_name("香港特别行政区" if domain.group(1) == "hk" else "澳门特别行政区") if domain else None


def sar_cue(text: str) -> "Place | None":
    """Hong Kong's or Macao's province-level place where a text speaks for one of them, else None."""
    site = sar_site(text)
    if site is not None:
        return site
    found = _SAR_SELF.search(text)
    if not found:
        return None
    which = found.group(1) or found.group(2)
    if which is None:  # 特区政府, 行政长官: the SAR the text names first
        named = re.search(r"香港|澳门", text)
        if named is None:
            return None
        which = named.group()[0]
    return resolve_name("香港特别行政区" if which.startswith("港") or which.startswith("香") else "澳门特别行政区")


def taiwan_central(text: str) -> bool:
    """Whether a text names Taiwan's central government (總統府, 行政院, 內政部 …) as a body."""
    return bool(_TAIWAN_CENTRAL_RE.search(text))


def taiwan_cue(text: str, issuer: str = "") -> bool:
    """Whether a text speaks as a Taiwan body: it dates itself in the ROC calendar (民國113年) or
    comes from a Taiwan site (.gov.tw), or its ``issuer`` lines name a body only Taiwan has.

    Bodies count only as the issuer: mainland news reports on Taiwan's 行政院, and on
    other countries' 法务部, in its running text.
    """
    from policylex.dates import uses_roc_calendar

    return bool(_TAIWAN_DOMAIN.search(text) or uses_roc_calendar(text) or _TAIWAN_RE.search(issuer))


# 省人民检察院, 市检察院 with no place before them: the place is the masthead's.
_BARE_BODY = re.compile(rf"(?<![\u4e00-\u9fff])(?:全)?(省|市)(?:人民)?(?:{BODIES})")


def find_mentions(text: str) -> list[Mention]:
    """Place names in the text, longest first at each position, with the body after them."""
    g = gazetteer()
    found: list[Mention] = []
    for start, end, form in g.matches(text):
        place = g.by_form.get(form)
        if place is None:  # a shared county name: only right after its province or city (北京市朝阳区)
            previous = found[-1].place if found and found[-1].end >= start - 1 else None
            place = next((p for p in g.shared[form] if previous and p.province == previous.province
                          and (previous.level != "city" or p.city == previous.city)), None)
            if place is None:
                continue
        if not_a_region_after(text, end):
            continue
        after = _BODY_AFTER.match(text, end)
        found.append(Mention(start, end, place, after.group(1) if after else None))
    return found


def issuing_region(text: str) -> Place | None:
    """The region of the first issuing body written in the text, or None.

    A national body (最高检, 最高人民检察院) makes the text national; a place with a
    body (青岛市检察院, 丹东市人大) gives that place.  A bare 省人民检察院 gives
    the province named by the masthead, if the caller has one: see
    :func:`resolve_region`.
    """
    candidates: list[tuple[int, Place | str]] = []
    national = next((m for m in _NATIONAL_RE.finditer(text) if not _cited(text, m.start(), m.end())), None)
    if national:
        # A national body's local branch (国家金融监督管理总局菏泽监管分局, 国家统计局万载调查队) is its place's.
        branch = next((m.place for m in find_mentions(text[national.end(): national.end() + 12]) if m.start <= 1), None)
        candidates.append((national.start(), branch or NATIONAL_PLACE))
    for mention in find_mentions(text):
        if mention.body:
            candidates.append((mention.start, mention.place))
            break
    bare = _BARE_BODY.search(text)
    if bare:
        candidates.append((bare.start(), bare.group(1)))
    if not candidates:
        return None
    return min(candidates, key=lambda c: c[0])[1]  # type: ignore[return-value]


def _first_place(text: str) -> Place | None:
    mentions = find_mentions(text)
    return mentions[0].place if mentions else None


def national_outlet(*texts: str | None) -> bool:
    """Whether a title, masthead or source names a national news outlet (新闻联播, 新华社, 人民网 …)."""
    return any(text and _OUTLET_RE.search(text) for text in texts)


def resolve_region(title: str | None, lead: str, masthead: str | None = None, *, places: bool = True) -> Place | None:
    """The region a document speaks for, from its title, lead and masthead.

    In order: the issuing body in the title, then in the lead (a bare 省/市 body
    takes the masthead's place); then, with ``places``, the first place named in the
    title, the masthead, and the lead.
    """
    if title and title.startswith("中华人民共和国"):  # a national law's name: 中华人民共和国仲裁法
        return NATIONAL_PLACE
    for text in filter(None, (title, lead)):
        issuer = issuing_region(text)
        if isinstance(issuer, Place):
            return issuer
        if issuer in ("省", "市"):
            home = _first_place(masthead or "") or _first_place(title or "")
            if home is not None:
                if issuer == "省" and home.level != "national":
                    return home if home.level == "province" else Place(
                        home.province, "province", home.province, home.province_code
                    )
                return home
    if not places:
        return None
    for text in filter(None, (title, masthead, lead)):
        place = _first_place(text)
        if place is not None:
            return place
    return None
