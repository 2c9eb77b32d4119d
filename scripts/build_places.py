"""Derive src/policylex/data/places.csv from the official division list.

Usage: python scripts/build_places.py ../shared/data/admin-divisions

The derived table has one row per place that a document can name: provinces,
prefecture-level cities and county-level areas, with 6-digit GB/T 2260-style
codes (the statistical codes padded: 37 -> 370000, 3702 -> 370200) and the
short form by which a place is usually written (山东省 -> 山东, 青岛市 -> 青岛,
延边朝鲜族自治州 -> 延边).  Short forms are given for provinces and cities
only: county short forms (朝阳, 长安, 城区) collide with ordinary words.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

PLACEHOLDER_CITIES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
MUNICIPALITIES = {"11", "12", "31", "50"}
SPECIAL_CODES = {"台湾省": "710000", "香港特别行政区": "810000", "澳门特别行政区": "820000"}
ETHNIC = (
    "朝鲜族 土家族 苗族 藏族 羌族 彝族 布依族 侗族 哈尼族 壮族 傣族 白族 景颇族 傈僳族 "
    "回族 蒙古族 蒙古 柯尔克孜 哈萨克 维吾尔 仫佬族 毛南族 瑶族 黎族"
).split()
# Short city names that are also ordinary words or set phrases (长治久安, 世界大同,
# 延安精神, 中山大学, 大理石, 阿里巴巴): they resolve only with their suffix.
AMBIGUOUS_SHORT = set(
    "长治 大同 中山 安康 来宾 白银 朝阳 延安 遵义 红河 普洱 黄山 阿里 和田 大理 兴安 "
    "海西 海北 海东 玉树 怒江 日照 三沙 吉林 海南".split()
)


def province_short(name: str) -> str:
    for suffix in ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def city_short(name: str) -> str:
    if name.endswith("自治州"):
        stem = name[: -len("自治州")]
        changed = True
        while changed:
            changed = False
            for ethnic in ETHNIC:
                if stem.endswith(ethnic) and len(stem) > len(ethnic) + 1:
                    stem = stem[: -len(ethnic)]
                    changed = True
        return stem
    for suffix in ("地区", "市", "盟"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def pad(code: str) -> str:
    return code.ljust(6, "0")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def build(source: Path) -> list[dict[str, str]]:
    provinces = {row["code"]: row["name"] for row in read_csv(source / "provinces.csv")}
    rows: list[dict[str, str]] = []

    def add(code, name, short, level, province_code, province, city_code="", city=""):
        rows.append(
            dict(code=code, name=name, short=short, level=level, province_code=province_code,
                 province=province, city_code=city_code, city=city,
                 ambiguous_short="1" if level == "city" and short in AMBIGUOUS_SHORT else "")
        )

    for code, name in provinces.items():
        add(pad(code), name, province_short(name), "province", pad(code), name)

    cities = {}
    for row in read_csv(source / "cities.csv"):
        pcode, pname = row["provinceCode"], provinces[row["provinceCode"]]
        if row["name"] in PLACEHOLDER_CITIES:
            # A municipality's districts belong to the municipality itself.
            cities[row["code"]] = (pad(pcode), pname) if pcode in MUNICIPALITIES else ("", "")
            continue
        cities[row["code"]] = (pad(row["code"]), row["name"])
        add(pad(row["code"]), row["name"], city_short(row["name"]), "city", pad(pcode), pname,
            pad(row["code"]), row["name"])

    for row in read_csv(source / "areas.csv"):
        pcode = row["provinceCode"]
        city_code, city = cities.get(row["cityCode"], ("", ""))
        add(row["code"], row["name"], "", "county", pad(pcode), provinces[pcode], city_code, city)

    special = json.loads((source / "HK-MO-TW.json").read_text(encoding="utf-8"))
    for name, subdivisions in special.items():
        # The list gives these no codes; GB/T 2260 has one for each province-level unit
        # (and none for Taiwan's cities, which keep an empty code).
        code = SPECIAL_CODES.get(name, "")
        add(code, name, province_short(name), "province", code, name)
        if name == "台湾省":
            for city in subdivisions:
                add("", city, city_short(city) if city.endswith("市") else "", "city", code, name, "", city)
    return rows


def main(argv: list[str]) -> int:
    source = Path(argv[1] if len(argv) > 1 else "../shared/data/admin-divisions")
    target = Path(__file__).resolve().parent.parent / "src" / "policylex" / "data" / "places.csv"
    rows = build(source)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} places to {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
