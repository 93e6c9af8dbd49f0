"""改进: what the evaluation changes for next month.

:func:`review_list` marks the strategies that showed no effect for review; :func:`carry_over`
lists the shops still flagged on the indicator they were planned for.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["review_list", "carry_over"]



def review_list(evaluation: pd.DataFrame) -> pd.DataFrame:
    """Strategy review (策略复核清单) from :func:`kehu_lib.plan.evaluate.evaluate_strategies`.

    ``review`` = True for strategies judged ``no_effect`` (未见效果: enough treated shops, no
    significant improvement after the Holm adjustment); ``action`` is the recommendation's code
    (= the verdict; its text, e.g. 标记复核, is the glossary's ``plan_action``).

    Returns
    -------
    DataFrame: code, name, outcome_zh, n_treated, estimate, ci_low, ci_high, p_holm, verdict,
    review, action.
    """
    cols = ["code", "name", "outcome_zh", "n_treated", "estimate", "ci_low", "ci_high", "p_holm",
            "verdict", "review", "action"]
    if evaluation.empty:
        return pd.DataFrame(columns=cols)
    out = evaluation.copy()
    out["review"] = out["verdict"] == "no_effect"
    out["action"] = out["verdict"]
    return out[cols]


def carry_over(previous_states: pd.DataFrame, states: pd.DataFrame,
               planned_strategies: pd.DataFrame | None = None) -> pd.DataFrame:
    """结转客户: shops flagged on an indicator last time that are still flagged on it now.

    ``previous_states`` / ``states``: :func:`kehu_lib.plan.indicators.shop_states` of the month
    last month's plan was based on and of this month. With ``planned_strategies`` (last month's
    plan, from :func:`kehu_lib.plan.strategies.assign_strategies`) the strategies planned for the
    shop are listed.

    Returns
    -------
    DataFrame: license_id, district_code, manager_id, indicator, indicator_zh, value_before,
    value_now, gap_before, gap_now, detail (this month's), planned (strategy codes, ';'-joined).
    """
    keys = ["license_id", "indicator"]
    a = previous_states[previous_states["flagged"]][keys + ["value", "gap_ratio"]].rename(
        columns={"value": "value_before", "gap_ratio": "gap_before"})
    b = states[states["flagged"]][["license_id", "district_code", "manager_id", "indicator",
                                   "indicator_zh", "value", "gap_ratio", "detail"]].rename(
        columns={"value": "value_now", "gap_ratio": "gap_now"})
    out = b.merge(a, on=keys, how="inner")
    if planned_strategies is not None and not planned_strategies.empty:
        p = planned_strategies.sort_values(["license_id", "order"]).groupby("license_id")[
            "code"].agg(";".join)
        out = out.join(p.rename("planned"), on="license_id")
    else:
        out["planned"] = pd.NA
    cols = ["license_id", "district_code", "manager_id", "indicator", "indicator_zh",
            "value_before", "value_now", "gap_before", "gap_now", "detail", "planned"]
    return out.sort_values(["manager_id", "license_id"], ignore_index=True)[cols]
