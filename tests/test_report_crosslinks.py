"""Reports that join up: 本月要点 sentences and links, the drivers table, the demand plan's 控量
and 至年底 (issue 13). Hand-made frames; the numbers are checked by hand."""

from __future__ import annotations


import pandas as pd
import pytest

from kehu_lib.forecast import plan
from kehu_lib.plan import crossreport
from kehu_lib.plan.strategies import load_library
from kehu_lib.present import glossary, highlights

WBL, XD = "140109", "140105"  # 万柏林区, 小店区 (kehu_lib.config.DISTRICTS)


def _composed():
    return pd.DataFrame([
        {"importance": 100, "kind": "headline", "district": "小店区", "sku": None,
         "text": "小店区销量545.2箱。"},
        {"importance": 90, "kind": "oversupply", "district": "小店区", "sku": "S1",
         "text": "小店区云烟(紫)价格指数0.90，存销比1.64。"},
        {"importance": 40, "kind": "margin", "district": "小店区", "sku": None,
         "text": "毛利率达到10%的零售户占100.0%。"},
        {"importance": 45, "kind": "sku_margin_below", "district": "小店区", "sku": "S1",
         "text": "小店区云烟(紫)零售毛利率5.6%。"},
    ])


def _highlights():
    rows = [
        {"code": "headline", "district_code": XD, "subject": "volume_cases", "value": 545.2},
        {"code": "oversupply", "district_code": XD, "subject": "S1", "value": 0.9,
         "reference": 1.64},
        {"code": "demand_control", "district_code": XD, "subject": "S1", "value": 814.0,
         "reference": 6318.0, "change": -5504.0, "consequence_of": "oversupply"},
        {"code": "plan_alert_strategy", "district_code": XD, "subject": "S1", "count": 456,
         "reference": "KZB-13;KZB-10", "consequence_of": "oversupply"},
        {"code": "district_action", "district_code": XD, "subject": "order_rationality:overstock",
         "count": 458, "share": 458 / 570, "reference": "KZB-13;KZB-10"},
        {"code": "strategy_negative", "district_code": XD, "subject": "KZB-12:recommendation", "value": -0.05,
         "change": -0.08, "reference": -0.02},
        {"code": "satisfaction_drop", "district_code": WBL, "subject": "R02", "change": -21.0,
         "value": -30.0, "reference": -12.0},
    ]
    return crossreport.month_highlights([crossreport._rows(rows)])


def test_highlight_items_word_each_finding_and_link_its_section():
    items = highlights.highlight_items(_highlights(), _composed(), notebook="market_report",
                                       page_code=XD, names={"S1": "云烟(紫)", "R02": "货源供应"},
                                       library=load_library())
    text = "\n".join(items)
    # the market report's own sentences are kept, with a link to their section of this page
    assert items[0] == "小店区销量545.2箱。[→见市场分析](#sec-overview)"
    assert "小店区云烟(紫)价格指数0.90，存销比1.64。[→见市场分析](#sec-market)" in items
    # the consequences in the other reports follow their cause, worded from codes and numbers
    i = next(i for i, t in enumerate(items) if "列为控量" in t)
    assert "存销比1.64" in items[i - 1]
    assert ("小店区云烟(紫)因货源投放过量（价低库存高）在货源投放建议中列为控量：投放建议814条，"
            "较预测6,318条扣减超出合理库存的社会库存5,504条。") in items[i]
    assert items[i].endswith("(sales_forecast.html#sec-supply)")
    assert "456户零售户安排KZB-13 合理库存建议；KZB-10 供货总量商定" in text
    assert "80%的零售户（458户）存在“订单合理性（库存积压）”问题" in text  # 458/570 = 80.4%
    assert "KZB-12 缺货品牌替代宣扬效果为负" in text and "(monthly_plan.html#sec-evaluation)" in text
    # the estimate in the outcome's unit: a share's change in 百分点, not a raw fraction
    assert "小店区执行户重点品牌及新品销量占比较同类客户估计变化-5.0个百分点（95%置信区间-8.0至-2.0个百分点）" in text
    # another district's finding links to that district's folder
    assert "(../wanbailin/survey_retailer.html#sec-changes)" in text
    # a market sentence without a coded finding is not a 要点 (the margin line with nobody below
    # target); one kept on its own (margins below target per SKU) still links to its section
    assert "占100.0%" not in text
    assert "小店区云烟(紫)零售毛利率5.6%。[→见市场分析](#sec-customers)" in items
    # no codes or snake_case on the page
    assert "oversupply" not in text and "order_rationality" not in text


def test_driver_view_names_groups_and_keeps_the_sum():
    d = pd.DataFrame({
        "comparison": "yoy", "dimension": "shop_group", "indicator": "volume_cases",
        "group": ["key_brand_loss", "new_shop", "stopped_shop", "other"],
        "base": [20.0, 0.0, 5.0, 100.0], "current": [5.0, 3.0, 0.0, 101.0]})
    d["contribution"] = d["current"] - d["base"]
    d["share_of_change"] = d["contribution"] / d["contribution"].sum()  # total −16
    d["growth_pull"] = d["contribution"] / d["base"].sum()  # base 125
    v = highlights.driver_view(d)
    assert list(v["driver_group"]) == ["重点品牌流失户", "停止订货客户", "新增订货客户", "其他客户"]
    assert v["driver_contribution_cases"].sum() == pytest.approx(-16.0)
    assert v.loc[0, "driver_growth_pull"] == pytest.approx(-15 / 125)
    assert v["driver_growth_pull"].sum() == pytest.approx(-16 / 125)  # the 同比 of the total
    assert not glossary.check_mapping(v.columns)


def test_demand_plan_workbook_shows_the_control_flag(tmp_path):
    demand = pd.DataFrame({"sku": ["S1", "S2"], "name": ["云烟(紫)", "白沙(硬)"],
                           "brand": ["云烟", "白沙"], "price_class": ["二类", "三类"],
                           "ds": pd.to_datetime(["2026-11-01"] * 2), "mean": [6318.4, 6147.6],
                           "lo_80": 0.0, "hi_80": 0.0, "lo_95": 0.0, "hi_95": 0.0,
                           "ordered_avg": 0.0, "supplied_avg": 0.0, "fill_rate": 0.99,
                           "rationed": False, "note": ""})
    alerts = pd.DataFrame({"sku": ["S1"], "price_alert": [True], "stock_alert": [True]})
    inv = pd.DataFrame({"sku": ["S1", "S2"], "stock": [14104.0, 100.0],
                        "sales": [8600.0, 6000.0], "stock_to_sales": [1.64, 0.02]})
    adj = crossreport.demand_plan_adjustment(demand, alerts, inv, control_months=3,
                                             control_floor=0.5)
    # hand: excess = 14104 − 1.0 × 8600 = 5504 条, netted over 3 months: 1834.67 a month
    # (the floor 0.5 × 6318.4 = 3159.2 is not reached); suggested = 6318.4 − 1834.67 = 4483.73
    assert adj.loc[0, "suggested"] == pytest.approx(4483.7333, abs=1e-3)
    assert adj.loc[0, "excess_left"] == pytest.approx(3669.3333, abs=1e-3)
    assert not adj.loc[1, "control"]
    paths = plan.write_plan(adj, tmp_path, month="2026-10", district="小店区")
    back = pd.read_excel(paths["xlsx"], dtype={glossary.header("sku"): str})
    assert list(back[glossary.header("demand_control")]) == ["是", "否"]
    assert back.loc[0, glossary.header("plan_suggested")] == 4484
    assert back.loc[0, glossary.header("control_reduction")] == 1835
    assert back.loc[0, glossary.header("excess_left_cartons")] == 3669
    assert back.loc[0, glossary.header("control_reason")] == glossary.code_name(
        "control_reason", "oversupply")
    assert not any("_" in str(c) for c in back.columns)


def test_sales_forecast_year_end_keeps_the_months_to_december(sample_env, tmp_path):
    from kehu_lib import calendar
    from kehu_lib.forecast import load_month_forecasts, report
    from kehu_lib.reports import sales_forecast

    r = sales_forecast.build("2026-10", "万柏林区", output_dir=str(tmp_path))
    total = report.forecast_table(load_month_forecasts("2026-10", "万柏林区"), level="总量")
    assert calendar.months_to_year_end("2026-10") == ["2026-11", "2026-12"]
    want = total.loc[total["month"].astype(str).isin(["2026-11", "2026-12"]), "mean"].sum()
    assert r.headlines["forecast_to_year_end_cases"] == round(want, 1)  # 箱 to 0.1, as shown
    if (total["month"].astype(str) == "2027-01").any():  # the horizon reaches next year
        assert r.headlines["forecast_to_year_end_cases"] < total["mean"].sum()


def test_advice_is_specific_to_indicator_and_effect():
    from kehu_lib.present import plan_text

    ev = pd.DataFrame({"code": ["KZB-12", "KZB-10", "KZB-14"],
                       "outcome": ["recommendation", "volume", "assortment_width"],
                       "outcome_zh": ["重点品牌及新品销量占比", "销量", "品牌组合宽度"],
                       "unit": ["比例", "条", "个规格"]})
    adv = pd.DataFrame({"code": ["KZB-12", "KZB-10", "KZB-14"],
                        "outcome": ["recommendation", "volume", "assortment_width"],
                        "verdict_code": ["negative", "no_effect", "insufficient"],
                        "advice": ["stop", "execute_first", "accumulate"],
                        "advice_value": [-0.049, 5.0, 1.0], "advice_low": [-0.079, -1.0, 0.0],
                        "advice_high": [-0.019, 11.0, 2.0], "advice_n": [28, 40, 3],
                        "advice_min_n": 5, "advice_coverage": [0.5, 0.04, 0.3]})
    v = plan_text.advice_view(adv, ev, load_library())
    text = list(v["advice_text"])
    assert len(set(text)) == 3  # not one sentence for every row
    assert text[0].startswith("效果为负") and "-4.9个百分点" in text[0] and "重点品牌及新品销量占比" in text[0]
    assert "执行率仅4%" in text[1]
    assert "仅3户" in text[2] and "少于5户" in text[2]
    assert list(v["strategy"]) == ["缺货品牌替代宣扬", "供货总量商定", "组合宽度建议"]
    flags = plan_text.flag_view(pd.DataFrame({"manager_id": ["KM0401"],
                                              "code": ["low_strategy_execution"],
                                              "value": [0.05], "threshold": [0.2]}))
    assert flags.loc[0, "flag_text"].startswith("策略执行率5.0%，低于20.0%")  # as in its table
    assert not glossary.check_mapping(v.columns) and not glossary.check_mapping(flags.columns)


def test_control_sentence_says_the_rest_is_netted_later():
    rows = [{"code": "oversupply", "district_code": XD, "subject": "S1", "value": 0.9,
             "reference": 1.64},
            {"code": "demand_control", "district_code": XD, "subject": "S1", "value": 4483.7,
             "reference": 6318.4, "change": -1834.7, "count": 5504.0,
             "consequence_of": "oversupply"}]
    items = highlights.highlight_items(crossreport.month_highlights([crossreport._rows(rows)]),
                                       _composed().iloc[:0], notebook="market_report",
                                       page_code=XD, names={"S1": "云烟(紫)"},
                                       library=load_library())
    text = next(t for t in items if "列为控量" in t)
    assert ("投放建议4,484条，较预测6,318条扣减1,835条；超出合理库存的社会库存共5,504条，"
            "其余3,669条在以后月份逐月扣减。") in text
