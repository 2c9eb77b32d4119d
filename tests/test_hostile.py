"""Issue 13, a hostile user's second pass: output paths onto the corpus, option files that never end,
full disks, a lexicon that backtracks, input that crashed a whole batch, and messages that said the wrong thing.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import SEEDS
from policylex import Corpus
from policylex.check import check_corpus, passed
from policylex.cli import app

ENV = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}


def run(*args: str):
    return CliRunner(env=ENV).invoke(app, [str(a) for a in args])


def one_line_error(result, message: str, *, data: bool = False) -> None:
    """``data``: the command printed its table before the error (a plot is drawn after)."""
    assert result.exit_code == 2, result.output
    assert bool(result.stdout) == data
    # A warning about the data (documents of unknown year) may come before: the error is one line.
    errors = [line for line in result.stderr.splitlines() if not line.startswith("policylex: warning: ")]
    assert len(errors) == 1 and errors[0].startswith("policylex: error: "), result.stderr
    assert message in result.stderr, result.stderr


@pytest.fixture(scope="module")
def _seeded(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("hostile") / "c.db"
    assert run("ingest", SEEDS, "--corpus", db).exit_code == 0
    assert run("tokenise", "--workers", "1", "--corpus", db).exit_code == 0
    assert run("freq", "--corpus", db).exit_code == 0  # writes the matrix cache beside it
    with Corpus.open(db) as corpus:
        corpus.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db


@pytest.fixture
def db(_seeded, tmp_path) -> Path:
    """A copy of the seeded corpus (and its matrix cache) in the test's own folder."""
    for path in _seeded.parent.iterdir():
        if path.name.startswith(_seeded.name):
            shutil.copy(path, tmp_path / path.name)
    return tmp_path / _seeded.name


def sound(db: Path) -> bool:
    with Corpus.open(db, readonly=True) as corpus:
        return corpus.count() == 5 and passed(check_corpus(corpus))


# --- 1. no output path may be the corpus or one of its files -------------------------------------------


def _aliases(db: Path) -> dict[str, Path]:
    """Names that reach the corpus file, made in the corpus's folder."""
    folder = db.parent
    (folder / "link.db").symlink_to(db)
    os.link(db, folder / "hard.db")
    (folder / "sub").mkdir()
    return {"itself": db, "symlink": folder / "link.db", "hard link": folder / "hard.db",
            "dot-dot": folder / "sub" / ".." / db.name, "missing-dot-dot": folder / "nowhere" / ".." / db.name}


@pytest.mark.parametrize("alias", ["itself", "symlink", "hard link", "dot-dot", "missing-dot-dot"])
@pytest.mark.parametrize("command", [["export", "-o"], ["freq", "--plot"], ["slogans", "cooccur", "--heatmap"]])
def test_no_output_path_may_reach_the_corpus_file(db, alias, command):
    before = db.read_bytes()
    result = run(*command, _aliases(db)[alias], "--corpus", db)
    one_line_error(result, "that is the corpus file; write somewhere else")
    assert db.read_bytes() == before and sound(db)


@pytest.mark.parametrize("suffix", ["-wal", "-shm", "-journal", ".dtm.npz", ".slogans.npz"])
@pytest.mark.parametrize("command", [["export", "-o"], ["keyness", "--by", "year", "--plot"], ["report", "--out"]])
def test_no_output_path_may_be_a_file_of_the_corpus(db, suffix, command):
    result = run(*command, db.with_name(db.name + suffix), "--corpus", db)
    one_line_error(result, f"that is a file of the corpus ({db.name}{suffix}); write somewhere else")
    assert sound(db)


def test_report_out_may_not_be_the_corpus_nor_a_folder_holding_it(db, monkeypatch):
    one_line_error(run("report", "--out", db, "--corpus", db), "that is the corpus file")
    monkeypatch.chdir(db.parent)
    one_line_error(run("report", "--out", ".", "--corpus", db.name), "that folder holds the corpus file")
    assert sound(db)


def test_export_to_a_link_to_the_corpus_is_refused_before_any_work(db, monkeypatch):
    """The check comes first: export is never started, so no partial file appears beside the corpus either."""
    monkeypatch.chdir(db.parent)
    before = sorted(p.name for p in db.parent.iterdir())
    one_line_error(run("export", "-o", f"./{db.name}", "--corpus", db.name), "that is the corpus file")
    assert sorted(p.name for p in db.parent.iterdir()) == before


# --- 9. a full disk under report and --plot: one line, exit 2, no partial file ------------------------------


@pytest.fixture
def full_disk(tmp_path):
    """A real small filesystem (tmpfs, 48 KB) when this runs as root, as CI does; else None."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48k", "tmpfs", str(mount)],
                                           capture_output=True).returncode != 0:
        yield None
        return
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture
def no_charts(monkeypatch):
    import policylex.report as report_module

    monkeypatch.setattr(report_module._Builder, "figure", lambda self, section, draw, caption: None)


def test_a_full_disk_under_plot_is_one_line_and_leaves_no_file(db, full_disk, tmp_path, monkeypatch):
    folder = full_disk
    if folder is None:  # simulated: the write starts, then the disk is full
        import matplotlib.figure

        folder = tmp_path / "simulated"
        folder.mkdir()

        def savefig(self, fname, **kwargs):
            Path(fname).write_bytes(b"\x89PNG half")
            _disk_full()

        monkeypatch.setattr(matplotlib.figure.Figure, "savefig", savefig)
    result = run("freq", "--corpus", db, "--plot", folder / "chart.png")
    one_line_error(result, f"cannot write plot {folder / 'chart.png'}: No space left on device", data=True)
    assert list(folder.iterdir()) == []


def test_a_full_disk_under_report_is_one_line_and_leaves_nothing(db, full_disk, tmp_path, monkeypatch):
    folder = full_disk
    if folder is None:
        import policylex.report as report_module

        folder = tmp_path / "simulated"
        folder.mkdir()
        monkeypatch.setattr(report_module, "render", _disk_full)
    result = run("report", "--corpus", db, "--out", folder / "rep")
    one_line_error(result, f"cannot write the report to {folder / 'rep'}: No space left on device")
    assert list(folder.iterdir()) == []


# --- 11. report: what a killed run left is cleared; `--out .` works ---------------------------------------


def test_a_killed_report_leaves_a_partial_folder_the_next_run_removes(db, tmp_path):
    out = tmp_path / "rep"
    proc = subprocess.Popen([sys.executable, "-m", "policylex", "report", "--corpus", str(db), "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        partial = None
        while partial is None and proc.poll() is None:  # kill it while it writes its staging folder
            partial = next((p for p in tmp_path.iterdir() if p.name.startswith(".rep.partial-")), None)
        proc.kill()
    finally:
        proc.wait(timeout=60)
    assert partial is not None and partial.exists(), "the report finished before it could be killed"
    assert not out.exists()
    import policylex.report as report_module

    with Corpus.open(db) as corpus, pytest.MonkeyPatch.context() as patch:
        patch.setattr(report_module._Builder, "figure", lambda self, section, draw, caption: None)
        report_module.build_report(corpus, out)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert (out / "report.html").exists()


def test_a_partial_folder_of_a_report_still_running_is_left_alone(db, tmp_path, no_charts):
    import policylex.report as report_module

    running = tmp_path / f".rep.partial-{os.getppid()}-abcd"  # the parent of this process is alive
    running.mkdir()
    with Corpus.open(db) as corpus:
        report_module.build_report(corpus, tmp_path / "rep")
    assert running.exists()


def test_report_out_dot_in_an_empty_folder(db, tmp_path, monkeypatch, no_charts):
    here = tmp_path / "empty"
    here.mkdir()
    monkeypatch.chdir(here)
    result = run("report", "--corpus", db, "--out", ".")
    assert result.exit_code == 0, result.output
    assert (here / "report.html").exists() and (here / "top_terms.csv").exists()
    assert [p.name for p in here.iterdir() if p.name.startswith(".")] == []
    (here / "old_table.csv").write_text("from an earlier report\n", encoding="utf-8")
    assert run("report", "--corpus", db, "--out", ".", "--top", "5").exit_code == 0  # an earlier report: replaced
    assert not (here / "old_table.csv").exists() and (here / "report.html").exists()
    assert os.path.samefile(os.getcwd(), here)


# --- 12. Ctrl-C says what that command keeps ---------------------------------------------------------------


@pytest.mark.parametrize("args, where, kept", [
    (["freq"], "policylex.measures.frequency", "nothing was written"),
    (["export", "-o", "out.jsonl"], "policylex.overview.export_table", "nothing was written"),
    (["slogans", "count"], "policylex.slogans.count_slogans",
     "the corpus keeps the formulation matches stored before Ctrl-C; the next run goes on from them"),
    (["report", "--out", "rep"], "policylex.report.build_report",
     "the corpus keeps what was ingested and tokenised before Ctrl-C; no report was written, an earlier one is as it was"),
])
def test_ctrl_c_says_what_the_command_keeps(db, monkeypatch, args, where, kept):
    import importlib

    module, name = where.rsplit(".", 1)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(importlib.import_module(module), name, interrupted)
    monkeypatch.chdir(db.parent)
    result = run(*args, "--corpus", db)
    assert result.exit_code == 130
    assert result.stderr.splitlines() == [f"policylex: error: interrupted; {kept}"]
    assert "normalise" not in result.stderr


# --- 13, 14. a folder run names every file it passes over; re-ingest counts sources as sources ---------


def summary_value(stderr: str, label: str) -> int:
    """A number from a command's summary table on stderr."""
    import re

    return int(re.search(rf"{re.escape(label)}\W*(\d+)", stderr).group(1))


def test_a_folder_run_names_the_files_it_passes_over_and_counts_sources(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(10):
        (folder / f"a{i}.txt").write_text(f"沈阳市检察院召开第{i}次会议。会议强调，要做优四大检察。", encoding="utf-8")
    shutil.copy(folder / "a0.txt", folder / "copy_of_a0.txt")  # 11 files, 10 documents
    (folder / "chart.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (folder / ".DS_Store").write_bytes(b"\x00\x00")
    db = tmp_path / "c.db"
    first = run("ingest", folder, "--corpus", db)
    assert first.exit_code == 0, first.output  # said and logged, not a failure: nothing readable was lost
    assert f"passed over {folder / 'chart.png'}: not a supported type (.png)" in first.stderr.splitlines()
    assert f"passed over {folder / '.DS_Store'}: hidden file" in first.stderr.splitlines()
    assert summary_value(first.stderr, "files seen") == 13
    assert summary_value(first.stderr, "passed over (other types, hidden files)") == 2
    logged = run("log", "--skipped", "--format", "csv", "--corpus", db).stdout
    assert "chart.png" in logged and "not a supported type (.png)" in logged
    (folder / "chart.png").unlink()
    (folder / ".DS_Store").unlink()
    again = run("ingest", folder, "--corpus", db)
    assert again.exit_code == 0, again.output
    assert summary_value(again.stderr, "files and rows unchanged") == 11
    assert "documents unchanged" not in again.stderr
    with Corpus.open(db, readonly=True) as corpus:
        assert corpus.count() == 10


def test_a_folder_of_nothing_readable_is_a_usage_error_naming_what_it_passed_over(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "chart.png").write_bytes(b"\x89PNG")
    one_line_error(run("ingest", tmp_path / "in", "--corpus", tmp_path / "c.db"),
                   "no input files (supported: .csv, .htm, .html, .json, .jsonl, .md, .shtml, .tsv, .txt, .xhtml); "
                   "1 files of other types passed over")


# --- 5, 6, 16. input that sank a whole batch, or was misnamed ---------------------------------------------

ARTICLE = "沈阳市检察院召开会议\n发布时间：2021-02-25\n会议强调，要做优四大检察，落实少捕慎诉慎押刑事司法政策。"


@pytest.fixture
def folder_with(tmp_path, corpus):
    """ingest(name=bytes, ...): those files and two good articles, as one folder; returns the report."""
    def ingest(**files: bytes):
        folder = tmp_path / "in"
        folder.mkdir()
        (folder / "good1.txt").write_text(ARTICLE, encoding="utf-8")
        (folder / "good2.txt").write_text(ARTICLE.replace("沈阳", "大连"), encoding="utf-8")
        for name, data in files.items():
            (folder / name.replace("_", ".")).write_bytes(data)
        report = corpus.ingest([str(folder)])
        names = {r[0] for r in corpus.db.execute("SELECT name FROM documents")}
        assert {"good1", "good2"} <= names, "the good files did not go in"
        assert passed(check_corpus(corpus))
        return report, corpus

    return ingest


def test_a_lone_surrogate_in_json_is_read_as_fffd_and_the_row_reported_repaired(folder_with):
    surrogate = ARTICLE.replace("沈阳", "长春") + "\\udc00"
    report, corpus = folder_with(
        a_json=f'[{{"text": "{surrogate}", "title": "标题\\ud800"}}]'.replace("\n", "\\n").encode(),
        b_jsonl=(f'{{"text": "{surrogate.replace(chr(10), "")}"}}\n').encode())
    assert report.skipped == []
    assert [(Path(r.path).name, r.line, r.reason) for r in report.repaired] == [
        ("a.json", None, "record 1: 2 lone UTF-16 surrogates (\\ud800-\\udfff) read as U+FFFD"),
        ("b.jsonl", 1, "1 lone UTF-16 surrogates (\\ud800-\\udfff) read as U+FFFD")]
    row = corpus.db.execute("SELECT title, raw_text, norm_text FROM documents WHERE name = 'a.json#1'").fetchone()
    assert row["title"] == "标题\ufffd" and row["raw_text"].endswith("\ufffd") and row["norm_text"].endswith("\ufffd")
    logged = corpus.db.execute("SELECT count(*) FROM log WHERE level = 'repaired'").fetchone()[0]
    assert logged == 2


def test_deeply_nested_json_is_skipped_with_a_reason(folder_with):
    line = ('{"text": "%s"}' % ARTICLE.replace("沈阳", "长春").replace("\n", "")).encode()
    report, corpus = folder_with(deep_json=b"[" * 100_000, deep_jsonl=line + b"\n" + b"[" * 100_000 + b"\n")
    assert sorted((Path(s.path).name, s.line, s.reason) for s in report.skipped) == [
        ("deep.json", None, "JSON nested too deeply to be a list of records"),
        ("deep.jsonl", 2, "JSON nested too deeply to be a list of records")]
    assert corpus.db.execute("SELECT count(*) FROM documents WHERE name = 'deep.jsonl#1'").fetchone()[0] == 1


def test_utf16_with_a_lone_surrogate_is_undecodable_utf16_not_binary(folder_with):
    data = "\ufeff".encode("utf-16-le") + ARTICLE.encode("utf-16-le") + b"\x00\xd8" + "。".encode("utf-16-le")
    report, _ = folder_with(lone_txt=data)
    assert [(Path(s.path).name, s.reason) for s in report.skipped] == [
        ("lone.txt", f"undecodable UTF-16 (illegal UTF-16 surrogate at byte {len(data) - 4})")]


def test_nul_is_dropped_from_normalised_text_and_title_and_kept_in_the_raw_text(folder_with):
    body = ARTICLE.split("\n", 1)[1] + "会议要求，持续提升法律监督质效。" * 10  # NUL under 2% of the bytes: text
    report, corpus = folder_with(nul_txt=("沈阳市\x00检察院召开会议\n" + body + "\x00").encode())
    row = corpus.db.execute("SELECT title, raw_text, norm_text FROM documents WHERE name = 'nul'").fetchone()
    assert "\x00" in row["raw_text"]
    assert "\x00" not in row["norm_text"] and "\x00" not in (row["title"] or "")
    assert row["title"] == "沈阳市检察院召开会议"


def test_a_folder_holding_the_corpus_does_not_report_the_corpus_files(tmp_path):
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    db = tmp_path / "c.db"
    assert run("ingest", tmp_path, "--corpus", db).exit_code == 0
    assert run("tokenise", "--workers", "1", "--corpus", db).exit_code == 0
    assert run("freq", "--corpus", db).exit_code == 0  # the matrix cache beside it too
    assert (tmp_path / "c.db.dtm.npz").exists()
    again = run("ingest", tmp_path, "--corpus", db)
    assert again.exit_code == 0 and summary_value(again.stderr, "skipped") == 0, again.stderr


# --- 8, 10. option files: regular files of bounded size; a userdict's frequency in bounds -----------------


OPTION_FILES = [(["slogans", "list", "--lexicon"], "--lexicon"), (["ingest", str(SEEDS), "--meta"], "--meta"),
                (["tokenise", "--userdict"], "--userdict")]


@pytest.mark.parametrize("args, option", OPTION_FILES)
def test_an_option_file_that_is_a_device_or_a_pipe_is_refused(db, tmp_path, args, option):
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)  # no writer: reading it would wait forever
    for path in ("/dev/zero", fifo):
        result = run(*args, path, "--corpus", db) if args[0] != "slogans" else run(*args, path)
        one_line_error(result, f"{option} {path}: not a regular file (a device, pipe or socket)")
    result = run(*args, tmp_path, "--corpus", db) if args[0] != "slogans" else run(*args, tmp_path)
    one_line_error(result, f"{option} {tmp_path}: is a folder")


@pytest.mark.parametrize("args, option", OPTION_FILES)
def test_an_option_file_past_the_size_limit_is_refused(db, tmp_path, args, option):
    from policylex.files import MAX_OPTION_FILE_BYTES

    huge = tmp_path / "huge.csv"
    with huge.open("wb") as handle:
        handle.truncate(MAX_OPTION_FILE_BYTES + 1)  # sparse: nothing written to the disk
    result = run(*args, huge, "--corpus", db) if args[0] != "slogans" else run(*args, huge)
    one_line_error(result, f"{option} {huge}: larger than 64 MB")


def test_a_userdict_frequency_too_large_is_one_line_with_its_line_number(db, tmp_path):
    userdict = tmp_path / "words.txt"
    userdict.write_text("公益诉讼 5000\n检察建议 99999999999999999999999 n\n", encoding="utf-8")
    result = run("tokenise", "--workers", "1", "--userdict", userdict, "--corpus", db)
    one_line_error(result, f"--userdict {userdict}, line 2: frequency 99999999999999999999999 is larger than "
                           "1,000,000,000,000")
    assert sound(db)


# --- 7. a lexicon that made the matcher backtrack -------------------------------------------------------------


def _enumeration(n: int, separator: str = "、") -> str:
    return separator.join(["和"] * n)


@pytest.fixture
def hang_guard():
    """Fails a test that runs past 10 s instead of letting it hang CI (the old matcher took minutes here)."""
    import signal

    def timeout(signum, frame):
        raise TimeoutError("the matcher is backtracking")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("separator", ["、", " ", '"', "'", "和", "” “", " 、 ", "以及"])
def test_an_enumeration_of_60_identical_items_against_59_does_not_backtrack(hang_guard, separator):
    from policylex.lexicon import Entry, Lexicon

    matcher = Lexicon([Entry(_enumeration(60))], "hostile").matcher("t2s")
    if separator != "和":  # with 和 between them, 59 items are 60 (和 is a separator too)
        assert matcher.find(_enumeration(59, separator)) == []
    found = matcher.find(_enumeration(60, separator))
    assert [(m.start, m.stop) for m in found] == [(0, len(_enumeration(60, separator)))]


def test_the_matchers_work_grows_polynomially_with_the_enumeration(monkeypatch):
    """Each way through a gap is followed once, as one position of a set: doubling n multiplies the
    work by about 8 (n places, n gaps each, at most a span of positions per gap), not by 2^n.
    For a given lexicon that is linear in the text."""
    import policylex.lexicon as lexicon_module
    from policylex.lexicon import Entry, Lexicon

    work = {}
    real = lexicon_module._gap_ends

    def counted(text, starts):
        ends = real(text, starts)
        work[len(text)] = work.get(len(text), 0) + len(starts) + len(ends)
        return ends

    monkeypatch.setattr(lexicon_module, "_gap_ends", counted)
    for n in (30, 60):
        Lexicon([Entry(_enumeration(n))], f"hostile {n}").matcher("t2s").find(_enumeration(n - 1, " "))
    small, large = work[len(_enumeration(29, " "))], work[len(_enumeration(59, " "))]
    assert large <= 10 * small, (small, large)


@pytest.mark.parametrize("text, found", [
    ("改革和谐", "改革和谐"), ("改革、和谐", "改革、和谐"), ("改革和和谐", "改革和和谐"), ("改革 “和谐”", "改革 “和谐"),
    ("改革与", None),
])
def test_an_item_that_begins_like_a_gap_is_still_found(text, found):
    from policylex.lexicon import Entry, Lexicon

    matches = Lexicon([Entry("改革、和谐")], "gap-like").matcher("t2s").find(text)
    assert [m.matched for m in matches] == ([found] if found else [])


# --- 15. a damaged corpus is not written to; an SQLite file of another program is not made a corpus --------


def _damage_a_page_of_documents(db: Path) -> None:
    import sqlite3

    con = sqlite3.connect(db)
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'documents'").fetchone()[0]
    con.close()
    with db.open("r+b") as handle:  # the table's root page: its cells point nowhere now
        handle.seek((root - 1) * page_size + 8)
        handle.write(b"\xee" * (page_size - 8))


def test_a_corpus_with_damaged_pages_is_not_written_to(db, tmp_path):
    _damage_a_page_of_documents(db)
    (tmp_path / "new.txt").write_text(ARTICLE, encoding="utf-8")
    before = db.read_bytes()
    for args in (["ingest", tmp_path / "new.txt"], ["tokenise", "--workers", "1", "--force"]):
        result = run(*args, "--corpus", db)
        one_line_error(result, f"corpus {db} is damaged (")
        assert "`policylex check` tells what is wrong" in result.stderr
    # With nothing to do, tokenise writes nothing, so it answers without reading every page.
    assert run("tokenise", "--workers", "1", "--corpus", db).exit_code == 0
    assert db.read_bytes() == before


def _only_a_view(path: Path) -> None:
    import sqlite3

    con = sqlite3.connect(path)
    con.execute("CREATE VIEW v AS SELECT 1 AS one")
    con.close()


def _a_version_and_no_tables(path: Path) -> None:
    import sqlite3

    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 7")
    con.close()


def _a_dropped_table(path: Path) -> None:
    import sqlite3

    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (a)")
    con.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 50)
    con.commit()
    con.execute("DROP TABLE t")
    con.close()


@pytest.mark.parametrize("make", [_only_a_view, _a_version_and_no_tables, _a_dropped_table])
def test_an_sqlite_file_of_another_program_does_not_become_a_corpus(tmp_path, make):
    path = tmp_path / "other.db"
    make(path)
    before = path.read_bytes()
    (tmp_path / "new.txt").write_text(ARTICLE, encoding="utf-8")
    one_line_error(run("ingest", tmp_path / "new.txt", "--corpus", path),
                   f"{path} is an SQLite file but not a policylex corpus")
    assert path.read_bytes() == before


def test_an_empty_sqlite_file_becomes_a_corpus(tmp_path):
    import sqlite3

    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    path.touch()
    (tmp_path / "new.txt").write_text(ARTICLE, encoding="utf-8")
    assert run("ingest", tmp_path / "new.txt", "--corpus", path).exit_code == 0


def test_normalise_refuses_a_damaged_corpus_too(db):
    _damage_a_page_of_documents(db)
    one_line_error(run("normalise", "--variant", "none", "--corpus", db), f"corpus {db} is damaged (")


def test_a_report_killed_between_its_renames_gets_the_earlier_one_back(db, tmp_path, no_charts):
    import policylex.report as report_module

    out = tmp_path / "rep"
    with Corpus.open(db) as corpus:
        report_module.build_report(corpus, out)
    earlier = (out / "report.html").read_bytes()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    os.replace(out, tmp_path / f".rep.old-{int(dead.stdout)}")  # as _publish leaves it, killed after its first rename
    report_module._remove_leftovers(out)
    assert (out / "report.html").read_bytes() == earlier
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".rep")] == []
