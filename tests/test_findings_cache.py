"""The satisfaction drops cached by the batch's precompute (findings.ensure_month_satisfaction)
are the frames of the direct computation, and a changed survey or a stale cache is never read."""

from __future__ import annotations

import pandas as pd
import pytest

from kehu_lib import config, findings, loaders, store as kstore
from kehu_lib.plan import monthly, strategies

from conftest import writable_copy

MONTH = "2026-10"
PLACES = [None, *config.DISTRICT_BY_CODE]


@pytest.fixture()
def store(small_store, tmp_path):
    """A private copy of the small sample (the cache is written into it)."""
    return writable_copy(small_store, tmp_path / "store")


def _direct(place, store):
    """satisfaction_drops on the place's own survey, as the reports computed it before."""
    survey = loaders.load_retailer_survey(place, findings.survey_months(MONTH), store=store)
    return findings.satisfaction_drops(survey, month=MONTH)


def test_cached_drops_are_the_direct_ones_for_every_place(store, signals):
    direct = {p: _direct(p, store) for p in PLACES}
    # the sample plants one drop (R02 in one district): the comparison is not of empty frames
    sig = signals["satisfaction_drop"]
    code = config.resolve_district(sig["district"]).code
    assert "R02" in set(direct[code]["item"]) and "R02" in set(direct[None]["item"])
    assert not findings.satisfaction_cache_dir(MONTH, store).exists()
    assert findings.month_satisfaction_drops(None, MONTH, store=store, compute=False) is None
    for p in PLACES:  # without a cache: computed, the same frame
        pd.testing.assert_frame_equal(findings.month_satisfaction_drops(p, MONTH, store=store),
                                      direct[p])
    assert findings.ensure_month_satisfaction(MONTH, store=store) is True
    assert findings.ensure_month_satisfaction(MONTH, store=store) is False  # current
    for p in PLACES:
        cached = findings.month_satisfaction_drops(p, MONTH, store=store, compute=False)
        pd.testing.assert_frame_equal(cached, direct[p])
    # the market report's inputs carry the cached drops, and analyse uses them as it would
    # have computed them
    data = findings.load_inputs(sig["district"], MONTH, store=store)
    pd.testing.assert_frame_equal(data["satisfaction"], direct[code])
    # the plan's district actions read the city's drops
    lib = strategies.load_library()
    from kehu_lib.plan.crossreport import satisfaction_actions

    pd.testing.assert_frame_equal(monthly.satisfaction_actions(MONTH, lib, store=store),
                                  satisfaction_actions(direct[None].assign(significant=True), lib))


def test_a_changed_survey_is_not_read_from_a_stale_cache(store, signals):
    findings.ensure_month_satisfaction(MONTH, store=store)
    sig = signals["satisfaction_drop"]
    code = config.resolve_district(sig["district"]).code
    assert len(findings.month_satisfaction_drops(code, MONTH, store=store, compute=False))
    # the month's survey re-exported with the planted drop turned round (the district's R02
    # answers all 5): the district has no drop any more
    cur = loaders.load_retailer_survey(None, MONTH, store=store)
    fix = (cur["district_code"] == code) & (cur["item"] == "R02") & cur["answer"].notna()
    cur.loc[fix, "answer"] = 5
    kstore.write_partitions(cur, "retailer_survey", store)
    assert findings.month_satisfaction_drops(code, MONTH, store=store, compute=False) is None
    fresh = findings.month_satisfaction_drops(code, MONTH, store=store)
    pd.testing.assert_frame_equal(fresh, _direct(code, store))
    assert "R02" not in set(fresh["item"])
    assert findings.ensure_month_satisfaction(MONTH, store=store) is True  # recomputed
    pd.testing.assert_frame_equal(
        findings.month_satisfaction_drops(code, MONTH, store=store, compute=False), fresh)


def test_a_cache_written_by_other_code_is_not_read(store, monkeypatch):
    findings.ensure_month_satisfaction(MONTH, store=store)
    stamp = findings.satisfaction_cache_dir(MONTH, store) / "fingerprint.txt"
    stamp.write_text("0" * 16, encoding="utf-8")  # e.g. written before survey_change changed
    assert findings.month_satisfaction_drops(None, MONTH, store=store, compute=False) is None
    assert findings.load_inputs(None, MONTH, store=store)["satisfaction"] is None
    assert findings.ensure_month_satisfaction(MONTH, store=store) is True
