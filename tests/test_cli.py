"""The command line through typer's CliRunner: data on stdout only, one-line errors, exit codes."""

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from conftest import FIXTURES, SEEDS
from policylex.cli import app

runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})


def run(*args, input=None):
    return runner.invoke(app, [str(a) for a in args], input=input)


@pytest.fixture
def db(tmp_path):
    return tmp_path / "c.db"


@pytest.fixture
def seeded(db):
    assert run("ingest", SEEDS, "--corpus", db).exit_code == 0
    assert run("tokenise", "--corpus", db, "--workers", "1").exit_code == 0
    return db


def test_ingest_summary_goes_to_stderr(db):
    result = run("ingest", SEEDS, "--corpus", db)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "documents added" in result.stderr and "5" in result.stderr


def test_ingest_with_skipped_files_exits_1_and_names_them(db):
    result = run("ingest", SEEDS, FIXTURES / "bad", "--corpus", db)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "bad/empty.txt: empty file" in result.stderr
    assert "Traceback" not in result.stderr


def test_ingest_paths_from_stdin(db):
    paths = "\n".join(str(p) for p in sorted(SEEDS.glob("*.txt"))[:2])
    result = run("ingest", "-", "--corpus", db, input=paths + "\n")
    assert result.exit_code == 0, result.stderr
    info = json.loads(run("info", "--corpus", db, "--format", "json").stdout)
    assert {r["field"]: r["value"] for r in info}["documents"] == 2


def test_corpus_from_environment(tmp_path, monkeypatch):
    path = tmp_path / "env.db"
    monkeypatch.setenv("POLICYLEX_CORPUS", str(path))
    assert run("ingest", SEEDS / "000_3043bcc22da62dc9.txt").exit_code == 0
    assert path.exists()


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "jsonl", "table"])
def test_docs_formats_hold_only_data(seeded, fmt):
    result = run("docs", "--corpus", seeded, "--format", fmt)
    assert result.exit_code == 0 and result.stderr == ""
    out = result.stdout
    if fmt == "json":
        rows = json.loads(out)
    elif fmt == "jsonl":
        rows = [json.loads(line) for line in out.splitlines()]
    elif fmt in ("csv", "tsv"):
        rows = list(csv.DictReader(io.StringIO(out), delimiter="," if fmt == "csv" else "\t"))
    else:
        assert "青岛市人民检察院" in out and "丹东市" in out
        return
    assert [r["province"] for r in rows] == ["山东省", "全国", "辽宁省", "广东省", "辽宁省"]
    assert str(rows[0]["year"]) == "2023"


def test_info(seeded):
    info = {r["field"]: r["value"] for r in json.loads(run("info", "--corpus", seeded, "-f", "json").stdout)}
    assert info["documents"] == 5 and info["documents not yet tokenised"] == 0
    assert info["years"] == "unknown: 2; 2021: 1; 2022: 1; 2023: 1"
    assert info["provinces"] == "辽宁省: 2; 全国: 1; 山东省: 1; 广东省: 1"
    assert info["script variant"] == "t2s"


def test_freq_counts_sum_to_token_total(seeded):
    rows = json.loads(run("freq", "--corpus", seeded, "--top", "0", "-f", "json").stdout)
    info = {r["field"]: r["value"] for r in json.loads(run("info", "--corpus", seeded, "-f", "json").stdout)}
    assert sum(r["count"] for r in rows) == info["tokens"]
    assert [r["rank"] for r in rows[:3]] == [1, 2, 3]


def test_freq_given_terms(seeded):
    rows = list(csv.DictReader(io.StringIO(run("freq", "公益诉讼", "海洋", "--corpus", seeded, "-f", "csv").stdout)))
    assert rows[0]["term"] == "公益诉讼" and int(rows[0]["count"]) > 10 and rows[0]["docfreq"] == "3"
    # a term of the corpus that the selected documents do not use: a real zero
    rows = list(csv.DictReader(io.StringIO(
        run("freq", "公益诉讼", "海洋", "--where", "province=辽宁省", "--corpus", seeded, "-f", "csv").stdout)))
    assert rows[1] == {"rank": "", "term": "海洋", "count": "0", "per_10k": "0.0", "docfreq": "0"}


def test_export_jsonl_and_csv_file(seeded, tmp_path):
    lines = run("export", "--corpus", seeded).stdout.splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 5
    assert list(records[0]) == ["id", "name", "title", "date", "year", "province", "province_code", "city", "city_code",
                                "source", "url", "path", "reader", "encoding", "raw_sha256", "duplicate_of",
                                "near_duplicate_of", "chars", "token_count", "text", "tokens"]
    assert records[0]["province_code"] == "370000" and "公益诉讼" in records[4]["tokens"].split()
    out = tmp_path / "out.csv"
    result = run("export", "--corpus", seeded, "-f", "csv", "-o", out)
    assert result.exit_code == 0 and result.stdout == ""
    assert len(list(csv.DictReader(out.open(encoding="utf-8")))) == 5
    assert not (tmp_path / "out.csv.part").exists()


def test_log_lists_skipped_files_with_lines(db):
    run("ingest", FIXTURES / "tables", "--corpus", db)
    rows = json.loads(run("log", "--skipped", "--corpus", db, "-f", "json").stdout)
    assert {(r["path"].rsplit("/", 1)[-1], r["line"]) for r in rows} >= {("export.jsonl", 3), ("ragged.csv", 5)}


@pytest.mark.parametrize(
    "args, message",
    [
        (["info"], "no corpus at"),
        (["freq"], "no corpus at"),
        (["tokenise", "--userdict", "/nonexistent.txt"], "--userdict /nonexistent.txt: no such file"),
    ],
)
def test_user_errors_are_one_line_exit_2(db, args, message):
    if args[0] == "tokenise":
        run("ingest", SEEDS / "000_3043bcc22da62dc9.txt", "--corpus", db)
    result = run(*args, "--corpus", db)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("policylex: error:")


def test_not_a_corpus_file(tmp_path):
    path = tmp_path / "x.db"
    path.write_text("hello", encoding="utf-8")
    result = run("info", "--corpus", path)
    assert result.exit_code == 2 and "not a policylex corpus" in result.stderr


def test_freq_before_tokenise(db):
    run("ingest", SEEDS, "--corpus", db)
    result = run("freq", "--corpus", db)
    assert result.exit_code == 2 and "run `policylex tokenise` first" in result.stderr


def test_normalise_variant_choice(seeded):
    result = run("normalise", "--variant", "none", "--corpus", seeded)
    assert result.exit_code == 0 and "variant" in result.stderr
    assert run("normalise", "--variant", "xx", "--corpus", seeded).exit_code == 2


def test_every_command_has_help_with_an_example():
    for command in ("ingest", "normalise", "tokenise", "info", "docs", "export", "freq", "log"):
        result = run(command, "--help")
        assert result.exit_code == 0 and "Example:" in result.stdout, command


def test_module_entry_point():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "policylex", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "ingest" in result.stdout


# Each command against the Python API's chain: open, the matrix, one measure (docs/python-api.md).
SAME_NUMBERS = [
    (["freq", "--by", "year", "--top", "5"], lambda plx, c: plx.frequency(c.dfm(), by="year", top=5)),
    (["freq", "--by", "province,year", "--top", "3"], lambda plx, c: plx.frequency(c.dfm(), by="province,year", top=3)),
    (["freq", "--where", "year>=2022", "--keep-duplicates"],
     lambda plx, c: plx.frequency(c.dfm(include_duplicates=True).select(where=["year>=2022"]))),
    (["tfidf", "--top", "3"], lambda plx, c: plx.tfidf(c.dfm(), top=3)),
    (["tfidf", "--by", "province", "--top", "3"], lambda plx, c: plx.tfidf(c.dfm(), by="province", top=3)),
    (["keyness", "--target", "province=辽宁省"], lambda plx, c: plx.keyness(c.dfm(), target="province=辽宁省")),
    (["keyness", "--by", "year", "--top", "2"], lambda plx, c: plx.keyness_by_group(c.dfm(), "year", top=2)),
    (["collocations"], lambda plx, c: plx.collocations(c)),
    (["kwic", "四大检察"], lambda plx, c: plx.kwic(c, "四大检察")),
    (["slogans", "count", "--by", "province"], lambda plx, c: plx.count_slogans(c.dfm(lexicon="bundled"), by="province")),
    (["slogans", "cooccur", "--window", "paragraph"],
     lambda plx, c: plx.cooccurrence(c.dfm(lexicon="bundled"), window="paragraph", top=20)),
    (["slogans", "timeline"], lambda plx, c: plx.timeline(c.dfm(lexicon="bundled"))),
    (["trends", "公益诉讼", "--by", "province,year"],
     lambda plx, c: plx.trends(c.dfm(), ["公益诉讼"], by="province,year")),
    (["trends", "四大检察", "--slogans", "--by", "year"],
     lambda plx, c: plx.trends(c.dfm(lexicon="bundled"), ["四大检察"], by="year")),
    (["topics", "--k", "2", "--by", "province"],
     lambda plx, c: plx.topic_model(c.dfm(), 2).table("province")),
]


@pytest.mark.parametrize("args, call", SAME_NUMBERS, ids=[" ".join(args) for args, _ in SAME_NUMBERS])
def test_cli_and_library_give_the_same_numbers(seeded, args, call):
    import policylex as plx

    result = run(*args, "--corpus", seeded, "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    cli_rows = [json.loads(line) for line in result.stdout.splitlines()]
    with plx.open(seeded) as corpus:
        assert cli_rows == list(call(plx, corpus).records())
    assert cli_rows


def test_freq_by_several_fields_gives_a_column_each(seeded):
    result = run("freq", "--by", "province,year", "--top", "1", "--corpus", seeded, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[:2] == ["province,province_code,year,rank,term,count,per_10k,docfreq",
                                              "全国,000000,2022,1,高质量发展,11,251.7162,1"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["freq", "--where", "colour=red"], "no such field"),
        (["freq", "--where", "year2021"], "write field=value"),
        (["freq", "--by", "colour"], "--by 'colour': no such field 'colour'"),
        (["freq", "--where", "colour=red"], "--where: no such field 'colour'"),
        (["keyness", "--target", "province=西藏自治区"], "no documents in the target"),
        (["freq", "--plot", "out.gif"], "write .png, .svg or .pdf"),
    ],
)
def test_analysis_option_errors(seeded, args, message):
    result = run(*args, "--corpus", seeded)
    assert result.exit_code == 2 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_tokenise_engine_is_chosen_and_recorded(seeded):
    """Both engines give the same tokens; switching engine re-tokenises and says which one made them."""
    before = run("freq", "--corpus", seeded, "--top", "30", "--format", "csv").stdout
    assert "rjieba" in run("info", "--corpus", seeded, "--format", "json").stdout
    result = run("tokenise", "--corpus", seeded, "--workers", "1", "--engine", "jieba")
    assert result.exit_code == 0 and "5" in result.stderr
    info = run("info", "--corpus", seeded, "--format", "json").stdout
    assert "jieba 0.42" in info and "rjieba" not in info
    assert run("freq", "--corpus", seeded, "--top", "30", "--format", "csv").stdout == before
    assert run("tokenise", "--corpus", seeded, "--engine", "pkuseg").exit_code == 2


def test_analyses_warn_when_documents_are_not_tokenised_as_they_are(seeded, tmp_path):
    result = run("freq", "--corpus", seeded, "-f", "csv")
    assert result.exit_code == 0 and result.stderr == ""
    (tmp_path / "new.txt").write_text("丹东市检察院召开会议\n会议强调，要依法能动履职。", encoding="utf-8")
    assert run("ingest", tmp_path / "new.txt", "--corpus", seeded).exit_code == 0
    for command in (["freq"], ["tfidf"], ["collocations"], ["keyness", "--target", "province=辽宁省"]):
        result = run(*command, "--corpus", seeded, "-f", "csv")
        assert result.exit_code == 0 and result.stdout.startswith(("rank,", "group,", "collocation,"))
        assert result.stderr.startswith("policylex: warning: documents not tokenised as they are now (new, changed, "
                                        "or other settings): 1;")
        assert len(result.stderr.splitlines()) == 1
    run("tokenise", "--corpus", seeded, "--workers", "1")
    assert run("freq", "--corpus", seeded, "-f", "csv").stderr == ""
