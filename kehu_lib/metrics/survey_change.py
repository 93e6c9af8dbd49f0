"""Change of survey scores over time, honestly: 环比/同比 differences with CIs and corrections.

The informants are a panel: the same shops (``license_id``) or consumers (``respondent_id``)
answer month after month. A change is therefore tested on the matched pairs, the informants who
answered the item in both periods (``paired="auto"``, the default when most informants recur):
the paired t-test on the within-informant differences (as ``scipy.stats.ttest_rel``) when there
are at least ``min_n_flag`` pairs, the Wilcoxon signed-rank test (``scipy.stats.wilcoxon``) on
fewer. Informants who answered in one period only are counted (``n_only_cur``, ``n_only_base``)
and left out of the test; a cell with too few pairs but enough answers on both sides falls back
to the two-sample Welch t-test on all answers. ``test`` says which test ran and ``n_pairs`` on how
many pairs. ``paired=False`` gives the two-sample Welch test everywhere (independent samples).

The p-values of one comparison (all districts x items) form one family, corrected with Holm
(default) or Benjamini-Hochberg (:func:`adjust_pvalues`); :func:`multiplicity_summary` states the
family and the false alarms to expect, :func:`city_fdr` controls the false discovery rate across
the city's pages. Every cell carries a ``status`` code: ``ok``, ``small_sample`` (n <
``min_n_flag``), ``insufficient_sample`` (n < ``min_n_suppress``: values blanked, left out of the
family), ``no_variance`` (the answers, or the differences, do not vary: no test), ``base_missing``
/ ``current_missing`` (no answer in that period). The Chinese words (小样本, 样本不足, 无变异, 基期缺失)
belong to the presentation glossary; ``n_flag`` keeps the old Chinese flag for the notebooks.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import special

from .survey import require_columns, score_answers

__all__ = ["STATUS_CODES", "TESTS", "period_change", "adjust_pvalues", "survey_changes",
           "place_changes", "change_scan", "rolling_scores", "shift_month",
           "minimum_detectable_change", "multiplicity_summary", "city_fdr", "sample_flag"]

#: Status codes of a change cell, most severe first.
STATUS_CODES = ("current_missing", "base_missing", "insufficient_sample", "no_variance",
                "small_sample", "ok")
#: Tests a change cell can be tested with ('' = none ran).
TESTS = ("paired_t", "wilcoxon", "welch")
_ID_COLS = ("license_id", "respondent_id")


def shift_month(month: str, k: int) -> str:
    """'YYYY-MM' shifted by ``k`` months (negative = earlier)."""
    return str(pd.Period(month, freq="M") + k)


def _months(m) -> list[str]:
    return [m] if isinstance(m, str) else list(m)


def _keys(by) -> list[str]:
    return ([by] if isinstance(by, str) else list(by or [])) + ["item"]


def minimum_detectable_change(se, *, alpha: float = 0.05, power: float = 0.8):
    """最小可检测变化 (MDC): the smallest true change detected with probability ``power``.

    MDC = (z_{1-alpha/2} + z_{power})·SE of the difference (two-sided normal approximation), in
    the unit of the scores (points on 0-100).
    """
    z = _norm_ppf(1 - alpha / 2) + _norm_ppf(power)
    return z * np.asarray(se, dtype=float)


# The t and normal distribution functions as ``scipy.stats.t.ppf`` / ``t.sf`` / ``norm.ppf``
# compute them (the same ``scipy.special`` functions on the arguments they accept, NaN on the
# others: the same doubles), without importing ``scipy.stats`` (a second of CPU per process).

def _norm_ppf(q: float) -> float:
    """``scipy.stats.norm.ppf(q)`` of a probability 0 < q < 1."""
    if not 0 < q < 1:
        raise ValueError(f"a quantile's probability lies in (0, 1), got {q!r}")
    return float(special.ndtri(q))


def _t_ppf(q: float, df) -> np.ndarray:
    """``scipy.stats.t.ppf(q, df)`` of a probability 0 < q < 1: NaN where ``df`` <= 0 or NaN."""
    if not 0 < q < 1:
        raise ValueError(f"a quantile's probability lies in (0, 1), got {q!r}")
    df = np.asarray(df, dtype=float)
    out = np.full(df.shape, np.nan)
    ok = df > 0
    out[ok] = special.stdtrit(df[ok], q)
    return out


def _t_sf(x, df) -> np.ndarray:
    """``scipy.stats.t.sf(x, df)``: NaN where ``df`` <= 0 or NaN, or ``x`` is NaN."""
    x, df = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(df, dtype=float))
    out = np.full(x.shape, np.nan)
    ok = (df > 0) & ~np.isnan(x)
    out[ok] = special.stdtr(df[ok], -x[ok])
    return out


def _scored(data: pd.DataFrame, *, keys: list[str], items=None, score_map=None) -> pd.DataFrame:
    """Scored answers (``score`` not NaN) of ``items``; checks the grouping columns."""
    require_columns(data, ["month"] + keys, what="the survey data")
    df = data if items is None else data[data["item"].isin(items)]
    df = df if "score" in df.columns else score_answers(df, score_map=score_map)
    return df[df["score"].notna()]


def _aggregates(data: pd.DataFrame, *, keys: list[str], items=None, score_map=None,
                scored: pd.DataFrame | None = None) -> pd.DataFrame:
    """n, Σscore and Σscore² per month x ``keys`` (scored answers only): poolable sums."""
    df = _scored(data, keys=keys, items=items, score_map=score_map) if scored is None else scored
    df = df[["month"] + keys + ["score"]]
    df = df.assign(_sq=df["score"] ** 2)
    g = df.groupby(["month"] + keys, observed=True)
    return g.agg(n=("score", "size"), s1=("score", "sum"), s2=("_sq", "sum")).reset_index()


def _id_col(data: pd.DataFrame, id_col: str | None, paired) -> str | None:
    if id_col is not None:
        require_columns(data, [id_col], what="the survey data")
        return id_col
    found = next((c for c in _ID_COLS if c in data.columns), None)
    if paired is True and found is None:
        raise ValueError(f"paired=True needs an informant id column ({' or '.join(_ID_COLS)}, or "
                         f"id_col=); available columns are {[str(c) for c in data.columns]}")
    return found


def _is_panel(cur_ids: pd.Index, base_ids: pd.Index) -> bool:
    """Most informants recur: matched ids >= half of the smaller period's informants."""
    small = min(len(cur_ids), len(base_ids))
    return small > 0 and len(cur_ids.intersection(base_ids)) >= 0.5 * small


def _use_pairs(paired, scored: pd.DataFrame, idc: str | None, cur_m, base_m) -> bool:
    if paired not in (True, False, "auto"):
        raise ValueError(f"paired must be True, False or 'auto', got {paired!r}")
    if paired is False or idc is None:
        return False
    if paired is True:
        return True
    ids = [pd.Index(scored.loc[scored["month"].isin(ms), idc].unique()) for ms in (cur_m, base_m)]
    return _is_panel(*ids)


def period_change(data: pd.DataFrame, *, month, base_month, by="district_code",
                  items: Sequence[str] | None = None, score_map: Mapping[int, float] | None = None,
                  level: float = 0.95, power: float = 0.8, min_n_flag: int = 30,
                  min_n_suppress: int = 10, paired="auto", id_col: str | None = None,
                  test: str = "auto", _scored_sums: tuple | None = None) -> pd.DataFrame:
    """Change of item mean scores between two periods, per ``by`` and item.

    ``month``/``base_month``: 'YYYY-MM' or a list of months pooled (e.g. a rolling 3-month
    window; an informant's score is then its mean over the window's months).

    Matched pairs (``paired=True``, or ``"auto"`` when at least half of the informants of the
    smaller period answered in both; ``id_col`` defaults to ``license_id`` / ``respondent_id``):
    d = score_cur - score_base per informant answering the item in both periods;
    diff = mean(d); se = sd(d)/√n_pairs; CI = diff ∓ t(n_pairs-1)·se. ``test``: ``"auto"`` runs
    the paired t-test (as ``scipy.stats.ttest_rel``) on n_pairs >= ``min_n_flag`` and the
    Wilcoxon signed-rank test (``scipy.stats.wilcoxon``; exact or normal approximation with
    continuity correction by R ``wilcox.test``'s rule, zero differences dropped; ``t`` is then
    NaN) on fewer, or when every difference is the same non-zero value (t is undefined there);
    ``"t"`` / ``"wilcoxon"`` force one. When no informant's score changed at all the status is
    ``no_variance`` and no test runs. A cell with fewer than
    ``min_n_suppress`` pairs but at least that many answers in each period is tested with Welch
    on all answers (``test`` = ``welch``).

    Independent samples (``paired=False``, or no panel): diff = mean_cur - mean_base (points);
    se = √(s²_cur/n_cur + s²_base/n_base); CI = diff ∓ t(df_Welch)·se; p-value two-sided (as
    ``scipy.stats.ttest_ind(equal_var=False)``).

    ``mdc`` = :func:`minimum_detectable_change` of se at alpha = 1 - level.
    Returns ``by`` columns, ``item``, ``n_cur``, ``mean_cur``, ``n_base``, ``mean_base`` (all
    answers of each period), ``diff``, ``se``, ``ci_low``, ``ci_high``, ``t``, ``p_value``,
    ``mdc``, ``n_flag`` (former Chinese flag), ``suppressed``, ``month``, ``base_month``,
    ``test`` (``paired_t`` / ``wilcoxon`` / ``welch`` / '' when none ran), ``n_pairs``,
    ``n_only_cur`` / ``n_only_base`` (informants answering in one period only; 0 for Welch
    without ids), ``diff_all`` (mean_cur - mean_base over all answers) and ``status`` (see the
    module docstring). Suppressed cells have their statistics blanked.
    """
    keys = _keys(by)
    cur_m, base_m = _months(month), _months(base_month)
    if _scored_sums is None:  # (scored answers, their _aggregates): given by survey_changes
        scored = _scored(data, keys=keys, items=items, score_map=score_map)
        _scored_sums = scored, _aggregates(data, keys=keys, scored=scored)
    scored, agg = _scored_sums
    parts = {p: agg[agg["month"].isin(ms)].groupby(keys, observed=True)[["n", "s1", "s2"]].sum()
             for p, ms in (("cur", cur_m), ("base", base_m))}
    out = _welch(parts["cur"], parts["base"], level=level, power=power)
    idc = _id_col(data, id_col, paired)
    if _use_pairs(paired, scored, idc, cur_m, base_m):
        shop = {p: scored[scored["month"].isin(ms)].groupby(keys + [idc], observed=True)["score"]
                .mean() for p, ms in (("cur", cur_m), ("base", base_m))}
        pr = _paired(shop["cur"], shop["base"], gkeys=keys, level=level, power=power,
                     min_n_flag=min_n_flag, test=test)
        out = _apply_pairs(out, pr, keys=keys, min_n_suppress=min_n_suppress)
    out = _finish(out, min_n_flag=min_n_flag, min_n_suppress=min_n_suppress)
    out["month"] = "+".join(cur_m)
    out["base_month"] = "+".join(base_m)
    return out[keys + _COLS]


_COLS = ["n_cur", "mean_cur", "n_base", "mean_base", "diff", "se", "ci_low", "ci_high", "t",
         "p_value", "mdc", "n_flag", "suppressed", "month", "base_month", "test", "n_pairs",
         "n_only_cur", "n_only_base", "diff_all", "status"]
_STATS = ["diff", "se", "ci_low", "ci_high", "t", "p_value", "mdc"]


def _welch(cur: pd.DataFrame, base: pd.DataFrame, *, level: float = 0.95, power: float = 0.8
           ) -> pd.DataFrame:
    """Welch statistics from two frames of sums (n, s1, s2) sharing an index of group keys.
    Adds ``_n_test`` (the smaller n) and ``_no_var`` for :func:`_finish`."""
    out = cur.add_suffix("_cur").join(base.add_suffix("_base"), how="outer").reset_index()
    # whole columns as numpy arrays: the same doubles as Series arithmetic, without its overhead
    n1, n2 = out["n_cur"].to_numpy(dtype=float), out["n_base"].to_numpy(dtype=float)
    mean, var = {}, {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for p, n in (("cur", n1), ("base", n2)):
            s1, s2 = out[f"s1_{p}"].to_numpy(dtype=float), out[f"s2_{p}"].to_numpy(dtype=float)
            mean[p] = s1 / np.where(n > 0, n, np.nan)
            v = (s2 - s1 ** 2 / n) / (n - 1)
            # sums of squares lose ~1e-12 relative precision: a variance that small is zero
            v = np.where(v > 1e-9 * np.maximum(s2 / n, 1.0), v, 0.0)
            var[p] = np.where(n > 1, v, np.nan)
        a, b = var["cur"] / n1, var["base"] / n2
        diff = mean["cur"] - mean["base"]
        se = np.sqrt(a + b)
        dfw = (a + b) ** 2 / (a**2 / (n1 - 1) + b**2 / (n2 - 1))
        t = diff / se
    both = (n1 >= 2) & (n2 >= 2)
    ok = both & (se > 0)
    out = out.assign(mean_cur=mean["cur"], mean_base=mean["base"], diff=diff)
    _t_statistics(out, se=se, t=t, dfree=dfw, ok=ok, level=level, power=power)
    na = pd.array([pd.NA] * len(out), dtype="Int64")
    return out.assign(diff_all=diff, test=np.where(ok, "welch", ""), n_pairs=na,
                      n_only_cur=na.copy(), n_only_base=na.copy(),
                      _n_test=np.fmin(np.nan_to_num(n1, nan=0.0), np.nan_to_num(n2, nan=0.0)),
                      _no_var=both & ~(se > 0))


def _t_statistics(out: pd.DataFrame, *, se, t, dfree, ok, level: float, power: float) -> None:
    """Fill ``se, ci_low, ci_high, t, p_value, mdc`` of ``out`` (which has ``diff``) from a
    t statistic with ``dfree`` degrees of freedom (arrays or Series in ``out``'s row order):
    CI = diff ∓ t(1-(1-level)/2, df)·se, p two-sided; cells where ``ok`` is False stay NaN."""
    se, t, dfree = (np.asarray(x, dtype=float) for x in (se, t, dfree))
    ok = np.asarray(ok, dtype=bool)
    dfree = np.where(ok, dfree, 1.0)
    tcrit = _t_ppf(1 - (1 - level) / 2, dfree)
    diff = out["diff"].to_numpy(dtype=float)
    p = 2 * _t_sf(np.abs(np.where(ok, t, 0.0)), dfree)
    mdc = minimum_detectable_change(se, alpha=1 - level, power=power)
    for c, v in (("se", se), ("ci_low", diff - tcrit * se), ("ci_high", diff + tcrit * se),
                 ("t", t), ("p_value", p), ("mdc", mdc)):
        out[c] = np.where(ok, v, np.nan)


def _paired(cur: pd.Series, base: pd.Series, *, gkeys: list[str], level: float, power: float,
            min_n_flag: int, test: str) -> pd.DataFrame:
    """Matched-pair statistics per ``gkeys`` from per-informant scores (Series indexed by
    ``gkeys`` + id)."""
    if test not in ("auto", "t", "wilcoxon"):
        raise ValueError(f"test must be 'auto', 't' or 'wilcoxon', got {test!r}")
    j = pd.concat([cur.rename("c"), base.rename("b")], axis=1, join="inner")
    d = (j["c"] - j["b"]).rename("d")
    lv = list(range(len(gkeys)))
    g = d.groupby(level=lv, observed=True)
    st = pd.DataFrame({"n_pairs": g.size(), "diff": g.mean(), "sd": g.std(ddof=1),
                       "n_nonzero": (d != 0).groupby(level=lv, observed=True).sum()})
    st.index.names = gkeys
    shops_cur = cur.groupby(level=lv, observed=True).size()
    shops_base = base.groupby(level=lv, observed=True).size()
    shops_cur.index.names = shops_base.index.names = gkeys
    n = st["n_pairs"].astype(float)
    sd = st["sd"].where(st["sd"] > 1e-9 * st["diff"].abs().clip(lower=1.0), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = sd / np.sqrt(n)
        t = st["diff"] / se
    has_t = (n >= 2) & (se > 0)
    _t_statistics(st, se=se, t=t, dfree=n - 1, ok=has_t, level=level, power=power)
    use_w = (n < min_n_flag) if test == "auto" else pd.Series(test == "wilcoxon", index=st.index)
    if test == "auto":  # differences all equal and not 0: t is undefined, the rank test is not
        use_w = use_w | ((n >= 2) & ~(se > 0) & (st["n_nonzero"] > 0))
    st["test"] = np.where(use_w, "wilcoxon", "paired_t")
    st["_no_var"] = (n >= 2) & ~(se > 0)
    run_w = use_w & (st["n_nonzero"] > 0)
    if run_w.any():
        sel = d.droplevel(-1)
        sel = sel[sel.index.isin(st.index[run_w])]
        keys, diffs = zip(*((key, grp.to_numpy())
                            for key, grp in sel.groupby(level=lv, observed=True)))
        rows = st.index.get_indexer(list(keys))  # positions: .loc on the key index is slow
        for c, v in (("p_value", _signed_rank_ps(diffs)), ("t", np.nan), ("_no_var", False)):
            col = st[c].to_numpy(copy=True)
            col[rows] = v
            st[c] = col
    alike = (use_w & (st["n_nonzero"] == 0)).to_numpy()  # every informant answered alike
    st["p_value"] = st["p_value"].mask(alike)
    st["t"] = st["t"].mask(alike)
    st["_no_var"] = st["_no_var"].mask(alike, True)
    st["n_only_cur"] = shops_cur.reindex(st.index).fillna(0).astype(int) - st["n_pairs"]
    st["n_only_base"] = shops_base.reindex(st.index).fillna(0).astype(int) - st["n_pairs"]
    # cells with answers but no pair at all
    extra = shops_cur.index.union(shops_base.index).difference(st.index)
    if len(extra):
        add = pd.DataFrame(index=extra, columns=st.columns)
        add["n_pairs"] = 0
        add["n_only_cur"] = shops_cur.reindex(extra).fillna(0).astype(int)
        add["n_only_base"] = shops_base.reindex(extra).fillna(0).astype(int)
        add["test"] = "paired_t"
        add["_no_var"] = False
        st = pd.concat([st, add])
    return st.drop(columns=["sd", "n_nonzero"])


def _signed_rank_ps(diffs: Sequence[np.ndarray]) -> np.ndarray:
    """Two-sided p of the Wilcoxon signed-rank test of each array of differences, chosen as R
    ``wilcox.test(paired=TRUE)``: the exact distribution for fewer than 50 pairs without zero or
    tied differences, else the normal approximation with tie and continuity correction (zero
    differences dropped). Arrays with as many non-zero differences and the same method are
    tested in one call of ``scipy.stats.wilcoxon`` along ``axis=1`` (the same p as one call
    each, without its per-call overhead).

    ``scipy.stats`` is imported here, not with the module: the steps and pages that never run
    this test do not pay its import (about a second of CPU per process)."""
    from scipy import stats

    same = {}  # (non-zero differences, exact) -> positions in diffs
    nonzero = [d[d != 0] for d in diffs]
    for i, (d, nz) in enumerate(zip(diffs, nonzero)):
        exact = len(nz) == len(d) and len(d) < 50 and len(np.unique(np.abs(nz))) == len(nz)
        same.setdefault((len(nz), exact), []).append(i)
    p = np.empty(len(diffs))
    for (_, exact), rows in same.items():
        res = stats.wilcoxon(np.stack([nonzero[i] for i in rows]), axis=1,
                             method="exact" if exact else "asymptotic", correction=not exact)
        p[rows] = res.pvalue
    return p


def _apply_pairs(out: pd.DataFrame, pr: pd.DataFrame, *, keys: list[str], min_n_suppress: int
                 ) -> pd.DataFrame:
    """Replace the Welch statistics of ``out`` by the matched-pair ones where there are enough
    pairs; keep Welch (all answers) where pairs are too few but both periods have enough."""
    out = out.set_index(keys)
    pr = pr.reindex(out.index)
    n_pairs = pr["n_pairs"].fillna(0).astype(int)
    welch_n = out["_n_test"]
    fallback = (n_pairs < min_n_suppress) & (welch_n >= min_n_suppress)
    use = (~fallback).to_numpy()  # whole columns, not .loc on the key index (slow)
    for c in _STATS:
        out[c] = np.where(use, pr[c].to_numpy(dtype=float), out[c].to_numpy(dtype=float))
    out["test"] = out["test"].mask(use, np.where(pr["p_value"].notna().to_numpy(),
                                                 pr["test"].to_numpy(dtype=object), ""))
    out["_n_test"] = np.where(use, n_pairs.to_numpy(dtype=float),
                              out["_n_test"].to_numpy(dtype=float))
    out["_no_var"] = np.where(use, pr["_no_var"].fillna(False).astype(bool).to_numpy(),
                              out["_no_var"].to_numpy(dtype=bool))
    out["n_pairs"] = n_pairs.astype("Int64")
    out["n_only_cur"] = pr["n_only_cur"].fillna(0).astype("Int64")
    out["n_only_base"] = pr["n_only_base"].fillna(0).astype("Int64")
    return out.reset_index()


def _finish(out: pd.DataFrame, *, min_n_flag: int, min_n_suppress: int) -> pd.DataFrame:
    """Status code, the former ``n_flag``, ``suppressed`` and blanking of suppressed cells."""
    n_cur = out["n_cur"].fillna(0).astype(float)
    n_base = out["n_base"].fillna(0).astype(float)
    n_test = out.pop("_n_test").astype(float)
    no_var = out.pop("_no_var").fillna(False).astype(bool)
    out["status"] = np.select(
        [n_cur <= 0, n_base <= 0, n_test < min_n_suppress, no_var, n_test < min_n_flag],
        ["current_missing", "base_missing", "insufficient_sample", "no_variance",
         "small_sample"], "ok")
    out["n_flag"] = sample_flag(n_test, min_n_flag=min_n_flag, min_n_suppress=min_n_suppress)
    out["suppressed"] = (n_test < min_n_suppress).to_numpy()
    blank = ["mean_cur", "mean_base", "diff_all"] + _STATS
    suppressed = out["suppressed"].to_numpy()
    for c in blank:  # numpy: as Series.mask, without its overhead
        out[c] = np.where(suppressed, np.nan, out[c].to_numpy(dtype=float))
    out["test"] = out["test"].mask(suppressed, "")
    for c in ("n_cur", "n_base"):
        out[c] = out[c].fillna(0).astype(int)
    return out


def _adjust(p: np.ndarray, method: str, alpha: float) -> np.ndarray:
    """Adjusted p-values; Holm, Bonferroni and BH in numpy (tested equal to statsmodels'
    ``multipletests``, which is used for any other method)."""
    m = len(p)
    if method == "bonferroni":
        return np.minimum(p * m, 1.0)
    if method in ("holm", "fdr_bh"):
        order = np.argsort(p, kind="mergesort")
        ps = p[order]
        if method == "holm":
            adj = np.maximum.accumulate(ps * (m - np.arange(m)))
        else:
            adj = np.minimum.accumulate((ps * m / np.arange(1, m + 1))[::-1])[::-1]
        out = np.empty(m)
        out[order] = np.minimum(adj, 1.0)
        return out
    from statsmodels.stats.multitest import multipletests  # imports scipy.stats

    return multipletests(p, alpha=alpha, method=method)[1]


def sample_flag(n, *, min_n_flag: int = 30, min_n_suppress: int = 10) -> np.ndarray:
    """Sample-size code of each ``n``: 'suppressed' (n < min_n_suppress: 不展示), 'small'
    (n < min_n_flag: 小样本) or 'ok' (names in the glossary's ``sample_note``)."""
    n = np.asarray(n, dtype=float)
    return np.select([n < min_n_suppress, n < min_n_flag], ["suppressed", "small"], "ok")


def adjust_pvalues(table: pd.DataFrame, *, method: str = "holm", alpha: float = 0.05,
                   p_col: str = "p_value", family: Sequence[str] | None = None) -> pd.DataFrame:
    """Multiple-comparison correction (多重比较校正) of ``p_col`` within each family.

    ``method``: any ``statsmodels.stats.multitest.multipletests`` method ('holm', 'fdr_bh',
    'bonferroni', ...). ``family``: columns whose values define separate families (None = the
    whole table is one family). Rows with a missing p-value (cells not tested: see ``status``)
    are left out. Raises ``ValueError`` naming the rows when a p-value lies outside [0, 1].
    Adds ``p_adj``, ``significant`` (p_adj < alpha), ``signal``: 'down' (显著下降), 'up' (显著上升) or '',
    ``n_family`` (tests in the row's family), ``correction`` (the method) and ``alpha``.
    """
    require_columns(table, [p_col] + list(family or []), what="the table of p-values")
    p_all = pd.to_numeric(table[p_col], errors="coerce")
    bad = p_all.notna() & ((p_all < 0) | (p_all > 1))
    if bad.any():
        rows = table.index[bad.to_numpy()][:5].tolist()
        raise ValueError(f"{int(bad.sum())} p-value(s) in {p_col!r} outside [0, 1] at row(s) "
                         f"{rows}: {p_all[bad].head(5).tolist()}; a p-value is a probability")
    out = table.copy()
    p_adj, n_family = np.full(len(out), np.nan), np.zeros(len(out), dtype="int64")
    tested = table[p_col].notna().to_numpy()
    groups = ([np.arange(len(out))] if not family else
              out.groupby(list(family), observed=True, sort=False).indices.values())
    for rows in groups:  # a family's row positions, in row order
        rows_ok = rows[tested[rows]]
        if len(rows_ok):
            p_adj[rows_ok] = _adjust(table[p_col].iloc[rows_ok].to_numpy(dtype=float), method,
                                     alpha)
        n_family[rows] = len(rows_ok)
    out["p_adj"] = p_adj
    out["n_family"] = n_family
    out["significant"] = p_adj < alpha  # NaN: not significant
    diff = out["diff"] if "diff" in out else pd.Series(0.0, index=out.index)
    out["signal"] = np.select([out["significant"] & (diff < 0), out["significant"] & (diff > 0)],
                              ["down", "up"], "")
    out["correction"] = method
    out["alpha"] = alpha
    return out


def survey_changes(data: pd.DataFrame, *, month: str, by="district_code", method: str = "holm",
                   alpha: float = 0.05, **kwargs) -> pd.DataFrame:
    """环比 (vs last month) and 同比 (vs the same month last year) changes, corrected.

    Each comparison is its own family (all ``by`` x items). ``kwargs`` go to
    :func:`period_change` (e.g. ``paired``, ``test``). Adds ``comparison`` ('mom' = 环比 /
    'yoy' = 同比, the glossary's ``comparison_code``) to
    its columns and those of :func:`adjust_pvalues`. A comparison whose base month is absent
    from the data is kept, its cells with status ``base_missing`` (never shown as 正常); when
    ``month`` itself has no answer the cells say ``current_missing``.
    """
    parts = _comparisons(data, month=month, by=by, alpha=alpha, **kwargs)
    return _corrected(parts, method=method, alpha=alpha)


def _comparisons(data: pd.DataFrame, *, month: str, by, alpha: float, **kwargs
                 ) -> dict[str, pd.DataFrame]:
    """:func:`period_change` of 环比 and 同比 ('mom', 'yoy'), before the correction."""
    require_columns(data, ["month"], what="the survey data")
    # the answers scored and summed once, for both comparisons
    keys = _keys(by)
    scored = _scored(data, keys=keys, items=kwargs.get("items"), score_map=kwargs.get("score_map"))
    kwargs["_scored_sums"] = scored, _aggregates(data, keys=keys, scored=scored)
    return {name: period_change(data, month=month, base_month=base, by=by, level=1 - alpha,
                                **kwargs)
            for name, base in _bases(month)}


def _bases(month: str) -> list[tuple[str, str]]:
    return [("mom", shift_month(month, -1)), ("yoy", shift_month(month, -12))]


def _corrected(parts: dict[str, pd.DataFrame], *, method: str, alpha: float) -> pd.DataFrame:
    """Each comparison's cells corrected as one family, with its ``comparison`` name."""
    out = []
    for name, ch in parts.items():
        ch = adjust_pvalues(ch, method=method, alpha=alpha)
        ch.insert(0, "comparison", name)
        out.append(ch)
    return pd.concat(out, ignore_index=True)


def place_changes(data: pd.DataFrame, *, month: str, place: str = "district_code",
                  method: str = "holm", alpha: float = 0.05, **kwargs
                  ) -> dict[str | None, pd.DataFrame]:
    """:func:`survey_changes` of all ``data`` (key None) and of each ``place``'s answers alone
    (key: the place; each its own families), the same frames as calling it on
    ``data[data[place] == p]``, from one computation on all ``data``.

    Every cell's statistics depend on that cell's answers only, except whether the matched
    pairs are used (the panel test of :func:`period_change`, made on all answers given): a
    place whose answers alone decide it otherwise is computed on its own. ``place`` must be a
    ``by`` column (the default ``by`` is ``place``); places without an answer are left out.
    """
    by = kwargs.pop("by", place)
    keys = _keys(by)
    if place not in keys:
        raise ValueError(f"place {place!r} must be one of the by columns {keys[:-1]}")
    whole = _comparisons(data, month=month, by=by, alpha=alpha, **kwargs)
    out = {None: _corrected(whole, method=method, alpha=alpha)}
    paired = kwargs.get("paired", "auto")
    scored = _scored(data, keys=keys, items=kwargs.get("items"), score_map=kwargs.get("score_map"))
    idc = _id_col(data, kwargs.get("id_col"), paired)
    pairs = _pairs_used(scored, idc, paired, month)
    for p in pd.unique(data[place].dropna()):
        if _pairs_used(scored[scored[place] == p], idc, paired, month) == pairs:
            parts = {name: ch[ch[place] == p].reset_index(drop=True)
                     for name, ch in whole.items()}
            out[p] = _corrected(parts, method=method, alpha=alpha)
        else:
            out[p] = survey_changes(data[data[place] == p].reset_index(drop=True), month=month,
                                    by=by, method=method, alpha=alpha, **kwargs)
    return out


def _pairs_used(scored: pd.DataFrame, idc: str | None, paired, month: str) -> tuple[bool, ...]:
    """Whether 环比 and 同比 of ``month`` test matched pairs on these scored answers."""
    return tuple(_use_pairs(paired, scored, idc, [month], [base]) for _, base in _bases(month))


def change_scan(data: pd.DataFrame, *, months: Sequence[str] | None = None, lag: int = 1,
                by="district_code", method: str = "holm", alpha: float = 0.05,
                **kwargs) -> pd.DataFrame:
    """Scan every month for changes vs ``lag`` months earlier (1 = 环比, 12 = 同比).

    One family per month (all ``by`` x items of that month). Used to check that a flagged drop is
    unique. Tests as :func:`period_change` (matched pairs on a panel). Returns the rows of
    :func:`period_change` + :func:`adjust_pvalues` for all months.
    """
    keys = _keys(by)
    paired = kwargs.pop("paired", "auto")
    id_col = kwargs.pop("id_col", None)
    test = kwargs.pop("test", "auto")
    level = 1 - alpha
    power = kwargs.pop("power", 0.8)
    min_n_flag = kwargs.pop("min_n_flag", 30)
    min_n_suppress = kwargs.pop("min_n_suppress", 10)
    scored = _scored(data, keys=keys, items=kwargs.pop("items", None),
                     score_map=kwargs.pop("score_map", None))
    if kwargs:
        raise TypeError(f"change_scan got unexpected keyword argument(s) {sorted(kwargs)}")
    months = sorted(scored["month"].unique()) if months is None else list(months)
    agg = _aggregates(data, keys=keys, scored=scored)
    cur = agg[agg["month"].isin(months)].set_index(["month"] + keys)[["n", "s1", "s2"]]
    shifted = {m: shift_month(m, lag) for m in agg["month"].unique()}
    base = agg.assign(month=agg["month"].map(shifted))
    base = base[base["month"].isin(months)].set_index(["month"] + keys)[["n", "s1", "s2"]]
    both = cur.index.get_level_values("month").unique().intersection(
        base.index.get_level_values("month").unique())
    if len(both) == 0:
        return pd.DataFrame(columns=keys + _COLS)
    cur = cur[cur.index.get_level_values("month").isin(both)]
    base = base[base.index.get_level_values("month").isin(both)]
    out = _welch(cur, base, level=level, power=power)
    idc = _id_col(data, id_col, paired)
    cur_m = list(both)
    base_m = [shift_month(m, -lag) for m in both]
    if _use_pairs(paired, scored, idc, cur_m, base_m):
        gk = ["month"] + keys
        shop = scored.groupby(gk + [idc], observed=True)["score"].mean()
        sh_base = shop.rename(index={m: shifted[m] for m in shop.index.levels[0]}, level="month")
        in_both = shop.index.get_level_values("month").isin(both)
        sh_base = sh_base[sh_base.index.get_level_values("month").isin(both)]
        pr = _paired(shop[in_both], sh_base, gkeys=gk, level=level, power=power,
                     min_n_flag=min_n_flag, test=test)
        out = _apply_pairs(out, pr, keys=gk, min_n_suppress=min_n_suppress)
    out = _finish(out, min_n_flag=min_n_flag, min_n_suppress=min_n_suppress)
    back = {m: shift_month(m, -lag) for m in out["month"].unique()}
    out["base_month"] = out["month"].map(back)
    out = out[keys + _COLS]
    return adjust_pvalues(out, method=method, alpha=alpha, family=["month"])


def rolling_scores(data: pd.DataFrame, *, month: str, window: int = 3, by="district_code",
                   method: str = "holm", alpha: float = 0.05, **kwargs) -> pd.DataFrame:
    """Rolling view for small districts: the last ``window`` months pooled vs the ``window``
    months before them (e.g. Aug-Oct vs May-Jul), corrected across ``by`` x items.

    n_cur / n_base count answers (a panel shop answers once a month); on a panel the test runs
    on each informant's mean over each window, matched across the windows (``n_pairs``
    informants). Returns the columns of :func:`period_change` + :func:`adjust_pvalues`.
    """
    cur = [shift_month(month, -k) for k in range(window - 1, -1, -1)]
    base = [shift_month(month, -k) for k in range(2 * window - 1, window - 1, -1)]
    ch = period_change(data, month=cur, base_month=base, by=by, level=1 - alpha, **kwargs)
    return adjust_pvalues(ch, method=method, alpha=alpha)


_FWER_METHODS = {"holm", "bonferroni", "sidak", "holm-sidak", "simes-hochberg", "hommel"}
_FDR_METHODS = {"fdr_bh", "fdr_by", "fdr_tsbh", "fdr_tsbky"}


def multiplicity_summary(changes: pd.DataFrame, *, family: Sequence[str] | None = ("comparison",),
                         by: Sequence[str] | str | None = None, pages: int = 1,
                         method: str | None = None, alpha: float | None = None) -> pd.DataFrame:
    """What the multiple-comparison correction on a page covers, and the false alarms to expect.

    One row per family of ``changes`` (the rows corrected together by :func:`adjust_pvalues`,
    e.g. one per comparison 环比/同比): ``family`` (the family's key, e.g. 'mom'; 'all' when
    ``family`` is empty),
    ``n_cells`` (cells on the page), ``n_tests`` (cells tested; the others have a status such
    as ``insufficient_sample`` or ``no_variance`` and are not in the family), ``units`` and
    ``items`` (distinct values of the ``by`` columns and items tested, naming what the family
    spans), ``tests`` (tests that ran, e.g. 'paired_t:58,wilcoxon:2'), ``correction``,
    ``alpha``, ``n_significant``;
    ``false_alarm_bound``: if nothing truly changed, the chance of at least one false alarm in
    the family is at most alpha under Holm/Bonferroni (FWER) and under BH (which equals FWER
    control when nothing changed); uncorrected it is up to n_tests x alpha expected false
    alarms; ``pages`` and ``expected_false_alarms_city`` = pages x false_alarm_bound: the
    expected number of false alarms per month across the city's ``pages`` (e.g. districts + 1
    city page) when nothing changed (an upper bound; more than one false alarm in a family is
    rare). The method and alpha are read from ``changes`` (columns ``correction`` / ``alpha``
    of :func:`adjust_pvalues`) unless given.
    """
    fam = [c for c in (family or []) if c in changes.columns]
    if method is None:
        if "correction" not in changes.columns:
            raise ValueError("changes carry no 'correction' column (run adjust_pvalues) and no "
                             "method= was given")
        method = str(changes["correction"].iloc[0]) if len(changes) else "holm"
    if alpha is None:
        alpha = float(changes["alpha"].iloc[0]) if "alpha" in changes.columns and len(changes) \
            else 0.05
    if pages < 1:
        raise ValueError(f"pages must be at least 1, got {pages}")
    units = [by] if isinstance(by, str) else list(by or [])
    require_columns(changes, units + ["p_value"], what="the changes table")
    groups = [("all", changes)] if not fam else changes.groupby(fam, observed=True, sort=False)
    rows = []
    for key, part in groups:
        tested = part[part["p_value"].notna()]
        m = len(tested)
        if method in _FWER_METHODS or method in _FDR_METHODS:
            bound = alpha if m else 0.0
        else:
            bound = m * alpha
        tests = (tested["test"].value_counts().sort_index() if "test" in tested
                 else pd.Series(dtype=int))
        sig = int(part["significant"].sum()) if "significant" in part else 0
        rows.append({
            "family": "/".join(map(str, key)) if isinstance(key, tuple) else str(key),
            "n_cells": len(part), "n_tests": m,
            "units": int(tested[units].drop_duplicates().shape[0]) if units else 1,
            "items": int(tested["item"].nunique()) if "item" in tested else 0,
            "tests": ",".join(f"{k}:{v}" for k, v in tests.items() if k),
            "correction": method, "alpha": alpha, "n_significant": sig,
            "false_alarm_bound": bound, "pages": pages,
            "expected_false_alarms_city": pages * bound})
    return pd.DataFrame(rows)


def city_fdr(changes: pd.DataFrame, *, alpha: float = 0.05, family: Sequence[str] | None = None,
             p_col: str = "p_value") -> pd.DataFrame:
    """False discovery rate control across the city's pages (Benjamini-Hochberg).

    ``changes``: the change cells of every page of the month (e.g. :func:`survey_changes` on
    the whole city with ``by="district_code"``). All tested cells of the month form one
    family (or one per value of ``family``, e.g. ``["comparison"]``); BH-adjusted p-values as
    ``statsmodels.stats.multitest.multipletests(method='fdr_bh')``. Among the cells flagged
    ``significant_city``, the expected share of false alarms is at most ``alpha``.
    Adds ``p_adj_city``, ``significant_city`` and ``n_family_city``; other columns unchanged.
    """
    adj = adjust_pvalues(changes.drop(columns=[c for c in ("p_adj", "significant", "signal",
                                                          "n_family", "correction", "alpha")
                                               if c in changes.columns]),
                         method="fdr_bh", alpha=alpha, p_col=p_col, family=family)
    out = changes.copy()
    out["p_adj_city"] = adj["p_adj"]
    out["significant_city"] = adj["significant"]
    out["n_family_city"] = adj["n_family"]
    return out
