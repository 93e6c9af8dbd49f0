"""Tests of kehu_lib.metrics.survey_change: matched-pair and Welch differences (scipy),
corrections (statsmodels), MDC, status codes, multiplicity."""

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
    res = sc.period_change(df, month="2026-10", base_month="2026-09", paired=False).iloc[0]
    xa, xb = np.array([SCORE[v] for v in a]), np.array([SCORE[v] for v in b])
    t = stats.ttest_ind(xa, xb, equal_var=False)  # scipy Welch t-test
    ci = t.confidence_interval(0.95)
    assert res["diff"] == pytest.approx(xa.mean() - xb.mean())
    assert res["t"] == pytest.approx(t.statistic) and res["p_value"] == pytest.approx(t.pvalue)
    assert (res["ci_low"], res["ci_high"]) == pytest.approx((ci.low, ci.high))
    assert (res["n_cur"], res["n_base"], res["n_flag"]) == (40, 35, "ok")
    assert (res["test"], res["status"]) == ("welch", "ok") and pd.isna(res["n_pairs"])


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
    out = sc.period_change(frame(spec), month="2026-10", base_month="2026-09", paired=False,
                           min_n_flag=30, min_n_suppress=10).set_index("district_code")
    assert out.loc["140110", "n_flag"] == "small" and not out.loc["140110", "suppressed"]
    assert out.loc["140110", "status"] == "small_sample"
    assert out.loc["140199", "status"] == "insufficient_sample"
    assert out.loc["140110", "diff"] == pytest.approx((20 * 80 + 5 * 60) / 25 - (20 * 100 + 15 * 80) / 35)
    assert out.loc["140199", "n_flag"] == "suppressed" and out.loc["140199", "suppressed"]
    assert out.loc["140199", ["mean_cur", "diff", "p_value"]].isna().all()
    assert out.loc["140199", "n_cur"] == 8  # the count is still shown


def test_survey_changes_mom_yoy_and_missing_base():
    rng = np.random.default_rng(2)
    spec = {(m, "140107", "R02"): rng.integers(3, 6, 40).tolist()
            for m in ("2025-10", "2026-09", "2026-10")}
    out = sc.survey_changes(frame(spec), month="2026-10")
    assert out["comparison"].tolist() == ["mom", "yoy"]
    assert out["base_month"].tolist() == ["2026-09", "2025-10"]
    only = sc.survey_changes(frame({k: v for k, v in spec.items() if k[0] != "2025-10"}),
                             month="2026-10")
    # the 同比 base month is absent: its cell says so, never 正常, and is not tested
    assert only["comparison"].tolist() == ["mom", "yoy"]
    yoy = only.iloc[1]
    assert (yoy["status"], yoy["n_base"], yoy["n_flag"]) == ("base_missing", 0, "suppressed")
    assert np.isnan(yoy["p_value"]) and not yoy["significant"] and yoy["test"] == ""
    # no answer in the report month: nothing is tested, and the cells say why
    gone = sc.survey_changes(frame({k: v for k, v in spec.items() if k[0] != "2026-10"}),
                             month="2026-10")
    assert gone["status"].tolist() == ["current_missing"] * 2
    assert gone["comparison"].tolist() == ["mom", "yoy"]
    assert not gone["significant"].any()
    none = sc.survey_changes(frame(spec), month="2024-01")
    assert none.empty and {"signal", "status", "test"} <= set(none.columns)


def test_rolling_window_pools_months():
    spec = {(m, "140110", "R01"): [4] * 10 for m in ("2026-05", "2026-06", "2026-07")}
    spec.update({(m, "140110", "R01"): [3] * 10 for m in ("2026-08", "2026-09", "2026-10")})
    out = sc.rolling_scores(frame(spec), month="2026-10", window=3).iloc[0]
    assert out["month"] == "2026-08+2026-09+2026-10"
    assert out["base_month"] == "2026-05+2026-06+2026-07"
    assert (out["n_cur"], out["n_base"]) == (30, 30)
    assert out["diff"] == pytest.approx(-20.0)
    # the same 10 shops in both windows, each down 20 points: the paired t is undefined (no
    # variance) and the signed-rank test runs; all differences tie, so (as R wilcox.test) the
    # normal approximation with continuity correction: V = 0, mean 27.5, sd sqrt(10*11*21/24)
    # minus the tie correction (10^3 - 10)/48 -> sd sqrt(96.25 - 20.625) (by hand)
    assert out["n_pairs"] == 10 and out["test"] == "wilcoxon"
    z = (27.5 - 0.5) / np.sqrt(96.25 - 20.625)
    assert out["p_value"] == pytest.approx(2 * stats.norm.sf(z))
    assert out["p_value"] == pytest.approx(stats.wilcoxon(np.full(10, -20.0), method="asymptotic",
                                                          correction=True).pvalue)  # scipy
    assert out["status"] == "small_sample"


def test_constant_answers_are_flagged_not_silent():
    # a 40-point change with constant answers, different shops (no panel): Welch cannot run
    spec = {("2026-10", "140110", "R01"): [3] * 40, ("2026-09", "140110", "R01"): [5] * 40}
    df = frame(spec)
    df.loc[df["month"] == "2026-09", "license_id"] += "b"  # other shops in the base month
    out = sc.period_change(df, month="2026-10", base_month="2026-09").iloc[0]
    assert out["diff"] == pytest.approx(-40.0) and out["test"] == ""
    assert np.isnan(out["p_value"]) and out["status"] == "no_variance" and out["n_flag"] == "ok"
    # the same shops answering exactly as before: nothing changed, nothing to test
    same = frame({("2026-10", "140110", "R01"): [4] * 40, ("2026-09", "140110", "R01"): [4] * 40})
    res = sc.period_change(same, month="2026-10", base_month="2026-09").iloc[0]
    assert (res["status"], res["n_pairs"], res["diff"]) == ("no_variance", 40, 0.0)
    assert np.isnan(res["p_value"])


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


def panel(cur: dict, base: dict, *, item="R02", district="140107") -> pd.DataFrame:
    """Long frame of a panel: {shop: answer} for the current (2026-10) and base (2026-09) month."""
    rows = [("2026-10", district, s, item, a, False) for s, a in cur.items()]
    rows += [("2026-09", district, s, item, a, False) for s, a in base.items()]
    df = pd.DataFrame(rows, columns=["month", "district_code", "license_id", "item", "answer",
                                     "dont_know"])
    return df.astype({"answer": "Int64", "dont_know": "boolean"})


def test_matched_pairs_paired_t_matches_scipy_ttest_rel():
    rng = np.random.default_rng(11)
    shops = [f"S{i:03d}" for i in range(60)]
    base = {s: int(rng.integers(2, 6)) for s in shops[:50]}  # S050-S059 new this month
    cur = {s: int(np.clip(a - rng.integers(0, 2), 1, 5)) for s, a in base.items()
           if s not in shops[:5]}  # S000-S004 did not answer this month
    cur.update({s: int(rng.integers(1, 6)) for s in shops[50:]})
    res = sc.period_change(panel(cur, base), month="2026-10", base_month="2026-09").iloc[0]
    both = [s for s in base if s in cur]
    x = np.array([SCORE[cur[s]] for s in both])
    y = np.array([SCORE[base[s]] for s in both])
    t = stats.ttest_rel(x, y)  # scipy paired t-test on the 45 matched shops
    ci = t.confidence_interval(0.95)
    assert (res["test"], res["n_pairs"], res["n_only_cur"], res["n_only_base"]) == \
        ("paired_t", 45, 10, 5)
    assert res["diff"] == pytest.approx((x - y).mean())
    assert res["t"] == pytest.approx(t.statistic) and res["p_value"] == pytest.approx(t.pvalue)
    assert (res["ci_low"], res["ci_high"]) == pytest.approx((ci.low, ci.high))
    assert (res["n_cur"], res["n_base"]) == (55, 50)  # levels: every answer of each month
    assert res["diff_all"] == pytest.approx(res["mean_cur"] - res["mean_base"])
    assert res["status"] == "ok"
    # the same data as independent samples: Welch, as scipy ttest_ind(equal_var=False)
    w = sc.period_change(panel(cur, base), month="2026-10", base_month="2026-09",
                         paired=False).iloc[0]
    xa = np.array([SCORE[a] for a in cur.values()])
    xb = np.array([SCORE[a] for a in base.values()])
    assert w["p_value"] == pytest.approx(stats.ttest_ind(xa, xb, equal_var=False).pvalue)
    assert w["test"] == "welch"


def test_few_pairs_use_wilcoxon_as_scipy():
    rng = np.random.default_rng(12)
    base = {f"S{i:02d}": int(rng.integers(3, 6)) for i in range(20)}
    cur = {s: int(np.clip(a + rng.integers(-2, 1), 1, 5)) for s, a in base.items()}
    res = sc.period_change(panel(cur, base), month="2026-10", base_month="2026-09").iloc[0]
    d = np.array([SCORE[cur[s]] - SCORE[base[s]] for s in base])
    assert (res["test"], res["n_pairs"], res["status"]) == ("wilcoxon", 20, "small_sample")
    # scipy signed-rank; ties and zeros -> normal approximation with correction, as R wilcox.test
    assert res["p_value"] == pytest.approx(stats.wilcoxon(d[d != 0], method="asymptotic",
                                                          correction=True).pvalue)
    assert np.isnan(res["t"]) and res["diff"] == pytest.approx(d.mean())
    forced = sc.period_change(panel(cur, base), month="2026-10", base_month="2026-09",
                              test="t").iloc[0]
    assert forced["test"] == "paired_t"
    assert forced["p_value"] == pytest.approx(stats.ttest_rel(
        [SCORE[cur[s]] for s in base], [SCORE[base[s]] for s in base]).pvalue)
    with pytest.raises(ValueError, match="test must be 'auto', 't' or 'wilcoxon', got 'z'"):
        sc.period_change(panel(cur, base), month="2026-10", base_month="2026-09", test="z")


def test_signed_rank_exact_without_ties():
    # distinct non-zero differences, n < 50: the exact distribution (R wilcox.test's rule)
    base = {f"S{i}": 1 for i in range(6)}
    df = panel({s: 1 for s in base}, base)
    df["score"] = df["answer"].astype(float)
    d = np.array([-3.0, -5.0, -6.0, 2.0, -9.0, -11.0])
    df.loc[df["month"] == "2026-10", "score"] = 1.0 + d
    res = sc.period_change(df, month="2026-10", base_month="2026-09", min_n_suppress=5).iloc[0]
    # ranks of |d|: 2->1, 3->2, 5->3, 6->4, 9->5, 11->6; V (sum of positive ranks) = 1
    assert res["p_value"] == pytest.approx(stats.wilcoxon(d, method="exact").pvalue)
    assert res["p_value"] == pytest.approx(2 * 2 / 2**6)  # P(V <= 1) = 2/64, two-sided


def test_too_few_pairs_fall_back_to_welch_on_all_answers():
    # the panel was renewed: 3 shops stayed, 40 new ones in each month; the cell is tested with
    # Welch on all answers (not blanked), and says so
    rng = np.random.default_rng(13)
    base = {f"B{i:02d}": int(rng.integers(2, 6)) for i in range(40)}
    cur = {f"C{i:02d}": int(rng.integers(2, 6)) for i in range(40)}
    for s in ("K1", "K2", "K3"):
        base[s], cur[s] = 4, 3
    out = sc.period_change(panel(cur, base), month="2026-10", base_month="2026-09",
                           paired=True).iloc[0]
    assert (out["test"], out["n_pairs"], out["n_only_cur"], out["n_only_base"]) == \
        ("welch", 3, 40, 40)
    xa, xb = [SCORE[a] for a in cur.values()], [SCORE[a] for a in base.values()]
    assert out["p_value"] == pytest.approx(stats.ttest_ind(xa, xb, equal_var=False).pvalue)
    # auto: fewer than half of the informants recur, not a panel: Welch throughout
    auto = sc.period_change(panel(cur, base), month="2026-10", base_month="2026-09").iloc[0]
    assert auto["test"] == "welch" and pd.isna(auto["n_pairs"])
    with pytest.raises(ValueError, match=r"paired=True needs an informant id column"):
        sc.period_change(panel(cur, base).drop(columns="license_id"), month="2026-10",
                         base_month="2026-09", paired=True)


def test_missing_group_column_is_named():
    df = panel({"S1": 4}, {"S1": 5})
    with pytest.raises(ValueError, match=r"column\(s\) \['consumer_class'\] not in the survey "
                                         r"data; available columns are \['month'"):
        sc.period_change(df, month="2026-10", base_month="2026-09", by="consumer_class")


def test_adjust_pvalues_rejects_impossible_p():
    t = pd.DataFrame({"p_value": [0.01, -0.2, 0.5, 1.3], "diff": [-1.0] * 4})
    with pytest.raises(ValueError, match=r"2 p-value\(s\) in 'p_value' outside \[0, 1\] at "
                                         r"row\(s\) \[1, 3\]: \[-0.2, 1.3\]"):
        sc.adjust_pvalues(t)
    ok = sc.adjust_pvalues(t.iloc[[0, 2]])
    assert ok["n_family"].tolist() == [2, 2] and (ok["correction"] == "holm").all()


def test_multiplicity_summary_names_the_family_and_expected_false_alarms():
    rng = np.random.default_rng(4)
    spec = {(m, d, it): rng.integers(1, 6, 40).tolist()
            for m in ("2025-10", "2026-09", "2026-10") for d in ("140107", "140109")
            for it in ("R01", "R02", "R03")}
    spec[("2026-10", "140109", "R03")] = [4] * 5  # too few: not in the family
    ch = sc.survey_changes(frame(spec), month="2026-10", method="holm", alpha=0.05)
    summ = sc.multiplicity_summary(ch, by="district_code", pages=7).set_index("family")
    assert summ.index.tolist() == ["mom", "yoy"]
    assert summ.loc["mom", "n_cells"] == 6 and summ.loc["mom", "n_tests"] == 5
    assert (summ.loc["mom", "units"], summ.loc["mom", "items"]) == (2, 3)
    assert summ.loc["mom", "tests"] == "paired_t:5"
    assert summ.loc["mom", "correction"] == "holm" and summ.loc["mom", "false_alarm_bound"] == 0.05
    assert summ.loc["mom", "expected_false_alarms_city"] == pytest.approx(0.35)
    none = sc.multiplicity_summary(ch.assign(correction="none"), by="district_code")
    assert none["false_alarm_bound"].tolist() == pytest.approx([5 * 0.05, 5 * 0.05])


def test_expected_false_alarms_bound_by_simulation():
    # 7 pages x 40 tests of unchanged cells a month, Holm within each page: the mean number of
    # false alarms a month is about pages x alpha = 0.35 (Monte Carlo, seeded)
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(2026)
    m, alpha = 40, 0.05
    p = np.sort(rng.uniform(size=(7 * 3000, m)), axis=1)  # 3000 months x 7 pages
    below = p < alpha / (m - np.arange(m))  # Holm: step down while p_(k) < alpha / (m - k + 1)
    rejected = np.cumprod(below, axis=1).sum(axis=1)
    for row in range(5):  # the step-down above is Holm as statsmodels multipletests
        assert rejected[row] == multipletests(p[row], alpha=alpha, method="holm")[0].sum()
    per_month = rejected.reshape(-1, 7).sum(axis=1)
    table = pd.DataFrame({"page": np.repeat(range(7), m), "p_value": 0.5, "diff": 0.0,
                          "item": np.tile(range(m), 7)})
    summ = sc.multiplicity_summary(sc.adjust_pvalues(table, family=["page"]), family=["page"],
                                   pages=7)
    assert summ["expected_false_alarms_city"].iloc[0] == pytest.approx(0.35)
    assert per_month.mean() == pytest.approx(0.35, abs=0.03)


def test_city_fdr_matches_statsmodels_bh():
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(8)
    p = np.concatenate([rng.uniform(size=60), rng.uniform(0, 0.002, 4), [np.nan]])
    ch = pd.DataFrame({"district_code": np.repeat(list("ABCDE"), 13), "p_value": p,
                       "diff": -1.0})
    ch = sc.adjust_pvalues(ch, family=["district_code"])  # Holm within each page
    out = sc.city_fdr(ch, alpha=0.05)
    ok = ~np.isnan(p)
    want = multipletests(p[ok], method="fdr_bh")[1]
    assert out.loc[ok, "p_adj_city"].to_numpy() == pytest.approx(want)
    assert out["significant_city"].sum() == (want < 0.05).sum()
    assert out["p_adj"].equals(ch["p_adj"])  # the page's Holm values are kept


def test_t_and_normal_functions_are_scipy_stats_doubles():
    """The t quantile/tail and normal quantile come from scipy.special: the very doubles of
    scipy.stats.t.ppf / t.sf / norm.ppf (validated against scipy.stats), NaN where scipy
    gives NaN (df <= 0 or NaN, x NaN)."""
    rng = np.random.default_rng(7)
    df = np.concatenate([rng.uniform(0.05, 400, 5000), [1, 2, np.inf, 0, -1, np.nan]])
    x = np.concatenate([rng.normal(0, 6, 5000), [0, np.inf, -np.inf, np.nan, 3, 1e300]])
    np.testing.assert_array_equal(sc._t_sf(x, df), stats.t.sf(x, df))
    for q in (0.975, 0.95, 0.9, 0.995, 0.8):
        np.testing.assert_array_equal(sc._t_ppf(q, df), stats.t.ppf(q, df))
        assert sc._norm_ppf(q) == stats.norm.ppf(q)


def test_place_changes_are_each_places_own_survey_changes():
    # 140107: a panel (one small cell, tested by Wilcoxon); 140105: new shops every month, not
    # a panel on its own although all answers together are one (computed on its own)
    rng = np.random.default_rng(3)
    shops = [f"S{i:03d}" for i in range(80)]
    parts = []
    for item, n in (("R02", 80), ("R03", 12)):
        base = {s: int(rng.integers(2, 6)) for s in shops[:n]}
        cur = {s: int(np.clip(a - rng.integers(0, 2), 1, 5)) for s, a in base.items()}
        parts.append(panel(cur, base, item=item))
    for item in ("R02", "R03"):
        parts.append(panel({f"N{i:03d}": int(rng.integers(1, 6)) for i in range(25)},
                           {f"O{i:03d}": int(rng.integers(1, 6)) for i in range(25)},
                           item=item, district="140105"))
    last_year = panel({}, {s: int(rng.integers(1, 6)) for s in shops[:40]})
    parts.append(last_year.assign(month="2025-10"))
    data = pd.concat(parts, ignore_index=True)
    out = sc.place_changes(data, month="2026-10")
    assert set(out) == {None, "140107", "140105"}
    pd.testing.assert_frame_equal(out[None], sc.survey_changes(data, month="2026-10"))
    for code in ("140107", "140105"):
        own = data[data["district_code"] == code].reset_index(drop=True)
        pd.testing.assert_frame_equal(out[code], sc.survey_changes(own, month="2026-10"),
                                      check_exact=True)
    tests = {(r.district_code, r.item): r.test for r in out[None].itertuples()
             if r.comparison == "mom"}
    assert tests[("140107", "R03")] == "wilcoxon"
    # 140105 in the city: shops without pairs (n_pairs 0); alone: independent samples (no pairs)
    city_105 = out[None][out[None]["district_code"] == "140105"]
    assert (city_105["n_pairs"] == 0).all() and out["140105"]["n_pairs"].isna().all()
    with pytest.raises(ValueError, match="by columns"):
        sc.place_changes(data, month="2026-10", place="license_id", by="district_code")


def test_signed_rank_ps_in_one_call_equal_scipy_wilcoxon_called_on_each():
    # cells of many sizes, with zero and tied differences (normal approximation) and without
    # (exact): the p of the batched calls is scipy.stats.wilcoxon's of each cell alone
    rng = np.random.default_rng(8)
    pts = np.array(list(SCORE.values()))
    diffs = []
    for k in range(300):
        n = int(rng.integers(2, 70))
        d = pts[rng.integers(0, 5, n)] - pts[rng.integers(0, 5, n)]
        if k % 4 == 0:  # distinct non-zero differences: the exact distribution below 50 pairs
            d = rng.permutation(np.arange(1, n + 1)) * rng.choice([-1.0, 1.0], n)
        if (d != 0).any():
            diffs.append(d)
    got = sc._signed_rank_ps(diffs)
    for d, p in zip(diffs, got):
        nz = d[d != 0]
        exact = len(nz) == len(d) and len(d) < 50 and len(np.unique(np.abs(nz))) == len(nz)
        ref = stats.wilcoxon(nz, method="exact" if exact else "asymptotic", correction=not exact)
        assert p == ref.pvalue
    assert sum(len(d) < 50 and (d != 0).all() and len(np.unique(np.abs(d))) == len(d)
               for d in diffs) > 20  # the exact branch is exercised
