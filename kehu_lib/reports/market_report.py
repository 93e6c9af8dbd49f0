"""市场分析报告 (notebooks/market_report.ipynb): everything the page shows, computed here.

:func:`build` reads the district's (or the city's) month, computes the findings and the four
sections (经营概况, 品牌, 客户, 市场) and, on the city page, the district comparison;
:mod:`.market_sections` adds 访销线, 城乡, 高档卷烟, 市场机会, 规格毛利率 and the 大客户 view
(seed 004 / 003), and closes every section with a 结论 and a 建议. Columns are
renamed to their glossary keys; the presentation layer labels and formats them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import aggregates, calendar, config, findings
from ..config import CARTONS_PER_CASE
from ..frames import rows_of, run_values
from ..metrics import brands, customers, market, sales
from ..plan import crossreport
from ..present import Chart, Table, Text
from ..present import highlights
from ..present import market_plots as plots
from ..schema import survey_items
from . import market_sections
from .base import Report, load_params, place

__all__ = ["build"]

NOTEBOOK = "market_report"


def _months_before(month: str, n: int) -> str:
    return str(pd.Period(month, "M") - n)


def _shop_amounts(orders: pd.DataFrame, cust: pd.DataFrame, month: str) -> pd.DataFrame:
    """``license_id, amount`` (销售额, 元) of the shops of ``customers.shop_indicators`` for
    ``month`` (its active customers and the shops that ordered; 0 without orders): what
    ``customers.abc_classes`` reads, without the month's other indicators."""
    return customers.active_customers(cust, month=month)[["license_id"]].merge(
        rows_of(orders, "month", [month]).groupby("license_id", as_index=False)["amount"].sum(),
        on="license_id", how="outer").fillna({"amount": 0.0})


def build(month: str, district: str = config.CITY, *, store=None, **params: Any) -> Report:
    """The market report of ``district`` (or 全市) for ``month`` (``""``: the latest month).

    ``params``: the thresholds of ``params/market_report.yaml`` (missing ones take its values).
    """
    from .. import loaders

    p = {**load_params(NOTEBOOK), **params}
    month = month or loaders.latest_month(store=store)
    thresholds = {k: v for k, v in p.items() if k in findings.DEFAULTS}
    data = findings.load_inputs(district, month, store=store,
                                new_product_months=p["new_product_tracking_months"])
    result = findings.analyse(data, thresholds, city_inventory=True)
    od, prod, cust, chk = data["orders"], data["products"], data["customers"], data["checks"]
    # slices of the ledger (sorted by month)
    cur, last = rows_of(od, "month", [month]), rows_of(od, "month", [_months_before(month, 12)])
    top_n = p["top_n"]
    r = Report(NOTEBOOK, month, data["place"])
    r.section("data").add(Text(f"{data['place']} {month}：订单{int(cur['lines'].sum()):,}行，"
                               f"价存采集{len(chk):,}户次，零售客户{len(cust):,}户。"))
    city = r.city

    notes = findings.compose(result)
    names = dict(zip(prod["sku"], prod["name"]))
    names.update({k: str(v.get("label", k)).removesuffix("满意度")
                  for k, v in survey_items().items()})
    hl = crossreport.highlights_for(district, month, store=store, result=result)
    items = highlights.highlight_items(hl, notes, notebook=NOTEBOOK, page_code=r_code(r),
                                       names=names)
    r.section("findings").add(Text(items=items) if items
                              else Text("本月没有达到预警线的变化。"))

    # 一、经营概况
    head = result["headline"]
    growth = head[head["change_unit"] == "pct"][["indicator", "value", "prev_month", "last_year",
                                                  "mom", "yoy"]]
    shares = head[head["change_unit"] == "pp"][["indicator", "value", "prev_month", "last_year",
                                                 "mom", "yoy"]].rename(
        columns={"value": "share", "prev_month": "share_prev_month", "last_year": "share_ly",
                 "mom": "mom_pp", "yoy": "yoy_pp"})
    ov = r.section("overview")
    ov.add(Table(growth, title="经营概况（同比、环比为增长率）", row_keys="indicator",
                 sheet="经营概况"),
           Table(shares, title="结构指标（变动为百分点）"))
    dv = highlights.driver_view(result["drivers"],
                                dimensions=("shop_group", "price_class", "district")
                                if city else ("shop_group", "price_class"))
    ov.add(Table(dv, title="销量同比、环比变动的来源（各组贡献之和等于总变动，拉动之和等于增长率）", sheet="变动原因",
                 empty="销量与基期相同，没有需要分解的变动。"))
    jf = result.get("jan_feb")
    if jf is not None:
        ov.add(Table(jf[["period", "indicator", "value", "last_year", "yoy"]],
                     title="1-2月合计（春节跨月，单月同比不可比）", row_keys="indicator"))

    # 二、品牌
    window = [_months_before(month, i) for i in range(12, -1, -1)]
    top = brands.top_items(cur, prod, level="sku", last_year=last, n=top_n)
    top = top.assign(volume_ly_cases=top["volume_ly"] / CARTONS_PER_CASE).rename(
        columns={"name": "sku_name"})
    # the 13-month trends are summed in the store (by SKU; by shop for the districts' 有效户数)
    trend = brands.brand_trend(aggregates.sku_month(district, (window[0], window[-1]),
                                                    store=store),
                               prod, key_only=True, months=window)
    structure = brands.price_class_structure(cur, prod, previous=last)
    conc = brands.concentration(cur, prod, level="brand").rename(columns={"n_items": "n_brands"})
    fill = brands.fill_rate(cur, prod, by="sku").rename(columns={"name": "sku_name"})
    new_status = result["new_products"]
    br = r.section("brands")
    br.add(Table(top[["brand", "sku_name", "volume_cases", "amount", "share_volume",
                      "share_amount", "volume_ly_cases", "yoy_volume"]],
                 title=f"畅销规格（前{top_n}）", empty="本月没有销量。", sheet="畅销规格"),
           Chart(plots.brand_trend_chart, trend),
           Table(structure.rename(columns={"share_prev": "share_ly"})[
               ["price_class", "volume_cases", "amount", "share", "value_per_case", "share_ly",
                "change_pp"]], title="价类结构（占比变动为与去年同期比）", sheet="价类结构"),
           Chart(plots.price_class_chart, structure),
           Table(conc[["cr5", "hhi", "n_brands"]], title="品牌集中度"),
           Table(fill[["brand", "sku_name", "qty_ordered", "qty_supplied", "shortfall",
                       "fill_rate"]], title="订单满足率最低的规格", cap=top_n, noun="个规格",
                 sheet="订单满足率"))
    new = brands.new_products(prod, month=month, within_months=p["new_product_tracking_months"])
    nview = new_status.rename(columns={"name": "new_product"})
    ncols = ["new_product", "week", "active_shops", "reach",
                                            "repeat_rate", "stalled"]
    if city and "group" in nview.columns:
        nview = nview.rename(columns={"group": "district_code"})
        ncols = ["district_code"] + ncols
    br.add(Table(nview[ncols], title="新品铺市进度", sheet="新品铺市",
                 empty=f"近{p['new_product_tracking_months']}个月没有上市的新品。"))
    if len(new):
        launch = new["launch_date"].iloc[0]
        since = str(pd.Period(launch, "M"))
        span = rows_of(od, "month", [m for m in run_values(od["month"]) if m >= since])
        active = span.loc[span["qty_supplied"] > 0, "license_id"].unique()
        reach = brands.new_product_reach(data["new_lines"], cust, sku=new["sku"].iloc[0],
                                         launch_date=launch, by="urban_rural",
                                         end_date=pd.Period(month, "M").end_time.normalize(),
                                         active=active)
        br.add(Chart(plots.new_product_chart, reach, {"name": new["name"].iloc[0]}))

    # 三、客户
    shops = result["shops"]  # shop_indicators(od, prod, cust, month=month, price_checks=chk)
    prev_amount = _shop_amounts(od, cust, _months_before(month, 1))
    where = ["district_code"] if city else []
    cu = r.section("customers")
    cu.add(Table(customers.abc_overview(shops).rename(columns={"view": "abc_view"}),
                 title="ABC分类（按销售额与毛利额，两种分类口径）"))
    moves = customers.class_migration(customers.abc_classes(shops),
                                      customers.abc_classes(prev_amount))
    down = moves[moves["steps"] < 0]  # moved down at least one class (A > B > C)
    down = down.merge(shops[["license_id", "district_code"]], on="license_id", how="left")
    cu.add(Table(down[where + ["license_id", "class_prev", "class_now", "steps"]],
                 title="类别下降的客户（按销售额，与上月比）", cap=top_n, sheet="类别下降客户",
                 empty="本月没有类别下降的客户。", city=city))
    cu.add(Table(customers.tier_distribution(shops), title="档位分布"))
    for col in ("business_format", "trade_area", "urban_rural"):
        seg = customers.segment_summary(shops, by=col)
        seg[col] = glossary_order(seg[col], col)
        cu.add(Table(seg.sort_values(col)[[col, "shops", "ordering_shops", "volume_per_shop_cases",
                                           "value_per_case", "share_volume"]],
                     title=f"分{_label(col)}户均销量与单箱值"))
    peers = customers.peer_comparison(shops, value="volume", peer_keys=customers.DEFAULT_PEER_KEYS)
    low = customers.below_peers(peers, n=len(peers))
    low = low[low["gap_ratio"] < 0].rename(
        columns={"peer_median": "peer_median_volume"})
    cu.add(Table(low[where + ["license_id", "business_format", "trade_area", "tier", "volume",
                              "peer_median_volume", "peer_n", "gap_ratio"]],
                 title="销量落后同类客户最多的零售户", cap=top_n, sheet="销量落后客户",
                 empty="没有销量低于同类中位数的客户。", city=city))
    kb = result["key_brand"]
    flagged = kb[kb["flagged"]].rename(columns={"peer_median": "peer_median_ratio"})
    kcols = [c for c in where if c in flagged.columns] + [
        "license_id", "business_format", "tier", "baseline", "current", "change_ratio",
        "peer_median_ratio", "gap_ratio"]
    cu.add(Table(flagged[kcols], title="重点品牌流失户（近两月较基期，剔除整体波动）",
                 cap=top_n, sheet="重点品牌流失户", city=city,
                 empty=f"没有重点品牌销量变化比同类客户低{abs(p['key_brand_loss_alert']):.0%}以上"
                       "的零售户。"))
    cu.add(Table(result["margin"][["shops", "share_reaching", "shops_below", "median_margin",
                                   "largest_gap"]],
                 title=f"零售户毛利率（目标{p['margin_target']:.0%}）"))
    width = customers.peer_comparison(shops, value="assortment_width")
    wlow = customers.below_peers(width, n=len(width))
    wlow = wlow[wlow["gap"] < 0].rename(
        columns={"peer_median": "peer_median_width", "gap": "width_gap"})
    cu.add(Table(wlow[where + ["license_id", "assortment_width", "peer_median_width",
                               "width_gap"]],
                 title="品牌组合宽度落后同类客户的零售户", cap=top_n, sheet="组合宽度落后客户",
                 empty="没有组合宽度低于同类中位数的客户。", city=city))
    changes = customers.shop_changes(od, month=month).merge(
        cust[["license_id", "district_code"]], on="license_id", how="left").rename(
        columns={"change": "shop_change"})
    counts = changes.groupby("shop_change", as_index=False).agg(shops=("license_id", "count"))
    cu.add(Table(counts, title="停止订货与新增订货的客户数",
                 empty="本月没有停止或新增订货的客户。"),
           Table(changes[where + ["license_id", "shop_change", "last_month"]],
                 title="停止订货与新增订货的客户", cap=top_n, sheet="订货变动客户", city=city))

    # 四、市场
    pi = market.price_index(chk, prod)
    weights = market.sales_weights(last if len(last) else cur)
    wpi = pd.concat([market.weighted_price_index(pi, weights),
                     market.weighted_price_index(pi, weights, level=None)])
    # the districts' table is analyse's estimate (by=None there); the city's is over all shops
    inv = (result.get("inventory_city") if city else result["inventory"])
    if inv is None:
        inv = market.social_inventory(chk, od, cust, prod, month=month)
    inv = inv.rename(columns={"name": "sku_name"})
    inv["sales_cases"] = inv["sales"] / CARTONS_PER_CASE  # district level: both in 箱
    alerts = result["alerts"].rename(columns={"name": "sku_name"})
    acols = (["district_code"] if "district_code" in alerts.columns else []) + [
        "brand", "sku_name", "price_class", "checks", "price_index", "stock_to_sales",
        "price_alert", "stock_alert", "severity"]
    t = thresholds
    mk = r.section("market")
    mk.add(Table(wpi.assign(price_class=wpi["price_class"].fillna("合计"))[
        ["price_class", "skus", "checks", "price_index", "share_at_guided"]],
        title="价格指数（按去年同期销量加权）", empty="本月没有价存采集。", sheet="价格指数"),
        Chart(plots.price_index_chart, pi, {"threshold": p["price_index_alert"]}),
        Table(inv[["brand", "sku_name", "price_class", "checked_shops", "carrying_shops",
                   "stock_cases", "sales_cases", "stock_to_sales", "stock_to_sales_se"]],
              title="社会库存与存销比（存销比最高的规格）", cap=top_n, noun="个规格",
              sheet="社会库存", empty="本月没有价存采集，无法估计社会库存。"),
        Table(alerts[acols], title="市场预警", sheet="市场预警",
              empty=(f"本月没有触发预警的规格（价格指数均不低于{t['price_index_alert']:.2f}，"
                     f"存销比在置信下限上均未超过{t['stock_to_sales_alert']:.1f}；"
                     f"采集少于{t['min_checks']}户次的规格不判断）。")))
    opp = calendar.opportunities(pd.Period(month, "M") + 1).rename(
        columns={"name": "opportunity", "kind": "opportunity_kind"})
    mk.add(Table(opp.assign(date=opp["date"].dt.strftime("%m月%d日")) if len(opp) else opp,
                 title="下月市场机会（节日、假期、备货期）", empty="下月没有节日或假期。"))

    # 五、区县对比 (city page only)
    if city:
        by_d = sales.district_comparison(od, prod, month=month).rename(columns={
            "value_volume_cases": "volume_cases", "yoy_volume_cases": "yoy",
            "value_amount_wan": "amount_wan", "value_value_per_case": "value_per_case",
            "yoy_value_per_case": "yoy_value_per_case", "value_share_class12": "share_class12",
            "value_active_shops": "active_shops"})
        sec = r.section("districts")
        sec.heading = "五、区县对比"
        sec.add(Table(by_d[["district", "volume_cases", "yoy", "amount_wan", "value_per_case",
                            "yoy_value_per_case", "share_class12", "active_shops"]],
                      title="各区县销量、单箱值与同比", sheet="区县对比"),
                Chart(plots.district_small_multiples,
                      sales.sales_summary(aggregates.shop_month(None, (window[0], window[-1]),
                                                                store=store),
                                          by=["district_code", "month"])))

    # 访销线, 城乡, 高档卷烟, 市场机会, 规格毛利率, 大客户 (seed 004 / 003); then 结论与建议
    # a district's SKU margins are analyse's (by=None there); the city's are by district there
    views = market_sections.add_sections(r, month=month, district=district, products=prod,
                                         new_status=new_status, params=p, store=store,
                                         sku_margins=None if city else result["sku_margins"])
    market_sections.conclusions(r, result, views, params=p, frames={
        "structure": structure, "fill": fill, "wpi": wpi,
        "by_district": by_d if city else None})

    h = head.set_index("indicator")
    r.headlines = {
        "区县": data["place"], "月份": month,
        "销量_箱": h.at["volume_cases", "value"], "销量同比": h.at["volume_cases", "yoy"],
        "销量环比": h.at["volume_cases", "mom"],
        "销售额_万元": h.at["amount_wan", "value"], "单箱值_元": h.at["value_per_case", "value"],
        "单箱值同比": h.at["value_per_case", "yoy"],
        "一二类占比": h.at["share_class12", "value"], "有效户数": h.at["active_shops", "value"],
        "预警数": len(alerts), "要点数": len(items), "重点品牌流失户": int(kb["flagged"].sum()),
    }
    return r


def r_code(r: Report) -> str | None:
    """The district code of a report's page (None for 全市)."""
    return place(r.district)[1]


def _label(col: str) -> str:
    from ..present import glossary

    return glossary.label(col)


def glossary_order(values: pd.Series, col: str):
    from ..present import glossary

    return glossary.ordered(values, col)
