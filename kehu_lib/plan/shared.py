"""The city-wide part of the monthly plan, computed once per month and shared by every district.

Every shop is judged against its peers across the whole city, so a district's plan and the
city's agree shop by shop, and most of the work (indicators and states of this month and of two
months ago, strategies, priorities, key shops, manager targets, key accounts, carry-over) does not
depend on the district. :func:`city_part` computes it from the inputs of
:func:`kehu_lib.plan.data.load_inputs`; :func:`city_plan` reads it from a cache in the store
(``derived/plan/month=YYYY-MM/<key>/``) or computes and writes it there. The key hashes what the
result depends on — the plan code, the thresholds, the strategy library, the store's input files
up to the month and the forecast cache the targets read — so a changed threshold, library or
export never reads a stale plan. :func:`ensure_month_plan` is the batch's precompute step (the
defaults of ``params/monthly_plan.yaml``).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from .. import config, loaders
from ..frames import isin, rows_of
from ..digest import update_with_files
from ..store import atomic_dir_write
from . import data as pdata
from . import crossreport, evaluate, improve, indicators, key_accounts, priority, strategies, weekly

__all__ = ["FRAMES", "city_part", "market_alert_strategies", "cache_root", "cache_key", "city_plan", "ensure_month_plan",
           "states_for"]

#: The frames of the city-wide part (all keyed by license_id or district_code, city-wide).
FRAMES = ("values", "states", "strategies", "priority", "key_shops", "values_b", "states_b",
          "strategies_b", "key_shops_b", "targets", "district_volume", "key_accounts",
          "carry_over", "market_alerts", "alert_strategies", "district_actions",
          "shop_strategies", "week_plan", "evaluations", "city_evaluation", "cause_strategies")
#: Cached thresholds sets kept per month (the oldest are removed).
KEEP = 6


def states_for(inputs: Mapping[str, Any], month: str, thresholds: Mapping[str, Any]):
    """(values, states) of every shop of the city in ``month``."""
    checks = inputs["checks"]
    values = indicators.indicator_values(inputs["orders"], inputs["products"],
                                         inputs["customers"],
                                         checks[checks["month"] == month], month=month,
                                         thresholds=thresholds)
    return values, indicators.shop_states(values, thresholds=thresholds)


def _plan(values, states, library, visits, plan_month, thresholds):
    """Strategies, priorities, key shops, district actions, shop strategies and the shop-level
    states (:func:`kehu_lib.plan.strategies.shop_level_states`) of one month's states.

    A problem shared by most of a district's shops (:func:`kehu_lib.plan.strategies.
    district_actions`) is one district action: it neither ranks the shops nor is listed shop by
    shop, so the key shops are those with problems of their own."""
    strat = strategies.assign_strategies(states, library)
    actions, shop_strat = strategies.district_actions(states, strat, library)
    own = strategies.shop_level_states(states, actions)
    prio = priority.shop_priority(own, values, thresholds=thresholds)
    keys = priority.key_shops(prio, shop_strat, visits, plan_month=plan_month,
                              thresholds=thresholds)
    return strat, prio, keys, actions, shop_strat, own


def city_part(inputs: Mapping[str, Any], thresholds: Mapping[str, Any], library, *,
              store=None, build_forecasts: bool = False) -> dict[str, Any]:
    """The district-independent part of the plan of report month ``inputs['month']``.

    Returns the frames of :data:`FRAMES` for the whole city (``*_b``: the plan made two months
    ago, i.e. last month's plan; ``evaluations``: last month's strategies judged per district,
    :func:`kehu_lib.plan.evaluate.evaluate_by_district`; ``city_evaluation``: the same strategies
    judged for the whole city, pooled over the districts with district fixed effects) and
    ``targets_note`` (where the targets come from).
    """
    month = inputs["month"]
    p = pd.Period(month, freq="M")
    prev, before = str(p - 1), str(p - 2)
    orders = inputs["orders"]

    def last(n: int) -> pd.DataFrame:  # the orders of the n months up to the report month
        return rows_of(orders, "month", [str(p - i) for i in range(n)])

    visits = inputs["visits"]
    vis_now, vis_prev = visits[visits["month"] == month], visits[visits["month"] == prev]
    values, states = states_for(inputs, month, thresholds)
    strat, prio, keys, actions, shop_strat, own = _plan(values, states, library, vis_now,
                                                        pdata.plan_month(month), thresholds)
    values_b, states_b = states_for(inputs, before, thresholds)
    _, _, keys_b, _, shop_strat_b, _ = _plan(values_b, states_b, library, vis_prev, prev,
                                             thresholds)
    names = pdata.district_names()
    monthly = pdata.volume_of_orders(inputs)
    pm = pdata.plan_month(month)
    fc, note = pdata.load_forecasts(month, store=store, build=build_forecasts)
    vol = pdata.fallback_forecast(monthly, target_month=pm).to_dict()
    kb_fc = pdata.fallback_forecast(monthly, target_month=pm, value="key_brand_volume").to_dict()
    if fc is not None and (fc["month"] == pm).any():
        f = fc[fc["month"] == pm].set_index("district")["forecast"]
        vol = {c: float(f[n]) for c, n in names.items() if n in f.index}
        kb_fc = None  # key-brand targets follow the forecast by the managers' key-brand share
    share_months = int({**priority.DEFAULTS, **thresholds}["share_months"])
    targets = priority.manager_targets(last(share_months), inputs["products"],
                                       inputs["customers"], month=month, district_forecast=vol,
                                       key_brand_forecast=kb_fc, thresholds=thresholds)
    alerts, alert_strat = market_alert_strategies({**inputs, "orders": last(1)}, library)
    planned_b = shop_strat_b[isin(shop_strat_b["license_id"], set(keys_b["license_id"]))]
    week = weekly.week_plan(keys, own, shop_strat, inputs["customers"], visits,
                            last(weekly.TARGET_MONTHS), targets, month=month,
                            planned_last_month=planned_b[["license_id", "code"]])
    # last month's strategies judged per district, one Holm family for the month's pack, and
    # for the city, pooled over the districts (district fixed effects)
    given = strategies.parse_codes(vis_prev)
    alpha, min_treated = float(thresholds["alpha"]), int(thresholds["min_treated"])
    evaluations = evaluate.evaluate_by_district(given, values_b, values, library, alpha=alpha,
                                                min_treated=min_treated)
    city_evaluation = evaluate.evaluate_strategies(given, values_b, values, library, alpha=alpha,
                                                   min_treated=min_treated,
                                                   covariates=("district_code",))
    return {
        "week_plan": week, "evaluations": evaluations, "city_evaluation": city_evaluation,
        "cause_strategies": crossreport.cause_strategies(shop_strat),
        "market_alerts": alerts, "alert_strategies": alert_strat,
        "district_actions": actions, "shop_strategies": shop_strat,
        "values": values, "states": states, "strategies": strat, "priority": prio,
        "key_shops": keys, "values_b": values_b, "states_b": states_b,
        "strategies_b": shop_strat_b,
        "key_shops_b": keys_b, "targets": targets, "targets_note": note,
        "district_volume": monthly,
        "key_accounts": key_accounts.key_account_list(
            orders, inputs["customers"], month=month,
            months_with_orders=pdata.months_of_orders(inputs)),
        "carry_over": improve.carry_over(states_b, states, shop_strat_b),
    }


def market_alert_strategies(inputs: Mapping[str, Any], library):
    """The market report's alerts of the month per district (its thresholds,
    ``params/market_report.yaml``) and the plan strategies for the shops carrying an alerted
    SKU (:func:`kehu_lib.plan.crossreport.alert_shop_strategies`: oversupply → KZB-13, KZB-10).

    Returns (alerts, strategies)."""
    from .. import findings
    from ..metrics import market
    from .crossreport import alert_shop_strategies

    month, prod = inputs["month"], inputs["products"]
    chk = inputs["checks"]
    chk = chk[chk["month"] == month]
    t = findings.load_thresholds()
    pi = market.price_index(chk, prod, by="district_code")
    inv = market.social_inventory(chk, inputs["orders"], inputs["customers"], prod, month=month,
                                  by="district_code")
    alerts = market.market_alerts(pi, inv, thresholds=t, by="district_code")
    return alerts, alert_shop_strategies(alerts, inputs["orders"], library, month=month)


def cache_root(month: str, store=None) -> Path:
    """Folder of the month's cached city-wide plans (one sub-folder per key)."""
    root = Path(store).resolve() if store is not None else config.store_dir()
    return root / "derived" / "plan" / f"month={pd.Period(month, 'M')}"


def cache_key(month: str, thresholds: Mapping[str, Any], *, store=None,
              library_file: Path = strategies.LIBRARY_FILE) -> str:
    """Hash of what the city-wide plan of ``month`` depends on (16 hex digits)."""
    root = Path(store).resolve() if store is not None else config.store_dir()
    h = hashlib.sha256()
    here = Path(__file__).parent
    for src in sorted(here.glob("*.py")) + [here.parent / "metrics" / "customers.py",
                                            here.parent / "aggregates.py"]:
        h.update(src.read_bytes())
    h.update(json.dumps({k: thresholds[k] for k in sorted(thresholds)}, default=str).encode())
    h.update(Path(library_file).read_bytes())
    h.update((config.PARAMS_DIR / "market_report.yaml").read_bytes())  # the alerts' thresholds
    h.update((here.parent / "metrics" / "market.py").read_bytes())
    p = pd.Period(month, "M")
    first = str(p - pdata.HISTORY)
    for table in ("orders", "price_checks", "visits"):  # the months' folders listed, not all
        folders = [d for d in (root / table).glob("month=*") if first <= d.name[6:] <= month]
        update_with_files(h, root, sorted(f for d in folders for f in d.glob("**/*.parquet")))
    update_with_files(h, root, [root / "customers.parquet", root / "products.parquet"])
    update_with_files(h, root, [pdata.forecast_dir(month, store) / "fingerprint.txt"])
    return h.hexdigest()[:16]


def _write(folder: Path, part: Mapping[str, Any]) -> None:
    def write(tmp: Path) -> None:
        for name in FRAMES:
            part[name].to_parquet(tmp / f"{name}.parquet", index=False)
        (tmp / "notes.json").write_text(json.dumps({"targets_note": part["targets_note"]},
                                                   ensure_ascii=False), encoding="utf-8")

    atomic_dir_write(folder, write)
    others = sorted((d for d in folder.parent.iterdir() if d.is_dir() and d != folder
                     and not d.name.startswith(".")), key=lambda d: d.stat().st_mtime)
    for old in others[:max(0, len(others) - (KEEP - 1))]:
        shutil.rmtree(old, ignore_errors=True)


#: The frames last read from a cache folder, by name: (file's modification time and size,
#: frame). A warm kernel makes the plan of one district after another, each reading the same
#: city-wide files (about 0.2 CPU s a page); only the last folder's are kept.
_LAST_READ: dict[Path, dict[str, tuple[tuple[int, int], pd.DataFrame]]] = {}


def _read_frame(folder: Path, name: str) -> pd.DataFrame:
    """One frame of a cached plan: a copy of the frame read before while its file is unchanged
    (the caller may change its copy), else read from the file."""
    path = folder / f"{name}.parquet"
    st = path.stat()
    stamp = (st.st_mtime_ns, st.st_size)
    if folder not in _LAST_READ:
        _LAST_READ.clear()
    seen = _LAST_READ.setdefault(folder, {})
    if name not in seen or seen[name][0] != stamp:
        seen[name] = (stamp, pd.read_parquet(path))
    return seen[name][1].copy()


def _read(folder: Path, frames=FRAMES) -> dict[str, Any] | None:
    try:
        part: dict[str, Any] = {n: _read_frame(folder, n) for n in frames}
        part.update(json.loads((folder / "notes.json").read_text(encoding="utf-8")))
    except (OSError, ValueError):  # missing or half-removed folder: recompute
        return None
    return part


def city_plan(month: str, thresholds: Mapping[str, Any], *, store=None,
              build_forecasts: bool = False, use_cache: bool = True,
              frames=FRAMES) -> dict[str, Any]:
    """The city-wide part of ``month``'s plan for the default strategy library: read from the
    cache when current, else computed from the store and cached (see the module docstring).
    ``frames``: the frames wanted (a read from the cache reads only these; a computed part
    holds all)."""
    unknown = [f for f in frames if f not in FRAMES]
    if unknown:
        raise KeyError(f"the city-wide plan has no frame(s) {unknown}; frames are {FRAMES}")
    if use_cache:
        part = _read(cache_root(month, store) / cache_key(month, thresholds, store=store),
                     frames)
        if part is not None:
            return part
    inputs = pdata.load_inputs(month, store=store, thresholds=thresholds)
    part = city_part(inputs, thresholds, strategies.load_library(), store=store,
                     build_forecasts=build_forecasts)
    if use_cache:  # the key again: building the forecasts on the way changes it
        _write(cache_root(month, store) / cache_key(month, thresholds, store=store), part)
    return part


def ensure_month_plan(month: str = "", store=None, *, dry_run: bool = False) -> bool:
    """Batch precompute: cache the city-wide plan of ``month`` for the notebook's default
    thresholds (``params/monthly_plan.yaml``). Returns True when it computed, False when current
    (``dry_run``: only say whether it would compute)."""
    from .thresholds import load_thresholds

    month = month or loaders.latest_month(store=store)
    t = load_thresholds()
    if (cache_root(month, store) / cache_key(month, t, store=store) / "notes.json").exists():
        return False
    if dry_run:
        return True
    import pyarrow as pa

    # Arrow's temporaries on the system allocator (large blocks go back to the system when
    # freed): Arrow's default allocator kept ~150 MB more at the peak, beside the 15-month ledger
    pool = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        city_plan(month, t, store=store)
    finally:
        pa.set_memory_pool(pool)
    return True


#: the precompute steps whose caches this step reads (:data:`kehu_lib.batch.runner.AFTER`): the
#: monthly ledger (its 15 months of shop × SKU sums) and the forecasts (the managers' targets)
ensure_month_plan.precompute_after = ("kehu_lib.aggregates.ensure_month_aggregates",
                                      "kehu_lib.forecast.ensure_month_forecasts")
