"""Drivers of change: contributions that add up to the total change (hand calculation) and the
planted key-brand loss of the small sample explaining 万柏林区's 同比 fall."""

import numpy as np
import pandas as pd
import pytest

from kehu_lib.metrics import drivers


def _orders():
    # district A: 1 箱 / 20,000 元 last year -> 2 箱 / 50,000 元 now
    # district B: 3 箱 / 30,000 元 last year -> 2 箱 / 20,000 元 now
    rows = [("2025-10", "A", "s1", "x", 250.0, 20000.0),
            ("2025-10", "B", "s2", "y", 750.0, 30000.0),
            ("2026-10", "A", "s1", "x", 500.0, 50000.0),
            ("2026-10", "B", "s3", "y", 500.0, 20000.0),
            ("2026-09", "A", "s1", "x", 250.0, 25000.0),
            ("2026-09", "B", "s2", "y", 250.0, 2500.0)]
    return pd.DataFrame(rows, columns=["month", "district_code", "license_id", "sku",
                                       "qty_supplied", "amount"])


def _products():
    return pd.DataFrame({"sku": ["x", "y"], "brand": ["甲", "乙"], "price_class": ["一类", "三类"]})


def test_value_per_case_structure_and_price_effects_by_hand():
    d = drivers.decompose(_orders(), _products(), month="2026-10", dimension="district")
    v = d[d["indicator"] == "value_per_case"].set_index("group")
    # hand calculation: V0 = 50,000 / 4 = 12,500; V1 = 70,000 / 4 = 17,500
    # A: s 0.25 -> 0.5, v 20,000 -> 25,000: structure 0.25 * 22,500 = 5,625, price 0.375 * 5,000
    # B: s 0.75 -> 0.5, v 10,000 -> 10,000: structure -0.25 * 10,000 = -2,500, price 0
    assert v.loc["A", "structure_effect"] == pytest.approx(5625.0)
    assert v.loc["A", "price_effect"] == pytest.approx(1875.0)
    assert v.loc["B", "structure_effect"] == pytest.approx(-2500.0)
    assert v.loc["B", "price_effect"] == pytest.approx(0.0)
    assert v["contribution"].sum() == pytest.approx(5000.0)
    assert v["total_change"].iloc[0] == pytest.approx(5000.0)
    assert v.loc["A", "share_of_change"] == pytest.approx(1.5)


def test_additive_indicators_and_shares():
    d = drivers.decompose(_orders(), _products(), month="2026-10", dimension="brand")
    amt = d[d["indicator"] == "amount_wan"].set_index("group")
    assert amt.loc["甲", "contribution"] == pytest.approx(3.0)
    assert amt.loc["乙", "contribution"] == pytest.approx(-1.0)
    assert amt.loc["甲", "share_of_change"] == pytest.approx(1.5)
    # 拉动 by hand: contribution / total base; the pulls sum to the total's growth rate
    base = amt["total_base"].iloc[0]
    assert amt.loc["甲", "growth_pull"] == pytest.approx(3.0 / base)
    assert amt["growth_pull"].sum() == pytest.approx(
        (amt["total_current"].iloc[0] - base) / base)
    vol = d[d["indicator"] == "volume_cases"]
    assert vol["total_change"].iloc[0] == pytest.approx(0.0)
    assert vol["share_of_change"].isna().all()  # no change: no share


def test_environment_mom_base_month():
    d = drivers.decompose(_orders(), _products(), month="2026-10", comparison="mom",
                          dimension="district")
    vol = d[d["indicator"] == "volume_cases"].set_index("group")
    assert vol.loc["A", "base"] == pytest.approx(1.0) and vol.loc["B", "base"] == pytest.approx(1.0)
    assert drivers.base_month("2026-01", "yoy") == "2025-01"
    with pytest.raises(ValueError, match="comparison"):
        drivers.base_month("2026-01", "qoq")


def test_shop_groups_precedence_and_entering_group_is_all_structure():
    od = _orders()
    g = drivers.shop_groups(od, month="2026-10", base="2025-10", key_brand_loss=["s1"])
    assert dict(zip(g["license_id"], g["shop_group"])) == {
        "s1": "key_brand_loss", "s2": "stopped_shop", "s3": "new_shop"}
    d = drivers.decompose(od, month="2026-10", dimension="shop_group", groups=g)
    v = d[d["indicator"] == "value_per_case"].set_index("group")
    assert v.loc["new_shop", "price_effect"] == 0.0
    assert v.loc["stopped_shop", "price_effect"] == 0.0
    assert v["contribution"].sum() == pytest.approx(v["total_change"].iloc[0])
    vol = d[d["indicator"] == "volume_cases"].set_index("group")
    assert vol.loc["stopped_shop", "contribution"] == pytest.approx(-3.0)
    with pytest.raises(ValueError, match="shop groups"):
        drivers.decompose(od, month="2026-10", dimension="shop_group")


def test_explain_change_prefers_a_flagged_group_that_explains_most():
    od = _orders()
    g = drivers.shop_groups(od, month="2026-10", base="2025-10", key_brand_loss=["s2"])
    d = drivers.change_drivers(od, _products(), month="2026-10", comparisons=["yoy"],
                               groups={"yoy": g})
    # amount +2 万: new shop s3 +2 (share 1.0), district A +3 (share 1.5), s2 (flagged) -3
    e = drivers.explain_change(d, indicator="amount_wan")
    assert (e.iloc[0]["dimension"], e.iloc[0]["group"]) == ("shop_group", "new_shop")
    assert e.iloc[0]["share"] == pytest.approx(1.0)
    assert "key_brand_loss" not in set(e["group"])  # it moved the other way
    e = drivers.explain_change(d, indicator="amount_wan", min_share=1.2)
    assert (e.iloc[0]["dimension"], e.iloc[0]["group"]) == ("district", "A")
    first = drivers.explain_change(d, indicator="value_per_case").iloc[0]
    assert first["share"] == pytest.approx(first["contribution"] / 5000.0)
    # single-group dimensions explain nothing
    one = d.assign(group=np.where(d["dimension"] == "district", "A", d["group"]))
    assert drivers.explain_change(one[one["dimension"] == "district"]).empty


@pytest.fixture(scope="module")
def wanbailin(small_store):
    from kehu_lib import findings

    inp = findings.load_inputs("万柏林区", "2026-10", store=small_store)
    od, prod, cust = inp["orders"], inp["products"], inp["customers"]
    groups = {c: drivers.flagged_shop_groups(od, prod, cust, month="2026-10", comparison=c)
              for c in ("yoy", "mom")}
    return drivers.change_drivers(od, prod, month="2026-10", groups=groups)


def test_sample_contributions_sum_to_the_total_everywhere(wanbailin):
    err = wanbailin.groupby(["comparison", "dimension", "indicator"]).apply(
        lambda x: x["contribution"].sum() - x["total_change"].iloc[0], include_groups=False)
    assert err.abs().max() < 1e-6


def test_sample_key_brand_loss_explains_most_of_the_yoy_fall(wanbailin, signals):
    assert signals["key_brand_loss"]["district"] == "万柏林区"
    v = wanbailin[(wanbailin["comparison"] == "yoy") & (wanbailin["indicator"] == "volume_cases")
                  & (wanbailin["dimension"] == "shop_group")].set_index("group")
    total = v["total_change"].iloc[0]
    assert total < 0
    kbl = v.loc["key_brand_loss", "contribution"]
    assert kbl < 0 and kbl / total >= 0.5
    e = drivers.explain_change(wanbailin)
    top = e[e["dimension"] == "shop_group"]
    assert "key_brand_loss" in set(top["group"])
    assert (e.iloc[0]["dimension"], e.iloc[0]["group"]) == ("shop_group", "key_brand_loss")


def test_sample_lookup_of_the_dimensions_equals_the_merge(small_store):
    """decompose looks the brand, price class and shop group up by key (in Arrow) instead of
    merging the order frame with products and shop groups (:func:`drivers._prepare`): the
    groups' sums equal, to the last bit, those of the merged frame grouped by pandas as before,
    on the small sample's city ledger (with a SKU without brand and a shop without group)."""
    from kehu_lib import findings

    month = "2026-10"
    inp = findings.load_inputs(None, month, store=small_store)
    od, prod, cust = inp["orders"], inp["products"], inp["customers"]
    prod = prod.assign(brand=prod["brand"].where(prod["sku"] != prod["sku"].iloc[0]))  # 未知
    groups = drivers.flagged_shop_groups(od, prod, cust, month=month, comparison="yoy")
    groups = groups.iloc[1:]  # a shop without a group: 'other'
    for dim in ("district", "price_class", "brand", "shop_group"):
        new = drivers.decompose(od, prod, month=month, dimension=dim, groups=groups)
        col = drivers.DIMENSIONS[dim]
        df = drivers._prepare(od[od["month"].isin([month, "2025-10"])], prod, groups, [dim])
        df[col] = df[col].astype("object").fillna("未知")
        g = df.assign(_p=np.where(df["month"] == month, "cur", "base")).groupby(
            [col, "_p"])[["qty_supplied", "amount"]].sum().unstack("_p", fill_value=0.0)
        for ind, c, scale in (("volume_cases", "qty_supplied", 1 / drivers.CARTONS_PER_CASE),
                              ("amount_wan", "amount", 1e-4)):
            got = new[new["indicator"] == ind].set_index("group").sort_index()
            ref = g[c].sort_index()
            assert got.index.tolist() == ref.index.tolist()
            if scale == 1e-4:
                np.testing.assert_array_equal(got["base"].to_numpy(), (ref["base"] * scale).to_numpy())
                np.testing.assert_array_equal(got["current"].to_numpy(), (ref["cur"] * scale).to_numpy())
            else:
                np.testing.assert_array_equal(got["base"].to_numpy(),
                                              (ref["base"] / drivers.CARTONS_PER_CASE).to_numpy())
                np.testing.assert_array_equal(got["current"].to_numpy(),
                                              (ref["cur"] / drivers.CARTONS_PER_CASE).to_numpy())
    assert "未知" in set(drivers.decompose(od, prod, month=month, dimension="brand")["group"])


def test_change_drivers_coded_sums_equal_decompose_on_the_city_ledger(small_store):
    """change_drivers sums every dimension over integer codes of the SKUs, shops and districts
    (:class:`drivers._Coded`); its frame equals, to the last bit, :func:`drivers.decompose` of
    each comparison and dimension on the full ledger (the straightforward path), on the small
    sample's city ledger with a SKU without brand, a shop without group and a row without SKU,
    and with fractional amounts (the group sums' order matters there)."""
    from kehu_lib import findings

    month = "2026-10"
    inp = findings.load_inputs(None, month, store=small_store)
    od, prod, cust = inp["orders"], inp["products"], inp["customers"]
    prod = prod.assign(brand=prod["brand"].where(prod["sku"] != prod["sku"].iloc[0]))  # 未知
    od = od.assign(amount=od["amount"] + np.linspace(0.001, 0.7, len(od)))
    od.loc[od.index[3], "sku"] = pd.NA
    groups = {c: drivers.flagged_shop_groups(od, prod, cust, month=month, comparison=c)
              for c in ("yoy", "mom")}
    groups["yoy"] = groups["yoy"].iloc[1:]  # a shop without a group: 'other'
    got = drivers.change_drivers(od, prod, month=month, groups=groups)
    ref = pd.concat([drivers.decompose(od, prod, month=month, comparison=c, dimension=d,
                                       groups=groups[c])
                     for c in ("yoy", "mom")
                     for d in ("district", "price_class", "brand", "shop_group")],
                    ignore_index=True)
    pd.testing.assert_frame_equal(got, ref, check_exact=True)
    assert {"未知", "other"} <= set(got["group"])
    # a month without rows: the same (empty) contributions
    empty = drivers.change_drivers(od.iloc[0:0], prod, month=month, groups=groups)
    ref0 = pd.concat([drivers.decompose(od.iloc[0:0], prod, month=month, comparison=c,
                                        dimension=d, groups=groups[c])
                      for c in ("yoy", "mom")
                      for d in ("district", "price_class", "brand", "shop_group")],
                     ignore_index=True)
    pd.testing.assert_frame_equal(empty, ref0, check_exact=True)
