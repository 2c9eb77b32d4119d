"""The benchmark's smoke test: the whole run on a small corpus, checking the table's shape, never its times."""

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import corpus as synthetic  # noqa: E402
import run  # noqa: E402


def test_documents_are_deterministic_and_about_3kb():
    texts = [synthetic.document_text(i) for i in range(200)]
    assert texts == [synthetic.document_text(i) for i in range(200)]
    sizes = [len(t.encode("utf-8")) for t in texts]
    assert 2400 < sum(sizes) / len(sizes) < 3600
    assert any("會" in t or "檢" in t for t in texts) and any("检察" in t for t in texts)  # both scripts


def test_benchmark_runs_and_prints_one_table(tmp_path, capsys):
    result = run.main(["--sizes", "1000", "--workdir", str(tmp_path)])
    out = capsys.readouterr().out
    assert out.startswith(f"cores: {result.cores};")
    stages = {row.stage: row for row in result.rows}
    for name in ("ingest", "normalise", "tokenise", "matrix", "freq", "tfidf", "keyness", "ingest +10",
                 "tokenise +10", "tokenise --no-hmm", "corpus file", "--help"):
        assert name in stages, name
        assert f"| {name} |" in out
    for name in ("ingest", "normalise", "tokenise", "tokenise --no-hmm"):
        assert stages[name].mb_per_s > 0 and stages[name].peak_mb > 0
    assert stages["tokenise"].ratio > 0 and stages["tokenise --no-hmm"].ratio > 0 and stages["freq"].ratio > 0
    documents = stages["tokenise"].docs
    assert stages["tokenise"].note == f"tokens identical to jieba's: {documents}/{documents} documents"
    assert stages["tokenise +10"].note == "re-tokenised 10 documents"
    for name in ("slogans", "slogans again", "trends", "trends bootstrap", "topics", "reuse", "report"):  # ran, or said why not
        assert stages[name].seconds is not None or stages[name].note.startswith("skipped"), name
    for row in result.rows:  # every stage either ran or says why not
        assert row.seconds is not None or row.mb is not None or row.note.startswith("skipped")
