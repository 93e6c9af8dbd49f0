"""Last month's strategies judged (the plan's evaluation) are part of the city-wide plan's cache
(``shared.city_plan``: a district's in ``evaluations``, the city's pooled one in
``city_evaluation``): the same frames as the direct computation, nothing judged anew when the
cache is current, and a cache of other inputs or thresholds is never read."""

from __future__ import annotations

import pandas as pd
import pytest

from kehu_lib import config, loaders, store as kstore
from kehu_lib.plan import data as pdata, evaluate, monthly, shared, strategies

from conftest import writable_copy

MONTH = "2026-10"
PREV = "2026-09"
BEFORE = "2026-08"
PLACES = [None, *config.DISTRICT_BY_CODE]


@pytest.fixture(scope="module")
def store(small_store, tmp_path_factory):
    """A private copy of the small sample (the caches are written into it)."""
    return writable_copy(small_store, tmp_path_factory.mktemp("plan-eval") / "store")


def _direct(store, t=None):
    """Every place's evaluation computed from the store, without any cache: the shops' values of
    this month and of two months ago, last month's visits, then the city's strategies judged
    with district fixed effects and each district's on its own shops (one Holm family)."""
    t = {**monthly.load_thresholds(), **(t or {})}
    inputs = pdata.load_inputs(MONTH, store=store)
    values, _ = shared.states_for(inputs, MONTH, t)
    values_b, _ = shared.states_for(inputs, BEFORE, t)
    given = strategies.parse_codes(loaders.load_visits(None, [PREV], store=store))
    lib = strategies.load_library()
    kw = {"alpha": float(t["alpha"]), "min_treated": int(t["min_treated"])}
    out = {None: evaluate.evaluate_strategies(given, values_b, values, lib,
                                              covariates=("district_code",), **kw)}
    by = evaluate.evaluate_by_district(given, values_b, values, lib, **kw)
    for code in PLACES[1:]:
        out[code] = by[by["district_code"] == code].drop(columns="district_code").reset_index(
            drop=True)
    return out


def _name(code):
    return None if code is None else config.DISTRICT_BY_CODE[code].name


def _check(got: pd.DataFrame, want: pd.DataFrame) -> None:
    if len(want):
        pd.testing.assert_frame_equal(got, want)
    else:  # no strategy judged: an empty frame with the same columns
        assert got.empty and list(got.columns) == list(want.columns)


def test_cached_evaluations_are_the_direct_ones(store, monkeypatch):
    direct = _direct(store)
    assert len(direct[None]) > 0 and sum(len(v) for v in direct.values()) > len(direct[None])
    assert shared.ensure_month_plan(MONTH, store=store) is True
    assert shared.ensure_month_plan(MONTH, store=store) is False  # current
    # the plan pages and the 本月要点 read the city-wide plan's cache: judging a strategy (the
    # city's or a district's, evaluate_by_district calls evaluate_strategies) would fail here
    monkeypatch.setattr(evaluate, "evaluate_strategies",
                        lambda *a, **k: pytest.fail("a strategy judged anew: cache not used"))
    for c in PLACES:
        _check(monthly.findings_part(MONTH, _name(c), store=store)["evaluation"], direct[c])
        _check(monthly.build_month(MONTH, _name(c), store=store)["evaluation"], direct[c])
    # one cache: the plan's (no folder of evaluations beside it)
    assert not (store / "derived" / "plan_evaluation").exists()


def test_other_thresholds_or_visits_are_not_read_from_the_cache(store):
    shared.ensure_month_plan(MONTH, store=store)
    t = monthly.load_thresholds()
    code = next(c for c in PLACES[1:] if len(_direct(store)[c]))
    # the notebook's own thresholds: another key, computed
    other = {"alpha": 0.2}
    assert shared.cache_key(MONTH, {**t, **other}, store=store) != shared.cache_key(
        MONTH, t, store=store)
    want = _direct(store, other)
    for c in (None, code):
        ev = monthly.build_month(MONTH, _name(c), thresholds=other, store=store)["evaluation"]
        _check(ev, want[c])
    # last month's visits re-exported with a third of the strategy codes gone: the cache is
    # stale, and the evaluations are computed from the new visits
    key = shared.cache_key(MONTH, t, store=store)
    visits = loaders.load_visits(None, [PREV], store=store)
    coded = visits.index[visits["kzb_codes"].notna()]
    visits.loc[coded[::3], "kzb_codes"] = pd.NA
    kstore.write_partitions(visits, "visits", store)
    assert shared.cache_key(MONTH, t, store=store) != key
    fresh = _direct(store)
    for c in (None, code):
        _check(monthly.findings_part(MONTH, _name(c), store=store)["evaluation"], fresh[c])
    assert shared.ensure_month_plan(MONTH, store=store) is False  # written by the read above
    for c in (None, code):
        _check(monthly.build_month(MONTH, _name(c), store=store)["evaluation"], fresh[c])
