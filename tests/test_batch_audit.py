"""The page audit on small synthetic pages: each rule firing, and not firing on a clean page."""

from __future__ import annotations

import pandas as pd
import pytest

from kehu_lib.batch.audit import RULES, audit_page, count_charts


def page(*parts: str) -> str:
    return ("<!DOCTYPE html><html><head><title>140109</title><style>td{color:#140109}</style>"
            "</head><body><h2>一、销量</h2>" + "".join(parts) + "</body></html>")


def rules(html: str) -> list[str]:
    return [p.rule for p in audit_page(html)]


CLEAN = pd.DataFrame({"区县": ["万柏林区", "迎泽区"], "销量（箱）": ["1,234", "987"],
                      "铺市缓慢": ["是", "否"], "零售户数": [591, 12]})


def test_a_clean_page_has_no_problem():
    html = page(CLEAN.to_html(index=False), "<pre>本月共 63 户，环比 +2.1%</pre>",
                "<p>许可证号 140109123423 的零售户</p>",
                '<img alt="图表" src="data:image/png;base64,MTQwMTA5">')
    assert audit_page(html) == []


@pytest.mark.parametrize("value", [True, False, None, float("nan"), pd.NaT, pd.NA])
def test_raw_values_in_cells_are_flagged(value):
    df = CLEAN.assign(标记=[value, "是"])
    problems = audit_page(page(df.to_html(index=False)))
    assert [p.rule for p in problems] == ["raw_value"]
    assert problems[0].where == "表 1（一、销量） 第1行第5列"


def test_raw_values_in_the_index_are_flagged():
    df = pd.DataFrame({"销量": [1, 2]}, index=pd.Index([True, False], name="达标"))
    assert rules(page(df.to_html())) == ["raw_value", "raw_value"]


def test_snake_case_headers_are_flagged_once_each():
    df = CLEAN.rename(columns={"销量（箱）": "volume_cases"})
    problems = audit_page(page(df.to_html(index=False)))
    assert [(p.rule, p.text) for p in problems] == [("snake_header", "volume_cases")]


def test_english_only_tables_are_flagged():
    df = pd.DataFrame({"row": ["a"], "col": ["b"], "chi2": [3.2], "p value": [0.04]})
    assert rules(page(df.to_html(index=False))) == ["english_table"]
    mixed = pd.DataFrame({"row": ["a"], "卡方值": [3.2]})  # one Chinese header is a label table
    assert rules(page(mixed.to_html(index=False))) == []


def test_header_only_tables_are_flagged():
    empty = CLEAN.iloc[0:0]
    problems = audit_page(page(empty.to_html(index=False)))
    assert [p.rule for p in problems] == ["empty_table"]
    assert problems[0].text.startswith("区县、销量（箱）")
    assert rules(page(CLEAN.iloc[:1].to_html(index=False))) == []


@pytest.mark.parametrize("text", ["{'share_grocery': 0.31, 'n': 591}",
                                  'headline {"销量": 12}',
                                  "did_kzb06_effect: False\nshare: 0.3",
                                  "  volume_cases : 12"])
def test_dumps_in_outputs_are_flagged(text):
    problems = audit_page(page(f"<pre>{text}</pre>"))
    assert [p.rule for p in problems] == ["dump"]


@pytest.mark.parametrize("text", ["要点：本月销量 1,234 箱", "见 http://intranet/kehu",
                                  "区县 万柏林区：63 户", "比例 {占比}"])
def test_sentences_are_not_dumps(text):
    assert rules(page(f"<pre>{text}</pre>")) == []


def test_bare_district_codes_are_flagged_but_not_licence_ids_or_images():
    assert rules(page("<p>区县代码 140105</p>")) == ["district_code"]
    df = pd.DataFrame({"区县代码": ["140109"], "销量": [3]})
    assert rules(page(df.to_html(index=False))) == ["district_code"]
    assert rules(page("<p>许可证号 140105000123，金额 1401.05 元，编号 2140105</p>",
                      '<img src="data:image/png;base64,140105">')) == []


def test_shown_code_is_not_audited():
    code = ('<div class="input"><div class="input_area"><div class="highlight">'
            "<pre>x = {'a': 1}\nflag: bool = True</pre></div></div></div>")
    assert rules(page(code)) == []


def test_every_rule_is_documented():
    import kehu_lib.batch.audit as audit

    assert all(rule in audit.__doc__ for rule in RULES)


def test_count_charts():
    assert count_charts(page("<p>无图</p>")) == 0
    img = '<img alt="图表" src="data:image/png;base64,AAAA">'
    assert count_charts(page(img, "<div>", img.upper(), "</div>")) == 2
