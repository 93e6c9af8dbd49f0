"""大客户 (key accounts, seed 003): the list with its trend, and the 10 × 10-point relationship
score where the visit records carry its fields.

The seed's relationship score (终端客情关系量化考核表) has ten items of 10 points each; the store's
visit records (schema ``visits``) carry only the strategy codes, so :func:`relationship_score`
detects the missing fields and says so instead of inventing a score.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from ..config import CARTONS_PER_CASE
from ..frames import isin, isin_runs

__all__ = ["RELATIONSHIP_ITEMS", "key_account_list", "relationship_score", "priority_supply",
           "new_product_trial", "RELATIONSHIP_WEIGHTS", "COVERED_ITEMS", "relationship_indicators",
           "relationship_data_gaps"]

#: The ten items of seed 003 (field name in a visit record -> Chinese item), 10 points each.
RELATIONSHIP_ITEMS: dict[str, str] = {
    "rel_staff_card": "店员关系卡建立与记忆度",
    "rel_mutual_know": "店员双向认识",
    "rel_mutual_familiar": "店员双向熟悉",
    "rel_visit_target": "拜访频率与拜访目标达成",
    "rel_help": "帮客户解决一件事",
    "rel_first_recommend": "首荐率",
    "rel_pop_display": "免费POP或陈列",
    "rel_product_knowledge": "产品知识熟悉程度",
    "rel_feedback": "信息反馈数量质量",
    "rel_communication": "定期定量沟通",
}


def key_account_list(orders: pd.DataFrame, customers: pd.DataFrame, *, month: str,
                     recent_months: int = 3, trend_months: int = 12,
                     flat_band: float = 0.01,
                     months_with_orders: Iterable[str] | None = None) -> pd.DataFrame:
    """大客户名单及走势: every key account (customers.key_account) with its sales trend.

    - ``volume_cases``: this month's volume (箱); ``recent_cases``: mean over the last
      ``recent_months`` months (箱/月)
    - 同比 ``yoy`` = Σ volume of the last ``recent_months`` months / Σ of the same months a year
      earlier − 1 (NaN without last year's data)
    - 月均增速 ``trend`` = exp(slope) − 1 of an OLS line through log(1 + monthly volume) over the
      last ``trend_months`` months (per month; 0.02 = +2% a month)
    - ``direction``: 上升 / 下降 / 平稳 (|trend| ≤ ``flat_band``)

    A month without orders (not in ``months_with_orders``, default: the months of ``orders``)
    has no volume (NaN), a month with orders 0 for a key account that did not order.

    Returns
    -------
    DataFrame: license_id, district_code, manager_id, business_format, tier, volume_cases,
    recent_cases, yoy, trend, direction; sorted by recent_cases descending.
    """
    cols = ["license_id", "district_code", "manager_id", "business_format", "tier",
            "volume_cases", "recent_cases", "yoy", "trend", "direction"]
    ka = customers[customers["key_account"].fillna(False).astype(bool)]
    if ka.empty:
        return pd.DataFrame(columns=cols)
    p = pd.Period(month, freq="M")
    months = [str(p - i) for i in range(max(trend_months, recent_months + 12) - 1, -1, -1)]
    od = orders[isin(orders["license_id"], set(ka["license_id"]))
                & isin_runs(orders["month"], months)]
    w = od.pivot_table(index="license_id", columns="month", values="qty_supplied",
                       aggfunc="sum").reindex(index=ka["license_id"], columns=months)
    have = pd.Index(months).isin(list(months_with_orders) if months_with_orders is not None
                                 else orders["month"].unique())
    w.loc[:, have] = w.loc[:, have].fillna(0.0)
    recent = [str(p - i) for i in range(recent_months)]
    last_year = [str(p - 12 - i) for i in range(recent_months)]
    out = ka[[c for c in cols[:5] if c in ka.columns]].copy().set_index("license_id")
    out["volume_cases"] = w[month] / CARTONS_PER_CASE
    out["recent_cases"] = w[recent].mean(axis=1) / CARTONS_PER_CASE
    ly = w[last_year].sum(axis=1, min_count=recent_months)
    out["yoy"] = w[recent].sum(axis=1) / ly.where(ly > 0) - 1
    tm = months[-trend_months:]
    y = np.log1p(w[tm].to_numpy(dtype=float))
    x = np.arange(len(tm), dtype=float)
    slope = np.full(len(w), np.nan)
    for i, row in enumerate(y):
        ok = np.isfinite(row)
        if ok.sum() >= 3:
            slope[i] = np.polyfit(x[ok], row[ok], 1)[0]
    out["trend"] = np.expm1(slope)
    out["direction"] = np.select([out["trend"] > flat_band, out["trend"] < -flat_band],
                                 ["上升", "下降"], "平稳")
    out["direction"] = out["direction"].where(out["trend"].notna(), "数据不足")
    return out.reset_index().sort_values("recent_cases", ascending=False,
                                         ignore_index=True)[cols]


def relationship_score(visits: pd.DataFrame) -> tuple[pd.DataFrame | None, str]:
    """客情关系评分 (seed 003): Σ of the ten 10-point items per shop, mean over its visits.

    Needs the fields of :data:`RELATIONSHIP_ITEMS` on the visit records (0-10 each). When any
    is missing the score is not computed: returns (None, a Chinese note naming the missing
    fields). Otherwise (DataFrame license_id, the items' means, score 0-100, visits; a note).
    """
    missing = [f for f in RELATIONSHIP_ITEMS if f not in visits.columns]
    if missing:
        return None, (f"拜访记录未包含客情关系考核字段（缺{len(missing)}/10项，如"
                      f"{RELATIONSHIP_ITEMS[missing[0]]}），本月不计算大客户客情关系评分。")
    items = list(RELATIONSHIP_ITEMS)
    bad = visits[items].apply(pd.to_numeric, errors="coerce")
    if ((bad < 0) | (bad > 10)).any().any():
        raise ValueError("relationship items must be scored 0-10")
    g = visits.assign(**{c: bad[c] for c in items}).groupby("license_id")
    out = g[items].mean()
    out["score"] = out[items].sum(axis=1, min_count=len(items))
    out["visits"] = g.size()
    return out.reset_index(), "客情关系评分为10项各10分之和（拜访记录均值）"


def priority_supply(orders: pd.DataFrame, customers: pd.DataFrame, *, month: str,
                    rationed_below: float = 0.95) -> pd.DataFrame:
    """优先保证大客户货源 (seed 003 管理10策 1): key accounts' 订单满足率 on the rationed SKUs
    against the other shops'.

    Rationed SKUs: city-wide (all of ``orders``) 订单满足率 = Σ supplied / Σ ordered <
    ``rationed_below`` in ``month``. Per key account: ``ordered``, ``supplied`` (条) and
    ``fill_rate`` on those SKUs; ``others_fill_rate`` = the same over the non-key shops of the
    same SKUs; ``status`` = ``prioritised`` (fill_rate ≥ others') / ``not_prioritised`` /
    ``no_rationed_order`` (the account ordered none of them).

    Returns
    -------
    DataFrame: license_id, district_code, manager_id, ordered, supplied, fill_rate,
    others_fill_rate, status.
    """
    od = orders[orders["month"] == month]
    g = od.groupby("sku")[["qty_ordered", "qty_supplied"]].sum()
    rationed = set(g.index[(g["qty_supplied"] / g["qty_ordered"].where(g["qty_ordered"] > 0))
                           < rationed_below])
    ka = customers[customers["key_account"].fillna(False).astype(bool)]
    r = od[od["sku"].isin(rationed)]
    is_ka = isin(r["license_id"], set(ka["license_id"]))
    oth = r[~is_ka][["qty_ordered", "qty_supplied"]].sum()
    others = oth["qty_supplied"] / oth["qty_ordered"] if oth["qty_ordered"] > 0 else np.nan
    per = r[is_ka].groupby("license_id")[["qty_ordered", "qty_supplied"]].sum()
    out = ka[["license_id", "district_code", "manager_id"]].join(per, on="license_id")
    out = out.rename(columns={"qty_ordered": "ordered", "qty_supplied": "supplied"})
    out[["ordered", "supplied"]] = out[["ordered", "supplied"]].fillna(0.0)
    out["fill_rate"] = out["supplied"] / out["ordered"].where(out["ordered"] > 0)
    out["others_fill_rate"] = others
    out["status"] = np.select([out["ordered"] <= 0, out["fill_rate"] >= others - 1e-12],
                              ["no_rationed_order", "prioritised"], "not_prioritised")
    return out.reset_index(drop=True)


def new_product_trial(orders: pd.DataFrame, products: pd.DataFrame, customers: pd.DataFrame, *,
                      month: str, within_months: int = 6) -> pd.DataFrame:
    """新品试销 (seed 003 管理10策 3: new products are tried with the key accounts first).

    For each SKU launched within ``within_months`` months up to ``month`` and each key account:
    ``first_month`` of its first supply of the SKU (NA when none), ``status`` = ``tried`` /
    ``not_tried``. ``ka_share`` = key accounts that tried it / key accounts and ``others_share``
    the same for the other shops supplied in the period: a trial led by the key accounts has
    ka_share above others_share.

    Returns
    -------
    DataFrame: license_id, sku, first_month, status, ka_share, others_share.
    """
    cols = ["license_id", "sku", "first_month", "status", "ka_share", "others_share"]
    from ..metrics.brands import new_products

    new = new_products(products, month=month, within_months=within_months)
    ka = customers.loc[customers["key_account"].fillna(False).astype(bool), "license_id"]
    if new.empty or ka.empty:
        return pd.DataFrame(columns=cols)
    od = orders[(orders["month"] <= month) & (orders["qty_supplied"] > 0)]
    rows = []
    for sku in new["sku"]:
        launch = str(pd.Timestamp(new.loc[new["sku"] == sku, "launch_date"].iloc[0])
                     .to_period("M"))
        period = od[od["month"] >= launch]
        first = period[period["sku"] == sku].groupby("license_id")["month"].min()
        active = set(period["license_id"])
        ka_set = set(ka) & active
        others = active - set(ka)
        ka_share = len(set(first.index) & ka_set) / len(ka_set) if ka_set else np.nan
        oth_share = len(set(first.index) & others) / len(others) if others else np.nan
        for lic in ka:
            fm = first.get(lic, pd.NA)
            rows.append((lic, sku, fm, "tried" if isinstance(fm, str) else "not_tried",
                         ka_share, oth_share))
    out = pd.DataFrame(rows, columns=cols)
    out["first_month"] = out["first_month"].astype("string")
    return out


#: Weights (points out of 100) of the relationship indicators the data allows.
RELATIONSHIP_WEIGHTS: dict[str, float] = {"visit_frequency": 25.0, "target_achievement": 25.0,
                                          "survey_feedback": 25.0, "order_regularity": 25.0}
#: Seed-003 items the data covers, partly: 拜访频率与拜访目标达成 (visits, volume against the
#: recent level) and 信息反馈数量质量 (the informant survey). The other eight need data not
#: collected yet (:func:`relationship_data_gaps`).
COVERED_ITEMS = ("rel_visit_target", "rel_feedback")


def relationship_indicators(orders: pd.DataFrame, visits: pd.DataFrame,
                            customers: pd.DataFrame, survey: pd.DataFrame | None = None, *,
                            month: str, expected_visits: float = 4.0, months: int = 6,
                            targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """客情关系指标 of the key accounts from the data the store holds, scored out of 100.

    Sub-scores (0-1) and their weights (:data:`RELATIONSHIP_WEIGHTS`, 25 points each):

    - ``visit_frequency`` = min(1, visits recorded in ``month`` / ``expected_visits`` (weekly: 4))
    - ``target_achievement`` = min(1, volume of ``month`` / target), target = the shop's
      ``target_qty`` in ``targets`` when given, else its mean monthly volume of the three months
      before ``month`` (NaN without one)
    - ``survey_feedback`` = mean 0-100 score of the shop's retailer-survey answers in ``month``
      / 100 (informants only; 5→100, 4→80, 3→60, 2→30, 1→0)
    - ``order_regularity`` = (months with supply among the last ``months``) / ``months`` ×
      max(0, 1 − CV), CV = coefficient of variation of those months' volumes

    ``score`` = 100 × Σ w·s / Σ w over the sub-scores the shop has (``items_used`` of 4): an
    account that is no survey informant is scored on the other three, not given 0.

    Returns
    -------
    DataFrame: license_id, district_code, manager_id, visits, visit_frequency,
    target_achievement, survey_feedback, order_regularity, items_used, score.
    """
    ka = customers[customers["key_account"].fillna(False).astype(bool)]
    out = ka[["license_id", "district_code", "manager_id"]].copy().set_index("license_id")
    vm = visits[visits["month"] == month] if "month" in visits.columns else visits
    out["visits"] = vm.groupby("license_id").size().reindex(out.index).fillna(0).astype(int)
    out["visit_frequency"] = (out["visits"] / expected_visits).clip(upper=1.0)
    p = pd.Period(month, freq="M")
    window = [str(p - i) for i in range(months - 1, -1, -1)]
    w = orders[orders["month"].isin(window)].pivot_table(
        index="license_id", columns="month", values="qty_supplied", aggfunc="sum")
    w = w.reindex(index=out.index, columns=window).fillna(0.0)
    if targets is not None and len(targets):
        tgt = targets.set_index("license_id")["target_qty"].astype(float).reindex(out.index)
    else:
        tgt = w[[str(p - i) for i in (1, 2, 3) if str(p - i) in w.columns]].mean(axis=1)
    out["target_achievement"] = (w[month] / tgt.where(tgt > 0)).clip(upper=1.0)
    if survey is not None and len(survey):
        from ..metrics.survey import score_answers

        sv = survey[survey["month"] == month] if "month" in survey.columns else survey
        sc = score_answers(sv).groupby("license_id")["score"].mean() / 100.0
        out["survey_feedback"] = sc.reindex(out.index)
    else:
        out["survey_feedback"] = np.nan
    present = (w > 0).sum(axis=1) / months
    mean = w.mean(axis=1)
    cv = w.std(axis=1, ddof=0) / mean.where(mean > 0)
    out["order_regularity"] = (present * (1 - cv.clip(upper=1.0))).where(mean > 0, 0.0)
    subs = list(RELATIONSHIP_WEIGHTS)
    wt = pd.Series(RELATIONSHIP_WEIGHTS)
    have = out[subs].notna()
    out["items_used"] = have.sum(axis=1)
    num = (out[subs].fillna(0.0) * wt).sum(axis=1)
    den = (have * wt).sum(axis=1)
    out["score"] = 100 * num / den.where(den > 0)
    return out.reset_index()[["license_id", "district_code", "manager_id", "visits", *subs,
                              "items_used", "score"]]


def relationship_data_gaps() -> pd.DataFrame:
    """The seed-003 relationship items that need data not collected yet, as codes.

    Returns
    -------
    DataFrame: item (code of :data:`RELATIONSHIP_ITEMS`), covered (True for the items
    :func:`relationship_indicators` approximates), needs ('visit_record_field': a 0-10 field on
    the visit record, the item's code as the column name).
    """
    rows = [(k, k in COVERED_ITEMS, "" if k in COVERED_ITEMS else "visit_record_field")
            for k in RELATIONSHIP_ITEMS]
    return pd.DataFrame(rows, columns=["item", "covered", "needs"])
