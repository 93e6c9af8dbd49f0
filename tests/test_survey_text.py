"""Tests of kehu_lib.present.survey_text: the change sentences read the coded change rows."""

import pandas as pd

from kehu_lib.metrics import survey_change
from kehu_lib.present import survey_text


def _changes():
    return pd.DataFrame({
        "comparison": ["yoy", "mom", "mom"], "district_code": ["140107", "140107", "140105"],
        "item": ["R02", "R02", "R05"], "diff": [-18.04, -21.26, 3.0],
        "ci_low": [-25.0, -28.0, -1.0], "ci_high": [-11.0, -14.6, 7.0],
        "p_adj": [0.004, 0.00001, 0.4], "significant": [True, True, False],
        "test": ["welch", "paired_t", "paired_t"], "n_pairs": [0, 58, 60]})


def test_sentences_name_comparison_test_and_pairs_most_significant_first():
    out = survey_text.change_sentences(_changes(), labels={"R02": "供货满意度"})
    assert out == [
        "环比：杏花岭区 供货满意度下降21.3分（95%置信区间 -28.0～-14.6分，校正后p<0.001，"
        "配对t检验，58对），显著下降。",
        "同比：杏花岭区 供货满意度下降18.0分（95%置信区间 -25.0～-11.0分，校正后p=0.004，"
        "Welch t检验），显著下降。"]


def test_no_codes_reach_the_sentence():
    for s in survey_text.change_sentences(_changes()):
        assert "mom" not in s and "yoy" not in s and "paired_t" not in s


def test_nothing_significant_gives_no_sentence():
    ch = _changes().assign(significant=False)
    assert survey_text.change_sentences(ch) == []
    assert survey_text.change_sentences(ch.iloc[:0]) == []


def test_the_glossary_names_the_survey_codes_and_metrics_write_no_sentences():
    # the metric returns codes; the glossary names them (comparison_code)
    from kehu_lib.present import glossary
    assert glossary.code_name("comparison_code", "mom") == "环比"
    assert glossary.code_name("ipa_quadrant", "fix_first") == "优先改进"
    assert not hasattr(survey_change, "change_findings")
