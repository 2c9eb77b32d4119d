"""The fast engine against the reference: rjieba must give plain jieba's tokens, dictionaries included."""

import sys

import pytest
from hypothesis import given, settings, strategies as st

from conftest import ROOT, SEEDS
from policylex.errors import UsageError
from policylex.normalise import normalise
from policylex.segment import Entry, JiebaEngine, RjiebaEngine, engine_name, make_engine, parse_dictionary
from policylex.tokenise import Tokeniser, TokeniserSettings, dictionary_entries

sys.path.insert(0, str(ROOT / "benchmarks"))
from corpus import document_text  # noqa: E402

# Words a user dictionary might hold: new words with and without frequencies, a word
# jieba already knows (its old frequency stays in jieba's total), ASCII words (which
# jieba-rs would otherwise join letter by letter), a tag.
USER_ENTRIES = [Entry("经略海洋战略", None, "n"), Entry("GDP", 100, "n"), Entry("5G", None, None),
                Entry("检察", 5, None), Entry("服务保障", None, None), Entry("ab", 3, None),
                Entry("新时代文明实践中心", 20000, "nt"), Entry("a股票", None, None)]
# Fragments that reach every branch: Han runs the HMM joins, dictionary words, ASCII runs,
# numbers, characters jieba-rs counts as Han and jieba does not (CJK extension A, U+9FD6-U+9FFF,
# compatibility ideographs, extension B), punctuation, white space, traditional characters.
FRAGMENTS = ["检察", "公益诉讼", "经略海洋", "战略", "GDP", "5G", "ab", "abc", "2023", "3.5%", "新时代", "文明", "实践",
             "中心", "的", "了", "张", "和林", "于天敏", "㐀", "龥", "鿕", "鿖", "\u9fff", "﨎", "𠀀", "，", "。", " ",
             "\n", "\r\n", "A", "b", "1", "-", ".", "_", "《", "》", "會議", "ǎ", "Ⅱ", "①", "a股票", "股票"]

_ENGINES: dict = {}


def engines(entries_name: str, hmm: bool) -> tuple[JiebaEngine, RjiebaEngine]:
    """(reference, fast) for a set of entries, built once per module: jieba's dictionary takes a second."""
    key = (entries_name, hmm)
    if key not in _ENGINES:
        entries = dictionary_entries() + (USER_ENTRIES if entries_name == "user" else [])
        _ENGINES[key] = (JiebaEngine(entries, hmm), RjiebaEngine(entries, hmm))
    return _ENGINES[key]


@pytest.mark.parametrize("hmm", [True, False])
def test_seeds_and_benchmark_documents_give_jieba_tokens(hmm):
    reference, fast = engines("domain", hmm)
    texts = [normalise(p.read_text(encoding="utf-8")) for p in sorted(SEEDS.glob("*.txt"))]
    texts += [normalise(document_text(i)) for i in range(0, 4000, 40)]
    for text in texts:
        assert fast.cut(text) == reference.cut(text)


@pytest.mark.parametrize("hmm", [True, False])
@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=30))
def test_any_text_gives_jieba_tokens_with_a_user_dictionary(hmm, fragments):
    reference, fast = engines("user", hmm)
    text = "".join(fragments)
    assert fast.cut(text) == reference.cut(text)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80))
def test_arbitrary_unicode_gives_jieba_tokens(text):
    reference, fast = engines("user", True)
    assert fast.cut(text) == reference.cut(text)


def test_dictionaries_reach_every_engine(tmp_path):
    userdict = tmp_path / "mine.txt"
    userdict.write_text("\ufeff经略海洋战略 100 n\n\n服务保障工作会议\n", encoding="utf-8")
    text = "服务保障经略海洋战略工作会议，落实少捕慎诉慎押。"
    for name in ("jieba", "rjieba"):
        plain = Tokeniser(TokeniserSettings(engine=name)).tokens(text)
        assert "少捕慎诉慎押" in plain and "经略海洋战略" not in plain  # the domain dictionary
        mine = Tokeniser(TokeniserSettings(engine=name, userdict=str(userdict))).tokens(text)
        assert "经略海洋战略" in mine  # the user's dictionary, with and without a frequency
    assert (Tokeniser(TokeniserSettings(engine="jieba", userdict=str(userdict))).tokens(text)
            == Tokeniser(TokeniserSettings(engine="rjieba", userdict=str(userdict))).tokens(text))


def test_parse_dictionary_reads_as_jieba_does(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("\ufeff公益诉讼 5000 n\n  \n认罪认罚 从宽\n检察建议 30\n", encoding="utf-8")
    assert parse_dictionary(path) == [Entry("公益诉讼", 5000, "n"), Entry("认罪认罚 从宽", None, None),
                                      Entry("检察建议", 30, None)]
    path.write_bytes("公益诉讼 5 n\n".encode("utf-8") + "检察".encode("gb18030") + b"\n")
    with pytest.raises(UsageError, match="line 2: not UTF-8"):
        parse_dictionary(path)


def test_a_word_forced_apart_chooses_jieba():
    """Frequency 0 makes jieba split a word; jieba-rs has no such notion, so auto picks the reference."""
    entries = dictionary_entries() + [Entry("公益诉讼", 0, None)]
    assert engine_name(entries) == "jieba"
    assert engine_name(dictionary_entries()) == "rjieba"
    assert isinstance(make_engine(entries, True), JiebaEngine)
    with pytest.raises(UsageError, match="unknown segmenter"):
        engine_name(entries, "pkuseg")


def test_engine_is_recorded_in_the_fingerprint():
    import json

    assert json.loads(TokeniserSettings().fingerprint())["engine"].startswith("rjieba ")
    assert json.loads(TokeniserSettings(engine="jieba").fingerprint())["engine"].startswith("jieba ")
    assert json.loads(TokeniserSettings(pos=True).fingerprint())["engine"].endswith(" posseg")
