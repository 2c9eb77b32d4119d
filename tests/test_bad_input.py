"""Bad input, one test per case: each bad file or row is reported with its path (and
line) and reason, the rest of the batch goes in, and nothing already in the corpus changes.

Every test ingests the bad input together with one good article into a corpus
that already holds the five seeds (``batch``), then compares the seeds' rows.
"""

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import FIXTURES, SEEDS
from policylex.check import check_corpus, passed
from policylex.cli import app
from policylex.readers import MAX_TEXT_CHARS

GOOD = "湛江市检察院召开会议\n发布时间：2021-02-25\n会议强调，要做优四大检察，落实少捕慎诉慎押刑事司法政策。"


def dump(corpus) -> tuple[list, list]:
    documents = [tuple(r) for r in corpus.db.execute(
        "SELECT id, name, title, date, province, city, source, raw_text, norm_text, norm_hash, tokens, token_count, "
        "duplicate_of, near_duplicate_of FROM documents_with_tokens ORDER BY seq")]
    sources = [tuple(r) for r in corpus.db.execute(
        "SELECT path, record, doc_id, raw_sha256, ingested_at FROM sources ORDER BY path, record")]
    return documents, sources


@pytest.fixture
def batch(seeds_corpus, tmp_path):
    """ingest(*paths) with a good article alongside; checks the seeds are untouched and the good one went in."""
    good = tmp_path / "good" / "good.txt"
    good.parent.mkdir()
    good.write_text(GOOD, encoding="utf-8")

    def ingest(*paths, **options):
        before_docs, before_sources = dump(seeds_corpus)
        report = seeds_corpus.ingest([str(p) for p in paths] + [str(good)], **options)
        after_docs, after_sources = dump(seeds_corpus)
        assert after_docs[:5] == before_docs[:5], "a seed document changed"
        assert set(before_sources) <= set(after_sources), "a seed source changed"
        assert seeds_corpus.db.execute("SELECT count(*) FROM sources WHERE path = ?", (str(good),)).fetchone()[0] == 1
        logged = {(r[0], r[1], r[2]) for r in seeds_corpus.db.execute(
            "SELECT path, line, message FROM log WHERE level = 'skipped'")}
        assert {(s.path, s.line, s.reason) for s in report.skipped} <= logged, "a skipped file was not logged"
        assert passed(check_corpus(seeds_corpus))
        return report

    ingest.corpus = seeds_corpus
    return ingest


def skipped_like(items) -> list[tuple[str, int | None, str]]:
    return [(Path(s.path).name, s.line, s.reason) for s in items]


def skipped(report) -> list[tuple[str, int | None, str]]:
    return skipped_like(report.skipped)


def added_names(corpus) -> list[str]:
    return [r[0] for r in corpus.db.execute("SELECT name FROM documents_with_tokens WHERE seq > 5 ORDER BY seq")]


# --- files that are not text -------------------------------------------------------------


@pytest.mark.parametrize(
    "name, reason",
    [
        ("empty.txt", "empty file"),
        ("binary.txt", "undecodable bytes: not UTF-8, UTF-16, GB18030 or Big5 text"),
        ("image.txt", "binary file (PNG image), not text"),
        ("undecodable.txt", "binary file (NUL bytes), not text"),
    ],
)
def test_a_file_that_is_not_text_is_skipped(batch, name, reason):
    report = batch(FIXTURES / "bad" / name)
    assert skipped(report) == [(name, None, reason)]
    assert added_names(batch.corpus) == ["good"]


def test_truncated_utf8_at_the_end_is_read_as_utf8(batch):
    report = batch(FIXTURES / "bad" / "truncated_utf8.txt")
    assert report.skipped == []
    row = batch.corpus.db.execute("SELECT norm_text, province, city FROM documents_with_tokens WHERE name = 'truncated_utf8'").fetchone()
    assert row["norm_text"].endswith("参加了会") and "\ufffd" not in row["norm_text"]
    assert (row["province"], row["city"]) == ("陕西省", "西安市")


def test_a_character_cut_in_two_mid_file_loses_one_character_not_the_article(batch):
    report = batch(FIXTURES / "bad" / "cut_character.txt")
    assert report.skipped == []
    assert skipped_like(report.repaired) == [
        ("cut_character.txt", None, "1 undecodable byte sequences read as U+FFFD (utf-8)")]
    row = batch.corpus.db.execute(
        "SELECT d.norm_text, d.date, d.city, s.encoding FROM documents_with_tokens d JOIN sources s ON s.doc_id = d.id "
        "WHERE d.name = 'cut_character'").fetchone()
    assert "总结去年工作，\ufffd署今年任务。" in row["norm_text"]
    assert (row["date"], row["city"], row["encoding"]) == ("2023-04-03", "西宁市", "utf-8")
    logged = batch.corpus.db.execute("SELECT message FROM log WHERE level = 'repaired'").fetchall()
    assert [r[0] for r in logged] == ["1 undecodable byte sequences read as U+FFFD (utf-8)"]


def test_a_character_cut_in_two_is_named_by_the_command(tmp_path):
    result = CliRunner().invoke(app, ["ingest", str(FIXTURES / "bad" / "cut_character.txt"),
                                      "--corpus", str(tmp_path / "c.db")])
    assert result.exit_code == 0
    assert (f"repaired {FIXTURES / 'bad' / 'cut_character.txt'}: 1 undecodable byte sequences read as U+FFFD "
            "(utf-8)") in result.stderr.splitlines()


def test_a_control_character_in_an_html_page(batch, tmp_path):
    """A BEL before a <script>: lxml refused it when the script was dropped, and the whole ingest died."""
    page = (FIXTURES / "html" / "article.html").read_text(encoding="utf-8")
    path = tmp_path / "control_char.html"
    path.write_text(page.replace("<script>var _hmt", "\x07<script>var _hmt"), encoding="utf-8")
    assert "\x07" in path.read_text(encoding="utf-8")
    report = batch(path, FIXTURES / "html" / "article.html")
    assert report.skipped == [] and report.duplicates == 1  # the same article as html/article.html
    assert added_names(batch.corpus) == ["control_char", "good"]


def test_mixed_encodings_in_one_folder(batch):
    report = batch(FIXTURES / "encodings")
    assert report.skipped == [] and report.added == 7
    encodings = dict(batch.corpus.db.execute(
        "SELECT d.name, s.encoding FROM documents_with_tokens d JOIN sources s ON s.doc_id = d.id WHERE d.seq > 5"))
    assert encodings == {"big5": "big5", "gb18030": "gb18030", "gbk_traditional": "gb18030", "utf16": "utf-16",
                         "utf8": "utf-8", "utf8_bom_crlf": "utf-8-sig", "good": "utf-8"}


def _fifty_megabytes() -> str:
    sentence = "检察机关依法能动履职，做优刑事、民事、行政、公益诉讼检察。"  # 87 bytes, no line break
    return sentence * (50 * 2**20 // len(sentence.encode("utf-8")) + 1)


def test_a_single_50_mb_line_is_skipped_as_too_long(batch, tmp_path):
    path = tmp_path / "dump.txt"
    path.write_text(_fifty_megabytes(), encoding="utf-8")
    assert path.stat().st_size > 50 * 2**20
    report = batch(path)
    ((name, line, reason),) = skipped(report)
    assert name == "dump.txt" and line is None
    assert reason.startswith("text too long for one document (17,") and f"at most {MAX_TEXT_CHARS:,}" in reason


def test_a_50_mb_line_in_jsonl_is_skipped_by_line_number(batch, tmp_path):
    path = tmp_path / "export.jsonl"
    good_row = {"title": "青岛市检察院召开会议", "text": "青岛市人民检察院召开全市检察长会议，部署全年工作。"}
    with path.open("w", encoding="utf-8") as handle:
        handle.write(json.dumps(good_row, ensure_ascii=False) + "\n")
        handle.write(json.dumps({"title": "整站", "text": _fifty_megabytes()}, ensure_ascii=False) + "\n")
        handle.write(json.dumps(good_row | {"text": "丹东市人民检察院召开会议。"}, ensure_ascii=False) + "\n")
    report = batch(path)
    assert [(n, line) for n, line, _ in skipped(report)] == [("export.jsonl", 2)]
    assert added_names(batch.corpus) == ["export.jsonl#1", "export.jsonl#3", "good"]


# --- tables ----------------------------------------------------------------------------------


def test_csv_with_a_ragged_row(batch):
    report = batch(FIXTURES / "bad" / "ragged_row.csv")
    assert skipped(report) == [("ragged_row.csv", 3, "row has 4 fields, header has 3")]
    assert added_names(batch.corpus) == ["ragged_row.csv#1", "ragged_row.csv#3", "good"]


def test_csv_with_an_unclosed_quote(batch):
    report = batch(FIXTURES / "tables" / "ragged.csv")
    ((name, line, reason),) = skipped(report)
    assert (name, line) == ("ragged.csv", 5) and reason.startswith("malformed CSV (unexpected end of data)")
    assert added_names(batch.corpus) == ["ragged.csv#1", "ragged.csv#2", "ragged.csv#3", "good"]


def test_csv_with_an_article_longer_than_csvs_field_limit(batch, tmp_path):
    """csv's default limit is 128 KiB a field: the long article and every row after it were lost."""
    path = tmp_path / "long.csv"
    long_text = "会议强调，要依法能动履职。" * 20_000  # 260,000 characters
    path.write_text(f'title,text\n长文,"{long_text}"\n短文,丹东市人民检察院召开会议。\n', encoding="utf-8")
    report = batch(path)
    assert report.skipped == []
    assert added_names(batch.corpus) == ["long.csv#1", "long.csv#2", "good"]


def test_jsonl_with_a_malformed_line(batch):
    report = batch(FIXTURES / "tables" / "export.jsonl")
    ((name, line, reason),) = skipped(report)
    assert (name, line) == ("export.jsonl", 3) and reason.startswith("malformed JSON")
    assert added_names(batch.corpus) == ["export.jsonl#1", "export.jsonl#2", "export.jsonl#4", "good"]


def test_json_object_without_text_is_skipped_saying_so(batch):
    """One object is one document (as scrapers write pages); a crawler's status object has no text."""
    report = batch(FIXTURES / "tables" / "not_records.json")
    [(name, line, reason)] = skipped(report)
    assert (name, line) == ("not_records.json", None)
    assert reason.startswith("no text field among site, crawler_version") and "--text-column" in reason


def test_json_list_with_entries_that_are_not_records(batch):
    report = batch(FIXTURES / "bad" / "mixed_records.json")
    assert skipped(report) == [
        ("mixed_records.json", None, "record 2 is a JSON str, not an object"),
        ("mixed_records.json", None, "record 3 is a JSON NoneType, not an object"),
        ("mixed_records.json", None, "record 5: empty text (column 'text')"),
    ]
    assert added_names(batch.corpus) == ["mixed_records.json#1", "mixed_records.json#4", "good"]


def test_csv_without_the_text_column(batch):
    report = batch(FIXTURES / "tables" / "missing_text_column.csv")
    ((name, line, reason),) = skipped(report)
    assert name == "missing_text_column.csv" and "no text column among id, name, value" in reason
    assert "--text-column" in reason


def test_html_with_no_body_text(batch):
    report = batch(FIXTURES / "html" / "no_body.html")
    assert skipped(report) == [("no_body.html", None, "no article text in HTML page")]


# --- paths -------------------------------------------------------------------------------


def test_unreadable_file(batch, tmp_path, monkeypatch):
    path = tmp_path / "locked.txt"
    path.write_text(GOOD.replace("湛江", "丹东"), encoding="utf-8")
    path.chmod(0)
    if os.access(path, os.R_OK):
        # root (as in CI) reads a file whatever its mode: make the read fail as it would for anyone else
        real = Path.read_bytes

        def refuse(self):
            if self == path:
                raise PermissionError(13, "Permission denied", str(self))
            return real(self)

        monkeypatch.setattr(Path, "read_bytes", refuse)
    report = batch(path)
    assert skipped(report) == [("locked.txt", None, "permission denied")]


def test_unreadable_folder(batch, tmp_path, monkeypatch):
    folder = tmp_path / "inbox"
    (folder / "locked").mkdir(parents=True)
    (folder / "locked" / "a.txt").write_text(GOOD, encoding="utf-8")
    (folder / "b.txt").write_text(GOOD.replace("湛江", "丹东"), encoding="utf-8")
    (folder / "locked").chmod(0)
    if os.access(folder / "locked", os.R_OK):
        real = os.scandir  # root lists any folder: make the listing fail as it would for anyone else

        def refuse(target="."):
            if os.fspath(target) == str(folder / "locked"):
                raise PermissionError(13, "Permission denied", os.fspath(target))
            return real(target)

        monkeypatch.setattr(os, "scandir", refuse)
    try:
        report = batch(folder)
    finally:
        (folder / "locked").chmod(0o755)
    assert skipped(report) == [("locked", None, "cannot read folder: Permission denied")]
    assert added_names(batch.corpus) == ["b", "good"]


def test_broken_and_looping_symlinks(batch, tmp_path):
    folder = tmp_path / "links"
    folder.mkdir()
    (folder / "real.txt").write_text(GOOD.replace("湛江", "丹东"), encoding="utf-8")
    os.symlink(tmp_path / "missing.txt", folder / "broken.txt")
    os.symlink(folder / "loop_b.txt", folder / "loop_a.txt")
    os.symlink(folder / "loop_a.txt", folder / "loop_b.txt")
    os.symlink(folder, folder / "again")  # a folder loop: walked once
    report = batch(folder, folder / "loop_a.txt")
    assert sorted(skipped(report)) == [("broken.txt", None, "broken symbolic link"),
                                       ("loop_a.txt", None, "symbolic link loop"),
                                       ("loop_a.txt", None, "symbolic link loop"),
                                       ("loop_b.txt", None, "symbolic link loop")]
    assert added_names(batch.corpus) == ["real", "good"]


def test_file_name_in_gbk_bytes(batch, tmp_path):
    """A name from a Windows zip: not UTF-8, so not storable as it is; kept as \\x escapes, one per byte."""
    folder = tmp_path / "zip"
    folder.mkdir()
    name = "检察新闻.txt".encode("gbk")
    with open(os.fsencode(folder) + b"/" + name, "wb") as handle:
        handle.write(GOOD.replace("湛江", "丹东").encode("utf-8"))
    report = batch(folder)
    assert report.skipped == [] and report.added == 2
    (path,) = [r[0] for r in batch.corpus.db.execute("SELECT path FROM sources WHERE path LIKE '%zip%'")]
    assert path == str(folder) + "/\\xbc\\xec\\xb2\\xec\\xd0\\xc2\\xce\\xc5.txt"
    again = batch.corpus.ingest([str(folder)])
    assert (again.added, again.updated, again.unchanged) == (0, 0, 1)  # the same key the second time


def test_file_name_in_gbk_bytes_on_stdin(tmp_path):
    folder = tmp_path / "zip"
    folder.mkdir()
    raw_path = os.fsencode(folder) + b"/" + "检察新闻.txt".encode("gbk")
    with open(raw_path, "wb") as handle:
        handle.write(GOOD.encode("utf-8"))
    result = CliRunner().invoke(app, ["ingest", "-", "--corpus", str(tmp_path / "c.db")], input=raw_path + b"\n")
    assert result.exit_code == 0, result.output
    assert "documents added" in result.stderr


def test_file_names_with_spaces_and_chinese(batch, tmp_path):
    path = tmp_path / "检察 新闻 (1).txt"
    path.write_text(GOOD.replace("湛江", "丹东"), encoding="utf-8")
    report = batch(path)
    assert report.skipped == [] and added_names(batch.corpus) == ["检察 新闻 (1)", "good"]


def test_a_folder_named_like_a_file_type(batch, tmp_path):
    folder = tmp_path / "articles.txt"
    folder.mkdir()
    (folder / "inner.md").write_text(GOOD.replace("湛江", "丹东"), encoding="utf-8")
    report = batch(folder, tmp_path / "missing.txt")
    assert skipped(report) == [("missing.txt", None, "no such file or folder")]
    assert added_names(batch.corpus) == ["inner", "good"]


def test_a_pipe_named_like_a_text_file_is_not_read(batch, tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    os.mkfifo(folder / "pipe.txt")  # reading it would wait for a writer for ever
    report = batch(folder)
    assert skipped(report) == [("pipe.txt", None, "not a regular file (a pipe, socket or device)")]


def test_the_command_names_every_skipped_file_and_line(tmp_path):
    db = tmp_path / "c.db"
    runner = CliRunner(env={"COLUMNS": "300", "NO_COLOR": "1", "TERM": "dumb"})
    assert runner.invoke(app, ["ingest", str(SEEDS), "--corpus", str(db)]).exit_code == 0
    result = runner.invoke(app, ["ingest", str(FIXTURES / "bad"), str(FIXTURES / "tables" / "export.jsonl"),
                                 "--corpus", str(db)])
    assert result.exit_code == 1 and result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.startswith("skipped ")]
    assert f"skipped {FIXTURES / 'bad' / 'ragged_row.csv'}:3: row has 4 fields, header has 3" in lines
    assert any(line.startswith(f"skipped {FIXTURES / 'tables' / 'export.jsonl'}:3: malformed JSON") for line in lines)
    assert f"skipped {FIXTURES / 'bad' / 'image.txt'}: binary file (PNG image), not text" in lines
    assert len(lines) == 9 and "Traceback" not in result.stderr


# --- options and corpus files: one line naming the problem, exit status 2 ------------------


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("options") / "c.db"
    assert CliRunner().invoke(app, ["ingest", str(SEEDS), "--corpus", str(db)]).exit_code == 0
    assert CliRunner().invoke(app, ["tokenise", "--workers", "1", "--corpus", str(db)]).exit_code == 0
    return db


def _other_schema(path: Path) -> Path:
    import sqlite3

    from policylex import Corpus

    Corpus.open(path, create=True).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    return path


def _empty_corpus(path: Path) -> Path:
    from policylex import Corpus

    Corpus.open(path, create=True).close()
    return path


def _damaged(path: Path, seeded_db: Path) -> Path:
    data = bytearray(seeded_db.read_bytes())
    data[100:4096 * 3] = b"\xff" * (4096 * 3 - 100)  # the schema page and the next ones
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    "args, corpus, message",
    [
        (["freq", "--by", "colour"], None, "--by 'colour': no such field 'colour'; choose from year, province, city, "
                                           "source, doc, or several joined by commas (province,year)"),
        (["freq", "公益诉讼", "没有这个词"], None, "no token in the corpus is 没有这个词"),
        (["kwic", "没有这个词"], None, "没有这个词 occurs in none of the documents"),
        (["kwic", "公益诉讼", "--where", "province=山东省"], None, "公益诉讼 occurs in none of the selected documents"),
        (["kwic", " "], None, "kwic needs a term, not white space"),
        (["freq", "--where", "colour=red"], None, "--where: no such field 'colour'"),
        (["keyness", "--target", "colour=red"], None, "--where: no such field 'colour'"),
        (["freq"], _empty_corpus, "has no documents: run `policylex ingest PATH...` first"),
        (["kwic", "公益诉讼"], _empty_corpus, "has no documents: run `policylex ingest PATH...` first"),
        (["collocations"], _empty_corpus, "has no documents: run `policylex ingest PATH...` first"),
        (["freq"], _other_schema, "has schema version 99; this policylex reads version 8"),
        (["info"], lambda p: p.write_text("not a corpus") and p, "is not a policylex corpus (not an SQLite file)"),
        (["info"], lambda p: p.mkdir() or p, "is a folder, not a corpus file"),
        (["check"], lambda p: p, "no corpus at"),
        (["freq", "--topp", "3"], None, "No such option: --topp"),
        (["frq"], None, "No such command 'frq'"),
    ],
)
def test_option_and_corpus_errors_are_one_line_exit_2(seeded_db, tmp_path, args, corpus, message):
    path = corpus(tmp_path / "other.db") if corpus else seeded_db
    result = CliRunner(env={"COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"}).invoke(
        app, args + ["--corpus", str(path)])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("policylex: error: ")
    assert message in result.stderr


def test_a_damaged_corpus_file_is_one_line_not_a_traceback(seeded_db, tmp_path):
    path = _damaged(tmp_path / "damaged.db", seeded_db)
    for command in (["info"], ["freq"], ["ingest", str(SEEDS)], ["check"]):
        result = CliRunner().invoke(app, command + ["--corpus", str(path)])
        assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1, (command, result.output)
        assert "cannot read corpus" in result.stderr or "cannot read the corpus" in result.stderr


@pytest.mark.parametrize("limit, message", [
    ("readonly", "attempt to write a readonly database; nothing of this batch was written"),
    ("full", "database or disk is full; nothing of this batch was written"),
])
def test_a_read_only_or_full_corpus_is_one_line_and_no_partial_write(seeded_db, tmp_path, monkeypatch, limit, message):
    """CI runs as root, which writes any file whatever its mode: SQLite is told instead (mode=ro, or a page
    limit, which fails writes with SQLITE_FULL as a full disk does)."""
    from policylex.store import Corpus

    db = tmp_path / "c.db"
    db.write_bytes(seeded_db.read_bytes())
    before = db.read_bytes()
    real_open = Corpus.open.__func__

    def limited_open(cls, path=None, *, create=False, readonly=False, upgrading=None):
        corpus = real_open(cls, path, create=create, readonly=readonly or limit == "readonly",
                            upgrading=upgrading)
        if limit == "full":
            pages = corpus.db.execute("PRAGMA page_count").fetchone()[0]
            corpus.db.execute(f"PRAGMA max_page_count = {pages}")
        return corpus

    monkeypatch.setattr(Corpus, "open", classmethod(limited_open))
    # an article long enough to need pages the file does not have free
    (tmp_path / "new.txt").write_text(GOOD + "\n" + "会议要求，持续提升法律监督质效。" * 5000, encoding="utf-8")
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "new.txt"), "--corpus", str(db)])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [f"policylex: error: cannot write to corpus {db}: {message}"]
    monkeypatch.undo()
    with Corpus.open(db) as corpus:
        corpus.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert corpus.count() == 5 and passed(check_corpus(corpus))
    assert db.read_bytes() == before
