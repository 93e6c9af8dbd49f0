"""The eight state indicators (状态指标) of the potential-needs library, per active shop.

:func:`indicator_values` measures the raw indicators of every shop that ordered in a month;
:func:`shop_states` compares each with the shop's peers (同业态 / 商圈 / 档位, via
:func:`kehu_lib.metrics.customers.peer_comparison`) and raises a problem flag (存在问题) from the
thresholds of ``params/monthly_plan.yaml``. The result is long: one row per shop and indicator.

Store image (终端形象) has no data in the store (no shop-image inspection table): it is listed
with a missing value and never flagged; :data:`NO_DATA` says so.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..frames import isin, rows_of, run_values
from ..metrics import customers as cm
from .thresholds import INDICATOR_KEYS, defaults

__all__ = ["INDICATORS", "NO_DATA", "DEFAULTS", "PEER_LEVELS", "new_skus", "indicator_values",
           "shop_states", "flag_matrix", "indicator_summary"]

#: indicator -> unit, in the order of the seed's potential-needs table.
UNITS: dict[str, str] = {
    "volume": "条/月", "value_per_carton": "元/条", "key_brand_volume": "条/月",
    "order_rationality": "存销比", "recommendation": "重点品牌及新品销量占比",
    "assortment_width": "个规格/月", "brand_cooperation": "重点品牌变化比", "store_image": "—",
}


def _indicators() -> dict[str, tuple[str, str]]:
    from ..present import glossary

    return {k: (glossary.code_name("state_indicator", k), u) for k, u in UNITS.items()}


#: indicator -> (中文, unit); the Chinese names are the glossary's ``state_indicator`` codes.
INDICATORS: dict[str, tuple[str, str]] = _indicators()
#: Indicators without data in the store, with the reason shown in the report.
NO_DATA = {"store_image": "样本数据无终端形象检查记录，本项不作判断"}

#: The indicators' thresholds: the values of params/monthly_plan.yaml.
DEFAULTS: dict[str, Any] = defaults(INDICATOR_KEYS)
#: Peer groups, widest last: (业态, 商圈, 档位), then (业态, 档位段), then (档位段).
PEER_LEVELS = (("business_format", "trade_area", "tier"), ("business_format", "tier_band"),
               ("tier_band",))


#: Tolerance of the threshold comparisons (16 / 20 − 1 is −0.19999999999999996 in floats).
_EPS = 1e-9


def _months_back(month: str, n: int) -> list[str]:
    p = pd.Period(month, freq="M")
    return [str(p - i) for i in range(1, n + 1)]


def new_skus(products: pd.DataFrame, month: str, months: int) -> pd.Series:
    """The new SKUs (新品) of ``month``: launched within the ``months`` months up to it."""
    launch = pd.to_datetime(products["launch_date"]).dt.to_period("M")
    p = pd.Period(month, freq="M")
    return products.loc[(launch > p - months) & (launch <= p), "sku"]


def indicator_values(orders: pd.DataFrame, products: pd.DataFrame, customers: pd.DataFrame,
                     checks: pd.DataFrame | None = None, *, month: str,
                     thresholds: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Raw state indicators of every shop that was supplied in ``month`` (one row per shop).

    ``orders`` must hold ``month`` and, for the trend indicators, the six months before it.

    - 销量 ``volume`` = Σ qty_supplied in the month (条)
    - 平均单条值 ``value_per_carton`` = amount / volume (元/条)
    - 重点品牌销量 ``key_brand_volume`` = Σ qty_supplied of key-brand SKUs (条)
    - 品牌组合宽度 ``assortment_width`` = distinct SKUs supplied (个)
    - 推荐能力 ``recommendation`` = volume of key-brand and new SKUs / volume (0-1): how far the
      shop sells what the company recommends; new = launched within ``new_product_months``
    - 订单合理性: 单店存销比 ``shop_stock_ratio`` (not the market report's 社会存销比
      ``stock_to_sales``) = max over the shop's checked SKUs of stock (价存采集, 条) /
      the month's qty_supplied of that SKU (存销比, months of sales on the shelf; checks with
      a stock below ``min_stock`` 条 are not judged), with ``overstock_sku`` and
      ``overstock_name`` the SKU reaching it; ``order_swing`` = volume / mean volume of the
      three previous months − 1 (NaN when the shop did not order then); ``short_share`` = the
      share of the month's ordered quantity not supplied (缺货或限量供应, 0-1) with
      ``short_sku`` the SKU with the largest shortfall
    - 品牌培育协作: ``key_brand_change`` = key-brand change ratio relative to other brands
      (:func:`kehu_lib.metrics.customers.key_brand_change`; NaN below the baseline minimum) and
      ``new_product_adoption`` = new SKUs the shop ordered since their launch / new SKUs on sale
      (0-1; NaN when there is no new SKU)
      and ``missing_new_sku`` = the new SKU carried by most shops of the frame that this shop
      has not ordered (NA when it carries them all), ``missing_new_name`` its name
    - 终端形象 ``store_image``: no data, NaN

    Returns
    -------
    DataFrame: license_id, customer attributes (district_code, manager_id, business_format,
    trade_area, tier, tier_band, key_account ...), amount, the indicators above.
    """
    t = {**DEFAULTS, **(thresholds or {})}
    cur = rows_of(orders, "month", [month])  # a slice of a ledger sorted by month
    base = cm.shop_indicators(cur, products, customers, month=month)
    base = base[base["volume"] > 0].reset_index(drop=True)
    cols = ["license_id", *[c for c in cm.CUSTOMER_ATTRS if c in base.columns], "volume",
            "amount", "value_per_carton", "key_brand_volume", "assortment_width"]
    out = base[cols].copy()
    if out.empty:
        extra = ["tier_band", "recommendation", "shop_stock_ratio", "overstock_sku",
                 "overstock_name", "order_swing", "short_share", "short_sku",
                 "key_brand_change", "new_product_adoption", "missing_new_sku",
                 "missing_new_name", "store_image"]
        return out.reindex(columns=cols[:1] + ["month"] + cols[1:] + extra)
    out["tier_band"] = ((out["tier"].astype("float64") - 1) // int(t["tier_band"])).astype("Int64")
    new = new_skus(products, month, int(t["new_product_months"]))
    rec_skus = set(products.loc[products["key_brand"].fillna(False).astype(bool), "sku"]) | set(new)
    rec = cur[cur["sku"].isin(rec_skus)].groupby("license_id")["qty_supplied"].sum()
    out["recommendation"] = out["license_id"].map(rec).fillna(0.0) / out["volume"]
    # order rationality: stock-to-sales of the checked SKUs, and the order swing
    out["shop_stock_ratio"], out["overstock_sku"] = np.nan, pd.NA
    if checks is not None and not checks.empty:
        chk = checks[checks["month"] == month] if "month" in checks.columns else checks
        chk = chk.sort_values("check_date").drop_duplicates(["license_id", "sku"], keep="last")
        sold = cur.groupby(["license_id", "sku"])["qty_supplied"].sum().rename("sold")
        chk = chk.join(sold, on=["license_id", "sku"])
        chk = chk[(chk["sold"] > 0) & (chk["stock"] >= float(t["min_stock"]))]
        chk = chk.assign(ratio=chk["stock"] / chk["sold"])
        worst = chk.sort_values("ratio", ascending=False).drop_duplicates("license_id")
        worst = worst.set_index("license_id")
        out["shop_stock_ratio"] = out["license_id"].map(worst["ratio"]).astype("float64")
        out["overstock_sku"] = out["license_id"].map(worst["sku"]).astype("string")
    names = products.set_index("sku")["name"]
    out["overstock_name"] = out["overstock_sku"].map(names).astype("string")
    # shortage: the share of the month's ordered quantity not supplied (rationed / out of stock)
    if "qty_ordered" in cur.columns:
        gap = cur.assign(_gap=(cur["qty_ordered"] - cur["qty_supplied"]).clip(lower=0))
        tot = gap.groupby("license_id")[["qty_ordered", "_gap"]].sum()
        short = tot["_gap"] / tot["qty_ordered"].where(tot["qty_ordered"] > 0)
        worst_gap = gap[gap["_gap"] > 0].sort_values("_gap", ascending=False).drop_duplicates(
            "license_id").set_index("license_id")["sku"]
        out["short_share"] = out["license_id"].map(short).astype("float64")
        out["short_sku"] = out["license_id"].map(worst_gap).astype("string")
    else:
        out["short_share"], out["short_sku"] = np.nan, pd.NA
    prev = rows_of(orders, "month", _months_back(month, 3))
    prev_mean = prev.groupby("license_id")["qty_supplied"].sum() / 3
    pm = out["license_id"].map(prev_mean).astype("float64")
    out["order_swing"] = out["volume"] / pm.where(pm > 0) - 1
    # brand-cultivation cooperation: key-brand trend and new-product adoption
    kb = cm.key_brand_change(rows_of(orders, "month", [month, *_months_back(month, 6)]),
                             products, month=month,
                             min_baseline=float(t["key_brand_min_baseline"]))
    out["key_brand_change"] = out["license_id"].map(
        kb.set_index("license_id")["change_ratio"]).astype("float64")
    out["missing_new_sku"] = pd.array([pd.NA] * len(out), dtype="string")
    if len(new):
        upto = rows_of(orders, "month", [m for m in run_values(orders["month"])
                                         if isinstance(m, str) and m <= month])
        lines = upto[isin(upto["sku"], set(new)) & (upto["qty_supplied"] > 0).to_numpy()]
        adopted = lines.groupby("license_id")["sku"].nunique()
        out["new_product_adoption"] = out["license_id"].map(adopted).fillna(0) / len(new)
        # the new SKU most shops of the frame carry that this shop has not ordered
        carried = lines[isin(lines["license_id"], set(out["license_id"]))].drop_duplicates(
            ["license_id", "sku"])
        popular = carried["sku"].value_counts().reindex(list(new), fill_value=0)
        popular = popular.sort_values(ascending=False, kind="stable")
        have: dict[str, set] = {}
        for lic, sku in zip(carried["license_id"].tolist(), carried["sku"].tolist()):
            have.setdefault(lic, set()).add(sku)
        first = popular.index[0]
        order = list(popular.index)
        out["missing_new_sku"] = pd.array(
            [next((k for k in order if k not in have[lic]), pd.NA)
             if lic in have else first for lic in out["license_id"].tolist()], dtype="string")
    else:
        out["new_product_adoption"] = np.nan
    out["missing_new_name"] = out["missing_new_sku"].map(names).astype("string")
    out["store_image"] = np.nan
    out.insert(1, "month", month)
    return out


def _peer(values: pd.DataFrame, value: str, min_peers: int,
          groups: list[np.ndarray] | None = None) -> pd.DataFrame:
    """:func:`kehu_lib.metrics.customers.peer_comparison` of ``value`` over :data:`PEER_LEVELS`;
    ``groups``: the levels' group ids (:func:`_peer_groups`), made once for all indicators."""
    if groups is None:
        return cm.peer_comparison(values, value=value, peer_keys=PEER_LEVELS[0],
                                  fallback=PEER_LEVELS[1:], min_peers=min_peers)
    vals = values[value].astype("float64")
    v = vals.to_numpy()
    n = len(values)
    median, peer_n = np.full(n, np.nan), np.zeros(n, dtype="int64")
    peer_level = np.full(n, None, dtype=object)
    todo = np.ones(n, dtype=bool)
    own = np.isfinite(v).astype("int64")
    for level, gid in zip(PEER_LEVELS, groups):  # as peer_comparison, the ids made once
        if not todo.any():
            break
        loo, _, cnt = cm._group_medians(v, gid, int(gid.max()) + 1 if n else 0)
        ok = (cnt - own >= min_peers) & todo
        median[ok], peer_n[ok] = loo[ok], (cnt - own)[ok]
        peer_level[ok] = "+".join(level)
        todo[ok] = False
    out = values.copy()
    out["peer_median"], out["peer_n"] = median, peer_n
    out["peer_level"] = pd.array(peer_level, dtype="string")
    out["gap"] = vals - out["peer_median"]
    out["gap_ratio"] = vals / out["peer_median"].where(out["peer_median"] != 0) - 1
    return out


def _peer_groups(values: pd.DataFrame) -> list[np.ndarray]:
    """The group id of every shop at each level of :data:`PEER_LEVELS` (as peer_comparison's)."""
    return [values.groupby(list(level), dropna=False, observed=True, sort=False).ngroup()
            .to_numpy(dtype="int64") for level in PEER_LEVELS]


def shop_states(values: pd.DataFrame, *,
                thresholds: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """State judgement (状态判断): each shop's indicators against its peers, with problem flags.

    ``values`` is the output of :func:`indicator_values` (the peers are the other shops of the
    frame: load the city to compare a district's shops with the whole city's). Peers are the
    shops of the same 业态, 商圈 and 档位; where fewer than ``min_peers`` exist, the same 业态 and
    档位段, then the same 档位段 (:data:`PEER_LEVELS`). ``gap_ratio`` = value / peer median − 1.

    Flags (thresholds from ``params/monthly_plan.yaml``, see :data:`DEFAULTS`):

    - volume, value_per_carton, key_brand_volume, recommendation, assortment_width: gap_ratio ≤
      the indicator's ``*_gap_alert`` (e.g. ``volume_gap_alert`` = −0.30)
    - order_rationality: value = shop_stock_ratio; flagged when shop_stock_ratio >
      ``shop_stock_ratio_alert``, \\|order_swing\\| > ``order_swing_alert`` or short_share >
      ``rationed_alert``
    - brand_cooperation: value = key_brand_change; flagged when its gap_ratio ≤
      ``key_brand_change_alert`` or new_product_adoption − peer median ≤ ``adoption_gap_alert``
    - store_image: never flagged (no data, see :data:`NO_DATA`)

    ``cause`` (code, flagged rows only) says why, where the indicator has several reasons:
    order_rationality → ``overstock`` (``cause_sku`` = the SKU with the highest 存销比),
    ``order_swing`` or ``rationed`` (more than ``rationed_alert`` of the ordered quantity not
    supplied; ``cause_sku`` = the SKU short the most); brand_cooperation → ``key_brand_loss`` or ``new_product_not_carried``
    (``cause_sku`` = the new SKU the shop does not carry, see :func:`indicator_values`). The
    strategy library answers causes first (:func:`kehu_lib.plan.strategies.assign_strategies`).

    ``severity`` (0-1) is the size of the problem: −gap_ratio clipped to [0, 1] for gap flags,
    shop_stock_ratio / alert − 1 (or the swing beyond its alert) clipped to [0, 1] for order
    rationality; 0 when not flagged.

    Returns
    -------
    DataFrame, one row per shop and indicator: license_id, month, district_code, manager_id,
    indicator, indicator_zh, value, peer_median, peer_n, peer_level, gap_ratio, flagged,
    severity, cause, cause_sku, detail (Chinese reason when flagged).
    """
    t = {**DEFAULTS, **(thresholds or {})}
    mp = int(t["min_peers"])
    groups = _peer_groups(values)
    keep = ["license_id", "month", "district_code", "manager_id"]
    frames = []
    gap_alert = {"volume": "volume_gap_alert", "value_per_carton": "value_gap_alert",
                 "key_brand_volume": "key_brand_volume_gap_alert",
                 "recommendation": "recommendation_gap_alert",
                 "assortment_width": "width_gap_alert"}
    for ind, key in gap_alert.items():
        c = _peer(values, ind, mp, groups)
        flagged = c["gap_ratio"] <= float(t[key]) + _EPS
        zh, unit = INDICATORS[ind]
        detail = np.where(flagged, zh + "低于同类客户中位数" + (-c["gap_ratio"] * 100).round(0)
                          .astype("Int64").astype(str) + "%", "")
        frames.append(c[keep].assign(indicator=ind, value=c[ind], peer_median=c["peer_median"],
                                     peer_n=c["peer_n"], peer_level=c["peer_level"],
                                     gap_ratio=c["gap_ratio"], flagged=flagged.to_numpy(),
                                     severity=np.where(flagged, (-c["gap_ratio"]).clip(0, 1), 0.0),
                                     detail=detail))
    # order rationality
    c = _peer(values, "shop_stock_ratio", mp, groups)
    over = c["shop_stock_ratio"] > float(t["shop_stock_ratio_alert"])
    swing = c["order_swing"].abs() > float(t["order_swing_alert"])
    short = (c["short_share"] > float(t["rationed_alert"])) if "short_share" in c.columns \
        else pd.Series(False, index=c.index)
    sev = np.fmax((c["shop_stock_ratio"] / float(t["shop_stock_ratio_alert"]) - 1).where(over),
                  (c["order_swing"].abs() / float(t["order_swing_alert"]) - 1).where(swing))
    if "short_share" in c.columns:
        sev = np.fmax(sev, (c["short_share"] / float(t["rationed_alert"]) - 1).where(short))
    detail = np.where(over, c["overstock_name"].fillna("").astype(str) + "存销比"
                      + c["shop_stock_ratio"].round(2).astype(str), "")
    detail = np.where(swing & ~over, "订货量较前3月均值波动" + (c["order_swing"] * 100).round(0)
                      .astype("Int64").astype(str) + "%", detail)
    if "short_share" in c.columns:
        detail = np.where(short & ~over & ~swing, "订购量未满足" + (c["short_share"] * 100)
                          .round(0).astype("Int64").astype(str) + "%（缺货或限量供应）", detail)
    cause = np.where(over, "overstock", np.where(swing, "order_swing",
                                                 np.where(short, "rationed", None)))
    cause_sku = np.where(over, c["overstock_sku"].astype("object"),
                         np.where(short & ~swing, c["short_sku"].astype("object")
                                  if "short_sku" in c.columns else None, None))
    frames.append(c[keep].assign(indicator="order_rationality", value=c["shop_stock_ratio"],
                                 cause=cause, cause_sku=cause_sku,
                                 peer_median=c["peer_median"], peer_n=c["peer_n"],
                                 peer_level=c["peer_level"], gap_ratio=c["gap_ratio"],
                                 flagged=(over | swing | short).to_numpy(),
                                 severity=np.nan_to_num(np.clip(sev, 0, 1)), detail=detail))
    # brand-cultivation cooperation
    c = _peer(values, "key_brand_change", mp, groups)
    a = _peer(values, "new_product_adoption", mp, groups)
    kb_flag = c["gap_ratio"] <= float(t["key_brand_change_alert"]) + _EPS
    ad_gap = a["new_product_adoption"] - a["peer_median"]
    ad_flag = ad_gap <= float(t["adoption_gap_alert"]) + _EPS
    sev = np.fmax((-c["gap_ratio"]).clip(0, 1).where(kb_flag), (-ad_gap).clip(0, 1).where(ad_flag))
    detail = np.where(kb_flag, "重点品牌销量变化比低于同类中位数" + (-c["gap_ratio"] * 100).round(0)
                      .astype("Int64").astype(str) + "%", "")
    missing = (a["missing_new_sku"].astype("object") if "missing_new_sku" in a.columns
               else pd.Series(None, index=a.index, dtype="object"))
    mname = (a["missing_new_name"].astype("object") if "missing_new_name" in a.columns
             else missing)
    detail = np.where(ad_flag & ~kb_flag, "同类客户多数已引入新品，本户未引入"
                      + mname.map(lambda k: f"（{k}）" if isinstance(k, str) else "").astype(str),
                      detail)
    cause = np.where(kb_flag, "key_brand_loss", np.where(ad_flag, "new_product_not_carried", None))
    cause_sku = np.where(ad_flag & ~kb_flag, missing, None)
    frames.append(c[keep].assign(indicator="brand_cooperation", value=c["key_brand_change"],
                                 cause=cause, cause_sku=cause_sku,
                                 peer_median=c["peer_median"], peer_n=c["peer_n"],
                                 peer_level=c["peer_level"], gap_ratio=c["gap_ratio"],
                                 flagged=(kb_flag | ad_flag).to_numpy(),
                                 severity=np.nan_to_num(np.clip(sev, 0, 1)), detail=detail))
    # store image: no data
    frames.append(values[keep].assign(indicator="store_image", value=np.nan, peer_median=np.nan,
                                      peer_n=0, peer_level=pd.NA, gap_ratio=np.nan, flagged=False,
                                      severity=0.0, detail=NO_DATA["store_image"]))
    out = pd.concat(frames, ignore_index=True)
    out["indicator_zh"] = out["indicator"].map({k: v[0] for k, v in INDICATORS.items()})
    out["flagged"] = out["flagged"].astype(bool)
    for col in ("cause", "cause_sku"):
        out[col] = (out[col] if col in out.columns else None)
        out[col] = out[col].where(out["flagged"]).astype("object").where(
            out[col].notna(), None).astype("string")
    out["detail"] = out["detail"].astype("string")
    out["peer_level"] = out["peer_level"].astype("str")  # NaN when no peers (stable in Parquet)
    cols = keep + ["indicator", "indicator_zh", "value", "peer_median", "peer_n", "peer_level",
                   "gap_ratio", "flagged", "severity", "cause", "cause_sku", "detail"]
    order = {k: i for i, k in enumerate(INDICATORS)}
    lic, n = values["license_id"], len(values)
    block = {f["indicator"].iloc[0]: j for j, f in enumerate(frames) if len(f)}
    if (n and sorted(block) == sorted(order) and all(len(f) == n for f in frames)
            and lic.is_unique and lic.is_monotonic_increasing):
        # one frame per indicator, each a row per shop in the values' (sorted) order: the
        # sort below is their interleaving, the indicators in the order of INDICATORS
        at = np.array([block[k] for k in order]) * n
        out = out.take((at[None, :] + np.arange(n)[:, None]).ravel()).reset_index(drop=True)
    else:
        out = out.assign(_o=out["indicator"].map(order)).sort_values(["license_id", "_o"],
                                                                     ignore_index=True)
    return out[cols]


def flag_matrix(states: pd.DataFrame) -> pd.DataFrame:
    """Shops x indicators of problem flags (True = 存在问题), one row per shop, plus
    ``n_flags`` = the number of flagged indicators."""
    m = states.pivot_table(index="license_id", columns="indicator", values="flagged",
                           aggfunc="any", fill_value=False)
    m = m.reindex(columns=[i for i in INDICATORS if i in m.columns]).astype(bool)
    m["n_flags"] = m.sum(axis=1)
    m.columns.name = None
    return m.reset_index()


def indicator_summary(states: pd.DataFrame) -> pd.DataFrame:
    """Shops judged and flagged per state indicator (状态指标问题户数).

    ``judged`` = shops with a value (store image: 0, no data); ``flagged`` = shops with the
    problem flag; ``share`` = flagged / all shops of the frame (0-1).

    Returns
    -------
    DataFrame: indicator, indicator_zh, judged, flagged, share, note.
    """
    n = states["license_id"].nunique()
    g = states.groupby("indicator").agg(judged=("value", lambda s: int(s.notna().sum())),
                                        flagged=("flagged", "sum"))
    g = g.reindex(list(INDICATORS)).fillna(0).astype("int64").reset_index()
    g.insert(1, "indicator_zh", g["indicator"].map(lambda i: INDICATORS[i][0]))
    g["share"] = g["flagged"] / n if n else np.nan
    g["note"] = g["indicator"].map(NO_DATA).fillna("")
    return g
