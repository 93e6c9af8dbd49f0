"""Survey item scoring: 零售客户/消费者满意度 item scores, top-2-box and the satisfaction index.

Input is the long survey format of the store (``retailer_survey`` / ``consumer_survey``): one row
per respondent x item with ``answer`` (Int64 1-5 or <NA>) and ``dont_know`` (boolean). A
"don't know" (不清楚) answer and a plain missing answer are counted apart and never scored.
Scores use the industry 0-100 scale: 5-point answers map to 100/80/60/30/0 by default.

Answers must be codes 1-5 by the time they get here: text answers ("很满意") are mapped at ingest
with :data:`ANSWER_TEXT_CODES` / :func:`answer_codes` (the one table of the answer scale), and a
text answer that reaches :func:`check_answers` is an error, never counted as missing.
Results carry status codes (``ok``, ``small_sample``, ``insufficient_sample``, ``no_variance``,
``item_missing`` ...); their Chinese words (小样本, 样本不足, 无变异 ...) belong to the presentation
glossary.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..config import DISTRICT_BY_CODE

__all__ = [
    "DEFAULT_SCORE_MAP", "ANSWER_TEXT_CODES", "DONT_KNOW_TEXTS", "answer_codes", "sample_status",
    "require_columns", "answers_float", "check_answers", "score_answers", "item_counts", "item_scores",
    "wilson_interval", "to_wide", "importance_weights", "satisfaction_index", "satisfaction_indices",
    "index_by_weights",
    "ranking_stability", "shop_index", "ipa_table", "district_names", "survey_item_codes",
    "overall_item", "item_labels", "select",
]

#: The industry mapping of 5-point answers (5 = 很满意) to the 0-100 scale.
DEFAULT_SCORE_MAP: dict[int, float] = {5: 100.0, 4: 80.0, 3: 60.0, 2: 30.0, 1: 0.0}

#: The answer scale as data: the wording of the 5-point answers (as on the company's forms and
#: exports) -> answer code (5 = 很满意 ... 1 = 很不满意). Used at ingest (:func:`answer_codes`).
ANSWER_TEXT_CODES: dict[str, int] = {
    "很满意": 5, "非常满意": 5, "满意": 4, "比较满意": 4, "较满意": 4,
    "一般": 3, "基本满意": 3, "不太满意": 2, "不满意": 2, "较不满意": 2, "比较不满意": 2,
    "很不满意": 1, "非常不满意": 1,
}
#: Wordings of "don't know" (不清楚): not scored, counted apart (``dont_know`` = True).
DONT_KNOW_TEXTS: tuple[str, ...] = ("不清楚", "不知道", "说不清", "不了解")

_REQUIRED = ("item", "answer", "dont_know")


def require_columns(data: pd.DataFrame, columns, *, what: str = "the data") -> None:
    """Raise ``ValueError`` naming the missing column(s) and the available ones."""
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ValueError(f"column(s) {missing} not in {what}; available columns are "
                         f"{[str(c) for c in data.columns]}")


def answer_codes(answers: pd.Series) -> pd.DataFrame:
    """Map answers given as text or numbers to codes: ``answer`` (Int64 1-5) and ``dont_know``.

    Numbers 1-5 (also as text, "4") are kept; the wordings of :data:`ANSWER_TEXT_CODES` map to
    their code and those of :data:`DONT_KNOW_TEXTS` to ``dont_know`` = True; empty cells are
    missing. Raises ``ValueError`` naming the unknown answers, their count and the first row,
    so no answer is lost silently.
    """
    raw = answers.astype("string").str.strip()
    num = pd.to_numeric(raw, errors="coerce")
    text = raw.map(lambda v: ANSWER_TEXT_CODES.get(v, np.nan) if pd.notna(v) else np.nan)
    code = num.where(num.notna(), text)
    dk = raw.isin(DONT_KNOW_TEXTS).fillna(False).astype(bool)
    blank = raw.isna() | (raw == "")
    unknown = ~blank & code.isna() & ~dk
    bad_num = code.notna() & ~code.isin([1, 2, 3, 4, 5])
    bad = unknown | bad_num
    if bad.any():
        vals = sorted(set(raw[bad].astype(str)))
        raise ValueError(f"{int(bad.sum())} answer(s) are not on the 5-point scale (first at row "
                         f"{bad.idxmax()!r}): {vals[:10]}; expected 1-5, one of "
                         f"{list(ANSWER_TEXT_CODES)} or a 'don't know' wording {list(DONT_KNOW_TEXTS)}")
    return pd.DataFrame({"answer": code.astype("Int64"), "dont_know": dk.astype("boolean")},
                        index=answers.index)


def sample_status(n, *, min_n_flag: int = 30, min_n: int = 1) -> np.ndarray:
    """Status code of a cell by its sample size: ``insufficient_sample`` (n < ``min_n``, e.g. no
    answer), ``small_sample`` (n < ``min_n_flag``) or ``ok``."""
    n = np.asarray(pd.to_numeric(pd.Series(n), errors="coerce").fillna(0), dtype=float)
    return np.select([n < min_n, n < min_n_flag], ["insufficient_sample", "small_sample"], "ok")


def _as_list(by) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def answers_float(data: pd.DataFrame) -> pd.Series:
    """The ``answer`` column as float64 with NaN for missing (no pandas NA)."""
    raw = data["answer"]
    if isinstance(raw.dtype, pd.Int64Dtype):  # the store's dtype: no parsing needed
        return pd.Series(raw.to_numpy(dtype="float64", na_value=np.nan), index=data.index)
    ans = pd.to_numeric(raw, errors="coerce").astype("Float64")
    return pd.Series(ans.to_numpy(dtype="float64", na_value=np.nan), index=data.index)


def _dont_know(data: pd.DataFrame) -> pd.Series:
    return pd.Series(data["dont_know"].astype("boolean").fillna(False).to_numpy(dtype=bool),
                     index=data.index)


def check_answers(data: pd.DataFrame) -> pd.DataFrame:
    """Validate a long survey frame; returns it unchanged.

    Raises ``ValueError`` when a required column is missing, when an answer is text (map it with
    :func:`answer_codes` first) or outside 1-5, or when a row has both an answer and
    ``dont_know`` set.
    """
    missing = [c for c in _REQUIRED if c not in data.columns]
    if missing:
        raise ValueError(f"survey data lacks column(s) {missing}; expected {list(_REQUIRED)}")
    raw = data["answer"]
    if raw.dtype == object or pd.api.types.is_string_dtype(raw):
        num = pd.to_numeric(raw, errors="coerce")
        text = raw.notna() & num.isna() & raw.astype("string").str.strip().ne("").fillna(False)
        if text.any():
            vals = sorted(set(raw[text].astype(str)))
            raise ValueError(f"{int(text.sum())} answer(s) are text, not codes 1-5 (first at row "
                             f"{text.idxmax()!r}): {vals[:10]}; map them with "
                             "kehu_lib.metrics.survey.answer_codes at ingest")
    ans = answers_float(data).to_numpy()
    answered = ~np.isnan(ans)
    bad = answered & ~np.isin(ans, [1, 2, 3, 4, 5])
    if bad.any():
        codes = sorted(set(ans[bad].tolist()))
        raise ValueError(f"answer codes outside 1-5: {codes}")
    both = answered & _dont_know(data).to_numpy()
    if both.any():
        raise ValueError(f"{int(both.sum())} row(s) have an answer and dont_know=True")
    return data


def _score_map(score_map) -> dict[int, float]:
    if score_map is None:
        return dict(DEFAULT_SCORE_MAP)
    if isinstance(score_map, Mapping):
        return {int(k): float(v) for k, v in score_map.items()}
    pts = list(score_map)
    if len(pts) != 5:
        raise ValueError(f"score_map as a list needs 5 points (answers 1-5), got {len(pts)}")
    return {a: float(v) for a, v in zip(range(1, 6), pts)}


def score_answers(data: pd.DataFrame, *, score_map: Mapping[int, float] | None = None
                  ) -> pd.DataFrame:
    """Add ``score`` (0-100, 题目得分) to a long survey frame.

    score = score_map[answer]; <NA> for "don't know" and missing answers (never scored as 0).
    Default map 5->100, 4->80, 3->60, 2->30, 1->0 (:data:`DEFAULT_SCORE_MAP`); pass e.g.
    ``{5: 100, 4: 75, 3: 50, 2: 25, 1: 0}`` (or the list ``[0, 25, 50, 75, 100]`` for answers
    1..5) for the linear scale. Unit: points (分).
    """
    check_answers(data)
    out = data.copy()
    out["score"] = _scores(answers_float(out), score_map)
    return out


def _scores(ans: pd.Series, score_map) -> pd.Series:
    """Scores (float64, NaN when not scored) of checked answers ``ans`` (:func:`answers_float`)."""
    smap = _score_map(score_map)
    if sorted(smap) != [1, 2, 3, 4, 5]:
        raise ValueError(f"score_map must map each answer 1-5, got keys {sorted(smap)}")
    return ans.map({float(k): float(v) for k, v in smap.items()}).astype("float64")


def item_counts(data: pd.DataFrame, *, by=None) -> pd.DataFrame:
    """Counts per item: valid n, answer distribution, "don't know" and missing kept apart.

    Returns one row per ``by`` + ``item`` with ``n_total`` (rows), ``n_valid`` (answered 1-5),
    ``n_dont_know`` (不清楚), ``n_missing`` (未作答), ``n_1``..``n_5`` (answer counts) and
    ``share_1``..``share_5`` (share of valid answers, 0-1). n_total = n_valid + n_dont_know +
    n_missing.
    """
    check_answers(data)
    keys = _as_list(by) + ["item"]
    require_columns(data, keys, what="the survey data")
    out = _grouped_counts(data, keys, answers_float(data).to_numpy())
    nv = out["n_valid"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = {f"share_{a}": np.where(nv > 0, out[f"n_{a}"].to_numpy() / np.maximum(nv, 1),
                                         np.nan) for a in range(1, 6)}
    return pd.concat([out, pd.DataFrame(shares, index=out.index)], axis=1)


def _grouped_counts(data: pd.DataFrame, keys: list[str], ans: np.ndarray,
                    score: np.ndarray | None = None) -> pd.DataFrame:
    """The counts of :func:`item_counts` per ``keys`` (checked answers ``ans`` as float with NaN),
    in one groupby pass (integer sums: exact); with ``score`` also its ``mean`` and ``sd``."""
    dk = _dont_know(data).to_numpy()
    valid = ~np.isnan(ans)
    flags = {"n_valid": valid, "n_dont_know": ~valid & dk, "n_missing": ~valid & ~dk,
             **{f"n_{a}": ans == a for a in range(1, 6)}}
    cols = {k: data[k] for k in keys}
    cols.update({c: pd.Series(v.astype(np.int64), index=data.index) for c, v in flags.items()})
    if score is not None:
        cols["_score"] = pd.Series(score, index=data.index)
    g = pd.DataFrame(cols, index=data.index).groupby(keys, sort=True, observed=True)
    out = g[list(flags)].sum()
    out.insert(0, "n_total", g.size())
    if score is not None:
        out["mean"] = g["_score"].mean()
        out["sd"] = g["_score"].std()
    return out.reset_index()


def wilson_interval(successes, n, *, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a proportion (as statsmodels ``proportion_confint(method='wilson')``).

    centre = (p + z²/2n) / (1 + z²/n), half = z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n).
    Returns (low, high) arrays; NaN where n = 0 or an input is missing. Raises ``ValueError``
    when successes are negative or exceed n, or n is negative.
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    xb, nb = np.broadcast_arrays(x, n)
    with np.errstate(invalid="ignore"):
        checks = ((nb < 0, "n is negative"), (xb < 0, "successes are negative"),
                  (xb > nb, "successes exceed n"))
    for bad, what in checks:
        if np.any(bad):
            idx = np.argwhere(bad)[:5].tolist()
            pairs = [(float(xb[tuple(i)]), float(nb[tuple(i)])) for i in idx]
            raise ValueError(f"wilson_interval: {what} at position(s) {idx} "
                             f"(successes, n) = {pairs}; expected 0 <= successes <= n")
    from scipy import stats  # here: its import costs a second of CPU in a process without it

    z = stats.norm.ppf(1 - (1 - level) / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    low, high = centre - half, centre + half
    bad = n <= 0
    return np.where(bad, np.nan, low), np.where(bad, np.nan, high)


def item_scores(data: pd.DataFrame, *, by=None, score_map: Mapping[int, float] | None = None,
                level: float = 0.95, min_n_flag: int = 30) -> pd.DataFrame:
    """Item means on the 0-100 scale with t confidence intervals, and top-2-box with Wilson CIs.

    Per ``by`` + ``item``: ``n_valid``, ``n_dont_know``, ``n_missing``, ``mean`` (题目得分, points,
    mean of scored answers), ``sd``, ``se`` = sd/√n, ``ci_low``/``ci_high`` = mean ∓ t(n-1)·se,
    ``top2`` (answers 4-5), ``top2_share`` = top2 / n_valid (满意率, 0-1) and
    ``top2_low``/``top2_high`` (Wilson interval) and ``status``: ``insufficient_sample`` (fewer
    than 2 valid answers: no CI), ``no_variance`` (every answer the same: the t interval has no
    width and says nothing), ``small_sample`` (n_valid < ``min_n_flag``) or ``ok``. Items with no
    valid answer have NaN statistics.
    """
    check_answers(data)
    keys = _as_list(by) + ["item"]
    require_columns(data, keys, what="the survey data")
    ans = answers_float(data)
    out = _grouped_counts(data, keys, ans.to_numpy(), _scores(ans, score_map).to_numpy())[
        keys + ["n_valid", "n_dont_know", "n_missing", "n_4", "n_5", "mean", "sd"]]
    n = out["n_valid"].astype(float)
    out["se"] = out["sd"] / np.sqrt(n)
    from scipy import stats  # here: its import costs a second of CPU in a process without it

    tcrit = stats.t.ppf(1 - (1 - level) / 2, np.maximum(n - 1, 1))
    out["ci_low"] = np.where(n > 1, out["mean"] - tcrit * out["se"], np.nan)
    out["ci_high"] = np.where(n > 1, out["mean"] + tcrit * out["se"], np.nan)
    out["top2"] = out.pop("n_4") + out.pop("n_5")
    out["top2_share"] = np.where(n > 0, out["top2"] / n.clip(lower=1), np.nan)
    out["top2_low"], out["top2_high"] = wilson_interval(out["top2"], n, level=level)
    status = pd.Series(sample_status(n, min_n_flag=min_n_flag, min_n=2), index=out.index)
    status[(n >= 2) & out["sd"].eq(0)] = "no_variance"
    out["status"] = status
    return out


def survey_item_codes(survey: str = "retailer", *, overall: bool = False) -> list[str]:
    """Item codes of a survey from ``params/survey_items.yaml`` (without the overall item unless
    ``overall=True``)."""
    from ..schema import survey_items

    cat = survey_items()
    return [c for c, v in cat.items() if v.get("survey") == survey
            and (overall or not v.get("overall", False))]


def overall_item(survey: str = "retailer") -> str:
    """Code of the overall-satisfaction item (R10 / C08)."""
    from ..schema import survey_items

    return next(c for c, v in survey_items().items()
                if v.get("survey") == survey and v.get("overall"))


_INFORMANT_IDS = ("license_id", "respondent_id")


def _id_cols(data: pd.DataFrame, id_cols) -> list[str]:
    """``id_cols`` checked, or by default ``month``/``district_code`` (where present) and the
    informant id (``license_id`` or ``respondent_id``)."""
    if id_cols is None:
        inf = next((c for c in _INFORMANT_IDS if c in data.columns), None)
        if inf is None:
            raise ValueError(f"a respondent x item matrix needs an informant id column "
                             f"({' or '.join(_INFORMANT_IDS)}, or id_cols=); available columns "
                             f"are {[str(c) for c in data.columns]}")
        return [c for c in ("month", "district_code") if c in data.columns] + [inf]
    require_columns(data, list(id_cols), what="the survey data")
    return list(id_cols)


def to_wide(data: pd.DataFrame, *, id_cols: Sequence[str] | None = None,
            score_map: Mapping[int, float] | None = None) -> pd.DataFrame:
    """Respondent x item score matrix (0-100, NaN = not scored), indexed by ``id_cols``
    (default: ``month``, ``district_code`` where present, and ``license_id`` or
    ``respondent_id``). A missing id column is an error, never a silent merge of respondents."""
    ids = _id_cols(data, id_cols)
    scored = score_answers(data, score_map=score_map)
    wide = scored.groupby(ids + ["item"], observed=True, sort=True)["score"].mean().unstack("item")
    wide.columns = [str(c) for c in wide.columns]
    return wide


def importance_weights(data: pd.DataFrame, *, items: Sequence[str], overall: str = "R10",
                       method: str = "correlation",
                       score_map: Mapping[int, float] | None = None,
                       min_n: int = 3) -> pd.DataFrame:
    """Derived importance (导出重要性) of each item for overall satisfaction, as index weights.

    ``method='correlation'``: importance = Pearson r(item score, overall score) over respondents
    answering both; ``'regression'``: standardised OLS coefficients of the overall score on all
    items (complete cases). Negative importances are set to 0; weight = importance / Σ importance.
    When no item has a positive importance (e.g. every item is missing or constant) the weights
    fall back to equal weights, and the frame says so.

    Returns ``item``, ``importance`` (0 where it cannot be computed), ``weight`` (sums to 1),
    ``status`` per item: ``ok``; ``item_missing`` (not in the data); ``insufficient_sample``
    (fewer than ``min_n`` respondents answered it and the overall item); ``no_variance`` (its
    answers, or the overall answers, do not vary); ``negative_importance`` (set to weight 0);
    and ``weight_method``: ``derived`` or ``equal_fallback`` (same value on every row).
    """
    if method not in ("correlation", "regression"):
        raise ValueError(f"method must be 'correlation' or 'regression', got {method!r}")
    wide = data if "item" not in data.columns else to_wide(data, score_map=score_map)
    if overall not in wide.columns:
        raise ValueError(f"overall item {overall!r} not in the data; items present are "
                         f"{sorted(str(c) for c in wide.columns)}")
    items = [i for i in items if i != overall]
    status = []
    for i in items:
        if i not in wide.columns:
            status.append("item_missing")
            continue
        both = wide[[i, overall]].dropna()
        if len(both) < min_n:
            status.append("insufficient_sample")
        elif both[i].std() == 0 or both[overall].std() == 0:
            status.append("no_variance")
        else:
            status.append("ok")
    present = [i for i in items if i in wide.columns]
    if method == "correlation":
        imp = np.array([wide[i].corr(wide[overall]) if s == "ok" else np.nan
                        for i, s in zip(items, status)])
    else:
        cc = wide[present + [overall]].dropna()
        if len(cc) <= len(present) + 1:
            raise ValueError(f"regression importance needs more than {len(present) + 1} complete "
                             f"respondents, got {len(cc)}")
        z = (cc - cc.mean()) / cc.std(ddof=1).replace(0, np.nan)
        z = z.fillna(0.0)
        x = np.column_stack([np.ones(len(z)), z[present].to_numpy()])
        coef, *_ = np.linalg.lstsq(x, z[overall].to_numpy(), rcond=None)
        by_item = dict(zip(present, coef[1:]))
        imp = np.array([by_item[i] if s == "ok" else np.nan for i, s in zip(items, status)])
    imp = np.nan_to_num(np.asarray(imp, dtype=float), nan=0.0)
    status = ["negative_importance" if s == "ok" and v < 0 else s for s, v in zip(status, imp)]
    pos = np.clip(imp, 0, None)
    fallback = not pos.sum() > 0
    weight = np.full(len(items), 1 / len(items)) if fallback else pos / pos.sum()
    return pd.DataFrame({"item": items, "importance": imp, "weight": weight, "status": status,
                         "weight_method": "equal_fallback" if fallback else "derived"})


def _weights_series(weights, items: Sequence[str]) -> pd.Series:
    if weights is None or (isinstance(weights, str) and weights == "equal"):
        return pd.Series(1.0, index=list(items))
    if isinstance(weights, pd.DataFrame):
        weights = weights.set_index("item")["weight"]
    w = pd.Series(weights, dtype=float)
    unknown = sorted(set(w.index) - set(items))
    if unknown:
        raise ValueError(f"weights for unknown item(s) {unknown}; items are {list(items)}")
    if (w < 0).any():
        raise ValueError("weights must be non-negative")
    return w.reindex(list(items)).fillna(0.0)


def satisfaction_index(data: pd.DataFrame, *, by=None, weights=None,
                       items: Sequence[str] | None = None,
                       score_map: Mapping[int, float] | None = None,
                       min_n_flag: int = 30) -> pd.DataFrame:
    """满意度指数: weighted mean of item mean scores (0-100 points).

    index = Σ_i w_i·mean_i / Σ_i w_i over the items with at least one valid answer in the group.
    ``weights``: None/'equal', a mapping item -> weight, or the frame of
    :func:`importance_weights`. ``items`` defaults to the items present minus the overall item.
    Returns ``by`` columns, ``index``, ``n`` (respondents with any valid item answer) and
    ``status`` (:func:`sample_status`: ``insufficient_sample`` when n = 0, ``small_sample`` when
    n < ``min_n_flag``, else ``ok``).
    """
    return satisfaction_indices(data, by=by, weight_sets={"index": weights}, items=items,
                                score_map=score_map, min_n_flag=min_n_flag)["index"]


def satisfaction_indices(data: pd.DataFrame, *, weight_sets: Mapping[str, object], by=None,
                         items: Sequence[str] | None = None,
                         score_map: Mapping[int, float] | None = None,
                         min_n_flag: int = 30) -> dict[str, pd.DataFrame]:
    """:func:`satisfaction_index` under each of ``weight_sets`` (name -> weights), the item
    scores and respondent counts computed once: name -> the frame of :func:`satisfaction_index`."""
    keys = _as_list(by)
    require_columns(data, keys + ["item", "answer", "dont_know"], what="the survey data")
    if items is None:
        items = sorted(i for i in data["item"].unique() if i not in ("R10", "C08"))
    sub = data[data["item"].isin(items)]
    sc = item_scores(sub, by=keys or None, score_map=score_map)
    has_mean = sc["mean"].notna()
    mean0 = sc["mean"].fillna(0.0)
    rid = "license_id" if "license_id" in sub.columns else "respondent_id"
    valid = sub[sub["answer"].notna()]
    if keys:
        n = valid.groupby(keys, observed=True)[rid].nunique().rename("n").reset_index()
    else:
        n = valid[rid].nunique()
    res = {}
    for name, weights in weight_sets.items():
        w = sc["item"].map(_weights_series(weights, items)).fillna(0.0).where(has_mean, 0.0)
        wm = w * mean0
        if keys:
            g = pd.DataFrame({**{k: sc[k] for k in keys}, "w": w, "wm": wm}).groupby(
                keys, sort=True, observed=True)
            out = (g["wm"].sum() / g["w"].sum().replace(0, np.nan)).rename("index").reset_index()
            out = out.merge(n, on=keys, how="left")
            out["n"] = out["n"].fillna(0).astype(int)
        else:
            out = pd.DataFrame({"index": [wm.sum() / w.sum() if w.sum() else np.nan]})
            out["n"] = n
        out["status"] = sample_status(out["n"], min_n_flag=min_n_flag)
        res[name] = out
    return res


def index_by_weights(data: pd.DataFrame, *, by="district_code", weight_sets: Mapping[str, object],
                     items: Sequence[str] | None = None,
                     score_map: Mapping[int, float] | None = None,
                     min_n_flag: int = 30) -> pd.DataFrame:
    """The satisfaction index under several weight sets side by side, with ranks.

    Returns ``by``, ``n``, ``index_<name>`` and ``rank_<name>`` (1 = most satisfied) per weight
    set name (e.g. equal / management / derived), and ``status`` (``small_sample`` when n <
    ``min_n_flag``: its rank is shaky; ``insufficient_sample`` when n = 0; else ``ok``).
    """
    keys = _as_list(by)
    out = None
    indices = satisfaction_indices(data, by=keys, weight_sets=weight_sets, items=items,
                                   score_map=score_map)
    for name, idx in indices.items():
        idx = idx.drop(columns="status").rename(columns={"index": f"index_{name}"})
        out = idx if out is None else out.merge(idx.drop(columns="n"), on=keys, how="outer")
    for name in weight_sets:
        out[f"rank_{name}"] = out[f"index_{name}"].rank(ascending=False, method="min").astype("Int64")
    out["status"] = sample_status(out["n"], min_n_flag=min_n_flag)
    return out


def ranking_stability(table: pd.DataFrame, *, names: Sequence[str]) -> pd.DataFrame:
    """Is the ranking stable across weight sets? Pairwise Spearman/Kendall of the indices.

    Returns ``weights_a``, ``weights_b``, ``spearman_rho``, ``kendall_tau`` (scipy), and
    ``max_rank_shift`` (largest change of rank of any unit) and ``same_top`` (same first place).
    """
    from scipy import stats  # here: its import costs a second of CPU in a process without it

    rows = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            x, y = table[f"index_{a}"], table[f"index_{b}"]
            ok = x.notna() & y.notna()
            rho = stats.spearmanr(x[ok], y[ok]).statistic if ok.sum() > 2 else np.nan
            tau = stats.kendalltau(x[ok], y[ok]).statistic if ok.sum() > 2 else np.nan
            shift = (table[f"rank_{a}"] - table[f"rank_{b}"]).abs().max()
            same_top = bool(table.loc[x.idxmax(), f"rank_{b}"] == 1) if ok.any() else False
            rows.append({"weights_a": a, "weights_b": b, "spearman_rho": rho, "kendall_tau": tau,
                         "max_rank_shift": int(shift) if pd.notna(shift) else pd.NA,
                         "same_top": same_top})
    return pd.DataFrame(rows)


def shop_index(data: pd.DataFrame, *, weights=None, items: Sequence[str] | None = None,
               score_map: Mapping[int, float] | None = None,
               id_cols: Sequence[str] | None = None) -> pd.DataFrame:
    """Satisfaction index per respondent (weighted mean of the respondent's scored items).

    Returns ``id_cols``, ``index`` (0-100 points; NaN when no item was scored) and
    ``n_items`` (items scored).
    """
    if items is None:
        items = sorted(i for i in data["item"].unique() if i not in ("R10", "C08"))
    wide = to_wide(data[data["item"].isin(items)], id_cols=id_cols, score_map=score_map)
    w = _weights_series(weights, items).reindex(wide.columns).fillna(0.0)
    mask = wide.notna().to_numpy()
    wsum = (mask * w.to_numpy()).sum(axis=1)
    val = (wide.fillna(0.0).to_numpy() * w.to_numpy()).sum(axis=1)
    out = wide.index.to_frame(index=False)
    out["index"] = np.where(wsum > 0, val / np.where(wsum > 0, wsum, 1), np.nan)
    out["n_items"] = mask.sum(axis=1)
    return out


def ipa_table(scores: pd.DataFrame, importance: pd.DataFrame, *, labels: Mapping[str, str] | None = None
              ) -> pd.DataFrame:
    """Importance-performance analysis (IPA, 重要性-表现分析) quadrants.

    performance = item mean (0-100), importance from :func:`importance_weights`. Cut lines are
    the means over items. ``quadrant`` is a code (names in the glossary's ``ipa_quadrant``):
    'fix_first' (优先改进: important, below-average performance), 'keep_up' (继续保持),
    'low_priority' (次要改进) or 'overkill' (过度投入: possible over-investment).
    Returns ``item``, ``label``, ``performance``, ``importance``, ``quadrant``, ``fix_first``.
    """
    df = scores[["item", "mean"]].rename(columns={"mean": "performance"}).merge(
        importance[["item", "importance"]], on="item", how="inner")
    p_cut, i_cut = df["performance"].mean(), df["importance"].mean()
    hi_i, hi_p = df["importance"] >= i_cut, df["performance"] >= p_cut
    df["quadrant"] = np.select([hi_i & ~hi_p, hi_i & hi_p, ~hi_i & ~hi_p],
                               ["fix_first", "keep_up", "low_priority"], "overkill")
    df["fix_first"] = (hi_i & ~hi_p).to_numpy()
    df.insert(1, "label", df["item"].map(dict(labels or {})).fillna(df["item"]))
    df.attrs.update(performance_cut=p_cut, importance_cut=i_cut)
    return df


def district_names(df: pd.DataFrame, *, col: str = "district_code") -> pd.DataFrame:
    """Add a ``district`` column (Chinese name) from ``district_code``."""
    out = df.copy()
    out.insert(out.columns.get_loc(col) + 1, "district",
               out[col].map(lambda c: DISTRICT_BY_CODE[c].name if c in DISTRICT_BY_CODE else c))
    return out


def item_labels() -> dict[str, str]:
    """Item code -> Chinese label (题目名称) from ``params/survey_items.yaml``."""
    from ..schema import survey_items

    return {code: v["label"] for code, v in survey_items().items()}


def select(data: pd.DataFrame, *, month=None, district: str | None = None) -> pd.DataFrame:
    """Rows of one month (or list of months) and one district (name/code; None/全市 = city)."""
    from ..config import resolve_district

    out = data
    if month is not None:
        out = out[out["month"].isin([month] if isinstance(month, str) else list(month))]
    d = resolve_district(district)
    if d is not None:
        out = out[out["district_code"] == d.code]
    return out
