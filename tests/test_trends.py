"""Trends: rates, shares and their intervals against numbers worked out by hand."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policylex.errors import UsageError
from policylex.trends import documents_by, poisson_interval, readable, trends, wide, wilson_interval

Z = 1.959963984540054  # the normal 97.5% quantile
ROUND = 1e-6  # the table rounds to 6 decimals


# --- the intervals ------------------------------------------------------------------------


def test_poisson_interval_hand_worked():
    low, high = poisson_interval([0, 1, 2])
    # k = 0: the lower end is 0, the upper solves P(X = 0; mu) = e^-mu = 0.025, mu = -ln 0.025 = 3.688879
    assert low[0] == 0 and high[0] == pytest.approx(-math.log(0.025), rel=1e-12)
    # k = 1: the lower end solves P(X >= 1; mu) = 1 - e^-mu = 0.025, mu = -ln 0.975 = 0.025318;
    # the upper solves P(X <= 1; mu) = e^-mu (1 + mu) = 0.025, mu = 5.571643
    assert low[1] == pytest.approx(-math.log(0.975), rel=1e-12)
    assert math.exp(-high[1]) * (1 + high[1]) == pytest.approx(0.025, rel=1e-9)
    assert high[1] == pytest.approx(5.571643, abs=1e-6)
    # k = 2: P(X >= 2; mu) = 1 - e^-mu (1 + mu) = 0.025 at mu = 0.242209;
    # P(X <= 2; mu) = e^-mu (1 + mu + mu^2/2) = 0.025 at mu = 7.224688 (Garwood's table: 0.242, 7.225)
    assert 1 - math.exp(-low[2]) * (1 + low[2]) == pytest.approx(0.025, rel=1e-9)
    assert math.exp(-high[2]) * (1 + high[2] + high[2] ** 2 / 2) == pytest.approx(0.025, rel=1e-9)
    assert (low[2], high[2]) == (pytest.approx(0.242209, abs=1e-6), pytest.approx(7.224688, abs=1e-6))


def test_wilson_interval_hand_worked():
    # 1 of 2: p = 0.5, z^2 = 3.841459; centre = (0.5 + z^2/4) / (1 + z^2/2) = 0.5;
    # half = z / (1 + z^2/2) * sqrt(0.25/2 + z^2/16) = 0.671053 * 0.604228 = 0.405469
    low, high = wilson_interval([1, 0, 1, 5], [2, 1, 1, 10])
    half = Z / (1 + Z * Z / 2) * math.sqrt(0.125 + Z * Z / 16)
    assert (low[0], high[0]) == (pytest.approx(0.5 - half, rel=1e-12), pytest.approx(0.5 + half, rel=1e-12))
    assert (low[0], high[0]) == (pytest.approx(0.094531, abs=1e-6), pytest.approx(0.905469, abs=1e-6))
    # 0 of 1: [0, z^2 / (1 + z^2)] = [0, 0.793451]; 1 of 1: [1 / (1 + z^2), 1] = [0.206549, 1]
    assert (low[1], high[1]) == (0, pytest.approx(Z * Z / (1 + Z * Z), rel=1e-12))
    assert (low[2], high[2]) == (pytest.approx(1 / (1 + Z * Z), rel=1e-12), 1)
    # 5 of 10 (Wilson 1927; Newcombe 1998, method 3): 0.2366 to 0.7634
    assert (low[3], high[3]) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))


@given(st.integers(0, 10_000), st.floats(0.5, 0.99))
def test_poisson_interval_holds_the_count(k, level):
    low, high = poisson_interval(k, level)
    assert 0 <= low <= k <= high
    wider_low, wider_high = poisson_interval(k, (1 + level) / 2)
    assert wider_low <= low and high <= wider_high  # a higher level, a wider interval
    next_low, next_high = poisson_interval(k + 1, level)
    assert next_low > low and next_high > high  # one more occurrence moves both ends up


@given(st.integers(1, 5_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_laws(case):
    x, n = case
    low, high = wilson_interval(x, n)
    assert 0 <= low <= x / n <= high <= 1
    mirror_low, mirror_high = wilson_interval(n - x, n)  # failures are successes seen the other way round
    assert low == pytest.approx(1 - mirror_high, abs=1e-12) and high == pytest.approx(1 - mirror_low, abs=1e-12)


# --- the panel on a hand-made corpus (conftest.regional) ---------------------------------------------


def test_the_hand_made_corpus(regional):
    # The numbers below are worked out from these tokens and characters.  The date lines go; what is left
    # is the title line and the body, e.g. 沈阳市检察院召开会议 (10) + \n + 检察机关、公益诉讼、公益诉讼。 (15) = 26.
    documents = {r["name"]: (r["year"], r["province"], r["city"], r["token_count"], r["chars"], r["tokens"])
                 for r in regional.db.execute("SELECT * FROM documents_with_tokens")}
    assert documents == {
        "ln2020": (2020, "辽宁省", "沈阳市", 7, 26, "沈阳市 检察院 召开 会议 检察机关 公益诉讼 公益诉讼"),
        "ln2021": (2021, "辽宁省", "大连市", 6, 21, "大连市 检察院 召开 会议 公益诉讼 扫黑除恶"),
        "gd2021": (2021, "广东省", "广州市", 7, 26, "广州市 检察院 召开 会议 扫黑除恶 扫黑除恶 检察机关"),
        "nodate": (None, "广东省", "湛江市", 5, 16, "湛江市 检察院 召开 会议 检察机关"),
    }


def by_group(table, *columns):
    return {tuple(r[c] for c in columns): r for r in table.records()}


def test_rates_shares_and_intervals_by_year(regional):
    table = trends(regional, ["公益诉讼"], by="year")
    assert table.columns == ("term", "kind", "year", "documents", "tokens", "chars", "occurrences", "docs_with",
                             "rate", "rate_low", "rate_high", "per", "share", "share_low", "share_high")
    rows = by_group(table, "year")
    assert list(rows) == [(2020,), (2021,), ("unknown",)]
    # 2020: ln2020 alone, 7 tokens, 公益诉讼 twice: 2 / 7 * 10,000 = 2857.142857; the Poisson interval for
    # k = 2 is [0.242209, 7.224688] (above), over 7 / 10,000: [346.0133, 10320.9824]; 1 of 1 document holds
    # it: share 1, Wilson [0.206549, 1].
    r = rows[(2020,)]
    assert (r["kind"], r["documents"], r["tokens"], r["chars"], r["occurrences"], r["docs_with"], r["per"]) == (
        "token", 1, 7, 26, 2, 1, "10k_tokens")
    assert r["rate"] == pytest.approx(2857.142857, abs=ROUND)
    assert r["rate_low"] == pytest.approx(0.24220928 / 7 * 10_000, abs=1e-3)
    assert r["rate_high"] == pytest.approx(7.22468767 / 7 * 10_000, abs=1e-3)
    assert (r["share"], r["share_low"], r["share_high"]) == (1.0, pytest.approx(0.206549, abs=ROUND), 1.0)
    # 2021: ln2021 + gd2021, 6 + 7 = 13 tokens and 21 + 26 = 47 characters, 公益诉讼 once (ln2021):
    # 1 / 13 * 10,000 = 769.230769, [0.025318, 5.571643] / 13 * 10,000 = [19.4752, 4285.8795];
    # 1 of 2 documents: share 0.5, Wilson [0.094531, 0.905469]
    r = rows[(2021,)]
    assert (r["documents"], r["tokens"], r["chars"], r["occurrences"], r["docs_with"]) == (2, 13, 47, 1, 1)
    assert r["rate"] == pytest.approx(769.230769, abs=ROUND)
    assert (r["rate_low"], r["rate_high"]) == (pytest.approx(19.4752, abs=1e-4), pytest.approx(4285.8795, abs=1e-4))
    assert (r["share"], r["share_low"], r["share_high"]) == (
        0.5, pytest.approx(0.094531, abs=ROUND), pytest.approx(0.905469, abs=ROUND))
    # unknown year: nodate, 5 tokens, no 公益诉讼: rate 0 in [0, 3.688879 / 5 * 10,000 = 7377.7589];
    # share 0 in [0, 0.793451]
    r = rows[("unknown",)]
    assert (r["documents"], r["tokens"], r["occurrences"], r["rate"], r["rate_low"]) == (1, 5, 0, 0.0, 0.0)
    assert r["rate_high"] == pytest.approx(7377.7589, abs=1e-4)
    assert (r["share"], r["share_low"], r["share_high"]) == (0.0, 0.0, pytest.approx(0.793451, abs=ROUND))


def test_rate_per_character_and_per_document(regional):
    chars = by_group(trends(regional, ["公益诉讼"], by="year", per="chars"), "year")
    # 2021: 1 occurrence in 47 characters = 212.765957 per 10,000; [0.025318, 5.571643] / 47 * 10,000
    assert chars[(2021,)]["per"] == "10k_chars"
    assert chars[(2021,)]["rate"] == pytest.approx(212.765957, abs=ROUND)
    assert chars[(2021,)]["rate_high"] == pytest.approx(5.571643 / 47 * 10_000, abs=1e-3)
    docs = by_group(trends(regional, ["公益诉讼"], by="year", per="docs"), "year")
    # per document: 2020 has 2 occurrences in 1 document = 2 [0.242209, 7.224688]; 2021: 1 in 2 = 0.5
    assert docs[(2020,)]["per"] == "doc"
    assert (docs[(2020,)]["rate"], docs[(2020,)]["rate_low"], docs[(2020,)]["rate_high"]) == (
        2.0, pytest.approx(0.242209, abs=ROUND), pytest.approx(7.224688, abs=ROUND))
    assert docs[(2021,)]["rate"] == 0.5 and docs[(2021,)]["rate_high"] == pytest.approx(5.571643 / 2, abs=ROUND)


def test_the_unknown_group_is_kept_and_counted_unless_dropped(regional):
    kept = trends(regional, ["检察机关"], by="year")
    assert sum(r["documents"] for r in kept.records()) == 4
    assert by_group(kept, "year")[("unknown",)]["occurrences"] == 1
    assert "year unknown: 1 documents, in the unknown group" in kept.notes
    dropped = trends(regional, ["检察机关"], by="year", drop_unknown=True)
    assert [r["year"] for r in dropped.records()] == [2020, 2021]
    assert "year unknown: 1 documents, left out (--drop-unknown)" in dropped.notes
    # every document's year is known in 辽宁省: nothing to drop, nothing said
    liaoning = trends(regional, ["检察机关"], by="year", where=["province=辽宁省"], drop_unknown=True)
    assert not any("unknown" in note for note in liaoning.notes)
    with pytest.raises(UsageError, match="no documents match where year=unknown with a known year"):
        trends(regional, ["检察机关"], by="year", where=["year=unknown"], drop_unknown=True)


def test_administrative_codes_are_columns(regional):
    provinces = trends(regional, ["扫黑除恶"], by="province")
    assert provinces.columns[:4] == ("term", "kind", "province", "province_code")
    assert [(r["province"], r["province_code"], r["occurrences"]) for r in provinces.records()] == [
        ("广东省", "440000", 2), ("辽宁省", "210000", 1)]
    cities = trends(regional, ["扫黑除恶"], by="province,city,year")
    assert cities.columns[2:8] == ("province", "province_code", "city", "city_code", "year", "documents")
    assert [(r["province_code"], r["city"], r["city_code"], r["year"]) for r in cities.records()] == [
        ("440000", "广州市", "440100", 2021), ("440000", "湛江市", "440800", "unknown"),
        ("210000", "大连市", "210200", 2021), ("210000", "沈阳市", "210100", 2020)]


@pytest.mark.parametrize("by", [None, "year", "province", "city", "province,year", "year,province", "doc"])
def test_groups_partition_the_documents_and_agree_with_freq(regional, by):
    from policylex.measures import frequency

    table = trends(regional, ["检察机关", "扫黑除恶"], by=by)
    total = {r["term"]: r for r in trends(regional, ["检察机关", "扫黑除恶"], by="all").records()}
    assert list(trends(regional, ["检察机关", "扫黑除恶"], by=None).records()) == list(total.values())
    freq = {r["term"]: r for r in frequency(regional, terms=["检察机关", "扫黑除恶"]).records()}
    for term in ("检察机关", "扫黑除恶"):
        rows = [r for r in table.records() if r["term"] == term]
        assert sum(r["documents"] for r in rows) == 4
        assert sum(r["tokens"] for r in rows) == 25 and sum(r["chars"] for r in rows) == 89
        assert sum(r["occurrences"] for r in rows) == total[term]["occurrences"] == freq[term]["count"]
        assert sum(r["docs_with"] for r in rows) == total[term]["docs_with"] == freq[term]["docfreq"]
        assert total[term]["rate"] == pytest.approx(freq[term]["per_10k"], abs=1e-4)


def test_without_terms_the_most_frequent(regional):
    table = trends(regional, top=2, by=None)
    # 会议, 召开 and 检察院 occur 4 times (检察机关, 公益诉讼, 扫黑除恶 3): ties by term
    assert [(r["term"], r["occurrences"]) for r in table.records()] == [("会议", 4), ("召开", 4)]
    selected = trends(regional, top=1, by=None, where=["province=广东省"])
    assert [(r["term"], r["occurrences"]) for r in selected.records()] == [("会议", 2)]


def test_a_term_that_is_no_token_counts_zero_and_says_so(regional):
    table = trends(regional, ["不存在", "公益诉讼"], by="province")
    assert [(r["term"], r["occurrences"]) for r in table.records()] == [
        ("不存在", 0), ("不存在", 0), ("公益诉讼", 0), ("公益诉讼", 3)]
    assert "不存在: not among the tokens (0 everywhere)" in table.notes
    assert any(note.startswith("公益诉讼 is a lexicon formulation") for note in table.notes)


def test_options_are_checked(regional):
    with pytest.raises(UsageError, match="no such field 'colour'"):
        trends(regional, ["会议"], by="colour")
    with pytest.raises(UsageError, match="named twice"):
        trends(regional, ["会议"], by="year,year")
    with pytest.raises(UsageError, match="per 'words'"):
        trends(regional, ["会议"], per="words")
    with pytest.raises(UsageError, match="no documents match"):
        trends(regional, ["会议"], where=["year=1999"])


def test_wide_and_readable_views(regional):
    table = trends(regional, ["公益诉讼", "扫黑除恶"], by="province")
    pivot = wide(table)
    assert pivot.columns == ("province", "province_code", "documents", "tokens", "chars", "公益诉讼", "扫黑除恶")
    # 广东省: gd2021 + nodate, 7 + 5 = 12 tokens, 26 + 16 = 42 characters; 扫黑除恶 2 / 12 * 10,000
    # 辽宁省: ln2020 + ln2021, 13 tokens, 47 characters; 公益诉讼 3 / 13 * 10,000, 扫黑除恶 1 / 13 * 10,000
    assert list(pivot.rows) == [
        ("广东省", "440000", 2, 12, 42, 0.0, 1666.666667),
        ("辽宁省", "210000", 2, 13, 47, 2307.692308, 769.230769),
    ]
    short = readable(table)
    assert short.columns == ("term", "province", "docs", "tokens", "n", "rate (95%)", "share (95%)")
    # 公益诉讼 in 辽宁省: 3 in 13 tokens = 2307.69 per 10,000 in 2 of 2 documents
    assert list(short.rows)[1][:5] == ("公益诉讼", "辽宁省", 2, 13, 3)
    assert list(short.rows)[1][5:] == ("2308 (476–6744)", "100% (34%–100%)")


def test_documents_by_group(regional):
    table = documents_by(regional, "province,year")
    assert list(table.rows) == [
        ("广东省", "440000", 2021, 1, 7, 26), ("广东省", "440000", "unknown", 1, 5, 16),
        ("辽宁省", "210000", 2020, 1, 7, 26), ("辽宁省", "210000", 2021, 1, 6, 21)]


# --- the seeds ----------------------------------------------------------------------------------


def test_admin_codes_on_the_seeds(seeds_corpus):
    table = trends(seeds_corpus, ["检察机关"], by="province,city")
    assert [(r["province"], r["province_code"], r["city"], r["city_code"], r["documents"])
            for r in table.records()] == [
        ("全国", "000000", "unknown", None, 1),
        ("山东省", "370000", "青岛市", "370200", 1),
        ("广东省", "440000", "湛江市", "440800", 1),
        ("辽宁省", "210000", "丹东市", "210600", 1),
        ("辽宁省", "210000", "unknown", None, 1),
    ]


def test_formulations_are_counted_on_the_text(seeds_corpus):
    from policylex.slogans import count_slogans

    table = trends(seeds_corpus, ["四大检察", "公益诉讼"], slogans=True, by="province")
    assert {r["kind"] for r in table.records()} == {"slogan"} and {r["per"] for r in table.records()} == {"10k_chars"}
    counted = {(r["group"], r["slogan"]): r for r in count_slogans(seeds_corpus, by="province").records()}
    for r in table.records():
        expected = counted.get((r["province"], r["term"]))
        assert r["occurrences"] == (expected["occurrences"] if expected else 0)
        assert r["rate"] == pytest.approx(expected["per_10k_chars"] if expected else 0.0, abs=1e-4)
    # 公益诉讼 on the text finds 公益诉讼检察 too, which the tokens keep whole: more than the token count
    liaoning = by_group(table, "term", "province")[("公益诉讼", "辽宁省")]
    tokens = by_group(trends(seeds_corpus, ["公益诉讼"], by="province"), "province")[("辽宁省",)]
    assert liaoning["occurrences"] == 27 and tokens["occurrences"] == 24
    # formulations in any script or form the lexicon knows
    assert [r["term"] for r in trends(seeds_corpus, ["四大檢察"], slogans=True, by=None).records()] == ["四大检察"]
    with pytest.raises(UsageError, match="not in the lexicon"):
        trends(seeds_corpus, ["没有这个提法"], slogans=True)


def test_grouping_by_several_fields(regional):
    from policylex.measures import frequency
    from policylex.selection import load_documents

    documents = load_documents(regional)
    rows = documents.rows()
    grouping = documents.grouping(rows, "province,year")
    assert grouping.keys == [("广东省", "2021"), ("广东省", "unknown"), ("辽宁省", "2020"), ("辽宁省", "2021")]
    assert grouping.labels == ["广东省 2021", "广东省 unknown", "辽宁省 2020", "辽宁省 2021"]
    names = documents.meta["name"]
    assert [names[m].tolist() for m in grouping.members] == [["gd2021"], ["nodate"], ["ln2020"], ["ln2021"]]
    assert [names[rows[grouping.group_of_row == g]].tolist() for g in range(4)] == [
        names[m].tolist() for m in grouping.members]
    # every analysis that groups takes it: freq per province and year
    freq = frequency(regional, by="province,year", terms=["扫黑除恶"])
    assert freq.columns[:4] == ("province", "province_code", "year", "rank")
    assert [(r["province"], r["year"], r["count"]) for r in freq.records()] == [
        ("广东省", 2021, 2), ("广东省", "unknown", 0), ("辽宁省", 2020, 0), ("辽宁省", 2021, 1)]


# --- the command ------------------------------------------------------------------------------


def run(*args):
    from typer.testing import CliRunner

    from policylex.cli import app

    runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})
    return runner.invoke(app, [str(a) for a in args])


def test_cli_prints_the_tidy_table(regional):
    import csv
    import io

    result = run("trends", "公益诉讼", "--by", "province,year", "--format", "csv", "--corpus", regional.path)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["term", "kind", "province", "province_code", "year", "documents", "tokens", "chars",
                             "occurrences", "docs_with", "rate", "rate_low", "rate_high", "per", "share",
                             "share_low", "share_high"]
    assert [(r["province_code"], r["year"], r["occurrences"], r["rate"]) for r in rows] == [
        ("440000", "2021", "0", "0.0"), ("440000", "unknown", "0", "0.0"),
        ("210000", "2020", "2", "2857.142857"), ("210000", "2021", "1", "1666.666667")]
    table = run("trends", "公益诉讼", "--corpus", regional.path)  # the notes come with the rich table
    assert "year unknown: 1 documents, in the unknown group" in table.stdout


def test_cli_json_years_are_numbers_and_wide_pivots(regional):
    import json

    result = run("trends", "检察机关", "--format", "jsonl", "--drop-unknown", "--per", "docs", "--corpus",
                 regional.path)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["year"], r["rate"], r["per"]) for r in records] == [(2020, 1.0, "doc"), (2021, 0.5, "doc")]
    result = run("trends", "公益诉讼", "扫黑除恶", "--by", "province", "--wide", "--format", "csv", "--corpus",
                 regional.path)
    assert result.stdout.splitlines() == [
        "province,province_code,documents,tokens,chars,公益诉讼,扫黑除恶",
        "广东省,440000,2,12,42,0.0,1666.666667",
        "辽宁省,210000,2,13,47,2307.692308,769.230769",
    ]


def test_cli_table_and_errors(regional, tmp_path):
    result = run("trends", "公益诉讼", "--by", "province", "--corpus", regional.path)
    assert result.exit_code == 0
    assert "rate (95%)" in result.stdout and "2308 (476–6744)" in result.stdout
    bad = run("trends", "公益诉讼", "--by", "colour", "--corpus", regional.path)
    assert bad.exit_code == 2 and bad.stdout == ""
    assert bad.stderr.strip().count("\n") == 0 and "no such field 'colour'" in bad.stderr
    plot = run("trends", "公益诉讼", "--plot", tmp_path / "t.txt", "--corpus", regional.path)
    assert plot.exit_code == 2 and "write .png, .svg or .pdf" in plot.stderr


def test_cli_plot(seeds_corpus, tmp_path):
    path = tmp_path / "trend.svg"
    result = run("trends", "四大检察", "公益诉讼", "--slogans", "--plot", path, "--format", "csv", "--corpus",
                 seeds_corpus.path)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("term,kind,year,")
    assert path.read_bytes().startswith(b"<?xml") and f"plot written to {path}" in result.stderr


# --- intervals that respect documents -------------------------------------------------------------


@pytest.fixture
def three_reports(corpus, tmp_path):
    """One year, three documents: 公益诉讼 three times in one, once in another, never in the third."""
    from conftest import ingest_texts

    return ingest_texts(corpus, tmp_path / "three", {
        "a.txt": "沈阳市检察院召开会议\n发布时间：2021-05-01\n公益诉讼、公益诉讼、公益诉讼。",
        "b.txt": "大连市检察院召开会议\n发布时间：2021-06-01\n公益诉讼、检察机关。",
        "c.txt": "广州市检察院召开会议\n发布时间：2021-07-01\n扫黑除恶、检察机关、扫黑除恶、会议。",
    })


def percentile(values, p):
    """The p-quantile of ``values`` by linear interpolation between order statistics (numpy's default), by hand."""
    ordered = sorted(values)
    h = (len(ordered) - 1) * p
    below = math.floor(h)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (h - below) * (ordered[above] - ordered[below])


def test_bootstrap_interval_by_hand_on_three_documents(three_reports):
    import zlib

    import numpy as np

    three_reports.tokenise(workers=1)
    docs = {r["name"]: (r["token_count"], r["tokens"].split().count("公益诉讼"))
            for r in three_reports.db.execute("SELECT name, token_count, tokens FROM documents_with_tokens "
                                              "ORDER BY seq")}
    assert [count for _, count in docs.values()] == [3, 1, 0]
    tokens = [t for t, _ in docs.values()]
    counts = [c for _, c in docs.values()]
    table = trends(three_reports, ["公益诉讼"], by="year", interval="bootstrap", resamples=400, seed=11)
    (row,) = table.records()
    # The documented draws: the group's generator from the seed and the group's values, 400 rows of 3 documents
    # drawn with replacement; each resample's rate is its occurrences over its tokens.
    draws = np.random.default_rng([11, zlib.crc32("2021".encode())]).integers(0, 3, size=(400, 3)).tolist()
    rates = [sum(counts[d] for d in draw) / sum(tokens[d] for d in draw) * 10_000 for draw in draws]
    assert row["rate"] == pytest.approx(4 / sum(tokens) * 10_000, abs=ROUND)
    assert row["rate_low"] == pytest.approx(percentile(rates, 0.025), abs=ROUND)
    assert row["rate_high"] == pytest.approx(percentile(rates, 0.975), abs=ROUND)
    # Both ends are rates some resample can have: none of the 27 ordered draws gives less or more.
    from itertools import product

    possible = [sum(counts[d] for d in draw) / sum(tokens[d] for d in draw) * 10_000
                for draw in product(range(3), repeat=3)]
    assert min(possible) - ROUND <= row["rate_low"] < row["rate"] < row["rate_high"] <= max(possible) + ROUND
    # Reproducible: the same seed gives the same interval; the share's interval is Wilson's whatever the method.
    again = next(trends(three_reports, ["公益诉讼"], by="year", interval="bootstrap", resamples=400,
                        seed=11).records())
    assert again == row
    poisson = next(trends(three_reports, ["公益诉讼"], by="year").records())
    assert (row["share_low"], row["share_high"]) == (poisson["share_low"], poisson["share_high"])


def test_bootstrap_percentiles_against_the_exact_resampling_distribution():
    from itertools import product

    import numpy as np

    from policylex.trends import bootstrap_interval

    # Three documents of 10, 10 and 20 tokens holding 3, 1 and 0 occurrences.  The 27 equally likely ordered
    # draws give the exact distribution of the resampled rate: its lowest value, 0 (the third document drawn
    # three times), and its highest, 9/30 = 0.3 (the first, three times), each have probability 1/27 = 3.7%,
    # more than 2.5%: so the exact 2.5% and 97.5% quantiles are 0 and 0.3, and 20,000 resamples find them
    # (the share of either extreme among them is 3.7% ± 0.13%).
    counts, exposure = np.array([[3.0], [1.0], [0.0]]), np.array([10.0, 10.0, 20.0])
    exact = sorted(sum(counts[d, 0] for d in draw) / sum(exposure[d] for d in draw)
                   for draw in product(range(3), repeat=3))
    assert (exact[0], exact[1], exact[-2], exact[-1]) == (0.0, 1 / 50, pytest.approx(7 / 30), pytest.approx(0.3))
    low, high = bootstrap_interval(counts, exposure, np.random.default_rng(3), resamples=20_000)
    assert (low[0], high[0]) == (0.0, pytest.approx(0.3))


def clustered_and_spread(spread: bool):
    """The matrix of 200 documents of 100 tokens in one year: 300 occurrences in 10 documents, or spread evenly."""
    import numpy as np
    import scipy.sparse as sp

    from policylex.matrix import Counts, FeatureMatrix
    from policylex.selection import CODE_FIELDS, FIELDS, SIZE_FIELDS

    n = 200
    if spread:
        counts = np.random.default_rng(1).poisson(1.5, size=n)
    else:
        counts = np.zeros(n, dtype=np.int64)
        counts[::20] = 30
    meta = {f: np.array([""] * n) for f in FIELDS + CODE_FIELDS}
    meta["name"] = np.array([f"d{i}" for i in range(n)])
    meta["year"] = np.full(n, 2020)
    meta["token_count"], meta["chars"] = np.full(n, 100), np.full(n, 300)
    meta = {**meta, **{f: meta[f] for f in SIZE_FIELDS}}
    return FeatureMatrix(Counts(sp.csr_matrix(counts.reshape(-1, 1)), np.array(["公益诉讼"]), meta,
                                np.ones(n, dtype=bool)), np.arange(n))


@pytest.mark.parametrize("method", ["bootstrap", "quasipoisson"])
def test_document_intervals_are_wider_when_occurrences_cluster_and_close_when_not(method):
    from policylex.trends import panel

    def width(items, interval):
        (row,) = panel(items, "year", per="tokens", interval=interval).records()
        return row["rate_high"] - row["rate_low"]

    clustered = clustered_and_spread(spread=False)
    # 10 of 200 documents hold 30 each: φ = Σ(c − 1.5)²/1.5 / 199 = (10·28.5² + 190·1.5²)/1.5/199 = 28.6,
    # so the interval is about √28.6 = 5.3 times Poisson's.
    assert width(clustered, method) > 3 * width(clustered, "poisson")
    spread = clustered_and_spread(spread=True)  # Poisson counts: nothing to widen
    assert 0.85 < width(spread, method) / width(spread, "poisson") < 1.2


def test_quasipoisson_by_hand(regional):
    from scipy.stats import gamma

    table = trends(regional, ["公益诉讼"], by="year", interval="quasipoisson")
    rows = by_group(table, "year")
    # Groups 2020 {ln2020: 2 in 7 tokens}, 2021 {ln2021: 1 in 6, gd2021: 0 in 7}, unknown {nodate: 0 in 5}.
    # Pearson χ²: 2020 fits exactly (one document); 2021 has rate 1/13, expected 6/13 and 7/13:
    # (1 − 6/13)²/(6/13) + (7/13)²/(7/13) = 49/78 + 42/78 = 7/6; 4 documents − 3 groups = 1 degree of freedom.
    phi = 7 / 6
    assert f"dispersion φ (Pearson χ² / 1 degrees of freedom, at least 1): 公益诉讼 {phi:.2f}" in table.notes
    # 2021: k = 1, the exact interval of 1/φ occurrences, times φ, over 13 tokens per 10,000
    low = phi * gamma.ppf(0.025, 1 / phi) / 13 * 10_000
    high = phi * gamma.ppf(0.975, 1 / phi + 1) / 13 * 10_000
    assert (rows[(2021,)]["rate_low"], rows[(2021,)]["rate_high"]) == (
        pytest.approx(low, abs=1e-4), pytest.approx(high, abs=1e-4))
    # unknown: k = 0, lower 0, upper φ · (−ln 0.025) over 5 tokens
    assert rows[("unknown",)]["rate_low"] == 0
    assert rows[("unknown",)]["rate_high"] == pytest.approx(phi * -math.log(0.025) / 5 * 10_000, abs=1e-4)
    # every group one document: no degrees of freedom, φ = 1, the Poisson interval, and the note says so
    by_doc = trends(regional, ["公益诉讼"], by="doc", interval="quasipoisson")
    assert [(r["rate_low"], r["rate_high"]) for r in by_doc.records()] == [
        (r["rate_low"], r["rate_high"]) for r in trends(regional, ["公益诉讼"], by="doc").records()]
    assert any("no degrees of freedom" in note for note in by_doc.notes)


def test_poisson_is_the_default_and_unchanged(regional):
    default = trends(regional, ["公益诉讼", "扫黑除恶"], by="province,year")
    poisson = trends(regional, ["公益诉讼", "扫黑除恶"], by="province,year", interval="poisson", seed=5)
    assert list(default.rows) == list(poisson.rows) and default.notes == poisson.notes
    assert default.notes[0] == ("4 documents; rate per 10,000 tokens; 95% intervals: exact Poisson (Garwood) for the "
                                "rate, Wilson for the share")


def test_bootstrap_keeps_poisson_where_resampling_says_nothing(regional):
    boot = by_group(trends(regional, ["公益诉讼"], by="year", interval="bootstrap"), "year")
    poisson = by_group(trends(regional, ["公益诉讼"], by="year"), "year")
    # 2020 and unknown are one document each: the Poisson interval; 2021 has two documents, one holding it
    for year in [(2020,), ("unknown",)]:
        assert (boot[year]["rate_low"], boot[year]["rate_high"]) == (poisson[year]["rate_low"],
                                                                     poisson[year]["rate_high"])
    # resampling {1 in 6 tokens, 0 in 7}: rates 0 (both gd2021), 1/13 and 1/6 (both ln2021) per token
    assert boot[(2021,)]["rate_low"] == 0.0 and boot[(2021,)]["rate_high"] == pytest.approx(10_000 / 6, abs=ROUND)


def test_interval_options_are_checked_in_the_librarys_words(regional):
    with pytest.raises(UsageError, match=r"^interval 'wald': choose from poisson, bootstrap, quasipoisson$"):
        trends(regional, ["会议"], interval="wald")
    with pytest.raises(UsageError, match="needs at least 100"):
        trends(regional, ["会议"], interval="bootstrap", resamples=10)


def test_cli_intervals_agree_with_the_library(regional):
    import csv
    import io

    for method in ("poisson", "bootstrap", "quasipoisson"):
        result = run("trends", "公益诉讼", "检察机关", "--by", "province", "--interval", method, "--seed", "3",
                     "--format", "csv", "--corpus", regional.path)
        assert result.exit_code == 0, result.output
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        library = trends(regional, ["公益诉讼", "检察机关"], by="province", interval=method, seed=3)
        assert [(r["rate_low"], r["rate_high"]) for r in rows] == [
            (str(r["rate_low"]), str(r["rate_high"])) for r in library.records()]
    bad = run("trends", "--interval", "wald", "--corpus", regional.path)
    assert bad.exit_code == 2 and bad.stderr.count("\n") == 1 and "wald" in bad.stderr
    few = run("trends", "--interval", "bootstrap", "--resamples", "5", "--corpus", regional.path)
    assert few.exit_code == 2 and few.stderr.count("\n") == 1
