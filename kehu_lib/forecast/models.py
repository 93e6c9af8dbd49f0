"""Single-series forecasting models: ETS, SARIMA(X), Theta and the naive baselines.

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

from dataclasses import dataclass, field

import numpy as np
from . import fast as F

#: Nominal coverage levels of the prediction intervals (percent).
LEVELS = (80, 95)
#: A forecast above this multiple of the series' maximum (or below its minimum divided by it)
#: is rejected as exploding.
EXPLODE_FACTOR = 3.0

#: Whether ETS also fits the non-seasonal forms when the series is long enough for the seasonal
#: ones (the form is chosen by AICc). Off: on aus_retail (444 windows) and M1 monthly (250) the
#: forecasts were the same to 0.0003 in relative MASE and the ETS fits took ~37% less time. On
#: the product path (benchmarks/forecast_bench.py) turning them on left aus_retail, tourism and
#: PBS unchanged and M3 at 0.736 (difference to AutoETS -0.014 against -0.015).
NONSEASONAL_FORMS = False
#: Trend forms among which ETS chooses by AICc ("N" none, "A" additive, "Ad" additive damped).
#: Measured for issue 14 on the product path (benchmarks/forecast_bench.py windows; relative
#: MASE of the ETS member / of the product, aus_retail mean of 3 origins, M3 300, tourism 200,
#: PBS; baseline ("N", "Ad"): ETS 0.858 / 0.778 / 0.870 / 1.005, product 0.810 / 0.736 / 0.852
#: / 0.977): adding the undamped "A" brought M3 to 0.771 / 0.731 but tourism to 0.951 / 0.872
#: (an undamped trend runs a year-long surge forward) and PBS to 1.006 / 0.979; the damped trend
#: alone ("Ad", as Gardner's damped trend) brought M3 to 0.768 / 0.732 but aus_retail to 0.887 /
#: 0.818, tourism to 0.873 / 0.855, PBS to 1.012 / 0.978. M3 favours trends, the retail and
#: tourism series do not: no form set wins on all sets, so the choice stays none / damped.
ETS_TRENDS: tuple[str, ...] = ("N", "Ad")
#: Initial seasonal states of the seasonal ETS forms on series of at least
#: :data:`ETS_SEASON_LS_MIN` months: False = the decomposition heuristic's (statsmodels'
#: ``initialization_method="heuristic"``); "refine" = also estimated, concentrated out by least
#: squares with the initial level and trend (``fast.ets_fit(season_ls=True)``: their maximum-
#: likelihood values for given smoothing parameters, as the optimised initial states of
#: statsforecast's AutoETS and R's ``ets``), the optimiser started from the heuristic fit's
#: parameters and the estimated states kept when their SSE is lower; "best" = the estimated
#: states always, the lower SSE of two starts (the default start and the heuristic fit's).
#: Measured for issue 14 (benchmarks/forecast_bench.py windows; aus_retail 3 origins, M3 300,
#: tourism 200, PBS; relative MASE). The ETS member alone (no festival, no backtest), heuristic
#: 0.851 / 0.771 / 0.870 / -: estimated from the default start only 0.834 / 0.759 / 0.903
#: (from that start the optimiser lands in worse optima of the larger problem: tourism series
#: with a higher SSE than the heuristic's), "refine" 0.833 / 0.764 / (tourism mean MASE 1.7%
#: above the heuristic's), "best" 0.833 / 0.758 / 0.894, estimated states chosen by AICc
#: against the heuristic's 0.851 / 0.768 / (+0.5%). The product (heuristic: 0.810 / 0.737 /
#: 0.852 / 0.979, 80% coverage 0.811 / 0.783 / 0.891 / 0.794): "refine" 0.804 / 0.736 / 0.857 /
#: 0.980, coverage 0.818 / 0.779 / 0.888 / 0.794; "best" 0.804 / 0.735 / 0.857 / 0.981, coverage
#: 0.818 / 0.782 / 0.887 / 0.793, M3 difference to AutoETS -0.016 [-0.039, +0.007] (heuristic
#: -0.013 [-0.036, +0.009]), the ETS fits ~3x the time. The long tourism series (150-333
#: months) lose with estimated states, M3 and aus_retail gain; tourism's coverage does not move.
#: On all 1,428 M3 series "best" scored 0.743 against AutoETS's 0.753, difference -0.010
#: [-0.021, +0.001] (heuristic, same code otherwise: 0.744, -0.009 [-0.020, +0.002]), coverage
#: 0.757 / 0.919, time ratio to AutoETS 0.99 (heuristic 0.47): the CI still reaches above 0.
#: Off: neither the M3 CI nor tourism's coverage reaches its target, at twice the time.
ETS_SEASON_LS: bool | str = False
ETS_SEASON_LS_MIN = 36
#: Damping of the trend of the airline SARIMA's forecast function and of Theta's drift (None =
#: undamped, as the methods are published; :func:`kehu_lib.forecast.fast.damped_steps`).
#: Damping the airline forecast's trend (0.9) brought SARIMA's relative MASE from 0.856 to 0.820
#: on aus_retail and from 0.813 to 0.771 on M1 monthly; damping Theta's drift made Theta worse on
#: both (benchmarks/forecast_bench.py, the same windows), so it stays undamped.
SARIMA_PHI: float | None = 0.9
THETA_PHI: float | None = None
#: Models whose seasonal form is used only when the series passes the seasonality test of the
#: Theta method (:func:`kehu_lib.forecast.fast.has_seasonality`, 90% on the lag-m
#: autocorrelation of the modelling scale); a series that fails gets the non-seasonal form.
#: Measured (benchmarks/forecast_bench.py): M3 monthly 0.747 -> 0.737 relative MASE, aus_retail,
#: tourism and PBS unchanged; SARIMA's non-seasonal form (ARIMA(0,1,1), no trend) lost on M3,
#: so SARIMA is not tested.
SEASON_TEST: tuple[str, ...] = ("ets", "theta")
#: Fewest months for the seasonality test: with two cycles the lag-m autocorrelation rests on m
#: pairs and the test misses real seasons (on the sample city's 24-35-month windows it dropped
#: the season of most series and Jan/Feb MASE went from 0.93 to 2.05); shorter series keep the
#: seasonal forms.
SEASON_TEST_MIN = 36
#: Where the seasonality test looks: "levels", "differences" (statsmodels' ``difference``) or
#: "either" (seasonal when the levels or the first differences pass: a trend hides the lag-m
#: peak of the levels' autocorrelations, noise that of the differences).
SEASON_TEST_ON = "either"

#: Whether the model intervals take their quantiles from the shape of the in-sample one-step
#: errors (:func:`kehu_lib.forecast.fast.error_quantiles`) instead of the normal's.
ERROR_QUANTILES = True

#: Standard normal quantiles of the levels: ``scipy.stats.norm.ppf(0.5 + lv / 200)`` to the last
#: bit (the tests compare them), written out because importing scipy.stats costs the forecast
#: step ~1 s of CPU.
Z_SCORES = {80: 1.2815515655446004, 95: 1.959963984540054}


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


def _normal(mean: np.ndarray, sd: np.ndarray, model: str, note: str = "",
            resid=None, burn: int = 0) -> Forecast:
    """Forecast with intervals ``mean +- z * sd`` at each level of :data:`LEVELS`: z the normal
    quantile, or with :data:`ERROR_QUANTILES` and one-step errors ``resid`` (the first ``burn``
    left out) the quantile of their own shape (:func:`kehu_lib.forecast.fast.error_quantiles`)."""
    fc = Forecast(np.asarray(mean, float), model=model, note=note)
    q = F.error_quantiles(resid, LEVELS, burn=burn) \
        if ERROR_QUANTILES and resid is not None else None
    for lv in LEVELS:
        z = Z_SCORES[lv] if q is None else q[lv]
        fc.lo[lv] = fc.mean - z * sd
        fc.hi[lv] = fc.mean + z * sd
    return fc


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
# ETS, Theta, SARIMA: the models of statsmodels (ETSModel, ThetaModel, SARIMAX), fitted by the
# lfilter recursions of .fast (the tests check them against statsmodels)


#: Shift of the log scale for series with zero months, as a share of the smallest non-zero
#: value: such a series is modelled as ``log(y + c)``, c = ZERO_SHIFT x min(y > 0). Measured on
#: the regular series with zero months of tourism (61) and PBS (53) (relative MASE of the
#: combination, tourism / PBS): c = 0.5 min 0.830 / 1.058, c = min 0.828 / 1.089, c = 0.25 x mean
#: 0.822 / 1.286, c = 1 0.845 / 1.099; AutoETS 0.850 / 1.129. A small shift keeps the
#: multiplicative pattern of series whose troughs are near zero (PBS' safety-net series).
ZERO_SHIFT = 0.5


def _log_or_raw(y: np.ndarray) -> tuple[np.ndarray, float | None]:
    """The modelling scale: ``(z, shift)`` with ``z = log(y + shift)``; shift 0 for a positive
    series, ``ZERO_SHIFT x the smallest non-zero value`` for a non-negative series with zero
    months (no raw-scale fit that a zero month throws off), None (raw scale, ``z = y``) only
    for a series with negative values or no positive value."""
    if np.all(y > 0):
        return np.log(y), 0.0
    if np.all(y >= 0) and np.any(y > 0):
        c = ZERO_SHIFT * float(np.min(y[y > 0]))
        return np.log(y + c), c
    return y, None


def _back(fc: "Forecast", shift: float | None) -> "Forecast":
    """Map a forecast on the modelling scale of :func:`_log_or_raw` back to the data's."""
    if shift is None:
        return fc
    return fc.map(np.exp) if shift == 0 else fc.map(lambda a: np.exp(a) - shift)


def _scale_note(shift: float | None) -> str:
    return "" if shift is None else ("log " if shift == 0 else "log(y+c) ")


def ets(y, h, *, start=None, xreg=None, xreg_future=None, m: int = 12,
        trends: tuple[str, ...] | None = None, warm: dict | None = None) -> Forecast:
    """ETS (exponential smoothing state space model), form chosen by AICc.

    Additive errors on log(y) (multiplicative behaviour on the original scale) when y > 0, else
    on y. Candidate forms (``trends``, default :data:`ETS_TRENDS`): trend none / additive damped
    (an undamped trend, "A", extrapolates too far over a year on retail data and is off by
    default), times seasonality
    additive (with >= 2 full years, 24 months, and a series that passes the seasonality test,
    :data:`SEASON_TEST`; then only the seasonal forms unless :data:`NONSEASONAL_FORMS`) or none
    (shorter or non-seasonal series). The initial level and trend are
    estimated (concentrated out by least squares), the initial seasonal states set by the
    heuristic of Hyndman et al. (2008) (or estimated too, :data:`ETS_SEASON_LS`, off); the
    smoothing parameters by maximum likelihood.
    Fitted by :func:`kehu_lib.forecast.fast.ets_fit` (the same model as statsmodels'
    ``ETSModel``, one ``lfilter`` per likelihood evaluation: ~10x faster). Forms whose forecast
    explodes (> :data:`EXPLODE_FACTOR` x the series' range) are rejected. Intervals: the
    analytic forecast sd of the additive-error class (sigma from the recent one-step errors,
    :func:`kehu_lib.forecast.fast.sigma2`) times the quantiles of the one-step errors
    (:data:`ERROR_QUANTILES`; the first year left out), back-transformed.
    ``warm``: a dict shared by the fits of one series (e.g. the rolling origins of a backtest):
    each form starts its optimisation from the parameters it had in the previous fit, and the
    dict is updated.
    """
    if ETS_SEASON_LS not in (False, "refine", "best"):
        raise ValueError(f"ETS_SEASON_LS: False, 'refine' or 'best', got {ETS_SEASON_LS!r}")
    y = np.asarray(y, float)
    z, shift = _log_or_raw(y)
    logged = shift is not None
    seasonal_ok = len(z) >= max(2 * m, 10 + 2 * (m // 2)) and _seasonal(z, m, "ets")
    s0 = F.heuristic_season(z, m) if seasonal_ok else None
    trends = ETS_TRENDS if trends is None else trends
    best = None
    for seas in (((True, False) if NONSEASONAL_FORMS else (True,)) if seasonal_ok else (False,)):
        for t in trends:
            key = ("ets", None if t == "N" else "add", t == "Ad", "add" if seas else None, logged)
            sp = warm.get(key) if warm is not None else None
            try:
                fit = F.ets_fit(z, h, trend=t, seasonal=seas, m=m, start_params=sp, season0=s0)
                if seas and ETS_SEASON_LS and len(z) >= ETS_SEASON_LS_MIN:
                    fit = _season_ls(z, h, fit, trend=t, m=m, start_params=sp)
            except (ValueError, np.linalg.LinAlgError):  # too short for the form
                continue
            if warm is not None:
                warm[key] = fit.params
            aicc = fit.aicc
            if not np.isfinite(aicc) or (best is not None and aicc >= best.aicc):
                continue
            if _explodes(_back(Forecast(fit.mean), shift).mean, y):
                continue
            best = fit
    if best is None:
        return naive(y, h)
    out = _back(_normal(best.mean, best.sd, "ets", resid=best.resid,
                        burn=m if best.season0 is not None else 0), shift)
    out.note = _scale_note(shift) + f"ETS({best.name})"
    out.model = "ets"
    return out


def holt(y, h, *, start=None, xreg=None, xreg_future=None, m: int = 12,
         warm: dict | None = None) -> Forecast:
    """Holt's linear trend (ETS with an undamped additive trend, Holt-Winters when seasonal; on
    the non-seasonal form the forecasts of ARIMA(0,2,2)): :func:`ets` with ``trends=("A",)``,
    the trend member of the combination (:data:`kehu_lib.forecast.select.COMBO`).

    Alone it runs a year-long surge forward (see :data:`ETS_TRENDS`); as one member of four,
    weighted by the inverse square of its backtest error, it carries the series whose trend
    goes on (measured for issue 14 on the product path, benchmarks/forecast_bench.py windows,
    all 1,428 M3 series, relative MASE: 0.744 -> 0.730, see ``select.COMBO``)."""
    fc = ets(y, h, start=start, m=m, trends=("A",), warm=warm)
    fc.model = "holt"
    return fc


def _season_ls(z, h, fit: F.EtsFit, *, trend: str, m: int, start_params) -> F.EtsFit:
    """The seasonal ETS form ``trend`` with estimated initial seasonal states
    (:data:`ETS_SEASON_LS`), given ``fit``, the same form with the heuristic's states."""
    refined = F.ets_fit(z, h, trend=trend, seasonal=True, m=m, start_params=fit.params,
                        season_ls=True)
    if ETS_SEASON_LS == "best":
        other = F.ets_fit(z, h, trend=trend, seasonal=True, m=m, start_params=start_params,
                          season_ls=True)
        return min((refined, other), key=lambda f: f.sse)
    return refined if refined.sse < fit.sse else fit


def _seasonal(z: np.ndarray, m: int, model: str) -> bool:
    """Whether ``model`` takes its seasonal form on ``z`` (long enough is checked by the caller):
    always, or when :data:`SEASON_TEST` names it and ``z`` has :data:`SEASON_TEST_MIN` values,
    only if ``z`` passes the seasonality test (:data:`SEASON_TEST_ON`)."""
    if model not in SEASON_TEST or len(z) < SEASON_TEST_MIN:
        return True
    if SEASON_TEST_ON == "levels":
        return F.has_seasonality(z, m)
    if SEASON_TEST_ON == "differences":
        return F.has_seasonality(z, m, difference=True)
    return F.has_seasonality(z, m) or F.has_seasonality(z, m, difference=True)


def _explodes(mean: np.ndarray, y: np.ndarray) -> bool:
    pos = y[y > 0]
    if not np.all(np.isfinite(mean)):
        return True
    if not len(pos):
        return False
    return bool(mean.max() > EXPLODE_FACTOR * pos.max() or mean.min() < pos.min() / EXPLODE_FACTOR
                and mean.min() < 0.5 * np.median(pos))


def theta(y, h, *, start=None, xreg=None, xreg_future=None, m: int = 12) -> Forecast:
    """Theta method (Assimakopoulos & Nikolopoulos 2000), as statsmodels' ``ThetaModel``.

    On log(y) when y > 0; deseasonalised (additive on logs = multiplicative) when at least two
    full years are available and the series passes the seasonality test (:data:`SEASON_TEST`). Computed by :func:`kehu_lib.forecast.fast.theta_forecast` (the
    same forecasts as ``ThetaModel(...).fit().forecast()`` without its pandas overhead).
    Intervals of the SES-with-drift form of Theta (Hyndman & Billah 2003): the h-step variance
    is sigma^2 (1 + (h-1) alpha^2), sigma^2 from the in-sample one-step errors of SES on the
    (deseasonalised) series (statsmodels' own ``prediction_intervals`` refits an ARIMA(0,1,1)
    by MLE for sigma^2, which costs ~10x the whole Theta fit); back-transformed.
    """
    y = np.asarray(y, float)
    z, shift = _log_or_raw(y)
    info: dict = {}
    mean, sd, _ = F.theta_forecast(z, h, m=m, seasonal=len(z) >= 2 * m and _seasonal(z, m, "theta"),
                                   phi=THETA_PHI, info=info)
    fc = _back(_normal(mean, sd, "theta", note=_scale_note(shift) + "Theta",
                       resid=info.get("resid")), shift)
    if _explodes(fc.mean, y):
        return naive(y, h)
    return fc


def sarima(y, h, *, start=None, xreg=None, xreg_future=None, m: int = 12,
           warm: dict | None = None) -> Forecast:
    """Seasonal ARIMA with optional regressors (SARIMAX).

    The airline model ARIMA(0,1,1)(0,1,1)_12 on log(y) (Box & Jenkins), which suits trending
    multiplicative-seasonal retail data; ARIMA(0,1,1) when there are fewer than 26 months.
    ``xreg`` (e.g. the Spring-Festival share) enters as regressors (regression with ARIMA
    errors, as statsmodels' ``SARIMAX(exog=...)``). Fitted by conditional sum of squares
    (:func:`kehu_lib.forecast.fast.airline_fit`, far cheaper than the exact likelihood of
    ``SARIMAX.fit``). Intervals from the psi weights and the quantiles of the one-step errors
    (:data:`ERROR_QUANTILES`), back-transformed. ``warm``: start from
    the parameters of the previous fit of the same form (see :func:`ets`).
    """
    y = np.asarray(y, float)
    z, shift = _log_or_raw(y)
    logged = shift is not None
    seasonal = len(z) >= 2 * m + 2 and _seasonal(z, m, "sarima")
    key = ("sarima", (0, 1, 1, m) if seasonal else (0, 0, 0, 0), xreg is not None, logged)
    sp = warm.get(key) if warm is not None else None
    info: dict = {}
    mean, sd, params = F.airline_fit(z, h, xreg=xreg, xreg_future=xreg_future, m=m,
                                     seasonal=seasonal, start_params=sp, phi=SARIMA_PHI,
                                     info=info)
    if warm is not None:
        warm[key] = params
    fc = _back(_normal(mean, sd, "sarima", resid=info["resid"], burn=m + 1 if seasonal else 1,
                       note=_scale_note(shift) +
                       ("SARIMA(0,1,1)(0,1,1)12" if seasonal else "ARIMA(0,1,1)") +
                       ("+春节" if xreg is not None else "")), shift)
    if _explodes(fc.mean, y):
        return naive(y, h)
    return fc


def combine(forecasts: list[Forecast], model: str = "combo", bounds: str = "median",
            weights=None) -> Forecast:
    """Combination of the members: the (``weights``-weighted; default equal) mean of their point
    forecasts; interval bounds the median (``bounds="median"``, default) or the mean
    (``"mean"``, quantile averaging or "Vincentization", Lichtendahl, Grushka-Cockayne &
    Winkler 2013) of the members' bounds, moved by the shift of the weighted mean from the
    equal-weight mean, and never on the wrong side of the mean.

    The median keeps one member with too-wide intervals (the airline SARIMA on short windows)
    from widening the combination: on aus_retail it brings the 80% coverage from ~85% to ~80%.
    """
    agg = np.median if bounds == "median" else np.mean
    means = np.array([f.mean for f in forecasts])
    equal = means.mean(axis=0)
    if weights is None:
        mean = equal
    else:
        w = np.asarray(weights, float)
        if len(w) != len(forecasts) or not np.all(w >= 0) or not w.sum() > 0:
            raise ValueError(f"combine: {len(forecasts)} non-negative weights expected, got "
                             f"{weights!r}")
        mean = (w / w.sum()) @ means
    shift = mean - equal
    out = Forecast(mean, model=model, note="+".join(f.model for f in forecasts))
    for lv in LEVELS:
        out.lo[lv] = np.minimum(agg([f.lo[lv] for f in forecasts], axis=0) + shift, mean)
        out.hi[lv] = np.maximum(agg([f.hi[lv] for f in forecasts], axis=0) + shift, mean)
    return out


#: Registry of the model functions by name.
MODELS = {"snaive": snaive, "naive": naive, "mean": mean_model, "zero": zeros, "ets": ets,
          "theta": theta, "sarima": sarima, "holt": holt}
