"""月度工作方案 (notebooks/monthly_plan.ipynb): the 135 method's plan — states, next month's
strategies, key shops and targets, last month's evaluation, improvements, key accounts and the
managers' own plans."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import config, loaders
from ..plan import indicators, monthly, output, strategies
from ..present import Chart, Table, Text, plan_text
from .base import Report, load_params, place

__all__ = ["build"]

NOTEBOOK = "monthly_plan"
#: Settings of the notebook that are not thresholds of the plan.
SETTINGS = ("output_dir", "build_forecasts", "top_n")


def _item_names() -> dict[str, str]:
    from ..schema import survey_items

    return {k: str(v.get("label", k)).removesuffix("满意度") for k, v in survey_items().items()}


def manager_links_base(output_dir: Any) -> str | None:
    """How the plan page links its managers' pages: ``'files/'`` when the batch writes them into
    the ``files/`` folder beside the page (``reports/<month>/<district>/files/``), None for an
    interactive run (the pages then sit in ``reports/interactive/…`` and are linked by their
    absolute file address)."""
    from ..batch.index import FILES_DIR

    if output_dir and Path(str(output_dir)).name == FILES_DIR:
        return f"{FILES_DIR}/"
    return None


def district_page_links(plan) -> Any:
    """The managers' pages of every district's plan (:func:`kehu_lib.plan.output.
    district_manager_pages`) with ``html`` relative to the city's plan page in the batch:
    ``../<district folder>/files/<page>``."""
    from ..batch.index import FILES_DIR
    from ..batch.params import district_slug

    pages = output.district_manager_pages(plan)
    names = {d.code: d.name for d in config.DISTRICTS}
    folder = {c: f"../{district_slug(n)}/{FILES_DIR}/" for c, n in names.items()}
    pages["html"] = pages["district_code"].map(folder) + pages["html"]
    return pages


def build(month: str, district: str = config.CITY, *, store=None, **params: Any) -> Report:
    """The monthly plan of ``district`` (or 全市) for report month ``month`` (``""``: latest)."""
    p = {**load_params(NOTEBOOK), **params}
    month = month or loaders.latest_month(store=store)
    name, _ = place(district)
    known = monthly.load_thresholds()  # read once (it parses a YAML file)
    thresholds = {k: v for k, v in p.items() if k in known}
    plan = monthly.build_month(month, name, thresholds=thresholds, store=store,
                               build_forecasts=p["build_forecasts"])
    top_n = p["top_n"]
    r = Report(NOTEBOOK, month, plan["place"])
    city = r.city
    where = ["district_code"] if city else []
    r.section("data").add(Text(f"{plan['place']}：{month}状态判断，{plan['plan_month']}工作方案。"))
    facts = monthly.section_facts(plan)
    names = {**plan["sku_names"], **_item_names()}
    for sec in ("states", "plan", "evaluation", "execution", "improve", "key_accounts"):
        # each section opens with its conclusion and 建议 (seed 004: 结论和建议 per section)
        r.section(sec).add(Text(items=plan_text.section_summary(sec, facts, plan["library"],
                                                                names), numbered=False))

    summary = indicators.indicator_summary(plan["states"]).rename(
        columns={"indicator": "state_indicator"})
    r.section("states").add(Table(summary[["state_indicator", "judged", "flagged", "share",
                                           "note"]], title="客户状态指标与问题户",
                                           sheet="客户状态"))

    strat = strategies.strategy_summary(plan["strategies"], plan["library"], plan["key_shops"],
                                        plan["shop_strategies"])
    targets = plan["targets"].rename(columns={"share": "share_volume"})
    # the district page lists the most urgent key shops first, whoever their manager
    keys = output.masked(plan["key_shops"]).sort_values(["priority", "manager_id", "rank"],
                                                        ascending=[False, True, True],
                                                        kind="stable")
    r.section("plan").add(
        Table(strat.rename(columns={"code": "strategy_code", "name": "strategy"})[
            ["strategy_code", "strategy", "shops", "key_shops", "answers"]],
            title=f"{plan['plan_month']}营销服务策略组合（其中重点客户：列入本户方案的）",
            empty="没有存在问题的客户，无需策略。"),
        Table(plan_text.district_action_view(plan["district_actions"], plan["library"])[
            where + ["state_indicator", "cause_text", "shops_flagged", "shops_judged", "share",
                     "strategy_codes"]],
              title="区县行动（多数客户共有的问题，统一安排一次，不逐户列出）",
              empty="没有多数客户共有的问题。"),
        Table(plan_text.satisfaction_view(plan["satisfaction_actions"], plan["library"],
                                          _item_names())[
            where + ["item", "comparison", "score_diff", "ci_low", "ci_high", "cause_text",
                     "strategy_codes"]],
              title="零售客户满意度显著下降的应对（区县行动）",
              empty="零售客户满意度没有显著下降的题目。"),
        Text(plan["targets_note"]),
        Table(targets[where + ["manager_id", "shops", "recent_volume_cases", "share_volume",
                               "volume_target_cases", "key_brand_share",
                               "key_brand_target_cases"]], title="客户经理销量目标",
              sheet="销量目标"),
        Table(keys[where + ["manager_id", "rank", "license_id", "business_format", "tier",
                            "problems", "strategy_codes", "planned_visits", "priority"]],
              title="重点客户（按优先级，各户自身的问题；区县共性问题见上表）", cap=top_n,
              sheet="重点客户", city=city, empty="没有列入重点客户的零售户。"))

    ev = plan_text.evaluation_view(plan["evaluation"])
    r.section("evaluation").add(
        Table(ev[["strategy_code", "strategy", "outcome", "n_treated", "n_control", "estimate",
                  "estimate_low", "estimate_high", "p_holm", "verdict"]],
              title="上月策略效果（双重差分）", empty="上月拜访记录中没有可评估的策略。",
              sheet="策略效果"),
        Chart(output.effect_chart, plan["evaluation"]) if len(plan["evaluation"]) else None)
    fe = plan["forecast_error"].rename(columns={"forecast": "forecast_cartons",
                                                "actual": "actual_cartons",
                                                "error": "error_cartons"})
    r.section("execution").add(
        Table(plan["coverage"][["manager_id", "planned_shops", "visited_shops",
                                "planned_visits", "recorded_visits", "visit_coverage",
                                "planned_strategies", "executed_strategies",
                                "strategy_coverage"]], title="上月方案执行情况",
              empty="上月没有工作方案可对照。"),
        Table(plan_text.flag_view(plan["execution_flags"])[
            ["manager_id", "execution_flag", "flag_value", "flag_threshold", "flag_text"]],
              title="执行不到位的客户经理", empty="各客户经理的策略执行率和拜访完成率均达到要求。"),
        Text(plan["forecast_note"]),
        Table(fe[[c for c in ("district", "forecast_cartons", "actual_cartons", "error_cartons",
                              "ape", "in_80") if c in fe.columns]], title="上月销量预测与实际", empty="没有上月的预测可对照。"))

    review = plan_text.evaluation_view(plan["review"])
    carry = plan["carry_over"].groupby("indicator", as_index=False).agg(
        carry_shops=("license_id", "nunique")).rename(columns={"indicator": "state_indicator"})
    carry = carry.sort_values("state_indicator", key=lambda s: s.map(
        {k: i for i, k in enumerate(indicators.INDICATORS)}))
    review = review[review["review"].astype(bool)] if len(review) else review
    r.section("improve").add(
        Table(review[["strategy_code", "strategy", "outcome", "n_treated", "estimate",
                      "estimate_low", "estimate_high", "p_holm", "verdict"]],
              title="策略复核清单（未见效果或效果为负）",
              empty=("上月评估的策略均有效或样本不足，无需复核。" if len(plan["review"])
                     else "上月没有评估的策略，无需复核。")),
        Table(plan_text.advice_view(plan["advice"], plan["evaluation"], plan["library"]),
              title="改进建议（按评估指标和实测效果）", sheet="改进建议",
              empty="上月没有评估的策略，无改进建议。"),
        Table(carry, title="结转到下月方案的客户（仍存在同一问题）",
              empty="上月列出问题的客户本月均已不再存在同一问题。"))

    ka = output.masked(plan["key_accounts"])
    if len(ka):  # none: the section's conclusion says so, and the relationship note is moot
        r.section("key_accounts").add(
            Text(plan["relationship_note"]),
            Table(ka[["license_id", "district_code", "manager_id", "business_format", "tier",
                      "volume_cases", "recent_cases", "yoy", "trend", "direction"]],
                  title="大客户", cap=top_n, sheet="大客户"))

    back = manager_links_base(p["output_dir"])
    if city and back is not None:
        # the batch: each district's plan writes its managers' pages (and workbook); the city's
        # lists them and links there (../<district>/files/…) instead of writing them again
        written, back = district_page_links(plan), ""
    else:
        written = output.write_manager_plans(plan, p["output_dir"],
                                             back=f"../{NOTEBOOK}.html" if back else "")
    links = plan_text.manager_link_items(written, plan["targets"], base=back)
    r.section("managers").add(Text(items=links) if links else Text("没有客户经理工作方案。"))
    if links:  # a manager finds his own page at the top too
        r.section("data").add(Text("客户经理本人的周工作安排（按拜访日和访销线顺序）：" + "；".join(
            plan_text.manager_short_links(written, base=back)) + "（详见第六节）。"))
    r.headlines = monthly.summary(plan)
    return r
