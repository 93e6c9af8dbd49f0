"""The district XLSX writer: Chinese headers in row 1, frozen, number formats by kind, ids as
text, codes as names, widths fitted (kehu_lib.present.xlsx)."""

from __future__ import annotations

import io

import pandas as pd
from openpyxl import load_workbook

from kehu_lib import config
from kehu_lib.present import xlsx


def test_workbook_sheet_has_headers_formats_and_text_ids():
    code = config.DISTRICTS[0]
    df = pd.DataFrame({"district_code": [code.code], "license_id": ["140105000012"],
                       "shops": [591.0], "amount": [479760.4], "share": [0.1234],
                       "change_pp": [0.012], "price_alert": [True]})
    summary = xlsx.summary_sheet([("市场分析报告", "销量同比", 0.0118), ("x", "unknown", 2)])
    wb = load_workbook(io.BytesIO(xlsx.workbook_bytes([("预警", df), ("关键指标", summary)])))
    ws = wb["预警"]
    assert [c.value for c in ws[1]] == ["区县", "许可证号", "户数", "金额（元）", "占比",
                                        "占比变动（百分点）", "价格预警"]
    assert ws.freeze_panes == "A2"
    row = [c for c in ws[2]]
    assert row[0].value == code.name                       # code shown as its name
    assert row[1].value == "140105000012" and row[1].number_format == "@"  # id as text
    assert row[2].value == 591 and row[2].number_format == "#,##0"
    assert row[3].number_format == "#,##0"
    assert row[4].value == 0.1234 and row[4].number_format == "0.0%"
    assert abs(row[5].value - 1.2) < 1e-9 and row[5].number_format.startswith("+0.0")
    assert row[6].value == "是"
    assert ws.column_dimensions["B"].width >= 14  # fitted to the 12-digit id
    s = wb["关键指标"]
    assert [c.value for c in s[2]] == ["市场分析报告", "销量同比", "+1.2%"]
    assert [c.value for c in s[3]] == ["x", "unknown", "2"]


def test_sheet_names_are_unique_and_short():
    names = xlsx._sheet_names(["重点客户", "重点客户", "x" * 40])
    assert names[0] != names[1] and all(len(n) <= 31 for n in names)


def test_display_width_counts_cjk_double():
    assert xlsx.display_width("区县a") == 5


def test_indicator_table_formats_each_row_by_its_quantity():
    df = pd.DataFrame({"indicator": ["volume_cases", "value_per_case", "active_shops"],
                       "value": [64.86, 22194.4, 75.0], "yoy": [-0.028, 0.011, -0.026]})
    wb = load_workbook(io.BytesIO(xlsx.workbook_bytes([("经营概况", df, "indicator")])))
    ws = wb["经营概况"]
    assert [c.value for c in ws[1]] == ["指标", "本期", "同比"]
    assert [ws.cell(row=i, column=1).value for i in (2, 3, 4)] == [
        "销量（箱）", "单箱值（元）", "有效户数"]
    assert [ws.cell(row=i, column=2).number_format for i in (2, 3, 4)] == [
        "#,##0.0", "#,##0", "#,##0"]
    assert ws.cell(row=2, column=3).number_format == "+0.0%;-0.0%;0.0%"
