"""Single-series models and fallbacks on series with known answers."""

import numpy as np
import pandas as pd
import pytest

from kehu_lib.forecast import models as M
from kehu_lib.forecast.select import fallback_reason, forecast_one

PATTERN = np.array([120, 150, 90, 95, 100, 105, 110, 108, 100, 98, 102, 130], float)
START = pd.Period("2022-01", "M")


def _seasonal(years=3):
    return np.tile(PATTERN, years)


def test_snaive_pure_seasonal_repeats_last_year_with_zero_width():
    fc = M.snaive(_seasonal(), 14)
    # known answer: the pattern again, month 13 = January again
    np.testing.assert_allclose(fc.mean, np.r_[PATTERN, PATTERN[:2]])
    np.testing.assert_allclose(fc.hi[95] - fc.lo[95], 0.0)


def test_snaive_interval_width_hand_computed():
    y = np.r_[PATTERN, PATTERN + 10]  # seasonal differences all 10 -> sigma = 10
    fc = M.snaive(y, 13)
    # FPP3 §5.5: sd_h = sigma * sqrt(k), k = seasons ahead; z_0.9 = 1.2816 (scipy norm.ppf(0.9))
    assert fc.hi[80][0] - fc.mean[0] == pytest.approx(10 * 1.2815516, rel=1e-6)
    assert fc.hi[80][12] - fc.mean[12] == pytest.approx(10 * 1.2815516 * np.sqrt(2), rel=1e-6)


@pytest.mark.parametrize("model", ["ets", "theta", "sarima", "combo"])
def test_models_recover_a_pure_seasonal_series(model):
    fc = forecast_one(_seasonal(), 12, start=START, model=model, festival=False)
    np.testing.assert_allclose(fc.mean, PATTERN, rtol=0.03)
    assert np.all(fc.lo[95] <= fc.lo[80]) and np.all(fc.lo[80] <= fc.mean + 1e-9)
    assert np.all(fc.mean <= fc.hi[80] + 1e-9) and np.all(fc.hi[80] <= fc.hi[95])


@pytest.mark.parametrize("model", ["snaive", "ets", "theta", "combo"])
def test_constant_series_forecasts_the_constant(model):
    fc = forecast_one(np.full(30, 250.0), 3, start=START, model=model, festival=True)
    np.testing.assert_allclose(fc.mean, 250.0, rtol=1e-3)


def test_series_of_zeros_gets_zero_forecast():
    fc = forecast_one(np.zeros(30), 3, start=START)
    assert fallback_reason(np.zeros(30)) == "zero"
    np.testing.assert_array_equal(fc.mean, 0.0)
    np.testing.assert_array_equal(fc.hi[95], 0.0)
    assert fc.note == "全零序列"


def test_six_month_old_brand_gets_non_seasonal_forecast():
    y = np.array([40, 80, 120, 150, 170, 180], float)  # a new brand spreading
    fc = forecast_one(y, 3, start=pd.Period("2026-05", "M"), model="combo")
    assert fallback_reason(y) is None
    assert np.all(np.isfinite(fc.mean)) and np.all(fc.mean > 0)
    assert "ETS(A" in M.ets(y, 3).note and M.ets(y, 3).note.endswith("N)")  # no seasonal form


def test_five_month_series_falls_back_to_naive():
    y = np.array([10, 20, 30, 40, 50], float)
    fc = forecast_one(y, 2, start=START)
    assert fc.note == "序列过短"
    np.testing.assert_allclose(fc.mean, 50.0)


def test_intermittent_series_gets_tsb():
    from kehu_lib.forecast.intermittent import tsb

    y = np.r_[np.full(18, 5.0), [0, 3, 0, 0, 6, 0, 0, 0, 3, 0, 0, 0]]
    fc = forecast_one(y, 1, start=START)
    assert fc.note == "间歇性需求" and fc.model == "tsb"
    assert fc.mean[0] == pytest.approx(tsb(y, 1)[0])


def test_exploding_forecast_is_rejected():
    assert M._explodes(np.array([1e6]), np.array([1.0, 2.0, 3.0]))
    assert not M._explodes(np.array([3.5]), np.array([1.0, 2.0, 3.0]))


def test_combine_averages_means_and_bounds():
    a = M.Forecast(np.array([1.0]), {80: np.array([0.0]), 95: np.array([-1.0])},
                   {80: np.array([2.0]), 95: np.array([3.0])}, "a")
    b = M.Forecast(np.array([3.0]), {80: np.array([2.0]), 95: np.array([1.0])},
                   {80: np.array([4.0]), 95: np.array([5.0])}, "b")
    c = M.combine([a, b])
    assert c.mean[0] == 2.0 and c.lo[80][0] == 1.0 and c.hi[95][0] == 4.0


def test_combine_median_bounds_with_three_members():
    fcs = [M.Forecast(np.array([m]), {80: np.array([m - w]), 95: np.array([m - 2 * w])},
                      {80: np.array([m + w]), 95: np.array([m + 2 * w])}, "x")
           for m, w in ((10.0, 1.0), (12.0, 2.0), (14.0, 9.0))]
    c = M.combine(fcs)  # median of bounds: lo_80 = median(9, 10, 5) = 9; hi_80 = median(11, 14, 23)
    assert c.mean[0] == 12.0 and c.lo[80][0] == 9.0 and c.hi[80][0] == 14.0
    assert M.combine(fcs, bounds="mean").hi[80][0] == pytest.approx(16.0)


@pytest.mark.parametrize("model", ["ets", "sarima"])
def test_warm_start_gives_the_cold_fit_and_fills_the_store(model):
    rng = np.random.default_rng(3)
    y = _seasonal(3) * np.exp(rng.normal(0, 0.03, 36)) * np.linspace(1, 1.2, 36)
    warm = {}
    getattr(M, model)(y[:30], 3, start=START, warm=warm)  # the previous, shorter window
    assert warm and all(np.all(np.isfinite(p)) for p in warm.values())
    hot = getattr(M, model)(y, 3, start=START, warm=warm)
    cold = getattr(M, model)(y, 3, start=START)
    # the same optimum from a different starting point (to optimiser tolerance)
    np.testing.assert_allclose(hot.mean, cold.mean, rtol=0.02)


def test_warm_start_of_the_wrong_size_is_ignored():
    y = _seasonal(3)
    warm = {key: np.array([0.5]) for key in
            [("sarima", (0, 1, 1, 12), False, True), ("ets", None, False, "add", True)]}
    np.testing.assert_allclose(M.sarima(y, 12, start=START, warm=warm).mean, PATTERN, rtol=0.02)
    np.testing.assert_allclose(M.ets(y, 12, start=START, warm=warm).mean, PATTERN, rtol=0.02)


def test_theta_model_forecast_is_statsmodels_theta_back_transformed():
    # the log-scale Theta forecast of M.theta against statsmodels' ThetaModel on log(y)
    from statsmodels.tsa.forecasting.theta import ThetaModel

    rng = np.random.default_rng(5)
    y = _seasonal(3) * np.exp(rng.normal(0, 0.05, 36)) * np.linspace(1, 1.3, 36)
    idx = pd.date_range("2022-01-01", periods=36, freq="MS")
    ref = ThetaModel(pd.Series(np.log(y), index=idx), period=12, deseasonalize=True,
                     method="additive", use_test=False).fit().forecast(6)
    fc = M.theta(y, 6, start=START)
    np.testing.assert_allclose(fc.mean, np.exp(np.asarray(ref)), rtol=1e-5)
    assert fc.note == "log Theta"


def test_weighted_combination_hand_computed():
    a = M._normal(np.array([10.0, 10.0]), np.array([1.0, 1.0]), "a")
    b = M._normal(np.array([20.0, 20.0]), np.array([2.0, 2.0]), "b")
    c = M._normal(np.array([30.0, 30.0]), np.array([3.0, 3.0]), "c")
    eq = M.combine([a, b, c])
    w = M.combine([a, b, c], weights=[2, 1, 1])
    np.testing.assert_allclose(eq.mean, 20.0)
    np.testing.assert_allclose(w.mean, (2 * 10 + 20 + 30) / 4)  # 17.5
    # bounds: the median of the members' bounds, moved with the mean (-2.5)
    np.testing.assert_allclose(w.hi[80], 20 + 2 * 1.2815516 - 2.5, rtol=1e-6)
    with pytest.raises(ValueError, match="weights"):
        M.combine([a, b], weights=[1, -1])


def test_series_without_seasonality_gets_the_non_seasonal_forms():
    # 48 months of a noisy trend: neither the levels nor the changes pass the Theta method's
    # seasonality test, so ETS and Theta drop the season; statsmodels' ThetaModel with
    # deseasonalize=False gives the reference forecast (on the log scale)
    from statsmodels.tsa.forecasting.theta import ThetaModel

    from kehu_lib.forecast import fast as F

    rng = np.random.default_rng(2)
    z = np.log(200) + np.linspace(0, 0.3, 48) + rng.normal(0, 0.05, 48)
    assert not F.has_seasonality(z) and not F.has_seasonality(z, difference=True)
    y = np.exp(z)
    assert M.ets(y, 6, start=START).note.endswith("N)")
    # below SEASON_TEST_MIN (36) months the test has little power: the seasonal forms stay
    assert M.SEASON_TEST_MIN == 36 and M.ets(y[:30], 6, start=START).note.endswith("A)")
    ref = ThetaModel(z, period=12, deseasonalize=False, method="additive").fit().forecast(6)
    np.testing.assert_allclose(M.theta(y, 6, start=START).mean, np.exp(np.asarray(ref)),
                               rtol=1e-5)
    # a seasonal series keeps its seasonal forms
    seas = _seasonal(4) * np.exp(rng.normal(0, 0.03, 48))
    assert F.has_seasonality(np.log(seas))
    assert M.ets(seas, 6, start=START).note.endswith("A)")


def test_seasonality_test_looks_at_levels_and_changes(monkeypatch):
    # a strong trend hides the lag-12 peak of the levels' autocorrelations, not the changes'
    from kehu_lib.forecast import fast as F

    rng = np.random.default_rng(4)
    t = np.arange(48)
    z = 0.05 * t + 0.08 * np.sin(t * np.pi / 6) + rng.normal(0, 0.01, 48)
    assert F.has_seasonality(z, difference=True) and not F.has_seasonality(z)
    monkeypatch.setattr(M, "SEASON_TEST_ON", "levels")
    assert not M._seasonal(z, 12, "ets")
    monkeypatch.setattr(M, "SEASON_TEST_ON", "either")
    assert M._seasonal(z, 12, "ets") and M._seasonal(z, 12, "sarima")  # sarima: never tested


@pytest.mark.parametrize("mode", ["refine", "best"])
def test_ets_estimated_seasonal_states_fit_at_least_as_well(monkeypatch, mode):
    # ETS_SEASON_LS: the seasonal form with estimated initial states reaches an SSE no higher
    # than with the heuristic's (they nest it); below ETS_SEASON_LS_MIN months the heuristic's
    from kehu_lib.forecast import fast as F

    rng = np.random.default_rng(11)
    t = np.arange(72)
    y = np.exp(4 + 0.004 * t + 0.3 * np.sin(t * np.pi / 6) + rng.normal(0, 0.05, 72))
    seen = []
    real = F.ets_fit
    monkeypatch.setattr(F, "ets_fit", lambda *a, **k: seen.append(real(*a, **k)) or seen[-1])
    heur = M.ets(y, 12)
    base = {f.name: f.sse for f in seen}
    seen.clear()
    monkeypatch.setattr(M, "ETS_SEASON_LS", mode)
    fc = M.ets(y, 12)
    assert np.all(np.isfinite(fc.mean)) and fc.note.startswith("log ETS(A")
    assert not np.allclose(fc.mean, heur.mean)
    for name, sse in base.items():
        assert min(f.sse for f in seen if f.name == name) <= sse * (1 + 1e-9)
    seen.clear()
    M.ets(y[:30], 12)  # 30 months: the heuristic's states only, one fit per form
    assert len(seen) == len(base) == len(M.ETS_TRENDS)
    monkeypatch.setattr(M, "ETS_SEASON_LS", "other")
    with pytest.raises(ValueError, match="ETS_SEASON_LS"):
        M.ets(y, 12)
