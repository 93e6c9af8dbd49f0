"""Interval calibration with the Spring Festival months on their own backtest errors."""

import numpy as np
import pandas as pd
import pytest

from kehu_lib.forecast import calibrate as C
from kehu_lib.forecast import festival as fest
from kehu_lib.forecast.select import backtest_one


def test_festival_month_follows_the_lunar_calendar():
    # 春节 2025-01-29: the 28 pre-festival days all in January; 2026-02-17: Jan 20 - Feb 16
    ds = pd.to_datetime(["2024-12-01", "2025-01-01", "2025-02-01", "2026-01-01", "2026-02-01",
                         "2026-03-01"])
    np.testing.assert_array_equal(C.festival_month(ds),
                                  [False, True, False, True, True, False])
    assert C.festival_month([]).shape == (0,)


def _bt(level, months, r80, width=2.0):
    """Backtest rows with mean 10, 80% half-width ``width`` (95%: 2x) and errors r80 * width."""
    r80 = np.asarray(r80, float)
    return pd.DataFrame({"level": level, "ds": pd.to_datetime(months), "mean": 10.0,
                         "y": 10.0 + r80 * width, "lo_80": 10 - width, "hi_80": 10 + width,
                         "lo_95": 10 - 2 * width, "hi_95": 10 + 2 * width})


def test_festival_months_get_their_own_factor_hand_computed():
    # 10 festival forecasts (Jan 2026) with r80 = 1..10 x 0.3, 10 others with r80 = 0.5
    fest_r = 0.3 * np.arange(1, 11)
    bt = pd.concat([_bt("总量", ["2026-01-01"] * 10, fest_r),
                    _bt("总量", ["2026-05-01"] * 10, np.full(10, 0.5))])
    sc = C.interval_scale(bt).iloc[0]
    assert sc["fest_source"] == "own" and sc["n_fest"] == 10
    assert sc["fest_scale_80"] == pytest.approx(np.quantile(fest_r, 0.8))  # numpy: 2.46
    assert sc["fest_scale_95"] == pytest.approx(np.quantile(fest_r / 2, 0.95))
    assert sc["scale_80"] == 1.0 and sc["scale_95"] == 1.0  # the other months: never narrowed
    # without the split one factor from all 20 rows: the other months would be widened too
    one = C.interval_scale(bt, festival=False).iloc[0]
    assert one["scale_80"] == pytest.approx(np.quantile(np.r_[fest_r, np.full(10, 0.5)], 0.8))
    fc = pd.DataFrame({"level": "总量", "ds": pd.to_datetime(["2027-01-01", "2027-05-01"]),
                       "mean": 10.0, "lo_80": 8.0, "hi_80": 12.0, "lo_95": 6.0, "hi_95": 14.0})
    out = C.calibrate_intervals(fc, bt)
    k = np.quantile(fest_r, 0.8)
    np.testing.assert_allclose(out["hi_80"], [10 + 2 * k, 12.0])
    np.testing.assert_allclose(out["scale_80"], [k, 1.0])


def test_few_festival_points_pool_then_fall_back():
    # level A: 3 festival rows (too few), level B: 8 -> 11 pooled festival rows >= 10
    a = pd.concat([_bt("A", ["2026-02-01"] * 3, [3.0, 3.0, 3.0]),
                   _bt("A", ["2026-06-01"] * 5, np.full(5, 0.2))])
    b = pd.concat([_bt("B", ["2026-02-01"] * 8, np.full(8, 1.5)),
                   _bt("B", ["2026-06-01"] * 5, np.full(5, 0.2))])
    sc = C.interval_scale(pd.concat([a, b])).set_index("level")
    pooled = np.quantile(np.r_[np.full(3, 3.0), np.full(8, 1.5)], 0.8)
    assert sc.loc["A", "fest_source"] == "pooled" == sc.loc["B", "fest_source"]
    assert sc.loc["A", "fest_scale_80"] == pytest.approx(pooled)
    # only level A: 3 festival rows, nothing to pool -> the level's factor over all months
    only_a = C.interval_scale(a).iloc[0]
    assert only_a["fest_source"] == "all months"
    assert only_a["fest_scale_80"] == pytest.approx(np.quantile(np.r_[np.full(3, 3.0),
                                                                       np.full(5, 0.2)], 0.8))


def test_no_ds_column_means_one_factor_and_empty_input():
    bt = _bt("总量", ["2026-01-01"] * 4, [0.5, 1, 1.5, 2]).drop(columns="ds")
    sc = C.interval_scale(bt).iloc[0]
    assert sc["scale_80"] == pytest.approx(1.7) and sc["fest_scale_80"] == pytest.approx(1.7)
    assert C.interval_scale(bt.iloc[:0]).empty


def _planted_festival_series(seed, n=72):
    """Monthly sales with a festival effect whose size varies from year to year (sd 0.15 on
    the log scale in the festival months against 0.02 otherwise): the known answer is that the
    festival months' errors are several times the other months'."""
    months = pd.period_range("2020-01", periods=n, freq="M")
    rng = np.random.default_rng(seed)
    x = fest.festival_regressor(months, post=False)["festival_pre"].to_numpy()
    yearly = rng.normal(0, 0.15, n // 12 + 1)[months.year - months.year[0]]
    season = 1 + 0.1 * np.sin(2 * np.pi * months.month.to_numpy() / 12)
    noise = rng.normal(0, 0.02, n)
    return months, 1000 * season * np.exp(x * (0.5 + yearly) + noise)


def test_planted_festival_effect_gets_a_wider_festival_interval():
    bts = []
    for seed in range(4):
        months, y = _planted_festival_series(seed)
        bt = backtest_one(y, start=months[0], origins=range(len(y) - 30, len(y)), h=1,
                          models=("ets",), uid=str(seed))
        bts.append(bt.assign(level="总量"))
    bt = pd.concat(bts, ignore_index=True)
    sc = C.interval_scale(bt).iloc[0]
    assert sc["fest_source"] == "own" and sc["n_fest"] >= 10
    # the festival months need wider intervals; the others are not widened
    assert sc["fest_scale_80"] > 1.3 and sc["fest_scale_95"] > 1.5
    assert sc["scale_80"] == 1.0 and sc["scale_95"] == 1.0
    isf = C.festival_month(bt["ds"])

    def coverage(out, lv):
        inside = (out["y"] >= out[f"lo_{lv}"]) & (out["y"] <= out[f"hi_{lv}"])
        return inside[isf].mean(), inside[~isf].mean()

    # one factor for all months leaves the festival months under-covered (the other months'
    # small errors dominate its quantile); their own factor brings them to nominal
    one = C.calibrate_intervals(bt, bt, festival=False)
    split = C.calibrate_intervals(bt, bt)
    assert coverage(one, 80)[0] < 0.7 and coverage(one, 95)[0] < 0.85
    assert coverage(split, 80)[0] >= 0.75 and coverage(split, 95)[0] >= 0.9
    # the other months' intervals are the same either way
    np.testing.assert_allclose(split.loc[~isf, "hi_80"], one.loc[~isf, "hi_80"])
