"""Survey charts: diverging stacked bars centred on neutral, and the IPA chart.

Both take the tidy outputs of :mod:`kehu_lib.metrics.survey` and return the matplotlib Axes;
the look comes from :func:`kehu_lib.present.theme.set_theme`.
"""

from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter
import numpy as np
import pandas as pd

from . import glossary

__all__ = ["ANSWER_LABELS", "diverging_bars", "ipa_chart", "change_chart"]

#: Chinese labels of the 5-point answers (1 = 很不满意 ... 5 = 很满意), from the glossary.
ANSWER_LABELS = {int(k): v for k, v in glossary.code_names("answer").items()}
_COLORS = {1: "#b2182b", 2: "#ef8a62", 3: "#bdbdbd", 4: "#67a9cf", 5: "#2166ac"}


def diverging_bars(counts: pd.DataFrame, *, labels: Mapping[str, str] | None = None,
                   title: str = "各题目满意度分布", ax=None):
    """Diverging stacked bars of the answer shares per item, centred on the neutral answer.

    ``counts``: one row per item with ``share_1``..``share_5`` (:func:`item_counts`). The
    neutral share (一般) is split half left, half right of 0; 不满意 answers extend left,
    满意 answers right. x axis: share of valid answers (%).
    """
    need = [f"share_{a}" for a in range(1, 6)]
    missing = [c for c in ["item"] + need if c not in counts.columns]
    if missing:
        raise ValueError(f"counts lacks column(s) {missing}; pass the output of item_counts()")
    df = counts.set_index("item")[need].fillna(0.0) * 100
    names = [dict(labels or {}).get(i, i) for i in df.index]
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 0.45 * len(df) + 1.5))
    y = np.arange(len(df))
    left = -(df["share_1"] + df["share_2"] + df["share_3"] / 2)
    for a in range(1, 6):
        width = df[f"share_{a}"]
        ax.barh(y, width, left=left, color=_COLORS[a], label=ANSWER_LABELS[a], height=0.7)
        left = left + width
    ax.axvline(0, color="#333333", lw=1)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    lim = max(50.0, float(np.nanmax(np.abs(np.r_[left, -(df["share_1"] + df["share_2"]
                                                           + df["share_3"] / 2)]))) + 5)
    ax.set_xlim(-lim, lim)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{abs(v):.0f}"))
    ax.set_xlabel("占有效回答比例（%）：左为不满意，右为满意")
    ax.set_title(title)
    ax.legend(ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
    return ax


def ipa_chart(ipa: pd.DataFrame, *, title: str = "重要性-表现分析（IPA）", ax=None):
    """Importance-performance chart: items as points, cut lines at the means, and the
    "优先改进" (fix first: important but below-average) quadrant shaded.

    ``ipa``: output of :func:`kehu_lib.metrics.survey.ipa_table`.
    """
    if ipa.empty:
        raise ValueError("ipa table is empty: no item has both a score and an importance")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 6))
    p_cut = ipa.attrs.get("performance_cut", ipa["performance"].mean())
    i_cut = ipa.attrs.get("importance_cut", ipa["importance"].mean())
    pad_x = max(2.0, (ipa["performance"].max() - ipa["performance"].min()) * 0.15)
    pad_y = max(0.02, (ipa["importance"].max() - ipa["importance"].min()) * 0.15)
    x0, x1 = ipa["performance"].min() - pad_x, ipa["performance"].max() + pad_x
    y0, y1 = ipa["importance"].min() - pad_y, ipa["importance"].max() + pad_y
    ax.axvspan(x0, p_cut, ymin=(i_cut - y0) / (y1 - y0), ymax=1, color="#d1495b", alpha=0.12)
    ax.axvline(p_cut, color="#666666", ls="--", lw=1)
    ax.axhline(i_cut, color="#666666", ls="--", lw=1)
    colors = np.where(ipa["fix_first"], "#d1495b", "#1f5fa8")
    ax.scatter(ipa["performance"], ipa["importance"], c=colors, s=60, zorder=3)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    labels = [str(v) for v in ipa["label"]]
    offsets = label_offsets(ax, ipa["performance"].to_numpy(float),
                            ipa["importance"].to_numpy(float), labels, fontsize=9)
    for text, x, y, off in zip(labels, ipa["performance"], ipa["importance"], offsets):
        ax.annotate(text, (x, y), fontsize=9, xytext=off, textcoords="offset points",
                    va="bottom", ha="left")
    q = glossary.code_names("ipa_quadrant")
    ax.text(x0, y1, f" {q['fix_first']}", va="top", ha="left", color="#d1495b", fontweight="bold")
    ax.text(x1, y1, f"{q['keep_up']} ", va="top", ha="right", color="#333333")
    ax.text(x0, y0, f" {q['low_priority']}", va="bottom", ha="left", color="#333333")
    ax.text(x1, y0, f"{q['overkill']} ", va="bottom", ha="right", color="#333333")
    ax.set_xlabel("表现：题目得分（分，百分制）")
    ax.set_ylabel("重要性：与总体满意度的相关")
    ax.set_title(title)
    return ax


#: Candidate label positions around a point, in order of preference: (fx, fy) place the
#: label's lower-left corner at x + fx[0] * w + fx[1], y + fy[0] * h + fy[1] (points; w, h the
#: label's size): right, left, above, below, the four corners, then further above and below.
_CANDIDATES = (((0, 6), (-0.5, 0)), ((-1, -6), (-0.5, 0)), ((-0.5, 0), (0, 6)),
               ((-0.5, 0), (-1, -6)), ((0, 4), (0, 3)), ((0, 4), (-1, -3)), ((-1, -4), (0, 3)),
               ((-1, -4), (-1, -3)), ((-0.5, 0), (1, 8)), ((-0.5, 0), (-2, -8)))


def _text_width(text: str, fontsize: float) -> float:
    """Approximate width (points) of ``text``: a CJK character is one em, others ~0.55 em."""
    return fontsize * sum(1.0 if ord(c) > 0x2E7F else 0.55 for c in text)


def _box_distance(b, px: float, py: float) -> float:
    """Distance (points) from the point (px, py) to the box b = (x0, y0, x1, y1)."""
    return float(np.hypot(max(b[0] - px, 0.0, px - b[2]), max(b[1] - py, 0.0, py - b[3])))


def label_offsets(ax, x: np.ndarray, y: np.ndarray, labels: list[str], *,
                  fontsize: float = 9) -> list[tuple[float, float]]:
    """Offsets (points, of the label's lower-left corner) of point labels that keep them clear
    of each other and of the points, each nearer its own point than any other.

    Greedy placement in display space, from the top of the chart down: each label takes the
    first candidate of :data:`_CANDIDATES` with no cost, else the one of least cost; cost =
    overlap with placed labels and with other points' markers, distance outside the axes, and
    how much nearer another point is than its own (a label beside the wrong point misleads).
    Label sizes are estimated from their characters (no text rendering): microseconds.
    """
    k = 72.0 / ax.figure.dpi  # pixels -> points
    pts = ax.transData.transform(np.c_[x, y]) * k
    bx0, by0, bx1, by1 = np.r_[ax.bbox.x0, ax.bbox.y0, ax.bbox.x1, ax.bbox.y1] * k
    h, r = fontsize * 1.25, 5.0  # label height; marker radius (points)
    boxes: list[tuple[float, float, float, float]] = []
    out: list[tuple[float, float]] = [(4.0, 3.0)] * len(labels)

    def overlap(b, c) -> float:
        return (max(0.0, min(b[2], c[2]) - max(b[0], c[0]))
                * max(0.0, min(b[3], c[3]) - max(b[1], c[1])))

    for i in sorted(range(len(labels)), key=lambda j: -pts[j, 1]):
        w = _text_width(labels[i], fontsize)
        px, py = pts[i]
        best, best_cost = None, np.inf
        for (ax_, bx), (ay, by) in _CANDIDATES:
            dx, dy = ax_ * w + bx, ay * h + by
            b = (px + dx, py + dy, px + dx + w, py + dy + h)
            own = _box_distance(b, px, py)
            cost = sum(overlap(b, c) for c in boxes)
            for j, (qx, qy) in enumerate(pts):
                if j != i:
                    cost += overlap(b, (qx - r, qy - r, qx + r, qy + r))
                    cost += 20.0 * max(0.0, own + 6.0 - _box_distance(b, qx, qy))
            cost += 40.0 * (max(0.0, bx0 - b[0]) + max(0.0, b[2] - bx1)
                            + max(0.0, by0 - b[1]) + max(0.0, b[3] - by1))
            if cost < best_cost:
                best, best_cost = ((dx, dy), b), cost
            if cost == 0:
                break
        out[i] = best[0]
        boxes.append(best[1])
    return out


def change_chart(changes: pd.DataFrame, *, labels: Mapping[str, str] | None = None,
                 title: str = "得分变化及95%置信区间", ax=None):
    """Item score changes (points) with their confidence intervals; significant ones in red.

    ``changes``: rows of :func:`kehu_lib.metrics.survey_change.period_change` for one unit
    (``item``, ``diff``, ``ci_low``, ``ci_high``, ``significant``).
    """
    df = changes.dropna(subset=["diff"]).reset_index(drop=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.4 * max(len(df), 1) + 1.5))
    y = np.arange(len(df))
    sig = df["significant"] if "significant" in df else pd.Series(False, index=df.index)
    colors = np.where(sig, "#d1495b", "#1f5fa8")
    ax.errorbar(df["diff"], y, xerr=[df["diff"] - df["ci_low"], df["ci_high"] - df["diff"]],
                fmt="none", ecolor="#999999", capsize=3)
    ax.scatter(df["diff"], y, c=colors, zorder=3)
    ax.axvline(0, color="#333333", lw=1)
    ax.set_yticks(y, [dict(labels or {}).get(i, i) for i in df["item"]])
    ax.invert_yaxis()
    ax.set_xlabel("得分变化（分）；红色 = 校正后显著")
    ax.set_title(title)
    return ax
