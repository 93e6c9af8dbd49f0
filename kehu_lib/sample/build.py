"""Build the sample city store: deterministic for a size and seed, streamed month by month."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from tqdm.auto import tqdm

from .. import config, store
from . import observations, surveys
from .orders import OrderSimulator
from .population import assign_informants, build_pairs, build_shops, products_frame, shop_names

#: size -> (shops, months, survey panel scale)
SIZES = {"small": (400, 30, 0.4), "default": (3000, 36, 1.0), "city": (20000, 36, 1.0)}
SIGNALS_FILE = config.DATA_DIR / "planted_signals.yaml"
MANIFEST = "sample_manifest.json"


def generator_version() -> str:
    """A hash of the generator's source and the signal file: a store built by another version is stale."""
    import hashlib

    h = hashlib.sha256()
    pkg = config.PROJ_ROOT / "kehu_lib"
    files = sorted((pkg / "sample").glob("*.py")) + [pkg / "store.py", pkg / "schema.py",
                                                     pkg / "calendar.py", SIGNALS_FILE]
    for f in files:
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def is_current(root: str | Path, size: str, seed: int) -> bool:
    """Whether ``root`` holds a complete sample of this size and seed from this generator version."""
    path = Path(root) / MANIFEST
    if not path.exists():
        return False
    m = json.loads(path.read_text(encoding="utf-8"))
    return (m.get("size"), m.get("seed"), m.get("generator")) == (size, seed, generator_version())


def load_signals(path: str | Path = SIGNALS_FILE) -> dict:
    """The planted-signal specification (``data/planted_signals.yaml``)."""
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _new_product_reach(shops: pd.DataFrame, signals: dict) -> dict[str, np.ndarray]:
    spec = signals["new_product"]
    fast = {config.resolve_district(d).code for d in spec["fast_districts"]}
    codes = shops["district_code"].to_numpy()
    reach = np.where(np.isin(codes, list(fast)), spec["fast_reach"], spec["stalled_reach"])
    # rural shops inside fast districts adopt a little less
    reach = np.where(shops["rural"].to_numpy(), reach * 0.6, reach)
    return {spec["sku"]: reach}


def _pick(rng, candidates: np.ndarray, share: float, exclude: np.ndarray | None = None) -> np.ndarray:
    flags = np.zeros(len(candidates), dtype=bool)
    pool = np.flatnonzero(candidates & (~exclude if exclude is not None else True))
    n = max(1, int(round(share * candidates.sum())))
    flags[rng.choice(pool, size=min(n, len(pool)), replace=False)] = True
    return flags


def _open_through(shops: pd.DataFrame, first: pd.Period, last: pd.Period) -> np.ndarray:
    return ((shops["opened_date"] < first.start_time)
            & (shops["closed_date"].isna() | (shops["closed_date"] > last.end_time))
            & (shops["status"] == "正常")).to_numpy()


def build_sample(size: str = "default", seed: int = 7, out: str | Path | None = None,
                 progress: bool = True, *, wait: bool = True, on_wait=None,
                 if_missing: bool = False) -> dict:
    """Generate the sample city into the store folder ``out`` (default: the configured store).

    Returns the manifest (size, seed, months, row counts, seconds, the planted shop groups), which
    is also written to ``<out>/sample_manifest.json``. An existing store at ``out`` is replaced.
    The build holds the store's writer lock (an ingest running on the same store is waited for,
    ``on_wait(message)`` is told so; ``wait=False`` raises :class:`kehu_lib.store.StoreLocked`
    instead) and swaps the new store in under the commit lock, so readers never see half of it.
    ``if_missing``: keep a current store of this size and seed (checked once the lock is held).
    """
    if size not in SIZES:
        raise ValueError(f"unknown sample size {size!r}; expected one of {', '.join(SIZES)}")
    final = Path(out).resolve() if out is not None else config.store_dir()
    with store.writer_lock(final, wait=wait, on_wait=on_wait, command=f"kehu sample --size {size}"):
        if if_missing and is_current(final, size, seed):  # built meanwhile by the lock's holder
            return json.loads((final / MANIFEST).read_text(encoding="utf-8"))
        return _build(size, seed, final, progress, on_wait)


def _build(size: str, seed: int, final: Path, progress: bool, on_wait=None) -> dict:
    t0 = time.perf_counter()
    n_shops, n_months, panel_scale = SIZES[size]
    signals = load_signals()
    end = pd.Period(signals["end_month"], "M")
    start = end - (n_months - 1)
    # build beside the target and swap at the end: a killed build leaves the old store intact
    final.parent.mkdir(parents=True, exist_ok=True)
    root = final.parent / f".{final.name}.building-{os.getpid()}"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    rng = np.random.default_rng([seed, 1])

    products = products_frame()
    shops = build_shops(rng, n_shops, start, end)
    shops["survey_informant"] = assign_informants(rng, shops, panel_scale)
    shops["shop_name"] = shop_names(np.random.default_rng([seed, 4]), shops)  # own stream
    pairs = build_pairs(rng, shops, products, start, _new_product_reach(shops, signals))
    sim = OrderSimulator(shops, products, pairs, start, signals, seed)

    kb = signals["key_brand_loss"]
    kb_code = config.resolve_district(kb["district"]).code
    stable = _open_through(shops, pd.Period(kb["start_month"], "M") - 12, end)
    in_kb = stable & (shops["district_code"] == kb_code).to_numpy()
    # the group is drawn among the district's larger half: shops big enough for a manager to notice
    big = shops["size"].to_numpy() >= np.median(shops["size"].to_numpy()[in_kb])
    sim.loss_shops = _pick(rng, in_kb & big, kb["share_of_shops"] * in_kb.sum() / max(1, (in_kb & big).sum()))
    eff = signals["strategy_effects"]
    eff_codes = [config.resolve_district(d).code for d in eff["districts"]]
    eligible = _open_through(shops, pd.Period(eff["month"], "M") - 3, end) & np.isin(
        shops["district_code"], eff_codes) & ~sim.loss_shops
    sim.kzb14_shops = _pick(rng, eligible, eff["effective"]["share_of_shops"])
    kzb09 = _pick(rng, eligible, eff["no_effect"]["share_of_shops"], exclude=sim.kzb14_shops)
    treated = {eff["effective"]["kzb"]: sim.kzb14_shops, eff["no_effect"]["kzb"]: kzb09}

    store.write_dimension(pd.DataFrame({
        "district_code": [d.code for d in config.DISTRICTS], "district": [d.name for d in config.DISTRICTS],
        "kind": [d.kind for d in config.DISTRICTS],
        "panel_size": [int(round(d.panel_size * panel_scale)) for d in config.DISTRICTS]}), "districts", root)
    store.write_dimension(products, "products", root)
    store.write_dimension(shops.assign(tier=shops["tier"].astype("int64")), "customers", root)

    shop_effect = np.random.default_rng([seed, 2]).normal(0, 0.35, len(shops))
    panel = surveys.consumer_panel(np.random.default_rng([seed, 3]), panel_scale)
    launches = [pd.Period(d, "M") for d in products.loc[products["is_new"], "launch_date"]]
    counts = {t: 0 for t in ("orders", "price_checks", "visits", "retailer_survey", "consumer_survey",
                             "census")}
    months = pd.period_range(start, end, freq="M")
    for month in tqdm(months, desc=f"sample {size}", disable=not progress, unit="month"):
        mrng = np.random.default_rng([seed, 10, month.ordinal])
        orders = sim.month(month)
        checks = observations.price_checks(mrng, month, orders, shops, products, signals)
        vis = observations.visits(mrng, month, orders, shops, signals, treated, launches)
        retail = surveys.retailer_survey(mrng, month, shops, shops["survey_informant"].to_numpy(),
                                         shop_effect, signals)
        consumer = surveys.consumer_survey(mrng, month, panel)
        store.replace_month(orders, "orders", str(month), root)
        for name, frame in (("price_checks", checks), ("visits", vis), ("retailer_survey", retail),
                            ("consumer_survey", consumer)):
            store.write_partitions(frame, name, root)
            counts[name] += len(frame)
        counts["orders"] += len(orders)
        if month.month == 6:
            wave = observations.census(mrng, month, shops, wave_no=month.year - 2024)
            store.write_partitions(wave, "census", root)
            counts["census"] += len(wave)
    manifest = {
        "size": size, "seed": seed, "generator": generator_version(), "first_month": str(start), "last_month": str(end),
        "shops": int(len(shops)), "skus": int(len(products)), "rows": counts,
        "seconds": round(time.perf_counter() - t0, 1),
        "planted": {
            "key_brand_loss_shops": sorted(shops.loc[sim.loss_shops, "license_id"]),
            "strategy_treated": {code: sorted(shops.loc[flags, "license_id"]) for code, flags in treated.items()},
        },
    }
    (root / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    with store.commit_lock(final, on_wait=on_wait):
        old = store.swap_in(root, final, remove_old=False)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return manifest
