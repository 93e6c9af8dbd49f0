"""Customer metrics on small hand-made frames (hand arithmetic in comments; the leave-one-out
median is checked against numpy's median of the remaining values)."""

import numpy as np
import pandas as pd
import pytest

from kehu_lib.metrics import customers as cm

PRODUCTS = pd.DataFrame({"sku": ["A", "C"], "wholesale_price": [100.0, 40.0],
                         "retail_price": [120.0, 50.0], "key_brand": [True, False]})
CUSTOMERS = pd.DataFrame({
    "license_id": ["s1", "s2", "s3", "s4"], "district_code": ["140109"] * 4,
    "business_format": ["食杂店", "食杂店", "食杂店", "超市"], "trade_area": ["居民区"] * 4,
    "urban_rural": ["城镇", "城镇", "乡村", "城镇"], "tier": [5, 5, 12, 30],
    "opened_date": pd.to_datetime(["2020-01-01", "2020-01-01", "2020-01-01", "2026-11-01"]),
    "closed_date": pd.to_datetime([None, None, None, None]),
})


def orders(rows, month="2026-10"):
    df = pd.DataFrame(rows, columns=["license_id", "sku", "qty_supplied", "amount"])
    df.insert(0, "month", month)
    return df


OD = orders([("s1", "A", 10.0, 1000.0), ("s1", "C", 10.0, 400.0), ("s2", "C", 5.0, 200.0)])


def test_shop_indicators_hand_computed_and_zero_volume_shop():
    s = cm.shop_indicators(OD, PRODUCTS, CUSTOMERS, month="2026-10").set_index("license_id")
    assert list(s.index) == ["s1", "s2", "s3"]  # s4 opens after the month; s3 did not order
    assert s.at["s1", "gross_profit"] == 10 * 20 + 10 * 10  # 300 元
    assert s.at["s1", "margin"] == pytest.approx(300 / 1700)
    assert s.at["s1", "value_per_carton"] == pytest.approx(70.0)  # 1400 元 / 20 条
    assert s.at["s1", "key_brand_volume"] == 10 and s.at["s1", "assortment_width"] == 2
    assert s.at["s3", "volume"] == 0 and np.isnan(s.at["s3", "value_per_carton"])
    assert s.at["s3", "assortment_width"] == 0 and s.at["s3", "business_format"] == "食杂店"


def test_shop_indicators_observed_prices():
    checks = pd.DataFrame({"license_id": ["s1"], "sku": ["A"], "retail_price": [105.0]})
    s = cm.shop_indicators(OD, PRODUCTS, month="2026-10", price_checks=checks).set_index("license_id")
    assert s.at["s1", "gross_profit"] == 10 * 5 + 10 * 10  # A sold at 105 observed


def test_abc_cumulative_and_count():
    shops = pd.DataFrame({"license_id": list("abcdefghij"),
                          "amount": [50.0, 20, 10, 5, 5, 4, 3, 2, 1, 0]})
    c = cm.abc_classes(shops, method="cumulative").set_index("license_id")
    # cumulative share before each: a 0, b .5, c .7, d .8, e .85, f .9 ...
    assert c["abc_class"].tolist() == ["A", "A", "B", "B", "B", "C", "C", "C", "C", "C"]
    assert c.at["a", "cum_share"] == 0.5 and c.at["j", "abc_class"] == "C"
    n = cm.abc_classes(shops, method="count")["abc_class"].value_counts()
    assert (n["A"], n["B"], n["C"]) == (2, 4, 4)  # 1:2:2 of 10 shops
    summ = cm.abc_summary(c.reset_index()).set_index("abc_class")
    assert summ.at["A", "share_value"] == pytest.approx(0.7)
    one = cm.abc_classes(shops.head(1), method="count")
    assert one["abc_class"].tolist() == ["A"]
    assert cm.abc_classes(shops.head(0)).empty
    with pytest.raises(ValueError, match="method must be 'cumulative' or 'count', got 'x'"):
        cm.abc_classes(shops, method="x")


def test_class_migration():
    prev = pd.DataFrame({"license_id": ["a", "b", "c"], "abc_class": ["A", "B", "C"]})
    now = pd.DataFrame({"license_id": ["a", "b", "d"], "abc_class": ["B", "A", "C"]})
    m = cm.class_migration(now, prev).set_index("license_id")["move"].to_dict()
    assert m == {"a": "下降", "b": "上升", "c": "退出", "d": "新进"}


def test_tier_distribution_and_segments():
    shops = cm.shop_indicators(OD, PRODUCTS, CUSTOMERS, month="2026-10")
    t = cm.tier_distribution(shops).set_index("tier_band")
    assert t.at["1-5档", "shops"] == 2 and t.at["11-15档", "share"] == pytest.approx(1 / 3)
    assert t.at["1-5档", "volume_per_shop_cases"] == pytest.approx(25 / 2 / 250)
    seg = cm.segment_summary(shops, by="urban_rural").set_index("urban_rural")
    assert seg.at["城镇", "volume_per_shop"] == 12.5 and seg.at["乡村", "ordering_shops"] == 0
    assert seg.at["城镇", "value_per_case"] == pytest.approx(1600 / 25 * 250)
    assert np.isnan(seg.at["乡村", "value_per_carton"])


def test_peer_comparison_leave_one_out_and_fallback():
    df = pd.DataFrame({"id": list("abcdef"), "fmt": ["x"] * 4 + ["y"] * 2, "area": ["r"] * 6,
                       "v": [10.0, 20, 30, 100, 5, np.nan]})
    out = cm.peer_comparison(df, value="v", peer_keys=("fmt", "area"), min_peers=3).set_index("id")
    # 'a' peers b, c, d: median 30 (numpy: np.median([20, 30, 100]))
    assert out.at["a", "peer_median"] == np.median([20, 30, 100])
    assert out.at["a", "gap_ratio"] == pytest.approx(10 / 30 - 1)
    assert out.at["a", "peer_level"] == "fmt+area" and out.at["a", "peer_n"] == 3
    # 'e' has one peer with a value in (y, r) and in (y): falls back to all rows
    assert out.at["e", "peer_level"] == "全部"
    assert out.at["e", "peer_median"] == np.median([10, 20, 30, 100])
    assert out.at["f", "peer_median"] == np.median([10, 20, 30, 100, 5])
    low = cm.below_peers(out.reset_index(), n=2)
    assert low["id"].tolist()[0] == "e"  # 5 vs 25: -80%
    with pytest.raises(KeyError, match="no indicator column 'w'"):
        cm.peer_comparison(df, value="w", peer_keys=("fmt",))
    with pytest.raises(KeyError, match=r"peer key column\(s\) \['tier'\] not in the data"):
        cm.peer_comparison(df, value="v", peer_keys=("tier",))


def test_loo_median_matches_numpy():
    rng = np.random.default_rng(3)
    for n in range(7):
        v = rng.normal(size=n)
        ref = [np.median(np.delete(v, i)) if n > 1 else np.nan for i in range(n)]
        np.testing.assert_allclose(cm._loo_median(v), ref)


def test_retailer_margin():
    shops = pd.DataFrame({"license_id": ["a", "b", "c"], "retail_value": [100.0, 100.0, 0.0],
                          "gross_profit": [15.0, 6.0, 0.0]})
    shops["margin"] = shops["gross_profit"] / shops["retail_value"].where(shops["retail_value"] > 0)
    s = cm.margin_summary(shops).iloc[0]
    assert s["shops"] == 2 and s["share_reaching"] == 0.5  # c (no sales) left out
    assert s["largest_gap"] == pytest.approx(0.04)
    assert cm.margin_summary(shops.iloc[2:]).iloc[0]["shops"] == 0


def test_shop_changes():
    od = pd.concat([orders([("a", "A", 1.0, 1.0), ("b", "A", 1.0, 1.0)], "2026-09"),
                    orders([("a", "A", 1.0, 1.0), ("c", "A", 1.0, 1.0), ("d", "A", 0.0, 0.0)])])
    ch = cm.shop_changes(od, month="2026-10").set_index("license_id")
    assert ch["change"].to_dict() == {"b": "停止订货", "c": "新增"}
    assert ch.at["b", "last_month"] == "2026-09"


def test_key_brand_change_relative_to_other_brands():
    rows = []
    for m in ("2026-04", "2026-05", "2026-06"):  # baseline months for 2026-10 (lag 4, 3 months)
        rows += [(m, "s1", "A", 60.0), (m, "s1", "C", 100.0), (m, "s2", "A", 10.0)]
    for m in ("2026-09", "2026-10"):
        rows += [(m, "s1", "A", 15.0), (m, "s1", "C", 50.0)]
    od = pd.DataFrame(rows, columns=["month", "license_id", "sku", "qty_supplied"])
    k = cm.key_brand_change(od, PRODUCTS, month="2026-10").set_index("license_id")
    assert list(k.index) == ["s1"]  # s2's baseline 10 条/月 < 40
    # key 60 -> 15 (x0.25), other brands 100 -> 50 (x0.5): relative ratio 0.5
    assert k.at["s1", "change_ratio"] == pytest.approx(0.5)
    raw = cm.key_brand_change(od, PRODUCTS, month="2026-10", relative=False)
    assert raw["change_ratio"].iloc[0] == pytest.approx(0.25)
    assert cm.key_brand_change(od.head(0), PRODUCTS, month="2026-10").empty


def test_abc_overview_four_views():
    shops = pd.DataFrame({"license_id": [f"s{i}" for i in range(5)],
                          "amount": [500.0, 200.0, 150.0, 100.0, 50.0],
                          "gross_profit": [10.0, 60.0, 20.0, 5.0, 5.0]})
    out = cm.abc_overview(shops)
    assert list(out["view"].unique()) == ["销售额·累计占比70%/90%", "销售额·户数1:2:2",
                                          "毛利额·累计占比70%/90%", "毛利额·户数1:2:2"]
    count = out[out["view"] == "销售额·户数1:2:2"].set_index("abc_class")
    assert list(count["shops"]) == [1, 2, 2]  # 20% / 40% / 40% of 5 shops
    assert count.at["A", "share_value"] == pytest.approx(0.5)  # 500 of 1,000 元
    gp = out[out["view"] == "毛利额·户数1:2:2"].set_index("abc_class")
    assert gp.at["A", "share_value"] == pytest.approx(0.6)  # s1: 60 of 100
    for _, g in out.groupby("view"):
        assert g["shops"].sum() == 5 and g["share_value"].sum() == pytest.approx(1.0)


def _peer_reference(df, value, levels, min_peers, include_self):
    """Row by row with numpy.median over the peers' finite values (the definition)."""
    med, n, lvl = [], [], []
    for i in range(len(df)):
        for level in levels:
            same = np.ones(len(df), bool)
            for k in level:
                same &= (df[k] == df[k].iloc[i]).fillna(df[k].isna() & pd.isna(df[k].iloc[i]))\
                    .to_numpy(bool)
            if not include_self:
                same[i] = False
            v = df[value].to_numpy()[same]
            v = v[np.isfinite(v)]
            peers = len(v)  # with include_self the row itself counts (as before)
            if peers >= min_peers:
                med.append(np.median(v) if len(v) else np.nan)
                n.append(peers)
                lvl.append("+".join(level) if level else "全部")
                break
        else:
            med.append(np.nan), n.append(0), lvl.append(None)
    return med, n, lvl


@pytest.mark.parametrize("include_self", [False, True])
def test_peer_comparison_matches_a_row_by_row_numpy_median(include_self):
    """All groups at once (vectorised) against numpy.median of each row's peers, with ties,
    missing and infinite values, missing keys and the fallback levels."""
    rng = np.random.default_rng(7)
    n = 120
    df = pd.DataFrame({"fmt": rng.choice(["x", "y", "z"], n),
                       "area": pd.array(rng.choice(["r", "s", None], n), dtype="string"),
                       "tier": rng.integers(1, 4, n),
                       "v": rng.choice([1.0, 2.0, 2.0, 3.5, np.nan, np.inf, 0.0, 7.25, -1.0], n)})
    levels = [["fmt", "area", "tier"], ["fmt"], []]
    for mp in (1, 3, 6):
        out = cm.peer_comparison(df, value="v", peer_keys=levels[0], fallback=levels[1:],
                                 min_peers=mp, include_self=include_self)
        med, cnt, lvl = _peer_reference(df, "v", levels, mp, include_self)
        np.testing.assert_array_equal(out["peer_median"].to_numpy(), np.array(med, float))
        assert out["peer_n"].tolist() == cnt
        assert [None if pd.isna(x) else x for x in out["peer_level"]] == lvl


def test_shop_changes_equals_the_reference_on_the_sample(small_store):
    """shop_changes takes the last order month of the listed shops only; the same frame as
    the straightforward reference (the last month of every buying shop, mapped), on the small
    sample's city ledger for the report month and the month before."""
    from kehu_lib import findings

    od = findings.load_inputs(None, "2026-10", store=small_store)["orders"]
    for month in ("2026-10", "2026-09"):
        got = cm.shop_changes(od, month=month)
        buying = od[od["qty_supplied"] > 0]
        p = pd.Period(month, freq="M")
        now = set(buying.loc[buying["month"] == month, "license_id"])
        prev = set(buying.loc[buying["month"] == str(p - 1), "license_id"])
        window = set(buying.loc[buying["month"].isin([str(p - i) for i in (1, 2, 3)]),
                                "license_id"])
        ids = sorted(prev - now) + sorted(now - window)
        last = buying.groupby("license_id")["month"].max()
        ref = pd.DataFrame({"license_id": pd.Series(ids, dtype="string"),
                            "change": ["停止订货"] * len(prev - now) + ["新增"] * len(now - window),
                            "last_month": pd.Series([last[i] for i in ids], dtype="string")})
        assert len(ref) > 0
        pd.testing.assert_frame_equal(got, ref, check_exact=True)
