"""The data slice of the monthly work plan, and the volume forecasts it uses for targets.

The plan compares every shop with its peers across the whole city (a district's plan and the
city's agree shop by shop), so :func:`load_inputs` reads the city's orders; the district is
applied when the plan is cut per manager.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import config, loaders

__all__ = ["ORDER_COLUMNS", "load_inputs", "plan_month", "district_volume", "fallback_forecast",
           "load_forecasts"]

ORDER_COLUMNS = ["month", "district_code", "license_id", "sku", "qty_ordered", "qty_supplied",
                 "amount"]
#: Months of orders read before the report month (13: 同比 of the key accounts' 3-month trend).
HISTORY = 14


def plan_month(month: str) -> str:
    """The month the plan is for: the month after the report month ('2026-10' -> '2026-11')."""
    return str(pd.Period(month, freq="M") + 1)


def load_inputs(month: str, *, store=None) -> dict[str, Any]:
    """Everything the plan reads for report month ``month`` (city-wide).

    - ``orders``: order lines without dates, months ``month`` − 14 .. ``month``
    - ``checks``: price and stock checks (价存采集) of ``month`` and ``month`` − 2
    - ``visits``: visit records of ``month`` − 1 (the strategies judged) and ``month`` (the usual
      visit weekdays)
    - ``customers``, ``products``
    """
    p = pd.Period(month, freq="M")
    return {
        "month": month,
        "orders": loaders.load_orders(None, (str(p - HISTORY), month), columns=ORDER_COLUMNS,
                                      store=store),
        "checks": loaders.load_price_checks(None, [str(p - 2), month], store=store),
        "visits": loaders.load_visits(None, [str(p - 1), month], store=store),
        "customers": loaders.load_customers(None, store=store),
        "products": loaders.load_products(store=store),
    }


def district_volume(orders: pd.DataFrame, products: pd.DataFrame | None = None) -> pd.DataFrame:
    """Monthly volume per district (条): district_code, month, volume, key_brand_volume."""
    od = orders
    kb = 0.0
    if products is not None:
        key = set(products.loc[products["key_brand"].fillna(False).astype(bool), "sku"])
        kb = od["qty_supplied"].where(od["sku"].isin(key), 0.0)
    g = od.assign(_kb=kb).groupby(["district_code", "month"]).agg(
        volume=("qty_supplied", "sum"), key_brand_volume=("_kb", "sum")).reset_index()
    return g


def fallback_forecast(monthly: pd.DataFrame, *, target_month: str, value: str = "volume"
                      ) -> pd.Series:
    """A plain forecast used when the forecast module has none (said so in the report).

    Seasonal naive with the recent trend: value of ``target_month`` − 12 × (Σ of the three months
    before ``target_month`` / Σ of the same three months a year earlier); the mean of the last
    three months when a year of history is missing. ``monthly``: district_code, month, value.

    Returns
    -------
    Series of forecasts (条) indexed by district_code.
    """
    t = pd.Period(target_month, freq="M")
    recent = [str(t - i) for i in range(1, 4)]
    ly = [str(t - 12 - i) for i in range(1, 4)]
    w = monthly.pivot_table(index="district_code", columns="month", values=value, aggfunc="sum")
    out = {}
    for code, row in w.iterrows():
        r = row.reindex(recent).to_numpy(dtype=float)
        last = row.reindex(ly).to_numpy(dtype=float)
        same = row.get(str(t - 12), np.nan)
        if np.isfinite(same) and np.isfinite(last).all() and last.sum() > 0 and np.isfinite(r).all():
            out[code] = float(same * r.sum() / last.sum())
        else:
            out[code] = float(np.nanmean(r)) if np.isfinite(r).any() else np.nan
    return pd.Series(out, name=value, dtype="float64")


def _pick(frame: pd.DataFrame, names) -> str | None:
    for n in names:
        if n in frame.columns:
            return n
    return None


def load_forecasts(month: str, districts, *, store=None) -> tuple[pd.DataFrame | None, str]:
    """Cached forecasts of the forecast module for the districts, if it provides them.

    Calls ``kehu_lib.forecast.load_month_forecasts(month, district, store=store)`` for each
    district and keeps the district-total series. Returns (frame with district, month, forecast,
    lo_80, hi_80, or None, a Chinese note saying where the figures come from).
    """
    try:
        from ..forecast import load_month_forecasts  # type: ignore[attr-defined]
    except ImportError:
        return None, "预测模块尚未提供缓存的月度预测（load_month_forecasts），目标按简单季节预测估算"
    rows = []
    for name in districts:
        try:
            fc = load_month_forecasts(month, name, store=store)
        except Exception as exc:  # noqa: BLE001 - a missing cache must not stop the plan
            return None, f"读取{name}缓存预测失败（{type(exc).__name__}），目标按简单季节预测估算"
        if fc is None or len(fc) == 0:
            continue
        fc = pd.DataFrame(fc)
        sid = _pick(fc, ("series_id", "unique_id", "series"))
        mcol = _pick(fc, ("month", "ds"))
        vcol = _pick(fc, ("forecast", "mean", "value", "yhat", "y_hat"))
        if sid is None or mcol is None or vcol is None:
            return None, "缓存预测的列名无法识别，目标按简单季节预测估算"
        level = _pick(fc, ("level",))
        total = fc[fc[level].astype(str).isin(["district", "total", "区县", "合计"])] if level \
            else fc[fc[sid].astype(str).str.contains("total|合计|district", regex=True)]
        if total.empty:
            continue
        lo, hi = _pick(total, ("lo_80", "lo-80", "lower_80")), _pick(total, ("hi_80", "hi-80",
                                                                            "upper_80"))
        rows.append(pd.DataFrame({
            "district": name, "month": total[mcol].astype(str).str[:7].to_numpy(),
            "forecast": total[vcol].to_numpy(dtype=float),
            "lo_80": total[lo].to_numpy(dtype=float) if lo else np.nan,
            "hi_80": total[hi].to_numpy(dtype=float) if hi else np.nan}))
    if not rows:
        return None, "预测模块暂无缓存的月度预测，目标按简单季节预测估算"
    return pd.concat(rows, ignore_index=True), "目标取自销量预测模块的缓存预测"


def district_names() -> dict[str, str]:
    """District code -> Chinese name."""
    return {d.code: d.name for d in config.DISTRICTS}
