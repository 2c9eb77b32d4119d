"""The lexicon file and the matcher: variants, enumerations, scripts and traps."""

import csv
import re
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import FIXTURES
from policylex.errors import UsageError
from policylex.lexicon import CATEGORIES, COLUMNS, Entry, Lexicon, bundled_lexicon, load_lexicon, parse_lexicon
from policylex.normalise import clean, to_traditional

LEXICON = FIXTURES / "slogans"


def found(text, variant="t2s", lexicon=None):
    return [(m.slogan, m.matched) for m in (lexicon or bundled_lexicon()).matcher(variant).find(text)]


def slogans_in(text, variant="t2s"):
    return [slogan for slogan, _ in found(text, variant)]


# --- the bundled file ----------------------------------------------------------------


def test_bundled_lexicon_is_large_categorised_and_documented():
    lexicon = bundled_lexicon()
    assert len(lexicon) >= 150
    assert {e.category for e in lexicon} == set(CATEGORIES)
    assert all(e.year is None or 1949 <= e.year <= 2026 for e in lexicon)
    with resources.files("policylex").joinpath("data", "slogans.csv").open(encoding="utf-8") as handle:
        assert tuple(next(csv.reader(handle))) == COLUMNS
    note = resources.files("policylex").joinpath("data", "SLOGANS.md").read_text(encoding="utf-8")
    assert "not_before" in note and "categor" in note


def _bundled_rows():
    with resources.files("policylex").joinpath("data", "slogans.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_the_bundled_file_is_well_formed():
    header, *rows = _bundled_rows()
    assert tuple(header) == COLUMNS
    assert all(len(row) == len(COLUMNS) for row in rows)
    assert all(cell == cell.strip() for row in rows for cell in row)
    slogans = [row[0] for row in rows]
    assert len(slogans) == len(set(slogans))
    forms = [form for entry in bundled_lexicon() for form in entry.forms()]
    assert len(forms) == len(set(forms)), "a surface form under two entries"
    for entry in bundled_lexicon():
        assert entry.category in CATEGORIES
        assert entry.year is None or 1949 <= entry.year <= 2026, entry.slogan
        assert entry.note, entry.slogan


def test_script_variants_convert_to_a_simplified_form_of_their_entry():
    # Traditional forms are listed so that a corpus kept in its script (--variant none) is matched;
    # each must come back, under t2s, to the canonical form or another simplified form of its entry.
    for entry in bundled_lexicon():
        simplified = {form for form in entry.forms() if clean(form, "t2s") == form}
        assert entry.slogan in simplified, entry.slogan
        for form in entry.forms():
            assert clean(form, "t2s") in simplified, (entry.slogan, form)


def test_trap_guards_are_single_characters_in_both_scripts():
    for entry in bundled_lexicon():
        for guard in (entry.not_before, entry.not_after):
            assert len(set(guard)) == len(guard) and re.fullmatch(r"[\u4e00-\u9fff]*", guard), entry.slogan
            # A guard that holds in simplified text must hold in traditional text too.
            assert all(to_traditional(c) in guard for c in guard if clean(c, "t2s") == c), entry.slogan


def test_families_are_consistent():
    lexicon = bundled_lexicon()
    families = lexicon.pools("family")
    note = resources.files("policylex").joinpath("data", "SLOGANS.md").read_text(encoding="utf-8")
    for name, members in families.items():
        assert len(members) >= 2, name
        assert clean(name, "t2s") == name and name in note, name
        # A numbered set named after its own entry holds that entry: 四个全面 is in 四个全面.
        if name in lexicon:
            assert name in members, name
    assert {"强国系列", "中国系列", "全球倡议", "两个确立", "三新一高", "四个全面", "五位一体"} <= set(families)
    assert {"教育强国", "科技强国", "人才强国", "金融强国", "农业强国"} <= set(families["强国系列"])
    assert set(families["中国系列"]) == {"平安中国", "法治中国", "健康中国", "美丽中国", "数字中国"}
    assert set(families["全球倡议"]) == {"全球发展倡议", "全球安全倡议", "全球文明倡议", "全球治理倡议"}
    assert set(families["四个全面"]) >= {"全面深化改革", "全面依法治国", "全面从严治党", "全面建成小康社会"}


def test_a_lexicon_without_the_family_column_still_loads():
    entries = parse_lexicon("slogan,category\n甲乙丙,party-political\n", "old.csv")
    assert entries == [Entry("甲乙丙", "party-political")]
    assert entries[0].family == ""


# The checklist the 2012-2025 extension was measured against (SLOGANS.md): prominent
# formulations of the national documents, by source; every one is an entry.
NATIONAL_2012_2025 = {
    '18th Party Congress (2012)': (
        "五位一体 三个自信 全面建成小康社会 美丽中国 海洋强国 创新驱动发展战略 社会主义核心价值观 "
        "生态文明建设 两个一百年 法治思维和法治方式 科学立法、严格执法、公正司法、全民守法 文化强国 "
        "人才强国"
    ),
    '19th Party Congress (2017)': (
        "习近平新时代中国特色社会主义思想 不忘初心、牢记使命 人民日益增长的美好生活需要 乡村振兴 "
        "高质量发展 现代化经济体系 三大攻坚战 精准脱贫 污染防治攻坚战 防范化解重大风险 共建共治共享 "
        "交通强国 质量强国 航天强国 网络强国 数字中国 科技强国 贸易强国 体育强国 教育强国 健康中国 "
        "四个伟大 十四个坚持 人类命运共同体 司法体制综合配套改革 获得感、幸福感、安全感 "
        "自治、法治、德治相结合 城乡融合发展 新型国际关系 共商共建共享"
    ),
    'plenum decisions (2013-2024)': (
        "全面深化改革 国家治理体系和治理能力现代化 市场在资源配置中起决定性作用 法治中国 全面依法治国 "
        "中国特色社会主义法治体系 新发展理念 全面二孩 中国之治 新发展格局 科技自立自强 两个确立 "
        "十个明确 进一步全面深化改革 高水平社会主义市场经济体制 开放型经济新体制 "
        "人人有责、人人尽责、人人享有"
    ),
    '20th Party Congress (2022)': (
        "中国式现代化 全过程人民民主 三个务必 五个必由之路 六个必须坚持 农业强国 高水平对外开放 "
        "现代化产业体系 新安全格局 全人类共同价值 全球发展倡议 全球安全倡议 自我革命 人类文明新形态 "
        "制度型开放 中华民族共同体意识 人与自然和谐共生"
    ),
    'government work reports (2013-2025)': (
        "新型城镇化 简政放权 放管服 大众创业、万众创新 互联网+ 中国制造2025 供给侧结构性改革 "
        "三去一降一补 新常态 减税降费 六稳 六保 两新一重 双循环 碳达峰、碳中和 营商环境 专精特新 "
        "新质生产力 人工智能+ 投资于人 乡村全面振兴 全国统一大市场 双随机、一公开 一带一路 "
        "京津冀协同发展 长江经济带 粤港澳大湾区"
    ),
    'Central Economic and Financial Work Conferences': (
        "稳中求进 稳字当头 以进促稳 先立后破 需求收缩、供给冲击、预期转弱 房子是用来住的、不是用来炒的 "
        "金融强国 五篇大文章 适度宽松的货币政策"
    ),
    'other central formulations': (
        "全球文明倡议 全球治理倡议 总体国家安全观 习近平法治思想 四个意识 两个维护 四个自信 四个全面 "
        "八项规定 三严三实 两学一做 党史学习教育 党纪学习教育 三新一高 枫桥经验 扫黑除恶专项斗争 "
        "认罪认罚从宽制度 少捕慎诉慎押 四大检察"
    ),
}


@pytest.mark.parametrize("source", NATIONAL_2012_2025)
def test_the_national_formulations_of_2012_2025_are_in_it(source):
    lexicon = bundled_lexicon()
    assert [name for name in NATIONAL_2012_2025[source].split() if name not in lexicon] == []


def test_a_timeline_of_the_central_formulation_finds_it():
    assert slogans_in("以中国式现代化全面推进中华民族伟大复兴") == ["中国式现代化", "中华民族伟大复兴"]
    assert found("开展“人工智能+”行动") == [("人工智能+", "人工智能+")]
    assert found("更加注重投资于人、服务于民生") == [("投资于人", "投资于人")]


@pytest.mark.parametrize("slogan", ["四个意识", "四个自信", "两个维护", "四大检察", "少捕慎诉慎押", "一号检察建议",
                                    "双赢多赢共赢", "获得感、幸福感、安全感", "扫黑除恶", "认罪认罚从宽制度",
                                    "习近平法治思想"])
def test_the_issue_s_formulations_are_in_it(slogan):
    assert slogan in bundled_lexicon()


def test_the_seeds_local_formulations_are_left_for_discovery():
    assert not {"三大工程", "两大品牌", "六个必须", "1+4+5"} & set(bundled_lexicon().slogans())


# --- variants --------------------------------------------------------------------------


def test_quoted_and_unquoted_forms_match():
    assert slogans_in("增强“四个意识”、坚定“四个自信”、做到“两个维护”") == ["四个意识", "四个自信", "两个维护"]
    assert slogans_in("增强四个意识") == ["四个意识"]


@pytest.mark.parametrize("text", [
    "获得感、幸福感、安全感", "获得感幸福感安全感", "获得感,幸福感,安全感", "获得感、幸福感和安全感",
    "“获得感”“幸福感”“安全感”", "“获得感”、“幸福感”、“安全感”",
])
def test_enumerations_with_or_without_separators(text):
    assert slogans_in(f"人民群众的{text}更加充实") == ["获得感、幸福感、安全感"]


def test_traditional_script_in_a_corpus_kept_in_its_script():
    # --variant none leaves the text traditional: the simplified lexicon still finds it.
    assert slogans_in("增強「四個意識」，推進四大檢察", variant="none") == ["四个意识", "四大检察"]
    assert slogans_in("增强四个意识", variant="none") == ["四个意识"]


def test_abbreviations_are_variants_of_their_entry():
    assert found("全面适用认罪认罚从宽") == [("认罪认罚从宽制度", "认罪认罚从宽")]


def test_resolve_accepts_any_form_and_script():
    lexicon = bundled_lexicon()
    assert lexicon.resolve("四大檢察") == "四大检察"
    assert lexicon.resolve("“两个维护”") == "两个维护"
    assert lexicon.resolve("获得感幸福感安全感") == "获得感、幸福感、安全感"
    with pytest.raises(UsageError, match="not in the lexicon"):
        lexicon.resolve("不存在的提法")


# --- traps: no match inside a longer, different word ------------------------------------


@pytest.mark.parametrize("text, absent", [
    ("第三农场的职工", "三农"),
    ("推动三农村道路建设", "三农"),
    ("能耗实现双减少", "双减"),
    ("第四个意识形态问题", "四个意识"),
    ("中央全面依法治国委员会印发意见", "全面依法治国"),
    ("周六稳定运行", "六稳"),
])
def test_traps(text, absent):
    assert absent not in slogans_in(text)


# Each guard of the lexicon, from the file: the guard character stops the match,
# and the same form before (or after) an ordinary character is found.
_GUARDED = [(e.slogan, side, c) for e in bundled_lexicon() for side, guard in (("before", e.not_before),
                                                                              ("after", e.not_after)) for c in guard]


@pytest.mark.parametrize("slogan, side, character", _GUARDED)
def test_every_guard_stops_a_match_and_only_there(slogan, side, character):
    blocked = f"要{character}{slogan}。" if side == "before" else f"要{slogan}{character}。"
    assert slogan not in slogans_in(blocked)
    assert slogan in slogans_in(f"要{slogan}。")


# The guards of the 2012-2025 additions, on the text they were chosen for (see SLOGANS.md).
@pytest.mark.parametrize("blocked, allowed, slogan", [
    ("鼓励企业投资于人工智能领域", "更加注重投资于人、服务于民生", "投资于人"),
    ("以人民币计价的基金投资于人民币债券", "投资于物和投资于人紧密结合", "投资于人"),
    ("报告列出四个最严重的缺陷", "落实食品安全“四个最严”要求", "四个最严"),
    ("西方政治意识形态的渗透", "增强政治意识、大局意识", "政治意识"),
    ("主体思想是其核心意识形态", "牢固树立核心意识", "核心意识"),
    ("项目涉及数千万工程款", "深入学习浙江“千万工程”经验", "千万工程"),
    ("上千万工程项目", "推广千万工程经验", "千万工程"),
    ("规划提出八个明确的要求", "深刻领会“八个明确”", "八个明确"),
    ("提出十个明确任务", "“十个明确”“十四个坚持”", "十个明确"),
])
def test_new_guards_on_real_collisions(blocked, allowed, slogan):
    assert slogan not in slogans_in(blocked)
    assert slogan in slogans_in(allowed)


def test_trap_guards_do_not_stop_the_real_thing():
    assert slogans_in("做好三农工作") == ["三农"]
    assert slogans_in("落实双减政策") == ["双减"]
    assert "全面依法治国" in slogans_in("坚持全面依法治国")


def test_the_longest_formulation_wins_and_matches_never_overlap():
    assert slogans_in("发出一号检察建议") == ["一号检察建议"]
    assert slogans_in("坚持发展新时代枫桥经验") == ["新时代枫桥经验"]
    assert slogans_in("深入开展扫黑除恶专项斗争") == ["扫黑除恶专项斗争"]
    assert slogans_in("检察建议和一号检察建议") == ["检察建议", "一号检察建议"]


# --- lexicon files ---------------------------------------------------------------------------


def test_a_lexicon_file_adds_and_replaces_entries():
    lexicon = load_lexicon(LEXICON / "extra.csv")
    assert len(lexicon) == len(bundled_lexicon()) + 1
    assert lexicon.entries["三大工程"].year == 2021
    assert lexicon.entries["四大检察"].variants == ("四大檢察", "四大业务")
    assert slogans_in_lexicon("实施三大工程、做优四大业务", lexicon) == ["三大工程", "四大检察"]


def slogans_in_lexicon(text, lexicon, variant="t2s"):
    return [slogan for slogan, _ in found(text, variant, lexicon=lexicon)]


def test_only_the_user_s_lexicon_and_tsv():
    lexicon = load_lexicon(LEXICON / "only.tsv", bundled=False)
    assert lexicon.slogans() == ["两学一做"]
    assert slogans_in_lexicon("开展两学一做学习教育，增强四个意识", lexicon) == ["两学一做"]
    assert slogans_in_lexicon("開展兩學一做學習教育", lexicon, variant="none") == ["两学一做"]


@pytest.mark.parametrize("name, message", [
    ("bad_year.csv", r"bad_year.csv:3: year '18年' is not a four-digit year"),
    ("clash.csv", r"'丁戊' is a form of both '甲乙丙' and '丁戊己'"),
    ("ragged.csv", r"ragged.csv:2: more fields than the header has"),
    ("missing.csv", r"--lexicon .*missing.csv: no such file"),
])
def test_bad_lexicon_files_are_one_line_errors(name, message):
    with pytest.raises(UsageError, match=message):
        load_lexicon(LEXICON / name)


def test_no_bundled_needs_a_file():
    with pytest.raises(UsageError, match="--no-bundled needs --lexicon"):
        load_lexicon(None, bundled=False)


# --- laws ----------------------------------------------------------------------------------

_FORMS = sorted({form for entry in bundled_lexicon() for form in entry.forms()})
_FILLER = st.text(alphabet="的工作和在会议上强调。，第十一二三四中", max_size=6)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_FILLER, st.sampled_from(_FORMS)), max_size=6), _FILLER)
def test_matches_are_ordered_disjoint_and_resolve_to_their_slogan(pieces, tail):
    text = "".join(filler + form for filler, form in pieces) + tail
    lexicon = bundled_lexicon()
    matches = lexicon.matcher("t2s").find(text)
    for before, after in zip(matches, matches[1:]):
        assert before.stop <= after.start
    for m in matches:
        assert text[m.start:m.stop] == m.matched
        assert lexicon.resolve(m.matched) == m.slogan


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80))
def test_the_matcher_never_raises(text):
    Lexicon([Entry("四个意识", not_after="形")], "test").matcher("t2s").find(text)
    bundled_lexicon().matcher("t2s").find(text)
