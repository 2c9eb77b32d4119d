"""Metadata as real collections carry it: paths, folders' metadata tables, one-object JSON, page templates.

Each fixture is written here by hand, after the shapes the development set shows
(laws with their amendment history, gov.cn pages with 成文日期 tables, Taiwan
releases, reports filed by year), never copied from it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policylex import Corpus
from policylex.cli import app
from policylex.dates import find_dates, uses_roc_calendar
from policylex.errors import UsageError
from policylex.metadata import extract
from policylex.paths import compile_pattern, date_in_name, from_path, parse_with_pattern, place_in_folder

NEWS = "{title}\n{body}。会议强调，要坚持以人民为中心，推进工作高质量发展。\n"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding=encoding)
    return path


def docs(corpus: Corpus) -> dict[str, dict]:
    rows = corpus.db.execute("SELECT d.*, s.path FROM documents d JOIN sources s ON s.doc_id = d.id")
    return {Path(r["path"]).name + (f"#{r['name'].split('#')[-1]}" if "#" in r["name"] else ""): dict(r) for r in rows}


@pytest.fixture
def corpus(tmp_path):
    with Corpus.open(tmp_path / "c.db", create=True) as c:
        yield c


# --- paths -----------------------------------------------------------------------------


@pytest.mark.parametrize("name, iso", [
    ("20190305_01", "2019-03-05"), ("2019-03-05", "2019-03-05"), ("2019_03_05_新闻", "2019-03-05"),
    ("2019年3月5日讲话", "2019-03-05"), ("某某条例(2024-12-31)", "2024-12-31"), ("news.2021.7.1", "2021-07-01"),
])
def test_dates_in_file_names(name, iso):
    assert date_in_name(name).iso() == iso


@pytest.mark.parametrize("name", ["5934949", "K0090045", "20191345", "2019-13-45", "page_2019"])
def test_ids_and_impossible_dates_are_not_dates(name):
    assert date_in_name(name) is None


@pytest.mark.parametrize("folder, province, city", [
    ("广东", "广东省", None), ("广东省", "广东省", None), ("广州", "广东省", "广州市"), ("guangdong", "广东省", None),
    ("Shaanxi_reports", "陕西省", None), ("440000", "广东省", None), ("370200", "山东省", "青岛市"),
    ("广东地方法规", "广东省", None), ("公安部", "全国", None), ("行政法规", "全国", None), ("臺南市", "台湾省", "台南市"),
])
def test_region_folders(folder, province, city):
    place = place_in_folder(folder)
    assert (place.province, place.city) == (province, city)


@pytest.mark.parametrize("folder", ["data", "docs", "2019", "统计局", "中国宜春", "123456", "reports", "北京大学讲座",
                                    "上海合作组织文件"])
def test_folders_that_name_no_region(folder):
    assert place_in_folder(folder) is None


def test_folders_above_the_named_root_are_not_the_collections():
    found = from_path("/home/hainan/corpus/2019/20190305_01.txt", root="/home/hainan/corpus")
    assert found.place is None and found.date.iso() == "2019-03-05"
    found = from_path("/data/guangdong/2021/03/notice.txt", root="/data/guangdong")
    assert found.place.province == "广东省" and found.year_hint.iso() == "2021-03" and found.date is None


def test_a_year_led_or_year_ended_name_is_a_hint():
    assert from_path("reports/2014政府工作报告_李克强.txt").year_hint.iso() == "2014"
    assert from_path("reports/ch_gov_report-2017.txt").year_hint.iso() == "2017"
    assert from_path("reports/宜春市2022年统计公报.txt").year_hint is None  # the year it reports on


def test_path_pattern():
    pattern = compile_pattern("{province}/{year}/{date:%Y%m%d}_*.txt")
    found = parse_with_pattern(pattern, "corpus/zhejiang/2020/20200115_03.txt")
    assert found.date.iso() == "2020-01-15" and found.place.province == "浙江省"
    assert parse_with_pattern(pattern, "corpus/zhejiang/notes.txt") is None
    year_only = parse_with_pattern(compile_pattern("**/{year}/*.txt"), "a/b/2018/x.txt")
    assert year_only.date.iso() == "2018"


@pytest.mark.parametrize("template", ["{colour}/*.txt", "*.txt", "{date:%Q}.txt", "{year}/{year}.txt"])
def test_bad_path_patterns_say_why(template):
    with pytest.raises(UsageError, match="path pattern"):
        compile_pattern(template)


def test_year_folders_fill_what_the_text_does_not_say(corpus, tmp_path):
    root = tmp_path / "releases"
    write(root / "2019" / "100234.txt", NEWS.format(title="市政府召开常务会议", body="10月30日，市政府召开常务会议"))
    write(root / "2022" / "100235.txt", "某市2022年统计公报\n（2023年4月12日）\n2022年全市经济运行稳中有进。\n")
    write(root / "2020" / "100236.txt", NEWS.format(title="市政府召开全体会议", body="市政府召开全体会议"))
    corpus.ingest([str(root)])
    rows = docs(corpus)
    assert rows["100234.txt"]["date"] == "2019-10-30"  # the text's 10月30日, the folder's year
    assert rows["100235.txt"]["date"] == "2023-04-12"  # a bulletin filed under the year it reports on
    assert rows["100236.txt"]["date"] == "2020"
    assert json.loads(rows["100236.txt"]["meta_origin"])["date"] == "path"


def test_a_dated_file_name_wins_over_the_law_history_in_the_text(corpus, tmp_path):
    law = ("# 某某省禁毒条例\n\n2001年6月29日 某某省第九届人民代表大会常务委员会第二十七次会议通过\n\n"
           "2011年11月25日 某某省第十一届人民代表大会常务委员会第二十九次会议修订\n\n2012年1月1日 施行\n\n"
           "<!-- INFO END -->\n\n第一条 为了预防和惩治毒品违法犯罪行为，制定本条例。\n")
    write(tmp_path / "laws" / "浙江" / "浙江省禁毒条例.md", law)
    write(tmp_path / "laws" / "浙江" / "浙江省禁毒条例(2011-11-25).md", law.replace("2012年1月1日 施行", ""))
    corpus.ingest([str(tmp_path / "laws")])
    rows = docs(corpus)
    # No date in the name: the latest date of the header history, never the 2001 adoption.
    assert rows["浙江省禁毒条例.md"]["date"] == "2012-01-01"
    assert rows["浙江省禁毒条例(2011-11-25).md"]["date"] == "2011-11-25"
    assert rows["浙江省禁毒条例.md"]["title"] == "某某省禁毒条例"
    assert rows["浙江省禁毒条例.md"]["province"] == "浙江省"


def test_a_table_file_name_does_not_date_its_rows(corpus, tmp_path):
    write(tmp_path / "export_20190217.csv", "title,content\n通知,各区县：现将有关事项通知如下，请认真贯彻执行。\n")
    corpus.ingest([str(tmp_path / "export_20190217.csv")])
    assert corpus.db.execute("SELECT date FROM documents").fetchone()[0] is None


def test_no_path_metadata_turns_paths_off(tmp_path):
    write(tmp_path / "c" / "guangdong" / "20190305_01.txt", NEWS.format(title="会议召开", body="会议召开"))
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "c"), "--corpus", str(tmp_path / "x.db"),
                                      "--no-path-metadata"])
    assert result.exit_code == 0, result.output
    with Corpus.open(tmp_path / "x.db") as c:
        assert tuple(c.db.execute("SELECT date, province FROM documents").fetchone()) == (None, None)


def test_path_pattern_from_the_command_line(tmp_path):
    write(tmp_path / "c" / "sx" / "2020" / "a0115.txt", NEWS.format(title="会议召开", body="会议召开"))
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "c"), "--corpus", str(tmp_path / "x.db"),
                                      "--path-pattern", "{province}/{year}/*.txt"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "c"), "--corpus", str(tmp_path / "y.db"),
                                      "--path-pattern", "{colour}/*.txt"])
    assert result.exit_code == 2 and "unknown field {colour}" in result.output


# --- folders' metadata tables ----------------------------------------------------------


def test_a_folders_metadata_table_is_its_files_sidecar(corpus, tmp_path):
    root = tmp_path / "collection"
    write(root / "a" / "one.txt", NEWS.format(title="会议召开", body="会议召开"))
    write(root / "b" / "two.txt", NEWS.format(title="座谈会召开", body="座谈会召开"))
    write(root / "metadata.csv", "file,date,province\na/one.txt,2021-05-06,湖南省\ntwo.txt,2020-01-02,长沙\n")
    report = corpus.ingest([str(root)])
    assert report.sidecars == [str(root / "metadata.csv")] and not report.skipped
    rows = docs(corpus)
    assert set(rows) == {"one.txt", "two.txt"}  # the table is metadata, not a document
    assert (rows["one.txt"]["date"], rows["one.txt"]["province"]) == ("2021-05-06", "湖南省")
    assert (rows["two.txt"]["province"], rows["two.txt"]["city"]) == ("湖南省", "长沙市")
    assert json.loads(rows["two.txt"]["meta_origin"])["date"] == "sidecar"


def test_a_metadata_table_naming_two_files_by_one_name_is_an_error(corpus, tmp_path):
    root = tmp_path / "collection"
    write(root / "a" / "note.txt", NEWS.format(title="会议召开", body="会议召开"))
    write(root / "b" / "note.txt", NEWS.format(title="座谈会召开", body="座谈会召开"))
    write(root / "metadata.csv", "file,date\nnote.txt,2021-05-06\n")
    with pytest.raises(UsageError, match="names two files") as error:
        corpus.ingest([str(root)])
    assert str(root / "a" / "note.txt") in str(error.value) and str(root / "b" / "note.txt") in str(error.value)
    assert corpus.count() == 0


def test_a_table_of_documents_is_not_a_sidecar(corpus, tmp_path):
    root = tmp_path / "collection"
    write(root / "one.txt", NEWS.format(title="会议召开", body="会议召开"))
    write(root / "export.csv", "file,text\nattachment.pdf,各区县：现将有关事项通知如下，请认真贯彻执行。\n")
    report = corpus.ingest([str(root)])
    assert report.sidecars == [] and corpus.count() == 2


def test_meta_option_keys_by_relative_path(corpus, tmp_path):
    root = tmp_path / "collection"
    write(root / "a" / "note.txt", NEWS.format(title="会议召开", body="会议召开"))
    write(root / "b" / "note.txt", NEWS.format(title="座谈会召开", body="座谈会召开"))
    meta = write(tmp_path / "fix.csv", "path,province\ncollection/b/note.txt,福建省\n")
    corpus.ingest([str(root)], meta=meta)
    provinces = dict(corpus.db.execute("SELECT s.path, d.province FROM sources s JOIN documents d ON d.id = s.doc_id"))
    assert provinces[str(root / "b" / "note.txt")] == "福建省" and provinces[str(root / "a" / "note.txt")] is None


# --- JSON as scrapers write it -----------------------------------------------------------


def test_one_object_per_file_is_one_document(corpus, tmp_path):
    release = {"published": "2019-11-19", "title": "市府推動綠能建設", "department": "臺南市政府經濟發展局",
               "url": "https://www.tainan.gov.tw/News_Content.aspx?n=1&s=2",
               "content": "臺南市政府今天宣布推動綠能建設，\r\n市長表示將持續努力。"}
    write(tmp_path / "2019" / "11" / "2019-11-19_5934949.json", json.dumps(release, ensure_ascii=False))
    report = corpus.ingest([str(tmp_path / "2019")])
    assert not report.skipped
    (row,) = docs(corpus).values()
    assert (row["name"], row["date"], row["title"]) == ("2019-11-19_5934949", "2019-11-19", "市府推动绿能建设")
    assert (row["province"], row["province_code"], row["city"]) == ("台湾省", "710000", "台南市")
    assert row["source"] == "台南市政府经济发展局"


def test_nested_and_unnamed_text_fields(corpus, tmp_path):
    write(tmp_path / "nested.json", json.dumps({"data": {"content": "各区县：现将有关事项通知如下，请认真贯彻执行。",
                                                         "title": "关于做好有关工作的通知"}}, ensure_ascii=False))
    law = {"中文法規名稱": "某某管理辦法", "最新異動日期": "20240703", "法規類別": "行政＞內政部＞營建目",
           "沿革內容": "1.中華民國一百十三年七月三日內政部令修正發布",
           "法規內容": [{"條號": "第 1 條", "條文內容": "本辦法依某某法第五條規定訂定之。"},
                        {"條號": "第 2 條", "條文內容": "本辦法之主管機關為內政部。"}]}
    write(tmp_path / "A0030268.json", json.dumps(law, ensure_ascii=False))
    write(tmp_path / "headline.json", json.dumps({"title": "公告本市某某公業派下員名冊，徵求異議。", "content": ""},
                                                 ensure_ascii=False))
    report = corpus.ingest([str(tmp_path)])
    assert not report.skipped
    rows = docs(corpus)
    assert rows["nested.json"]["title"] == "关于做好有关工作的通知"
    law_row = rows["A0030268.json"]
    assert (law_row["title"], law_row["date"], law_row["province"]) == ("某某管理办法", "2024-07-03", "台湾省")
    assert "本辦法依某某法第五條規定訂定之" in law_row["raw_text"]
    assert rows["headline.json"]["raw_text"].startswith("公告本市")


def test_text_column_names_a_nested_field(corpus, tmp_path):
    write(tmp_path / "x.jsonl", json.dumps({"payload": {"body": "各区县：现将有关事项通知如下，请认真执行。"}},
                                           ensure_ascii=False) + "\n")
    from policylex.readers import ReadOptions

    corpus.ingest([str(tmp_path / "x.jsonl")], read_options=ReadOptions(text_column="payload.body"))
    assert corpus.count() == 1


def test_html_in_a_table_cell_and_its_page_table(corpus, tmp_path):
    page = ("<table><tr><td>发文机关：</td><td>国务院办公厅</td></tr><tr><td>成文日期：</td><td>2006年05月26日</td></tr>"
            "<tr><td>发布日期：</td><td>2018年12月28日</td></tr></table>")
    content = "<p>国务院办公厅关于加强某某工作的通知</p><p>各省、自治区、直辖市人民政府：</p><p>现就有关工作通知如下。</p>"
    write(tmp_path / "gov.csv", "title,content,html,crawl_time\n"
          f"国务院办公厅关于加强某某工作的通知,\"{content}\",\"{page}\",2019-02-17 15:09:45\n")
    corpus.ingest([str(tmp_path / "gov.csv")])
    row = corpus.db.execute("SELECT date, province, norm_text FROM documents").fetchone()
    assert row["date"] == "2006-05-26"  # signed (成文日期), not re-posted (发布日期), nor crawled
    assert row["province"] == "全国" and "<p>" not in row["norm_text"]


# --- page templates --------------------------------------------------------------------


def test_title_date_and_region_past_page_furniture():
    page = ("下载\n打印\n全屏\n收藏\n【字号： 加大 还原 减小 】\n无障碍\nbody{font-size:12pt;}\n首页 > 政务公开 > 政府工作报告\n"
            "2026年北京市政府工作报告\n时间：2026-02-02\n——2026年1月27日在北京市第十六届人民代表大会第四次会议上\n"
            "北京市市长 殷勇\n各位代表：\n现在，我代表市人民政府，向大会报告工作，请予审议。\n")
    meta = extract(page)
    assert meta.title == "2026年北京市政府工作报告"
    assert meta.date.iso() == "2026-01-27"  # delivered, before posted
    assert (meta.province, meta.city) == ("北京市", None)  # a municipality has no city of its own


def test_a_salutation_is_not_a_title():
    meta = extract("各位代表：\n现在，我代表国务院，向大会作政府工作报告，请予审议。\n")
    assert meta.title is None


@pytest.mark.parametrize("line, iso", [
    ("列印時間：108/1/2", None), ("列印时间：2023-01-02", None), ("2023年10月11日 星期三", None),
    ("今天是 2024年12月29日", None), ("发布日期：2017-05-15", "2017-05-15"), ("成文日期：2019年01月27日", "2019-01-27"),
    ("公告日:108/11/20", "2019-11-20"), ("發布日期：民國113年3月3日", "2024-03-03"),
])
def test_reader_dates_never_count(line, iso):
    from policylex.normalise import clean

    meta = extract(clean(f"某某工作情况通报\n{line}\n某某单位认真落实各项工作部署，取得了明显成效。\n"))
    assert (meta.date.iso() if meta.date else None) == iso


def test_signed_wins_over_posted_and_own_date_over_posted():
    text = "关于某某工作的通知\n发布日期：2018-12-28\n成文日期：2006-05-26\n各单位：现将有关事项通知如下。\n"
    assert extract(text).date.iso() == "2006-05-26"
    text = "某县2022年统计公报\n（2023年5月11日）\n发布日期：2023-08-16\n2022年，全县经济运行稳中有进。\n"
    assert extract(text).date.iso() == "2023-05-11"


def test_roc_dates():
    found = [d.iso() for *_, d in find_dates("中華民國一百零六年二月十七日、113年3月3日、108/09/27 與 2019年1月2日")]
    assert found == ["2017-02-17", "2024-03-03", "2019-09-27", "2019-01-02"]
    # Taiwan's calendar as Taiwan uses it; a mainland text citing 1948 or a colloquial 85年 is not Taiwan's.
    assert uses_roc_calendar("民國113年3月3日") and uses_roc_calendar("公告日:108/11/20")
    assert not uses_roc_calendar("民国三十七年五月一日") and not uses_roc_calendar("他于85年3月5日入职")


@pytest.mark.parametrize("text, province", [
    ("国有企业管理人员处分条例\n2024年5月21日 中华人民共和国国务院令第781号公布\n第一条 为了规范处分，制定本条例。", "全国"),
    ("关于某某的批复\n河北省人民政府：\n你省关于某某的请示收悉。现批复如下。\n国务院\n2019年1月2日", "全国"),
    ("某某辦法修正條文\n行政院公報\n第一條 本辦法依法訂定之。", "台湾省"),
    ("万载县2015年国民经济和社会发展统计公报\n2015年，全县经济运行平稳。", "江西省"),
    ("REPORT ON THE WORK OF THE GOVERNMENT\nLi Keqiang\nPremier of the State Council\nEsteemed Deputies,", "全国"),
])
def test_issuing_bodies_give_the_region(text, province):
    from policylex.normalise import clean

    assert extract(clean(text)).province == province


def test_a_county_issuer_is_filed_under_its_prefecture():
    meta = extract("万载县2015年国民经济和社会发展统计公报\n2015年，全县经济运行平稳。")
    assert (meta.province, meta.city, meta.city_code) == ("江西省", "宜春市", "360900")


# --- overrides that do not resolve (issue 13, items 3 and 4) --------------------------------


def test_overrides_that_do_not_resolve_leave_no_contradiction(corpus, tmp_path):
    write(tmp_path / "x.csv", "text,region,date\n"
          "\"成都市检察院召开会议\n2021年5月6日，成都市人民检察院召开会议，部署工作。\",北京市上海市,2023年2月30日\n"
          "\"长春市检察院召开会议\n2022年1月6日，长春市人民检察院召开会议，部署工作。\",'; DROP TABLE documents;--,2023-13-45\n"
          "\"拉萨市人民检察院召开会议\n2022年3月1日，拉萨市检察院召开会议。\",西藏自治区,\n")
    report = corpus.ingest([str(tmp_path / "x.csv")])
    rows = {r["name"]: r for r in corpus.db.execute("SELECT * FROM documents")}
    one, two, three = rows["x.csv#1"], rows["x.csv#2"], rows["x.csv#3"]
    assert (one["province"], one["province_code"], one["city"], one["city_code"]) == ("北京市上海市", None, None, None)
    assert (two["province"], two["province_code"], two["city"]) == ("'; DROP TABLE documents;--", None, None)
    assert one["date"] == "2021-05-06" and two["date"] == "2022-01-06"  # the text's date is kept
    assert (three["province"], three["city"], three["city_code"]) == ("西藏自治区", "拉萨市", "540100")
    # once per file and field, not per row
    assert sorted(w.reason.split(" ", 1)[0] for w in report.warnings) == ["date", "region"]
    assert corpus.db.execute("SELECT count(*) FROM log WHERE level = 'warning'").fetchone()[0] == 2


# --- rules found on collections outside the development set ---------------------------------


def test_a_news_bulletin_speaks_for_the_country_not_the_places_it_lists():
    from policylex.normalise import clean

    text = ("# 《新闻联播》（20220625）\n## 新闻摘要\n本期节目主要内容：\n"
            "1.习近平将出席庆祝香港回归祖国25周年大会暨香港特别行政区第六届政府就职典礼；\n"
            "2.上海合作组织成员国元首理事会会议举行；\n3.浙江杭州推进亚运场馆建设。\n")
    meta = extract(clean(text))
    assert (meta.province, meta.city) == ("全国", None)


def test_a_national_bodys_local_branch_is_its_place(corpus, tmp_path):
    write(tmp_path / "nfra" / "国家金融监督管理总局菏泽监管分局行政处罚信息公开表.txt",
          "序号\t1\n当事人名称\t某某银行股份有限公司\n主要违法违规行为\t贷款管理不审慎\n行政处罚内容\t罚款30万元\n")
    corpus.ingest([str(tmp_path / "nfra")])
    row = corpus.db.execute("SELECT title, province, city FROM documents").fetchone()
    assert tuple(row) == ("国家金融监督管理总局菏泽监管分局行政处罚信息公开表", "山东省", "菏泽市")


def test_a_reports_delivery_date_beats_a_publication_column(corpus, tmp_path):
    report = ("下载\n打印\n全屏\n收藏\n【字号：\n加大\n还原\n减小\n】\n2026年某某省政府工作报告\n"
              "2026年1月14日在浙江省第十四届人民代表大会第四次会议上\n来源：\n浙江日报\n时间：\n2026-01-22\n"
              "浙江省省长 某某\n各位代表：\n现在，我代表省人民政府向大会作政府工作报告，请予审议。\n")
    write(tmp_path / "reports.csv", "province,title,publish_date,full_text\n"
          f"浙江省,2026年浙江省政府工作报告,2026-01-22,\"{report}\"\n")
    corpus.ingest([str(tmp_path / "reports.csv")])
    row = corpus.db.execute("SELECT date, province, meta_origin FROM documents").fetchone()
    assert (row["date"], row["province"]) == ("2026-01-14", "浙江省")
    from policylex.readers import ReadOptions

    with Corpus.open(tmp_path / "named.db", create=True) as named:
        named.ingest([str(tmp_path / "reports.csv")], read_options=ReadOptions(date_column="publish_date"))
        assert named.db.execute("SELECT date FROM documents").fetchone()[0] == "2026-01-22"  # the user's word


def test_a_label_on_its_own_line_labels_the_next():
    meta = extract("某某市政府工作报告\n时间：\n2026-02-02 09:20\n来源：\n某某日报\n各位代表：\n现在，我代表市人民政府报告工作。\n")
    assert meta.date.iso() == "2026-02-02" and meta.source == "某某日报"


def test_taiwans_central_government_has_no_city_and_mainland_news_is_not_taiwans():
    from policylex.normalise import clean

    visit = clean("總統訪視台北縣三芝鄉\n發稿單位：總統府\n發布日期：民國81年3月3日\n總統今日前往台北縣三芝鄉，關心地方建設。\n")
    assert (extract(visit).province, extract(visit).city) == ("台湾省", None)
    tainan = clean("市府推動綠能建設\n發稿單位：臺南市政府經濟發展局\n臺南市政府今天宣布，將與桃園市合作推動綠能。\n"
                   "民國113年3月3日\n")
    assert (extract(tainan).province, extract(tainan).city) == ("台湾省", "台南市")
    news = clean("韩国法务部宣布新规\n新华社首尔3月5日电 韩国法务部5日宣布，将修订出入境管理规定。\n")
    assert extract(news).province == "全国"


@pytest.mark.parametrize("name, old, now", [("台北县", "台北县", "新北市"), ("莱芜市", "莱芜市", "济南市")])
def test_retired_place_names_resolve_to_their_successors(name, old, now):
    from policylex.places import resolve_name

    assert resolve_name(old).city == now


def test_shtml_pages_are_read_and_a_clock_is_no_title(corpus, tmp_path):
    page = ("<html><head><title>00:30:01</title></head><body><h1>00:30:01</h1><div class='content'>"
            "<p>央视网消息：今天，全国春耕生产全面展开，各地抢抓农时，推进粮食生产。</p>"
            "<p>农业农村部表示，将加强农资供应保障，确保春耕生产顺利进行。</p></div></body></html>")
    write(tmp_path / "pages" / "20230903.shtml", page)
    report = corpus.ingest([str(tmp_path / "pages")])
    assert not report.skipped and corpus.count() == 1
    row = corpus.db.execute("SELECT title, date FROM documents").fetchone()
    assert row["title"] != "00:30:01" and row["date"] == "2023-09-03"


def test_macao_and_hong_kong_speak_for_themselves(corpus, tmp_path):
    from policylex.normalise import clean

    records = [
        {"title": "東方斜巷一帶臨時封閉交通", "content": "市政署公佈，東方斜巷一帶將於本月臨時封閉交通，請市民留意。",
         "link": "https://www.gcs.gov.mo/detail/zh-hant/N26DAAA"},
        {"title": "行政長官岑浩輝會見全國政協常委訪問團", "content": "行政長官岑浩輝今日會見全國政協常委訪問團，雙方就本澳發展交換意見。",
         "link": "https://www.gcs.gov.mo/detail/zh-hant/N26DBBB"},
    ]
    write(tmp_path / "gcs" / "15.json", json.dumps(records, ensure_ascii=False))
    corpus.ingest([str(tmp_path / "gcs")])
    assert {r[0] for r in corpus.db.execute("SELECT province FROM documents")} == {"澳门特别行政区"}
    assert corpus.db.execute("SELECT DISTINCT province_code FROM documents").fetchone()[0] == "820000"
    hk = extract(clean("本港經濟持續復甦\n特區政府今日公布最新經濟數據，本港第一季經濟按年增長。\n"))
    assert hk.province == "香港特别行政区"


def test_a_body_that_is_cited_or_visited_is_not_the_issuer():
    from policylex.normalise import clean

    text = clean("全民閱讀活動啟動\n為落實推動國務院頒布的《全民閱讀促進條例》，臺南市政府今日啟動全民閱讀活動。\n")
    assert extract(text).city == "台南市" or extract(text).province != "全国"
    meta = extract("湖南省举办旅游博览会\n本届博览会由文化和旅游部指导，湖南省人民政府主办。\n")
    assert meta.province == "湖南省"


def test_citation_codes_are_furniture_and_the_foot_signs():
    text = ("【法宝引证码】 CLI.12.5115678\n原文链接：https://www.pkulaw.com/lar/abc.html\n"
            "北京市经济和信息化局关于印发《某某行动计划》的通知\n各有关单位：\n现将《某某行动计划》印发给你们，请认真贯彻落实。\n"
            "北京市经济和信息化局\n2022年11月21日\n")
    meta = extract(text)
    assert meta.title == "北京市经济和信息化局关于印发《某某行动计划》的通知"
    assert (meta.date.iso(), meta.province, meta.source) == ("2022-11-21", "北京市", "北京市经济和信息化局")
    site = extract("关于做好有关工作的通知\n来源：烟台市人民政府网站\n各县市区人民政府：现将有关事项通知如下。\n")
    assert site.source == "烟台市人民政府"


@pytest.mark.parametrize("url, province, city", [
    ("https://www.tainan.gov.tw/News_Content.aspx?n=1", "台湾省", "台南市"),
    ("https://law.moj.gov.tw/Eng/LawClass", "台湾省", None),
    ("http://www.gov.cn/zhengce/content/2019-02/15/content_1.htm", "全国", None),
    ("www.gd.gov.cn/zwgk/", "广东省", None),
    ("https://www.gcs.gov.mo/detail/zh-hant/N26", "澳门特别行政区", None),
])
def test_a_government_sites_address_gives_its_region(url, province, city):
    from policylex.places import site_place

    place = site_place(url)
    assert (place.province, place.city) == (province, city)


@pytest.mark.parametrize("url", ["https://www.qingdao.gov.cn/x", "https://bjgy.chinacourt.gov.cn/a", "https://example.com"])
def test_an_unlisted_site_says_nothing(url):
    from policylex.places import site_place

    assert site_place(url) is None  # a .gov.cn site not listed is not national


# --- saved pages of government sites (a third out-of-sample check) ------------------------------

PORTAL = """<html><head><meta charset="utf-8">
<meta name="SiteName" content="佛山市人民政府门户网站"><meta name="SiteDomain" content="www.foshan.gov.cn">
<meta name="ArticleTitle" content="市政府召开常务会议 部署防汛工作">
<meta name="PubDate" content="2023-08-01 10:00"><meta name="ContentSource" content="佛山市人民政府门户网站">
<title>市政府召开常务会议 部署防汛工作_佛山市人民政府门户网站</title></head>
<body><div class="logo"><h1>佛山市人民政府门户网站</h1></div>
<div class="nav">首页 &gt; 政务公开 &gt; 工作动态</div>
<div class="article"><h2>市政府召开常务会议 部署防汛工作</h2>
<p>2020年09月15日 09时32分</p><p>来源：佛山日报</p>
<p>9月14日，市政府召开常务会议，研究部署防汛工作。会议强调，要压实各方责任，确保群众生命财产安全。</p>
<p>会议还研究了其他事项。出生日期2002年01月05日的志愿者代表列席会议。</p></div></body></html>"""


def test_a_portal_page_gives_its_own_title_date_and_region(corpus, tmp_path):
    write(tmp_path / "pages" / "index.html", PORTAL)
    corpus.ingest([str(tmp_path / "pages")])
    row = corpus.db.execute("SELECT title, date, province, city, source FROM documents").fetchone()
    assert row["title"] == "市政府召开常务会议 部署防汛工作"  # ArticleTitle, not the logo's <h1>
    assert row["date"] == "2020-09-15"  # the date line under the title, not PubDate (a repost) nor a birth date
    assert (row["province"], row["city"]) == ("广东省", "佛山市")  # the site's own name
    assert row["source"] == "佛山日报"  # the visible 来源, not the CMS's default


def test_page_titles_keep_their_own_dash_and_lose_the_site():
    from policylex.readers import _page_title

    assert _page_title("“书法进军营，共谱鱼水情”——顺义区开展军地书法交流活动", None).endswith("交流活动")
    assert _page_title("某某参访团来访\xa0\xa0广东省人民政府门户网站", None) == "某某参访团来访"
    assert _page_title("青岛市检察院召开会议_青岛市人民检察院", None) == "青岛市检察院召开会议"


@pytest.mark.parametrize("line, iso", [
    ("出生日期2002年01月05日", None), ("开始时间：2024-05-08", None), ("时间发布：2023-06-12 09:51", "2023-06-12"),
])
def test_only_a_documents_own_date_labels_count(line, iso):
    meta = extract(f"某某工作情况通报\n{line}\n某某单位认真落实各项工作部署，取得了明显成效。\n")
    assert (meta.date.iso() if meta.date else None) == iso


def test_a_persons_post_in_a_national_body_is_not_the_issuer():
    meta = extract("第十届上海民进出版传媒论坛在沪召开\n全国人大常委会副委员长某某出席论坛并致辞。\n", stated_source="上海市人民政府")
    assert meta.province == "上海市"


def test_a_place_the_news_reports_on_is_not_the_issuer_where_a_source_is_named():
    meta = extract("“从齐白石故乡吹来的风”书画展亮相澳门\n9月29日，书画展在澳门举行。\n", stated_source="湘潭日报")
    assert (meta.province, meta.city) == ("湖南省", "湘潭市")
    sidebar = extract("某某区举办文化活动\n某某区今天举办文化活动。\n", context="某艺术家荣获澳门特别行政区政府颁发的奖项")
    assert sidebar.province != "澳门特别行政区"  # a page's sidebar does not make a SAR's release


def test_a_footers_links_and_a_bodys_possessions_do_not_issue():
    footer = ("下六甲灌区工程重要节点全面开工\n国务院150项重大水利工程之一\n"
              "广西来宾市下六甲灌区工程是国务院150项重大水利工程之一，10月15日全面开工。\n"
              "中国政府网及国务院部门网站|\n省（区市）政府网站|\n")
    assert extract(footer, stated_source="广西日报").province == "广西壮族自治区"
    possession = extract("某县推进春耕生产\n按照党中央、国务院的部署，某县全力推进春耕生产。\n", stated_source="湖南日报")
    assert possession.province == "湖南省"
