"""Last month's strategies judged (the plan's evaluation), cached by the batch's precompute
(monthly.ensure_month_evaluations): the same frames as the direct computation, and a cache of
other inputs or thresholds is never read."""

from __future__ import annotations

import pandas as pd
import pytest

from kehu_lib import config, loaders, store as kstore
from kehu_lib.plan import monthly, shared, strategies

from conftest import writable_copy

MONTH = "2026-10"
PREV = "2026-09"
PLACES = [None, *config.DISTRICT_BY_CODE]


@pytest.fixture(scope="module")
def store(small_store, tmp_path_factory):
    """A private copy of the small sample (the caches are written into it)."""
    return writable_copy(small_store, tmp_path_factory.mktemp("plan-eval") / "store")


def _direct(store, t=None):
    """monthly._evaluation of every place, as build_month computed it before the cache."""
    t = t or monthly.load_thresholds()
    city = shared.city_plan(MONTH, t, store=store, frames=("values", "values_b", "evaluations"))
    given = strategies.parse_codes(loaders.load_visits(None, [PREV], store=store))
    lib = strategies.load_library()
    return {c: monthly._evaluation(given, city, t, lib, c) for c in PLACES}


def test_cached_evaluations_are_the_direct_ones(store, monkeypatch):
    direct = _direct(store)
    assert sum(len(v) for v in direct.values()) > 0  # judged strategies to compare
    t = monthly.load_thresholds()
    assert all(monthly._cached_evaluation(MONTH, t, c, store) is None for c in PLACES)
    assert monthly.ensure_month_evaluations(MONTH, store=store) is True
    assert monthly.ensure_month_evaluations(MONTH, store=store) is False  # current
    for c in PLACES:
        cached = monthly._cached_evaluation(MONTH, t, c, store)
        if len(direct[c]):
            pd.testing.assert_frame_equal(cached, direct[c])
        else:
            assert cached is None  # computed (the place's own empty frame)
    # the plan page and the 本月要点 read the caches (the city's pooled evaluation from this
    # one, a district's from the city-wide plan's): judging a strategy would fail here
    monkeypatch.setattr(monthly.evaluate, "evaluate_strategies",
                        lambda *a, **k: pytest.fail("cache not used"))
    for c in PLACES:
        if not len(direct[c]):
            continue
        name = None if c is None else config.DISTRICT_BY_CODE[c].name
        pd.testing.assert_frame_equal(monthly.findings_part(MONTH, name, store=store)["evaluation"],
                                      direct[c])
        pd.testing.assert_frame_equal(monthly.build_month(MONTH, name, store=store)["evaluation"],
                                      direct[c])


def test_other_thresholds_or_visits_are_not_read_from_the_cache(store):
    monthly.ensure_month_evaluations(MONTH, store=store)
    t = monthly.load_thresholds()
    code = next(c for c in PLACES if monthly._cached_evaluation(MONTH, t, c, store) is not None)
    # the notebook's own thresholds: another key, computed
    other = {**t, "alpha": 0.2}
    assert monthly._cached_evaluation(MONTH, other, code, store) is None
    name = None if code is None else config.DISTRICT_BY_CODE[code].name
    ev = monthly.build_month(MONTH, name, thresholds={"alpha": 0.2}, store=store)["evaluation"]
    pd.testing.assert_frame_equal(ev, _direct(store, other)[code])
    # last month's visits re-exported with a third of the strategy codes gone: the cache is
    # stale, and the evaluation is computed from the new visits
    visits = loaders.load_visits(None, [PREV], store=store)
    coded = visits.index[visits["kzb_codes"].notna()]
    visits.loc[coded[::3], "kzb_codes"] = pd.NA
    kstore.write_partitions(visits, "visits", store)
    assert monthly._cached_evaluation(MONTH, t, code, store) is None
    fresh = monthly.findings_part(MONTH, name, store=store)["evaluation"]
    pd.testing.assert_frame_equal(fresh, _direct(store)[code])
    assert monthly.ensure_month_evaluations(MONTH, store=store) is True
    pd.testing.assert_frame_equal(monthly._cached_evaluation(MONTH, t, code, store), fresh)
