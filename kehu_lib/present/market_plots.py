"""Charts of the market report. Every chart has Chinese labels and units on its axes; the look
comes from :func:`kehu_lib.present.theme.set_theme` (call it first). Each function returns the figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from ..config import DISTRICT_BY_CODE

__all__ = ["brand_trend_chart", "price_class_chart", "price_index_chart", "new_product_chart",
           "stacked_share_chart",
           "district_small_multiples"]


def _empty(ax, text: str = "本期无数据"):
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    return ax.figure


def brand_trend_chart(trend: pd.DataFrame, *, top: int = 6, title: str = "重点品牌近13个月走势"):
    """Lines of monthly volume (箱) of the ``top`` key brands (from ``brands.brand_trend``)."""
    fig, ax = plt.subplots(figsize=(9, 4))
    if trend.empty:
        return _empty(ax)
    keep = trend.groupby("brand")["volume_cases"].sum().nlargest(top).index
    data = trend[trend["brand"].isin(keep)]
    sns.lineplot(data=data, x="month", y="volume_cases", hue="brand", marker="o", ax=ax)
    ax.set(title=title, xlabel="月份", ylabel="销量（箱）")
    ax.tick_params(axis="x", rotation=45)
    ax.legend(title="品牌", bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
    return fig


def price_class_chart(structure: pd.DataFrame, *, title: str = "价类结构（销量占比）"):
    """Bars of each 价类's volume share, this period vs the comparison period."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    data = structure.melt(id_vars="price_class", value_vars=["share", "share_prev"],
                          var_name="period", value_name="value")
    data["period"] = data["period"].map({"share": "本期", "share_prev": "去年同期"})
    data["value"] = data["value"] * 100
    sns.barplot(data=data, x="price_class", y="value", hue="period", ax=ax)
    ax.set(title=title, xlabel="价类", ylabel="销量占比（%）")
    ax.legend(title="")
    fig.tight_layout()
    return fig


def price_index_chart(sku_index: pd.DataFrame, *, threshold: float = 0.95, n: int = 12,
                      title: str = "价格指数最低的规格"):
    """Horizontal bars of the ``n`` lowest price indices with the alert line."""
    fig, ax = plt.subplots(figsize=(7, 0.35 * min(n, max(len(sku_index), 1)) + 1.2))
    if sku_index.empty:
        return _empty(ax)
    data = sku_index.nsmallest(n, "price_index")
    colors = ["#d1495b" if v < threshold else "#1f5fa8" for v in data["price_index"]]
    ax.barh(data["name"], data["price_index"], color=colors)
    ax.axvline(threshold, color="#6c757d", linestyle="--", label=f"预警线 {threshold:.2f}")
    ax.axvline(1.0, color="#00798c", linewidth=1, label="指导价 1.00")
    ax.set_xlim(min(0.85, data["price_index"].min() - 0.02), max(1.06, data["price_index"].max()))
    ax.invert_yaxis()
    ax.set(title=title, xlabel="价格指数（实际零售价/指导零售价）", ylabel="规格")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def new_product_chart(reach: pd.DataFrame, *, name: str = "", title: str | None = None):
    """订购面 (%) by week since launch, one line per group (e.g. 城镇/乡村)."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    if reach.empty:
        return _empty(ax, "本期无新品")
    data = reach.assign(reach_pct=reach["reach"] * 100)
    sns.lineplot(data=data, x="week", y="reach_pct", hue="group", ax=ax)
    ax.set(title=title or f"新品{name}订购面", xlabel="上市后周数（周）", ylabel="订购面（%）")
    ax.legend(title="")
    fig.tight_layout()
    return fig


def district_small_multiples(monthly: pd.DataFrame, *, value: str = "volume_cases",
                             ylabel: str = "销量（箱）", title: str = "各区县月度销量"):
    """One small panel per district of ``value`` by month (from ``sales_summary`` by
    district_code and month); panels share the y axis so the districts compare at a glance.
    Four panels a row, sized so the figure fits the page's width (about 960 px at the theme's
    100 dpi) and is shown at its own size, not scaled down (which blurs the Chinese labels).
    A month is labelled every half year (the first and last of the 13 months and the middle),
    level: rotated labels every quarter crowded the narrow panels and cost a fifth of the
    chart's bytes."""
    data = monthly.copy()
    data["区县"] = data["district_code"].map(
        lambda c: DISTRICT_BY_CODE[c].name if c in DISTRICT_BY_CODE else c)
    g = sns.relplot(data=data, x="month", y=value, col="区县", col_wrap=4, kind="line",
                    marker="o", height=1.8, aspect=1.3)
    g.set_axis_labels("月份", ylabel)
    g.set_titles("{col_name}")
    ticks = sorted(data["month"].unique())
    for ax in g.axes.flat:
        ax.set_xticks(range(len(ticks))[::6])
        ax.set_xticklabels(ticks[::6])
    g.figure.suptitle(title, y=1.02)
    return g.figure


def stacked_share_chart(shares: pd.DataFrame, *, title: str, xlabel: str, ylabel: str,
                        legend: str):
    """Horizontal stacked bars of shares (%): one bar per row, one colour per column."""
    ax = shares.plot.barh(stacked=True, figsize=(9, 0.5 * len(shares) + 1.5), title=title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(title=legend, bbox_to_anchor=(1, 1))
    ax.figure.tight_layout()
    return ax.figure
