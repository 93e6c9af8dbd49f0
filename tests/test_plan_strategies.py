"""Tests of kehu_lib.plan.strategies: the strategy library and the state → strategy mapping."""

from __future__ import annotations

import pandas as pd
import pytest

from kehu_lib.plan import strategies as stg


@pytest.fixture(scope="module")
def lib():
    return stg.load_library()


def test_library_tables(lib):
    # DOMAIN.md: 17 codes (KZB-01/03 not in the seed), 8 indicators, 20 direct needs
    assert len(lib.strategies) == 17 and "KZB-01" not in set(lib.strategies["code"])
    assert lib.potential["indicator"].nunique() == 8
    assert lib.direct["need"].nunique() == 20
    assert lib.name("KZB-13") == "合理库存建议"
    assert list(lib.potential.loc[lib.potential["indicator"] == "value_per_carton", "code"]) == [
        "KZB-11", "KZB-14", "KZB-17"]
    assert set(lib.answers("KZB-17")) == {"value_per_carton", "key_brand_volume",
                                          "brand_cooperation"}
    assert list(lib.direct.loc[lib.direct["need"] == "库存合理性", "code"]) == ["KZB-02", "KZB-13"]
    assert lib.strategies.set_index("code").loc["KZB-02", "routine"]


def test_bad_library_messages(tmp_path):
    bad = tmp_path / "lib.yaml"
    bad.write_text("strategies:\n  KZB-13: {name: 合理库存建议}\npotential_needs:\n"
                   "  - {indicator: volume, strategies: [KZB-99]}\ndirect_needs: []\n",
                   encoding="utf-8")
    with pytest.raises(ValueError, match="KZB-99 is not defined"):
        stg.load_library(bad)
    bad.write_text("strategies:\n  KZB-13: {name: x}\npotential_needs:\n"
                   "  - {indicator: mood, strategies: [KZB-13]}\ndirect_needs: []\n",
                   encoding="utf-8")
    with pytest.raises(ValueError, match="unknown indicator 'mood'"):
        stg.load_library(bad)
    bad.write_text("strategies:\n  K13: {name: x}\npotential_needs: []\ndirect_needs: []\n",
                   encoding="utf-8")
    with pytest.raises(ValueError, match="must look like 'KZB-13'"):
        stg.load_library(bad)
    bad.write_text("strategies: {}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing section 'potential_needs'"):
        stg.load_library(bad)


def _states(rows):
    return pd.DataFrame([{"license_id": lic, "district_code": "140105", "manager_id": "KM0104",
                          "indicator": i, "indicator_zh": i, "flagged": f, "severity": s}
                         for lic, i, f, s in rows])


def test_assign_strategies_union_and_order(lib):
    st = _states([("A", "order_rationality", True, 0.9), ("A", "recommendation", True, 0.5),
                  ("A", "volume", False, 0.0), ("B", "volume", False, 0.0)])
    a = stg.assign_strategies(st, lib)
    # order rationality (KZB-13, KZB-12) first; recommendation adds KZB-11 (KZB-12 only once)
    assert list(a["code"]) == ["KZB-13", "KZB-12", "KZB-11"]
    assert list(a["order"]) == [1, 2, 3]
    assert a.set_index("code").loc["KZB-12", "reasons"] == "订单合理性、推荐能力"
    assert "B" not in set(a["license_id"])
    assert stg.assign_strategies(st[st["license_id"] == "B"], lib).empty


def test_parse_codes():
    v = pd.DataFrame({"visit_date": pd.to_datetime(["2026-09-01", "2026-09-08", "2026-09-15"]),
                      "month": "2026-09", "district_code": "140105", "manager_id": "KM0104",
                      "license_id": ["A", "A", "B"],
                      "kzb_codes": pd.array(["KZB-02;KZB-14", None, "KZB-09"], dtype="string")})
    p = stg.parse_codes(v)
    assert list(zip(p["license_id"], p["code"])) == [("A", "KZB-02"), ("A", "KZB-14"),
                                                     ("B", "KZB-09")]


def test_strategy_summary(lib):
    st = _states([("A", "assortment_width", True, 0.3), ("B", "assortment_width", True, 0.2)])
    a = stg.assign_strategies(st, lib)
    s = stg.strategy_summary(a, lib, pd.DataFrame({"license_id": ["A"]})).set_index("code")
    assert s.loc["KZB-14", "shops"] == 2 and s.loc["KZB-14", "key_shops"] == 1


# ------------------------------------------------------------------ the sample city's signals

@pytest.fixture(scope="module")
def plan_city(small_store):
    from kehu_lib.plan import data, monthly

    return monthly.build(data.load_inputs("2026-10", store=small_store), store=small_store)


def test_oversupplied_shops_get_kzb13(plan_city, signals):
    spec = signals["oversupplied_sku"]
    v = plan_city["values"]
    shops = set(v.loc[(v["district_code"] == "140105") & (v["overstock_sku"] == spec["sku"]),
                      "license_id"])
    assert len(shops) >= 20
    got = plan_city["strategies"]
    with13 = set(got.loc[got["code"] == "KZB-13", "license_id"])
    assert shops <= with13
    # and KZB-13 goes mostly to 小店区 (the planted push), not spread over the city
    share_xd = got.loc[got["code"] == "KZB-13", "district_code"].eq("140105").mean()
    assert share_xd > 0.85


def test_key_brand_loss_shops_get_kzb17(plan_city, sample_manifest):
    loss = set(sample_manifest["planted"]["key_brand_loss_shops"])
    v = plan_city["values"]
    judged = loss & set(v.loc[v["key_brand_change"].notna(), "license_id"])
    got = plan_city["strategies"]
    assert judged <= set(got.loc[got["code"] == "KZB-17", "license_id"])
    assert len(judged) >= 0.8 * len(loss)
