"""零售户普查 (notebooks/census.ipynb): structure of the retailers and its change, and the
satisfaction scores weighted to the census population."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import config, loaders
from ..metrics import census as census_metrics
from ..metrics import survey
from ..present import Chart, Table, Text, format as fmt, glossary
from ..present import market_plots as plots
from .base import Report, load_params, place

__all__ = ["build"]

NOTEBOOK = "census"
#: Census variables that are yes/no questions (their categories are True/False).
BOOLEAN_VARIABLES = ("accepts_stock_guidance", "licensed")


def _structure(census: pd.DataFrame, wave: str, prev_wave: str | None) -> pd.DataFrame:
    """Every census variable's categories in their glossary order: shops, shares, change."""
    frames = []
    for var in census_metrics.CENSUS_VARIABLES:
        d = census_metrics.census_compare(census, var=var, wave=wave, prev_wave=prev_wave,
                                          by=None)
        d = d.assign(raw=d["category"].astype(str))
        if var in BOOLEAN_VARIABLES:
            d = d.assign(category=d["category"].map(fmt.boolean))
            d = d.sort_values("category", key=lambda s: s.map({fmt.YES: 0, fmt.NO: 1}))
        elif glossary.entry(var).order:
            d = d.assign(_o=glossary.ordered(d["category"], var)).sort_values("_o")
            if glossary.entry(var).codes:  # named categories (营业时长 16小时以上)
                d = d.assign(category=fmt.series(d["category"], var).to_numpy())
        frames.append(d.assign(census_variable=var, variable=var))
    return pd.concat(frames, ignore_index=True)


def build(month: str, district: str = config.CITY, *, store=None, **params: Any) -> Report:
    """The census report of ``district`` (or 全市) for ``month`` (``""``: the latest month)."""
    p = {**load_params(NOTEBOOK), **params}
    month = month or loaders.latest_month(store=store)
    name, code = place(district)
    census = loaders.load_census(district=code, store=store)
    waves = sorted(w for w in census["wave"].unique() if w <= month)
    if not waves:
        raise ValueError(f"no census wave at or before {month} for {name}")
    wave = p["wave"] or waves[-1]
    prev_wave = p["prev_wave"] or ([w for w in waves if w < wave] or [None])[-1]
    now = census[census["wave"] == wave]
    r = Report(NOTEBOOK, month, name)
    r.section("data").add(Text(f"{name}：本次普查 {wave}（{len(now):,}户），"
                               f"对比 {prev_wave or '无上次普查'}。"))

    dist = _structure(census, wave, prev_wave)
    r.section("structure").add(Table(
        dist[["census_variable", "category", "shops", "share", "shops_prev", "share_prev",
              "change_pp"]], title=f"普查结构（{wave} 对比 {prev_wave or '—'}）", sheet="普查结构"))

    if r.city:
        by_district = survey.district_names(census_metrics.census_distribution(
            now, var="business_format", by="district_code"))
        shares = by_district.pivot(index="district", columns="category", values="share")
        shares = shares.reindex(columns=[c for c in glossary.order("business_format")
                                         if c in shares.columns]).fillna(0) * 100
        sec = r.section("districts")
        sec.heading = "各区县业态结构"
        sec.add(Text("各区县零售户的业态占比。"),
                Chart(plots.stacked_share_chart, shares,
                      {"title": f"{wave} 各区县业态结构", "ylabel": glossary.label("district"),
                       "legend": glossary.label("business_format"),
                       "xlabel": "占零售户比例（%）"}))

    answers = survey.score_answers(loaders.load_retailer_survey(district=code, months=month,
                                                                store=store),
                                   score_map=p["score_points"])
    strata = list(p["weight_strata"])
    sample = answers.drop_duplicates("license_id")[["district_code", "license_id"]].merge(
        now[["license_id"] + strata], on="license_id", how="inner")
    weights = census_metrics.poststrat_weights(sample, now, strata=strata, by="district_code")
    weighted = census_metrics.weighted_scores(answers, weights, by=None)
    compare = weighted.merge(survey.item_scores(answers)[["item", "mean"]], on="item")
    view = compare.assign(item=compare["item"].map(survey.item_labels())).rename(
        columns={"mean_weighted": "score_weighted", "mean": "score"})
    diff = compare["mean_weighted"] - compare["mean"]
    sec = r.section("weighted")
    if diff.notna().any():
        sec.add(Text(f"加权后各题得分变化{fmt.score_change(diff.min())}至"
                     f"{fmt.score_change(diff.max())}分（平均{fmt.score_change(diff.mean())}分）。"))
    sec.add(Table(view[["item", "n_valid", "score", "score_weighted", "n_eff"]],
                  title=f"{month} 满意度题目得分：未加权与加权",
                  empty=f"{name} {month} 没有信息员答卷。"))

    key = dist.set_index(["variable", "raw"])["share"]
    r.headlines = {
        "district": district, "wave": wave, "prev_wave": prev_wave or "", "shops": len(now),
        "share_grocery": key.get(("business_format", "食杂店"), 0.0),
        "share_over_16h": key.get(("opening_hours", ">16h"), 0.0),
        "share_accept_guidance": key.get(("accepts_stock_guidance", "True"), 0.0),
        "weighted_minus_unweighted": (compare["mean_weighted"] - compare["mean"]).mean(),
    }
    return r
