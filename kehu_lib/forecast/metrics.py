"""Forecast accuracy metrics: MASE, sMAPE, bias and interval coverage.

Each function takes a long frame of forecasts joined to actuals and returns a tidy frame, one row
per group of ``by`` (or one row overall).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["mase_scale", "accuracy"]


def mase_scale(y, m: int = 12) -> float:
    """In-sample scale of MASE: mean absolute seasonal difference ``mean|y_t - y_{t-m}|``.

    Hyndman & Koehler (2006). With fewer than ``m + 1`` values the lag-1 difference is used;
    returns NaN for fewer than two values, and NaN when the scale is 0 (a constant series).
    """
    y = np.asarray(y, float)
    lag = m if len(y) > m else 1
    if len(y) <= lag:
        return float("nan")
    scale = float(np.mean(np.abs(y[lag:] - y[:-lag])))
    return scale if scale > 0 else float("nan")


def accuracy(data: pd.DataFrame, *, by: str | Sequence[str] | None = None,
             actual: str = "y", scale: str = "scale") -> pd.DataFrame:
    """Accuracy of forecasts against actuals (预测准确度).

    Parameters
    ----------
    data : DataFrame
        One row per series x origin x target month with columns ``mean`` (forecast), ``actual``
        (default ``y``), ``scale`` (the MASE scale of the series' training data, see
        :func:`mase_scale`) and, for coverage, ``lo_80, hi_80, lo_95, hi_95``.
    by : column name(s) to group by (e.g. ``["model"]`` or ``["level", "model"]``).

    Returns
    -------
    DataFrame with ``by`` columns and:

    - ``n``: number of forecast-actual pairs;
    - ``mase``: mean absolute scaled error = mean(|y - ŷ| / scale) (dimensionless; 1 = as good as
      the in-sample seasonal naive; pairs with an undefined scale are left out);
    - ``smape``: symmetric MAPE = mean(2|y - ŷ| / (|y| + |ŷ|)) (share, 0-2; pairs with
      y = ŷ = 0 count as 0);
    - ``bias``: mean percentage error of the totals = (Σŷ - Σy) / Σy (share; positive = forecasts
      too high);
    - ``coverage_80``, ``coverage_95``: share of actuals inside the 80% / 95% intervals.
    """
    if data.empty:
        cols = ([by] if isinstance(by, str) else list(by or [])) + [
            "n", "mase", "smape", "bias", "coverage_80", "coverage_95"]
        return pd.DataFrame(columns=cols)
    missing = [c for c in ("mean", actual, scale) if c not in data.columns]
    if missing:
        raise KeyError(f"accuracy() needs column(s) {missing}")
    d = data.copy()
    err = d["mean"] - d[actual]
    d["_ase"] = np.abs(err) / d[scale]
    den = np.abs(d[actual]) + np.abs(d["mean"])
    d["_sape"] = np.where(den > 0, 2 * np.abs(err) / den.where(den > 0, 1), 0.0)
    for lv in (80, 95):
        if f"lo_{lv}" in d.columns:
            inside = (d[actual] >= d[f"lo_{lv}"]) & (d[actual] <= d[f"hi_{lv}"])
            d[f"_cov{lv}"] = inside.astype(float)
        else:
            d[f"_cov{lv}"] = np.nan
    keys = [by] if isinstance(by, str) else list(by or [])
    groups = d.groupby(keys, sort=True, observed=True) if keys else [((), d)]
    rows = []
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        tot = g[actual].sum()
        rows.append(dict(zip(keys, key)) | {
            "n": len(g),
            "mase": float(g["_ase"].replace([np.inf], np.nan).mean()),
            "smape": float(g["_sape"].mean()),
            "bias": float((g["mean"].sum() - tot) / tot) if tot else float("nan"),
            "coverage_80": float(g["_cov80"].mean()),
            "coverage_95": float(g["_cov95"].mean()),
        })
    return pd.DataFrame(rows)
