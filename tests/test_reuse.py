"""Text reuse on hand-made documents (tests/fixtures/reuse/), every number worked out from the texts.

The fixtures, each with a title naming its procuratorate (so its province), a date and the
same template sentence (为深入学习贯彻…现将有关事项通知如下) in its third line:

a_shandong_2021  青岛 (山东省), 2021-03-01: paragraph P (公益诉讼, line 5) and paragraph C (扫黑除恶, line 7)
b_jiangsu_2022   南京 (江苏省), 2022-06-15: P with 3 edits (加→为, 的 inserted, 察→查), and C
c_national_2020  最高人民检察院 (全国), 2020-01-10: C
d_zhejiang_2022, e_sichuan_2021, f_guangdong_2023, g_hubei_2023: unrelated, only the template
h_repost_of_shandong: a_shandong_2021 with a header line, flagged as a near-duplicate at ingest
"""

import json
import shutil

import pytest
from typer.testing import CliRunner

from conftest import FIXTURES
from policylex.cli import ReuseField, app
from policylex.errors import UsageError
from policylex.reuse import (ACROSS, content_text, edit_budget, find_reuse, gap_edits, order_pair,
                             passages_of_blocks, template_cap)

FOLDER = FIXTURES / "reuse"
PAIR_COLUMNS = ["earlier", "later", "earlier_date", "later_date", "earlier_province", "later_province", "chars",
                "share_earlier", "share_later", "lag_days", "via_centre", "example"]


def line(name: str, number: int) -> str:
    return (FOLDER / f"{name}.txt").read_text(encoding="utf-8").split("\n")[number - 1]


P = line("a_shandong_2021", 5)  # the paragraph 江苏 takes from 山东
C = line("c_national_2020", 5)  # the central paragraph both provinces hold
TEMPLATE = line("a_shandong_2021", 3)


@pytest.fixture
def reuse_corpus(corpus, tmp_path):
    folder = tmp_path / "reuse"
    shutil.copytree(FOLDER, folder)
    corpus.ingest([str(p) for p in sorted(folder.glob("*.txt"))])
    return corpus


def rows(table):
    return [dict(zip(table.columns, row)) for row in table.rows]


def test_the_fixtures_are_what_the_tests_say(reuse_corpus):
    docs = {r["name"]: (r["date"], r["province"], r["near_duplicate_of"] is not None)
            for r in reuse_corpus.db.execute("SELECT name, date, province, near_duplicate_of FROM documents")}
    assert docs["a_shandong_2021"] == ("2021-03-01", "山东省", False)
    assert docs["b_jiangsu_2022"] == ("2022-06-15", "江苏省", False)
    assert docs["c_national_2020"] == ("2020-01-10", "全国", False)
    assert docs["h_repost_of_shandong"][2] is True  # the repost is flagged
    assert line("b_jiangsu_2022", 7) == C and C in (FOLDER / "a_shandong_2021.txt").read_text(encoding="utf-8")
    edited = line("b_jiangsu_2022", 5)
    assert edited == P.replace("更加突出", "更为突出").replace("重点领域", "重点的领域").replace("检察建议", "检查建议")
    assert all(TEMPLATE in p.read_text(encoding="utf-8") for p in FOLDER.glob("*.txt"))


def test_a_copied_paragraph_is_found_with_its_direction_and_length(reuse_corpus):
    found = rows(find_reuse(reuse_corpus).pairs())
    horizontal = [r for r in found if not r["via_centre"]]
    assert len(horizontal) == 1
    row = horizontal[0]
    # 山东 (2021) is earlier than 江苏 (2022): the borrowing goes that way, 471 days later.
    assert (row["earlier"], row["later"]) == ("a_shandong_2021", "b_jiangsu_2022")
    assert (row["earlier_province"], row["later_province"], row["lag_days"]) == ("山东省", "江苏省", 471)
    # The whole paragraph, less its two changed characters (the inserted 的 is not in 山东's).
    assert row["chars"] == len(content_text(P)) - 2
    text = reuse_corpus.db.execute("SELECT norm_text FROM documents WHERE name = 'a_shandong_2021'").fetchone()[0]
    assert row["share_earlier"] == round(row["chars"] / len(content_text(text)), 4)
    assert row["example"].startswith("各级检察机关要把公益诉讼检察工作摆在更为突出的位置，")  # the later text, punctuated


def test_a_paragraph_a_national_document_holds_too_is_via_the_centre(reuse_corpus):
    found = rows(find_reuse(reuse_corpus).pairs())
    vertical = {(r["earlier"], r["later"]): r for r in found if r["via_centre"]}
    # The two provinces share C, as each shares it with the centre: all three pairs are vertical.
    assert set(vertical) == {("a_shandong_2021", "b_jiangsu_2022"), ("c_national_2020", "a_shandong_2021"),
                             ("c_national_2020", "b_jiangsu_2022")}
    assert vertical[("c_national_2020", "a_shandong_2021")]["chars"] == len(content_text(C))
    # The provinces' own pair: C (and the 三 that follows it in both) apart from the horizontal P.
    assert vertical[("a_shandong_2021", "b_jiangsu_2022")]["chars"] in (len(content_text(C)), len(content_text(C)) + 1)


def test_without_a_reference_the_central_paragraph_is_horizontal(reuse_corpus):
    found = rows(find_reuse(reuse_corpus, reference=None).pairs())
    assert not any(r["via_centre"] for r in found)
    between = [r for r in found if {r["earlier"], r["later"]} == {"a_shandong_2021", "b_jiangsu_2022"}]
    assert len(between) == 1  # P and C both horizontal: one row


def test_unrelated_documents_template_and_repost_give_nothing(reuse_corpus):
    found = find_reuse(reuse_corpus)
    named = {name for r in rows(found.pairs()) for name in (r["earlier"], r["later"])}
    assert named == {"a_shandong_2021", "b_jiangsu_2022", "c_national_2020"}
    # The unrelated documents share only the template sentence, in all 7 documents compared:
    # more than the cap (half of 7, at least 3), so it seeds nothing.
    assert found.stats["template cap"] == 3 and found.stats["template shingles"] > 0
    assert "h_repost_of_shandong" not in found.documents.names  # the repost is not even compared


def test_an_unrelated_document_alone_gives_nothing(corpus, tmp_path):
    # Two documents on the same beat, in the same words here and there (检察机关, 公益诉讼), no passage shared.
    folder = tmp_path / "two"
    folder.mkdir()
    shutil.copy(FOLDER / "a_shandong_2021.txt", folder)
    (folder / "other.txt").write_text(
        "大连市人民检察院召开公益诉讼检察工作会议\n发布时间：2021-05-01\n"
        "会议总结了全市检察机关公益诉讼检察工作取得的成效，分析了当前面临的形势，"
        "对生态环境和资源保护领域的办案工作作出具体安排，要求各基层院加强与行政机关的沟通。", encoding="utf-8")
    corpus.ingest([str(folder)])
    found = find_reuse(corpus)
    assert list(found.pairs().rows) == [] and found.passages == []


def test_clusters_list_each_passage_once_in_date_order(reuse_corpus):
    clusters = rows(find_reuse(reuse_corpus).clusters())
    assert [(c["documents"], c["first"], c["via_centre"]) for c in clusters] == [
        (3, "c_national_2020", True), (2, "a_shandong_2021", False)]
    assert clusters[0]["members"] == ("c_national_2020 (2020-01-10, 全国); a_shandong_2021 (2021-03-01, 山东省); "
                                      "b_jiangsu_2022 (2022-06-15, 江苏省)")
    assert clusters[1]["chars"] == len(content_text(P)) - 2


def test_the_borrowing_matrix_keeps_horizontal_and_vertical_apart(reuse_corpus):
    matrix = {(r["from"], r["to"]): r for r in rows(find_reuse(reuse_corpus).matrix("province"))}
    assert set(matrix) == {("山东省", "江苏省"), ("全国", "山东省"), ("全国", "江苏省")}
    sd_js = matrix[("山东省", "江苏省")]
    assert (sd_js["horizontal_pairs"], sd_js["horizontal_chars"]) == (1, len(content_text(P)) - 2)
    assert (sd_js["horizontal_lag_days"], sd_js["vertical_pairs"], sd_js["vertical_lag_days"]) == (471, 1, 471)
    assert matrix[("全国", "江苏省")]["vertical_lag_days"] == 887 and matrix[("全国", "江苏省")]["horizontal_lag_days"] is None
    assert matrix[("全国", "山东省")]["horizontal_pairs"] == 0


def test_show_aligns_one_pair(reuse_corpus):
    table = find_reuse(reuse_corpus).passages_of("b_jiangsu_2022", "a_shandong_2021")
    first = rows(table)[0]
    assert "更[为]突出" in first["first_text"] and "更[加]突出" in first["second_text"]
    assert "重点[的]领域" in first["first_text"] and "重点[]领域" in first["second_text"]
    assert first["edits"] == 3 and first["via_centre"] is False
    text = reuse_corpus.db.execute("SELECT norm_text FROM documents WHERE name = 'b_jiangsu_2022'").fetchone()[0]
    assert text[first["first_start"]: first["first_end"]] == line("b_jiangsu_2022", 5)[:-1]  # up to its last 。


def test_where_and_across_choose_the_pairs(reuse_corpus):
    only = rows(find_reuse(reuse_corpus, where=["province=山东,江苏"]).pairs())
    # The reference still marks C as central although 全国 is not selected.
    assert {(r["earlier"], r["later"], r["via_centre"]) for r in only} == {
        ("a_shandong_2021", "b_jiangsu_2022", False), ("a_shandong_2021", "b_jiangsu_2022", True)}
    assert rows(find_reuse(reuse_corpus, where=["province=山东"]).pairs()) == []
    assert len(rows(find_reuse(reuse_corpus, across="province").pairs())) == 4
    with pytest.raises(UsageError):
        find_reuse(reuse_corpus, across="colour")


def test_undated_documents_have_no_direction(reuse_corpus):
    with reuse_corpus.transaction():
        reuse_corpus.db.execute("UPDATE documents SET date = NULL, year = NULL WHERE name = 'b_jiangsu_2022'")
    table = find_reuse(reuse_corpus).pairs()
    row = [r for r in rows(table) if not r["via_centre"]][0]
    assert row["lag_days"] is None and row["later_date"] is None
    assert any("without a direction" in note for note in table.notes)
    assert "without a direction" in " ".join(find_reuse(reuse_corpus).matrix("province").notes)


def test_dates_give_a_direction_only_when_both_are_known():
    assert order_pair("2021-03-01", "2022-06-15") == (False, 471, True)
    assert order_pair("2022-06-15", "2021-03-01") == (True, 471, True)
    assert order_pair("2021", "2022-06-15") == (False, None, True)  # different years: directed, no lag
    assert order_pair("2021", "2021-06-15") == (False, None, False)  # the same as far as both are known
    assert order_pair("--10-30", "2021-06-15") == (False, None, False)  # no year
    assert order_pair("", "2021-06-15") == (False, None, False)
    assert order_pair("2021-06-15", "2021-06-15") == (False, 0, False)


def test_a_passage_over_budget_is_split_not_dropped():
    # Matching blocks (position in a, position in b, length).  Within budget: three blocks of 60
    # with a 1-character gap (1 edit) and an 8-character gap (2 edits): 3 edits in 189 characters,
    # budget ceil(189 / 50) = 4: one passage.
    blocks = [(0, 0, 60), (61, 61, 60), (129, 129, 60)]
    assert [edits for _, edits in passages_of_blocks(blocks, 50)] == [3]
    dense = [(0, 0, 60), (61, 61, 30), (92, 92, 30), (123, 123, 60)]  # 3 one-character gaps: 3 edits
    assert len(passages_of_blocks(dense, 50)) == 1
    # Over budget: three 8-character gaps (2 edits each) in 168 characters, budget 4.  Split at the
    # middle gap; each part (2 edits in 80 characters, budget 2) is kept, none dropped.
    over = [(0, 0, 60), (68, 68, 12), (88, 88, 12), (108, 108, 60)]
    parts = passages_of_blocks(over, 50)
    assert [(b[0][0], b[-1][0] + b[-1][2], edits) for b, edits in parts] == [(0, 80, 2), (88, 168, 2)]
    assert edit_budget(50) == 1 and edit_budget(51) == 2 and edit_budget(197) == 4
    # One edit each: a changed character, an inserted 的, a place name for another (青岛 → 内蒙古);
    # two for a longer stretch (5 to 8 characters).
    assert [gap_edits(1, 1), gap_edits(0, 1), gap_edits(2, 3), gap_edits(6, 5)] == [1, 1, 1, 2]


def test_a_long_passage_with_an_edit_every_60_characters_is_found_whole(corpus, tmp_path):
    # P and C run together (about 300 characters) with a character changed every 60: a fixed
    # allowance of a few edits would drop it; one per 50 keeps it whole.  Each document has text
    # of its own around it, so that neither is a near-duplicate of the other.
    long = content_text(P + C)
    edited = "".join("某" if i % 60 == 30 else c for i, c in enumerate(long))
    own_x = "".join(line(name, 4) for name in ("d_zhejiang_2022", "e_sichuan_2021", "c_national_2020"))
    own_y = "".join(line(name, 4) for name in ("f_guangdong_2023", "g_hubei_2023", "b_jiangsu_2022"))
    texts = {"x.txt": f"青岛市人民检察院通知\n发布时间：2021-01-01\n{own_x}\n{long}",
             "y.txt": f"南京市人民检察院通知\n发布时间：2022-01-01\n{own_y}\n{edited}",
             "z.txt": "杭州市人民检察院通知\n发布时间：2022-01-01\n无关的正文内容。"}
    for name, text in texts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    corpus.ingest([str(tmp_path / name) for name in texts])
    assert corpus.db.execute("SELECT count(*) FROM documents WHERE near_duplicate_of IS NOT NULL").fetchone()[0] == 0
    found = rows(find_reuse(corpus).pairs())
    changed = sum(1 for i in range(len(long)) if i % 60 == 30)
    assert [r["chars"] for r in found] == [len(long) - changed]


def test_template_cap():
    assert template_cap(7) == 3 and template_cap(9) == 4 and template_cap(1000) == 50
    assert template_cap(1000, 10) == 10


# --- the command -----------------------------------------------------------------------------------


def run(reuse_corpus, *args):
    result = CliRunner(env={"COLUMNS": "400", "NO_COLOR": "1", "TERM": "dumb"}).invoke(app, ["reuse", *args, "--corpus", str(reuse_corpus.path)])
    return result


def test_the_cli_gives_the_library_s_rows_in_every_format(reuse_corpus):
    library = [list(r) for r in find_reuse(reuse_corpus).pairs().rows]
    result = run(reuse_corpus, "--format", "json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert list(records[0]) == PAIR_COLUMNS
    assert [[r[c] for c in PAIR_COLUMNS] for r in records] == library
    jsonl = [json.loads(x) for x in run(reuse_corpus, "--format", "jsonl").stdout.splitlines()]
    assert jsonl == records
    csv_out = run(reuse_corpus, "--format", "csv").stdout.splitlines()
    assert csv_out[0] == ",".join(PAIR_COLUMNS) and len(csv_out) == 1 + len(library)
    assert run(reuse_corpus, "--format", "tsv").stdout.splitlines()[0] == "\t".join(PAIR_COLUMNS)
    table = run(reuse_corpus)
    assert table.exit_code == 0 and "a_shandong_2021" in table.stdout
    assert "template seeds" in result.stderr  # the summary goes to stderr, never among the data


def test_the_cli_clusters_matrix_and_show(reuse_corpus):
    clusters = run(reuse_corpus, "--clusters", "--format", "csv")
    assert clusters.stdout.startswith("cluster,documents,provinces,first,")
    matrix = run(reuse_corpus, "--by", "province", "--format", "csv").stdout.splitlines()
    assert matrix[0] == ("from,to,horizontal_pairs,horizontal_chars,horizontal_lag_days,vertical_pairs,vertical_chars,"
                         "vertical_lag_days")
    assert matrix[1].startswith(f"山东省,江苏省,1,{len(content_text(P)) - 2},471.0,1,")
    show = CliRunner().invoke(app, ["reuse", "show", "a_shandong_2021", "b_jiangsu_2022", "--format", "jsonl",
                                    "--corpus", str(reuse_corpus.path)])
    assert show.exit_code == 0, show.output
    passages = [json.loads(x) for x in show.stdout.splitlines()]
    library = rows(find_reuse(reuse_corpus).passages_of("a_shandong_2021", "b_jiangsu_2022"))
    assert passages == library and len(passages) == 2


@pytest.mark.parametrize("args, message", [
    (["--plot", "x.png"], "give --by"),
    (["--clusters", "--by", "province"], "not both"),
    (["--where", "colour=red"], "no such field"),
    (["show", "a_shandong_2021", "nonesuch"], "no document named 'nonesuch'"),
    (["--across", "colour"], "Invalid value"),
])
def test_user_errors_are_one_line_and_exit_2(reuse_corpus, args, message):
    result = CliRunner().invoke(app, ["reuse", *args, "--corpus", str(reuse_corpus.path)])
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_the_reference_can_be_chosen_or_turned_off(reuse_corpus):
    none = json.loads(run(reuse_corpus, "--reference", "none", "--format", "json").stdout)
    assert not any(r["via_centre"] for r in none)
    other = json.loads(run(reuse_corpus, "--reference", "province=山东", "--format", "json").stdout)
    # With 山东 as the reference everything it shares is vertical, and C between 江苏 and 全国 too.
    assert all(r["via_centre"] for r in other)


def test_the_cli_choices_are_the_library_s():
    assert tuple(f.value for f in ReuseField) == ACROSS


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_the_borrowing_chart_has_chinese_labels_and_no_missing_glyphs(reuse_corpus, tmp_path, caplog, suffix):
    from test_plots import draw_capturing_warnings

    from policylex.plots import borrowing_chart

    table = find_reuse(reuse_corpus).matrix("province")
    path = tmp_path / f"borrowing{suffix}"
    assert draw_capturing_warnings(lambda: borrowing_chart(table, path), caplog) == []
    assert path.stat().st_size > 5_000


def test_plot_from_the_cli(reuse_corpus, tmp_path):
    path = tmp_path / "borrowing.png"
    result = run(reuse_corpus, "--by", "province", "--plot", str(path), "--format", "csv")
    assert result.exit_code == 0, result.output
    assert path.read_bytes().startswith(b"\x89PNG") and f"plot written to {path}" in result.stderr
    assert result.stdout.startswith("from,to,")


def test_the_report_section(reuse_corpus, tmp_path):
    from policylex.report import Figure, ReportOptions, TablePart, _Builder, _reuse_section

    (tmp_path / "out").mkdir()
    (tmp_path / "scratch").mkdir()
    section = _reuse_section(_Builder(reuse_corpus, tmp_path / "out", tmp_path / "scratch", ReportOptions()))
    tables = [p for p in section.parts if isinstance(p, TablePart)]
    assert [t.csv for t in tables] == ["reuse_pairs.csv", "reuse_by_province.csv"]
    assert list(tables[0].table.rows) == list(find_reuse(reuse_corpus).pairs().rows)
    assert sum(isinstance(p, Figure) for p in section.parts) == 1


def test_the_readme_examples_print_what_it_says(tmp_path):
    # The reuse examples run on the test fixtures, not the seeds (which share no passage), so they
    # are shell-session blocks, which test_readme leaves alone.
    import re
    import shlex

    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Shared passages (reuse)", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```shell-session\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2
    runner = CliRunner(env={"COLUMNS": "400", "NO_COLOR": "1", "TERM": "dumb"})
    corpus = tmp_path / "reuse.db"
    commands = 0
    for block in blocks:
        for command, expected in re.findall(r"\$ (policylex [^\n]+)\n((?:[^$][^\n]*\n)*)", block):
            args = [str(ROOT / a) if a.startswith("tests/") else str(corpus) if a == "reuse.db" else a
                    for a in shlex.split(command)[1:]]
            result = runner.invoke(app, args)
            assert result.exit_code == 0, command
            assert result.stdout == expected, command
            commands += 1
    assert commands == 3


def test_seed_hits_made_in_parts_give_the_same_passages(reuse_corpus, monkeypatch):
    import policylex.reuse as reuse_module

    whole = find_reuse(reuse_corpus)
    monkeypatch.setattr(reuse_module, "PAIR_BLOCK", 3)  # a handful of seed hits at a time, in many parts
    parted = find_reuse(reuse_corpus)
    assert parted.stats["parts"] > 1 and whole.stats["parts"] == 1
    assert list(parted.pairs().rows) == list(whole.pairs().rows)
    assert parted.stats["seed pairs"] == whole.stats["seed pairs"]


def test_content_text_is_the_text_without_white_space_and_punctuation():
    import random
    import re

    from policylex.reuse import content_offsets

    squeeze = re.compile(r"[\s\W_]+")  # as policylex.dedup compares texts
    rng = random.Random(1)
    alphabet = "检察机关，。、 \n\t_ab1２３（）“”😀𠀀·—…ǎ"
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        assert content_text(text) == squeeze.sub("", text)
        assert "".join(text[i] for i in content_offsets(text)) == content_text(text)


def test_only_documents_sharing_a_rare_seed_are_aligned(reuse_corpus, monkeypatch):
    import policylex.reuse as reuse_module

    aligned = []
    real = reuse_module.align

    def counting(text_a, text_b, *args):
        aligned.append((text_a[:8], text_b[:8]))
        return real(text_a, text_b, *args)

    monkeypatch.setattr(reuse_module, "align", counting)
    found = find_reuse(reuse_corpus)
    # 7 documents make 21 pairs; only the 3 pairs among the documents holding P or C are aligned,
    # one stretch each (山东 and 江苏's P and C are close enough to be one chain, aligned once).
    assert len(aligned) == found.stats["chains aligned"] == 3


def test_help_says_the_columns_and_the_template_cap():
    result = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}).invoke(app, ["reuse", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())  # as wrapped to any width
    assert "Columns: earlier later earlier_date" in text and "--max-docs" in text
    assert "half the documents compared, at least 3, at most 50" in text


def test_a_passage_half_from_the_centre_is_cut_into_its_vertical_and_horizontal_parts(corpus, tmp_path):
    # 山东 and 江苏 share C followed at once by P; the national document holds only C.
    # One stretch of 300 characters between the provinces, but only its first part is central.
    filler = {name: line(name, 4) for name in ("d_zhejiang_2022", "e_sichuan_2021", "f_guangdong_2023")}
    texts = {"x.txt": f"青岛市人民检察院通知\n发布时间：2021-03-01\n{filler['d_zhejiang_2022']}\n{C}{P}",
             "y.txt": f"南京市人民检察院通知\n发布时间：2022-06-15\n{filler['e_sichuan_2021']}\n{C}{P}",
             "z.txt": f"最高人民检察院通知\n发布时间：2020-01-10\n{filler['f_guangdong_2023']}\n{C}"}
    for name, text in texts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    corpus.ingest([str(tmp_path / name) for name in texts])
    found = rows(find_reuse(corpus).pairs())
    between = {r["via_centre"]: r["chars"] for r in found if {r["earlier"], r["later"]} == {"x", "y"}}
    assert between == {True: len(content_text(C)), False: len(content_text(P))}


def test_the_terminal_gets_short_examples_and_other_formats_the_whole(reuse_corpus):
    from policylex.reuse import readable

    table = find_reuse(reuse_corpus).pairs()
    short = rows(readable(table))
    assert all(len(r["example"]) <= 16 for r in short) and short[0]["example"].endswith("…")
    assert [r["chars"] for r in short] == [r["chars"] for r in rows(table)]
    assert len(rows(table)[0]["example"]) == 80  # EXAMPLE_CHARS, in csv, json and the rest
