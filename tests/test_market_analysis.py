"""Seed-004 analyses (issue: missing 市场机会 with expected effects, the 访销线 view, high-end by
order quantity, frequency, cycle and profit, and the 城乡 judgement "城市上结构，农村上销量")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kehu_lib.metrics import market_analysis as ma

M = "2026-10"


def _prod():
    return pd.DataFrame({"sku": ["H", "L"], "price_class": ["一类", "四类"],
                         "wholesale_price": [200.0, 20.0], "retail_price": [230.0, 23.0]})


def test_high_end_by_shop_by_hand():
    lines = pd.DataFrame({
        "order_date": pd.to_datetime(["2026-08-03", "2026-08-17", "2026-09-14", "2026-10-05",
                                      "2026-10-05", "2026-10-12"]),
        "month": ["2026-08", "2026-08", "2026-09", "2026-10", "2026-10", "2026-10"],
        "license_id": ["A", "A", "A", "A", "A", "B"], "sku": ["H", "H", "H", "H", "L", "L"],
        "qty_supplied": [3.0, 3, 3, 3, 10, 5], "amount": [600.0, 600, 600, 600, 200, 100]})
    chk = pd.DataFrame({"license_id": ["A"], "sku": ["H"], "retail_price": [220.0]})
    h = ma.high_end_by_shop(lines, _prod(), chk, month=M).set_index("license_id")
    assert list(h.index) == ["A"]  # B has no high-end supply
    a = h.loc["A"]
    assert a["qty_per_month"] == 4.0 and a["orders_per_month"] == pytest.approx(4 / 3)
    # dates 08-03, 08-17, 09-14, 10-05: gaps 14, 28, 21 days
    assert a["cycle_days"] == pytest.approx(21.0)
    assert a["gross_profit_per_month"] == pytest.approx(12 * 20 / 3)  # observed 220 − 200
    assert a["margin"] == pytest.approx(20 / 220)
    assert a["share_amount"] == pytest.approx(2400 / 2600)


def _orders():
    rows = []
    for month, mult in (("2025-10", 1.0), (M, 1.1)):
        rows += [(month, "140109", "A", "H", 10 * mult, 2000 * mult * 1.2 if month == M else 2000),
                 (month, "140109", "B", "L", 90 * mult, 1800 * mult)]
    return pd.DataFrame(rows, columns=["month", "district_code", "license_id", "sku",
                                       "qty_supplied", "amount"])


def _cust():
    return pd.DataFrame({"license_id": ["A", "B"], "route_id": ["140109-01", "140109-02"],
                         "manager_id": "KM0101", "urban_rural": ["城镇", "乡村"]})


def test_route_summary_and_structure_by_hand():
    r = ma.route_summary(_orders(), _prod(), _cust(), month=M).set_index("route_id")
    assert r.loc["140109-01", "volume_cases"] == pytest.approx(11 / 250)
    assert r.loc["140109-01", "volume_yoy"] == pytest.approx(0.1)
    assert r.loc["140109-01", "value_per_case_yoy"] == pytest.approx(0.2)
    assert r.loc["140109-01", "share_class12"] == 1.0 and r.loc["140109-02", "share_class12"] == 0
    s = ma.route_structure(_orders(), _prod(), _cust(), month=M)
    one = s[s["route_id"] == "140109-01"].set_index("price_class")
    assert list(one.index) == ["一类", "二类", "三类", "四类", "五类"]
    assert one.loc["一类", "share"] == 1.0 and one["share"].sum() == pytest.approx(1.0)


def test_urban_rural_judgement_by_hand():
    j = ma.urban_rural_judgement(_orders(), _prod(), _cust(), month=M, months=1).set_index(
        "urban_rural")
    # 城镇 (A): volume +10%, 单箱值 +20% -> structure; 乡村 (B): volume +10%, 单箱值 0 -> volume
    assert j.loc["城镇", "volume_growth"] == pytest.approx(0.1)
    assert j.loc["城镇", "value_growth"] == pytest.approx(0.2)
    assert j["growth"].to_dict() == {"城镇": "structure", "乡村": "volume"}
    assert j["as_expected"].all()
    with pytest.raises(ValueError, match="by must be"):
        ma.urban_rural_judgement(_orders(), _prod(), _cust(), month=M, by="route_id")


def test_market_opportunities_lift_by_hand():
    months = pd.period_range("2023-09", "2026-10", freq="M").astype(str)
    vol = pd.Series(100.0, index=months)
    vol["2025-10"], vol["2024-10"] = 130.0, 110.0
    mv = pd.DataFrame({"month": vol.index, "volume": vol.to_numpy()})
    o = ma.market_opportunities(mv, month="2026-09", years=3)
    assert o["target_month"].iloc[0] == "2026-10" and "国庆节" in o["names"].iloc[0]
    assert o["lift"].tolist()[:2] == pytest.approx([0.3, 0.1])
    assert np.isnan(o["lift"].iloc[2])  # 2023-10 lacks two earlier months
    assert o["mean_lift"].iloc[0] == pytest.approx(0.2)


def test_sample_city_grows_structure_countryside_volume(small_store):
    from kehu_lib import loaders

    cust = loaders.load_customers(None, store=small_store)
    prod = loaders.load_products(store=small_store)
    od = loaders.load_orders(None, ("2025-08", M), store=small_store)
    j = ma.urban_rural_judgement(od, prod, cust, month=M, by="district_kind").set_index(
        "district_kind")
    assert j.loc["urban", "growth"] == "structure" and j.loc["rural", "growth"] == "volume"
    assert j.loc["urban", "share_class12_change"] > j.loc["rural", "share_class12_change"]


def test_urban_rural_lookup_per_shop_equals_the_merge(small_store):
    """urban_rural_judgement looks the shops' 城乡 and the districts' kinds up once per distinct
    key (:func:`kehu_lib.frames.per_key`); the same judgement as on rows merged with the
    customers beforehand (the straightforward path), and the same column as the per-row map,
    on the small sample's ledger with a shop unknown to the customers and a missing district."""
    from kehu_lib import aggregates, config, frames, loaders
    from kehu_lib.metrics import market_analysis as ma

    month = "2026-10"
    prod = loaders.load_products(store=small_store)
    cust = loaders.load_customers(None, store=small_store)
    od = aggregates.shop_sku_month(None, ["2025-08", "2025-09", "2025-10", "2026-08", "2026-09",
                                          month], store=small_store)
    od.loc[od.index[:40], "license_id"] = "不存在"
    od.loc[od.index[40:45], "district_code"] = pd.NA
    merged = od.merge(cust[["license_id", "urban_rural"]], on="license_id", how="left")
    pd.testing.assert_frame_equal(
        ma.urban_rural_judgement(od, prod, cust, month=month),
        ma.urban_rural_judgement(merged, prod, cust, month=month), check_exact=True)

    def kind(c):
        return config.DISTRICT_BY_CODE[c].kind if c in config.DISTRICT_BY_CODE else "unknown"

    got = frames.per_key(od["district_code"], lambda s: s.map(kind))
    pd.testing.assert_series_equal(got, od["district_code"].map(kind), check_exact=True)
    assert "unknown" in set(got)
    table = cust.set_index("license_id")["urban_rural"]
    got = frames.per_key(od["license_id"], table.reindex)
    ref = merged["urban_rural"].set_axis(od.index).rename("license_id")
    pd.testing.assert_series_equal(got, ref, check_exact=True)
    assert got.isna().sum() == 40
    assert len(ma.urban_rural_judgement(od, prod, cust, month=month, by="district_kind"))
