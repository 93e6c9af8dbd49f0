"""Findings that cross reports: market alerts feed the demand plan (控量, excess social stock
netted out) and the monthly plan (KZB-13/KZB-10 for the carriers); satisfaction drops feed the
district's plan; one 本月要点 view per district and for the city. Hand-made frames, then the
planted signals of the small sample (data/planted_signals.yaml): each shows in its district's
要点 with its consequences, and nothing of the same kind anywhere else (issue: 小店区's 投放建议
for 云烟(紫) without 控量; 杏花岭区's R02 drop never reaching its plan)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kehu_lib import config
from kehu_lib.plan import crossreport as cr, strategies as stg

M = "2026-10"


@pytest.fixture(scope="module")
def lib():
    return stg.load_library()


def _alerts():
    return pd.DataFrame({"sku": ["A", "C"], "district_code": ["140105", "140105"],
                         "price_index": [0.90, 0.93], "stock_to_sales": [1.64, 0.5],
                         "price_alert": [True, True], "stock_alert": [True, False],
                         "severity": [2, 1]})


def test_demand_plan_control_flag_and_excess_stock_netted():
    plan = pd.DataFrame({"sku": ["A", "B", "C"], "mean": [6272.0, 1000.0, 300.0]})
    inv = pd.DataFrame({"sku": ["A", "B", "C"], "stock": [1640.0, 3000.0, 100.0],
                        "sales": [1000.0, 1000.0, 200.0], "stock_to_sales": [1.64, 3.0, 0.5]})
    one = dict(control_months=1, control_floor=0.0)  # all of the excess next month
    adj = cr.demand_plan_adjustment(plan, _alerts(), inv, **one).set_index("sku")
    assert adj["control"].to_dict() == {"A": True, "B": False, "C": True}
    assert adj.loc["A", "control_reason"] == "oversupply"
    assert adj.loc["C", "control_reason"] == "price_below_guided"
    # A: 1640 − 1.0 × 1000 = 640 条 above the norm taken off 6272
    assert adj.loc["A", "excess_stock"] == 640.0 and adj.loc["A", "suggested"] == 5632.0
    assert adj.loc["B", "suggested"] == 1000.0  # no alert: unchanged even with stock
    assert adj.loc["C", "excess_stock"] == 0.0 and adj.loc["C", "reduction"] == 0.0
    loose = cr.demand_plan_adjustment(plan, _alerts(), inv, stock_norm=1.5, **one).set_index("sku")
    assert loose.loc["A", "excess_stock"] == pytest.approx(140.0)
    big = cr.demand_plan_adjustment(plan.assign(mean=[500.0, 1, 1]), _alerts(), inv, **one)
    assert big["suggested"].iloc[0] == 0.0  # never negative
    with pytest.raises(KeyError, match="'sku' and 'mean'"):
        cr.demand_plan_adjustment(plan.rename(columns={"mean": "forecast"}), _alerts(), inv)


def test_control_nets_the_excess_over_months_above_a_floor():
    """Issue #13: all excess social stock netted in one month (云烟(紫) 小店区 6,318 → 814 条).
    A planner runs it down over the horizon and keeps supply above a floor share of demand."""
    plan = pd.DataFrame({"sku": ["A", "B", "C"], "mean": [6000.0, 1000.0, 300.0]})
    inv = pd.DataFrame({"sku": ["A", "B", "C"], "stock": [9000.0, 3000.0, 100.0],
                        "sales": [3000.0, 1000.0, 200.0], "stock_to_sales": [3.0, 3.0, 0.5]})
    alerts = _alerts().assign(sku=["A", "B"])
    adj = cr.demand_plan_adjustment(plan, alerts, inv, control_months=3,
                                    control_floor=0.5).set_index("sku")
    # A: excess 9000 − 3000 = 6000; 6000 / 3 = 2000 a month, under the room 0.5 × 6000 = 3000
    assert adj.loc["A", "reduction"] == 2000.0 and adj.loc["A", "suggested"] == 4000.0
    assert adj.loc["A", "excess_left"] == 4000.0
    # B: excess 2000; 2000 / 3 = 666.7 > room 0.5 × 1000 = 500: held at the floor
    assert adj.loc["B", "suggested"] == 500.0 and adj.loc["B", "excess_left"] == 1500.0
    # C: no alert, nothing netted
    assert adj.loc["C", "suggested"] == 300.0 and adj.loc["C", "excess_left"] == 0.0
    # the months and the floor are parameters: 2 months, floor 0.8
    two = cr.demand_plan_adjustment(plan, alerts, inv, control_months=2,
                                    control_floor=0.8).set_index("sku")
    assert two.loc["A", "suggested"] == pytest.approx(4800.0)  # room 1200 < 3000
    # defaults come from params/sales_forecast.yaml
    d = cr.control_params()
    dflt = cr.demand_plan_adjustment(plan, alerts, inv).set_index("sku")
    assert dflt.loc["A", "reduction"] == pytest.approx(
        min(6000.0 / d["control_months"], 6000.0 * (1 - d["control_floor"])))
    with pytest.raises(ValueError, match="control_months"):
        cr.demand_plan_adjustment(plan, alerts, inv, control_months=0)
    with pytest.raises(ValueError, match="control_floor"):
        cr.demand_plan_adjustment(plan, alerts, inv, control_floor=1.5)


def test_alert_strategies_for_the_carrying_shops(lib):
    od = pd.DataFrame({"month": M, "district_code": ["140105"] * 4 + ["140106"],
                       "license_id": ["s1", "s2", "s3", "s4", "s5"],
                       "sku": ["A", "A", "A", "B", "A"], "qty_supplied": [5.0, 1, 0, 4, 9]})
    a = cr.alert_shop_strategies(_alerts(), od, lib, month=M)
    ov = a[a["sku"] == "A"]
    # s3 was not supplied, s5 is in another district
    assert set(ov["license_id"]) == {"s1", "s2"}
    assert list(ov.loc[ov["license_id"] == "s1", "code"]) == ["KZB-13", "KZB-10"]
    assert "KZB-12" not in set(a["code"])


def test_satisfaction_drop_to_district_strategies(lib):
    ch = pd.DataFrame({"comparison": ["mom", "yoy", "mom", "mom"],
                       "district_code": ["140107"] * 4, "item": ["R02", "R02", "R07", "R05"],
                       "diff": [-21.0, -18.0, 6.0, -4.0], "ci_low": [-27.0, -25, 2, -9],
                       "ci_high": [-15.0, -11, 10, 1], "significant": [True, True, True, False]})
    s = cr.satisfaction_actions(ch, lib)
    assert len(s) == 1
    r = s.iloc[0]
    assert (r["item"], r["comparison"], r["cause"]) == ("R02", "mom", "supply_complaint")
    assert r["codes"] == "KZB-10;KZB-15;KZB-06"
    f = cr.survey_findings(s)
    assert f["code"].tolist() == ["satisfaction_drop"] and f["change"].iloc[0] == -21.0


def test_highlights_order_filter_and_consequences():
    plan = pd.DataFrame({"sku": ["A"], "mean": [6272.0]})
    inv = pd.DataFrame({"sku": ["A"], "stock": [1640.0], "sales": [1000.0],
                        "stock_to_sales": [1.64]})
    demand = cr.demand_findings(cr.demand_plan_adjustment(plan, _alerts(), inv),
                                district_code="140105")
    other = cr._rows([{"code": "key_brand_loss", "district_code": "140109", "count": 63,
                       "share": 0.12},
                      {"code": "oversupply", "district_code": "140105", "subject": "A",
                       "value": 0.9, "reference": 1.64},
                      {"code": "headline", "district_code": None, "value": 500.0}])
    hl = cr.month_highlights([demand, other], district_code="140105")
    assert hl["code"].tolist() == ["headline", "oversupply", "demand_control"]
    assert hl["rank"].tolist() == [1, 2, 3]
    # 640 条 excess netted over the default 3 months: 213.3 next month, all 640 carried
    assert hl.loc[2, "consequence_of"] == "oversupply" and hl.loc[2, "count"] == 640.0
    assert hl.loc[2, "change"] == pytest.approx(-640.0 / cr.control_params()["control_months"])
    assert hl.loc[2, "anchor"] == "sales_forecast#demand_plan"
    assert hl.loc[2, "source"] == "sales_forecast"
    city = cr.month_highlights([demand, other])
    assert set(city["code"]) == {"headline", "oversupply", "demand_control", "key_brand_loss"}
    assert cr.month_highlights([], district_code="140105").empty


# ------------------------------------------------------------------- the sample city, end to end

@pytest.fixture(scope="module")
def highlights(small_store, lib):
    from kehu_lib import findings, loaders
    from kehu_lib.forecast.plan import order_history
    from kehu_lib.metrics import drivers, market, survey_change
    from kehu_lib.plan import data as pdata, monthly, shared

    inp = pdata.load_inputs(M, store=small_store)
    _, states = shared.states_for(inp, M, monthly.load_thresholds())
    acts, shop_strat = stg.district_actions(states, stg.assign_strategies(states, lib), lib)
    causes = cr.cause_strategies(shop_strat)
    rs = loaders.load_retailer_survey(None, ["2025-10", "2026-09", M], store=small_store)
    sat = cr.satisfaction_actions(survey_change.survey_changes(rs, month=M), lib)
    out = {}
    for d in config.DISTRICTS:
        mi = findings.load_inputs(d.name, M, store=small_store)
        res = findings.analyse(mi, findings.load_thresholds())
        inv = market.social_inventory(mi["checks"], mi["orders"], mi["customers"],
                                      mi["products"], month=M)
        hist = order_history(M, d.name, months=3, store=small_store)
        plan = hist.groupby("sku", as_index=False)["qty_supplied"].mean().rename(
            columns={"qty_supplied": "mean"})  # a stand-in for the forecast: the recent supply
        adj = cr.demand_plan_adjustment(plan, res["alerts"], inv)
        ast = cr.alert_shop_strategies(res["alerts"].assign(district_code=d.code), mi["orders"],
                                       lib, month=M)
        groups = {"yoy": drivers.flagged_shop_groups(mi["orders"], mi["products"],
                                                     mi["customers"], month=M)}
        ex = drivers.explain_change(drivers.change_drivers(
            mi["orders"], mi["products"], month=M, comparisons=["yoy"], groups=groups))
        # as highlights_for does: the plan's answers to a cause only beside that cause
        out[d.name] = cr.month_highlights(cr._answers_with_their_cause([
            cr.market_findings(res, district_code=d.code),
            cr.driver_findings(ex, district_code=d.code),
            cr.demand_findings(adj, district_code=d.code),
            cr.plan_findings(alert_strategies=ast, satisfaction=sat, district_actions=acts,
                             cause_strategies=causes[causes["district_code"] == d.code],
                             district_code=d.code),
            cr.survey_findings(sat)]), district_code=d.code)
    return out


def _codes(hl):
    return set(hl["code"])


def test_oversupply_with_its_consequences_in_its_district_only(highlights, signals):
    sig = signals["oversupplied_sku"]
    hl = highlights[sig["district"]]
    for code in ("oversupply", "demand_control", "plan_alert_strategy"):
        row = hl[hl["code"] == code]
        assert len(row) == 1 and row["subject"].iloc[0] == sig["sku"], code
    dc = hl[hl["code"] == "demand_control"].iloc[0]
    assert dc["value"] < dc["reference"]  # excess stock taken off the suggestion
    ps = hl[hl["code"] == "plan_alert_strategy"].iloc[0]
    assert ps["reference"] == "KZB-13;KZB-10" and ps["count"] > 0
    # the consequences follow the alert
    r = hl.set_index("code")["rank"]
    assert r["oversupply"] < r["demand_control"] < r["plan_alert_strategy"]
    for name, other in highlights.items():
        if name != sig["district"]:
            assert not _codes(other) & {"oversupply", "demand_control", "plan_alert_strategy"}, name


def test_satisfaction_drop_reaches_the_plan_of_its_district_only(highlights, signals):
    sig = signals["satisfaction_drop"]
    hl = highlights[sig["district"]]
    drop = hl[hl["code"] == "satisfaction_drop"]
    assert drop["subject"].tolist() == [sig["item"]]
    assert drop["change"].iloc[0] < -10
    act = hl[hl["code"] == "plan_satisfaction_action"].iloc[0]
    assert act["reference"].split(";")[:2] == ["KZB-10", "KZB-15"]
    for name, other in highlights.items():
        if name != sig["district"]:
            assert not _codes(other) & {"satisfaction_drop", "plan_satisfaction_action"}, name


def test_key_brand_loss_explains_the_change_in_its_district_only(highlights, signals):
    sig = signals["key_brand_loss"]
    hl = highlights[sig["district"]]
    assert "key_brand_loss" in _codes(hl)
    # its consequence in the plan follows it: KZB-17 for the shops with the loss
    ans = hl[hl["code"] == "plan_key_brand_strategy"]
    assert len(ans) == 1 and ans["reference"].iloc[0].split(";")[0] == "KZB-17"
    assert ans["count"].iloc[0] > 0
    r = hl.set_index("code")["rank"]
    assert r["key_brand_loss"] + 1 == r["plan_key_brand_strategy"]
    for name, other in highlights.items():
        if name != sig["district"]:
            assert not _codes(other) & {"key_brand_loss", "plan_key_brand_strategy"}, name
            assert not other["subject"].astype(str).str.contains("key_brand_loss").any(), name


def test_district_problem_reported_once_with_the_alert(highlights, signals):
    # 小店区's overstock on every shop is the oversupplied SKU: one plan row, not two
    hl = highlights[signals["oversupplied_sku"]["district"]]
    assert "district_action" not in _codes(hl)
    assert not [n for n, h in highlights.items() if "district_action" in _codes(h)]


def test_district_action_without_an_alert_is_kept():
    acts = pd.DataFrame({"district_code": ["140105"], "indicator": ["order_rationality"],
                         "cause": ["order_swing"], "shops_flagged": [300], "share": [0.6],
                         "codes": ["KZB-10;KZB-13"]})
    ast = pd.DataFrame({"license_id": ["s1", "s1"], "district_code": "140105", "sku": "A",
                        "cause": "oversupply", "code": ["KZB-13", "KZB-10"], "order": [1, 2]})
    f = cr.plan_findings(alert_strategies=ast, district_actions=acts)
    assert f["code"].tolist() == ["plan_alert_strategy", "district_action"]
    same = cr.plan_findings(alert_strategies=ast, district_actions=acts.assign(
        codes="KZB-13;KZB-10"))
    assert same["code"].tolist() == ["plan_alert_strategy"]


def test_new_product_stall_only_in_the_stalled_districts(highlights, signals):
    sig = signals["new_product"]
    where = {n for n, h in highlights.items() if "new_product_stall" in _codes(h)}
    assert where == set(sig["stalled_districts"])
    for n in where:
        row = highlights[n][highlights[n]["code"] == "new_product_stall"]
        assert row["subject"].tolist() == [sig["sku"]]
        # the plan's answer follows: KZB-16 for the shops without the product
        ans = highlights[n][highlights[n]["code"] == "plan_new_product_strategy"]
        assert ans["subject"].tolist() == [sig["sku"]] and ans["reference"].tolist() == ["KZB-16"]
    assert {n for n, h in highlights.items() if "plan_new_product_strategy" in _codes(h)} == where


def test_cause_strategies_by_hand():
    ss = pd.DataFrame({
        "license_id": ["a", "a", "b", "c", "d", "e"], "district_code": "140109",
        "code": ["KZB-17", "KZB-11", "KZB-17", "KZB-16", "KZB-16", "KZB-13"],
        "cause": pd.array(["key_brand_loss", "key_brand_loss", "key_brand_loss",
                           "new_product_not_carried", "new_product_not_carried", "overstock"],
                          dtype="string"),
        "cause_sku": pd.array([None, None, None, "N1", "N1", "X"], dtype="string"),
        "order": [1, 2, 1, 1, 1, 1]})
    out = cr.cause_strategies(ss).set_index("cause")
    assert out.loc["key_brand_loss", ["cause_sku", "shops", "codes"]].tolist() == [
        "", 2, "KZB-17;KZB-11"]
    assert out.loc["new_product_not_carried", ["cause_sku", "shops", "codes"]].tolist() == [
        "N1", 2, "KZB-16"]
    assert "overstock" not in out.index  # answered by the market alert's own strategies
    # an answer without its cause in the month's findings is not a 要点
    f = cr.plan_findings(cause_strategies=cr.cause_strategies(ss), district_code="140109")
    kept = cr._answers_with_their_cause([f])[0]
    assert kept.empty
    found = pd.DataFrame({"code": ["key_brand_loss"], "district_code": ["140109"],
                          "subject": [None]})
    kept = cr._answers_with_their_cause([found, f])[1]
    assert kept["code"].tolist() == ["plan_key_brand_strategy"]


def test_a_missing_setting_is_an_error_naming_the_file_and_key(tmp_path):
    from kehu_lib import findings

    f = tmp_path / "sales_forecast.yaml"
    f.write_text("parameters:\n  control_months: 3\n", encoding="utf-8")
    with pytest.raises(KeyError, match=r"sales_forecast.yaml: 控量 settings \['control_floor'\]"):
        cr.control_params(f)
    g = tmp_path / "market_report.yaml"
    g.write_text("price_index_alert: 0.95\n", encoding="utf-8")
    with pytest.raises(KeyError, match=r"market_report.yaml: thresholds \[.*'min_checks'"):
        findings.load_thresholds(g)


def test_cause_answers_are_worded_with_the_product_and_strategies(lib):
    from kehu_lib.present.highlights import _sentence

    f = cr.plan_findings(cause_strategies=pd.DataFrame({
        "district_code": ["140109", "140108"], "cause": ["key_brand_loss", "new_product_not_carried"],
        "cause_sku": ["", "N1"], "shops": [41, 49], "codes": ["KZB-17;KZB-11", "KZB-16"]}))
    kb, newp = (_sentence(r, names={"N1": "娇子(宽窄细支)"}, library=lib) for _, r in f.iterrows())
    assert kb == ("月度工作方案按品牌培育协作指标（重点品牌销量变化比低于同类客户），对万柏林区41户"
                  "零售户安排KZB-17 重点品牌宣扬；KZB-11 提升客户推荐能力。")
    assert newp.startswith("月度工作方案对尖草坪区49户") and "未引入娇子(宽窄细支)" in newp
    assert newp.endswith("KZB-16 新品上市宣扬。")
