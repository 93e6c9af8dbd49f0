"""零售客户满意度调查 (notebooks/survey_retailer.ipynb): index under three weightings, item
scores, district ranking, IPA, reliability, corrected changes, groups, sales link, quality."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import aggregates, config, loaders
from .. import store as kstore
from ..metrics import (crosstab, reliability, survey, survey_change, survey_groups,
                       survey_quality)
from ..present import Chart, Table, Text
from ..present import format as fmt
from ..present import survey_plots, survey_text
from .base import Report, load_params, memo, params_key, place
from .survey_common import alpha_table

__all__ = ["build"]

NOTEBOOK = "survey_retailer"
WEIGHT_SETS = ("equal", "management", "derived")
#: Shop attributes the group comparison uses, in the page's order.
GROUPS = ("business_format", "urban_rural", "tier_group")


def build(month: str, district: str = config.CITY, *, store=None, **params: Any) -> Report:
    """The retailer survey report of ``district`` (or 全市) for ``month`` (``""``: latest)."""
    p = {**load_params(NOTEBOOK), **params}
    month = month or loaders.latest_month(store=store)
    name, code = place(district)
    city = code is None
    score_map, alpha, window = p["score_points"], p["alpha"], p["rolling_window"]
    months = (survey_change.shift_month(month, -12 - 2 * window), month)
    data = loaders.load_retailer_survey(months=months, store=store)
    labels, items = survey.item_labels(), survey.survey_item_codes("retailer")
    cur = survey.select(data, month=month, district=name)
    n_shops = cur.loc[cur["answer"].notna(), "license_id"].nunique()
    r = Report(NOTEBOOK, month, name)
    small = "（小样本，结论仅供参考）" if n_shops < p["min_n_flag"] else ""
    r.section("data").add(Text(f"{name} {month}：有效答卷 {n_shops:,} 户{small}。"))

    # 满意度指数 under three weightings
    month_city = survey.select(data, month=month)
    # the survey read, keyed by its files (hashing the frame costs more)
    source = kstore.query_fingerprint("retailer_survey", months=months, store=store)
    derived, by_district, changes, fam, rolling_all = memo(
        (NOTEBOOK, "city", month, source, params_key(p), tuple(items)),
        lambda: _city_parts(data, month_city, month, p, items))
    weight_sets = {"equal": "equal", "management": p["management_weights"], "derived": derived}
    index = {k: v["index"].iloc[0] for k, v in survey.satisfaction_indices(
        cur, weight_sets=weight_sets, items=items, score_map=score_map).items()}
    r.section("index").add(Table(pd.DataFrame([{f"index_{k}": v for k, v in index.items()}]),
                                 title=f"{name} {month} 满意度指数"))

    scores = survey.item_scores(cur, score_map=score_map, level=1 - alpha)
    table = scores.assign(item_code=scores["item"], item=scores["item"].map(labels)).rename(
        columns={"mean": "score"})
    r.section("scores").add(Table(table[["item_code", "item", "n_valid", "n_dont_know",
                                         "n_missing", "score", "ci_low", "ci_high", "top2_share",
                                         "top2_low", "top2_high"]],
                                  title="题目得分与满意率（95%置信区间）", sheet="零售户题目得分",
                                  empty=f"{name} {month} 没有有效答卷。"))
    r.section("distribution").add(Chart(survey_plots.diverging_bars, survey.item_counts(cur),
                                         {"labels": labels,
                                          "title": f"{name} {month} 各题目回答分布"}))

    stability = survey.ranking_stability(by_district, names=list(weight_sets))
    r.section("ranking").add(
        Table(by_district.rename(columns={"n": "sample_shops"})[
            ["district", "sample_shops", "index_equal", "index_management", "index_derived",
             "rank_equal", "rank_management", "rank_derived"]], title="各区县满意度指数与名次",
            sheet="区县满意度"),
        Table(stability[["weights_a", "weights_b", "spearman_rho", "kendall_tau",
                         "max_rank_shift", "same_top"]], title="排名稳定性"))

    wide_all = survey.to_wide(cur, score_map=score_map)  # respondent x item, used twice
    importance = survey.importance_weights(wide_all, items=items, overall="R10",
                                           method="correlation")
    ipa = survey.ipa_table(scores[scores["item"].isin(items)], importance, labels=labels)
    fix_first = ipa.loc[ipa["fix_first"], "label"].tolist()
    r.section("ipa").add(Chart(survey_plots.ipa_chart, ipa,
                               {"title": f"{name} {month} 重要性-表现分析"}),
                         Text("优先改进：" + ("、".join(fix_first) or "无") + "。"))

    wide = wide_all[items]
    cronbach = reliability.cronbach_alpha(wide, level=1 - alpha)
    item_rel = reliability.item_reliability(wide)
    r.section("reliability").add(
        alpha_table(cronbach, title="Cronbach's α"),
        Table(item_rel.assign(item=item_rel["item"].map(labels)).rename(
            columns={"mean": "score"})[["item", "score", "item_rest_corr", "alpha_if_dropped", "pc1_loading",
                                        "reverse_suspect", "warning"]], title="题目信度"))

    mine = (survey.select(changes, district=name) if not city
            else changes[changes["significant"] | (changes["n_flag"] != "ok")])
    view = survey.district_names(mine.assign(item=mine["item"].map(labels))).rename(columns={
        "mean_cur": "score_cur", "mean_base": "score_base", "diff": "score_diff",
        "n_flag": "sample_note"}).sort_values(["comparison", "p_adj"])
    ch = r.section("changes")
    ch.add(Table(view[(["district"] if city else []) + [
        "comparison", "item", "n_cur", "n_base", "score_cur", "score_base", "score_diff",
        "ci_low", "ci_high", "mdc", "p_adj", "test", "n_pairs", "sample_note", "signal"]],
        title="得分变化" + ("（全市页只列显著与小样本的格子）" if city else ""),
        cap=40, noun="项", sheet="满意度得分变化", city=city,
        empty="没有经校正后显著或小样本的变化。"))
    ch.add(Table(fam[["family", "n_tests", "units", "items", "correction", "n_significant",
                      "false_alarm_bound"]],
                 title="多重比较：每个比较口径的全部检验一起按 Holm 法校正（面板客户按配对检验）"))
    drops = changes[changes["signal"] == "down"]
    focus = code if not city else (drops["district_code"].iloc[0] if len(drops) else None)
    if focus is not None:
        mom = changes[changes["base_month"] == survey_change.shift_month(month, -1)]
        ch.add(Chart(survey_plots.change_chart, survey.select(mom, district=focus),
                     {"labels": labels,
                      "title": f"{config.DISTRICT_BY_CODE[focus].name} 环比得分变化（分）"}))
    ch.add(Text(items=survey_text.change_sentences(survey.select(changes, district=name),
                                                   labels=labels), numbered=False)
           if len(survey.select(changes[changes["significant"]], district=name))
           else Text("本月无经校正后显著的变化。"))

    rolling = survey.district_names(survey.select(rolling_all, district=name) if not city
                                    else rolling_all)
    roll = rolling.groupby("district", as_index=False, sort=False).agg(
        rolling_min_n=("n_cur", "min"), score_recent=("mean_cur", "mean"),
        score_prior=("mean_base", "mean"), significant_items=("significant", "sum"))
    r.section("rolling").add(Table(roll, title=f"近{window}个月合并与前{window}个月比较"))

    customers = loaders.load_customers(district=code, store=store, columns=[
        "license_id", "business_format", "urban_rural", "tier", "manager_id"])
    shops = survey_groups.attach_shop_attributes(
        survey.shop_index(cur, weights=p["management_weights"], items=items,
                          score_map=score_map), customers)
    groups = pd.concat([_group_index(shops, g) for g in GROUPS])
    satisfied = shops.assign(satisfied=shops["index"].ge(p["satisfied_cut"]))
    chi = crosstab.crosstab_test(satisfied, row="business_format", col="satisfied")
    by_manager = _shops_and_index(shops, "manager_id").sort_values("satisfaction_index")
    r.section("groups").add(
        Table(groups[["group_by", "group", "sample_shops", "satisfaction_index"]],
              title="分组满意度指数（管理层权重）"),
        Table(chi.rename(columns={"n": "sample_shops"})[
            ["sample_shops", "chi2", "dof", "p_value", "cramers_v", "min_expected", "warning"]],
            title=f"业态×是否满意（指数≥{fmt.score(p['satisfied_cut'])}分）卡方检验"),
        Table(by_manager, title="客户经理服务客户满意度（由低到高）", cap=10, noun="位",
              sheet="客户经理满意度"))

    # ordered volume per shop in the months compared, summed in the store (not the city's
    # order lines)
    orders = aggregates.shop_month(code, survey_groups.volume_change_months(month, 3),
                                   store=store, sums=["qty_ordered"], lines=False
                                   )[["month", "license_id", "qty_ordered"]]
    link = survey_groups.satisfaction_sales_link(
        shops, survey_groups.volume_change(orders, month=month, window=3))
    r.section("sales").add(Table(link.rename(columns={"n": "sample_shops"})[
        ["sample_shops", "rho_volume", "p_volume", "rho_change", "p_change"]],
        title="满意度与订购量（Spearman秩相关）"))

    # the city's coverage: the same on every page of the month (computed once per kernel)
    tables = [kstore.query_fingerprint(t, store=store) for t in ("districts", "customers")]
    coverage = memo((NOTEBOOK, "coverage", month, source, *tables),
                    lambda: _coverage(month_city, store))
    straight = survey_quality.straight_lining(cur)
    r.section("quality").add(
        Table(coverage[["district", "urban_rural", "planned", "surveyed", "responded", "rate",
                        "short"]], title="样本完成情况"),
        Text(f"直线作答 {int(straight['straight_line'].sum())} 户（占 "
             f"{fmt.share(straight['straight_line'].mean())}，已标注、未剔除）。"))

    r.headlines = {
        "district": district, "month": month, "n_shops": n_shops,
        "index_equal": index["equal"], "index_management": index["management"],
        "index_derived": index["derived"], "alpha": cronbach["alpha"].iloc[0],
        "significant_drops": len(survey.select(drops, district=name)),
        "fix_first": "、".join(fix_first), "straight_lining": int(straight["straight_line"].sum()),
    }
    return r


def _city_parts(data: pd.DataFrame, month_city: pd.DataFrame, month: str, p: dict,
                items: list[str]) -> tuple:
    """The parts of the report that are the same on every page of the month (computed once per
    kernel, :func:`~.base.memo`): the derived importance weights, every district's index, the
    score changes of every district and item (one Holm family per comparison), their
    multiple-testing summary and the rolling comparison of every district."""
    score_map = p["score_points"]
    test = {"method": p["correction"], "alpha": p["alpha"]}
    flags = {"min_n_flag": p["min_n_flag"], "min_n_suppress": p["min_n_suppress"]}
    derived = survey.importance_weights(month_city, items=items, overall="R10",
                                        method=p["importance_method"], score_map=score_map)
    weight_sets = {"equal": "equal", "management": p["management_weights"], "derived": derived}
    by_district = survey.district_names(survey.index_by_weights(
        month_city, by="district_code", weight_sets=weight_sets, items=items,
        score_map=score_map))
    changes = survey_change.survey_changes(data, month=month, items=items + ["R10"],
                                           score_map=score_map, **test, **flags)
    fam = survey_change.multiplicity_summary(changes, by="district_code", pages=1)
    rolling = survey_change.rolling_scores(data, month=month, window=p["rolling_window"],
                                           items=items, score_map=score_map, **test, **flags)
    return derived, by_district, changes, fam, rolling


def _coverage(month_city: pd.DataFrame, store) -> pd.DataFrame:
    """The city's sample coverage of the month (``survey_quality.panel_coverage``)."""
    informants = loaders.load_customers(columns=["license_id", "district_code", "urban_rural",
                                                 "survey_informant"], store=store)
    return survey_quality.panel_coverage(month_city, loaders.load_districts(store=store),
                                         customers=informants)


def _group_index(shops: pd.DataFrame, col: str) -> pd.DataFrame:
    """Shops and mean index per category of ``col``, categories in their glossary order."""
    from ..present import glossary

    g = _shops_and_index(shops, col)
    g = g.assign(_o=glossary.ordered(g[col], col)).sort_values("_o").drop(columns="_o")
    return g.rename(columns={col: "group"}).assign(group_by=glossary.label(col))


def _shops_and_index(shops: pd.DataFrame, col: str) -> pd.DataFrame:
    """``col``, sample_shops (shops with an index) and satisfaction_index (their mean) per
    value of ``col`` (a list aggregation: named aggregations cost more to set up)."""
    g = shops.groupby(col, observed=True)["index"].agg(["count", "mean"])
    return g.rename(columns={"count": "sample_shops", "mean": "satisfaction_index"}).reset_index()
