"""大客户 (key accounts, seed 003): the list with its trend, and the 10 × 10-point relationship
score where the visit records carry its fields.

The seed's relationship score (终端客情关系量化考核表) has ten items of 10 points each; the store's
visit records (schema ``visits``) carry only the strategy codes, so :func:`relationship_score`
detects the missing fields and says so instead of inventing a score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import CARTONS_PER_CASE

__all__ = ["RELATIONSHIP_ITEMS", "key_account_list", "relationship_score"]

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
                     flat_band: float = 0.01) -> pd.DataFrame:
    """大客户名单及走势: every key account (customers.key_account) with its sales trend.

    - ``volume_cases``: this month's volume (箱); ``recent_cases``: mean over the last
      ``recent_months`` months (箱/月)
    - 同比 ``yoy`` = Σ volume of the last ``recent_months`` months / Σ of the same months a year
      earlier − 1 (NaN without last year's data)
    - 月均增速 ``trend`` = exp(slope) − 1 of an OLS line through log(1 + monthly volume) over the
      last ``trend_months`` months (per month; 0.02 = +2% a month)
    - ``direction``: 上升 / 下降 / 平稳 (|trend| ≤ ``flat_band``)

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
    od = orders[orders["license_id"].isin(set(ka["license_id"])) & orders["month"].isin(months)]
    w = od.pivot_table(index="license_id", columns="month", values="qty_supplied",
                       aggfunc="sum").reindex(index=ka["license_id"], columns=months)
    have = pd.Index(months).isin(orders["month"].unique())
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
                      f"{RELATIONSHIP_ITEMS[missing[0]]}），本月不计算大客户客情关系评分")
    items = list(RELATIONSHIP_ITEMS)
    bad = visits[items].apply(pd.to_numeric, errors="coerce")
    if ((bad < 0) | (bad > 10)).any().any():
        raise ValueError("relationship items must be scored 0-10")
    g = visits.assign(**{c: bad[c] for c in items}).groupby("license_id")
    out = g[items].mean()
    out["score"] = out[items].sum(axis=1, min_count=len(items))
    out["visits"] = g.size()
    return out.reset_index(), "客情关系评分为10项各10分之和（拜访记录均值）"
