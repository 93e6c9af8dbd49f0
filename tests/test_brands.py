"""Brand metrics on small hand-made frames (hand arithmetic in comments)."""

import numpy as np
import pandas as pd
import pytest

from kehu_lib.metrics import brands

PRODUCTS = pd.DataFrame({
    "sku": ["A", "B", "C", "N"], "brand": ["中华", "中华", "红河", "娇子"],
    "name": ["中华(硬)", "中华(软)", "红河(硬99)", "娇子(新)"],
    "price_class": ["一类", "一类", "三类", "二类"], "key_brand": [True, True, False, True],
    "launch_date": pd.to_datetime(["2020-01-01", "2020-01-01", "2020-01-01", "2026-06-01"]),
})


def orders(rows, month="2026-10"):
    df = pd.DataFrame(rows, columns=["license_id", "sku", "qty_ordered", "qty_supplied", "amount"])
    df.insert(0, "month", month)
    return df


CUR = orders([("s1", "A", 100, 50, 5000.0), ("s2", "B", 100, 100, 2000.0), ("s2", "C", 50, 50, 500.0)])


def test_top_items_sku_and_brand_with_yoy():
    last = orders([("s1", "A", 25, 25, 100.0), ("s1", "C", 100, 100, 1.0)], month="2025-10")
    top = brands.top_items(CUR, PRODUCTS, level="sku", last_year=last, n=None)
    assert top["sku"].tolist() == ["B", "A", "C"]  # by volume 100, 50, 50 (ties keep order)
    a = top.set_index("sku").loc["A"]
    assert a["share_volume"] == pytest.approx(0.25)  # 50 / 200
    assert a["share_amount"] == pytest.approx(5000 / 7500)
    assert a["yoy_volume"] == pytest.approx(1.0)  # 50 vs 25
    assert np.isnan(top.set_index("sku").at["B", "yoy_volume"])  # not sold last year
    by_brand = brands.top_items(CUR, PRODUCTS, level="brand", sort_by="amount")
    assert by_brand.iloc[0]["brand"] == "中华" and by_brand.iloc[0]["volume"] == 150


def test_top_items_bad_level_message():
    with pytest.raises(ValueError, match="level must be 'sku' or 'brand', got 'x'"):
        brands.top_items(CUR, PRODUCTS, level="x")


def test_brand_trend_fills_missing_months_with_zero():
    od = pd.concat([CUR, orders([("s1", "C", 10, 10, 1.0)], month="2026-09")])
    tr = brands.brand_trend(od, PRODUCTS, months=["2026-09", "2026-10"])
    assert tr["brand"].unique().tolist() == ["中华"]  # the only key brand sold
    z = tr.set_index("month")
    assert z.at["2026-09", "volume_cases"] == 0.0
    assert z.at["2026-10", "volume_cases"] == pytest.approx(150 / 250)
    assert z.at["2026-10", "share"] == pytest.approx(0.75)


def test_price_class_structure_shift():
    prev = orders([("s1", "C", 100, 100, 1.0)], month="2025-10")
    st = brands.price_class_structure(CUR, PRODUCTS, previous=prev).set_index("price_class")
    assert list(st.index) == ["一类", "二类", "三类", "四类", "五类"]
    assert st.at["一类", "share"] == pytest.approx(0.75)
    assert st.at["一类", "change_pp"] == pytest.approx(0.75)  # was 0
    assert st.at["三类", "change_pp"] == pytest.approx(-0.75)  # was 100%
    assert st.at["一类", "value_per_case"] == pytest.approx(7000 / 0.6)
    assert np.isnan(st.at["四类", "value_per_case"])


def test_concentration_cr5_hhi():
    # shares 0.5, 0.3, 0.2 -> HHI 2500 + 900 + 400 = 3800, CR5 = 1
    od = pd.DataFrame({"brand": ["a", "b", "c"], "qty_supplied": [50.0, 30.0, 20.0]})
    c = brands.concentration(od).iloc[0]
    assert c["hhi"] == pytest.approx(3800) and c["cr5"] == pytest.approx(1.0)
    assert c["n_items"] == 3
    one = brands.concentration(od.head(1)).iloc[0]
    assert one["hhi"] == pytest.approx(10_000)
    empty = brands.concentration(od.head(0)).iloc[0]
    assert np.isnan(empty["hhi"]) and empty["n_items"] == 0
    # six brands of equal share: CR5 = 5/6, HHI = 6 * (100/6)^2
    six = pd.DataFrame({"brand": list("abcdef"), "qty_supplied": [1.0] * 6})
    c6 = brands.concentration(six).iloc[0]
    assert c6["cr5"] == pytest.approx(5 / 6) and c6["hhi"] == pytest.approx(10_000 / 6)


def test_fill_rate_most_rationed_first():
    fr = brands.fill_rate(CUR, PRODUCTS)
    assert fr["sku"].tolist()[0] == "A"  # 50 / 100
    assert fr.iloc[0]["fill_rate"] == 0.5 and fr.iloc[0]["shortfall"] == 50
    assert fr.iloc[0]["name"] == "中华(硬)"
    assert brands.fill_rate(CUR.head(0)).empty


def test_new_products_window():
    assert brands.new_products(PRODUCTS, month="2026-10")["sku"].tolist() == ["N"]
    assert brands.new_products(PRODUCTS, month="2026-05").empty  # not launched yet
    assert brands.new_products(PRODUCTS, month="2027-01", within_months=6).empty


def test_new_product_reach_by_week():
    launch = pd.Timestamp("2026-06-01")  # a Monday
    lines = pd.DataFrame({
        "order_date": pd.to_datetime(["2026-06-01", "2026-06-03", "2026-06-09", "2026-06-10",
                                      "2026-06-02"]),
        "license_id": ["s1", "s2", "s1", "s3", "s4"], "sku": ["N", "C", "N", "N", "C"],
        "qty_ordered": [1.0, 5.0, 2.0, 1.0, 3.0],
    })
    cust = pd.DataFrame({"license_id": ["s1", "s2", "s3", "s4"],
                         "urban_rural": ["城镇", "城镇", "乡村", "乡村"]})
    r = brands.new_product_reach(lines, cust, sku="N", launch_date=launch)
    r = r.set_index(["group", "week"])
    # 城镇: s1, s2 active; s1 ordered week 0 and 1 -> reach 1/2, repeat 1/1 at week 1
    assert r.at[("城镇", 0), "reach"] == 0.5 and r.at[("城镇", 0), "repeat_rate"] == 0.0
    assert r.at[("城镇", 1), "repeat_rate"] == 1.0
    # 乡村: s3, s4 active; s3 first ordered in week 1
    assert r.at[("乡村", 0), "reach"] == 0.0 and np.isnan(r.at[("乡村", 0), "repeat_rate"])
    assert r.at[("乡村", 1), "reach"] == 0.5


def test_new_product_reach_with_active_list_and_no_orders():
    lines = pd.DataFrame({"order_date": pd.to_datetime([]), "license_id": pd.Series([], dtype="string"),
                          "sku": pd.Series([], dtype="string"), "qty_ordered": pd.Series([], dtype=float)})
    cust = pd.DataFrame({"license_id": ["s1", "s2"], "urban_rural": ["乡村", "乡村"]})
    r = brands.new_product_reach(lines, cust, sku="N", launch_date="2026-06-01", active=["s1", "s2"],
                                 end_date="2026-06-20")
    assert r["week"].tolist() == [0, 1, 2]
    assert (r["reach"] == 0).all() and (r["active_shops"] == 2).all()  # stalled: 0% reach


def test_second_week_equals_the_per_shop_reference(small_store):
    """new_product_reach takes each shop's second distinct order week with one sort
    (:func:`brands._second_week`); the same weeks as the straightforward per-shop reference
    (sorted distinct weeks, the second one), on the small sample's new-product lines by 城乡,
    and the reach table counts the same repeat shops."""
    from kehu_lib import findings

    month = "2026-10"
    inp = findings.load_inputs(None, month, store=small_store)
    lines, cust = inp["new_lines"], inp["customers"]
    assert lines is not None and len(lines)
    sku = lines["sku"].iloc[0]
    launch = pd.Timestamp(lines["order_date"].min())
    new = lines[(lines["sku"] == sku) & (lines["qty_ordered"] > 0)].merge(
        cust[["license_id", "urban_rural"]].rename(columns={"urban_rural": "group"}),
        on="license_id", how="left")
    new["week"] = (pd.to_datetime(new["order_date"]) - launch).dt.days // 7
    got = brands._second_week(new)
    ref = {}
    for (g, s), w in new.groupby(["group", "license_id"])["week"]:
        weeks = sorted(set(w))
        if len(weeks) > 1:
            ref[(g, s)] = float(weeks[1])
    assert len(ref) > 10
    assert dict(zip(got.index.tolist(), got.tolist())) == ref
    reach = brands.new_product_reach(lines, cust, sku=sku, launch_date=launch)
    last = reach[reach["week"] == reach["week"].max()].set_index("group")["repeat_shops"]
    want = pd.Series(ref).groupby(level=0).size()
    assert last.reindex(want.index).tolist() == want.tolist()


def _month_with_odd_skus(store):
    """The small sample's 2026-10 ledger rows, a copy of them with three SKUs unknown to the
    products and one missing, and the products."""
    from kehu_lib import findings

    inp = findings.load_inputs(None, "2026-10", store=store)
    od, prod = inp["orders"], inp["products"]
    cur = od[od["month"] == "2026-10"]
    odd = cur.copy()
    odd.loc[odd.index[:3], "sku"] = "不存在"
    odd.loc[odd.index[3], "sku"] = pd.NA
    return cur, odd, prod


def test_with_products_lookup_equals_the_merge(small_store):
    """The product columns are looked up once per distinct SKU (:func:`brands._with_products`):
    the same frame as the left merge on ``sku`` (the straightforward path), on a month of the
    small sample's ledger, with and without a SKU unknown to the products (a boolean column
    then holds a missing value, as the merge gives it), and through the merge when the
    products repeat a SKU."""
    cur, odd, prod = _month_with_odd_skus(small_store)
    for frame in (cur, odd):
        for cols in (["sku", "brand", "name"], ["price_class"], ["brand", "key_brand"]):
            need = [c for c in cols if c != "sku"]
            ref = frame.merge(prod[["sku", *need]], on="sku", how="left")
            pd.testing.assert_frame_equal(brands._with_products(frame, prod, cols), ref,
                                          check_exact=True)
    dup = pd.concat([prod, prod.iloc[:1]], ignore_index=True)
    ref = cur.merge(dup[["sku", "brand"]], on="sku", how="left")
    assert len(ref) > len(cur)
    pd.testing.assert_frame_equal(brands._with_products(cur, dup, ["brand"]), ref)


def test_sums_per_sku_equal_the_grouping_on_all_columns(small_store):
    """:func:`brands._sums` groups on the SKU alone and looks its brand and name up per group:
    the same frame, to the last bit, as grouping the merged rows on SKU, brand and name (also
    with SKUs unknown to the products and a missing SKU, and for an empty month)."""
    cur, odd, prod = _month_with_odd_skus(small_store)
    sums = {"volume": ("qty_supplied", "sum"), "amount": ("amount", "sum")}
    for frame in (cur, odd, cur.iloc[0:0]):
        for cols in (["sku", "brand", "name"], ["brand"]):
            need = [c for c in cols if c != "sku"]
            ref = (frame.merge(prod[["sku", *need]], on="sku", how="left")
                   .groupby(cols, observed=True, dropna=False).agg(**sums).reset_index())
            pd.testing.assert_frame_equal(brands._sums(frame, prod, cols, **sums), ref,
                                          check_exact=True)
