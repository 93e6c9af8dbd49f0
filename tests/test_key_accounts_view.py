"""大客户 view of their own (seed 003 管理10策 and 客情关系): priority supply, new-product trial,
the relationship indicators the data allows as a score out of 100, and the items still lacking
data (issue: the 大客户 page was the district template)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kehu_lib.plan import key_accounts as ka

M = "2026-10"


def _cust():
    return pd.DataFrame({"license_id": ["K1", "K2", "S1", "S2"], "district_code": "140199",
                         "manager_id": "KM0701", "key_account": [True, True, False, False]})


def test_priority_supply_by_hand():
    od = pd.DataFrame({"month": M, "license_id": ["K1", "K2", "S1", "S2", "K1"],
                       "sku": ["R", "R", "R", "R", "P"],
                       "qty_ordered": [10.0, 10, 10, 10, 5], "qty_supplied": [9.0, 5, 6, 6, 5]})
    # R: 26 of 40 supplied = 0.65 < 0.95 -> rationed; P is not. Others: 12 / 20 = 0.6
    p = ka.priority_supply(od, _cust(), month=M).set_index("license_id")
    assert p.loc["K1", "fill_rate"] == pytest.approx(0.9)
    assert p.loc["K1", "others_fill_rate"] == pytest.approx(0.6)
    assert p["status"].to_dict() == {"K1": "prioritised", "K2": "not_prioritised"}
    none = ka.priority_supply(od[od["sku"] == "P"], _cust(), month=M)
    assert set(none["status"]) == {"no_rationed_order"}


def test_new_product_trial_by_hand():
    prod = pd.DataFrame({"sku": ["N", "O"], "launch_date": pd.to_datetime(["2026-08-10",
                                                                          "2020-01-01"])})
    od = pd.DataFrame({"month": ["2026-08", "2026-09", "2026-09", "2026-10"],
                       "license_id": ["K1", "S1", "S2", "K2"], "sku": ["N", "N", "O", "O"],
                       "qty_supplied": 1.0})
    t = ka.new_product_trial(od, prod, _cust(), month=M).set_index("license_id")
    assert t["sku"].unique().tolist() == ["N"]
    assert t.loc["K1", "first_month"] == "2026-08" and t.loc["K1", "status"] == "tried"
    assert t.loc["K2", "status"] == "not_tried"
    assert t["ka_share"].iloc[0] == 0.5 and t["others_share"].iloc[0] == 0.5


def test_relationship_indicators_by_hand():
    months = [str(pd.Period(M, "M") - i) for i in range(5, -1, -1)]
    od = pd.DataFrame({"month": months * 2, "license_id": ["K1"] * 6 + ["K2"] * 6,
                       "qty_supplied": [100.0] * 6 + [0, 0, 0, 50, 50, 100]})
    vis = pd.DataFrame({"month": M, "license_id": ["K1"] * 5 + ["K2"] * 2})
    sv = pd.DataFrame({"month": M, "license_id": ["K1", "K1"], "item": ["R01", "R02"],
                       "answer": pd.array([5, 3], dtype="Int64"),
                       "dont_know": pd.array([False, False], dtype="boolean")})
    r = ka.relationship_indicators(od, vis, _cust(), sv, month=M).set_index("license_id")
    k1 = r.loc["K1"]
    # K1: 5 visits -> 1; 100 vs 100 -> 1; (100 + 60) / 2 = 80 -> 0.8; every month, CV 0 -> 1
    assert (k1["visit_frequency"], k1["target_achievement"], k1["order_regularity"]) == (
        1.0, 1.0, 1.0)
    assert k1["survey_feedback"] == pytest.approx(0.8)
    assert k1["score"] == pytest.approx(95.0) and k1["items_used"] == 4
    k2 = r.loc["K2"]
    # K2: 2 / 4 visits; 100 vs mean(50, 50, 0) -> capped 1; months 3/6, volumes 0,0,0,50,50,100:
    # mean 33.33, sd 37.27, CV 1.118 -> capped: regularity 0; no survey -> 3 items
    assert k2["visit_frequency"] == 0.5 and k2["target_achievement"] == 1.0
    assert k2["order_regularity"] == pytest.approx(0.0) and np.isnan(k2["survey_feedback"])
    assert k2["items_used"] == 3 and k2["score"] == pytest.approx(100 * 1.5 / 3)
    assert sum(ka.RELATIONSHIP_WEIGHTS.values()) == 100


def test_relationship_data_gaps_named():
    g = ka.relationship_data_gaps()
    assert len(g) == 10 and g["covered"].sum() == 2
    assert set(g.loc[~g["covered"], "item"]) >= {"rel_first_recommend", "rel_pop_display"}


def test_sample_key_accounts(small_store):
    from kehu_lib import loaders

    cust = loaders.load_customers(None, store=small_store)
    od = loaders.load_orders(None, ("2026-05", M), store=small_store)
    vis = loaders.load_visits(None, M, store=small_store)
    sv = loaders.load_retailer_survey(None, M, store=small_store)
    r = ka.relationship_indicators(od, vis, cust, sv, month=M)
    assert len(r) == int(cust["key_account"].sum()) > 0
    assert r["score"].between(0, 100).all()
    p = ka.priority_supply(od, cust, month=M)
    assert set(p["status"]) <= {"prioritised", "not_prioritised", "no_rationed_order"}
    assert (p["status"] != "no_rationed_order").any()
