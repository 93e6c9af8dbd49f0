"""The account managers' own plans: one printable HTML page and one XLSX sheet per manager.

These pages are the one place where full licence ids (许可证号) are shown: the manager needs them
to find the shops. Everything shared more widely (the notebook, its HTML) masks them with
:func:`kehu_lib.exports.mask_license`.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from ..exports import mask_license

__all__ = ["manager_sheet", "write_manager_plans", "masked", "effect_chart"]

#: Columns of the manager's shop list and their Chinese headers.
SHEET_COLUMNS = {
    "rank": "序号", "license_id": "许可证号", "business_format": "业态", "trade_area": "商圈",
    "tier": "档位", "volume_cases": "本月销量(箱)", "problems": "存在问题的状态指标",
    "details": "问题说明", "strategy_codes": "策略代码", "strategy_names": "营销服务策略",
    "weekdays": "拜访日", "planned_visits": "计划拜访次数", "carry_over": "上月已列入",
}


def masked(df: pd.DataFrame, col: str = "license_id") -> pd.DataFrame:
    """A copy of ``df`` with licence ids masked ('1401******23') for anything shared widely."""
    out = df.copy()
    if col in out.columns:
        out[col] = out[col].map(mask_license)
    return out


def manager_sheet(plan: Mapping[str, Any], manager_id: str) -> pd.DataFrame:
    """The key-shop list of one manager with Chinese headers (full licence ids).

    Returns
    -------
    DataFrame with the headers of :data:`SHEET_COLUMNS`, one row per key shop, by rank.
    """
    ks = plan["key_shops"]
    ks = ks[ks["manager_id"] == manager_id].copy()
    st = plan["states"]
    det = (st[st["flagged"] & st["license_id"].isin(set(ks["license_id"]))]
           .sort_values("severity", ascending=False)
           .groupby("license_id")["detail"].agg(lambda s: "；".join(x for x in s if x)))
    ks["details"] = ks["license_id"].map(det).fillna("")
    ks["volume_cases"] = ks["volume"] / 250.0
    carried = set(plan["carry_over"]["license_id"]) if len(plan["carry_over"]) else set()
    ks["carry_over"] = ks["license_id"].isin(carried).map({True: "是", False: ""})
    ks = ks.sort_values("rank")
    return ks[list(SHEET_COLUMNS)].rename(columns=SHEET_COLUMNS).reset_index(drop=True)


def _targets_line(plan, manager_id: str) -> str:
    t = plan["targets"]
    t = t[t["manager_id"] == manager_id]
    if t.empty:
        return ""
    r = t.iloc[0]
    return (f"{plan['plan_month']}销量目标 {r['volume_target_cases']:,.1f} 箱（占本区近3月销量的"
            f"{r['share'] * 100:.1f}%），重点品牌目标 {r['key_brand_target_cases']:,.1f} 箱。"
            f"{plan.get('targets_note', '')}")


_CSS = """body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em;font-size:11pt}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #999;padding:3px 6px;
vertical-align:top}th{background:#eee}h1{font-size:16pt}@media print{body{margin:0.5cm}
tr{page-break-inside:avoid}}"""


def _page(plan, manager_id: str, sheet: pd.DataFrame) -> str:
    title = f"{plan['place']} 客户经理 {manager_id} {plan['plan_month']} 月度工作方案"
    lib = plan["library"]
    used = sorted({c for codes in sheet["策略代码"].dropna() for c in str(codes).split(";") if c})
    legend = "".join(f"<li>{html.escape(c)} {html.escape(lib.name(c))}</li>" for c in used)
    body = sheet.to_html(index=False, escape=True, na_rep="")
    return (f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>"
            f"{html.escape(title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p>{html.escape(_targets_line(plan, manager_id))}</p>"
            f"<p>本方案含完整许可证号，仅供客户经理本人使用，请勿转发。</p>"
            f"<h2>重点客户（{len(sheet)}户）</h2>{body}<h2>策略说明</h2><ul>{legend}</ul>"
            f"</body></html>")


#: Headers of the workbook's 目标 sheet (one row per manager).
TARGET_COLUMNS = {"manager_id": "客户经理", "key_shops": "重点客户（户）",
                  "volume_target_cases": "销量目标（箱）", "share_pct": "占本区近3月销量（%）",
                  "key_brand_target_cases": "重点品牌目标（箱）"}


def targets_sheet(plan: Mapping[str, Any], managers: list[str]) -> pd.DataFrame:
    """The managers' targets, one row each, with Chinese headers (the workbook's first sheet)."""
    t = plan["targets"].drop_duplicates("manager_id").set_index("manager_id")
    counts = plan["key_shops"]["manager_id"].value_counts()
    rows = []
    for m in managers:
        r = t.loc[m] if m in t.index else None
        rows.append({"manager_id": m, "key_shops": int(counts.get(m, 0)),
                     "volume_target_cases": None if r is None else round(float(r["volume_target_cases"]), 1),
                     "share_pct": None if r is None else round(float(r["share"]) * 100, 1),
                     "key_brand_target_cases": None if r is None else round(float(r["key_brand_target_cases"]), 1)})
    out = pd.DataFrame(rows, columns=list(TARGET_COLUMNS)).rename(columns=TARGET_COLUMNS)
    note = plan.get("targets_note", "")
    if note:
        out["说明"] = note
    return out


def write_manager_plans(plan: Mapping[str, Any], output_dir: str | Path = "") -> pd.DataFrame:
    """Write each manager's plan: ``月度工作方案_<plan month>_<manager>.html`` and one workbook
    ``月度工作方案_<place>_<plan month>.xlsx`` (a 目标 sheet, then a sheet per manager with the
    shop list: headers in row 1, frozen, licence ids as text), in ``output_dir``
    (:func:`kehu_lib.config.files_dir`: empty is the interactive folder under ``reports/``).

    Returns
    -------
    DataFrame: manager_id, key_shops, html (file name), sheet — what was written.
    """
    from .. import config
    from ..workbook import write_workbook

    out = config.files_dir(output_dir, month=plan.get("month", ""), place=plan["place"])
    out.mkdir(parents=True, exist_ok=True)
    managers = sorted(set(plan["key_shops"]["manager_id"]) | set(plan["targets"]["manager_id"]))
    sheets = [("目标", targets_sheet(plan, managers))]
    rows = []
    for m in managers:
        sheet = manager_sheet(plan, m)
        name = f"{plan['plan_month']}_{m}"[:31]
        sheets.append((name, sheet))
        page = out / f"月度工作方案_{plan['plan_month']}_{m}.html"
        page.write_text(_page(plan, m, sheet), encoding="utf-8")
        rows.append((m, len(sheet), page.name, name))
    write_workbook(out / f"月度工作方案_{plan['place']}_{plan['plan_month']}.xlsx", sheets,
                   text_columns=[SHEET_COLUMNS["license_id"], TARGET_COLUMNS["manager_id"]])
    return pd.DataFrame(rows, columns=["manager_id", "key_shops", "html", "sheet"])


def effect_chart(evaluation: pd.DataFrame, *, ax=None):
    """Chart of the strategies' DiD effects in standard errors (估计值 / 标准误), with the ±1.96
    band: a bar beyond the band is a significant change before the multiple-testing adjustment.
    Returns the matplotlib Axes (None when nothing was evaluated)."""
    import matplotlib.pyplot as plt

    ev = evaluation.dropna(subset=["se"])
    ev = ev[ev["se"] > 0]
    if ev.empty:
        return None
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.4 * len(ev) + 1.2))
    z = ev["estimate"] / ev["se"]
    labels = ev["code"] + " " + ev["name"] + "（" + ev["outcome_zh"] + "）"
    colors = ["#c0392b" if f else "#7f8c8d" for f in ev["effect_found"]]
    ax.barh(labels, z, color=colors)
    for x in (-1.96, 1.96):
        ax.axvline(x, color="#555", linestyle="--", linewidth=0.8)
    ax.invert_yaxis()
    ax.set_xlabel("效果估计 / 标准误（倍）")
    ax.set_title("上月策略效果（双重差分，红色为校正后显著）")
    return ax
