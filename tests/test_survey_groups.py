"""Tests of kehu_lib.metrics.survey_groups: tier groups, Kruskal-Wallis, least satisfied, sales link."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kehu_lib.metrics import survey_groups as sg

SCORE = {1: 0.0, 2: 30.0, 3: 60.0, 4: 80.0, 5: 100.0}


def consumers(spec) -> pd.DataFrame:
    rows, k = [], 0
    for (cls, item), answers in spec.items():
        for a in answers:
            k += 1
            rows.append(("2026-10", "140109", f"C{k:05d}", cls, item, a, a is None))
    df = pd.DataFrame(rows, columns=["month", "district_code", "respondent_id", "consumer_class",
                                     "item", "answer", "dont_know"])
    df["answer"] = pd.array(df["answer"].tolist(), dtype="Int64")
    df["dont_know"] = df["dont_know"].astype("boolean")
    return df


SPEC = {("A", "C02"): [2, 3, 2, 1, 3, 2, None], ("B", "C02"): [4, 3, 4, 5, 3],
        ("C", "C02"): [4, 5, 4, 4, 3, 5], ("D", "C02"): [4, 4, 3, 5],
        ("A", "C03"): [4, 5, 4, 4], ("B", "C03"): [4, 4, 4, 3], ("C", "C03"): [3, 4, 4, 4],
        ("D", "C03"): [2, 3, 2, 3]}


def test_tier_groups():
    t = sg.tier_group(pd.Series([1, 10, 11, 20, 21, 30, None]))
    assert t.tolist()[:6] == ["1-10档", "1-10档", "11-20档", "11-20档", "21-30档", "21-30档"]
    assert pd.isna(t.iloc[6])


def test_kruskal_matches_scipy():
    out = sg.group_comparison(consumers(SPEC)).set_index("item")
    for item in ("C02", "C03"):
        samples = [[SCORE[a] for a in SPEC[(c, item)] if a is not None] for c in "ABCD"]
        h, p = stats.kruskal(*samples)  # scipy, tie-corrected
        assert out.loc[item, "h"] == pytest.approx(h) and out.loc[item, "p_value"] == pytest.approx(p)
        n = sum(map(len, samples))
        assert out.loc[item, "n"] == n and out.loc[item, "epsilon_sq"] == pytest.approx(h / (n - 1))
    # Holm over the two items by hand
    ps = out["p_value"].sort_values()
    assert out.loc[ps.index[0], "p_adj"] == pytest.approx(min(1, ps.iloc[0] * 2))
    assert out.loc["C02", "groups"] == 4



@pytest.mark.parametrize("method", ["holm", "fdr_bh", "sidak"])
def test_kruskal_p_adj_is_statsmodels_multipletests(method):
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(4)
    spec = {(c, f"C{i:02d}"): rng.integers(1 + (c == "A") * (i % 3), 6, 15).tolist()
            for i in range(1, 13) for c in "ABCD"}
    spec.update({(c, "C13"): [4, 4, 4] for c in "AB"})  # no variance: no p, left out
    out = sg.group_comparison(consumers(spec), method=method)
    ok = out["p_value"].notna()
    assert (~ok).sum() == 1
    want = multipletests(out.loc[ok, "p_value"].to_numpy(), method=method)[1]
    np.testing.assert_allclose(out.loc[ok, "p_adj"].to_numpy(), want, rtol=0, atol=1e-15)
    assert out.loc[~ok, "p_adj"].isna().all()

def test_kruskal_single_group_gives_nan():
    out = sg.group_comparison(consumers({("A", "C01"): [3, 4, 5]}))
    assert np.isnan(out["h"].iloc[0]) and not out["significant"].iloc[0]
    assert out["status"].iloc[0] == "insufficient_sample"
    flat = sg.group_comparison(consumers({("A", "C01"): [4, 4], ("B", "C01"): [4, 4, 4]}))
    assert flat["status"].iloc[0] == "no_variance" and np.isnan(flat["p_value"].iloc[0])
    small = sg.group_comparison(consumers(SPEC)).set_index("item")
    assert small.loc["C02", "status"] == "small_sample" and small.loc["C02", "min_group_n"] == 4


def test_missing_group_column_is_named():
    with pytest.raises(ValueError, match=r"column\(s\) \['price_class'\] not in the survey data; "
                                         r"available columns are \['month', 'district_code', "
                                         r"'respondent_id', 'consumer_class'"):
        sg.group_comparison(consumers(SPEC), group="price_class")
    with pytest.raises(ValueError, match=r"\['tier_group'\] not in the survey data"):
        sg.least_satisfied(consumers(SPEC), by="tier_group")


def test_least_satisfied_by_class():
    ls = sg.least_satisfied(consumers(SPEC)).set_index("consumer_class")
    # class A: C02 mean (30+60+30+0+60+30)/6 = 35 < C03 (80+100+80+80)/4 = 85
    assert ls.loc["A", "item"] == "C02" and ls.loc["A", "mean"] == pytest.approx(35.0)
    assert ls.loc["A", "gap"] == pytest.approx(35.0 - (35.0 + 85.0) / 2)
    assert ls.loc["D", "item"] == "C03"
    # A-class has 6 answers on C02: ranked, but flagged as a small sample
    assert ls.loc["A", "status"] == "small_sample" and ls.loc["A", "n_valid"] == 6
    big = sg.least_satisfied(consumers(SPEC), min_n_flag=5).set_index("consumer_class")
    assert big.loc["A", "status"] == "ok" and big.loc["D", "status"] == "small_sample"


def test_volume_change_and_spearman_link():
    orders = pd.DataFrame({
        "license_id": ["a", "a", "b", "b", "c", "d"],
        "month": ["2026-10", "2025-10", "2026-09", "2025-09", "2026-10", "2025-08"],
        "qty_ordered": [120.0, 100.0, 50.0, 100.0, 30.0, 10.0]})
    v = sg.volume_change(orders, month="2026-10", window=3).set_index("license_id")
    assert v.loc["a", "change"] == pytest.approx(0.2) and v.loc["b", "change"] == pytest.approx(-0.5)
    assert np.isnan(v.loc["c", "change"]) and v.loc["d", "volume"] == 0
    shops = pd.DataFrame({"license_id": list("abcdefgh"),
                          "index": [90, 40, 70, 60, 80, 55, 65, 75.0]})
    vols = pd.DataFrame({"license_id": list("abcdefgh"),
                         "volume": [300, 100, 200, 150, 260, 90, 180, 210.0],
                         "change": [0.1, -0.3, 0.0, -0.1, 0.2, -0.2, np.nan, 0.05]})
    res = sg.satisfaction_sales_link(shops, vols).iloc[0]
    ref = stats.spearmanr(shops["index"], vols["volume"])  # scipy
    assert res["rho_volume"] == pytest.approx(ref.statistic)
    assert res["p_volume"] == pytest.approx(ref.pvalue)
    ok = vols["change"].notna()
    ref2 = stats.spearmanr(shops.loc[ok, "index"], vols.loc[ok, "change"])  # scipy, NaN dropped
    assert res["rho_change"] == pytest.approx(ref2.statistic)
    assert res["status"] == "small_sample"  # 8 shops
    few = sg.satisfaction_sales_link(shops.iloc[:2], vols).iloc[0]
    assert few["status"] == "insufficient_sample" and np.isnan(few["rho_volume"])


def test_attach_shop_attributes():
    survey = pd.DataFrame({"license_id": ["a", "b"], "item": "R01"})
    cust = pd.DataFrame({"license_id": ["a", "b"], "business_format": ["超市", "食杂店"],
                         "urban_rural": ["城镇", "乡村"], "tier": [5, 25], "manager_id": "KM0001"})
    out = sg.attach_shop_attributes(survey, cust)
    assert out["tier_group"].tolist() == ["1-10档", "21-30档"]
