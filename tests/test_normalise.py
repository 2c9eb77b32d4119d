import pytest
from hypothesis import given, settings, strategies as st

from policylex.normalise import (
    clean,
    convert_script,
    fold_width,
    normalise,
    remove_pinyin_artefacts,
    strip_boilerplate,
)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("新聞專(zhuān)題", "新聞專題"),
        ("會(huì)議", "會議"),
        ("時(shí)政類(lèi)", "時政類"),
        ("黨組(擴(kuò)大)會(huì)議", "黨組(擴大)會議"),
        ("（一）加強領導", "（一）加強領導"),
        ("(一)", "(一)"),
        ("(下称《意见》)", "(下称《意见》)"),
        ("二〇二三年(2023)", "二〇二三年(2023)"),
        ("世界贸易组织(wto)", "世界贸易组织(wto)"),
        ("市、區(市、区)", "市、區(市、区)"),
        ("中(zhōng)(guó)", "中"),
    ],
)
def test_pinyin_artefacts(raw, expected):
    assert remove_pinyin_artefacts(raw) == expected


def test_full_width_letters_and_digits_fold_but_chinese_punctuation_stays():
    assert fold_width("２０２３年ＡＢｃ，（一）：") == "2023年ABc，（一）："


def test_traditional_to_simplified_and_none():
    assert convert_script("檢察機關會議") == "检察机关会议"
    assert convert_script("檢察機關", "none") == "檢察機關"


@pytest.mark.parametrize(
    "line",
    [
        "分享到:",
        "我要爆料 免责声明",
        "字号:A A    颜色:",
        "来源:中国长安网 责任编辑:李婷 发布时间:2022-05-10",
        "2023-08-08 14:02 来源:青岛市人民检察院",
        "欢迎访问甘肃政法网 今天是 2024年12月29日 星期日",
        "新闻专题 > 时政类 > 正文",
        "相关文章:",
        "供稿:刘璐",
        "【纠错】 【打印本页】 【关闭窗口】",
        "当前位置：首页 > 检察要闻 > 正文",
    ],
)
def test_boilerplate_lines_are_removed(line):
    text = f"标题\n{line}\n会议强调，要坚持以人民为中心。"
    assert strip_boilerplate(text) == "标题\n会议强调，要坚持以人民为中心。"


def test_body_lines_with_labels_are_kept():
    text = "会议时间：2023年5月1日上午，地点在市检察院。"
    assert strip_boilerplate(text) == text


def test_repeated_title_and_doubled_title_are_dropped():
    text = "「丹东检察」视察工作\n正文一。\n「丹东检察」视察工作\n「丹东检察」视察工作「丹东检察」视察工作\n正文二。"
    assert strip_boilerplate(text) == "「丹东检察」视察工作\n正文一。\n正文二。"


def test_whitespace_collapses_and_crlf_goes():
    assert normalise("第一段。\r\n\r\n  第二段  有  空格。\r\n") == "第一段。\n第二段 有 空格。"


def test_clean_keeps_lines_normalise_drops_them():
    raw = "來(lái)源:青島市人民檢察院\n正文。"
    assert clean(raw) == "来源:青岛市人民检察院\n正文。"
    assert normalise(raw) == "正文。"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalise_is_idempotent_on_any_text(text):
    once = normalise(text)
    assert normalise(once) == once


cjk_text = st.lists(
    st.one_of(
        st.sampled_from(list("檢察會議來源分享到今天是年月日(huì)（一）>>【】:：,，。\n 　ＡＢ１２")),
        st.characters(min_codepoint=0x4E00, max_codepoint=0x4E40),
    ),
    max_size=80,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(cjk_text)
def test_normalise_is_idempotent_on_chinese_like_text(text):
    once = normalise(text)
    assert normalise(once) == once


@settings(max_examples=100, deadline=None)
@given(cjk_text)
def test_normalise_variants_never_raise(text):
    for variant in ("t2s", "tw2s", "hk2s", "none"):
        assert isinstance(normalise(text, variant), str)


def test_script_conversion_of_the_seeds_is_the_same_with_either_opencc_package():
    """The expected conversions were written with opencc 1.4.2 (C++) and are also what
    opencc-python-reimplemented 0.1.7 gives: the seeds convert the same whichever is installed."""
    import json

    from conftest import FIXTURES, SEEDS
    from policylex.normalise import convert_script, opencc_backend

    expected = json.loads((FIXTURES / "opencc" / "seeds_converted.json").read_text(encoding="utf-8"))
    assert sorted(expected) == sorted(p.name for p in SEEDS.glob("*.txt"))
    for name, variants in expected.items():
        for variant, text in variants.items():
            assert convert_script((SEEDS / name).read_text(encoding="utf-8"), variant) == text, (opencc_backend(), name)


def _is_repeat_by_scanning(line: str, seen: set[str]) -> bool:
    """The definition: the line again, or an earlier line written k times in a row."""
    return line in seen or any(len(line) % len(e) == 0 and line == e * (len(line) // len(e)) for e in seen)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(alphabet="标题ab", min_size=1, max_size=8), max_size=6), st.text(alphabet="标题ab", min_size=1,
                                                                                      max_size=24))
def test_repeat_lookup_agrees_with_its_definition(seen, line):
    from policylex.normalise import _is_repeat

    seen = set(seen) | {line[: len(line) // 2] or line}
    assert _is_repeat(line, seen) == _is_repeat_by_scanning(line, seen)


def test_a_lone_surrogate_from_a_json_escape_does_not_stop_normalising():
    import json

    text = json.loads('"\\u516c\\u76ca\\ud800\\u8bc9\\u8bbc"')  # 公益?诉讼 with half a UTF-16 pair
    assert normalise(text) == "公益\ufffd诉讼"
