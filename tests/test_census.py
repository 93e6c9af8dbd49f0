"""Tests of kehu_lib.metrics.census: distributions, wave comparison, post-stratification."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.weightstats import DescrStatsW

from kehu_lib.metrics import census as ce


@pytest.fixture
def census():
    rows = []
    # wave 2025-04: district 140109 has 6 食杂店 + 2 超市; wave 2026-04: 5 食杂店 + 3 超市 + 2 便利店
    for wave, fmts in (("2025-04", ["食杂店"] * 6 + ["超市"] * 2),
                       ("2026-04", ["食杂店"] * 5 + ["超市"] * 3 + ["便利店"] * 2)):
        for i, f in enumerate(fmts):
            rows.append((wave, "140109", f"{i:012d}", f, "城镇" if i % 2 else "乡村"))
    return pd.DataFrame(rows, columns=["wave", "district_code", "license_id", "business_format",
                                       "urban_rural"])


def test_distribution_by_hand(census):
    d = ce.census_distribution(census, var="business_format").set_index(["wave", "category"])
    assert d.loc[("2025-04", "食杂店"), "shops"] == 6
    assert d.loc[("2025-04", "食杂店"), "share"] == pytest.approx(0.75)
    assert d.loc[("2026-04", "便利店"), "share"] == pytest.approx(0.2)
    with pytest.raises(ValueError, match="census has no column 'colour'"):
        ce.census_distribution(census, var="colour")


def test_compare_with_previous_wave(census):
    c = ce.census_compare(census, var="business_format", wave="2026-04").set_index("category")
    assert c.attrs["prev_wave"] == "2025-04"
    assert c.loc["食杂店", "change_pp"] == pytest.approx(0.5 - 0.75)
    # a category new in this census: previous count 0
    assert (c.loc["便利店", "shops_prev"], c.loc["便利店", "share_prev"]) == (0, 0.0)
    first = ce.census_compare(census, var="business_format", wave="2025-04")
    assert first["change_pp"].isna().all()
    with pytest.raises(ValueError, match="census wave '2027-01' not in the data"):
        ce.census_compare(census, var="business_format", wave="2027-01")


def test_poststrat_weights_and_weighted_mean(census):
    pop = census[census["wave"] == "2026-04"]  # 5 乡村 / 5 城镇 by construction (i % 2)
    sample = pd.DataFrame({"district_code": "140109", "license_id": ["a", "b", "c", "d"],
                           "urban_rural": ["城镇", "城镇", "城镇", "乡村"]})
    w = ce.poststrat_weights(sample, pop, strata=["urban_rural"]).set_index("license_id")
    # by hand: 城镇 population share 0.5 / sample share 0.75 = 2/3; 乡村 0.5 / 0.25 = 2
    assert w.loc["a", "weight"] == pytest.approx(2 / 3) and w.loc["d", "weight"] == pytest.approx(2)
    assert w["weight"].mean() == pytest.approx(1.0)
    scored = pd.DataFrame({"district_code": "140109", "license_id": ["a", "b", "c", "d"],
                           "item": "R01", "score": [80.0, 100.0, 60.0, 30.0]})
    res = ce.weighted_scores(scored, w.reset_index()).iloc[0]
    ref = DescrStatsW([80, 100, 60, 30], weights=[2 / 3, 2 / 3, 2 / 3, 2])  # statsmodels
    assert res["mean_weighted"] == pytest.approx(ref.mean)
    assert res["n_eff"] == pytest.approx((2 / 3 * 3 + 2) ** 2 / (3 * 4 / 9 + 4))  # Kish by hand


def test_poststrat_reports_unrepresented_strata(census):
    pop = census[census["wave"] == "2026-04"]
    sample = pd.DataFrame({"district_code": "140109", "license_id": ["a"], "urban_rural": ["城镇"]})
    w = ce.poststrat_weights(sample, pop, strata=["urban_rural"])
    assert w.attrs["unrepresented"] == [("140109", "乡村")]
    assert w["weight"].iloc[0] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="stratum column 'tier' must be in both"):
        ce.poststrat_weights(sample, pop, strata=["tier"])
    assert np.isfinite(w["weight"]).all()


def test_poststrat_reports_shops_without_a_stratum_weight(census):
    pop = census[census["wave"] == "2026-04"]
    sample = pd.DataFrame({"district_code": "140109", "license_id": ["a", "b", "c", "d"],
                           "urban_rural": ["城镇", "乡村", "郊区", None]})
    w = ce.poststrat_weights(sample, pop, strata=["urban_rural"]).set_index("license_id")
    # 郊区 has no shop in the population, d has no stratum: weight 0, said so, not dropped
    assert w["weight_status"].to_dict() == {"a": "ok", "b": "ok", "c": "no_population",
                                            "d": "stratum_missing"}
    assert w.loc[["c", "d"], "weight"].tolist() == [0.0, 0.0] and w.attrs["unweighted"] == 2
    scored = pd.DataFrame({"district_code": "140109", "license_id": ["a", "b", "c", "d", "e"],
                           "item": "R01", "score": [80.0, 60.0, 100.0, 100.0, 0.0]})
    res = ce.weighted_scores(scored, w.reset_index()).iloc[0]
    # e is not in the weights at all; c, d have weight 0: 3 answers reported as unweighted
    assert res["n_unweighted"] == 3 and res["status"] == "unweighted_shops"
    assert res["n_valid"] == 5
