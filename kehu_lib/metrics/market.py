"""Market metrics (市场分析): price index, social inventory (社会库存), 存销比 and market alerts.

Inputs: the month's price and stock checks (价存采集: observed retail 元/条, stock 条), the
products (guided retail 元/条), order lines (条) and customers (业态 for stratification).
"""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from .. import frames
from ..config import CARTONS_PER_CASE, PRICE_CLASSES
from .customers import active_customers

__all__ = ["price_index", "weighted_price_index", "social_inventory", "social_inventories",
           "market_alerts",
           "sales_weights"]

_PRODUCT_COLS = ["sku", "brand", "name", "price_class"]


def _keys(by) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def price_index(checks: pd.DataFrame, products: pd.DataFrame, *, by=None) -> pd.DataFrame:
    """价格指数 per SKU: observed retail price / guided retail price.

    For each check, ratio = retail_price (observed, 元/条) / guided retail_price (元/条). Per SKU
    (and ``by`` group):

    - ``price_index`` = mean ratio over the checks (1 = at the guided price, 0.9 = 10% below)
    - ``share_at_guided`` = share of checks with ratio ≥ 1 (at or above the guided price, 0-1)
    - ``observed_price`` = mean observed price, ``guided_price`` (元/条), ``checks`` = count

    Returns
    -------
    DataFrame: [by], sku, brand, name, price_class, checks, observed_price, guided_price,
    price_index, share_at_guided; sorted by price_index ascending.
    """
    keys = _keys(by)
    cols = keys + ["sku", "brand", "name", "price_class", "checks", "observed_price",
                   "guided_price", "price_index", "share_at_guided"]
    if checks.empty:
        return pd.DataFrame(columns=cols)
    df = checks.merge(products[["sku", "retail_price"]].rename(
        columns={"retail_price": "guided_price"}), on="sku", how="inner")
    df["ratio"] = df["retail_price"] / df["guided_price"]
    df["at"] = (df["ratio"] >= 1 - 1e-9).astype(float)
    out = df.groupby(keys + ["sku"], observed=True).agg(
        checks=("ratio", "size"), observed_price=("retail_price", "mean"),
        guided_price=("guided_price", "first"), price_index=("ratio", "mean"),
        share_at_guided=("at", "mean")).reset_index()
    out = out.merge(products[_PRODUCT_COLS], on="sku", how="left")
    return out.sort_values(["price_index"] + keys, ignore_index=True)[cols]


def weighted_price_index(sku_index: pd.DataFrame, weights: pd.Series, *,
                         level: str | None = "price_class", by=None) -> pd.DataFrame:
    """Sales-weighted 价格指数 of a price class (价类) or of the whole market.

    ``price_index`` = Σ w_i · PI_i / Σ w_i over the SKUs i of the group that were checked, with
    PI_i from :func:`price_index` and w_i = the SKU's sales volume (条) in ``weights`` (e.g. the
    same month last year: a fixed, Laspeyres-style basket). ``share_at_guided`` = checks at or
    above the guided price / all checks of the group (unweighted, 0-1).

    Parameters
    ----------
    sku_index : output of :func:`price_index`.
    weights : Series of volumes indexed by sku; SKUs without weight count 0.
    level : ``"price_class"`` for one row per class (一类..五类), None for one overall row
        (``price_class`` = '全部').
    by : extra group columns present in ``sku_index`` (e.g. ``"district_code"``).

    Returns
    -------
    DataFrame: [by], price_class, skus, checks, price_index, share_at_guided.
    """
    keys = _keys(by)
    cols = keys + ["price_class", "skus", "checks", "price_index", "share_at_guided"]
    if sku_index.empty:
        return pd.DataFrame(columns=cols)
    df = sku_index.copy()
    df["w"] = df["sku"].map(weights).fillna(0.0).astype("float64")
    df["wpi"] = df["w"] * df["price_index"]
    df["n_at"] = df["share_at_guided"] * df["checks"]
    if level is None:
        df["price_class"] = "全部"
    g = df.groupby(keys + ["price_class"], observed=True).agg(
        skus=("sku", "nunique"), checks=("checks", "sum"), w=("w", "sum"), wpi=("wpi", "sum"),
        n_at=("n_at", "sum")).reset_index()
    g["price_index"] = g["wpi"] / g["w"].where(g["w"] > 0)
    g["share_at_guided"] = g["n_at"] / g["checks"]
    order = {c: i for i, c in enumerate(PRICE_CLASSES)}
    g = g.assign(_o=g["price_class"].map(order)).sort_values(keys + ["_o"], ignore_index=True)
    return g[cols]


def social_inventory(checks: pd.DataFrame, orders: pd.DataFrame, customers: pd.DataFrame,
                     products: pd.DataFrame | None = None, *, month: str,
                     strata: str = "business_format", by=None) -> pd.DataFrame:
    """社会库存 (retail-level stock) per SKU, stratified estimate, and 存销比.

    Each checked shop reports the stock (条) of the SKUs it carries. For SKU i and stratum h
    (业态 by default) of the group:

    - ȳ_ih = mean stock of SKU i over the checks in stratum h (条/户; a shop checked twice in
      the month counts its last check)
    - N_ih = shops of stratum h supplied with SKU i in ``month`` (the shops carrying it)
    - 社会库存 ``stock`` = Σ_h ȳ_ih · N_ih (条); a stratum with carriers but no check uses the
      SKU's mean over all checks; ``stock_cases`` = stock / 250 (箱)
    - 月销量 ``sales`` = Σ qty_supplied of SKU i in ``month`` (条)
    - 存销比 ``stock_to_sales`` = stock / sales (months of sales held by retailers)
    - ``stock_to_sales_se`` = its standard error, √(Σ_h N_ih² s_ih² / n_ih) / sales, with s_ih
      the standard deviation of the checked stocks and n_ih the checks of the stratum

    Returns
    -------
    DataFrame: [by], sku [, brand, name, price_class], checked_shops, carrying_shops, stock,
    stock_cases, sales, stock_to_sales.
    """
    return social_inventories(checks, orders, customers, products, month=month, strata=strata,
                              bys=[by])[0]


def social_inventories(checks: pd.DataFrame, orders: pd.DataFrame, customers: pd.DataFrame,
                       products: pd.DataFrame | None = None, *, month: str,
                       strata: str = "business_format", bys=(None,)) -> list[pd.DataFrame]:
    """:func:`social_inventory` for each grouping of ``bys`` (e.g. ``(None, "district_code")``:
    the city's table and the districts'), one list item each; the month's checks, sales rows
    and carrying shops are prepared once for all of them."""
    keysets = [_keys(by) for by in bys]
    every = [k for ks in keysets for k in ks]
    chk = checks[checks["month"] == month] if "month" in checks.columns else checks
    if chk.empty:
        return [pd.DataFrame(columns=_inventory_columns(keys, products)) for keys in keysets]
    cust = active_customers(customers, month=month)[["license_id", strata]]
    chk = (chk.sort_values("check_date").drop_duplicates(["license_id", "sku"], keep="last")
           .merge(cust, on="license_id", how="left"))
    chk[strata] = chk[strata].fillna("未知")
    # only the columns read, before the month's rows are selected
    od = frames.rows_of(orders, "month", [month])  # a slice of a ledger sorted by month
    od = od[[c for c in od.columns if c in (*every, "month", "license_id", "sku", "qty_supplied")]]
    od = od[od["qty_supplied"] > 0]
    carriers = od.drop_duplicates(["license_id", "sku"])
    if cust["license_id"].is_unique and strata not in carriers.columns:
        # the merge's stratum column, looked up once per shop
        carriers = carriers.assign(**{strata: frames.per_key(
            carriers["license_id"], cust.set_index("license_id")[strata].reindex)})
    else:
        carriers = carriers.merge(cust, on="license_id", how="left")
    carriers = carriers.fillna({strata: "未知"})
    return [_inventory_estimate(chk, od, carriers, keys, products, strata)
            for keys in keysets]


def _inventory_columns(keys: list[str], products: pd.DataFrame | None) -> list[str]:
    cols = keys + ["sku", "checked_shops", "carrying_shops", "stock", "stock_cases", "sales",
                   "stock_to_sales", "stock_to_sales_se"]
    if products is not None:
        cols = cols[:len(keys) + 1] + ["brand", "name", "price_class"] + cols[len(keys) + 1:]
    return cols


def _inventory_estimate(chk: pd.DataFrame, od: pd.DataFrame, carriers: pd.DataFrame,
                        keys: list[str], products: pd.DataFrame | None,
                        strata: str) -> pd.DataFrame:
    """:func:`social_inventory`'s estimate by ``keys`` from the month's last check per shop and
    SKU (with its stratum), the month's supplied rows and their carrying shops (stratum
    attached, a missing one 未知)."""
    cols = _inventory_columns(keys, products)
    sales = od.groupby(keys + ["sku"], observed=True)["qty_supplied"].sum().rename("sales")
    carry = carriers.groupby(keys + ["sku", strata], observed=True).size().rename("n")
    per = chk.groupby(keys + ["sku", strata], observed=True).agg(
        ybar=("stock", "mean"), checked=("license_id", "nunique"), s2=("stock", "var"))
    by_sku = chk.groupby(keys + ["sku"], observed=True)  # its groups found once, used twice
    overall = by_sku["stock"].mean().rename("ybar_all")
    est = carry.to_frame().join(per, how="left").reset_index()
    est = est.join(overall, on=keys + ["sku"])
    est["ybar"] = est["ybar"].fillna(est["ybar_all"])
    est["part"] = est["ybar"] * est["n"]
    # variance of N_h * ybar_h: N_h^2 s_h^2 / n_h (no finite-population correction; a stratum
    # with one check or none contributes 0: its uncertainty is not estimable)
    est["var"] = (est["n"] ** 2 * est["s2"] / est["checked"]).fillna(0.0)
    g = est.groupby(keys + ["sku"], observed=True).agg(
        carrying_shops=("n", "sum"), stock=("part", lambda s: s.sum(min_count=1)),
        var=("var", "sum"))
    g = g.join(by_sku["license_id"].nunique().rename("checked_shops"), how="inner").join(sales, how="left").reset_index()
    g["sales"] = g["sales"].fillna(0.0)
    g["stock_cases"] = g["stock"] / CARTONS_PER_CASE
    g["stock_to_sales"] = g["stock"] / g["sales"].where(g["sales"] > 0)
    g["stock_to_sales_se"] = g["var"] ** 0.5 / g["sales"].where(g["sales"] > 0)
    if products is not None:
        g = g.merge(products[_PRODUCT_COLS], on="sku", how="left")
    return g.sort_values(keys + ["stock_to_sales"], ascending=[True] * len(keys) + [False],
                         ignore_index=True)[cols]


def market_alerts(sku_index: pd.DataFrame, inventory: pd.DataFrame, *,
                  thresholds: Mapping[str, float], by=None) -> pd.DataFrame:
    """市场预警: SKUs whose price index is under, or 存销比 over, its threshold.

    Thresholds (all required; their values live in ``params/market_report.yaml``):
    ``price_index_alert`` (an alert when PI is below it), ``stock_to_sales_alert`` (an alert
    when 存销比 is above it), ``min_checks`` (SKUs with fewer checks are not judged) and
    ``alert_z``: a stock alert needs 存销比 − z · stock_to_sales_se above the
    threshold (the one-sided 95% lower bound of the stratified estimate), so a ratio just over
    1 from a handful of noisy checks does not fire. ``severity`` counts the two conditions met
    (2 = price falling while stock piles up: supply runs ahead of demand).

    Returns
    -------
    DataFrame: [by], sku, brand, name, price_class, checks, price_index, stock_to_sales,
    price_alert, stock_alert, severity; only rows with an alert, most severe first.
    """
    t = dict(thresholds)
    missing = [k for k in ("price_index_alert", "stock_to_sales_alert", "min_checks", "alert_z")
               if k not in t]
    if missing:
        raise KeyError(f"market_alerts: thresholds {missing} are missing "
                       "(see params/market_report.yaml)")
    keys = _keys(by)
    cols = keys + ["sku", "brand", "name", "price_class", "checks", "price_index",
                   "stock_to_sales", "price_alert", "stock_alert", "severity"]
    pi = sku_index[keys + ["sku", "brand", "name", "price_class", "checks", "price_index"]]
    inv = inventory.reindex(columns=keys + ["sku", "stock_to_sales", "stock_to_sales_se"])
    df = pi.merge(inv, on=keys + ["sku"], how="outer")
    df["checks"] = df["checks"].fillna(0)
    judged = df["checks"] >= t["min_checks"]
    df["price_alert"] = judged & (df["price_index"] < t["price_index_alert"])
    low = (df["stock_to_sales"].astype(float)
           - t["alert_z"] * df["stock_to_sales_se"].astype(float).fillna(0.0))
    df["stock_alert"] = judged & (low > t["stock_to_sales_alert"])
    df["severity"] = df["price_alert"].astype(int) + df["stock_alert"].astype(int)
    df = df[df["severity"] > 0]
    return df.sort_values(["severity", "price_index"], ascending=[False, True],
                          ignore_index=True)[cols]


def sales_weights(orders: pd.DataFrame) -> pd.Series:
    """Volume per SKU (条), the weights of :func:`weighted_price_index`."""
    return orders.groupby("sku")["qty_supplied"].sum().astype("float64")

