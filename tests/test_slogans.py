"""Slogan detection on the corpus: the seeds, stored matches, counts, co-occurrence, diffusion, discovery."""

import math

import pytest

from conftest import FIXTURES, ingest_texts
from policylex.discovery import discover
from policylex.errors import UsageError
from policylex.lexicon import Entry, Lexicon, load_lexicon
from policylex.slogans import association, cooccurrence, count_slogans, scan, timeline, unit_starts

# Read off the seeds by hand (counts per document), in the normalised text.
SEED_SLOGANS = {
    "四个意识": {"001": 1},
    "四个自信": {"001": 1},
    "两个维护": {"001": 1},
    "四大检察": {"000": 2, "003": 3},
    "一号检察建议": {"001": 1, "003": 1},
    "少捕慎诉慎押": {"001": 1},
    "双赢多赢共赢": {"004": 1},
    "习近平法治思想": {"000": 2, "003": 2},
    "质量建设年": {"001": 3},
    "公益诉讼": {"001": 1, "002": 2, "003": 4, "004": 25},
    "扫黑除恶": {"003": 1},
    "常态化扫黑除恶": {"003": 1},  # written 扫黑除恶常态化
    "三会一课": {"003": 1},
    "获得感、幸福感、安全感": {"002": 1, "004": 1},
    "认罪认罚从宽制度": {"003": 1},  # written 认罪认罚从宽
    "在办案中监督、在监督中办案": {"002": 1},  # written with a comma
}


def hits_by_document(corpus):
    rows = corpus.db.execute(
        "SELECT substr(d.name, 1, 3), h.slogan, count(*) FROM slogan_hits h JOIN documents d ON d.id = h.doc_id "
        "GROUP BY 1, 2").fetchall()
    result = {}
    for doc, slogan, n in rows:
        result.setdefault(slogan, {})[doc] = n
    return result


def test_the_seeds_formulations_are_found(seeds_corpus):
    report = scan(seeds_corpus)
    assert report.scanned == 5
    found = hits_by_document(seeds_corpus)
    for slogan, per_document in SEED_SLOGANS.items():
        assert found.get(slogan) == per_document, slogan
    assert not {"三大工程", "两大品牌", "六个必须"} & set(found)


def test_scan_is_incremental_and_follows_the_lexicon(seeds_corpus, tmp_path):
    assert scan(seeds_corpus).scanned == 5
    assert scan(seeds_corpus).scanned == 0
    extra = load_lexicon(FIXTURES / "slogans" / "extra.csv")
    assert scan(seeds_corpus, extra).scanned == 5  # another lexicon: every document again
    assert hits_by_document(seeds_corpus)["三大工程"] == {"003": 3}
    assert seeds_corpus.db.execute("SELECT count(*) FROM slogan_lexicon").fetchone()[0] == len(extra)
    (tmp_path / "new.txt").write_text("沈阳市检察院召开会议\n发布时间：2021-03-01\n坚持四大检察全面协调充分发展。",
                                      encoding="utf-8")
    seeds_corpus.ingest([str(tmp_path / "new.txt")])
    assert scan(seeds_corpus, extra).scanned == 1


def test_unit_starts():
    text = "第一句。第二句！还有\n第二段；末尾"
    paragraphs, sentences = unit_starts(text)
    assert paragraphs == [0, 11]
    assert [text[s] for s in sentences] == ["第", "第", "还", "第", "末"]


def test_matches_know_their_paragraph_and_sentence(corpus, tmp_path):
    (tmp_path / "a.txt").write_text("甲市召开会议。强调四个意识。\n乙县部署工作，做到两个维护。", encoding="utf-8")
    corpus.ingest([str(tmp_path / "a.txt")])
    scan(corpus)
    rows = corpus.db.execute("SELECT slogan, paragraph, sentence, matched FROM slogan_hits ORDER BY start").fetchall()
    assert [tuple(r) for r in rows] == [("四个意识", 0, 1, "四个意识"), ("两个维护", 1, 2, "两个维护")]
    units = corpus.db.execute("SELECT paragraphs, sentences FROM slogan_scans").fetchone()
    assert tuple(units) == (2, 3)


# --- counts -----------------------------------------------------------------------------


def test_counts_on_the_seeds(seeds_corpus):
    rows = {r["slogan"]: r for r in count_slogans(seeds_corpus).records()}
    chars = sum(r[0] for r in seeds_corpus.db.execute("SELECT chars FROM documents"))
    assert rows["公益诉讼"]["occurrences"] == 32 and rows["公益诉讼"]["documents"] == 4
    assert rows["公益诉讼"]["per_10k_chars"] == round(32 / chars * 10_000, 4)
    assert rows["公益诉讼"]["doc_share"] == 0.8 and rows["公益诉讼"]["rank"] == 1
    assert rows["四大检察"]["occurrences"] == 5
    # Longest matches only: every stored match counted once.
    longest = {r["slogan"]: r for r in count_slogans(seeds_corpus, nested="dictionary").records()}
    total = seeds_corpus.db.execute("SELECT count(*) FROM slogan_hits").fetchone()[0]
    assert sum(r["occurrences"] for r in longest.values()) == total
    # Nested (the default): 中国特色社会主义 also where it is written inside a longer formulation.
    inside = seeds_corpus.db.execute("SELECT count(*) FROM slogan_hits WHERE slogan != '中国特色社会主义' "
                                     "AND instr(matched, '中国特色社会主义') > 0").fetchone()[0]
    assert inside > 0
    assert rows["中国特色社会主义"]["occurrences"] == longest["中国特色社会主义"]["occurrences"] + inside


NESTED = "坚持全面依法治国，推进依法治国。全面依法治国是国家治理的一场深刻革命。"


@pytest.mark.parametrize("nested, counts", [
    # key: 全面依法治国 twice, 依法治国 three times (once alone, twice inside 全面依法治国)
    ("key", {"全面依法治国": 2, "依法治国": 3}),
    # dictionary: the longest match only
    ("dictionary", {"全面依法治国": 2, "依法治国": 1}),
])
def test_nested_formulations_count_under_both_keys_or_the_longest(corpus, tmp_path, nested, counts):
    ingest_texts(corpus, tmp_path / "n", {"a.txt": NESTED})
    rows = {r["slogan"]: r["occurrences"] for r in count_slogans(corpus, nested=nested).records()}
    assert {k: rows.get(k) for k in counts} == counts


def test_counts_by_province_and_where(seeds_corpus):
    table = count_slogans(seeds_corpus, by="province", slogans=["公益诉讼"])
    assert {r["group"]: r["occurrences"] for r in table.records()} == {"全国": 1, "广东省": 4, "辽宁省": 27, "山东省": 0}
    liaoning = list(count_slogans(seeds_corpus, where=["province=辽宁"], slogans=["公益诉讼"]).records())
    assert liaoning[0]["documents"] == 2 and liaoning[0]["doc_share"] == 1.0


def test_absent_formulations_only_when_asked(seeds_corpus):
    assert all(r["occurrences"] > 0 for r in count_slogans(seeds_corpus).records())
    everything = list(count_slogans(seeds_corpus, include_absent=True).records())
    assert len(everything) == len(load_lexicon())
    assert any(r["occurrences"] == 0 and r["rank"] is None for r in everything)


# --- co-occurrence, worked out by hand -----------------------------------------------------

FOUR = {
    "d1.txt": "甲市召开会议强调四个意识。乙县部署两个维护。",
    "d2.txt": "丙区坚持四个意识，做到两个维护。\n丁镇做优四大检察。",
    "d3.txt": "戊村推进四大检察工作。",
    "d4.txt": "己市天气晴朗适合出游。",
}


@pytest.fixture
def four(corpus, tmp_path):
    ingest_texts(corpus, tmp_path / "four", FOUR)
    assert corpus.count(include_duplicates=False) == 4
    return corpus


def pair(table, a, b):
    return next(r for r in table.records() if {r["slogan_a"], r["slogan_b"]} == {a, b})


def test_cooccurrence_by_document(four):
    # N = 4 documents; 四个意识 in d1, d2; 两个维护 in d1, d2; 四大检察 in d2, d3.
    table = cooccurrence(four, window="doc")
    both = pair(table, "四个意识", "两个维护")
    assert (both["joint"], both["count_a"], both["count_b"], both["units"]) == (2, 2, 2, 4)
    assert both["pmi"] == 1.0  # log2(2·4 / (2·2))
    assert both["npmi"] == 1.0  # 1 / −log2(2/4)
    assert both["jaccard"] == 1.0
    assert both["ll"] == round(8 * math.log(2), 4)  # 2·(2 ln 2 + 2 ln 2): cells 2, 0, 0, 2
    once = pair(table, "四个意识", "四大检察")
    assert (once["joint"], once["pmi"], once["npmi"], once["jaccard"], once["ll"]) == (1, 0.0, 0.0, 0.3333, 0.0)


def test_cooccurrence_by_sentence(four):
    # Sentences: d1 two, d2 two, d3 one, d4 one: N = 6; only d2's first holds both.
    both = pair(cooccurrence(four, window="sentence"), "四个意识", "两个维护")
    assert (both["joint"], both["count_a"], both["count_b"], both["units"]) == (1, 2, 2, 6)
    assert both["pmi"] == round(math.log2(1.5), 4) == 0.585
    assert both["npmi"] == round(math.log2(1.5) / math.log2(6), 4) == 0.2263
    assert both["jaccard"] == 0.3333
    # Cells 1, 1, 1, 3; expected 2/3, 4/3, 4/3, 8/3.
    g2 = 2 * (math.log(1.5) + 2 * math.log(0.75) + 3 * math.log(3 / (8 / 3)))
    assert both["ll"] == round(g2, 4) == 0.3669


def test_cooccurrence_by_paragraph_and_min_count(four):
    # Paragraphs: d1 one, d2 two, d3 one, d4 one: N = 5.
    table = cooccurrence(four, window="paragraph")
    both = pair(table, "四个意识", "两个维护")
    assert (both["joint"], both["units"], both["pmi"], both["npmi"]) == (2, 5, round(math.log2(2.5), 4), 1.0)
    assert [(r["slogan_a"], r["slogan_b"]) for r in cooccurrence(four, window="paragraph", min_count=2).records()] \
        == [("两个维护", "四个意识")]


# --- families, worked out by hand -----------------------------------------------------------

FAMILIES = {
    "f1.txt": "建设教育强国、科技强国。推进平安中国建设。",
    "f2.txt": "加快建设金融强国。",
    "f3.txt": "坚持全面依法治国。",
}


@pytest.fixture
def families(corpus, tmp_path):
    ingest_texts(corpus, tmp_path / "families", FAMILIES)
    return corpus


def test_counts_pooled_by_family(families):
    # 强国系列: 教育强国 + 科技强国 in f1, 金融强国 in f2 = 3 occurrences in 2 documents;
    # 中国系列: 平安中国 in f1; 四个全面: 全面依法治国 in f3.
    table = count_slogans(families, pool="family")
    assert table.columns[:3] == ("rank", "family", "formulations")
    rows = {r["family"]: r for r in table.records()}
    assert set(rows) == {"强国系列", "中国系列", "四个全面"}
    strong = rows["强国系列"]
    assert (strong["rank"], strong["occurrences"], strong["documents"], strong["doc_share"]) == (1, 3, 2, 0.6667)
    assert strong["formulations"] == len(load_lexicon().pools("family")["强国系列"])
    assert (rows["中国系列"]["occurrences"], rows["四个全面"]["documents"]) == (1, 1)
    # The rate's denominator is the characters of all the documents, as for one formulation.
    chars = sum(len(text) for (text,) in families.db.execute("SELECT norm_text FROM documents"))
    assert strong["per_10k_chars"] == round(3 / chars * 10_000, 4)


def test_counts_pooled_by_category_and_named_pools(families):
    rows = {r["category"]: r["occurrences"] for r in count_slogans(families, pool="category",
                                                                   nested="dictionary").records()}
    assert rows == {"governance-development": 3, "rule-of-law": 2}
    named = list(count_slogans(families, pool="family", slogans=["中国系列"]).records())
    assert [(r["family"], r["occurrences"]) for r in named] == [("中国系列", 1)]
    with pytest.raises(UsageError, match="not a family"):
        count_slogans(families, pool="family", slogans=["强国"])
    with pytest.raises(UsageError, match="choose from family, category"):
        count_slogans(families, pool="colour")


def test_cooccurrence_pooled_by_family(families):
    # By sentence, N = 4: f1's first sentence holds two 强国 members, which make no pair;
    # by document, N = 3: f1 holds 强国系列 and 中国系列.
    assert list(cooccurrence(families, window="sentence", pool="family").records()) == []
    (both,) = cooccurrence(families, window="doc", pool="family").records()
    assert (both["slogan_a"], both["slogan_b"]) == ("中国系列", "强国系列")
    assert (both["joint"], both["count_a"], both["count_b"], both["units"]) == (1, 1, 2, 3)
    by_slogan = {(r["slogan_a"], r["slogan_b"]) for r in cooccurrence(families, window="sentence").records()}
    assert by_slogan == {("教育强国", "科技强国")}


def test_the_issue_s_timeline_of_the_central_formulation(corpus, tmp_path):
    # Issue 16: `slogans timeline 中国式现代化` found nothing with the 306-entry lexicon.
    ingest_texts(corpus, tmp_path / "cm", {"a.txt": "以中国式现代化全面推进中华民族伟大复兴。", "b.txt": "天气晴朗。"})
    (row,) = timeline(corpus, ["中国式现代化"]).records()
    assert (row["slogan"], row["documents"], row["occurrences"]) == ("中国式现代化", 1, 1)


def test_association_laws():
    # Independence gives PMI 0; a pair that avoids each other has negative PMI and LL.
    assert association(1, 2, 2, 4)[0] == 0.0
    pmi, npmi, _, ll = association(1, 5, 5, 9)
    assert pmi < 0 and npmi < 0 and ll < 0


# --- diffusion ------------------------------------------------------------------------------

REGIONAL = {
    "sy.txt": "沈阳市检察院召开会议\n发布时间：2020-05-01\n会议要求坚持四大检察全面协调发展。",
    "dl.txt": "大连市检察院召开会议\n发布时间：2021-07-01\n会议部署做优四大检察和公益诉讼工作。",
    "dl2.txt": "大连市检察院召开座谈会\n发布时间：2022-03-15\n检察长强调四大检察要融合发展，公益诉讼要突出重点。",
    "gz.txt": "广州市检察院召开会议\n发布时间：2022-01-10\n会议强调推进四大检察高质量发展。",
    "zj.txt": "湛江市检察院召开会议\n会议强调做实四大检察，推进公益诉讼。",
}


@pytest.fixture
def regional(corpus, tmp_path):
    return ingest_texts(corpus, tmp_path / "regional", REGIONAL)


def test_timeline_first_and_last_per_province(regional):
    rows = [(r["province"], r["province_code"], r["first_date"], r["first_doc"], r["last_date"], r["last_doc"],
             r["documents"], r["occurrences"], r["undated"]) for r in timeline(regional, ["四大检察"]).records()]
    assert rows == [
        ("辽宁省", "210000", "2020-05-01", "sy", "2022-03-15", "dl2", 3, 3, 0),
        ("广东省", "440000", "2022-01-10", "gz", "2022-01-10", "gz", 2, 2, 1),
    ]


def test_yearly_counts(regional):
    rows = [tuple(r.values()) for r in timeline(regional, ["公益诉讼"], per_year=True).records()]
    assert rows == [("公益诉讼", "2021", 1, 1, 1), ("公益诉讼", "2022", 1, 1, 1), ("公益诉讼", "unknown", 1, 1, 1)]


def test_timeline_without_names_covers_every_formulation_found(regional):
    lexicon = Lexicon([Entry("四大检察"), Entry("公益诉讼"), Entry("两个维护")], "test")
    assert [r["slogan"] for r in timeline(regional, lexicon=lexicon).records()] == ["四大检察"] * 2 + ["公益诉讼"] * 2


# --- discovery --------------------------------------------------------------------------------


def test_discovery_on_the_seeds(seeds_corpus):
    table = discover(seeds_corpus, top=None)
    candidates = {r["candidate"]: r for r in table.records()}
    for expected in ("三大工程", "两大品牌", "六个必须", "1+4+5", "五大区域发展战略"):
        assert expected in candidates, expected
    assert candidates["三大工程"]["count"] == 3 and candidates["三大工程"]["documents"] == 1
    assert candidates["六个必须"]["kinds"] == "numbered" and candidates["六个必须"]["quoted"] == 1
    assert candidates["六个必须"]["verbs"] == "做到:1"
    assert "[三大工程]" in candidates["三大工程"]["example"]
    # Formulations the lexicon has, counts, dates and ordinals are not candidates.
    assert not {"四大检察", "四个意识", "两个维护", "三会一课", "一项一项", "一条条措", "九届五中"} & set(candidates)
    assert "五大区域" not in candidates  # the quoted name is the candidate, not its first four characters


def test_discovery_thresholds_and_a_richer_lexicon(seeds_corpus):
    assert discover(seeds_corpus, min_docs=2, top=None).rows == []
    assert "三大工程" not in {r["candidate"] for r in
                              discover(seeds_corpus, lexicon=load_lexicon(FIXTURES / "slogans" / "extra.csv")).records()}
    assert [r["candidate"] for r in discover(seeds_corpus, min_count=3, top=None).records()] == ["三大工程", "两大品牌"]


def test_verb_plus_quoted_needs_recurrence(corpus, tmp_path):
    texts = ["甲市检察院要求做优“六项融合”，确保工作落地。", "乙市检察院会议强调做优“六项融合”工作。",
             "丙县检察院提出“品质检察”理念，打造样板。", "丁县检察院强调“品质检察”和“品质检察”并重。"]
    ingest_texts(corpus, tmp_path / "quoted", {f"{i}.txt": text for i, text in enumerate(texts)})
    candidates = {r["candidate"]: r for r in discover(corpus, top=None).records()}
    assert candidates["六项融合"]["kinds"] == "numbered,quoted,verb+quoted"
    assert candidates["六项融合"]["verbs"] == "做优:2"
    assert candidates["品质检察"]["kinds"] == "quoted" and candidates["品质检察"]["count"] == 3


def test_counts_are_cached_for_the_corpus_state_and_lexicon(seeds_corpus, tmp_path):
    from policylex.slogans import matrix_cache_path

    before = {r["slogan"]: r["occurrences"] for r in count_slogans(seeds_corpus).records()}
    path = matrix_cache_path(seeds_corpus)
    assert path.exists()
    stamp = path.stat().st_mtime_ns
    assert {r["slogan"]: r["occurrences"] for r in count_slogans(seeds_corpus).records()} == before
    assert path.stat().st_mtime_ns == stamp  # read, not rebuilt
    extra = load_lexicon(FIXTURES / "slogans" / "extra.csv")
    assert {r["slogan"]: r["occurrences"] for r in count_slogans(seeds_corpus, lexicon=extra).records()}["三大工程"] == 3
    ingest_texts(seeds_corpus, tmp_path / "more", {"new.txt": "沈阳市检察院召开会议\n坚持四大检察全面协调充分发展。"})
    after = {r["slogan"]: r["occurrences"] for r in count_slogans(seeds_corpus).records()}
    assert after["四大检察"] == before["四大检察"] + 1 and "三大工程" not in after
    path.write_bytes(b"damaged")
    assert {r["slogan"]: r["occurrences"] for r in count_slogans(seeds_corpus).records()} == after


def test_current_cached_counts_need_no_scan(seeds_corpus, monkeypatch):
    import policylex.slogans as slogans_module

    before = {r["slogan"]: r["occurrences"] for r in count_slogans(seeds_corpus).records()}

    def no_scan(*args, **kwargs):
        raise AssertionError("scanned although the cached counts are of this corpus state and lexicon")

    monkeypatch.setattr(slogans_module, "scan", no_scan)
    assert {r["slogan"]: r["occurrences"] for r in count_slogans(seeds_corpus).records()} == before


def test_another_lexicon_scanned_removes_the_cached_counts(seeds_corpus):
    from policylex.slogans import matrix_cache_path

    before = count_slogans(seeds_corpus).rows
    assert matrix_cache_path(seeds_corpus).exists()
    scan(seeds_corpus, load_lexicon(FIXTURES / "slogans" / "extra.csv"))  # its matches replace the bundled lexicon's
    assert not matrix_cache_path(seeds_corpus).exists()
    assert count_slogans(seeds_corpus).rows == before and matrix_cache_path(seeds_corpus).exists()


def test_counts_of_a_scan_overtaken_by_an_ingest_are_not_cached(seeds_corpus, tmp_path, monkeypatch):
    import policylex.slogans as slogans_module
    from policylex.slogans import matrix_cache_path

    real_scan = slogans_module.scan

    def scan_then_ingest(corpus, *args, **kwargs):  # another process's ingest lands right after the scan
        report = real_scan(corpus, *args, **kwargs)
        ingest_texts(corpus, tmp_path / "late", {"late.txt": "沈阳市检察院召开会议\n坚持四大检察全面协调充分发展。"})
        return report

    monkeypatch.setattr(slogans_module, "scan", scan_then_ingest)
    count_slogans(seeds_corpus)
    assert not matrix_cache_path(seeds_corpus).exists()
    monkeypatch.setattr(slogans_module, "scan", real_scan)
    counts = {r["slogan"]: r["occurrences"] for r in count_slogans(seeds_corpus).records()}
    assert counts["四大检察"] == 6  # the late document scanned too: 5 in the seeds, 1 in it


def test_workers_store_the_same_matches(tmp_path):
    """Matching in worker processes, batched writes in key order: the tables must not show it."""
    from synthetic import corpora_by_workers

    stored = {}
    for workers, corpus in corpora_by_workers(tmp_path):
        report = scan(corpus, workers=workers)
        hits = corpus.db.execute("SELECT * FROM slogan_hits ORDER BY doc_id, start").fetchall()
        scans = corpus.db.execute("SELECT * FROM slogan_scans ORDER BY doc_id").fetchall()
        stored[workers] = ([tuple(r) for r in hits], [tuple(r) for r in scans], report.matches)
        assert report.scanned == len(scans) == corpus.count() and report.matches == len(hits)
        assert scan(corpus, workers=workers).scanned == 0  # nothing left to do
    assert stored[1] == stored[2] and len(stored[1][0]) > 300
