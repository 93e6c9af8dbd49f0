"""Scale reliability (信度分析) of a survey: Cronbach's alpha and item diagnostics.

Input is a respondent x item score matrix (e.g. :func:`kehu_lib.metrics.survey.to_wide`).
Respondents with any unscored item are dropped (listwise), as R ``psych::alpha(use='complete')``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["cronbach_alpha", "item_reliability"]


def _alpha(x: np.ndarray) -> float:
    k = x.shape[1]
    cov = np.cov(x, rowvar=False, ddof=1)
    total = cov.sum()
    if total <= 0:
        return float("nan")
    return float(k / (k - 1) * (1 - np.trace(cov) / total))


def _complete(wide: pd.DataFrame, items) -> pd.DataFrame:
    if items is not None:
        wide = wide[list(items)]
    k = wide.shape[1]
    if k < 2:
        raise ValueError(f"Cronbach's alpha needs at least 2 items, got {k}")
    return wide.dropna(axis=0, how="any").astype(float)


def cronbach_alpha(wide: pd.DataFrame, *, items=None, level: float = 0.95) -> pd.DataFrame:
    """Cronbach's alpha (克朗巴哈系数) with Feldt's F-based confidence interval.

    alpha = k/(k-1)·(1 - Σ var_i / var(Σ items)); CI: 1 - (1-alpha)·F⁻¹ with df1 = n-1,
    df2 = (n-1)(k-1) (as pingouin ``cronbach_alpha``). Dimensionless, <= 1.
    Returns one row: ``alpha``, ``ci_low``, ``ci_high``, ``n`` (complete respondents), ``k``.
    """
    x = _complete(wide, items)
    n, k = x.shape
    if n < 2:
        raise ValueError(f"Cronbach's alpha needs at least 2 complete respondents, got {n}")
    a = _alpha(x.to_numpy())
    df1, df2 = n - 1, (n - 1) * (k - 1)
    q = 1 - level
    low = 1 - (1 - a) * stats.f.isf(q / 2, df1, df2)
    high = 1 - (1 - a) * stats.f.isf(1 - q / 2, df1, df2)
    return pd.DataFrame({"alpha": [a], "ci_low": [low], "ci_high": [high], "n": [n], "k": [k]})


def item_reliability(wide: pd.DataFrame, *, items=None, min_item_rest: float = 0.0
                     ) -> pd.DataFrame:
    """Per-item diagnostics: alpha if the item is dropped, item-rest correlation, reverse-coding.

    item_rest_corr = Pearson r(item, sum of the other items); alpha_if_dropped = alpha of the
    remaining k-1 items (NaN when fewer than 2 remain). ``reverse_suspect`` is True when the
    item-rest correlation is below ``min_item_rest`` (default 0: negative), the usual sign of an
    item coded in the opposite direction; ``warning`` then holds a Chinese note for the report.
    Returns ``item``, ``mean``, ``item_rest_corr``, ``alpha_if_dropped``, ``reverse_suspect``,
    ``warning``.
    """
    x = _complete(wide, items)
    if len(x) < 3:
        raise ValueError(f"item diagnostics need at least 3 complete respondents, got {len(x)}")
    arr = x.to_numpy()
    total = arr.sum(axis=1)
    rows = []
    for j, item in enumerate(x.columns):
        rest = total - arr[:, j]
        r = (np.corrcoef(arr[:, j], rest)[0, 1]
             if arr[:, j].std() > 0 and rest.std() > 0 else np.nan)
        keep = np.delete(arr, j, axis=1)
        a_drop = _alpha(keep) if keep.shape[1] >= 2 else np.nan
        suspect = bool(pd.notna(r) and r < min_item_rest)
        rows.append({"item": item, "mean": arr[:, j].mean(), "item_rest_corr": r,
                     "alpha_if_dropped": a_drop, "reverse_suspect": suspect,
                     "warning": (f"{item} 与其余题目负相关（r={r:.2f}），疑似反向计分，请核对题目方向"
                                 if suspect else "")})
    return pd.DataFrame(rows)
