"""The analyses seed 004 (§四, §七) asks of the monthly 市场分析报告, as codes and numbers.

- :func:`high_end_by_shop`: high-end (一类) cigarettes per shop: order quantity, frequency,
  cycle and profit ("从订购量、订购频次、销售周期、盈利等方面着手")
- :func:`route_summary` and :func:`route_structure`: the 访销线 (route) view of volume and of
  the consumption structure (price-class mix)
- :func:`urban_rural_judgement`: "城市上结构，农村上销量" — does the city grow by value and the
  countryside by volume?
- :func:`market_opportunities`: the coming month's festivals (:mod:`kehu_lib.calendar`) with
  the lift the same month showed in past years

The route and 城乡 views take order lines (month, license_id, sku, qty_supplied, amount) or
the same columns summed by shop × 价类 with ``price_class`` in place of ``sku`` (what a DuckDB
``GROUP BY`` over the store returns at city scale, :mod:`kehu_lib.reports.market_sections`);
both give the same figures.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .. import frames
from ..calendar import opportunities
from ..config import CARTONS_PER_CASE, PRICE_CLASSES

__all__ = ["high_end_by_shop", "route_summary", "route_structure", "urban_rural_judgement",
           "EXPECTED_GROWTH", "market_opportunities"]


def _months(month: str, n: int) -> list[str]:
    p = pd.Period(month, freq="M")
    return [str(p - i) for i in range(n - 1, -1, -1)]


def high_end_by_shop(lines: pd.DataFrame, products: pd.DataFrame,
                     checks: pd.DataFrame | None = None, *, month: str, months: int = 3,
                     classes: Sequence[str] = ("一类",),
                     shop_amount: pd.Series | None = None) -> pd.DataFrame:
    """High-end cigarettes (高档卷烟, 一类 by default) per shop over the ``months`` months up to
    ``month``.

    ``lines``: order lines with ``order_date`` (month, license_id, sku, qty_supplied, amount).

    - 订购量 ``qty_per_month`` = Σ qty_supplied of high-end SKUs / months (条/月)
    - 订购频次 ``orders_per_month`` = distinct order dates with high-end supply / months
    - 销售周期 ``cycle_days`` = mean days between successive such order dates (NaN with fewer
      than two)
    - 盈利 ``gross_profit_per_month`` = Σ qty × (retail − wholesale) / months (元/月), retail =
      the shop's observed price of the SKU in ``checks`` (价存采集) or the guided price;
      ``margin`` = gross profit / retail value (0-1)
    - ``share_amount`` = high-end amount / the shop's whole amount (0-1); the whole amount is
      ``shop_amount`` (license_id -> 元 supplied over the same months) when given, so ``lines``
      may hold the high-end SKUs only; else it is summed from ``lines``

    Returns
    -------
    DataFrame, one row per shop supplied with high-end SKUs: license_id, qty_per_month,
    orders_per_month, cycle_days, gross_profit_per_month, margin, share_amount; by
    qty_per_month descending.
    """
    win = _months(month, months)
    df = frames.rows_of(lines, "month", win)  # a slice of lines sorted by month
    df = df[df["qty_supplied"] > 0]
    attrs = ["price_class", "wholesale_price", "retail_price"]
    if products["sku"].is_unique and not any(c in df.columns for c in attrs + ["_obs"]):
        # the merge's columns looked up per SKU (a left merge on a unique key: the same values
        # in the rows' order, without copying the rows)
        table = products.set_index("sku")
        df = df.assign(**frames.looked_up(df["sku"], table, attrs))
        joined = True
    else:
        df = df.merge(products[["sku", *attrs]], on="sku", how="left")
        joined = False
    total_amount = (df.groupby("license_id")["amount"].sum() if shop_amount is None
                    else shop_amount)
    hi = df[df["price_class"].isin(list(classes))].copy()
    cols = ["license_id", "qty_per_month", "orders_per_month", "cycle_days",
            "gross_profit_per_month", "margin", "share_amount"]
    if hi.empty:
        return pd.DataFrame(columns=cols)
    retail = hi["retail_price"]
    if checks is not None and len(checks):
        obs = checks.groupby(["license_id", "sku"])["retail_price"].mean().rename("_obs")
        if joined and obs.dtype == "float64" and hi.index.is_unique:
            hi = hi.assign(_obs=frames.pair_lookup(hi, obs))
        else:
            hi = hi.join(obs, on=["license_id", "sku"])
        retail = hi["_obs"].fillna(hi["retail_price"])
    hi["_gp"] = hi["qty_supplied"] * (retail - hi["wholesale_price"])
    hi["_rv"] = hi["qty_supplied"] * retail
    dates = hi[["license_id", "order_date"]].drop_duplicates().sort_values(
        ["license_id", "order_date"])
    gaps = dates.groupby("license_id")["order_date"].diff().dt.days
    cycle = gaps.groupby(dates["license_id"]).mean()
    g = hi.groupby("license_id").agg(qty=("qty_supplied", "sum"), gp=("_gp", "sum"),
                                     rv=("_rv", "sum"), amount=("amount", "sum"))
    g["qty_per_month"] = g["qty"] / months
    g["orders_per_month"] = dates.groupby("license_id").size() / months
    g["cycle_days"] = cycle
    g["gross_profit_per_month"] = g["gp"] / months
    g["margin"] = g["gp"] / g["rv"].where(g["rv"] > 0)
    g["share_amount"] = g["amount"] / total_amount.reindex(g.index)
    out = g.reset_index().sort_values("qty_per_month", ascending=False, ignore_index=True)
    return out[cols]


def _price_class(orders: pd.DataFrame, products: pd.DataFrame) -> pd.Series:
    """Each row's 价类: its own ``price_class`` column (shop × price-class aggregates, e.g. from
    a DuckDB GROUP BY) or its SKU's class in ``products``."""
    if "price_class" in orders.columns:
        return orders["price_class"]
    return orders["sku"].map(products.set_index("sku")["price_class"])


def _attach(orders: pd.DataFrame, customers: pd.DataFrame, cols) -> pd.DataFrame:
    want = [c for c in cols if c not in orders.columns]
    if not want:
        return orders
    if customers["license_id"].is_unique:
        # the merge's columns, looked up once per shop (a left merge on a unique key: the same
        # values in the rows' order, without copying the rows)
        table = customers.set_index("license_id")
        return orders.assign(**frames.looked_up(orders["license_id"], table, want))
    return orders.merge(customers[["license_id", *want]], on="license_id", how="left")


def route_summary(orders: pd.DataFrame, products: pd.DataFrame, customers: pd.DataFrame, *,
                  month: str) -> pd.DataFrame:
    """访销线 view: per route, the month's volume and value with 同比.

    - ``shops``: 有效户数 (supplied in the month); ``volume_cases`` (箱), ``amount_wan`` (万元)
    - ``value_per_case`` = amount / cases (元/箱); ``share_class12`` = 一二类 volume share (0-1)
    - ``volume_yoy``, ``value_per_case_yoy``: growth against the same month last year (NaN
      without it)

    Returns
    -------
    DataFrame: route_id, manager_id, shops, volume_cases, amount_wan, value_per_case,
    share_class12, volume_yoy, value_per_case_yoy; by volume descending.
    """
    from .sales import growth

    ly = str(pd.Period(month, freq="M") - 12)
    od = _attach(frames.rows_of(orders, "month", [month, ly]), customers,
                 ["route_id", "manager_id"])
    od = od.assign(_v12=od["qty_supplied"].where(_price_class(od, products).isin(["一类", "二类"]),
                                                 0.0),
                   _shop=od["license_id"].where(od["qty_supplied"] > 0))
    g = od.groupby(["route_id", "month"]).agg(
        manager_id=("manager_id", "first"), shops=("_shop", "nunique"),
        volume=("qty_supplied", "sum"), amount=("amount", "sum"), v12=("_v12", "sum"))
    g["volume_cases"] = g["volume"] / CARTONS_PER_CASE
    g["value_per_case"] = g["amount"] / g["volume_cases"].where(g["volume_cases"] > 0)
    w = g.reset_index()
    cur = w[w["month"] == month].set_index("route_id")
    last = w[w["month"] == ly].set_index("route_id").reindex(cur.index)
    out = cur[["manager_id", "shops", "volume_cases"]].copy()
    out["amount_wan"] = cur["amount"] / 1e4
    out["value_per_case"] = cur["value_per_case"]
    out["share_class12"] = cur["v12"] / cur["volume"].where(cur["volume"] > 0)
    out["volume_yoy"] = growth(cur["volume_cases"], last["volume_cases"])
    out["value_per_case_yoy"] = growth(cur["value_per_case"], last["value_per_case"])
    return out.reset_index().sort_values("volume_cases", ascending=False, ignore_index=True)


def route_structure(orders: pd.DataFrame, products: pd.DataFrame, customers: pd.DataFrame, *,
                    month: str) -> pd.DataFrame:
    """访销线消费结构: each route's volume by price class (价类) and its share (0-1), the
    consumption structure the route's shops serve (the consumer panel is sampled by district,
    not by route, so the price-class mix of sales is the route-level measure).

    Returns
    -------
    DataFrame: route_id, price_class, volume_cases, share; classes in 一类..五类 order.
    """
    od = _attach(frames.rows_of(orders, "month", [month]), customers, ["route_id"])
    od = od.assign(price_class=_price_class(od, products))
    g = od.groupby(["route_id", "price_class"])["qty_supplied"].sum().unstack(fill_value=0.0)
    g = g.reindex(columns=list(PRICE_CLASSES), fill_value=0.0)
    share = g.div(g.sum(axis=1).where(g.sum(axis=1) > 0), axis=0)
    out = (g / CARTONS_PER_CASE).stack().rename("volume_cases").to_frame().join(
        share.stack().rename("share")).reset_index()
    out.columns = ["route_id", "price_class", "volume_cases", "share"]
    return out


#: "城市上结构，农村上销量": the growth each area is expected to show (by the shop's 城乡 or by
#: the district's kind, :data:`kehu_lib.config.DISTRICTS`).
EXPECTED_GROWTH = {"城镇": "structure", "乡村": "volume", "urban": "structure",
                   "key_account": "structure", "rural": "volume"}


def urban_rural_judgement(orders: pd.DataFrame, products: pd.DataFrame,
                          customers: pd.DataFrame, *, month: str, months: int = 3,
                          by: str = "urban_rural") -> pd.DataFrame:
    """城乡 structure-versus-volume judgement over the ``months`` months up to ``month`` against
    the same months a year earlier (a quarter smooths single-month noise).

    ``by``: ``"urban_rural"`` (the shop's 城镇 / 乡村) or ``"district_kind"`` (the district's
    urban / mixed / rural / key_account; 'mixed' has no expectation).

    - ``volume_growth`` = cases / cases last year − 1; ``value_growth`` = 单箱值 / 单箱值 last
      year − 1 (the structure: more value per case)
    - ``share_class12_change`` = 一二类 volume share now − last year (fraction of 1)
    - ``growth`` = ``structure`` when value_growth > volume_growth, else ``volume``
    - ``expected`` from :data:`EXPECTED_GROWTH`; ``as_expected`` = growth == expected

    Returns
    -------
    DataFrame: ``by`` (urban_rural or district_kind), volume_cases, value_per_case,
    volume_growth, value_growth, share_class12_change, growth, expected, as_expected.
    """
    from ..config import DISTRICT_BY_CODE
    from .sales import growth

    if by not in ("urban_rural", "district_kind"):
        raise ValueError(f"by must be 'urban_rural' or 'district_kind', got {by!r}")
    cur = _months(month, months)
    ly = [str(pd.Period(m, freq="M") - 12) for m in cur]
    od = frames.rows_of(orders, "month", cur + ly)  # a slice of rows sorted by month
    if by == "urban_rural":
        if "urban_rural" in od.columns or not customers["license_id"].is_unique:
            od = _attach(od, customers, ["urban_rural"])
        else:  # the merge's column, looked up once per shop
            table = customers.set_index("license_id")["urban_rural"]
            od = od.assign(urban_rural=frames.per_key(od["license_id"], table.reindex))
    else:
        od = od.assign(district_kind=frames.per_key(od["district_code"], lambda codes: codes.map(
            lambda c: DISTRICT_BY_CODE[c].kind if c in DISTRICT_BY_CODE else "unknown")))
    # the period as a category (codes, not a text per row): the same groups as "cur" / "ly"
    period = pd.Categorical.from_codes(np.where(frames.isin_runs(od["month"], cur), 0, 1),
                                       categories=["cur", "ly"])
    od = od.assign(_p=period,
                   _v12=od["qty_supplied"].where(_price_class(od, products).isin(["一类", "二类"]),
                                                 0.0))
    g = od.groupby([by, "_p"], observed=True)[["qty_supplied", "amount", "_v12"]].sum().unstack(
        "_p")
    out = pd.DataFrame(index=g.index)
    for p in ("cur", "ly"):
        q = g[("qty_supplied", p)] if ("qty_supplied", p) in g.columns else np.nan
        out[f"cases_{p}"] = q / CARTONS_PER_CASE
        out[f"vpc_{p}"] = g[("amount", p)] / out[f"cases_{p}"].where(out[f"cases_{p}"] > 0)
        out[f"s12_{p}"] = g[("_v12", p)] / q.where(q > 0)
    res = pd.DataFrame({"volume_cases": out["cases_cur"] / months,
                        "value_per_case": out["vpc_cur"],
                        "volume_growth": growth(out["cases_cur"], out["cases_ly"]),
                        "value_growth": growth(out["vpc_cur"], out["vpc_ly"]),
                        "share_class12_change": out["s12_cur"] - out["s12_ly"]})
    res["growth"] = np.where(res["value_growth"] > res["volume_growth"], "structure", "volume")
    res["growth"] = res["growth"].where(res["volume_growth"].notna() & res["value_growth"].notna())
    res["expected"] = res.index.map(EXPECTED_GROWTH)
    res["as_expected"] = (res["growth"] == res["expected"]).where(res["expected"].notna())
    return res.reset_index()


def market_opportunities(monthly: pd.DataFrame, *, month: str, years: int = 3,
                         baseline: int = 2, value: str = "volume") -> pd.DataFrame:
    """市场机会 of the month after ``month`` (the plan month): its festivals and stocking
    seasons (:func:`kehu_lib.calendar.opportunities`) and the lift the same calendar month
    showed in each of the past ``years`` years.

    ``monthly``: month ('YYYY-MM'), ``value`` (e.g. volume 条) of the district or city.
    ``lift`` = value of that past month / mean of the ``baseline`` months before it − 1
    (0.25 = 25% above the months before); ``past_names``: what fell in that past month (the
    Spring Festival moves, so a January lift may come from a different festival).

    Returns
    -------
    DataFrame, one row per past year: target_month, names (the target month's opportunities,
    ';'-joined), past_month, past_names, lift; plus ``mean_lift`` over the years with data.
    """
    target = pd.Period(month, freq="M") + 1
    s = monthly.groupby("month")[value].sum()
    names = ";".join(opportunities(target)["name"])
    rows = []
    for k in range(1, years + 1):
        past = target - 12 * k
        before = [str(past - i) for i in range(1, baseline + 1)]
        base = s.reindex(before)
        cur = s.get(str(past), np.nan)
        lift = (cur / base.mean() - 1) if base.notna().all() and base.mean() > 0 else np.nan
        rows.append((str(target), names, str(past), ";".join(opportunities(past)["name"]),
                     lift))
    out = pd.DataFrame(rows, columns=["target_month", "names", "past_month", "past_names",
                                      "lift"])
    out["mean_lift"] = out["lift"].mean()
    return out
