"""The public forecast entry points: one series (:func:`forecast_series`) and a long frame of
series (:func:`forecast_long`).

Both run the product path, :func:`kehu_lib.forecast.select.fit_one`, the same that the month's
pipeline (reports, demand plan) runs and that ``benchmarks/forecast_bench.py`` measures:

- all-zero, short (< 6 months) and intermittent series (more than 30% zero months in the last
  12) get their fallback: zeros, the naive forecast, TSB (Teunter-Syntetos-Babai,
  :mod:`.intermittent`);
- a regular series is backtested from 2 rolling origins (12 and 6 months before its end, 6
  months ahead each) for the seasonal naive, ETS, Theta, SARIMA and their combination, and
  forecast by the combination of ETS, Theta, SARIMA and Holt's linear trend weighted by
  1 / backtest MASE^2 (:data:`select.POLICY`, :data:`select.COMBO`; measured on held-out
  public data: picking the backtest's best model lost to the combination, the weights never
  did); the backtest MASE of every candidate and the weights are returned as the evidence;
- series with zero months are modelled on ``log(y + c)`` (no raw-scale fit), positive ones on
  ``log y``; the airline SARIMA's trend is damped (a finished surge is not run forward); the
  Spring-Festival regressor enters when ``festival`` and its effect is clear;
- ETS and Theta take their seasonal form only when the series (36 months or more) passes the
  Theta method's seasonality test on its levels or its changes;
- the members' intervals are built from the recent one-step errors (the last 60 months) and
  those errors' own quantiles (heavy tails: narrower at 80%, wider at 95% than the normal's);
  the combination's bounds are the median of the members' (:func:`models.combine`);
- a regular series of 72 months or more gets two more backtest origins (n-24, n-18; the
  combination's members only) and its 80% interval scaled by the 80% quantile of the
  combination's errors over the interval's half-width in those 24 backtest months
  (:data:`select.CALIB_EXTRA`; the 95% interval keeps the models' width).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from . import models as M
from . import select as sel

__all__ = ["forecast_series", "forecast_long", "FORECAST_COLUMNS"]

#: Columns of :func:`forecast_series` (``forecast_long`` adds ``unique_id`` in front).
FORECAST_COLUMNS = ["ds", "mean", "lo_80", "hi_80", "lo_95", "hi_95", "model", "reason", "note"]


def _start_month(months, n: int, where: str = "") -> pd.Period:
    """The month of the first value from ``months``: one month (the first) or one per value."""
    if months is None:
        raise ValueError(f"{where}months is required: the month of the first value, or one "
                         "month per value")
    if isinstance(months, (str, pd.Period, pd.Timestamp)) or np.ndim(months) == 0:
        try:
            return pd.Period(months, freq="M")
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{where}months: cannot read {months!r} as a month "
                             "(expected e.g. '2024-01')") from exc
    idx = pd.PeriodIndex(pd.to_datetime(pd.Index(months)), freq="M")
    if len(idx) != n:
        raise ValueError(f"{where}months has {len(idx)} entries for {n} values; expected one "
                         "month per value (or only the first month)")
    if n > 1 and not (idx[1:] - idx[:-1] == idx.freq).all():
        bad = int(np.flatnonzero(np.asarray(idx[1:] - idx[:-1] != idx.freq))[0]) + 1
        raise ValueError(f"{where}months are not consecutive at position {bad} "
                         f"({idx[bad - 1]} -> {idx[bad]}); expected one value per month, "
                         "no gaps (fill a month without sales with 0)")
    return idx[0]


def _check_values(y, where: str = "") -> np.ndarray:
    y = np.asarray(y, float).ravel()
    if len(y) == 0:
        raise ValueError(f"{where}y is empty: at least one month is needed")
    bad = np.flatnonzero(~np.isfinite(y))
    if len(bad):
        raise ValueError(f"{where}y has a missing or infinite value at position {bad[0]} "
                         f"({len(bad)} in all); expected a number for every month "
                         "(0 for a month without sales)")
    neg = np.flatnonzero(y < 0)
    if len(neg):
        raise ValueError(f"{where}y has a negative value ({y[neg[0]]:g}) at position "
                         f"{neg[0]}; expected volumes >= 0")
    return y


def _check_levels(level) -> tuple[int, ...]:
    lv = tuple(int(v) for v in (level if np.ndim(level) else [level]))
    if not lv or not set(lv) <= set(M.LEVELS):
        raise ValueError(f"level={level!r}: the models give the intervals of {M.LEVELS} "
                         "percent; choose among those")
    return lv


def _result_frame(res: dict, start: pd.Period, n: int, h: int,
                  levels: tuple[int, ...]) -> pd.DataFrame:
    fc = res["forecast"]
    out = pd.DataFrame({"ds": pd.period_range(start + n, periods=h, freq="M").to_timestamp(),
                        "mean": fc.mean})
    for lv in levels:
        out[f"lo_{lv}"], out[f"hi_{lv}"] = fc.lo[lv], fc.hi[lv]
    out["model"], out["reason"], out["note"] = res["model"], res["reason"], fc.note
    return out


def forecast_series(y, h: int, *, months, festival: bool = True,
                    level: Sequence[int] = (80, 95)) -> pd.DataFrame:
    """Forecast one monthly series ``h`` months ahead, as the reports do.

    Parameters
    ----------
    y : monthly values, oldest first, no gaps (volumes >= 0; 0 for a month without sales).
        Leading zero months (before the item existed) are dropped.
    h : months to forecast (>= 1).
    months : the month of ``y[0]`` (e.g. ``"2024-01"``) or one month per value.
    festival : use the Spring-Festival regressor (when its effect is clear in the data).
    level : interval levels in percent, among 80 and 95.

    Returns
    -------
    DataFrame of ``h`` rows: ``ds`` (month start), ``mean`` (point forecast), ``lo_80, hi_80,
    lo_95, hi_95`` (interval bounds of the levels asked for), ``model`` (code of the model used:
    combo, ets, theta, sarima, holt, snaive, or a fallback: tsb, naive, mean, zero), ``reason``
    (code of why, :data:`select.REASONS`) and ``note`` (model form). ``attrs["evidence"]``:
    the backtest MASE of each candidate (``model, mase, n, origins``, and ``weight`` of the
    combination's members), ``attrs["backtest"]``
    the backtest rows, ``attrs["members"]`` the point forecast of every candidate (one column
    each; for comparisons).
    """
    levels = _check_levels(level)
    if int(h) != h or h < 1:
        raise ValueError(f"h must be a whole number of months >= 1, got {h!r}")
    h = int(h)
    y = _check_values(y)
    start = _start_month(months, len(y))
    nz = np.flatnonzero(y > 0)
    if len(nz) and nz[0] > 0:  # the series starts at its first sale
        start, y = start + int(nz[0]), y[nz[0]:]
    res = sel.fit_one(y, h, start=start, festival=festival)
    out = _result_frame(res, start, len(y), h, levels)
    out.attrs["evidence"] = res["evidence"]
    out.attrs["backtest"] = res["backtest"]
    out.attrs["members"] = pd.DataFrame({k: f.mean for k, f in res["members"].items()})
    return out




def forecast_long(data: pd.DataFrame, h: int, *, festival: bool = True,
                  level: Sequence[int] = (80, 95), n_jobs: int | None = None) -> pd.DataFrame:
    """:func:`forecast_series` for every series of a long frame ``unique_id, ds, y``.

    ``ds``: month (start) of each value; each series' months must be consecutive. Series run
    in ``n_jobs`` processes (see :func:`select.forecast_frame`). Returns ``unique_id`` and the
    columns of :func:`forecast_series`, ``h`` rows per series in the order of the ids;
    ``attrs["evidence"]``: the backtest MASE per series and candidate (``unique_id, model,
    mase, n, origins``).
    """
    levels = _check_levels(level)
    missing = [c for c in ("unique_id", "ds", "y") if c not in data.columns]
    if missing:
        raise ValueError(f"forecast_long: the frame lacks column(s) {missing}; expected the "
                         "long format unique_id, ds, y")
    tasks = []
    for uid, g in data.sort_values(["unique_id", "ds"]).groupby("unique_id", sort=True):
        where = f"series {uid!r}: "
        y = _check_values(g["y"], where)
        start = _start_month(g["ds"], len(y), where)
        nz = np.flatnonzero(y > 0)
        if len(nz) and nz[0] > 0:
            start, y = start + int(nz[0]), y[nz[0]:]
        tasks.append({"unique_id": uid, "y": y, "start": start, "h": int(h),
                      "festival": festival})
    results = sel.forecast_frame(tasks, n_jobs=n_jobs)
    frames, evs = [], []
    for r in results:
        f = r["forecast"].drop(columns=[c for c in r["forecast"].columns
                                        if c[:3] in ("lo_", "hi_") and int(c[3:]) not in levels])
        frames.append(f)
        evs.append(r["evidence"])
    cols = ["unique_id"] + [c for c in FORECAST_COLUMNS if c in frames[0].columns] \
        if frames else ["unique_id"] + FORECAST_COLUMNS
    out = pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)
    ev = pd.concat(evs, ignore_index=True) if evs else pd.DataFrame()
    out.attrs["evidence"] = ev[["unique_id"] + [c for c in ev.columns if c != "unique_id"]] \
        if len(ev) else ev
    return out
