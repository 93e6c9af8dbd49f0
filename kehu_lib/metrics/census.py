"""Retail census (零售户普查): distributions by district, change vs the previous census, and
post-stratification weights that bring the retailer survey back to the district's shop population.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["CENSUS_VARIABLES", "census_distribution", "census_compare", "poststrat_weights",
           "weighted_scores"]

#: Census variables shown as distributions (their Chinese names: the glossary's
#: ``census_variable`` codes, :mod:`kehu_lib.present`).
CENSUS_VARIABLES = ("business_format", "trade_area", "urban_rural", "chain_type", "opening_hours",
                    "accepts_stock_guidance", "licensed")


def _keys(by) -> list[str]:
    return [] if by is None else ([by] if isinstance(by, str) else list(by))


def census_distribution(census: pd.DataFrame, *, var: str, by="district_code") -> pd.DataFrame:
    """Distribution of a census variable: shops and share per category, per wave and ``by``.

    share = shops in the category / shops answering (0-1). Returns ``wave``, ``by`` columns,
    ``category``, ``shops`` (户), ``share``.
    """
    if var not in census.columns:
        raise ValueError(f"census has no column {var!r}; variables are {list(CENSUS_VARIABLES)}")
    keys = ["wave"] + _keys(by)
    sub = census[keys + [var]].dropna(subset=[var]).copy()
    sub["category"] = sub[var].astype(str)
    out = sub.groupby(keys + ["category"], observed=True).size().rename("shops").reset_index()
    out["share"] = out["shops"] / out.groupby(keys, observed=True)["shops"].transform("sum")
    return out


def census_compare(census: pd.DataFrame, *, var: str, wave: str, prev_wave: str | None = None,
                   by="district_code") -> pd.DataFrame:
    """Distribution in ``wave`` against the previous census ``prev_wave`` (default: the wave
    before ``wave`` in the data).

    Returns ``by`` columns, ``category``, ``shops``, ``share``, ``shops_prev``, ``share_prev``,
    ``change_pp`` = share - share_prev (share points, 0-1 scale; shown as 个百分点). Categories
    absent in one wave count 0 there.
    """
    waves = sorted(census["wave"].unique())
    if wave not in waves:
        raise ValueError(f"census wave {wave!r} not in the data; waves are {waves}")
    if prev_wave is None:
        earlier = [w for w in waves if w < wave]
        prev_wave = earlier[-1] if earlier else None
    keys = _keys(by)
    dist = census_distribution(census, var=var, by=by)
    cur = dist[dist["wave"] == wave].drop(columns="wave")
    if prev_wave is None:
        cur = cur.assign(shops_prev=np.nan, share_prev=np.nan, change_pp=np.nan)
        return cur.reset_index(drop=True)
    prev = dist[dist["wave"] == prev_wave].drop(columns="wave").rename(
        columns={"shops": "shops_prev", "share": "share_prev"})
    out = cur.merge(prev, on=keys + ["category"], how="outer")
    for c in ("shops", "shops_prev", "share", "share_prev"):
        out[c] = out[c].fillna(0)
    out["shops"] = out["shops"].astype(int)
    out["shops_prev"] = out["shops_prev"].astype(int)
    out["change_pp"] = out["share"] - out["share_prev"]
    out.attrs["prev_wave"] = prev_wave
    return out.sort_values(keys + ["category"]).reset_index(drop=True)


def poststrat_weights(sample: pd.DataFrame, population: pd.DataFrame, *,
                      strata: Sequence[str] = ("urban_rural",), by="district_code",
                      id_col: str = "license_id") -> pd.DataFrame:
    """Post-stratification weights (事后分层加权) of surveyed shops to the shop population.

    Within each ``by`` group: weight_h = (N_h / N) / (n_h / n), so the weighted sample has the
    population's stratum shares and mean weight 1. N from ``population`` (e.g. the latest
    census or the customer file), n from ``sample`` (one row per surveyed shop with the strata
    columns). Strata with shops in the sample but none in the population get weight 0 and are
    reported in ``attrs['empty_strata']``; population strata missing from the sample leave the
    weighted estimate biased towards the others (``attrs['unrepresented']``).
    Returns ``sample``'s ``by``, ``id_col`` and strata columns plus ``weight`` and
    ``weight_status`` per shop: ``ok``; ``no_population`` (its stratum has no shop in the
    population: weight 0); ``stratum_missing`` (a stratum value of the shop is missing: weight
    0). Shops with weight 0 are counted, never dropped: ``attrs['unweighted']`` is their number.
    """
    keys, strata = _keys(by), list(strata)
    for c in keys + strata:
        if c not in sample.columns or c not in population.columns:
            raise ValueError(f"stratum column {c!r} must be in both the sample and the population")
    samp = sample.drop_duplicates(keys + [id_col])[keys + [id_col] + strata].copy()
    pop_n = population.groupby(keys + strata, observed=True).size().rename("N_h")
    pop_share = (pop_n / pop_n.groupby(level=keys).transform("sum") if keys
                 else pop_n / pop_n.sum()).rename("P_h")
    smp_n = samp.groupby(keys + strata, observed=True).size().rename("n_h")
    smp_share = (smp_n / smp_n.groupby(level=keys).transform("sum") if keys
                 else smp_n / smp_n.sum()).rename("p_h")
    cell = pd.concat([pop_share, smp_share], axis=1)
    cell["weight"] = (cell["P_h"] / cell["p_h"]).where(cell["p_h"] > 0)
    out = samp.merge(cell["weight"].reset_index(), on=keys + strata, how="left")
    no_stratum = out[keys + strata].isna().any(axis=1)
    out["weight_status"] = np.where(no_stratum, "stratum_missing",
                                    np.where(out["weight"].isna() | out["weight"].eq(0),
                                             "no_population", "ok"))
    out["weight"] = out["weight"].fillna(0.0)
    out.attrs["unweighted"] = int((out["weight_status"] != "ok").sum())
    out.attrs["empty_strata"] = cell.index[cell["P_h"].isna()].tolist()
    out.attrs["unrepresented"] = cell.index[cell["p_h"].isna()].tolist()
    return out


def weighted_scores(scored: pd.DataFrame, weights: pd.DataFrame, *, by="district_code",
                    id_col: str = "license_id") -> pd.DataFrame:
    """Weighted item means (加权得分) with Kish effective sample size.

    mean_w = Σ w·score / Σ w over scored answers; n_eff = (Σ w)² / Σ w² (Kish). ``scored`` is a
    frame with a ``score`` column (:func:`kehu_lib.metrics.survey.score_answers`). Answers of
    shops without a weight (absent from ``weights``, or weight 0: see ``weight_status`` of
    :func:`poststrat_weights`) count 0 in the weighted mean and are reported.
    Returns ``by``, ``item``, ``n_valid``, ``mean_weighted``, ``n_eff``, ``n_unweighted``
    (answers of shops with no weight) and ``status``: ``unweighted_shops`` when n_unweighted >
    0, ``insufficient_sample`` when no answer has a weight, else ``ok``.
    """
    keys = _keys(by)
    df = scored[scored["score"].notna()].merge(weights[keys + [id_col, "weight"]],
                                               on=keys + [id_col], how="left")
    df["weight"] = df["weight"].fillna(0.0)
    df["_nw"] = (df["weight"] <= 0).astype(int)
    df["_ws"] = df["weight"] * df["score"]
    df["_w2"] = df["weight"] ** 2
    g = df.groupby(keys + ["item"], observed=True)
    out = g.agg(n_valid=("score", "size"), _sw=("weight", "sum"), _sws=("_ws", "sum"),
                _sw2=("_w2", "sum"), n_unweighted=("_nw", "sum")).reset_index()
    out["mean_weighted"] = out["_sws"] / out["_sw"].replace(0, np.nan)
    out["n_eff"] = out["_sw"] ** 2 / out["_sw2"].replace(0, np.nan)
    out["status"] = np.select([out["_sw"] <= 0, out["n_unweighted"] > 0],
                              ["insufficient_sample", "unweighted_shops"], "ok")
    return out.drop(columns=["_sw", "_sws", "_sw2"])[
        keys + ["item", "n_valid", "mean_weighted", "n_eff", "n_unweighted", "status"]]
