"""Forecast reconciliation: make brand, class, district and city forecasts add up.

The batch uses :func:`middle_out` (anchored at the district totals). The projections below
(bottom-up, OLS, MinT with structural or variance weights) work on any hierarchy given by its
summing matrix; on the sample city they need the class x brand cells as bottom series, which are
small and noisy, and did ~10% worse than middle-out at every aggregate level of the backtest.

The hierarchy is given by a summing matrix ``S`` (rows: every series, columns: the bottom series;
``S[i, j] = 1`` when bottom series j is part of series i), so that coherent forecasts satisfy
``y_all = S y_bottom``. Reconciled forecasts are ``ỹ = S G ŷ`` with

- ``bottom_up``: ``G = [0 | I]``: only the bottom forecasts count;
- ``ols``: ``G = (S'S)^-1 S'`` (Hyndman et al. 2011);
- ``wls_struct`` (default): MinT with the structural diagonal weights ``W = diag(S 1)``,
  ``G = (S' W^-1 S)^-1 S' W^-1`` (Wickramasuriya, Athanasopoulos & Hyndman 2019; Athanasopoulos
  et al. 2017): an aggregate's error variance is taken proportional to the number of bottom
  series in it, which needs no error covariance estimate (short series make one unreliable);
- ``wls_var``: MinT with ``W = diag(variances)``, e.g. the backtest mean squared errors.

Interval bounds are rescaled by the ratio reconciled mean / base mean, which keeps each series'
relative uncertainty and non-negative bounds (intervals of aggregates are then not exactly those
of sums, which the literature accepts for a display). A month where the projection gives a
negative mean falls back to bottom-up.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["summing_matrix", "reconcile", "middle_out", "METHODS"]

METHODS = ("bottom_up", "ols", "wls_struct", "wls_var")
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


def _projection(S: np.ndarray, method: str, n_bottom: int, weights=None) -> np.ndarray:
    if method == "bottom_up":
        G = np.zeros((n_bottom, S.shape[0]))
        G[:, S.shape[0] - n_bottom:] = np.eye(n_bottom)
        return S @ G
    if method == "ols":
        w_inv = np.ones(S.shape[0])
    elif method == "wls_struct":
        w_inv = 1.0 / S.sum(axis=1)
    elif method == "wls_var":
        w = np.asarray(weights, float)
        fill = np.nanmax(w[np.isfinite(w)]) if np.isfinite(w).any() else 1.0
        w = np.where(np.isfinite(w) & (w > 0), w, fill)
        w_inv = 1.0 / w
    else:
        raise ValueError(f"unknown reconciliation method {method!r}; expected one of {METHODS}")
    SW = S.T * w_inv
    G = np.linalg.solve(SW @ S, SW)
    return S @ G


def reconcile(forecasts: pd.DataFrame, S: pd.DataFrame, *, method: str = "wls_struct",
              by: tuple[str, ...] = ("ds",), variances: pd.Series | None = None) -> pd.DataFrame:
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
    if method == "wls_var":
        if variances is None:
            raise ValueError("method 'wls_var' needs the forecast error variances per series")
        weights = variances.reindex(S.index).to_numpy(float)
    else:
        weights = None
    P = _projection(Sv, method, n_bottom, weights)
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


def middle_out(forecasts: pd.DataFrame, meta: pd.DataFrame, *, by: tuple[str, ...] = ("ds",),
               city: str = "全市", total: str = "总量",
               children: tuple[str, ...] = ("价类", "品牌"),
               residual: str | None = "其他品牌",
               variances: pd.Series | None = None, anchor: str = "mean") -> pd.DataFrame:
    """Middle-out reconciliation anchored at the district totals (forecast proportions).

    The anchor (``anchor="mean"``, default) is the mean of three forecasts of the district
    total: its own, the sum of its classes and the sum of its brands; ``anchor="total"`` keeps
    the direct forecast. In the sample city's backtest (2026-10, small sample) the mean anchor
    lowered MASE at every level (总量 0.722 -> 0.688, 价类 0.714 -> 0.702, 品牌 0.741 -> 0.739),
    the direct anchor made brands slightly worse (0.748).
    Within each district the children of each ``children`` level (price classes; key brands plus
    其他品牌) are scaled by ``district total / Σ children`` (top-down by forecast proportions,
    Athanasopoulos, Ahmed & Hyndman 2009), except that when a ``residual`` member is present
    (其他品牌) it alone absorbs the difference as long as it stays non-negative, so the key
    brands keep their own forecasts. With ``variances`` (per ``unique_id``, e.g. backtest mean
    squared errors) the difference is instead shared in proportion to the members' variances
    (the MinT-WLS solution with the district total held fixed; proportional scaling where that
    would turn a member negative). The city's total and its children are the sums of the
    districts' (bottom-up). The district totals are the best-forecast level in the backtest,
    which is why they anchor. Interval bounds are rescaled by reconciled / base mean as in
    :func:`reconcile`. ``meta`` maps ``unique_id`` to ``district, level, member``.
    Series of other levels (e.g. 明细 cells) are dropped.
    """
    d = forecasts.merge(meta[["unique_id", "district", "level", "member"]], on="unique_id",
                        how="inner", suffixes=("", "_m"))
    d = d[d["level"].isin((total,) + tuple(children))].copy()
    for col in ("mean",) + BOUNDS:
        if col in d.columns:
            d[col] = d[col].astype(float)
    d["mean_base"] = d["mean"]
    keys = list(by)
    dist = d["district"] != city
    tot = d[dist & (d["level"] == total)].set_index(keys + ["district"])["mean"]
    if anchor == "mean":
        # the district total = mean of its direct forecast and the sums of each child level
        # (three forecasts of the same total: a combination, Hyndman et al. 2011 spirit)
        views = [tot] + [d[dist & (d["level"] == lvl)].groupby(keys + ["district"])["mean"].sum()
                         .reindex(tot.index).fillna(tot) for lvl in children]
        tot = sum(views) / len(views)
        mt = dist & (d["level"] == total)
        d.loc[mt, "mean"] = tot.reindex(pd.MultiIndex.from_frame(
            d.loc[mt, keys + ["district"]])).to_numpy(float)
    elif anchor != "total":
        raise ValueError(f"anchor must be 'mean' or 'total', got {anchor!r}")
    for lvl in children:
        m = dist & (d["level"] == lvl)
        grp = keys + ["district"]
        sums = d[m].groupby(grp)["mean"].transform("sum")
        target = tot.reindex(pd.MultiIndex.from_frame(d.loc[m, grp])).to_numpy(float)
        new = np.where(sums > 0, d.loc[m, "mean"] * target / np.where(sums > 0, sums, 1), 0.0)
        if variances is not None:
            # MinT-WLS with the total held fixed: the difference is shared in proportion to
            # each member's forecast error variance (noisy members absorb more)
            v = d.loc[m, "unique_id"].map(variances).astype(float)
            v = v.fillna(v.max() if v.notna().any() else 1.0).clip(lower=1e-12)
            vsum = v.groupby([d.loc[m, k] for k in grp]).transform("sum").to_numpy(float)
            cand = d.loc[m, "mean"].to_numpy(float) + (target - sums.to_numpy(float)) * v / vsum
            ok = pd.Series(cand >= 0, index=d.index[m]).groupby(
                [d.loc[m, k] for k in grp]).transform("all").to_numpy()
            new = np.where(ok, cand, new)
        elif residual and residual in set(d.loc[m, "member"]):
            # the residual member absorbs the difference when it can (stays >= 0): the other
            # members keep their own forecasts
            is_res = (d.loc[m, "member"] == residual).to_numpy()
            others = d[m].assign(_o=np.where(is_res, 0.0, d.loc[m, "mean"])).groupby(grp)[
                "_o"].transform("sum").to_numpy(float)
            rest = target - others
            ok = pd.Series(~is_res | (rest >= 0), index=d.index[m]).groupby(
                [d.loc[m, k] for k in grp]).transform("all").to_numpy()
            keep = np.where(is_res, rest, d.loc[m, "mean"].to_numpy(float))
            new = np.where(ok, keep, new)
        d.loc[m, "mean"] = new
    # city = sum of the districts, member by member
    city_sum = d[dist].groupby(keys + ["level", "member"])["mean"].sum()
    c = ~dist
    idx = pd.MultiIndex.from_frame(d.loc[c, keys + ["level", "member"]])
    d.loc[c, "mean"] = city_sum.reindex(idx).fillna(0.0).to_numpy(float)
    base = d["mean_base"].to_numpy(float)
    rec = d["mean"].to_numpy(float)
    ratio = np.where(base > 0, rec / np.where(base > 0, base, 1), 1.0)
    for col in BOUNDS:
        if col in d.columns:
            d[col] = np.where(base > 0, d[col] * ratio, rec)
    return d.drop(columns=[c_ for c_ in ("district_m", "level_m", "member_m") if c_ in d.columns])
