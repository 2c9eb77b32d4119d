"""Charts of analysis tables, with Chinese labels that render on a fresh machine.

The only module that imports matplotlib.  A CJK font shipped with the project's
dependencies is registered with matplotlib before any drawing (see
:func:`use_cjk_font`), so labels never fall back to tofu boxes.
"""

from __future__ import annotations

import math
from pathlib import Path

from policylex.errors import UsageError
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
}


def bar_chart(table: Table, path: Path, *, kind: str, title: str | None = None) -> Path:
    """Horizontal bars of a freq, tfidf or keyness table; one panel per group (small multiples)."""
    path = _check_path(path)
    value_column, label_column, axis_label = _KINDS[kind]
    records = list(table.records())
    if not records:
        raise UsageError("nothing to plot: the table is empty")
    groups: dict[str, list[dict]] = {}
    for record in records:
        groups.setdefault(str(record.get("group", "")), []).append(record)
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
        ax.set_yticks(range(len(items)), [str(r[label_column]) for r in items])
        ax.set_xlabel(axis_label, fontsize=8)
        if group:
            ax.set_title(group, fontsize=10)
        ax.tick_params(labelsize=8)
        ax.spines[["top", "right"]].set_visible(False)
    for ax in list(axes.flat)[len(groups):]:
        ax.set_visible(False)
    fig.suptitle(title or table.title or "", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=200)
    plt.close(fig)
    return path
