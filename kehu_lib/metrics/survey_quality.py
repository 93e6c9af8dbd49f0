"""Data quality of a survey wave (数据质量): response counts against the panel plan and
straight-lining flags (flagged, never dropped)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import DISTRICT_BY_CODE
from .survey import require_columns

__all__ = ["panel_coverage", "straight_lining"]


def panel_coverage(survey: pd.DataFrame, districts: pd.DataFrame, *, customers=None,
                   min_rate: float = 0.9) -> pd.DataFrame:
    """Responses per district (and stratum) against the panel plan (样本计划).

    responded = shops with at least one valid answer in the month; rate = responded /
    planned. planned = ``districts.panel_size``; with ``customers`` given, the plan is split
    by 城乡 (urban_rural) in proportion to the district's informant shops. ``short`` is True
    when rate < ``min_rate``. ``status``: ``no_plan`` (no planned sample for the cell: the rate
    cannot be judged), ``short`` or ``ok``. Returns ``month``, ``district_code``, ``district``,
    [``urban_rural``], ``planned``, ``surveyed`` (shops with any row), ``responded``, ``rate``,
    ``short``, ``status``.
    """
    require_columns(survey, ["month", "district_code", "license_id", "answer"],
                    what="the survey data")
    require_columns(districts, ["district_code", "panel_size"], what="the district table")
    if customers is not None:
        require_columns(customers, ["license_id", "district_code", "urban_rural",
                                    "survey_informant"], what="the customer file")
    valid = survey[survey["answer"].notna()]
    keys = ["month", "district_code"]
    plan = districts[["district_code", "panel_size"]].rename(columns={"panel_size": "planned"})
    months = pd.DataFrame({"month": sorted(survey["month"].unique())})
    if customers is not None:
        info = customers.loc[customers["survey_informant"].fillna(False).astype(bool),
                             ["license_id", "district_code", "urban_rural"]]
        share = (info.groupby(["district_code", "urban_rural"]).size()
                 / info.groupby("district_code").size()).rename("share").reset_index()
        plan = plan.merge(share, on="district_code", how="left")
        plan["planned"] = plan["planned"] * plan["share"].fillna(1.0)
        plan = plan.drop(columns="share")
        survey = survey.merge(customers[["license_id", "urban_rural"]], on="license_id",
                              how="left")
        valid = valid.merge(customers[["license_id", "urban_rural"]], on="license_id", how="left")
        keys = keys + ["urban_rural"]
    grid = months.merge(plan, how="cross")
    surveyed = survey.groupby(keys, observed=True)["license_id"].nunique().rename("surveyed")
    responded = valid.groupby(keys, observed=True)["license_id"].nunique().rename("responded")
    out = grid.merge(surveyed.reset_index(), on=keys, how="left").merge(
        responded.reset_index(), on=keys, how="left")
    out[["surveyed", "responded"]] = out[["surveyed", "responded"]].fillna(0).astype(int)
    out["rate"] = out["responded"] / out["planned"].replace(0, np.nan)
    out["short"] = out["rate"].lt(min_rate).fillna(False).astype(bool)
    out["status"] = np.select([out["rate"].isna(), out["short"]], ["no_plan", "short"], "ok")
    out.insert(2, "district", out["district_code"].map(
        lambda c: DISTRICT_BY_CODE[c].name if c in DISTRICT_BY_CODE else c))
    return out


def straight_lining(survey: pd.DataFrame, *, id_col: str = "license_id", min_items: int = 5
                    ) -> pd.DataFrame:
    """Straight-lining flags (直线作答): a respondent who gave the same answer to every item.

    Per month and respondent: ``n_answered`` (valid answers), ``n_distinct`` (distinct answers),
    ``straight_line`` = n_answered >= ``min_items`` and n_distinct == 1. The rows are flagged,
    not dropped. Returns ``month``, ``district_code``, ``id_col``, ``n_answered``,
    ``n_distinct``, ``answer`` (the repeated answer where straight-lined), ``straight_line``.
    """
    keys = ["month", "district_code", id_col]
    require_columns(survey, keys + ["answer"], what="the survey data")
    valid = survey[survey["answer"].notna()]
    g = valid.groupby(keys, observed=True)["answer"]
    out = pd.concat([g.size().rename("n_answered"), g.nunique().rename("n_distinct"),
                     g.first().rename("answer")], axis=1).reset_index()
    out["straight_line"] = (out["n_answered"] >= min_items) & (out["n_distinct"] == 1)
    out["answer"] = out["answer"].where(out["straight_line"])
    return out
