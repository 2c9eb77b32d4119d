"""The HTML report on the seeds: every section and chart present, nothing fetched, written whole or not at all."""

import base64
import csv
import re
import shutil

import pytest
from typer.testing import CliRunner

from conftest import SEEDS
from policylex import Corpus
from policylex.cli import app
from policylex.report import REPORT_FILE, build_report

SECTIONS = {
    "corpus": "语料概况 The corpus",
    "terms": "高频词 Top terms",
    "distinctive": "特征词 Distinctive terms by province and by year",
    "slogans": "提法 Formulations",
    "network": "提法共现 Co-occurrence of formulations",
    "trends": "提法趋势 Trends of the top formulations",
    "topics": "主题 Topics",
    "reuse": "文本借用 Shared passages",
    "settings": "设置与版本 Settings and versions",
}
# one chart each for top terms, formulations and the network; by province and by year for the distinctive
# terms; by year, by province and by province × year for the trends; top terms, by year and by province for the
# topics; none for reuse (the seeds share no passage)
CHARTS = {"corpus": 0, "terms": 1, "distinctive": 2, "slogans": 1, "network": 1, "trends": 3, "topics": 3,
          "reuse": 0, "settings": 0}
CSV_FILES = {"corpus", "documents_by_year", "documents_by_province", "documents_by_province_year", "top_terms",
             "distinctive_by_province", "distinctive_by_year", "slogans", "slogans_by_province", "cooccurrence",
             "trends_by_year", "trends_by_province", "trends_by_province_year", "topic_terms", "topics_by_year",
             "topics_by_province", "reuse_pairs", "settings"}


@pytest.fixture(scope="module")
def seeds_report(_seeds_db, tmp_path_factory):
    """The report on the seeds, built once for this module (from a copy of the seeds' corpus)."""
    folder = tmp_path_factory.mktemp("report")
    shutil.copy(_seeds_db, folder / "seeds.db")
    with Corpus.open(folder / "seeds.db") as corpus:
        path = build_report(corpus, folder / "out")
    return path


@pytest.fixture
def no_charts(monkeypatch):
    """For tests of the folder, not of the page: charts take most of a report's time; the seeds' report draws them."""
    import policylex.report as report_module

    monkeypatch.setattr(report_module._Builder, "figure", lambda self, section, draw, caption: None)


def sections(page: str) -> dict[str, str]:
    return dict(re.findall(r'<section id="(\w+)">(.*?)</section>', page, flags=re.S))


def read_csv(folder, name):
    with (folder / f"{name}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_section_and_chart_is_there(seeds_report):
    page = seeds_report.read_text(encoding="utf-8")
    found = sections(page)
    assert list(found) == list(SECTIONS)
    for key, title in SECTIONS.items():
        assert f"<h2>{title}</h2>" in found[key]
        assert f'<a href="#{key}">{title}</a>' in page  # the table of contents
        images = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,([A-Za-z0-9+/=]+)">', found[key])
        assert len(images) == CHARTS[key], key
        for data in images:
            png = base64.b64decode(data, validate=True)
            assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000
    assert "No chart" not in page and "No trends" not in page


def test_the_tables_behind_it(seeds_report):
    folder = seeds_report.parent
    assert {p.stem for p in folder.glob("*.csv")} == CSV_FILES  # no skipped.csv: the seeds skip nothing
    assert sorted(p.name for p in folder.iterdir() if p.suffix != ".csv") == [REPORT_FILE]
    page = seeds_report.read_text(encoding="utf-8")
    for name in CSV_FILES:
        assert f'<a href="{name}.csv">{name}.csv</a>' in page
    by_year = {r["year"]: r["documents"] for r in read_csv(folder, "documents_by_year")}
    assert by_year == {"2021": "1", "2022": "1", "2023": "1", "unknown": "2"}
    codes = {(r["province"], r["province_code"]) for r in read_csv(folder, "documents_by_province")}
    assert codes == {("全国", "000000"), ("山东省", "370000"), ("广东省", "440000"), ("辽宁省", "210000")}
    assert [r["term"] for r in read_csv(folder, "top_terms")][:3] == ["工作", "检察机关", "建设"]
    distinctive = [r for r in read_csv(folder, "distinctive_by_province") if r["group"] == "辽宁省"]
    assert distinctive[0]["term"] == "公益诉讼"  # as `keyness --target province=辽宁省` (README)
    panel = read_csv(folder, "trends_by_province_year")
    assert list(panel[0])[:5] == ["term", "kind", "province", "province_code", "year"]
    assert {r["term"] for r in panel} == {r["term"] for r in read_csv(folder, "trends_by_year")}
    assert len({r["term"] for r in panel}) == 5 and panel[0]["term"] == "公益诉讼"


def test_settings_say_how_to_reproduce(seeds_report, _seeds_db):
    from policylex.lexicon import load_lexicon
    from policylex.overview import corpus_hash

    settings = {r["setting"]: r["value"] for r in read_csv(seeds_report.parent, "settings")}
    with Corpus.open(_seeds_db) as corpus:
        assert settings["corpus hash (sha256)"] == corpus_hash(corpus)
        assert settings["tokeniser settings"] == corpus.get_meta("tokenise.settings")
    assert settings["script variant (OpenCC)"] == "t2s"
    assert settings["OpenCC"].startswith("opencc")
    assert settings["lexicon fingerprint"] == load_lexicon().fingerprint("t2s")
    assert settings["policylex"] and re.match(r"\d+\.\d+", settings["version of jieba"])
    assert "version of matplotlib" in settings and "version of scipy" in settings


def test_nothing_is_fetched_from_elsewhere(seeds_report):
    page = seeds_report.read_text(encoding="utf-8")
    assert "<script" not in page.lower() and "<link" not in page.lower() and "@import" not in page
    assert re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page, flags=re.I) == []
    assert re.findall(r"url\((?!data:)", page) == []  # the only url() is the embedded font
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert page.count('<div class="scroll">') == page.count("<table")  # wide tables scroll, the page does not


def test_chinese_shows_without_a_cjk_font_on_the_machine(seeds_report):
    """The page embeds the glyphs of every CJK character it uses (a subset of the bundled Noto Sans SC)."""
    import base64
    import io

    from fontTools.ttLib import TTFont

    page = seeds_report.read_text(encoding="utf-8")
    fonts = re.findall(r"url\(data:font/otf;base64,([A-Za-z0-9+/=]+)\)", page)
    assert len(fonts) == 1
    covered = set(TTFont(io.BytesIO(base64.b64decode(fonts[0]))).getBestCmap())
    cjk = {ord(c) for c in page if "\u3000" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef"}
    assert len(cjk) > 100 and cjk <= covered
    assert len(fonts[0]) < 400_000  # a subset, not the 8 MB font


def test_the_corpus_hash_follows_the_corpus(seeds_corpus):
    from policylex.overview import corpus_hash

    before = corpus_hash(seeds_corpus)
    assert re.fullmatch(r"[0-9a-f]{64}", before) and corpus_hash(seeds_corpus) == before
    with seeds_corpus.transaction():
        seeds_corpus.db.execute("UPDATE documents SET year = 2020 WHERE name LIKE '002_%'")
    assert corpus_hash(seeds_corpus) != before


def test_text_from_the_corpus_is_escaped(corpus, tmp_path, no_charts):
    folder = tmp_path / "in"
    folder.mkdir()
    for path in SEEDS.iterdir():
        shutil.copy(path, folder / path.name)
    (folder / "<img src=x onerror=alert(1)>.txt").write_text("", encoding="utf-8")  # empty: skipped, path shown
    corpus.ingest([str(folder)])
    corpus.tokenise(workers=1)
    page = build_report(corpus, tmp_path / "out").read_text(encoding="utf-8")
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;.txt" in page
    assert (tmp_path / "out" / "skipped.csv").exists()


def test_an_earlier_report_is_replaced_and_other_folders_are_left_alone(seeds_corpus, tmp_path, no_charts):
    from policylex.errors import UsageError

    out = tmp_path / "out"
    build_report(seeds_corpus, out)
    (out / "old.csv").write_text("left from a report with other tables\n", encoding="utf-8")
    build_report(seeds_corpus, out)  # a folder of report.html and CSV files is a report: replaced whole
    assert not (out / "old.csv").exists() and (out / REPORT_FILE).exists()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(UsageError, match="not an earlier report"):
        build_report(seeds_corpus, out)
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert build_report(seeds_corpus, empty) == empty / REPORT_FILE
    with pytest.raises(UsageError, match="a file is there"):
        build_report(seeds_corpus, out / "notes.txt")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no partial folder left


def test_an_interrupted_report_leaves_the_previous_one(seeds_corpus, tmp_path, monkeypatch, no_charts):
    import policylex.report as report_module

    out = tmp_path / "out"
    build_report(seeds_corpus, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def interrupted(builder):
        raise KeyboardInterrupt

    monkeypatch.setattr(report_module, "_network_section", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_report(seeds_corpus, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    with pytest.raises(KeyboardInterrupt):
        build_report(seeds_corpus, tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_report_from_the_cli_ingests_paths_first(tmp_path, no_charts):
    runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})
    db, out = tmp_path / "c.db", tmp_path / "rep"
    result = runner.invoke(app, ["report", str(SEEDS), "--corpus", str(db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # files, not data on stdout
    assert "documents added" in result.stderr and f"report written to {out / REPORT_FILE}" in result.stderr
    assert (out / "trends_by_province_year.csv").exists()
    again = runner.invoke(app, ["report", "--corpus", str(db), "--out", str(tmp_path / "src"), "--top", "5"])
    assert again.exit_code == 0 and len(read_csv(tmp_path / "src", "top_terms")) == 5
    untokenised = tmp_path / "u.db"
    assert runner.invoke(app, ["ingest", str(SEEDS), "--corpus", str(untokenised)]).exit_code == 0
    failed = runner.invoke(app, ["report", "--corpus", str(untokenised), "--out", str(tmp_path / "u")])
    assert failed.exit_code == 2 and "run `policylex tokenise` first" in failed.stderr
    assert not (tmp_path / "u").exists()


def test_a_corpus_with_little_in_it_still_gets_a_report(corpus, tmp_path):
    (tmp_path / "a.txt").write_text("沈阳市检察院召开会议\n发布时间：2020-05-01\n检察机关开展工作。", encoding="utf-8")
    corpus.ingest([str(tmp_path / "a.txt")])
    corpus.tokenise(workers=1)
    page = build_report(corpus, tmp_path / "out").read_text(encoding="utf-8")
    found = sections(page)
    assert list(found) == list(SECTIONS)
    # one province and one year: nothing to compare; no formulation: no counts, pairs or trends
    assert "By province: by province: the documents form one group only (辽宁省); nothing to compare." in page
    assert "No formulation of the lexicon occurs in the corpus." in found["slogans"]
    assert "No chart: nothing to plot: no pair of formulations co-occurs." in found["network"]
    assert "No trends: no formulation of the lexicon in the selected documents." in found["trends"]
    assert "No topics: k 2: the selected documents leave 0 documents with 0 modelled terms" in found["topics"]
    assert found["terms"].count("<img") == 1


def test_the_trends_show_the_document_bootstrap(seeds_report):
    from policylex.trends import trends

    shown = read_csv(seeds_report.parent, "trends_by_province")
    # the report's own copy of the seeds (its formulations scanned): the session's corpus stays unscanned
    with Corpus.open(seeds_report.parent.parent / "seeds.db") as corpus:
        terms = list(dict.fromkeys(r["term"] for r in shown))
        bootstrap = trends(corpus, terms, slogans=True, by="province", interval="bootstrap", seed=0)
        poisson = trends(corpus, terms, slogans=True, by="province")
    assert [(r["rate_low"], r["rate_high"]) for r in shown] == [
        (str(r["rate_low"]), str(r["rate_high"])) for r in bootstrap.records()]
    assert list(bootstrap.rows) != list(poisson.rows)  # 辽宁省 has two documents: resampling them differs
    page = seeds_report.read_text(encoding="utf-8")
    assert "--interval bootstrap" in sections(page)["trends"]


def test_the_topics_are_the_librarys(seeds_report):
    from policylex.topics import topic_model

    folder = seeds_report.parent
    with Corpus.open(seeds_report.parent.parent / "seeds.db") as corpus:
        model = topic_model(corpus, 2, seed=0)  # 5 documents: one topic per ten documents, at least 2
    assert read_csv(folder, "topic_terms") == [{k: str(v) for k, v in r.items()} for r in model.terms(10).records()]
    by_year = read_csv(folder, "topics_by_year")
    assert [(r["year"], r["topic"], r["documents"]) for r in by_year][:2] == [("2021", "1", "1"), ("2021", "2", "1")]
    assert "policylex topics --k 2" in sections(seeds_report.read_text(encoding="utf-8"))["topics"]
