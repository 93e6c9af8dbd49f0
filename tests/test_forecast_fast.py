"""The lfilter fits of kehu_lib.forecast.fast against statsmodels and hand-computed answers."""

import numpy as np
import pandas as pd
import pytest

from kehu_lib.forecast import fast as F

PATTERN = np.array([120, 150, 90, 95, 100, 105, 110, 108, 100, 98, 102, 130], float)
IDX = pd.date_range("2020-01-01", periods=60, freq="MS")


def _log_series(seed=1, n=60, noise=0.04):
    rng = np.random.default_rng(seed)
    return np.log(np.tile(PATTERN, 6)[:n] * np.exp(rng.normal(0, noise, n))
                  * np.linspace(1, 1.4, n))


def test_ets_polys_hand_computed():
    # ETS(A,N,N): y = e / (1 - L) * (1 - (1 - alpha) L)  (Hyndman et al. 2008, ch. 11)
    a, th = F.ets_polys(0.3, 0, 0, 0, trend=False, seasonal=False)
    np.testing.assert_allclose(a, [1, -1])
    np.testing.assert_allclose(th, [1, -0.7])
    # ETS(A,N,A), m = 4: a = (1 - L)(1 - L^4); theta = a + alpha L (1 - L^4) + gamma L^4 (1 - L)
    a, th = F.ets_polys(0.3, 0, 0.2, 0, trend=False, seasonal=True, m=4)
    np.testing.assert_allclose(a, [1, -1, 0, 0, -1, 1])
    np.testing.assert_allclose(th, [1, -0.7, 0, 0, -1 + 0.2, 1 - 0.3 - 0.2])


@pytest.mark.parametrize("trend,seasonal", [("N", False), ("Ad", False), ("N", True),
                                            ("Ad", True)])
def test_ets_filter_matches_statsmodels_etsmodel(trend, seasonal):
    # the same parameters and initial states in statsmodels' ETSModel (state-space recursion)
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = _log_series()
    fit = F.ets_fit(y, 12, trend=trend, seasonal=seasonal)
    al, be, ga, ph = F._unpack(fit.params, trend != "N", trend == "Ad", seasonal)
    kw = {"initial_level": fit.init[0]}
    if trend != "N":
        kw["initial_trend"] = fit.init[1]
    if seasonal:
        kw["initial_seasonal"] = fit.season0
    mod = ETSModel(pd.Series(y, index=IDX), error="add", trend="add" if trend != "N" else None,
                   damped_trend=trend == "Ad", seasonal="add" if seasonal else None,
                   seasonal_periods=12 if seasonal else None, initialization_method="known",
                   **kw)
    names = {"smoothing_level": al, "smoothing_trend": be, "damping_trend": ph,
             "smoothing_seasonal": ga}
    res = mod.smooth([names[p] for p in mod.param_names])
    assert fit.sse == pytest.approx(res.sse, rel=1e-9)
    np.testing.assert_allclose(fit.mean, np.asarray(res.forecast(12)), rtol=1e-9)
    pred = res.get_prediction(start=60, end=71)
    # statsmodels' variance uses the MLE scale SSE / n, as here
    np.testing.assert_allclose(fit.sd, np.sqrt(np.asarray(pred.forecast_variance)), rtol=1e-6)


def test_ets_fit_is_no_worse_than_statsmodels_fit():
    # the likelihood optimum: ours (initial level/trend concentrated out) reaches an SSE at
    # most that of statsmodels' own fit with the same heuristic seasonal start
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = _log_series(seed=4)
    ref = ETSModel(pd.Series(y, index=IDX), error="add", trend="add", damped_trend=True,
                   seasonal="add", seasonal_periods=12,
                   initialization_method="heuristic").fit(disp=False)
    ours = F.ets_fit(y, 12, trend="Ad", seasonal=True)
    assert ours.sse <= ref.sse * 1.001


def test_heuristic_and_season_indices_match_statsmodels():
    from statsmodels.tsa.exponential_smoothing.initialization import _initialization_heuristic
    from statsmodels.tsa.seasonal import seasonal_decompose

    rng = np.random.default_rng(2)
    for n in (24, 30, 41, 70):
        y = rng.normal(size=n).cumsum() + np.tile(np.arange(12.0), 6)[:n]
        ref = _initialization_heuristic(y, seasonal="add", seasonal_periods=12)[2]
        np.testing.assert_allclose(F.heuristic_season(y), ref, atol=1e-12)
        dec = seasonal_decompose(y, model="additive", period=12).seasonal[:12]
        np.testing.assert_allclose(F.season_indices(y), dec, atol=1e-12)
    with pytest.raises(ValueError, match="needs 24 observations"):
        F.heuristic_season(np.ones(20))


@pytest.mark.parametrize("deseasonalize", [False, True])
def test_theta_matches_statsmodels_theta(deseasonalize):
    from statsmodels.tsa.forecasting.theta import ThetaModel

    rng = np.random.default_rng(5)
    z = np.log(np.tile(PATTERN, 3) * np.exp(rng.normal(0, 0.05, 36)) * np.linspace(1, 1.3, 36))
    ref = ThetaModel(pd.Series(z, index=IDX[:36]), period=12, deseasonalize=deseasonalize,
                     method="additive", use_test=False).fit()
    mean, sd, alpha = F.theta_forecast(z, 6, seasonal=deseasonalize)
    assert alpha == pytest.approx(ref.params["alpha"], abs=1e-3)
    np.testing.assert_allclose(mean, np.asarray(ref.forecast(6)), rtol=1e-5)
    assert np.all(np.diff(sd) >= 0)


def _airline(n, t1, t2, seed=0, sigma=0.03):
    """Simulate (1 - L)(1 - L^12) z = (1 + t1 L)(1 + t2 L^12) e."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    ma = np.convolve([1, t1], np.r_[1, np.zeros(11), t2])
    ar = np.convolve([1, -1], np.r_[1, np.zeros(11), -1])
    return 5 + lfilter(ma, ar, rng.normal(0, sigma, n))


def test_airline_recovers_parameters_and_psi_weights():
    from statsmodels.tsa.arima_process import arma2ma

    z = _airline(240, -0.5, -0.6, seed=3)
    mean, sd, p = F.airline_fit(z, 14)
    assert p[0] == pytest.approx(-0.5, abs=0.1) and p[1] == pytest.approx(-0.6, abs=0.1)
    # variance from the psi weights: statsmodels' arma2ma of the integrated polynomials
    ma = np.convolve([1, p[0]], np.r_[1, np.zeros(11), p[1]])
    ar = np.convolve([1, -1], np.r_[1, np.zeros(11), -1])
    psi = arma2ma(ar, ma, lags=14)
    np.testing.assert_allclose(sd / sd[0], np.sqrt(np.cumsum(psi ** 2)), rtol=1e-9)


def test_airline_forecast_matches_statsmodels_sarimax_with_the_same_parameters():
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    z = _airline(150, -0.4, -0.5, seed=8)
    mean, _, p = F.airline_fit(z, 12)
    res = SARIMAX(z, order=(0, 1, 1), seasonal_order=(0, 1, 1, 12)).smooth([p[0], p[1], 1.0])
    # conditional (ours) and exact (Kalman) start agree once the start-up has died out
    np.testing.assert_allclose(mean, res.forecast(12), rtol=2e-3)


def test_airline_with_regressor_recovers_planted_effect():
    z = _airline(120, -0.4, -0.5, seed=11)
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, 132) * (np.arange(132) % 12 < 2)  # a Jan/Feb-only regressor
    zz = z + 0.3 * x[:120]
    mean, _, p = F.airline_fit(zz, 12, xreg=x[:120, None], xreg_future=x[120:, None])
    assert p[2] == pytest.approx(0.3, abs=0.03)
    plain, _, _ = F.airline_fit(z, 12)
    np.testing.assert_allclose(mean - plain, 0.3 * x[120:], atol=0.03)


def test_least_squares_box_against_scipy():
    from scipy.optimize import least_squares

    t = np.linspace(0, 4, 40)
    y = 2.5 * np.exp(-1.3 * t) + 0.01 * np.sin(7 * t)

    def resid(p):
        return p[0] * np.exp(-p[1] * t) - y

    p, e = F.least_squares_box(resid, [1.0, 0.5], [0, 0], [10, 10], rtol=1e-12)
    ref = least_squares(resid, [1.0, 0.5], bounds=([0, 0], [10, 10])).x
    np.testing.assert_allclose(p, ref, rtol=1e-4)
    # a bound that binds: the optimum sits on it
    p, _ = F.least_squares_box(resid, [1.0, 0.5], [0, 0], [2.0, 10])
    assert p[0] == pytest.approx(2.0)


def test_damped_steps_hand_computed():
    # D(k) = phi + ... + phi^k: 0.9, 1.71, 2.439
    np.testing.assert_allclose(F.damped_steps(3, 0.9), [0.9, 1.71, 2.439])
    np.testing.assert_allclose(F.damped_steps(3, 0.9, first=0), [0.0, 0.9, 1.71])
    np.testing.assert_array_equal(F.damped_steps(3, None), [1.0, 2.0, 3.0])


def test_damped_airline_forecast_bends_the_trend_only():
    rng = np.random.default_rng(0)
    t = np.arange(72)
    z = 5 + 0.02 * t + 0.2 * np.sin(t * np.pi / 6) + rng.normal(0, 0.01, 72)
    plain = F.airline_fit(z, 24)[0]
    # undamped: the forecast function is a line plus the season (statsmodels' SARIMAX has the
    # same form): the year-on-year step is constant
    b = (plain[12:] - plain[:12]) / 12
    np.testing.assert_allclose(b, b[0], atol=1e-9)
    assert b[0] == pytest.approx(0.02, abs=0.003)
    damped, sd, _ = F.airline_fit(z, 24, phi=0.9)
    k = np.arange(1, 25)
    np.testing.assert_allclose(damped, plain - b[0] * (k - F.damped_steps(24, 0.9)), atol=1e-9)
    np.testing.assert_allclose(sd, F.airline_fit(z, 24)[1])  # intervals as the model's
    # phi -> 1 is the undamped model
    np.testing.assert_allclose(F.airline_fit(z, 24, phi=1 - 1e-9)[0], plain, atol=1e-6)


def test_has_seasonality_matches_statsmodels_theta_test():
    # statsmodels ThetaModel(use_test=True)._test_seasonality: n r_m^2 / sum_{k<m} r_k^2 > 2.7055
    from statsmodels.tsa.forecasting.theta import ThetaModel

    rng = np.random.default_rng(11)
    seen = set()
    for _ in range(120):
        n = int(rng.integers(24, 100))
        t = np.arange(n)
        z = (rng.normal(size=n).cumsum() * rng.uniform(0, 1)
             + rng.uniform(0, 1) * np.sin(t * np.pi / 6) + rng.normal(size=n))
        ref = ThetaModel(z, period=12, use_test=True, method="additive")
        ref._test_seasonality()
        assert F.has_seasonality(z) == ref._has_seasonality
        seen.add(ref._has_seasonality)
    assert seen == {True, False}  # both outcomes were checked
    assert F.has_seasonality(np.tile(PATTERN, 3))
    assert not F.has_seasonality(np.tile(PATTERN, 2)[:23])  # below two cycles
    assert not F.has_seasonality(np.ones(36))  # constant


def test_sigma2_window(monkeypatch):
    e = np.r_[np.full(10, 3.0), np.full(5, 1.0)]
    monkeypatch.setattr(F, "SIGMA_WINDOW", None)
    assert F.sigma2(e) == pytest.approx((10 * 9 + 5) / 15)
    monkeypatch.setattr(F, "SIGMA_WINDOW", 5)
    assert F.sigma2(e) == pytest.approx(1.0)  # only the last 5 errors
    assert F.sigma2(e[:4]) == pytest.approx(9.0)  # fewer than the window: all


def test_error_quantiles_hand_computed(monkeypatch):
    monkeypatch.setattr(F, "SIGMA_WINDOW", None)
    # 20 errors of +-1 and 4 of +-3: rms = sqrt((20 + 36) / 24); |e| sorted = 20 ones, 4 threes;
    # linear-interpolated quantiles at 0.8 x 23 = 18.4 -> 1 and 0.95 x 23 = 21.85 -> 3
    e = np.r_[np.tile([1.0, -1.0], 10), [3.0, -3.0, 3.0, -3.0]]
    rms = np.sqrt(56 / 24)
    q = F.error_quantiles(e)
    assert q[80] == pytest.approx(1 / rms) and q[95] == pytest.approx(3 / rms)
    # heavy tails: narrower than the normal's 1.2816 at 80%, wider than its 1.96 at 95%
    assert q[80] < 1.2816 and q[95] > 1.959
    # the burn-in leaves the first errors out of the quantile, not out of the sd
    big = np.r_[[10.0, -10.0], e]
    qb = F.error_quantiles(big, burn=2)
    ref = np.sqrt((200 + 56) / 26)
    assert qb[80] == pytest.approx(1 / ref) and qb[95] == pytest.approx(3 / ref)
    assert F.error_quantiles(e[:20]) is None  # too few errors: the normal quantiles
    assert F.error_quantiles(np.zeros(30)) is None
    # normal errors: close to the normal quantiles
    g = F.error_quantiles(np.random.default_rng(0).normal(size=20000))
    assert g[80] == pytest.approx(1.2816, abs=0.03) and g[95] == pytest.approx(1.96, abs=0.04)


def test_model_intervals_follow_the_error_quantiles(monkeypatch):
    from kehu_lib.forecast import models as M

    resid = np.r_[np.tile([1.0, -1.0], 10), [3.0, -3.0, 3.0, -3.0]]
    monkeypatch.setattr(M, "ERROR_QUANTILES", True)
    fc = M._normal(np.zeros(2), np.array([2.0, 4.0]), "x", resid=resid)
    q = F.error_quantiles(resid)
    np.testing.assert_allclose(fc.hi[80], q[80] * np.array([2.0, 4.0]))
    np.testing.assert_allclose(fc.lo[95], -q[95] * np.array([2.0, 4.0]))
    monkeypatch.setattr(M, "ERROR_QUANTILES", False)
    fc = M._normal(np.zeros(2), np.array([2.0, 4.0]), "x", resid=resid)
    np.testing.assert_allclose(fc.hi[80], 1.2815516 * np.array([2.0, 4.0]), rtol=1e-6)


@pytest.mark.parametrize("trend", ["N", "Ad"])
def test_ets_least_squares_seasonal_states_in_statsmodels(trend):
    # season_ls: the initial seasonal states concentrated out with level and trend. The same
    # parameters and states in statsmodels' ETSModel give the same errors and forecasts, and
    # at those smoothing parameters the decomposition heuristic's states fit worse
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = _log_series(seed=7, n=72, noise=0.06)
    idx = pd.date_range("2020-01-01", periods=72, freq="MS")
    fit = F.ets_fit(y, 12, trend=trend, seasonal=True, season_ls=True)
    assert fit.season0.sum() == pytest.approx(0, abs=1e-9)
    al, be, ga, ph = F._unpack(fit.params, trend != "N", trend == "Ad", True)
    names = {"smoothing_level": al, "smoothing_trend": be, "damping_trend": ph,
             "smoothing_seasonal": ga}

    def smooth(init, season):
        kw = {"initial_level": init[0], "initial_seasonal": season}
        if trend != "N":
            kw["initial_trend"] = init[1]
        mod = ETSModel(pd.Series(y, index=idx), error="add",
                       trend="add" if trend != "N" else None, damped_trend=trend == "Ad",
                       seasonal="add", seasonal_periods=12, initialization_method="known",
                       **kw)
        return mod.smooth([names[p] for p in mod.param_names])

    res = smooth(fit.init, fit.season0)
    assert fit.sse == pytest.approx(res.sse, rel=1e-9)
    np.testing.assert_allclose(fit.mean, np.asarray(res.forecast(12)), rtol=1e-9)
    heur = F.ets_fit(y, 12, trend=trend, seasonal=True, start_params=fit.params)
    assert smooth(heur.init, heur.season0).sse > fit.sse
    # the heuristic fit's own optimum is no better: the LS states nest the heuristic's
    assert F.ets_fit(y, 12, trend=trend, seasonal=True, season_ls=True,
                     start_params=heur.params).sse <= heur.sse * (1 + 1e-9)
