"""The planted satisfaction drop of the sample city (data/planted_signals.yaml
`satisfaction_drop`) is found, after multiple-comparison correction, far ahead of anything else;
other flags stay within the false alarms a calibrated test is expected to give."""

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
    # every month, each month one family of districts x items, Holm-corrected; the informants
    # are a panel, so the changes are tested on matched shops (paired t / Wilcoxon)
    scan = sc.change_scan(retailer, lag=lag, method="holm", alpha=0.05)
    hit = scan.loc[(scan["district_code"] == code) & (scan["item"] == item)
                   & (scan["month"] == month)].iloc[0]
    assert hit["signal"] == "down" and hit["test"] == "paired_t" and hit["n_pairs"] >= 40
    # ~22 points planted on the latent scale; a step below 60 is worth 30 points on 100/80/60/30/0
    assert hit["diff"] == pytest.approx(-points, abs=10)
    assert hit["ci_high"] < 0 and hit["n_flag"] == "ok" and hit["status"] == "ok"
    # no other cell, drop or rise, comes near its strength
    others = scan.drop(index=hit.name)
    assert others["p_adj"].min() > 100 * hit["p_adj"]
    # the sample plants no other change: other flags are false alarms, at most about one per
    # month-family at alpha (multiplicity_summary); the 29 months of the scan expect <= ~1.5, and
    # 5 is beyond the 99% Poisson quantile of that
    summary = sc.multiplicity_summary(scan, family=["month"])
    expected = summary["false_alarm_bound"].sum()
    assert expected == pytest.approx(0.05 * scan["month"].nunique())
    assert others["significant"].sum() <= 5
    # the independent-samples Welch test (paired=False) ignores the panel and is conservative
    welch = sc.change_scan(retailer, lag=lag, method="holm", alpha=0.05, paired=False)
    flagged = welch[welch["significant"]]
    assert [tuple(r) for r in flagged[["district_code", "item", "month"]].to_numpy()] == \
        [(code, item, month)]


def test_planted_drop_in_the_report_month(retailer, drop):
    code, item, month, _ = drop
    rep = sc.survey_changes(retailer, month=month, method="holm")
    flagged = rep[rep["significant"]]
    assert sorted(flagged["comparison"]) == ["mom", "yoy"]
    assert set(flagged["district_code"]) == {code} and set(flagged["item"]) == {item}
    assert (flagged["signal"] == "down").all()
