"""Monthly retailer (信息员) and consumer panel surveys of the sample city."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import config

RETAILER_ITEMS = [f"R{i:02d}" for i in range(1, 11)]
CONSUMER_ITEMS = [f"C{i:02d}" for i in range(1, 9)]
#: Latent item means on the answer scale (1-5); overall items are derived from the others.
RETAILER_MEAN = dict(zip(RETAILER_ITEMS[:-1], [3.9, 4.1, 3.95, 3.8, 3.9, 4.0, 4.35, 4.2, 4.1]))
RETAILER_WEIGHT = dict(zip(RETAILER_ITEMS[:-1], [0.25, 0.25, 0.1, 0.03, 0.04, 0.05, 0.15, 0.05, 0.08]))
DONT_KNOW = {"R04": 0.08, "R08": 0.06, "R05": 0.04}
CONSUMER_MEAN = dict(zip(CONSUMER_ITEMS[:-1], [4.0, 3.9, 3.7, 3.8, 3.9, 4.2, 3.6]))
CLASS_SHIFT = {"A": {"C02": -0.6, "C03": 0.1}, "B": {"C02": -0.2}, "C": {}, "D": {"C03": -0.4, "C01": -0.3}}
CLASS_P = {"A": 0.10, "B": 0.30, "C": 0.40, "D": 0.20}


def _to_answers(rng, latent: np.ndarray) -> np.ndarray:
    """Round a latent score (1-5 scale) with noise into a 5-point answer."""
    return np.clip(np.round(latent + rng.normal(0, 0.55, latent.shape)), 1, 5).astype(int)


def _long(month, district_code, ids, id_col, items, answers, rng, dk_rates, extra=None):
    n, k = answers.shape
    dk = rng.random((n, k)) < np.array([dk_rates.get(i, 0.02) for i in items])
    missing = (~dk) & (rng.random((n, k)) < 0.015)
    ans = pd.array(answers.ravel(), dtype="Int64")
    ans[(dk | missing).ravel()] = pd.NA
    frame = {"month": month, "district_code": np.repeat(district_code, k), id_col: np.repeat(ids, k),
             "item": np.tile(items, n), "answer": ans, "dont_know": dk.ravel()}
    if extra is not None:
        for col, val in extra.items():
            frame[col] = np.repeat(val, k)
    return pd.DataFrame(frame)


def retailer_survey(rng: np.random.Generator, month: pd.Period, shops: pd.DataFrame,
                    informant: np.ndarray, shop_effect: np.ndarray, signals: dict) -> pd.DataFrame:
    """Answers of every informant shop open this month (a 1-5 scale; don't-know and missing kept)."""
    end = month.end_time
    open_ = informant & (shops["opened_date"] <= end) & (
        shops["closed_date"].isna() | (shops["closed_date"] > end)).to_numpy()
    idx = np.flatnonzero(open_)
    items = RETAILER_ITEMS[:-1]
    district_effect = {d.code: e for d, e in zip(config.DISTRICTS,
                                                  [0.0, 0.05, -0.05, 0.0, -0.1, -0.05, 0.15])}
    codes = shops["district_code"].to_numpy()[idx]
    base = np.array([RETAILER_MEAN[i] for i in items])
    latent = (base[None, :] + shop_effect[idx][:, None]
              + np.vectorize(district_effect.get)(codes)[:, None]
              + rng.normal(0, 0.1, (len(idx), 1)))
    drop = signals["satisfaction_drop"]
    if month == pd.Period(drop["month"], "M"):
        col = items.index(drop["item"])
        hit = codes == config.resolve_district(drop["district"]).code
        # 1 answer step is 20 points on the 100/80/60/30/0 scale around the top of the scale
        latent[hit, col] -= drop["drop_points"] / 20.0
    answers = _to_answers(rng, latent)
    w = np.array([RETAILER_WEIGHT[i] for i in items])
    overall = np.clip(np.round(answers @ (w / w.sum()) + rng.normal(0, 0.35, len(idx))), 1, 5)
    answers = np.column_stack([answers, overall.astype(int)])
    return _long(str(month), codes, shops["license_id"].to_numpy()[idx], "license_id",
                 RETAILER_ITEMS, answers, rng, DONT_KNOW)


def consumer_panel(rng: np.random.Generator, scale: float) -> pd.DataFrame:
    """The fixed consumer panel: respondent id, district, price class A-D (seed 004 sizes)."""
    rows = []
    n_id = 0
    for d in config.DISTRICTS:
        n = max(4, int(round(d.panel_size * scale)))
        cls = rng.choice(list(CLASS_P), size=n, p=list(CLASS_P.values()))
        for c in cls:
            n_id += 1
            rows.append((f"C{n_id:05d}", d.code, c, rng.normal(0, 0.35)))
    return pd.DataFrame(rows, columns=["respondent_id", "district_code", "consumer_class", "effect"])


def consumer_survey(rng: np.random.Generator, month: pd.Period, panel: pd.DataFrame) -> pd.DataFrame:
    """Monthly answers of the consumer panel."""
    items = CONSUMER_ITEMS[:-1]
    base = np.array([CONSUMER_MEAN[i] for i in items])
    shift = np.array([[CLASS_SHIFT[c].get(i, 0.0) for i in items] for c in panel["consumer_class"]])
    latent = base[None, :] + shift + panel["effect"].to_numpy()[:, None]
    answers = _to_answers(rng, latent)
    overall = np.clip(np.round(answers.mean(axis=1) + rng.normal(0, 0.35, len(panel))), 1, 5)
    answers = np.column_stack([answers, overall.astype(int)])
    return _long(str(month), panel["district_code"].to_numpy(), panel["respondent_id"].to_numpy(),
                 "respondent_id", CONSUMER_ITEMS, answers, rng, {"C05": 0.06, "C07": 0.10},
                 extra={"consumer_class": panel["consumer_class"].to_numpy()})
