"""Term frequencies on a hand-made corpus, numbers worked out by hand."""

import pytest

from policylex.measures import term_frequencies
from policylex.errors import UsageError


@pytest.fixture
def small(corpus, tmp_path):
    # Three documents; after tokenising (stopwords and punctuation out):
    # a: 检察机关 公益诉讼 公益诉讼 检察机关 会议        (5 tokens)
    # b: 检察机关 扫黑除恶                              (2 tokens)
    # c: 公益诉讼 会议 会议                             (3 tokens)
    texts = {
        "a.txt": "检察机关公益诉讼\n公益诉讼的检察机关会议。",
        "b.txt": "检察机关扫黑除恶。",
        "c.txt": "公益诉讼会议，会议。",
    }
    for name, text in texts.items():
        (tmp_path / "in" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "in" / name).write_text(text, encoding="utf-8")
    corpus.ingest([str(tmp_path / "in")])
    corpus.tokenise(workers=1)
    tokens = {r[0]: r[1] for r in corpus.db.execute("SELECT name, tokens FROM documents")}
    assert tokens == {"a": "检察机关 公益诉讼 公益诉讼 检察机关 会议", "b": "检察机关 扫黑除恶", "c": "公益诉讼 会议 会议"}
    return corpus


def test_counts_rates_and_document_frequency(small):
    rows = list(term_frequencies(small, top=None).rows)
    # 10 tokens: 公益诉讼 3 → 3000 per 10k, in 2 documents; ties ranked by term (code point order)
    assert rows == [
        (1, "会议", 3, 3000.0, 2),
        (2, "公益诉讼", 3, 3000.0, 2),
        (3, "检察机关", 3, 3000.0, 2),
        (4, "扫黑除恶", 1, 1000.0, 1),
    ]


def test_min_count_top_and_terms(small):
    assert [r[1] for r in term_frequencies(small, min_count=2).rows] == ["会议", "公益诉讼", "检察机关"]
    assert [r[1] for r in term_frequencies(small, top=1).rows] == ["会议"]
    assert list(term_frequencies(small, terms=["扫黑除恶", "不存在"]).rows) == [
        (4, "扫黑除恶", 1, 1000.0, 1), (None, "不存在", 0, 0.0, 0)]


def test_duplicates_are_left_out_unless_asked(small, tmp_path):
    # a repost of a.txt with a line added is a near-duplicate
    (tmp_path / "d.txt").write_text("检察机关公益诉讼\n公益诉讼的检察机关会议。\n（转自检察日报）", encoding="utf-8")
    small.ingest([str(tmp_path / "d.txt")])
    small.tokenise(workers=1)
    assert small.db.execute("SELECT count(*) FROM documents WHERE near_duplicate_of IS NOT NULL").fetchone()[0] == 1
    assert dict((r[1], r[2]) for r in term_frequencies(small, top=None).rows)["公益诉讼"] == 3
    assert dict((r[1], r[2]) for r in term_frequencies(small, top=None, include_duplicates=True).rows)["公益诉讼"] == 5


def test_untokenised_corpus(corpus, tmp_path):
    (tmp_path / "a.txt").write_text("正文。", encoding="utf-8")
    corpus.ingest([str(tmp_path / "a.txt")])
    with pytest.raises(UsageError):
        term_frequencies(corpus)
