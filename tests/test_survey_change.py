"""Tests of kehu_lib.metrics.survey_change: Welch differences, corrections, MDC, small-n rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.power import NormalIndPower

from kehu_lib.metrics import survey_change as sc

SCORE = {1: 0.0, 2: 30.0, 3: 60.0, 4: 80.0, 5: 100.0}


def frame(spec) -> pd.DataFrame:
    """spec: {(month, district_code, item): [answers]} -> long survey frame."""
    rows = []
    for (m, d, item), answers in spec.items():
        for i, a in enumerate(answers):
            rows.append((m, d, f"{d}{i:06d}", item, a, False))
    df = pd.DataFrame(rows, columns=["month", "district_code", "license_id", "item", "answer",
                                     "dont_know"])
    df["answer"] = df["answer"].astype("Int64")
    df["dont_know"] = df["dont_know"].astype("boolean")
    return df


def test_shift_month():
    assert sc.shift_month("2026-01", -1) == "2025-12"
    assert sc.shift_month("2026-10", -12) == "2025-10"


def test_welch_difference_matches_scipy():
    rng = np.random.default_rng(5)
    a = rng.integers(2, 6, 40).tolist()
    b = rng.integers(1, 6, 35).tolist()
    df = frame({("2026-10", "140107", "R02"): a, ("2026-09", "140107", "R02"): b})
    res = sc.period_change(df, month="2026-10", base_month="2026-09").iloc[0]
    xa, xb = np.array([SCORE[v] for v in a]), np.array([SCORE[v] for v in b])
    t = stats.ttest_ind(xa, xb, equal_var=False)  # scipy Welch t-test
    ci = t.confidence_interval(0.95)
    assert res["diff"] == pytest.approx(xa.mean() - xb.mean())
    assert res["t"] == pytest.approx(t.statistic) and res["p_value"] == pytest.approx(t.pvalue)
    assert (res["ci_low"], res["ci_high"]) == pytest.approx((ci.low, ci.high))
    assert (res["n_cur"], res["n_base"], res["n_flag"]) == (40, 35, "ok")


def test_minimum_detectable_change_matches_statsmodels_power():
    # statsmodels NormalIndPower: standardised effect detectable with n1=40, n2=60, power 0.8
    d = NormalIndPower().solve_power(effect_size=None, nobs1=40, alpha=0.05, power=0.8,
                                     ratio=1.5, alternative="two-sided")
    sd = 20.0
    se = sd * np.sqrt(1 / 40 + 1 / 60)
    assert sc.minimum_detectable_change(se) == pytest.approx(d * sd, rel=1e-3)


def test_holm_and_bh_by_hand():
    t = pd.DataFrame({"p_value": [0.01, 0.04, 0.03, np.nan], "diff": [-5.0, 3.0, 2.0, 1.0]})
    holm = sc.adjust_pvalues(t, method="holm")
    # Holm by hand: sorted 0.01*3=0.03, 0.03*2=0.06, max(0.04*1, 0.06)=0.06
    assert holm["p_adj"].tolist()[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert np.isnan(holm["p_adj"].iloc[3])
    assert holm["signal"].tolist() == ["down", "", "", ""]
    bh = sc.adjust_pvalues(t, method="fdr_bh")
    # BH by hand: 0.01*3/1=0.03, 0.03*3/2=0.045, 0.04*3/3=0.04 -> monotone: 0.03, 0.04, 0.04
    assert bh["p_adj"].tolist()[:3] == pytest.approx([0.03, 0.04, 0.04])
    assert bh["significant"].tolist() == [True, True, True, False]


def test_families_are_corrected_separately():
    t = pd.DataFrame({"month": ["a", "a", "b"], "p_value": [0.02, 0.5, 0.02], "diff": [-1.0] * 3})
    out = sc.adjust_pvalues(t, family=["month"])
    assert out["p_adj"].tolist() == pytest.approx([0.04, 0.5, 0.02])


def test_small_n_flag_and_suppression():
    spec = {("2026-10", "140110", "R01"): [4] * 20 + [3] * 5,   # 25 answers: 小样本
            ("2026-09", "140110", "R01"): [5] * 20 + [4] * 15,
            ("2026-10", "140199", "R01"): [4, 5, 3, 4, 4, 2, 5, 4],  # 8 answers: 不展示
            ("2026-09", "140199", "R01"): [4, 5, 3, 4, 4, 2, 5, 4, 3, 3, 4, 5]}
    out = sc.period_change(frame(spec), month="2026-10", base_month="2026-09",
                           min_n_flag=30, min_n_suppress=10).set_index("district_code")
    assert out.loc["140110", "n_flag"] == "small" and not out.loc["140110", "suppressed"]
    assert out.loc["140110", "diff"] == pytest.approx((20 * 80 + 5 * 60) / 25 - (20 * 100 + 15 * 80) / 35)
    assert out.loc["140199", "n_flag"] == "suppressed" and out.loc["140199", "suppressed"]
    assert out.loc["140199", ["mean_cur", "diff", "p_value"]].isna().all()
    assert out.loc["140199", "n_cur"] == 8  # the count is still shown


def test_survey_changes_mom_yoy_and_missing_base():
    rng = np.random.default_rng(2)
    spec = {(m, "140107", "R02"): rng.integers(3, 6, 40).tolist()
            for m in ("2025-10", "2026-09", "2026-10")}
    out = sc.survey_changes(frame(spec), month="2026-10")
    assert out["comparison"].tolist() == ["环比", "同比"]
    assert out["base_month"].tolist() == ["2026-09", "2025-10"]
    only = sc.survey_changes(frame({k: v for k, v in spec.items() if k[0] != "2025-10"}),
                             month="2026-10")
    assert only["comparison"].tolist() == ["环比"]
    empty = sc.survey_changes(frame(spec), month="2024-01")
    assert empty.empty and "signal" in empty.columns


def test_rolling_window_pools_months():
    spec = {(m, "140110", "R01"): [4] * 10 for m in ("2026-05", "2026-06", "2026-07")}
    spec.update({(m, "140110", "R01"): [3] * 10 for m in ("2026-08", "2026-09", "2026-10")})
    out = sc.rolling_scores(frame(spec), month="2026-10", window=3).iloc[0]
    assert out["month"] == "2026-08+2026-09+2026-10"
    assert out["base_month"] == "2026-05+2026-06+2026-07"
    assert (out["n_cur"], out["n_base"]) == (30, 30)
    assert out["diff"] == pytest.approx(-20.0)
    assert np.isnan(out["p_value"])  # zero variance: no test, never a fake "significant"
    assert not out["significant"]


@pytest.mark.parametrize("method", ["holm", "fdr_bh", "bonferroni", "sidak"])
def test_adjustment_matches_statsmodels_multipletests(method):
    from statsmodels.stats.multitest import multipletests

    p = np.random.default_rng(9).uniform(0, 0.2, 50)
    p[[3, 17]] = p[[3, 17]] / 1000  # ties and tiny values
    p[5] = p[6]
    out = sc.adjust_pvalues(pd.DataFrame({"p_value": p, "diff": -1.0}), method=method)
    assert out["p_adj"].to_numpy() == pytest.approx(multipletests(p, method=method)[1])


def test_change_scan_equals_month_by_month():
    rng = np.random.default_rng(4)
    spec = {(m, d, it): rng.integers(1, 6, 15).tolist()
            for m in ("2026-08", "2026-09", "2026-10") for d in ("140107", "140109")
            for it in ("R01", "R02")}
    df = frame(spec)
    scan = sc.change_scan(df, lag=1)
    assert sorted(scan["month"].unique()) == ["2026-09", "2026-10"]
    for m in ("2026-09", "2026-10"):
        one = sc.adjust_pvalues(sc.period_change(df, month=m, base_month=sc.shift_month(m, -1)))
        got = scan[scan["month"] == m].reset_index(drop=True)
        pd.testing.assert_frame_equal(got[one.columns], one, check_dtype=False)
    assert sc.change_scan(df, lag=12).empty
