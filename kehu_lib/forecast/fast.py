"""Fast fits of the two linear innovations models: additive ETS and the airline SARIMA(X).

Both models are linear time-invariant filters between the data and the one-step errors, so a
likelihood evaluation is one ``scipy.signal.lfilter`` call (C) instead of a Python-level state
space loop; the fit of a whole series then costs a few milliseconds instead of ~0.1 s with
statsmodels' ``ETSModel``/``SARIMAX`` (whose time goes mostly into Python overhead around a
60-step filter, numerical gradients and result objects). The models are the same; the tests
check the filters against statsmodels (same parameters -> same errors and forecasts).

ETS with additive errors (Hyndman et al. 2008, ch. 3 and 11), level l, damped trend b, season s::

    y_t = l_{t-1} + phi b_{t-1} + s_{t-m} + e_t
    l_t = l_{t-1} + phi b_{t-1} + alpha e_t
    b_t = phi b_{t-1} + beta e_t
    s_t = s_{t-m} + gamma e_t

is ``y = d + (theta(L) / a(L)) e`` with ``a(L) = (1 - L)(1 - phi L)(1 - L^m)`` (the factors of
the components present), ``theta(L) = det(I - D L)`` (D = F - g w', the matrix determinant lemma)
and ``d`` the noise-free path from the initial states (level + damped trend + repeating
season). Hence ``e = lfilter(a, theta, y - d)``; the initial level and trend enter ``d``
linearly and are concentrated out by least squares, the initial seasonal states come from
statsmodels' heuristic (Hyndman & Athanasopoulos, FPP3 §2.6 of the ETS chapter), as in the
statsmodels ``ETSModel(initialization_method="heuristic")`` fits this replaces. Forecasts: the
zero-state response continued with zero future errors; variances ``sigma^2 sum psi_j^2`` with
the psi weights of ``theta / a`` (the analytic intervals of the additive-error class).

The airline model ARIMA(0,1,1)(0,1,1)_m (Box & Jenkins) with optional regressors (regression
with airline errors, as statsmodels ``SARIMAX(exog=...)``) is fitted by conditional sum of
squares on the differenced data, the regression coefficients concentrated out by least squares.
"""

from __future__ import annotations

from dataclasses import dataclass

import importlib.machinery
import importlib.util
from math import sqrt
from pathlib import Path

import numpy as np

try:  # the LAPACK gufuncs behind numpy.linalg.solve / lstsq (see _solve)
    from numpy.linalg import _umath_linalg
except ImportError:  # pragma: no cover - another numpy layout: the public functions
    _umath_linalg = None


def _load_linear_filter():
    """``scipy.signal._sigtools._linear_filter``, the C routine of ``scipy.signal.lfilter``,
    loaded from its extension file without importing the package ``scipy.signal``: that
    package imports ``scipy.stats`` and ``scipy.optimize``, ~1.5 s of CPU, more than half of
    the imports of the month's forecast step, and the forecasts use nothing else of scipy.
    None when the extension is not where scipy keeps it (then :func:`_filter` imports
    ``lfilter``: the same routine, slower to reach)."""
    import sys

    name = "scipy.signal._sigtools"
    if name in sys.modules:
        return sys.modules[name]._linear_filter
    try:
        spec = importlib.util.find_spec("scipy")
        folder = Path(spec.submodule_search_locations[0]) / "signal"
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = folder / f"_sigtools{suffix}"
            if path.exists():
                loader = importlib.machinery.ExtensionFileLoader(name, str(path))
                spec = importlib.util.spec_from_file_location(name, path, loader=loader)
                module = importlib.util.module_from_spec(spec)
                # not registered: a later ``import scipy.signal`` loads it as usual
                sys.modules.pop(name, None)
                return module._linear_filter
    except (ImportError, AttributeError, OSError, TypeError):  # pragma: no cover
        pass
    return None  # pragma: no cover


_linear_filter = _load_linear_filter()


def lfilter(b, a, x, axis=-1, zi=None):
    """``scipy.signal.lfilter`` (imported on first use; see :func:`_load_linear_filter`)."""
    from scipy.signal import lfilter as scipy_lfilter

    return scipy_lfilter(b, a, x, axis=axis, zi=zi)

__all__ = ["EtsFit", "ets_fit", "ets_polys", "airline_fit", "theta_forecast", "ses",
           "season_indices", "heuristic_season", "least_squares_box"]

#: Bounds of the damping parameter (the "usual" region of Hyndman et al. 2008).
PHI_BOUNDS = (0.8, 0.98)
_EPS = 1e-4


#: One-step errors from which the forecast variance is estimated: the last SIGMA_WINDOW (None =
#: all). The parameters are fitted on the whole series either way. Measured against 36
#: (benchmarks/forecast_bench.py, same windows; 80% coverage of the product path): tourism
#: 0.891 -> 0.880, aus_retail 0.811 -> 0.786, M3 0.783 -> 0.780, PBS 0.794 -> 0.799: the
#: shorter window does not bring tourism's intervals to nominal and makes aus_retail's short.
SIGMA_WINDOW: int | None = 60


def sigma2(e) -> float:
    """Mean squared one-step error of the last :data:`SIGMA_WINDOW` errors ``e`` (all when
    fewer or when the window is None): the variance the prediction intervals are built from."""
    e = np.asarray(e, float)
    if SIGMA_WINDOW is not None and len(e) > SIGMA_WINDOW:
        e = e[-SIGMA_WINDOW:]
    return float(e @ e) / len(e) if len(e) else 0.0


def _filter(b: np.ndarray, a: np.ndarray, x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``scipy.signal.lfilter(b, a, x, axis)`` for float64 arrays with ``len(a) > 1``: the C
    filter that lfilter calls, without lfilter's argument handling (array-API namespace,
    ``atleast_1d``, size checks), which cost ~4x the filter itself on these 30-60 point series
    and ran ~100,000 times a month. Same routine, same inputs: the same bits (the tests compare
    it with lfilter)."""
    if _linear_filter is None:  # pragma: no cover
        return lfilter(b, a, x, axis=axis)
    return _linear_filter(b, a, x, axis)


def _fir(b: np.ndarray, x: np.ndarray, axis: int = 0) -> np.ndarray:
    """``scipy.signal.lfilter(b, [1.0], x, axis)`` (a moving-average filter) as lfilter computes
    it: ``np.convolve`` along the axis, cut to the length of ``x``."""
    out = np.apply_along_axis(lambda v: np.convolve(b, v), axis, x)
    ind = out.ndim * [slice(None)]
    ind[axis] = slice(out.shape[axis] - len(b) + 1)
    return out[tuple(ind)]


def _impulse(h: int) -> np.ndarray:
    """``np.r_[1.0, np.zeros(h - 1)]``: the unit impulse of ``h`` steps."""
    out = np.zeros(h)
    out[0] = 1.0
    return out


def _raise_singular(err, flag):
    raise np.linalg.LinAlgError("Singular matrix")


def _raise_lstsq(err, flag):
    raise np.linalg.LinAlgError("SVD did not converge in Linear Least Squares")


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.linalg.solve(a, b)`` for a float64 matrix and vector: the same LAPACK gufunc under
    the same floating-point error state (LinAlgError when singular), without the wrapper's
    type and shape checks."""
    if _umath_linalg is None:  # pragma: no cover
        return np.linalg.solve(a, b)
    with np.errstate(call=_raise_singular, invalid="call", over="ignore", divide="ignore",
                     under="ignore"):
        return _umath_linalg.solve1(a, b, signature="dd->d")


def _lstsq(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.linalg.lstsq(a, b, rcond=None)[0]`` for a float64 matrix ``a`` (at least one row)
    and vector ``b``: the same LAPACK gufunc and ``rcond`` without the wrapper."""
    if _umath_linalg is None or a.shape[0] == 0 or a.shape[1] == 0:  # pragma: no cover
        return np.linalg.lstsq(a, b, rcond=None)[0]
    rcond = np.finfo(np.float64).eps * max(a.shape)
    with np.errstate(call=_raise_lstsq, invalid="call", over="ignore", divide="ignore",
                     under="ignore"):
        x = _umath_linalg.lstsq(a, b[:, None], rcond, signature="ddd->ddid")[0]
    return x[:, 0]


def _pad_add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.zeros(max(len(a), len(b)))
    out[: len(a)] += a
    out[: len(b)] += b
    return out


def ets_polys(alpha: float, beta: float, gamma: float, phi: float, *, trend: bool,
              seasonal: bool, m: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """``(a, theta)``: the coefficients (ascending powers of L) of the ETS transfer function
    ``y = d + theta(L)/a(L) e`` (see the module docstring). ``phi = 1`` is the undamped trend."""
    if trend:  # (1 - L)(1 - phi L) and the level/trend numerator
        lt = np.array([1.0, -1.0 - phi, phi])
        lt_num = np.array([0.0, alpha + phi * beta, -alpha * phi])
    else:
        lt, lt_num = np.array([1.0, -1.0]), np.array([0.0, alpha])
    if not seasonal:
        return lt, lt + lt_num
    # a = lt (1 - L^m); theta = a + lt_num (1 - L^m) + gamma L^m lt (written out: no convolutions)
    k = len(lt)
    a = np.zeros(m + k)
    a[:k], a[m:] = lt, -lt
    theta = a.copy()
    theta[:k] += lt_num
    theta[m:] += gamma * lt - lt_num
    return a, theta


def _ets_polys_py(alpha: float, beta: float, gamma: float, phi: float, trend: bool,
                  seasonal: bool, m: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`ets_polys` for Python floats, element by element: the same operations on the same
    values in the same order (hence the same bits, see the tests) at a fraction of the cost of
    its small array operations; the optimiser builds the polynomials ~40 times per fit."""
    if trend:
        lt = (1.0, -1.0 - phi, phi)
        num = (0.0, alpha + phi * beta, -alpha * phi)
    else:
        lt, num = (1.0, -1.0), (0.0, alpha)
    k = len(lt)
    if not seasonal:
        return np.array(lt), np.array([lt[i] + num[i] for i in range(k)])
    if m < k:  # the two blocks overlap: the array version
        return ets_polys(alpha, beta, gamma, phi, trend=trend, seasonal=True, m=m)
    a, th = np.zeros(m + k), np.zeros(m + k)
    for i, v in enumerate(lt):  # a = lt (1 - L^m), theta = a + num (1 - L^m) + gamma L^m lt
        a[i], a[m + i] = v, -v
        th[i] = v + num[i]
        th[m + i] = -v + (gamma * v - num[i])
    return a, th


def _ls(fz: np.ndarray, fy: np.ndarray) -> np.ndarray:
    """Least squares with one or two columns in closed form (np.linalg.lstsq costs ~10x).
    The scalar arithmetic runs on Python floats (the same IEEE operations as on numpy
    scalars, at a fraction of their cost)."""
    if fz.shape[1] == 1:
        z = fz[:, 0]
        den = float(z @ z)
        return np.array([float(z @ fy) / den if den > 0 else 0.0])
    (g00, g01), (g10, g11) = (fz.T @ fz).tolist()
    b0, b1 = (fz.T @ fy).tolist()
    det = g00 * g11 - g01 * g10
    if not abs(det) > 1e-12 * (g00 * g11 + 1e-300):
        return _lstsq(fz, fy)
    return np.array([(g11 * b0 - g01 * b1) / det, (g00 * b1 - g10 * b0) / det])


def least_squares_box(resid, x0, lo, hi, *, max_iter: int = 40, rtol: float = 1e-5):
    """Minimise ``|resid(p)|^2`` over the box ``lo <= p <= hi`` (Levenberg-Marquardt, forward-
    difference Jacobian, steps projected on the box). Returns ``(p, residuals)``.

    A few lines instead of ``scipy.optimize.minimize``: with 1-4 parameters and ~50 cheap
    evaluations per fit, scipy's per-iteration overhead (~0.5 ms for L-BFGS-B) cost more than
    the model itself.
    """
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    p = np.clip(np.asarray(x0, float), lo, hi)
    e = resid(p)
    f = float(e @ e)  # inf or nan when the filter blew up
    if not np.isfinite(f):
        return p, e
    lam = 1e-2
    k, hi_ = len(p), hi.tolist()
    for _ in range(max_iter):
        jac = np.empty((len(e), k))
        for i, pi in enumerate(p.tolist()):  # Python floats: the same values, cheaper
            step = 1e-6 * max(1.0, abs(pi))
            if pi + step > hi_[i]:
                step = -step
            q = p.copy()
            q[i] += step
            jac[:, i] = (resid(q) - e) / step
        if not np.isfinite(jac).all():
            break
        g = jac.T @ e
        a = jac.T @ jac
        damp, neg_g = np.diag(np.diag(a)) + 1e-12, -g  # the same for every damping tried
        improved = False
        for _ in range(8):  # raise the damping until the projected step lowers the sum
            try:
                d = _solve(a + lam * damp, neg_g)
            except np.linalg.LinAlgError:
                lam *= 10
                continue
            q = (p + d).clip(lo, hi)
            e_new = resid(q)
            f_new = float(e_new @ e_new)
            if f_new < f:  # False for nan
                improved = True
                break
            lam *= 10
        if not improved:
            break
        done = f - f_new <= rtol * f
        p, e, f, lam = q, e_new, f_new, max(lam / 10, 1e-9)
        if done:
            break
    return p, e


@dataclass
class EtsFit:
    """A fitted additive-error ETS form (on whatever scale ``y`` was given)."""

    name: str  # e.g. "AAdA"
    params: np.ndarray  # alpha, beta, phi, gamma (those of the form)
    sse: float
    n: int
    k: int  # estimated parameters incl. initial level/trend and sigma
    mean: np.ndarray | None = None
    sd: np.ndarray | None = None
    init: np.ndarray | None = None  # initial level (and trend), least squares
    season0: np.ndarray | None = None  # initial seasonal states, s0[j] for observation j
    resid: np.ndarray | None = None  # in-sample one-step errors

    @property
    def aicc(self) -> float:
        n, k = self.n, self.k
        if n - k - 1 <= 0 or not np.isfinite(self.sse) or self.sse <= 0:
            return np.inf
        ll = -0.5 * n * (np.log(2 * np.pi * self.sse / n) + 1)
        return -2 * ll + 2 * k + 2 * k * (k + 1) / (n - k - 1)


def _unpack(p, trend: bool, damped: bool, seasonal: bool):
    """Internal parameters (alpha, beta/alpha, gamma/(1-alpha), phi) -> model parameters."""
    i = 0
    alpha = p[i]
    i += 1
    beta = phi = 0.0
    if trend:
        beta = alpha * p[i]
        i += 1
        phi = p[i] if damped else 1.0
        i += damped
    gamma = (1 - alpha) * p[i] if seasonal else 0.0
    return alpha, beta, gamma, phi


def _design(n: int, trend: bool, phi: float) -> np.ndarray:
    """Columns of the noise-free path from the initial level (ones) and trend (sum of phi^j)."""
    cols = [np.ones(n)]
    if trend:
        cols.append(np.cumsum(phi ** np.arange(1, n + 1)) if phi != 1 else np.arange(1.0, n + 1))
    return np.column_stack(cols)


def season_indices(x, m: int = 12) -> np.ndarray:
    """Additive seasonal indices of classical decomposition (statsmodels ``seasonal_decompose``,
    ``model="additive"``): detrend by the centred 2 x m moving average (m odd: m-term), average
    each position of the cycle over the cycles, normalise to mean 0. ``out[j]`` belongs to
    observations j, j + m, ... of ``x``."""
    x = np.asarray(x, float)
    w = np.concatenate([[0.5], np.ones(m - 1), [0.5]]) / m if m % 2 == 0 else np.ones(m) / m
    half = len(w) // 2
    det = np.full(len(x), np.nan)
    det[half:len(x) - half] = x[half:len(x) - half] - np.convolve(x, w, mode="valid")
    k = -(-len(x) // m)
    tmp = np.full(k * m, np.nan)
    tmp[: len(x)] = det
    s = np.nanmean(tmp.reshape(k, m), axis=0)
    return s - s.mean()


#: Fewest one-step errors from which :func:`error_quantiles` shapes the intervals (fewer: the
#: Gaussian quantiles).
MIN_QUANTILE_ERRORS = 24


def error_quantiles(e, levels=(80, 95), *, burn: int = 0) -> dict[int, float] | None:
    """Multipliers of the forecast sd for the central intervals of ``levels`` from the one-step
    errors ``e`` themselves: the L% quantile of ``|e_t|`` over the sd the forecast variance is
    built from (``sqrt(sigma2(e))``, :func:`sigma2`); the Gaussian quantile (1.2816 for 80%)
    when the errors are normal. The quantile leaves out the first ``burn`` errors (start-up
    transients of the initial states) and, like :func:`sigma2`, all but the last
    :data:`SIGMA_WINDOW`. Heavy-tailed errors (a few large shocks in a mostly quiet series)
    give a smaller multiplier at 80% and a larger one at 95% than the normal's. None when
    fewer than :data:`MIN_QUANTILE_ERRORS` errors remain or the sd is 0."""
    e = np.asarray(e, float)
    ref = np.sqrt(sigma2(e)) if len(e) else 0.0
    e = e[burn:]
    if SIGMA_WINDOW is not None and len(e) > SIGMA_WINDOW:
        e = e[-SIGMA_WINDOW:]
    if len(e) < MIN_QUANTILE_ERRORS or not ref > 0 or not np.all(np.isfinite(e)):
        return None
    a = np.abs(e) / ref
    # one call for all levels: the same order statistics and interpolation as one per level
    q = np.quantile(a, [lv / 100 for lv in levels]).tolist()
    return dict(zip(levels, q))


def has_seasonality(z, m: int = 12, *, difference: bool = False) -> bool:
    """The seasonality test of the Theta method as statsmodels' ``ThetaModel(use_test=True,
    difference=...)`` (and R forecast's ``thetaf``) runs it: with r_k the sample
    autocorrelations of ``z`` (of its first differences when ``difference``: a trend makes
    every autocorrelation of the levels large and hides the lag-m peak), the statistic
    ``n r_m^2 / (r_0^2 + ... + r_(m-1)^2)`` against 2.7055, the 90% quantile of chi-squared(1)
    (a two-sided 10% test of r_m with Bartlett's variance). Fewer than ``2 m`` observations
    or a constant series: False."""
    z = np.asarray(z, float)
    if len(z) < 2 * m:
        return False
    if difference:
        z = np.diff(z)
    n = len(z)
    x = z - z.mean()
    c0 = float(x @ x)
    if not c0 > 0:
        return False
    r = np.array([1.0] + [float(x[k:] @ x[:-k]) / c0 for k in range(1, m + 1)])
    return bool(n * r[m] ** 2 / np.sum(r[:m] ** 2) > 2.705543454095404)


def heuristic_season(y, m: int = 12) -> np.ndarray:
    """Initial additive seasonal states by the heuristic of statsmodels'
    ``_initialization_heuristic``: :func:`season_indices` of the first <= 5 full cycles (at
    least 10 + 2 (m // 2) observations), in numpy (statsmodels' version goes through pandas
    rolling windows and costs ~10x more). ``s0[j]`` belongs to observation j."""
    y = np.asarray(y, float)
    n = len(y)
    min_obs = 10 + 2 * (m // 2)
    if n < 2 * m or n < min_obs:
        raise ValueError(f"seasonal ETS needs {max(2 * m, min_obs)} observations, got {n}")
    k = max(min(5, n // m), int(np.ceil(min_obs / m)))
    return season_indices(y[: m * k], m)


def ses(x, *, xatol: float = 1e-6, info: dict | None = None) -> tuple[float, float, float]:
    """Simple exponential smoothing as the Theta method fits it (statsmodels ``ThetaModel``,
    ``use_mle=False``): initial level x_0, alpha in (0, 1) minimising the sum of squared one-step
    errors. Returns ``(alpha, last level = the SES forecast, rms one-step error)``; ``info``
    (a dict) receives ``resid``, the one-step errors."""
    x = np.asarray(x, float)

    def levels(alpha):  # l_t = alpha x_t + (1 - alpha) l_{t-1}, l_{-1} = x_0
        if _linear_filter is None:  # pragma: no cover
            return lfilter([alpha], [1.0, alpha - 1.0], x, zi=[(1 - alpha) * x[0]])[0]
        return _linear_filter(np.array([alpha]), np.array([1.0, alpha - 1.0]), x, -1,
                              np.array([(1 - alpha) * x[0]]))[0]

    def sse(alpha):
        err = x[1:] - levels(alpha)[:-1]
        return float(err @ err)

    alpha = float(minimize_bounded(sse, 1e-8, 1 - 1e-8, xatol=xatol))
    lv = levels(alpha)
    err = x[1:] - lv[:-1]
    if info is not None:
        info["resid"] = err
    return alpha, float(lv[-1]), float(np.sqrt(sigma2(err)))


def minimize_bounded(func, x1: float, x2: float, *, xatol: float = 1e-5,
                     maxiter: int = 500) -> float:
    """The minimiser of the scalar function ``func`` on ``[x1, x2]``: Brent's bounded method
    as ``scipy.optimize.minimize_scalar(func, bounds=(x1, x2), method="bounded",
    options={"xatol": xatol}).x`` computes it (the loop of scipy's
    ``_minimize_scalar_bounded``, scipy 1.17, BSD licence, operation for operation: the same
    iterates; the tests compare them), without importing ``scipy.optimize`` (~0.9 s of CPU
    per process) for this one loop."""
    if not (np.isfinite(x1) and np.isfinite(x2)) or x1 > x2:
        raise ValueError(f"bounds must be finite with x1 <= x2, got {x1!r}, {x2!r}")
    sqrt_eps = sqrt(2.2e-16)
    golden_mean = 0.5 * (3.0 - sqrt(5.0))
    a, b = x1, x2
    fulc = a + golden_mean * (b - a)
    nfc, xf = fulc, fulc
    rat = e = 0.0
    x = xf
    fx = func(x)
    num = 1
    ffulc = fnfc = fx
    xm = 0.5 * (a + b)
    tol1 = sqrt_eps * np.abs(xf) + xatol / 3.0
    tol2 = 2.0 * tol1
    while np.abs(xf - xm) > (tol2 - 0.5 * (b - a)):
        golden = 1
        if np.abs(e) > tol1:  # a parabolic step?
            golden = 0
            r = (xf - nfc) * (fx - ffulc)
            q = (xf - fulc) * (fx - fnfc)
            p = (xf - fulc) * q - (xf - nfc) * r
            q = 2.0 * (q - r)
            if q > 0.0:
                p = -p
            q = np.abs(q)
            r = e
            e = rat
            if ((np.abs(p) < np.abs(0.5 * q * r)) and (p > q * (a - xf)) and
                    (p < q * (b - xf))):
                rat = (p + 0.0) / q
                x = xf + rat
                if ((x - a) < tol2) or ((b - x) < tol2):
                    si = np.sign(xm - xf) + ((xm - xf) == 0)
                    rat = tol1 * si
            else:
                golden = 1
        if golden:  # a golden-section step
            if xf >= xm:
                e = a - xf
            else:
                e = b - xf
            rat = golden_mean * e
        si = np.sign(rat) + (rat == 0)
        x = xf + si * np.maximum(np.abs(rat), tol1)
        fu = func(x)
        num += 1
        if fu <= fx:
            if x >= xf:
                a = xf
            else:
                b = xf
            fulc, ffulc = nfc, fnfc
            nfc, fnfc = xf, fx
            xf, fx = x, fu
        else:
            if x < xf:
                a = x
            else:
                b = x
            if (fu <= fnfc) or (nfc == xf):
                fulc, ffulc = nfc, fnfc
                nfc, fnfc = x, fu
            elif (fu <= ffulc) or (fulc == xf) or (fulc == nfc):
                fulc, ffulc = x, fu
        xm = 0.5 * (a + b)
        tol1 = sqrt_eps * np.abs(xf) + xatol / 3.0
        tol2 = 2.0 * tol1
        if num >= maxiter:
            break
    return xf


def damped_steps(h: int, phi: float | None, *, first: int = 1) -> np.ndarray:
    """``D(k) = phi + phi^2 + ... + phi^k`` for k = first .. first + h - 1 (``k`` itself when
    ``phi`` is None: no damping); the multiplier of a damped trend's slope k steps ahead."""
    k = np.arange(first, first + h, dtype=float)
    if phi is None or phi >= 1:
        return k
    return phi * (1 - phi ** k) / (1 - phi)


def theta_forecast(z, h: int, *, m: int = 12, seasonal: bool = True,
                   phi: float | None = None, info: dict | None = None):
    """The Theta method (theta = 2) as statsmodels' ``ThetaModel(method="additive",
    use_test=False).fit().forecast(h)``, in numpy: deseasonalise by :func:`season_indices`,
    SES plus half the OLS slope ``b0 (h - 1 + 1/alpha - (1 - alpha)^n / alpha)``, reseasonalise.
    Returns ``(mean, sd, alpha)``; sd from the SES-with-drift form (Hyndman & Billah 2003),
    ``sigma sqrt(1 + (h - 1) alpha^2)``. ``phi``: damp the drift, ``h - 1`` replaced by
    ``phi + ... + phi^(h-1)`` (:func:`damped_steps`; None = the undamped method). ``info``: a
    dict that receives ``resid``, the one-step errors of the SES."""
    z = np.asarray(z, float)
    n = len(z)
    s = season_indices(z, m) if seasonal else np.zeros(m)
    x = z - s[np.arange(n) % m]
    t = np.arange(n, dtype=float)
    tc = t - t.mean()
    b0 = float(tc @ (x - x.mean()) / (tc @ tc)) if n > 1 else 0.0
    alpha, last, sigma = ses(x, info=info)
    steps = damped_steps(h, phi, first=0) + 1 / alpha - (1 - alpha) ** n / alpha
    mean = 0.5 * b0 * steps + last + s[(n + np.arange(h)) % m]
    return mean, sigma * np.sqrt(1 + np.arange(h) * alpha ** 2), alpha


def _season_path(s0: np.ndarray | None, n: int, m: int) -> np.ndarray:
    return np.zeros(n) if s0 is None else s0[np.arange(n) % m]


def _season_columns(n: int, m: int) -> np.ndarray:
    """Rows of the noise-free path's seasonal part from m - 1 free initial states (the m-th is
    minus their sum: the states sum to 0): row j is 1 at observations j, j + m, ... and -1 at
    those of position m - 1."""
    pos = np.arange(n) % m
    out = (pos[None, :] == np.arange(m - 1)[:, None]).astype(float)
    out[:, pos == m - 1] = -1.0
    return out


def ets_fit(y, h: int, *, trend: str = "N", seasonal: bool = False, m: int = 12,
            start_params=None, season0: np.ndarray | None = None,
            season_ls: bool = False) -> EtsFit:
    """Fit one additive-error ETS form to ``y`` by maximum likelihood and forecast ``h`` steps.

    ``trend``: "N" (none), "A" (additive) or "Ad" (additive damped); ``seasonal``: additive
    season of period ``m`` (needs 2m observations). The initial level and trend are
    concentrated out (least squares), the seasonal states set by :func:`heuristic_season`
    (or given as ``season0``), or with ``season_ls`` concentrated out with them (the m - 1
    free initial seasonal states enter the noise-free path linearly too, so for given smoothing
    parameters least squares gives their maximum-likelihood values, as the optimised initial
    states of statsforecast's ``AutoETS`` and of R's ``ets``; they count as parameters of the
    AICc). Raises ValueError when the series is too short for the form.
    """
    y = np.asarray(y, float)
    n = len(y)
    has_t, damped = trend in ("A", "Ad"), trend == "Ad"
    s0 = None
    season_ls = season_ls and seasonal
    if seasonal and not season_ls:
        s0 = season0 if season0 is not None else heuristic_season(y, m)
    if season_ls and n < 2 * m:
        raise ValueError(f"seasonal ETS needs {2 * m} observations, got {n}")
    ys = y - _season_path(s0, n, m)
    npar = 1 + has_t + damped + seasonal
    x0 = np.array([0.3, 0.1, 0.95, 0.1][: 1 + has_t + damped] + ([0.1] if seasonal else []))
    bounds = [(_EPS, 1 - _EPS)] * (1 + has_t) + ([PHI_BOUNDS] if damped else []) + \
        ([(_EPS, 1 - _EPS)] if seasonal else [])
    if start_params is not None and len(start_params) == npar:
        x0 = np.clip(np.asarray(start_params, float), [b[0] for b in bounds],
                     [b[1] for b in bounds])
    rows = [ys[None, :], _design(n, has_t, 1.0).T]  # y, level, trend (, seasons) in rows
    if season_ls:
        rows.append(_season_columns(n, m))
    cols = np.vstack(rows)
    powers = np.arange(1, n + 1)
    trend_phi = [None]  # the phi of the trend row of ``cols`` (most evaluations keep phi)

    def errors(p):
        al, be, ga, ph = _unpack(p.tolist(), has_t, damped, seasonal)
        a, th = _ets_polys_py(al, be, ga, ph, has_t, seasonal, m)
        if damped and ph != trend_phi[0]:
            np.cumsum(ph ** powers, out=cols[2])
            trend_phi[0] = ph
        f = _filter(a, th, cols)
        fz, fy = f[1:].T, f[0]
        if fz.shape[1] <= 2:
            coef = _ls(fz, fy)
        else:  # normal equations (lstsq costs ~3x); lstsq when they are singular
            try:
                coef = np.linalg.solve(fz.T @ fz, fz.T @ fy)
            except np.linalg.LinAlgError:
                coef = np.linalg.lstsq(fz, fy, rcond=None)[0]
        return fy - fz @ coef, coef, a, th

    if n <= npar + 1 + has_t + 1:
        raise ValueError(f"ETS form too large for {n} observations")
    p, _ = least_squares_box(lambda q: errors(q)[0], x0, [b[0] for b in bounds],
                             [b[1] for b in bounds])
    e, coef, a, th = errors(p)
    sse = float(e @ e)
    name = "A" + {"N": "N", "A": "A", "Ad": "Ad"}[trend] + ("A" if seasonal else "N")
    if season_ls:  # the seasonal states out of the coefficients; init keeps level (and trend)
        cs = coef[1 + has_t:]
        s0 = np.r_[cs, -cs.sum()]
    fit = EtsFit(name, np.asarray(p, float), sse, n, k=npar + len(coef) + 1,
                 init=coef[:1 + has_t], season0=s0, resid=e)
    coef = coef[:1 + has_t]
    # forecasts: the noise-free path plus the zero-state response with zero future errors
    ph = _unpack(p, has_t, damped, seasonal)[3]
    d = _season_path(s0, n + h, m) + _design(n + h, has_t, ph) @ coef
    resp = _filter(th, a, np.concatenate([e, np.zeros(h)]))
    fit.mean = d[n:] + resp[n:]
    psi = _filter(th, a, _impulse(h))
    fit.sd = np.sqrt(sigma2(e) * np.cumsum(psi ** 2))
    return fit


def airline_fit(z, h: int, *, xreg=None, xreg_future=None, m: int = 12, seasonal: bool = True,
                start_params=None, phi: float | None = None,
                info: dict | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit ARIMA(0,1,1)(0,1,1)_m (or ARIMA(0,1,1) when not ``seasonal``) with optional regressors
    by conditional sum of squares; returns ``(mean, sd, params)`` of the ``h``-step forecast.

    ``z = X beta + u``, ``(1 - L)(1 - L^m) u_t = (1 + t1 L)(1 + t2 L^m) e_t``; for given MA
    parameters the errors are linear in beta (concentrated by least squares), pre-sample errors
    zero. Forecast variance ``sigma^2 sum psi_j^2`` (psi weights of the ARIMA), sigma^2 = CSS/n.
    ``params`` = the MA parameters then beta. ``phi``: damp the trend of the forecast function
    (linear trend plus season beyond the MA lags): with ``b`` its slope per month, the k-step
    forecast becomes ``f(k) - b (k - D(k))``, ``D`` of :func:`damped_steps` (None = undamped).
    ``info``: a dict that receives ``resid``, the one-step errors (after differencing).
    """
    z = np.asarray(z, float)
    n = len(z)
    ar = np.convolve([1.0, -1.0], np.r_[1.0, np.zeros(m - 1), -1.0]) if seasonal \
        else np.array([1.0, -1.0])
    dd = len(ar) - 1
    X = None if xreg is None else np.asarray(xreg, float).reshape(n, -1)
    cols = z[:, None] if X is None else np.column_stack([z, X])
    w = _fir(ar, cols, axis=0)[dd:]
    nq = 1 + seasonal

    def ma_poly(p):
        ma = np.array([1.0, p[0]])
        if not seasonal:
            return ma
        sma = np.zeros(m + 1)  # np.r_[1.0, np.zeros(m - 1), p[1]] without np.r_'s overhead
        sma[0], sma[m] = 1.0, p[1]
        return np.convolve(ma, sma)

    one = np.array([1.0])

    def errors(p):
        f = _filter(one, ma_poly(p), w, 0)
        if X is None:
            return f[:, 0], np.zeros(0)
        beta = _lstsq(f[:, 1:], f[:, 0])
        return f[:, 0] - f[:, 1:] @ beta, beta

    x0 = np.array([-0.4, -0.6][:nq])
    if start_params is not None and len(start_params) >= nq:
        x0 = np.asarray(start_params, float)[:nq]
    p, _ = least_squares_box(lambda q: errors(q)[0], x0, [-0.99] * nq, [0.99] * nq)
    e, beta = errors(p)
    ma = ma_poly(p)
    u = z - (X @ beta if X is not None else 0.0)
    # forecast recursion of the ARIMA with zero future (and pre-sample) errors
    ahead = h + (m if seasonal else 1) if phi is not None else h
    ext_u = np.concatenate([u, np.zeros(ahead)])
    ext_e = np.concatenate([np.zeros(dd), e, np.zeros(ahead)])
    for t in range(n, n + ahead):  # t >= n >= len(ma) = len(ar): the slices never wrap
        ext_u[t] = ma[1:] @ ext_e[t - 1:t - len(ma):-1] - ar[1:] @ ext_u[t - 1:t - len(ar):-1]
    mean = ext_u[n:n + h]
    if phi is not None:  # the slope of the forecast function: one season (or step) apart
        lag = m if seasonal else 1
        b = (ext_u[n + h + lag - 1] - ext_u[n + h - 1]) / lag
        k = np.arange(1, h + 1, dtype=float)
        mean = mean - b * (k - damped_steps(h, phi))
    if X is not None:
        mean = mean + np.asarray(xreg_future, float).reshape(h, -1) @ beta
    psi = _filter(ma, ar, _impulse(h))
    sd = np.sqrt(sigma2(e) * np.cumsum(psi ** 2))
    if info is not None:
        info["resid"] = e
    return mean, sd, np.concatenate([p, beta])
