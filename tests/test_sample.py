"""The sample city: realism checks and the planted signals, measured from the store itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kehu_lib import config, loaders
from kehu_lib.calendar import pre_festival_share, spring_festival


def test_sizes_and_shape(small_store, sample_manifest):
    assert sample_manifest["size"] == "small"
    assert sample_manifest["first_month"] == "2024-05" and sample_manifest["last_month"] == "2026-10"
    c = loaders.load_customers(store=small_store)
    assert 380 <= len(c) <= 420
    assert set(c["district_code"]) == {d.code for d in config.DISTRICTS}
    assert c["license_id"].is_unique
    assert c["tier"].between(1, 30).all()
    assert (c["status"] == "歇业").sum() > 0 and c["closed_date"].notna().sum() > 0
    assert (c["opened_date"] > "2024-05-01").sum() > 0  # shops opening during the period


def test_each_shop_orders_on_one_fixed_weekday(small_store):
    o = loaders.load_orders(months=("2026-09", "2026-10"), store=small_store,
                            columns=["order_date", "license_id"])
    days = o.drop_duplicates().assign(wd=lambda d: d["order_date"].dt.day_of_week)
    assert (days.groupby("license_id")["wd"].nunique() == 1).all()
    assert days["wd"].max() <= 4


def test_spring_festival_peak_on_lunar_dates(small_store):
    o = loaders.load_orders(months=("2024-11", "2026-04"), store=small_store,
                            columns=["month", "qty_supplied"])
    vol = o.groupby("month")["qty_supplied"].sum()
    assert str(spring_festival(2025)) == "2025-01-29" and str(spring_festival(2026)) == "2026-02-17"
    # 2025: festival on 29 Jan, so January is the peak and February is the trough
    assert vol["2025-01"] > 1.25 * vol["2024-12"] and vol["2025-02"] < vol["2024-12"]
    # 2026: festival on 17 Feb, the pre-festival weeks straddle January and February
    assert pre_festival_share("2026-01") > 0.3 and pre_festival_share("2026-02") > 0.5
    assert vol["2026-01"] > vol["2025-12"]


def test_city_grows_value_rural_grows_volume(small_store):
    o = loaders.load_orders(months=["2024-10", "2026-10"], store=small_store,
                            columns=["month", "district_code", "qty_supplied", "amount"])
    kinds = {d.code: d.kind for d in config.DISTRICTS}
    o["kind"] = o["district_code"].map(kinds)
    g = o.groupby(["kind", "month"])[["qty_supplied", "amount"]].sum()
    g["per_case"] = g["amount"] / (g["qty_supplied"] / 250)
    urban, rural = g.loc["urban"], g.loc["rural"]
    assert urban.loc["2026-10", "per_case"] > 1.03 * urban.loc["2024-10", "per_case"]
    assert rural.loc["2026-10", "qty_supplied"] > 1.03 * rural.loc["2024-10", "qty_supplied"]


def test_hot_skus_are_rationed_others_not(small_store):
    o = loaders.load_orders(months="2026-10", store=small_store)
    p = loaders.load_products(store=small_store)
    rate = o.groupby("sku")[["qty_supplied", "qty_ordered"]].sum()
    rate = (rate["qty_supplied"] / rate["qty_ordered"]).rename("fill")
    hot = set(p.loc[p["name"].isin(["中华(硬)", "中华(软)", "利群(新版)", "黄鹤楼(1916)"]), "sku"])
    assert rate[rate.index.isin(hot)].max() < 0.8
    assert rate[~rate.index.isin(hot)].min() > 0.95


def test_oversupplied_sku_signal(small_store, signals):
    s = signals["oversupplied_sku"]
    p = loaders.load_products(store=small_store).set_index("sku")
    checks = loaders.load_price_checks(months=[s["month"], "2026-05"], store=small_store)
    checks = checks[checks["sku"] == s["sku"]]
    checks["index"] = checks["retail_price"] / p.loc[s["sku"], "retail_price"]
    code = config.resolve_district(s["district"]).code
    idx = checks.groupby(["month", checks["district_code"] == code])["index"].mean()
    assert idx[(s["month"], True)] < 0.93
    assert idx[("2026-05", True)] > 0.97 and idx[(s["month"], False)] > 0.97


def test_retail_prices_mostly_at_or_below_guided(small_store):
    checks = loaders.load_price_checks(months="2026-06", store=small_store)
    p = loaders.load_products(store=small_store).set_index("sku")
    level = checks["retail_price"] / checks["sku"].map(p["retail_price"])
    assert 0.95 < level.median() < 1.0


def test_surveys_panel_and_dont_know(small_store):
    r = loaders.load_retailer_survey(months="2026-10", store=small_store)
    assert set(r["item"]) == {f"R{i:02d}" for i in range(1, 11)}
    assert r["dont_know"].sum() > 0 and (r["answer"].isna() & ~r["dont_know"]).sum() > 0
    assert r.loc[r["dont_know"], "answer"].isna().all()
    per_district = r.groupby("district_code")["license_id"].nunique()
    d = loaders.load_districts(store=small_store).set_index("district_code")["panel_size"]
    assert (per_district <= d.loc[per_district.index]).all() and per_district.sum() > 250
    cons = loaders.load_consumer_survey(months="2026-10", store=small_store)
    assert set(cons["consumer_class"]) == {"A", "B", "C", "D"}


def test_no_personal_data_in_the_sample(small_store):
    # shop names (店名) are business names and are kept; owner names and phones are not there
    from kehu_lib.schema import PERSONAL_COLUMNS

    for load in (loaders.load_customers, loaders.load_orders, loaders.load_visits):
        cols = [c for c in load(store=small_store).columns if c != "shop_name"]
        assert not any(w in " ".join(map(str, cols)) for w in ("name", "phone", "姓名", "电话"))
        assert not set(cols) & set(PERSONAL_COLUMNS)


def test_shops_carry_business_names(small_store):
    from kehu_lib.sample.population import FORMAT_SUFFIX

    c = loaders.load_customers(store=small_store)
    assert c["shop_name"].notna().all() and c["shop_name"].str.len().between(5, 12).all()
    # the name ends in a word fitting the shop's business format (便利店, 超市, 烟酒店 ...)
    fits = [any(n.endswith(s) for s in FORMAT_SUFFIX[f]) for n, f in zip(c["shop_name"], c["business_format"])]
    assert all(fits)
    assert c["shop_name"].nunique() > 0.9 * len(c)


def test_sample_is_deterministic(tmp_path):
    from kehu_lib.sample.build import build_sample
    from kehu_lib.sample import build as b

    sizes = dict(b.SIZES)
    try:
        b.SIZES["tiny"] = (60, 3, 0.1)
        m1 = build_sample("tiny", 3, tmp_path / "a", progress=False)
        m2 = build_sample("tiny", 3, tmp_path / "b", progress=False)
        m3 = build_sample("tiny", 4, tmp_path / "c", progress=False)
    finally:
        b.SIZES.clear()
        b.SIZES.update(sizes)
    a = loaders.load_orders(store=tmp_path / "a").sort_values(["order_date", "license_id", "sku"])
    bb = loaders.load_orders(store=tmp_path / "b").sort_values(["order_date", "license_id", "sku"])
    pd.testing.assert_frame_equal(a.reset_index(drop=True), bb.reset_index(drop=True))
    assert m1["rows"] == m2["rows"] and m1["rows"] != m3["rows"]


def test_unknown_size_is_an_error(tmp_path):
    from kehu_lib.sample import build_sample

    with pytest.raises(ValueError, match="unknown sample size 'huge'; expected one of small, default, city"):
        build_sample("huge", 1, tmp_path / "x")


def test_new_product_spreads_in_city_and_stalls_in_rural(small_store, signals):
    s = signals["new_product"]
    o = loaders.load_orders(months="2026-10", store=small_store, columns=["district_code", "license_id", "sku"])
    active = o.groupby("district_code")["license_id"].nunique()
    buyers = o[o["sku"] == s["sku"]].groupby("district_code")["license_id"].nunique()
    reach = (buyers.reindex(active.index, fill_value=0) / active).rename(
        lambda c: config.DISTRICT_BY_CODE[c].name)
    assert all(reach[d] < 0.12 for d in s["stalled_districts"])
    assert all(reach[d] > 0.2 for d in s["fast_districts"])
    assert min(reach[d] for d in s["fast_districts"]) > 3 * max(reach[d] for d in s["stalled_districts"])


def test_key_brand_loss_group(small_store, sample_manifest, signals):
    group = set(sample_manifest["planted"]["key_brand_loss_shops"])
    code = config.resolve_district(signals["key_brand_loss"]["district"]).code
    o = loaders.load_orders(code, ["2026-04", "2026-05", "2026-10"], store=small_store)
    p = loaders.load_products(store=small_store).set_index("sku")
    o["key"] = o["sku"].map(p["key_brand"]).astype(bool)
    o["grp"] = o["license_id"].isin(group)
    o["period"] = np.where(o["month"] == "2026-10", "after", "before")
    v = o.groupby(["grp", "key", "period"])["qty_supplied"].sum().unstack()
    v["before"] /= 2  # two months before
    change = v["after"] / v["before"]
    assert len(group) >= 5
    assert 0.85 < change[(False, True)] < 1.3   # peers' key brands: season and growth only
    assert change[(True, True)] / change[(False, True)] < 0.65  # the group's: about -50% vs peers
    assert 0.8 < change[(True, False)] / change[(False, False)] < 1.25  # their other brands as peers'
