"""The data slice of the monthly work plan, and the volume forecasts it uses for targets.

The plan compares every shop with its peers across the whole city (a district's plan and the
city's agree shop by shop), so :func:`load_inputs` reads the city's orders; the district is
applied when the plan is cut per manager.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from .. import aggregates, config, loaders

__all__ = ["ORDER_COLUMNS", "FULL_MONTHS", "load_inputs", "volume_of_orders", "months_of_orders", "plan_month", "district_volume", "fallback_forecast",
           "forecast_dir", "load_forecasts", "last_month_forecast", "district_names"]

ORDER_COLUMNS = ["month", "district_code", "license_id", "sku", "qty_ordered", "qty_supplied",
                 "amount"]
#: Months of orders read before the report month (13: 同比 of the key accounts' 3-month trend).
HISTORY = 14
#: Months before the report month whose every row the plan reads: the indicators of
#: ``month`` − 2 look 6 months further back (key-brand change).
FULL_MONTHS = 8


def volume_of_orders(inputs: Mapping[str, Any]) -> pd.DataFrame:
    """:func:`district_volume` of ``inputs['orders']``: the store's sums when they were read with
    that very frame (the reference is kept, so the identity check cannot be fooled by a reused
    id), else summed from the frame."""
    stored = inputs.get("district_volume")
    if stored is not None and inputs.get("district_volume_orders") is inputs["orders"]:
        return stored
    return district_volume(inputs["orders"], inputs["products"])


def months_of_orders(inputs: Mapping[str, Any]) -> list[str]:
    """The months with orders of ``inputs['orders']``: as read by :func:`load_inputs` (its
    months before ``month`` − :data:`FULL_MONTHS` may hold only some rows), else the frame's."""
    stored = inputs.get("order_months")
    if stored is not None and inputs.get("district_volume_orders") is inputs["orders"]:
        return list(stored)
    return sorted(inputs["orders"]["month"].dropna().unique())


def plan_month(month: str) -> str:
    """The month the plan is for: the month after the report month ('2026-10' -> '2026-11')."""
    return str(pd.Period(month, freq="M") + 1)


def load_inputs(month: str, *, store=None,
                thresholds: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Everything the plan reads for report month ``month`` (city-wide).

    - ``orders``: the monthly ledger (:func:`kehu_lib.aggregates.shop_sku_month`, one row per
      month × shop × SKU with the summed quantities and amount, summed by DuckDB in the store
      and cached by the batch's precompute), months ``month`` − 14 .. ``month``; the plan sums
      it, counts shops and tests quantities > 0, which the ledger answers as the order lines do.
      With the plan's ``thresholds``, the months before ``month`` − :data:`FULL_MONTHS` hold
      only the rows :func:`kehu_lib.plan.shared.city_part` reads from them: the key accounts'
      (their 15-month trend) and the new SKUs' (new-product adoption); a third of the rows
    - ``checks``: price and stock checks (价存采集) of ``month`` and ``month`` − 2
    - ``visits``: visit records of ``month`` − 1 (the strategies judged) and ``month`` (the usual
      visit weekdays)
    - ``customers``, ``products``
    - ``district_volume``: :func:`district_volume` of the whole ledger, summed month by month
      as it is read; ``order_months``: the months with orders; ``district_volume_orders`` is
      the very ``orders`` frame read with them (a caller that replaces ``orders`` gets sums and
      months of its own: :func:`volume_of_orders`, :func:`months_of_orders`)
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from .indicators import DEFAULTS, new_skus

    p = pd.Period(month, freq="M")
    products = loaders.load_products(store=store)
    customers = loaders.load_customers(None, store=store)
    key = set(products.loc[products["key_brand"].fillna(False).astype(bool), "sku"])
    sums: list[tuple] = []
    keep = None
    if thresholds is not None:
        n = int({**DEFAULTS, **thresholds}["new_product_months"])
        skus = set(new_skus(products, month, n)) | set(new_skus(products, str(p - 2), n))
        shops = customers.loc[customers["key_account"].fillna(False).astype(bool), "license_id"]
        keep = (pa.array(sorted(skus), pa.string()),
                pa.array(sorted(set(shops.dropna())), pa.string()))

    def each_month(m: str, table):
        sums.extend(_month_volume(m, table, key))
        if keep is None or m >= str(p - FULL_MONTHS):
            return table
        return table.filter(pc.or_(pc.is_in(table["sku"], value_set=keep[0]),
                                   pc.is_in(table["license_id"], value_set=keep[1])))

    orders = aggregates.shop_sku_month(None, (str(p - HISTORY), month), columns=ORDER_COLUMNS,
                                       store=store, each_month=each_month)
    volume = pd.DataFrame(sorted(sums), columns=["district_code", "month", "volume",
                                                 "key_brand_volume"])
    volume = volume.astype({"district_code": "string", "month": "string", "volume": "float64",
                            "key_brand_volume": "float64"})
    return {
        "month": month,
        "orders": orders,
        "district_volume": volume,
        "order_months": sorted(set(volume["month"])),
        "district_volume_orders": orders,
        "checks": loaders.load_price_checks(None, [str(p - 2), month], store=store),
        "visits": loaders.load_visits(None, [str(p - 1), month], store=store),
        "customers": customers,
        "products": products,
    }


def district_volume(orders: pd.DataFrame, products: pd.DataFrame | None = None) -> pd.DataFrame:
    """Monthly volume per district (条): district_code, month, volume, key_brand_volume."""
    od = orders
    kb = pd.Series(0.0, index=od.index)
    if products is not None:
        key = set(products.loc[products["key_brand"].fillna(False).astype(bool), "sku"])
        kb = od["qty_supplied"].where(od["sku"].isin(key), 0.0)
    # grouped by the columns themselves: no copy of the whole (city-wide) frame
    keys = [od["district_code"], od["month"]]
    g = pd.DataFrame({"volume": od["qty_supplied"].groupby(keys).sum(),
                      "key_brand_volume": kb.groupby(keys).sum()}).reset_index()
    return g


def _month_volume(month: str, table, key: set) -> list[tuple]:
    """(district_code, month, volume, key_brand_volume) of one month's Arrow ledger: summed
    per district and SKU, then over the SKUs (whole 条: the same sums in any order)."""
    g = table.select(["district_code", "sku", "qty_supplied"]).unify_dictionaries().group_by(
        ["district_code", "sku"]).aggregate([("qty_supplied", "sum")])
    out: dict = {}
    for d, sku, q in zip(g["district_code"].to_pylist(), g["sku"].to_pylist(),
                         g["qty_supplied_sum"].to_pylist()):
        if d is not None:
            v = out.setdefault(d, [0.0, 0.0])
            v[0] += q
            v[1] += q if sku in key else 0.0
    return [(d, month, v, k) for d, (v, k) in out.items()]


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


def _total_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The district-total series (level 总量) of a forecast-module frame, with district, month."""
    level = df["level"] if "level" in df.columns else df["unique_id"].str.split("|").str[1]
    tot = df[level == "总量"]
    month = pd.to_datetime(tot["ds"]).dt.to_period("M").astype(str)
    return tot.assign(month=month.to_numpy())


def forecast_dir(month: str, store=None):
    """The forecast module's cache folder of ``month`` (its ``pipeline.cache_dir``), named
    without importing the module: its models import scipy.stats, ~1 s of CPU for a plan that
    only reads the cached frames."""
    from pathlib import Path

    root = Path(store).resolve() if store is not None else config.store_dir()
    return root / "derived" / "forecasts" / f"month={pd.Period(month, 'M')}"


def load_forecasts(month: str, *, store=None, build: bool = False
                   ) -> tuple[pd.DataFrame | None, str]:
    """District-total volume forecasts (条) made at report month ``month`` by the forecast module.

    Reads the module's cache (``kehu_lib.forecast.load_month_forecasts``); when the month is not
    cached it is built only if ``build`` (the batch shares one build across its notebooks).
    Returns (frame: district, month, forecast, lo_80, hi_80 — or None; a Chinese note on the
    source of the targets).
    """
    path = forecast_dir(month, store) / "forecasts.parquet"
    if not build and not path.exists():
        return None, f"{month}的销量预测尚未生成（预测缓存不存在），目标按简单季节预测（去年同月×近3月同比）估算"
    if path.exists():  # as load_month_forecasts(month, ALL) reads it
        fc = _total_rows(pd.read_parquet(path).reset_index(drop=True))
    else:
        try:
            from ..forecast import pipeline
        except ImportError:  # pragma: no cover - the forecast module is part of the package
            return None, "预测模块不可用，目标按简单季节预测（去年同月×近3月同比）估算"
        fc = _total_rows(pipeline.load_month_forecasts(month, pipeline.ALL, store=store))
    out = fc.rename(columns={"mean": "forecast"})[["district", "month", "forecast", "lo_80",
                                                   "hi_80"]]
    return out.reset_index(drop=True), "目标取自销量预测模块（协调后的区县总量预测）"


def last_month_forecast(month: str, *, store=None) -> tuple[pd.DataFrame | None, str]:
    """Last month's forecast of ``month`` per district (条): district, forecast, lo_80, hi_80.

    Prefers the forecasts published last month (the cache of ``month`` − 1); else the one-step
    forecast from one month ago that the forecast module keeps in this month's backtest
    (model ``last_month``). Never builds a cache. Returns (frame or None, a Chinese note).
    """
    prev = str(pd.Period(month, freq="M") - 1)
    path = forecast_dir(prev, store) / "forecasts.parquet"
    if path.exists():
        fc = _total_rows(pd.read_parquet(path))
        fc = fc[fc["month"] == month].rename(columns={"mean": "forecast"})
        return fc[["district", "forecast", "lo_80", "hi_80"]], f"上月（{prev}）发布的预测"
    path = forecast_dir(month, store) / "backtest.parquet"
    if path.exists():
        bt = _total_rows(pd.read_parquet(path))
        bt = bt[(bt["model"] == "last_month") & (bt["month"] == month)]
        if len(bt):
            bt = bt.rename(columns={"mean": "forecast"})
            return (bt[["district", "forecast", "lo_80", "hi_80"]],
                    "预测模块回测中一个月前所做的本月预测（采用模型）")
    return None, "预测模块暂无上月的预测缓存，本月无法评估预测准确性"


def district_names() -> dict[str, str]:
    """District code -> Chinese name."""
    return {d.code: d.name for d in config.DISTRICTS}
