"""The public entry points forecast_series / forecast_long and the model-choice rule."""

import numpy as np
import pandas as pd
import pytest

from kehu_lib.forecast import forecast_long, forecast_series
from kehu_lib.forecast import intermittent as I
from kehu_lib.forecast import select as sel
from kehu_lib.forecast.metrics import mase_scale

PATTERN = np.array([120, 150, 90, 95, 100, 105, 110, 108, 100, 98, 102, 130], float)


def _series(years=4, seed=0):
    rng = np.random.default_rng(seed)
    trend = np.linspace(1.0, 1.3, 12 * years)
    return np.tile(PATTERN, years) * trend * np.exp(rng.normal(0, 0.03, 12 * years))


def test_returns_h_rows_with_intervals_model_and_evidence():
    y = _series()
    f = forecast_series(y, 5, months="2022-01", festival=False)
    assert list(f.columns) == ["ds", "mean", "lo_80", "hi_80", "lo_95", "hi_95", "model",
                               "reason", "note"]
    assert len(f) == 5 and f["ds"].iloc[0] == pd.Timestamp("2026-01-01")
    assert (f["lo_95"] <= f["lo_80"]).all() and (f["lo_80"] <= f["mean"]).all()
    assert (f["mean"] <= f["hi_80"]).all() and (f["hi_80"] <= f["hi_95"]).all()
    assert f["model"].iloc[0] == "combo" and f["reason"].iloc[0] == "weighted"
    ev = f.attrs["evidence"]
    assert list(ev["model"]) == list(sel.CANDIDATES)
    assert (ev["origins"] == 2).all() and (ev["n"] == 12).all()  # n-12 and n-6, 6 months each
    # the members' weights are proportional to 1 / backtest MASE^2 (sel.WEIGHT_POWER)
    assert sel.WEIGHT_POWER == 2
    w = ev.set_index("model")["weight"].dropna()
    inv = 1 / ev.set_index("model")["mase"][list(sel.COMBO)] ** 2
    np.testing.assert_allclose(w[list(sel.COMBO)], inv / inv.sum())
    # the evidence is the backtest MASE: recompute one candidate from the backtest rows
    bt = f.attrs["backtest"]
    b = bt[bt["model"] == "ets"]
    assert ev.set_index("model").loc["ets", "mase"] == pytest.approx(
        float(np.mean(np.abs(b["mean"] - b["y"]) / b["scale"])))


def test_product_path_is_the_inverse_error_weighted_combination():
    y = _series(seed=1)
    f = forecast_series(y, 6, months="2022-01")
    w = f.attrs["evidence"].set_index("model")["weight"]
    start = pd.Period("2022-01", "M")
    members = [sel.forecast_one(y, 6, start=start, model=c) for c in sel.COMBO]
    ref = sum(w[c] * m.mean for c, m in zip(sel.COMBO, members))
    # the product's final fits start from the backtest fits' parameters (warm starts), the
    # reference's from the defaults: the same optimum to the optimiser's tolerance
    np.testing.assert_allclose(f["mean"], ref, rtol=5e-3)
    equal = sel.forecast_one(y, 6, start=start, model="combo")
    assert np.max(np.abs(f["mean"] - equal.mean) / equal.mean) > 1e-4  # not the equal weights
    assert f.attrs["members"].shape == (6, len(sel.CANDIDATES))


def test_months_given_per_value_equals_start_month():
    y = _series(seed=2)
    a = forecast_series(y, 3, months="2022-01", festival=False)
    b = forecast_series(y, 3, months=pd.date_range("2022-01-01", periods=len(y), freq="MS"),
                        festival=False)
    pd.testing.assert_frame_equal(a, b)


def test_bad_input_gets_clear_errors():
    y = _series()
    with pytest.raises(ValueError, match="position 3"):
        forecast_series(np.r_[y[:3], np.nan, y[4:]], 2, months="2022-01")
    with pytest.raises(ValueError, match="negative value"):
        forecast_series(np.r_[-1.0, y[1:]], 2, months="2022-01")
    with pytest.raises(ValueError, match="not consecutive at position 2"):
        forecast_series([1.0, 2.0, 3.0], 1, months=["2022-01", "2022-02", "2022-04"])
    with pytest.raises(ValueError, match="one month per value"):
        forecast_series([1.0, 2.0, 3.0], 1, months=["2022-01", "2022-02"])
    with pytest.raises(ValueError, match="80, 95"):
        forecast_series(y, 2, months="2022-01", level=(90,))
    with pytest.raises(ValueError, match="h must be"):
        forecast_series(y, 0, months="2022-01")
    with pytest.raises(ValueError, match="months is required"):
        forecast_series(y, 2, months=None)


def test_one_zero_month_does_not_explode_or_go_flat():
    # the case: one zero month sent Theta to the raw scale, its forecast "exploded" and
    # the fallback was the last value (here: 0). Now log(y + c): forecasts near the pattern.
    y = _series(seed=3)
    y[-1] = 0.0
    f = forecast_series(y, 12, months="2022-01", festival=False)
    level = np.tile(PATTERN, 1) * 1.3
    assert f["reason"].iloc[0] != "intermittent"
    assert np.all(f["mean"] > 0.6 * level) and np.all(f["mean"] < 1.5 * level)
    assert "log(y+c)" in f["note"].iloc[0]
    # scaled error against the clean continuation: a zero as the last month throws every model
    # (statsforecast's AutoETS: 1.63, measured), but nowhere near the flat last-value 5.9
    err = np.mean(np.abs(f["mean"].to_numpy() - level)) / mase_scale(y)
    assert err < 2.5


def test_intermittent_series_gets_tsb():
    y = np.r_[np.full(18, 5.0), [0, 3, 0, 0, 6, 0, 0, 0, 3, 0, 0, 0]]
    f = forecast_series(y, 2, months="2022-01")
    assert (f["model"] == "tsb").all() and (f["reason"] == "intermittent").all()
    np.testing.assert_allclose(f["mean"], I.tsb(y, 2))
    assert (f["lo_80"] == 0).all()


def test_leading_zeros_are_dropped_and_all_zero_series():
    y = _series(seed=4)[:30]
    a = forecast_series(np.r_[np.zeros(5), y], 3, months="2021-08", festival=False)
    b = forecast_series(y, 3, months="2022-01", festival=False)
    pd.testing.assert_frame_equal(a, b)
    z = forecast_series(np.zeros(20), 2, months="2022-01")
    assert (z["mean"] == 0).all() and (z["model"] == "zero").all() and \
        (z["reason"] == "zero").all()


def test_forecast_long_equals_forecast_series():
    ya, yb = _series(seed=5), _series(years=3, seed=6)
    d = pd.DataFrame({"unique_id": ["a"] * len(ya) + ["b"] * len(yb),
                      "ds": list(pd.date_range("2022-01-01", periods=len(ya), freq="MS"))
                      + list(pd.date_range("2023-01-01", periods=len(yb), freq="MS")),
                      "y": np.r_[ya, yb]})
    out = forecast_long(d.sample(frac=1, random_state=0), 4, n_jobs=1)
    assert list(out["unique_id"]) == ["a"] * 4 + ["b"] * 4
    for uid, y, start in (("a", ya, "2022-01"), ("b", yb, "2023-01")):
        one = forecast_series(y, 4, months=start)
        got = out[out["unique_id"] == uid].drop(columns="unique_id").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, one, check_like=False)
    ev = out.attrs["evidence"]
    assert set(ev["unique_id"]) == {"a", "b"} and len(ev) == 2 * len(sel.CANDIDATES)
    with pytest.raises(ValueError, match="lacks column"):
        forecast_long(d.drop(columns="ds"), 2)
    with pytest.raises(ValueError, match="series 'b'"):
        forecast_long(d.assign(y=np.r_[ya, yb[:-1], np.nan]), 2, n_jobs=1)


def _ev(**mase):
    return pd.DataFrame({"model": list(mase), "mase": list(mase.values()), "n": 12,
                         "origins": 4})


def test_decide_policies_hand_made_evidence():
    ev = _ev(snaive=1.0, ets=0.5, theta=0.8, sarima=0.9, holt=1.0, combo=0.75)
    assert sel.decide(ev) == ("combo", "weighted")  # the measured default
    # weights 1 / MASE^2 over ets, theta, sarima, holt
    inv = np.array([4, 1 / 0.64, 1 / 0.81, 1.0])
    np.testing.assert_allclose(sel.combo_weights(ev), inv / inv.sum())
    assert sel.combo_weights(ev.iloc[:4]) is None  # a member without backtest: no weights
    assert sel.decide(ev, policy="combo") == ("combo", "combo_default")
    assert sel.decide(ev, policy="pick") == ("ets", "backtest_best")
    # margin 0.3: 0.5 < 0.7 x 0.75 = 0.525 -> switch; margin 0.4: 0.5 >= 0.45 -> keep
    assert sel.decide(ev, policy="margin", margin=0.3) == ("ets", "backtest_margin")
    assert sel.decide(ev, policy="margin", margin=0.4) == ("combo", "combo_default")
    assert sel.decide(_ev(ets=0.9, combo=0.7), policy="combo") == ("combo", "combo_best")
    assert sel.decide(_ev(ets=0.9, combo=0.7)) == ("combo", "combo_best")  # no theta/sarima
    few = _ev(ets=0.1, combo=0.7).assign(n=3)
    assert sel.decide(few, policy="pick") == ("combo", "no_backtest")
    with pytest.raises(ValueError, match="policy"):
        sel.decide(ev, policy="best")


def test_interval_factor_is_the_backtest_quantile_of_error_over_half_width():
    # y above the mean uses the upper half-width, below the lower one: ratios 0.5, 1, ..., 6.5
    y = np.r_[10 + np.arange(1, 8) * 1.0, 10 - np.arange(1, 7) * 0.5]
    bt = pd.DataFrame({"y": y, "mean": 10.0, "lo_80": 9.0, "hi_80": 12.0})
    r = np.r_[np.arange(1, 8) / 2.0, np.arange(1, 7) * 0.5]
    assert sel.interval_factor(bt, 80) == pytest.approx(np.quantile(r, 0.8))
    assert sel.interval_factor(bt.iloc[:sel.CALIB_MIN_POINTS - 1], 80) is None
    fc = sel.M.Forecast(np.array([10.0]), {80: np.array([8.0]), 95: np.array([7.0])},
                        {80: np.array([12.0]), 95: np.array([13.0])})
    out = sel.scale_interval(fc, 80, 2.0)  # 80% bounds 6, 14: the 95% interval widens to hold it
    assert (out.lo[80][0], out.hi[80][0], out.lo[95][0], out.hi[95][0]) == (6.0, 14.0, 6.0, 14.0)
    assert sel.scale_interval(fc, 80, 0.5).lo[95][0] == 7.0  # a narrower 80% leaves 95% alone


def test_long_series_get_their_80_interval_calibrated_on_24_backtest_months():
    y = _series(years=7, seed=3)  # 84 months >= CALIB_MIN_OBS
    h = 6
    res = sel.fit_one(y, h, start="2018-01", festival=False)
    assert res["reason"] == "weighted" and res["scale_80"] is not None
    # recompute the factor from the combination's forecasts at the four origins (n-24 .. n-6)
    n = len(y)
    bt = sel.backtest_one(y, start="2018-01", origins=[n - 24, n - 18, n - 12, n - 6], h=6,
                          models=("combo",), festival=False)
    assert len(bt) == 24
    assert res["scale_80"] == pytest.approx(sel.interval_factor(bt, 80), rel=1e-3)
    raw = sel.fit_one(y, h, start="2018-01", festival=False, origins=sel.default_origins(n))
    assert raw["scale_80"] is None  # explicit origins: the model intervals
    f, g = res["forecast"], raw["forecast"]
    np.testing.assert_allclose(f.mean, g.mean)
    np.testing.assert_allclose(f.hi[80] - f.mean, res["scale_80"] * (g.hi[80] - g.mean))
    np.testing.assert_allclose(f.hi[95], np.maximum(g.hi[95], f.hi[80]))
    short = sel.fit_one(y[-60:], h, start="2019-01", festival=False)
    assert short["scale_80"] is None  # 60 months: not calibrated
