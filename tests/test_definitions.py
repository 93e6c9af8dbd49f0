"""One definition each (issue: 有效户数 591/596/630 in one report; 上市22周 vs 21; 至年底 for
2026-10 summing 2027-01 too; 重购率 99.6-100% without a definition; every district at 100% of
shops reaching a 10% margin although 云烟(紫) sells at 90 against 85 元 in 小店区)."""

import numpy as np
import pandas as pd
import pytest

from kehu_lib import calendar
from kehu_lib.metrics import definitions as df_


def test_months_to_year_end():
    assert calendar.months_to_year_end("2026-10") == ["2026-11", "2026-12"]
    assert calendar.months_to_year_end("2026-12") == []
    assert calendar.months_to_year_end("2026-01")[-1] == "2026-12"


def test_to_year_end_total_excludes_next_year():
    fc = pd.DataFrame({"ds": pd.to_datetime(["2026-11-01", "2026-12-01", "2027-01-01"] * 2),
                       "district": ["a"] * 3 + ["b"] * 3,
                       "mean": [500.0, 536.6, 732.9, 1.0, 2.0, 4.0]})
    a = fc[fc["district"] == "a"]
    assert df_.to_year_end_total(a, month="2026-10") == pytest.approx(1036.6)
    assert a["mean"].sum() == pytest.approx(1769.5)  # the 3-month horizon the report summed
    by = df_.to_year_end_total(fc, month="2026-10", by="district")
    assert by.to_dict() == pytest.approx({"a": 1036.6, "b": 3.0})
    assert df_.to_year_end_total(a, month="2026-12") == 0.0


def test_weeks_since_launch_matches_reach_table():
    from kehu_lib.metrics.brands import new_product_reach

    launch, end = pd.Timestamp("2026-06-03"), pd.Timestamp("2026-10-31")
    assert df_.weeks_since_launch(launch, end) == (end - launch).days // 7 == 21
    assert df_.weeks_since_launch(launch, launch) == 0
    lines = pd.DataFrame({"order_date": pd.to_datetime(["2026-06-05", "2026-10-30"]),
                          "license_id": ["s1", "s1"], "sku": "N", "qty_ordered": 2.0})
    r = new_product_reach(lines, pd.DataFrame({"license_id": ["s1"]}), sku="N",
                          launch_date=launch, by=None, end_date=end)
    assert r["week"].max() == df_.weeks_since_launch(launch, end)
    with pytest.raises(ValueError, match="before the launch"):
        df_.weeks_since_launch(launch, "2026-05-01")


def test_effective_shops_one_definition():
    od = pd.DataFrame({"month": ["2026-10"] * 4 + ["2026-09"], "district_code": list("aabba"),
                       "license_id": ["s1", "s1", "s2", "s3", "s4"],
                       "qty_supplied": [1.0, 2.0, 0.0, 5.0, 1.0], "amount": 1.0,
                       "sku": "x"})
    assert df_.effective_shops(od, month="2026-10") == 2
    assert df_.effective_shops(od, month="2026-10", by="district_code").to_dict() == {"a": 1,
                                                                                      "b": 1}
    from kehu_lib.metrics.sales import sales_summary

    assert sales_summary(od[od["month"] == "2026-10"])["active_shops"].iloc[0] == 2


def test_stock_to_sales():
    assert df_.stock_to_sales(16.0, 10.0) == pytest.approx(1.6)
    assert np.isnan(df_.stock_to_sales(5.0, 0.0))
    s = df_.stock_to_sales(pd.Series([4.0, 1.0]), pd.Series([2.0, 0.0]))
    assert s.iloc[0] == 2.0 and np.isnan(s.iloc[1])


def test_repeat_rate_informs():
    od = pd.DataFrame({"month": ["2026-09"] * 4 + ["2026-10"] * 3,
                       "license_id": ["a", "b", "c", "d", "a", "b", "e"], "sku": "N",
                       "qty_ordered": [1.0, 1, 1, 0, 2, 1, 1], "district_code": "x"})
    r = df_.repeat_rate(od, sku="N", month="2026-10").iloc[0]
    # a, b, c ordered in September (d ordered 0); a and b again in October; e is new
    assert (r["previous"], r["repeat"]) == (3, 2)
    assert r["repeat_rate"] == pytest.approx(2 / 3)
    assert np.isnan(df_.repeat_rate(od, sku="N", month="2026-09")["repeat_rate"].iloc[0])


def test_sku_margin_by_hand():
    prod = pd.DataFrame({"sku": ["Y", "Z"], "brand": ["云烟", "b"], "name": ["云烟(紫)", "z"],
                         "price_class": ["二类", "三类"], "wholesale_price": [85.0, 40.0],
                         "retail_price": [100.0, 50.0]})
    chk = pd.DataFrame({"license_id": ["s1", "s2", "s1"], "sku": ["Y", "Y", "Z"],
                        "retail_price": [88.0, 92.0, 50.0], "district_code": "140105"})
    m = df_.sku_margins(chk, prod).set_index("sku")
    assert m.loc["Y", "observed_price"] == 90.0
    assert m.loc["Y", "margin"] == pytest.approx(5 / 90)  # 5.6%
    assert m.loc["Y", "guided_margin"] == pytest.approx(0.15)
    assert m.loc["Y", "below_target"] and not m.loc["Z", "below_target"]
    assert m.loc["Y", "shops_below"] == 2 and m.loc["Z", "shops_below"] == 0


def test_sample_oversupplied_sku_margin_below_target_in_its_district(small_store, signals):
    from kehu_lib import loaders

    sig = signals["oversupplied_sku"]
    chk = loaders.load_price_checks(None, "2026-10", store=small_store)
    m = df_.sku_margins(chk, loaders.load_products(store=small_store), by="district_code")
    below = m[m["below_target"] & (m["checked_shops"] >= 5)]
    from kehu_lib import config

    code = config.resolve_district(sig["district"]).code
    assert ((below["sku"] == sig["sku"]) & (below["district_code"] == code)).any()
    assert not ((below["sku"] == sig["sku"]) & (below["district_code"] != code)).any()


def test_sample_repeat_rate_below_the_cumulative_one(small_store, signals):
    from kehu_lib import loaders

    sku = signals["new_product"]["sku"]
    od = loaders.load_orders(None, ("2026-09", "2026-10"), store=small_store)
    r = df_.repeat_rate(od, sku=sku, month="2026-10").iloc[0]
    assert r["previous"] > 20 and 0 < r["repeat_rate"] < 0.99


def test_findings_use_the_definitions(small_store, signals):
    from kehu_lib import findings

    inp = findings.load_inputs("万柏林区", "2026-10", store=small_store)
    res = findings.analyse(inp, findings.load_thresholds())
    npr = res["new_products"]
    row = npr[npr["sku"] == signals["new_product"]["sku"]].iloc[0]
    end = pd.Period("2026-10", "M").end_time
    assert row["week"] == df_.weeks_since_launch(row["launch_date"], end)
    assert row["active_shops"] == df_.effective_shops(inp["orders"], month="2026-10")
    rep = df_.repeat_rate(inp["orders"], sku=row["sku"], month="2026-10", by="district_code")
    assert row["repeat_rate"] == pytest.approx(rep["repeat_rate"].iloc[0])
    text = findings.compose(res)
    line = text.loc[text["sku"] == row["sku"], "text"].iloc[0]
    assert f"上市{int(row['week'])}周" in line
