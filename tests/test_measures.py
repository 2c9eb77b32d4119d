"""Term frequencies on a hand-made corpus, numbers worked out by hand."""

import math

import numpy as np
import pytest

from policylex.measures import frequency
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
    tokens = {r[0]: r[1] for r in corpus.db.execute("SELECT name, tokens FROM documents_with_tokens")}
    assert tokens == {"a": "检察机关 公益诉讼 公益诉讼 检察机关 会议", "b": "检察机关 扫黑除恶", "c": "公益诉讼 会议 会议"}
    return corpus


def test_counts_rates_and_document_frequency(small):
    rows = list(frequency(small, top=None).rows)
    # 10 tokens: 公益诉讼 3 → 3000 per 10k, in 2 documents; ties ranked by term (code point order)
    assert rows == [
        (1, "会议", 3, 3000.0, 2),
        (2, "公益诉讼", 3, 3000.0, 2),
        (3, "检察机关", 3, 3000.0, 2),
        (4, "扫黑除恶", 1, 1000.0, 1),
    ]


def test_min_count_top_and_terms(small):
    assert [r[1] for r in frequency(small, min_count=2).rows] == ["会议", "公益诉讼", "检察机关"]
    assert [r[1] for r in frequency(small, top=1).rows] == ["会议"]
    assert list(frequency(small, terms=["扫黑除恶"]).rows) == [(4, "扫黑除恶", 1, 1000.0, 1)]
    with pytest.raises(UsageError, match="no token in the corpus is 不存在"):  # unknown: an error, not a silent 0
        frequency(small, terms=["扫黑除恶", "不存在"])


def test_duplicates_are_left_out_unless_asked(small, tmp_path):
    # a repost of a.txt with a line added is a near-duplicate
    (tmp_path / "d.txt").write_text("检察机关公益诉讼\n公益诉讼的检察机关会议。\n（转自检察日报）", encoding="utf-8")
    small.ingest([str(tmp_path / "d.txt")])
    small.tokenise(workers=1)
    assert small.db.execute("SELECT count(*) FROM documents_with_tokens WHERE near_duplicate_of IS NOT NULL").fetchone()[0] == 1
    assert dict((r[1], r[2]) for r in frequency(small, top=None).rows)["公益诉讼"] == 3
    assert dict((r[1], r[2]) for r in frequency(small, top=None, include_duplicates=True).rows)["公益诉讼"] == 5


def test_untokenised_corpus(corpus, tmp_path):
    (tmp_path / "a.txt").write_text("正文。", encoding="utf-8")
    corpus.ingest([str(tmp_path / "a.txt")])
    with pytest.raises(UsageError):
        frequency(corpus)


# --- grouping, selection and the cached matrix ---------------------------------------


# ``regional``: four short articles from two provinces and two years (conftest.py)


def test_freq_by_year_has_an_unknown_group(regional):
    rows = [r for r in frequency(regional, by="year", top=None).records() if r["term"] == "检察机关"]
    assert [(r["year"], r["count"], r["docfreq"]) for r in rows] == [(2020, 1, 1), (2021, 1, 1), ("unknown", 1, 1)]
    # tokens per year: 2020 = 沈阳市 检察院 召开 会议 检察机关 公益诉讼 公益诉讼 = 7 → 1/7 per 10k
    assert rows[0]["per_10k"] == round(10_000 / 7, 4)


def test_freq_where_province_short_name(regional):
    rows = {r["term"]: r for r in frequency(regional, where=["province=辽宁"], top=None).records()}
    assert rows["公益诉讼"]["count"] == 3 and rows["公益诉讼"]["docfreq"] == 2
    assert "广州市" not in rows
    neither = frequency(regional, where=["province!=辽宁省", "year=2021"], top=None)
    assert {r["term"] for r in neither.records()} == {"广州市", "检察院", "召开", "会议", "扫黑除恶", "检察机关"}


def test_unknown_where_field_and_no_match(regional):
    with pytest.raises(UsageError, match="no such field"):
        frequency(regional, where=["colour=red"])
    with pytest.raises(UsageError, match="no documents match"):
        frequency(regional, where=["year=1999"])


def test_counts_sum_to_totals(regional):
    table = frequency(regional, top=None)
    total = regional.db.execute("SELECT sum(token_count) FROM documents_with_tokens").fetchone()[0]
    assert sum(r["count"] for r in table.records()) == total
    by_province = frequency(regional, top=None, by="province")
    assert sum(r["count"] for r in by_province.records()) == total


def test_matrix_is_cached_and_rebuilt_after_ingest(regional, tmp_path, monkeypatch):
    import policylex.matrix as dtm_module

    builds = []
    real_build = dtm_module.build_terms
    monkeypatch.setattr(dtm_module, "build_terms", lambda corpus: builds.append(1) or real_build(corpus))
    frequency(regional)
    frequency(regional, by="year")
    assert len(builds) == 1 and dtm_module.cache_path(regional).exists()
    (tmp_path / "new.txt").write_text("丹东市检察院召开会议\n检察建议。", encoding="utf-8")
    regional.ingest([str(tmp_path / "new.txt")])
    regional.tokenise(workers=1)
    rows = {r["term"]: r["count"] for r in frequency(regional, top=None).records()}
    assert len(builds) == 2 and rows["检察建议"] == 1


def test_the_cache_keeps_the_count_of_documents_not_tokenised(regional, tmp_path):
    import policylex.matrix as dtm_module
    from policylex.overview import not_tokenised

    counted = "SELECT count(*) FROM documents_with_tokens WHERE duplicate_of IS NULL AND near_duplicate_of IS NULL"
    frequency(regional)
    assert dtm_module.cached_not_tokenised(regional) == 0 == not_tokenised(regional)
    (tmp_path / "new.txt").write_text("丹东市检察院召开会议\n检察建议。", encoding="utf-8")
    regional.ingest([str(tmp_path / "new.txt")])
    assert dtm_module.cached_not_tokenised(regional) is None  # the cache is of the corpus before the ingest
    assert not_tokenised(regional) == 1
    frequency(regional)  # rebuilt for the corpus as it is, with one document untokenised
    assert dtm_module.cached_not_tokenised(regional) == 1 == not_tokenised(regional)
    regional.tokenise(workers=1, keep_stopwords=True)  # other settings: every document is stale for the cache
    assert dtm_module.cached_not_tokenised(regional) is None
    frequency(regional)
    assert not_tokenised(regional) == 0 and regional.db.execute(counted).fetchone()[0] > 1


def test_a_corrupt_cache_is_rebuilt(regional):
    import policylex.matrix as dtm_module

    frequency(regional)
    dtm_module.cache_path(regional).write_bytes(b"not an npz file")
    assert frequency(regional, top=1).rows[0][1:3] == ("会议", 4)


# --- TF-IDF ---------------------------------------------------------------------------


@pytest.mark.parametrize("options", [{}, {"sublinear_tf": True}, {"norm": None, "smooth_idf": False}, {"norm": "l1"}])
def test_tfidf_equals_scikit_learn(seeds_corpus, options):
    from sklearn.feature_extraction.text import TfidfVectorizer

    from policylex.measures import tfidf

    rows = seeds_corpus.db.execute("SELECT name, tokens FROM documents_with_tokens ORDER BY seq").fetchall()
    vectorizer = TfidfVectorizer(analyzer=str.split, lowercase=False, **options)
    matrix = vectorizer.fit_transform([r["tokens"] for r in rows]).toarray()
    column = vectorizer.vocabulary_
    table = tfidf(seeds_corpus, top=5, **options)
    records = list(table.records())
    assert len(records) == 25
    for record in records:
        doc = [r["name"] for r in rows].index(record["group"])
        assert record["tfidf"] == pytest.approx(matrix[doc, column[record["term"]]], abs=1e-6)
    best = matrix[0].argmax()
    assert records[0]["term"] == vectorizer.get_feature_names_out()[best]


def test_tfidf_by_group_is_one_pseudo_document_per_group(regional):
    from policylex.measures import tfidf

    groups = {r["group"] for r in tfidf(regional, by="province").records()}
    assert groups == {"广东省", "辽宁省"}
    # 公益诉讼 appears only in 辽宁省: with 2 groups, idf = ln(3/2) + 1
    ln = {r["term"]: r for r in tfidf(regional, by="province", top=None, norm=None).records() if r["group"] == "辽宁省"}
    assert ln["公益诉讼"]["tfidf"] == pytest.approx(3 * (math.log(3 / 2) + 1), abs=1e-6)
    assert ln["检察机关"]["tfidf"] == pytest.approx(1 * (math.log(3 / 3) + 1), abs=1e-6)


# --- keyness -----------------------------------------------------------------------------


def test_keyness_worked_example_chi2_yates():
    # quanteda's own test: d1 = "b b b b b b b a a a", d2 = "a a a a a a a b b"; term a has
    # a=3 (target d1), b=7, c=7, d=2, N=19.  |ad-bc| = 43 >= N/2 and (a+b)(b+d)/N = 4.74 < 5,
    # so Yates applies: chi2 = 19 (43 - 9.5)^2 / (10*9*10*9) = 2.6324..., negative as
    # a < E = 5.26; R's chisq.test(matrix(c(3,7,7,2), 2), correct = TRUE) gives 2.6324.
    from policylex.measures import keyness_statistics

    g2, p_g2, chi2, p_chi2, log_ratio = keyness_statistics([3, 7], [7, 2], 10, 9)
    assert chi2[0] == pytest.approx(-19 * (43 - 9.5) ** 2 / 8100, rel=1e-12)
    assert chi2[0] == pytest.approx(-2.632438, abs=1e-6)
    assert chi2[1] == pytest.approx(2.632438, abs=1e-6)  # b, the mirror image
    assert p_chi2[0] == pytest.approx(0.104701, abs=1e-6)  # 1 - pchisq(2.632438, 1)
    assert log_ratio[0] == pytest.approx(math.log2((3 / 10) / (7 / 9)), rel=1e-12)


def test_keyness_agrees_with_scipy_contingency_tests():
    from scipy.stats import chi2_contingency

    from policylex.measures import keyness_statistics

    for a, b, t, r in [(3, 7, 10, 9), (40, 10, 1000, 2000), (0, 12, 500, 700), (25, 0, 300, 900)]:
        table = [[a, b], [t - a, r - b]]
        g2, _, chi2, _, _ = keyness_statistics([a], [b], t, r, correction="none")
        assert abs(chi2[0]) == pytest.approx(chi2_contingency(table, correction=False)[0], rel=1e-9)
        assert abs(g2[0]) == pytest.approx(
            chi2_contingency(table, correction=False, lambda_="log-likelihood")[0], rel=1e-6)
    # with small expected counts, quanteda's Yates moves each cell 0.5 toward expectation, as scipy does
    g2, _, chi2, _, _ = keyness_statistics([3], [7], 10, 9)
    assert abs(g2[0]) == pytest.approx(
        chi2_contingency([[3, 7], [7, 2]], correction=True, lambda_="log-likelihood")[0], rel=1e-6)


def test_keyness_on_a_corpus(regional):
    from policylex.measures import keyness

    table = keyness(regional, ["province=辽宁省"])
    rows = {r["term"]: r for r in table.records()}
    # 辽宁 has 14 tokens (7 + 7 ... ) against the other two documents
    assert rows["公益诉讼"]["n_target"] == 3 and rows["公益诉讼"]["n_reference"] == 0
    assert rows["扫黑除恶"]["n_target"] == 1 and rows["扫黑除恶"]["n_reference"] == 2
    assert rows["公益诉讼"]["G2"] > 0 > rows["扫黑除恶"]["G2"]
    assert [r["rank"] for r in table.records()] == list(range(1, len(rows) + 1))
    g2 = [r["G2"] for r in table.records()]
    assert g2 == sorted(g2, reverse=True)
    only_2021 = keyness(regional, ["province=辽宁省"], reference=["year=2021"])
    assert "target: 2 documents" in only_2021.notes[0] and "reference: 1 documents" in only_2021.notes[0]


# --- concordance and collocations ----------------------------------------------------------


def test_kwic_lines_exact(corpus, tmp_path):
    from policylex.measures import kwic

    (tmp_path / "k.txt").write_text("甲乙丙少捕慎诉慎押丁戊。\n己少捕慎訴慎押", encoding="utf-8")
    corpus.ingest([str(tmp_path / "k.txt")])
    table = kwic(corpus, "少捕慎诉慎押", window=2)
    assert list(table.rows) == [("k", 3, "乙丙", "少捕慎诉慎押", "丁戊"), ("k", 14, " 己", "少捕慎诉慎押", "")]


def test_collocations_by_hand(corpus, tmp_path):
    from policylex.measures import collocations

    # tokens: 服务 保障 服务 保障 检察机关 (one document): bigrams 服务保障 ×2, 保障服务, 保障检察机关
    (tmp_path / "c.txt").write_text("服务、保障、服务、保障、检察机关", encoding="utf-8")
    corpus.ingest([str(tmp_path / "c.txt")])
    corpus.tokenise(workers=1)
    assert corpus.db.execute("SELECT tokens FROM documents_with_tokens").fetchone()[0] == "服务 保障 服务 保障 检察机关"
    (row,) = collocations(corpus, min_count=2).rows
    assert row[:2] == ("服务 保障", 2)
    # p(服务 保障) = 2/4, p(服务) = 2/5, p(保障) = 2/5 → PMI = log2(0.5 / 0.16)
    assert row[2] == pytest.approx(round(math.log2(0.5 / 0.16), 4))
    # 2x2 over the 4 bigrams: a = 2, b = 0 (服务 then not 保障), c = 0, d = 2 → G² = 2(2 ln 2 + 2 ln 2)
    assert row[3] == pytest.approx(round(8 * math.log(2), 4))


@pytest.mark.parametrize("norm", ["l2", "l1", None])
@pytest.mark.parametrize("smooth_idf", [True, False])
@pytest.mark.parametrize("sublinear_tf", [True, False])
def test_tfidf_weights_are_scikit_learns(seeds_corpus, norm, smooth_idf, sublinear_tf):
    """measures.tfidf_weights computes TF-IDF without importing scikit-learn; scikit-learn is the reference."""
    from sklearn.feature_extraction.text import TfidfTransformer

    from policylex.measures import tfidf_weights

    matrix = seeds_corpus.dfm(include_duplicates=True)
    for by in ("doc", "province"):
        grouped = matrix.group(by).counts
        ours = tfidf_weights(grouped, norm=norm, smooth_idf=smooth_idf, sublinear_tf=sublinear_tf)
        theirs = TfidfTransformer(norm=norm, smooth_idf=smooth_idf, sublinear_tf=sublinear_tf).fit_transform(grouped)
        theirs = theirs.tocsr()
        assert (ours.indptr == theirs.indptr).all() and (ours.indices == theirs.indices).all()
        np.testing.assert_allclose(ours.data, theirs.data, rtol=1e-13)


def test_keyness_by_group_is_keyness_of_each_group_against_the_rest(seeds_corpus):
    from policylex.measures import keyness, keyness_by_group

    table = keyness_by_group(seeds_corpus, "province", top=5)
    groups = list(dict.fromkeys(r["group"] for r in table.records()))
    assert groups == ["全国", "山东省", "广东省", "辽宁省"]
    for group in groups:
        alone = [row for row in table.rows if row[0] == group]
        assert [row[1:] for row in alone] == list(keyness(seeds_corpus, [f"province={group}"], top=5).rows)
    with pytest.raises(UsageError, match="one group only"):
        keyness_by_group(seeds_corpus, "province", where=["province=辽宁省"])


def test_keyness_by_from_the_cli(seeds_corpus):
    from typer.testing import CliRunner

    from policylex.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["keyness", "--by", "year", "--top", "1", "--format", "csv", "--corpus",
                                 str(seeds_corpus.path)])
    assert result.exit_code == 0, result.output
    assert [line.split(",")[:3] for line in result.stdout.splitlines()] == [
        ["group", "rank", "term"], ["2021", "1", "湛江"], ["2022", "1", "高质量发展"], ["2023", "1", "海洋"],
        ["unknown", "1", "公益诉讼"]]
    both = runner.invoke(app, ["keyness", "--by", "year", "--target", "year=2021", "--corpus", str(seeds_corpus.path)])
    assert both.exit_code == 2 and "give --target field=value" in both.stderr


def test_a_table_gives_its_rows_as_often_as_asked(seeds_corpus):
    """Even rows streamed from the corpus (an export): the second to_pandas() is not empty."""
    pytest.importorskip("pandas")
    from policylex.output import Table
    from policylex.overview import export_table

    streamed = Table(("n",), (row for row in [(1,), (2,)]))
    assert len(streamed.to_pandas()) == len(streamed.to_pandas()) == 2
    assert list(streamed.records()) == [{"n": 1}, {"n": 2}]
    export = export_table(seeds_corpus)
    assert len(export.to_pandas()) == len(export.to_pandas()) == 5
