"""消费者满意度调查 (notebooks/survey_consumer.ipynb): scores by consumer class (价类 A-D),
differences between classes, least-satisfied items, changes and reliability."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import config, loaders
from ..metrics import reliability, survey, survey_change, survey_groups, survey_quality
from ..present import Chart, Table, Text
from ..present import format as fmt
from ..present import glossary, survey_plots
from .base import Report, load_params, place
from .survey_common import alpha_table

__all__ = ["build"]

NOTEBOOK = "survey_consumer"


def build(month: str, district: str = config.CITY, *, store=None, **params: Any) -> Report:
    """The consumer survey report of ``district`` (or 全市) for ``month`` (``""``: latest)."""
    p = {**load_params(NOTEBOOK), **params}
    month = month or loaders.latest_month(store=store)
    name, code = place(district)
    score_map, alpha = p["score_points"], p["alpha"]
    flags = {"min_n_flag": p["min_n_flag"], "min_n_suppress": p["min_n_suppress"]}
    data = survey.select(loaders.load_consumer_survey(
        months=(survey_change.shift_month(month, -12), month), store=store), district=name)
    labels, items = survey.item_labels(), survey.survey_item_codes("consumer")
    cur = survey.select(data, month=month)
    n_resp = cur.loc[cur["answer"].notna(), "respondent_id"].nunique()
    r = Report(NOTEBOOK, month, name)

    people = cur.drop_duplicates("respondent_id").groupby("consumer_class", as_index=False).agg(
        respondents=("respondent_id", "size"))
    r.section("data").add(Table(people, title=f"{name} {month} 受访消费者（共 {n_resp:,} 人）",
                                empty=f"{name} {month} 没有消费者答卷。"))

    by_class = survey.satisfaction_index(cur, by="consumer_class", items=items,
                                         score_map=score_map)
    by_class["sample_note"] = survey_change.sample_flag(by_class["n"], **flags)
    by_class.loc[by_class["sample_note"] == "suppressed", "index"] = np.nan
    overall = survey.satisfaction_index(cur, items=items, score_map=score_map)["index"].iloc[0]
    r.section("index").add(Table(
        by_class.rename(columns={"index": "satisfaction_index", "n": "respondents"})[
            ["consumer_class", "satisfaction_index", "respondents", "sample_note"]],
        title=f"各价类满意度指数；合计 {fmt.score(overall)} 分"))

    scores = survey.item_scores(cur, by="consumer_class", score_map=score_map, level=1 - alpha)
    shown = scores[scores["n_valid"] >= p["min_n_suppress"]]
    grid = shown.pivot(index="item", columns="consumer_class", values="mean")
    grid = grid.reindex(columns=list(config.CONSUMER_CLASSES)).add_prefix("score_").reset_index()
    r.section("items").add(
        Table(grid.assign(item=grid["item"].map(labels)),
              title=f"各价类题目得分（样本不足{p['min_n_suppress']}人的格子不展示）",
              sheet="消费者题目得分"),
        Chart(survey_plots.diverging_bars, survey.item_counts(cur),
              {"labels": labels, "title": f"{name} {month} 消费者回答分布"}))

    kw = survey_groups.group_comparison(cur, group="consumer_class", items=items + ["C08"],
                                        score_map=score_map, method=p["correction"], alpha=alpha)
    r.section("groups").add(Table(
        kw.assign(item=kw["item"].map(labels)).rename(
            columns={"n": "n_valid", "groups": "n_groups"})[
            ["item", "n_valid", "n_groups", "h", "p_value", "epsilon_sq", "p_adj", "significant"]],
        title="价类间得分差异（Kruskal-Wallis 检验）"))

    least = survey_groups.least_satisfied(cur, by="consumer_class", n=2, items=items,
                                          score_map=score_map)
    r.section("least").add(Table(
        least.assign(item=least["item"].map(labels)).rename(
            columns={"rank": "rank_low", "mean": "score", "gap": "gap_points"})[
            ["consumer_class", "rank_low", "item", "score", "n_valid", "gap_points"]],
        title="各价类得分最低的两道题"))

    changes = survey_change.survey_changes(data, month=month, by="consumer_class",
                                           method=p["correction"], alpha=alpha,
                                           items=items + ["C08"], score_map=score_map, **flags)
    sig = changes[changes["significant"]] if len(changes) else changes
    r.section("changes").add(Text(
        f"经校正后显著变化 {len(sig)} 项" + ("：" if len(sig) else "。"),
        items=[f"{glossary.code_name('comparison_code', c['comparison'])} {c['consumer_class']}类 {labels[c['item']]} "
               f"{fmt.number(c['diff'], 1, sign=True)}分" for _, c in sig.iterrows()],
        numbered=False))

    wide = survey.to_wide(cur, id_cols=["month", "district_code", "respondent_id"],
                          score_map=score_map)[items]
    cronbach = reliability.cronbach_alpha(wide, level=1 - alpha)
    straight = survey_quality.straight_lining(cur, id_col="respondent_id")
    r.section("quality").add(
        alpha_table(cronbach, title="问卷信度（Cronbach's α）"),
        Text(f"直线作答 {int(straight['straight_line'].sum())} 人（占 "
             f"{fmt.share(straight['straight_line'].mean())}，已标注、未剔除）。"))

    lowest = least[least["rank"] == 1].set_index("consumer_class")["item"].map(labels).to_dict()
    r.headlines = {
        "district": district, "month": month, "n_respondents": n_resp, "index": overall,
        "lowest_item_A": lowest.get("A", ""), "lowest_item_D": lowest.get("D", ""),
        "class_differences": int(kw["significant"].sum()), "significant_changes": len(sig),
        "alpha": cronbach["alpha"].iloc[0],
    }
    return r
