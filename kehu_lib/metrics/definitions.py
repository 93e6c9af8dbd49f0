"""One definition each (统一口径) for the figures several reports show.

- 有效户数 :func:`effective_shops`: shops supplied in the month (the headline's ``active_shops``)
- 上市周数 :func:`weeks_since_launch`: completed weeks since the launch date
- 至年底 :func:`kehu_lib.calendar.months_to_year_end` (the months after the report month up to
  December) and :func:`to_year_end_total`
- 存销比 :func:`stock_to_sales`: stock (条) / the month's sales (条), in months of sales
- 重购率 :func:`repeat_rate`: of the shops that ordered a SKU last month, the share that
  ordered it again this month
- 毛利率 at observed prices per SKU :func:`sku_margins`, with the SKUs below the target
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..calendar import months_to_year_end
from ..frames import rows_of

__all__ = ["effective_shops", "weeks_since_launch", "to_year_end_total", "stock_to_sales",
           "repeat_rate", "sku_margins"]


def effective_shops(orders: pd.DataFrame, *, month: str, by=None):
    """有效户数: the number of distinct shops supplied (qty_supplied > 0) in ``month`` (户).

    The one definition for every report: the headline's ``active_shops``
    (:func:`kehu_lib.metrics.sales.sales_summary`), the denominator of a new product's 订购面
    and of the plan's shares. Shops open but not supplied in the month are 在册户数
    (:func:`kehu_lib.metrics.customers.active_customers`), a different figure with a different
    name. Returns an int, or a Series per ``by`` group.
    """
    od = rows_of(orders, "month", [month])  # a slice of a ledger sorted by month
    od = od[od["qty_supplied"] > 0]
    if by is None:
        return int(od["license_id"].nunique())
    return od.groupby(by, observed=True)["license_id"].nunique().astype("int64")


def weeks_since_launch(launch_date, as_of) -> int:
    """上市周数: completed weeks from the launch date to ``as_of`` (e.g. the month's last day),
    ``(as_of − launch_date).days // 7``; 0 in the launch week. The same number as the last
    ``week`` of :func:`kehu_lib.metrics.brands.new_product_reach`, so the text and the table say
    the same 上市N周. Raises ValueError when ``as_of`` is before the launch."""
    days = (pd.Timestamp(as_of).normalize() - pd.Timestamp(launch_date).normalize()).days
    if days < 0:
        raise ValueError(f"as_of {as_of} is before the launch date {launch_date}")
    return int(days // 7)


def to_year_end_total(forecast: pd.DataFrame, *, month: str, value: str = "mean",
                      date_col: str = "ds", by=None):
    """至年底 total of a forecast made at report month ``month``: Σ ``value`` over the months
    after ``month`` up to December (:func:`kehu_lib.calendar.months_to_year_end`; for 2026-10
    that is November + December, never 2027-01 even when the horizon reaches it). 0 for a
    December report. Returns a float, or a Series per ``by`` group."""
    keep = set(months_to_year_end(month))
    m = pd.to_datetime(forecast[date_col]).dt.to_period("M").astype(str)
    part = forecast[m.isin(keep).to_numpy()]
    if by is None:
        return float(part[value].sum())
    return part.groupby(by, observed=True)[value].sum()


def stock_to_sales(stock, sales):
    """存销比 = stock (条) / sales of the month (条): months of sales held in stock.

    The market report's 存销比 applies it to the estimated social stock of a SKU in a district
    (:func:`kehu_lib.metrics.market.social_inventory`, judged against the norm 1.0); the
    monthly plan's 订单合理性 applies it to one shop's checked stock of one SKU against that
    shop's supply of the month (:func:`kehu_lib.plan.indicators.indicator_values`, alert 0.8).
    Same formula, different scope. NaN where sales ≤ 0. Works on scalars, arrays and Series.
    """
    s = np.asarray(sales, dtype="float64")
    st = np.asarray(stock, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(s > 0, st / s, np.nan)
    if isinstance(stock, pd.Series):
        return pd.Series(out, index=stock.index)
    return float(out) if out.ndim == 0 else out


def repeat_rate(orders: pd.DataFrame, *, sku: str, month: str, by=None) -> pd.DataFrame:
    """重购率 = shops that ordered the SKU (qty_ordered > 0) in ``month`` and in the month
    before / shops that ordered it in the month before (0-1).

    It informs because it can fall: a cumulative "ordered in two different weeks since launch"
    rate climbs to ~100% within weeks of any launch and stays there, whereas this month-on-month
    rate drops as soon as adopters stop re-ordering. ``previous`` = the base (shops), ``repeat``
    = those ordering again; NaN without a base.

    Returns
    -------
    DataFrame: [by], previous, repeat, repeat_rate.
    """
    prev = str(pd.Period(month, freq="M") - 1)
    od = orders[(orders["sku"] == sku) & (orders["qty_ordered"] > 0)]
    keys = [] if by is None else ([by] if isinstance(by, str) else list(by))
    a = od[od["month"] == prev][keys + ["license_id"]].drop_duplicates()
    b = set(od.loc[od["month"] == month, "license_id"])
    a = a.assign(_again=a["license_id"].isin(b))
    if keys:
        g = a.groupby(keys, observed=True).agg(previous=("license_id", "size"),
                                               repeat=("_again", "sum")).reset_index()
    else:
        g = pd.DataFrame({"previous": [len(a)], "repeat": [int(a["_again"].sum())]})
    g["repeat_rate"] = g["repeat"] / g["previous"].where(g["previous"] > 0)
    return g


def sku_margins(checks: pd.DataFrame, products: pd.DataFrame, *, target: float = 0.10,
                by=None) -> pd.DataFrame:
    """零售毛利率 per SKU at the observed retail prices (价存采集), against the target.

    - ``observed_price`` = mean observed retail price over the checks (元/条)
    - ``margin`` = (observed_price − wholesale_price) / observed_price (0-1); e.g. 90 元
      observed against 85 元 wholesale: 5.6%
    - ``guided_margin`` = the same at the guided retail price
    - ``shops_below`` = checked shops whose own observed price gives a margin below ``target``,
      ``checked_shops`` the checked shops; ``below_target`` = margin < target

    A shop's overall margin hides a low-margin SKU (it is a small part of its sales), so the
    SKUs below the target are shown here, per SKU (and ``by`` group, e.g. district).

    Returns
    -------
    DataFrame: [by], sku, brand, name, price_class, checked_shops, observed_price,
    wholesale_price, guided_price, margin, guided_margin, shops_below, below_target; the
    lowest margins first.
    """
    keys = [] if by is None else ([by] if isinstance(by, str) else list(by))
    cols = keys + ["sku", "brand", "name", "price_class", "checked_shops", "observed_price",
                   "wholesale_price", "guided_price", "margin", "guided_margin", "shops_below",
                   "below_target"]
    if checks.empty:
        return pd.DataFrame(columns=cols)
    p = products[["sku", "brand", "name", "price_class", "wholesale_price", "retail_price"]]
    df = checks.merge(p.rename(columns={"retail_price": "guided_price"}), on="sku", how="inner")
    shop = df.groupby(keys + ["sku", "license_id"], observed=True).agg(
        price=("retail_price", "mean"), wholesale_price=("wholesale_price", "first"))
    shop["below"] = (shop["price"] - shop["wholesale_price"]) / shop["price"] < target
    g = df.groupby(keys + ["sku"], observed=True).agg(
        checked_shops=("license_id", "nunique"), observed_price=("retail_price", "mean"),
        wholesale_price=("wholesale_price", "first"), guided_price=("guided_price", "first"))
    g = g.join(shop.groupby(level=list(range(len(keys) + 1)))["below"].sum().rename(
        "shops_below"))
    g = g.reset_index().merge(p[["sku", "brand", "name", "price_class"]], on="sku", how="left")
    g["margin"] = (g["observed_price"] - g["wholesale_price"]) / g["observed_price"]
    g["guided_margin"] = (g["guided_price"] - g["wholesale_price"]) / g["guided_price"]
    g["shops_below"] = g["shops_below"].astype("int64")
    g["below_target"] = g["margin"] < target
    return g.sort_values(["margin"] + keys, ignore_index=True)[cols]
