"""Scale reliability (信度分析) of a survey: Cronbach's alpha, item diagnostics and reverse keys.

Input is a respondent x item score matrix (e.g. :func:`kehu_lib.metrics.survey.to_wide`).
Missing answers are handled as ``nan_policy`` says: ``"pairwise"`` (default, as R
``psych::alpha(use="pairwise")`` and ``pingouin.cronbach_alpha``) uses every answered pair of
items for the covariance matrix; ``"listwise"`` keeps only respondents who answered every item
(``psych::alpha(use="complete.obs")``).

Reverse keying follows R ``psych::alpha(check.keys=TRUE)``: an item is reverse keyed when its
loading on the first principal component of the item correlation matrix is negative (the
component's sign is chosen so that the loadings sum to a positive number, as
``psych::principal``). The item-rest correlation is not used for that: with two reversed items
out of five every item-rest correlation can be negative.

Computations return status codes (``ok``, ``no_variance``, ``reverse_suspect``, ``reversed``);
the Chinese words belong to the presentation glossary.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["NAN_POLICIES", "cronbach_alpha", "item_reliability", "first_component_loadings"]

#: Accepted values of ``nan_policy``.
NAN_POLICIES = ("pairwise", "listwise")


def _alpha_from_cov(cov: np.ndarray) -> float:
    k = cov.shape[0]
    total = cov.sum()
    if not np.isfinite(total) or total <= 0:
        return float("nan")
    return float(k / (k - 1) * (1 - np.trace(cov) / total))


def _alpha(x: np.ndarray) -> float:
    """Alpha of a complete matrix (respondents x items)."""
    return _alpha_from_cov(np.cov(x, rowvar=False, ddof=1))


def _prepare(wide: pd.DataFrame, items, nan_policy: str) -> pd.DataFrame:
    if nan_policy not in NAN_POLICIES:
        raise ValueError(f"nan_policy must be one of {list(NAN_POLICIES)}, got {nan_policy!r}")
    if items is not None:
        missing = [i for i in items if i not in wide.columns]
        if missing:
            raise ValueError(f"item(s) {missing} not in the score matrix; its columns are "
                             f"{[str(c) for c in wide.columns]}")
        wide = wide[list(items)]
    k = wide.shape[1]
    if k < 2:
        raise ValueError(f"Cronbach's alpha needs at least 2 items, got {k}")
    x = wide.astype(float)
    x = x.dropna(axis=0, how="any") if nan_policy == "listwise" else x.dropna(axis=0, how="all")
    return x


def _complete(wide: pd.DataFrame, items) -> pd.DataFrame:
    return _prepare(wide, items, "listwise")


def _cov(x: pd.DataFrame) -> np.ndarray:
    """Item covariance matrix (pandas: pairwise-complete, ddof=1; on complete rows it is the
    ordinary covariance matrix)."""
    return x.cov().to_numpy()


def _pc1(corr: np.ndarray) -> np.ndarray:
    """Loadings of the first principal component of a correlation matrix: eigenvector x
    sqrt(eigenvalue), signed so that the loadings sum to a positive number (psych::principal)."""
    w, v = np.linalg.eigh(corr)
    load = v[:, -1] * np.sqrt(max(w[-1], 0.0))
    s = np.sign(load.sum())
    return load * (s if s != 0 else 1.0)


def first_component_loadings(wide: pd.DataFrame, *, items=None, nan_policy: str = "pairwise"
                             ) -> pd.DataFrame:
    """Loadings of each item on the first principal component (第一主成分载荷).

    The component of the item correlation matrix (pairwise or listwise, ``nan_policy``) with the
    largest eigenvalue; loading = eigenvector x sqrt(eigenvalue) = the item's correlation with
    the component (-1..1), signed so the loadings sum to a positive number. An item with a
    negative loading is ``reverse`` keyed, as R ``psych::alpha(check.keys=TRUE)`` decides.
    Items without variance get NaN and are left out of the component.
    Returns ``item``, ``loading``, ``reverse``.
    """
    x = _prepare(wide, items, nan_policy)
    sd = x.std(ddof=1)
    varying = [c for c in x.columns if pd.notna(sd[c]) and sd[c] > 0]
    load = pd.Series(np.nan, index=x.columns, dtype=float)
    if len(varying) >= 2:
        corr = x[varying].corr().to_numpy()
        if np.isfinite(corr).all():
            load[varying] = _pc1(corr)
    return pd.DataFrame({"item": [str(c) for c in x.columns], "loading": load.to_numpy(),
                         "reverse": (load < 0).to_numpy()})


def cronbach_alpha(wide: pd.DataFrame, *, items=None, level: float = 0.95,
                   nan_policy: str = "pairwise", check_keys: bool = False) -> pd.DataFrame:
    """Cronbach's alpha (克朗巴哈系数) with Feldt's F-based confidence interval.

    alpha = k/(k-1)·(1 - Σ var_i / Σ_ij cov_ij) from the item covariance matrix (pairwise or
    listwise, ``nan_policy``); CI: 1 - (1-alpha)·F⁻¹ with df1 = n-1, df2 = (n-1)(k-1) (as
    pingouin ``cronbach_alpha``; R psych's ``alpha`` reports the same Feldt bounds).
    Dimensionless, <= 1. With ``check_keys=True`` the items with a negative first-component
    loading (:func:`first_component_loadings`) are reversed first, as
    ``psych::alpha(check.keys=TRUE)``.

    Returns one row: ``alpha``, ``ci_low``, ``ci_high``, ``n`` (respondents used: with any
    answer when pairwise, complete ones when listwise), ``k``, ``n_complete`` (respondents who
    answered every item), ``nan_policy``, ``reversed`` (comma-separated items reversed, '' when
    none) and ``status``: ``ok``; ``no_variance`` (the answers do not vary, alpha is undefined
    and NaN); ``insufficient_sample`` (some pair of items was never answered together, NaN);
    ``reverse_suspect`` (some items load negatively and ``check_keys`` is False: alpha
    is understated); ``reversed`` (``check_keys`` reversed some items).
    """
    x = _prepare(wide, items, nan_policy)
    n, k = x.shape
    if n < 2:
        raise ValueError(f"Cronbach's alpha needs at least 2 complete respondents, got {n}"
                         if nan_policy == "listwise" else
                         f"Cronbach's alpha needs at least 2 respondents, got {n}")
    loads = first_component_loadings(x, nan_policy=nan_policy)
    mask = loads["reverse"].to_numpy()
    rev = loads.loc[mask, "item"].tolist()
    if check_keys and rev:
        x = x.copy()
        cols = x.columns[mask]
        x[cols] = -x[cols]  # alpha is unchanged by the constant of (max + min - x)
    cov = _cov(x)
    a = _alpha_from_cov(cov)
    variances = np.diag(cov)
    if np.isnan(a) and not (np.nan_to_num(variances) > 0).any():
        status = "no_variance"
    elif np.isnan(a) and not np.isfinite(cov).all():
        status = "insufficient_sample"  # some pair of items was never answered together
    elif rev:
        status = "reversed" if check_keys else "reverse_suspect"
    elif np.isnan(a):
        status = "no_variance"  # the items vary but their sum does not
    else:
        status = "ok"
    if np.isnan(a):
        low = high = float("nan")
    else:
        df1, df2 = n - 1, (n - 1) * (k - 1)
        q = 1 - level
        low = 1 - (1 - a) * stats.f.isf(q / 2, df1, df2)
        high = 1 - (1 - a) * stats.f.isf(1 - q / 2, df1, df2)
    return pd.DataFrame({"alpha": [a], "ci_low": [low], "ci_high": [high], "n": [n], "k": [k],
                         "n_complete": [int(x.notna().all(axis=1).sum())],
                         "nan_policy": [nan_policy],
                         "reversed": [",".join(rev) if check_keys else ""],
                         "status": [status]})


def item_reliability(wide: pd.DataFrame, *, items=None, min_item_rest: float = 0.0,
                     nan_policy: str = "pairwise") -> pd.DataFrame:
    """Per-item diagnostics: alpha if the item is dropped, item-rest correlation, reverse keys.

    From the item covariance matrix C (pairwise or listwise, ``nan_policy``):
    item_rest_corr = (Σ_j≠i C_ij) / sqrt(C_ii · Σ_{j,l≠i} C_jl), the correlation of the item with
    the sum of the other items (psych's ``r.drop``; on complete data the Pearson r of scipy);
    alpha_if_dropped = alpha of the remaining k-1 items (NaN when fewer than 2 remain).
    ``pc1_loading`` is the item's first principal component loading
    (:func:`first_component_loadings`) and ``reverse_suspect`` is True when it is negative, as R
    ``psych::alpha(check.keys=TRUE)`` decides. ``low_item_rest`` is True when the item-rest
    correlation is below ``min_item_rest`` (default 0), a weak item even when keyed right.
    ``status``: ``reverse_suspect``, ``no_variance`` (the item's answers do not vary),
    ``low_item_rest`` or ``ok``; ``warning`` holds a Chinese note for reports (kept for the
    notebooks; the glossary maps ``status``).
    Returns ``item``, ``mean``, ``item_rest_corr``, ``alpha_if_dropped``, ``pc1_loading``,
    ``reverse_suspect``, ``low_item_rest``, ``status``, ``warning``.
    """
    x = _prepare(wide, items, nan_policy)
    if len(x) < 3:
        raise ValueError(f"item diagnostics need at least 3 complete respondents, got {len(x)}"
                         if nan_policy == "listwise" else
                         f"item diagnostics need at least 3 respondents, got {len(x)}")
    cov = _cov(x)
    loads = first_component_loadings(x, nan_policy=nan_policy)["loading"].to_numpy()
    means = x.mean().to_numpy()
    rows = []
    k = cov.shape[0]
    for j, item in enumerate(x.columns):
        keep = [i for i in range(k) if i != j]
        sub = cov[np.ix_(keep, keep)]
        var_i, var_rest = cov[j, j], sub.sum()
        cov_ir = cov[j, keep].sum()
        r = (cov_ir / np.sqrt(var_i * var_rest)
             if np.isfinite(var_i) and var_i > 0 and np.isfinite(var_rest) and var_rest > 0
             else np.nan)
        a_drop = _alpha_from_cov(sub) if len(keep) >= 2 else np.nan
        suspect = bool(pd.notna(loads[j]) and loads[j] < 0)
        low = bool(pd.notna(r) and r < min_item_rest)
        no_var = not (np.isfinite(var_i) and var_i > 0)
        status = ("no_variance" if no_var else "reverse_suspect" if suspect
                  else "low_item_rest" if low else "ok")
        warning = ""
        if suspect:
            warning = (f"{item} 在第一主成分上的载荷为负（{loads[j]:.2f}），疑似反向计分，"
                       "请核对题目方向")
        elif no_var:
            warning = f"{item} 所有回答相同（无变异），无法评价"
        rows.append({"item": str(item), "mean": means[j], "item_rest_corr": r,
                     "alpha_if_dropped": a_drop, "pc1_loading": loads[j],
                     "reverse_suspect": suspect, "low_item_rest": low, "status": status,
                     "warning": warning})
    return pd.DataFrame(rows)
