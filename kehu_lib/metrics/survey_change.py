"""Change of survey scores over time, honestly: 环比/同比 differences with CIs and corrections.

Each comparison is a two-sample Welch t-test of item scores (0-100) between two periods, per
district (or other ``by``) and item. The p-values of one comparison (all districts x items) form
one family, corrected with Holm (default) or Benjamini-Hochberg via
``statsmodels.stats.multitest.multipletests``. Cells with n < ``min_n_flag`` are flagged
(小样本) and cells with n < ``min_n_suppress`` suppressed (不展示: values blanked, left out of the
family), never silently shown as if solid.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from .survey import score_answers

__all__ = ["period_change", "adjust_pvalues", "survey_changes", "change_scan",
           "rolling_scores", "shift_month", "minimum_detectable_change", "change_findings",
           "sample_flag"]


def shift_month(month: str, k: int) -> str:
    """'YYYY-MM' shifted by ``k`` months (negative = earlier)."""
    return str(pd.Period(month, freq="M") + k)


def _months(m) -> list[str]:
    return [m] if isinstance(m, str) else list(m)


def minimum_detectable_change(se, *, alpha: float = 0.05, power: float = 0.8):
    """最小可检测变化 (MDC): the smallest true change detected with probability ``power``.

    MDC = (z_{1-alpha/2} + z_{power})·SE of the difference (two-sided normal approximation), in
    the unit of the scores (points on 0-100).
    """
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return z * np.asarray(se, dtype=float)


def period_change(data: pd.DataFrame, *, month, base_month, by="district_code",
                  items: Sequence[str] | None = None, score_map: Mapping[int, float] | None = None,
                  level: float = 0.95, power: float = 0.8, min_n_flag: int = 30,
                  min_n_suppress: int = 10) -> pd.DataFrame:
    """Difference of item mean scores between two periods (Welch t-test), per ``by`` and item.

    ``month``/``base_month``: 'YYYY-MM' or a list of months pooled (e.g. a rolling 3-month
    window). diff = mean_cur - mean_base (points); se = √(s²_cur/n_cur + s²_base/n_base);
    CI = diff ∓ t(df_Welch)·se; p_value two-sided (as ``scipy.stats.ttest_ind(equal_var=False)``);
    ``mdc`` = :func:`minimum_detectable_change` at alpha = 1 - level.
    ``n_flag``: :func:`sample_flag` of the smaller n ("suppressed" also blanks the values; then
    the statistics are blanked and ``suppressed`` is True).
    """
    keys = ([by] if isinstance(by, str) else list(by or [])) + ["item"]
    agg = _aggregates(data, keys=keys, items=items, score_map=score_map)
    return _compare(agg, keys=keys, month=month, base_month=base_month, level=level,
                    power=power, min_n_flag=min_n_flag, min_n_suppress=min_n_suppress)


def _aggregates(data: pd.DataFrame, *, keys: list[str], items=None, score_map=None
                ) -> pd.DataFrame:
    """n, Σscore and Σscore² per month x ``keys`` (scored answers only): poolable sums."""
    df = data if items is None else data[data["item"].isin(items)]
    df = df if "score" in df.columns else score_answers(df, score_map=score_map)
    df = df.loc[df["score"].notna(), ["month"] + keys + ["score"]]
    df = df.assign(_sq=df["score"] ** 2)
    g = df.groupby(["month"] + keys, observed=True)
    return g.agg(n=("score", "size"), s1=("score", "sum"), s2=("_sq", "sum")).reset_index()


def _compare(agg: pd.DataFrame, *, keys: list[str], month, base_month, **kwargs
             ) -> pd.DataFrame:
    """Welch comparison of two (pooled) periods from :func:`_aggregates` sums."""
    cur_m, base_m = _months(month), _months(base_month)
    parts = {}
    for p, ms in (("cur", cur_m), ("base", base_m)):
        parts[p] = agg[agg["month"].isin(ms)].groupby(keys, observed=True)[["n", "s1", "s2"]].sum()
    out = _welch(parts["cur"], parts["base"], **kwargs)
    out["month"] = "+".join(cur_m)
    out["base_month"] = "+".join(base_m)
    return out[keys + _COLS]


_COLS = ["n_cur", "mean_cur", "n_base", "mean_base", "diff", "se", "ci_low", "ci_high", "t",
         "p_value", "mdc", "n_flag", "suppressed", "month", "base_month"]


def _welch(cur: pd.DataFrame, base: pd.DataFrame, *, level: float = 0.95, power: float = 0.8,
           min_n_flag: int = 30, min_n_suppress: int = 10) -> pd.DataFrame:
    """Welch statistics from two frames of sums (n, s1, s2) sharing an index of group keys."""
    out = cur.add_suffix("_cur").join(base.add_suffix("_base"), how="outer").reset_index()
    n1, n2 = out["n_cur"].astype(float), out["n_base"].astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        for p, n in (("cur", n1), ("base", n2)):
            out[f"mean_{p}"] = out[f"s1_{p}"] / n.where(n > 0)
            var = (out[f"s2_{p}"] - out[f"s1_{p}"] ** 2 / n) / (n - 1)
            out[f"_v{p}"] = var.clip(lower=0).where(n > 1)
        a, b = out["_vcur"] / n1, out["_vbase"] / n2
        out["diff"] = out["mean_cur"] - out["mean_base"]
        se = np.sqrt(a + b)
        dfw = (a + b) ** 2 / (a**2 / (n1 - 1) + b**2 / (n2 - 1))
        t = out["diff"] / se
    ok = (n1 >= 2) & (n2 >= 2) & (se > 1e-9)
    dfw = dfw.where(ok, 1.0)
    tcrit = stats.t.ppf(1 - (1 - level) / 2, dfw)
    out["se"] = se.where(ok)
    out["ci_low"] = (out["diff"] - tcrit * se).where(ok)
    out["ci_high"] = (out["diff"] + tcrit * se).where(ok)
    out["t"] = t.where(ok)
    out["p_value"] = pd.Series(2 * stats.t.sf(np.abs(t.where(ok, 0.0)), dfw),
                               index=out.index).where(ok)
    out["mdc"] = pd.Series(minimum_detectable_change(se, alpha=1 - level, power=power),
                           index=out.index).where(ok)
    nmin = np.minimum(n1, n2)
    out["n_flag"] = sample_flag(nmin, min_n_flag=min_n_flag, min_n_suppress=min_n_suppress)
    out["suppressed"] = nmin < min_n_suppress
    blank = ["mean_cur", "mean_base", "diff", "se", "ci_low", "ci_high", "t", "p_value", "mdc"]
    out.loc[out["suppressed"], blank] = np.nan
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
    whole table is one family). Rows with a missing p-value are left out. Adds ``p_adj``,
    ``significant`` (p_adj < alpha) and ``signal``: 'down' (显著下降), 'up' (显著上升) or ''.
    """
    out = table.copy()
    out["p_adj"] = np.nan
    groups = [(None, out)] if not family else out.groupby(list(family), observed=True, sort=False)
    for _, part in groups:
        ok = part[p_col].notna()
        if ok.any():
            padj = _adjust(part.loc[ok, p_col].to_numpy(dtype=float), method, alpha)
            out.loc[part.index[ok.to_numpy()], "p_adj"] = padj
    out["significant"] = out["p_adj"].lt(alpha).fillna(False).astype(bool)
    diff = out["diff"] if "diff" in out else pd.Series(0.0, index=out.index)
    out["signal"] = np.select([out["significant"] & (diff < 0), out["significant"] & (diff > 0)],
                              ["down", "up"], "")
    return out


def survey_changes(data: pd.DataFrame, *, month: str, by="district_code", method: str = "holm",
                   alpha: float = 0.05, **kwargs) -> pd.DataFrame:
    """环比 (vs last month) and 同比 (vs the same month last year) changes, corrected.

    Each comparison is its own family (all ``by`` x items). ``kwargs`` go to
    :func:`period_change`. Adds ``comparison`` ('环比' / '同比') to its columns and those of
    :func:`adjust_pvalues`. Comparisons whose base month is absent from the data are skipped.
    """
    present = set(data["month"].unique())
    parts = []
    for name, base in (("环比", shift_month(month, -1)), ("同比", shift_month(month, -12))):
        if base not in present or month not in present:
            continue
        ch = period_change(data, month=month, base_month=base, by=by, level=1 - alpha, **kwargs)
        ch = adjust_pvalues(ch, method=method, alpha=alpha)
        ch.insert(0, "comparison", name)
        parts.append(ch)
    if not parts:
        return pd.DataFrame(columns=["comparison", "month", "base_month", "diff", "p_adj",
                                     "significant", "signal"])
    return pd.concat(parts, ignore_index=True)


def change_scan(data: pd.DataFrame, *, months: Sequence[str] | None = None, lag: int = 1,
                by="district_code", method: str = "holm", alpha: float = 0.05,
                **kwargs) -> pd.DataFrame:
    """Scan every month for changes vs ``lag`` months earlier (1 = 环比, 12 = 同比).

    One family per month (all ``by`` x items of that month). Used to check that a flagged drop is
    unique. Returns the rows of :func:`period_change` + :func:`adjust_pvalues` for all months.
    """
    months = sorted(data["month"].unique()) if months is None else list(months)
    keys = ([by] if isinstance(by, str) else list(by or [])) + ["item"]
    agg = _aggregates(data, keys=keys, items=kwargs.pop("items", None),
                      score_map=kwargs.pop("score_map", None))
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
    out = _welch(cur, base, level=1 - alpha, **kwargs)
    back = {m: shift_month(m, -lag) for m in out["month"].unique()}
    out["base_month"] = out["month"].map(back)
    out = out[keys + _COLS]
    return adjust_pvalues(out, method=method, alpha=alpha, family=["month"])


def rolling_scores(data: pd.DataFrame, *, month: str, window: int = 3, by="district_code",
                   method: str = "holm", alpha: float = 0.05, **kwargs) -> pd.DataFrame:
    """Rolling view for small districts: the last ``window`` months pooled vs the ``window``
    months before them (e.g. Aug-Oct vs May-Jul), corrected across ``by`` x items.

    Pooling repeats panel shops across months, so n counts answers, not shops; the CI is a
    guide, not exact. Returns the columns of :func:`period_change` + :func:`adjust_pvalues`.
    """
    cur = [shift_month(month, -k) for k in range(window - 1, -1, -1)]
    base = [shift_month(month, -k) for k in range(2 * window - 1, window - 1, -1)]
    ch = period_change(data, month=cur, base_month=base, by=by, level=1 - alpha, **kwargs)
    return adjust_pvalues(ch, method=method, alpha=alpha)


def change_findings(changes: pd.DataFrame, *, labels: Mapping[str, str] | None = None,
                    district_names: Mapping[str, str] | None = None) -> list[str]:
    """One Chinese sentence per significant change (e.g. for the report's findings).

    ``changes``: rows of :func:`survey_changes` (or :func:`adjust_pvalues` output). Sorted by
    adjusted p-value; each sentence names the comparison, district, item, the change in points
    with its CI and the corrected p-value.
    """
    from ..config import DISTRICT_BY_CODE

    names = dict(district_names or {c: d.name for c, d in DISTRICT_BY_CODE.items()})
    labels = dict(labels or {})
    out = []
    sig = changes[changes["significant"]].sort_values("p_adj")
    for _, r in sig.iterrows():
        comp = r["comparison"] if "comparison" in r else "变化"
        p = "p<0.001" if r["p_adj"] < 0.001 else f"p={r['p_adj']:.3f}"
        verb = "下降" if r["diff"] < 0 else "上升"
        out.append(f"{comp}：{names.get(r['district_code'], r['district_code'])} "
                   f"{labels.get(r['item'], r['item'])}{verb}{abs(r['diff']):.1f}分"
                   f"（95%置信区间 {r['ci_low']:+.1f}～{r['ci_high']:+.1f}分，校正后{p}），"
                   f"显著{verb}。")
    return out
