"""The demand plan (货源投放建议): next month's forecast per SKU with the order history.

Quantities in 条 (cartons); the report converts to 箱 (1 箱 = 250 条).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import config
from ..loaders import latest_month, load_products
from .pipeline import load_month_forecasts

__all__ = ["order_history", "demand_plan", "write_plan", "FILL_THRESHOLD", "PLAN_COLUMNS"]

#: 订单满足率 below which an item counts as rationed (紧俏/控量).
FILL_THRESHOLD = 0.95


def order_history(month: str = "", district=config.CITY, *, months: int = 6,
                  store=None) -> pd.DataFrame:
    """Ordered vs supplied volume per SKU for the last ``months`` months up to ``month``.

    Returns ``sku, month, qty_ordered, qty_supplied`` (条) and ``fill_rate`` (订单满足率 =
    qty_supplied / qty_ordered, share; NaN when nothing was ordered). The sums come from the
    store's monthly ledger (:func:`kehu_lib.aggregates.sku_month`), not from the order lines.
    """
    from ..aggregates import sku_month

    month = month or latest_month(store=store)
    end = pd.Period(month, "M")
    g = sku_month(district, (str(end - months + 1), str(end)), store=store)
    g = (g[["sku", "month", "qty_ordered", "qty_supplied"]]
         .sort_values(["sku", "month"], ignore_index=True))
    g["fill_rate"] = g["qty_supplied"] / g["qty_ordered"].where(g["qty_ordered"] > 0)
    return g


def demand_plan(month: str = "", district=config.CITY, *, store=None, history: int = 3,
                fill_threshold: float = FILL_THRESHOLD) -> pd.DataFrame:
    """货源投放建议: next month's supply forecast per SKU for the district.

    Parameters
    ----------
    history : months of order history summarised beside the forecast.
    fill_threshold : 订单满足率 below which the SKU is marked rationed.

    Returns
    -------
    One row per SKU (largest forecast first): ``sku, name, brand, price_class, ds`` (the
    forecast month), ``mean, lo_80, hi_80, lo_95, hi_95`` (forecast supply, 条; the SKU
    forecasts are scaled to add up to the district's reconciled total), ``ordered_avg,
    supplied_avg`` (monthly averages over the last ``history`` months, 条), ``fill_rate``
    (订单满足率 over those months = Σ supplied / Σ ordered), ``rationed`` (fill_rate <
    ``fill_threshold``) and ``note`` (the model or fallback used).
    """
    if not 0 < fill_threshold <= 1:
        raise ValueError(f"fill_threshold must be in (0, 1], got {fill_threshold}")
    month = month or latest_month(store=store)
    fc = load_month_forecasts(month, district, store=store)
    fc = fc[fc["level"] == "规格"]
    first = fc["ds"].min()
    fc = fc[fc["ds"] == first]
    hist = order_history(month, district, months=history, store=store)
    h = hist.groupby("sku", as_index=False)[["qty_ordered", "qty_supplied"]].sum()
    h["fill_rate"] = h["qty_supplied"] / h["qty_ordered"].where(h["qty_ordered"] > 0)
    h["ordered_avg"] = h["qty_ordered"] / history
    h["supplied_avg"] = h["qty_supplied"] / history
    prod = load_products(store=store, columns=["sku", "name", "brand", "price_class"])
    out = (fc[["sku", "ds", "mean", "lo_80", "hi_80", "lo_95", "hi_95", "note"]]
           .merge(prod, on="sku", how="left")
           .merge(h[["sku", "ordered_avg", "supplied_avg", "fill_rate"]], on="sku", how="left"))
    out["rationed"] = (out["fill_rate"] < fill_threshold).fillna(False).astype(bool)
    cols = ["sku", "name", "brand", "price_class", "ds", "mean", "lo_80", "hi_80", "lo_95",
            "hi_95", "ordered_avg", "supplied_avg", "fill_rate", "rationed", "note"]
    return out[cols].sort_values("mean", ascending=False, ignore_index=True)


#: Columns of the plan -> their glossary keys (Chinese headers: :mod:`kehu_lib.present`).
PLAN_COLUMNS = {"sku": "sku", "name": "sku_name", "brand": "brand", "price_class": "price_class",
                "ds": "forecast_month", "mean": "plan_mean", "lo_80": "plan_lo_80", "hi_80": "plan_hi_80",
                "lo_95": "plan_lo_95", "hi_95": "plan_hi_95", "ordered_avg": "ordered_avg",
                "supplied_avg": "supplied_avg", "fill_rate": "fill_rate", "rationed": "rationed",
                "note": "method_note"}


#: The columns :func:`kehu_lib.plan.crossreport.demand_plan_adjustment` adds -> glossary keys.
ADJUSTMENT_COLUMNS = {"control": "demand_control", "control_reason": "control_reason",
                      "stock_to_sales": "stock_to_sales", "excess_stock": "excess_stock_cartons",
                      "reduction": "control_reduction", "suggested": "plan_suggested",
                      "excess_left": "excess_left_cartons"}


def write_plan(plan: pd.DataFrame, output_dir: str | Path, *, month: str, district: str) -> dict:
    """Write the plan as CSV (UTF-8 with BOM, opens in Excel) and XLSX (headers in row 1,
    frozen, SKU codes as text); returns the two paths. ``output_dir``: see
    :func:`kehu_lib.config.files_dir` (empty: the interactive folder under ``reports/``)."""
    from .. import config
    from ..workbook import write_workbook

    folder = config.files_dir(output_dir, month=month, place=district)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"货源投放建议_{district}_{month}"
    view = plan.copy()
    view["ds"] = view["ds"].dt.strftime("%Y-%m")
    for col in ("mean", "lo_80", "hi_80", "lo_95", "hi_95", "ordered_avg", "supplied_avg"):
        view[col] = view[col].round(0)
    view["fill_rate"] = view["fill_rate"].round(4)
    from ..present import format as fmt, glossary

    view["rationed"] = view["rationed"].map(fmt.boolean)
    names = dict(PLAN_COLUMNS)
    if "control" in view.columns:  # checked against the market alerts (crossreport)
        view["control"] = view["control"].map(fmt.boolean)
        view["control_reason"] = [glossary.code_name("control_reason", c) if isinstance(c, str)
                                  else "" for c in view["control_reason"]]
        for col in ("excess_stock", "reduction", "suggested", "excess_left"):
            if col in view.columns:
                view[col] = view[col].round(0)
        view["stock_to_sales"] = view["stock_to_sales"].round(2)
        names.update(ADJUSTMENT_COLUMNS)
    view = view.rename(columns={c: glossary.header(k) for c, k in names.items()})
    csv = folder / f"{name}.csv"
    xlsx = folder / f"{name}.xlsx"
    view.to_csv(csv, index=False, encoding="utf-8-sig")
    write_workbook(xlsx, {"货源投放建议": view}, text_columns=[glossary.header("sku")])
    return {"csv": csv, "xlsx": xlsx}
