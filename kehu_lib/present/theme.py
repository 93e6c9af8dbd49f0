"""One place owns the look of every chart: seaborn theme plus a CJK font for Chinese labels."""

from __future__ import annotations

from functools import lru_cache

import matplotlib
from matplotlib import font_manager

#: Fonts tried in order; the set-up installs Debian's fonts-noto-cjk.
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
             "WenQuanYi Zen Hei", "SimHei", "Microsoft YaHei", "PingFang SC", "Noto Serif CJK SC")

PALETTE = ["#1f5fa8", "#d1495b", "#edae49", "#00798c", "#6c757d", "#7b5ea7", "#66a182"]


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Name of an installed font with Chinese glyphs, or ``None`` if none is found."""
    names = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in names:
            return name
    return None


def set_theme(context: str = "notebook") -> None:
    """Apply kehu's chart theme: white grid, readable sizes, Chinese font, no minus-sign boxes."""
    import seaborn as sns

    sns.set_theme(context=context, style="whitegrid", palette=PALETTE)
    font = cjk_font()
    if font is not None:
        matplotlib.rcParams["font.family"] = "sans-serif"
        matplotlib.rcParams["font.sans-serif"] = [font, "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False
    matplotlib.rcParams["figure.dpi"] = 100
    matplotlib.rcParams["savefig.dpi"] = 100
    matplotlib.rcParams["figure.figsize"] = (8.0, 4.0)
    matplotlib.rcParams["axes.titlesize"] = 13
    matplotlib.rcParams["axes.titleweight"] = "bold"
    # Titles at the top of the axes (plus axes.titlepad), where matplotlib's automatic placement
    # puts them when no x ticks or offset text sit above the axes (none of the reports' charts
    # has any): it measured every title's y axis again at each layout and draw, a third of a
    # chart's drawing time.
    matplotlib.rcParams["axes.titley"] = 1.0
