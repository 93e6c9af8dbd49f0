"""Croston, SBA and TSB for intermittent series, and their mixture intervals."""

import numpy as np
import pytest

from kehu_lib.forecast import intermittent as I

Y = np.array([0, 0, 6, 0, 0, 0, 3, 0, 9, 0, 0, 0, 0, 3, 0, 0], float)


def test_croston_hand_computed():
    # sizes 6, 3, 9, 3; intervals (index + 1 differences) 3, 4, 2, 5; SES with alpha 0.1 from the
    # first value: sizes 6 -> 5.7 -> 6.03 -> 5.727; intervals 3 -> 3.1 -> 2.99 -> 3.191
    assert I.ses_level([6, 3, 9, 3], 0.1) == pytest.approx(5.727)
    assert I.ses_level([3, 4, 2, 5], 0.1) == pytest.approx(3.191)
    np.testing.assert_allclose(I.croston(Y, 3), 5.727 / 3.191)
    np.testing.assert_allclose(I.sba(Y, 2), 0.95 * 5.727 / 3.191)


def test_tsb_hand_computed():
    # probability: SES of the 0/1 occurrence series from its first value (0); sizes as above
    occ = (Y > 0).astype(float)
    p = 0.0
    for v in occ[1:]:
        p = 0.1 * v + 0.9 * p
    np.testing.assert_allclose(I.tsb(Y, 4), p * 5.727)


def test_tsb_decays_after_demand_stops_and_croston_does_not():
    y = np.r_[np.tile([0, 4.0], 10), np.zeros(12)]
    assert I.tsb(y, 1)[0] < I.tsb(y[:20], 1)[0] * 0.5
    assert I.croston(y, 1)[0] == pytest.approx(I.croston(y[:20], 1)[0])


def test_matches_statsforecast():
    sf = pytest.importorskip("statsforecast.models")
    rng = np.random.default_rng(3)
    for _ in range(5):
        y = (rng.random(48) < 0.35) * rng.integers(1, 30, 48).astype(float)
        y[5] = 4.0
        assert I.croston(y, 1)[0] == pytest.approx(sf.CrostonClassic().forecast(y=y, h=1)["mean"][0])
        assert I.sba(y, 1)[0] == pytest.approx(sf.CrostonSBA().forecast(y=y, h=1)["mean"][0])
        assert I.tsb(y, 1)[0] == pytest.approx(sf.TSB(0.1, 0.1).forecast(y=y, h=1)["mean"][0])


def test_mixture_bounds_hand_computed():
    y = np.array([0, 0, 0, 10, 0, 20, 0, 30, 0, 40], float)  # 40% non-zero, sizes 10..40
    b = I.mixture_bounds(y, (80,), prob=0.4)
    # lower quantile 0.1 <= 0.6 zero mass -> 0; upper 0.9 -> sizes' quantile (0.9-0.6)/0.4=0.75
    assert b[80][0] == 0.0
    assert b[80][1] == pytest.approx(np.quantile([10, 20, 30, 40], 0.75))


def test_intermittent_bounds_bracket_the_mean_and_zero_series():
    mean, lo, hi = I.intermittent(Y, 3, method="sba")
    for lv in (80, 95):
        assert np.all(lo[lv] <= mean) and np.all(mean <= hi[lv])
    assert np.all(lo[95] <= lo[80]) and np.all(hi[80] <= hi[95])
    z, zlo, zhi = I.intermittent(np.zeros(10), 2)
    np.testing.assert_array_equal(z, 0.0)
    np.testing.assert_array_equal(zhi[95], 0.0)
    with pytest.raises(ValueError, match="unknown intermittent method"):
        I.intermittent(Y, 1, method="holt")
