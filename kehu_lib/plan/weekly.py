"""A plan a manager can act on this week (周工作安排): the key shops by visit day and route order,
each with its problem (codes naming the SKU), its strategies, a target in 条 and the result of
the last visit.

Visit day: the weekday the shop is usually visited (its most frequent weekday in the month's
visit records; each shop orders weekly on its route's fixed day). Route order: the customers'
``route_seq`` (访销顺序) when an export carries it, otherwise the order of the 访销线
(``route_id``) and then of the licence id — the store has no stop sequence, so within a route
the order is stable but not geographic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exports import mask_license
from ..frames import isin, joined

__all__ = ["usual_weekday", "shop_targets", "last_visit", "week_plan"]


def usual_weekday(visits: pd.DataFrame) -> pd.DataFrame:
    """The usual visit weekday of each shop: its most frequent weekday among ``visits``
    (0 = Monday … 6 = Sunday; ties: the earliest weekday), and ``visits`` counted.

    Returns
    -------
    DataFrame: license_id, weekday, visits.
    """
    if visits.empty:
        return pd.DataFrame(columns=["license_id", "weekday", "visits"])
    v = visits.assign(weekday=pd.to_datetime(visits["visit_date"]).dt.day_of_week)
    c = v.groupby(["license_id", "weekday"]).size().rename("n").reset_index()
    c = c.sort_values(["license_id", "n", "weekday"], ascending=[True, False, True])
    first = c.drop_duplicates("license_id")[["license_id", "weekday"]]
    n = v.groupby("license_id").size().rename("visits")
    return first.join(n, on="license_id").reset_index(drop=True)


#: Months of volume the shops' targets are split by (:func:`shop_targets`).
TARGET_MONTHS = 3


def shop_targets(orders: pd.DataFrame, targets: pd.DataFrame, customers: pd.DataFrame, *,
                 month: str, months: int = TARGET_MONTHS) -> pd.DataFrame:
    """Per-shop volume target (条, integer) of the plan month.

    The manager's target (``volume_target`` of :func:`kehu_lib.plan.priority.manager_targets`)
    split by the shop's share of the manager's volume over the ``months`` months up to
    ``month``: target = round(manager target × shop volume / manager volume). Whole 条, never
    箱 with decimals.

    Returns
    -------
    DataFrame: license_id, manager_id, recent_volume (条/月), target_qty (int, 条).
    """
    p = pd.Period(month, freq="M")
    window = [str(p - i) for i in range(months)]
    od = orders[orders["month"].isin(window)]
    v = od.groupby("license_id")["qty_supplied"].sum().rename("vol").reset_index()
    v = v.merge(customers[["license_id", "manager_id"]], on="license_id", how="inner")
    tot = v.groupby("manager_id")["vol"].transform("sum")
    tgt = v["manager_id"].map(targets.set_index("manager_id")["volume_target"]).astype(float)
    share = v["vol"] / tot.where(tot > 0)
    v["recent_volume"] = v["vol"] / months
    v["target_qty"] = np.rint(tgt * share).astype("Int64")
    return v[["license_id", "manager_id", "recent_volume", "target_qty"]]


def last_visit(visits: pd.DataFrame, planned: pd.DataFrame | None = None) -> pd.DataFrame:
    """The last recorded visit of each shop: date, strategy codes recorded, and whether the
    strategies planned for the shop (``planned``: license_id, code) were all recorded in the
    month's visits (``last_result``: ``done`` / ``partly`` / ``not_done``; ``no_plan`` without
    planned strategies).

    Returns
    -------
    DataFrame: license_id, last_visit_date, last_visit_codes, last_result.
    """
    cols = ["license_id", "last_visit_date", "last_visit_codes", "last_result"]
    if visits.empty:
        return pd.DataFrame(columns=cols)
    v = visits.sort_values("visit_date")
    last = v.drop_duplicates("license_id", keep="last")[["license_id", "visit_date",
                                                          "kzb_codes"]]
    last = last.rename(columns={"visit_date": "last_visit_date", "kzb_codes": "last_visit_codes"})
    last["last_result"] = "no_plan"
    if planned is not None and len(planned):
        p = planned[["license_id", "code"]].drop_duplicates()
        # the recorded (shop, code) pairs of the planned shops only (the others are never
        # looked up): a fraction of a city's visits to split
        vp = v[isin(v["license_id"], set(p["license_id"].tolist()))]
        rec = vp.assign(code=vp["kzb_codes"].fillna("").astype(str).str.split(";")).explode("code")
        rec = set(zip(rec["license_id"].tolist(), rec["code"].tolist()))
        p = p.assign(done=[(a, b) in rec for a, b in zip(p["license_id"].tolist(),
                                                         p["code"].tolist())])
        share = p.groupby("license_id")["done"].mean()
        s = last["license_id"].map(share).astype(float)
        last["last_result"] = np.select(
            [s.isna().to_numpy(), (s >= 1).to_numpy(bool), (s > 0).to_numpy(bool)],
            ["no_plan", "done", "partly"], "not_done")
    return last.reset_index(drop=True)[cols]


def week_plan(key_shops: pd.DataFrame, states: pd.DataFrame, strategies: pd.DataFrame,
              customers: pd.DataFrame, visits: pd.DataFrame, orders: pd.DataFrame,
              targets: pd.DataFrame, *, month: str,
              planned_last_month: pd.DataFrame | None = None) -> pd.DataFrame:
    """The week's visit list per manager (周工作安排), codes and numbers.

    ``key_shops``: :func:`kehu_lib.plan.priority.key_shops`; ``states``:
    :func:`kehu_lib.plan.indicators.shop_states` (the problems); ``strategies``: the shop
    strategies (e.g. the ``shop_actions`` of :func:`kehu_lib.plan.strategies.district_actions`,
    district-wide problems removed); ``visits``: the report month's visit records (visit day,
    last visit); ``orders``: the months up to ``month`` (targets); ``targets``: the managers'
    targets; ``planned_last_month``: last month's planned strategies (license_id, code).

    Per key shop:

    - ``weekday`` (0 = Monday), ``visit_order`` (1 = first of the manager's day; see the module
      docstring), ``route_id``
    - ``shop_label``: the shop's ``shop_name`` (客户名称) when the customers carry one, else the masked licence
      id ('1401******23'); ``license_id`` (full: the manager's own page)
    - ``problem_indicator``, ``problem_cause``, ``problem_sku``: the most severe flagged state
      as codes (e.g. brand_cooperation / new_product_not_carried / the new SKU); ``problems``
      all flagged indicators, most severe first, ';'-joined
    - ``strategy_codes``: ';'-joined, in order; ``target_qty``: 条, integer
    - ``last_visit_date``, ``last_visit_codes``, ``last_result`` (:func:`last_visit`)

    Returns
    -------
    DataFrame (with ``district_code`` first when the key shops carry it) sorted by manager_id,
    weekday, visit_order.
    """
    ks = key_shops[[c for c in ("license_id", "district_code", "manager_id", "rank")
                    if c in key_shops.columns]].copy()
    cust_cols = [c for c in ("license_id", "route_id", "route_seq", "shop_name") if c in
                 customers.columns]
    ks = ks.merge(customers[cust_cols], on="license_id", how="left")
    wd = usual_weekday(visits)
    ks = ks.merge(wd[["license_id", "weekday"]], on="license_id", how="left")
    ks["weekday"] = ks["weekday"].astype("Int64")
    order_keys = ["route_seq"] if "route_seq" in ks.columns else []
    ks = ks.sort_values(["manager_id", "weekday", "route_id", *order_keys, "license_id"],
                        na_position="last", ignore_index=True)
    ks["visit_order"] = ks.groupby(["manager_id", "weekday"], dropna=False).cumcount() + 1
    if "shop_name" in ks.columns:
        label = ks["shop_name"].astype("string")
        ks["shop_label"] = label.where(label.notna() & (label != ""),
                                       ks["license_id"].map(mask_license))
    else:
        ks["shop_label"] = ks["license_id"].map(mask_license)
    fl = states[states["flagged"].to_numpy(bool) & isin(states["license_id"], set(ks["license_id"]))]
    fl = fl.sort_values(["license_id", "severity"], ascending=[True, False])
    top = fl.drop_duplicates("license_id").set_index("license_id")
    ks["problem_indicator"] = ks["license_id"].map(top["indicator"]).astype("string")
    for c, src in (("problem_cause", "cause"), ("problem_sku", "cause_sku")):
        ks[c] = (ks["license_id"].map(top[src]).astype("string") if src in top.columns
                 else pd.array([pd.NA] * len(ks), dtype="string"))
    ks["problems"] = ks["license_id"].map(joined(fl["license_id"], fl["indicator"], ";")
                                          ).astype("string")
    s = strategies.sort_values(["license_id", "order"])
    ks["strategy_codes"] = ks["license_id"].map(joined(s["license_id"], s["code"], ";")
                                                ).astype("string")
    tq = shop_targets(orders, targets, customers, month=month)
    ks["target_qty"] = ks["license_id"].map(tq.set_index("license_id")["target_qty"]).astype(
        "Int64")
    lv = last_visit(visits, planned_last_month).set_index("license_id")
    for c in ("last_visit_date", "last_visit_codes", "last_result"):
        ks[c] = ks["license_id"].map(lv[c]) if len(lv) else pd.NA
    cols = (["district_code"] if "district_code" in ks.columns else []) + ["manager_id", "weekday", "visit_order", "route_id", "license_id", "shop_label",
            "rank", "problem_indicator", "problem_cause", "problem_sku", "problems",
            "strategy_codes", "target_qty", "last_visit_date", "last_visit_codes", "last_result"]
    return ks[cols]
