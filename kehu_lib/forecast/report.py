"""Report helpers for the sales-forecast notebook: tables in 箱, backtest summaries, fan chart.

All functions take the cached frames (:func:`load_month_forecasts`, :func:`load_backtest`,
:func:`load_series`) and return tidy frames (snake_case columns and model codes; their Chinese
headers and model names are in the glossary, :mod:`kehu_lib.present`) or a matplotlib figure.
Volumes are converted from 条 to 箱 (÷ 250).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import config
from .metrics import accuracy

__all__ = ["forecast_table", "backtest_table", "reconciliation_check", "last_month_check",
           "fan_chart", "fallback_notes", "model_choice"]

VALUE_COLS = ("mean", "lo_80", "hi_80", "lo_95", "hi_95")

def forecast_table(fc: pd.DataFrame, *, level: str = "总量",
                   months: int | None = None) -> pd.DataFrame:
    """Forecasts of one level (总量 / 价类 / 品牌 / 规格) in 箱.

    Returns ``member, month ('YYYY-MM'), mean, lo_80, hi_80, lo_95, hi_95`` (箱), ``model``;
    price classes in their order (一类 first), 其他品牌 after the key brands.
    ``months`` keeps only the first n forecast months.
    """
    d = fc[fc["level"] == level].copy()
    if months is not None:
        keep = sorted(d["ds"].unique())[:months]
        d = d[d["ds"].isin(keep)]
    for c in VALUE_COLS:
        d[c] = d[c] / config.CARTONS_PER_CASE
    d["month"] = d["ds"].dt.strftime("%Y-%m")
    order = {c: i for i, c in enumerate(config.PRICE_CLASSES)} | {"其他品牌": 99}
    d["_o"] = d["member"].map(order).fillna(50)
    return d.sort_values(["_o", "member", "month"], ignore_index=True)[
        ["member", "month", *VALUE_COLS, "model"]]


def backtest_table(bt: pd.DataFrame, *, models=("chosen", "reconciled", "snaive")) -> pd.DataFrame:
    """Backtest accuracy per level and model over the last 12 months' rolling origins.

    Returns ``level, model, n, mase, smape, bias, coverage_80, coverage_95`` (see
    :func:`metrics.accuracy`) and ``mase_jan_feb`` (MASE of the January/February targets only).
    """
    d = bt[bt["model"].isin(models) & (bt["level"] != "明细")]
    acc = accuracy(d, by=["level", "model"])
    jf = accuracy(d[d["ds"].dt.month.isin([1, 2])], by=["level", "model"])
    acc = acc.merge(jf[["level", "model", "mase"]].rename(columns={"mase": "mase_jan_feb"}),
                    on=["level", "model"], how="left")
    acc["model"] = pd.Categorical(acc["model"], categories=list(models), ordered=True)
    acc = acc.sort_values(["level", "model"], ignore_index=True)
    acc["model"] = acc["model"].astype(str)
    return acc


def reconciliation_check(bt: pd.DataFrame) -> pd.DataFrame:
    """Backtest MASE per level before and after reconciliation (``level, mase_base,
    mase_reconciled``), over the origins where every series was forecast."""
    rec = bt[bt["model"] == "reconciled"]
    keys = rec[["unique_id", "origin", "ds"]]
    base = bt[bt["model"] == "chosen"].merge(keys, on=["unique_id", "origin", "ds"])
    a = accuracy(base, by="level")[["level", "mase"]].rename(columns={"mase": "mase_base"})
    b = accuracy(rec, by="level")[["level", "mase"]].rename(columns={"mase": "mase_reconciled"})
    return a.merge(b, on="level")


def last_month_check(bt: pd.DataFrame, *, levels=("总量", "价类")) -> pd.DataFrame:
    """Last month's 1-step forecast (made a month ago) against what happened, in 箱.

    Returns ``level, member, forecast, actual, error`` (error = (forecast - actual) / actual).
    """
    d = bt[(bt["model"] == "last_month") & bt["level"].isin(levels)].copy()
    d["forecast"] = d["mean"] / config.CARTONS_PER_CASE
    d["actual"] = d["y"] / config.CARTONS_PER_CASE
    d["error"] = (d["mean"] - d["y"]) / d["y"].where(d["y"] > 0)
    return d[["level", "member", "forecast", "actual", "error"]].reset_index(drop=True)


def fan_chart(series: pd.DataFrame, fc: pd.DataFrame, *, unique_id: str, history: int = 24,
              title: str | None = None):
    """History and forecast of one series with the 80% and 95% intervals shaded (箱)."""
    import matplotlib.pyplot as plt

    s = series[series["unique_id"] == unique_id].tail(history)
    f = fc[fc["unique_id"] == unique_id].sort_values("ds")
    k = config.CARTONS_PER_CASE
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot(s["ds"], s["y"] / k, marker="o", ms=3, label="实际销量")
    ax.fill_between(f["ds"], f["lo_95"] / k, f["hi_95"] / k, alpha=0.18, color="C1",
                    label="95%预测区间")
    ax.fill_between(f["ds"], f["lo_80"] / k, f["hi_80"] / k, alpha=0.35, color="C1",
                    label="80%预测区间")
    ax.plot(f["ds"], f["mean"] / k, marker="o", ms=3, color="C1", label="预测值")
    ax.set_ylabel("销量(箱)")
    ax.set_xlabel("月份")
    ax.set_title(title or unique_id.replace("|", " "))
    ax.legend(loc="upper left", fontsize=8, ncol=2)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def fallback_notes(fc: pd.DataFrame) -> list[str]:
    """Chinese sentences naming the series with a fallback forecast (short/zero/intermittent)."""
    notes = []
    d = fc.drop_duplicates("unique_id")
    for note, zh in (("序列过短", "历史不足6个月，采用朴素预测(上月值)"),
                     ("间歇性需求", "近12个月多月无销量，采用间歇性需求方法(TSB)预测"),
                     ("全零序列", "无销量，预测为0")):
        names = d.loc[d["note"] == note, "member"].astype(str).tolist()
        if names:
            notes.append(f"{'、'.join(names[:8])}{'等' if len(names) > 8 else ''}{zh}。")
    short = d.loc[d["note"].str.contains(r"ETS\(A(?:N|Ad)N\)", na=False), "member"]
    if len(short):
        notes.append(f"{'、'.join(short.astype(str).tolist()[:8])}历史不足24个月，未用季节模型。")
    return notes


def model_choice(fc: pd.DataFrame, bt: pd.DataFrame, *,
                 levels=("总量", "价类")) -> pd.DataFrame:
    """Which model each headline series used and why, with the backtest evidence.

    ``fc``: the month's forecasts (:func:`load_month_forecasts`), ``bt``: its backtest
    (:func:`load_backtest`), same district. One row per series of ``levels``: ``unique_id,
    district, level, member``, ``model`` (code of the model used: combo, ets, theta, sarima,
    holt, snaive, or a fallback: tsb, naive, mean, zero), ``reason`` (code,
    :data:`kehu_lib.forecast.select.REASONS`), ``mase_<candidate>`` (backtest MASE of each
    candidate, the combination included), ``best`` (the candidate of lowest backtest MASE),
    ``weight_<member>`` (the weights of the members of :data:`select.COMBO`, 1 / backtest
    MASE^2; they apply when ``reason`` is ``weighted``),
    ``origins`` (rolling origins) and ``n`` (forecasts scored per candidate). Codes and numbers;
    labels belong to the presentation layer.
    """
    from .select import CANDIDATES, COMBO, combo_weights, evidence

    f = fc[fc["level"].isin(levels)].drop_duplicates("unique_id")
    cols = ["unique_id", "district", "level", "member", "model", "reason"]
    f = f[[c for c in cols if c in f.columns]].copy()
    if "reason" not in f.columns:  # a cache written before the reason codes
        f["reason"] = pd.NA
    cand = bt[bt["model"].isin(CANDIDATES) & bt["unique_id"].isin(f["unique_id"])]
    rows = []
    for uid, g in cand.groupby("unique_id", sort=False):
        ev = evidence(g)
        row = {"unique_id": uid} | {f"mase_{m}": float(v)
                                    for m, v in zip(ev["model"], ev["mase"])}
        fin = ev[np.isfinite(ev["mase"].astype(float))]
        row["best"] = fin.loc[fin["mase"].astype(float).idxmin(), "model"] if len(fin) else None
        w = combo_weights(ev)
        for m, wm in zip(COMBO, w if w is not None else [np.nan] * len(COMBO)):
            row[f"weight_{m}"] = float(wm)
        row["origins"] = int(ev["origins"].max()) if len(ev) else 0
        row["n"] = int(ev["n"].max()) if len(ev) else 0
        rows.append(row)
    ev_cols = [f"mase_{m}" for m in CANDIDATES] + ["best"] + [f"weight_{m}" for m in COMBO] \
        + ["origins", "n"]
    e = pd.DataFrame(rows, columns=["unique_id"] + ev_cols)
    out = f.merge(e, on="unique_id", how="left")
    for m in COMBO:  # weights only where the forecast used them
        out.loc[out["reason"] != "weighted", f"weight_{m}"] = np.nan
    order = {c: i for i, c in enumerate(levels)}
    cls = {c: i for i, c in enumerate(config.PRICE_CLASSES)}
    out["_l"] = out["level"].map(order)
    out["_m"] = out["member"].map(cls).fillna(50)
    return out.sort_values(["_l", "_m", "member"], ignore_index=True).drop(columns=["_l", "_m"])
