"""Tests of kehu_lib.plan.evaluate: DiD, plan coverage, forecast error, and the planted effects."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from kehu_lib.plan import evaluate as ev


def _panel():
    # treated shops change by +4, +6, +5 (mean 5); controls by 1, -1, 0, 2 (mean 0.5)
    return pd.DataFrame({"license_id": list("ABCDEFG"), "district_code": "140105",
                         "pre": [10.0, 12, 11, 10, 13, 9, 11],
                         "post": [14.0, 18, 16, 11, 12, 9, 13],
                         "treated": [True, True, True, False, False, False, False]})


def test_did_against_hand_computation():
    r = ev.diff_in_diff(_panel(), outcome="x")
    d_t, d_c = np.array([4.0, 6, 5]), np.array([1.0, -1, 0, 2])
    # hand 2x2 DiD: (mean post - mean pre) of treated minus the same of the controls
    assert r["estimate"] == pytest.approx(d_t.mean() - d_c.mean()) == pytest.approx(4.5)
    # hand HC1: n/(n-k) * [Σ(e_T^2)/n_T^2 + Σ(e_C^2)/n_C^2], residuals around the group means
    n, k = 7, 2
    v = n / (n - k) * (((d_t - d_t.mean()) ** 2).sum() / 3 ** 2
                       + ((d_c - d_c.mean()) ** 2).sum() / 4 ** 2)
    assert r["se"] == pytest.approx(np.sqrt(v))
    from scipy import stats  # CI from the t distribution with n - k degrees of freedom

    q = stats.t.ppf(0.975, n - k)
    assert r["ci_low"] == pytest.approx(4.5 - q * np.sqrt(v))
    assert r["p_value"] == pytest.approx(2 * stats.t.sf(4.5 / np.sqrt(v), n - k))
    assert (r["n_treated"], r["n_control"]) == (3, 4)


def test_did_matches_panel_regression_estimate():
    # the same estimate from the two-period panel y ~ treated * post (statsmodels formula)
    import statsmodels.formula.api as smf

    p = _panel()
    long = pd.concat([p.assign(y=p["pre"], post_=0), p.assign(y=p["post"], post_=1)])
    long["t"] = long["treated"].astype(int)
    fit = smf.ols("y ~ t * post_", data=long).fit()
    assert ev.diff_in_diff(p, outcome="x")["estimate"] == pytest.approx(fit.params["t:post_"])


def _statsmodels_did(d, treated, groups):
    """The former fit: statsmodels OLS of d on const, treated and the groups' dummies, HC1."""
    from statsmodels.regression.linear_model import OLS

    X = pd.DataFrame({"const": 1.0, "treated": treated.astype(float)})
    for i, g in enumerate(groups):
        dummies = pd.get_dummies(pd.Series(g).astype(str), prefix=f"g{i}", drop_first=True,
                                 dtype=float)
        X = X.join(dummies.loc[:, dummies.std() > 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the collinear case is rank-deficient on purpose
        fit = OLS(d, X.to_numpy()).fit(cov_type="HC1")
    return float(fit.params[1]), float(fit.bse[1])


@pytest.mark.parametrize("case", ["plain", "districts", "two_effects", "collinear"])
def test_did_fit_equals_statsmodels_ols_hc1(case):
    """did_arrays (numpy, the batch's 54 fits) against statsmodels' OLS with HC1 standard
    errors, the implementation it replaced: equal to 1e-10 (the rank-deficient case too, where
    both take the pseudo-inverse's minimum-norm solution)."""
    rng = np.random.default_rng(16)
    n = 3000
    treated = rng.random(n) < 0.1
    district = rng.choice(["140105", "140106", "140107", "140108", "140109"], n)
    tier = rng.integers(1, 30, n).astype(str)
    d = rng.normal(0, 3, n) + 2.0 * treated + (district == "140107") * 1.5 \
        + rng.standard_t(3, n) * (1 + treated)  # heteroskedastic
    groups = {"plain": [], "districts": [district], "two_effects": [district, tier],
              # the treated shops are a level of their own: treated = that level's dummy
              "collinear": [np.where(treated, "zz", district)]}[case]
    r = ev.did_arrays(d, treated, groups)
    b, se = _statsmodels_did(d, treated, groups)
    assert abs(r["estimate"] - b) <= 1e-10 * max(1, abs(b))
    assert abs(r["se"] - se) <= 1e-10 * max(1, se)


def test_did_small_groups_and_bad_input():
    r = ev.diff_in_diff(_panel().iloc[2:], outcome="x")  # one treated shop
    assert r["n_treated"] == 1 and np.isnan(r["estimate"])
    with pytest.raises(KeyError, match="column 'after' not in the data"):
        ev.diff_in_diff(_panel(), outcome="x", post="after")


def test_holm_against_statsmodels():
    from statsmodels.stats.multitest import multipletests

    p = np.array([0.01, 0.04, 0.03, np.nan, 0.5])
    ok = np.isfinite(p)
    expected = multipletests(p[ok], method="holm")[1]
    assert np.allclose(ev._holm(p)[ok], expected) and np.isnan(ev._holm(p)[3])


def test_plan_coverage_by_hand():
    planned = pd.DataFrame({"license_id": ["A", "B"], "manager_id": "KM0104",
                            "planned_visits": [5, 4]})
    strat = pd.DataFrame({"license_id": ["A", "A", "B"], "code": ["KZB-13", "KZB-12", "KZB-17"]})
    visits = pd.DataFrame({"license_id": ["A"] * 6 + ["C"]})
    given = pd.DataFrame({"license_id": ["A", "C"], "code": ["KZB-13", "KZB-17"]})
    c = ev.plan_coverage(planned, strat, visits, given).iloc[0]
    # A: min(6, 5) = 5 of 5; B: 0 of 4 -> 5 / 9; strategies: 1 of 3 executed
    assert c["visit_coverage"] == pytest.approx(5 / 9) and c["visited_shops"] == 1
    assert c["strategy_coverage"] == pytest.approx(1 / 3)


def test_forecast_error_by_hand():
    fc = pd.DataFrame({"district": ["甲", "乙"], "forecast": [110.0, 90.0], "lo_80": [100.0, 95.0],
                       "hi_80": [120.0, 99.0]})
    act = pd.DataFrame({"district": ["甲", "乙"], "actual": [100.0, 100.0]})
    e = ev.forecast_error(fc, act).set_index("district")
    assert e.loc["甲", "ape"] == pytest.approx(0.10) and e.loc["乙", "error"] == -10
    assert e.loc["甲", "in_80"] and not e.loc["乙", "in_80"]
    assert ev.forecast_error(None, act).empty


# ------------------------------------------------------------------ the planted strategy effects

@pytest.fixture(scope="module")
def evaluation(small_store):
    from kehu_lib.plan import data, monthly

    from kehu_lib import loaders
    from kehu_lib.plan.strategies import parse_codes

    plan = monthly.build(data.load_inputs("2026-10", store=small_store), store=small_store)
    plan = {**plan, "_store": small_store,
            "_given": parse_codes(loaders.load_visits(None, ["2026-09"], store=small_store))}
    return plan["evaluation"].set_index("code"), plan


def test_kzb14_effect_found(evaluation, signals):
    e, _ = evaluation
    eff = signals["strategy_effects"]["effective"]
    r = e.loc[eff["kzb"]]
    assert r["outcome"] == eff["indicator"] and r["effect_found"] and r["verdict"] == "effective"
    assert r["ci_low"] <= eff["effect"] <= r["ci_high"]
    assert abs(r["estimate"] - eff["effect"]) < 1.0


def test_no_effect_invented(evaluation, signals):
    e, _ = evaluation
    assert signals["strategy_effects"]["no_effect"]["kzb"] in e.index
    others = e.drop(index=signals["strategy_effects"]["effective"]["kzb"])
    assert not others["effect_found"].any()
    for code in ("KZB-09", "KZB-06", "KZB-10", "KZB-11", "KZB-17", "KZB-12", "KZB-08"):
        assert code in e.index and e.loc[code, "verdict"] in ("no_effect", "insufficient", "negative")
    assert "KZB-02" not in e.index  # routine price collection is not evaluated


def test_district_plan_evaluates_its_own_shops(small_store):
    from kehu_lib.plan import data, monthly

    plan = monthly.build(data.load_inputs("2026-10", store=small_store), district="迎泽区",
                         store=small_store)
    e = plan["evaluation"].set_index("code")
    assert e.loc["KZB-14", "effect_found"] and not e.drop(index="KZB-14")["effect_found"].any()
    assert (plan["states"]["district_code"] == "140106").all()
    cov = plan["coverage"].iloc[0]
    assert 0 < cov["visit_coverage"] <= 1 and cov["planned_shops"] > 0


def test_outcome_names_and_units_come_from_the_glossary():
    from kehu_lib.plan.evaluate import OUTCOMES, outcome_label
    from kehu_lib.present import glossary

    # one home: every judged indicator has a Chinese name and a unit in the glossary, no more
    assert set(glossary.code_names("outcome")) == set(OUTCOMES)
    assert set(glossary.code_names("outcome_unit")) == set(OUTCOMES)
    assert outcome_label("shop_stock_ratio") == ("单店存销比", "月")
    assert outcome_label("recommendation") == ("重点品牌及新品销量占比", "比例")
    assert outcome_label("nonsense") == ("", "")
    assert OUTCOMES["shop_stock_ratio"] == -1 and OUTCOMES["volume"] == 1


# ------------------------------------------------------- one multiple-testing family per month

def test_district_verdicts_are_one_family_for_the_month(evaluation):
    """Each district is judged on its own shops (the same estimates as evaluate_strategies on
    that district), but Holm runs over all (district, strategy) tests of the month: the
    reference is statsmodels' multipletests(method='holm') over the pooled raw p-values."""
    from statsmodels.stats.multitest import multipletests

    from kehu_lib.plan.strategies import load_library

    from kehu_lib.plan import monthly, shared

    _, plan = evaluation

    part = shared.city_plan("2026-10", monthly.load_thresholds(), store=plan["_store"],
                            frames=("evaluations", "values", "values_b"))
    evs = part["evaluations"]
    assert evs["district_code"].nunique() >= 2
    lib = load_library()
    given = plan["_given"]
    for code, one in evs.groupby("district_code"):
        own = ev.evaluate_strategies(given[given["district_code"] == code],
                                     part["values_b"][part["values_b"]["district_code"] == code],
                                     part["values"][part["values"]["district_code"] == code],
                                     lib, covariates=())
        m = one.merge(own, on="code", suffixes=("", "_own"))
        assert len(m) == len(one) == len(own)
        assert np.allclose(m["estimate"], m["estimate_own"], equal_nan=True)
        # one panel cut per district: the very numbers of the district's own evaluation
        for c in ("n_treated", "n_control", "treated_change", "control_change", "estimate",
                  "se", "ci_low", "ci_high", "p_value"):
            assert np.array_equal(m[c].to_numpy(float), m[f"{c}_own"].to_numpy(float),
                                  equal_nan=True), c
        judged = m["p_holm_own"].notna()  # NaN: fewer than min_treated shops, not tested
        assert m.loc[judged, "p_holm"].notna().all()
        # a larger family is stricter
        assert (m.loc[judged, "p_holm"] >= m.loc[judged, "p_holm_own"] - 1e-12).all()
    ok = evs["n_treated"] >= 5
    ref = multipletests(evs.loc[ok, "p_value"], method="holm")[1]
    assert np.allclose(evs.loc[ok, "p_holm"], ref)


def test_planted_effect_found_in_its_districts_and_nothing_else(evaluation, signals):
    """Per district: the planted KZB-14 effect is 有效 where it was planted, and no strategy is
    judged 有效 or 效果为负 anywhere else (routine strategies are logged at random with no effect)."""
    from kehu_lib import config

    _, plan = evaluation
    from kehu_lib.plan import monthly, shared

    evs = shared.city_plan("2026-10", monthly.load_thresholds(), store=plan["_store"],
                           frames=("evaluations",))["evaluations"]
    eff = signals["strategy_effects"]
    planted = {config.resolve_district(d).code for d in eff["districts"]}
    sig = evs[evs["verdict_code"].isin(["effective", "negative"])]
    assert set(zip(sig["district_code"], sig["code"], sig["verdict_code"])) == {
        (c, eff["effective"]["kzb"], "effective") for c in planted}


def test_strategy_findings_read_both_ways():
    from kehu_lib.plan import crossreport as cr
    from kehu_lib.plan.strategies import load_library
    from kehu_lib.present.highlights import _sentence

    e = pd.DataFrame({"code": ["KZB-14", "KZB-12", "KZB-09"],
                      "outcome": ["assortment_width", "recommendation", "volume"],
                      "estimate": [3.26, -0.049, 9.8], "ci_low": [2.96, -0.079, -3.2],
                      "ci_high": [3.57, -0.019, 22.9],
                      "verdict_code": ["effective", "negative", "no_effect"]})
    f = cr.plan_findings(evaluation=e, district_code="140106")
    assert f["code"].tolist() == ["strategy_effective", "strategy_negative"]
    assert f["anchor"].eq("monthly_plan#evaluation").all()
    lib = load_library()
    good, bad = (_sentence(r, names={}, library=lib) for _, r in f.iterrows())
    assert good.startswith("上月策略KZB-14 组合宽度建议有效：迎泽区执行户") and "+3.3" in good
    assert "（95%置信区间+3.0至+3.6" in good and "继续推行" in good
    assert "效果为负" in bad and "-4.9个百分点" in bad and "应停止" in bad
