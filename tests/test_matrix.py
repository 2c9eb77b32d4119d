"""The document-feature matrix: one type for terms and formulations, selected and grouped in one way."""

import numpy as np
import pytest

import policylex as plx
from policylex.errors import UsageError


def test_the_term_matrix_of_the_hand_made_corpus(regional):
    m = regional.dfm()
    assert isinstance(m, plx.FeatureMatrix) and m.kind == "token"
    assert m.counts.shape == (m.shape[0], len(m.features)) == (4, len(m.features))
    totals = dict(zip(m.features, np.asarray(m.counts.sum(axis=0)).ravel().tolist()))
    table = {r["term"]: r["count"] for r in plx.frequency(m, top=None).records()}
    assert totals == {term: n for term, n in table.items()}
    assert m.to_scipy() is m.counts


def test_docvars_one_row_per_document(regional):
    pytest.importorskip("pandas")
    docvars = regional.dfm().docvars
    assert list(docvars.columns) == ["id", "name", "title", "date", "year", "province", "province_code", "city",
                                     "city_code", "source", "chars", "tokens"]
    assert sorted(docvars["name"]) == ["gd2021", "ln2020", "ln2021", "nodate"]
    years = dict(zip(docvars["name"], docvars["year"]))
    assert years["ln2020"] == 2020 and years["nodate"] is not None and str(years["nodate"]) == "<NA>"


def test_select_keeps_the_counts_of_the_documents_it_keeps(regional):
    m = regional.dfm()
    recent = m.select(where=["year>=2021"])
    assert sorted(recent.names.tolist()) == ["gd2021", "ln2021"]  # an unknown year is not >= 2021
    assert sorted(m.select("year<2021").names.tolist()) == ["ln2020"]
    assert sorted(m.select(where=["province=辽宁", "year!=2020"]).names.tolist()) == ["ln2021"]
    position = {name: i for i, name in enumerate(m.names.tolist())}
    for i, name in enumerate(recent.names.tolist()):
        assert (recent.counts[i] != m.counts[position[name]]).nnz == 0
    with pytest.raises(UsageError, match="where: no such field 'colour'") as error:
        m.select(where=["colour=red"])
    assert error.value.option == "where"


def test_group_sums_the_documents_and_says_what_each_group_is(regional):
    pytest.importorskip("pandas")
    m = regional.dfm()
    g = m.group("province,year")
    assert g.grouped and g.shape == (4, m.shape[1])
    docvars = g.docvars
    assert list(docvars.columns) == ["province", "province_code", "year", "documents", "tokens", "chars"]
    assert list(zip(docvars["province"], docvars["year"])) == [
        ("广东省", 2021), ("广东省", "unknown"), ("辽宁省", 2020), ("辽宁省", 2021)]
    assert (np.asarray(g.counts.sum(axis=0)) == np.asarray(m.counts.sum(axis=0))).all()
    assert g.to_pandas().index.tolist() == ["广东省 2021", "广东省 unknown", "辽宁省 2020", "辽宁省 2021"]
    with pytest.raises(UsageError, match="grouped already"):
        plx.frequency(g)
    with pytest.raises(UsageError, match="grouped already"):
        g.select(where=["year=2021"])


def test_duplicates_are_left_out_unless_asked(seeds_corpus, tmp_path):
    text = seeds_corpus.db.execute("SELECT norm_text FROM documents ORDER BY seq LIMIT 1").fetchone()[0]
    (tmp_path / "repost.txt").write_text("转载\n" + text + "\n来源：某网", encoding="utf-8")
    seeds_corpus.ingest([str(tmp_path / "repost.txt")])
    seeds_corpus.tokenise(workers=1)
    assert seeds_corpus.dfm().shape[0] == 5
    assert seeds_corpus.dfm(include_duplicates=True).shape[0] == 6


def test_pick_gives_the_features_asked_for_in_their_order(regional):
    m = regional.dfm()
    picked = m.pick(["扫黑除恶", "不存在", "会议"])
    assert picked.features == ["扫黑除恶", "不存在", "会议"]
    index = m.feature_index()
    whole = m.counts.toarray()
    assert (picked.counts.toarray() == np.stack([whole[:, index["扫黑除恶"]], np.zeros(4, dtype=int),
                                                  whole[:, index["会议"]]], axis=1)).all()


def test_the_formulation_matrix_is_the_same_type(seeds_corpus):
    f = seeds_corpus.dfm(lexicon="bundled")
    assert isinstance(f, plx.FeatureMatrix) and f.kind == "slogan" and f.shape[0] == 5
    assert "四大检察" in f.features
    counted = {r["slogan"]: r["occurrences"] for r in plx.count_slogans(f).records()}
    column = f.feature_index()["四大检察"]
    assert counted["四大检察"] == int(f.counts[:, column].sum())
    with pytest.raises(UsageError, match="matrix of terms"):
        plx.frequency(f)
    with pytest.raises(UsageError, match="matrix of formulations"):
        plx.count_slogans(seeds_corpus.dfm())


def test_plx_trends_is_the_function_whatever_was_imported_first(regional):
    """`policylex.trends` is a module and `plx.trends` the API's function: importing the module keeps the call."""
    import importlib

    importlib.import_module("policylex.trends")  # what the CLI and the report import

    table = plx.trends(regional.dfm(), ["公益诉讼"], by="year")
    assert isinstance(table, plx.Table) and [r["occurrences"] for r in table.records()] == [2, 1, 0]
    from policylex.trends import trends

    assert list(trends(regional.dfm(), ["公益诉讼"], by="year").rows) == list(table.rows)
