"""Findings: sentence composition on a hand-made result, and the planted signals of the small
sample city (data/planted_signals.yaml) found for the right district and month only."""

import numpy as np
import pandas as pd
import pytest

from kehu_lib import config, findings

DISTRICTS = [d.name for d in config.DISTRICTS]


def test_thresholds_come_from_params():
    t = findings.load_thresholds()
    assert t["price_index_alert"] == 0.95 and t["stock_to_sales_alert"] == 1.0
    assert set(findings.DEFAULTS) == set(t) == set(findings.THRESHOLD_KEYS)
    assert t["min_checks"] == 15  # one value everywhere (market.market_alerts has no default)


def _headline(yoy):
    rows = [("volume_cases", 65.5, yoy, 0.05), ("amount_wan", 149.6, 0.045, 0.0),
            ("value_per_case", 22830.0, 0.067, 0.0), ("share_class12", 0.45, 0.043, 0.0)]
    return pd.DataFrame(rows, columns=["indicator", "value", "yoy", "mom"])


def _result(**over):
    r = {"place": "万柏林区", "month": "2026-10", "thresholds": dict(findings.DEFAULTS),
         "headline": _headline(-0.02), "alerts": pd.DataFrame(columns=[
             "sku", "name", "price_index", "stock_to_sales", "price_alert", "severity"]),
         "key_brand": pd.DataFrame(columns=["district_code", "flagged", "gap_ratio"]),
         "new_products": pd.DataFrame(columns=["group", "sku", "name", "week", "reach",
                                               "repeat_rate", "stalled"]),
         "margin": pd.DataFrame({"shops": [0]})}
    r.update(over)
    return r


def test_compose_headline_sentence_numbers():
    f = findings.compose(_result())
    assert f.iloc[0]["kind"] == "headline"
    assert f.iloc[0]["text"].startswith("万柏林区2026年10月销量65.5箱，同比下降2.0%，环比增长5.0%")
    assert "单箱值22,830元" in f.iloc[0]["text"]
    assert "一二类卷烟销量占比45.0%，同比提高4.3个百分点" in f["text"].iloc[1]
    no_ly = findings.compose(_result(headline=_headline(np.nan)))
    assert "同比无去年同期数据" in no_ly.iloc[0]["text"]


def test_compose_orders_alerts_by_importance():
    alerts = pd.DataFrame({"sku": ["A", "B"], "name": ["云烟(紫)", "红河(硬99)"],
                           "price_index": [0.90, 0.94], "stock_to_sales": [1.6, 0.5],
                           "price_alert": [True, True], "severity": [2, 1]})
    kb = pd.DataFrame({"district_code": ["140109"] * 10, "flagged": [True] * 5 + [False] * 5,
                       "gap_ratio": [-0.5] * 5 + [0.0] * 5})
    f = findings.compose(_result(alerts=alerts, key_brand=kb))
    assert f["kind"].tolist()[:4] == ["headline", "oversupply", "key_brand_loss", "price"]
    assert "价格指数0.90（低于0.95），存销比1.60" in f["text"].iloc[1]
    assert "有5户零售户" in f["text"].iloc[2] and "50.0%" in f["text"].iloc[2]
    few = kb.assign(flagged=[True] * 3 + [False] * 7)  # 3 shops < key_brand_min_shops
    assert "key_brand_loss" not in findings.compose(_result(key_brand=few))["kind"].tolist()


@pytest.fixture(scope="module")
def october(small_store):
    t = findings.load_thresholds()
    return {d: findings.findings_for(d, "2026-10", thresholds=t, store=small_store)
            for d in DISTRICTS}


def _has(f, kind, sku=None):
    sel = f["kind"] == kind
    if sku is not None:
        sel &= f["sku"] == sku
    return bool(sel.any())


def test_oversupplied_sku_only_in_its_district_and_month(october, small_store, signals):
    spec = signals["oversupplied_sku"]
    for d, f in october.items():
        assert _has(f, "oversupply", spec["sku"]) == (d == spec["district"]), d
    text = october[spec["district"]].query("kind == 'oversupply'")["text"].iloc[0]
    assert "云烟(紫)" in text
    earlier = findings.findings_for(spec["district"], "2026-05", store=small_store)
    assert not earlier["kind"].isin(["oversupply", "price", "stock"]).any()


def test_key_brand_loss_only_in_its_district(october, signals):
    spec = signals["key_brand_loss"]
    for d, f in october.items():
        assert _has(f, "key_brand_loss") == (d == spec["district"]), d


def test_new_product_stalls_only_in_rural_districts(october, signals):
    spec = signals["new_product"]
    for d in spec["stalled_districts"]:
        assert _has(october[d], "new_product_stall", spec["sku"]), d
    for d in spec["fast_districts"]:
        assert not _has(october[d], "new_product_stall"), d
        assert _has(october[d], "new_product", spec["sku"]), d


def test_city_rollup_names_each_signal_with_its_district(small_store, signals):
    f = findings.findings_for(config.CITY, "2026-10", store=small_store)
    assert f.iloc[0]["text"].startswith("全市2026年10月销量")
    assert f.query("kind == 'oversupply'")["district"].tolist() == [signals["oversupplied_sku"]["district"]]
    assert f.query("kind == 'key_brand_loss'")["district"].tolist() == [signals["key_brand_loss"]["district"]]
    assert sorted(f.query("kind == 'new_product_stall'")["district"]) == sorted(
        signals["new_product"]["stalled_districts"])
    # the product's progress where it is not stalled: one sentence naming each district's 订购面,
    # not one line per district
    prog = f.query("kind == 'new_product'")
    assert len(prog) == 1 and prog["district"].iloc[0] == config.CITY
    text = prog["text"].iloc[0]
    assert all(d in text for d in signals["new_product"]["fast_districts"])
    assert not any(d in text for d in signals["new_product"]["stalled_districts"])
    assert text.startswith("新品娇子(宽窄细支)上市") and "订购面" in text and "重购率" in text


def test_margin_uses_the_observed_retail_prices(small_store):
    data = findings.load_inputs("小店区", "2026-10", store=small_store)
    guided = findings.analyse(data)["margin"].iloc[0]
    assert guided["shops_below"] == 0  # the sample's prices keep every shop above 10%
    # the checked SKUs sold at wholesale + 2% (margin 2/102 on them; guided prices elsewhere)
    chk = data["checks"].merge(data["products"][["sku", "wholesale_price"]], on="sku")
    chk["retail_price"] = chk["wholesale_price"] * 1.02
    low = findings.analyse({**data, "checks": chk.drop(columns="wholesale_price")})["margin"]
    assert 0 < low.iloc[0]["shops_below"] <= chk["license_id"].nunique()
    assert low.iloc[0]["median_margin"] < guided["median_margin"]
    text = findings.compose(findings.analyse(data)).set_index("kind").loc["margin", "text"]
    assert "实际零售价" in text


@pytest.fixture(scope="module")
def october(small_store):
    return {d: findings.findings_for(d, "2026-10", store=small_store) for d in DISTRICTS}


def test_explanation_and_sku_margin_sentences(october, signals):
    """Issue #13: the change is explained in the 要点 (万柏林区: the key-brand-loss shops), and the
    oversupplied SKU's margin at observed prices shows where it is below the target."""
    wb = october["万柏林区"]
    line = wb.loc[wb["kind"] == "change_explained", "text"]
    assert len(line) == 1 and wb.loc[1, "kind"] == "change_explained"
    assert "重点品牌流失户" in line.iloc[0] and "减少" in line.iloc[0]
    sig = signals["oversupplied_sku"]
    for d, f in october.items():
        low = f[f["kind"] == "sku_margin_below"]
        if d == sig["district"]:
            assert low["sku"].tolist() == [sig["sku"]]
            assert "毛利率" in low["text"].iloc[0]
        else:
            assert low.empty, d


def test_satisfaction_drop_reaches_the_market_report(october, signals):
    """Issue #13: 杏花岭区's R02 drop never reached its market report."""
    sig = signals["satisfaction_drop"]
    assert sig["month"] == "2026-10"
    for d, f in october.items():
        rows = f[f["kind"] == "satisfaction_drop"]
        if d == sig["district"]:
            assert len(rows) == 1
            assert "按订单组织货源供应" in rows["text"].iloc[0] and "下降" in rows["text"].iloc[0]
        else:
            assert rows.empty, d


def test_overall_satisfaction_is_told_with_the_item_behind_it():
    """杏花岭区's 要点 listed the 总体 drop (R10) as a second finding beside the R02 drop that
    drives it. Now one sentence per dropped item, the overall drop in the largest one's; an
    overall drop alone keeps its own sentence; the plan's findings skip R10 beside an item."""
    import pandas as pd

    from kehu_lib.findings import satisfaction_sentences
    from kehu_lib.plan.crossreport import survey_findings

    xhl, wbl = (config.resolve_district(n).code for n in ("杏花岭区", "万柏林区"))
    sat = pd.DataFrame({
        "comparison": ["mom", "mom", "mom", "yoy"], "district_code": [xhl, xhl, xhl, wbl],
        "item": ["R02", "R07", "R10", "R10"], "diff": [-20.8, -5.0, -4.3, -3.1],
        "ci_low": [-24.1, -8.0, -7.0, -5.0], "ci_high": [-17.5, -2.0, -1.6, -1.2],
        "p_adj": [1e-9, 0.01, 0.02, 0.03]})
    got = satisfaction_sentences(sat)
    assert [c for c, _ in got] == [xhl, xhl, wbl]
    assert got[0][1] == ("杏花岭区零售客户对“按订单组织货源供应”的满意度环比下降20.8分（95%置信区间-24.1至"
                         "-17.5分），总体满意度随之环比下降4.3分（95%置信区间-7.0至-1.6分），"
                         "需在走访中了解原因并有针对性地改进。")
    assert "总体" not in got[1][1] and "客户经理服务" in got[1][1]
    assert got[2][1].startswith("万柏林区零售客户总体满意度同比下降3.1分")
    found = survey_findings(sat)
    assert sorted(zip(found["district_code"], found["subject"])) == sorted(
        [(wbl, "R10"), (xhl, "R02"), (xhl, "R07")])


def test_analyse_inventory_and_shops_are_what_their_readers_computed(small_store):
    """The market report and the demand plan's check reuse analyse's social inventory and shop
    indicators instead of computing them again: for a district they are the same frames as
    social_inventory over the month's order lines (what highlights_for read from the store)
    and shop_indicators of the report's ledger."""
    import pandas as pd

    from kehu_lib import findings, loaders
    from kehu_lib.metrics import customers, market

    month, district = "2026-10", "万柏林区"
    data = findings.load_inputs(district, month, store=small_store)
    result = findings.analyse(data, findings.load_thresholds())
    chk = loaders.load_price_checks(district, month, store=small_store)
    od = loaders.load_orders(district, month, store=small_store,
                             columns=["month", "license_id", "sku", "qty_supplied"])
    lines = market.social_inventory(chk, od, loaders.load_customers(district, store=small_store),
                                    month=month)
    cols = ["sku", "checked_shops", "carrying_shops", "stock", "sales", "stock_to_sales",
            "stock_to_sales_se"]
    assert len(lines) > 0
    pd.testing.assert_frame_equal(result["inventory"][cols], lines[cols])
    shops = customers.shop_indicators(data["orders"], data["products"], data["customers"],
                                      month=month, price_checks=data["checks"])
    pd.testing.assert_frame_equal(result["shops"], shops)
