"""Readers on real messy files: encodings, HTML, tables, bad input, paths."""

import io
import os
from pathlib import Path

import pytest

from conftest import FIXTURES
from policylex.readers import Skipped, SourceText, decode_bytes, expand_paths, read_path, ReadOptions
from policylex.errors import InputError


def read_one(path: Path) -> SourceText:
    items = list(read_path(path))
    assert len(items) == 1 and isinstance(items[0], SourceText), items
    return items[0]


@pytest.mark.parametrize(
    "name, encoding, first_line",
    [
        ("utf8.txt", "utf-8", "杭州市检察院召开全市检察机关公益诉讼工作推进会"),
        ("utf8_bom_crlf.txt", "utf-8-sig", "成都市检察院召开2022年全市检察工作会议"),
        ("utf16.txt", "utf-16", "武汉市检察院开展“检察开放日”活动"),
        ("gb18030.txt", "gb18030", "南京市检察院召开全市检察机关扫黑除恶专项斗争推进会"),
        ("gbk_traditional.txt", "gb18030", "廣州市檢察院召開全市檢察機關知識產權保護工作會議"),
        ("big5.txt", "big5", "福州市檢察院舉行未成年人檢察工作新聞發布會"),
    ],
)
def test_encodings(name, encoding, first_line):
    source = read_one(FIXTURES / "encodings" / name)
    assert source.encoding == encoding
    assert source.text.split("\n")[0] == first_line
    assert "\r" not in source.text and "\ufeff" not in source.text


def test_crlf_kept_in_raw_text_only():
    source = read_one(FIXTURES / "encodings" / "utf8_bom_crlf.txt")
    assert "\r\n" in source.raw_text and "\r" not in source.text


def test_truncated_utf8_is_utf8_without_the_broken_character():
    path = FIXTURES / "bad" / "truncated_utf8.txt"
    source = read_one(path)
    assert source.encoding == "utf-8"
    assert path.read_bytes().startswith(source.raw_text.encode("utf-8"))
    assert "西安市" in source.text


@pytest.mark.parametrize(
    "name, reason",
    [
        ("empty.txt", "empty file"),
        ("image.txt", "binary file (PNG image)"),
        ("binary.txt", "not UTF-8, UTF-16, GB18030 or Big5"),
        ("undecodable.txt", "binary file (NUL bytes)"),
    ],
)
def test_bad_files_are_skipped_with_reason(name, reason):
    (item,) = read_path(FIXTURES / "bad" / name)
    assert isinstance(item, Skipped)
    assert reason in item.reason and item.path.endswith(name)


def test_decode_rejects_latin1_noise():
    with pytest.raises(InputError):
        decode_bytes(bytes(range(128, 256)) * 3 + b"\x00" * 40, "x.txt")


MUST_NOT_APPEAR = ("脚本里的字不能出现", "样式里的字不能出现", "导航里的字不能出现", "今天是", "当前位置",
                   "分享到", "相关文章", "版权所有", "备案号", "浏览次数")


def test_html_article_main_text_only():
    source = read_one(FIXTURES / "html" / "article.html")
    assert source.reader == "html" and source.encoding == "utf-8"
    assert source.fields["title"] == "沈阳市检察院召开全市检察机关上半年工作分析会"
    assert source.fields["date"].startswith("2022-07-18")
    lines = source.text.split("\n")
    assert lines[0] == "沈阳市检察院召开全市检察机关上半年工作分析会"
    assert lines[1].startswith("7月18日，沈阳市人民检察院召开")
    assert lines[-1] == "市检察院领导班子成员、检察委员会专职委员，各基层检察院检察长参加会议。"
    assert len(lines) == 5
    for marker in MUST_NOT_APPEAR:
        assert marker not in source.text


def test_gbk_html_page():
    source = read_one(FIXTURES / "html" / "gbk_page.html")
    assert source.encoding == "gb18030"
    assert source.fields["title"] == "厦门市检察院召开服务保障自贸试验区建设工作座谈会"
    assert "5月20日，厦门市人民检察院召开" in source.text
    for marker in ("脚本里的字不能出现", "导航里的字不能出现", "相关文章", "版权所有"):
        assert marker not in source.text


def test_html_without_article_is_skipped():
    (item,) = read_path(FIXTURES / "html" / "no_body.html")
    assert isinstance(item, Skipped) and "no article text" in item.reason


def test_csv_export_rows_and_columns():
    items = list(read_path(FIXTURES / "tables" / "export.csv"))
    assert [type(i) for i in items] == [SourceText] * 4
    assert [i.record for i in items] == ["row 1", "row 2", "row 3", "row 4"]
    assert items[0].fields == {
        "title": "郑州市检察院召开全市检察长会议",
        "date": "2021-02-25",
        "url": "http://www.example.gov.cn/zz/2021/0225/1.html",
        "source": "郑州市人民检察院",
    }
    assert '"一号检察建议"' in items[3].text
    assert "\n" in items[0].text


def test_ragged_csv_reports_the_bad_line_and_keeps_the_good_rows():
    items = list(read_path(FIXTURES / "tables" / "ragged.csv"))
    good = [i for i in items if isinstance(i, SourceText)]
    bad = [i for i in items if isinstance(i, Skipped)]
    assert [g.fields["date"] for g in good] == ["2021-03-01", "2021-03-02", "2021-03-03"]
    assert len(bad) == 1 and bad[0].line == 5 and "malformed CSV" in bad[0].reason


def test_csv_row_with_wrong_field_count(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("title,text\n甲,第一篇正文。\n乙,第二篇正文。,多余\n丙,第三篇正文。\n", encoding="utf-8")
    items = list(read_path(path))
    assert [i.line for i in items if isinstance(i, Skipped)] == [3]
    assert "3 fields, header has 2" in items[1].reason
    assert [i.fields["title"] for i in items if isinstance(i, SourceText)] == ["甲", "丙"]


def test_tsv_with_chinese_column_names():
    items = list(read_path(FIXTURES / "tables" / "export.tsv"))
    assert len(items) == 2
    assert items[0].fields["title"] == "南昌市检察院召开全市检察机关队伍建设工作会议"
    assert items[0].fields["date"] == "2022-08-09"
    assert items[1].fields["url"].startswith("http://")


def test_jsonl_malformed_line_reported():
    items = list(read_path(FIXTURES / "tables" / "export.jsonl"))
    assert [i.line for i in items if isinstance(i, Skipped)] == [3]
    assert [i.record for i in items if isinstance(i, SourceText)] == ["line 1", "line 2", "line 4"]


def test_json_records_and_not_records():
    items = list(read_path(FIXTURES / "tables" / "records.json"))
    assert len(items) == 2 and items[0].fields["date"] == "2022-06-02"
    (bad,) = read_path(FIXTURES / "tables" / "not_records.json")
    assert isinstance(bad, Skipped) and bad.reason.startswith("no text field")


def test_missing_text_column_names_the_option():
    (bad,) = read_path(FIXTURES / "tables" / "missing_text_column.csv")
    assert isinstance(bad, Skipped) and "--text-column" in bad.reason


def test_column_options(tmp_path):
    path = tmp_path / "custom.csv"
    path.write_text("headline,article_body,when\n标题甲,正文甲。,2020-01-02\n", encoding="utf-8")
    (item,) = read_path(path, ReadOptions(text_column="article_body", title_column="headline", date_column="when"))
    assert item.text == "正文甲。" and item.fields == {"title": "标题甲", "date": "2020-01-02"}
    (bad,) = read_path(path, ReadOptions(text_column="nope"))
    assert isinstance(bad, Skipped) and "no column 'nope'" in bad.reason


def test_paths_from_folders_stdin_and_broken_links(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_text("正文。", encoding="utf-8")
    (tmp_path / "a" / "ignored.pdf").write_bytes(b"%PDF")
    (tmp_path / "a" / "dir.txt").mkdir()  # a folder named like a file type
    (tmp_path / "a" / "dir.txt" / "y.md").write_text("正文。", encoding="utf-8")
    os.symlink(tmp_path / "missing.txt", tmp_path / "a" / "broken.txt")
    os.symlink(tmp_path / "a", tmp_path / "a" / "loop")
    found = list(expand_paths([str(tmp_path / "a")]))
    paths = sorted(str(p.relative_to(tmp_path)) for p in found if isinstance(p, Path))
    assert paths == ["a/dir.txt/y.md", "a/x.txt"]
    assert [s.reason for s in found if isinstance(s, Skipped)] == ["broken symbolic link", "not a supported type (.pdf)"]
    stdin = io.StringIO(f"{tmp_path / 'a' / 'x.txt'}\n\n{tmp_path / 'nope.txt'}\n")
    from_stdin = list(expand_paths(["-"], stdin))
    assert from_stdin[0] == tmp_path / "a" / "x.txt"
    assert isinstance(from_stdin[1], Skipped) and from_stdin[1].reason == "no such file or folder"


def test_unreadable_file(tmp_path, monkeypatch):
    # CI runs as root, which reads any file whatever its mode: refuse the read instead.
    path = tmp_path / "locked.txt"
    path.write_text("正文。", encoding="utf-8")

    def refuse(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    (item,) = read_path(path)
    assert isinstance(item, Skipped) and item.reason == "permission denied"


def test_file_names_with_spaces_and_chinese(tmp_path):
    path = tmp_path / "检察 新闻 (1).txt"
    path.write_text("青岛市检察院召开会议\n正文。", encoding="utf-8")
    assert read_one(path).name == "检察 新闻 (1)"


def test_gb18030_that_charset_normalizer_gives_up_on():
    """Traditional script, converter pinyin and simplified in one GB18030 file: charset-normalizer finds
    no encoding (it took 7 of the benchmark's 100,000 files); the strict GB18030 fallback reads it whole."""
    data = (FIXTURES / "hard_encodings" / "gb18030_with_pinyin.txt").read_bytes()
    decoded = decode_bytes(data, "gb18030_with_pinyin.txt")
    assert decoded.encoding == "gb18030" and decoded.replaced == 0
    assert decoded.text.startswith("百色檢察院推进四大检察全面协调充分发展\n") and "堅(jiān)定" in decoded.text
    assert decoded.text.encode("gb18030") == data
