"""评估: last month's strategies and plan against this month's data.

- :func:`diff_in_diff`: the change of treated shops on an indicator against similar untreated
  shops (difference-in-differences, OLS with heteroskedasticity-robust HC1 standard errors)
- :func:`evaluate_strategies`: every strategy recorded on last month's visits, judged on its
  indicator (``evaluate_on`` in the library), Holm-adjusted across strategies
- :func:`plan_coverage`: planned visits and strategies of last month's plan against the visits
  recorded
- :func:`forecast_error`: last month's forecast of this month against what happened, per district
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..frames import isin

__all__ = ["OUTCOMES", "outcome_label", "VERDICTS", "EVALUATION_COLUMNS", "verdict_codes",
           "strategy_execution",
           "diff_in_diff", "did_arrays", "outcome_panel", "evaluate_strategies", "evaluate_by_district",
           "plan_coverage", "forecast_error"]

#: Indicators a strategy can be judged on: code -> direction of an improvement (+1: up is
#: better, -1: down is better). Their Chinese names and units are the glossary's ``outcome`` and
#: ``outcome_unit`` codes (:func:`outcome_label`).
OUTCOMES: dict[str, int] = {
    "volume": 1,
    "value_per_carton": 1,
    "key_brand_volume": 1,
    "assortment_width": 1,
    "recommendation": 1,
    "shop_stock_ratio": -1,
    "new_product_adoption": 1,
}


def outcome_label(outcome: str) -> tuple[str, str]:
    """``(中文名, unit)`` of an outcome code, from the glossary (``("", "")`` if unknown)."""
    from ..present import glossary

    if outcome not in OUTCOMES:
        return "", ""
    return glossary.code_name("outcome", outcome), glossary.code_name("outcome_unit", outcome)


#: Columns of :func:`evaluate_strategies`.
EVALUATION_COLUMNS = ["code", "name", "outcome", "outcome_zh", "unit", "n_treated", "n_control",
                      "treated_change", "control_change", "estimate", "se", "ci_low", "ci_high",
                      "p_value", "p_holm", "effect_found", "verdict_code", "verdict"]

#: Verdict codes (names in the glossary's ``verdict`` map: 有效 / 效果为负 / 未见效果 / 样本不足).
VERDICTS: tuple[str, ...] = ("effective", "negative", "no_effect", "insufficient")


def verdict_codes(ev: pd.DataFrame, *, alpha: float = 0.05, min_treated: int = 5) -> pd.Series:
    """The verdict of each judged strategy as a code of :data:`VERDICTS`.

    - ``insufficient``: fewer than ``min_treated`` treated shops (or no estimate)
    - ``effective``: Holm-adjusted p (``p_holm``) < ``alpha`` and the estimate goes the
      improving way of the outcome (:data:`OUTCOMES`)
    - ``negative``: significant the same way (p_holm < ``alpha``) but on the worsening side
      (below 0 for an outcome where up is better, above 0 for 存销比): the strategy made the
      indicator worse — e.g. KZB-12 in 小店区 2026-10, CI −0.08 to −0.02 on the share of key
      brands and new products. The same bar as ``effective``, so a chance result among the
      strategies judged is neither praised nor blamed
    - ``no_effect``: otherwise
    """
    direction = ev["outcome"].map(OUTCOMES).astype(float)
    enough = (ev["n_treated"] >= min_treated) & ev["estimate"].notna()
    sig = ev["p_holm"] < alpha
    good = sig & (np.sign(ev["estimate"]) == direction)
    worse = sig & (np.sign(ev["estimate"]) == -direction)
    code = np.select([~enough, good, worse], ["insufficient", "effective", "negative"],
                     "no_effect")
    return pd.Series(code, index=ev.index, name="verdict_code")


def diff_in_diff(data: pd.DataFrame, *, outcome: str, pre: str = "pre", post: str = "post",
                 treated: str = "treated", covariates: Sequence[str] = (),
                 level: float = 0.95) -> dict:
    """Difference-in-differences (双重差分) of one outcome, two periods, one row per shop.

    With Δ_i = ``post`` − ``pre`` of shop i, the estimate is the OLS coefficient b of
    Δ_i = a + b·treated_i (+ fixed effects of the categorical ``covariates``, e.g. the district)
    + e_i. Without covariates b = mean Δ of treated − mean Δ of untreated shops, the 2×2 DiD; the
    first-difference form is the same as the two-period panel regression with shop effects.
    Standard error: HC1 (heteroskedasticity-robust, small-sample factor n/(n−k)); confidence
    interval and p-value from the t distribution with n − k degrees of freedom.

    Returns
    -------
    dict: n_treated, n_control, treated_change, control_change (mean Δ, unit of the outcome),
    estimate, se, ci_low, ci_high, p_value (NaN when either group has fewer than 2 shops).
    """
    for c in (pre, post, treated, *covariates):
        if c not in data.columns:
            raise KeyError(f"diff_in_diff: column {c!r} not in the data")
    keep = (data[pre].notna() & data[post].notna()).to_numpy()
    d = (data[post].to_numpy(dtype="float64", na_value=np.nan)[keep]
         - data[pre].to_numpy(dtype="float64", na_value=np.nan)[keep])
    t = data[treated].to_numpy(dtype=bool)[keep]
    groups = [data[c].astype(str).to_numpy(dtype=object)[keep] for c in covariates]
    return {"outcome": outcome, **did_arrays(d, t, groups, level=level)}


def did_arrays(d: np.ndarray, treated: np.ndarray, groups: Sequence[np.ndarray] = (), *,
               level: float = 0.95) -> dict:
    """:func:`diff_in_diff` of the changes ``d`` (float, no NaN), ``treated`` (bool) and the
    fixed effects' group labels ``groups`` (one array of strings per covariate), in numpy.

    The fit is statsmodels' ``OLS(d, X).fit(cov_type="HC1")`` computed directly: the
    coefficients from the Moore-Penrose pseudo-inverse of X (statsmodels' default ``pinv``
    method), the HC1 covariance pinv(X) diag(e² n / (n − rank)) pinv(X)ᵀ; X = a constant, the
    treated dummy and, per covariate, a dummy per level but the first (sorted as strings, as
    ``pd.get_dummies(drop_first=True)``); tested equal to statsmodels to 1e-10. The t
    quantile and tail are scipy.stats.t's own functions (``scipy.special.stdtrit``, ``stdtr``),
    without importing scipy.stats (~1 s)."""
    from scipy import special

    t = np.asarray(treated, dtype=bool)
    d = np.asarray(d, dtype="float64")
    n_t = int(t.sum())
    res = {"n_treated": n_t, "n_control": int(len(t) - n_t),
           "treated_change": float(d[t].mean()) if n_t else np.nan,
           "control_change": float(d[~t].mean()) if n_t < len(t) else np.nan,
           "estimate": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan,
           "p_value": np.nan}
    if res["n_treated"] < 2 or res["n_control"] < 2:
        return res
    cols = [np.ones(len(d)), t.astype("float64")]
    for g in groups:
        levels, codes = np.unique(np.asarray(g, dtype=str), return_inverse=True)
        for j in range(1, len(levels)):  # every level but the first is present: std > 0
            cols.append((codes == j).astype("float64"))
    X = np.column_stack(cols)
    n, k = X.shape
    gram = X.T @ X
    if np.linalg.cond(gram) < 1e10:  # full rank, well conditioned: pinv(X) = (XᵀX)⁻¹Xᵀ
        pinv, rank = np.linalg.solve(gram, X.T), k
    else:  # statsmodels' pinv_extended and rank
        u, sv, vt = np.linalg.svd(X, full_matrices=False)
        inv = np.where(sv > 1e-15 * sv.max(), 1 / np.where(sv > 0, sv, 1), 0.0)
        pinv = vt.T @ (inv[:, None] * u.T)
        rank = int((sv > sv.max() * len(sv) * np.finfo(sv.dtype).eps).sum())
    params = pinv @ d
    e = d - X @ params
    h = pinv[1]
    b = float(params[1])
    se = float(np.sqrt(h @ (h * e * e) * n / (n - rank)))
    dof = n - X.shape[1]
    q = special.stdtrit(dof, 0.5 + level / 2)  # stats.t.ppf(0.5 + level / 2, dof)
    res.update(estimate=b, se=se, ci_low=b - q * se, ci_high=b + q * se,
               p_value=float(2 * special.stdtr(dof, -abs(b / se))) if se > 0 else np.nan)
    return res


def outcome_panel(values_pre: pd.DataFrame, values_post: pd.DataFrame, outcome: str
                  ) -> pd.DataFrame:
    """Shops present in both months with their ``outcome`` before (``pre``) and after (``post``).

    ``values_*`` are outputs of :func:`kehu_lib.plan.indicators.indicator_values`.

    Returns
    -------
    DataFrame: license_id, district_code, manager_id, tier_band, pre, post.
    """
    keep = ["license_id", "district_code", "manager_id", "tier_band"]
    a = values_pre[keep + [outcome]].rename(columns={outcome: "pre"})
    b = values_post[["license_id", outcome]].rename(columns={outcome: "post"})
    return a.merge(b, on="license_id", how="inner")


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (NaN stays NaN)."""
    out = np.full(len(p), np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    if not len(ok):
        return out
    order = ok[np.argsort(p[ok])]
    m = len(order)
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out[order] = adj
    return out


def evaluate_strategies(given: pd.DataFrame, values_pre: pd.DataFrame,
                        values_post: pd.DataFrame, library, *, alpha: float = 0.05,
                        min_treated: int = 5, covariates: Sequence[str] = ("district_code",),
                        exclude: Sequence[str] = ()) -> pd.DataFrame:
    """Effect of each strategy given last month (策略效果评估), by difference-in-differences.

    ``given``: last month's visit records exploded by :func:`~kehu_lib.plan.strategies.parse_codes`
    (license_id, code). For each strategy with an ``evaluate_on`` indicator in the library that
    is not routine (KZB-02 价存采集 is done on every first visit) nor in ``exclude``:

    - treated = shops given the strategy last month; control = the other shops of the same
      districts (similar shops: same district, compared within district by fixed effects)
    - outcome = the indicator before (``values_pre``: the month the plan was based on, two
      months ago) and after (``values_post``: this month)
    - :func:`diff_in_diff` gives the estimate, its HC1 standard error and CI
    - ``p_holm``: Holm-adjusted p over the strategies judged (several strategies are tested at
      once); ``effect_found`` = p_holm < ``alpha`` and the estimate goes the improving way
    - ``verdict`` (= ``verdict_code``): effective (有效) / negative (效果为负: significantly
      harmful, not "no effect") / no_effect (未见效果) / insufficient (样本不足: fewer than
      ``min_treated`` treated shops) — :func:`verdict_codes`; names in the glossary

    Returns
    -------
    DataFrame: code, name, outcome, outcome_zh, unit, n_treated, n_control, treated_change,
    control_change, estimate, se, ci_low, ci_high, p_value, p_holm, effect_found, verdict_code,
    verdict.
    """
    judged = _judged(library, exclude)
    return _evaluate(judged, _panel(values_pre, values_post, judged), _shops_of(given),
                     alpha=alpha, min_treated=min_treated, covariates=covariates)


def _judged(library, exclude: Sequence[str] = ()) -> pd.DataFrame:
    """The library's strategies judged: with an ``evaluate_on`` indicator, not routine nor in
    ``exclude``."""
    lib = library.strategies
    return lib[lib["evaluate_on"].notna() & ~lib["routine"] & ~lib["code"].isin(exclude)]


def _panel(values_pre: pd.DataFrame, values_post: pd.DataFrame, judged: pd.DataFrame, *,
           post_columns: Sequence[str] = ()) -> pd.DataFrame:
    """One panel for every outcome of ``judged`` (the shops present in both months, as
    outcome_panel's): ``pre:<outcome>``, ``post:<outcome>`` beside the shop's license_id,
    district_code, manager_id and tier_band (of ``values_pre``); ``post_columns`` of
    ``values_post`` as ``post:<column>``."""
    outcomes = list(dict.fromkeys(judged["evaluate_on"]))
    keep = ["license_id", "district_code", "manager_id", "tier_band"]
    post = [*post_columns, *outcomes]
    return values_pre[keep + outcomes].rename(columns={o: f"pre:{o}" for o in outcomes}).merge(
        values_post[["license_id", *post]].rename(columns={o: f"post:{o}" for o in post}),
        on="license_id", how="inner")


def _shops_of(given: pd.DataFrame) -> dict:
    """Strategy code -> the set of shops given it (the license_ids of its rows of ``given``)."""
    out: dict = {}
    for c, lic in zip(given["code"].tolist(), given["license_id"].tolist()):
        out.setdefault(c, set()).add(lic)
    return out


def _evaluate(judged: pd.DataFrame, panel: pd.DataFrame, shops_of: dict, *, alpha: float,
              min_treated: int, covariates: Sequence[str]) -> pd.DataFrame:
    """:func:`evaluate_strategies` of the strategies ``judged`` on ``panel`` (:func:`_panel`),
    ``shops_of``: strategy code -> the shops given it (:func:`_shops_of`)."""
    cols = EVALUATION_COLUMNS
    rows = []
    # the panel as arrays: each strategy then only selects its districts and treated shops
    outcomes = list(dict.fromkeys(judged["evaluate_on"]))
    lic = panel["license_id"]
    district, _ = pd.factorize(panel["district_code"])
    labels = {c: panel[c].astype(str).to_numpy(dtype=object) for c in covariates}
    change = {}
    for o in outcomes:
        pre = panel[f"pre:{o}"].to_numpy(dtype="float64", na_value=np.nan)
        post = panel[f"post:{o}"].to_numpy(dtype="float64", na_value=np.nan)
        change[o] = (post - pre, ~np.isnan(pre) & ~np.isnan(post))
    for code, name, o in zip(judged["code"].tolist(), judged["name"].tolist(),
                             judged["evaluate_on"].tolist()):
        shops = shops_of.get(code, set())
        if not shops:
            continue
        treated = np.asarray(isin(lic, shops), dtype=bool)
        # the control shops: the other shops of the treated shops' districts
        rows_in = (np.isin(district, np.unique(district[treated])) if (district >= 0).all()
                   else panel["district_code"].isin(set(panel["district_code"][treated]))
                   .to_numpy(dtype=bool))
        d, ok = change[o]
        sel = rows_in & ok
        r = did_arrays(d[sel], treated[sel], [labels[c][sel] for c in covariates])
        zh, unit = outcome_label(o)
        rows.append({"code": code, "name": name, "outcome_zh": zh, "unit": unit,
                     "outcome": o, **r})
    if not rows:
        return pd.DataFrame(columns=cols)
    out = _judge(pd.DataFrame(rows), alpha=alpha, min_treated=min_treated)
    return out.sort_values(["effect_found", "p_value"], ascending=[False, True],
                           ignore_index=True)[cols]


def _judge(out: pd.DataFrame, *, alpha: float, min_treated: int) -> pd.DataFrame:
    """``p_holm`` (Holm over all rows of ``out``: one family), ``effect_found``, ``verdict_code``
    and ``verdict`` of DiD results (rows of :func:`evaluate_strategies`)."""
    out = out.copy()
    enough = out["n_treated"] >= min_treated
    out["p_holm"] = _holm(out["p_value"].where(enough).to_numpy(dtype=float))
    direction = out["outcome"].map(OUTCOMES)
    out["effect_found"] = (out["p_holm"] < alpha) & (np.sign(out["estimate"]) == direction)
    out["verdict_code"] = verdict_codes(out, alpha=alpha, min_treated=min_treated)
    out["verdict"] = out["verdict_code"]
    return out


def evaluate_by_district(given: pd.DataFrame, values_pre: pd.DataFrame,
                         values_post: pd.DataFrame, library, *, alpha: float = 0.05,
                         min_treated: int = 5, exclude: Sequence[str] = ()) -> pd.DataFrame:
    """Every district's strategies judged on its own shops (:func:`evaluate_strategies` per
    district), with one multiple-testing family for the whole month.

    The monthly pack shows every district's verdicts side by side (the city page lists them all,
    每个区县的要点 names its own), so the family whose error rate ``alpha`` bounds is all
    (district, strategy) tests of the month: ``p_holm`` is Holm over all of them, not over one
    district's. Default sample city, 2026-10: 45 tests with enough treated shops; KZB-12 in 小店区
    (28 shops, no effect planted; not explained by the shops' prior level, tier or number of
    visits) has raw p 0.00135, p_holm 0.058 over the month (0.009 over the district's 8 tests
    alone: a chance result flagged 效果为负), while the planted KZB-14 keeps p_holm < 1e-30.

    Returns
    -------
    DataFrame: district_code and the columns of :func:`evaluate_strategies`, sorted by
    district_code, then as there.
    """
    parts = []
    # one panel and one pass over the strategies given, cut per district: a district's panel
    # is the shops of the district in both months (the rows of its own merge, in its order)
    judged = _judged(library, exclude)
    panel = _panel(values_pre, values_post, judged, post_columns=["district_code"])
    at = panel.groupby([panel["district_code"], panel["post:district_code"]],
                       sort=False).indices
    given_at = given.reset_index(drop=True).groupby("district_code", sort=False).indices
    for code in sorted(given["district_code"].dropna().unique()):
        rows = at.get((code, code), np.empty(0, dtype="int64"))
        ev = _evaluate(judged, panel.iloc[rows], _shops_of(given.iloc[given_at[code]]),
                       alpha=alpha, min_treated=min_treated, covariates=())
        if len(ev):
            parts.append(ev.assign(district_code=code))
    if not parts:
        return pd.DataFrame(columns=["district_code", *EVALUATION_COLUMNS])
    out = _judge(pd.concat(parts, ignore_index=True), alpha=alpha, min_treated=min_treated)
    out = out.sort_values(["district_code", "effect_found", "p_value"],
                          ascending=[True, False, True], ignore_index=True)
    return out[["district_code", *[c for c in out.columns if c != "district_code"]]]


def plan_coverage(planned: pd.DataFrame, planned_strategies: pd.DataFrame,
                  visits: pd.DataFrame, given: pd.DataFrame) -> pd.DataFrame:
    """计划执行情况 per account manager: last month's plan against the visits recorded.

    - ``planned_shops``: key shops of the plan; ``visited_shops``: those with ≥ 1 recorded visit
    - 拜访计划完成率 ``visit_coverage`` = Σ min(recorded, planned visits) / Σ planned visits over the
      key shops (0-1)
    - 策略执行率 ``strategy_coverage`` = planned (shop, strategy) pairs recorded on a visit of the
      month / planned pairs (0-1)

    ``planned``: license_id, manager_id, planned_visits; ``planned_strategies``: license_id, code;
    ``visits``: the month's visit records; ``given``: the same exploded by code.

    Returns
    -------
    DataFrame: manager_id, planned_shops, visited_shops, planned_visits, recorded_visits,
    visit_coverage, planned_strategies, executed_strategies, strategy_coverage.
    """
    rec = visits.groupby("license_id").size().rename("recorded")
    p = planned.join(rec, on="license_id").fillna({"recorded": 0})
    p["done"] = np.minimum(p["recorded"], p["planned_visits"])
    g = p.groupby("manager_id").agg(planned_shops=("license_id", "nunique"),
                                    visited_shops=("recorded", lambda s: int((s > 0).sum())),
                                    planned_visits=("planned_visits", "sum"),
                                    recorded_visits=("done", "sum"))
    ps = planned_strategies.merge(planned[["license_id", "manager_id"]], on="license_id")
    hit = ps.merge(given[["license_id", "code"]].drop_duplicates(), on=["license_id", "code"],
                   how="left", indicator=True)
    hit["executed"] = hit["_merge"] == "both"
    s = hit.groupby("manager_id").agg(planned_strategies=("code", "size"),
                                      executed_strategies=("executed", "sum"))
    g = g.join(s, how="left").fillna({"planned_strategies": 0, "executed_strategies": 0})
    g["visit_coverage"] = g["recorded_visits"] / g["planned_visits"].where(g["planned_visits"] > 0)
    g["strategy_coverage"] = (g["executed_strategies"]
                              / g["planned_strategies"].where(g["planned_strategies"] > 0))
    cols = ["planned_shops", "visited_shops", "planned_visits", "recorded_visits",
            "visit_coverage", "planned_strategies", "executed_strategies", "strategy_coverage"]
    return g.reset_index()[["manager_id"] + cols]


def strategy_execution(planned_strategies: pd.DataFrame, given: pd.DataFrame) -> pd.DataFrame:
    """策略执行率 per strategy: planned (shop, strategy) pairs of last month's plan that were
    recorded on a visit of the month / planned pairs (0-1).

    Returns
    -------
    DataFrame: code, planned, executed, execution_rate.
    """
    cols = ["code", "planned", "executed", "execution_rate"]
    if planned_strategies.empty:
        return pd.DataFrame(columns=cols)
    ps = planned_strategies[["license_id", "code"]].drop_duplicates()
    hit = ps.merge(given[["license_id", "code"]].drop_duplicates(), on=["license_id", "code"],
                   how="left", indicator=True)
    hit["executed"] = hit["_merge"] == "both"
    g = hit.groupby("code").agg(planned=("license_id", "size"), executed=("executed", "sum"))
    g["execution_rate"] = g["executed"] / g["planned"]
    return g.reset_index()[cols]


def forecast_error(forecasts: pd.DataFrame | None, actual: pd.DataFrame) -> pd.DataFrame:
    """上月预测准确性: last month's forecast of this month against the actual volume per district.

    ``forecasts``: district, forecast (条) [, lo_80, hi_80]; ``actual``: district, actual (条).
    ``error`` = forecast − actual (条); ``ape`` = |error| / actual (0-1); ``in_80`` = actual within
    the 80% interval when given. An empty frame when there are no forecasts.

    Returns
    -------
    DataFrame: district, forecast, actual, error, ape[, in_80].
    """
    cols = ["district", "forecast", "actual", "error", "ape"]
    if forecasts is None or forecasts.empty:
        return pd.DataFrame(columns=cols)
    df = forecasts.merge(actual, on="district", how="inner")
    df["error"] = df["forecast"] - df["actual"]
    df["ape"] = df["error"].abs() / df["actual"].where(df["actual"] > 0)
    if {"lo_80", "hi_80"} <= set(df.columns):
        df["in_80"] = (df["actual"] >= df["lo_80"]) & (df["actual"] <= df["hi_80"])
        cols = cols + ["in_80"]
    return df[cols]
