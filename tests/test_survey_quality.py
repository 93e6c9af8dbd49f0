"""Tests of kehu_lib.metrics.survey_quality: panel coverage and straight-lining flags."""

from __future__ import annotations

import pandas as pd
import pytest

from kehu_lib.metrics.survey_quality import panel_coverage, straight_lining


def survey(rows):
    df = pd.DataFrame(rows, columns=["month", "district_code", "license_id", "item", "answer"])
    df["answer"] = pd.array(df["answer"].tolist(), dtype="Int64")
    df["dont_know"] = df["answer"].isna().astype("boolean")
    return df


ROWS = ([("2026-10", "140109", "s1", f"R0{i}", 4) for i in range(1, 7)]          # straight line
        + [("2026-10", "140109", "s2", f"R0{i}", 3 + i % 2) for i in range(1, 7)]
        + [("2026-10", "140109", "s3", f"R0{i}", None) for i in range(1, 7)]      # no answer
        + [("2026-10", "140110", "s4", f"R0{i}", 5) for i in range(1, 4)])        # too few items


def test_straight_lining_flags_without_dropping():
    out = straight_lining(survey(ROWS), min_items=5).set_index("license_id")
    assert out["straight_line"].to_dict() == {"s1": True, "s2": False, "s4": False}
    assert out.loc["s1", "answer"] == 4 and pd.isna(out.loc["s2", "answer"])
    assert out.loc["s2", ["n_answered", "n_distinct"]].tolist() == [6, 2]


def test_panel_coverage_against_plan():
    districts = pd.DataFrame({"district_code": ["140109", "140110"], "panel_size": [4, 1]})
    out = panel_coverage(survey(ROWS), districts).set_index("district_code")
    # 140109: 3 shops surveyed, 2 answered (s3 gave no valid answer) of 4 planned
    assert out.loc["140109", ["planned", "surveyed", "responded"]].tolist() == [4, 3, 2]
    assert out.loc["140109", "rate"] == pytest.approx(0.5) and out.loc["140109", "short"]
    assert out.loc["140110", "rate"] == pytest.approx(1.0) and not out.loc["140110", "short"]
    assert out.loc["140109", "district"] == "万柏林区"
    assert out["status"].to_dict() == {"140109": "short", "140110": "ok"}
    noplan = panel_coverage(survey(ROWS), districts.assign(panel_size=[4, 0]))
    assert noplan.set_index("district_code").loc["140110", "status"] == "no_plan"


def test_panel_coverage_by_stratum():
    districts = pd.DataFrame({"district_code": ["140109"], "panel_size": [4]})
    cust = pd.DataFrame({"license_id": ["s1", "s2", "s3", "s5"], "district_code": "140109",
                         "urban_rural": ["城镇", "城镇", "乡村", "乡村"],
                         "survey_informant": [True, True, True, True]})
    out = panel_coverage(survey(ROWS[:18]), districts, customers=cust)
    out = out.set_index("urban_rural")
    # plan split 2/2 by the informants' 城乡; 城镇 answered s1, s2; 乡村 only s3 (no answer)
    assert out.loc["城镇", ["planned", "responded"]].tolist() == [2.0, 2]
    assert out.loc["乡村", ["planned", "surveyed", "responded"]].tolist() == [2.0, 1, 0]


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match=r"column\(s\) \['license_id'\] not in the survey data"):
        straight_lining(survey(ROWS).drop(columns="license_id"))
    with pytest.raises(ValueError, match=r"\['panel_size'\] not in the district table"):
        panel_coverage(survey(ROWS), pd.DataFrame({"district_code": ["140109"]}))
