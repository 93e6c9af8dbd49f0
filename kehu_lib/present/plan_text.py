"""The monthly plan's codes in words: 改进建议 (:func:`kehu_lib.plan.improve.improvement_advice`),
execution flags (:func:`kehu_lib.plan.improve.execution_flags`), district actions and
satisfaction actions (:mod:`kehu_lib.plan.crossreport`). Each function returns the frame the
page shows, with the sentence in a column of the glossary; the numbers stay numbers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import glossary

__all__ = ["effect", "advice_sentence", "advice_view", "flag_sentence", "flag_view",
           "district_action_view", "satisfaction_view", "problem_text", "district_action_note",
           "manager_link_items", "manager_short_links", "section_summary"]


def _pct(x: float) -> str:
    from . import format as fmt

    return fmt.share(x)


def effect(value: Any, unit: str) -> str:
    """An effect (difference of changes) in its outcome's unit: 比例 as 百分点, else signed."""
    v = float(value)
    if unit == "比例":
        return f"{v * 100:+.1f}个百分点"
    return f"{v:+,.1f}{unit}"


def evaluation_view(evaluation: pd.DataFrame) -> pd.DataFrame:
    """The strategy evaluations for the page: each effect and its interval in its outcome's
    unit, named in the outcome (``销量（条）``; an outcome measured as 比例 is shown in 百分点,
    x100), since the rows mix 条, 元/条, 个规格 and 比例."""
    ev = evaluation.rename(columns={"code": "strategy_code", "name": "strategy",
                                    "ci_low": "estimate_low", "ci_high": "estimate_high"})
    share = (ev["unit"] == "比例").to_numpy()
    scale = np.where(share, 100.0, 1.0)
    unit = np.where(share, "百分点", ev["unit"].astype(str))
    out = ev.drop(columns=["outcome"], errors="ignore")
    out["outcome"] = [f"{o}（{u}）" if u else str(o) for o, u in zip(ev["outcome_zh"], unit)]
    for c in ("estimate", "estimate_low", "estimate_high"):
        out[c] = ev[c].to_numpy(dtype=float) * scale
    return out.drop(columns=["outcome_zh"])


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
        return (f"策略执行率{_pct(value)}，低于{_pct(threshold)}：上月计划的策略大多没有在"
                "拜访中落实，策略效果无从评估；本月先按方案落实。")
    if code == "low_visit_coverage":
        return (f"拜访计划完成率{_pct(value)}，低于{_pct(threshold)}：计划拜访的客户未走访到位。")
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
    return library.cause_name(cause)


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
                     f"{_pct(float(r['share']))}的客户（{int(r['shops_flagged']):,}户），"
                     f"由区县统一安排{codes}")
    return "区县统一行动：" + "；".join(parts) + "。这些问题不在下表逐户列出。"


def _href(w, base: str | None) -> str:
    from pathlib import Path
    from urllib.parse import quote

    return (base + quote(w["html"]) if base is not None
            else (Path(w["folder"]) / w["html"]).resolve().as_uri())


def manager_short_links(written: pd.DataFrame, *, base: str | None) -> list[str]:
    """'[KM0401](files/…html)' per manager's page (see :func:`manager_link_items`)."""
    return [f"[{w['manager_id']}]({_href(w, base)})" for _, w in written.iterrows()]


def manager_link_items(written: pd.DataFrame, targets: pd.DataFrame, *,
                       base: str | None) -> list[str]:
    """One Markdown list item per manager's page: '[KM0401 的工作方案](files/…html)：重点客户20户，
    销量目标111.5箱' (the district's name first when ``written`` has a ``district_code``: the
    city's list, :func:`kehu_lib.plan.output.district_manager_pages`). ``written``:
    :func:`kehu_lib.plan.output.write_manager_plans`; ``base``: the
    folder of the pages relative to the plan page ('files/'), None to link the written file by
    its absolute address (an interactive run)."""
    from . import format as fmt

    from .. import config

    names = {d.code: d.name for d in config.DISTRICTS}
    t = targets.drop_duplicates("manager_id").set_index("manager_id")
    items = []
    for _, w in written.iterrows():
        href = _href(w, base)
        where = f"{names[w['district_code']]} " if "district_code" in w.index else ""
        text = f"{where}[客户经理 {w['manager_id']} 的工作方案]({href})：重点客户{int(w['key_shops'])}户"
        if w["manager_id"] in t.index:
            text += f"，销量目标{fmt.cases(t.at[w['manager_id'], 'volume_target_cases'])}箱"
        items.append(text + "。")
    return items





def _outcome(code: str) -> str:
    from ..plan.evaluate import outcome_label

    return outcome_label(code)[0] or code


def _states_text(f, library, names):
    if not f["flagged"]:
        return "本月各项状态指标均未发现问题客户。", "按例行拜访维护，不另安排针对性策略。"
    top = f["top"]
    c = (f"本月{f['shops']:,}户中{f['flagged']:,}户（{_pct(f['flagged'] / f['shops'])}）"
         f"至少一项状态指标存在问题，最多的是"
         f"{glossary.code_name('state_indicator', top['indicator'])}（{top['flagged']:,}户，"
         f"{_pct(top['share'])}）。")
    if f["district"]:
        d = f["district"][0]
        what = glossary.code_name("state_indicator", d["indicator"])
        cause = f"（{_cause(library, d['cause'])}）" if d["cause"] else ""
        a = (f"{what}{cause}涉及{_pct(d['share'])}的客户，是区县共性问题而非逐户问题：由区县统一"
             f"安排{library.label(d['codes'].split(';'))}（含调整投放），重点客户名单只列各户自身的问题。")
    else:
        a = "各类问题均未超过区县客户的半数，按重点客户名单逐户安排策略。"
    return c, a


def _plan_text(f, library, names):
    if not f["key_shops"]:
        return "下月没有列入重点客户的零售户。", "按例行拜访维护客户。"
    c = (f"下月{f['managers']}位客户经理共列{f['key_shops']:,}户重点客户，销量目标合计"
         f"{f['target_cases']:,.1f}箱")
    if f["top_strategy"]:
        t = f["top_strategy"]
        c += f"；重点客户中最常用的策略是{library.label([t['code']])}（{t['shops']:,}户）"
    c += "。"
    adds = []
    for a in f["alerts"]:
        adds.append(f"{names.get(a['sku'], a['sku'])}市场预警，在销的{a['shops']:,}户安排"
                    f"{library.label(a['codes'].split(';'))}")
    for s_ in f["satisfaction"]:
        adds.append(f"{names.get(s_['item'], s_['item'])}满意度显著下降，区县安排"
                    f"{library.label(s_['codes'].split(';'))}")
    a = ("各客户经理按本人工作方案的拜访日和访销线顺序走访重点客户，逐户落实所列策略并在拜访记录中"
         "登记策略代码")
    a += ("；另：" + "；".join(adds) + "。") if adds else "。"
    return c, a


def _evaluation_text(f, library, names):
    if not f["judged"]:
        return "上月拜访记录中没有可评估的策略。", "拜访时登记所执行的策略代码，下月才能评估效果。"
    v = f["verdicts"]
    parts = [f"{glossary.code_name('verdict', k)}{v[k]}项" for k in
             ("effective", "negative", "no_effect", "insufficient") if v.get(k)]
    c = f"上月评估{f['judged']}项策略：" + "，".join(parts) + "。"
    advice = []
    for code, out in f["negative"]:
        advice.append(f"{library.label([code])}使{_outcome(out)}变差，停止用于该问题并复核执行方式")
    for code, out in f["effective"]:
        advice.append(f"{library.label([code])}对{_outcome(out)}有效，推广到同类问题客户")
    if not advice:
        advice.append("没有显著有效或为负的策略：结合下节执行率判断是未落实还是策略不对路")
    return c, "；".join(advice) + "。"


def _execution_text(f, library, names):
    if not f["managers"]:
        return "上月没有工作方案可对照执行情况。", "本月起按方案拜访并登记策略，下月对照。"
    sc, vc = f["strategy_coverage"], f["visit_coverage"]
    c = f"上月{f['managers']}位客户经理"
    c += f"拜访计划完成率{_pct(vc)}" if vc is not None else ""
    c += f"，计划策略执行率{_pct(sc)}" if sc is not None else ""
    n_low = f["flagged"].get("low_strategy_execution", 0)
    if n_low:
        c += f"，{n_low}位策略执行率低于预警线"
    c += "。"
    if f["ape"] is not None:
        c += f"上月销量预测绝对误差率{_pct(f['ape'])}。"
    if n_low:
        a = ("策略执行率过低时效果评估没有意义：本月先按方案在拜访中逐户落实策略并登记代码，"
             "区县每周抽查拜访记录。")
    elif f["flagged"].get("low_visit_coverage", 0):
        a = "拜访计划完成率偏低的客户经理按拜访日补足对重点客户的走访。"
    else:
        a = "执行到位，保持按方案拜访和登记。"
    return c, a


def _improve_text(f, library, names):
    c = (f"{f['review']}项策略列入复核，{f['carry']:,}户上月已列出的问题本月仍存在，结转到下月方案。")
    adv = f["advice"]
    parts = []
    if adv.get("execute_first"):
        parts.append(f"{adv['execute_first']}项策略先执行到位再评估")
    if adv.get("stop"):
        parts.append(f"{adv['stop']}项效果为负的策略停止使用")
    if adv.get("revise"):
        parts.append(f"{adv['revise']}项执行了仍未见效果的策略调整组合")
    if adv.get("extend"):
        parts.append(f"{adv['extend']}项有效策略推广")
    a = ("；".join(parts) + "；结转客户优先列入重点客户。") if parts else "结转客户优先列入重点客户。"
    return c, a


def _key_accounts_text(f, library, names):
    if not f["accounts"]:
        return "客户档案中没有标为大客户的零售户。", ""
    c = (f"大客户{f['accounts']:,}户，其中近12个月月均销量下降的{f['declining']:,}户，"
         f"近3月同比下降的{f['yoy_down']:,}户。")
    a = ("对同比和趋势均下降的大客户优先安排拜访，了解原因（货源、竞争、经营变化）并保障优先供货；"
         "客情关系评分待拜访记录补齐考核字段后计算。")
    return c, a


_SECTIONS = {"states": _states_text, "plan": _plan_text, "evaluation": _evaluation_text,
             "execution": _execution_text, "improve": _improve_text,
             "key_accounts": _key_accounts_text}


def section_summary(section: str, facts: dict, library, names: dict[str, str] | None = None
                    ) -> list[str]:
    """The conclusion and 建议 of one section of the plan page, from
    :func:`kehu_lib.plan.monthly.section_facts` (``names``: SKU and survey item names):
    ['**结论**：…', '**建议**：…']."""
    conclusion, advice = _SECTIONS[section](facts[section], library, names or {})
    return [f"**结论**：{conclusion}"] + ([f"**建议**：{advice}"] if advice else [])
