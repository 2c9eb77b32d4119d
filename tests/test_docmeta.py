"""`policylex meta`: metadata coverage by origin, corrections in bulk, and the warning on unknown groups."""

import csv
import io
import json
import warnings

import pytest
from hypothesis import given, strategies as st
from typer.testing import CliRunner

from policylex.cli import app
from policylex.docmeta import FIELDS, NONE, corrected, count_origins, coverage, set_metadata
from policylex.errors import UnknownGroupWarning, UsageError
from policylex.selection import load_documents

runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def rows(table):
    return [tuple(r) for r in table.rows]


def write_csv(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def stored(corpus, name, columns="date, year, province, province_code, city, city_code, meta_origin"):
    return tuple(corpus.db.execute(f"SELECT {columns} FROM documents WHERE name = ?", (name,)).fetchone())


# --- coverage ------------------------------------------------------------------------------


def test_coverage_of_the_seeds(seeds_corpus):
    # Every seed's metadata is read off its text (README: What the seeds come out as).
    assert rows(coverage(seeds_corpus)) == [
        ("title", "text", 3, 0.6), ("title", NONE, 2, 0.4),
        ("date", "text", 4, 0.8), ("date", NONE, 1, 0.2),
        ("year", "text", 3, 0.6), ("year", NONE, 2, 0.4),  # 004 is dated 10月30日: no year
        ("province", "text", 5, 1.0), ("province", NONE, 0, 0.0),
        ("city", "text", 3, 0.6), ("city", NONE, 2, 0.4),
        ("source", "text", 3, 0.6), ("source", NONE, 2, 0.4),
        ("url", NONE, 5, 1.0),
    ]


def test_coverage_leaves_duplicates_out_unless_asked(corpus, tmp_path):
    from conftest import ingest_texts

    body = "丹东市人民检察院召开党组会议，传达学习全国检察长会议精神，研究部署下一步工作。" * 3
    ingest_texts(corpus, tmp_path / "in", {"a.txt": body, "b.txt": "转载\n" + body})
    assert corpus.count(include_duplicates=False) == 1
    assert rows(coverage(corpus))[-1] == ("url", NONE, 1, 1.0)
    assert rows(coverage(corpus, include_duplicates=True))[-1] == ("url", NONE, 2, 1.0)


origins = st.sampled_from(["text", "page", "path", "sidecar", "csv", "html", "set"])


@given(st.lists(st.tuples(st.lists(st.one_of(st.none(), st.just(""), st.just("值"), st.integers(0, 2030)),
                                   min_size=len(FIELDS), max_size=len(FIELDS)),
                          st.dictionaries(st.sampled_from(FIELDS), origins)), max_size=30))
def test_each_fields_origins_sum_to_the_documents(documents):
    total, counts = count_origins([tuple(values) + (json.dumps(origin),) for values, origin in documents])
    assert total == len(documents)
    for name in FIELDS:
        assert sum(counts[name].values()) == total


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "jsonl", "table"])
def test_meta_prints_only_data_in_every_format(seeds_corpus, fmt):
    result = run("meta", "--corpus", seeds_corpus.path, "--format", fmt)
    assert result.exit_code == 0 and result.stderr == ""
    out = result.stdout
    if fmt == "table":
        assert "province" in out and "none" in out
        return
    if fmt == "json":
        records = json.loads(out)
    elif fmt == "jsonl":
        records = [json.loads(line) for line in out.splitlines()]
    else:
        records = list(csv.DictReader(io.StringIO(out), delimiter="," if fmt == "csv" else "\t"))
    assert list(records[0]) == ["field", "origin", "documents", "share"]
    assert [(r["field"], r["origin"], int(r["documents"])) for r in records[:2]] == [
        ("title", "text", 3), ("title", "none", 2)]


# --- corrections: the rules, one document at a time -------------------------------------------

DANDONG = {"province": "辽宁省", "province_code": "210000", "city": "丹东市", "city_code": "210600",
           "date": "2021-10-30", "year": 2021}


@pytest.mark.parametrize("given_values, expected", [
    # A province that resolves: its name and code; the stored city lies elsewhere, so it goes.
    ({"province": "广东"}, dict(province="广东省", province_code="440000", city=None, city_code=None)),
    # The same province: the stored city inside it stays.
    ({"province": "遼寧"}, dict(province="辽宁省", province_code="210000")),
    # A province the gazetteer does not know: kept as written, no code, no city it could contradict.
    ({"province": "某某省"}, dict(province="某某省", province_code=None, city=None, city_code=None)),
    # A city sets its province.
    ({"city": "广州"}, dict(province="广东省", province_code="440000", city="广州市", city_code="440100")),
    # A city the gazetteer does not know: kept as written, no code; the province stays.
    ({"city": "某开发区"}, dict(city="某开发区", city_code=None)),
    # 全国 and a city given as the region.
    ({"province": "全国"}, dict(province="全国", province_code="000000", city=None, city_code=None)),
    ({"province": "大连"}, dict(province="辽宁省", province_code="210000", city="大连市", city_code="210200")),
    # unknown empties: a province takes its city with it.
    ({"province": "unknown"}, dict(province=None, province_code=None, city=None, city_code=None)),
    ({"city": "unknown"}, dict(city=None, city_code=None)),
    # Dates parse as at ingest; the year follows the date.
    ({"date": "2019年3月5日"}, dict(date="2019-03-05", year=2019)),
    ({"date": "3月5日", "year": "2019"}, dict(date="2019-03-05", year=2019)),
    # A year alone keeps a date of that year, and replaces one of another year by the year alone.
    ({"year": "2021"}, dict(year=2021)),
    ({"year": "2021.0"}, dict(year=2021)),  # as pandas writes a year column with gaps
    ({"year": "2019"}, dict(date="2019", year=2019)),
    ({"date": "unknown", "year": "unknown"}, dict(date=None, year=None)),
])
def test_corrected(given_values, expected):
    columns, _ = corrected(DANDONG, given_values)
    assert columns == expected


@pytest.mark.parametrize("given_values, message", [
    ({"city": "广州", "province": "辽宁"}, "is in 广东省, not 辽宁"),
    ({"city": "广东"}, "is not a city"),
    ({"date": "2019-03-05", "year": "2020"}, "is not in year 2020"),
    ({"date": "unknown", "year": "2020"}, "one is unknown"),
    ({"province": "unknown", "city": "广州"}, "province unknown but city"),
])
def test_contradictions_are_refused(given_values, message):
    with pytest.raises(ValueError, match=message):
        corrected(DANDONG, given_values)


def test_origins_say_set_for_what_was_written_and_drop_what_was_emptied():
    _, origin = corrected(DANDONG, {"province": "广东", "date": "2020-01-02"})
    assert origin == {"province": "set", "city": None, "date": "set", "year": "set"}


# --- corrections: the command ------------------------------------------------------------------


def test_meta_set_by_name_path_and_id(seeds_corpus, tmp_path):
    db = seeds_corpus.path
    path = seeds_corpus.db.execute("SELECT path FROM sources s JOIN documents d ON d.id = s.doc_id "
                                   "WHERE d.name LIKE '003_%'").fetchone()[0]
    doc_id = seeds_corpus.db.execute("SELECT id FROM documents WHERE name LIKE '004_%'").fetchone()[0]
    by_name = write_csv(tmp_path / "name.csv", "name,year,city\n000_3043bcc22da62dc9,2019,大连\n")
    by_path = write_csv(tmp_path / "path.csv", f"path,title\n{path},湛江市检察院工作简报\n")
    by_id = write_csv(tmp_path / "id.csv", f"id,date,source\n{doc_id},2021-10-30,丹东市人民检察院\n")
    for fixes in (by_name, by_path, by_id):
        result = run("meta", "set", fixes, "--corpus", db)
        assert result.exit_code == 0, result.stderr
        assert result.stdout == "" and "documents changed" in result.stderr
    assert stored(seeds_corpus, "000_3043bcc22da62dc9") == (
        "2019", 2019, "辽宁省", "210000", "大连市", "210200",
        '{"city":"set","date":"set","province":"set","source":"text","title":"text","year":"set"}')
    assert stored(seeds_corpus, "003_d72a806f25a1289a", "title") == ("湛江市检察院工作简报",)
    assert stored(seeds_corpus, "004_62f5ec710eaefd93", "date, year, source") == (
        "2021-10-30", 2021, "丹东市人民检察院")
    coverage_rows = rows(coverage(seeds_corpus))
    assert ("year", "set", 2, 0.4) in coverage_rows and ("year", NONE, 1, 0.2) in coverage_rows


def test_unmatched_keys_are_listed_and_the_rest_applied(seeds_corpus, tmp_path):
    fixes = write_csv(tmp_path / "fixes.csv", "name,year\nno_such_file,2020\n002_130074c844f02ffc,2020\n")
    result = run("meta", "set", fixes, "--corpus", seeds_corpus.path)
    assert result.exit_code == 1 and result.stdout == ""
    assert f"{fixes}:2: no document with name 'no_such_file'" in result.stderr
    assert stored(seeds_corpus, "002_130074c844f02ffc", "year") == (2020,)


def test_a_bad_cell_fails_the_whole_file_naming_its_line(seeds_corpus, tmp_path):
    before = seeds_corpus.generation()
    fixes = write_csv(tmp_path / "fixes.csv", "name,date\n002_130074c844f02ffc,2020-01-01\n"
                                              "000_3043bcc22da62dc9,last spring\n")
    result = run("meta", "set", fixes, "--corpus", seeds_corpus.path)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"policylex: error: {fixes}:3: date 'last spring' is not a date (write 2021-03-05, 2021-03, 2021 or "
        "2021年3月5日)"]
    assert stored(seeds_corpus, "002_130074c844f02ffc", "date") == (None,)  # line 2 not written either
    assert seeds_corpus.generation() == before


def test_a_name_shared_by_two_documents_is_an_error_naming_them(corpus, tmp_path):
    from conftest import ingest_texts

    ingest_texts(corpus, tmp_path / "a", {"notice.txt": "丹东市检察院召开会议，部署公益诉讼工作。"})
    ingest_texts(corpus, tmp_path / "b", {"notice.txt": "广州市检察院召开会议，部署扫黑除恶工作。"})
    ids = sorted(r[0] for r in corpus.db.execute("SELECT id FROM documents"))
    fixes = write_csv(tmp_path / "fixes.csv", "name,year\nnotice,2020\n")
    with pytest.raises(UsageError, match=f"matches 2 documents \\({ids[0]}, {ids[1]}\\): key them by id"):
        set_metadata(corpus, fixes)
    assert corpus.db.execute("SELECT count(*) FROM documents WHERE year IS NOT NULL").fetchone()[0] == 0


def test_an_interrupted_set_writes_nothing(seeds_corpus, tmp_path, monkeypatch):
    import policylex.docmeta as docmeta

    calls = []

    def interrupted(current, values):
        calls.append(values)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return corrected(current, values)

    monkeypatch.setattr(docmeta, "corrected", interrupted)
    fixes = write_csv(tmp_path / "fixes.csv", "name,year\n002_130074c844f02ffc,2020\n000_3043bcc22da62dc9,2019\n")
    before = seeds_corpus.generation()
    with pytest.raises(KeyboardInterrupt):
        set_metadata(seeds_corpus, fixes)
    assert stored(seeds_corpus, "002_130074c844f02ffc", "year") == (None,)
    assert seeds_corpus.generation() == before and not seeds_corpus.db.in_transaction


def test_a_document_named_on_two_lines_is_an_error(seeds_corpus, tmp_path):
    doc_id = seeds_corpus.db.execute("SELECT id FROM documents WHERE name LIKE '002_%'").fetchone()[0]
    fixes = write_csv(tmp_path / "fixes.csv", f"id,year\n{doc_id},2020\n{doc_id},2021\n")
    with pytest.raises(UsageError, match=f":3: document {doc_id} is corrected on line 2 already"):
        set_metadata(seeds_corpus, fixes)


@pytest.mark.parametrize("text, message", [
    ("year\n2020\n", "give exactly one key column"),
    ("name,id,year\na,b,2020\n", "give exactly one key column"),
    ("name,colour\na,red\n", "'colour' is not a field"),
    ("name,year\na,20x0\n", ":2: year '20x0' is not a year"),
    ("name,province,city\na,辽宁,广州\n", ":2: city '广州' is in 广东省, not 辽宁"),
])
def test_bad_files_are_one_line_errors(seeds_corpus, tmp_path, text, message):
    result = run("meta", "set", write_csv(tmp_path / "fixes.csv", text), "--corpus", seeds_corpus.path)
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr


def test_trends_by_year_use_the_corrected_years_at_once(regional, tmp_path):
    db = regional.path

    def years():
        result = run("trends", "检察机关", "--by", "year", "--corpus", db, "--format", "csv")
        assert result.exit_code == 0, result.stderr
        return {r["year"]: int(r["documents"]) for r in csv.DictReader(io.StringIO(result.stdout))}

    assert years() == {"2020": 1, "2021": 2, "unknown": 1}  # and the matrix is now cached
    assert (db.parent / (db.name + ".dtm.npz")).exists()
    fixes = write_csv(tmp_path / "fixes.csv", "name,year\nnodate,2020\nln2021,2020\n")
    assert run("meta", "set", fixes, "--corpus", db).exit_code == 0
    assert years() == {"2020": 3, "2021": 1}


def test_formulation_trends_use_the_corrected_years_at_once(seeds_corpus, tmp_path):
    db = seeds_corpus.path

    def years():
        result = run("trends", "--slogans", "--by", "year", "--corpus", db, "--format", "csv", "--top", "1")
        assert result.exit_code == 0, result.stderr
        return {r["year"] for r in csv.DictReader(io.StringIO(result.stdout))}

    assert "2019" not in years()
    fixes = write_csv(tmp_path / "fixes.csv", "name,year\n" + "".join(
        f"{name},2019\n" for (name,) in seeds_corpus.db.execute("SELECT name FROM documents")))
    assert run("meta", "set", fixes, "--corpus", db).exit_code == 0
    assert years() == {"2019"}


# --- the warning on unknown groups ---------------------------------------------------------------


def test_grouping_warns_when_over_a_fifth_is_unknown(regional):
    documents = load_documents(regional)
    rows_ = documents.rows()
    with pytest.warns(UnknownGroupWarning, match="year unknown for 25% of the documents grouped by it"):
        documents.grouping(rows_, "year")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        documents.grouping(rows_, "province")  # every document has one
        documents.grouping(rows_[:3], "year")  # ln2020, ln2021, gd2021: all dated
        documents.grouping(rows_, "source")  # not metadata a user is asked to fix


def test_the_cli_says_it_once_on_stderr_with_the_fix(regional, tmp_path):
    result = run("trends", "检察机关", "--by", "province,year", "--corpus", regional.path, "--format", "csv")
    assert result.exit_code == 0
    assert "warning" not in result.stdout
    lines = [line for line in result.stderr.splitlines() if "warning" in line]
    assert lines == ["policylex: warning: year unknown for 25% of the documents grouped by it (1 of 4): they form "
                     "the unknown group; correct them with `policylex meta set FILE.csv`, or ingest again with "
                     "--meta or --path-pattern; `policylex meta` shows what is missing"]
    freq = run("freq", "--by", "year", "--corpus", regional.path, "--format", "csv")  # groups twice inside
    assert freq.stderr.count("policylex: warning: year unknown") == 1
    dropped = run("trends", "检察机关", "--by", "year", "--drop-unknown", "--corpus", regional.path)
    assert "warning" not in dropped.stderr
    write_csv(tmp_path / "fixes.csv", "name,year\nnodate,2021\n")
    assert run("meta", "set", tmp_path / "fixes.csv", "--corpus", regional.path).exit_code == 0
    assert "warning" not in run("trends", "检察机关", "--by", "year", "--corpus", regional.path).stderr
