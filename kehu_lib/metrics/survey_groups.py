"""Survey breakdowns: by shop attributes, consumer price class comparisons, the link to sales."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .survey import item_scores, require_columns, sample_status, score_answers
from .survey_change import adjust_pvalues

__all__ = ["TIER_GROUPS", "tier_group", "attach_shop_attributes", "group_comparison",
           "least_satisfied", "volume_change", "satisfaction_sales_link"]

#: Tier groups (档位分组): label -> inclusive (low, high) tiers.
TIER_GROUPS = {"1-10档": (1, 10), "11-20档": (11, 20), "21-30档": (21, 30)}


def tier_group(tier: pd.Series, groups: Mapping[str, tuple[int, int]] | None = None) -> pd.Series:
    """Label each 档位 (1-30) with its tier group (default 1-10档 / 11-20档 / 21-30档)."""
    groups = TIER_GROUPS if groups is None else groups
    t = pd.to_numeric(tier, errors="coerce")
    out = pd.Series(pd.NA, index=tier.index, dtype="string")
    for label, (lo, hi) in groups.items():
        out[(t >= lo) & (t <= hi)] = label
    return out


def attach_shop_attributes(survey: pd.DataFrame, customers: pd.DataFrame, *,
                           columns: Sequence[str] = ("business_format", "urban_rural", "tier",
                                                     "manager_id")) -> pd.DataFrame:
    """Join shop attributes (业态, 城乡, 档位, 客户经理) onto survey rows by ``license_id``;
    adds ``tier_group`` when ``tier`` is joined."""
    require_columns(survey, ["license_id"], what="the survey data")
    require_columns(customers, ["license_id"], what="the customer file")
    cols = [c for c in columns if c in customers.columns]
    out = survey.merge(customers[["license_id"] + cols].drop_duplicates("license_id"),
                       on="license_id", how="left")
    if "tier" in cols:
        out["tier_group"] = tier_group(out["tier"])
    return out


def group_comparison(data: pd.DataFrame, *, group: str = "consumer_class",
                     items: Sequence[str] | None = None, score_map=None, method: str = "holm",
                     alpha: float = 0.05, min_n_flag: int = 30) -> pd.DataFrame:
    """Kruskal-Wallis test (克鲁斯卡尔-沃利斯检验) of item scores across groups, per item.

    H statistic with tie correction and p-value as ``scipy.stats.kruskal``; effect size
    epsilon² = H / (n - 1) (0-1); ``p_adj`` corrected across items (``method``). Groups with no
    valid answer are left out; items with fewer than 2 groups get NaN.
    Returns ``item``, ``n``, ``groups``, ``h``, ``p_value``, ``epsilon_sq``, ``p_adj``,
    ``significant``, ``min_group_n`` (answers in the smallest group) and ``status``:
    ``insufficient_sample`` (fewer than 2 groups with answers: no test), ``no_variance`` (every
    answer the same: no test), ``small_sample`` (a group has fewer than ``min_n_flag`` answers:
    the comparison leans on it) or ``ok``. Raises ``ValueError`` naming ``group`` when the column
    is missing.
    """
    require_columns(data, [group, "item"], what="the survey data")
    scored = score_answers(data, score_map=score_map)
    scored = scored[scored["score"].notna()]
    if items is not None:
        scored = scored[scored["item"].isin(items)]
    # the scores of every item x group cell in one groupby: cells in sorted order, each cell's
    # answers in their row order (as a groupby per item, then per group)
    g = scored.groupby(["item", group], sort=True, observed=True)["score"]
    sizes = g.size()
    vals = scored["score"].to_numpy()[np.argsort(g.ngroup().to_numpy(), kind="stable")]
    cells: dict = {}
    for (item, _), part in zip(sizes.index, np.split(vals, np.cumsum(sizes.to_numpy())[:-1])):
        cells.setdefault(item, []).append(part)
    rows = []
    for item, samples in cells.items():
        samples = [s for s in samples if len(s)]
        n = int(sum(len(s) for s in samples))
        h = p = np.nan
        varies = len(samples) >= 1 and len(np.unique(np.concatenate(samples))) > 1
        if len(samples) >= 2 and varies:
            h, p = stats.kruskal(*samples)
        min_n = min((len(x) for x in samples), default=0)
        status = ("insufficient_sample" if len(samples) < 2 else "no_variance" if not varies
                  else "small_sample" if min_n < min_n_flag else "ok")
        rows.append({"item": item, "n": n, "groups": len(samples), "h": h, "p_value": p,
                     "epsilon_sq": h / (n - 1) if n > 1 else np.nan, "min_group_n": min_n,
                     "status": status})
    cols = ["item", "n", "groups", "h", "p_value", "epsilon_sq", "min_group_n", "status"]
    out = pd.DataFrame(rows, columns=cols)
    # as statsmodels' multipletests (whose Holm runs a full gc.collect(), slow in a big kernel)
    out["p_adj"] = adjust_pvalues(out, method=method, alpha=alpha)["p_adj"]
    out["significant"] = out["p_adj"].lt(alpha).fillna(False).astype(bool)
    return out[["item", "n", "groups", "h", "p_value", "epsilon_sq", "p_adj", "significant",
                "min_group_n", "status"]]


def least_satisfied(data: pd.DataFrame, *, by: str = "consumer_class", n: int = 1,
                    items: Sequence[str] | None = None, score_map=None,
                    min_n_flag: int = 30) -> pd.DataFrame:
    """The item(s) each group is least satisfied with (lowest mean score, 0-100).

    Returns ``by``, ``rank`` (1 = lowest), ``item``, ``mean``, ``n_valid``, ``gap`` = mean -
    the group's mean over items (points), and ``status``: ``small_sample`` when the item has
    fewer than ``min_n_flag`` valid answers in the group (a ranking on a small cell is shaky:
    show it with the caveat), else ``ok``.
    """
    require_columns(data, [by, "item"], what="the survey data")
    sub = data if items is None else data[data["item"].isin(items)]
    sc = item_scores(sub, by=by, score_map=score_map).dropna(subset=["mean"])
    sc["gap"] = sc["mean"] - sc.groupby(by, observed=True)["mean"].transform("mean")
    sc = sc.sort_values([by, "mean"])
    sc["rank"] = sc.groupby(by, observed=True).cumcount() + 1
    sc["status"] = sample_status(sc["n_valid"], min_n_flag=min_n_flag)
    return sc[sc["rank"] <= n][[by, "rank", "item", "mean", "n_valid", "gap", "status"]
                               ].reset_index(drop=True)


def volume_change_months(month: str, window: int = 3) -> list[str]:
    """The months :func:`volume_change` reads: the ``window`` months ending ``month`` and the
    same months a year earlier (newest first in each)."""
    end = pd.Period(month, freq="M")
    return [str(end - k) for k in range(window)] + [str(end - 12 - k) for k in range(window)]


def volume_change(orders: pd.DataFrame, *, month: str, window: int = 3) -> pd.DataFrame:
    """Order volume change per shop: the ``window`` months ending ``month`` vs the same months a
    year earlier (同比).

    change = volume / volume_prev - 1 (0-1 scale; NaN when volume_prev = 0). Volume is
    qty_ordered in 条. Returns ``license_id``, ``volume``, ``volume_prev``, ``change``.
    """
    require_columns(orders, ["month", "license_id", "qty_ordered"], what="the orders")
    months = volume_change_months(month, window)
    cur = months[:window]
    o = orders[orders["month"].isin(months)]
    o = o.assign(_p=np.where(o["month"].isin(cur), "volume", "volume_prev"))
    out = o.pivot_table(index="license_id", columns="_p", values="qty_ordered", aggfunc="sum",
                        fill_value=0.0)
    for c in ("volume", "volume_prev"):
        if c not in out:
            out[c] = 0.0
    out = out[["volume", "volume_prev"]].reset_index()
    out.columns.name = None
    out["change"] = out["volume"] / out["volume_prev"].replace(0, np.nan) - 1
    return out


def satisfaction_sales_link(shop_scores: pd.DataFrame, volumes: pd.DataFrame, *,
                            by: str | None = None, score_col: str = "index",
                            min_n_flag: int = 30) -> pd.DataFrame:
    """Do less satisfied shops order less, or shrink? Spearman correlations per ``by`` group.

    rho_volume = Spearman(satisfaction, volume); rho_change = Spearman(satisfaction, volume
    change), with p-values as ``scipy.stats.spearmanr``. ``shop_scores``: ``license_id`` and
    ``score_col`` (e.g. :func:`kehu_lib.metrics.survey.shop_index`); ``volumes`` from
    :func:`volume_change`. Returns ``by``, ``n``, ``rho_volume``, ``p_volume``, ``rho_change``,
    ``p_change`` and ``status``: ``insufficient_sample`` (fewer than 3 shops with both figures:
    NaN), ``small_sample`` (fewer than ``min_n_flag``) or ``ok``.
    """
    require_columns(shop_scores, ["license_id", score_col] + ([by] if by else []),
                    what="the shop scores")
    require_columns(volumes, ["license_id", "volume", "change"], what="the volumes")
    df = shop_scores.merge(volumes, on="license_id", how="inner")
    groups = [(None, df)] if by is None else df.groupby(by, observed=True)
    rows = []
    for key, part in groups:
        row = {} if by is None else {by: key}
        row["n"] = int(part[score_col].notna().sum())
        for target, name in (("volume", "volume"), ("change", "change")):
            ok = part[score_col].notna() & part[target].notna() & np.isfinite(part[target])
            if ok.sum() >= 3:
                res = stats.spearmanr(part.loc[ok, score_col], part.loc[ok, target])
                row[f"rho_{name}"], row[f"p_{name}"] = float(res.statistic), float(res.pvalue)
            else:
                row[f"rho_{name}"], row[f"p_{name}"] = np.nan, np.nan
        both = part[score_col].notna() & part["volume"].notna()
        row["status"] = str(sample_status([int(both.sum())], min_n_flag=min_n_flag, min_n=3)[0])
        rows.append(row)
    return pd.DataFrame(rows)
