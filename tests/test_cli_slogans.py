"""`policylex slogans …` through typer's CliRunner: the library's numbers, data on stdout, one-line errors."""

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from conftest import FIXTURES
from policylex.cli import app
from policylex.discovery import discover
from policylex.slogans import cooccurrence, count_slogans

runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def rows(result):
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_slogans_without_a_subcommand_counts(seeds_corpus):
    default = rows(run("slogans", "--corpus", seeds_corpus.path, "--format", "csv"))
    explicit = rows(run("slogans", "count", "--corpus", seeds_corpus.path, "--format", "csv"))
    assert default == explicit
    library = list(count_slogans(seeds_corpus).records())
    assert [(r["slogan"], int(r["occurrences"])) for r in default] == [(r["slogan"], r["occurrences"]) for r in library]


def test_count_named_formulations_in_any_script(seeds_corpus):
    result = run("slogans", "count", "四大檢察", "“两个维护”", "--corpus", seeds_corpus.path, "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [(d["slogan"], d["occurrences"], d["documents"]) for d in data] == [("四大检察", 5, 2), ("两个维护", 1, 1)]


def test_count_by_year_has_an_unknown_group(seeds_corpus):
    result = rows(run("slogans", "--by", "year", "--top", "1", "--corpus", seeds_corpus.path, "--format", "csv"))
    assert [(r["group"], r["slogan"]) for r in result] == [
        ("2021", "公益诉讼"), ("2022", "高质量发展"), ("2023", "依法能动履职"), ("unknown", "公益诉讼")]


def test_table_output_goes_to_stdout_and_progress_does_not(seeds_corpus):
    result = run("slogans", "--corpus", seeds_corpus.path, "--top", "3")
    assert result.exit_code == 0
    assert "公益诉讼" in result.stdout and "Formulations" in result.stdout
    assert "scan" not in result.stdout


def test_list_prints_the_lexicon_with_a_user_file():
    # only.tsv has no family column (a lexicon written before families): it loads, family empty.
    result = rows(run("slogans", "list", "--lexicon", FIXTURES / "slogans" / "only.tsv", "--no-bundled",
                      "--format", "csv"))
    assert result == [{"slogan": "两学一做", "category": "party-political", "family": "", "year": "2016",
                       "variants": "兩學一做", "not_before": "", "not_after": "", "note": ""}]


def test_list_csv_has_the_family_column():
    result = run("slogans", "list", "--format", "csv")
    assert result.exit_code == 0
    header = result.stdout.splitlines()[0].split(",")
    assert header == ["slogan", "category", "family", "year", "variants", "not_before", "not_after", "note"]
    listed = {row["slogan"]: row["family"] for row in rows(result)}
    assert listed["教育强国"] == "强国系列" and listed["平安中国"] == "中国系列" and listed["全面深化改革"] == "四个全面"


def test_cooccur_matches_the_library(seeds_corpus):
    result = rows(run("slogans", "cooccur", "--window", "sentence", "--sort", "npmi", "--top", "5",
                      "--corpus", seeds_corpus.path, "--format", "csv"))
    library = list(cooccurrence(seeds_corpus, window="sentence", sort="npmi", top=5).records())
    assert [(r["slogan_a"], r["slogan_b"], int(r["joint"])) for r in result] == \
        [(r["slogan_a"], r["slogan_b"], r["joint"]) for r in library]


def test_timeline_and_per_year(seeds_corpus):
    result = rows(run("slogans", "timeline", "四大检察", "--corpus", seeds_corpus.path, "--format", "csv"))
    assert [(r["province"], r["first_date"], r["first_doc"]) for r in result] == [
        ("广东省", "2021-02-25", "003_d72a806f25a1289a"), ("山东省", "2023-08-08", "000_3043bcc22da62dc9")]
    per_year = rows(run("slogans", "timeline", "四大检察", "--per-year", "--corpus", seeds_corpus.path,
                        "--format", "csv"))
    assert [(r["year"], r["occurrences"]) for r in per_year] == [("2021", "3"), ("2023", "2")]


def test_discover_matches_the_library(seeds_corpus):
    result = rows(run("slogans", "discover", "--corpus", seeds_corpus.path, "--format", "csv"))
    assert [r["candidate"] for r in result] == [r["candidate"] for r in discover(seeds_corpus).records()]


@pytest.mark.parametrize("args, message", [
    (["count", "不存在的提法"], "'不存在的提法' is not in the lexicon"),
    (["--lexicon", FIXTURES / "slogans" / "bad_year.csv"], "year '18年' is not a four-digit year"),
    (["--by", "year", "--where", "year=1999"], "no documents match --where year=1999"),
    (["--where", "colour=red"], "--where: no such field 'colour'"),
])
def test_errors_are_one_line_and_exit_2(seeds_corpus, args, message):
    result = run("slogans", *args, "--corpus", seeds_corpus.path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_empty_corpus(tmp_path):
    from policylex import Corpus

    Corpus.open(tmp_path / "empty.db", create=True).close()
    result = run("slogans", "--corpus", tmp_path / "empty.db")
    assert result.exit_code == 2 and "no documents" in result.stderr


def test_plots_from_the_cli(seeds_corpus, tmp_path):
    network, heatmap, diffusion = tmp_path / "n.png", tmp_path / "h.svg", tmp_path / "t.pdf"
    result = run("slogans", "cooccur", "--plot", network, "--heatmap", heatmap, "--corpus", seeds_corpus.path)
    assert result.exit_code == 0 and network.stat().st_size > 5_000 and heatmap.stat().st_size > 5_000
    result = run("slogans", "timeline", "四大检察", "公益诉讼", "--plot", diffusion, "--corpus", seeds_corpus.path)
    assert result.exit_code == 0 and diffusion.read_bytes().startswith(b"%PDF")
    assert f"plot written to {diffusion}" in result.stderr


def test_count_and_cooccur_pool_by_family(seeds_corpus):
    counted = rows(run("slogans", "count", "--pool", "family", "--format", "csv", "--corpus", seeds_corpus.path))
    assert counted and list(counted[0]) == ["rank", "family", "formulations", "documents", "occurrences",
                                            "per_10k_chars", "doc_share"]
    library = {r["family"]: r["occurrences"] for r in count_slogans(seeds_corpus, pool="family").records()}
    assert {r["family"]: int(r["occurrences"]) for r in counted} == library
    paired = rows(run("slogans", "cooccur", "--pool", "family", "--format", "csv", "--corpus", seeds_corpus.path))
    assert {r["slogan_a"] for r in paired} | {r["slogan_b"] for r in paired} <= set(library)
    bad = run("slogans", "count", "--pool", "colour", "--corpus", seeds_corpus.path)
    assert bad.exit_code == 2


def test_nested_from_the_command_line_agrees_with_the_library(tmp_path):
    from policylex import Corpus
    from policylex.slogans import count_slogans

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("坚持全面依法治国，推进依法治国。", encoding="utf-8")
    db = tmp_path / "c.db"
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(tmp_path / "in"), "--corpus", str(db)]).exit_code == 0
    for nested, expected in (("key", 2), ("dictionary", 1)):
        result = runner.invoke(app, ["slogans", "count", "依法治国", "--nested", nested, "--format", "csv",
                                     "--corpus", str(db)])
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines()[1].split(",")[4] == str(expected)
        with Corpus.open(db) as corpus:
            (row,) = count_slogans(corpus, slogans=["依法治国"], nested=nested).records()
        assert row["occurrences"] == expected
    bad = runner.invoke(app, ["slogans", "count", "--nested", "both", "--corpus", str(db)])
    assert bad.exit_code == 2
