"""方案: shop priority, key shops, visit frequency and targets per account manager.

:func:`shop_priority` ranks shops by the size of their gaps times their weight;
:func:`key_shops` keeps each manager's key shops of the month with their strategies and planned
visits (:func:`planned_visits`); :func:`manager_targets` splits the district's volume forecast
by manager by recent share and sets the key-brand targets.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..config import CARTONS_PER_CASE
from ..frames import isin, joined
from .thresholds import PRIORITY_KEYS, defaults

__all__ = ["DEFAULTS", "shop_weight", "shop_priority", "planned_visits", "key_shops",
           "manager_targets"]

#: Settings of the key shops, visits and targets: the values of params/monthly_plan.yaml.
DEFAULTS: dict[str, Any] = defaults(PRIORITY_KEYS)


def shop_weight(values: pd.DataFrame, *, thresholds: Mapping[str, Any] | None = None
                ) -> pd.Series:
    """客户权重: the shop's amount (元) / median amount of its district's shops, clipped to
    [``weight_min``, ``weight_max``], times ``key_account_weight`` for 大客户. Dimensionless,
    1 = a median shop; indexed like ``values``."""
    t = {**DEFAULTS, **(thresholds or {})}
    med = values.groupby("district_code")["amount"].transform("median")
    w = (values["amount"] / med.where(med > 0)).fillna(1.0)
    w = w.clip(float(t["weight_min"]), float(t["weight_max"]))
    if "key_account" in values.columns:
        w = w * np.where(values["key_account"].fillna(False).astype(bool),
                         float(t["key_account_weight"]), 1.0)
    return w


def shop_priority(states: pd.DataFrame, values: pd.DataFrame, *,
                  thresholds: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Priority of each shop (客户优先级) = gap score × shop weight.

    - 差距分 ``gap_score`` = Σ severity over the shop's flagged indicators (each 0-1, see
      :func:`kehu_lib.plan.indicators.shop_states`)
    - 权重 ``weight`` from :func:`shop_weight`
    - ``priority`` = gap_score × weight; ``rank`` within the account manager (1 = first)
    - ``problems``: the flagged indicators in Chinese, most severe first

    Returns
    -------
    DataFrame: license_id, district_code, manager_id, business_format, trade_area, tier,
    key_account, volume, amount, n_flags, gap_score, weight, priority, rank, problems; sorted by
    manager and rank.
    """
    f = states[states["flagged"]].sort_values("severity", ascending=False)
    agg = f.groupby("license_id").agg(n_flags=("indicator", "size"),
                                      gap_score=("severity", "sum"))
    # the flagged indicators of each shop, most severe first (one join per shop, no Python
    # call per group: 20,000 shops in a city)
    agg["problems"] = joined(f["license_id"], f["indicator_zh"], "、")
    attrs = [c for c in ("license_id", "district_code", "manager_id", "business_format",
                         "trade_area", "tier", "key_account", "volume", "amount")
             if c in values.columns]
    out = values[attrs].assign(weight=shop_weight(values, thresholds=thresholds).to_numpy())
    out = out.join(agg, on="license_id")
    out["n_flags"] = out["n_flags"].fillna(0).astype("int64")
    out["gap_score"] = out["gap_score"].fillna(0.0)
    out["problems"] = out["problems"].fillna("").astype("string")
    out["priority"] = out["gap_score"] * out["weight"]
    out = out.sort_values(["manager_id", "priority", "license_id"], ascending=[True, False, True],
                          ignore_index=True)
    out["rank"] = out.groupby("manager_id").cumcount() + 1
    cols = attrs + ["n_flags", "gap_score", "weight", "priority", "rank", "problems"]
    return out[cols]


def planned_visits(visits: pd.DataFrame, *, plan_month: str) -> pd.DataFrame:
    """例行拜访次数: visits a shop gets in ``plan_month`` on its usual visit weekdays.

    The usual weekdays are those of the shop's recorded visits in ``visits`` (e.g. the latest
    month); ``routine_visits`` = number of those weekdays in ``plan_month`` (a weekly shop: 4-5).

    Returns
    -------
    DataFrame: license_id, weekdays (e.g. '周三'), routine_visits.
    """
    names = np.array(["周一", "周二", "周三", "周四", "周五", "周六", "周日"])
    if visits.empty:
        return pd.DataFrame(columns=["license_id", "weekdays", "routine_visits"])
    wd = visits.assign(_w=pd.to_datetime(visits["visit_date"]).dt.day_of_week)
    # each shop's weekdays as a 7-bit mask (bit d: weekday d), read from 128-entry tables
    wd = wd.drop_duplicates(["license_id", "_w"])
    mask = (np.left_shift(1, wd["_w"].astype("int64"))).groupby(wd["license_id"]).sum()
    p = pd.Period(plan_month, freq="M")
    cal = pd.date_range(p.start_time, p.end_time.normalize(), freq="D").day_of_week
    counts = np.bincount(cal, minlength=7)
    bits = [[d for d in range(7) if m >> d & 1] for m in range(128)]
    label = np.array(["、".join(names[b]) for b in bits], dtype=object)
    visits_of = np.array([int(counts[b].sum()) for b in bits], dtype="int64")
    m = mask.to_numpy(dtype="int64")
    out = pd.DataFrame({"license_id": mask.index,
                        "weekdays": list(label[m]),
                        "routine_visits": visits_of[m].tolist()})
    return out.reset_index(drop=True)


def key_shops(priority: pd.DataFrame, strategies: pd.DataFrame, visits: pd.DataFrame, *,
              plan_month: str, thresholds: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """重点客户 of the month per account manager, with visit frequency and strategies.

    The ``key_shops_per_manager`` shops of highest priority (priority > 0) of each manager; each
    gets its routine visits (:func:`planned_visits`) plus ``extra_visits_key`` targeted visits
    (``planned_visits``), and its strategy combination (``strategies``, from
    :func:`kehu_lib.plan.strategies.assign_strategies`) as codes and Chinese labels.

    Returns
    -------
    DataFrame: the :func:`shop_priority` columns plus weekdays, routine_visits, planned_visits,
    strategy_codes (';'-joined), strategy_names ('、'-joined).
    """
    t = {**DEFAULTS, **(thresholds or {})}
    n = int(t["key_shops_per_manager"])
    top = priority[(priority["priority"] > 0) & (priority["rank"] <= n)].copy()
    pv = planned_visits(visits, plan_month=plan_month)
    top = top.merge(pv, on="license_id", how="left")
    top["routine_visits"] = top["routine_visits"].fillna(4).astype("int64")
    top["planned_visits"] = top["routine_visits"] + int(t["extra_visits_key"])
    # only the key shops' strategies are joined below
    s = strategies[isin(strategies["license_id"], set(top["license_id"]))]
    s = s.sort_values(["license_id", "order"])
    codes = joined(s["license_id"], s["code"], ";").rename("strategy_codes")
    names = joined(s["license_id"], s["name"], "、").rename("strategy_names")
    top = top.join(codes, on="license_id").join(names, on="license_id")
    return top.reset_index(drop=True)


def manager_targets(orders: pd.DataFrame, products: pd.DataFrame, customers: pd.DataFrame, *,
                    month: str, district_forecast: Mapping[str, float],
                    key_brand_forecast: Mapping[str, float] | None = None,
                    thresholds: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """月度目标 per account manager: the district's forecast split by recent share.

    - ``share`` = the manager's volume / the district's volume over the ``share_months`` months
      up to ``month`` (0-1)
    - 销量目标 ``volume_target`` = district forecast (条) × share; ``volume_target_cases`` in 箱
    - 重点品牌目标 ``key_brand_target`` = key-brand forecast of the district × the manager's
      share of the district's key-brand volume; without a key-brand forecast, volume_target ×
      the manager's recent key-brand share of volume (条; also in 箱)
    - ``recent_volume_cases`` = the manager's mean monthly volume over those months (箱)

    ``district_forecast`` / ``key_brand_forecast``: district code -> forecast (条) of the plan
    month.

    Returns
    -------
    DataFrame: district_code, manager_id, shops, recent_volume_cases, share, volume_target,
    volume_target_cases, key_brand_share, key_brand_target, key_brand_target_cases.
    """
    t = {**DEFAULTS, **(thresholds or {})}
    k = int(t["share_months"])
    p = pd.Period(month, freq="M")
    months = [str(p - i) for i in range(k)]
    key = set(products.loc[products["key_brand"].fillna(False).astype(bool), "sku"])
    od = orders[orders["month"].isin(months)]
    # summed per shop first (whole 条: the same sums), then per manager: the merge joins one
    # row per shop, not every order row
    od = pd.DataFrame({"district_code": od["district_code"], "license_id": od["license_id"],
                       "volume": od["qty_supplied"],
                       "kb": od["qty_supplied"].where(isin(od["sku"], key), 0.0)})
    od = od.groupby(["district_code", "license_id"]).sum().reset_index().merge(
        customers[["license_id", "manager_id"]], on="license_id", how="left")
    g = od.groupby(["district_code", "manager_id"]).agg(
        shops=("license_id", "nunique"), volume=("volume", "sum"),
        kb=("kb", "sum")).reset_index()
    tot = g.groupby("district_code")[["volume", "kb"]].transform("sum")
    g["share"] = g["volume"] / tot["volume"].where(tot["volume"] > 0)
    g["recent_volume_cases"] = g["volume"] / k / CARTONS_PER_CASE
    g["key_brand_share"] = g["kb"] / g["volume"].where(g["volume"] > 0)
    fc = g["district_code"].map(dict(district_forecast)).astype("float64")
    g["volume_target"] = fc * g["share"]
    if key_brand_forecast:
        kshare = g["kb"] / tot["kb"].where(tot["kb"] > 0)
        g["key_brand_target"] = g["district_code"].map(dict(key_brand_forecast)).astype(
            "float64") * kshare
    else:
        g["key_brand_target"] = g["volume_target"] * g["key_brand_share"]
    g["volume_target_cases"] = g["volume_target"] / CARTONS_PER_CASE
    g["key_brand_target_cases"] = g["key_brand_target"] / CARTONS_PER_CASE
    return g[["district_code", "manager_id", "shops", "recent_volume_cases", "share",
              "volume_target", "volume_target_cases", "key_brand_share", "key_brand_target",
              "key_brand_target_cases"]]
