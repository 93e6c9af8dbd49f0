"""The seed-004 and seed-003 sections of the 市场分析报告, and a conclusion and 建议 per section.

:func:`add_sections` is the one call :func:`kehu_lib.reports.market_report.build` makes for them;
it reads what it needs with small aggregated DuckDB queries over the store (never whole tables,
so that the 20,000-shop city store stays cheap) and adds:

- ``routes`` 访销线: volume, value and 同比 per route, and each route's price-class mix
  (:func:`kehu_lib.metrics.market_analysis.route_summary`, ``route_structure``)
- ``urban_rural`` 城乡: the judgement "城市上结构，农村上销量" by the shop's 城镇/乡村 (and, on the
  city page, by the district's kind) (``urban_rural_judgement``)
- ``high_end`` 高档卷烟（一类）: per shop, order quantity, frequency, cycle and profit
  (``high_end_by_shop``)
- ``market``: 市场机会 with the lift the same month showed in past years and the expected volume
  (``market_opportunities``, :func:`expected_effect`)
- ``customers``: the SKUs whose margin at observed prices is below the target
  (:func:`kehu_lib.metrics.definitions.sku_margins`)
- ``key_accounts`` 大客户 (pages whose shops include key accounts): priority supply, new-product
  trial, the relationship score out of 100 and the seed-003 items needing data not collected yet
  (:mod:`kehu_lib.plan.key_accounts`)

:func:`conclusions` then closes each section with one 结论 and one 建议, sentences built from the
section's codes and numbers through the glossary and :mod:`kehu_lib.present.format`.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from .. import aggregates, config, frames, loaders
from .. import store as _store
from ..config import CARTONS_PER_CASE
from ..metrics import definitions
from ..metrics import market_analysis as ma
from ..present import Table, Text
from ..present import format as fmt
from ..present import glossary
from ..present.highlights import link

__all__ = ["CUSTOMER_COLUMNS", "add_sections", "conclusions", "order_aggregate", "shop_class_volume",
           "monthly_volume", "expected_effect", "key_account_frames", "SECTION_HEADINGS",
           "RATIONED_BELOW"]

#: Headings of the sections this module adds (numbered after the report's 一 to 四).
SECTION_HEADINGS = {"key_accounts": "大客户管理（管理10策与客情关系）",
                    "routes": "访销线", "urban_rural": "城乡结构与销量",
                    "high_end": "高档卷烟（一类）"}
#: A SKU whose city-wide 订单满足率 is below this is rationed (紧俏), the scope of 管理10策 1.
RATIONED_BELOW = 0.95
_NUMERALS = "一二三四五六七八九十"


# ------------------------------------------------------------------------------------ queries

def order_aggregate(sql: str, *, months, district=None, store=None,
                    tables: Mapping[str, pd.DataFrame] | None = None,
                    keys=("license_id", "sku"), arrow: bool = False) -> pd.DataFrame:
    """Run an aggregating ``sql`` over the orders of ``months`` of ``district`` (None: the
    city) in DuckDB and return its (small) result.

    ``sql`` names the orders ``orders`` and may join the frames of ``tables`` by their names
    (registered as views). ``orders`` is the monthly ledger (:func:`kehu_lib.aggregates.
    ledger_sql`: month, district_code, license_id, sku and the sums qty_ordered, qty_supplied,
    amount, lines per month × shop × SKU, cached by the batch's precompute), so a query that
    sums by month, shop or SKU (or tests a quantity > 0: quantities are never negative) gets
    the figures of the order lines from a smaller table; there are no order dates.
    ``keys``: the ledger's key columns ``sql`` reads (``("sku",)`` for a sum over shops: a
    month older than the cached ones is then summed per SKU, not per shop and SKU).
    ``arrow``: convert the result through Arrow, for a result of text and DOUBLE columns only
    (the same frame as DuckDB's ``df()``, at two thirds of its CPU on a city's 500,000 rows).
    """
    code = None if district is None else getattr(config.resolve_district(district), "code", None)
    con = _store.connect()
    try:
        for name, df in (tables or {}).items():
            con.register(name, df)
        with _store.read_lock(store):
            source = aggregates.ledger_sql(months, code, store=store, keys=keys)
            if source is not None:
                con.execute(f"CREATE TEMP VIEW orders AS {source}")
            else:  # no data in those months: an empty relation with the ledger's columns
                # (``AS`` before each name: a bare ``month`` after an expression is a syntax
                # error in DuckDB)
                key_cols = "".join(f"CAST(NULL AS VARCHAR) AS {k}, "
                                   for k in ("license_id", "sku") if k in keys)
                con.execute("CREATE TEMP VIEW orders AS SELECT CAST(NULL AS VARCHAR) AS month, "
                            f"CAST(NULL AS VARCHAR) AS district_code, {key_cols}"
                            "CAST(NULL AS DOUBLE) AS qty_ordered, "
                            "CAST(NULL AS DOUBLE) AS qty_supplied, CAST(NULL AS DOUBLE) AS amount, "
                            "CAST(NULL AS BIGINT) AS lines WHERE FALSE")
            rel = con.sql(sql)
            return rel.to_arrow_table().to_pandas() if arrow else rel.df()
    finally:
        con.close()


def shop_class_volume(months, district, products: pd.DataFrame, *, store=None) -> pd.DataFrame:
    """Order lines summed by month × shop × 价类: month, district_code, license_id,
    price_class, qty_ordered, qty_supplied, amount (条, 元) — the input of the route and 城乡
    views at a fraction of the lines' size."""
    out = order_aggregate(
        "SELECT o.month, o.district_code, o.license_id, p.price_class, "
        "SUM(o.qty_ordered) AS qty_ordered, SUM(o.qty_supplied) AS qty_supplied, "
        "SUM(o.amount) AS amount FROM orders o JOIN products p USING (sku) "
        "GROUP BY ALL ORDER BY ALL", months=months, district=district, store=store,
        tables={"products": products[["sku", "price_class"]]}, arrow=True)
    return out


def monthly_volume(months, district, *, store=None) -> pd.DataFrame:
    """Σ qty_supplied (条) per month of ``district`` (None: the city): month, volume. The
    months past the cached ones (the same month 2 and 3 years ago) are summed per SKU, not per
    shop and SKU (quantities are whole 条: the same sums in any order)."""
    return order_aggregate("SELECT month, SUM(qty_supplied) AS volume FROM orders GROUP BY month "
                           "ORDER BY month", months=months, district=district, store=store,
                           keys=("sku",))


def _window(month: str, n: int, *, back: int = 0) -> list[str]:
    p = pd.Period(month, freq="M") - back
    return [str(p - i) for i in range(n - 1, -1, -1)]


# ---------------------------------------------------------------------------- computations

def expected_effect(opp: pd.DataFrame, monthly: pd.DataFrame, *, month: str,
                    baseline: int = 2) -> dict[str, Any]:
    """The expected effect of the coming month's 市场机会: its past lift applied to now.

    ``opp``: :func:`kehu_lib.metrics.market_analysis.market_opportunities` of ``month``;
    ``monthly``: month, volume (条). ``base_cases`` = mean volume of the ``baseline`` months up
    to ``month`` (箱/月); ``mean_lift`` = the mean past lift; ``expected_cases`` = base_cases ×
    (1 + mean_lift) and ``expected_change_cases`` = expected − base (NaN without a past lift).
    """
    s = monthly.groupby("month")["volume"].sum()
    base = s.reindex(_window(month, baseline))
    base_cases = base.mean() / CARTONS_PER_CASE if base.notna().all() else np.nan
    lift = float(opp["mean_lift"].iloc[0]) if len(opp) else np.nan
    exp = base_cases * (1 + lift) if np.isfinite(lift) else np.nan
    return {"target_month": str(pd.Period(month, freq="M") + 1), "base_cases": base_cases,
            "mean_lift": lift, "years": int(opp["lift"].notna().sum()) if len(opp) else 0,
            "expected_cases": exp, "expected_change_cases": exp - base_cases}


def forecast_of_month(month: str, district: str, target: str, *, store=None) -> dict[str, Any]:
    """The sales forecast module's volume forecast of ``target`` made at ``month`` for
    ``district`` (or 全市), in 箱: ``forecast_cases, forecast_lo_80, forecast_hi_80``; NaN when
    the month's forecasts are not cached (never builds them)."""
    from ..plan.data import load_forecasts

    fc, _ = load_forecasts(month, store=store)
    row = None if fc is None else fc[(fc["district"] == district) & (fc["month"] == target)]
    if row is None or row.empty:
        return {"forecast_cases": np.nan, "forecast_lo_80": np.nan, "forecast_hi_80": np.nan}
    return {f"forecast_{k}": float(row[c].iloc[0]) / CARTONS_PER_CASE
            for k, c in (("cases", "forecast"), ("lo_80", "lo_80"), ("hi_80", "hi_80"))}


def _forecast_sentence(eff: Mapping[str, Any], target: pd.Period, *, notebook: str) -> str:
    """The sales forecast of the same month beside the past-lift estimate, so that the pack
    gives one forecast (empty when it is not cached)."""
    fc = eff.get("forecast_cases", np.nan)
    if not np.isfinite(fc):
        return ""
    lo, hi = eff["forecast_lo_80"], eff["forecast_hi_80"]
    inside = lo <= eff["expected_cases"] <= hi
    href = link("sales_forecast#total", notebook=notebook)
    return (f"销量预测模块的{target.month}月预测为{_q('volume_cases', fc)}（80%预测区间"
            f"{fmt.number(lo, 1)}至{fmt.number(hi, 1)}箱），往年同月推算值"
            f"{'在区间之内' if inside else '在区间之外，备货与投放以销量预测为准'}"
            f"（[见销售预测]({href})）。")


def key_account_frames(month: str, district, customers: pd.DataFrame, products: pd.DataFrame, *,
                       store=None, new_product_months: int = 6) -> dict[str, Any] | None:
    """The seed-003 key-account view of the page's key accounts (None when it has none).

    Reads: 15 months of volume per key account, the month's orders by SKU (key accounts one by
    one, the other shops of the city summed), the month's visits and retailer survey of the
    district, and per shop and month whether it took the new products (all aggregated in DuckDB).
    """
    from ..metrics.brands import new_products
    from ..plan import key_accounts as ka

    kas = customers[customers["key_account"].fillna(False).astype(bool)]
    if kas.empty:
        return None
    ids = pd.DataFrame({"license_id": kas["license_id"].astype(str)})
    vol = order_aggregate(
        "SELECT o.month, o.license_id, SUM(o.qty_supplied) AS qty_supplied FROM orders o "
        "JOIN ka USING (license_id) GROUP BY ALL", months=_window(month, 15), district=district,
        store=store, tables={"ka": ids})
    # managed: every key account not closed, and a closed one still supplied this month (it is
    # among the month's 有效户数)
    if "status" in kas.columns:
        now = set(vol.loc[(vol["month"] == month) & (vol["qty_supplied"] > 0), "license_id"])
        keep = (kas["status"] != "歇业") | kas["license_id"].isin(now)
        closed = int((~keep).sum())
        kas = kas[keep]
        ids = pd.DataFrame({"license_id": kas["license_id"].astype(str)})
    else:
        closed = 0
    by_sku = order_aggregate(
        "SELECT o.month, CASE WHEN ka.license_id IS NULL THEN NULL ELSE o.license_id END "
        "AS license_id, o.sku, SUM(o.qty_ordered) AS qty_ordered, "
        "SUM(o.qty_supplied) AS qty_supplied FROM orders o LEFT JOIN ka USING (license_id) "
        "GROUP BY ALL", months=[month], district=None, store=store, tables={"ka": ids})
    allc = loaders.load_customers(None, columns=["license_id", "key_account", "district_code",
                                                 "manager_id"], store=store)
    new = new_products(products, month=month, within_months=new_product_months)
    trial = pd.DataFrame(columns=["license_id", "sku", "first_month", "status", "ka_share",
                                  "others_share"])
    if len(new):
        first = str(pd.Timestamp(new["launch_date"].min()).to_period("M"))
        months = [str(p) for p in pd.period_range(first, month, freq="M")]
        # per shop and month: each new SKU taken, and '' for all its other SKUs (whether the
        # shop was supplied at all: the base of the shares)
        took = order_aggregate(
            "SELECT o.month, o.license_id, CASE WHEN n.sku IS NULL THEN '' ELSE o.sku END AS sku,"
            " SUM(o.qty_supplied) AS qty_supplied FROM orders o LEFT JOIN new n USING (sku) "
            "WHERE o.qty_supplied > 0 GROUP BY ALL", months=months, district=None, store=store,
            tables={"new": new[["sku"]].astype(str)})
        trial = ka.new_product_trial(took, products, allc, month=month,
                                     within_months=new_product_months)
        trial = trial[trial["license_id"].isin(set(ids["license_id"]))]
    try:
        visits = loaders.load_visits(district, month, columns=["month", "license_id"],
                                     store=store)
    except FileNotFoundError:
        visits = pd.DataFrame(columns=["month", "license_id"])
    try:
        survey = loaders.load_retailer_survey(district, month, store=store)
        survey = survey[survey["license_id"].isin(set(ids["license_id"]))]
    except FileNotFoundError:
        survey = None
    prio = ka.priority_supply(by_sku, allc, month=month, rationed_below=RATIONED_BELOW)
    prio = prio[prio["license_id"].isin(set(ids["license_id"]))]
    rel = ka.relationship_indicators(vol, visits, kas, survey, month=month)
    lst = ka.key_account_list(vol, kas, month=month)
    gaps = ka.relationship_data_gaps()
    return {"list": lst, "priority": prio, "trial": trial, "relationship": rel, "gaps": gaps,
            "new": new, "closed": closed}


# ------------------------------------------------------------------------------ the sections

#: The numbered sections of the page, in the order the notebook shows them.
NUMBERED = ("overview", "brands", "customers", "market", "districts", "routes", "urban_rural",
            "high_end")


def _heading(r, key: str) -> str:
    """Section ``key``'s heading, numbered after the sections the page has before it (一 to 四,
    五、区县对比 on the city page only)."""
    n = sum(1 for k in NUMBERED[:NUMBERED.index(key) + 1] if k in r.sections or k == key)
    return f"{_NUMERALS[n - 1]}、{SECTION_HEADINGS[key]}"


def _insert_after(section, title: str, *items) -> None:
    """Insert ``items`` right after the table titled ``title`` (at the end when none is)."""
    pos = next((i + 1 for i, it in enumerate(section.items)
                if isinstance(it, Table) and it.title == title), len(section.items))
    section.items[pos:pos] = list(items)


#: The customer columns the sections read (the dimension table, a few columns).
CUSTOMER_COLUMNS = ["license_id", "district_code", "route_id", "manager_id", "business_format",
                    "urban_rural", "tier", "status", "key_account"]


def add_sections(r, *, month: str, district, products: pd.DataFrame,
                 new_status: pd.DataFrame | None = None, params: Mapping[str, Any],
                 store=None, sku_margins: pd.DataFrame | None = None) -> dict[str, Any]:
    """Add the seed-004 / seed-003 sections to report ``r`` and return the frames computed, for
    :func:`conclusions`. ``district``: the page's district (None or 全市: the city).
    ``sku_margins``: :func:`~kehu_lib.metrics.definitions.sku_margins` of the page's month's
    price checks (all of them, ``by=None``, target ``params["margin_target"]``) when the caller
    has them; else computed here.

    Reads its own data (independent of how the report loads its inputs): the customers'
    :data:`CUSTOMER_COLUMNS`, the month's price checks (licence, SKU, price) and DuckDB
    aggregates of the order lines."""
    top_n = int(params["top_n"])
    city = r.city
    where = None if city else district
    customers = loaders.load_customers(where, columns=CUSTOMER_COLUMNS, store=store)
    try:
        checks = loaders.load_price_checks(where, month, columns=["license_id", "sku",
                                                                  "retail_price"], store=store)
    except FileNotFoundError:
        checks = pd.DataFrame(columns=["license_id", "sku", "retail_price"])
    ly = str(pd.Period(month, freq="M") - 12)
    cur3, ly3 = _window(month, 3), _window(month, 3, back=12)
    agg = shop_class_volume(sorted(set(cur3 + ly3 + [ly])), where, products, store=store)
    views: dict[str, Any] = {"agg_rows": len(agg)}

    # 重购率 and 有效户数 of the new-product table: one definition each, stated where shown
    br = r.sections.get("brands")
    if br is not None and new_status is not None and len(new_status):
        _insert_after(br, "新品铺市进度", Text(
            f"口径：{glossary.label('active_shops')}为本月有供货的零售户数（与经营概况相同）；"
            f"{glossary.label('reach')}为上市以来订购过该新品的有效户占比；"
            f"{glossary.label('repeat_rate')}为上月订购该新品的零售户中本月再次订购的比例"
            "（逐月计算，停止续订即下降）。"))

    # 规格毛利率 at observed prices (the shop-level median hides a low-margin SKU)
    target = float(params["margin_target"])
    margins = (sku_margins if sku_margins is not None
               else definitions.sku_margins(checks, products, target=target))
    low = margins[margins["below_target"]].rename(columns={"name": "sku_name"})
    views["sku_margins"] = margins
    cu = r.section("customers")
    _insert_after(cu, f"零售户毛利率（目标{target:.0%}）", Table(
        low[["brand", "sku_name", "checked_shops", "observed_price", "wholesale_price",
             "margin", "guided_margin", "shops_below"]],
        title=f"按实际零售价毛利率低于{fmt.share(target, 0)}的规格",
        empty=f"本月价存采集的规格按实际零售价计算的毛利率均不低于{fmt.share(target, 0)}。",
        cap=top_n, noun="个规格", sheet="规格毛利率"))

    # 大客户 (seed 003) first on a page of key accounts
    # on a district page with key accounts (the 大客户 page); the city page links the districts
    kav = None if city else key_account_frames(
        month, where, customers, products, store=store,
        new_product_months=int(params["new_product_tracking_months"]))
    views["key_accounts"] = kav
    if kav is not None:
        sec = r.section("key_accounts")
        sec.heading = SECTION_HEADINGS["key_accounts"]
        _key_account_items(sec, kav, top_n=top_n, city=city)

    # 访销线
    routes = ma.route_summary(agg, products, customers, month=month)
    structure = ma.route_structure(agg, products, customers, month=month)
    views["routes"], views["route_structure"] = routes, structure
    sec = r.section("routes")
    sec.heading = _heading(r, "routes")
    wide = structure.pivot_table(index="route_id", columns="price_class", values="share",
                                 observed=True).reindex(columns=list(config.PRICE_CLASSES))
    mix = routes[["route_id"]].join(wide, on="route_id")
    mix = mix.rename(columns={c: f"share_{_CLASS_KEYS[c]}" for c in wide.columns})
    cols = ["route_id", "manager_id", "shops", "volume_cases", "amount_wan", "value_per_case",
            "share_class12", "volume_yoy", "value_per_case_yoy"]
    sec.add(Text("访销线（主次干道）的销量、单箱值与同比，按销量从高到低；消费结构以各价类销量"
                 "占比表示（消费者调查按区县抽样，不能细到线路）。"),
            Table(routes[cols], title="各访销线销量、单箱值与同比", cap=top_n, noun="条线路",
                  sheet="访销线", empty="本月没有访销线的供货记录。"),
            Table(mix[[c for c in mix.columns if c == "route_id" or c.startswith("share_")]],
                  title="各访销线消费结构（价类销量占比）", cap=top_n, noun="条线路",
                  sheet="访销线消费结构", empty="本月没有访销线的供货记录。"))

    # 城乡: 城市上结构，农村上销量
    judg = ma.urban_rural_judgement(agg, products, customers, month=month)
    judg = judg.sort_values("urban_rural", key=lambda s: glossary.ordered(s, "urban_rural"),
                            ignore_index=True)
    views["urban_rural"] = judg
    sec = r.section("urban_rural")
    sec.heading = _heading(r, "urban_rural")
    jcols = ["volume_month_cases", "value_per_case", "volume_growth", "value_growth",
             "share_class12_change", "growth_mode", "expected_mode", "as_expected"]
    sec.add(Text("“城市上结构，农村上销量”：近3个月与去年同期相比，城镇应主要靠单箱值（结构）增长，"
                  "乡村应主要靠销量增长；单箱值增速高于销量增速记为结构增长。"),
            Table(judg.rename(columns=_JUDGEMENT_KEYS)[["urban_rural"] + jcols],
                title="城乡增长方式（近3个月，与去年同期比）", empty="近3个月没有供货记录。"))
    if city:
        kind = ma.urban_rural_judgement(agg, products, customers, month=month,
                                        by="district_kind")
        order = {k: i for i, k in enumerate(("urban", "mixed", "rural", "key_account"))}
        kind = kind.sort_values("district_kind", key=lambda s: s.map(order),
                                ignore_index=True)
        views["district_kind"] = kind
        sec.add(Table(kind.rename(columns=_JUDGEMENT_KEYS)[["district_kind"] + jcols],
            title="按区县类型的增长方式（近3个月，与去年同期比）"))

    # 高档卷烟（一类）: order quantity, frequency, cycle, profit
    hi_skus = list(products.loc[products["price_class"] == config.PRICE_CLASSES[0], "sku"])
    lines = loaders.load_orders(where, (cur3[0], month), skus=hi_skus,
                                columns=["order_date", "month", "license_id", "sku",
                                         "qty_supplied", "amount"], store=store)
    cur = frames.rows_of(agg, "month", cur3)  # the aggregate is sorted by month
    cur = cur[cur["qty_supplied"] > 0]
    shop_amount = cur.groupby("license_id")["amount"].sum()
    hchk = checks[checks["sku"].isin(hi_skus)] if len(checks) else checks
    hi = ma.high_end_by_shop(lines, products, hchk, month=month, shop_amount=shop_amount)
    hi = hi.merge(customers[["license_id", "district_code", "business_format", "tier"]],
                  on="license_id", how="left")
    views["high_end"] = hi
    views["high_end_shops"] = int(shop_amount.size)
    sec = r.section("high_end")
    sec.heading = _heading(r, "high_end")
    summary = _high_end_summary(hi, shop_amount.size)
    views["high_end_summary"] = summary
    hcols = (["district_code"] if city else []) + [
        "license_id", "business_format", "tier", "qty_per_month", "orders_per_month",
        "cycle_days", "gross_profit_per_month", "margin", "high_end_share_amount"]
    sec.add(Text("按“提高客户盈利，满足市场消费”，从订购量、订购频次、销售周期、盈利四方面看经营"
                 "一类卷烟的零售户（近3个月；盈利按价存采集的实际零售价，未采集的按指导价）。"),
            Table(summary, title="经营一类卷烟的零售户概况（近3个月）",
                  empty="近3个月没有一类卷烟供货。"),
            Table(hi.rename(columns={"share_amount": "high_end_share_amount"})[hcols],
                  title="一类卷烟订购量最大的零售户", cap=top_n, sheet="一类卷烟客户",
                  city=city, empty="近3个月没有零售户订购一类卷烟。"))

    # 市场机会 with the lift of past years
    target = pd.Period(month, freq="M") + 1
    past = sorted({str(target - 12 * k - i) for k in (1, 2, 3) for i in (0, 1, 2)} |
                  set(_window(month, 2)))
    monthly = monthly_volume(past, where, store=store)
    opp = ma.market_opportunities(monthly, month=month)
    eff = expected_effect(opp, monthly, month=month)
    eff |= forecast_of_month(month, r.district, str(target), store=store)
    views["opportunities"], views["effect"] = opp, eff
    mk = r.section("market")
    ov = opp.assign(past_names=opp["past_names"].replace("", "无节日").str.replace(";", "、"))
    mk.add(Table(ov[["past_month", "past_names", "lift"]].rename(
        columns={"lift": "opportunity_lift"}),
        title=f"下月（{target.month}月）往年同月销量较前两月的变化",
        empty="没有往年同月的销量。"))
    if np.isfinite(eff["expected_cases"]):
        mk.add(Text(f"预期效果：近两月月均销量{_q('volume_cases', eff['base_cases'])}，按近"
                    f"{eff['years']}年同月平均变化{fmt.growth(eff['mean_lift'])}，"
                    f"{target.month}月销量预计约{_q('volume_cases', eff['expected_cases'])}"
                    f"（{_signed_cases(eff['expected_change_cases'])}）。"
                    + _forecast_sentence(eff, target, notebook=r.notebook)))
    return views


_JUDGEMENT_KEYS = {"volume_cases": "volume_month_cases", "growth": "growth_mode",
                   "expected": "expected_mode"}
_CLASS_KEYS = {"一类": "class1", "二类": "class2", "三类": "class3", "四类": "class4",
               "五类": "class5"}


def _high_end_summary(hi: pd.DataFrame, shops_supplied: int) -> pd.DataFrame:
    """One row: shops taking 一类 among the supplied shops, and the medians of the four views."""
    if hi.empty:
        return pd.DataFrame()
    return pd.DataFrame([{
        "shops": len(hi), "share_of_ordering_3m": len(hi) / shops_supplied if shops_supplied else np.nan,
        "median_qty_per_month": hi["qty_per_month"].median(),
        "median_orders_per_month": hi["orders_per_month"].median(),
        "median_cycle_days": hi["cycle_days"].median(),
        "median_gross_profit_per_month": hi["gross_profit_per_month"].median(),
        "median_margin": hi["margin"].median()}])


def _key_account_items(sec, kav: Mapping[str, Any], *, top_n: int, city: bool) -> None:
    lst, prio, trial, rel = kav["list"], kav["priority"], kav["trial"], kav["relationship"]
    where = ["district_code"] if city else []
    sec.add(Text("大客户（Key Account）按管理10策与客情关系考核看：货源是否优先保证、新品是否先在"
                 "大客户试销、客情关系得分（100分），以及尚缺数据的考核项目。"))
    view = lst.merge(rel[["license_id", "visits", "score"]], on="license_id", how="left").rename(
        columns={"score": "relationship_score"})
    sec.add(Table(view[where + ["license_id", "business_format", "tier", "volume_cases",
                                "recent_cases", "yoy", "trend", "direction", "visits",
                                "relationship_score"]],
                  title="大客户名单、走势与客情关系得分", cap=top_n, sheet="大客户", city=city,
                  empty="没有大客户。"))
    st = prio["status"].value_counts()
    ordered = prio[prio["status"] != "no_rationed_order"]
    tot = ordered[["ordered", "supplied"]].sum()
    others = prio["others_fill_rate"].iloc[0] if len(prio) else np.nan
    ps = pd.DataFrame([{
        "shops": len(prio), "rationed_order_shops": len(ordered),
        "prioritised_shops": int(st.get("prioritised", 0)),
        "ka_fill_rate": tot["supplied"] / tot["ordered"] if tot["ordered"] > 0 else np.nan,
        "others_fill_rate": others}])
    sec.add(Table(ps, title=f"货源优先保证（紧俏规格：全市订单满足率低于{fmt.share(RATIONED_BELOW, 0)}）"))
    if len(trial):
        names = kav["new"].set_index("sku")["name"]
        tr = trial.groupby("sku", as_index=False).agg(
            shops=("license_id", "size"), tried_shops=("status", lambda s: int((s == "tried").sum())),
            ka_share=("ka_share", "first"), others_share=("others_share", "first"))
        tr.insert(0, "new_product", tr["sku"].map(names))
        sec.add(Table(tr[["new_product", "shops", "tried_shops", "ka_share", "others_share"]],
                      title="新品试销（新品应先在大客户试销）"))
    sub = rel[["visit_frequency", "target_achievement", "survey_feedback",
               "order_regularity"]].mean()
    from ..plan.key_accounts import RELATIONSHIP_WEIGHTS

    w = pd.Series(RELATIONSHIP_WEIGHTS).reindex(sub.index)
    parts = pd.DataFrame({"relationship_item": list(sub.index), "weight_points": w.to_numpy(),
                          "points_mean": (sub * w).to_numpy(), "shops_scored": rel[list(
                              sub.index)].notna().sum().to_numpy()})
    sec.add(Table(parts, title="客情关系得分的构成（按大客户平均；没有数据的项目不计入该户总分）"))
    gaps = kav["gaps"]
    missing = gaps[~gaps["covered"]]
    sec.add(Text("尚缺数据的考核项目（拜访记录需增加0-10分的字段）：" + "、".join(
        glossary.code_name("relationship_item", k) for k in missing["item"]) + "。"))


# ---------------------------------------------------------------------------- conclusions

def _q(key: str, v) -> str:
    """A value written by its glossary kind, with its unit ('545.2箱')."""
    e = glossary.entry(key)
    return fmt.value(v, key) + ("" if fmt.is_missing(v) else e.unit)


def _signed_cases(v) -> str:
    if fmt.is_missing(v):
        return fmt.MISSING
    return ("增加" if v >= 0 else "减少") + fmt.cases(abs(v)) + "箱"


def _add(r, name: str, conclusion: str, advice: str) -> None:
    sec = r.sections.get(name)
    if sec is None or not conclusion:
        return
    sec.add(Text(f"**结论**：{conclusion}\n\n**建议**：{advice}"))


def conclusions(r, result: Mapping[str, Any], views: Mapping[str, Any], *,
                params: Mapping[str, Any], frames: Mapping[str, Any]) -> dict[str, tuple]:
    """Close each section of ``r`` with a 结论 and a 建议 built from its numbers.

    ``result``: :func:`kehu_lib.findings.analyse`; ``views``: :func:`add_sections`; ``frames``:
    the report's own tables (``structure`` 价类结构, ``fill`` 订单满足率, ``wpi`` 价格指数,
    ``by_district`` 区县对比 on the city page). Returns {section: (结论, 建议)} as added.
    """
    out = {}
    for name, fn in _CONCLUDERS.items():
        if name not in r.sections:
            continue
        got = fn(result, views, params, frames)
        if got:
            _add(r, name, *got)
            out[name] = got
    return out


def _overview(result, views, params, frames):
    h = result["headline"].set_index("indicator")
    vol, vyoy = h.at["volume_cases", "value"], h.at["volume_cases", "yoy"]
    vmom, vpc = h.at["volume_cases", "mom"], h.at["value_per_case", "value"]
    pyoy, s12 = h.at["value_per_case", "yoy"], h.at["share_class12", "yoy"]
    text = (f"本月销量{_q('volume_cases', vol)}，同比{fmt.growth(vyoy)}、环比{fmt.growth(vmom)}；"
            f"单箱值{_q('value_per_case', vpc)}，同比{fmt.growth(pyoy)}；一二类占比同比"
            f"{fmt.pp(s12)}。")
    d = result.get("drivers")
    top = None
    if d is not None and len(d):
        d = d[(d["indicator"] == "volume_cases") & (d["comparison"] == "yoy")
              & (d["dimension"] != "brand")]
        d = d[~((d["dimension"] == "shop_group") & (d["group"] == "other"))]
        if len(d) and d["total_change"].abs().iloc[0] > 0:
            total = d["total_change"].iloc[0]
            same = d[np.sign(d["contribution"]) == np.sign(total)]
            other = d[np.sign(d["contribution"]) == -np.sign(total)]
            if len(same):
                top = same.loc[same["contribution"].abs().idxmax()]
                text += f"同比{_signed_cases(total)}，{_group_name(top)}{_signed_cases(top['contribution'])}"
                if len(other):  # groups pulling the other way: the total is their net
                    opp = other.loc[other["contribution"].abs().idxmax()]
                    text += f"，{_group_name(opp)}{_signed_cases(opp['contribution'])}"
                text += "。"
    alert = float(params["volume_change_alert"])
    if not fmt.is_missing(vyoy) and vyoy <= -alert:
        advice = (f"销量同比下降超过{fmt.share(alert, 0)}，先按上表的来源逐项排查"
                  + (f"（首先是{_group_name(top)}）" if top is not None else "")
                  + "，并在月度工作方案中安排对应客户的走访。")
    elif not fmt.is_missing(pyoy) and pyoy < 0:
        advice = "单箱值同比下降，结构在走低：在城镇和有经营能力的客户中加强一二类卷烟的培育与推荐。"
    elif top is not None and top["group"] in ("new_shop", "stopped_shop", "key_brand_loss"):
        advice = (f"变动主要来自{_group_name(top)}，不是普遍的量价变化：对这部分客户逐户核实原因"
                  "（新增的巩固订货，停订和流失的回访）。")
    elif not fmt.is_missing(vyoy) and vyoy < 0:
        advice = (f"销量同比小幅下降（未超过{fmt.share(alert, 0)}的预警线），单箱值在提高："
                  "结构提升抵消了销量下降，"
                  + (f"关注{_group_name(top)}的变化，" if top is not None else "")
                  + "保持结构培育的同时稳定订货户的销量。")
    else:
        advice = "量价同步增长，保持现有投放节奏，继续关注结构提升。"
    return text, advice


def _group_name(row) -> str:
    dim, grp = row["dimension"], row["group"]
    if dim == "shop_group":
        return glossary.code_name("shop_group", grp)
    if dim == "district":
        return glossary.code_name("district", grp)
    if dim == "price_class":
        return f"{grp}卷烟"
    return f"{grp}品牌"


def _brands(result, views, params, frames):
    st = frames.get("structure")
    fill = frames.get("fill")
    parts, advice = [], []
    if st is not None and len(st):
        s = st.set_index("price_class")
        up = s["change_pp"].idxmax()
        down = s["change_pp"].idxmin()
        parts.append(f"价类结构中{up}占比同比{fmt.pp(s.at[up, 'change_pp'])}，{down}"
                     f"{fmt.pp(s.at[down, 'change_pp'])}")
    if fill is not None and len(fill):
        tight = fill[fill["fill_rate"] < RATIONED_BELOW]
        if len(tight):
            f0 = fill.iloc[0]
            parts.append(f"{len(tight)}个规格订单满足率低于{fmt.share(RATIONED_BELOW, 0)}，最低的"
                         f"{f0['sku_name']}为{fmt.share(f0['fill_rate'])}")
            advice.append(f"{f0['sku_name']}等紧俏规格按订单满足率分配时优先保证大客户和重点客户，"
                          "同时做好替代品牌的推荐")
    ns = result.get("new_products")
    if ns is not None and len(ns):
        n0 = ns.iloc[0]
        parts.append(f"新品{n0['name']}上市{int(n0['week'])}周，订购面{fmt.share(n0['reach'])}，"
                     f"重购率{fmt.share(n0['repeat_rate'])}")
        if bool(n0["stalled"]):
            advice.append(f"新品{n0['name']}铺市缓慢，对未订购的有效户安排新品上市宣扬（KZB-16）")
        elif not fmt.is_missing(n0["repeat_rate"]) and n0["repeat_rate"] < 0.5:
            advice.append(f"新品{n0['name']}重购率不足一半，回访首批订购客户了解动销")
    if not parts:
        return None
    if not advice:
        advice.append("品牌结构与货源总体平稳，保持现有品牌培育安排")
    return "；".join(parts) + "。", "；".join(advice) + "。"


def _customers(result, views, params, frames):
    kb = result["key_brand"]
    m = result["margin"].iloc[0]
    low = views.get("sku_margins")
    low = low[low["below_target"]] if low is not None and len(low) else pd.DataFrame()
    n_kb = int(kb["flagged"].sum())
    target = float(params["margin_target"])
    text = (f"重点品牌流失户{n_kb}户；零售户毛利率中位数{fmt.share(m['median_margin'])}，"
            f"{fmt.count(m['shops_below'])}户低于{fmt.share(target, 0)}的目标")
    if len(low):
        l0 = low.iloc[0]
        text += (f"，但按实际零售价有{len(low)}个规格毛利率低于目标，最低的{l0['name']}为"
                 f"{fmt.share(l0['margin'])}（{fmt.count(l0['shops_below'])}户）")
    text += "。"
    advice = []
    if n_kb:
        advice.append(f"对{n_kb}户重点品牌流失户安排回访，查明是断货、价格还是竞品原因")
    if len(low):
        l0 = low.iloc[0]
        why = ("实际售价低于指导价" if l0["observed_price"] < l0["guided_price"]
               else "批零差价本身偏小")
        advice.append(f"{l0['name']}{why}（{fmt.number(l0['observed_price'], 1)}元/条，批发价"
                      f"{fmt.number(l0['wholesale_price'], 1)}元/条），做好价格维护与合理库存建议，"
                      f"帮助客户毛利率达到{fmt.share(target, 0)}以上")
    if not advice:
        advice.append("客户经营总体平稳，继续按ABC分类做差异化服务")
    return text, "；".join(advice) + "。"


def _market(result, views, params, frames):
    alerts = result["alerts"]
    wpi = frames.get("wpi")
    parts, advice = [], []
    if wpi is not None and len(wpi):
        tot = wpi[wpi["price_class"].isna()]
        tot = tot if len(tot) else wpi[wpi["price_class"] == "全部"]
        if len(tot):
            parts.append(f"价格指数{fmt.number(tot['price_index'].iloc[0], 3)}")
    if len(alerts):
        names = "、".join(alerts["name"].astype(str).head(3))
        parts.append(f"{len(alerts)}个规格触发市场预警（{names}）")
        advice.append(f"对{names}控制投放，在售户做合理库存建议（KZB-13）并商定供货总量（KZB-10）")
    else:
        parts.append("没有规格触发市场预警")
    eff = views.get("effect") or {}
    if eff and np.isfinite(eff.get("expected_cases", np.nan)):
        t = pd.Period(eff["target_month"], freq="M")
        parts.append(f"往年{t.month}月销量较前两月平均{fmt.growth(eff['mean_lift'])}")
        fc = eff.get("forecast_cases", np.nan)
        if np.isfinite(fc):  # the pack's one forecast: the sales forecast page's
            rise = fc > eff["base_cases"]
            what = f"{t.month}月销量预测{_q('volume_cases', fc)}"
        else:
            rise = eff["mean_lift"] > 0
            what = f"{t.month}月预计销量约{_q('volume_cases', eff['expected_cases'])}"
        verb = "提前备货" if rise else "按预计回落控制投放、防止库存积压"
        advice.append(f"{what}，{verb}")
    if not advice:
        advice.append("市场价格与库存正常，保持投放节奏")
    return "；".join(parts) + "。", "；".join(advice) + "。"


def _routes(result, views, params, frames):
    rt = views.get("routes")
    if rt is None or rt.empty:
        return None
    ok = rt.dropna(subset=["volume_yoy"])
    text = f"共{len(rt)}条访销线，销量最高的{fmt.route(rt.iloc[0]['route_id'])}为{_q('volume_cases', rt.iloc[0]['volume_cases'])}"
    if len(ok) >= 2:
        lo, hi = ok.loc[ok["volume_yoy"].idxmin()], ok.loc[ok["volume_yoy"].idxmax()]
        falling = int((ok["volume_yoy"] < 0).sum())
        text += (f"；{falling}条线路销量同比下降，降幅最大的{fmt.route(lo['route_id'])}为"
                 f"{fmt.growth(lo['volume_yoy'])}，增长最快的{fmt.route(hi['route_id'])}为"
                 f"{fmt.growth(hi['volume_yoy'])}")
        advice = (f"对{fmt.route(lo['route_id'])}等下降线路按线路逐户查看订货变化，结合线路的消费结构调整"
                  "品牌投放和拜访重点。")
    else:
        advice = "去年同期线路数据不足，暂按本月线路销量安排拜访重点。"
    return text + "。", advice


_GROWTH_ZH = {"structure": "结构", "volume": "销量"}


def _urban_rural(result, views, params, frames):
    j = views.get("urban_rural")
    if j is None or j.empty:
        return None
    parts, advice = [], []
    for _, row in j.iterrows():
        if fmt.is_missing(row["growth"]):
            continue
        parts.append(f"{row['urban_rural']}销量{fmt.growth(row['volume_growth'])}、单箱值"
                     f"{fmt.growth(row['value_growth'])}，属{_GROWTH_ZH[row['growth']]}增长")
        if row["as_expected"] == False:  # noqa: E712  (NaN: no expectation)
            want = _GROWTH_ZH[row["expected"]]
            advice.append(f"{row['urban_rural']}应以{want}增长为主，目前不符合，"
                          + ("加强一二类卷烟培育、提高单箱值" if row["expected"] == "structure"
                             else "扩大铺货面和订货户数、提高销量"))
    if not parts:
        return None
    if not advice:
        advice.append("城乡增长方式符合“城市上结构，农村上销量”，保持现有安排")
    return "；".join(parts) + "。", "；".join(advice) + "。"


def _high_end(result, views, params, frames):
    s = views.get("high_end_summary")
    if s is None or s.empty:
        return None
    row = s.iloc[0]
    target = float(params["margin_target"])
    text = (f"近3个月{fmt.count(row['shops'])}户订购一类卷烟（占近3个月订货户的{fmt.share(row['share_of_ordering_3m'])}），"
            f"中位数为每月{fmt.number(row['median_qty_per_month'], 1)}条、"
            f"{fmt.number(row['median_orders_per_month'], 1)}次，订购间隔"
            f"{fmt.number(row['median_cycle_days'], 0)}天，毛利{_q('gross_profit_per_month', row['median_gross_profit_per_month'])}"
            f"/月，毛利率{fmt.share(row['median_margin'])}。")
    hi = views["high_end"]
    low = int((hi["margin"] < target).sum())
    if low:
        advice = (f"{low}户一类卷烟毛利率低于{fmt.share(target, 0)}，做好价格指导；订购间隔长的客户"
                  "提高订购频次，减少断档。")
    else:
        advice = "一类卷烟盈利达标，对订购间隔长、订购量小的有能力客户提高订购频次，巩固高档卷烟销售。"
    return text, advice


def _key_accounts(result, views, params, frames):
    kav = views.get("key_accounts")
    if not kav:
        return None
    rel, prio = kav["relationship"], kav["priority"]
    n = len(rel)
    not_p = int((prio["status"] == "not_prioritised").sum())
    score = rel["score"]
    closed = kav.get("closed", 0)
    text = (f"{n}户在册大客户" + (f"（另有{closed}户已歇业、本月无供货）" if closed else "")
            + f"，客情关系得分平均{fmt.number(score.mean(), 1)}分（最低"
            f"{fmt.number(score.min(), 1)}分）；订购紧俏规格的大客户中{not_p}户订单满足率低于"
            f"其他客户（{fmt.share(prio['others_fill_rate'].iloc[0] if len(prio) else np.nan)}）")
    trial = kav["trial"]
    if len(trial):
        t0 = trial.iloc[0]
        text += (f"；新品试销面大客户{fmt.share(t0['ka_share'])}，其他客户"
                 f"{fmt.share(t0['others_share'])}")
    text += "。"
    advice = []
    if not_p:
        advice.append(f"紧俏规格分配时先保证这{not_p}户大客户的货源（管理10策第1条）")
    if len(trial) and trial.iloc[0]["ka_share"] < trial.iloc[0]["others_share"]:
        advice.append("新品应先在大客户试销，安排未试销的大客户首批订购（管理10策第3条）")
    weakest = rel[["visit_frequency", "target_achievement", "survey_feedback",
                   "order_regularity"]].mean().idxmin()
    advice.append(f"客情关系中{glossary.code_name('relationship_item', weakest)}得分最低，作为本月"
                  "大客户走访的重点；在拜访记录中补采其余8项考核字段")
    return text, "；".join(advice) + "。"


def _districts(result, views, params, frames):
    d = frames.get("by_district")
    if d is None or d.empty or "yoy" not in d.columns:
        return None
    ok = d.dropna(subset=["yoy"])
    if ok.empty:
        return None
    lo, hi = ok.loc[ok["yoy"].idxmin()], ok.loc[ok["yoy"].idxmax()]
    text = (f"销量同比最好的是{hi['district']}（{fmt.growth(hi['yoy'])}），最差的是"
            f"{lo['district']}（{fmt.growth(lo['yoy'])}）。")
    advice = f"以{lo['district']}为本月重点，查看其本月要点与变动来源。"
    return text, advice


_CONCLUDERS = {"key_accounts": _key_accounts, "overview": _overview, "brands": _brands,
               "customers": _customers, "market": _market, "routes": _routes,
               "urban_rural": _urban_rural, "high_end": _high_end, "districts": _districts}
