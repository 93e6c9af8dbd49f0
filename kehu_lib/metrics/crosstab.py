"""Crosstabs (交叉分析) with the chi-square test of independence and Cramér's V."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["crosstab", "crosstab_test"]


def crosstab(data: pd.DataFrame, *, row: str, col: str, normalize: str | None = None
             ) -> pd.DataFrame:
    """Contingency table of ``row`` x ``col`` (counts, or shares with ``normalize='index'`` /
    ``'columns'`` / ``'all'``). Rows with a missing value in either column are left out."""
    for c in (row, col):
        if c not in data.columns:
            raise ValueError(f"column {c!r} not in the data; columns are {list(data.columns)}")
    sub = data[[row, col]].dropna()
    if normalize is None:
        return pd.crosstab(sub[row], sub[col])
    return pd.crosstab(sub[row], sub[col], normalize=normalize)


def crosstab_test(data: pd.DataFrame, *, row: str, col: str, correction: bool = False
                  ) -> pd.DataFrame:
    """Chi-square test of independence (卡方检验) and Cramér's V for ``row`` x ``col``.

    chi2 = Σ (O - E)² / E with E = row total x column total / n; dof = (r-1)(c-1);
    Cramér's V = √(chi2 / (n · (min(r, c) - 1))), 0 (no association) to 1, as
    ``scipy.stats.contingency.association(method='cramer')``. Rows/columns with zero total
    are dropped. ``min_expected`` < 5 means the chi-square approximation is doubtful:
    ``status`` is then ``low_expected`` (else ``ok``) and ``warning`` says so in Chinese (kept
    for the notebooks; the glossary maps ``status``); ``share_low_expected`` is the share of
    cells with an expected count below 5 (Cochran's rule: at most 20%).
    Returns one row: ``row``, ``col``, ``n``, ``chi2``, ``dof``, ``p_value``, ``cramers_v``,
    ``min_expected``, ``warning``, ``share_low_expected``, ``status``.
    """
    tab = crosstab(data, row=row, col=col)
    tab = tab.loc[tab.sum(axis=1) > 0, tab.sum(axis=0) > 0]
    r, c = tab.shape
    if r < 2 or c < 2:
        raise ValueError(f"crosstab of {row!r} x {col!r} needs at least 2 rows and 2 columns "
                         f"with data, got {r}x{c}")
    chi2, p, dof, expected = stats.chi2_contingency(tab.to_numpy(), correction=correction)
    n = int(tab.to_numpy().sum())
    v = float(np.sqrt(chi2 / (n * (min(r, c) - 1))))
    min_e = float(expected.min())
    warn = "期望频数小于5，卡方检验结果仅供参考" if min_e < 5 else ""
    return pd.DataFrame([{"row": row, "col": col, "n": n, "chi2": float(chi2), "dof": int(dof),
                          "p_value": float(p), "cramers_v": v, "min_expected": min_e,
                          "warning": warn,
                          "share_low_expected": float((expected < 5).mean()),
                          "status": "low_expected" if min_e < 5 else "ok"}])
