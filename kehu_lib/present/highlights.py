"""本月要点 and drivers of change, rendered: codes and numbers in, Chinese sentences and links out.

:func:`highlight_items` turns :func:`kehu_lib.plan.crossreport.highlights_for` (the month's coded
findings of every report, most important first) into one sentence per finding, each ending with
a link to the section that shows it. The market report's own findings keep the sentences of
:func:`kehu_lib.findings.compose` (one wording for one finding); the findings other reports
act on (the demand plan's 控量, the plan's strategies, district actions, strategies with a
negative effect, satisfaction drops) are worded here from their codes and numbers, with the
names from the glossary (``codes:`` maps ``highlight_source``, ``shop_group``, ...) and the
strategy library (strategy and cause names).

:func:`driver_view` / :func:`group_label` label the drivers of change
(:func:`kehu_lib.metrics.drivers.change_drivers`) for the market report's table.
"""

from __future__ import annotations

import math

from typing import Any, Mapping

import pandas as pd

from . import glossary

__all__ = ["SECTIONS", "section_id", "link", "group_label", "driver_view", "highlight_items"]

#: Finding anchor ('report#topic', :data:`kehu_lib.plan.crossreport.ANCHORS`) -> (notebook,
#: section of the report builder that shows it).
SECTIONS: dict[str, tuple[str, str]] = {
    "market_report#overview": ("market_report", "overview"),
    "market_report#drivers": ("market_report", "overview"),
    "market_report#market": ("market_report", "market"),
    "market_report#structure": ("market_report", "brands"),
    "market_report#customers": ("market_report", "customers"),
    "market_report#brands": ("market_report", "brands"),
    "market_report#margin": ("market_report", "customers"),
    "sales_forecast#demand_plan": ("sales_forecast", "supply"),
    "monthly_plan#strategies": ("monthly_plan", "plan"),
    "monthly_plan#district_actions": ("monthly_plan", "plan"),
    "monthly_plan#evaluation": ("monthly_plan", "evaluation"),
    "survey_retailer#changes": ("survey_retailer", "changes"),
}

#: Finding code -> the kind of :func:`kehu_lib.findings.compose` that words it.
_COMPOSED = {"headline": "headline", "change_explained": "change_explained",
             "oversupply": "oversupply", "price_low": "price", "overstock": "stock",
             "structure": "structure", "key_brand_loss": "key_brand_loss",
             "new_product_stall": "new_product_stall", "margin_below": "margin",
             "satisfaction_drop": "satisfaction_drop"}
#: Sentences of :func:`kehu_lib.findings.compose` without a coded finding, kept in the list at
#: their own importance (the 1-2月 comparison, a new product's progress, margins below target).
_COMPOSED_ONLY = {"festival": "market_report#overview", "new_product": "market_report#brands",
                  "sku_margin_below": "market_report#margin"}


def section_id(section: str) -> str:
    """The HTML id of a report section (set by :meth:`kehu_lib.reports.base.Report.show`)."""
    return f"sec-{section}"


def link(anchor: str, *, notebook: str, district_code: str | None = None,
         page_code: str | None = None) -> str:
    """Relative link from a page of ``notebook`` (of district ``page_code``; None = 全市) to the
    section of ``anchor``; findings of another district point to that district's folder."""
    nb, sec = SECTIONS.get(anchor, (anchor.split("#")[0], anchor.split("#")[-1]))
    target = f"#{section_id(sec)}"
    other = district_code is not None and district_code == district_code \
        and district_code != page_code
    if other:
        from .. import config

        d = config.DISTRICT_BY_CODE.get(str(district_code))
        folder = d.slug if d else str(district_code)
        return f"../{folder}/{nb}.html{target}"
    return target if nb == notebook else f"{nb}.html{target}"


def group_label(dimension: str, group: str) -> str:
    """Chinese name of a drivers group: a shop group, a district, a price class or a brand."""
    if dimension == "shop_group":
        return glossary.code_name("shop_group", group)
    if dimension == "district":
        return glossary.code_name("district", group)
    return str(group)


_DRIVER_COLUMNS = ["driver_comparison", "driver_dimension", "driver_group", "driver_base_cases",
                   "driver_current_cases", "driver_contribution_cases", "driver_growth_pull"]


def driver_view(drivers: pd.DataFrame, *, indicator: str = "volume_cases",
                dimensions=("shop_group", "price_class", "district"), top: int = 5,
                min_share: float = 0.05) -> pd.DataFrame:
    """The drivers of ``indicator``'s 同比 and 环比 for the page: per comparison and dimension,
    the ``top`` groups by the size of their contribution (at least ``min_share`` of the total
    change), the residual shop group ``other`` included so that the column sums make sense.

    Returns
    -------
    DataFrame: driver_comparison, driver_dimension (codes, named by the glossary), driver_group
    (Chinese name), driver_base_cases, driver_current_cases, driver_contribution_cases,
    driver_growth_pull (拉动: the group's part of the growth rate; the column sums to the total's
    同比 or 环比 over a partition) (volume in 箱; the names say 箱 because ``indicator`` is the
    volume). The share of the total change is not shown: over a small net change it reads as
    hundreds of per cent.
    """
    d = drivers[(drivers["indicator"] == indicator) & drivers["dimension"].isin(dimensions)]
    if d.empty:
        return pd.DataFrame(columns=_DRIVER_COLUMNS)
    n = d.groupby(["comparison", "dimension"])["group"].transform("nunique")
    d = d[n >= 2].copy()
    d["_size"] = d["contribution"].abs()
    keep = (d["share_of_change"].abs() >= min_share) | d["share_of_change"].isna()
    d = d[keep].sort_values(["comparison", "dimension", "_size"], ascending=[False, True, False])
    d = d.groupby(["comparison", "dimension"], sort=False).head(top)
    order = {k: i for i, k in enumerate(dimensions)}
    d["_d"] = d["dimension"].map(order)
    d = d.sort_values(["comparison", "_d", "_size"], ascending=[False, True, False])
    d["driver_group"] = [group_label(a, b) for a, b in zip(d["dimension"], d["group"])]
    return d.rename(columns={"dimension": "driver_dimension", "comparison": "driver_comparison",
                             "base": "driver_base_cases", "current": "driver_current_cases",
                             "contribution": "driver_contribution_cases",
                             "growth_pull": "driver_growth_pull"})[
        _DRIVER_COLUMNS].reset_index(drop=True)


def _cause_name(library, cause: Any) -> str:
    if not isinstance(cause, str) or not cause:
        return ""
    hit = library.causes.loc[library.causes["cause"] == cause, "cause_zh"]
    return str(hit.iloc[0]) if len(hit) else glossary.code_name("highlight", cause)


def _netting(forecast: float, cut: float, excess: float) -> str:
    """How the demand plan nets the excess social stock: all of it next month, or part of it
    with the rest left to the following months."""
    if not math.isfinite(excess) or round(excess) <= round(cut):
        return f"较预测{forecast:,.0f}条扣减超出合理库存的社会库存{cut:,.0f}条。"
    return (f"较预测{forecast:,.0f}条扣减{cut:,.0f}条；超出合理库存的社会库存共{excess:,.0f}条，"
            f"其余{excess - cut:,.0f}条在以后月份逐月扣减。")


def _num(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def _sentence(row: Mapping[str, Any], *, names: Mapping[str, str], library) -> str:
    """The sentence of a finding no market-report sentence words (see the module docstring)."""
    code, subject = row["code"], row["subject"]
    where = glossary.code_name("district", row["district_code"]) \
        if isinstance(row["district_code"], str) else ""
    codes = str(row["reference"]).split(";") if isinstance(row["reference"], str) else []
    if code == "demand_control":
        cut = -_num(row["change"])
        reason = _cause_name(library, row["consequence_of"])
        return (f"{where}{names.get(subject, subject)}{f'因{reason}' if reason else ''}"
                f"在货源投放建议中列为控量：投放建议{_num(row['value']):,.0f}条，"
                + _netting(_num(row['reference']), cut, _num(row.get("count"))))
    if code == "plan_alert_strategy":
        return (f"月度工作方案对{where}在销{names.get(subject, subject)}的"
                f"{int(_num(row['count'])):,}户零售户安排{library.label(codes)}。")
    if code == "plan_key_brand_strategy":
        # the plan's own criterion (品牌培育协作: the key brands' change ratio against the
        # shop's peers), not the market report's 流失户 count: say so, the counts differ
        return (f"月度工作方案按品牌培育协作指标（重点品牌销量变化比低于同类客户），对{where}"
                f"{int(_num(row['count'])):,}户零售户安排{library.label(codes)}。")
    if code == "plan_new_product_strategy":
        return (f"月度工作方案对{where}{int(_num(row['count'])):,}户同类客户多数已引入而本户未引入"
                f"{names.get(subject, subject)}的零售户安排{library.label(codes)}。")
    if code == "plan_satisfaction_action":
        item = names.get(subject, subject)
        return (f"针对{where}零售客户“{item}”满意度下降，月度工作方案作为区县行动安排"
                f"{library.label(codes)}。")
    if code == "satisfaction_drop":
        item = names.get(subject, subject)
        return (f"{where}零售客户对“{item}”的满意度下降{abs(_num(row['change'])):.1f}分"
                f"（95%置信区间{_num(row['value']):.1f}至{_num(row['reference']):.1f}分）。")
    if code == "district_action":
        indicator, _, cause = str(subject).partition(":")
        what = glossary.code_name("state_indicator", indicator)
        why = _cause_name(library, cause)
        return (f"{where}{_num(row['share']) * 100:.0f}%的零售户（{int(_num(row['count'])):,}户）"
                f"存在“{what}{f'（{why}）' if why else ''}”问题，作为区县行动统一安排"
                f"{library.label(codes)}，不再逐户列出。")
    if code in ("strategy_negative", "strategy_effective"):
        from ..plan.evaluate import outcome_label

        kzb, _, outcome = str(subject).partition(":")
        name, unit = outcome_label(outcome)
        scale, unit = (100, "个百分点") if unit == "比例" else (1, unit)
        est, lo, hi = (_num(row[c]) * scale for c in ("value", "change", "reference"))
        verdict, advice = (("效果为负", "应停止并复核执行方式或更换策略") if code == "strategy_negative"
                           else ("有效", "可在存在同类问题的零售户中继续推行"))
        return (f"上月策略{library.label([kzb])}{verdict}：{where}执行户{name}较同类客户估计变化"
                f"{est:+.1f}{unit}（95%置信区间{lo:+.1f}至{hi:+.1f}{unit}），{advice}。")
    return f"{glossary.code_name('highlight', code)}：{where}{names.get(subject, subject)}。"


def highlight_items(highlights: pd.DataFrame, composed: pd.DataFrame, *, notebook: str,
                    page_code: str | None, names: Mapping[str, str] | None = None,
                    library=None) -> list[str]:
    """One markdown line per finding of ``highlights`` (most important first), each ending with
    a link to its section: ``…。[见需求计划](sales_forecast.html#sec-supply)``.

    ``composed``: :func:`kehu_lib.findings.compose` of the same result (the market report's
    sentences, matched by kind, district and SKU); ``names``: SKU and survey-item code ->
    Chinese name; ``library``: the strategy library (strategy and cause names).
    """
    from .. import config

    if library is None:
        from ..plan.strategies import load_library

        library = load_library()
    names = dict(names or {})
    used: set[int] = set()
    items: list[tuple[float, str]] = []
    for _, row in highlights.iterrows():
        text = None
        kind = _COMPOSED.get(row["code"])
        if kind is not None:
            dc = row["district_code"] if isinstance(row["district_code"], str) else None
            where = config.DISTRICT_BY_CODE[dc].name if dc in config.DISTRICT_BY_CODE else None
            cand = composed[composed["kind"] == kind]
            if where is not None and kind not in ("headline", "change_explained", "margin"):
                cand = cand[cand["district"] == where]
            if row["code"] in ("oversupply", "price_low", "overstock", "new_product_stall"):
                cand = cand[cand["sku"] == row["subject"]]
            cand = cand[~cand.index.isin(used)]
            if len(cand):
                used.add(cand.index[0])
                text = cand["text"].iloc[0]
            elif row["code"] != "satisfaction_drop":
                continue  # a market finding compose does not state is not a 要点
        if text is None:
            text = _sentence(row, names=names, library=library)
        source = glossary.code_name("highlight_source", row["source"])
        href = link(row["anchor"], notebook=notebook, page_code=page_code,
                    district_code=row["district_code"]
                    if isinstance(row["district_code"], str) else None)
        items.append((float(row["importance"]), f"{text}[→{source}]({href})"))
    rest = composed[~composed.index.isin(used) & composed["kind"].isin(list(_COMPOSED_ONLY))]
    for _, r in rest.iterrows():
        href = link(_COMPOSED_ONLY[r["kind"]], notebook=notebook, page_code=page_code)
        items.append((float(r["importance"]),
                      f"{r['text']}[→{glossary.code_name('highlight_source', 'market_report')}]"
                      f"({href})"))
    order = sorted(range(len(items)), key=lambda i: (-items[i][0], i))
    return [items[i][1] for i in order]
