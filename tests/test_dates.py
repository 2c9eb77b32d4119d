import pytest
from hypothesis import given, strategies as st

from policylex.dates import PartialDate, parse_date
from policylex.metadata import extract, find_labelled_date, find_lead_date


@pytest.mark.parametrize(
    "value, iso",
    [
        ("2023-08-08 14:02", "2023-08-08"),
        ("2023-08-08T14:02:00+08:00", "2023-08-08"),
        ("2021年2月25日", "2021-02-25"),
        ("2021年 2 月 25 日", "2021-02-25"),
        ("二〇二一年二月二十五日", "2021-02-25"),
        ("2021/3/5", "2021-03-05"),
        ("2021.05.06", "2021-05-06"),
        ("20230808", "2023-08-08"),
        ("2021年4月", "2021-04"),
        ("2021-02", "2021-02"),
        ("2021", "2021"),
        ("10月30日", "--10-30"),
    ],
)
def test_parse_date(value, iso):
    assert parse_date(value).iso() == iso


@pytest.mark.parametrize("value", ["", "foo", "2023-02-30", "2023-13-01", "1900-01-01", "32月1日", None])
def test_parse_date_rejects(value):
    assert parse_date(value) is None


def test_date_without_year_has_no_year():
    date = parse_date("10月30日")
    assert date == PartialDate(None, 10, 30) and date.year is None and not date.is_complete


def test_labelled_date_wins_over_page_furniture():
    lines = ["欢迎访问甘肃政法网 今天是 2024年12月29日 星期日", "标题", "来源:中国长安网 发布时间:2022-05-10"]
    assert find_labelled_date(lines).iso() == "2022-05-10"


def test_furniture_date_alone_gives_no_date():
    assert find_labelled_date(["今天是 2024年12月29日 星期日", "标题"]) is None


@pytest.mark.parametrize(
    "label", ["发布时间：", "發布時間：", "日期：", "时间:", "发布日期 "],
)
def test_labels(label):
    from policylex.normalise import clean

    lines = clean(f"标题\n{label}2021年6月1日\n正文。").split("\n")
    assert find_labelled_date(lines).iso() == "2021-06-01"


def test_lead_dates():
    assert find_lead_date("2021年2月25日下午,湛江市检察院召开").iso() == "2021-02-25"
    assert find_lead_date("10月30日,丹东市人大常委会").iso() == "--10-30"
    assert find_lead_date("辽宁长安网讯 3月5日，省检察院").iso() == "--03-05"
    assert find_lead_date("会议指出，2021年2月25日以来") is None


def test_body_dates_are_not_the_publication_date():
    meta = extract("标题\n会议指出，今年8月以来，2019年3月成立的专班成效明显。")
    assert meta.date is None


@given(st.text(max_size=60))
def test_date_extraction_never_raises(text):
    date = parse_date(text)
    assert date is None or isinstance(date.iso(), str)
    meta = extract(text)
    assert meta.date is None or meta.date.iso()
