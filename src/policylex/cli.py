"""The ``policylex`` command: parses options, calls the library, renders the result.

Every command is one library call.  Data goes to stdout; progress, summaries and
errors go to stderr.  Errors the user can fix are one line and exit status 2;
``ingest`` exits 1 when it skipped something; Ctrl-C exits 130.
"""

from __future__ import annotations

import re
import sqlite3
import sys
import warnings
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Callable, Iterator, Optional

import typer
from typer.core import TyperGroup

from policylex.choices import (AssociationSort, CollocationSort, Correction, Engine, Interval, Nested, Norm, Per,
                               Pool, ReuseField, TopicMethod, Variant, Window)
from policylex.errors import PolicylexError, PolicylexWarning, UnknownGroupWarning
from policylex.output import Format, Table, render

def _one_line(error: BaseException) -> None:
    """Make a usage error (bad option value, unknown option or command) print one line, like ours.

    click prints the usage, a hint and the message on four lines; ``--help`` has the usage.
    """
    names = [cls.__name__ for cls in type(error).__mro__]
    if "UsageError" in names and "NoArgsIsHelpError" not in names:
        command = error.ctx.command_path if getattr(error, "ctx", None) is not None else "policylex"
        message = f"policylex: error: {error.format_message()} (see `{command} --help`)"
        error.show = lambda file=None: _stderr().print(message, markup=False, soft_wrap=True)


class OneLineErrors(TyperGroup):
    """The boundary: every error a command raises becomes one line on stderr and an exit status, here once.

    Each group of commands (``policylex``, ``policylex slogans``, …) is one, so
    the innermost knows which command ran (what an interrupted one leaves behind).
    """

    def make_context(self, *args, **kwargs):
        try:
            return super().make_context(*args, **kwargs)
        except Exception as error:
            _one_line(error)
            raise

    def invoke(self, ctx):
        try:
            with _warnings_once():
                return super().invoke(ctx)
        except PolicylexError as error:
            raise fail(_in_cli_words(error), error.exit_code) from None
        except sqlite3.DatabaseError as error:  # a damaged file, or a lock held longer than the busy timeout
            raise fail(f"cannot read the corpus: {error}; `policylex check` tells what is wrong") from None
        except KeyboardInterrupt:
            command = " ".join(ctx.command_path.split()[1:] + [ctx.invoked_subcommand or ""]).strip()
            raise fail(f"interrupted; {_KEPT_ON_CTRL_C.get(command, 'nothing was written')}", 130) from None
        except BrokenPipeError:
            sys.stderr.close()
            raise typer.Exit(0) from None
        except Exception as error:
            _one_line(error)
            raise


def _in_cli_words(error: PolicylexError) -> str:
    """The library's message with its parameter shown as the command's flag: ``where: …`` → ``--where: …``."""
    message = str(error)
    option = getattr(error, "option", None)
    if option:
        message = re.sub(rf"(?<![-\w]){re.escape(option)}\b", "--" + option.replace("_", "-"), message, count=1)
    return message


app = typer.Typer(
    cls=OneLineErrors,
    name="policylex",
    help="A corpus toolkit for policy-discourse analysis of Chinese official texts.\n\n"
    "Example: policylex ingest seeds/ && policylex tokenise && policylex freq --top 20",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)

CorpusOption = Annotated[
    Path,
    typer.Option("--corpus", "-c", envvar="POLICYLEX_CORPUS", help="The corpus file (SQLite).", show_default=True),
]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
DEFAULT_CORPUS = Path("policylex.db")


class ExportFormat(str, Enum):
    jsonl = "jsonl"
    csv = "csv"
    tsv = "tsv"
    json = "json"


def _stderr():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def fail(message: str, code: int = 2) -> typer.Exit:
    _stderr().print(f"policylex: error: {message}", markup=False, soft_wrap=True)
    return typer.Exit(code)


# How to fix documents of unknown year or region, said with the library's warning (the library names no flags).
FIX_METADATA = ("correct them with `policylex meta set FILE.csv`, or ingest again with --meta or --path-pattern; "
                "`policylex meta` shows what is missing")


@contextmanager
def _warnings_once() -> Iterator[None]:
    """The library's warnings as one line each on stderr, each said once per command, however often raised."""
    said: set[str] = set()
    show_other = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if not issubclass(category, PolicylexWarning):
            return show_other(message, category, filename, lineno, file, line)
        text = str(message) + (f"; {FIX_METADATA}" if issubclass(category, UnknownGroupWarning) else "")
        if text not in said:
            said.add(text)
            _stderr().print(f"policylex: warning: {text}", markup=False, soft_wrap=True)

    with warnings.catch_warnings():
        warnings.simplefilter("always", PolicylexWarning)  # the dedup is ours: per command, not per process
        warnings.showwarning = show
        yield


# What the corpus keeps when a command is interrupted, by command; the other commands write nothing.
_KEPT_ON_CTRL_C = {
    "ingest": "the corpus keeps the batches of files stored before Ctrl-C: re-run to complete",
    "tokenise": "the corpus keeps the documents tokenised before Ctrl-C: re-run to complete",
    "normalise": "the corpus is as it was: normalise writes every document or none; re-run to normalise",
    "meta set": "the corpus is as it was: meta set applies every correction or none",
    "report": "the corpus keeps what was ingested and tokenised before Ctrl-C; no report was written, "
              "an earlier one is as it was",
    **dict.fromkeys(("slogans", "slogans scan", "slogans count", "slogans cooccur", "slogans timeline", "trends"),
                    "the corpus keeps the formulation matches stored before Ctrl-C; the next run goes on from them"),
}


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr (only on a terminal); yields an update(done, total) callback."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = _stderr()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


def _open(corpus: Path, *, create: bool = False, readonly: bool = False):
    from policylex.store import Corpus

    def upgrading(old: int, new: int) -> None:
        _stderr().print(f"upgrading {corpus} from schema version {old} to {new} (once; see README, The corpus file)",
                        soft_wrap=True)

    return Corpus.open(corpus, create=create, readonly=readonly, upgrading=upgrading)


@contextmanager
def _reading(corpus: Path) -> Iterator:
    """The corpus opened read-only, read as of one moment: a concurrent ingest goes on, unseen."""
    with _open(corpus, readonly=True) as store, store.snapshot():
        yield store


def _warn_if_not_tokenised(store) -> None:
    """Counts from tokens miss the documents tokenise has not (re)done: say so, never silently."""
    from policylex.overview import not_tokenised

    pending = not_tokenised(store)
    if pending:
        _stderr().print(f"policylex: warning: documents not tokenised as they are now (new, changed, or other "
                        f"settings): {pending}; these counts miss them or count their old tokens: "
                        "run `policylex tokenise`", markup=False, soft_wrap=True)


def _summary(rows, title: str) -> None:
    render(Table(("", ""), rows, title=title, show_header=False), Format.table, sys.stderr)


# --- pipeline ------------------------------------------------------------------

SchedulerOption = Annotated[Optional[str], typer.Option(
    envvar="POLICYLEX_SCHEDULER", metavar="ADDRESS",
    help="Run the per-document work as tasks on this Dask scheduler (tcp://host:8786) instead of local processes "
         "(needs pip install 'policylex[dask]').")]


@contextmanager
def _backend(scheduler: Optional[str], workers: Optional[int] = None, ship: bool = False) -> Iterator[None]:
    """Within the block, the pipeline's batches go to the Dask cluster at ``scheduler`` (if given)."""
    from policylex.errors import UsageError

    if scheduler is None:
        if ship:
            raise UsageError("--ship sends files to a Dask cluster's workers: give --scheduler too")
        yield
        return
    if workers is not None:
        raise UsageError("give --workers (local processes) or --scheduler (a Dask cluster), not both")
    from policylex.cluster import dask_backend

    with dask_backend(scheduler, ship=ship):
        yield



@app.command()
def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files and folders (recursive); '-' reads paths from stdin.")],
    corpus: CorpusOption = DEFAULT_CORPUS,
    meta: Annotated[Optional[Path], typer.Option(help="CSV/TSV/JSONL of metadata overrides keyed by file name or "
                                                 "relative path (column file).")] = None,
    text_column: Annotated[Optional[str], typer.Option(help="CSV/TSV/JSON column holding the text.")] = None,
    title_column: Annotated[Optional[str], typer.Option(help="Column holding the title.")] = None,
    date_column: Annotated[Optional[str], typer.Option(help="Column holding the publication date.")] = None,
    region_column: Annotated[Optional[str], typer.Option(help="Column holding the province or city.")] = None,
    url_column: Annotated[Optional[str], typer.Option(help="Column holding the URL.")] = None,
    source_column: Annotated[Optional[str], typer.Option(help="Column holding the source (来源 / site).")] = None,
    path_pattern: Annotated[Optional[str], typer.Option(
        help="How the collection names its files, e.g. '{province}/{year}/{date:%Y%m%d}_*.txt' "
             "(fields: province city region year month date source title; * any name part, ** any folders).")] = None,
    path_metadata: Annotated[bool, typer.Option("--path-metadata/--no-path-metadata",
                                                help="Read dates and regions from file and folder names.")] = True,
    scheduler: SchedulerOption = None,
    ship: Annotated[bool, typer.Option("--ship", help="With --scheduler: send the files' bytes to the workers "
                                       "(without it they read the files from a filesystem shared with this "
                                       "machine).")] = False,
) -> None:
    """Read .txt .md .html .htm .csv .tsv .jsonl .json files into the corpus.

    Metadata is read off the text, the path (a date in the file name, year and region
    folders), the file's own columns or tags, a folder's metadata.csv naming its files,
    and --meta, each winning over the one before.

    Example: policylex ingest seeds/ scraped/export.csv --text-column content;
    policylex ingest /shared/crawl/ --scheduler tcp://10.0.0.5:8786
    """
    from policylex.readers import ReadOptions

    options = ReadOptions(text_column, title_column, date_column, region_column, url_column, source_column)
    with _backend(scheduler, ship=ship), _open(corpus, create=True) as store:
        report = _ingest(store, paths, read_options=options, meta=meta, path_pattern=path_pattern,
                         read_paths=path_metadata)
    if report.failed:  # a .png or .DS_Store beside the articles is said, not a failure
        raise typer.Exit(1)


def _ingest(store, paths: list[str], **options):
    """Ingest with a progress bar; the summary and every skipped file or row on stderr."""
    with progress_bar("ingest") as update:
        report = store.ingest(paths, progress=update, **options)
    _summary(report.summary(), f"Ingested into {store.path}")
    err = _stderr()
    for sidecar in report.sidecars:
        err.print(f"metadata from {sidecar}", markup=False, soft_wrap=True)
    for warning in report.warnings:
        err.print(f"warning {warning}", markup=False, soft_wrap=True)
    for repaired in report.repaired:
        err.print(f"repaired {repaired}", markup=False, soft_wrap=True)
    for skipped in report.skipped:
        err.print(f"{'passed over' if skipped.passed_over else 'skipped'} {skipped}", markup=False, soft_wrap=True)
    return report


@app.command()
def normalise(
    corpus: CorpusOption = DEFAULT_CORPUS,
    variant: Annotated[Variant, typer.Option(help="OpenCC conversion (none keeps the script).")] = Variant.t2s,
    workers: Annotated[Optional[int], typer.Option(min=1, help="Processes (default: all cores).")] = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Re-normalise every document: script, converter pinyin, page furniture, white space.

    Example: policylex normalise --variant tw2s
    """
    with _backend(scheduler, workers), _open(corpus) as store, progress_bar("normalise") as update:
        report = store.normalise(variant=variant.value, progress=update, workers=workers)
    _summary(report.summary(), "Normalised")


@app.command()
def tokenise(
    corpus: CorpusOption = DEFAULT_CORPUS,
    workers: Annotated[Optional[int], typer.Option(min=1, help="Processes (default: all cores).")] = None,
    userdict: Annotated[Optional[Path], typer.Option(help="A jieba user dictionary (word [freq] [pos] per line).")] = None,
    keep_stopwords: Annotated[bool, typer.Option("--keep-stopwords", help="Keep stopwords.")] = False,
    hmm: Annotated[bool, typer.Option("--hmm/--no-hmm", help="jieba's HMM for unknown words.")] = True,
    force: Annotated[bool, typer.Option("--force", help="Re-tokenise every document.")] = False,
    pos: Annotated[bool, typer.Option("--pos", help="Tag parts of speech too (jieba.posseg; "
                                      "its segmentation differs slightly from plain jieba's).")] = False,
    engine: Annotated[Engine, typer.Option(help="Segmenter: rjieba gives jieba's tokens faster; auto picks it "
                                           "unless a dictionary needs jieba.")] = Engine.auto,
    scheduler: SchedulerOption = None,
) -> None:
    """Segment documents with jieba's model and the domain dictionary (only those that changed).

    Example: policylex tokenise --workers 2 --userdict my_terms.txt;  policylex tokenise --scheduler tcp://10.0.0.5:8786
    """
    with _backend(scheduler, workers), _open(corpus) as store, progress_bar("tokenise") as update:
        report = store.tokenise(hmm=hmm, keep_stopwords=keep_stopwords, userdict=str(userdict) if userdict else None,
                                workers=workers, force=force, pos=pos,
                                engine=None if engine is Engine.auto else engine.value, progress=update)
    _summary(report.summary(), "Tokenised")


# --- looking at the corpus ---------------------------------------------------------


@app.command()
def info(corpus: CorpusOption = DEFAULT_CORPUS, format: FormatOption = Format.table) -> None:
    """Documents, characters, tokens, years, regions, duplicates, skipped files.

    Example: policylex info --format json
    """
    from policylex.overview import corpus_info

    with _reading(corpus) as store:
        render(corpus_info(store), format)


@app.command()
def docs(
    corpus: CorpusOption = DEFAULT_CORPUS,
    format: FormatOption = Format.table,
    no_duplicates: Annotated[bool, typer.Option("--no-duplicates", help="Leave out flagged duplicates.")] = False,
) -> None:
    """One row per document with its metadata.

    Example: policylex docs --format csv > docs.csv
    """
    from policylex.overview import document_table

    with _reading(corpus) as store:
        render(document_table(store, include_duplicates=not no_duplicates), format)


@app.command()
def export(
    corpus: CorpusOption = DEFAULT_CORPUS,
    format: Annotated[ExportFormat, typer.Option("--format", "-f", help="Output format.")] = ExportFormat.jsonl,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
    no_duplicates: Annotated[bool, typer.Option("--no-duplicates", help="Leave out flagged duplicates.")] = False,
) -> None:
    """Every document with metadata, normalised text and tokens, for R, pandas or DuckDB.

    Columns: id name title date year province province_code city city_code source url
    path reader encoding raw_sha256 duplicate_of near_duplicate_of chars token_count text tokens.

    Example: policylex export --format csv -o corpus.csv
    """
    from policylex.overview import export_table

    _check_outputs(corpus, ("--output", output))
    with _reading(corpus) as store:
        table = export_table(store, include_duplicates=not no_duplicates)
        if output is None:
            render(table, format.value)
            return
        from policylex.files import atomic_output

        with atomic_output(output, str(output)) as partial, partial.open("w", encoding="utf-8", newline="") as stream:
            render(table, format.value, stream)


WhereOption = Annotated[
    Optional[list[str]],
    typer.Option("--where", "-w", help="Only documents with field=value (year, province, city, source, doc, date); "
                 "repeat to combine; field!=value; several values with commas."),
]
TopOption = Annotated[int, typer.Option(min=0, help="How many rows (per group); 0 for all.")]
KeepDuplicatesOption = Annotated[bool, typer.Option("--keep-duplicates", help="Count flagged duplicates too.")]
PlotOption = Annotated[Optional[Path], typer.Option(help="Also draw a chart to this file (.png, .svg or .pdf).")]


GroupByOption = Annotated[Optional[str], typer.Option(
    "--by", help="Group by year, province, city, source or doc, or several joined by commas (province,year).")]


def _check_outputs(corpus: Path, *outputs: tuple[str, Optional[Path]]) -> None:
    """Before any work: no (option, path) given may write over the corpus or its files."""
    from policylex.files import check_output

    for option, path in outputs:
        if path is not None:
            check_output(path, corpus, f"{option} {path}")


def _plot(table: Table, path: Optional[Path], kind: str) -> None:
    if path is None:
        return
    from policylex.plots import bar_chart

    bar_chart(table, path, kind=kind)
    _stderr().print(f"plot written to {path}", markup=False)


@app.command()
def freq(
    terms: Annotated[Optional[list[str]], typer.Argument(help="Only these terms.")] = None,
    corpus: CorpusOption = DEFAULT_CORPUS,
    format: FormatOption = Format.table,
    top: TopOption = 20,
    min_count: Annotated[int, typer.Option(min=1, help="Leave out rarer terms.")] = 1,
    by: GroupByOption = None,
    where: WhereOption = None,
    pos: Annotated[Optional[str], typer.Option(help="Only terms of these parts of speech, e.g. n,v "
                                               "(n matches n, nr, ns, nt, nz); needs tokenise --pos.")] = None,
    keep_duplicates: KeepDuplicatesOption = False,
    plot: PlotOption = None,
) -> None:
    """Term frequencies: count, rate per 10,000 tokens, document frequency, rank.

    Columns: [group fields] rank term count per_10k docfreq; with --by province,year the
    group's fields are columns of their own (province province_code year), as in trends.

    Example: policylex freq --top 10 --by year;  policylex freq 公益诉讼 检察建议 --where province=辽宁省
    """
    _check_outputs(corpus, ("--plot", plot))
    from policylex.measures import frequency

    with _reading(corpus) as store:
        _warn_if_not_tokenised(store)
        table = frequency(store.dfm(include_duplicates=keep_duplicates), top=top or None, min_count=min_count,
                          terms=terms, by=by, where=where, pos=pos.split(",") if pos else None)
    render(table, format)
    _plot(table, plot, "freq")


@app.command()
def tfidf(
    corpus: CorpusOption = DEFAULT_CORPUS,
    format: FormatOption = Format.table,
    top: TopOption = 10,
    by: Annotated[Optional[str], typer.Option(help="Groups as pseudo-documents (default: each document): year, "
                                              "province, city, source, or several joined by commas.")] = None,
    where: WhereOption = None,
    sublinear_tf: Annotated[bool, typer.Option("--sublinear-tf", help="tf = 1 + ln(count).")] = False,
    norm: Annotated[Norm, typer.Option(help="Scale each row to unit norm.")] = Norm.l2,
    smooth_idf: Annotated[bool, typer.Option("--smooth-idf/--no-smooth-idf", help="idf = ln((1+n)/(1+df)) + 1.")] = True,
    keep_duplicates: KeepDuplicatesOption = False,
    plot: PlotOption = None,
) -> None:
    """The most distinctive terms per document, or per group with --by (scikit-learn's TF-IDF).

    With --by, each group is ONE pseudo-document: the counts of its documents summed,
    and idf counts groups, not documents. Columns: group rank term tfidf count.

    Example: policylex tfidf --by province --top 5
    """
    _check_outputs(corpus, ("--plot", plot))
    from policylex.measures import tfidf as tfidf_table

    with _reading(corpus) as store:
        _warn_if_not_tokenised(store)
        table = tfidf_table(store.dfm(include_duplicates=keep_duplicates), top=top or 10**9, by=by, where=where,
                            sublinear_tf=sublinear_tf, norm=norm, smooth_idf=smooth_idf)
    render(table, format)
    _plot(table, plot, "tfidf")


@app.command()
def keyness(
    target: Annotated[Optional[list[str]], typer.Option("--target", "-t", help="The target documents: field=value "
                                                        "(repeatable).")] = None,
    reference: Annotated[Optional[list[str]], typer.Option("--reference", "-r", help="The reference (default: the rest).")] = None,
    by: Annotated[Optional[str], typer.Option(help="Instead of --target: each group against the rest (year, "
                                              "province, …, or several joined by commas).")] = None,
    corpus: CorpusOption = DEFAULT_CORPUS,
    format: FormatOption = Format.table,
    top: TopOption = 20,
    min_count: Annotated[int, typer.Option(min=1, help="Leave out terms rarer than this in target and reference together.")] = 1,
    where: WhereOption = None,
    correction: Annotated[Correction, typer.Option(help="Yates correction (default) or none.")] = Correction.default,
    keep_duplicates: KeepDuplicatesOption = False,
    plot: PlotOption = None,
) -> None:
    """Terms that mark the target against the reference: G², chi², p-values, log ratio; sorted by G².

    For a term: a, b its counts in target and reference; c, d the other tokens of each;
    N = a+b+c+d; E = (a+b)(a+c)/N. As quanteda's textstat_keyness (Yates by default:
    delta = 0.5 when |ad-bc| >= N/2 and an expected cell is below 5, else 0):
    chi2 = N(|ad-bc| - N*delta)^2 / ((a+b)(c+d)(a+c)(b+d));
    G2 = 2 * sum O*ln(O/E + 1e-9) over the four cells, each moved delta toward its
    expected count (Dunning 1993). Both are negative when a < E; p from chi-squared
    with 1 df. log_ratio = log2((a/(a+c)) / (b/(b+d))), zero counts as 0.5 (Hardie 2014).

    With --by, each group is the target in turn and the rest of the documents its reference
    (a leading group column).

    Example: policylex keyness --target province=辽宁省 --reference year=2021;  policylex keyness --by year --top 5
    """
    from policylex.errors import UsageError
    from policylex.measures import keyness as keyness_table
    from policylex.measures import keyness_by_group

    if (target is None) == (by is None) or (by is not None and reference):
        raise UsageError("give --target field=value (and optionally --reference), or --by field")
    _check_outputs(corpus, ("--plot", plot))
    options = dict(where=where, top=top or None, min_count=min_count, correction=correction)
    with _reading(corpus) as store:
        _warn_if_not_tokenised(store)
        matrix = store.dfm(include_duplicates=keep_duplicates)
        if by is not None:
            table = keyness_by_group(matrix, by, **options)
        else:
            table = keyness_table(matrix, target, reference=reference, **options)
    render(table, format)
    _plot(table, plot, "keyness")


@app.command()
def kwic(
    term: Annotated[str, typer.Argument(help="The term, matched in the normalised text.")],
    corpus: CorpusOption = DEFAULT_CORPUS,
    format: FormatOption = Format.table,
    window: Annotated[int, typer.Option(min=1, help="Characters of context on each side.")] = 15,
    where: WhereOption = None,
    limit: Annotated[Optional[int], typer.Option(min=1, help="At most this many lines.")] = None,
    keep_duplicates: KeepDuplicatesOption = False,
) -> None:
    """Keyword in context: document, position, left context, term, right context.

    Matched on the normalised text, so a formulation the segmenter splits is found whole.

    Example: policylex kwic 公益诉讼 --window 10
    """
    from policylex.measures import kwic as kwic_table

    with _reading(corpus) as store:
        table = kwic_table(store, term, window=window, where=where, include_duplicates=keep_duplicates, limit=limit)
    render(table, format)


@app.command()
def collocations(
    corpus: CorpusOption = DEFAULT_CORPUS,
    format: FormatOption = Format.table,
    size: Annotated[int, typer.Option(min=2, max=3, help="Tokens per sequence: 2 or 3.")] = 2,
    min_count: Annotated[int, typer.Option(min=1, help="Leave out rarer sequences.")] = 2,
    top: TopOption = 20,
    sort: Annotated[CollocationSort, typer.Option(help="Sort by log-likelihood, PMI or count.")] = CollocationSort.ll,
    where: WhereOption = None,
    keep_duplicates: KeepDuplicatesOption = False,
) -> None:
    """Adjacent token pairs (or triples): count, PMI and log-likelihood.

    PMI = log2(p(sequence) / product of p(token)); LL = G2 of the 2x2 table of the
    first tokens against the last token over all sequences.

    Example: policylex collocations --size 3 --min-count 3
    """
    from policylex.measures import collocations as collocation_table

    with _reading(corpus) as store:
        _warn_if_not_tokenised(store)
        table = collocation_table(store, size=size, min_count=min_count, top=top or None, sort=sort,
                                  where=where, include_duplicates=keep_duplicates)
    render(table, format)


# --- formulations (slogans) ------------------------------------------------------------

slogans_app = typer.Typer(
    cls=OneLineErrors,
    help="Formulations (提法) from the lexicon: counts (the default), list, discover, cooccur, timeline.\n\n"
    "Example: policylex slogans --by year;  policylex slogans cooccur --window sentence",
    no_args_is_help=False, rich_markup_mode=None,
)
app.add_typer(slogans_app, name="slogans")

LexiconOption = Annotated[Optional[Path], typer.Option(
    "--lexicon", "-l", help="A CSV/TSV of formulations (columns slogan, category, family, year, variants, "
    "not_before, not_after, note; only slogan required) that adds to the bundled lexicon or replaces its entries of "
    "the same slogan.")]
NoBundledOption = Annotated[bool, typer.Option("--no-bundled", help="Use only --lexicon's entries.")]


def _lexicon(path: Optional[Path], no_bundled: bool):
    from policylex.lexicon import load_lexicon

    return load_lexicon(path, bundled=not no_bundled)


NestedOption = Annotated[Nested, typer.Option(
    help="A formulation written inside a longer one's match (依法治国 in 全面依法治国): key counts it under "
         "both (how often each is written); dictionary counts the longest only (how often each is used as itself).")]
PoolOption = Annotated[Optional[Pool], typer.Option(
    help="Count families (强国系列, 四个全面) or categories instead of formulations: their members pooled.")]


@slogans_app.command("count")
def slogans_count(
    slogans: Annotated[Optional[list[str]], typer.Argument(help="Only these formulations.")] = None,
    corpus: CorpusOption = DEFAULT_CORPUS,
    format: FormatOption = Format.table,
    top: TopOption = 0,
    by: GroupByOption = None,
    where: WhereOption = None,
    lexicon: LexiconOption = None,
    no_bundled: NoBundledOption = False,
    absent: Annotated[bool, typer.Option("--absent", help="List formulations not found too (count 0).")] = False,
    keep_duplicates: KeepDuplicatesOption = False,
    plot: PlotOption = None,
    pool: PoolOption = None,
    nested: NestedOption = Nested.key,
) -> None:
    """Formulations found: documents, occurrences, rate per 10,000 characters, share of documents.

    Matched on the normalised text (traditional script, quotation marks and enumerations
    written with or without 、 all count). Columns: [group] rank slogan category
    documents occurrences per_10k_chars doc_share. With --pool family (or category):
    [group] rank family formulations documents occurrences per_10k_chars doc_share, a
    family's occurrences being its members' added up.

    Example: policylex slogans count --by province --top 5;  policylex slogans count 四大检察 两个维护;
    policylex slogans count --pool family
    """
    _check_outputs(corpus, ("--plot", plot))
    from policylex.slogans import count_slogans

    with _open(corpus) as store, progress_bar("slogans") as update:
        matrix = store.dfm(lexicon=_lexicon(lexicon, no_bundled), nested=nested.value,
                           include_duplicates=keep_duplicates, progress=update)
        table = count_slogans(matrix, slogans=slogans, by=by, where=where, include_absent=absent, top=top or None,
                              pool=pool and pool.value, nested=nested.value)
    render(table, format)
    _plot(table, plot, f"slogans_{pool.value}" if pool else "slogans")


@slogans_app.callback(invoke_without_command=True)
def slogans_default(
    ctx: typer.Context,
    corpus: CorpusOption = DEFAULT_CORPUS,
    format: FormatOption = Format.table,
    top: TopOption = 0,
    by: GroupByOption = None,
    where: WhereOption = None,
    lexicon: LexiconOption = None,
    no_bundled: NoBundledOption = False,
    keep_duplicates: KeepDuplicatesOption = False,
    plot: PlotOption = None,
    pool: PoolOption = None,
    nested: NestedOption = Nested.key,
) -> None:
    """Without a subcommand: `slogans count` with these options."""
    if ctx.invoked_subcommand is None:
        slogans_count(None, corpus, format, top, by, where, lexicon, no_bundled, False, keep_duplicates, plot, pool,
                      nested)


@slogans_app.command("scan")
def slogans_scan(
    corpus: CorpusOption = DEFAULT_CORPUS,
    lexicon: LexiconOption = None,
    no_bundled: NoBundledOption = False,
    workers: Annotated[Optional[int], typer.Option(min=1, help="Processes (default: all cores).")] = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Find the lexicon's formulations in the documents not yet scanned with it, and store the matches.

    The other slogans commands (and trends --slogans) scan first by themselves; run this
    to scan with other workers, on a Dask cluster, or ahead of time.

    Example: policylex slogans scan --scheduler tcp://10.0.0.5:8786
    """
    from policylex.slogans import scan

    with _backend(scheduler, workers), _open(corpus) as store, progress_bar("slogans") as update:
        report = scan(store, _lexicon(lexicon, no_bundled), workers=workers, progress=update)
    _summary(report.summary(), "Scanned")


@slogans_app.command("list")
def slogans_list(
    format: FormatOption = Format.table,
    lexicon: LexiconOption = None,
    no_bundled: NoBundledOption = False,
) -> None:
    """The lexicon: slogan, category, family, year first put forward, variants, trap guards, note.

    Example: policylex slogans list --format csv > lexicon.csv
    """
    render(_lexicon(lexicon, no_bundled).table(), format)


@slogans_app.command("discover")
def slogans_discover(
    corpus: CorpusOption = DEFAULT_CORPUS,
    format: FormatOption = Format.table,
    top: TopOption = 50,
    min_count: Annotated[int, typer.Option(min=1, help="At least this many occurrences.")] = 1,
    min_docs: Annotated[int, typer.Option(min=1, help="In at least this many documents.")] = 1,
    where: WhereOption = None,
    lexicon: LexiconOption = None,
    no_bundled: NoBundledOption = False,
    keep_duplicates: KeepDuplicatesOption = False,
) -> None:
    """Candidate formulations the lexicon lacks: numbered (三大工程, 1+4+5), recurring quoted, verb + quoted.

    Columns: rank candidate kinds count documents quoted verbs example.

    Example: policylex slogans discover --min-docs 3 --format csv > candidates.csv
    """
    from policylex.discovery import discover

    with _open(corpus) as store:
        table = discover(store, lexicon=_lexicon(lexicon, no_bundled), where=where,
                         include_duplicates=keep_duplicates, min_count=min_count, min_docs=min_docs, top=top or None)
    render(table, format)


@slogans_app.command("cooccur")
def slogans_cooccur(
    corpus: CorpusOption = DEFAULT_CORPUS,
    format: FormatOption = Format.table,
    window: Annotated[Window, typer.Option(help="Formulations co-occur in the same document, paragraph or sentence.")]
    = Window.doc,
    sort: Annotated[AssociationSort, typer.Option(help="Sort by this measure.")] = AssociationSort.ll,
    min_count: Annotated[int, typer.Option(min=1, help="Leave out pairs sharing fewer units.")] = 1,
    top: TopOption = 20,
    where: WhereOption = None,
    lexicon: LexiconOption = None,
    no_bundled: NoBundledOption = False,
    keep_duplicates: KeepDuplicatesOption = False,
    plot: Annotated[Optional[Path], typer.Option(help="Draw the network (edges weighted by --sort) to this file.")]
    = None,
    heatmap: Annotated[Optional[Path], typer.Option(help="Draw the matrix as a heatmap to this file.")] = None,
    pool: PoolOption = None,
) -> None:
    """Pairs of formulations in the same unit: joint count, each one's count, PMI, NPMI, Jaccard, LL.

    With N units (documents, paragraphs or sentences), joint = units holding both,
    count_a / count_b = units holding each: PMI = log2(joint*N / (count_a*count_b));
    NPMI = PMI / -log2(joint/N); Jaccard = joint / (count_a + count_b - joint);
    LL = G2 of the 2x2 table, negative when the pair is rarer than chance. With --pool,
    pairs of families (or categories): a unit holds a family when it holds any member.

    Example: policylex slogans cooccur --window sentence --sort npmi --plot network.png;
    policylex slogans cooccur --pool family --window paragraph
    """
    _check_outputs(corpus, ("--plot", plot), ("--heatmap", heatmap))
    from policylex.slogans import cooccurrence

    with _open(corpus) as store, progress_bar("slogans") as update:
        matrix = store.dfm(lexicon=_lexicon(lexicon, no_bundled), nested=Nested.dictionary.value,
                           include_duplicates=keep_duplicates, progress=update)
        table = cooccurrence(matrix, window=window, where=where, min_count=min_count, sort=sort, top=top or None,
                             pool=pool)
    render(table, format)
    measure = "npmi" if sort is AssociationSort.joint else sort.value
    if plot is not None:
        from policylex.plots import network_chart

        network_chart(table, plot, measure=measure)
        _stderr().print(f"plot written to {plot}", markup=False)
    if heatmap is not None:
        from policylex.plots import heatmap_chart

        heatmap_chart(table, heatmap, measure=measure)
        _stderr().print(f"plot written to {heatmap}", markup=False)


@slogans_app.command("timeline")
def slogans_timeline(
    slogans: Annotated[Optional[list[str]], typer.Argument(help="The formulations (default: every one found).")]
    = None,
    corpus: CorpusOption = DEFAULT_CORPUS,
    format: FormatOption = Format.table,
    per_year: Annotated[bool, typer.Option("--per-year", help="Counts per year instead of first/last per province.")]
    = False,
    where: WhereOption = None,
    lexicon: LexiconOption = None,
    no_bundled: NoBundledOption = False,
    nested: NestedOption = Nested.key,
    keep_duplicates: KeepDuplicatesOption = False,
    plot: Annotated[Optional[Path], typer.Option(help="Draw when each province first used it, to this file.")]
    = None,
) -> None:
    """How formulations travel: per province, the first and last dated document using each.

    Columns: slogan province province_code first_date first_doc last_date last_doc
    documents occurrences undated. With --per-year: slogan year documents occurrences provinces.

    Example: policylex slogans timeline 四大检察 少捕慎诉慎押 --plot diffusion.png
    """
    _check_outputs(corpus, ("--plot", plot))
    from policylex.slogans import timeline

    with _open(corpus) as store, progress_bar("slogans") as update:
        matrix = store.dfm(lexicon=_lexicon(lexicon, no_bundled), nested=nested.value,
                           include_duplicates=keep_duplicates, progress=update)
        table = timeline(matrix, slogans, per_year=per_year, where=where)
        chart_table = timeline(matrix, slogans, where=where) if per_year and plot is not None else table
    render(table, format)
    if plot is not None:
        from policylex.plots import timeline_chart

        timeline_chart(chart_table, plot)
        _stderr().print(f"plot written to {plot}", markup=False)


# --- text reuse -------------------------------------------------------------------------

# No help= here: `policylex reuse --help` shows the callback's docstring (columns, method, examples).
reuse_app = typer.Typer(cls=OneLineErrors, no_args_is_help=False, rich_markup_mode=None)
app.add_typer(reuse_app, name="reuse")

ReferenceOption = Annotated[Optional[list[str]], typer.Option(
    "--reference", "-r", help="The central documents, as field=value (repeatable; 'none' for no reference set): "
    "a passage one of them also holds is vertical (via_centre), not a borrowing between the two.  "
    "[default: province=全国]", show_default=False)]
MinCharsOption = Annotated[int, typer.Option("--min-chars", min=10, help="Shortest passage, in characters "
                                             "(punctuation and white space not counted).")]
MaxDocsOption = Annotated[Optional[int], typer.Option(
    "--max-docs", min=2, help="Template cap: a 10-character seed found in more than this many documents is a "
    "template (a header, a set phrase) and starts no passage; passages still run through it. "
    "[default: half the documents compared, at least 3, at most 50]", show_default=False)]


def _reference(reference: Optional[list[str]]) -> list[str]:
    from policylex.reuse import DEFAULT_REFERENCE

    if reference is None:
        return list(DEFAULT_REFERENCE)
    return [] if [r.strip().lower() for r in reference] == ["none"] else reference


def _reuse_summary(found) -> None:
    s = found.stats
    _stderr().print(f"compared {s['documents']} documents ({s['reference documents']} reference); "
                    f"{s['template shingles']} template seeds (in more than {s['template cap']} documents) left out; "
                    f"{s['chains aligned']} candidate stretches aligned, {s['passages']} passages",
                    markup=False, soft_wrap=True)


@reuse_app.callback(invoke_without_command=True)
def reuse(
    ctx: typer.Context,
    corpus: CorpusOption = DEFAULT_CORPUS,
    format: FormatOption = Format.table,
    where: WhereOption = None,
    reference: ReferenceOption = None,
    across: Annotated[Optional[ReuseField], typer.Option(help="Only pairs whose documents differ in this field "
                                                           "(and both have it).")] = None,
    min_chars: MinCharsOption = 50,
    max_docs: MaxDocsOption = None,
    clusters: Annotated[bool, typer.Option("--clusters", help="One row per passage: every document holding it, "
                                           "in date order.")] = False,
    by: Annotated[Optional[ReuseField], typer.Option(help="The borrowing matrix between groups: from the earlier "
                                                       "document's group to the later's.")] = None,
    plot: Annotated[Optional[Path], typer.Option(help="With --by: draw the matrix as heatmaps, horizontal and "
                                                 "vertical apart (.png, .svg or .pdf).")] = None,
) -> None:
    """Pairs of documents sharing passages: one row per pair and kind (horizontal, or vertical via the centre).

    Columns: earlier later earlier_date later_date earlier_province later_province chars
    share_earlier share_later lag_days via_centre example. chars counts characters shared
    (punctuation and white space not), share_* its share of each document. Direction by
    date; a pair with an undated document has none (lag_days empty), nor one of the same
    date (lag_days 0): there earlier/later are in corpus order. With --clusters: cluster
    documents provinces first first_date first_province chars via_centre members example.
    With --by: from to horizontal_pairs horizontal_chars horizontal_lag_days
    vertical_pairs vertical_chars vertical_lag_days (lags: medians, in days).

    Seeds are 10-character shingles found through an inverted index (never all pairs);
    one found in more than --max-docs documents is a template and seeds nothing. Passages
    are aligned with one edit (a changed character, an inserted 的, a place name) allowed
    per 50 characters; a passage over budget is split, not dropped. Exact and
    near-duplicate reposts are left out. A passage a --reference document also holds is
    vertical (via_centre true), not a borrowing between the two.

    Example: policylex reuse --across province --format csv > pairs.csv;
    policylex reuse --by province --plot borrowing.png;  policylex reuse show DOC_A DOC_B
    """
    if ctx.invoked_subcommand is not None:
        return
    from policylex.errors import UsageError
    from policylex.reuse import find_reuse, readable

    if plot is not None and by is None:
        raise UsageError("--plot draws the borrowing matrix: give --by province, city or source")
    if clusters and by is not None:
        raise UsageError("give --clusters or --by, not both")
    with _reading(corpus) as store, progress_bar("reuse") as update:
        found = find_reuse(store, where=where, reference=_reference(reference), across=across and across.value,
                           min_chars=min_chars, max_docs=max_docs, progress=update)
    _reuse_summary(found)
    if by is not None:
        table = found.matrix(by.value)
    elif clusters:
        table = found.clusters()
    else:
        table = found.pairs()
    render(readable(table) if format is Format.table else table, format)  # a terminal gets short examples
    if plot is not None:
        from policylex.plots import borrowing_chart

        borrowing_chart(table, plot)
        _stderr().print(f"plot written to {plot}", markup=False)


@reuse_app.command("show")
def reuse_show(
    first: Annotated[str, typer.Argument(help="A document's name (see `policylex docs`).")],
    second: Annotated[str, typer.Argument(help="Another document's name.")],
    corpus: CorpusOption = DEFAULT_CORPUS,
    format: FormatOption = Format.table,
    reference: ReferenceOption = None,
    min_chars: MinCharsOption = 50,
    max_docs: MaxDocsOption = None,
) -> None:
    """One pair's shared passages, aligned: where each is in both texts, and what differs, in brackets.

    Columns: passage first_start first_end second_start second_end chars edits via_centre
    first_text second_text. Offsets are in each document's normalised text (end
    exclusive); the texts are as compared (punctuation and white space removed), e.g.
    更[加]突出 / 更[为]突出. The template cap counts the whole corpus, as in `policylex reuse`.

    Example: policylex reuse show 000_3043bcc22da62dc9 003_d72a806f25a1289a
    """
    from policylex.reuse import find_reuse

    with _reading(corpus) as store, progress_bar("reuse") as update:
        found = find_reuse(store, reference=_reference(reference), min_chars=min_chars, max_docs=max_docs,
                           only=[first, second], progress=update)
    render(found.passages_of(first, second), format)


# --- trends and the report --------------------------------------------------------------


@app.command()
def trends(
    terms: Annotated[Optional[list[str]], typer.Argument(
        help="Terms (counted on the tokens), or formulations with --slogans; default: the --top most frequent.")]
    = None,
    corpus: CorpusOption = DEFAULT_CORPUS,
    format: FormatOption = Format.table,
    slogans: Annotated[bool, typer.Option("--slogans", help="Lexicon formulations counted on the text, not terms "
                                          "on the tokens.")] = False,
    by: Annotated[str, typer.Option(help="year, province, city, source, doc, or several joined by commas: "
                                    "province,year; all for the selected documents as one group.")] = "year",
    per: Annotated[Optional[Per], typer.Option(help="The rate's denominator: 10,000 tokens, 10,000 characters, or "
                                               "one document [default: tokens; chars with --slogans].",
                                               show_default=False)] = None,
    top: Annotated[int, typer.Option(min=0, help="Without TERM: how many of the most frequent; 0 for all.")] = 10,
    where: WhereOption = None,
    drop_unknown: Annotated[bool, typer.Option("--drop-unknown", help="Leave out documents whose year or region "
                                               "(the --by fields) is unknown.")] = False,
    wide: Annotated[bool, typer.Option("--wide", help="One row per group, one rate column per term, for "
                                       "reading.")] = False,
    level: Annotated[float, typer.Option(min=0.5, max=0.999, help="Confidence level of the intervals.")] = 0.95,
    interval: Annotated[Interval, typer.Option(help="The rate's interval: poisson (exact, occurrences independent), "
                                               "bootstrap (documents resampled within each group) or quasipoisson "
                                               "(Poisson widened by the documents' over-dispersion); see below.")]
    = Interval.poisson,
    resamples: Annotated[int, typer.Option(min=100, help="Bootstrap resamples.")] = 1000,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the bootstrap's resamples: same seed, same "
                                      "intervals.")] = 0,
    lexicon: LexiconOption = None,
    no_bundled: NoBundledOption = False,
    nested: NestedOption = Nested.key,
    keep_duplicates: KeepDuplicatesOption = False,
    plot: Annotated[Optional[Path], typer.Option(help="Also draw to this file (.png, .svg, .pdf): lines with "
                                                 "interval bands by year, a heatmap by region and year, sorted "
                                                 "bars by region.")] = None,
) -> None:
    """Rates and shares of terms or formulations per year and region, with 95% intervals: a tidy panel.

    Columns: term kind [year] [province province_code] [city city_code] documents tokens
    chars occurrences docs_with rate rate_low rate_high per share share_low share_high.
    A TERM is counted on the tokens (as freq counts it); with --slogans, each TERM names a
    lexicon formulation counted on the normalised text (as slogans count does).
    rate = occurrences / denominator x scale: per 10,000 tokens (10k_tokens), 10,000
    characters (10k_chars) or per document (doc: the mean count); its interval is exact
    Poisson (Garwood): chi2(a/2; 2k)/2 and chi2(1-a/2; 2k+2)/2 over the denominator.
    share = docs_with / documents, with the Wilson score interval. Documents of unknown
    year or region form the unknown group unless --drop-unknown.

    Which interval: occurrences cluster in documents (one report says a formulation
    thirty times, the next none), so the Poisson interval is too narrow whenever a few
    documents carry the count. Use bootstrap to compare groups of ten documents or more:
    it resamples documents within each group (--resamples, --seed) and assumes nothing
    about how occurrences spread; a group of one document, or with no occurrence, keeps
    the Poisson interval. Use quasipoisson for a fast, deterministic interval that also
    serves small groups: one dispersion per term, phi = Pearson chi2 over (documents -
    groups), at least 1, pooled over the groups; the interval is phi x the exact one for
    k/phi occurrences. poisson (the default, as before) suits counts of independent
    events, or a quick look.

    Example: policylex trends 公益诉讼 检察建议 --by province,year --format csv > panel.csv;
    policylex trends 四大检察 --slogans --plot trend.png;  policylex trends 公益诉讼 --interval bootstrap
    """
    _check_outputs(corpus, ("--plot", plot))
    from policylex.trends import readable
    from policylex.trends import trends as trends_table
    from policylex.trends import wide as wide_table

    # Formulations are found by a scan that stores its matches: that needs a writable corpus.
    with (_open(corpus) if slogans else _reading(corpus)) as store, progress_bar("slogans") as update:
        _warn_if_not_tokenised(store)  # every row has the tokens denominator
        matrix = store.dfm(lexicon=_lexicon(lexicon, no_bundled) if slogans else None, nested=nested.value,
                           include_duplicates=keep_duplicates, progress=update)
        table = trends_table(matrix, terms, by=by, per=per and per.value, where=where, drop_unknown=drop_unknown,
                             top=top or None, level=level, interval=interval, resamples=resamples, seed=seed)
    if wide:
        render(wide_table(table), format)
    else:  # the terminal gets a compact view; every other format the tidy table
        render(readable(table) if format is Format.table else table, format)
    if plot is not None:
        from policylex.plots import trend_chart

        trend_chart(table, plot)
        _stderr().print(f"plot written to {plot}", markup=False)


@app.command()
def topics(
    k: Annotated[int, typer.Option("--k", "-k", min=2, help="How many topics.")],
    corpus: CorpusOption = DEFAULT_CORPUS,
    format: FormatOption = Format.table,
    method: Annotated[TopicMethod, typer.Option(help="nmf: NMF on TF-IDF weights; lda: LDA on counts (slower).")]
    = TopicMethod.nmf,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the model (and of the sample it is fitted on): same "
                                      "corpus, settings and seed, same output.")] = 0,
    by: Annotated[Optional[str], typer.Option(help="Without it: the top terms of each topic. doc: each document's "
                                              "shares; year, province, city, source or several joined by commas "
                                              "(province,year): the mean share per group with its 95% interval.")]
    = None,
    top: Annotated[int, typer.Option(min=1, help="Terms per topic.")] = 10,
    where: WhereOption = None,
    max_df: Annotated[float, typer.Option(min=0.01, max=1.0, help="Leave out terms in more than this share of the "
                                          "documents: the corpus's own furniture (mastheads, bylines, the beat's "
                                          "own words).")] = 0.5,
    min_df: Annotated[int, typer.Option(min=1, help="Leave out terms in fewer documents.")] = 2,
    exclude: Annotated[Optional[list[str]], typer.Option(help="Leave out this term too (repeatable).")] = None,
    sample: Annotated[int, typer.Option(min=4, help="Fit the topics on at most this many documents (drawn with the "
                                        "seed); every document gets its shares.")] = 5000,
    level: Annotated[float, typer.Option(min=0.5, max=0.999, help="Confidence level of the groups' intervals.")]
    = 0.95,
    keep_duplicates: KeepDuplicatesOption = False,
    plot: Annotated[Optional[Path], typer.Option(help="Also draw to this file (.png, .svg, .pdf): the top terms as "
                                                 "bars; with --by year, the shares over the years; with a region, "
                                                 "a heatmap of groups and topics.")] = None,
) -> None:
    """Topics: a topic model of the documents' terms (scikit-learn), NMF on TF-IDF by default.

    Columns: topic rank term weight (each topic's weights sum to 1 over the vocabulary);
    with --by doc: doc topic share (a document's shares sum to 1); with --by year,
    province, province,year, …: [group columns] topic documents share share_low share_high,
    the mean of the documents' shares with a Student-t 95% interval over the documents.
    Topics are numbered by prevalence.

    The vocabulary leaves out, by default: terms in more than --max-df (50%) of the
    documents (the corpus's own furniture: a broadcaster's 央视网 / 新闻联播 in every item,
    检察机关 in every procuratorate article; the note names them), terms in fewer than
    --min-df (2) documents, the bundled stopwords, terms without a Chinese character
    (numbers, Latin letters, converter pinyin) and every --exclude. A document left with
    no term has no shares and is left out (the note says how many).

    Example: policylex topics --k 20 --by province,year --format csv > shares.csv;
    policylex topics --k 8 --by year --plot topics.png
    """
    from policylex.topics import check_by, topic_model

    check_by(by)
    if plot is not None:
        from policylex.plots import check_plot_path

        check_plot_path(plot)  # before the fit, not after it
        if by == "doc":
            raise fail("--plot draws topics or groups: leave out --by, or group by year, province, …")
    with _reading(corpus) as store, progress_bar("topics") as update:
        _warn_if_not_tokenised(store)
        model = topic_model(store.dfm(include_duplicates=keep_duplicates), k, method=method, seed=seed, where=where,
                            max_df=max_df, min_df=min_df, exclude=exclude, sample=sample, progress=update)
    table = model.table(by, top=top, level=level)
    render(table, format)
    if plot is not None:
        from policylex.plots import topic_chart

        topic_chart(table, plot, labels=model.labels())
        _stderr().print(f"plot written to {plot}", markup=False)


@app.command()
def check(
    corpus: CorpusOption = DEFAULT_CORPUS,
    format: FormatOption = Format.table,
    quick: Annotated[bool, typer.Option("--quick", help="SQLite's quick_check instead of the full integrity_check.")] = False,
) -> None:
    """Verify the corpus file: SQLite integrity, each document's stages, sources, duplicates, the matrix cache.

    Status per check: ok, pending (re-run a command to finish the work) or failed.
    Exits 1 when a check failed.

    Example: policylex check --format csv
    """
    from policylex.check import check_corpus, check_table, passed

    with _open(corpus, readonly=True) as store:  # check_corpus reads one snapshot
        checks = check_corpus(store, quick=quick)
    render(check_table(checks), format)
    if not passed(checks):
        raise typer.Exit(1)


@app.command()
def report(
    paths: Annotated[Optional[list[str]], typer.Argument(
        help="Ingest these files and folders first, then tokenise (default settings).")] = None,
    corpus: CorpusOption = DEFAULT_CORPUS,
    out: Annotated[Path, typer.Option("--out", "-o", help="The folder for report.html and the CSV tables behind it; "
                                      "an earlier report there is replaced, any other folder must be empty.")]
    = Path("report"),
    top: Annotated[int, typer.Option(min=1, help="How many top terms.")] = 30,
    lexicon: LexiconOption = None,
    no_bundled: NoBundledOption = False,
) -> None:
    """The whole analysis in one HTML file (charts embedded, opens offline) plus its tables as CSV.

    Sections: the corpus (documents by year and province, skipped files), top terms,
    distinctive terms per province and per year (keyness of each against the rest),
    formulations with counts, their co-occurrence network, trends of the top
    formulations with 95% intervals (documents resampled), topics (NMF) with their
    shares by year and province, passages documents share (policylex reuse), and
    the settings and versions used (OpenCC variant,
    tokeniser and dictionaries, lexicon fingerprint, corpus hash). The folder is written
    whole or not at all. With PATH..., exits 1 after writing the report if ingest skipped
    a file or row, as ingest does.

    Example: policylex report --out report;  policylex report scraped/ --corpus new.db --out new-report
    """
    _check_outputs(corpus, ("--out", out))
    from policylex.report import ReportOptions, build_report

    options = ReportOptions(top_terms=top, lexicon=_lexicon(lexicon, no_bundled))
    with _open(corpus, create=bool(paths)) as store:
        skipped = _ingest(store, paths).failed if paths else []
        if paths:
            with progress_bar("tokenise") as update:
                _summary(store.tokenise(progress=update).summary(), "Tokenised")
        _warn_if_not_tokenised(store)
        with progress_bar("report") as update:
            path = build_report(store, out, options=options, progress=update)
    _stderr().print(f"report written to {path}", markup=False)
    if skipped:
        raise typer.Exit(1)


@app.command()
def log(
    corpus: CorpusOption = DEFAULT_CORPUS,
    format: FormatOption = Format.table,
    skipped: Annotated[bool, typer.Option("--skipped", help="Only skipped files and rows.")] = False,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Only the last N entries.")] = None,
) -> None:
    """The corpus's log: skipped files and rows with path, line and reason; one line per run.

    Example: policylex log --skipped --format csv
    """
    from policylex.overview import log_table

    with _reading(corpus) as store:
        render(log_table(store, level="skipped" if skipped else None, limit=limit), format)


# --- metadata: coverage and corrections --------------------------------------------------

meta_app = typer.Typer(cls=OneLineErrors, no_args_is_help=False, rich_markup_mode=None)  # help: meta_coverage's docstring
app.add_typer(meta_app, name="meta")


@meta_app.callback(invoke_without_command=True)
def meta_coverage(
    ctx: typer.Context,
    corpus: CorpusOption = DEFAULT_CORPUS,
    format: FormatOption = Format.table,
    keep_duplicates: KeepDuplicatesOption = False,
) -> None:
    """Metadata: how many documents have each field and from where (the default); `meta set` corrects it.

    Per field (title date year province city source url), the documents with it by origin.
    Columns: field origin documents share. origin is where the value came from:
    text, page, path, sidecar, the reader of a column or meta tag (csv tsv json
    jsonl html), set (`meta set`); none counts the documents without the field, so
    each field's rows sum to the documents counted (duplicates left out, as in the
    analyses). A long table: pivot it in pandas for one column per origin.

    Example: policylex meta --format csv > coverage.csv;  policylex meta set fixes.csv
    """
    if ctx.invoked_subcommand is not None:
        return
    from policylex.docmeta import coverage

    with _reading(corpus) as store:
        render(coverage(store, include_duplicates=keep_duplicates), format)


@meta_app.command("set")
def meta_set(
    file: Annotated[Path, typer.Argument(help="A UTF-8 CSV: a key column (id, name or path) and the fields to "
                                         "correct (title date year province city source url).")],
    corpus: CorpusOption = DEFAULT_CORPUS,
) -> None:
    """Correct metadata in bulk, without reading the documents' files again.

    One row per document, keyed by its id, its name or the path of a source file;
    an empty cell leaves the field as it is, `unknown` empties it. Regions resolve
    as at ingest (a city sets its province; a province no longer containing the
    stored city drops it), dates parse as at ingest; a bad cell, or a key matching
    several documents, fails the whole file and nothing is written. Keys matching no
    document are listed and the command exits 1. The analyses use the new values at
    once; each corrected field's origin becomes `set`.

    Example: policylex meta set fixes.csv   (fixes.csv: name,year,province / 2021_07,2021,广东)
    """
    from policylex.docmeta import set_metadata

    with _open(corpus) as store:
        report = set_metadata(store, file)
    _summary(report.summary(), f"Metadata set from {file}")
    for problem in report.problems():
        _stderr().print(f"not matched {problem}", markup=False, soft_wrap=True)
    if report.unmatched:
        raise typer.Exit(1)


def main() -> None:
    app(prog_name="policylex")
