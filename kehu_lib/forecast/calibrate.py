"""Calibration of the prediction intervals on the rolling-origin backtest, with the Spring
Festival months calibrated on their own errors.

The model intervals assume one error variance for every month. Around the moving Spring
Festival (春节) the errors are larger (the festival regressor cuts the bias of January and
February, not all of their variance), so one factor per level fitted on all months leaves the
festival months under-covered and the other months too wide. Here the factor of the festival
months (pre-festival share > 0, :func:`festival_month`) is estimated from the backtest errors of
those months only, and the factor of the other months from theirs.

Few festival points: a level's backtest over 12 months holds one January and one February per
series, so a level with few series has few festival errors. With fewer than
:data:`MIN_FESTIVAL_POINTS` the festival errors of all levels are pooled (the size of the
festival error relative to the model interval is much alike across levels), and with fewer
still the level's factor over all months is used (the calibration before the split).

Not applied to :func:`kehu_lib.forecast.series.forecast_series` (one series, no pool; it
calibrates the 80% interval of a long series on its own 24 backtest months instead, see the end
of this docstring and ``select.CALIB_EXTRA``), and
measured there (benchmarks/forecast_bench.py; 80 / 95% coverage of the product path, baseline
aus_retail 0.811 / 0.943, M3 0.783 / 0.929, tourism 0.891 / 0.973, PBS 0.794 / 0.912): the
factor per set pooled over all series' backtest errors (2 origins x 6 months), both ways, gives
0.860 / 0.967, 0.811 / 0.941, 0.869 / 0.966, 0.794 / 0.926 (the backtest over-states aus_retail's
later-step errors); a factor per series from its own 12 backtest errors, shrunk towards 1 with
6 points of prior, gives 0.798 / 0.931, 0.755 / 0.901, 0.854 / 0.958, 0.772 / 0.897 (narrower
everywhere, M3 and PBS at the edge of 5 points before tourism reaches 0.85); the combination's
backtest MASE over its members' as the factor gives tourism 0.876. Tourism's intervals are wide
from the first steps (0.88 at steps 1-6, not only at long horizons, and alike for series with and
without zero months).

What tourism's over-coverage is (issue 14, the same 200 series; each member's own intervals kept):
every member over-covers on its own (80 / 95%: ETS 0.863 / 0.967, Theta 0.867 / 0.965, SARIMA
0.900 / 0.977, already 0.885 / 0.875 at step 1 for ETS / SARIMA), and the combination, more
accurate than each, a little more (0.891). The hold-out is calmer than the training data: the
one-step errors of the ETS member over the hold-out at the fitted parameters are 0.77 (median
over series) of the last 60 in-sample ones, the last 24 in-sample ones 0.93 of the last 60 (M3:
0.88 and 0.99), so no window of in-sample or backtest errors shows it. AutoETS covers 0.836 /
0.929 there. The hold-out errors measured in interval half-widths are heavier-tailed than the
intervals' shape on tourism, M3 and PBS alike (the 95% half-width they call for is 1.76 / 1.69 /
2.59 times the 80% one, the intervals have 1.57 / 1.54 / 1.63), but the level points different
ways: tourism's 80% intervals are 24% too wide, M3's 3% and PBS' (regular series) 11% too narrow,
and M3 on all 1,428 series covers 0.765 at 80% (1.5 points of room), so neither a common factor
nor a common shape brings tourism to 0.85. Narrowing the combination by its diversification gain
(its hold-out error over the median member's: tourism 0.965, PBS 0.935) would narrow PBS more
than tourism. Left open: tourism's 80% coverage stays above the band.

By the width of the intervals (issue 14, the same windows; regular series, 80% coverage per
band of the 80% interval's median width relative to the forecast): within every set the wide
intervals cover more than the narrow ones (M3 0.65 at 5-10% of the forecast, 0.84 above 40%;
PBS 0.63 at 10-20%, 0.79 above 40%), but at the same relative width tourism still covers more
(0.90 at 20-40%, where M3 covers 0.78 and PBS 0.72; above 40% tourism and aus_retail 0.89, M3
0.84, PBS 0.79): narrowing the wide intervals would take PBS below the band before tourism
reaches it, so the width does not single out tourism's over-coverage either. Estimated initial
seasonal states of the ETS member (``models.ETS_SEASON_LS``) move tourism only to 0.887.

What brought tourism into the band (issue 14; the product path's members, weights and backtest
cached once per series, all 366 tourism, all 1,428 M3, all 336 PBS and aus_retail's 444 windows;
80 / 95% coverage, baseline tourism 0.880 / 0.972, M3 0.777 / 0.932, PBS 0.789 / 0.909,
aus_retail 0.801 / 0.936):

- AutoETS is not narrower than our ETS member on tourism (every 4th series, 92): its 80% width
  at step 1 is 1.12 times the ETS member's (median ratio), 0.94 / 1.06 / 0.92 times the
  product's at steps 1-6 / 7-12 / 13-24; it covers 0.824 there against the product's 0.875
  because its point forecasts miss more (relative MASE 0.939 against 0.854 on the whole set),
  not by a smaller sigma; it picks M,A,M or M,N,M for 18 of 31 series (every 12th). At step
  1 the ETS member covers 0.804 and AutoETS 0.848 on those series. The product's misses are on both sides (tourism 5.5%
  above the 80% interval, 6.5% below; PBS 14.9% / 9.5%).
- The combination's bounds: the weighted mean of the members' bounds (quantile averaging with
  the backtest weights) 0.880 / 0.973, the weighted mean of their half-widths around the
  combined mean the same, the median of the half-widths 0.875 / 0.971; only the narrowest
  member's half-width (0.831 / 0.952) narrows tourism enough, and it narrows every set.
- The 80% level alone scaled per series by its 12 backtest errors (the 95% width kept; factor
  the 80% quantile of r, shrunk linearly towards 1 with p points of prior): p = 3 tourism 0.835,
  M3 0.729, PBS 0.776, aus_retail 0.802; p = 6 0.847 / 0.743 / 0.780 / 0.810 (95% unchanged
  within 0.3 points): M3 falls out of the band at every length of series (100-120 months 0.764
  -> 0.714). With the unbiased quantile of 12 points (plotting position k / (n + 1)) tourism
  only reaches 0.856 (and aus_retail rises to 0.838): the 12-point version passed tourism by the
  narrow bias of the small-sample quantile.
- More backtest origins (the combination only, 6 months each, before the product's two): with
  four extra origins (36 points) tourism 0.853 and M3 (400 series) 0.787 against 0.765 without;
  with two (24 points, n-24 .. n-6) tourism 0.839 / 0.973, M3 (400) 0.794 / 0.930, PBS
  0.790 / 0.911; both levels calibrated on 36 points (unbiased quantile) 0.866 / 0.973, M3
  0.802 / 0.946, PBS 0.792 / 0.914. The longer backtest corrects M3 upwards and tourism
  downwards, unlike the 12-point one. The two extra origins (four member fits each, four
  origins of 6 months: the factor's 80% quantile of 24 points, no shrinkage) cost 1.28 times
  the product path on tourism (31 series, one process: product 0.25, extra origins 0.32 of
  AutoETS's time), only for series of 72 months or more, and are the product's
  (``select.CALIB_EXTRA``, ``CALIB_MIN_OBS``; the sample city's and aus_retail's series are
  shorter and keep the model intervals). Full run of the product with it
  (benchmarks/forecast_bench.py --m3 0 --tourism 0): tourism 0.840 / 0.973, M3 0.790 / 0.935,
  PBS 0.790 / 0.911, aus_retail 0.801 / 0.936, MASE unchanged, time ratio to AutoETS 0.43 /
  0.66 / 0.93 / 0.94: every set within 5 points of nominal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import festival as fest

__all__ = ["festival_month", "interval_scale", "calibrate_intervals", "MIN_FESTIVAL_POINTS"]

#: Minimum number of festival-month backtest forecasts for a festival factor of its own.
MIN_FESTIVAL_POINTS = 10
LEVELS = (80, 95)


def festival_month(ds) -> np.ndarray:
    """True for the months that hold part of the pre-festival buying window (share > 0)."""
    ds = pd.Index(ds)
    if len(ds) == 0:
        return np.zeros(0, bool)
    months = pd.PeriodIndex(pd.DatetimeIndex(ds), freq="M")
    uniq = months.unique()
    share = fest.festival_regressor(uniq, post=False)["festival_pre"].to_numpy()
    return np.asarray(months.map(dict(zip(uniq, share > 0))), bool)


def _factors(g: pd.DataFrame) -> dict[str, float]:
    """Factor of level L = the L% quantile of r = |y - mean| / (half-width on the side of y),
    never below 1; 1 when there is no finite r."""
    out = {}
    for lv in LEVELS:
        up = g["y"] >= g["mean"]
        half = np.where(up, g[f"hi_{lv}"] - g["mean"], g["mean"] - g[f"lo_{lv}"])
        r = np.abs(g["y"] - g["mean"]) / np.where(half > 0, half, np.nan)
        q = np.nanquantile(r, lv / 100) if np.isfinite(r).any() else 1.0
        out[f"scale_{lv}"] = float(max(1.0, q))
    return out


def interval_scale(bt: pd.DataFrame, *, by: str = "level", festival: bool = True,
                   min_festival: int = MIN_FESTIVAL_POINTS) -> pd.DataFrame:
    """Factors that widen the model intervals to their backtest coverage, per ``by`` group.

    For each backtest forecast, r = |y - mean| / (distance from mean to the bound on the side
    of y); the factor of level L is the L% quantile of r, never below 1 (intervals are only
    widened). Empirical calibration over the rolling origins (split-conformal in spirit).

    With ``festival`` (and a ``ds`` column in ``bt``) the festival months get their own factors
    ``fest_scale_80, fest_scale_95`` from their own errors (``n_fest`` of them; pooled over all
    groups below ``min_festival``, the group's overall factor below that again: column
    ``fest_source`` = "own" / "pooled" / "all months"), and ``scale_80, scale_95`` come from the
    other months. Without: ``scale_*`` from all rows and ``fest_scale_*`` equal to them.
    Returns ``by, scale_80, scale_95, fest_scale_80, fest_scale_95, n_fest, fest_source``.
    """
    cols = [by, "scale_80", "scale_95", "fest_scale_80", "fest_scale_95", "n_fest",
            "fest_source"]
    if bt.empty:
        return pd.DataFrame(columns=cols)
    split = festival and "ds" in bt.columns
    isf = festival_month(bt["ds"]) if split else np.zeros(len(bt), bool)
    pooled = _factors(bt[isf]) if isf.sum() >= min_festival else None
    rows = []
    for key, idx in bt.groupby(by, sort=True).indices.items():
        g, f = bt.iloc[idx], isf[idx]
        other = g[~f] if (~f).any() else g
        row = {by: key} | _factors(other)
        if not split:
            fac, src = {k: row[k] for k in ("scale_80", "scale_95")}, "all months"
        elif f.sum() >= min_festival:
            fac, src = _factors(g[f]), "own"
        elif pooled is not None:
            fac, src = pooled, "pooled"
        else:
            fac, src = _factors(g), "all months"
        row |= {"fest_scale_80": fac["scale_80"], "fest_scale_95": fac["scale_95"],
                "n_fest": int(f.sum()), "fest_source": src}
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)


def calibrate_intervals(fc: pd.DataFrame, bt: pd.DataFrame, *, by: str = "level",
                        festival: bool = True) -> pd.DataFrame:
    """Widen the interval bounds of ``fc`` by :func:`interval_scale` of the backtest ``bt``
    (bounds move away from the mean; lower bounds stay >= 0), the festival months of ``fc``
    (when it has ``ds``) by the festival factors. Adds ``scale_80, scale_95``: the factor
    applied to each row."""
    sc = interval_scale(bt, by=by, festival=festival)
    out = fc.drop(columns=["scale_80", "scale_95"], errors="ignore")
    out = out.merge(sc[[by, "scale_80", "scale_95", "fest_scale_80", "fest_scale_95"]],
                    on=by, how="left")
    isf = festival_month(out["ds"]) if festival and "ds" in out.columns \
        else np.zeros(len(out), bool)
    for lv in LEVELS:
        k = np.where(isf, out[f"fest_scale_{lv}"], out[f"scale_{lv}"])
        k = np.where(np.isfinite(k), k, 1.0)
        out[f"scale_{lv}"] = k
        out[f"lo_{lv}"] = np.maximum(out["mean"] - k * (out["mean"] - out[f"lo_{lv}"]), 0.0)
        out[f"hi_{lv}"] = out["mean"] + k * (out[f"hi_{lv}"] - out["mean"])
    # keep the 95% interval around the 80% one
    out["lo_95"] = np.minimum(out["lo_95"], out["lo_80"])
    out["hi_95"] = np.maximum(out["hi_95"], out["hi_80"])
    return out.drop(columns=["fest_scale_80", "fest_scale_95"])
