"""改进: what the evaluation changes for next month.

:func:`review_list` marks the strategies that showed no effect for review; :func:`carry_over`
lists the shops still flagged on the indicator they were planned for.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..frames import joined

__all__ = ["review_list", "carry_over", "ADVICE", "improvement_advice", "execution_flags"]

#: 改进建议 codes (the glossary renders each with its parameters):
#: extend — 有效: keep it and extend it to shops with the same problem (advice_value = effect);
#: stop — 效果为负: stop it for this problem and review how it is done (value, low, high);
#: execute_first — 未见效果 but rarely executed: carry it out before judging (coverage);
#: revise — 未见效果 although executed: change the combination for this indicator (value, low,
#: high); accumulate — 样本不足: keep it and judge again next month (n, min_n).
ADVICE = ("extend", "stop", "execute_first", "revise", "accumulate")



def improvement_advice(evaluation: pd.DataFrame, execution: pd.DataFrame | None = None, *,
                       low_execution: float = 0.2, min_treated: int = 5) -> pd.DataFrame:
    """改进建议 per judged strategy, specific to its indicator and measured effect (codes and
    numbers; see :data:`ADVICE`).

    ``evaluation``: :func:`kehu_lib.plan.evaluate.evaluate_strategies`; ``execution``:
    :func:`kehu_lib.plan.evaluate.strategy_execution` (optional): a strategy without effect
    whose execution rate is below ``low_execution`` gets ``execute_first`` instead of
    ``revise`` — the plan was not carried out, so it was not tested.

    Returns
    -------
    DataFrame: code, outcome, verdict_code, advice, advice_value (the estimate, unit of the
    outcome), advice_low, advice_high (its 95% CI), advice_n (treated shops), advice_min_n,
    advice_coverage (execution rate, 0-1, NaN when unknown).
    """
    cols = ["code", "outcome", "verdict_code", "advice", "advice_value", "advice_low",
            "advice_high", "advice_n", "advice_min_n", "advice_coverage"]
    if evaluation.empty:
        return pd.DataFrame(columns=cols)
    ev = evaluation.copy()
    if "verdict_code" not in ev.columns:
        ev["verdict_code"] = ev["verdict"]
    if "outcome" not in ev.columns:
        ev["outcome"] = pd.NA
    cov = (ev["code"].map(execution.set_index("code")["execution_rate"]).astype(float)
           if execution is not None and len(execution) else pd.Series(np.nan, index=ev.index))
    rare = cov < low_execution
    vc = ev["verdict_code"]
    ev["advice"] = np.select(
        [vc == "effective", vc == "negative", (vc == "no_effect") & rare, vc == "no_effect"],
        ["extend", "stop", "execute_first", "revise"], "accumulate")
    ev["advice_value"], ev["advice_low"], ev["advice_high"] = (
        ev["estimate"], ev["ci_low"], ev["ci_high"])
    ev["advice_n"] = ev["n_treated"]
    ev["advice_min_n"] = min_treated
    ev["advice_coverage"] = cov
    return ev[cols].reset_index(drop=True)


def execution_flags(coverage: pd.DataFrame, *, low_strategy: float = 0.2,
                    low_visits: float = 0.8) -> pd.DataFrame:
    """Managers whose plan was not carried out (执行不到位), as codes.

    From :func:`kehu_lib.plan.evaluate.plan_coverage`: ``low_strategy_execution`` when
    策略执行率 < ``low_strategy`` (0.2: fewer than one planned strategy in five recorded on a
    visit), ``low_visit_coverage`` when 拜访计划完成率 < ``low_visits``.

    Returns
    -------
    DataFrame: manager_id, code, value (the rate, 0-1), threshold.
    """
    rows = []
    for _, r in coverage.iterrows():
        if pd.notna(r["strategy_coverage"]) and r["strategy_coverage"] < low_strategy:
            rows.append((r["manager_id"], "low_strategy_execution", float(r["strategy_coverage"]),
                         low_strategy))
        if pd.notna(r["visit_coverage"]) and r["visit_coverage"] < low_visits:
            rows.append((r["manager_id"], "low_visit_coverage", float(r["visit_coverage"]),
                         low_visits))
    return pd.DataFrame(rows, columns=["manager_id", "code", "value", "threshold"])


def review_list(evaluation: pd.DataFrame) -> pd.DataFrame:
    """Strategy review (策略复核清单) from :func:`kehu_lib.plan.evaluate.evaluate_strategies`.

    ``review`` = True for strategies judged ``no_effect`` (未见效果) or ``negative`` (效果为负);
    ``action`` is the recommendation's code (= the verdict; its text is the glossary's
    ``plan_action``; the specific advice as codes and numbers is :func:`improvement_advice`).

    Returns
    -------
    DataFrame: code, name, outcome, outcome_zh, unit, n_treated, estimate, ci_low, ci_high,
    p_holm, verdict, review, action.
    """
    cols = ["code", "name", "outcome", "outcome_zh", "unit", "n_treated", "estimate", "ci_low",
            "ci_high", "p_holm", "verdict", "review", "action"]
    if evaluation.empty:
        return pd.DataFrame(columns=cols)
    out = evaluation.copy()
    out["review"] = out["verdict"].isin(["no_effect", "negative"])
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
        p = planned_strategies.sort_values(["license_id", "order"])
        p = joined(p["license_id"], p["code"], ";")  # groupby(...).agg(";".join), no call per shop
        out = out.join(p.rename("planned"), on="license_id")
    else:
        out["planned"] = pd.NA
    cols = ["license_id", "district_code", "manager_id", "indicator", "indicator_zh",
            "value_before", "value_now", "gap_before", "gap_now", "detail", "planned"]
    return out.sort_values(["manager_id", "license_id"], ignore_index=True)[cols]
