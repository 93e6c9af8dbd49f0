"""Tests of kehu_lib.plan.indicators: the eight state indicators and their flags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kehu_lib.plan import indicators as ind


def _products():
    return pd.DataFrame({
        "sku": ["K1", "N1", "O1", "NEW"], "brand": ["k", "n", "o", "w"],
        "name": ["甲", "乙", "丙", "新品"], "wholesale_price": [100.0, 50.0, 20.0, 60.0],
        "retail_price": [120.0, 60.0, 25.0, 70.0], "price_class": ["一类", "三类", "四类", "三类"],
        "key_brand": [True, False, False, False],
        "launch_date": pd.to_datetime(["2010-01-01", "2010-01-01", "2010-01-01", "2026-08-01"])})


def _customers(ids):
    n = len(ids)
    return pd.DataFrame({
        "license_id": ids, "district_code": "140105", "manager_id": "KM0104",
        "route_id": "140105-01", "business_format": "食杂店", "trade_area": "居民区",
        "urban_rural": "城镇", "tier": 10, "key_account": False,
        "opened_date": pd.Timestamp("2020-01-01"), "closed_date": pd.NaT}).iloc[:n]


def _line(month, lic, sku, q, price):
    return {"month": month, "district_code": "140105", "license_id": lic, "sku": sku,
            "qty_ordered": q, "qty_supplied": q, "amount": q * price}


def test_indicator_values_by_hand():
    prices = {"K1": 100.0, "N1": 50.0, "O1": 20.0, "NEW": 60.0}
    rows = []
    for m in ("2026-07", "2026-08", "2026-09"):
        rows += [_line(m, "A", "K1", 10, 100.0), _line(m, "A", "N1", 10, 50.0)]
    rows += [_line("2026-10", "A", "K1", 20, prices["K1"]), _line("2026-10", "A", "N1", 10, 50.0),
             _line("2026-10", "A", "O1", 5, 20.0), _line("2026-10", "A", "NEW", 5, 60.0),
             _line("2026-10", "B", "O1", 8, 20.0)]
    orders = pd.DataFrame(rows)
    checks = pd.DataFrame({"check_date": pd.to_datetime(["2026-10-05"] * 3), "month": "2026-10",
                           "license_id": ["A", "A", "B"], "sku": ["K1", "N1", "O1"],
                           "retail_price": [120.0, 60.0, 25.0], "stock": [8.0, 12.0, 1.0]})
    v = ind.indicator_values(orders, _products(), _customers(["A", "B", "C"]), checks,
                             month="2026-10").set_index("license_id")
    assert list(v.index) == ["A", "B"]  # C did not order: not an active shop
    a = v.loc["A"]
    assert a["volume"] == 40 and a["assortment_width"] == 4
    # hand: amount = 20*100 + 10*50 + 5*20 + 5*60 = 2900; 2900 / 40 = 72.5 元/条
    assert a["value_per_carton"] == pytest.approx(72.5)
    assert a["key_brand_volume"] == 20
    # key brand K1 (20) + new SKU NEW (5) out of 40
    assert a["recommendation"] == pytest.approx(25 / 40)
    # stock/sold: K1 8/20 = 0.4, N1 12/10 = 1.2 -> max 1.2 on 乙
    assert a["shop_stock_ratio"] == pytest.approx(1.2) and a["overstock_name"] == "乙"
    # previous three months 20 条 each: 40 / 20 - 1
    assert a["order_swing"] == pytest.approx(1.0)
    assert a["new_product_adoption"] == 1.0 and np.isnan(a["store_image"])
    b = v.loc["B"]
    assert np.isnan(b["shop_stock_ratio"])  # stock 1 < min_stock: not judged
    assert np.isnan(b["order_swing"]) and b["new_product_adoption"] == 0.0


def _values(n=8, **over):
    v = pd.DataFrame({
        "license_id": [f"S{i}" for i in range(n)], "month": "2026-10", "district_code": "140105",
        "manager_id": "KM0104", "business_format": "食杂店", "trade_area": "居民区", "tier": 10,
        "tier_band": 1, "key_account": False, "volume": 100.0, "amount": 10000.0,
        "value_per_carton": 100.0, "key_brand_volume": 40.0, "assortment_width": 20,
        "recommendation": 0.4, "shop_stock_ratio": 0.4, "overstock_sku": "X",
        "overstock_name": "某规格", "order_swing": 0.0, "key_brand_change": 1.0,
        "new_product_adoption": 0.0, "store_image": np.nan})
    for col, (i, val) in over.items():
        v.loc[i, col] = val
    return v


def test_shop_states_flags_against_thresholds():
    v = _values(volume=(0, 64.0), shop_stock_ratio=(1, 1.5), key_brand_change=(2, 0.6),
                assortment_width=(3, 16))
    st = ind.shop_states(v).set_index(["license_id", "indicator"])
    # volume 64 vs peer median 100: gap -36% <= -35%
    assert st.loc[("S0", "volume"), "flagged"]
    assert st.loc[("S0", "volume"), "gap_ratio"] == pytest.approx(-0.36)
    assert st.loc[("S0", "volume"), "severity"] == pytest.approx(0.36)
    assert st.loc[("S1", "order_rationality"), "flagged"]
    assert st.loc[("S1", "order_rationality"), "detail"] == "某规格存销比1.5"
    assert st.loc[("S2", "brand_cooperation"), "flagged"]  # 0.6 / 1.0 - 1 = -40% <= -35%
    assert st.loc[("S3", "assortment_width"), "flagged"]  # 16 / 20 - 1 = -20%
    assert not st.loc[("S4", slice(None)), "flagged"].any()
    assert not st.xs("store_image", level="indicator")["flagged"].any()
    summ = ind.indicator_summary(ind.shop_states(v)).set_index("indicator")
    assert summ.loc["volume", "flagged"] == 1 and summ.loc["store_image", "judged"] == 0
    assert "无终端形象" in summ.loc["store_image", "note"]


def test_shop_states_threshold_from_params_changes_flags():
    v = _values(volume=(0, 64.0))
    st = ind.shop_states(v, thresholds={"volume_gap_alert": -0.40})
    assert not st[(st["license_id"] == "S0") & (st["indicator"] == "volume")]["flagged"].iloc[0]


def test_single_shop_has_no_peers():
    st = ind.shop_states(_values(n=1))
    assert st["peer_median"].isna().all() and not st["flagged"].any()


def test_empty_month():
    orders = pd.DataFrame(columns=["month", "district_code", "license_id", "sku", "qty_ordered",
                                   "qty_supplied", "amount"]).astype(
        {"qty_ordered": float, "qty_supplied": float, "amount": float})
    v = ind.indicator_values(orders, _products(), _customers(["A"]), None, month="2026-10")
    assert v.empty


def test_flag_matrix_counts():
    m = ind.flag_matrix(ind.shop_states(_values(volume=(0, 50.0), assortment_width=(0, 10))))
    assert m.set_index("license_id").loc["S0", "n_flags"] == 2


# ------------------------------------------------------------------ the sample city's signals

@pytest.fixture(scope="module")
def states_oct(small_store):
    from kehu_lib.plan import data, monthly

    inputs = data.load_inputs("2026-10", store=small_store)
    values, states = monthly.states_for(inputs, "2026-10", monthly.load_thresholds())
    return inputs, values, states


def test_oversupplied_sku_shops_flagged_on_order_rationality(states_oct, signals):
    inputs, values, states = states_oct
    spec = signals["oversupplied_sku"]
    od = inputs["orders"]
    shops = set(od[(od["month"] == spec["month"]) & (od["sku"] == spec["sku"])
                   & (od["district_code"] == "140105") & (od["qty_supplied"] > 0)]["license_id"])
    assert len(shops) >= 20
    o = states[(states["indicator"] == "order_rationality") & states["license_id"].isin(shops)]
    assert o["flagged"].mean() >= 0.9
    # elsewhere order rationality is rarely flagged (the planted push is the cause)
    rest = states[(states["indicator"] == "order_rationality") & ~states["license_id"].isin(shops)]
    assert rest["flagged"].mean() < 0.05


def test_key_brand_loss_shops_flagged(states_oct, sample_manifest):
    _, values, states = states_oct
    loss = set(sample_manifest["planted"]["key_brand_loss_shops"])
    judged = set(values.loc[values["key_brand_change"].notna(), "license_id"]) & loss
    kb = states[states["indicator"].isin(["key_brand_volume", "brand_cooperation"])
                & states["license_id"].isin(judged)]
    flagged = set(kb.loc[kb["flagged"], "license_id"])
    assert judged and flagged == judged
