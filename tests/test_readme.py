"""The README's examples are real output: run them on the seeds and compare."""

import re
import shlex

import pytest

from typer.testing import CliRunner

from conftest import ROOT
from policylex.cli import app
from policylex.overview import document_table

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands():
    block = README.split("```bash", 1)[1].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in block.strip().splitlines()] == ["make demo", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_seed_table_matches_the_corpus(seeds_corpus):
    section = README.split("## What the seeds come out as", 1)[1]
    rows = [line.strip("|").split("|") for line in section.splitlines() if re.match(r"\| 00\d_", line)]
    documented = {cells[0].strip(): tuple(c.strip() or None for c in cells[1:]) for cells in rows}
    actual = {
        r["name"]: (r["date"], str(r["year"]) if r["year"] else None, r["province"], r["city"], r["source"])
        for r in document_table(seeds_corpus).records()
    }
    assert documented == actual


def test_console_examples_print_what_the_readme_says(seeds_corpus):
    runner = CliRunner()
    examples = re.findall(r"```console\n\$ (policylex [^\n]+)\n(.*?)```", README, flags=re.S)
    assert examples
    for command, expected in examples:
        args = shlex.split(command)[1:] + ["--corpus", str(seeds_corpus.path)]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, command
        assert result.stdout == expected, command


@pytest.fixture
def demo_folder(_seeds_db, tmp_path, monkeypatch):
    """Where the README's commands would have left things: the seeds' corpus as policylex.db,
    seeds/ beside it, and corpus.jsonl from `policylex export`; the working directory."""
    import shutil

    from conftest import SEEDS
    from policylex import Corpus

    pytest.importorskip("pandas")  # the test extra installs it; the examples hand DataFrames over
    with Corpus.open(_seeds_db) as source:
        source.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(_seeds_db, tmp_path / "policylex.db")
    shutil.copytree(SEEDS, tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    exported = CliRunner().invoke(app, ["export", "--format", "jsonl", "-o", "corpus.jsonl"])
    assert exported.exit_code == 0, exported.output
    return tmp_path


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def run_block(block: str, source: str) -> tuple[dict, list]:
    """Run one example as the reader would (in the demo folder); its namespace and the DataFrames in it."""
    namespace: dict = {}
    exec(compile(block, source, "exec"), namespace)  # noqa: S102 - the documentation's own code
    return namespace, [v for v in namespace.values() if type(v).__name__ == "DataFrame"]


def test_python_examples_run(demo_folder):
    """Every ```python block of the README runs, and hands over the DataFrames it promises."""
    blocks = python_blocks(README)
    assert len(blocks) >= 5
    for block in blocks:
        _, frames = run_block(block, "README.md")
        assert frames, block
        if "find_reuse" not in block:  # the seeds share no passage: reuse's frames are empty, rightly
            assert all(len(frame) for frame in frames), block


API_PAGE = (ROOT / "docs" / "python-api.md").read_text(encoding="utf-8")


def test_the_python_api_page_runs(demo_folder):
    """docs/python-api.md: every block runs on the seeds, and its DataFrames hold rows."""
    blocks = python_blocks(API_PAGE)
    assert len(blocks) >= 6
    for block in blocks:
        namespace, frames = run_block(block, "docs/python-api.md")
        assert all(len(frame) for frame in frames), block
    assert "where: no such field 'colour'" in namespace["message"]


def test_the_python_api_page_shows_every_call_of_the_api():
    code = "\n".join(python_blocks(API_PAGE))
    for call in ("plx.open(", "corpus.dfm()", 'corpus.dfm(lexicon="bundled")', ".counts", ".features", ".docvars",
                 ".select(where=", ".group(", ".to_pandas()", ".to_scipy()", "plx.frequency(", "plx.tfidf(",
                 "plx.keyness(", "plx.collocations(", "plx.cooccurrence(", "plx.trends(", "plx.count_slogans(",
                 "plx.timeline(", "plx.topic_model(", "plx.kwic("):
        assert call in code, call
