"""Series from the store, the month's forecasts for all districts (cached), and the demand plan.

What is forecast: the monthly **sales volume** = ``qty_supplied`` (供货量, 条): what the company
delivered and the shops sold on. ``qty_ordered`` (订购量) is the demand, which exceeds supply for
rationed items; it is kept beside the sales for the demand plan (订单满足率 = supplied / ordered).

Series ids (``unique_id``) are ``"<district>|<level>|<member>"`` with level 总量 (member 合计),
价类 (member 一类..五类) and 品牌 (a key brand or 其他品牌); ``<district>`` is 全市 for the city.
Districts add up to the city; classes, and key brands plus 其他品牌, add up to the district
(:func:`reconcile.middle_out`: each district's total is the mean of its own forecast and the
sums of its class and brand forecasts; classes are scaled to it, key brands keep their forecasts
and 其他品牌 takes the difference; the city is the sum of the districts). In the sample city's
backtest this lowered MASE at every level, while MinT (which needs the class x brand cells as
bottom series, small and noisy) was ~10% worse at every aggregate level.

The cache of a month lives in ``<store>/derived/forecasts/month=YYYY-MM/`` (written atomically):
``forecasts.parquet`` (reconciled forecasts of every series and the SKU plan), ``backtest.parquet``
(rolling-origin backtest, every candidate model plus the chosen and reconciled forecasts) and
``series.parquet`` (the history that was forecast).

Cost: per series 2 backtest origins x (ETS forms, Theta, SARIMA) + last month + final fit, plus
one Theta per SKU, all in one process pool (one BLAS thread per worker). The linear models are
fitted by ``lfilter`` recursions (:mod:`.fast`: ETS, the airline SARIMA(X) and Theta, checked
against statsmodels in the tests), the festival regressor's month shares are cached and its
effect is an OLS in closed form, each series' ETS/SARIMA fits warm-start from the previous
window's parameters and the backtest frames are built once per series. On the default sample
(``data/store``, 2026-10: 128 series + 336 SKUs, 2 cores shared with other work) a month took
~53 s with statsmodels' ETSModel/SARIMAX and takes ~12 s now, with the same forecasts to ~1%
(median; the small test store's total backtest MASE 0.676 -> 0.672). Issue 16 cut the step's
CPU by more than half (city sample, 2026-10, same-run A/B: ~27 -> ~12 CPU s incl. the
workers) with the cache unchanged to the bit: the SKU tasks fit only the SKU model, the
optimiser's inner loop calls the C filter and LAPACK without their Python wrappers, the workers
send back arrays that make one frame of each kind here, and the step imports no scipy package
(:mod:`.fast`; tests/test_forecast_exact.py pins each shortcut to the straightforward code).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from .. import config
from ..loaders import available_months, latest_month, load_products
from ..digest import update_with_files
from ..store import atomic_dir_write
from . import select as sel
from .calibrate import calibrate_intervals, interval_scale  # noqa: F401 (re-exported)
from .reconcile import middle_out

__all__ = ["monthly_volume", "build_series", "build_month_forecasts", "load_month_forecasts",
           "load_backtest", "load_series", "cache_dir", "horizon_for", "OTHER_BRANDS",
           "interval_scale", "calibrate_intervals", "ALL"]

OTHER_BRANDS = "其他品牌"
TOTAL = "合计"
#: Model of the SKU forecasts (no per-series choice: too many small series).
CHEAP_MODEL = "theta"


def cache_dir(month: str, store=None) -> Path:
    """Folder of the month's forecast cache."""
    root = Path(store).resolve() if store is not None else config.store_dir()
    return root / "derived" / "forecasts" / f"month={pd.Period(month, 'M')}"


def horizon_for(month: str) -> int:
    """Months to forecast after ``month``: at least 3, and through December."""
    return max(3, 12 - pd.Period(month, "M").month)


def monthly_volume(month: str, *, store=None,
                   sums: tuple[str, ...] = ("qty_ordered", "qty_supplied")) -> pd.DataFrame:
    """Monthly ordered and supplied volume (条) per district and SKU up to ``month``.

    Returns ``month`` (Period string), ``district``, ``sku``, ``qty_ordered``, ``qty_supplied``,
    ``price_class``, ``brand``, ``key_brand``, ``brand_group`` (the brand if key, else 其他品牌).
    ``sums``: the volumes summed (the others are absent; the forecasts read only
    ``qty_supplied``, and a column less to read from every order file is a fifth of the sum's
    CPU).
    """
    end = str(pd.Period(month, "M"))
    from ..aggregates import district_sku_month

    # summed by DuckDB in the store (the order lines never reach pandas, and the worker
    # processes forked later do not inherit them)
    months = [m for m in available_months(store=store) if m <= end]
    if not months:
        raise ValueError(f"no order data up to {end} in the store")
    g = district_sku_month(None, (months[0], end), store=store, sums=sums)  # not the amounts
    prod = load_products(store=store, columns=["sku", "brand", "name", "price_class", "key_brand"])
    g = g.merge(prod, on="sku", how="left", validate="many_to_one")
    g["district"] = g["district_code"].map({d.code: d.name for d in config.DISTRICTS})
    g["brand_group"] = np.where(g["key_brand"].fillna(False).astype(bool), g["brand"], OTHER_BRANDS)
    return g.drop(columns="district_code")


def _dense(df: pd.DataFrame, key: str, months: pd.PeriodIndex) -> pd.DataFrame:
    """One row per series and month from the series' first non-zero month on (zeros filled)."""
    wide = df.pivot_table(index=key, columns="month", values="y", aggfunc="sum", fill_value=0.0)
    wide = wide.reindex(columns=[str(m) for m in months], fill_value=0.0)
    # one frame of the rows of every series from its first month on (a frame per series and
    # their concatenation cost ~0.6 s on the city's 464 series)
    vals = wide.to_numpy(float)
    pos = vals > 0
    first = np.where(pos.any(axis=1), pos.argmax(axis=1), vals.shape[1] - 1)
    keep = np.arange(vals.shape[1])[None, :] >= first[:, None]
    ds = np.asarray(months.to_timestamp())
    return pd.DataFrame({"unique_id": np.repeat(np.asarray(wide.index, dtype=object),
                                                vals.shape[1] - first),
                         "ds": np.broadcast_to(ds, vals.shape)[keep], "y": vals[keep]})


def build_series(month: str, *, store=None, volume: pd.DataFrame | None = None):
    """Series of the month's hierarchy: every district and the city, total, classes, brands.

    Returns ``(series, meta)``: ``series`` long (``unique_id, ds, y``; y = qty_supplied in 条)
    and ``meta`` (``unique_id, district, level, member``).
    """
    v = volume if volume is not None else monthly_volume(month, store=store)
    months = pd.period_range(v["month"].min(), pd.Period(month, "M"), freq="M")
    v = v.assign(y=v["qty_supplied"])
    v = pd.concat([v, v.assign(district=config.CITY)], ignore_index=True)
    frames = []
    for level, col in (("总量", None), ("价类", "price_class"), ("品牌", "brand_group")):
        member = v[col] if col else pd.Series(TOTAL, index=v.index)
        frames.append(pd.DataFrame({"key": v["district"] + "|" + level + "|" + member,
                                    "month": v["month"], "y": v["y"], "district": v["district"],
                                    "level": level, "member": member}))
    long = pd.concat(frames, ignore_index=True)
    meta = (long.drop_duplicates("key")[["key", "district", "level", "member"]]
            .rename(columns={"key": "unique_id"}).sort_values("unique_id", ignore_index=True))
    return _dense(long[["key", "month", "y"]], "key", months), meta


def _tasks(series: pd.DataFrame, meta: pd.DataFrame, h: int, n_all: int,
           candidates: tuple[str, ...] = sel.CANDIDATES) -> list[dict]:
    # backtest origins: the product's (select.default_origins: the last 12 months in 2 blocks of
    # 6) at the same calendar months for every series, plus last month's 1-step forecast
    origins_all = sel.default_origins(n_all)
    tasks = []
    for uid, y, start in _each_series(series):
        offset = n_all - len(y)  # series starting later than the data
        origins = [o - offset for o in origins_all if o - offset >= sel.MIN_OBS]
        tasks.append({"unique_id": uid, "y": y, "start": start, "h": h, "origins": origins,
                      "last_month": True, "models": candidates, "model": None,
                      "festival": True})
    return tasks


def _each_series(series: pd.DataFrame):
    """``(unique_id, y, first month)`` of each series of a long frame (``unique_id, ds, y``),
    in the order of the ids; the values as the frame holds them (no frame per series)."""
    y, ds = series["y"].to_numpy(float), series["ds"].to_numpy()
    for uid, idx in series.groupby("unique_id", sort=True).indices.items():
        yield uid, y[idx], pd.Period(ds[idx[0]], "M")


def build_month_forecasts(month: str = "", store=None, *, n_jobs: int | None = None,
                          write: bool = True,
                          candidates: tuple[str, ...] = sel.CANDIDATES,
                          sku_model: str = CHEAP_MODEL) -> pd.DataFrame:
    """Forecast every series of every district and the city for the months after ``month``.

    Runs the product path (:func:`select.fit_one`, as :func:`series.forecast_series`) on every
    series: backtests the candidate models over the last 12 months (rolling origins), chooses
    the model (:func:`select.decide`: the combination unless the policy says otherwise; column
    ``reason``), forecasts ``horizon_for(month)`` months, reconciles (middle-out, see above)
    and forecasts each district's SKUs for the demand plan (scaled to the reconciled district
    total). Interval bounds of each level are widened to their backtest coverage
    (:func:`calibrate_intervals`; the Spring Festival months by their own backtest errors, see
    :mod:`.calibrate`; SKU intervals are the model's, scaled with the mean).
    ``candidates`` are the models compared and ``sku_model`` the SKUs' model (cheaper =
    faster, e.g. in tests).
    Writes the cache (see module docstring) and returns the forecasts frame: the columns
    of :data:`select.OUT_COLUMNS` plus ``district, level, member, mean_base, note, sku`` (SKU
    rows have level ``规格`` and member = SKU name).
    """
    t0 = time.perf_counter()
    month = month or latest_month(store=store)
    h = horizon_for(month)
    vol = monthly_volume(month, store=store, sums=("qty_supplied",))
    series, meta = build_series(month, store=store, volume=vol)
    n_all = series.groupby("unique_id").size().max()
    tasks = _tasks(series, meta, h, n_all, tuple(candidates))
    sku_tasks = _sku_tasks(vol, month, model=sku_model)
    # one pool for both: the many small SKU fits fill the workers' idle tail of the series fits
    # (compact: the results come back as arrays and make one frame of each kind here)
    everything = sel.forecast_frame(tasks + sku_tasks, n_jobs=n_jobs, compact=True)
    results, sku_results = everything[:len(tasks)], everything[len(tasks):]
    # the backtest rows of the chosen model (a fallback series has the fallback's forecast
    # under every candidate's name: its rows are those of the default)
    default = "combo" if "combo" in candidates else tuple(candidates)[-1]
    chosen = {r["unique_id"]: r["model"] if r["model"] in candidates else default
              for r in results}
    fc = sel.stack_results(results, "forecast")
    rec = middle_out(fc, meta)
    # backtest: candidates, the chosen model, and the chosen model reconciled per origin
    bt = sel.stack_results(results, "backtest")
    ch = bt[bt["model"] == bt["unique_id"].map(chosen)].assign(model="chosen")
    rb = middle_out(ch, meta, by=("origin", "ds")).drop(columns=["district", "level", "member",
                                                                 "mean_base"])
    rb = rb.assign(model="reconciled")
    last = sel.stack_results(results, "last_month")
    last = last.assign(model="last_month")
    backtest = pd.concat([bt, ch, rb, last], ignore_index=True)
    backtest = backtest.merge(meta, on="unique_id", how="left")
    rec = calibrate_intervals(rec, rb.merge(meta, on="unique_id", how="left"))
    plan = _sku_frame(sku_results, vol, rec)
    out = pd.concat([rec, plan], ignore_index=True)
    out["built_seconds"] = time.perf_counter() - t0
    if write:
        _write_cache(month, store, out, backtest, series.merge(meta, on="unique_id"))
    return out


def _sku_tasks(vol: pd.DataFrame, month: str, *, model: str = CHEAP_MODEL) -> list[dict]:
    """Tasks of the next-month forecast per district (and city) and SKU (the demand plan)."""
    v = vol.assign(y=vol["qty_supplied"])
    v = pd.concat([v, v.assign(district=config.CITY)], ignore_index=True)
    v["key"] = v["district"] + "|规格|" + v["sku"]
    months = pd.period_range(v["month"].min(), pd.Period(month, "M"), freq="M")
    s = _dense(v[["key", "month", "y"]], "key", months)
    # "models": only the SKU model is fitted (the other candidates' forecasts of a forced
    # model were computed and thrown away: ~40% of the month's fitting time)
    return [{"unique_id": uid, "y": y, "start": start, "h": 1, "origins": [], "model": model,
             "models": (model,), "festival": True}
            for uid, y, start in _each_series(s)]


def _sku_frame(results: list[dict], vol: pd.DataFrame, rec: pd.DataFrame) -> pd.DataFrame:
    """The SKU forecasts of :func:`_sku_tasks` labelled and scaled to the reconciled totals."""
    fc = sel.stack_results(results, "forecast")
    parts = fc["unique_id"].str.split("|", expand=True)
    fc["district"], fc["level"], fc["sku"] = parts[0], "规格", parts[2]
    names = vol.drop_duplicates("sku").set_index("sku")["name"]
    fc["member"] = fc["sku"].map(names)
    total = rec[(rec["level"] == "总量")].set_index(["district", "ds"])["mean"]
    sums = fc.groupby(["district", "ds"])["mean"].transform("sum")
    target = pd.Series(list(zip(fc["district"], fc["ds"]))).map(total).to_numpy(float)
    ratio = np.where(sums > 0, target / np.where(sums > 0, sums, 1), 1.0)
    ratio = np.where(np.isfinite(ratio), ratio, 1.0)
    fc["mean_base"] = fc["mean"]
    for col in ("mean", "lo_80", "hi_80", "lo_95", "hi_95"):
        fc[col] = fc[col] * ratio
    return fc


def inputs_fingerprint(month: str, store=None) -> str:
    """A hash of what the month's forecasts depend on: the forecasting code (and
    :mod:`kehu_lib.aggregates`, which sums the series) and the order and product files of the
    store up to ``month`` (paths, sizes, modification times)."""
    import hashlib

    root = Path(store).resolve() if store is not None else config.store_dir()
    h = hashlib.sha256()
    # the series are summed by kehu_lib.aggregates: its code is part of the forecasts' inputs
    for src in sorted(Path(__file__).parent.glob("*.py")) + [Path(__file__).parents[1]
                                                              / "aggregates.py"]:
        h.update(src.read_bytes())
    last = str(pd.Period(month, "M"))
    files = [root / "products.parquet"] + sorted(
        f for f in (root / "orders").glob("month=*/district_code=*/*.parquet")
        if f.parent.parent.name.split("=", 1)[1] <= last)
    update_with_files(h, root, files)
    return h.hexdigest()[:16]


def ensure_month_forecasts(month: str = "", store=None, *, dry_run: bool = False) -> bool:
    """Build the month's forecast cache unless it is current (same code and input data).

    The batch's shared precompute step: run once before the notebooks, which then only read.
    Returns True when it built, False when the cache was already current (``dry_run``: only
    say whether it would build).
    """
    month = month or latest_month(store=store)
    stamp = cache_dir(month, store) / "fingerprint.txt"
    if stamp.exists() and stamp.read_text(encoding="utf-8").strip() == inputs_fingerprint(month, store):
        return False
    if dry_run:
        return True
    build_month_forecasts(month, store)
    return True


#: the precompute steps whose caches this step reads (:data:`kehu_lib.batch.runner.AFTER`):
#: none — its district × SKU × month sums read the monthly ledger's cache where it is current
#: and the order lines elsewhere, the same sums either way, so it runs beside the ledger's step
ensure_month_forecasts.precompute_after = ()


def _write_cache(month, store, out, backtest, series) -> None:
    fingerprint = inputs_fingerprint(month, store)

    def _write(tmp: Path) -> None:
        out.to_parquet(tmp / "forecasts.parquet", index=False)
        backtest.to_parquet(tmp / "backtest.parquet", index=False)
        series.to_parquet(tmp / "series.parquet", index=False)
        (tmp / "fingerprint.txt").write_text(fingerprint, encoding="utf-8")

    atomic_dir_write(cache_dir(month, store), _write)


#: ``district`` value of the loaders below meaning every district and the city (``None`` means
#: the city, as in :mod:`kehu_lib.loaders`).
ALL = "*"


def _read(month: str, name: str, district, store) -> pd.DataFrame:
    month = month or latest_month(store=store)
    path = cache_dir(month, store) / f"{name}.parquet"
    if not path.exists():
        ensure_month_forecasts(month, store)
    df = pd.read_parquet(path)
    if district != ALL:
        d = config.resolve_district(district)
        df = df[df["district"] == (config.CITY if d is None else d.name)]
    return df.reset_index(drop=True)


def load_month_forecasts(month: str = "", district=config.CITY, store=None) -> pd.DataFrame:
    """The month's reconciled forecasts for one district (全市 or ``None``: the city; :data:`ALL`:
    every district and the city), from the cache, building it first if missing. Columns as
    :func:`build_month_forecasts`."""
    return _read(month, "forecasts", district, store)


def load_backtest(month: str = "", district=config.CITY, store=None) -> pd.DataFrame:
    """The month's backtest rows for one district (see :func:`build_month_forecasts`)."""
    return _read(month, "backtest", district, store)


def load_series(month: str = "", district=config.CITY, store=None) -> pd.DataFrame:
    """The history that was forecast (``unique_id, ds, y, district, level, member``)."""
    return _read(month, "series", district, store)
