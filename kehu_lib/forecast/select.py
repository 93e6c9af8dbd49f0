"""Fallback rules, the rolling-origin backtest, model choice per series and the parallel runner.

Output columns of every forecast frame (long format, one row per series x month x model):
``unique_id`` (series id), ``ds`` (month start, Timestamp), ``model`` (name), ``mean`` (point
forecast), ``lo_80, hi_80, lo_95, hi_95`` (prediction interval bounds); the backtest adds
``origin`` (last month of training data), ``step`` (months ahead), ``y`` (actual) and ``scale``
(MASE scale of the training data).
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from . import festival as fest
from . import models as M
from .intermittent import intermittent
from .metrics import mase_scale

__all__ = ["CANDIDATES", "COMBO", "forecast_one", "forecast_many", "backtest_one", "choose",
           "run_series", "fit_one", "decide", "evidence", "default_origins", "REASONS",
           "forecast_frame", "OUT_COLUMNS"]

#: Models compared in the backtest; ``combo`` is the mean of the members of :data:`COMBO`.
CANDIDATES = ("snaive", "ets", "theta", "sarima", "holt", "combo")
#: Members of the combination. ``holt`` (Holt's linear trend, :func:`models.holt`) joined for
#: issue 14: the M3 series, many of them trending, were where the product's lead over
#: AutoETS was not significant. Measured on the product path (benchmarks/forecast_bench.py
#: windows; all of aus_retail's 3 origins, M3 1,428, tourism 366, PBS 336; relative MASE, the
#: M3 difference to AutoETS with its bootstrap CI, 80% coverage), from 1 / MASE weights over
#: ets, theta, sarima (0.810 / 0.744, -0.009 [-0.020, +0.002] / 0.861 / 0.979; coverage 0.811 /
#: 0.764 / 0.883 / 0.794): holt as a fourth member, weights 1 / MASE 0.816 / 0.732, -0.022
#: [-0.033, -0.010] / 0.860 / 0.982, weights 1 / MASE^2 (:data:`WEIGHT_POWER`) 0.816 / 0.730,
#: -0.023 [-0.034, -0.011] / 0.855 / 0.978, coverage 0.802 / 0.778 / 0.879 / 0.794; the
#: damped trend (ETS "Ad" alone) as the fourth member instead 0.819 / 0.742, -0.011 [-0.021,
#: +0.001] / 0.859 / 0.981; ETS choosing among N / Ad / A by AICc as the fourth 0.816 / 0.739 /
#: 0.866 / 0.982, in place of the ETS member 0.810 / 0.738 / 0.878 / 0.981; holt in place of
#: the ETS member 0.816 / 0.733 / 0.875 / 0.981. The undamped trend on its own runs surges
#: forward (:data:`models.ETS_TRENDS`); among four members, weighted by their backtest, it
#: costs aus_retail 0.006 and gains M3 0.013 and tourism 0.005.
COMBO = ("ets", "theta", "sarima", "holt")
OUT_COLUMNS = ["unique_id", "ds", "model", "mean", "lo_80", "hi_80", "lo_95", "hi_95"]
#: SARIMA takes the festival as a regressor (SARIMAX); False = the forecast correction as ETS.
SARIMA_EXOG = True
#: Whether the festival regressor includes the quiet post-festival fortnight. Off: on the
#: default sample it made March forecasts worse (see benchmarks/forecast_bench.py).
FESTIVAL_POST = False
#: The festival regressor as the fraction of the month's days in the window (True) rather than
#: the share of the window in the month (see ``festival.festival_regressor``).
FESTIVAL_PER_DAY = True
#: Whether the intervals of the festival months include the festival effect's estimation error.
FESTIVAL_SPREAD = True
#: Below this many months only naive/mean forecasts are made.
MIN_OBS = 6
#: Share of zero months (in the last 12) from which a series counts as intermittent.
INTERMITTENT = 0.3
#: Method of the intermittent series (:mod:`.intermittent`). Measured on the 48 intermittent
#: series of PBS (benchmarks/forecast_bench.py): Croston and SBA keep forecasting the old
#: demand of items that have died out (MAE 30x the 12-month mean's), TSB's demand probability
#: decays (MAE 1.07x the mean's, the same MASE) and is the method made for such series.
INTERMITTENT_METHOD = "tsb"
#: How the model of a regular series is chosen from the backtest (:func:`decide`). Measured on
#: aus_retail (3 origins), M3, tourism and PBS monthly (benchmarks/forecast_bench.py prints
#: the table, from the product's own evidence; relative MASE): choosing the model of lowest
#: backtest MASE ("pick") lost to the equal-weight combination on three sets of four
#: (aus_retail 0.868 against 0.810); switching away from the combination only when another
#: model beats it by 30% ("margin") won on tourism and PBS and lost on aus_retail and M3;
#: weighting the members by inverse backtest MASE ("inverse") was within 0.001 of the equal
#: combination on aus_retail and M3 and better on tourism (0.852 against 0.872) and PBS (0.885
#: against 0.922); on aus_retail and M1 with 4 and 8 origins of 3 months the same held.
#: "combo" is the equal-weight combination. Other weightings of the same members, from the
#: same evidence (rel MASE aus_retail mean / M3 / tourism / PBS; the product 0.810 / 0.736 /
#: 0.852 / 0.979): weights 1 / MASE^2 0.810 / 0.736 / 0.844 / 0.976, 1 / MASE^3 0.812 / 0.736 /
#: 0.840 / 0.975, the seasonal naive as a fourth member 0.801 / 0.744 / 0.834 / 0.973, the best
#: two of three 0.820 / 0.738 / 0.840 / 0.979, the median of the three 0.815 / 0.742 / 0.849 /
#: 0.980: none moves M3 (the set where the CI of the difference to AutoETS still reaches above
#: 0) and the gains elsewhere are within the CIs, so the weights stayed 1 / MASE over three
#: members. With the trend member (:data:`COMBO`) 1 / MASE^2 is at least as good as 1 / MASE
#: on every set but aus_retail (equal there; see :data:`COMBO`) and is the weighting:
#: :data:`WEIGHT_POWER`.
POLICY = "inverse"
#: Power of the backtest MASE in the combination's weights (weights proportional to
#: 1 / MASE^WEIGHT_POWER; 2 is the inverse of the squared error scale, as Bates & Granger's
#: inverse-MSE weights).
WEIGHT_POWER = 2.0
#: Relative margin of the "margin" policy: switch when another model's backtest MASE is below
#: (1 - MARGIN) x the combination's.
MARGIN = 0.3
#: Backtest points below which no backtest choice is made (the combination is kept).
MIN_POINTS = 6
#: Reason codes of a model choice (:func:`decide`; the report phrases them).
REASONS = ("weighted", "combo_best", "combo_default", "backtest_margin", "backtest_best",
           "no_backtest", "forced", "zero", "short", "intermittent")


def fallback_reason(y) -> str | None:
    """Why a series cannot get the model forecasts: 'zero', 'short', 'intermittent' or None."""
    y = np.asarray(y, float)
    if len(y) == 0 or not np.any(y):
        return "zero"
    if len(y) < MIN_OBS:
        return "short"
    if np.mean(y[-12:] == 0) > INTERMITTENT:
        return "intermittent"
    return None


def forecast_one(y, h: int, *, start, model: str = "combo", festival: bool = True,
                 m: int = 12, warm: dict | None = None) -> M.Forecast:
    """Forecast one series with ``model``, the festival regressor and the fallbacks.

    Fallbacks (stated in ``Forecast.note``): an all-zero series gets zeros; fewer than
    :data:`MIN_OBS` months the naive forecast (the mean below 3 months); an intermittent series
    the mean of the last 12 months; seasonal forms need 24 months (the models drop seasonality
    below that) and the seasonal naive 12 (naive below).
    """
    return forecast_many(y, h, start=start, models=(model,), festival=festival, m=m,
                         warm=warm)[model]


def forecast_many(y, h: int, *, start, models: Iterable[str] = CANDIDATES,
                  festival: bool = True, m: int = 12,
                  warm: dict | None = None) -> dict[str, M.Forecast]:
    """Forecasts of several models for one series, each base model fitted once.

    ``combo`` is the equal-weight combination (:func:`models.combine`) of :data:`COMBO`.
    See :func:`forecast_one` for the fallbacks (then every model gets the fallback forecast).
    ``warm``: a dict shared by the fits of one series (warm starts, see :func:`models.ets`).
    """
    y = np.asarray(y, float)
    models = tuple(models)
    start = pd.Period(start, freq="M")
    why = fallback_reason(y)
    if why is not None:
        if why == "zero":
            fc = M.zeros(y, h)
            fc.note = "全零序列"
        elif why == "short":
            fc = M.naive(y, h) if len(y) >= 3 else M.mean_model(y, h)
            fc.note = "序列过短"
            fc.clip()
        else:
            mean, lo, hi = intermittent(y, h, method=INTERMITTENT_METHOD, levels=M.LEVELS)
            fc = M.Forecast(mean, lo, hi, model=INTERMITTENT_METHOD, note="间歇性需求")
        return {name: fc for name in models}
    effect = {"used": False, "beta": 0.0}
    x_all = None
    if festival and any(name != "snaive" for name in models):
        x_all = fest.regressor_matrix(start, len(y) + h, post=FESTIVAL_POST,
                                      per_day=FESTIVAL_PER_DAY)
        effect = fest.estimate_effect(y, x_all[: len(y)], m=m)
    base = set(models) - {"combo"}
    if "combo" in models:
        base |= set(COMBO)
    corr, spread = _festival_terms(x_all, len(y), effect, m) if effect["used"] else (None, None)
    out: dict[str, M.Forecast] = {}
    for name in [b for b in CANDIDATES + ("naive", "mean") if b in base]:
        kw = {"warm": warm} if warm is not None and name in ("ets", "sarima", "holt") \
            else {}
        if name in ("snaive", "naive", "mean") or not effect["used"]:
            fc = M.MODELS[name](y, h, start=start, m=m, **kw)
        elif name == "sarima" and SARIMA_EXOG:
            xr = fest._combined(x_all)[:, None]
            fc = M.sarima(y, h, start=start, xreg=xr[: len(y)], xreg_future=xr[len(y):], m=m,
                          **kw)
        else:
            fc = M.MODELS[name](y, h, start=start, m=m, **kw).map(lambda a, f=corr: a * f)
            fc.note += "+春节"
        if FESTIVAL_SPREAD and effect["used"] and name not in ("snaive", "naive", "mean"):
            fc = fest.widen(fc, spread)
        out[name] = fc
    if "combo" in models:
        out["combo"] = M.combine([out[c] for c in COMBO])
        out["combo"].note = " + ".join(out[c].note for c in COMBO)
    return {name: out[name].clip() for name in models}


def _festival_terms(x_all: np.ndarray, n: int, effect: dict, m: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The festival's forecast correction and interval spread of the months after the ``n``
    training months (:func:`festival.forecast_correction`, :func:`festival.effect_spread`):
    the same for every model of a series, so computed once per forecast."""
    corr = fest.forecast_correction(x_all, n, effect["beta"], m=m)
    t = effect.get("t", np.nan)
    se = abs(effect["beta"] / t) if np.isfinite(t) and t != 0 else 0.0
    return corr, fest.effect_spread(x_all, n, se, m=m)


@lru_cache(maxsize=4096)
def _months(start: pd.Period, first: int, n: int) -> pd.DatetimeIndex:
    """Month starts of months ``first .. first + n - 1`` counted from ``start`` (cached: the
    same few windows come back for every series)."""
    return pd.period_range(start + first, periods=n, freq="M").to_timestamp()


@lru_cache(maxsize=4096)
def _month_start(start: pd.Period, k: int) -> pd.Timestamp:
    return (start + k).to_timestamp()


def backtest_one(y, *, start, origins: Sequence[int], h: int = 3,
                 models: Iterable[str] = CANDIDATES, festival: bool = True,
                 uid: str = "", warm: dict | None = None) -> pd.DataFrame:
    """Rolling-origin backtest of one series.

    ``origins`` are the numbers of months used for training (e.g. ``n-12, n-9, n-6, n-3``);
    each origin forecasts ``min(h, n - origin)`` months. Returns the forecast columns plus
    ``origin`` (Timestamp of the last training month), ``step``, ``y``, ``scale`` and ``note``.
    """
    return _bt_frame(_backtest_cols(y, start=start, origins=origins, h=h, models=models,
                                    festival=festival, warm=warm), uid)


def _bt_frame(cols: dict | None, uid: str) -> pd.DataFrame:
    """The frame of :func:`backtest_one` from the columns of :func:`_backtest_cols`."""
    return pd.DataFrame() if cols is None else pd.DataFrame({"unique_id": uid} | cols)


def _backtest_cols(y, *, start, origins: Sequence[int], h: int,
                   models: Iterable[str], festival: bool,
                   warm: dict | None) -> dict[str, np.ndarray] | None:
    """The columns of :func:`backtest_one` but ``unique_id`` as arrays (None: no rows)."""
    y = np.asarray(y, float)
    start = pd.Period(start, freq="M")
    cols: dict[str, list] = {c: [] for c in OUT_COLUMNS[1:] + ["origin", "step", "y", "scale",
                                                             "note"]}
    # one frame at the end: a DataFrame per origin and model cost more than the fits
    for n0 in origins:
        hh = min(h, len(y) - n0)
        if n0 < 3 or hh < 1:
            continue
        ds = _months(start, n0, hh)
        fcs = forecast_many(y[:n0], hh, start=start, models=models, festival=festival,
                            warm=warm)
        scale, origin = mase_scale(y[:n0]), _month_start(start, n0 - 1)
        for name, fc in fcs.items():
            for col, val in (("ds", ds), ("model", [name] * hh), ("mean", fc.mean),
                             ("lo_80", fc.lo[80]), ("hi_80", fc.hi[80]), ("lo_95", fc.lo[95]),
                             ("hi_95", fc.hi[95]), ("origin", [origin] * hh),
                             ("step", np.arange(1, hh + 1)), ("y", y[n0:n0 + hh]),
                             ("scale", np.full(hh, scale)), ("note", [fc.note] * hh)):
                cols[col].append(val)
    if not cols["ds"]:
        return None
    return {c: np.concatenate([np.asarray(v) for v in vals]) for c, vals in cols.items()}


def _pick(model: np.ndarray, ase: np.ndarray, default: str, min_points: int) -> str:
    """The model of lowest mean absolute scaled error ``ase`` (non-finite values left out, as
    :func:`metrics.accuracy` does), ties broken by the order of :data:`CANDIDATES`."""
    order = {m: i for i, m in enumerate(CANDIDATES)}
    stats = []
    for name in dict.fromkeys(model):
        a = ase[model == name]
        fin = a[np.isfinite(a)]
        if len(fin):
            stats.append((float(fin.mean()), order.get(name, 99), len(a), name))
    if not stats or max(s[2] for s in stats) < min_points:
        return default
    return min(stats, key=lambda s: s[:2])[3]


def choose(bt: pd.DataFrame, *, default: str = "combo", min_points: int = 6) -> pd.Series:
    """Model per series with the lowest backtest MASE (ties: the earlier of :data:`CANDIDATES`).

    Series with fewer than ``min_points`` scored forecasts, or no finite MASE, get ``default``.
    Returns a Series indexed by ``unique_id``.
    """
    if bt.empty:
        return pd.Series(dtype=object, name="model")
    ase = (np.abs(bt["mean"] - bt["y"]) / bt["scale"]).to_numpy(float)
    model = bt["model"].to_numpy(object)
    chosen = {uid: _pick(model[idx], ase[idx], default, min_points)
              for uid, idx in bt.groupby("unique_id", sort=True).indices.items()}
    return pd.Series(chosen, name="model")


#: The rolling-origin backtest of the product: ``BT_BLOCKS`` origins ``BT_STEP`` months apart
#: over the last ``BT_BLOCKS x BT_STEP`` months, each forecasting ``BT_STEP`` months (12 points
#: per candidate). Two origins of 6 months cost 3 fits per member instead of the 5 of four
#: origins of 3 months, which kept the product path no slower than AutoETS on short series.
BT_BLOCKS = 2
BT_STEP = 6


#: Per-series calibration of the combination's 80% interval (issue 14): a regular series of at
#: least ``CALIB_MIN_OBS`` months with the default backtest gets ``CALIB_EXTRA`` more rolling
#: origins (``BT_STEP`` months apart before the backtest's, the combination's members only; no
#: warm start), and its 80% bounds are scaled about the mean by the 80% quantile of
#: ``|y - mean| / half-width`` (the half-width on the side of y) over the combination's
#: forecasts of all ``(BT_BLOCKS + CALIB_EXTRA) x BT_STEP`` backtest months (24). The 95%
#: interval keeps the models' width (and always holds the 80% one). Measured in
#: :mod:`.calibrate` (docstring); shorter series (the sample city's, aus_retail's 60 months)
#: are not calibrated: the oldest origin keeps 48 months of history.
CALIB_EXTRA = 2
CALIB_MIN_OBS = 72
#: Fewest finite backtest ratios for a calibration factor.
CALIB_MIN_POINTS = 12


def default_origins(n: int, *, blocks: int = BT_BLOCKS, step: int = BT_STEP) -> list[int]:
    """Training lengths of the rolling-origin backtest: the last ``blocks x step`` months in
    ``blocks`` blocks of ``step`` (default ``n-12, n-6``), those of at least :data:`MIN_OBS`
    months."""
    return [n - k * step for k in range(blocks, 0, -1) if n - k * step >= MIN_OBS]


_EVIDENCE = ["model", "mase", "n", "origins"]


def evidence(bt: pd.DataFrame | dict | None) -> pd.DataFrame:
    """Backtest MASE of each candidate of one series: ``model, mase, n`` (forecasts scored),
    ``origins`` (number of rolling origins); the order of :data:`CANDIDATES`. ``bt``: the
    rows of :func:`backtest_one` (or their columns as arrays, None for no rows)."""
    return _evidence_frame(_evidence_cols(bt))


def _evidence_cols(bt: pd.DataFrame | dict | None) -> dict:
    """The columns of :func:`evidence` (``model`` a list, the others arrays): what
    :func:`decide` and :func:`combo_weights` read, without a frame per series."""
    if bt is None or (isinstance(bt, pd.DataFrame) and bt.empty):
        return {"model": [], "mase": np.zeros(0), "n": np.zeros(0, int),
                "origins": np.zeros(0, int)}
    # numpy rather than a pandas groupby: this runs once per series in the product path
    with np.errstate(divide="ignore", invalid="ignore"):
        ase = np.abs(np.asarray(bt["mean"], float) - np.asarray(bt["y"], float)) / \
            np.asarray(bt["scale"], float)
    ase[~np.isfinite(ase)] = np.nan
    model = np.asarray(bt["model"], object)
    origin = np.asarray(bt["origin"])
    order = {m: i for i, m in enumerate(CANDIDATES)}
    names = sorted(dict.fromkeys(model), key=lambda m: order.get(m, 99))
    mase, n, origins = [], [], []
    for name in names:
        sel_ = model == name
        a = ase[sel_]
        fin = a[np.isfinite(a)]
        mase.append(float(fin.mean()) if len(fin) else np.nan)
        n.append(int(len(fin)))
        origins.append(int(len(np.unique(origin[sel_]))))
    return {"model": names, "mase": np.array(mase, float), "n": np.array(n, np.int64),
            "origins": np.array(origins, np.int64)}


def _evidence_frame(ev: dict) -> pd.DataFrame:
    """The frame of :func:`evidence` from :func:`_evidence_cols` (and a ``weight`` column)."""
    return pd.DataFrame(ev) if len(ev["model"]) else pd.DataFrame(columns=_EVIDENCE)


def _mase_of(ev: pd.DataFrame | dict) -> dict[str, float]:
    return dict(zip(ev["model"], np.asarray(ev["mase"], float))) if len(ev["model"]) else {}


def decide(ev: pd.DataFrame | dict, *, policy: str | None = None, default: str = "combo",
           margin: float | None = None, min_points: int = MIN_POINTS) -> tuple[str, str]:
    """The model of a regular series from its backtest evidence (:func:`evidence`) and the
    reason code (:data:`REASONS`).

    ``policy`` (default :data:`POLICY`): "inverse" keeps the combination with its members
    weighted by inverse backtest MASE (:func:`combo_weights`, reason ``weighted``); "combo"
    keeps ``default`` (reason ``combo_best`` when
    it also had the lowest backtest MASE, else ``combo_default``); "margin" switches to the
    candidate of lowest backtest MASE when that is below ``(1 - margin) x`` the default's
    (``backtest_margin``); "pick" takes the lowest outright (``backtest_best``). With fewer than
    ``min_points`` scored forecasts: ``default``, reason ``no_backtest``.
    """
    policy = policy or POLICY
    if policy not in ("inverse", "combo", "margin", "pick"):
        raise ValueError(f"unknown model-choice policy {policy!r}; expected inverse, combo, "
                         "margin or pick")
    margin = MARGIN if margin is None else margin
    if len(ev["model"]) == 0 or int(np.max(ev["n"])) < min_points:
        return default, "no_backtest"
    mase = {k: v for k, v in _mase_of(ev).items() if np.isfinite(v)}
    if default not in mase:
        return default, "no_backtest"
    best = min(mase, key=lambda k: mase[k])  # ties: the first of CANDIDATES (evidence order)
    base = mase[default]
    if policy == "inverse" and default == "combo" and combo_weights(ev) is not None:
        return default, "weighted"
    if policy == "pick" and best != default:
        return best, "backtest_best"
    if policy == "margin" and best != default and mase[best] < (1 - margin) * base:
        return best, "backtest_margin"
    return default, "combo_best" if best == default else "combo_default"


def combo_weights(ev: pd.DataFrame | dict) -> np.ndarray | None:
    """Weights of the combination's members (:data:`COMBO` order) proportional to 1 / backtest
    MASE to the power :data:`WEIGHT_POWER`, or None when a member has no finite positive
    backtest MASE."""
    mase = _mase_of(ev)
    m = np.array([mase.get(c, np.nan) for c in COMBO], float)
    if not np.all(np.isfinite(m)):
        return None
    w = 1 / np.maximum(m, 1e-6) ** WEIGHT_POWER
    return w / w.sum()


def fit_one(y, h: int, *, start, origins: Sequence[int] | None = None, bt_h: int = BT_STEP,
            models: Iterable[str] = CANDIDATES, festival: bool = True,
            model: str | None = None, policy: str | None = None, uid: str = "",
            warm: bool = True) -> dict:
    """Backtest, choose and forecast one series: the forecast path of the product.

    ``origins``: backtest training lengths (default :func:`default_origins`; empty = no
    backtest), each forecasting ``bt_h`` months (default :data:`BT_STEP`), for every model of ``models``; the choice
    follows :func:`decide` (``model`` forces one). Fallback series (:func:`fallback_reason`:
    all zero, short, intermittent) get their fallback, reason = the fallback's code.
    Returns ``forecast`` (:class:`models.Forecast` of the chosen model), ``model`` (its code;
    the fallback's for a fallback series), ``reason``, ``backtest`` (rows of
    :func:`backtest_one`), ``evidence`` (:func:`evidence`) and ``members`` (the final forecast
    of every model of ``models``, for comparisons).
    """
    res = _fit_one(y, h, start=start, origins=origins, bt_h=bt_h, models=models,
                   festival=festival, model=model, policy=policy, uid=uid, warm=warm)
    res["backtest"] = _bt_frame(res["backtest"], uid)
    res["evidence"] = _evidence_frame(res["evidence"])
    return res


def _fit_one(y, h: int, *, start, origins: Sequence[int] | None, bt_h: int,
             models: Iterable[str], festival: bool, model: str | None, policy: str | None,
             uid: str, warm: bool) -> dict:
    """:func:`fit_one` with ``backtest`` as the columns of :func:`_backtest_cols` (or None)
    and ``evidence`` as those of :func:`_evidence_cols`."""
    y = np.asarray(y, float)
    models = tuple(models)
    start = pd.Period(start, freq="M")
    auto_origins = origins is None
    origins = default_origins(len(y)) if origins is None else list(origins)
    # one warm-start store per series: each fit starts from the parameters of the previous,
    # shorter-window fit; the fits run in the order of their training windows (origins, then
    # the final fit), so no fit starts from parameters that saw its own hold-out
    store = {} if warm else None
    why = fallback_reason(y)
    bt = _backtest_cols(y, start=start, origins=origins, h=bt_h, models=models,
                        festival=festival, warm=store)
    ev = _evidence_cols(bt)
    default = "combo" if "combo" in models else models[-1]
    if why is not None:
        reason = why
    elif model is not None:
        reason = "forced"
    else:
        model, reason = decide(ev, policy=policy, default=default)
    model = model or default
    fcs = forecast_many(y, h, start=start, models=tuple(dict.fromkeys(models + (model,))),
                        festival=festival, warm=store)
    fc = fcs[model]
    weights = None
    if reason == "weighted":
        weights = combo_weights(ev)
        members = [fcs[c] if c in fcs else forecast_many(y, h, start=start, models=(c,),
                                                          festival=festival, warm=store)[c]
                   for c in COMBO]
        fc = M.combine(members, weights=weights).clip()
        fc.note = " + ".join(f"{w:.2f} {f.note}" for w, f in zip(weights, members))
    if why is not None:  # a fallback forecast is labelled with the fallback's name
        model = fc.model
    scale80 = None
    if reason == "weighted" and auto_origins and CALIB_EXTRA and len(y) >= CALIB_MIN_OBS:
        extra = [o for o in default_origins(len(y), blocks=BT_BLOCKS + CALIB_EXTRA)
                 if o not in origins]
        xb = backtest_one(y, start=start, origins=extra, h=bt_h, models=("combo",),
                          festival=festival, uid=uid)
        btf = _bt_frame(bt, uid)
        scale80 = interval_factor(pd.concat([xb, btf[btf["model"] == "combo"]]), 80)
        if scale80 is not None:
            fc = scale_interval(fc, 80, scale80)
    if weights is not None:
        by_member = dict(zip(COMBO, weights))
        ev["weight"] = np.array([by_member.get(m, np.nan) for m in ev["model"]], float)
    return {"forecast": fc, "model": model, "reason": reason, "backtest": bt, "evidence": ev,
            "members": fcs, "scale_80": scale80}


def interval_factor(bt: pd.DataFrame, level: int = 80) -> float | None:
    """The ``level``% quantile (linear interpolation) of ``|y - mean| / half-width`` over the
    backtest rows ``bt`` (the half-width from the mean to the bound on the side of y): the
    factor that gives the interval its backtest coverage. None with fewer than
    :data:`CALIB_MIN_POINTS` finite ratios."""
    if bt.empty:
        return None
    y, m = bt["y"].to_numpy(float), bt["mean"].to_numpy(float)
    half = np.where(y >= m, bt[f"hi_{level}"].to_numpy(float) - m,
                    m - bt[f"lo_{level}"].to_numpy(float))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.abs(y - m) / np.where(half > 0, half, np.nan)
    r = r[np.isfinite(r)]
    return float(np.quantile(r, level / 100)) if len(r) >= CALIB_MIN_POINTS else None


def scale_interval(fc: M.Forecast, level: int, k: float) -> M.Forecast:
    """``fc`` with its ``level``% bounds ``k`` times as far from the mean (lower bounds >= 0) and
    every wider interval widened to hold it."""
    out = M.Forecast(fc.mean, dict(fc.lo), dict(fc.hi), fc.model, fc.note)
    out.lo[level] = np.maximum(fc.mean - k * (fc.mean - fc.lo[level]), 0.0)
    out.hi[level] = fc.mean + k * (fc.hi[level] - fc.mean)
    for lv in out.lo:
        if lv > level:
            out.lo[lv] = np.minimum(out.lo[lv], out.lo[level])
            out.hi[lv] = np.maximum(out.hi[lv], out.hi[level])
    return out


def run_series(task: dict) -> dict:
    """The unit of work of the parallel runner: :func:`fit_one` of one series.

    ``task``: ``unique_id``, ``y`` (array), ``start`` (Period), ``h``, ``origins`` (training
    lengths for the backtest; missing = :func:`default_origins`, empty = none), ``bt_h``,
    ``models`` (candidates), ``festival`` (bool), ``model`` (forced model, or None to choose),
    ``policy``, ``last_month`` (bool: also the 1-step forecast of the last month from the
    month before), ``warm`` (bool, default True). Returns ``forecast`` (frame: the columns of
    :data:`OUT_COLUMNS` plus ``reason`` and ``note``), ``backtest``, ``evidence``, the chosen
    ``model``, ``reason`` and the ``last_month`` frame.
    """
    res = _run(task)
    uid = res["unique_id"]
    f = pd.DataFrame({"unique_id": uid} | res["forecast"])
    return {"forecast": f, "backtest": _bt_frame(res["backtest"], uid),
            "evidence": _evidence_frame(res["evidence"]).assign(unique_id=uid),
            "model": res["model"], "reason": res["reason"],
            "last_month": _bt_frame(res["last_month"], uid)}


def _run(task: dict) -> dict:
    """:func:`run_series` with the frames as column arrays (``forecast``, and ``backtest`` and
    ``last_month`` as :func:`_backtest_cols`: None for no rows), plus ``unique_id``; the
    frames are built by :func:`run_series` or, for many series at once, :func:`stack_results`
    (a few thousand small frames cost a month's forecasts seconds, and more to send back from
    the worker processes)."""
    y, start, h = np.asarray(task["y"], float), pd.Period(task["start"], "M"), task["h"]
    uid = task["unique_id"]
    fest_on = task.get("festival", True)
    res = _fit_one(y, h, start=start, origins=task.get("origins"),
                   bt_h=task.get("bt_h", BT_STEP),
                   models=tuple(task.get("models", CANDIDATES)), festival=fest_on,
                   model=task.get("model"), policy=task.get("policy"), uid=uid,
                   warm=task.get("warm", True))
    fc = res["forecast"]
    last = None
    if task.get("last_month") and len(y) >= 4:  # the forecast made a month ago for last month
        mdl = res["model"] if res["model"] in M.MODELS or res["model"] == "combo" else "combo"
        last = _backtest_cols(y, start=start, origins=[len(y) - 1], h=1, models=(mdl,),
                              festival=fest_on, warm=None)
    f = {"ds": np.asarray(_months(start, len(y), h)),
         "model": np.array([res["model"]] * h, dtype=object), "mean": fc.mean,
         "lo_80": fc.lo[80], "hi_80": fc.hi[80], "lo_95": fc.lo[95], "hi_95": fc.hi[95],
         "reason": np.array([res["reason"]] * h, dtype=object),
         "note": np.array([fc.note] * h, dtype=object)}
    return {"unique_id": uid, "forecast": f, "backtest": res["backtest"],
            "evidence": res["evidence"], "model": res["model"], "reason": res["reason"],
            "last_month": last}


def _run_compact(task: dict) -> dict:
    """:func:`_run` without ``evidence`` (not needed by :func:`stack_results`' callers)."""
    res = _run(task)
    del res["evidence"]
    return res


def stack_results(results: list[dict], key: str) -> pd.DataFrame:
    """One frame of the ``key`` parts (``forecast``, ``backtest``, ``last_month``) of the
    results of :func:`forecast_frame` with ``compact=True``: the same rows, columns and dtypes
    as ``pd.concat`` of :func:`run_series`' frames (empty frame when no result has rows)."""
    parts = [(r["unique_id"], r[key]) for r in results if r[key] is not None]
    if not parts:
        return pd.DataFrame()
    lens = [len(cols["ds"]) for _, cols in parts]
    uid = np.repeat(np.array([u for u, _ in parts], dtype=object), lens)
    return pd.DataFrame({"unique_id": uid} | {c: np.concatenate([cols[c] for _, cols in parts])
                                              for c in parts[0][1]})


def _init_worker() -> None:
    """One BLAS/OpenMP thread per worker: many small fits on few cores run far faster so."""
    import warnings

    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    warnings.simplefilter("ignore")


def forecast_frame(tasks: list[dict], *, n_jobs: int | None = None,
                   compact: bool = False) -> list[dict]:
    """Run :func:`run_series` over ``tasks`` in ``n_jobs`` processes.

    Default: ``$KEHU_FORECAST_JOBS`` or min(2, cores); one thread of BLAS per process. Results
    come back in the order of ``tasks``. ``n_jobs=1`` (or a daemon caller) runs in this process.
    ``compact``: the results of :func:`_run_compact` (column arrays, no ``evidence``; make
    frames with :func:`stack_results`).
    """
    work = _run_compact if compact else run_series
    import multiprocessing

    n_jobs = n_jobs or int(os.environ.get("KEHU_FORECAST_JOBS", 0)) or min(2, os.cpu_count() or 1)
    if multiprocessing.current_process().daemon:  # a daemon (e.g. a pool worker) cannot fork
        n_jobs = 1
    if n_jobs == 1 or len(tasks) < 4:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            return [work(t) for t in tasks]
    # small chunks: the series differ in cost (candidates x origins vs one cheap SKU fit), and
    # with few large chunks one worker idles while the other finishes the last one
    chunk = max(1, len(tasks) // (n_jobs * 16))
    with ProcessPoolExecutor(n_jobs, initializer=_init_worker) as ex:
        return list(ex.map(work, tasks, chunksize=chunk))
