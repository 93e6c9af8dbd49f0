"""Tests of kehu_lib.metrics.survey: scoring, counts, CIs, index weights, IPA."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
import statsmodels.api as sm
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import DescrStatsW

from kehu_lib.metrics import survey as sv


def frame(rows) -> pd.DataFrame:
    """Long survey frame from (district_code, license_id, item, answer|None, dont_know)."""
    df = pd.DataFrame(rows, columns=["district_code", "license_id", "item", "answer", "dont_know"])
    df.insert(0, "month", "2026-10")
    df["answer"] = pd.array([pd.NA if a is None else a for a in df["answer"]], dtype="Int64")
    df["dont_know"] = df["dont_know"].astype("boolean")
    return df


@pytest.fixture
def small():
    # item R01: answers 5,4,4,2 + one don't-know + one missing; item R02: 3,3,1,5
    return frame([
        ("140109", "000000000001", "R01", 5, False), ("140109", "000000000002", "R01", 4, False),
        ("140109", "000000000003", "R01", 4, False), ("140109", "000000000004", "R01", 2, False),
        ("140109", "000000000005", "R01", None, True), ("140109", "000000000006", "R01", None, False),
        ("140109", "000000000001", "R02", 3, False), ("140109", "000000000002", "R02", 3, False),
        ("140109", "000000000003", "R02", 1, False), ("140109", "000000000004", "R02", 5, False),
    ])


def test_score_answers_default_and_linear_maps(small):
    s = sv.score_answers(small)
    # by hand: 5->100, 4->80, 2->30, 3->60, 1->0; don't-know and missing stay unscored
    assert s["score"].tolist()[:4] == [100.0, 80.0, 80.0, 30.0]
    assert s["score"].iloc[4:6].isna().all()
    lin = sv.score_answers(small, score_map=[0, 25, 50, 75, 100])
    assert lin["score"].tolist()[6:] == [50.0, 50.0, 0.0, 100.0]


def test_bad_answers_are_rejected(small):
    bad = small.copy()
    bad.loc[0, "answer"] = 7
    with pytest.raises(ValueError, match=r"answer codes outside 1-5: \[7.0\]"):
        sv.score_answers(bad)
    both = small.copy()
    both.loc[0, "dont_know"] = True
    with pytest.raises(ValueError, match="1 row\\(s\\) have an answer and dont_know=True"):
        sv.item_counts(both)
    with pytest.raises(ValueError, match="lacks column\\(s\\) \\['dont_know'\\]"):
        sv.item_counts(small.drop(columns="dont_know"))
    with pytest.raises(ValueError, match="score_map must map each answer 1-5"):
        sv.score_answers(small, score_map={5: 100, 4: 80})


def test_item_counts_keep_dont_know_and_missing_apart(small):
    c = sv.item_counts(small).set_index("item")
    # by hand: R01 has 6 rows, 4 valid, 1 don't know, 1 missing; answers 2,4,4,5
    assert c.loc["R01", ["n_total", "n_valid", "n_dont_know", "n_missing"]].tolist() == [6, 4, 1, 1]
    assert c.loc["R01", ["n_1", "n_2", "n_3", "n_4", "n_5"]].tolist() == [0, 1, 0, 2, 1]
    assert c.loc["R01", "share_4"] == pytest.approx(0.5)
    assert c.loc["R02", ["n_valid", "n_dont_know", "n_missing"]].tolist() == [4, 0, 0]


def test_item_scores_mean_ci_and_wilson(small):
    sc = sv.item_scores(small).set_index("item")
    x = np.array([100.0, 80.0, 80.0, 30.0])
    # statsmodels DescrStatsW.tconfint_mean gives the t interval of the mean
    lo, hi = DescrStatsW(x).tconfint_mean(alpha=0.05)
    assert sc.loc["R01", "mean"] == pytest.approx(72.5)
    assert sc.loc["R01", "ci_low"] == pytest.approx(lo)
    assert sc.loc["R01", "ci_high"] == pytest.approx(hi)
    # top-2-box of R01 = 3/4; statsmodels proportion_confint(method='wilson')
    wl, wh = proportion_confint(3, 4, alpha=0.05, method="wilson")
    assert sc.loc["R01", "top2_share"] == pytest.approx(0.75)
    assert sc.loc["R01", "top2_low"] == pytest.approx(wl)
    assert sc.loc["R01", "top2_high"] == pytest.approx(wh)


def test_wilson_matches_statsmodels_on_edges():
    lo, hi = sv.wilson_interval([0, 10, 0], [10, 10, 0])
    for x, n, l, h in zip([0, 10], [10, 10], lo, hi):
        el, eh = proportion_confint(x, n, method="wilson")  # statsmodels
        assert (l, h) == pytest.approx((el, eh))
    assert np.isnan(lo[2]) and np.isnan(hi[2])  # no answers: no interval


def test_wilson_rejects_impossible_counts():
    with pytest.raises(ValueError, match=r"successes exceed n at position\(s\) \[\[2\]\] "
                                         r"\(successes, n\) = \[\(7.0, 0.0\)\]"):
        sv.wilson_interval([0, 10, 7], [10, 10, 0])
    with pytest.raises(ValueError, match="successes are negative"):
        sv.wilson_interval([-1], [10])
    with pytest.raises(ValueError, match="n is negative"):
        sv.wilson_interval(0, -3)


def test_single_answer_and_all_dont_know(small):
    one = small.iloc[[0]]
    sc = sv.item_scores(one)
    assert sc["mean"].iloc[0] == 100.0 and np.isnan(sc["ci_low"].iloc[0])
    dk = small.iloc[[4]]  # only a don't-know answer: no score, counted as don't know
    sc = sv.item_scores(dk)
    assert sc["n_valid"].iloc[0] == 0 and sc["n_dont_know"].iloc[0] == 1
    assert np.isnan(sc["mean"].iloc[0]) and np.isnan(sc["top2_share"].iloc[0])


def _shops(n=60, seed=3):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        d = "140109" if i < n // 2 else "140107"
        base = rng.normal(0, 0.8)
        a = np.clip(np.round(3.5 + base + rng.normal(0, 0.5, 3)), 1, 5).astype(int)
        overall = int(np.clip(np.round(3.5 + base), 1, 5))
        for item, ans in zip(["R01", "R02", "R03", "R10"], list(a) + [overall]):
            rows.append((d, f"{i:012d}", item, int(ans), False))
    return frame(rows)


def test_importance_weights_correlation_and_regression():
    df = _shops()
    wide = sv.to_wide(df)
    w = sv.importance_weights(df, items=["R01", "R02", "R03"], overall="R10")
    r = [stats.pearsonr(wide[i], wide["R10"]).statistic for i in ["R01", "R02", "R03"]]  # scipy
    assert w["importance"].tolist() == pytest.approx(r)
    assert w["weight"].sum() == pytest.approx(1.0)
    reg = sv.importance_weights(df, items=["R01", "R02", "R03"], overall="R10", method="regression")
    z = (wide - wide.mean()) / wide.std(ddof=1)
    fit = sm.OLS(z["R10"], sm.add_constant(z[["R01", "R02", "R03"]])).fit()  # statsmodels OLS
    assert reg["importance"].tolist() == pytest.approx(fit.params[["R01", "R02", "R03"]].tolist())
    with pytest.raises(ValueError, match="method must be 'correlation' or 'regression'"):
        sv.importance_weights(df, items=["R01"], method="shap")


def test_satisfaction_index_by_hand(small):
    # item means: R01 72.5, R02 (60+60+0+100)/4 = 55
    eq = sv.satisfaction_index(small, items=["R01", "R02"])
    assert eq["index"].iloc[0] == pytest.approx((72.5 + 55) / 2)
    assert eq["n"].iloc[0] == 4
    wt = sv.satisfaction_index(small, items=["R01", "R02"], weights={"R01": 3, "R02": 1})
    assert wt["index"].iloc[0] == pytest.approx((3 * 72.5 + 55) / 4)
    with pytest.raises(ValueError, match="weights for unknown item\\(s\\) \\['R99'\\]"):
        sv.satisfaction_index(small, items=["R01", "R02"], weights={"R99": 1})


def test_index_by_weights_ranks_and_stability():
    rows = []
    # three districts; R01 favours A > B > C, R02 reverses the order
    for d, (a1, a2) in {"140109": (5, 1), "140107": (4, 3), "140105": (1, 4)}.items():
        for i in range(3):
            rows += [(d, f"{d}{i:06d}", "R01", a1, False), (d, f"{d}{i:06d}", "R02", a2, False)]
    df = frame(rows)
    tab = sv.index_by_weights(df, by="district_code", items=["R01", "R02"],
                              weight_sets={"equal": None, "r01": {"R01": 1.0},
                                           "r02": {"R02": 1.0}})
    tab = tab.set_index("district_code")
    # equal: 140109 (100+0)/2=50, 140107 (80+60)/2=70, 140105 (0+80)/2=40
    assert tab["index_equal"].tolist() == pytest.approx([40.0, 70.0, 50.0])
    assert tab.loc["140107", "rank_equal"] == 1
    st = sv.ranking_stability(tab.reset_index(), names=["equal", "r01", "r02"])
    row = st[(st.weights_a == "r01") & (st.weights_b == "r02")].iloc[0]
    assert row["spearman_rho"] == pytest.approx(
        stats.spearmanr(tab["index_r01"], tab["index_r02"]).statistic)  # scipy
    assert row["max_rank_shift"] == 2 and not row["same_top"]


def test_shop_index_and_ipa(small):
    si = sv.shop_index(small, items=["R01", "R02"]).set_index("license_id")
    assert si.loc["000000000001", "index"] == pytest.approx((100 + 60) / 2)
    assert si.loc["000000000005", "n_items"] == 0 and np.isnan(si.loc["000000000005", "index"])
    scores = pd.DataFrame({"item": ["R01", "R02", "R03", "R04"], "mean": [60.0, 90.0, 70.0, 85.0]})
    imp = pd.DataFrame({"item": ["R01", "R02", "R03", "R04"], "importance": [0.8, 0.7, 0.2, 0.1]})
    ipa = sv.ipa_table(scores, imp, labels={"R01": "盈利"}).set_index("item")
    # cuts: performance 76.25, importance 0.45
    assert ipa["quadrant"].tolist() == ["fix_first", "keep_up", "low_priority", "overkill"]
    assert ipa.loc["R01", "label"] == "盈利" and ipa["fix_first"].sum() == 1


def test_item_codes_from_catalogue():
    assert sv.survey_item_codes("retailer") == [f"R{i:02d}" for i in range(1, 10)]
    assert sv.overall_item("consumer") == "C08"


def test_text_answers_are_an_error_not_missing(small):
    text = small.astype({"answer": "object"})
    text.loc[0, "answer"] = "很满意"
    with pytest.raises(ValueError, match=r"1 answer\(s\) are text, not codes 1-5 \(first at row 0\): "
                                         r"\['很满意'\]; map them with .*answer_codes"):
        sv.item_scores(text)


def test_answer_codes_map_the_scale_and_reject_unknown_wording():
    raw = pd.Series(["很满意", "满意", "一般", "不满意", "很不满意", "不清楚", None, "4", 2, ""])
    out = sv.answer_codes(raw)
    assert out["answer"].tolist()[:5] == [5, 4, 3, 2, 1]
    assert out["answer"].iloc[7] == 4 and out["answer"].iloc[8] == 2
    assert out["dont_know"].tolist() == [False] * 5 + [True] + [False] * 4
    assert out["answer"].isna().tolist()[5:7] == [True, True] and pd.isna(out["answer"].iloc[9])
    with pytest.raises(ValueError, match=r"2 answer\(s\) are not on the 5-point scale \(first at "
                                         r"row 1\): \['7', '还行'\]"):
        sv.answer_codes(pd.Series(["满意", "还行", "7"]))
    # every wording of the table maps into 1-5
    assert set(sv.ANSWER_TEXT_CODES.values()) == {1, 2, 3, 4, 5}


def test_missing_group_column_names_it_and_the_available_ones(small):
    with pytest.raises(ValueError, match=r"column\(s\) \['consumer_class'\] not in the survey data; "
                                         r"available columns are \['month', 'district_code'"):
        sv.item_scores(small, by="consumer_class")
    with pytest.raises(ValueError, match=r"\['tier_group'\] not in the survey data"):
        sv.satisfaction_index(small, by="tier_group", items=["R01"])


def test_item_scores_status_codes(small):
    sc = sv.item_scores(small).set_index("item")
    assert sc.loc["R01", "status"] == "small_sample"  # 4 valid answers < 30
    same = frame([("140109", f"{i:012d}", "R01", 4, False) for i in range(40)])
    assert sv.item_scores(same)["status"].iloc[0] == "no_variance"
    assert sv.item_scores(small.iloc[[0]])["status"].iloc[0] == "insufficient_sample"
    assert sv.item_scores(small.iloc[[4]])["status"].iloc[0] == "insufficient_sample"


def test_importance_weights_state_their_fallback():
    df = _shops()
    # R07 is not in the data: it gets no weight and says why; the others stay derived
    w = sv.importance_weights(df, items=["R01", "R02", "R07"], overall="R10").set_index("item")
    assert w.loc["R07", "status"] == "item_missing" and w.loc["R07", "weight"] == 0
    assert (w["weight_method"] == "derived").all() and w["weight"].sum() == pytest.approx(1)
    # no usable item at all: equal weights, stated
    none = sv.importance_weights(df, items=["R07", "R08"], overall="R10")
    assert none["weight"].tolist() == [0.5, 0.5]
    assert (none["weight_method"] == "equal_fallback").all()
    assert none["status"].tolist() == ["item_missing", "item_missing"]
    # a constant item: no_variance
    flat = df.copy()
    flat.loc[flat["item"] == "R03", "answer"] = 4
    f = sv.importance_weights(flat, items=["R01", "R03"], overall="R10").set_index("item")
    assert f.loc["R03", "status"] == "no_variance" and f.loc["R03", "weight"] == 0
    with pytest.raises(ValueError, match=r"overall item 'R99' not in the data; items present are"):
        sv.importance_weights(df, items=["R01"], overall="R99")


def test_small_cells_of_index_rankings_are_flagged():
    df = _shops(n=60)  # 30 shops per district
    tab = sv.index_by_weights(df.iloc[: 4 * 40], by="district_code", items=["R01", "R02", "R03"],
                              weight_sets={"equal": None}).set_index("district_code")
    assert tab.loc["140109", "status"] == "ok" and tab.loc["140107", "status"] == "small_sample"
    assert tab.loc["140107", "n"] == 10
    idx = sv.satisfaction_index(df, by="district_code", items=["R01"], min_n_flag=31)
    assert (idx["status"] == "small_sample").all()


def test_to_wide_never_merges_respondents_silently(small):
    consumers = small.rename(columns={"license_id": "respondent_id"})
    wide = sv.to_wide(consumers)  # the informant id is found: one row per respondent
    assert wide.index.names == ["month", "district_code", "respondent_id"] and len(wide) == 6
    with pytest.raises(ValueError, match=r"column\(s\) \['license_id'\] not in the survey data"):
        sv.to_wide(consumers, id_cols=("month", "district_code", "license_id"))
    with pytest.raises(ValueError, match="needs an informant id column"):
        sv.to_wide(small.drop(columns="license_id"))
