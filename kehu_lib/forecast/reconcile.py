"""Forecast reconciliation: make brand, class, district and city forecasts add up.

The hierarchy is given by a summing matrix ``S`` (rows: every series, columns: the bottom series;
``S[i, j] = 1`` when bottom series j is part of series i), so that coherent forecasts satisfy
``y_all = S y_bottom``. Reconciled forecasts are ``ỹ = S G ŷ`` with

- ``bottom_up``: ``G = [0 | I]``: only the bottom forecasts count;
- ``ols``: ``G = (S'S)^-1 S'`` (Hyndman et al. 2011);
- ``wls_struct`` (default): MinT with the structural diagonal weights ``W = diag(S 1)``,
  ``G = (S' W^-1 S)^-1 S' W^-1`` (Wickramasuriya, Athanasopoulos & Hyndman 2019; Athanasopoulos
  et al. 2017): an aggregate's error variance is taken proportional to the number of bottom
  series in it, which needs no error covariance estimate (short series make one unreliable).

Interval bounds are rescaled by the ratio reconciled mean / base mean, which keeps each series'
relative uncertainty and non-negative bounds (intervals of aggregates are then not exactly those
of sums, which the literature accepts for a display). A month where the projection gives a
negative mean falls back to bottom-up.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["summing_matrix", "reconcile", "METHODS"]

METHODS = ("bottom_up", "ols", "wls_struct")
BOUNDS = ("lo_80", "hi_80", "lo_95", "hi_95")


def summing_matrix(members: dict[str, list[str]], bottom: list[str]) -> pd.DataFrame:
    """Summing matrix from ``members`` (series id -> the bottom ids it sums) and ``bottom`` ids.

    Bottom series are added as rows of themselves (identity block) after the aggregates.
    Raises ``ValueError`` naming an unknown bottom id.
    """
    bset = set(bottom)
    rows = {}
    for uid, parts in members.items():
        unknown = [p for p in parts if p not in bset]
        if unknown:
            raise ValueError(f"series {uid!r} sums unknown bottom series {unknown[:3]}")
        rows[uid] = [1.0 if b in set(parts) else 0.0 for b in bottom]
    for b in bottom:
        rows.setdefault(b, [1.0 if c == b else 0.0 for c in bottom])
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(bottom))


def _projection(S: np.ndarray, method: str, n_bottom: int) -> np.ndarray:
    if method == "bottom_up":
        G = np.zeros((n_bottom, S.shape[0]))
        G[:, S.shape[0] - n_bottom:] = np.eye(n_bottom)
        return S @ G
    if method == "ols":
        w_inv = np.ones(S.shape[0])
    elif method == "wls_struct":
        w_inv = 1.0 / S.sum(axis=1)
    else:
        raise ValueError(f"unknown reconciliation method {method!r}; expected one of {METHODS}")
    SW = S.T * w_inv
    G = np.linalg.solve(SW @ S, SW)
    return S @ G


def reconcile(forecasts: pd.DataFrame, S: pd.DataFrame, *, method: str = "wls_struct",
              by: tuple[str, ...] = ("ds",)) -> pd.DataFrame:
    """Reconcile base forecasts so every series equals the sum of its bottom series.

    Parameters
    ----------
    forecasts : long frame with ``unique_id``, the ``by`` columns (default ``ds``; add
        ``origin`` for backtests), ``mean`` and optionally ``lo_80, hi_80, lo_95, hi_95``.
        Every series of ``S`` must be present for each group.
    S : summing matrix from :func:`summing_matrix` (bottom series last).

    Returns
    -------
    The same rows with ``mean`` and bounds reconciled and ``mean_base`` holding the base mean.
    """
    Sv = S.to_numpy(float)
    n_bottom = S.shape[1]
    if list(S.index[-n_bottom:]) != list(S.columns):
        raise ValueError("summing matrix must end with the bottom series in column order")
    P = _projection(Sv, method, n_bottom)
    P_bu = _projection(Sv, "bottom_up", n_bottom)
    order = {u: i for i, u in enumerate(S.index)}
    missing = set(S.index) - set(forecasts["unique_id"])
    if missing:
        raise ValueError(f"no base forecast for {len(missing)} series, e.g. {sorted(missing)[:3]}")
    d = forecasts[forecasts["unique_id"].isin(order)].copy()
    d["_i"] = d["unique_id"].map(order)
    d = d.sort_values(list(by) + ["_i"], ignore_index=True)
    for col in ("mean",) + BOUNDS:
        if col in d.columns:
            d[col] = d[col].astype(float)
    d["mean_base"] = d["mean"]
    for _, idx in d.groupby(list(by), sort=False).indices.items():
        block = d.loc[idx]
        if len(block) != len(order):
            raise ValueError("each group must hold every series of the summing matrix once")
        yhat = block["mean"].to_numpy(float)
        rec = P @ yhat
        if np.any(rec < -1e-9):
            rec = P_bu @ yhat
        rec = np.maximum(rec, 0.0)
        ratio = np.where(yhat > 0, rec / np.where(yhat > 0, yhat, 1), 1.0)
        d.loc[idx, "mean"] = rec
        for col in BOUNDS:
            if col in d.columns:
                b = block[col].to_numpy(float)
                d.loc[idx, col] = np.where(yhat > 0, b * ratio, rec)
    return d.drop(columns="_i")
