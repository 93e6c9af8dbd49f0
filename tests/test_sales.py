"""Sales headline metrics: hand-computed values on small frames (source: arithmetic in comments)."""

import numpy as np
import pandas as pd
import pytest

from kehu_lib.metrics import sales

PRODUCTS = pd.DataFrame({"sku": ["A", "B", "C"], "price_class": ["一类", "三类", "二类"]})


def orders(rows):
    return pd.DataFrame(rows, columns=["month", "license_id", "sku", "qty_supplied", "amount"])


def test_sales_summary_hand_computed():
    od = orders([("2026-10", "s1", "A", 250.0, 100_000.0), ("2026-10", "s2", "B", 500.0, 30_000.0),
                 ("2026-10", "s3", "C", 0.0, 0.0)])
    out = sales.sales_summary(od, PRODUCTS).iloc[0]
    assert out["volume_cases"] == 3.0  # 750 条 / 250
    assert out["amount_wan"] == 13.0  # 130,000 元 / 10,000
    assert out["value_per_case"] == pytest.approx(130_000 / 3)
    assert out["active_shops"] == 2  # s3 has zero volume: not active
    assert out["volume_per_shop_cases"] == 1.5  # 3 箱 / 2 户
    assert out["share_class12"] == pytest.approx(250 / 750)  # only A (一类) here; C sold 0


def test_sales_summary_empty_and_single_row():
    empty = sales.sales_summary(orders([]), PRODUCTS).iloc[0]
    assert empty["volume"] == 0 and np.isnan(empty["value_per_case"])
    assert np.isnan(empty["share_class12"])
    one = sales.sales_summary(orders([("2026-10", "s1", "B", 25.0, 1000.0)])).iloc[0]
    assert one["value_per_case"] == 10_000.0  # 1000 元 / 0.1 箱
    assert "share_class12" not in sales.sales_summary(orders([]))


def test_sales_summary_by_and_missing_column():
    od = orders([("2026-09", "s1", "A", 250.0, 100.0), ("2026-10", "s1", "A", 500.0, 300.0)])
    out = sales.sales_summary(od, by="month")
    assert out["volume_cases"].tolist() == [1.0, 2.0]
    with pytest.raises(KeyError, match=r"orders lacks column\(s\) \['amount'\]"):
        sales.sales_summary(od.drop(columns="amount"))


def test_growth():
    assert sales.growth(110, 100) == pytest.approx(0.10)
    assert np.isnan(sales.growth(5, 0))  # never a growth against zero
    assert np.isnan(sales.growth(5, np.nan))


def test_headline_yoy_mom_and_pp():
    od = orders([
        ("2025-10", "s1", "A", 200.0, 20_000.0), ("2025-10", "s2", "B", 300.0, 9_000.0),
        ("2026-09", "s1", "A", 250.0, 25_000.0),
        ("2026-10", "s1", "A", 250.0, 30_000.0), ("2026-10", "s2", "B", 250.0, 7_500.0),
    ])
    h = sales.headline(od, PRODUCTS, month="2026-10").set_index("indicator")
    # volume: 500 条 = 2 箱; last year 500 条 = 2 箱; last month 250 条 = 1 箱
    assert h.at["volume_cases", "value"] == 2.0
    assert h.at["volume_cases", "yoy"] == pytest.approx(0.0)
    assert h.at["volume_cases", "mom"] == pytest.approx(1.0)
    # amount 37,500 vs 29,000 -> +29.31%
    assert h.at["amount_wan", "yoy"] == pytest.approx(37_500 / 29_000 - 1)
    # 一类 share 0.5 now vs 0.4 last year: +10 个百分点 as a difference, not a growth rate
    assert h.at["share_class12", "yoy"] == pytest.approx(0.1)
    assert h.at["share_class12", "change_unit"] == "pp"
    assert h.at["active_shops", "mom"] == pytest.approx(1.0)  # 2 户 vs 1 户
    assert "label" not in h.columns  # labels and units are the glossary's (kehu_lib.present)


def test_headline_missing_previous_year_month():
    od = orders([("2026-09", "s1", "A", 250.0, 100.0), ("2026-10", "s1", "A", 500.0, 300.0)])
    h = sales.headline(od, month="2026-10").set_index("indicator")
    assert np.isnan(h.at["volume_cases", "last_year"]) and np.isnan(h.at["volume_cases", "yoy"])
    assert h.at["volume_cases", "mom"] == pytest.approx(1.0)


def test_headline_by_group_missing_year():
    od = orders([("2026-10", "s1", "A", 250.0, 100.0), ("2025-10", "s1", "A", 125.0, 50.0)])
    od["district_code"] = ["140109", "140109"]
    h = sales.headline(od, month="2026-10", by="district_code").set_index("indicator")
    assert h.at["volume_cases", "yoy"] == pytest.approx(1.0)


def test_festival_moved_uses_lunar_calendar():
    # 春节: 2025-01-29, 2026-02-17 (moved), 2027-02-06 (same month as 2026)
    assert sales.festival_moved(2026) is True
    assert sales.festival_moved(2027) is False


def test_jan_feb_comparison():
    od = orders([("2025-01", "s1", "A", 500.0, 1.0), ("2025-02", "s1", "A", 250.0, 1.0),
                 ("2026-01", "s1", "A", 250.0, 1.0), ("2026-02", "s1", "A", 500.0, 1.0)])
    j = sales.jan_feb_comparison(od, year=2026).set_index("indicator")
    # single months: Jan -50%, Feb +100%; combined 3 箱 vs 3 箱 = 0%
    assert j.at["volume_cases", "value"] == 3.0 and j.at["volume_cases", "yoy"] == pytest.approx(0)
    assert j.at["volume_cases", "period"] == "2026-01~02"
    assert np.isnan(j.at["volume_cases", "mom"])


def test_district_comparison_wide_with_names_in_district_order():
    od = orders([("2026-10", "s1", "A", 250.0, 100_000.0), ("2025-10", "s1", "A", 125.0, 50_000.0),
                 ("2026-10", "s2", "B", 500.0, 30_000.0)])
    od["district_code"] = ["140106", "140106", "140109"]  # 迎泽区, 万柏林区
    d = sales.district_comparison(od, PRODUCTS, month="2026-10")
    assert list(d["district"]) == ["万柏林区", "迎泽区"]  # config.DISTRICTS order
    d = d.set_index("district")
    assert d.at["迎泽区", "value_volume_cases"] == 1.0  # 250 条
    assert d.at["迎泽区", "yoy_volume_cases"] == pytest.approx(1.0)  # 250 / 125 - 1
    assert d.at["万柏林区", "value_volume_cases"] == 2.0  # 500 条
    assert np.isnan(d.at["万柏林区", "yoy_volume_cases"])  # no month last year: never vs zero
    assert d.at["万柏林区", "value_share_class12"] == 0.0  # B is 三类


def test_class12_set_test_equals_the_price_class_map(small_store):
    """sales_summary flags 一二类 rows by a set test of their SKUs (:func:`sales._class12`):
    the same flags as mapping each row's SKU to its price class, on the small sample's ledger
    with a SKU unknown to the products and a missing SKU; with duplicate product rows the map
    is kept."""
    from kehu_lib import findings

    inp = findings.load_inputs(None, "2026-10", store=small_store)
    od, prod = inp["orders"].head(50_000).copy(), inp["products"]
    od.loc[od.index[0], "sku"] = "不存在"
    od.loc[od.index[1], "sku"] = pd.NA
    ref = od["sku"].map(prod.set_index("sku")["price_class"]).isin(["一类", "二类"])
    got = sales._class12(od, prod)
    assert ref.any() and not ref.all()
    np.testing.assert_array_equal(got.to_numpy(dtype=bool), ref.to_numpy(dtype=bool))
    dup = pd.concat([prod, prod.iloc[:1]], ignore_index=True)
    with pytest.raises(Exception):  # the map's own error on a duplicated SKU, as before
        sales._class12(od, dup)
