"""Tests of kehu_lib.plan.improve and kehu_lib.plan.key_accounts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kehu_lib.plan import improve, key_accounts as ka


def test_review_list_marks_no_effect():
    ev = pd.DataFrame({"code": ["KZB-14", "KZB-09", "KZB-10"], "name": ["a", "b", "c"],
                       "outcome": "volume", "outcome_zh": "x", "unit": "条",
                       "n_treated": [20, 20, 3], "estimate": [3.0, 0.1, 1.0],
                       "ci_low": 0.0, "ci_high": 1.0, "p_holm": [0.001, 0.9, np.nan],
                       "verdict": ["effective", "no_effect", "insufficient"]})
    r = improve.review_list(ev).set_index("code")
    assert list(r["review"]) == [False, True, False]
    assert r.loc["KZB-09", "action"] == "no_effect"
    from kehu_lib.present import format as fmt
    assert fmt.value(r.loc["KZB-09", "action"], "action").startswith("标记复核")
    assert improve.review_list(ev.iloc[0:0]).empty


def test_evaluation_view_puts_each_effect_in_its_unit():
    """A share outcome (比例) is shown in 百分点 (x100) with its unit; a volume stays in 条."""
    from kehu_lib.present import plan_text

    ev = pd.DataFrame({"code": ["KZB-11", "KZB-06"], "name": ["a", "b"],
                       "outcome": ["recommendation", "volume"], "outcome_zh": ["推荐", "销量"],
                       "unit": ["比例", "条"], "n_treated": [27, 22], "estimate": [-0.012, 27.8],
                       "ci_low": [-0.04, -10.66], "ci_high": [0.02, 66.25],
                       "p_holm": [1.0, 1.0], "verdict": ["no_effect", "no_effect"]})
    v = plan_text.evaluation_view(ev).set_index("strategy_code")
    assert v.loc["KZB-11", "estimate"] == pytest.approx(-1.2)
    assert v.loc["KZB-11", "estimate_low"] == pytest.approx(-4.0)
    assert v.loc["KZB-11", "outcome"] == "推荐（百分点）"
    assert v.loc["KZB-06", "estimate_high"] == pytest.approx(66.25)
    assert v.loc["KZB-06", "outcome"] == "销量（条）"


def test_carry_over_keeps_still_flagged():
    def states(flags):
        return pd.DataFrame({"license_id": ["A", "A", "B"], "district_code": "140105",
                             "manager_id": "KM1", "indicator": ["volume", "assortment_width",
                                                                "volume"],
                             "indicator_zh": ["销量", "品牌组合宽度", "销量"], "value": [1.0, 2, 3],
                             "gap_ratio": [-0.5, -0.3, -0.4], "flagged": flags, "detail": ""})
    before, now = states([True, True, True]), states([True, False, False])
    planned = pd.DataFrame({"license_id": ["A", "A"], "code": ["KZB-11", "KZB-09"],
                            "indicator": ["volume", "volume"], "order": [2, 1]})
    c = improve.carry_over(before, now, planned)
    assert list(zip(c["license_id"], c["indicator"])) == [("A", "volume")]
    assert c["planned"].iloc[0] == "KZB-09;KZB-11"


def _orders():
    months = [str(pd.Period("2025-08", "M") + i) for i in range(15)]
    rows = []
    for i, m in enumerate(months):
        rows.append({"month": m, "license_id": "K1", "qty_supplied": 100.0 * 1.05 ** i})
        rows.append({"month": m, "license_id": "K2", "qty_supplied": 200.0})
    return pd.DataFrame(rows)


def test_key_account_list_trend_by_hand():
    cust = pd.DataFrame({"license_id": ["K1", "K2", "X"], "district_code": "140199",
                         "manager_id": "KM7", "business_format": "超市", "tier": 30,
                         "key_account": [True, True, False]})
    k = ka.key_account_list(_orders(), cust, month="2026-10").set_index("license_id")
    assert "X" not in k.index
    # K2 flat: 同比 0, trend 0; K1 grows 5% a month: 同比 = 1.05^12 - 1 on every month
    assert k.loc["K2", "yoy"] == pytest.approx(0.0) and k.loc["K2", "direction"] == "平稳"
    assert k.loc["K1", "yoy"] == pytest.approx(1.05 ** 12 - 1)
    assert k.loc["K1", "direction"] == "上升" and k.loc["K1", "trend"] == pytest.approx(0.05,
                                                                                     abs=0.003)
    assert k.loc["K2", "volume_cases"] == pytest.approx(200 / 250)


def test_relationship_score_needs_fields():
    visits = pd.DataFrame({"license_id": ["A"], "kzb_codes": ["KZB-02"]})
    score, note = ka.relationship_score(visits)
    assert score is None and "未包含客情关系考核字段" in note and "10/10" in note
    full = pd.DataFrame({"license_id": ["A", "A"], **{f: [8, 6] for f in ka.RELATIONSHIP_ITEMS}})
    score, _ = ka.relationship_score(full)
    assert score.iloc[0]["score"] == pytest.approx(70.0) and score.iloc[0]["visits"] == 2
    bad = full.assign(rel_help=[11, 5])
    with pytest.raises(ValueError, match="scored 0-10"):
        ka.relationship_score(bad)


def test_sample_visits_lack_relationship_fields(small_store):
    from kehu_lib import loaders

    score, note = ka.relationship_score(loaders.load_visits(None, "2026-10", store=small_store))
    assert score is None and "不计算" in note
