"""Charts with Chinese labels: written in each format, and no missing-glyph warning."""

import logging
import subprocess
import sys
import warnings

import pytest

from policylex.measures import keyness, frequency, tfidf
from policylex.plots import bar_chart


def draw_capturing_warnings(draw, caplog):
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING, logger="matplotlib"):
        warnings.simplefilter("always")
        draw()
    messages = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
    return [m for m in messages if "Glyph" in m or "missing from" in m or "findfont" in m]


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
@pytest.mark.parametrize("kind", ["freq", "tfidf", "keyness"])
def test_chart_with_chinese_labels_has_no_missing_glyphs(seeds_corpus, tmp_path, caplog, kind, suffix):
    table = {
        "freq": lambda: frequency(seeds_corpus, by="province", top=5),
        "tfidf": lambda: tfidf(seeds_corpus, top=4),
        "keyness": lambda: keyness(seeds_corpus, ["province=辽宁省"], top=12),
    }[kind]()
    path = tmp_path / f"chart{suffix}"
    problems = draw_capturing_warnings(lambda: bar_chart(table, path, kind=kind, title="各省检察机关用语「檢察機關」"), caplog)
    assert problems == []
    assert path.stat().st_size > 5_000
    head = path.read_bytes()[:8]
    assert head.startswith({".png": b"\x89PNG", ".svg": b"<?xml", ".pdf": b"%PDF"}[suffix])


def test_the_check_would_see_tofu():
    # Without the bundled font, matplotlib's DejaVu Sans lacks the glyphs and says so:
    # the test above can fail.
    script = (
        "import warnings, matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt\n"
        "warnings.simplefilter('always')\n"
        "fig, ax = plt.subplots(); ax.set_title('公益诉讼'); fig.savefig('/dev/null', format='png')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert "missing from font" in result.stderr


def test_plot_from_the_cli(seeds_corpus, tmp_path):
    from typer.testing import CliRunner

    from policylex.cli import app

    path = tmp_path / "top.png"
    result = CliRunner().invoke(app, ["freq", "--top", "10", "--plot", str(path), "--corpus", str(seeds_corpus.path),
                                      "--format", "csv"])
    assert result.exit_code == 0 and path.exists()
    assert result.stdout.startswith("rank,term,count")
    assert f"plot written to {path}" in result.stderr


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
@pytest.mark.parametrize("kind", ["network", "heatmap", "timeline", "slogans"])
def test_slogan_charts_with_chinese_labels_have_no_missing_glyphs(seeds_corpus, tmp_path, caplog, kind, suffix):
    from policylex.plots import heatmap_chart, network_chart, timeline_chart
    from policylex.slogans import cooccurrence, count_slogans, timeline

    path = tmp_path / f"chart{suffix}"
    draw = {
        "network": lambda: network_chart(cooccurrence(seeds_corpus, top=30), path, measure="npmi"),
        "heatmap": lambda: heatmap_chart(cooccurrence(seeds_corpus, window="paragraph"), path, measure="pmi"),
        "timeline": lambda: timeline_chart(timeline(seeds_corpus, ["四大检察", "公益诉讼", "習近平法治思想"]), path),
        "slogans": lambda: bar_chart(count_slogans(seeds_corpus, by="province", top=4), path, kind="slogans"),
    }[kind]
    assert draw_capturing_warnings(draw, caplog) == []
    assert path.stat().st_size > 5_000


def test_nothing_to_plot_is_a_clear_error(seeds_corpus, tmp_path):
    from policylex.errors import UsageError
    from policylex.plots import timeline_chart
    from policylex.slogans import timeline

    with pytest.raises(UsageError, match="no dated document"):
        timeline_chart(timeline(seeds_corpus, ["双赢多赢共赢"]), tmp_path / "t.png")  # only in 004, which has no year


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
@pytest.mark.parametrize("by", ["year", "province,year", "province", None])
def test_trend_charts_with_chinese_labels_have_no_missing_glyphs(seeds_corpus, tmp_path, caplog, by, suffix):
    # by year: lines with bands and the unknown year apart; by province and year: a heatmap;
    # by province: sorted bars with whiskers; no groups: a bar per formulation
    from policylex.plots import trend_chart
    from policylex.trends import trends

    table = trends(seeds_corpus, ["四大检察", "公益诉讼", "習近平法治思想"], slogans=True, by=by)
    path = tmp_path / f"trend{suffix}"
    problems = draw_capturing_warnings(lambda: trend_chart(table, path, title="提法趋势「四大檢察」"), caplog)
    assert problems == []
    assert path.stat().st_size > 5_000
    assert path.read_bytes()[:8].startswith({".png": b"\x89PNG", ".svg": b"<?xml", ".pdf": b"%PDF"}[suffix])


def test_trend_chart_kind_follows_the_groups(seeds_corpus, tmp_path, monkeypatch):
    import policylex.plots as plots
    from policylex.trends import trends

    drawn = []
    for kind in ("_trend_lines", "_trend_heatmap", "_trend_bars"):
        real = getattr(plots, kind)
        monkeypatch.setattr(plots, kind, lambda *a, real=real, kind=kind: drawn.append(kind) or real(*a))
    for by in ("year", "city,year", "year,province", "city", "province,city"):
        plots.trend_chart(trends(seeds_corpus, ["工作"], by=by), tmp_path / "t.png")
    assert drawn == ["_trend_lines", "_trend_heatmap", "_trend_heatmap", "_trend_bars", "_trend_bars"]


def test_a_trend_chart_with_too_many_groups_is_a_clear_error(corpus, tmp_path):
    from policylex.errors import UsageError
    from policylex.plots import MAX_CHART_GROUPS, trend_chart
    from policylex.trends import trends

    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(MAX_CHART_GROUPS + 1):
        (folder / f"{i}.txt").write_text(f"第{i}号文件\n检察机关{'工作' * (i + 1)}。", encoding="utf-8")
    corpus.ingest([str(folder)])
    corpus.tokenise(workers=1)
    table = trends(corpus, ["工作"], by="doc", include_duplicates=True)  # the texts are alike: near-duplicates
    with pytest.raises(UsageError, match=f"{MAX_CHART_GROUPS + 1} groups are too many"):
        trend_chart(table, tmp_path / "t.png")
    assert not (tmp_path / "t.png").exists()
