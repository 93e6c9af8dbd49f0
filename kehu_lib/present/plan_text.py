"""The monthly plan's codes in words: 改进建议 (:func:`kehu_lib.plan.improve.improvement_advice`),
execution flags (:func:`kehu_lib.plan.improve.execution_flags`), district actions and
satisfaction actions (:mod:`kehu_lib.plan.crossreport`). Each function returns the frame the
page shows, with the sentence in a column of the glossary; the numbers stay numbers."""

from __future__ import annotations

from typing import Any

import pandas as pd

from . import glossary

__all__ = ["effect", "advice_sentence", "advice_view", "flag_sentence", "flag_view",
           "district_action_view", "satisfaction_view", "problem_text", "district_action_note",
           "manager_link_items"]


def effect(value: Any, unit: str) -> str:
    """An effect (difference of changes) in its outcome's unit: 比例 as 百分点, else signed."""
    v = float(value)
    if unit == "比例":
        return f"{v * 100:+.1f}个百分点"
    return f"{v:+,.1f}{unit}"


def advice_sentence(row: pd.Series, *, outcome_zh: str, unit: str) -> str:
    """The 改进建议 of one strategy (codes of :data:`kehu_lib.plan.improve.ADVICE`)."""
    a = row["advice"]
    ci = (f"（95%置信区间{effect(row['advice_low'], unit)}至{effect(row['advice_high'], unit)}）"
          if pd.notna(row.get("advice_low")) else "")
    val = effect(row["advice_value"], unit) if pd.notna(row.get("advice_value")) else ""
    if a == "extend":
        return (f"有效：接受该策略的客户{outcome_zh}与对照客户相比多变化{val}{ci}，保留并推广到"
                f"{outcome_zh}同样存在问题的客户。")
    if a == "stop":
        return (f"效果为负：接受该策略的客户{outcome_zh}与对照客户相比变化{val}{ci}，对"
                f"“{outcome_zh}”问题停止使用该策略，复核执行方式或改用其他策略。")
    if a == "execute_first":
        return (f"未见效果，但策略执行率仅{float(row['advice_coverage']) * 100:.0f}%：方案未落实，"
                "先按方案在拜访中执行到位，下月再评估。")
    if a == "revise":
        return (f"未见效果：{outcome_zh}与对照客户相比变化{val}{ci}，多重比较（Holm）校正后"
                f"不显著；"
                f"调整针对“{outcome_zh}”的策略组合。")
    if a == "accumulate":
        return (f"样本不足：仅{int(row['advice_n'])}户接受该策略，少于{int(row['advice_min_n'])}户，"
                "继续执行，累计样本后再评估。")
    return glossary.code_name("plan_action", row.get("verdict_code", ""))


def advice_view(advice: pd.DataFrame, evaluation: pd.DataFrame, library) -> pd.DataFrame:
    """改进建议 per judged strategy: strategy_code, strategy, outcome, verdict, advice_text."""
    cols = ["strategy_code", "strategy", "outcome", "verdict", "advice_text"]
    if advice.empty:
        return pd.DataFrame(columns=cols)
    ev = evaluation.drop_duplicates(["code", "outcome"]).set_index(["code", "outcome"])
    rows = []
    for _, r in advice.iterrows():
        key = (r["code"], r["outcome"])
        zh = str(ev.at[key, "outcome_zh"]) if key in ev.index else str(r["outcome"])
        unit = str(ev.at[key, "unit"]) if key in ev.index and "unit" in ev.columns else ""
        rows.append({"strategy_code": r["code"], "strategy": library.name(r["code"]),
                     "outcome": zh, "verdict": r["verdict_code"],
                     "advice_text": advice_sentence(r, outcome_zh=zh, unit=unit)})
    return pd.DataFrame(rows, columns=cols)


def flag_sentence(code: str, value: float, threshold: float) -> str:
    """An execution flag in words."""
    if code == "low_strategy_execution":
        return (f"策略执行率{value * 100:.0f}%，低于{threshold * 100:.0f}%：上月计划的策略大多没有在"
                "拜访中落实，策略效果无从评估；本月先按方案落实。")
    if code == "low_visit_coverage":
        return (f"拜访计划完成率{value * 100:.0f}%，低于{threshold * 100:.0f}%：计划拜访的客户未走访到位。")
    return glossary.code_name("execution_flag", code)


def flag_view(flags: pd.DataFrame) -> pd.DataFrame:
    """Execution flags: manager_id, execution_flag (code), flag_value, flag_threshold, flag_text."""
    if flags.empty:
        return pd.DataFrame(columns=["manager_id", "execution_flag", "flag_value",
                                     "flag_threshold", "flag_text"])
    return pd.DataFrame({
        "manager_id": flags["manager_id"], "execution_flag": flags["code"],
        "flag_value": flags["value"], "flag_threshold": flags["threshold"],
        "flag_text": [flag_sentence(c, v, t) for c, v, t in
                      zip(flags["code"], flags["value"], flags["threshold"])]})


def _cause(library, cause: Any) -> str:
    if not isinstance(cause, str) or not cause:
        return ""
    hit = library.causes.loc[library.causes["cause"] == cause, "cause_zh"]
    return str(hit.iloc[0]) if len(hit) else cause


def district_action_view(actions: pd.DataFrame, library) -> pd.DataFrame:
    """District actions (a problem of most of a district's shops, reported once):
    district_code, state_indicator, cause_text, shops_flagged, shops_judged, share,
    strategy_codes (names)."""
    cols = ["district_code", "state_indicator", "cause_text", "shops_flagged", "shops_judged",
            "share", "strategy_codes"]
    if actions.empty:
        return pd.DataFrame(columns=cols)
    return pd.DataFrame({
        "district_code": actions["district_code"], "state_indicator": actions["indicator"],
        "cause_text": [_cause(library, c) for c in actions["cause"]],
        "shops_flagged": actions["shops_flagged"], "shops_judged": actions["shops_judged"],
        "share": actions["share"],
        "strategy_codes": [library.label(str(c).split(";")) for c in actions["codes"]]})[cols]


def satisfaction_view(actions: pd.DataFrame, library, names: dict[str, str]) -> pd.DataFrame:
    """Satisfaction drops answered by district strategies: district_code, item, comparison,
    score_diff, ci_low, ci_high, cause_text, strategy_codes (names)."""
    cols = ["district_code", "item", "comparison", "score_diff", "ci_low", "ci_high",
            "cause_text", "strategy_codes"]
    if actions.empty:
        return pd.DataFrame(columns=cols)
    return pd.DataFrame({
        "district_code": actions["district_code"],
        "item": [names.get(i, i) for i in actions["item"]],
        "comparison": actions["comparison"], "score_diff": actions["diff"],
        "ci_low": actions["ci_low"], "ci_high": actions["ci_high"],
        "cause_text": [_cause(library, c) for c in actions["cause"]],
        "strategy_codes": [library.label(str(c).split(";")) for c in actions["codes"]]})[cols]


def _missing(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and v != v) or v == ""


def problem_text(indicator: Any, cause: Any, sku_name: Any, library) -> str:
    """A shop's problem in words, naming the product: '品牌培育协作：未引入新品（娇子(宽窄细支)）',
    '订单合理性：库存积压（云烟(紫)）', '销量' (indicator only); '' without a problem."""
    if _missing(indicator):
        return ""
    text = glossary.code_name("state_indicator", indicator)
    if not _missing(cause):
        text += f"：{_cause(library, cause)}"
        if not _missing(sku_name):
            text += f"（{sku_name}）"
    return text


def district_action_note(actions: pd.DataFrame, library) -> str:
    """The district actions in one sentence for a manager's page (they are not listed shop by
    shop there); '' when there is none."""
    if actions is None or actions.empty:
        return ""
    parts = []
    for _, r in actions.iterrows():
        what = glossary.code_name("state_indicator", r["indicator"])
        cause = _cause(library, r["cause"]) if not _missing(r["cause"]) else ""
        codes = library.label(str(r["codes"]).split(";")) if not _missing(r["codes"]) else ""
        parts.append(f"{what}{'（' + cause + '）' if cause else ''}涉及本区"
                     f"{float(r['share']) * 100:.0f}%的客户（{int(r['shops_flagged']):,}户），"
                     f"由区县统一安排{codes}")
    return "区县统一行动：" + "；".join(parts) + "。这些问题不在下表逐户列出。"


def manager_link_items(written: pd.DataFrame, targets: pd.DataFrame, *,
                       base: str | None) -> list[str]:
    """One Markdown list item per manager's page: '[KM0401 的工作方案](files/…html)：重点客户20户，
    销量目标111.5箱'. ``written``: :func:`kehu_lib.plan.output.write_manager_plans`; ``base``: the
    folder of the pages relative to the plan page ('files/'), None to link the written file by
    its absolute address (an interactive run)."""
    from pathlib import Path
    from urllib.parse import quote

    from . import format as fmt

    t = targets.drop_duplicates("manager_id").set_index("manager_id")
    items = []
    for _, w in written.iterrows():
        href = (base + quote(w["html"]) if base is not None
                else (Path(w["folder"]) / w["html"]).resolve().as_uri())
        text = f"[客户经理 {w['manager_id']} 的工作方案]({href})：重点客户{int(w['key_shops'])}户"
        if w["manager_id"] in t.index:
            text += f"，销量目标{fmt.cases(t.at[w['manager_id'], 'volume_target_cases'])}箱"
        items.append(text + "。")
    return items
