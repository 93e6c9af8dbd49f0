"""A plan a manager can act on this week (issue: no shop name, route order or weekly schedule;
per-shop targets in 箱 with 3 decimals; 本户未引入新品 never names the product)."""

from __future__ import annotations

import pandas as pd
import pytest

from kehu_lib.plan import weekly


def _visits():
    return pd.DataFrame({
        "visit_date": pd.to_datetime(["2026-10-05", "2026-10-12", "2026-10-14", "2026-10-07",
                                      "2026-10-06"]),  # Mon, Mon, Wed | Wed | Tue
        "license_id": ["A", "A", "A", "B", "C"],
        "kzb_codes": pd.array(["KZB-02", "KZB-13", None, "KZB-16", None], dtype="string")})


def test_usual_weekday_most_frequent():
    w = weekly.usual_weekday(_visits()).set_index("license_id")
    assert w["weekday"].to_dict() == {"A": 0, "B": 2, "C": 1}
    assert w.loc["A", "visits"] == 3


def test_shop_targets_whole_cartons():
    od = pd.DataFrame({"month": ["2026-10", "2026-09", "2026-10"], "license_id": ["A", "A", "B"],
                       "qty_supplied": [100.0, 200.0, 100.0]})
    cust = pd.DataFrame({"license_id": ["A", "B"], "manager_id": "KM0101"})
    t = weekly.shop_targets(od, pd.DataFrame({"manager_id": ["KM0101"],
                                              "volume_target": [1000.0]}), cust,
                            month="2026-10").set_index("license_id")
    # A: 300 of 400 条 -> 750; B: 250
    assert t["target_qty"].to_dict() == {"A": 750, "B": 250}
    assert str(t["target_qty"].dtype) == "Int64"
    assert t.loc["A", "recent_volume"] == pytest.approx(100.0)


def test_last_visit_result_against_the_plan():
    planned = pd.DataFrame({"license_id": ["A", "A", "B"], "code": ["KZB-13", "KZB-10",
                                                                   "KZB-16"]})
    lv = weekly.last_visit(_visits(), planned).set_index("license_id")
    assert lv.loc["A", "last_visit_date"] == pd.Timestamp("2026-10-14")
    assert lv["last_result"].to_dict() == {"A": "partly", "B": "done", "C": "no_plan"}
    assert weekly.last_visit(_visits())["last_result"].eq("no_plan").all()


def _week(name=None):
    ks = pd.DataFrame({"license_id": ["140105000001", "140105000002", "140105000003"],
                       "manager_id": "KM0101", "rank": [2, 1, 3]})
    cust = pd.DataFrame({"license_id": ks["license_id"], "manager_id": "KM0101",
                         "route_id": ["140105-02", "140105-01", "140105-01"]})
    if name is not None:
        cust["shop_name"] = name
    vis = pd.DataFrame({"visit_date": pd.to_datetime(["2026-10-05", "2026-10-05", "2026-10-07"]),
                        "license_id": ks["license_id"],
                        "kzb_codes": pd.array([None, None, None], dtype="string")})
    states = pd.DataFrame({"license_id": ["140105000001", "140105000001", "140105000002"],
                           "indicator": ["volume", "brand_cooperation", "order_rationality"],
                           "flagged": True, "severity": [0.4, 0.7, 0.9],
                           "cause": [None, "new_product_not_carried", "overstock"],
                           "cause_sku": [None, "6901028000261", "6901028000205"]})
    strat = pd.DataFrame({"license_id": ["140105000001", "140105000001"],
                          "code": ["KZB-11", "KZB-16"], "order": [2, 1]})
    od = pd.DataFrame({"month": "2026-10", "license_id": ks["license_id"],
                       "qty_supplied": [60.0, 30.0, 10.0]})
    tg = pd.DataFrame({"manager_id": ["KM0101"], "volume_target": [200.0]})
    return weekly.week_plan(ks, states, strat, cust, vis, od, tg, month="2026-10")


def test_week_plan_by_day_and_route_with_named_problem():
    w = _week()
    # Monday: route 01 before route 02; Wednesday: one shop
    assert list(zip(w["weekday"], w["visit_order"], w["license_id"])) == [
        (0, 1, "140105000002"), (0, 2, "140105000001"), (2, 1, "140105000003")]
    a = w.set_index("license_id").loc["140105000001"]
    assert (a["problem_indicator"], a["problem_cause"], a["problem_sku"]) == (
        "brand_cooperation", "new_product_not_carried", "6901028000261")
    assert a["strategy_codes"] == "KZB-16;KZB-11" and a["problems"] == "brand_cooperation;volume"
    assert a["target_qty"] == 120 and a["shop_label"] == "1401******01"
    assert w.set_index("license_id").loc["140105000002", "problem_sku"] == "6901028000205"


def test_week_plan_uses_the_shop_name_when_present():
    w = _week(name=["老王烟酒", "", None])
    assert list(w.sort_values("license_id")["shop_label"]) == ["老王烟酒", "1401******02",
                                                               "1401******03"]


def test_sample_week_plan(small_store, signals):
    from kehu_lib import loaders
    from kehu_lib.plan import data, monthly

    inp = data.load_inputs("2026-10", store=small_store)
    plan = monthly.build(inp, district="迎泽区", store=small_store)
    vis = inp["visits"][inp["visits"]["month"] == "2026-10"]
    w = weekly.week_plan(plan["key_shops"], plan["states"], plan["shop_strategies"],
                         loaders.load_customers(None, store=small_store), vis, inp["orders"],
                         plan["targets"], month="2026-10")
    assert len(w) == len(plan["key_shops"]) > 0
    assert w["weekday"].notna().all() and w["target_qty"].notna().all()
    for _, g in w.groupby(["manager_id", "weekday"]):
        assert list(g["visit_order"]) == list(range(1, len(g) + 1))
    newp = w[w["problem_cause"] == "new_product_not_carried"]
    if len(newp):
        assert set(newp["problem_sku"]) == {signals["new_product"]["sku"]}
        assert newp["strategy_codes"].str.contains("KZB-16").all()
    # the sample's customers carry 客户名称: the list names each shop
    cust = loaders.load_customers(None, store=small_store).set_index("license_id")
    assert list(w["shop_label"]) == list(w["license_id"].map(cust["shop_name"]))
    # the plan carries the same week list, built once city-wide
    pw = plan["week_plan"].set_index("license_id").loc[w["license_id"]]
    assert list(pw["target_qty"]) == list(w["target_qty"])
    assert set(pw["district_code"]) == {"140106"}


def _former_last_visit(visits, planned):
    """last_visit as it was: every visit's codes split, before looking up the planned pairs."""
    import numpy as np

    v = visits.sort_values("visit_date")
    last = v.drop_duplicates("license_id", keep="last")[["license_id", "visit_date",
                                                          "kzb_codes"]]
    last = last.rename(columns={"visit_date": "last_visit_date", "kzb_codes": "last_visit_codes"})
    last["last_result"] = "no_plan"
    rec = v.assign(code=v["kzb_codes"].fillna("").astype(str).str.split(";")).explode("code")
    rec = set(zip(rec["license_id"], rec["code"]))
    p = planned[["license_id", "code"]].drop_duplicates()
    p = p.assign(done=[(a, b) in rec for a, b in zip(p["license_id"], p["code"])])
    share = p.groupby("license_id")["done"].mean()
    s = last["license_id"].map(share).astype(float)
    last["last_result"] = np.select(
        [s.isna().to_numpy(), (s >= 1).to_numpy(bool), (s > 0).to_numpy(bool)],
        ["no_plan", "done", "partly"], "not_done")
    return last.reset_index(drop=True)[["license_id", "last_visit_date", "last_visit_codes",
                                        "last_result"]]


def test_last_visit_matches_the_former_computation_on_the_sample(small_store):
    """Only the planned shops' visits are split now: the same results as splitting them all."""
    from kehu_lib import loaders

    visits = loaders.load_visits(None, ["2026-10"], store=small_store)
    pairs = visits.assign(code=visits["kzb_codes"].fillna("").astype(str).str.split(";")
                          ).explode("code")
    pairs = pairs[pairs["code"] != ""][["license_id", "code"]].drop_duplicates()
    # planned: recorded pairs (done), other codes for the same shops (partly / not done) and
    # shops never visited (no visit: not in the result)
    shops = pairs["license_id"].drop_duplicates()
    planned = pd.concat([pairs.iloc[::3],
                         pd.DataFrame({"license_id": shops.iloc[::2], "code": "KZB-99"}),
                         pd.DataFrame({"license_id": ["149999999999"], "code": ["KZB-01"]})],
                        ignore_index=True)
    got = weekly.last_visit(visits, planned)
    pd.testing.assert_frame_equal(got, _former_last_visit(visits, planned))
    assert set(got["last_result"]) >= {"done", "partly", "not_done", "no_plan"}
