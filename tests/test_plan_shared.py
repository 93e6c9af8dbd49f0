"""The city-wide part of the monthly plan, cached once per month (kehu_lib.plan.shared).

The reference for every comparison is the uncached computation, ``monthly.build`` on the inputs of
``data.load_inputs``: the cached path must give the same plan frame by frame.
"""

from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest

from kehu_lib.plan import data, monthly, shared

from conftest import writable_copy

MONTH = "2026-10"


@pytest.fixture(scope="module")
def store(small_store, tmp_path_factory):
    """A private copy of the small sample (these tests write caches and touch input files)."""
    return writable_copy(small_store, tmp_path_factory.mktemp("plan-shared") / "store")


@pytest.fixture(scope="module")
def reference(store):
    inputs = data.load_inputs(MONTH, store=store)
    return {d: monthly.build(inputs, district=d, store=store) for d in ("小店区", None)}


def _assert_same_plan(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key, value in a.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(value, b[key], check_dtype=False, obj=key)
        elif key != "library":
            assert value == b[key], key


@pytest.mark.parametrize("district", ["小店区", None])
def test_cached_plan_equals_the_direct_computation(store, reference, district, monkeypatch):
    first = monthly.build_month(MONTH, district, store=store)
    _assert_same_plan(reference[district], first)
    # the second call reads the cache: loading the city's inputs again would fail here
    monkeypatch.setattr(data, "load_inputs", lambda *a, **k: pytest.fail("cache not used"))
    second = monthly.build_month(MONTH, district, store=store)
    _assert_same_plan(reference[district], second)


def test_a_changed_threshold_is_a_new_plan(store, reference):
    base = monthly.load_thresholds()
    strict = {**base, "volume_gap_alert": -0.05}
    assert shared.cache_key(MONTH, base, store=store) != shared.cache_key(MONTH, strict, store=store)
    plan = monthly.build_month(MONTH, "小店区", thresholds={"volume_gap_alert": -0.05}, store=store)
    flagged = lambda p: int(p["states"].query("indicator == 'volume'")["flagged"].sum())  # noqa: E731
    assert flagged(plan) > flagged(reference["小店区"])


def test_a_changed_export_changes_the_key(store):
    t = monthly.load_thresholds()
    before = shared.cache_key(MONTH, t, store=store)
    part = next((store / "visits" / f"month={MONTH}").rglob("*.parquet"))
    st = part.stat()
    os.utime(part, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert shared.cache_key(MONTH, t, store=store) != before
    # a file of a month after the report month is not an input
    key = shared.cache_key(MONTH, t, store=store)
    later = store / "visits" / "month=2026-11"
    later.mkdir()
    try:
        shutil.copy(part, later / part.name)
        assert shared.cache_key(MONTH, t, store=store) == key
    finally:
        shutil.rmtree(later)


def test_ensure_month_plan_computes_once(store):
    t = monthly.load_thresholds()
    folder = shared.cache_root(MONTH, store) / shared.cache_key(MONTH, t, store=store)
    shutil.rmtree(folder, ignore_errors=True)
    assert shared.ensure_month_plan(MONTH, store=store) is True
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{n}.parquet" for n in shared.FRAMES] + ["notes.json"])
    assert shared.ensure_month_plan(MONTH, store=store) is False


def test_a_damaged_cache_is_recomputed(store, reference):
    t = monthly.load_thresholds()
    monthly.build_month(MONTH, "小店区", store=store)
    folder = shared.cache_root(MONTH, store) / shared.cache_key(MONTH, t, store=store)
    (folder / "states.parquet").unlink()
    _assert_same_plan(reference["小店区"], monthly.build_month(MONTH, "小店区", store=store))
    assert (folder / "states.parquet").exists()


def test_old_threshold_sets_are_pruned(store):
    for i in range(shared.KEEP + 2):
        shared.city_plan(MONTH, {**monthly.load_thresholds(), "top_n": 100 + i}, store=store)
    kept = [d for d in shared.cache_root(MONTH, store).iterdir() if d.is_dir()]
    assert len(kept) == shared.KEEP


def test_a_frame_read_again_is_a_copy_of_the_first_read(tmp_path, monkeypatch):
    folder = tmp_path / "key"
    folder.mkdir()
    pd.DataFrame({"district_code": ["140105"], "x": [1.0]}).to_parquet(folder / "states.parquet")
    reads = []
    real = pd.read_parquet
    monkeypatch.setattr(shared.pd, "read_parquet", lambda p, *a, **k: reads.append(p) or real(p, *a, **k))
    first = shared._read_frame(folder, "states")
    first.loc[0, "x"] = 9.0  # a caller's change stays in its copy
    assert shared._read_frame(folder, "states")["x"].tolist() == [1.0]
    assert len(reads) == 1
    # a rewritten file is read again
    pd.DataFrame({"district_code": ["140105"], "x": [2.0]}).to_parquet(folder / "states.parquet")
    os.utime(folder / "states.parquet", ns=(1, 1))
    assert shared._read_frame(folder, "states")["x"].tolist() == [2.0]
    assert len(reads) == 2
