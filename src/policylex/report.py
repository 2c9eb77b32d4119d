"""The report: the whole analysis of a corpus as one self-contained HTML file, with the CSV tables behind it.

:func:`build_report` runs the library's analyses (nothing here computes a
number of its own), writes each table as CSV and draws each chart as a PNG
embedded in ``report.html``: no script, style sheet, font or image is fetched
from anywhere, so the file opens offline and can be mailed as it is.

Sections: the corpus (documents by year and province, skipped files), the top
terms, distinctive terms per province and per year (each group's keyness
against the rest of the corpus), the lexicon's formulations with their counts,
their co-occurrence network, the trends of the most frequent formulations,
topics (NMF) with their shares by year and province, the passages documents share
(horizontal and via the centre), and
the settings and versions a result depends on (script variant and OpenCC,
tokeniser and dictionaries, lexicon fingerprint, a hash of the corpus).

The folder is written whole or not at all: everything goes to a hidden
sibling folder first, which then takes the folder's place, so an interrupted
run leaves the previous report (or none), never half of one.  A folder that
holds anything but an earlier report is never replaced.
"""

from __future__ import annotations

import base64
import html
import os
import platform
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Callable

from policylex.errors import UsageError
from policylex.files import check_output
from policylex.output import Table, cell_text, render
from policylex.store import Corpus

REPORT_FILE = "report.html"
GENERATOR = "policylex report"
SHOWN_ROWS = 25  # rows of a table shown in the page; the CSV has them all
Progress = Callable[[int, int], None]


@dataclass
class ReportOptions:
    top_terms: int = 30
    distinctive: int = 10  # terms per group
    distinctive_min_count: int = 2
    slogans: int = 25
    network_pairs: int = 40
    window: str = "paragraph"  # co-occurrence unit
    trend_slogans: int = 5
    # Occurrences cluster in documents: the report's intervals resample documents (trends --interval).
    trend_interval: str = "bootstrap"
    seed: int = 0
    topics: int = 8  # at most; one topic per ten documents, at least 2
    lexicon: object = None  # a policylex.lexicon.Lexicon; the bundled one if None


# --- the page's parts ---------------------------------------------------------------------


@dataclass
class Figure:
    png: bytes
    caption: str


@dataclass
class TablePart:
    table: Table
    csv: str  # file name in the report folder
    caption: str = ""


@dataclass
class Section:
    key: str
    title: str
    intro: str
    parts: list = field(default_factory=list)

    def note(self, text: str) -> None:
        self.parts.append(text)


class _Builder:
    """Runs the analyses into sections, writing CSVs to ``folder`` and drawing charts to PNG bytes."""

    def __init__(self, corpus: Corpus, folder: Path, scratch: Path, options: ReportOptions):
        self.corpus, self.folder, self.scratch, self.options = corpus, folder, scratch, options
        self.csv_files: list[str] = []

    @cached_property
    def terms(self):
        """The document-term matrix every section on terms reads (made once)."""
        return self.corpus.dfm()

    @cached_property
    def formulations(self):
        """The matrix of the lexicon's formulations every section on them reads (scanned and made once)."""
        return self.corpus.dfm(lexicon=self.options.lexicon or "bundled")

    def table(self, section: Section, table: Table, name: str, caption: str = "") -> Table:
        """Write the table to ``name``.csv and show it in the section."""
        table = Table(table.columns, list(table.rows), title=table.title, notes=table.notes)
        with (self.folder / f"{name}.csv").open("w", encoding="utf-8", newline="") as stream:
            render(table, "csv", stream)
        self.csv_files.append(f"{name}.csv")
        section.parts.append(TablePart(table, f"{name}.csv", caption))
        return table

    def figure(self, section: Section, draw: Callable[[Path], object], caption: str) -> None:
        """Draw with ``draw(path)`` and embed the PNG; a chart with nothing to draw becomes a note."""
        path = self.scratch / f"figure-{len(list(self.scratch.iterdir()))}.png"
        try:
            draw(path)
        except UsageError as error:
            section.note(f"No chart: {error}.")
            return
        section.parts.append(Figure(path.read_bytes(), caption))


def build_report(corpus: Corpus, out: Path | str = "report", *, options: ReportOptions | None = None,
                 progress: Progress | None = None) -> Path:
    """Analyse the corpus and write ``out/report.html`` with the CSV tables beside it; returns the HTML's path."""
    given = Path(out)
    out = Path(os.path.abspath(given))  # `.` has no name to make a sibling folder from
    options = options or ReportOptions()
    check_output(out, corpus.path, f"--out {given}")
    _remove_leftovers(out)
    _check_out(out)
    # The folder a shell sits in is filled in place, not replaced: the shell would be
    # left in the replaced folder, and see an empty one.
    in_place = out.is_dir() and os.path.samefile(out, os.getcwd())
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{_staging_prefix(out)}{os.getpid()}-",
                                        dir=out if in_place else out.parent))
    except OSError as error:
        raise UsageError(f"cannot write the report to {given}: {error.strerror or error}") from None
    try:
        with tempfile.TemporaryDirectory(prefix="policylex-figures-") as scratch:
            builder = _Builder(corpus, staging, Path(scratch), options)
            steps = (_corpus_section, _terms_section, _distinctive_section, _slogans_section, _network_section,
                     _trends_section, _topics_section, _reuse_section, _settings_section)
            sections = []
            for done, step in enumerate(steps):
                sections.append(step(builder))
                if progress:
                    progress(done + 1, len(steps))
            page = _html(corpus, sections)
            (staging / REPORT_FILE).write_text(page, encoding="utf-8")
            if in_place:
                _publish_in_place(staging, out)
            else:
                _publish(staging, out)
    except OSError as error:  # a full disk, most often: one line, and no part of a report left
        raise UsageError(f"cannot write the report to {given}: {error.strerror or error}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return given / REPORT_FILE


# --- writing the folder whole ------------------------------------------------------------------


def _staging_prefix(out: Path) -> str:
    return f".{out.name}.partial-"


def _remove_leftovers(out: Path) -> None:
    """Remove the folders a killed run left (named with its process id), beside ``out`` and inside it.

    A folder of a run still going (another report to the same place) is left alone.
    A run killed between its two renames (see :func:`_publish`) left the earlier
    report under its old name and none at ``out``: it goes back.
    """
    staging, old = _staging_prefix(out), f".{out.name}.old-"
    places = [out.parent] + ([out] if out.is_dir() else [])
    for place in places:
        try:
            found = [p for p in place.iterdir() if p.name.startswith((staging, old)) and p.is_dir()]
        except OSError:
            continue
        for folder in found:
            prefix = staging if folder.name.startswith(staging) else old
            pid = folder.name[len(prefix):].split("-")[0]
            if pid.isdigit() and _running(int(pid)):
                continue
            if prefix == old and not out.exists():
                os.replace(folder, out)
            else:
                shutil.rmtree(folder, ignore_errors=True)


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return False  # an earlier run in this process: finished or killed, not going on
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: another user's process
        return True
    return True


def _is_report(folder: Path, ignore: Path | None = None) -> bool:
    """A folder an earlier report wrote: report.html (by policylex) and CSV files, nothing else."""
    page = folder / REPORT_FILE
    if not page.is_file():
        return False
    with page.open(encoding="utf-8", errors="replace") as handle:
        if f'content="{GENERATOR}' not in handle.read(4096):
            return False
    return all(p.name == REPORT_FILE or (p.suffix == ".csv" and p.is_file()) for p in folder.iterdir() if p != ignore)


def _check_out(out: Path, ignore: Path | None = None) -> None:
    """``ignore``: this run's own staging folder, when it is inside ``out``."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: a file is there; give a folder")
    if out.is_dir() and any(p != ignore for p in out.iterdir()) and not _is_report(out, ignore):
        raise UsageError(f"--out {out}: the folder holds files that are not an earlier report; "
                         "give a new or empty folder")


def _publish(staging: Path, out: Path) -> None:
    """Put the finished folder in place of ``out``: renames, so a reader sees the old report or the new one."""
    _check_out(out)  # again: something may have appeared while the analyses ran
    staging.chmod(0o755)  # mkdtemp makes it private; a report is for sharing
    if not out.exists():
        os.replace(staging, out)
        return
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    os.replace(out, old)
    try:
        os.replace(staging, out)
    except OSError:
        os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _publish_in_place(staging: Path, out: Path) -> None:
    """Move the finished files into ``out`` (the staging folder is inside it), report.html last.

    Each file is replaced by a rename, so a reader sees each one old or new; the
    tables of an earlier report that this one lacks go.
    """
    _check_out(out, ignore=staging)
    earlier = {p.name for p in out.iterdir() if p != staging}
    written = sorted(p.name for p in staging.iterdir() if p.name != REPORT_FILE) + [REPORT_FILE]
    for name in written:
        os.replace(staging / name, out / name)
    for name in earlier - set(written):
        (out / name).unlink(missing_ok=True)


# --- the sections ---------------------------------------------------------------------------------


def _corpus_section(b: _Builder) -> Section:
    from policylex.overview import corpus_info, log_table
    from policylex.trends import documents_by

    s = Section("corpus", "语料概况 The corpus",
                "What the analyses read: every document once (exact and near-duplicates are left out of the "
                "counts below and of every analysis), with the years and regions read off the pages. Documents "
                "without a year or a region are counted in an <em>unknown</em> group, never dropped.")
    b.table(s, corpus_info(b.corpus), "corpus")
    b.table(s, documents_by(b.corpus, "year"), "documents_by_year", "Documents, tokens and characters by year")
    b.table(s, documents_by(b.corpus, "province"), "documents_by_province",
            "By province, with the GB/T 2260 code")
    b.table(s, documents_by(b.corpus, "province,year"), "documents_by_province_year", "By province and year")
    skipped = log_table(b.corpus, level="skipped")
    if skipped.rows:
        b.table(s, skipped, "skipped", "Files and rows skipped at ingest, with the reason")
    else:
        s.note("No file or row was skipped at ingest.")
    return s


def _terms_section(b: _Builder) -> Section:
    from policylex.measures import frequency
    from policylex.plots import bar_chart

    n = b.options.top_terms
    s = Section("terms", "高频词 Top terms",
                f"The {n} most frequent tokens (jieba with the domain dictionary, stopwords and punctuation "
                "removed): count, rate per 10,000 tokens and the number of documents holding each "
                "(<code>policylex freq</code>).")
    table = b.table(s, frequency(b.terms, top=n), "top_terms")
    b.figure(s, lambda path: bar_chart(table, path, kind="freq", title=f"高频词 Top {n} terms"),
             f"The {n} most frequent terms, per 10,000 tokens.")
    return s


def _distinctive_section(b: _Builder) -> Section:
    from policylex.measures import keyness_by_group
    from policylex.plots import bar_chart

    n, floor = b.options.distinctive, b.options.distinctive_min_count
    s = Section("distinctive", "特征词 Distinctive terms by province and by year",
                f"Each province (and each year) against the rest of the corpus: the {n} terms with the highest "
                f"log-likelihood G² (Dunning 1993; terms seen at least {floor} times; "
                "<code>policylex keyness --by province</code>). A positive G² and log ratio mean the term is "
                "more frequent in the group than elsewhere; with few documents in a group, read the counts "
                "(n_target, n_reference) before the statistic.")
    for by, name in (("province", "省份 province"), ("year", "年份 year")):
        try:
            table = keyness_by_group(b.terms, by, top=n, min_count=floor)
        except UsageError as error:
            s.note(f"By {by}: {error}.")
            continue
        b.table(s, table, f"distinctive_by_{by}", f"By {by}")
        groups = list(dict.fromkeys(r["group"] for r in table.records()))
        if len(groups) <= 12:
            shown = Table(table.columns, [r for r in table.rows if r[1] <= 5])
            b.figure(s, lambda path, shown=shown, name=name: bar_chart(shown, path, kind="keyness",
                                                                     title=f"特征词 Distinctive terms by {name}"),
                     f"The 5 most distinctive terms of each {by}.")
        else:
            s.note(f"{len(groups)} groups by {by}: too many panels for one chart; see the table.")
    return s


def _slogans_section(b: _Builder) -> Section:
    from policylex.plots import bar_chart
    from policylex.slogans import count_slogans

    n = b.options.slogans
    s = Section("slogans", "提法 Formulations",
                "The lexicon's formulations (提法) found in the normalised text, in any script and with or without "
                "quotation marks and enumeration commas: documents holding each, occurrences, rate per 10,000 "
                "characters and share of documents (<code>policylex slogans count</code>).")
    table = b.table(s, count_slogans(b.formulations, top=n), "slogans",
                    f"The {n} found most often")
    if not table.rows:
        s.note("No formulation of the lexicon occurs in the corpus.")
        return s
    b.table(s, count_slogans(b.formulations, by="province"), "slogans_by_province",
            "By province")
    b.figure(s, lambda path: bar_chart(table, path, kind="slogans", title="提法 Formulations"),
             "Formulations per 10,000 characters.")
    return s


def _network_section(b: _Builder) -> Section:
    from policylex.plots import network_chart
    from policylex.slogans import cooccurrence

    window, n = b.options.window, b.options.network_pairs
    s = Section("network", "提法共现 Co-occurrence of formulations",
                f"Pairs of formulations in the same {window}: how many {window}s hold both (joint), PMI, "
                f"normalised PMI, Jaccard and log-likelihood; the {n} pairs with the highest log-likelihood "
                "(<code>policylex slogans cooccur</code>). In the network, a node's size is the number of "
                f"{window}s holding the formulation, an edge's width its normalised PMI; pairs rarer than chance "
                "are not drawn.")
    table = b.table(s, cooccurrence(b.formulations, window=window, top=n), "cooccurrence")
    b.figure(s, lambda path: network_chart(table, path, measure="npmi", title="提法共现网络 Co-occurrence network"),
             f"Formulations sharing a {window}.")
    return s


def _trends_section(b: _Builder) -> Section:
    from policylex.plots import trend_chart
    from policylex.trends import trends

    n = b.options.trend_slogans
    interval = {"bootstrap": "a document bootstrap: documents resampled within each group, 1,000 times, "
                             f"seed {b.options.seed}; a group of one document keeps the exact Poisson interval",
                "quasipoisson": "quasi-Poisson: the exact Poisson interval widened by the over-dispersion the "
                                "documents show",
                "poisson": "exact Poisson"}[b.options.trend_interval]
    s = Section("trends", "提法趋势 Trends of the top formulations",
                f"The {n} formulations found most often, per 10,000 characters by year and by province, each with "
                f"its 95% interval ({interval} for the rate, Wilson for the share of documents), so that a "
                "group of two articles shows as the wide interval it is, and a count carried by one article "
                "that repeats a formulation does not pass for a trend "
                f"(<code>policylex trends --slogans --interval {b.options.trend_interval}</code>). "
                "The panel by province and year, with administrative codes, is ready for Stata or R.")
    options = dict(interval=b.options.trend_interval, seed=b.options.seed)
    try:
        by_year = trends(b.formulations, top=n, by="year", **options)
    except UsageError as error:
        s.note(f"No trends: {error}.")
        return s
    terms = list(dict.fromkeys(r["term"] for r in by_year.records()))
    b.table(s, by_year, "trends_by_year", "By year")
    b.figure(s, lambda path: trend_chart(by_year, path, title="提法趋势 Formulations by year"),
             "Per 10,000 characters by year; the band is the 95% interval; documents of unknown year stand apart.")
    by_province = trends(b.formulations, terms, by="province", **options)
    b.table(s, by_province, "trends_by_province", "By province")
    b.figure(s, lambda path: trend_chart(by_province, path, title="提法 Formulations by province"),
             "Per 10,000 characters by province, with 95% intervals; n = documents.")
    panel = trends(b.formulations, terms, by="province,year", **options)
    b.table(s, panel, "trends_by_province_year", "By province and year: the panel")
    b.figure(s, lambda path: trend_chart(panel, path, title="提法 Formulations by province and year"),
             "Per 10,000 characters; grey cells have no documents.")
    return s


def _topics_section(b: _Builder) -> Section:
    from policylex.plots import topic_chart
    from policylex.topics import MAX_DF, topic_model

    documents = b.corpus.count(include_duplicates=False)
    k = min(b.options.topics, max(2, documents // 10))
    s = Section("topics", "主题 Topics",
                f"A topic model of the documents' terms: NMF on TF-IDF weights (scikit-learn), {k} topics (at most "
                f"{b.options.topics}, one per ten documents, at least 2), seed {b.options.seed}, numbered by "
                f"prevalence (<code>policylex topics --k {k}</code>). Terms in more than {MAX_DF:.0%} of the "
                "documents are the corpus's own furniture (mastheads, the beat's own words) and are left out, "
                "with the stopwords and terms of a single document; the note under the first table names them. "
                "A topic's share in a year or province is the mean of its documents' shares, with a 95% "
                "interval over the documents (Student's t; none for a group of one document).")
    try:
        model = topic_model(b.terms, k, seed=b.options.seed)
    except UsageError as error:
        s.note(f"No topics: {error}.")
        return s
    labels = model.labels()
    terms = b.table(s, model.terms(10), "topic_terms", "The 10 terms of highest weight in each topic")
    b.figure(s, lambda path: topic_chart(terms, path, labels=labels, title="主题 Topics"),
             "Each topic's top terms; the weight is the term's part of the topic.")
    by_year = b.table(s, model.group_shares("year"), "topics_by_year", "Mean topic share by year")
    b.figure(s, lambda path: topic_chart(by_year, path, labels=labels, title="主题比例 Topic shares by year"),
             "Mean topic share by year; the band is the 95% interval; documents of unknown year stand apart.")
    by_province = b.table(s, model.group_shares("province"), "topics_by_province", "Mean topic share by province")
    b.figure(s, lambda path: topic_chart(by_province, path, labels=labels,
                                         title="主题比例 Topic shares by province"),
             "Mean topic share by province; n = documents.")
    return s


def _reuse_section(b: _Builder) -> Section:
    from policylex.plots import borrowing_chart
    from policylex.reuse import find_reuse

    s = Section("reuse", "文本借用 Shared passages",
                "Passages of at least 50 characters two documents share (one edit allowed per 50 characters), "
                "found through rare 10-character seeds; seeds in many documents are templates and start "
                "nothing, and reposts are left out. A passage a central document (province 全国) also holds is "
                "<em>vertical</em> (via_centre: both took it from the centre), any other <em>horizontal</em> "
                "(one took it from the other); the earlier document is the one taken from "
                "(<code>policylex reuse</code>, <code>policylex reuse --by province</code>).")
    found = find_reuse(b.corpus)
    pairs = b.table(s, found.pairs(), "reuse_pairs", "Pairs of documents, one row per pair and kind")
    if not pairs.rows:
        s.note("No two documents share a passage of 50 characters or more.")
        return s
    matrix = b.table(s, found.matrix("province"), "reuse_by_province",
                     "By province: from the earlier document's province to the later's")
    if matrix.rows:
        b.figure(s, lambda path: borrowing_chart(matrix, path), "Characters shared, from the earlier document's "
                 "province (rows) to the later's (columns); the number in a cell is its pairs.")
    return s


def _settings_section(b: _Builder) -> Section:
    s = Section("settings", "设置与版本 Settings and versions",
                "What a result depends on, to reproduce it: the corpus (its hash covers every document's text, "
                "dates, regions and duplicate flags), how its texts were normalised and tokenised, the lexicon, "
                "the options of this report and the versions of the software.")
    b.table(s, settings_table(b.corpus, b.options), "settings")
    return s


def settings_table(corpus: Corpus, options: ReportOptions) -> Table:
    """The settings and versions behind a report, one ``setting value`` row each."""
    from policylex import __version__
    from policylex.lexicon import load_lexicon
    from policylex.overview import corpus_hash
    from policylex.tokenise import describe_settings

    lexicon = options.lexicon or load_lexicon()
    variant = corpus.get_meta("normalise.variant", "") or ""
    rows = [
        ("generated", datetime.now(timezone.utc).isoformat(timespec="seconds")),
        ("policylex", __version__),
        ("python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("corpus", str(corpus.path)),
        ("corpus hash (sha256)", corpus_hash(corpus)),
        ("documents", corpus.count()),
        ("documents counted (duplicates left out)", corpus.count(include_duplicates=False)),
        ("corpus schema version", corpus.get_meta("schema_version", "")),
        ("script variant (OpenCC)", variant),
        ("OpenCC", corpus.get_meta("normalise.opencc", "")),
        ("tokeniser", describe_settings(corpus.get_meta("tokenise.settings"))),
        ("tokeniser settings", corpus.get_meta("tokenise.settings", "")),
        ("lexicon", f"{lexicon.origin}, {len(lexicon)} formulations"),
        ("lexicon fingerprint", lexicon.fingerprint(variant)),
        ("report options", ", ".join(f"{k}={v}" for k, v in vars(options).items() if k != "lexicon")),
    ]
    rows.extend((f"version of {name}", version) for name, version in dependency_versions())
    return Table(("setting", "value"), rows, title="Settings and versions")


def dependency_versions() -> list[tuple[str, str]]:
    """The installed versions of policylex's declared dependencies, and of numpy and scipy under them."""
    import re
    from importlib import metadata

    try:
        required = metadata.requires("policylex") or []
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a source tree without installing
        required = []
    names = [re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0] for r in required if "extra ==" not in r]
    out = []
    for name in dict.fromkeys(names + ["numpy", "scipy"]):
        try:
            out.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            out.append((name, "not installed"))
    return out


# --- HTML -----------------------------------------------------------------------------------------

STYLE = """
body { margin: 0; color: #222; background: #fff; line-height: 1.5;
  font-family: "policylex Noto Sans SC", system-ui, -apple-system, "Segoe UI", sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 1.5rem 2rem 4rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; margin-top: 2.5rem; border-bottom: 1px solid #ddd; padding-bottom: .3rem; }
h3 { font-size: 1rem; margin: 1.4rem 0 .4rem; }
p.meta, .note, figcaption, .notes { color: #555; font-size: .875rem; }
nav ol { columns: 2; padding-left: 1.4rem; }
.scroll { overflow-x: auto; max-width: 100%; border: 1px solid #eee; }
table { border-collapse: collapse; font-size: .82rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #eee; text-align: left; white-space: nowrap; }
th { background: #f5f5f5; position: sticky; top: 0; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
table.kv td { white-space: normal; word-break: break-all; }
figure { margin: 1rem 0 1.5rem; }
figure img { display: block; max-width: 100%; height: auto; }
code { background: #f3f3f3; padding: 0 .2rem; }
"""


def _e(value) -> str:
    return html.escape(cell_text(value) if not isinstance(value, str) else value, quote=True)


def _table_html(part: TablePart) -> str:
    table = part.table
    rows = list(table.rows)
    shown = rows[:SHOWN_ROWS]
    kv = tuple(table.columns) in (("field", "value"), ("setting", "value"))
    head = "".join(f"<th>{_e(c)}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f'<td class="n">{_e(v)}</td>' if isinstance(v, (int, float)) and not isinstance(v, bool)
                         else f"<td>{_e(v)}</td>" for v in row) + "</tr>"
        for row in shown)
    caption = f"<h3>{_e(part.caption)}</h3>" if part.caption else ""
    more = (f"the first {len(shown)} of {len(rows)} rows; " if len(rows) > len(shown) else f"{len(rows)} rows; ")
    notes = "".join(f"<br>{_e(n)}" for n in table.notes)
    return (f'{caption}<div class="scroll"><table{" class=kv" if kv else ""}><thead><tr>{head}</tr></thead>'
            f'<tbody>{body}</tbody></table></div>'
            f'<p class="notes">{more}all in <a href="{_e(part.csv)}">{_e(part.csv)}</a>{notes}</p>')


def _part_html(part) -> str:
    if isinstance(part, TablePart):
        return _table_html(part)
    if isinstance(part, Figure):
        data = base64.b64encode(part.png).decode("ascii")
        return (f'<figure><img alt="{_e(part.caption)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{_e(part.caption)}</figcaption></figure>")
    return f'<p class="note">{_e(part)}</p>'


def _html(corpus: Corpus, sections: list[Section]) -> str:
    from policylex import __version__

    title = f"policylex report: {corpus.path.name}"
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    nav = "".join(f'<li><a href="#{s.key}">{_e(s.title)}</a></li>' for s in sections)
    body = "".join(
        f'<section id="{s.key}"><h2>{_e(s.title)}</h2><p>{s.intro}</p>' + "".join(_part_html(p) for p in s.parts)
        + "</section>"
        for s in sections)
    page = (
        f"<h1>{_e(title)}</h1>\n"
        f'<p class="meta">{_e(str(corpus.path))} · generated {generated} by policylex {_e(__version__)} · '
        "the CSV files beside this page hold every table in full</p>\n"
        f"<nav><ol>{nav}</ol></nav>\n{body}\n"
    )
    return (
        '<!doctype html>\n<html lang="zh-Hans">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="{GENERATOR} {_e(__version__)}">\n'
        f"<title>{_e(title)}</title>\n<style>{_font_face(page + title)}{STYLE}</style>\n</head>\n<body>\n<main>\n"
        f"{page}</main>\n</body>\n</html>\n"
    )


def _font_face(text: str) -> str:
    """The page's own characters of Noto Sans SC, embedded: Chinese shows on a machine with no CJK font."""
    from policylex.plots import cjk_font_subset

    data = base64.b64encode(cjk_font_subset(text)).decode("ascii")
    # Only for CJK characters (unicode-range): Latin text keeps the reader's own font.
    return ('@font-face { font-family: "policylex Noto Sans SC"; '
            "unicode-range: U+2E80-2FFF, U+3000-303F, U+3400-4DBF, U+4E00-9FFF, U+F900-FAFF, U+FF00-FFEF; "
            f'src: url(data:font/otf;base64,{data}) format("opentype"); }}\n')
