"""Pieces shared by the two survey reports (retailer and consumer)."""

from __future__ import annotations

import pandas as pd

from ..present.tables import Table

__all__ = ["alpha_table"]


def alpha_table(alpha: pd.DataFrame, *, title: str) -> Table:
    """The Cronbach's α table of :func:`kehu_lib.metrics.reliability.cronbach_alpha`: α, its CI,
    the respondents used (pairwise: every respondent with an answer), complete answers, items
    and the missing-answer policy."""
    view = alpha.rename(columns={"ci_low": "alpha_low", "ci_high": "alpha_high",
                                 "n": "respondents", "k": "n_items"})
    return Table(view[["alpha", "alpha_low", "alpha_high", "respondents", "n_complete",
                       "n_items", "nan_policy"]], title=title)
