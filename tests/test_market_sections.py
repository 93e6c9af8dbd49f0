"""The seed-004 / seed-003 sections of the market report (issue: 访销线, 一类 by order quantity,
frequency, cycle and profit, 城乡 judgement, 市场机会 with expected effects, a conclusion and 建议
per section, the 大客户 page with seed 003's key-account view, one definition each on the page).

The sections read DuckDB aggregates of the store; each aggregate is checked against the same
figure computed by pandas from the order lines (the independent implementation), and the page's
numbers against each other and against hand calculations.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from kehu_lib import config, loaders
from kehu_lib.metrics import definitions
from kehu_lib.metrics import market_analysis as ma
from kehu_lib.plan import key_accounts as ka
from kehu_lib.present import Table, Text
from kehu_lib.present import format as fmt
from kehu_lib.reports import market_sections as ms

M = "2026-10"
DISTRICT = "小店区"
KA = "大客户"


@pytest.fixture(scope="module")
def products(small_store):
    return loaders.load_products(store=small_store)


@pytest.fixture(scope="module")
def lines(small_store):
    """Every order line of the months the sections read (pandas: the independent side)."""
    months = sorted(set(ms._window(M, 3) + ms._window(M, 3, back=12)))
    return loaders.load_orders(None, months, store=small_store)


def test_shop_class_aggregate_equals_pandas_groupby(small_store, products, lines):
    agg = ms.shop_class_volume(sorted(lines["month"].unique()), None, products, store=small_store)
    ref = lines.merge(products[["sku", "price_class"]], on="sku").groupby(
        ["month", "license_id", "price_class"])[["qty_ordered", "qty_supplied", "amount"]].sum()
    got = agg.set_index(["month", "license_id", "price_class"])[ref.columns].sort_index()
    assert len(got) == len(ref) > 0
    np.testing.assert_allclose(got.to_numpy(), ref.sort_index().to_numpy(), rtol=1e-9)
    one = ms.shop_class_volume([M], DISTRICT, products, store=small_store)
    assert set(one["district_code"]) == {config.DISTRICT_BY_NAME[DISTRICT].code}
    assert set(one["month"]) == {M}


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Equal frames: numbers to 1e-9, other columns with every missing value alike."""
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    for c in a.columns:
        x, y = a[c], b[c]
        if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y) \
                and not pd.api.types.is_bool_dtype(y):
            np.testing.assert_allclose(x.astype(float), y.astype(float), rtol=1e-9, err_msg=c)
        else:
            norm = [lambda s: [None if pd.isna(v) else v for v in s]][0]
            assert norm(x) == norm(y), c


def test_route_and_urban_rural_views_same_from_aggregates(small_store, products, lines):
    """The views computed from shop × 价类 sums equal those from the order lines."""
    cust = loaders.load_customers(None, store=small_store)
    agg = ms.shop_class_volume(sorted(lines["month"].unique()), None, products, store=small_store)
    for fn, kw in ((ma.route_summary, {}), (ma.route_structure, {}),
                   (ma.urban_rural_judgement, {}), (ma.urban_rural_judgement,
                                                    {"by": "district_kind"})):
        a = fn(agg, products, cust, month=M, **kw)
        b = fn(lines, products, cust, month=M, **kw)
        _same(a, b)
    # one route by hand: Σ qty of its shops' lines / 250 (1 箱 = 50,000 支 = 250 条)
    r = ma.route_summary(agg, products, cust, month=M).iloc[0]
    shops = set(cust.loc[cust["route_id"] == r["route_id"], "license_id"])
    cur = lines[(lines["month"] == M) & lines["license_id"].isin(shops)]
    assert r["volume_cases"] == pytest.approx(cur["qty_supplied"].sum() / 250)
    assert r["shops"] == cur.loc[cur["qty_supplied"] > 0, "license_id"].nunique()


def test_high_end_share_uses_the_given_shop_amount():
    lines = pd.DataFrame({"order_date": pd.to_datetime(["2026-10-05", "2026-10-12"]),
                          "month": [M, M], "license_id": ["A", "A"], "sku": ["H", "H"],
                          "qty_supplied": [2.0, 3.0], "amount": [400.0, 600.0]})
    prod = pd.DataFrame({"sku": ["H"], "price_class": ["一类"], "wholesale_price": [200.0],
                         "retail_price": [230.0]})
    h = ma.high_end_by_shop(lines, prod, month=M, shop_amount=pd.Series({"A": 4000.0}))
    assert h["share_amount"].iloc[0] == pytest.approx(1000 / 4000)
    # without it the share is taken from the lines given (here: all high-end, so 100%)
    assert ma.high_end_by_shop(lines, prod, month=M)["share_amount"].iloc[0] == 1.0


def test_expected_effect_by_hand():
    # target 2026-11; past Novembers: 2025-11 = 110 vs (100 + 100)/2 -> +10%;
    # 2024-11 = 90 vs 100 -> -10%; 2023-11 = 130 vs 100 -> +30%: mean +10%
    rows = {"2025-09": 100, "2025-10": 100, "2025-11": 110, "2024-09": 100, "2024-10": 100,
            "2024-11": 90, "2023-09": 100, "2023-10": 100, "2023-11": 130,
            "2026-09": 1000, "2026-10": 1500}
    monthly = pd.DataFrame({"month": list(rows), "volume": [float(v) for v in rows.values()]})
    opp = ma.market_opportunities(monthly, month=M)
    eff = ms.expected_effect(opp, monthly, month=M)
    assert eff["target_month"] == "2026-11" and eff["years"] == 3
    assert eff["mean_lift"] == pytest.approx(0.10)
    assert eff["base_cases"] == pytest.approx(1250 / 250)
    assert eff["expected_cases"] == pytest.approx(1250 / 250 * 1.10)
    assert eff["expected_change_cases"] == pytest.approx(1250 / 250 * 0.10)


def test_monthly_volume_equals_lines(small_store, lines):
    got = ms.monthly_volume([M], DISTRICT, store=small_store)
    code = config.DISTRICT_BY_NAME[DISTRICT].code
    ref = lines[(lines["month"] == M) & (lines["district_code"] == code)]["qty_supplied"].sum()
    assert got["volume"].iloc[0] == pytest.approx(ref)


def test_key_account_view_from_aggregates_equals_lines(small_store, products):
    """priority_supply / new_product_trial / relationship_indicators on the DuckDB aggregates
    (other shops summed) give what they give on the full order lines."""
    cust = loaders.load_customers(KA, store=small_store)
    v = ms.key_account_frames(M, KA, cust, products, store=small_store)
    assert v is not None
    allc = loaders.load_customers(None, store=small_store)
    od = loaders.load_orders(None, (str(pd.Period(M, "M") - 14), M), store=small_store)
    supplied = set(od.loc[(od["month"] == M) & (od["qty_supplied"] > 0), "license_id"])
    managed = cust[cust["key_account"].astype(bool)
                   & ((cust["status"] != "歇业") | cust["license_id"].isin(supplied))]
    assert set(v["relationship"]["license_id"]) == set(managed["license_id"])
    assert v["closed"] == len(cust) - len(managed)
    # every key account supplied this month is in the view: its count agrees with 有效户数
    assert supplied & set(cust["license_id"]) <= set(managed["license_id"])
    p = ka.priority_supply(od, allc, month=M, rationed_below=ms.RATIONED_BELOW)
    p = p[p["license_id"].isin(set(managed["license_id"]))]
    pd.testing.assert_frame_equal(
        v["priority"].sort_values("license_id").reset_index(drop=True)[p.columns],
        p.sort_values("license_id").reset_index(drop=True), check_dtype=False)
    t = ka.new_product_trial(od, products, allc, month=M)
    t = t[t["license_id"].isin(set(managed["license_id"]))]
    got = v["trial"].sort_values(["sku", "license_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, t.sort_values(["sku", "license_id"]).reset_index(drop=True),
                                  check_dtype=False)
    vis = loaders.load_visits(KA, M, store=small_store)
    sv = loaders.load_retailer_survey(KA, M, store=small_store)
    r = ka.relationship_indicators(od[od["district_code"] == config.DISTRICT_BY_NAME[KA].code],
                                   vis, managed, sv, month=M)
    pd.testing.assert_frame_equal(
        v["relationship"].sort_values("license_id").reset_index(drop=True),
        r.sort_values("license_id").reset_index(drop=True), check_dtype=False)


# ------------------------------------------------------------------------- the built pages

@pytest.fixture(scope="module")
def pages(sample_env):
    """The pages as the batch builds them: after the month's shared forecasts (its precompute),
    which the market page quotes."""
    from kehu_lib.forecast import pipeline
    from kehu_lib.reports import market_report

    pipeline.ensure_month_forecasts(M, store=sample_env)
    return {d: market_report.build(M, d, store=sample_env) for d in (DISTRICT, KA)}


def _texts(sec) -> str:
    return "\n".join(i.markdown() for i in sec.items if isinstance(i, Text))


def _table(sec, title_start: str) -> Table:
    return next(i for i in sec.items if isinstance(i, Table) and i.title.startswith(title_start))


def test_every_section_ends_with_conclusion_and_advice(pages):
    for d, r in pages.items():
        for name in ("overview", "brands", "customers", "market", "routes", "urban_rural",
                     "high_end"):
            last = r.sections[name].items[-1]
            assert isinstance(last, Text), (d, name)
            assert last.text.startswith("**结论**：") and "**建议**：" in last.text, (d, name)


def test_overview_conclusion_quotes_the_headline(pages):
    r = pages[DISTRICT]
    h = _table(r.sections["overview"], "经营概况").data.set_index("indicator")
    text = r.sections["overview"].items[-1].text
    assert f"本月销量{fmt.cases(h.at['volume_cases', 'value'])}箱" in text
    assert f"同比{fmt.growth(h.at['volume_cases', 'yoy'])}" in text


def test_conclusion_advice_follows_the_numbers():
    """The same template gives a different 建议 when the numbers differ (a fall beyond the
    alert line names the largest contributor; a rise keeps the pace)."""
    def result(yoy, contrib, dimension="shop_group", group="key_brand_loss"):
        head = pd.DataFrame({"indicator": ["volume_cases", "value_per_case", "share_class12"],
                             "value": [100.0, 20000.0, 0.4], "yoy": [yoy, 0.01, 0.01],
                             "mom": [0.0, 0.0, 0.0]})
        drv = pd.DataFrame({"indicator": "volume_cases", "comparison": "yoy",
                            "dimension": dimension, "group": [group, "other"],
                            "contribution": [contrib, 0.0], "total_change": contrib,
                            "share_of_change": [1.0, 0.0]})
        return {"headline": head, "drivers": drv}

    params = {"volume_change_alert": 0.10}
    text, advice = ms._overview(result(-0.2, -20.0), {}, params, {})
    assert "减少20.0箱" in text and "重点品牌流失户" in text
    assert "下降超过10%" in advice and "重点品牌流失户" in advice
    text, advice = ms._overview(result(0.05, 5.0, "price_class", "二类"), {}, params, {})
    assert "二类卷烟增加5.0箱" in text and "下降" not in advice and "同步增长" in advice
    text, advice = ms._overview(result(0.05, 5.0), {}, params, {})
    assert "变动主要来自重点品牌流失户" in advice
    text, advice = ms._overview(result(-0.005, -3.0, "price_class", "三类"), {}, params, {})
    assert "三类卷烟减少3.0箱" in text
    assert "小幅下降" in advice and "同步增长" not in advice


def test_headings_numbered_after_the_report_sections(pages):
    r = pages[DISTRICT]
    assert r.sections["routes"].heading == "五、访销线"
    assert r.sections["high_end"].heading == "七、高档卷烟（一类）"
    assert "key_accounts" not in r.sections  # 小店区 has no key accounts


def test_key_account_page_has_the_seed003_view(pages):
    r = pages[KA]
    sec = r.sections["key_accounts"]
    titles = [i.title for i in sec.items if isinstance(i, Table)]
    assert any(t.startswith("货源优先保证") for t in titles)
    assert any(t.startswith("新品试销") for t in titles)
    assert any(t.startswith("客情关系得分的构成") for t in titles)
    text = _texts(sec)
    assert "尚缺数据的考核项目" in text and "首荐率" in text  # seed-003 items not collected
    lst = _table(sec, "大客户名单").data
    assert lst["relationship_score"].between(0, 100).all()


def test_one_definition_each_on_the_page(pages):
    """有效户数 of the new-product table = the headline's; 上市N周 in 要点 = the table's week;
    重购率 is defined where it is shown."""
    r = pages[DISTRICT]
    h = _table(r.sections["overview"], "经营概况").data.set_index("indicator")
    active = h.at["active_shops", "value"]
    new = _table(r.sections["brands"], "新品铺市进度").data
    assert (new["active_shops"] == active).all()
    assert r.headlines["有效户数"] == active
    week = int(new["week"].iloc[0])
    items = "\n".join(next(i for i in r.sections["findings"].items if isinstance(i, Text)).items)
    weeks = {int(w) for w in re.findall(r"上市(\d+)周", items)}
    assert weeks <= {week}
    assert "重购率为上月订购该新品的零售户中本月再次订购的比例" in _texts(r.sections["brands"])


def test_repeat_rate_shown_is_the_stated_definition(pages, small_store, products):
    """The table's 重购率 = shops ordering the new SKU in September and again in October /
    shops ordering it in September (sets of licence ids, by hand)."""
    new = _table(pages[DISTRICT].sections["brands"], "新品铺市进度").data.iloc[0]
    sku = products.loc[products["name"] == new["new_product"], "sku"].iloc[0]
    od = loaders.load_orders(DISTRICT, ("2026-09", M), skus=[sku], store=small_store)
    od = od[od["qty_ordered"] > 0]
    sep = set(od.loc[od["month"] == "2026-09", "license_id"])
    oct_ = set(od.loc[od["month"] == M, "license_id"])
    assert len(sep) > 0
    assert new["repeat_rate"] == pytest.approx(len(sep & oct_) / len(sep))


def test_sku_margin_table_by_hand(pages, small_store, products):
    """The SKUs below the margin target at observed prices: (mean observed − wholesale) /
    mean observed, computed here from the checks."""
    r = pages[DISTRICT]
    t = _table(r.sections["customers"], "按实际零售价毛利率低于")
    chk = loaders.load_price_checks(DISTRICT, M, store=small_store)
    obs = chk.groupby("sku")["retail_price"].mean()
    w = products.set_index("sku")["wholesale_price"].reindex(obs.index)
    margin = (obs - w) / obs
    below = margin[margin < 0.10]
    names = products.set_index("sku")["name"]
    assert sorted(t.data["sku_name"]) == sorted(names[below.index])
    for _, row in t.data.iterrows():
        sku = names[names == row["sku_name"]].index[0]
        assert row["margin"] == pytest.approx(margin[sku])
    ref = definitions.sku_margins(chk, products)
    assert len(ref[ref["below_target"]]) == len(t.data)


def test_route_written_by_district_and_number():
    """A 访销线 code shows as 小店区14线 (no bare district code on the page, audit rule)."""
    assert fmt.route("140105-14") == "小店区14线"
    assert fmt.value("140199-03", "route_id") == "大客户3线"
    assert fmt.route("X-1") == "X-1" and fmt.route(None) == fmt.MISSING
    t = Table(pd.DataFrame({"route_id": ["140105-14"], "volume_cases": [1.0]}))
    assert "140105" not in t.formatted().to_string()


def test_margin_advice_names_the_cause():
    """Below the margin target because of a price under the guided one, or a thin spread."""
    result = {"key_brand": pd.DataFrame({"flagged": [False]}),
              "margin": pd.DataFrame({"median_margin": [0.15], "shops_below": [0]})}

    def views(observed, guided):
        return {"sku_margins": pd.DataFrame({
            "name": ["X"], "observed_price": [observed], "wholesale_price": [85.0],
            "guided_price": [guided], "margin": [(observed - 85) / observed],
            "shops_below": [3], "below_target": [True]})}

    text, advice = ms._customers(result, views(90.0, 100.0), {"margin_target": 0.10}, {})
    assert "最低的X为5.6%（3户）" in text and "实际售价低于指导价（90.0元/条" in advice
    _, advice = ms._customers(result, views(92.0, 92.0), {"margin_target": 0.10}, {})
    assert "批零差价本身偏小" in advice


def test_market_opportunity_quotes_the_sales_forecast(pages, sample_env):
    """The next month's volume on the market page is the sales forecast page's figure (one
    forecast per pack): read here from the forecast module's cache, district total in 条."""
    from kehu_lib.forecast import pipeline

    fc = pipeline.load_month_forecasts(M, DISTRICT, store=sample_env)
    tot = fc[fc["unique_id"] == f"{DISTRICT}|总量|合计"].sort_values("ds").iloc[0]
    cases = fmt.cases(tot["mean"] / config.CARTONS_PER_CASE)
    text = _texts(pages[DISTRICT].sections["market"])
    assert f"销量预测模块的11月预测为{cases}箱" in text
    assert f"**建议**：" in text and f"11月销量预测{cases}箱" in text.split("**建议**：")[1]
    assert "sales_forecast.html#sec-total" in text


def test_forecast_sentence_says_which_figure_rules():
    eff = {"expected_cases": 500.0, "forecast_cases": 420.0, "forecast_lo_80": 400.0,
           "forecast_hi_80": 450.0}
    t = pd.Period("2026-11", freq="M")
    assert "在区间之外，备货与投放以销量预测为准" in ms._forecast_sentence(
        eff, t, notebook="market_report")
    assert "在区间之内" in ms._forecast_sentence(eff | {"expected_cases": 430.0}, t,
                                                 notebook="market_report")
    assert ms._forecast_sentence(eff | {"forecast_cases": np.nan}, t,
                                 notebook="market_report") == ""


def test_monthly_volume_by_sku_and_arrow_results_equal_the_shop_ledger(small_store, products):
    """monthly_volume sums the months past the cache per SKU (``keys=("sku",)``) and
    shop_class_volume converts its result through Arrow: the same frames, to the last bit, as
    the ledger by shop and SKU and DuckDB's ``df()`` (the straightforward paths), over months
    with and without a cached ledger (three years back are never cached)."""
    target = pd.Period(M, freq="M") + 1
    past = sorted({str(target - 12 * k - i) for k in (1, 2, 3) for i in (0, 1, 2)}
                  | set(ms._window(M, 2)))
    sql = "SELECT month, SUM(qty_supplied) AS volume FROM orders GROUP BY month ORDER BY month"
    for where in (None, DISTRICT):
        got = ms.monthly_volume(past, where, store=small_store)
        ref = ms.order_aggregate(sql, months=past, district=where, store=small_store)
        assert len(got) >= 6
        pd.testing.assert_frame_equal(got, ref, check_exact=True)
    months = sorted(set(ms._window(M, 3) + ms._window(M, 3, back=12)))
    got = ms.shop_class_volume(months, None, products, store=small_store)
    ref = ms.order_aggregate(
        "SELECT o.month, o.district_code, o.license_id, p.price_class, "
        "SUM(o.qty_ordered) AS qty_ordered, SUM(o.qty_supplied) AS qty_supplied, "
        "SUM(o.amount) AS amount FROM orders o JOIN products p USING (sku) "
        "GROUP BY ALL ORDER BY ALL", months=months, store=small_store,
        tables={"products": products[["sku", "price_class"]]})
    pd.testing.assert_frame_equal(got, ref, check_exact=True)
    # no orders in those months: the empty view has the keys asked for
    none = ms.monthly_volume(["2001-01"], None, store=small_store)
    assert none.empty and list(none.columns) == ["month", "volume"]


def test_key_tables_workbook_is_the_per_cell_workbook(pages):
    """The district XLSX of the built pages' key tables (as the batch gathers them) is the
    package XlsxWriter writes cell by cell, part for part; a reader sees the same cells."""
    from kehu_lib.present import xlsx
    from xlsx_reference import parts, per_cell_workbook, seen

    sheets = [(i.sheet, i.data, i.row_keys) for report in pages.values()
              for sec in report.sections.values() for i in sec.items
              if isinstance(i, Table) and i.sheet and not i.data.empty]
    assert len(sheets) >= 10 and any(rk for *_, rk in sheets)
    bulk, per_cell = xlsx.workbook_bytes(sheets), per_cell_workbook(sheets)
    assert parts(bulk) == parts(per_cell)
    assert seen(bulk) == seen(per_cell)
