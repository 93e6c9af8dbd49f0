"""Tests of the presentation layer: glossary, formatting by kind, tables.

Expected strings are written by hand from the rules of issue 11 (counts integers with separators,
money whole 元 or 万元 to one decimal, shares % to one decimal, share changes in 百分点, never
"-0.0", booleans 是/否, codes as names).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from kehu_lib import config
from kehu_lib.present import Table, format as fmt, glossary


# ------------------------------------------------------------------------------------ format

@pytest.mark.parametrize("func, value, want", [
    (fmt.count, 591.0, "591"),
    (fmt.count, 12345, "12,345"),
    (fmt.money, 479760.0, "479,760"),
    (fmt.money, 479760.5, "479,760"),          # banker's rounding of .5 to even
    (fmt.money_wan, 978.9351, "978.9"),
    (fmt.cases, 415.808, "415.8"),
    (fmt.cartons, 1234.4, "1,234"),
    (fmt.share, 0.4568, "45.7%"),
    (fmt.share, -0.0001, "0.0%"),              # never -0.0%
    (fmt.growth, 0.0118, "+1.2%"),
    (fmt.growth, -0.0362, "-3.6%"),
    (fmt.growth, -0.0004, "0.0%"),
    (fmt.share_change, 0.012, "+1.2"),
    (fmt.share_change, -0.0002, "0.0"),
    (fmt.pp, -0.021, "-2.1个百分点"),
    (fmt.score, 79.96, "80.0"),
    (fmt.pvalue, 0.00001, "<0.0001"),
    (fmt.pvalue, 0.01234, "0.0123"),
    (fmt.boolean, True, "是"),
    (fmt.boolean, np.bool_(False), "否"),
    (fmt.count, None, "—"),
    (fmt.share, float("nan"), "—"),
    (fmt.money, pd.NA, "—"),
])
def test_format_by_kind(func, value, want):
    assert func(value) == want


def test_money_wan_from_yuan():
    assert fmt.money_wan(479760, from_yuan=True) == "48.0"


def test_number_never_negative_zero():
    assert fmt.number(-0.04, 1) == "0.0"
    assert fmt.number(-0.06, 1) == "-0.1"


def test_value_by_glossary_kind():
    xiaodian = config.DISTRICTS[0]
    assert fmt.value(xiaodian.code, "district_code") == xiaodian.name
    assert fmt.value(2, "severity") == "价格与库存双预警"
    assert fmt.value(2.0, "severity") == "价格与库存双预警"
    assert fmt.value(True, "price_alert") == "是"
    assert fmt.value(591.0, "shops") == "591"
    assert fmt.value(0.95123, "price_index") == "0.951"
    assert fmt.value(pd.Timestamp("2026-11-01"), "month") == "2026-11"


def test_series_keeps_codes_as_names():
    s = pd.Series([config.DISTRICTS[1].code, None])
    assert fmt.series(s, "district_code").tolist() == [config.DISTRICTS[1].name, "—"]


# ---------------------------------------------------------------------------------- glossary

def test_glossary_headers_and_units():
    assert glossary.header("volume_cases") == "销量（箱）"
    assert glossary.header("volume") == "销量（条）"
    assert glossary.header("amount_wan") == "销售额（万元）"
    assert glossary.header("shops") == "户数"     # no "户数（户）"


def test_glossary_every_entry_is_valid():
    entries = glossary.columns()
    assert len(entries) > 100
    for key, e in entries.items():
        assert e.zh and e.kind in glossary.KINDS, key
        # a label is Chinese or a named statistic, never a snake_case key
        assert not re.fullmatch(r"[a-z0-9_]+", e.zh), key


def test_glossary_orders_categories():
    cat = glossary.ordered(["<12h", ">16h", "12-16h"], "opening_hours")
    assert list(cat.categories) == ["<12h", "12-16h", ">16h"]
    cat = glossary.ordered(["三类", "一类", "五类", "二类"], "price_class")
    assert list(cat.sort_values()) == ["一类", "二类", "三类", "五类"]


def test_glossary_unknown_column_is_a_clear_error():
    with pytest.raises(KeyError, match="no entry in glossary.yaml"):
        glossary.entry("no_such_column")


# ------------------------------------------------------------------------------------ tables

def test_empty_table_is_one_sentence():
    t = Table(pd.DataFrame(columns=["sku_name", "price_index"]), title="市场预警",
              empty="本月没有触发预警的规格（价格指数均不低于0.95）")
    page = t._repr_html_()
    assert "<table" not in page
    assert "市场预警：本月没有触发预警的规格（价格指数均不低于0.95）" in page


def test_capped_table_says_how_many_and_where():
    df = pd.DataFrame({"license_id": [f"1401050000{i:02d}" for i in range(63)],
                       "volume": np.arange(63, dtype=float)})
    t = Table(df, title="重点品牌流失户", cap=50)
    page = t._repr_html_()
    assert page.count("<tr>") == 51  # header + 50 rows
    assert "共63户，显示前50户，完整名单见 XLSX 的〈重点品牌流失户〉" in page
    assert t.sheet == "重点品牌流失户"


def test_uncapped_table_has_no_note_and_chinese_headers():
    df = pd.DataFrame({"shops": [591.0], "amount": [479760.0], "stock_alert": [False],
                       "change_pp": [-0.0001]})
    page = Table(df, title="t")._repr_html_()
    assert "<th>户数</th>" in page and "<th>金额（元）</th>" in page
    assert "<td>591</td>" in page and "<td>479,760</td>" in page
    assert ">否<" in page and "-0.0" not in page
    assert "kehu-note" not in page


def test_table_is_formatted_once_for_html_and_text(monkeypatch):
    """A display asks a table for its HTML and its plain text: the values are written once;
    a new frame (or cap) is written anew."""
    t = Table(pd.DataFrame({"shops": [591.0, 12.0], "amount": [479760.0, 1.0]}), title="t")
    calls = []
    strings = Table.strings
    monkeypatch.setattr(Table, "strings", lambda self, v, c: calls.append(c) or strings(self, v, c))
    page, text = t._repr_html_(), repr(t)
    assert calls == ["shops", "amount"]
    assert "<td>479,760</td>" in page and "479,760" in text
    t.data = pd.DataFrame({"shops": [7.0], "amount": [2.0]})
    assert "<td>7</td>" in t._repr_html_() and "591" not in repr(t)
    t.cap = 0
    assert "共1户，显示前0户" in t._repr_html_()


def test_table_refuses_unknown_columns_and_city_list_without_district():
    with pytest.raises(KeyError, match="no glossary entry"):
        Table(pd.DataFrame({"mystery": [1]}), title="x")
    with pytest.raises(ValueError, match="区县"):
        Table(pd.DataFrame({"license_id": ["1"]}), title="x", city=True)
    Table(pd.DataFrame({"license_id": ["1"], "district_code": ["140105"]}), title="x", city=True)


def test_index_figures_use_the_glossary_kinds():
    from kehu_lib.batch.index import _figures

    heads = {"销量_箱": 415.808, "销量同比": 0.0118, "单箱值_元": 23542.96, "预警数": 1,
             "share_grocery": 0.6542, "有效户数": 378.0, "not_in_glossary": 1234.5}
    wanted = {"销量_箱": "销量（箱）", "销量同比": "销量同比%", "单箱值_元": "单箱值（元）",
              "预警数": "市场预警", "share_grocery": "食杂店占比%", "有效户数": "有效户数",
              "not_in_glossary": "其他"}
    assert _figures(heads, wanted, 3) == [
        ("销量（箱）", "415.8"), ("销量同比", "+1.2%"), ("单箱值（元）", "23,543"),
        ("市场预警", "1"), ("食杂店占比", "65.4%"), ("有效户数", "378"), ("其他", "1,234")]


def test_store_fields_and_tables_are_named_by_the_glossary():
    """The data dictionary's Chinese terms have one home (glossary store_field/store_table):
    every field and table of kehu_lib.schema has one, and the glossary keeps none unused."""
    from kehu_lib import schema
    from kehu_lib.present import glossary

    fields = glossary.code_names("store_field")
    used = set()
    for t in schema.TABLES.values():
        assert t.zh == glossary.code_names("store_table")[t.name]
        for f in t.fields:
            used.add(f.term or f.name)
            assert f.zh == fields[f.term or f.name] and f.zh != f.name, (t.name, f.name)
    assert used == set(fields)
    assert set(glossary.code_names("store_table")) == set(schema.TABLES)
    # the one name that means two things: the guided price of a SKU vs the price checked
    assert schema.TABLES["products"].field("retail_price").zh == "建议零售价"
    assert schema.TABLES["price_checks"].field("retail_price").zh == "实际零售价"


def test_plain_text_is_pandas_to_string():
    """A table's plain text (written directly) is what pandas' ``to_string(index=False)``
    writes for the same frame of strings: CJK cells, empty cells, long cells, tabs and line
    feeds (escaped), headers shorter and longer than their cells."""
    import random

    from kehu_lib.present.tables import plain_text

    rng = random.Random(11)
    cells = ["小店区", "a", "1,234", "", " ", "x" * 60, "-0.1%", "是", "万柏林区 店", "ab\tc",
             "x\ny", "r\r", "NaN", "  lead", "trail  ", "—"]
    heads = ["区县", "销量（箱）", "x", "名 称", "a\tb", "户数"]
    for _ in range(400):
        nc, nr = rng.randint(1, 5), rng.randint(1, 6)
        hs = [f"{rng.choice(heads)}{i}" for i in range(nc)]
        cols = [[rng.choice(cells) for _ in range(nr)] for _ in range(nc)]
        want = pd.DataFrame(dict(zip(hs, cols))).to_string(index=False)
        assert plain_text(hs, cols) == want
    # what pandas trims or merges is left to pandas
    assert plain_text([" 0", "x"], [["a"], ["b"]]) == pd.DataFrame({" 0": ["a"], "x": ["b"]}).to_string(index=False)
    assert plain_text(["n"], [[1.5]]) == pd.DataFrame({"n": [1.5]}).to_string(index=False)


def test_a_column_blank_in_every_shown_row_is_left_out():
    """A 提示 column with nothing to say is not a header over empty cells; a column with one
    value is kept."""
    t = Table(pd.DataFrame({"item": ["R01", "R02"], "note": ["", ""],
                            "signal": ["", "down"]}))
    view, cols = t.shown()
    assert list(view.columns) == ["item", "signal"] and len(cols) == 2
    html = t._repr_html_()
    assert html.count("<th>") == 2 and "显著下降" in html


def test_consumer_classes_are_named_as_the_seeds_do():
    """Consumer price classes are codes A-D in the data and A类..D类 on the page (seed 004:
    "A类：为高档卷烟消费者"), in the glossary's order."""
    assert fmt.series(pd.Series(["C", "A"]), "consumer_class").tolist() == ["C类", "A类"]
    assert list(glossary.ordered(["C", "A"], "consumer_class").categories[:2]) == ["A", "B"]
    # 营业时长 as the census seed words it (seed 002: 不足12个小时, 12-16小时, 16小时以上)
    assert fmt.series(pd.Series([">16h", "<12h"]), "opening_hours").tolist() == \
        ["16小时以上", "不足12小时"]
