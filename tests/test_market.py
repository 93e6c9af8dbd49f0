"""Market metrics on small hand-made frames (hand arithmetic in comments)."""

import numpy as np
import pandas as pd
import pytest

from kehu_lib.metrics import market

PRODUCTS = pd.DataFrame({"sku": ["A", "C"], "brand": ["云烟", "红河"], "name": ["云烟(紫)", "红河(硬99)"],
                         "price_class": ["二类", "三类"], "retail_price": [100.0, 50.0]})
CUSTOMERS = pd.DataFrame({
    "license_id": ["s1", "s2", "s3", "s4"], "business_format": ["食杂店", "食杂店", "超市", "超市"],
    "opened_date": pd.to_datetime(["2020-01-01"] * 4), "closed_date": pd.to_datetime([None] * 4),
})


def checks(rows):
    df = pd.DataFrame(rows, columns=["license_id", "sku", "retail_price", "stock"])
    df["month"] = "2026-10"
    df["check_date"] = pd.Timestamp("2026-10-05")
    return df


CHK = checks([("s1", "A", 90.0, 30.0), ("s2", "A", 100.0, 10.0), ("s3", "A", 95.0, 40.0),
              ("s1", "C", 50.0, 5.0)])


def test_price_index_per_sku():
    pi = market.price_index(CHK, PRODUCTS).set_index("sku")
    assert pi.at["A", "price_index"] == pytest.approx(0.95)  # (0.90 + 1.00 + 0.95) / 3
    assert pi.at["A", "share_at_guided"] == pytest.approx(1 / 3)
    assert pi.at["C", "price_index"] == 1.0 and pi.at["A", "checks"] == 3
    assert market.price_index(CHK.head(0), PRODUCTS).empty


def test_weighted_price_index():
    pi = market.price_index(CHK, PRODUCTS)
    w = pd.Series({"A": 300.0, "C": 100.0})
    all_ = market.weighted_price_index(pi, w, level=None).iloc[0]
    assert all_["price_index"] == pytest.approx((300 * 0.95 + 100 * 1.0) / 400)
    assert all_["share_at_guided"] == pytest.approx(2 / 4)  # checks at or above guided: s2 A, s1 C
    by_class = market.weighted_price_index(pi, w).set_index("price_class")
    assert by_class.at["二类", "price_index"] == pytest.approx(0.95)
    nothing = market.weighted_price_index(pi, pd.Series(dtype=float), level=None).iloc[0]
    assert np.isnan(nothing["price_index"])  # no sales weights: no index


def test_social_inventory_stratified():
    od = pd.DataFrame({"month": "2026-10", "license_id": ["s1", "s2", "s3", "s4", "s1"],
                       "sku": ["A", "A", "A", "A", "C"], "qty_supplied": [20.0, 20, 30, 30, 10]})
    inv = market.social_inventory(CHK, od, CUSTOMERS, PRODUCTS, month="2026-10").set_index("sku")
    # A: 食杂店 mean (30+10)/2 = 20 x 2 carrying shops = 40; 超市 mean 40 x 2 = 80; total 120
    assert inv.at["A", "stock"] == pytest.approx(120)
    assert inv.at["A", "sales"] == 100 and inv.at["A", "stock_to_sales"] == pytest.approx(1.2)
    assert inv.at["A", "checked_shops"] == 3 and inv.at["A", "carrying_shops"] == 4
    assert inv.at["C", "stock_to_sales"] == pytest.approx(0.5)  # 5 x 1 shop / 10
    assert inv.at["A", "name"] == "云烟(紫)"
    # SE: 食杂店 N=2, s^2 = var(30, 10) = 200, n=2 -> 4 * 200 / 2 = 400; 超市 one check -> 0
    assert inv.at["A", "stock_to_sales_se"] == pytest.approx(400 ** 0.5 / 100)


def test_social_inventories_city_and_districts_in_one_pass():
    # two districts: s1, s2 in D1, s3, s4 in D2; the by-district table equals the estimate of
    # each district's own rows, the city one the hand arithmetic above (A: stock 120)
    od = pd.DataFrame({"month": "2026-10", "district_code": ["D1", "D1", "D2", "D2", "D1"],
                       "license_id": ["s1", "s2", "s3", "s4", "s1"],
                       "sku": ["A", "A", "A", "A", "C"], "qty_supplied": [20.0, 20, 30, 30, 10]})
    chk = CHK.assign(district_code=CHK["license_id"].map({"s1": "D1", "s2": "D1", "s3": "D2"}))
    by_d, city = market.social_inventories(chk, od, CUSTOMERS, PRODUCTS, month="2026-10",
                                           bys=["district_code", None])
    assert city.set_index("sku").at["A", "stock"] == pytest.approx(120)
    pd.testing.assert_frame_equal(
        city, market.social_inventory(chk, od, CUSTOMERS, PRODUCTS, month="2026-10"))
    for code, part in by_d.groupby("district_code"):
        own = market.social_inventory(chk[chk["district_code"] == code],
                                      od[od["district_code"] == code], CUSTOMERS, PRODUCTS,
                                      month="2026-10")
        pd.testing.assert_frame_equal(part.drop(columns="district_code").reset_index(drop=True),
                                      own, check_dtype=False)
    # D2's A: 超市 mean 40 x 2 carrying shops = 80 (no 食杂店 in D2)
    assert by_d.set_index(["district_code", "sku"]).at[("D2", "A"), "stock"] == pytest.approx(80)
    empty = market.social_inventories(chk.head(0), od, CUSTOMERS, PRODUCTS, month="2026-10",
                                      bys=["district_code", None])
    assert [list(e.columns)[:2] for e in empty] == [["district_code", "sku"], ["sku", "brand"]]
    assert all(e.empty for e in empty)


def test_social_inventory_unchecked_stratum_and_empty():
    od = pd.DataFrame({"month": "2026-10", "license_id": ["s1", "s4"], "sku": ["C", "C"],
                       "qty_supplied": [10.0, 10.0]})
    inv = market.social_inventory(CHK, od, CUSTOMERS, month="2026-10").set_index("sku")
    # 超市 carries C but no 超市 shop was checked: uses the SKU's overall mean (5) -> 5 + 5
    assert inv.at["C", "stock"] == pytest.approx(10) and inv.at["C", "stock_to_sales"] == 0.5
    assert market.social_inventory(CHK.head(0), od, CUSTOMERS, month="2026-10").empty


def test_market_alerts_thresholds():
    pi = pd.DataFrame({"sku": ["A", "B", "C", "D"], "brand": "x", "name": ["a", "b", "c", "d"],
                       "price_class": "二类", "checks": [10, 10, 10, 2],
                       "price_index": [0.90, 0.99, 0.94, 0.80]})
    inv = pd.DataFrame({"sku": ["A", "B", "C", "D"], "stock_to_sales": [1.6, 1.2, 0.5, 3.0]})
    al = market.market_alerts(pi, inv, thresholds={"price_index_alert": 0.95, "alert_z": 1.645,
                                                   "stock_to_sales_alert": 1.0, "min_checks": 5})
    assert al["sku"].tolist() == ["A", "C", "B"]  # both conditions first; D has too few checks
    assert al["severity"].tolist() == [2, 1, 1]
    assert market.market_alerts(pi, inv, thresholds={"price_index_alert": 0.5, "alert_z": 1.645,
                                                     "stock_to_sales_alert": 5,
                                                     "min_checks": 5}).empty
    with pytest.raises(KeyError, match="min_checks"):
        market.market_alerts(pi, inv, thresholds={"price_index_alert": 0.95})


def test_market_alerts_stock_needs_lower_bound_above_threshold():
    pi = pd.DataFrame({"sku": ["A", "B"], "brand": "x", "name": ["a", "b"], "price_class": "二类",
                       "checks": [20, 20], "price_index": [0.99, 0.99]})
    inv = pd.DataFrame({"sku": ["A", "B"], "stock_to_sales": [1.2, 1.6],
                        "stock_to_sales_se": [0.2, 0.2]})
    al = market.market_alerts(pi, inv, thresholds={"price_index_alert": 0.95, "alert_z": 1.645,
                                                   "stock_to_sales_alert": 1.0, "min_checks": 5})
    # A: 1.2 - 1.645 * 0.2 = 0.87 < 1 (noise); B: 1.6 - 0.33 = 1.27 > 1
    assert al["sku"].tolist() == ["B"] and bool(al["stock_alert"].iloc[0])
