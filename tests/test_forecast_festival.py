"""The Spring-Festival regressor against the real lunar dates, and its effect on forecasts."""

import numpy as np
import pandas as pd
import pytest

from kehu_lib.forecast import festival as fest
from kehu_lib.forecast.select import forecast_one


def test_regressor_matches_real_festival_dates():
    # 春节 2025-01-29: pre window 2025-01-01..01-28 all in January; 14 post days 01-29..02-11
    # 春节 2026-02-17: pre window 2026-01-20..02-16 = 12 days Jan + 16 days Feb; post 02-17..03-02
    x = fest.festival_regressor(pd.to_datetime(
        ["2025-01-01", "2025-02-01", "2026-01-01", "2026-02-01", "2026-03-01", "2026-07-01"]))
    np.testing.assert_allclose(x["festival_pre"], [1.0, 0.0, 12 / 28, 16 / 28, 0.0, 0.0])
    np.testing.assert_allclose(x["festival_post"], [3 / 14, 11 / 14, 0.0, 12 / 14, 2 / 14, 0.0])


def test_per_day_regressor_is_the_share_of_the_months_days():
    # the same windows as above, as window days / days of the month (hand count): 2025-01 has
    # 28 of its 31 days in the window; 2026-01 12 of 31, 2026-02 16 of 28; post 2026-03: 2 of 31
    x = fest.festival_regressor(pd.to_datetime(
        ["2025-01-01", "2025-02-01", "2026-01-01", "2026-02-01", "2026-03-01"]), per_day=True)
    np.testing.assert_allclose(x["festival_pre"], [28 / 31, 0.0, 12 / 31, 16 / 28, 0.0])
    np.testing.assert_allclose(x["festival_post"], [3 / 31, 11 / 28, 0.0, 12 / 28, 2 / 31])


def _planted(effect, seed=1, start="2022-01", n=48):
    months = pd.period_range(start, periods=n, freq="M")
    rng = np.random.default_rng(seed)
    season = 1 + 0.1 * np.sin(2 * np.pi * months.month.to_numpy() / 12)
    x = fest.festival_regressor(months, post=False)["festival_pre"].to_numpy()
    return months, 1000 * season * np.exp(effect * x + rng.normal(0, 0.02, n)), x


def test_estimate_recovers_planted_effect():
    months, y, x = _planted(0.5)
    est = fest.estimate_effect(y, x[:, None])
    assert est["used"] and est["beta"] == pytest.approx(0.5, abs=0.05)


def test_no_effect_is_not_used():
    months, y, x = _planted(0.0, seed=3)
    assert not fest.estimate_effect(y, x[:, None])["used"]


def test_regressor_cuts_jan_feb_error_when_the_festival_moves():
    # train through 2025-12 (春节 2025 in January), forecast 2026 (春节 moves to February)
    months, y, _ = _planted(0.5, n=60)
    n = 48
    start = months[0]
    with_f = forecast_one(y[:n], 12, start=start, model="ets", festival=True)
    without = forecast_one(y[:n], 12, start=start, model="ets", festival=False)
    err = lambda f: np.abs(f.mean[:2] - y[n:n + 2]).sum()  # noqa: E731
    assert err(with_f) < 0.75 * err(without)


def test_regressor_does_no_harm_without_the_effect():
    months, y, _ = _planted(0.0, seed=3, n=48)
    a = forecast_one(y, 12, start=months[0], model="theta", festival=True)
    b = forecast_one(y, 12, start=months[0], model="theta", festival=False)
    np.testing.assert_allclose(a.mean, b.mean)


def test_forecast_correction_hand_computed():
    # 24 training months from 2024-01 plus 12 ahead; combined regressor = pre - 0.5 post
    months = pd.period_range("2024-01", periods=36, freq="M")
    x = fest.festival_regressor(months).to_numpy()
    xc = x[:, 0] - 0.5 * x[:, 1]
    corr = fest.forecast_correction(x, 24, 0.4)
    jan = np.exp(0.4 * (xc[24] - (xc[0] + xc[12]) / 2))  # Jan 2026 vs mean of Jan 2024, 2025
    assert corr[0] == pytest.approx(jan)
    np.testing.assert_allclose(corr[3:12], 1.0)  # April..December: never touched


def test_estimate_matches_statsmodels_ols():
    # the closed-form OLS of the seasonal log differences against statsmodels' OLS
    import statsmodels.api as sm

    months, y, x = _planted(0.3, seed=4)
    est = fest.estimate_effect(y, x[:, None], min_t=0.0)
    dy = np.log(y[12:]) - np.log(y[:-12])
    dx = x[12:] - x[:-12]
    res = sm.OLS(dy, sm.add_constant(dx)).fit()
    assert est["beta"] == pytest.approx(res.params[1], rel=1e-9)
    assert est["t"] == pytest.approx(res.tvalues[1], rel=1e-9)


def test_regressor_of_periods_strings_and_empty_input():
    x = fest.festival_regressor(["2025-01", pd.Period("2026-02", "M")], post=False)
    np.testing.assert_allclose(x["festival_pre"], [1.0, 16 / 28])
    assert list(fest.festival_regressor([]).columns) == ["festival_pre", "festival_post"]
    assert len(fest.festival_regressor([])) == 0


def test_effect_spread_hand_computed():
    # as the correction above: Jan 2026 against the mean of Jan 2024 and Jan 2025
    months = pd.period_range("2024-01", periods=36, freq="M")
    x = fest.festival_regressor(months, post=False).to_numpy()
    s = fest.effect_spread(x, 24, 0.2)
    assert s[0] == pytest.approx(0.2 * abs(x[24, 0] - (x[0, 0] + x[12, 0]) / 2))
    np.testing.assert_allclose(s[3:12], 0.0)  # the festival never touches April..December


def test_widen_adds_log_half_widths_in_quadrature():
    from kehu_lib.forecast.models import LEVELS, Forecast, _normal

    fc = _normal(np.array([0.0, 0.0]), np.array([0.1, 0.1]), "x").map(lambda a: 100 * np.exp(a))
    z = {lv: np.log(fc.hi[lv][0] / 100) / 0.1 for lv in LEVELS}  # the levels' normal quantiles
    out = fest.widen(Forecast(fc.mean.copy(), dict(fc.lo), dict(fc.hi)), np.array([0.1, 0.0]))
    for lv in LEVELS:
        w = z[lv] * np.hypot(0.1, 0.1)  # hand: sqrt(0.1^2 + 0.1^2) standard deviations
        assert out.hi[lv][0] == pytest.approx(100 * np.exp(w))
        assert out.lo[lv][0] == pytest.approx(100 * np.exp(-w))
        assert out.hi[lv][1] == pytest.approx(fc.hi[lv][1])  # no spread: unchanged


def test_festival_months_intervals_include_the_effects_uncertainty(monkeypatch):
    from kehu_lib.forecast import select

    months, y, _ = _planted(0.5, n=60)
    n = 48
    wide = forecast_one(y[:n], 12, start=months[0], model="ets", festival=True)
    monkeypatch.setattr(select, "FESTIVAL_SPREAD", False)
    plain = forecast_one(y[:n], 12, start=months[0], model="ets", festival=True)
    np.testing.assert_allclose(wide.mean, plain.mean)
    assert (wide.hi[95][:2] > plain.hi[95][:2]).all() and (wide.lo[95][:2] < plain.lo[95][:2]).all()
    # March..November: never in a pre-festival window (December is when 春节 falls early)
    np.testing.assert_allclose(wide.hi[95][2:11], plain.hi[95][2:11])
