"""Topic models: two genres come apart, shares sum to 1, furniture stays out, the same seed gives the same output."""

import csv
import io
import json

import numpy as np
import pytest

from conftest import ingest_texts
from policylex.errors import UsageError
from policylex.topics import topic_model, topics

# Two genres a reader tells apart at a glance, each article framed by a broadcaster's furniture (央视网消息 at the
# top, 新闻联播 at the end) and the beat's own words (检察院, 召开, 会议): the model must find the genres, not the
# frame.  Environmental public-interest litigation in 辽宁 (2020) and 广东 (2021) ...
ENVIRONMENT = [
    "检察机关针对河道污染提起公益诉讼，督促生态环境部门整改，保护水源。",
    "生态环境遭到破坏，检察官发出检察建议，督促整改河道污染问题。",
    "公益诉讼检察保护湿地的生态环境，污染企业完成整改。",
    "针对水源污染，检察机关开展公益诉讼，生态环境明显改善。",
    "河道垃圾污染严重，公益诉讼督促清理，生态环境得到修复。",
    "检察建议督促整改湿地污染，保护生态环境和水源。",
]
# ... and organised crime.
CRIME = [
    "公安机关打掉涉黑团伙，检察机关依法起诉黑恶势力犯罪。",
    "扫黑除恶专项斗争中，检察官审查起诉涉黑团伙成员。",
    "黑恶势力团伙实施敲诈勒索犯罪，被依法起诉。",
    "扫黑除恶深入推进，涉黑犯罪团伙首要分子被判刑。",
    "检察机关严厉打击黑恶势力的犯罪，审查起诉敲诈勒索案件。",
    "扫黑除恶常态化，涉黑团伙犯罪案件依法起诉判刑。",
]
FURNITURE = {"央视网", "消息", "新闻联播", "检察院", "召开", "会议"}


def article(city: str, date: str, body: str) -> str:
    return f"{city}检察院召开会议\n发布时间：{date}\n央视网消息：{body}\n新闻联播"


@pytest.fixture
def genres(corpus, tmp_path):
    """Six articles of each genre, tokenised with the stopwords kept (the model must leave them out itself),
    and one article that is nothing but furniture."""
    texts = {}
    for i, body in enumerate(ENVIRONMENT):
        texts[f"env{i}.txt"] = article("沈阳市" if i < 3 else "广州市", "2020-05-01" if i % 2 else "2021-05-01", body)
    for i, body in enumerate(CRIME):
        texts[f"crime{i}.txt"] = article("大连市" if i < 3 else "深圳市", "2020-06-01" if i % 2 else "2021-06-01", body)
    texts["frame.txt"] = article("湛江市", "2021-03-01", "新闻联播。")
    ingest_texts(corpus, tmp_path / "genres", texts)
    corpus.tokenise(workers=1, keep_stopwords=True)
    return corpus


def dominant(model) -> dict[str, int]:
    names = model.matrix.names
    return {str(name): int(np.argmax(shares)) + 1 for name, shares in zip(names, model.shares)}


@pytest.mark.parametrize("method", ["nmf", "lda"])
def test_two_genres_separate_into_different_dominant_topics(genres, method):
    model = topic_model(genres, 2, method=method, seed=0)
    topic_of = dominant(model)
    environment = {topic_of[f"env{i}"] for i in range(6)}
    crime = {topic_of[f"crime{i}"] for i in range(6)}
    assert len(environment) == 1 and len(crime) == 1 and environment != crime
    # and the topics' top terms are each genre's words
    terms = {t: {term for term, _ in model.top_terms(t, 5)} for t in (1, 2)}
    assert terms[environment.pop()] & {"污染", "生态环境", "公益诉讼", "整改", "河道"}
    assert terms[crime.pop()] & {"涉黑", "团伙", "犯罪", "起诉", "黑恶势力", "扫黑除恶"}


@pytest.mark.parametrize("method", ["nmf", "lda"])
def test_no_top_term_is_a_stopword_or_furniture(genres, method):
    from policylex.tokenise import stopwords

    stop = stopwords()
    assert {"的", "和", "被"} <= set(" ".join(r[0] for r in genres.db.execute(
        "SELECT tokens FROM documents_with_tokens")).split())  # the tokens hold stopwords ...
    model = topic_model(genres, 2, method=method)
    top = {term for t in (1, 2) for term, _ in model.top_terms(t, 10)}
    assert top and not top & stop and not top & FURNITURE  # ... the topics do not
    furniture = next(note for note in model.notes if note.startswith("left out as furniture"))
    assert "in more than 50% of the documents" in furniture
    for term in ("央视网", "新闻联播", "消息", "检察院", "召开", "会议"):
        assert term in furniture and term not in model.vocabulary
    assert not set(model.vocabulary.tolist()) & stop


def test_shares_sum_to_one_and_an_empty_document_is_left_out(genres):
    for method in ("nmf", "lda"):
        model = topic_model(genres, 3, method=method)
        assert np.allclose(model.shares.sum(axis=1), 1.0) and (model.shares >= 0).all()
        table = list(model.document_shares().records())
        by_doc: dict[str, float] = {}
        for r in table:
            by_doc[r["doc"]] = by_doc.get(r["doc"], 0.0) + r["share"]
        assert all(abs(total - 1) < 1e-5 for total in by_doc.values())
        # frame.txt is furniture, its city once: no term is left, so it has no shares, and the notes say so
        assert "frame" not in by_doc and len(by_doc) == 12
        assert "1 documents with no modelled term (or no weight on any topic) have no shares and are left out" \
            in model.notes


def test_the_same_seed_gives_the_same_output(genres):
    for method in ("nmf", "lda"):
        first = topic_model(genres, 3, method=method, seed=4)
        again = topic_model(genres, 3, method=method, seed=4)
        assert list(first.terms().rows) == list(again.terms().rows)
        assert list(first.document_shares().rows) == list(again.document_shares().rows)
        assert first.notes == again.notes


def test_topics_fitted_on_a_sample_still_give_every_document_its_shares(genres):
    model = topic_model(genres, 2, sample=8, seed=1)
    assert model.matrix.rows.size == 12 and np.allclose(model.shares.sum(axis=1), 1.0)
    assert "topics fitted on 8 documents drawn with the seed, shares solved for every document" in model.notes[0]
    assert topic_model(genres, 2, sample=8, seed=1).shares.tolist() == model.shares.tolist()


def test_group_shares_are_means_with_a_t_interval(genres):
    from scipy.stats import t as student

    model = topic_model(genres, 2)
    table = model.group_shares("province,year")
    assert table.columns == ("province", "province_code", "year", "topic", "documents", "share", "share_low",
                             "share_high")
    names = model.matrix.names.tolist()
    shares = dict(zip(names, model.shares.tolist()))
    # 辽宁省 2021: env0, env2 (沈阳) and crime0, crime2 (大连), four documents
    members = ["env0", "env2", "crime0", "crime2"]
    rows = [r for r in table.records() if (r["province"], r["year"]) == ("辽宁省", 2021)]
    assert [r["topic"] for r in rows] == [1, 2] and {r["documents"] for r in rows} == {4}
    for r in rows:
        values = [shares[name][r["topic"] - 1] for name in members]
        mean = sum(values) / 4
        sd = (sum((v - mean) ** 2 for v in values) / 3) ** 0.5
        half = student.ppf(0.975, 3) * sd / 2
        assert r["share"] == pytest.approx(mean, abs=1e-6)
        assert r["share_low"] == pytest.approx(max(0.0, mean - half), abs=1e-6)
        assert r["share_high"] == pytest.approx(min(1.0, mean + half), abs=1e-6)
    # a group's mean shares sum to 1 over the topics
    totals: dict[tuple, float] = {}
    for r in table.records():
        totals[(r["province"], r["year"])] = totals.get((r["province"], r["year"]), 0.0) + r["share"]
    assert all(abs(total - 1) < 1e-5 for total in totals.values())
    by_year = {(r["year"], r["topic"]): r for r in model.group_shares("year").records()}
    assert by_year[(2020, 1)]["documents"] == 6


def test_errors_speak_the_librarys_words(genres):
    with pytest.raises(UsageError, match=r"^method 'lsa': choose from nmf, lda$"):
        topic_model(genres, 2, method="lsa")
    with pytest.raises(UsageError, match=r"^k 1: a topic model needs at least 2 topics$"):
        topic_model(genres, 1)
    with pytest.raises(UsageError, match=r"^k 40: the selected documents leave 12 documents with \d+ modelled terms"):
        topic_model(genres, 40)
    with pytest.raises(UsageError, match="no such field 'colour'"):
        topics(genres, 2, by="colour")


def test_the_seeds_have_topics(seeds_corpus):
    model = topic_model(seeds_corpus, 2)
    assert model.matrix.rows.size == 5 and np.allclose(model.shares.sum(axis=1), 1.0)
    assert all(len(model.top_terms(t, 10)) == 10 for t in (1, 2))
    furniture = next(note for note in model.notes if note.startswith("left out as furniture"))
    assert "工作" in furniture and "检察机关" in furniture  # in every seed: the beat's own words


# --- the command ------------------------------------------------------------------------------


def run(*args):
    from typer.testing import CliRunner

    from policylex.cli import app

    runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})
    return runner.invoke(app, [str(a) for a in args])


def parse(text: str, fmt: str) -> list[dict]:
    if fmt in ("csv", "tsv"):
        return list(csv.DictReader(io.StringIO(text), delimiter="," if fmt == "csv" else "\t"))
    if fmt == "json":
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "jsonl"])
@pytest.mark.parametrize("by", [None, "doc", "year", "province,year"])
def test_cli_every_format_agrees_with_the_library(genres, fmt, by):
    options = ["--by", by] if by else []
    result = run("topics", "--k", "2", "--seed", "3", "--format", fmt, *options, "--corpus", genres.path)
    assert result.exit_code == 0, result.output
    printed = parse(result.stdout, fmt)
    library = topics(genres, 2, seed=3, by=by)
    expected = [{c: ("" if v is None else str(v)) if fmt in ("csv", "tsv") else v for c, v in r.items()}
                for r in library.records()]
    assert printed == expected
    assert "left out as furniture" not in result.stdout  # notes go with the rich table only


def test_cli_table_has_the_notes_and_the_same_seed_the_same_output(genres):
    first = run("topics", "--k", "2", "--corpus", genres.path)
    assert first.exit_code == 0 and "topic" in first.stdout and "left out as furniture" in first.stdout
    again = run("topics", "--k", "2", "--corpus", genres.path)
    assert first.stdout == again.stdout
    lda = run("topics", "--k", "2", "--method", "lda", "--format", "csv", "--corpus", genres.path)
    assert lda.exit_code == 0 and lda.stdout.startswith("topic,rank,term,weight\n")


def test_cli_errors_are_one_line(genres, tmp_path):
    for args, message in [
        (["--k", "40"], "k 40: the selected documents leave"),
        (["--k", "2", "--by", "colour"], "no such field 'colour'"),
        (["--k", "2", "--method", "lsa"], "'lsa' is not one of"),
        (["--k", "2", "--plot", tmp_path / "t.txt"], "write .png, .svg or .pdf"),
        (["--k", "2", "--by", "doc", "--plot", tmp_path / "t.png"], "--plot draws topics or groups"),
        (["--k", "2", "--where", "year=1999"], "no documents match"),
    ]:
        result = run("topics", *args, "--corpus", genres.path)
        assert result.exit_code == 2 and result.stdout == "", args
        assert result.stderr.count("\n") == 1 and message in result.stderr, (args, result.stderr)


@pytest.mark.parametrize("by", [None, "year", "province", "province,year"])
def test_topic_charts_have_no_missing_glyphs(genres, tmp_path, caplog, by):
    from test_plots import draw_capturing_warnings

    from policylex.plots import topic_chart

    model = topic_model(genres, 3)
    path = tmp_path / "topics.png"
    problems = draw_capturing_warnings(lambda: topic_chart(model.table(by), path, labels=model.labels()), caplog)
    assert problems == [] and path.read_bytes().startswith(b"\x89PNG") and path.stat().st_size > 10_000


def test_cli_plot(genres, tmp_path):
    path = tmp_path / "by_year.svg"
    result = run("topics", "--k", "2", "--by", "year", "--plot", path, "--format", "csv", "--corpus", genres.path)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("year,topic,documents,share,share_low,share_high\n")
    assert path.read_bytes().startswith(b"<?xml") and f"plot written to {path}" in result.stderr


def test_excluded_terms_and_the_ceiling_are_settings(genres):
    model = topic_model(genres, 2, exclude=["污染", "不在语料中"])
    assert "污染" not in model.vocabulary and "terms also left out:" in model.notes[2]
    assert "1 excluded by name" in model.notes[2]
    # with no ceiling, the furniture comes back into the vocabulary (and is what the topics would be made of)
    everything = topic_model(genres, 2, max_df=1.0)
    assert {"央视网", "新闻联播"} <= set(everything.vocabulary.tolist())
    assert not any(note.startswith("left out as furniture") for note in everything.notes)
    result = run("topics", "--k", "2", "--exclude", "污染", "--exclude", "河道", "--format", "csv", "--corpus",
                 genres.path)
    assert result.exit_code == 0 and not {"污染", "河道"} & {r["term"] for r in csv.DictReader(io.StringIO(
        result.stdout))}
