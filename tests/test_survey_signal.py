"""The planted satisfaction drop of the sample city (data/planted_signals.yaml
`satisfaction_drop`) is found, after multiple-comparison correction, and nothing else is."""

from __future__ import annotations

import pytest

from kehu_lib import config, loaders
from kehu_lib.metrics import survey_change as sc


@pytest.fixture(scope="module")
def retailer(small_store):
    return loaders.load_retailer_survey(store=small_store)


@pytest.fixture(scope="module")
def drop(signals):
    s = signals["satisfaction_drop"]
    return config.resolve_district(s["district"]).code, s["item"], s["month"], s["drop_points"]


@pytest.mark.parametrize("lag", [1, 12])  # 环比 and 同比
def test_planted_drop_is_the_only_significant_drop(retailer, drop, lag):
    code, item, month, points = drop
    # every month, each month one family of districts x items, Holm-corrected
    scan = sc.change_scan(retailer, lag=lag, method="holm", alpha=0.05)
    drops = scan[scan["signal"] == "down"]
    assert [tuple(r) for r in drops[["district_code", "item", "month"]].to_numpy()] == \
        [(code, item, month)]
    hit = drops.iloc[0]
    assert hit["diff"] == pytest.approx(-points, abs=8)  # ~22 points on the 0-100 scale
    assert hit["ci_high"] < 0 and hit["n_flag"] == "ok"
    # no other cell, drop or rise, comes near its strength
    others = scan.drop(index=hit.name)
    assert others["p_adj"].min() > 100 * hit["p_adj"]


def test_planted_drop_in_the_report_month(retailer, drop):
    code, item, month, _ = drop
    rep = sc.survey_changes(retailer, month=month, method="holm")
    flagged = rep[rep["significant"]]
    assert sorted(flagged["comparison"]) == ["同比", "环比"]
    assert set(flagged["district_code"]) == {code} and set(flagged["item"]) == {item}
    assert (flagged["signal"] == "down").all()
