"""Single-series forecasting models on statsmodels: ETS, SARIMA(X), Theta and the naive baselines.

Every model function has the same signature::

    model(y, h, *, start, xreg=None, xreg_future=None, m=12) -> Forecast

``y`` is a 1-D float array of monthly values (oldest first, no gaps), ``start`` the month of
``y[0]`` (a ``pd.Period``), ``h`` the horizon in months. ``xreg``/``xreg_future`` are optional
regressor matrices (rows = months) for the moving Spring Festival (see :mod:`.festival`); models
without native regressors ignore them (the festival adjustment is then applied around the model
by :func:`kehu_lib.forecast.select.forecast_one`).

Retail volumes are modelled on the log scale where the series is strictly positive: additive
seasonality on logs is multiplicative seasonality on the original scale (the known trap: additive
seasonality on raw retail data is no better than the seasonal naive), and the log-scale intervals
map back by ``exp`` (quantiles survive a monotone transform; the point forecast is the median).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm

#: Nominal coverage levels of the prediction intervals (percent).
LEVELS = (80, 95)
#: A forecast above this multiple of the series' maximum (or below its minimum divided by it)
#: is rejected as exploding.
EXPLODE_FACTOR = 3.0
#: L-BFGS-B stopping rule of the ETS fits (scipy's ``factr``/``pgtol``): 'moderate accuracy'
#: (factr 1e10 instead of 1e7) stops after about half the likelihood evaluations with
#: forecasts that differ by well under a percent (the smoothing parameters are flat near the
#: optimum); measured on the sample city's backtest, see ``build_month_forecasts``.
ETS_FIT = {"factr": 1e10, "pgtol": 1e-4}


@dataclass
class Forecast:
    """Point forecast and interval bounds of one series, one array element per horizon step."""

    mean: np.ndarray
    lo: dict[int, np.ndarray] = field(default_factory=dict)  # level -> lower bound
    hi: dict[int, np.ndarray] = field(default_factory=dict)  # level -> upper bound
    model: str = ""
    note: str = ""  # e.g. the ETS form chosen

    def clip(self, lower: float = 0.0) -> "Forecast":
        """Clip mean and bounds at ``lower`` (volumes are never negative)."""
        self.mean = np.maximum(self.mean, lower)
        for lv in self.lo:
            self.lo[lv] = np.maximum(self.lo[lv], lower)
            self.hi[lv] = np.maximum(self.hi[lv], lower)
        return self

    def map(self, fn) -> "Forecast":
        """Apply a monotone increasing function to mean and bounds (e.g. ``np.exp``)."""
        return Forecast(fn(self.mean), {k: fn(v) for k, v in self.lo.items()},
                        {k: fn(v) for k, v in self.hi.items()}, self.model, self.note)

    def shift(self, delta: np.ndarray) -> "Forecast":
        """Add ``delta`` (one value per step) to mean and bounds."""
        return self.map(lambda a: a + delta)


def _normal(mean: np.ndarray, sd: np.ndarray, model: str, note: str = "") -> Forecast:
    """Forecast with Gaussian intervals ``mean +- z * sd`` at each level of :data:`LEVELS`."""
    fc = Forecast(np.asarray(mean, float), model=model, note=note)
    for lv in LEVELS:
        z = norm.ppf(0.5 + lv / 200)
        fc.lo[lv] = fc.mean - z * sd
        fc.hi[lv] = fc.mean + z * sd
    return fc


def _index(start: pd.Period, n: int) -> pd.DatetimeIndex:
    return pd.date_range(pd.Period(start, freq="M").to_timestamp(), periods=n, freq="MS")


def _quiet():
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("ignore")
    return ctx


# --------------------------------------------------------------------------------------------
# baselines


def snaive(y, h, *, start=None, xreg=None, xreg_future=None, m: int = 12) -> Forecast:
    """Seasonal naive: the value of the same month one year earlier.

    Intervals: Gaussian with the in-sample seasonal-difference residual standard deviation times
    ``sqrt(k)``, k = number of seasons ahead (Hyndman & Athanasopoulos, FPP3 §5.5).
    """
    y = np.asarray(y, float)
    if len(y) < m:
        return naive(y, h)
    steps = np.arange(h)
    mean = y[len(y) - m + steps % m]
    resid = y[m:] - y[:-m]
    sigma = np.sqrt(np.mean(resid ** 2)) if len(resid) else 0.0
    k = steps // m + 1
    return _normal(mean, sigma * np.sqrt(k), "snaive")


def naive(y, h, *, start=None, xreg=None, xreg_future=None, m: int = 12) -> Forecast:
    """Naive: the last value; sd from first differences times ``sqrt(step)``."""
    y = np.asarray(y, float)
    resid = np.diff(y)
    sigma = np.sqrt(np.mean(resid ** 2)) if len(resid) else 0.0
    return _normal(np.repeat(y[-1], h), sigma * np.sqrt(np.arange(1, h + 1)), "naive")


def mean_model(y, h, *, start=None, xreg=None, xreg_future=None, m: int = 12,
               window: int = 12) -> Forecast:
    """Mean of the last ``window`` values; for very short and intermittent series.

    Intervals: Gaussian, sd * sqrt(1 + 1/n) (FPP3 §5.5, mean method).
    """
    y = np.asarray(y, float)[-window:]
    n = len(y)
    sd = y.std(ddof=1) if n > 1 else (abs(y[0]) * 0.5 if n else 0.0)
    sd_h = np.repeat(sd * np.sqrt(1 + 1 / max(n, 1)), h)
    return _normal(np.repeat(y.mean() if n else 0.0, h), sd_h, "mean")


def zeros(y, h, **_) -> Forecast:
    """All-zero series: zero forecast with zero-width intervals."""
    z = np.zeros(h)
    return Forecast(z, {lv: z.copy() for lv in LEVELS}, {lv: z.copy() for lv in LEVELS}, "zero")


# --------------------------------------------------------------------------------------------
# statsmodels models


def _log_or_raw(y: np.ndarray) -> tuple[np.ndarray, bool]:
    if np.all(y > 0):
        return np.log(y), True
    return y, False


def ets(y, h, *, start=None, xreg=None, xreg_future=None, m: int = 12,
        init: str = "heuristic", trends: tuple[str, ...] = ("N", "Ad"),
        warm: dict | None = None) -> Forecast:
    """ETS (state-space exponential smoothing), form chosen by AICc.

    statsmodels ``ETSModel`` with additive errors on log(y) (multiplicative behaviour on the
    original scale) when y > 0, else on y. Candidate forms (``trends``): trend none / additive
    damped (an undamped trend, "A", extrapolates too far over a year on retail data and is off
    by default), times seasonality additive (only with >= 2 full years, 24 months) or none. Initial
    states by the heuristic of Hyndman et al. (2008), so only smoothing parameters are estimated
    (fast). Forms whose forecast explodes (> :data:`EXPLODE_FACTOR` x the series' range) are
    rejected. Intervals: the model's analytic prediction intervals, back-transformed.
    ``warm``: a dict shared by the fits of one series (e.g. the rolling origins of a backtest):
    each form starts its optimisation from the parameters it had in the previous fit, and the
    dict is updated (the fits then need about half the likelihood evaluations).
    """
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = np.asarray(y, float)
    z, logged = _log_or_raw(y)
    idx = _index(start if start is not None else pd.Period("2000-01", "M"), len(z))
    s = pd.Series(z, index=idx)
    seasons = ["add", None] if len(z) >= 2 * m else [None]
    spec = {"N": (None, False), "Ad": ("add", True), "A": ("add", False)}
    forms = [spec[t] + (se,) for se in seasons for t in trends]
    best = None
    ctx = _quiet()
    try:
        for trend, damped, seas in forms:
            try:
                mod = ETSModel(s, error="add", trend=trend, damped_trend=damped, seasonal=seas,
                               seasonal_periods=m if seas else None,
                               initialization_method=init if seas else "estimated")
                key = ("ets", trend, damped, seas, logged)
                sp = warm.get(key) if warm is not None else None
                if sp is not None and len(sp) != len(mod.param_names):
                    sp = None
                res = mod.fit(start_params=sp, disp=False, maxiter=200, **ETS_FIT)
                if warm is not None:
                    warm[key] = np.asarray(res.params, float)
            except Exception:  # noqa: BLE001 - a form that cannot be fitted is skipped
                continue
            aicc = res.aicc
            if not np.isfinite(aicc):
                continue
            if best is not None and aicc >= best[0]:
                continue
            # the point forecast is enough to reject an exploding form; the intervals (a
            # prediction object, ~1/4 of a fit's cost) are computed for the chosen form only
            mean = np.asarray(res.forecast(h), float)
            if _explodes(np.exp(mean) if logged else mean, y):
                continue
            name = "A" + ("Ad" if damped else ("A" if trend else "N")) + ("A" if seas else "N")
            best = (aicc, res, name)
        if best is not None:
            out = _ets_intervals(best[1], h, idx)
    finally:
        ctx.__exit__(None, None, None)
    if best is None:
        return naive(y, h)
    if logged:
        out = out.map(np.exp)
    out.note = ("log " if logged else "") + f"ETS({best[2]})"
    out.model = "ets"
    return out


def _ets_intervals(res, h: int, idx: pd.DatetimeIndex) -> Forecast:
    pred = res.get_prediction(start=idx[-1] + pd.offsets.MonthBegin(1),
                              end=idx[-1] + pd.offsets.MonthBegin(h))
    mean = np.asarray(pred.predicted_mean, float)
    sd = np.sqrt(np.maximum(np.asarray(pred.forecast_variance, float), 0))
    return _normal(mean, sd, "ets")


def _explodes(mean: np.ndarray, y: np.ndarray) -> bool:
    pos = y[y > 0]
    if not np.all(np.isfinite(mean)):
        return True
    if not len(pos):
        return False
    return bool(mean.max() > EXPLODE_FACTOR * pos.max() or mean.min() < pos.min() / EXPLODE_FACTOR
                and mean.min() < 0.5 * np.median(pos))


def theta(y, h, *, start=None, xreg=None, xreg_future=None, m: int = 12) -> Forecast:
    """Theta method (Assimakopoulos & Nikolopoulos 2000) via statsmodels ``ThetaModel``.

    On log(y) when y > 0; deseasonalised (additive on logs = multiplicative) when at least two
    full years are available. Intervals: see below, back-transformed.
    """
    from statsmodels.tsa.forecasting.theta import ThetaModel

    y = np.asarray(y, float)
    z, logged = _log_or_raw(y)
    idx = _index(start if start is not None else pd.Period("2000-01", "M"), len(z))
    ctx = _quiet()
    try:
        seasonal = len(z) >= 2 * m
        res = _theta_fit(ThetaModel(pd.Series(z, index=idx), period=m, deseasonalize=seasonal,
                                    method="additive", use_test=False))
        mean = np.asarray(res.forecast(h), float)
        # Intervals of the SES-with-drift form of Theta (Hyndman & Billah 2003): the h-step
        # variance is sigma^2 (1 + (h-1) alpha^2), sigma^2 from the in-sample one-step errors of
        # SES on the (deseasonalised) series. statsmodels' own ``prediction_intervals`` refits an
        # ARIMA(0,1,1) by MLE for sigma^2, which costs ~10x the whole Theta fit.
        alpha = float(res.params["alpha"])
        sigma = _ses_sigma(_deseasonalise(z, m) if seasonal else z, alpha)
        sd = sigma * np.sqrt(1 + np.arange(h) * alpha ** 2)
        fc = _normal(mean, sd, "theta", note="log Theta" if logged else "Theta")
    finally:
        ctx.__exit__(None, None, None)
    if logged:
        fc = fc.map(np.exp)
    if _explodes(fc.mean, y):
        return naive(y, h)
    return fc


def _theta_fit(mod):
    """``ThetaModel.fit()`` (its default, ``use_mle=False``) without the state-space machinery.

    statsmodels fits the SES of the Theta method as a state-space ``ExponentialSmoothing`` with
    the initial level known (= y_0) and the scale concentrated out, i.e. alpha minimises the sum
    of squared one-step errors on (0, 1); the drift b0 is the OLS slope on a trend. The same
    here with a bounded scalar search and ``lfilter`` for the smoothing recursion (~10x faster;
    alpha agrees to ~1e-5). Returns statsmodels' ``ThetaModelResults``.
    """
    from scipy.optimize import minimize_scalar
    from scipy.signal import lfilter
    from statsmodels.tsa.forecasting.theta import ThetaModelResults
    from statsmodels.tsa.tsatools import add_trend

    y, seasonal = mod._deseasonalize_data()
    y = np.asarray(y, float)
    ct = add_trend(y, "ct", prepend=True)[:, :2]
    ct[:, 1] -= 1
    _, b0 = np.linalg.lstsq(ct, y, rcond=None)[0]

    def levels(alpha):  # l_t = alpha y_t + (1 - alpha) l_{t-1}, l_{-1} = y_0
        return lfilter([alpha], [1.0, alpha - 1.0], y, zi=[(1 - alpha) * y[0]])[0]

    def sse(alpha):
        pred = np.concatenate(([y[0]], levels(alpha)[:-1]))
        return float(np.sum((y - pred) ** 2))

    opt = minimize_scalar(sse, bounds=(1e-8, 1 - 1e-8), method="bounded",
                          options={"xatol": 1e-7})
    alpha = float(opt.x)
    return ThetaModelResults(b0, alpha, None, float(levels(alpha)[-1]), seasonal, False, mod)


def _deseasonalise(z: np.ndarray, m: int) -> np.ndarray:
    """Remove additive classical-decomposition seasonal indices (as ThetaModel does on logs)."""
    from statsmodels.tsa.seasonal import seasonal_decompose

    dec = seasonal_decompose(z, model="additive", period=m)
    return z - dec.seasonal


def _ses_sigma(x: np.ndarray, alpha: float) -> float:
    """Root mean square of the one-step errors of simple exponential smoothing with ``alpha``."""
    level = x[0]
    err = np.empty(len(x) - 1)
    for t in range(1, len(x)):
        err[t - 1] = x[t] - level
        level += alpha * err[t - 1]
    return float(np.sqrt(np.mean(err ** 2))) if len(err) else 0.0


def sarima(y, h, *, start=None, xreg=None, xreg_future=None, m: int = 12,
           warm: dict | None = None) -> Forecast:
    """Seasonal ARIMA with optional regressors (SARIMAX), statsmodels state space.

    The airline model ARIMA(0,1,1)(0,1,1)_12 on log(y) (Box & Jenkins), which suits trending
    multiplicative-seasonal retail data; ARIMA(0,1,1) with drift-free differencing when there are
    fewer than 26 months. ``xreg`` (e.g. the Spring-Festival share) enters as regressors.
    Intervals from ``get_forecast``, back-transformed. ``warm``: start from the parameters of
    the previous fit of the same form (see :func:`ets`).
    """
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    y = np.asarray(y, float)
    z, logged = _log_or_raw(y)
    seasonal = (0, 1, 1, m) if len(z) >= 2 * m + 2 else (0, 0, 0, 0)
    ctx = _quiet()
    try:
        mod = SARIMAX(z, exog=xreg, order=(0, 1, 1), seasonal_order=seasonal,
                      concentrate_scale=True)
        # approximate diffuse start for the differencing states: the same estimates (to ~0.01)
        # as the exact diffuse filter at ~1/10 of the cost per likelihood evaluation
        mod.ssm.initialize_approximate_diffuse(1e6)
        key = ("sarima", seasonal, xreg is not None, logged)
        sp = warm.get(key) if warm is not None else None
        if sp is not None and len(sp) != len(mod.param_names):
            sp = None
        res = mod.fit(start_params=sp, disp=False, maxiter=50)
        if warm is not None:
            warm[key] = np.asarray(res.params, float)
        pred = res.get_forecast(h, exog=xreg_future)
        mean = np.asarray(pred.predicted_mean, float)
        sd = np.sqrt(np.maximum(np.asarray(pred.var_pred_mean, float), 0))
    finally:
        ctx.__exit__(None, None, None)
    fc = _normal(mean, sd, "sarima", note=("log " if logged else "") +
                 ("SARIMA(0,1,1)(0,1,1)12" if seasonal[3] else "ARIMA(0,1,1)") +
                 ("+春节" if xreg is not None else ""))
    if logged:
        fc = fc.map(np.exp)
    if _explodes(fc.mean, y):
        return naive(y, h)
    return fc


def combine(forecasts: list[Forecast], model: str = "combo", bounds: str = "median") -> Forecast:
    """Equal-weight combination: the mean of the members' point forecasts; interval bounds the
    median (``bounds="median"``, default) or the mean (``"mean"``, quantile averaging or
    "Vincentization", Lichtendahl, Grushka-Cockayne & Winkler 2013) of the members' bounds.

    The median keeps one member with too-wide intervals (the airline SARIMA on short windows)
    from widening the combination: on aus_retail it brings the 80% coverage from ~85% to ~80%.
    """
    agg = np.median if bounds == "median" else np.mean
    mean = np.mean([f.mean for f in forecasts], axis=0)
    out = Forecast(mean, model=model, note="+".join(f.model for f in forecasts))
    for lv in LEVELS:
        out.lo[lv] = np.minimum(agg([f.lo[lv] for f in forecasts], axis=0), mean)
        out.hi[lv] = np.maximum(agg([f.hi[lv] for f in forecasts], axis=0), mean)
    return out


#: Registry of the model functions by name.
MODELS = {"snaive": snaive, "naive": naive, "mean": mean_model, "zero": zeros, "ets": ets,
          "theta": theta, "sarima": sarima}
