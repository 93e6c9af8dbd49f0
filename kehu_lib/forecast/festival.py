"""The Spring Festival (春节) as a moving-holiday regressor.

The festival moves between 21 January and 20 February, and the pre-festival buying weeks (the
year's peak) fall in January in some years and mostly in February in others. A fixed monthly
seasonal pattern cannot follow that; a regressor can: for each month, the share of the
pre-festival window that falls in the month (:func:`kehu_lib.calendar.pre_festival_share`, from
the real lunar dates of the ``lunardate`` package) and the share of the quiet post-festival
fortnight. The forecasts scale each share by (window days / days of the month), i.e. use the
fraction of the month's days that lie in the window (``per_day``, ``select.FESTIVAL_PER_DAY``):
the month's log lift is proportional to it, so a short February gets its due. On the sample
city's last 12 months it cut the January/February MASE from 1.14 (plain share) to 0.96 (3.75
without the regressor), the other months' from 0.543 to 0.535.

SARIMA takes it as a regressor (SARIMAX). Models without regressors (ETS, Theta) use it in two
steps: the effect ``beta`` is estimated on the log scale by OLS of the seasonal differences,
``Δ12 log y = c + Δ12 x beta`` (seasonal differencing removes the fixed seasonality and the
level, so only the moving part of the festival is left to explain); the model is fitted to the
series as it is (its seasonal pattern then holds the festival at its average position in the
training years) and its forecast of each month multiplied by ``exp(beta (x_future - mean x of
that calendar month in training))`` (:func:`forecast_correction`). Months the festival never
touches get a factor of exactly 1, so the regressor cannot change them. (Dividing the training
data by ``exp(x beta)`` instead cut the January/February error as much but made the other
months' forecasts worse in the sample city.) The effect is kept only when it is clearly there
(|t| >= :data:`MIN_T`), so a series without the effect is left untouched. The forecasts use
the pre-festival share only (``select.FESTIVAL_POST``): adding the post-festival fortnight made
March worse on the sample city. The intervals of the months the regressor moves also carry the
effect's estimation error (:func:`effect_spread`, :func:`widen`; ``select.FESTIVAL_SPREAD``): a
few festival seasons pin ``beta`` down only loosely, and the model intervals alone ignore that
(sample city, January/February 95% coverage 0.73 -> 0.85; other months unchanged).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np
import pandas as pd

from ..calendar import PRE_FESTIVAL_DAYS, pre_festival_share, spring_festival

__all__ = ["festival_regressor", "estimate_effect", "forecast_correction", "POST_DAYS", "MIN_T"]

#: Length of the quiet post-festival period in days (shops are stocked up).
POST_DAYS = 14
#: Length of the pre-festival buying window in days (:data:`kehu_lib.calendar.PRE_FESTIVAL_DAYS`).
PRE_DAYS = PRE_FESTIVAL_DAYS
#: Minimum |t| of the festival coefficient for the adjustment to be applied.
MIN_T = 2.0


def post_festival_share(month, days: int = POST_DAYS) -> float:
    """Share (0-1) of the ``days`` days from 春节 on (inclusive) that fall in ``month``."""
    return _post_share(str(pd.Period(month, freq="M")), days)


@lru_cache(maxsize=None)
def _pre_share(month: str) -> float:
    # pre_festival_share builds daily date ranges (~1 ms); the forecasts ask for the same few
    # dozen months thousands of times
    return pre_festival_share(month)


@lru_cache(maxsize=None)
def _post_share(month: str, days: int) -> float:
    period = pd.Period(month, freq="M")
    total = 0
    for year in (period.year - 1, period.year):
        fest = spring_festival(year)
        window = pd.date_range(fest, fest + dt.timedelta(days=days - 1), freq="D")
        total += int(((window.year == period.year) & (window.month == period.month)).sum())
    return total / days


def festival_regressor(ds, *, post: bool = True, per_day: bool = False) -> pd.DataFrame:
    """The festival regressor for each month of ``ds`` (month-start timestamps or periods).

    Returns columns ``festival_pre`` (share of the 28 pre-festival days in the month, 0-1) and,
    when ``post``, ``festival_post`` (share of the 14 days from 春节 on), one row per month in the
    order given.

    ``per_day``: each share times (window days / days of the month), i.e. the fraction of the
    month's days that are pre- (post-) festival days. A month's sales are Σ of its daily sales, so
    when the window's days sell ``k`` times a normal day the month's log lift is about
    ``(k - 1) x`` with this ``x``: the same 12 window days lift a 28-day February more than a
    31-day January. On the sample city it cut the January/February error of the forecasts by a
    sixth against the plain share (see benchmarks/forecast_bench.py).
    """
    idx = pd.Index(ds)
    if isinstance(idx, pd.PeriodIndex) and len(idx) and idx.freqstr == "M" and \
            (len(idx) == 1 or (idx[1:] - idx[:-1] == idx.freq).all()):
        # a run of consecutive months (the forecasts' case): cached by its first month
        cols = _regressor_run(str(idx[0]), len(idx), post, per_day)
    else:
        keys = tuple(str(pd.Period(d, freq="M")) for d in idx)
        cols = _regressor_cols(keys, post, per_day)
    return pd.DataFrame({k: v.copy() for k, v in cols.items()})


def regressor_matrix(start, n: int, *, post: bool = True, per_day: bool = False) -> np.ndarray:
    """``festival_regressor(pd.period_range(start, periods=n, freq="M"), post=..., per_day=...)
    .to_numpy()`` (rows = months, columns ``festival_pre`` and, when ``post``,
    ``festival_post``) from the cache of runs of months, without building the periods and the
    frame (the forecasts of a month ask for it ~1,000 times)."""
    cols = _regressor_run(str(pd.Period(start, freq="M")), int(n), post, per_day)
    return np.column_stack(list(cols.values()))


@lru_cache(maxsize=4096)
def _regressor_run(first: str, n: int, post: bool, per_day: bool) -> dict:
    start = pd.Period(first, freq="M")
    return _regressor_cols(tuple(str(start + i) for i in range(n)), post, per_day)


def _regressor_cols(keys: tuple, post: bool, per_day: bool) -> dict:
    days = np.array([pd.Period(k, freq="M").days_in_month for k in keys], float)
    scale = (lambda n: n / days) if per_day else (lambda n: 1.0)
    pre = np.array([_pre_share(k) for k in keys], float)
    out = {"festival_pre": pre * scale(PRE_DAYS)}
    if post:
        out["festival_post"] = np.array([_post_share(k, POST_DAYS) for k in keys],
                                        float) * scale(POST_DAYS)
    return out


def _combined(x: np.ndarray) -> np.ndarray:
    """One regressor from the pre and post shares: pre-festival days add, post-festival days
    subtract half as much (one coefficient is all a few festival seasons can estimate)."""
    x = np.atleast_2d(np.asarray(x, float))
    if x.shape[0] == 1 and x.shape[1] != 1:
        x = x.T
    return x[:, 0] - 0.5 * x[:, 1] if x.shape[1] > 1 else x[:, 0]


def estimate_effect(y, x, *, m: int = 12, min_t: float = MIN_T) -> dict:
    """Estimate the festival effect on log(y) from seasonal differences.

    Parameters
    ----------
    y : array of positive monthly values (oldest first).
    x : the regressor rows for the same months (:func:`festival_regressor` as an array).

    Returns
    -------
    dict with ``beta`` (log-scale effect of a month holding the whole pre-festival window; 0 when
    not significant or not estimable), ``t`` (its t statistic, NaN if not estimable) and ``used``
    (bool).
    """
    y = np.asarray(y, float)
    xc = _combined(x)
    out = {"beta": 0.0, "t": float("nan"), "used": False}
    if len(y) < m + 4 or np.any(y <= 0):
        return out
    dy = np.log(y[m:]) - np.log(y[:-m])
    dx = xc[m:] - xc[:-m]
    if np.count_nonzero(np.abs(dx) > 1e-9) < 2:
        return out
    # OLS with a constant in closed form (the same estimates and t as statsmodels' OLS, without
    # its model-building overhead, which dominated the cheap SKU forecasts)
    n = len(dy)
    dxc = dx - dx.mean()
    sxx = float(dxc @ dxc)
    if n < 3 or sxx <= 0:
        return out
    beta = float(dxc @ (dy - dy.mean())) / sxx
    resid = dy - dy.mean() - beta * dxc
    s2 = float(resid @ resid) / (n - 2)
    if s2 > 0:
        t = beta / np.sqrt(s2 / sxx)
    else:  # a perfect fit: t is infinite (or undefined without an effect), as in statsmodels
        t = float(np.copysign(np.inf, beta)) if beta != 0 else float("nan")
    out["t"] = t
    if np.isfinite(t) and abs(t) >= min_t:
        out.update(beta=beta, used=True)
    return out


#: :func:`_month_means` by regressor, training length and period (the same few dozen keys
#: come back for every series of a month and every model of a series).
_MEANS: dict = {}


def _month_means(xc: np.ndarray, n: int, m: int) -> np.ndarray:
    """Mean of the combined regressor ``xc`` over the training rows ``0..n-1`` of each calendar
    month position ``0..m-1`` (0 for a position without training rows), cached (read-only)."""
    key = (xc.tobytes(), n, m)
    means = _MEANS.get(key)
    if means is None:
        pos = np.arange(len(xc)) % m
        means = np.array([xc[:n][pos[:n] == k].mean() if np.any(pos[:n] == k) else 0.0
                          for k in range(m)])
        means.flags.writeable = False
        if len(_MEANS) < 4096:
            _MEANS[key] = means
    return means


def forecast_correction(x, n: int, beta: float, *, m: int = 12) -> np.ndarray:
    """Factor for each forecast month ``n..len(x)-1``: ``exp(beta (x_t - mean_x(month of t)))``
    where the mean is over the training rows ``0..n-1`` of the same calendar month."""
    xc = _combined(x)
    pos = np.arange(len(xc)) % m
    means = _month_means(xc, n, m)
    return np.exp(beta * (xc[n:] - means[pos[n:]]))


def effect_spread(x, n: int, se: float, *, m: int = 12) -> np.ndarray:
    """Log-scale standard deviation the festival effect's estimation error adds to each forecast
    month ``n..len(x)-1``: ``se * |x_t - mean_x(month of t)|`` — the uncertainty of
    ``beta`` (standard error ``se``) times how far the month's regressor moves from the training
    average that the seasonal pattern already holds (0 in months the festival never touches)."""
    xc = _combined(x)
    pos = np.arange(len(xc)) % m
    means = _month_means(xc, n, m)
    return float(se) * np.abs(xc[n:] - means[pos[n:]])


def widen(fc, spread: np.ndarray):
    """``fc`` with each interval's log half-width ``w`` replaced by ``sqrt(w^2 + (z spread)^2)``
    (independent errors add in variance; z of the interval's level). Needs positive bounds;
    others are widened in relative terms around the mean."""
    from .models import Z_SCORES

    spread = np.asarray(spread, float)
    if not np.any(spread > 0):
        return fc
    mean = np.maximum(np.asarray(fc.mean, float), 1e-12)
    for lv in fc.lo:
        add = (Z_SCORES[lv] * spread) ** 2
        up = np.log(np.maximum(fc.hi[lv], 1e-12) / mean)
        down = np.log(mean / np.maximum(fc.lo[lv], 1e-12))
        fc.hi[lv] = mean * np.exp(np.sqrt(np.maximum(up, 0) ** 2 + add))
        lo = mean * np.exp(-np.sqrt(np.maximum(down, 0) ** 2 + add))
        fc.lo[lv] = np.where(fc.lo[lv] > 0, lo, fc.lo[lv] - (mean - lo))
    return fc


def adjustment(x, beta: float) -> np.ndarray:
    """Multiplicative festival factor ``exp(x beta)`` for each row of ``x``."""
    return np.exp(_combined(x) * beta)
