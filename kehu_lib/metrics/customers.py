"""Customer metrics (客户分析): shop indicators, ABC classes, peers, margin, assortment, churn.

The central frame is :func:`shop_indicators` (one row per shop and month, zero-volume shops
included). :func:`peer_comparison` compares any indicator column with the median of peer shops
(same 业态 / 商圈 / 档位 by default); the monthly work plan reuses both.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from ..config import CARTONS_PER_CASE
from ..frames import isin, isin_runs, pair_lookup, per_key, rows_of

__all__ = ["active_customers", "shop_indicators", "abc_classes", "class_migration",
           "tier_distribution", "segment_summary", "peer_comparison", "below_peers",
           "retailer_margin", "margin_summary", "shop_changes", "key_brand_change", "abc_summary",
           "abc_overview", "CUSTOMER_ATTRS", "DEFAULT_PEER_KEYS"]

#: Customer columns carried into the shop frame.
CUSTOMER_ATTRS = ("district_code", "manager_id", "route_id", "business_format", "trade_area",
                  "urban_rural", "tier", "key_account")
#: The default peer group (同类客户): same business format, trade area and tier.
DEFAULT_PEER_KEYS = ("business_format", "trade_area", "tier")


def active_customers(customers: pd.DataFrame, *, month: str) -> pd.DataFrame:
    """Customers open during ``month``: opened on or before its last day and not closed before
    its first day (status is ignored: it is today's status, not the month's)."""
    p = pd.Period(month, freq="M")
    opened = pd.to_datetime(customers["opened_date"]) <= p.end_time
    closed = pd.to_datetime(customers["closed_date"])
    still = closed.isna() | (closed >= p.start_time)
    return customers[opened & still].reset_index(drop=True)


def shop_indicators(orders: pd.DataFrame, products: pd.DataFrame,
                    customers: pd.DataFrame | None = None, *, month: str | None = None,
                    price_checks: pd.DataFrame | None = None) -> pd.DataFrame:
    """Business indicators per shop (客户经营指标) for one month.

    ``orders`` may be order lines or monthly shop x SKU totals (the dates are not needed).

    Per shop (sums over its order lines of the month):

    - 销量 ``volume`` = Σ qty_supplied (条); ``volume_cases`` = volume / 250 (箱)
    - 销售额 ``amount`` = Σ amount (元)
    - 单条值 ``value_per_carton`` = amount / volume (元/条); NaN for a shop with zero volume
    - 毛利额 ``gross_profit`` = Σ qty_supplied × (retail − wholesale) (元), retail = the guided
      retail price, or the shop's observed price of the SKU when ``price_checks`` are given
    - 零售额 ``retail_value`` = Σ qty_supplied × retail (元)
    - 毛利率 ``margin`` = gross_profit / retail_value (0-1)
    - 重点品牌销量 ``key_brand_volume`` = Σ qty_supplied of key-brand SKUs (条)
    - 品牌组合宽度 ``assortment_width`` = number of distinct SKUs supplied (个)

    With ``customers`` every customer active in ``month`` gets a row (zero volume when it did not
    order) and the attributes :data:`CUSTOMER_ATTRS` are attached.

    Returns
    -------
    DataFrame, one row per license_id, with the columns above (+ customer attributes).
    """
    df = orders if month is None else rows_of(orders, "month", [month])
    prices = ["wholesale_price", "retail_price", "key_brand"]
    if products["sku"].is_unique and not any(c in df.columns for c in prices + ["_obs"]):
        # the merge's columns looked up per SKU, beside the columns read (a left merge on a
        # unique key: the same values in the rows' order, without copying the rows)
        df = df[[c for c in df.columns if c in ("license_id", "sku", "qty_supplied", "amount")]]
        table = products.set_index("sku")
        df = df.assign(**{c: per_key(df["sku"], table[c].reindex) for c in prices})
        joined = True
    else:
        df = df.merge(products[["sku", *prices]], on="sku", how="left")
        joined = False
    retail = df["retail_price"]
    if price_checks is not None and not price_checks.empty:
        obs = price_checks.groupby(["license_id", "sku"])["retail_price"].mean().rename("_obs")
        if joined and obs.dtype == "float64":
            df = df.assign(_obs=pair_lookup(df, obs))
        else:
            df = df.join(obs, on=["license_id", "sku"])
        retail = df["_obs"].fillna(df["retail_price"])
    q = df["qty_supplied"]
    df = df.assign(_gp=q * (retail - df["wholesale_price"]), _rv=q * retail,
                   _kb=q.where(df["key_brand"].fillna(False).astype(bool), 0.0),
                   _sku=df["sku"].where(q > 0))
    out = df.groupby("license_id").agg(
        volume=("qty_supplied", "sum"), amount=("amount", "sum"), gross_profit=("_gp", "sum"),
        retail_value=("_rv", "sum"), key_brand_volume=("_kb", "sum"),
        assortment_width=("_sku", "nunique")).reset_index()
    if customers is not None:
        base = customers if month is None else active_customers(customers, month=month)
        attrs = [c for c in CUSTOMER_ATTRS if c in base.columns]
        out = base[["license_id", *attrs]].merge(out, on="license_id", how="outer")
    num = ["volume", "amount", "gross_profit", "retail_value", "key_brand_volume"]
    out[num] = out[num].astype("float64").fillna(0.0)
    out["assortment_width"] = out["assortment_width"].fillna(0).astype("int64")
    out["volume_cases"] = out["volume"] / CARTONS_PER_CASE
    out["value_per_carton"] = out["amount"] / out["volume"].where(out["volume"] > 0)
    out["margin"] = out["gross_profit"] / out["retail_value"].where(out["retail_value"] > 0)
    return out.sort_values("license_id", ignore_index=True)


def abc_classes(shops: pd.DataFrame, *, value: str = "amount", method: str = "cumulative",
                cuts: Sequence[float] = (0.7, 0.9), ratio: Sequence[float] = (1, 2, 2),
                id_col: str = "license_id") -> pd.DataFrame:
    """ABC客户分类 by an indicator (规模: ``amount``; 贡献: ``gross_profit``).

    Shops are ranked by ``value`` (descending, ties by id). ``cum_share`` = cumulative value /
    total. Two rules:

    - ``method="cumulative"`` (帕累托): A while the cumulative share *before* the shop is below
      ``cuts[0]`` (70%), B while below ``cuts[1]`` (90%), else C — the shop crossing a cut
      belongs to the upper class; a shop with value ≤ 0 is always C
    - ``method="count"`` (seed's A:B:C = 1:2:2): by the share of shops ranked before it,
      A below 1/5, B below 3/5, else C

    Returns
    -------
    DataFrame: id, value, rank (1 = largest), share, cum_share, abc_class ('A'/'B'/'C').
    """
    if method not in ("cumulative", "count"):
        raise ValueError(f"method must be 'cumulative' or 'count', got {method!r}")
    df = shops[[id_col, value]].rename(columns={value: "value"}).copy()
    df["value"] = df["value"].astype("float64").fillna(0.0)
    df = df.sort_values(["value", id_col], ascending=[False, True], ignore_index=True)
    df["rank"] = np.arange(1, len(df) + 1)
    total = df["value"].clip(lower=0).sum()
    df["share"] = df["value"] / total if total > 0 else np.nan
    df["cum_share"] = df["share"].cumsum()
    if method == "cumulative":
        before = df["cum_share"] - df["share"]
        cls = np.where(before < cuts[0], "A", np.where(before < cuts[1], "B", "C"))
        cls = np.where(df["value"] > 0, cls, "C")
    else:
        r = np.asarray(ratio, dtype=float) / float(sum(ratio))
        pos = (df["rank"] - 1) / max(len(df), 1)
        cls = np.where(pos < r[0] - 1e-12, "A", np.where(pos < r[0] + r[1] - 1e-12, "B", "C"))
    df["abc_class"] = cls
    return df[[id_col, "value", "rank", "share", "cum_share", "abc_class"]]


def class_migration(current: pd.DataFrame, previous: pd.DataFrame, *,
                    id_col: str = "license_id", class_col: str = "abc_class") -> pd.DataFrame:
    """Class migration (客户类别变动) between two periods.

    ``move`` is 上升 / 下降 / 不变 (A > B > C), 新进 (no class last period) or 退出 (no class
    now). ``steps`` = previous rank − current rank of the class (+1 = up one class).

    Returns
    -------
    DataFrame: id, class_prev, class_now, steps, move.
    """
    order = {"A": 0, "B": 1, "C": 2}
    m = previous[[id_col, class_col]].rename(columns={class_col: "class_prev"}).merge(
        current[[id_col, class_col]].rename(columns={class_col: "class_now"}), on=id_col,
        how="outer")
    steps = m["class_prev"].map(order) - m["class_now"].map(order)
    m["steps"] = steps
    m["move"] = np.select([m["class_prev"].isna(), m["class_now"].isna(), steps > 0, steps < 0],
                          ["新进", "退出", "上升", "下降"], "不变")
    return m.sort_values([id_col], ignore_index=True)


def tier_distribution(shops: pd.DataFrame, *, band: int = 5) -> pd.DataFrame:
    """档位分布: shops per tier band (e.g. 1-5档) with their share and 户均销量.

    ``shops`` = number of shops (户); ``share`` = shops / all shops (0-1);
    ``volume_per_shop_cases`` = Σ volume / shops / 250 (箱/户).

    Returns
    -------
    DataFrame: tier_band ('1-5档' ...), shops, share, volume_per_shop_cases.
    """
    tier = shops["tier"].astype("float64")
    lo = ((tier - 1) // band) * band + 1
    label = lo.map(lambda x: f"{int(x)}-{int(x) + band - 1}档" if pd.notna(x) else "未定档")
    df = shops.assign(tier_band=label, _lo=lo.fillna(999))
    g = df.groupby(["_lo", "tier_band"]).agg(shops=("license_id", "count"),
                                             volume=("volume", "sum")).reset_index()
    g["share"] = g["shops"] / g["shops"].sum()
    g["volume_per_shop_cases"] = g["volume"] / g["shops"] / CARTONS_PER_CASE
    return g[["tier_band", "shops", "share", "volume_per_shop_cases"]]


def segment_summary(shops: pd.DataFrame, *, by="business_format") -> pd.DataFrame:
    """Shops by segment (业态 / 商圈 / 城乡) with 户均销量, 单条值 and 单箱值.

    - ``shops`` = shops in the segment (户), ``ordering_shops`` = shops with volume > 0
    - 户均销量 ``volume_per_shop`` = Σ volume / shops (条/户), also in 箱 ``volume_per_shop_cases``
    - 单条值 ``value_per_carton`` = Σ amount / Σ volume (元/条); 单箱值 = × 250 (元/箱)
    - ``share_volume`` = segment volume / total volume (0-1)

    Returns
    -------
    DataFrame: by columns, shops, ordering_shops, volume_per_shop, volume_per_shop_cases,
    value_per_carton, value_per_case, share_volume; sorted by volume descending.
    """
    keys = [by] if isinstance(by, str) else list(by)
    g = shops.assign(_o=shops["volume"] > 0).groupby(keys, observed=True).agg(
        shops=("license_id", "count"), ordering_shops=("_o", "sum"), volume=("volume", "sum"),
        amount=("amount", "sum")).reset_index()
    g["volume_per_shop"] = g["volume"] / g["shops"]
    g["volume_per_shop_cases"] = g["volume_per_shop"] / CARTONS_PER_CASE
    g["value_per_carton"] = g["amount"] / g["volume"].where(g["volume"] > 0)
    g["value_per_case"] = g["value_per_carton"] * CARTONS_PER_CASE
    total = g["volume"].sum()
    g["share_volume"] = g["volume"] / total if total > 0 else np.nan
    g = g.sort_values("volume", ascending=False, ignore_index=True)
    return g[keys + ["shops", "ordering_shops", "volume_per_shop", "volume_per_shop_cases",
                     "value_per_carton", "value_per_case", "share_volume"]]


def _loo_median(values: np.ndarray) -> np.ndarray:
    """Median of the other members of the group for each member (leave-one-out).

    A missing value's "others" are all finite values. One group: see :func:`_group_medians`.
    """
    return _group_medians(np.asarray(values, dtype="float64"), np.zeros(len(values), "int64"),
                          1)[0]


def _group_medians(values: np.ndarray, group: np.ndarray, n_groups: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: the leave-one-out median of the other finite values of its group, the median of
    all finite values of its group, and the number of finite values of its group.

    Vectorised over all groups at once: with the m finite values of a group sorted as a, removing
    a[k] leaves a[j] for j < k and a[j + 1] for j ≥ k, so the median of the rest is read off a
    directly (for tied values any of their positions gives the same rest). A missing value's
    leave-one-out median is the median of all m finite values; NaN where there is no other
    finite value. Medians of an even count are (a + b) / 2 of the two middle values, as
    ``numpy.median``.
    """
    n = len(values)
    loo, full = np.full(n, np.nan), np.full(n, np.nan)
    fin = np.isfinite(values)
    idx = np.flatnonzero(fin)
    gf, vf = group[idx], values[idx]
    order = np.lexsort((vf, gf))  # by group, then value
    a, ga, rows = vf[order], gf[order], idx[order]
    m = np.bincount(gf, minlength=n_groups)  # finite values per group
    start = np.zeros(n_groups, dtype="int64")
    start[1:] = np.cumsum(m)[:-1]
    # median of each group's finite values
    med = np.full(n_groups, np.nan)
    has = m > 0
    s, h = start[has], m[has]
    mid = a[s + h // 2]
    med[has] = np.where(h % 2 == 1, mid, (a[s + np.maximum(h // 2 - 1, 0)] + mid) / 2)
    full[:] = med[group]
    cnt = m[group]
    loo[~fin] = full[~fin]
    # leave-one-out of the finite members of groups with at least two
    sel = m[ga] >= 2
    a_rows, g2 = rows[sel], ga[sel]
    k = (np.arange(len(a)) - start[ga])[sel]  # sorted position within the group
    st, r = start[g2], m[g2] - 1  # r: size of the rest

    def rest(j):
        return a[st + np.where(j < k, j, j + 1)]

    half = r // 2
    odd = r % 2 == 1
    lo = rest(np.where(odd, half, half - 1))
    hi = rest(half)
    loo[a_rows] = np.where(odd, hi, (lo + hi) / 2)
    return loo, full, cnt


def peer_comparison(data: pd.DataFrame, *, value: str,
                    peer_keys: Sequence[str] = DEFAULT_PEER_KEYS,
                    fallback: Sequence[Sequence[str]] | None = None, min_peers: int = 3,
                    include_self: bool = False) -> pd.DataFrame:
    """同类客户对比: each row's ``value`` against the median of its peers.

    Peers are the other rows with the same values of ``peer_keys`` (default 业态, 商圈, 档位).
    When a row has fewer than ``min_peers`` peers, the next key set of ``fallback`` is tried
    (default: drop keys from the end, e.g. (业态, 商圈) then (业态,) then all rows).

    - ``peer_median`` = median of ``value`` over the peers (same unit as ``value``); the row
      itself is left out unless ``include_self``; missing values are ignored
    - ``peer_n`` = number of peers used; ``peer_level`` = the keys used, '+'-joined ('全部' for
      all rows)
    - ``gap`` = value − peer_median (unit of ``value``)
    - ``gap_ratio`` = value / peer_median − 1 (−0.5 = half of the peers' median; NaN when the
      median is 0 or missing)

    Works for any numeric indicator (volume, value_per_carton, assortment_width, a change ratio
    ...) and any key columns.

    Returns
    -------
    ``data`` with the columns peer_median, peer_n, peer_level, gap, gap_ratio added.
    """
    if value not in data.columns:
        raise KeyError(f"no indicator column {value!r} in the data")
    keys = list(peer_keys)
    missing = [k for k in keys if k not in data.columns]
    if missing:
        raise KeyError(f"peer key column(s) {missing} not in the data")
    levels = [keys] + ([list(f) for f in fallback] if fallback is not None
                       else [keys[:i] for i in range(len(keys) - 1, -1, -1)])
    out = data.copy()
    vals = out[value].astype("float64")
    v_all = vals.to_numpy()
    median, peer_n = np.full(len(out), np.nan), np.zeros(len(out), dtype="int64")
    peer_level = np.full(len(out), None, dtype=object)
    todo = np.ones(len(out), dtype=bool)
    own = np.isfinite(v_all).astype("int64")
    for level in levels:
        if not todo.any():
            break
        gid = (np.zeros(len(out), dtype="int64") if not level else
               out.groupby(level, dropna=False, observed=True, sort=False).ngroup()
               .to_numpy(dtype="int64"))
        loo, full, cnt = _group_medians(v_all, gid, int(gid.max()) + 1 if len(gid) else 0)
        n_peers = cnt - (0 if include_self else own)
        med = full if include_self else loo
        ok = (n_peers >= min_peers) & todo
        median[ok], peer_n[ok] = med[ok], n_peers[ok]
        peer_level[ok] = "+".join(level) if level else "全部"
        todo[ok] = False
    out["peer_median"], out["peer_n"] = median, peer_n
    out["peer_level"] = pd.array(peer_level, dtype="string")
    out["gap"] = vals - out["peer_median"]
    out["gap_ratio"] = vals / out["peer_median"].where(out["peer_median"] != 0) - 1
    return out


def below_peers(comparison: pd.DataFrame, *, n: int = 20,
                max_gap_ratio: float | None = None) -> pd.DataFrame:
    """The rows furthest below their peers (落后于同类客户): sorted by gap_ratio ascending,
    optionally only those with gap_ratio ≤ ``max_gap_ratio``; at most ``n`` rows."""
    df = comparison.dropna(subset=["gap_ratio"])
    if max_gap_ratio is not None:
        df = df[df["gap_ratio"] <= max_gap_ratio]
    return df.sort_values(["gap_ratio", "gap"], ignore_index=True).head(n)


def retailer_margin(shops: pd.DataFrame, *, target: float = 0.10) -> pd.DataFrame:
    """零售户毛利率 against the target (default 10%).

    ``margin`` = gross_profit / retail_value (0-1), from :func:`shop_indicators`;
    ``reaches_target`` = margin ≥ target; ``margin_gap`` = target − margin (positive = below).
    Shops without sales are left out.

    Returns
    -------
    ``shops`` rows with volume > 0 plus reaches_target and margin_gap, sorted by margin ascending.
    """
    df = shops[shops["retail_value"] > 0].copy()
    df["reaches_target"] = df["margin"] >= target
    df["margin_gap"] = target - df["margin"]
    return df.sort_values("margin", ignore_index=True)


def margin_summary(shops: pd.DataFrame, *, target: float = 0.10) -> pd.DataFrame:
    """Summary of :func:`retailer_margin`: shops (户), share_reaching (0-1), shops_below,
    median_margin and largest_gap (max of target − margin, 0-1)."""
    df = retailer_margin(shops, target=target)
    if df.empty:
        return pd.DataFrame({"shops": [0], "share_reaching": [np.nan], "shops_below": [0],
                             "median_margin": [np.nan], "largest_gap": [np.nan]})
    below = df[~df["reaches_target"]]
    return pd.DataFrame({"shops": [len(df)], "share_reaching": [df["reaches_target"].mean()],
                         "shops_below": [len(below)], "median_margin": [df["margin"].median()],
                         "largest_gap": [below["margin_gap"].max() if len(below) else 0.0]})


def shop_changes(orders: pd.DataFrame, *, month: str, lookback: int = 3) -> pd.DataFrame:
    """停止订货 and 新增 shops of ``month``.

    - 停止订货: ordered (qty_supplied > 0) in the previous month but not in ``month``
    - 新增: ordered in ``month`` and in none of the ``lookback`` months before it

    Returns
    -------
    DataFrame: license_id, change ('停止订货' / '新增'), last_month (last month with an order).
    """
    p = pd.Period(month, freq="M")
    prev = str(p - 1)
    window = [str(p - i) for i in range(1, lookback + 1)]

    def buyers(months: list[str]) -> set:
        # the months' rows (a slice of a ledger sorted by month), then the shops supplied
        part = rows_of(orders, "month", months)
        ids = part.loc[part["qty_supplied"] > 0, "license_id"].unique()
        return set(pa.array(ids).to_pylist() if isinstance(ids.dtype, pd.StringDtype) else ids)

    now, had_prev, had_window = buyers([month]), buyers([prev]), buyers(window)
    stopped = sorted(had_prev - now)
    new = sorted(now - had_window)
    out = pd.DataFrame({"license_id": stopped + new,
                        "change": ["停止订货"] * len(stopped) + ["新增"] * len(new)})
    # the last month with an order, of the listed shops only (a few hundred of 20,000)
    listed = orders.loc[(orders["qty_supplied"] > 0).to_numpy(dtype=bool)
                        & isin(orders["license_id"], stopped + new), ["license_id", "month"]]
    last = listed.groupby("license_id")["month"].max()
    out["last_month"] = out["license_id"].map(last).astype("string")
    out["license_id"] = out["license_id"].astype("string")
    return out


def key_brand_change(orders: pd.DataFrame, products: pd.DataFrame, *, month: str,
                     current_months: int = 2, baseline_lag: int = 4, baseline_months: int = 3,
                     relative: bool = True, min_baseline: float = 40.0) -> pd.DataFrame:
    """重点品牌销量变化 per shop: recent key-brand volume against the shop's own baseline.

    - ``baseline`` = mean monthly key-brand volume over ``baseline_months`` months ending
      ``baseline_lag`` months before ``month`` (条/月)
    - ``current`` = mean monthly key-brand volume over the ``current_months`` months ending with
      ``month`` (条/月)
    - ``change_ratio`` = current / baseline (1 = unchanged); with ``relative`` divided by the
      same ratio of the shop's other brands, so a shop-wide swing cancels and only a key-brand
      specific loss remains

    Shops with a baseline below ``min_baseline`` 条/月 are left out (too small to judge).
    Compare the ratio with peers via :func:`peer_comparison` (``value="change_ratio"``).

    Returns
    -------
    DataFrame: license_id, baseline, current, other_ratio, change_ratio.
    """
    p = pd.Period(month, freq="M")
    base_months = [str(p - baseline_lag - i) for i in range(baseline_months)]
    cur_months = [str(p - i) for i in range(current_months)]
    key = set(products.loc[products["key_brand"].fillna(False).astype(bool), "sku"])
    # the four columns read, before the rows are selected (a city's ledger has 8 columns, and a
    # row selection copies every column)
    # the months from the baseline's first to ``month`` (a slice of a ledger sorted by month),
    # summed per shop × (key brand, current) on integer codes, not grouped on string keys: the
    # same sums, row by row in the same order, without copying the rows
    span = rows_of(orders, "month", [str(p - i) for i in range(
        max(baseline_lag + baseline_months, current_months))])
    codes, shops = pd.factorize(span["license_id"], sort=True)
    ok = isin_runs(span["month"], base_months + cur_months) & (codes >= 0)
    used = np.flatnonzero(np.bincount(codes[ok], minlength=len(shops)))  # shops with rows
    pos = np.zeros(len(shops), dtype="int64")
    pos[used] = np.arange(len(used))
    slot = (pos[codes[ok]] * 4 + isin(span["sku"], key)[ok] * 2
            + isin_runs(span["month"], cur_months)[ok])
    q = span["qty_supplied"].to_numpy(dtype="float64", na_value=np.nan)[ok]
    g = np.zeros((len(used), 4))
    w = np.where(np.isnan(q), 0.0, q)  # a missing quantity counts 0, as the groupby skips it
    if np.abs(w).sum() < 2.0 ** 53 and (np.floor(w) == w).all():
        # whole 条: every partial sum is exact, so a plain sum is the groupby's (compensated)
        # sum, bit for bit
        g.flat[:] = np.bincount(slot, weights=w, minlength=g.size)
    else:
        sums = pd.Series(q).groupby(slot).sum()
        g.flat[sums.index.to_numpy()] = sums.to_numpy()
    index = pd.Index(shops[used], name="license_id")

    def col(kb: bool, cur: bool, n: int) -> pd.Series:
        return pd.Series(g[:, 2 * kb + cur], index=index) / n

    out = pd.DataFrame({"baseline": col(True, False, baseline_months),
                        "current": col(True, True, current_months)}, index=index)
    other_base = col(False, False, baseline_months)
    other_ratio = col(False, True, current_months) / other_base.where(other_base > 0)
    out["other_ratio"] = other_ratio if relative else np.nan
    out = out[out["baseline"] >= min_baseline].copy()
    ratio = out["current"] / out["baseline"]
    if relative:
        ratio = ratio / out["other_ratio"].where(out["other_ratio"] > 0)
    out["change_ratio"] = ratio
    out = out.reset_index()
    out.columns.name = None
    return out[["license_id", "baseline", "current", "other_ratio", "change_ratio"]]


def abc_summary(classes: pd.DataFrame) -> pd.DataFrame:
    """Summary of :func:`abc_classes`: per class the shops (户), share of shops and share of the
    indicator (0-1).

    Returns
    -------
    DataFrame: abc_class (A, B, C), shops, share_shops, share_value.
    """
    g = classes.groupby("abc_class").agg(shops=("value", "size"), value=("value", "sum"))
    g = g.reindex(["A", "B", "C"], fill_value=0)
    n, total = g["shops"].sum(), g["value"].sum()
    g["share_shops"] = g["shops"] / n if n else float("nan")
    g["share_value"] = g["value"] / total if total > 0 else float("nan")
    return g.reset_index()[["abc_class", "shops", "share_shops", "share_value"]]


#: Indicators (客户规模 by amount, 客户贡献 by gross profit) and cuts of :func:`abc_overview`.
ABC_VIEWS = ((("amount", "销售额"), ("gross_profit", "毛利额")),
             (("cumulative", "累计占比70%/90%"), ("count", "户数1:2:2")))


def abc_overview(shops: pd.DataFrame) -> pd.DataFrame:
    """ABC客户分析 four ways side by side: by amount and by gross profit, each with the
    cumulative-share cut and the 1:2:2 count cut (see :func:`abc_classes`).

    Returns
    -------
    DataFrame: view (e.g. '销售额·累计占比70%/90%'), abc_class, shops, share_shops, share_value.
    """
    frames = []
    for value, vz in ABC_VIEWS[0]:
        for method, mz in ABC_VIEWS[1]:
            summary = abc_summary(abc_classes(shops, value=value, method=method))
            frames.append(summary.assign(view=f"{vz}·{mz}"))
    out = pd.concat(frames, ignore_index=True)
    return out[["view", "abc_class", "shops", "share_shops", "share_value"]]
