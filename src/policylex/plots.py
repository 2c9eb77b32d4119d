"""Charts of analysis tables, with Chinese labels that render on a fresh machine.

The only module that imports matplotlib.  A CJK font shipped with the project's
dependencies is registered with matplotlib before any drawing (see
:func:`use_cjk_font`), so labels never fall back to tofu boxes.
"""

from __future__ import annotations

import math
from pathlib import Path

from policylex.errors import UsageError
from policylex.files import atomic_output
from policylex.output import Table

FORMATS = (".png", ".svg", ".pdf")
WIDTH_IN = 6.5  # a page's text width
BAR_HEIGHT_IN = 0.28


def cjk_font_file() -> Path:
    """Noto Sans SC (SIL OFL 1.1), installed with the pylopdf-fonts-zh-cn package.

    It covers simplified and traditional characters and CJK punctuation.
    """
    from importlib.resources import files

    path = Path(str(files("pylopdf_fonts_zh_cn").joinpath("NotoSansSC-Regular.otf")))
    if not path.is_file():  # pragma: no cover - a broken install
        raise UsageError(f"the CJK font is missing ({path}); reinstall policylex")
    return path


def cjk_font_subset(text: str) -> bytes:
    """The CJK font cut down to the non-ASCII characters of ``text`` (OpenType bytes, tens of KB).

    For HTML that must show Chinese on a machine without a CJK font: the page
    embeds only the glyphs it uses.  fontTools comes with matplotlib.
    """
    import io

    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.notdef_outline = True
    font = TTFont(str(cjk_font_file()))
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted({ord(c) for c in text if ord(c) > 127}))
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


_registered: str | None = None


def use_cjk_font() -> str:
    """Register the CJK font with matplotlib once and make it the default; returns its family."""
    global _registered
    if _registered is None:
        import matplotlib

        matplotlib.use("Agg")  # no display needed; set before pyplot is imported
        from matplotlib import font_manager, rcParams

        path = cjk_font_file()
        font_manager.fontManager.addfont(str(path))
        family = font_manager.FontProperties(fname=str(path)).get_name()
        rcParams["font.family"] = "sans-serif"
        rcParams["font.sans-serif"] = [family] + [f for f in rcParams["font.sans-serif"] if f != family]
        rcParams["axes.unicode_minus"] = False  # the font may lack U+2212
        # pdf.fonttype stays 3: matplotlib's type-42 embedding of this CFF-outline
        # font gives PDFs whose CJK glyphs do not render (seen with pdftoppm).
        rcParams["svg.fonttype"] = "path"  # SVG readers need not have the font
        _registered = family
    return _registered


def check_plot_path(path: Path) -> Path:
    """A chart's path, checked before the work that makes the chart: a known suffix, an existing folder."""
    return _check_path(path)


def _check_path(path: Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise UsageError(f"--plot {path}: write .png, .svg or .pdf")
    if not path.parent.exists():
        raise UsageError(f"--plot {path}: folder {path.parent} does not exist")
    return path


# What each table's bars show: (value column, label column, axis label)
_KINDS = {
    "freq": ("per_10k", "term", "每万词出现次数 (per 10,000 tokens)"),
    "tfidf": ("tfidf", "term", "TF-IDF"),
    "keyness": ("G2", "term", "G² (对数似然 log-likelihood)"),
    "slogans": ("per_10k_chars", "slogan", "每万字出现次数 (per 10,000 characters)"),
    "topics": ("weight", "term", "权重 weight (share of the topic)"),
    "slogans_family": ("per_10k_chars", "family", "每万字出现次数 (per 10,000 characters)"),
    "slogans_category": ("per_10k_chars", "category", "每万字出现次数 (per 10,000 characters)"),
}
LABEL_CHARS = 14  # longer formulations are cut with … so a panel keeps its width


def short_label(text: str, limit: int = LABEL_CHARS) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    try:
        # The format named, not taken from the temporary file's name.
        with atomic_output(path, f"plot {path}") as partial:
            fig.savefig(partial, dpi=200, format=path.suffix.lower().lstrip("."))
    finally:
        plt.close(fig)
    return path


def bar_chart(table: Table, path: Path, *, kind: str, title: str | None = None) -> Path:
    """Horizontal bars of a freq, tfidf or keyness table; one panel per group (small multiples)."""
    path = _check_path(path)
    value_column, label_column, axis_label = _KINDS[kind]
    records = list(table.records())
    if not records:
        raise UsageError("nothing to plot: the table is empty")
    # The group: the ``group`` column, or (freq --by province,year) the fields before ``rank``, codes left out.
    fields = [c for c in table.columns[: list(table.columns).index("rank")] if not c.endswith("_code")]
    groups: dict[str, list[dict]] = {}
    for record in records:
        groups.setdefault(" ".join(str(record[f]) for f in fields), []).append(record)
    use_cjk_font()
    import matplotlib.pyplot as plt

    columns = 1 if len(groups) == 1 else 2
    rows = math.ceil(len(groups) / columns)
    longest = max(len(g) for g in groups.values())
    height = max(2.0, rows * (longest * BAR_HEIGHT_IN + 0.8))
    fig, axes = plt.subplots(rows, columns, figsize=(WIDTH_IN, height), squeeze=False)
    for ax, (group, items) in zip(axes.flat, groups.items()):
        items = items[::-1]  # largest at the top
        values = [float(r[value_column]) for r in items]
        colours = ["#4C72B0" if v >= 0 else "#C44E52" for v in values]
        ax.barh(range(len(items)), values, color=colours)
        ax.set_yticks(range(len(items)), [short_label(r[label_column]) for r in items])
        ax.set_xlabel(axis_label, fontsize=8)
        if group:
            ax.set_title(group, fontsize=10)
        ax.tick_params(labelsize=8)
        ax.spines[["top", "right"]].set_visible(False)
    for ax in list(axes.flat)[len(groups):]:
        ax.set_visible(False)
    fig.suptitle(title or table.title or "", fontsize=11)
    fig.tight_layout()
    return _save(fig, path)


def _pairs(table: Table, measure: str) -> tuple[list[str], dict[str, int], list[tuple[str, str, float]]]:
    """Nodes (by frequency), each node's unit count, and the edges with their measure, from a co-occurrence table."""
    records = list(table.records())
    if not records:
        raise UsageError("nothing to plot: no pair of formulations co-occurs")
    counts: dict[str, int] = {}
    edges = []
    for r in records:
        counts[r["slogan_a"]] = r["count_a"]
        counts[r["slogan_b"]] = r["count_b"]
        edges.append((r["slogan_a"], r["slogan_b"], float(r[measure])))
    nodes = sorted(counts, key=lambda n: (-counts[n], n))
    return nodes, counts, edges


def network_chart(table: Table, path: Path, *, measure: str = "npmi", title: str | None = None) -> Path:
    """A co-occurrence network: nodes sized by how many units hold the formulation, edges by ``measure``.

    Only pairs with a positive measure are drawn (a negative one means the two
    avoid each other).  The layout is networkx's spring layout with a fixed
    seed, so the same table always gives the same picture.
    """
    path = _check_path(path)
    nodes, counts, edges = _pairs(table, measure)
    positive = [(a, b, w) for a, b, w in edges if w > 0]
    use_cjk_font()
    import matplotlib.pyplot as plt
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(nodes)
    graph.add_weighted_edges_from(positive)
    layout = nx.spring_layout(graph, seed=7, weight="weight", k=1.5 / max(1, len(nodes)) ** 0.5)
    top_weight = max((w for _, _, w in positive), default=1.0)
    top_count = max(counts.values())
    fig, ax = plt.subplots(figsize=(WIDTH_IN, WIDTH_IN * 0.8))
    for a, b, w in positive:
        (xa, ya), (xb, yb) = layout[a], layout[b]
        ax.plot([xa, xb], [ya, yb], color="#8C8C8C", linewidth=0.4 + 3.0 * w / top_weight, alpha=0.6, zorder=1)
    xs = [layout[n][0] for n in nodes]
    ys = [layout[n][1] for n in nodes]
    sizes = [40 + 600 * counts[n] / top_count for n in nodes]
    ax.scatter(xs, ys, s=sizes, color="#4C72B0", alpha=0.85, zorder=2)
    for n, x, y in zip(nodes, xs, ys):
        ax.annotate(short_label(n), (x, y), fontsize=7, ha="center", va="bottom", xytext=(0, 6),
                    textcoords="offset points", zorder=3)
    ax.set_axis_off()
    ax.set_title(title or f"{table.title or '共现网络'} (边: {measure})", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def heatmap_chart(table: Table, path: Path, *, measure: str = "npmi", title: str | None = None,
                  limit: int = 30) -> Path:
    """The co-occurrence matrix of the ``limit`` most frequent formulations, coloured by ``measure``."""
    path = _check_path(path)
    nodes, _, edges = _pairs(table, measure)
    nodes = nodes[:limit]
    index = {n: i for i, n in enumerate(nodes)}
    use_cjk_font()
    import matplotlib.pyplot as plt
    import numpy as np

    grid = np.full((len(nodes), len(nodes)), np.nan)
    for a, b, w in edges:
        if a in index and b in index:
            grid[index[a], index[b]] = grid[index[b], index[a]] = w
    side = min(WIDTH_IN, 2.0 + 0.22 * len(nodes))
    fig, ax = plt.subplots(figsize=(side + 1.0, side))
    image = ax.imshow(grid, cmap="viridis")
    labels = [short_label(n, 10) for n in nodes]
    ax.set_xticks(range(len(nodes)), labels, rotation=90, fontsize=6)
    ax.set_yticks(range(len(nodes)), labels, fontsize=6)
    fig.colorbar(image, ax=ax, shrink=0.8, label=measure)
    ax.set_title(title or f"{table.title or '共现矩阵'} ({measure}; 空白: 未共现)", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def _date_value(iso: str):
    """A partial ISO date (2021, 2021-02, 2021-02-25) as a date, at the start of what it names."""
    from datetime import date

    parts = [int(p) for p in iso.split("-")]
    return date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def timeline_chart(table: Table, path: Path, *, title: str | None = None) -> Path:
    """When each province first (dot) and last (line end) used each formulation: one panel per formulation."""
    path = _check_path(path)
    panels: dict[str, list[dict]] = {}
    for r in table.records():
        if r["first_date"]:
            panels.setdefault(r["slogan"], []).append(r)
    if not panels:
        raise UsageError("nothing to plot: no dated document uses these formulations")
    use_cjk_font()
    import matplotlib.pyplot as plt

    longest = max(len(rows) for rows in panels.values())
    fig, axes = plt.subplots(len(panels), 1, squeeze=False, sharex=True,
                             figsize=(WIDTH_IN, max(2.0, len(panels) * (0.9 + longest * BAR_HEIGHT_IN))))
    for ax, (slogan, rows) in zip(axes.flat, panels.items()):
        rows = sorted(rows, key=lambda r: (r["first_date"], r["province"]))[::-1]
        for y, r in enumerate(rows):
            first, last = _date_value(r["first_date"]), _date_value(r["last_date"])
            ax.plot([first, last], [y, y], color="#4C72B0", linewidth=2, alpha=0.5)
            ax.scatter([first], [y], color="#4C72B0", s=25, zorder=3)
        ax.set_yticks(range(len(rows)), [r["province"] for r in rows], fontsize=8)
        ax.set_title(short_label(slogan, 30), fontsize=10)
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_ylim(-0.7, len(rows) - 0.3)
    axes.flat[-1].set_xlabel("首次使用 (点) 至最近一次 (线)  first use (dot) to latest (line)", fontsize=8)
    fig.autofmt_xdate()
    fig.suptitle(title or table.title or "", fontsize=11)
    fig.tight_layout()
    return _save(fig, path)


# --- trends ------------------------------------------------------------------------

_PER_LABELS = {
    "10k_tokens": "每万词 (per 10,000 tokens)",
    "10k_chars": "每万字 (per 10,000 characters)",
    "doc": "每篇 (per document)",
}
_UNKNOWN_LABEL = "未知 unknown"
_MANY_YEARS = 12  # beyond this, year ticks are rotated and lose their document counts
MAX_CHART_GROUPS = 80  # bars or heatmap rows in one panel: every prefecture of a province, not every document


def trend_chart(table: Table, path: Path, *, title: str | None = None) -> Path:
    """A trends table (see :mod:`policylex.trends`) as a chart; the kind follows its groups.

    By year: one line per term with its interval as a band, the unknown year
    as a separate point after a dashed rule.  By a region (or source) and year:
    a heatmap per term, grey where the group has no documents.  By a region
    alone (or no group): sorted horizontal bars with interval whiskers, one
    panel per term.  Document counts (n) stand beside the groups they belong to.
    """
    path = _check_path(path)
    records = [r for r in table.records()]
    if not records:
        raise UsageError("nothing to plot: the table is empty")
    columns = list(table.columns)
    fields = [c for c in columns[columns.index("kind") + 1: columns.index("documents")] if not c.endswith("_code")]
    rows_per_panel = len({tuple(r[f] for f in fields if f != "year") for r in records})
    if rows_per_panel > MAX_CHART_GROUPS:
        raise UsageError(f"--plot: {rows_per_panel} groups are too many to read in one chart (at most "
                         f"{MAX_CHART_GROUPS}); group by a coarser field or select fewer with --where")
    use_cjk_font()
    if fields == ["year"]:
        fig = _trend_lines(records)
    elif "year" in fields:
        fig = _trend_heatmap(records, [f for f in fields if f != "year"])
    else:
        fig = _trend_bars(records, fields)
    fig.suptitle(title or table.title or "", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def _terms(records: list[dict]) -> list[str]:
    return list(dict.fromkeys(r["term"] for r in records))


def _is_unknown(value) -> bool:
    return value == "unknown"


def _trend_lines(records: list[dict]):
    import matplotlib.pyplot as plt

    known = sorted({r["year"] for r in records if not _is_unknown(r["year"])})
    unknown_x = (known[-1] + 1.5) if known else 0.0
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 3.8))
    for i, term in enumerate(_terms(records)):
        colour = f"C{i % 10}"
        rows = [r for r in records if r["term"] == term and r["rate"] is not None]
        dated = [r for r in rows if not _is_unknown(r["year"])]
        xs = [r["year"] for r in dated]
        ax.plot(xs, [r["rate"] for r in dated], marker="o", markersize=3.5, color=colour, label=short_label(term, 20))
        ax.fill_between(xs, [r["rate_low"] for r in dated], [r["rate_high"] for r in dated], color=colour,
                        alpha=0.15, linewidth=0)
        for r in rows:
            if _is_unknown(r["year"]):
                ax.errorbar([unknown_x], [r["rate"]], yerr=[[r["rate"] - r["rate_low"]], [r["rate_high"] - r["rate"]]],
                            fmt="o", markersize=3.5, color=colour, capsize=3)
    _year_axis(ax, records, known, unknown_x, _PER_LABELS[records[0]["per"]])
    ax.legend(fontsize=7, frameon=False)
    return fig


def _year_axis(ax, records: list[dict], known: list[int], unknown_x: float, ylabel: str) -> None:
    """Year ticks with each year's documents (n), the unknown year apart after a dashed rule, the labels."""
    documents = {r["year"]: r["documents"] for r in records}
    ticks = known + ([unknown_x] if "unknown" in documents else [])
    names = [str(y) for y in known] + ([_UNKNOWN_LABEL] if "unknown" in documents else [])
    if len(known) <= _MANY_YEARS:
        counts = [documents[y] for y in known] + ([documents["unknown"]] if "unknown" in documents else [])
        ax.set_xticks(ticks, [f"{name}\nn={n}" for name, n in zip(names, counts)], fontsize=7)
    else:
        ax.set_xticks(ticks, names, fontsize=7, rotation=90)
    if known and "unknown" in documents:
        ax.axvline(known[-1] + 0.75, color="#999999", linestyle="--", linewidth=0.8)
    ax.set_ylim(bottom=0)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.set_xlabel("年份 (year); n = 文档数 (documents); 阴影: 95% 区间 (shaded: 95% interval)", fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)


def _group_label(record: dict, fields: list[str]) -> str:
    return " ".join(_UNKNOWN_LABEL if _is_unknown(record[f]) else str(record[f]) for f in fields)


def _trend_heatmap(records: list[dict], row_fields: list[str]):
    import matplotlib.pyplot as plt
    import numpy as np

    years = sorted({r["year"] for r in records}, key=lambda y: (_is_unknown(y), str(y)))
    labels = list(dict.fromkeys(_group_label(r, row_fields) for r in records))
    terms = _terms(records)
    panel_height = 0.9 + 0.24 * len(labels)
    fig, axes = plt.subplots(len(terms), 1, squeeze=False, figsize=(WIDTH_IN, max(2.4, len(terms) * panel_height)))
    annotate = len(labels) * len(years) <= 150
    for ax, term in zip(axes.flat, terms):
        grid = np.full((len(labels), len(years)), np.nan)
        for r in records:
            if r["term"] == term and r["rate"] is not None:
                grid[labels.index(_group_label(r, row_fields)), years.index(r["year"])] = r["rate"]
        colours = plt.get_cmap("viridis").with_extremes(bad="#E6E6E6")
        image = ax.imshow(grid, aspect="auto", cmap=colours)
        if annotate:
            top = np.nanmax(grid) if np.isfinite(grid).any() else 0.0
            for (i, j), value in np.ndenumerate(grid):
                if np.isfinite(value):
                    ax.text(j, i, f"{value:.3g}", ha="center", va="center", fontsize=6,
                            color="white" if value < 0.6 * top else "black")
        ax.set_xticks(range(len(years)), [_UNKNOWN_LABEL if _is_unknown(y) else str(y) for y in years], fontsize=7,
                      rotation=90 if len(years) > _MANY_YEARS else 0)
        ax.set_yticks(range(len(labels)), [short_label(label, 18) for label in labels], fontsize=7)
        ax.set_title(f"{short_label(term, 30)} (灰色: 无文档 grey: no documents)", fontsize=9)
        bar = fig.colorbar(image, ax=ax, shrink=0.9)
        bar.set_label(_PER_LABELS[records[0]["per"]], fontsize=7)
        bar.ax.tick_params(labelsize=7)
    return fig


def _trend_bars(records: list[dict], fields: list[str]):
    import matplotlib.pyplot as plt

    terms = _terms(records)
    if fields:
        panels = {term: [r for r in records if r["term"] == term] for term in terms}
    else:  # no groups: one panel, a bar per term
        panels = {"": records}
    longest = max(len(rows) for rows in panels.values())
    columns = 1 if len(panels) == 1 else 2
    rows_of_panels = math.ceil(len(panels) / columns)
    fig, axes = plt.subplots(rows_of_panels, columns, squeeze=False,
                             figsize=(WIDTH_IN, max(2.0, rows_of_panels * (longest * BAR_HEIGHT_IN + 0.9))))
    for ax, (term, rows) in zip(axes.flat, panels.items()):
        rows = [r for r in rows if r["rate"] is not None]
        group = (lambda r: _group_label(r, fields)) if fields else (lambda r: short_label(r["term"]))
        def unknown(r: dict) -> bool:
            return any(_is_unknown(r[f]) for f in fields)

        rows = sorted(rows, key=lambda r: (unknown(r), -r["rate"]))[::-1]  # largest at the top, unknown at the bottom
        values = [r["rate"] for r in rows]
        errors = [[r["rate"] - r["rate_low"] for r in rows], [r["rate_high"] - r["rate"] for r in rows]]
        colours = ["#999999" if unknown(r) else "#4C72B0" for r in rows]
        ax.barh(range(len(rows)), values, xerr=errors, color=colours, error_kw={"elinewidth": 0.8, "capsize": 2})
        ax.set_yticks(range(len(rows)), [f"{short_label(group(r))} (n={r['documents']})" for r in rows], fontsize=7)
        if term:
            ax.set_title(short_label(term, 30), fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
        ax.spines[["top", "right"]].set_visible(False)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.supxlabel(_PER_LABELS[records[0]["per"]] + "; 须线: 95% 区间 (whiskers: 95% interval)", fontsize=8)
    return fig


# --- topics ------------------------------------------------------------------------


def topic_chart(table: Table, path: Path, *, labels: list[str], title: str | None = None) -> Path:
    """A topics table (see :mod:`policylex.topics`) as a chart; the kind follows its columns.

    The top terms (``topic rank term weight``): bars, one panel per topic.
    Shares by year: one line per topic with its interval as a band, the unknown
    year as a point apart.  Shares by a region (or several fields): a heatmap,
    a row per group and a column per topic, each cell the mean share.
    ``labels``: one per topic (``1 海洋·经略·战略``), for legends and axes.
    """
    path = _check_path(path)
    records = list(table.records())
    if not records:
        raise UsageError("nothing to plot: the table is empty")
    columns = list(table.columns)
    if "term" in columns:
        shown = Table(("group",) + tuple(columns), [(labels[r["topic"] - 1],) + tuple(r.values()) for r in records],
                      title=table.title)
        return bar_chart(shown, path, kind="topics", title=title or table.title)
    if "doc" in columns:
        raise UsageError("--plot draws topics or groups, not documents")
    fields = [c for c in columns[: columns.index("topic")] if not c.endswith("_code")]
    groups = list(dict.fromkeys(tuple(r[f] for f in fields) for r in records))
    if len(groups) > MAX_CHART_GROUPS:
        raise UsageError(f"--plot: {len(groups)} groups are too many to read in one chart (at most "
                         f"{MAX_CHART_GROUPS}); group by a coarser field or select fewer with --where")
    use_cjk_font()
    fig = _topic_lines(records, labels) if fields == ["year"] else _topic_heatmap(records, fields, groups, labels)
    fig.suptitle(title or table.title or "", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def _topic_lines(records: list[dict], labels: list[str]):
    import matplotlib.pyplot as plt

    known = sorted({r["year"] for r in records if not _is_unknown(r["year"])})
    unknown_x = (known[-1] + 1.5) if known else 0.0
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 4.2))
    for topic in sorted({r["topic"] for r in records}):
        colour = f"C{(topic - 1) % 10}"
        style = "-" if topic <= 10 else "--"  # past ten topics the colours repeat: the line style tells them apart
        rows = [r for r in records if r["topic"] == topic]
        dated = [r for r in rows if not _is_unknown(r["year"])]
        xs = [r["year"] for r in dated]
        ax.plot(xs, [r["share"] for r in dated], style, marker="o", markersize=3, color=colour,
                label=short_label(labels[topic - 1], 18))
        banded = [r for r in dated if r["share_low"] is not None]
        ax.fill_between([r["year"] for r in banded], [r["share_low"] for r in banded],
                        [r["share_high"] for r in banded], color=colour, alpha=0.1, linewidth=0)
        for r in rows:
            if _is_unknown(r["year"]):
                spread = None if r["share_low"] is None else [[r["share"] - r["share_low"]],
                                                              [r["share_high"] - r["share"]]]
                ax.errorbar([unknown_x], [r["share"]], yerr=spread, fmt="o", markersize=3, color=colour, capsize=3)
    _year_axis(ax, records, known, unknown_x, "平均主题比例 (mean topic share)")
    ax.legend(fontsize=6, frameon=False, ncol=2 if len(labels) > 8 else 1, loc="upper left",
              bbox_to_anchor=(1.0, 1.0))
    return fig


def _topic_heatmap(records: list[dict], fields: list[str], groups: list[tuple], labels: list[str]):
    import matplotlib.pyplot as plt
    import numpy as np

    topics = sorted({r["topic"] for r in records})
    grid = np.full((len(groups), len(topics)), np.nan)
    documents = {}
    for r in records:
        key = tuple(r[f] for f in fields)
        grid[groups.index(key), topics.index(r["topic"])] = r["share"]
        documents[key] = r["documents"]
    height = max(2.6, 1.6 + 0.24 * len(groups))
    fig, ax = plt.subplots(figsize=(WIDTH_IN, height))
    image = ax.imshow(grid, aspect="auto", cmap="viridis", vmin=0)
    if len(groups) * len(topics) <= 200:
        top = np.nanmax(grid) if np.isfinite(grid).any() else 0.0
        for (i, j), value in np.ndenumerate(grid):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=5.5,
                    color="white" if value < 0.6 * top else "black")
    ax.set_xticks(range(len(topics)), [short_label(labels[t - 1], 12) for t in topics], rotation=90, fontsize=6)
    names = [" ".join(_UNKNOWN_LABEL if _is_unknown(v) else str(v) for v in key) for key in groups]
    ax.set_yticks(range(len(groups)), [f"{short_label(name, 16)} (n={documents[key]})"
                                       for name, key in zip(names, groups)], fontsize=7)
    bar = fig.colorbar(image, ax=ax, shrink=0.9)
    bar.set_label("平均主题比例 (mean topic share)", fontsize=7)
    bar.ax.tick_params(labelsize=7)
    return fig


# --- text reuse ----------------------------------------------------------------------


def borrowing_chart(table: Table, path: Path, *, title: str | None = None) -> Path:
    """A borrowing matrix (:meth:`policylex.reuse.Reuse.matrix`) as two heatmaps, horizontal and vertical.

    Rows are the groups taken from (the earlier document's), columns the groups
    taking (the later's); a cell's colour is the characters shared, its label the
    pairs.  Grey: no pair.  Groups are in the order of their total characters.
    """
    path = _check_path(path)
    records = list(table.records())
    if not records:
        raise UsageError("nothing to plot: no pair of documents shares a passage with a direction")
    totals: dict[str, int] = {}
    for r in records:
        for group in (r["from"], r["to"]):
            totals[group] = totals.get(group, 0) + r["horizontal_chars"] + r["vertical_chars"]
    groups = sorted(totals, key=lambda g: (-totals[g], g))
    if len(groups) > MAX_CHART_GROUPS:
        raise UsageError(f"--plot: {len(groups)} groups are too many to read in one chart (at most "
                         f"{MAX_CHART_GROUPS}); group by a coarser field or select fewer with --where")
    index = {g: i for i, g in enumerate(groups)}
    top = max(max(r["horizontal_chars"], r["vertical_chars"]) for r in records)
    use_cjk_font()
    import matplotlib.pyplot as plt
    import numpy as np

    side = min(WIDTH_IN / 2, 1.2 + 0.3 * len(groups))
    fig, axes = plt.subplots(1, 2, figsize=(WIDTH_IN, side + 1.4), squeeze=False)
    cmap = plt.get_cmap("viridis").with_extremes(bad="#EEEEEE")
    for ax, (kind, label) in zip(axes.flat, (("horizontal", "横向借用 horizontal"), ("vertical", "经由中央 via the centre"))):
        grid = np.full((len(groups), len(groups)), np.nan)
        pairs = np.zeros((len(groups), len(groups)), dtype=int)
        for r in records:
            if r[f"{kind}_pairs"]:
                grid[index[r["from"]], index[r["to"]]] = r[f"{kind}_chars"]
                pairs[index[r["from"]], index[r["to"]]] = r[f"{kind}_pairs"]
        image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=0, vmax=top)  # one scale: panels compare
        if len(groups) <= 20:
            for (i, j), n in np.ndenumerate(pairs):
                if n:
                    ax.text(j, i, str(n), ha="center", va="center", fontsize=6, color="white")
        labels = [short_label(g, 8) for g in groups]
        ax.set_xticks(range(len(groups)), labels, rotation=90, fontsize=7)
        ax.set_yticks(range(len(groups)), labels, fontsize=7)
        ax.set_xlabel("借入 taken by (later)", fontsize=8)
        ax.set_ylabel("借出 taken from (earlier)", fontsize=8)
        ax.set_title(label, fontsize=9)
        bar = fig.colorbar(image, ax=ax, shrink=0.7)
        bar.set_label("共享字数 characters", fontsize=7)
        bar.ax.tick_params(labelsize=7)
    fig.suptitle(title or "文本借用 Borrowing (数字: 文档对 pairs)", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)
