"""Forecasts for intermittent demand (间歇性需求): Croston, SBA and TSB.

A series with many zero months (a slow SKU in a small district) breaks the level-and-season
models: the log scale is undefined, and on the raw scale the zeros pull the fits around. The
methods made for such series smooth two things separately (Croston 1972):

- **Croston**: the non-zero demand sizes ``z`` and the intervals ``p`` between them (in months),
  each by simple exponential smoothing with ``alpha``; forecast ``z / p`` per month.
- **SBA** (Syntetos & Boylan 2005): Croston's forecast times ``1 - alpha / 2``, which removes its
  known upward bias.
- **TSB** (Teunter, Syntetos & Babai 2011): smooths the sizes (``alpha_d``) and the probability
  of a demand in a month (``alpha_p``, updated every month, so a series that has died out goes to
  zero instead of holding its last rate); forecast ``probability x size``.

The smoothing is statsforecast's ``ses_forecast`` (level starts at the first value; the tests
check the three methods against ``statsforecast.models`` ``CrostonClassic``, ``CrostonSBA`` and
``TSB`` when it is installed, and against hand calculations). The methods give a flat forecast.

Intervals: the forecast distribution of a month is a mixture, zero with probability ``1 - p``
and otherwise a size drawn from the recent non-zero sizes (at most :data:`SIZE_WINDOW` of them,
empirical); bounds are its quantiles, so the lower bound is 0 whenever zero months are common.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ses_level", "croston", "sba", "tsb", "mixture_bounds", "intermittent",
           "METHODS", "ALPHA", "ALPHA_D", "ALPHA_P", "SIZE_WINDOW"]

#: Smoothing of Croston/SBA (0.1, as statsforecast's CrostonClassic and the literature's default).
ALPHA = 0.1
#: Smoothing of TSB's sizes and probability (Teunter et al. 2011 use 0.1-0.3).
ALPHA_D = 0.1
ALPHA_P = 0.1
#: Non-zero sizes kept for the interval distribution.
SIZE_WINDOW = 24


def ses_level(x, alpha: float) -> float:
    """Simple exponential smoothing: the level after the last value, starting at ``x[0]``
    (``l = x_0``, then ``l = alpha x_t + (1 - alpha) l`` for t >= 1)."""
    x = np.asarray(x, float)
    if len(x) == 0:
        return 0.0
    level = x[0]
    for v in x[1:]:
        level = alpha * v + (1 - alpha) * level
    return float(level)


def _intervals(y: np.ndarray) -> np.ndarray:
    """Months from one demand to the next (the first counted from the start: index + 1)."""
    idx = np.flatnonzero(y != 0)
    return np.diff(idx + 1, prepend=0).astype(float)


def croston(y, h: int, *, alpha: float = ALPHA) -> np.ndarray:
    """Croston's method: SES of the sizes over SES of the intervals, repeated ``h`` times."""
    y = np.asarray(y, float)
    sizes = y[y > 0]
    if not len(sizes):
        return np.zeros(h)
    z = ses_level(sizes, alpha)
    p = ses_level(_intervals(y), alpha)
    return np.repeat(z / p if p != 0 else z, h)


def sba(y, h: int, *, alpha: float = ALPHA) -> np.ndarray:
    """Syntetos-Boylan approximation: Croston times ``1 - alpha / 2``."""
    return croston(y, h, alpha=alpha) * (1 - alpha / 2)


def tsb(y, h: int, *, alpha_d: float = ALPHA_D, alpha_p: float = ALPHA_P) -> np.ndarray:
    """Teunter-Syntetos-Babai: SES of the demand probability (every month) times SES of the
    non-zero sizes."""
    y = np.asarray(y, float)
    sizes = y[y > 0]
    if not len(sizes):
        return np.zeros(h)
    prob = ses_level((y != 0).astype(float), alpha_p)
    return np.repeat(prob * ses_level(sizes, alpha_d), h)


def mixture_bounds(y, levels=(80, 95), *, prob: float | None = None,
                   window: int = SIZE_WINDOW) -> dict[int, tuple[float, float]]:
    """``{level: (lo, hi)}``: central quantiles of "0 with probability 1 - p, else one of the
    last ``window`` non-zero sizes" (``p`` = ``prob``, default the share of non-zero months in
    the last ``2 window`` months)."""
    y = np.asarray(y, float)
    sizes = y[y > 0][-window:]
    if prob is None:
        recent = y[-2 * window:]
        prob = float(np.mean(recent > 0)) if len(recent) else 0.0
    out = {}
    for lv in levels:
        bounds = []
        for q in ((1 - lv / 100) / 2, (1 + lv / 100) / 2):
            if not len(sizes) or q <= 1 - prob:
                bounds.append(0.0)
            else:
                bounds.append(float(np.quantile(sizes, (q - (1 - prob)) / prob)))
        out[lv] = (bounds[0], bounds[1])
    return out


#: The methods by name (``mean`` = the mean of the last 12 months, the reference).
METHODS = {"croston": croston, "sba": sba, "tsb": tsb,
           "mean": lambda y, h: np.repeat(np.mean(np.asarray(y, float)[-12:]), h)}


def intermittent(y, h: int, *, method: str = "sba", levels=(80, 95)):
    """Point forecast by ``method`` (see :data:`METHODS`) with the mixture intervals.

    Returns ``(mean, {level: lo}, {level: hi})``; bounds bracket the mean.
    """
    if method not in METHODS:
        raise ValueError(f"unknown intermittent method {method!r}; expected one of "
                         f"{sorted(METHODS)}")
    y = np.asarray(y, float)
    mean = np.asarray(METHODS[method](y, h), float)
    prob = ses_level((y != 0).astype(float), ALPHA_P) if np.any(y) else 0.0
    b = mixture_bounds(y, levels, prob=prob)
    lo = {lv: np.minimum(np.repeat(b[lv][0], h), mean) for lv in levels}
    hi = {lv: np.maximum(np.repeat(b[lv][1], h), mean) for lv in levels}
    return mean, lo, hi
