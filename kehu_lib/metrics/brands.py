"""Brand metrics (品牌分析): top items, key-brand trends, price-class structure, concentration,
supply rationing (订单满足率) and new-product spread (订购面, 重购率).

Inputs are order lines (quantities in 条, amount in 元) and the products table; outputs are tidy
frames with raw numbers (shares as fractions 0-1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import frames
from ..config import CARTONS_PER_CASE, PRICE_CLASSES
from .sales import growth

__all__ = ["top_items", "brand_trend", "price_class_structure", "concentration", "fill_rate",
           "new_products", "new_product_reach"]

_LEVELS = {"sku": ["sku", "brand", "name"], "brand": ["brand"]}


def _level_cols(level: str) -> list[str]:
    if level not in _LEVELS:
        raise ValueError(f"level must be 'sku' or 'brand', got {level!r}")
    return _LEVELS[level]


def _with_products(orders: pd.DataFrame, products: pd.DataFrame, cols) -> pd.DataFrame:
    """``orders`` with the product columns ``cols`` it lacks: the frame of a left merge on
    ``sku``, the columns looked up once per distinct SKU when the products' SKUs are unique
    (no merge of a city month's 500,000 rows)."""
    need = [c for c in cols if c != "sku" and c not in orders.columns]
    if not need:
        return orders
    if not products["sku"].is_unique or "sku" not in orders.columns:
        return orders.merge(products[["sku", *need]], on="sku", how="left")
    table = products.set_index("sku")
    out = orders.reset_index(drop=True)
    for c, values in frames.looked_up(out["sku"], table, need).items():
        out[c] = values
    return out


def _sums(orders: pd.DataFrame, products: pd.DataFrame, cols: list[str],
          **sums) -> pd.DataFrame:
    """``_with_products(orders, products, cols).groupby(cols, observed=True, dropna=False)
    .agg(**sums).reset_index()``. For ``cols`` = a SKU and its product attributes (unique SKUs
    in ``products``) the rows are grouped on the SKU alone and the attributes looked up per
    group: the same groups, in the same order, summing the same rows in the same order."""
    need = [c for c in cols[1:] if c not in orders.columns]
    if cols[0] != "sku" or not need or len(need) < len(cols) - 1 \
            or not products["sku"].is_unique:
        return (_with_products(orders, products, cols)
                .groupby(cols, observed=True, dropna=False).agg(**sums).reset_index())
    out = orders.groupby("sku", dropna=False).agg(**sums).reset_index()
    table = products.set_index("sku")
    for c in need:
        out.insert(out.columns.get_loc("sku") + 1 + need.index(c), c,
                   table[c].reindex(out["sku"]).array)
    return out


def top_items(orders: pd.DataFrame, products: pd.DataFrame, *, level: str = "sku",
              last_year: pd.DataFrame | None = None, n: int | None = 10,
              sort_by: str = "volume") -> pd.DataFrame:
    """Top SKUs or brands (畅销规格/品牌) by volume or amount with share and 同比.

    - 销量 ``volume`` = Σ qty_supplied (条), ``volume_cases`` = volume / 250 (箱)
    - 销售额 ``amount`` = Σ amount (元)
    - 销量占比 ``share_volume`` = volume / total volume of all items (0-1); likewise
      ``share_amount``
    - 同比 ``yoy_volume`` = volume / volume_ly - 1, with volume_ly from ``last_year`` (the same
      month a year earlier); NaN when the item did not sell then (new items)

    Parameters
    ----------
    orders : order lines of the period.
    products : products with ``sku``, ``brand``, ``name``.
    level : ``"sku"`` (规格) or ``"brand"`` (品牌).
    last_year : order lines of the same period last year, optional.
    n : number of rows kept (None: all).
    sort_by : ``"volume"`` or ``"amount"``.

    Returns
    -------
    DataFrame: level columns, volume, volume_cases, amount, share_volume, share_amount,
    volume_ly, yoy_volume; sorted descending by ``sort_by``.
    """
    cols = _level_cols(level)
    if sort_by not in ("volume", "amount"):
        raise ValueError(f"sort_by must be 'volume' or 'amount', got {sort_by!r}")
    out = _sums(orders, products, cols, volume=("qty_supplied", "sum"),
                amount=("amount", "sum"))
    out["volume_cases"] = out["volume"] / CARTONS_PER_CASE
    tv, ta = out["volume"].sum(), out["amount"].sum()
    out["share_volume"] = out["volume"] / tv if tv > 0 else np.nan
    out["share_amount"] = out["amount"] / ta if ta > 0 else np.nan
    if last_year is not None:
        ly = _sums(last_year, products, cols, volume_ly=("qty_supplied", "sum"))
        out = out.merge(ly, on=cols, how="left")
    else:
        out["volume_ly"] = np.nan
    out["volume_ly"] = out["volume_ly"].astype("float64")
    out["yoy_volume"] = growth(out["volume"], out["volume_ly"])
    out = out.sort_values(sort_by, ascending=False, ignore_index=True)
    if n is not None:
        out = out.head(n)
    return out[cols + ["volume", "volume_cases", "amount", "share_volume", "share_amount",
                       "volume_ly", "yoy_volume"]]


def brand_trend(orders: pd.DataFrame, products: pd.DataFrame, *, key_only: bool = True,
                months: list[str] | None = None) -> pd.DataFrame:
    """Monthly volume of each brand (重点品牌走势), for the 13-month trend chart.

    ``volume_cases`` = Σ qty_supplied / 250 per brand and month (箱); a brand with no sales in a
    month of ``months`` gets 0. ``share`` = the brand's share of the month's total volume (0-1).
    With ``key_only`` only brands having a key-brand (重点品牌) SKU are kept, and only their
    key-brand SKUs are counted.

    Returns
    -------
    DataFrame: month, brand, volume_cases, share (long format, sorted by brand and month).
    """
    df = _with_products(orders, products, ["brand", "key_brand"])
    totals = df.groupby("month")["qty_supplied"].sum()
    if key_only:
        df = df[df["key_brand"].fillna(False).astype(bool)]
    vol = df.groupby(["month", "brand"], observed=True)["qty_supplied"].sum()
    months = sorted(months if months is not None else totals.index.tolist())
    brands = sorted(vol.index.get_level_values("brand").unique())
    idx = pd.MultiIndex.from_product([months, brands], names=["month", "brand"])
    vol = vol.reindex(idx, fill_value=0.0).astype("float64")
    out = vol.rename("volume").reset_index()
    out["volume_cases"] = out["volume"] / CARTONS_PER_CASE
    tot = out["month"].map(totals)
    out["share"] = out["volume"] / tot.where(tot > 0)
    return out.sort_values(["brand", "month"], ignore_index=True)[
        ["month", "brand", "volume_cases", "share"]]


def price_class_structure(orders: pd.DataFrame, products: pd.DataFrame, *,
                          previous: pd.DataFrame | None = None) -> pd.DataFrame:
    """Price-class structure (价类结构) and its shift against a comparison period.

    - ``volume_cases`` per 价类 = Σ qty_supplied / 250 (箱)
    - ``share`` = class volume / total volume (0-1)
    - ``share_prev`` = the same in ``previous`` (e.g. the same month last year)
    - ``change_pp`` = share - share_prev (fraction; 0.01 = 1 个百分点)
    - ``value_per_case`` = class amount / class cases (元/箱)

    Returns
    -------
    DataFrame: price_class (一类..五类, all five), volume_cases, amount, share, value_per_case,
    share_prev, change_pp.
    """
    def shares(frame: pd.DataFrame) -> pd.DataFrame:
        df = _with_products(frame, products, ["price_class"])
        g = df.groupby("price_class", observed=True).agg(volume=("qty_supplied", "sum"),
                                                          amount=("amount", "sum"))
        g = g.reindex(list(PRICE_CLASSES), fill_value=0.0).astype("float64")
        total = g["volume"].sum()
        g["share"] = g["volume"] / total if total > 0 else np.nan
        return g

    cur = shares(orders)
    out = pd.DataFrame({"price_class": list(PRICE_CLASSES)})
    out["volume_cases"] = cur["volume"].to_numpy() / CARTONS_PER_CASE
    out["amount"] = cur["amount"].to_numpy()
    out["share"] = cur["share"].to_numpy()
    cases = out["volume_cases"].where(out["volume_cases"] > 0)
    out["value_per_case"] = out["amount"] / cases
    out["share_prev"] = shares(previous)["share"].to_numpy() if previous is not None else np.nan
    out["change_pp"] = out["share"] - out["share_prev"]
    return out


def concentration(orders: pd.DataFrame, products: pd.DataFrame | None = None, *,
                  level: str = "brand", by=None) -> pd.DataFrame:
    """Market concentration (集中度): CR5 and the Herfindahl-Hirschman index (HHI) of volume.

    With s_i the volume share of item i (0-1, items = brands or SKUs):

    - CR5 ``cr5`` = sum of the five largest s_i (0-1)
    - HHI ``hhi`` = Σ (100 · s_i)² (0-10,000; 10,000 = one item only)
    - ``n_items`` = number of items with volume > 0

    Returns
    -------
    DataFrame: [by], cr5, hhi, n_items (NaN indices when there is no volume).
    """
    cols = _level_cols(level)[:1]
    keys = [] if by is None else ([by] if isinstance(by, str) else list(by))
    df = _with_products(orders, products, cols) if products is not None else orders
    vol = df.groupby(keys + cols, observed=True)["qty_supplied"].sum()
    vol = vol[vol > 0]

    def one(v: pd.Series) -> pd.Series:
        total = v.sum()
        if total <= 0:
            return pd.Series({"cr5": np.nan, "hhi": np.nan, "n_items": 0})
        s = (v / total).sort_values(ascending=False)
        return pd.Series({"cr5": float(s.head(5).sum()), "hhi": float(((100 * s) ** 2).sum()),
                          "n_items": int(len(s))})

    if not keys:
        return one(vol).to_frame().T.astype({"n_items": "int64"})
    rows = [{**dict(zip(keys, k if isinstance(k, tuple) else (k,))), **one(v).to_dict()}
            for k, v in vol.groupby(level=list(range(len(keys))))]
    return pd.DataFrame(rows, columns=keys + ["cr5", "hhi", "n_items"])


def fill_rate(orders: pd.DataFrame, products: pd.DataFrame | None = None, *,
              by="sku", min_ordered: float = 0.0) -> pd.DataFrame:
    """订单满足率 (order fill rate) = Σ qty_supplied / Σ qty_ordered per group (0-1).

    A rate below 1 means the item is rationed (紧俏, supply below demand). ``shortfall`` =
    Σ qty_ordered - Σ qty_supplied (条). Groups with ordered ≤ ``min_ordered`` are dropped.

    Returns
    -------
    DataFrame: by columns (+ brand, name when by is "sku" and products are given), qty_ordered,
    qty_supplied, shortfall, fill_rate; sorted ascending by fill_rate (most rationed first).
    """
    keys = [by] if isinstance(by, str) else list(by)
    g = orders.groupby(keys, observed=True)[["qty_ordered", "qty_supplied"]].sum().reset_index()
    g = g[g["qty_ordered"] > min_ordered]
    g["shortfall"] = g["qty_ordered"] - g["qty_supplied"]
    g["fill_rate"] = g["qty_supplied"] / g["qty_ordered"]
    if keys == ["sku"] and products is not None:
        g = g.merge(products[["sku", "brand", "name"]], on="sku", how="left")
        keys = ["sku", "brand", "name"]
    g = g.sort_values(["fill_rate", "shortfall"], ascending=[True, False], ignore_index=True)
    return g[keys + ["qty_ordered", "qty_supplied", "shortfall", "fill_rate"]]


def new_products(products: pd.DataFrame, *, month: str, within_months: int = 6) -> pd.DataFrame:
    """SKUs launched (上市) in the ``within_months`` months up to and including ``month``."""
    end = pd.Period(month, freq="M")
    launch = pd.to_datetime(products["launch_date"]).dt.to_period("M")
    keep = (launch <= end) & (launch > end - within_months)
    return products[keep.fillna(False)].reset_index(drop=True)


def _second_week(new: pd.DataFrame) -> pd.Series:
    """The second distinct order week of each (group, shop) of ``new`` that ordered in two
    weeks or more (a shop with one week has none: it never counts as a repeat), as one sort
    instead of a Python call per shop. Index: group, license_id."""
    weeks = new[["group", "license_id", "week"]].drop_duplicates()
    if weeks.empty:
        return pd.Series(dtype="float64")
    # integer codes of the keys: the sort and the count per shop without string comparisons
    g_codes = pd.factorize(weeks["group"])[0]
    s_codes = pd.factorize(weeks["license_id"])[0]
    w = weeks["week"].to_numpy()
    order = np.lexsort((w, s_codes, g_codes))
    g_s, s_s = g_codes[order], s_codes[order]
    starts = np.r_[True, (g_s[1:] != g_s[:-1]) | (s_s[1:] != s_s[:-1])]
    rank = np.arange(len(order)) - np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
    pick = order[rank == 1]
    rows = weeks.iloc[pick]
    return pd.Series(rows["week"].to_numpy(dtype="float64"),
                     index=pd.MultiIndex.from_frame(rows[["group", "license_id"]]))


def new_product_reach(orders: pd.DataFrame, customers: pd.DataFrame, *, sku: str,
                      launch_date, by: str | None = "urban_rural",
                      end_date=None, active=None) -> pd.DataFrame:
    """New-product spread by week since launch: 订购面 (reach) and 重购率 (repeat-order rate).

    Week w since launch is the day count (order_date - launch_date) // 7 (week 0 = launch week).
    For each group (e.g. 城镇/乡村) and each week w, cumulatively up to week w:

    - 订购面 ``reach`` = shops that ordered the SKU (qty_ordered > 0) / active shops (0-1);
      active shops = shops of the group with any order line from launch to ``end_date``
    - 重购率 ``repeat_rate`` = shops that ordered the SKU in at least two different weeks /
      shops that ordered it (0-1; NaN before the first order)

    Parameters
    ----------
    orders : order lines from the launch on (all SKUs: they define the active shops).
    customers : customers with ``license_id`` and the ``by`` column.
    sku : the new SKU.
    launch_date : its launch date.
    by : customer column to split by (None: one group ``"全部"``).
    end_date : last date counted (default: the last order date).
    active : optional license ids of the active shops; then ``orders`` need only hold the new
        SKU's lines (cheaper: the report loads only those with their dates).

    Returns
    -------
    DataFrame: group, week, active_shops, ordering_shops, reach, repeat_shops, repeat_rate.
    """
    launch = pd.Timestamp(launch_date)
    df = orders[orders["order_date"] >= launch]
    if end_date is not None:
        df = df[df["order_date"] <= pd.Timestamp(end_date)]
    cols = ["order_date", "license_id", "sku", "qty_ordered"]
    df = df[cols]
    if by is None:
        df = df.assign(group="全部")
    else:
        df = df.merge(customers[["license_id", by]].rename(columns={by: "group"}),
                      on="license_id", how="left")
    if active is not None:
        ids = (pd.array(active, dtype="string")  # not one by one in Python
               if isinstance(getattr(active, "dtype", None), pd.StringDtype)
               else pd.Series(list(active), dtype="string"))
        act = pd.DataFrame({"license_id": pd.Series(ids).unique()})
        act = act.assign(group="全部") if by is None else act.merge(
            customers[["license_id", by]].rename(columns={by: "group"}), on="license_id",
            how="left")
        active = act.groupby("group", observed=True)["license_id"].nunique()
    else:
        active = df.groupby("group", observed=True)["license_id"].nunique()
    if active.empty or (df.empty and end_date is None):
        return pd.DataFrame(columns=["group", "week", "active_shops", "ordering_shops", "reach",
                                     "repeat_shops", "repeat_rate"])
    last_day = pd.Timestamp(end_date) if end_date is not None else df["order_date"].max()
    last_week = int((last_day - launch).days // 7)
    new = df[(df["sku"] == sku) & (df["qty_ordered"] > 0)].copy()
    new["week"] = (pd.to_datetime(new["order_date"]) - launch).dt.days // 7
    first = new.groupby(["group", "license_id"], observed=True)["week"].min()
    second = _second_week(new)
    rows = []
    weeks = np.arange(last_week + 1)
    for group, n_active in active.items():
        f = first[first.index.get_level_values(0) == group].to_numpy() if len(first) else []
        s = second[second.index.get_level_values(0) == group].to_numpy() if len(second) else []
        for w in weeks:
            ordering = int((np.asarray(f) <= w).sum())
            repeat = int((np.asarray(s, dtype=float) <= w).sum())
            rows.append((group, int(w), int(n_active), ordering, ordering / n_active,
                         repeat, repeat / ordering if ordering else np.nan))
    return pd.DataFrame(rows, columns=["group", "week", "active_shops", "ordering_shops", "reach",
                                       "repeat_shops", "repeat_rate"])
