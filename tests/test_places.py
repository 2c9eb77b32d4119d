import pytest
from hypothesis import given, strategies as st

from policylex.metadata import extract
from policylex.normalise import clean
from policylex.places import find_mentions, resolve_name, resolve_region


@pytest.mark.parametrize(
    "title, lead, expected",
    [
        ("青岛市检察院召开会议", "", ("山东省", "青岛市")),
        ("最高检：以高质量的检察履职实绩为党分忧", "深圳建设", ("全国", None)),
        ("最高人民检察院发布典型案例", "", ("全国", None)),
        (None, "湛江市检察院召开全市检察长会议", ("广东省", "湛江市")),
        ("延边州人民检察院召开会议", "", ("吉林省", "延边朝鲜族自治州")),
        ("崂山区人民检察院开展活动", "", ("山东省", "青岛市")),
        ("北京市朝阳区人民检察院", "", ("北京市", "北京市")),
        ("朝阳区人民检察院召开会议", "", None),
        ("内蒙古自治区人民检察院召开会议", "", ("内蒙古自治区", None)),
    ],
)
def test_issuing_body(title, lead, expected):
    place = resolve_region(title, lead)
    assert ((place.province, place.city) if place else None) == expected


def test_bare_provincial_body_takes_the_masthead():
    text = clean("遼寧長安網訊 日前，省人民檢察院黨組書記主持召開會議，傳達最高人民檢察院檢察長在吉林的講話。")
    meta = extract(text)
    assert (meta.province, meta.city, meta.source) == ("辽宁省", None, "辽宁长安网")


def test_traditional_names_resolve():
    assert resolve_name("遼寧").name == "辽宁省"
    assert resolve_name("廣州市").city == "广州市"
    assert resolve_name("全国").province == "全国"
    assert resolve_name("火星") is None


@pytest.mark.parametrize("text", ["要实现长治久安", "弘扬延安精神", "毕业于中山大学", "大理石地面", "阿里巴巴集团"])
def test_ordinary_words_are_not_places(text):
    assert find_mentions(text) == []


def test_ambiguous_short_names_resolve_with_suffix():
    assert resolve_region("长治市人民检察院召开会议", "").province == "山西省"


def test_no_region_when_none_is_named():
    assert resolve_region("检察机关召开会议", "会议强调，要坚持以人民为中心。") is None


@given(st.text(max_size=80))
def test_region_resolution_never_raises(text):
    place = resolve_region(text, text)
    assert place is None or place.province
