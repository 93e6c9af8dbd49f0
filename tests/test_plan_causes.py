"""Strategies that fit the cause: the cause table of the strategy library, district-wide
problems reported once, verdict codes that tell a harmful strategy from one without effect, and
改进建议 specific to the indicator and the measured effect (issue: overstock got KZB-12, KZB-16
was never planned, 458 of 570 shops flagged for 订单合理性, KZB-12 with CI −0.08..−0.02 labelled
未见效果, every 改进建议 row the same sentence, 策略执行率 of 1-6% without comment)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kehu_lib.plan import evaluate, improve, strategies as stg


@pytest.fixture(scope="module")
def lib():
    return stg.load_library()


def _states(rows, district="140105"):
    return pd.DataFrame([{"license_id": lic, "district_code": district, "manager_id": "KM0104",
                          "indicator": i, "indicator_zh": i, "flagged": f, "severity": s,
                          "cause": c, "cause_sku": k}
                         for lic, i, f, s, c, k in rows])


def test_cause_table_in_library(lib):
    assert lib.for_cause("new_product_not_carried") == ["KZB-16"]
    assert lib.for_cause("overstock") == ["KZB-13", "KZB-10"]
    assert lib.for_cause("rationed") == ["KZB-12"]
    assert lib.for_cause("supply_complaint")[:2] == ["KZB-10", "KZB-15"]
    assert lib.for_cause("no_such_cause") == []
    assert lib.district_action_share == 0.5


def test_bad_cause_entry(tmp_path):
    bad = tmp_path / "lib.yaml"
    bad.write_text("strategies:\n  KZB-13: {name: x}\npotential_needs: []\ndirect_needs: []\n"
                   "causes:\n  - {cause: overstock, strategies: [KZB-77]}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="causes overstock: strategy KZB-77 is not defined"):
        stg.load_library(bad)
    bad.write_text("strategies:\n  KZB-13: {name: x}\npotential_needs: []\ndirect_needs: []\n"
                   "district_action_share: 1.5\n", encoding="utf-8")
    with pytest.raises(ValueError, match="district_action_share"):
        stg.load_library(bad)


def test_overstock_gets_stock_strategies_not_substitutes(lib):
    st = _states([("A", "order_rationality", True, 0.9, "overstock", "6901028000205")])
    a = stg.assign_strategies(st, lib)
    assert list(a["code"]) == ["KZB-13", "KZB-10"]
    assert "KZB-12" not in set(a["code"])
    assert set(a["cause_sku"]) == {"6901028000205"}


def test_new_product_not_carried_gets_kzb16_naming_the_sku(lib):
    st = _states([("A", "brand_cooperation", True, 0.6, "new_product_not_carried",
                   "6901028000261"),
                  ("B", "brand_cooperation", True, 0.6, "key_brand_loss", None),
                  ("C", "volume", True, 0.5, None, None)])
    a = stg.assign_strategies(st, lib)
    assert list(a.loc[a["license_id"] == "A", "code"]) == ["KZB-16"]
    assert a.loc[a["license_id"] == "A", "cause_sku"].iloc[0] == "6901028000261"
    assert list(a.loc[a["license_id"] == "B", "code"]) == ["KZB-17", "KZB-11"]
    assert list(a.loc[a["license_id"] == "C", "code"]) == ["KZB-09", "KZB-11"]  # indicator table


def test_district_problem_reported_once(lib):
    rows = [(s, "order_rationality", s != "D", 0.5, "overstock" if s != "D" else None, "x")
            for s in "ABCD"]
    rows += [("A", "recommendation", True, 0.4, None, None)]
    rows += [(s, "recommendation", False, 0.0, None, None) for s in "BCD"]
    st = _states(rows)
    other = _states([(s, "order_rationality", s == "E", 0.5, "overstock" if s == "E" else None,
                      "x") for s in "EFGH"], district="140106")
    st = pd.concat([st, other], ignore_index=True)
    a = stg.assign_strategies(st, lib)
    acts, shop = stg.district_actions(st, a, lib)
    assert len(acts) == 1
    r = acts.iloc[0]
    assert (r["district_code"], r["indicator"], r["cause"]) == ("140105", "order_rationality",
                                                                  "overstock")
    assert (r["shops_flagged"], r["shops_judged"], r["share"]) == (3, 4, 0.75)
    assert r["codes"] == "KZB-13;KZB-10"
    # B and C have only the district problem: no shop action left; A keeps its recommendation
    # strategies; E (1 of 4 in its district) keeps its shop action
    assert set(shop["license_id"]) == {"A", "E"}
    assert set(shop.loc[shop["license_id"] == "A", "code"]) == {"KZB-11", "KZB-12"}
    assert list(shop.loc[shop["license_id"] == "A", "order"]) == [1, 2]
    none, same = stg.district_actions(st, a, lib, share=0.8)
    assert none.empty and len(same) == len(a)


def _ev(rows):
    return pd.DataFrame(rows, columns=["code", "outcome", "n_treated", "estimate", "ci_low",
                                       "ci_high", "p_holm"])


def test_verdict_codes_tell_negative_from_no_effect():
    ev = _ev([("KZB-14", "assortment_width", 40, 3.0, 2.0, 4.0, 0.001),
              ("KZB-12", "recommendation", 60, -0.05, -0.08, -0.02, 0.01),   # the case
              ("KZB-13", "shop_stock_ratio", 30, 0.2, 0.1, 0.3, 0.02),         # 存销比 up = worse
              ("KZB-13b", "shop_stock_ratio", 30, -0.2, -0.3, -0.1, 0.01),     # 存销比 down = good
              ("KZB-09", "volume", 40, 1.0, -2.0, 4.0, 0.9),
              ("KZB-06", "volume", 40, -3.0, -5.0, -1.0, 0.2),  # not significant after Holm
              ("KZB-10", "volume", 3, -5.0, -9.0, -1.0, np.nan)])
    codes = evaluate.verdict_codes(ev)
    assert list(codes) == ["effective", "negative", "negative", "effective", "no_effect",
                           "no_effect", "insufficient"]
    assert list(codes)[:3] == ["effective", "negative", "negative"]
    assert set(codes) <= set(evaluate.VERDICTS)


def test_advice_specific_to_effect_and_execution():
    ev = _ev([("KZB-14", "assortment_width", 40, 3.0, 2.0, 4.0, 0.001),
              ("KZB-12", "recommendation", 60, -0.05, -0.08, -0.02, 0.01),
              ("KZB-09", "volume", 40, 1.0, -2.0, 4.0, 0.9),
              ("KZB-11", "recommendation", 40, 0.01, -0.02, 0.04, 0.9),
              ("KZB-10", "volume", 3, -5.0, -9.0, -1.0, np.nan)])
    ev["verdict_code"] = evaluate.verdict_codes(ev)
    execution = pd.DataFrame({"code": ["KZB-09", "KZB-11"], "execution_rate": [0.04, 0.6]})
    adv = improve.improvement_advice(ev, execution).set_index("code")
    assert adv["advice"].to_dict() == {"KZB-14": "extend", "KZB-12": "stop",
                                       "KZB-09": "execute_first", "KZB-11": "revise",
                                       "KZB-10": "accumulate"}
    assert adv.loc["KZB-14", "advice_value"] == 3.0
    assert adv.loc["KZB-09", "advice_coverage"] == pytest.approx(0.04)
    assert adv.loc["KZB-10", "advice_n"] == 3 and adv.loc["KZB-10", "advice_min_n"] == 5
    # rows differ: not one sentence for all
    assert adv[["advice", "outcome", "advice_value"]].drop_duplicates().shape[0] == len(adv)


def test_strategy_execution_and_flags_by_hand():
    planned = pd.DataFrame({"license_id": list("ABCDE"), "code": ["KZB-13"] * 4 + ["KZB-16"]})
    given = pd.DataFrame({"license_id": ["A", "E", "E"], "code": ["KZB-13", "KZB-02", "KZB-16"]})
    ex = evaluate.strategy_execution(planned, given).set_index("code")
    assert ex.loc["KZB-13", "execution_rate"] == 0.25 and ex.loc["KZB-16", "executed"] == 1
    cov = pd.DataFrame({"manager_id": ["KM1", "KM2"], "strategy_coverage": [0.03, 0.5],
                        "visit_coverage": [0.95, 0.5]})
    f = improve.execution_flags(cov)
    assert list(zip(f["manager_id"], f["code"])) == [("KM1", "low_strategy_execution"),
                                                     ("KM2", "low_visit_coverage")]


@pytest.fixture(scope="module")
def sample_states(small_store):
    from kehu_lib.plan import data as pdata, monthly, shared

    inp = pdata.load_inputs("2026-10", store=small_store)
    return shared.states_for(inp, "2026-10", monthly.load_thresholds())


def test_sample_new_product_named_and_answered_by_kzb16(sample_states, lib, signals):
    values, states = sample_states
    np_rows = states[states["cause"] == "new_product_not_carried"]
    assert len(np_rows) > 0
    assert set(np_rows["cause_sku"]) == {signals["new_product"]["sku"]}
    assert np_rows["detail"].str.contains("娇子(宽窄细支)", regex=False).all()
    a = stg.assign_strategies(states, lib)
    assert set(a.loc[a["cause"] == "new_product_not_carried", "code"]) == {"KZB-16"}
    over = a[a["cause"] == "overstock"]
    assert len(over) and set(over["code"]) == {"KZB-13", "KZB-10"}


def test_sample_oversupply_is_one_district_action(sample_states, lib, signals):
    from kehu_lib import config

    _, states = sample_states
    a = stg.assign_strategies(states, lib)
    acts, shop = stg.district_actions(states, a, lib)
    code = config.resolve_district(signals["oversupplied_sku"]["district"]).code
    assert list(acts["district_code"]) == [code]
    assert acts["indicator"].iloc[0] == "order_rationality" and acts["share"].iloc[0] > 0.5
    assert len(shop) < len(a)


@pytest.fixture(scope="module")
def city_plan(small_store):
    from kehu_lib.plan import data, monthly

    return monthly.build(data.load_inputs("2026-10", store=small_store), store=small_store)


def test_plan_carries_the_cross_report_strategies(city_plan, signals):
    """Issue #13: KZB-10 / KZB-15 never planned, not even for supply complaints; the market
    report's oversupply never reached the plan."""
    from kehu_lib import config

    over = signals["oversupplied_sku"]
    a = city_plan["alert_strategies"]
    assert set(a["sku"]) == {over["sku"]}
    assert set(a["district_code"]) == {config.resolve_district(over["district"]).code}
    assert set(a["code"]) == {"KZB-13", "KZB-10"} and a["license_id"].nunique() > 10
    drop = signals["satisfaction_drop"]
    s = city_plan["satisfaction_actions"]
    assert list(zip(s["district_code"], s["item"])) == [
        (config.resolve_district(drop["district"]).code, drop["item"])]
    assert s["codes"].iloc[0].split(";")[:2] == ["KZB-10", "KZB-15"]
    assert list(city_plan["district_actions"]["district_code"]) == [
        config.resolve_district(over["district"]).code]
    assert {"advice", "advice_value"} <= set(city_plan["advice"].columns)


def test_highlights_for_one_call(city_plan, small_store, signals):
    from kehu_lib import findings
    from kehu_lib.forecast.plan import order_history
    from kehu_lib.plan import crossreport as cr

    over = signals["oversupplied_sku"]
    hist = order_history("2026-10", over["district"], months=3, store=small_store)
    demand = hist.groupby("sku", as_index=False)["qty_supplied"].mean().rename(
        columns={"qty_supplied": "mean"})
    hl = cr.highlights_for(over["district"], "2026-10", store=small_store, plan=city_plan,
                           demand=demand)
    codes = hl["code"].tolist()
    assert codes[0] == "headline" and codes[1] == "change_explained"
    assert {"oversupply", "demand_control", "plan_alert_strategy"} <= set(codes)
    assert "district_action" not in codes  # the same problem as the alert, reported once
    assert "satisfaction_drop" not in codes
    res = findings.analyse(findings.load_inputs(None, "2026-10", store=small_store),
                           findings.load_thresholds())
    city = cr.highlights_for(None, "2026-10", store=small_store, plan=city_plan, result=res)
    assert {"oversupply", "satisfaction_drop", "plan_satisfaction_action",
            "key_brand_loss"} <= set(city["code"])
    assert city["rank"].tolist() == list(range(1, len(city) + 1))


def test_rationed_shop_gets_substitute_promotion(lib):
    """Out of stock or rationed → KZB-12 缺货品牌替代宣扬 (and only then)."""
    from kehu_lib.plan import indicators as ind

    rows = []
    for i, lic in enumerate("ABCDEF"):
        rows.append({"license_id": lic, "month": "2026-10", "district_code": "140105",
                     "manager_id": "KM1", "business_format": "食杂店", "trade_area": "居民区",
                     "tier": 10, "tier_band": 1, "volume": 100.0, "amount": 1e4,
                     "value_per_carton": 100.0, "key_brand_volume": 40.0,
                     "assortment_width": 20, "recommendation": 0.4, "shop_stock_ratio": 0.3,
                     "overstock_sku": pd.NA, "overstock_name": pd.NA, "order_swing": 0.0,
                     "short_share": 0.3 if lic == "A" else 0.02,
                     "short_sku": "6901028000011" if lic == "A" else pd.NA,
                     "key_brand_change": 1.0, "new_product_adoption": 1.0,
                     "missing_new_sku": pd.NA, "missing_new_name": pd.NA, "store_image": np.nan})
    st = ind.shop_states(pd.DataFrame(rows))
    r = st[(st["indicator"] == "order_rationality") & st["flagged"]]
    assert r["license_id"].tolist() == ["A"]
    assert (r["cause"].iloc[0], r["cause_sku"].iloc[0]) == ("rationed", "6901028000011")
    assert "未满足30%" in r["detail"].iloc[0]
    a = stg.assign_strategies(st, lib)
    assert a.loc[a["license_id"] == "A", "code"].tolist() == ["KZB-12"]


def test_key_shops_leave_the_district_problem_to_the_district_action(lib):
    """458 of 570 shops flagged for 订单合理性 is one 投放 problem: it is one district action, the
    key-shop list neither lists it shop by shop nor ranks shops by it."""
    from kehu_lib.plan import shared

    # 140105: 4 of 5 shops overstocked (80% > the library's 0.5); A and E also have a problem of
    # their own (recommendation), so they are the key shops, ranked by it alone
    rows = [(s, "order_rationality", s != "E", 0.9, "overstock" if s != "E" else None, None)
            for s in "ABCDE"]
    rows += [("A", "recommendation", True, 0.2, None, None),
             ("E", "recommendation", True, 0.4, None, None)]
    rows += [(s, "recommendation", False, 0.0, None, None) for s in "BCD"]
    st = _states(rows)
    values = pd.DataFrame({"license_id": list("ABCDE"), "district_code": "140105",
                           "manager_id": "KM0104", "amount": 100.0})
    visits = pd.DataFrame(columns=["license_id", "visit_date"])
    strat, prio, keys, actions, shop, _ = shared._plan(values, st, lib, visits, "2026-11",
                                                       {"key_shops_per_manager": 3})
    assert list(actions["indicator"]) == ["order_rationality"]
    assert list(actions["cause"]) == ["overstock"] and actions["shops_flagged"].iloc[0] == 4
    # B, C, D have only the district problem: no priority, not key shops
    assert list(keys["license_id"]) == ["E", "A"]
    assert set(keys["problems"]) == {"recommendation"}
    assert not keys["strategy_codes"].str.contains("KZB-13").any()
    assert prio.set_index("license_id").loc["A", "gap_score"] == pytest.approx(0.2)
    # the strategy summary still counts every shop's strategies, the district's included
    assert (strat["code"] == "KZB-13").sum() == 4
    # below the share, the same problem stays shop by shop
    few = _states([(s, "order_rationality", s == "A", 0.9, "overstock" if s == "A" else None,
                    None) for s in "ABCDE"])
    _, _, k2, a2, _, _ = shared._plan(values, few, lib, visits, "2026-11",
                                      {"key_shops_per_manager": 3})
    assert a2.empty and list(k2["license_id"]) == ["A"]
    assert k2["strategy_codes"].iloc[0] == "KZB-13;KZB-10"


def test_shop_level_states_only_unflag_the_district_problem(lib):
    st = _states([("A", "order_rationality", True, 0.9, "overstock", None),
                  ("B", "order_rationality", True, 0.7, "rationed", None),
                  ("C", "order_rationality", True, 0.9, "overstock", None)])
    acts = pd.DataFrame({"district_code": ["140105"], "indicator": ["order_rationality"],
                         "cause": pd.array(["overstock"], dtype="string")})
    own = stg.shop_level_states(st, acts).set_index("license_id")
    assert own["flagged"].to_dict() == {"A": False, "B": True, "C": False}
    assert own.loc["B", "severity"] == 0.7 and own.loc["A", "severity"] == 0.0
    assert stg.shop_level_states(st, acts.iloc[:0]) is st


def test_strategy_summary_counts_key_shops_on_their_own_list(lib):
    """The district action's strategies are not counted as planned on the key shops."""
    st = _states([("A", "order_rationality", True, 0.9, "overstock", None),
                  ("B", "order_rationality", True, 0.9, "overstock", None),
                  ("C", "order_rationality", False, 0.0, None, None),
                  ("A", "volume", True, 0.5, None, None),
                  ("B", "volume", False, 0.0, None, None),
                  ("C", "volume", False, 0.0, None, None)])
    a = stg.assign_strategies(st, lib)
    acts, shop = stg.district_actions(st, a, lib)
    assert list(acts["indicator"]) == ["order_rationality"]
    keys = pd.DataFrame({"license_id": ["A"]})
    plain = stg.strategy_summary(a, lib, keys).set_index("code")
    own = stg.strategy_summary(a, lib, keys, shop).set_index("code")
    assert plain.loc["KZB-13", "key_shops"] == 1 and own.loc["KZB-13", "key_shops"] == 0
    assert own.loc["KZB-13", "shops"] == 2  # every shop's strategies still counted
    assert own.loc["KZB-09", "key_shops"] == 1  # A's own volume problem


def test_effect_chart_tells_negative_from_effective():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.colors import to_hex

    from kehu_lib.plan import output

    ev = pd.DataFrame({"code": ["KZB-14", "KZB-12", "KZB-09"], "name": ["a", "b", "c"],
                       "outcome_zh": ["x", "y", "z"], "estimate": [3.0, -0.05, 1.0],
                       "se": [0.2, 0.015, 2.0], "effect_found": [True, False, False],
                       "verdict_code": ["effective", "negative", "no_effect"]})
    ax = output.effect_chart(ev)
    colors = [to_hex(p.get_facecolor()) for p in ax.patches]
    assert colors == [output.EFFECT_COLORS["effective"], output.EFFECT_COLORS["negative"],
                      "#7f8c8d"]
