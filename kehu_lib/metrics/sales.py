"""Sales headline metrics (销量、金额、单箱值、结构): volume, amount, value per case, 同比 and 环比.

All functions take order lines as stored (``orders``: quantities in 条, amount in 元) and return
tidy frames. Sales volume (销量) is the quantity supplied (``qty_supplied``), not the quantity
ordered. Reports show volume in 箱 (1 箱 = 250 条) and amounts in 万元; both are computed here so
the notebooks only format.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..calendar import spring_festival
from ..config import CARTONS_PER_CASE
from ..frames import rows_of

__all__ = ["growth", "sales_summary", "headline", "district_comparison", "festival_moved",
           "jan_feb_comparison", "HEADLINE_INDICATORS"]

#: The headline indicators, in report order (their Chinese labels and units: the glossary).
HEADLINE_INDICATORS = ("volume_cases", "amount_wan", "value_per_case", "share_class12",
                       "active_shops", "volume_per_shop_cases")
#: Indicators that are shares: their 同比/环比 are differences in percentage points, not growth.
SHARE_INDICATORS = ("share_class12",)


def _by_list(by) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def growth(current, previous):
    """Growth rate (增长率) = current / previous - 1; NaN when previous is 0 or missing.

    Works on scalars, arrays and Series. Dimensionless (0.05 = +5%).
    """
    cur = np.asarray(current, dtype="float64")
    prev = np.asarray(previous, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where((prev > 0) & np.isfinite(prev), cur / prev - 1.0, np.nan)
    if isinstance(current, pd.Series):
        return pd.Series(out, index=current.index, name=current.name)
    return float(out) if out.ndim == 0 else out


def _check_orders(orders: pd.DataFrame, needed: Sequence[str]) -> None:
    missing = [c for c in needed if c not in orders.columns]
    if missing:
        raise KeyError(f"orders lacks column(s) {missing}; see kehu_lib/schema.py (orders)")


def sales_summary(orders: pd.DataFrame, products: pd.DataFrame | None = None, *,
                  by=None) -> pd.DataFrame:
    """Sales totals (销售汇总) per group: volume, amount, 单箱值, active shops, 户均, 一二类占比.

    Formulas (sums over the order lines of the group):

    - 销量 ``volume`` = Σ qty_supplied (条); ``volume_cases`` = volume / 250 (箱)
    - 销售额 ``amount`` = Σ amount (元); ``amount_wan`` = amount / 10,000 (万元)
    - 单箱值 ``value_per_case`` = amount / volume_cases (元/箱); NaN when the volume is 0
    - 有效户数 ``active_shops`` = number of shops with qty_supplied > 0 (户)
    - 户均销量 ``volume_per_shop_cases`` = volume_cases / active_shops (箱/户)
    - 一二类占比 ``share_class12`` = volume of 一类 and 二类 SKUs / volume (0-1), only when
      ``products`` (with ``sku`` and ``price_class``) is given

    Parameters
    ----------
    orders : DataFrame with ``license_id``, ``sku``, ``qty_supplied``, ``amount`` (+ ``by``).
    products : DataFrame with ``sku`` and ``price_class``, optional.
    by : column name or list of names to group by (e.g. ``"month"``); None for one total row.

    Returns
    -------
    DataFrame with the ``by`` columns and volume, volume_cases, amount, amount_wan,
    value_per_case, active_shops, volume_per_shop_cases [, share_class12]. An empty input gives
    zero totals (one row when ``by`` is None, no rows otherwise).
    """
    keys = _by_list(by)
    _check_orders(orders, ["license_id", "qty_supplied", "amount", *keys])
    df = orders
    if products is not None:
        df = orders.assign(_v12=orders["qty_supplied"].where(_class12(orders, products), 0.0))
    else:
        df = orders.assign(_v12=0.0)
    df = df.assign(_shop=df["license_id"].where(df["qty_supplied"] > 0))
    if keys:
        g = df.groupby(keys, observed=True, sort=True)
        out = g.agg(volume=("qty_supplied", "sum"), amount=("amount", "sum"),
                    active_shops=("_shop", "nunique"), v12=("_v12", "sum")).reset_index()
    else:
        out = pd.DataFrame({"volume": [float(df["qty_supplied"].sum())],
                            "amount": [float(df["amount"].sum())],
                            "active_shops": [int(df["_shop"].nunique())],
                            "v12": [float(df["_v12"].sum())]})
    out["volume"] = out["volume"].astype("float64")
    out["amount"] = out["amount"].astype("float64")
    out["active_shops"] = out["active_shops"].astype("int64")
    out["volume_cases"] = out["volume"] / CARTONS_PER_CASE
    out["amount_wan"] = out["amount"] / 10_000
    vol = out["volume_cases"].where(out["volume_cases"] > 0)
    out["value_per_case"] = out["amount"] / vol
    out["volume_per_shop_cases"] = out["volume_cases"] / out["active_shops"].where(
        out["active_shops"] > 0)
    if products is not None:
        out["share_class12"] = out["v12"] / out["volume"].where(out["volume"] > 0)
    cols = keys + ["volume", "volume_cases", "amount", "amount_wan", "value_per_case",
                   "active_shops", "volume_per_shop_cases"]
    if products is not None:
        cols.append("share_class12")
    return out[cols]


def _class12(orders: pd.DataFrame, products: pd.DataFrame) -> pd.Series:
    """Whether each order row's SKU is of 一类 or 二类 (by ``products``): a set test of the
    rows' SKUs against the products' 一二类 SKUs, the same flags as mapping every row to its
    price class (which converts the rows' Arrow strings to Python strings first)."""
    if products["sku"].is_unique:
        skus = products.loc[products["price_class"].isin(["一类", "二类"]), "sku"]
        return orders["sku"].isin(list(skus.dropna()))
    cls = products.set_index("sku")["price_class"]
    return orders["sku"].map(cls).isin(["一类", "二类"])


def _shift(month: str, n: int) -> str:
    return str(pd.Period(month, freq="M") + n)


def _compare(cur: pd.DataFrame, prev: pd.DataFrame, last: pd.DataFrame,
             keys: list[str]) -> pd.DataFrame:
    """Long table of indicators with 环比 (vs prev) and 同比 (vs last) from three summaries."""
    indicators = [c for c in HEADLINE_INDICATORS if c in cur.columns]

    def melt(frame: pd.DataFrame, name: str) -> pd.DataFrame:
        return frame.melt(id_vars=keys, value_vars=indicators, var_name="indicator",
                          value_name=name)

    on = keys + ["indicator"]
    out = melt(cur, "value")
    out = out.merge(melt(prev, "prev_month"), on=on, how="left")
    out = out.merge(melt(last, "last_year"), on=on, how="left")
    for col in ("value", "prev_month", "last_year"):
        out[col] = out[col].astype("float64")
    share = out["indicator"].isin(SHARE_INDICATORS)
    out["mom"] = np.where(share, out["value"] - out["prev_month"],
                          growth(out["value"], out["prev_month"]))
    out["yoy"] = np.where(share, out["value"] - out["last_year"],
                          growth(out["value"], out["last_year"]))
    out["change_unit"] = np.where(share, "pp", "pct")
    return out[keys + ["indicator", "value", "prev_month", "last_year", "mom", "yoy",
                       "change_unit"]]


def _summary_or_empty(orders, products, months, keys) -> pd.DataFrame:
    # only the columns sales_summary reads, before the row selection (no copy of the others)
    # (a slice of a ledger sorted by month: no row-by-row copy)
    read = ["license_id", "sku", "qty_supplied", "amount", *keys]
    part = rows_of(orders, "month", months)
    part = part[[c for c in part.columns if c in read or c == "month"]]
    if part.empty and keys:
        return sales_summary(part, products, by=keys).iloc[0:0]
    if part.empty:
        empty = sales_summary(part, products)
        return empty.assign(**{c: np.nan for c in empty.columns})  # no data, not zero
    return sales_summary(part, products, by=keys or None)


def headline(orders: pd.DataFrame, products: pd.DataFrame | None = None, *, month: str,
             by=None) -> pd.DataFrame:
    """The report headline (经营概况): each indicator with 环比 and 同比.

    Indicators are those of :func:`sales_summary` (销量 箱, 销售额 万元, 单箱值 元/箱, 一二类占比,
    有效户数, 户均销量 箱/户). For a level indicator x:

    - 环比 ``mom`` = x(month) / x(month - 1) - 1
    - 同比 ``yoy`` = x(month) / x(same month last year) - 1

    For the share 一二类占比 both are differences in percentage points as fractions
    (0.012 = +1.2 个百分点), flagged by ``change_unit == "pp"``. A comparison month with no data
    gives NaN (never a growth against zero).

    Parameters
    ----------
    orders : order lines covering ``month`` and, for the comparisons, the previous month and the
        same month last year (column ``month`` 'YYYY-MM').
    products : optional, for 一二类占比.
    month : the report month 'YYYY-MM'.
    by : optional grouping (e.g. ``"district_code"`` for the city's district table).

    Returns
    -------
    Long DataFrame: [by], indicator, label, unit, value, prev_month, last_year, mom, yoy,
    change_unit.
    """
    keys = _by_list(by)
    _check_orders(orders, ["month"])
    cur = _summary_or_empty(orders, products, [month], keys)
    prev = _summary_or_empty(orders, products, [_shift(month, -1)], keys)
    last = _summary_or_empty(orders, products, [_shift(month, -12)], keys)
    return _compare(cur, prev, last, keys)


def district_comparison(orders: pd.DataFrame, products: pd.DataFrame | None = None, *,
                        month: str) -> pd.DataFrame:
    """区县对比 for the city report: one row per district with the month's headline values.

    Wide form of :func:`headline` by ``district_code``: ``value_<indicator>`` and
    ``yoy_<indicator>`` (同比, see :func:`headline`) for every indicator, with ``district`` the
    district's Chinese name, in the order of :data:`kehu_lib.config.DISTRICTS`.

    Returns
    -------
    DataFrame: district, value_volume_cases, yoy_volume_cases, value_amount_wan, ... .
    """
    from ..config import DISTRICT_BY_CODE, DISTRICTS

    long = headline(orders, products, month=month, by="district_code")
    wide = long.pivot(index="district_code", columns="indicator", values=["value", "yoy"])
    wide.columns = [f"{a}_{b}" for a, b in wide.columns]
    order = {d.code: i for i, d in enumerate(DISTRICTS)}
    wide = wide.reset_index()
    wide = wide.assign(_o=wide["district_code"].map(order)).sort_values("_o")
    wide.insert(0, "district", wide["district_code"].map(
        lambda c: DISTRICT_BY_CODE[c].name if c in DISTRICT_BY_CODE else c))
    return wide.drop(columns=["_o", "district_code"]).reset_index(drop=True)


def festival_moved(year: int) -> bool:
    """Whether the Spring Festival (春节) fell in a different month than the year before.

    When it moved (e.g. 29 Jan 2025 → 17 Feb 2026), January and February are not comparable
    month by month and the report compares January + February combined (1-2月合计).
    """
    return spring_festival(year).month != spring_festival(year - 1).month


def jan_feb_comparison(orders: pd.DataFrame, products: pd.DataFrame | None = None, *,
                       year: int, by=None) -> pd.DataFrame:
    """1-2月合计同比: January + February of ``year`` against the same two months a year earlier.

    Formulas as in :func:`headline` on the two-month totals (volume in 箱, amount in 万元,
    单箱值 = amount / cases, active shops counted once over the two months). ``prev_month`` and
    ``mom`` are NaN (no 环比 for a two-month period). Use it when :func:`festival_moved` is true.

    Returns
    -------
    Long DataFrame like :func:`headline`, with ``period`` = 'YYYY-01~02'.
    """
    keys = _by_list(by)
    _check_orders(orders, ["month"])
    cur = _summary_or_empty(orders, products, [f"{year}-01", f"{year}-02"], keys)
    last = _summary_or_empty(orders, products, [f"{year - 1}-01", f"{year - 1}-02"], keys)
    none = cur.copy()
    for c in none.columns:
        if c not in keys:
            none[c] = np.nan
    out = _compare(cur, none, last, keys)
    out.insert(0, "period", f"{year}-01~02")
    return out
