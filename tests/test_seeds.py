"""The seeds' metadata, exactly as issue 2 states it."""

import pytest

from conftest import seed_doc

EXPECTED = {
    # number: (date, year, province, city, source)
    "000": ("2023-08-08", 2023, "山东省", "青岛市", "青岛市人民检察院"),
    "001": ("2022-05-10", 2022, "全国", None, "中国长安网"),
    "002": (None, None, "辽宁省", None, "辽宁长安网"),
    "003": ("2021-02-25", 2021, "广东省", "湛江市", None),
    "004": ("--10-30", None, "辽宁省", "丹东市", None),
}


@pytest.mark.parametrize("number", sorted(EXPECTED))
def test_seed_metadata(seeds_corpus, number):
    doc = seed_doc(seeds_corpus, number)
    assert (doc["date"], doc["year"], doc["province"], doc["city"], doc["source"]) == EXPECTED[number]


def test_seed_001_is_not_dated_by_page_furniture(seeds_corpus):
    doc = seed_doc(seeds_corpus, "001")
    assert doc["date"] != "2024-12-29"
    assert "今天是" in doc["raw_text"] and "今天是" not in doc["norm_text"]


def test_seed_codes(seeds_corpus):
    assert seed_doc(seeds_corpus, "000")["province_code"] == "370000"
    assert seed_doc(seeds_corpus, "000")["city_code"] == "370200"
    assert seed_doc(seeds_corpus, "003")["city_code"] == "440800"
    assert seed_doc(seeds_corpus, "004")["city_code"] == "210600"
    assert seed_doc(seeds_corpus, "002")["province_code"] == "210000"


def test_seed_titles(seeds_corpus):
    assert seed_doc(seeds_corpus, "000")["title"] == "青岛市检察院召开全市检察机关服务保障经略海洋战略工作会议"
    assert seed_doc(seeds_corpus, "004")["title"] == "「丹东检察」丹东市人大视察检察机关公益诉讼工作"
    # 003 opens with its lead sentence: there is no title line to take.
    assert seed_doc(seeds_corpus, "003")["title"] is None


def test_seed_raw_text_is_kept_and_normalised_text_is_clean(seeds_corpus):
    doc = seed_doc(seeds_corpus, "000")
    assert "會(huì)議" in doc["raw_text"]
    norm = doc["norm_text"]
    assert "会议" in norm and "(huì)" not in norm
    for furniture in ("分享到", "我要爆料", "免责声明", "来源:", "新闻专题"):
        assert furniture not in norm


def test_seed_004_repeated_title_kept_once(seeds_corpus):
    doc = seed_doc(seeds_corpus, "004")
    assert doc["raw_text"].count("「丹东检察」丹东市人大视察检察机关公益诉讼工作") > 5
    assert doc["norm_text"].count("「丹东检察」丹东市人大视察检察机关公益诉讼工作") == 1
    assert "供稿" not in doc["norm_text"] and "相关文章" not in doc["norm_text"]


def test_seed_provenance(seeds_corpus):
    rows = seeds_corpus.db.execute("SELECT * FROM sources ORDER BY path").fetchall()
    assert len(rows) == 5
    for row in rows:
        assert row["reader"] == "text" and row["encoding"] == "utf-8"
        assert len(row["raw_sha256"]) == 64 and row["ingested_at"]
