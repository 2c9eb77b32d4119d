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
# even when a provincial site reposts it.
NATIONAL_BODIES = (
    "最高人民检察院|最高检|最高人民法院|最高法|两高|中共中央|党中央|国务院|全国人大常委会|全国人大|"
    "中央政法委|中央全面依法治国委员会|公安部|司法部|国家监委|中央纪委"
)
# Bodies that issue documents; a place written right before one is the issuer's.
BODIES = (
    "人民检察院|检察院|检察分院|检察机关|人民法院|中级人民法院|高级人民法院|法院|公安局|公安厅|"
    "司法局|司法厅|政法委|人大常委会|人大|人民政府|政府|党委|委员会|纪委|监委|长安网|检察"
)
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


@dataclass(frozen=True)
class Gazetteer:
    by_form: dict[str, Place]  # full names and unambiguous short forms
    shared: dict[str, list[Place]]  # county names used in several places (朝阳区), resolved by context
    pattern: re.Pattern


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
    shared: dict[str, list[Place]] = {}
    for name, places in counties.items():
        if name in forms:
            continue
        if len(places) == 1:
            forms[name] = places[0]
        else:
            shared[name] = places  # 朝阳区 in Beijing and in Changchun
    names = sorted(list(forms) + list(shared), key=len, reverse=True)
    pattern = re.compile("|".join(map(re.escape, names)))
    return Gazetteer(forms, shared, pattern)


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


_BODY_AFTER = re.compile(rf"{_LEVEL_SUFFIX}(?:人民)?({BODIES})")
_NATIONAL_RE = re.compile(NATIONAL_BODIES)
# 省人民检察院, 市检察院 with no place before them: the place is the masthead's.
_BARE_BODY = re.compile(rf"(?<![\u4e00-\u9fff])(?:全)?(省|市)(?:人民)?(?:{BODIES})")


def find_mentions(text: str) -> list[Mention]:
    """Place names in the text, longest first at each position, with the body after them."""
    g = gazetteer()
    found: list[Mention] = []
    for match in g.pattern.finditer(text):
        form = match.group()
        place = g.by_form.get(form)
        if place is None:  # a shared county name: only right after its province or city (北京市朝阳区)
            previous = found[-1].place if found and found[-1].end >= match.start() - 1 else None
            place = next((p for p in g.shared[form] if previous and p.province == previous.province
                          and (previous.level != "city" or p.city == previous.city)), None)
            if place is None:
                continue
        after = _BODY_AFTER.match(text, match.end())
        found.append(Mention(match.start(), match.end(), place, after.group(1) if after else None))
    return found


def issuing_region(text: str) -> Place | None:
    """The region of the first issuing body written in the text, or None.

    A national body (最高检, 最高人民检察院) makes the text national; a place with a
    body (青岛市检察院, 丹东市人大) gives that place.  A bare 省人民检察院 gives
    the province named by the masthead, if the caller has one: see
    :func:`resolve_region`.
    """
    candidates: list[tuple[int, Place | str]] = []
    national = _NATIONAL_RE.search(text)
    if national:
        candidates.append((national.start(), NATIONAL_PLACE))
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


def resolve_region(title: str | None, lead: str, masthead: str | None = None) -> Place | None:
    """The region a document speaks for, from its title, lead and masthead.

    In order: the issuing body in the title, then in the lead (a bare 省/市 body
    takes the masthead's place); then the first place named in the title, the
    masthead, and the lead.
    """
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
    for text in filter(None, (title, masthead, lead)):
        place = _first_place(text)
        if place is not None:
            return place
    return None
