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


def test_workbook_edge_values_read_back_in_openpyxl():
    """Titles Excel refuses are cleaned, text keeps its spaces and loses control characters,
    non-finite numbers and "" are blank, dates are dates, booleans stay booleans, the filter
    covers the table and an empty table keeps its headers (read back with openpyxl)."""
    import datetime as dt

    df = pd.DataFrame({"名称": [" a b ", "x\x01y", ""], "值": [1.5, float("nan"), float("inf")],
                       "日期": [dt.date(2026, 10, 1), None, None], "是否": [True, False, True]})
    wb = load_workbook(io.BytesIO(xlsx.workbook_bytes([("a/b:c's", df), ("空", df.head(0))])))
    ws = wb["a_b_c's"]
    assert [c.value for c in ws[2]] == [" a b ", 1.5, dt.datetime(2026, 10, 1), True]
    assert [c.value for c in ws[3]][:2] == ["xy", None] and ws["B4"].value is None
    assert ws["A4"].value is None and ws["A2"].number_format == "@"
    assert ws["C2"].number_format == "yyyy-mm-dd"
    assert ws.auto_filter.ref == "A1:D4" and ws.freeze_panes == "A2"
    assert [c.value for c in wb["空"][1]] == ["名称", "值", "日期", "是否"]
    head = ws["A1"]
    assert head.font.b and head.fill.fgColor.rgb.endswith("EEF3FA")


def test_numeric_column_widths_fit_the_widest_shown_value():
    """A numeric column's width is fitted from its largest and smallest values only (the text
    of a number grows with its magnitude on either side of zero); it must equal the width fitted
    to every value's text, whichever sign or missing value is the widest."""
    import numpy as np

    from kehu_lib.present import format as fmt

    rng = np.random.default_rng(7)
    cols = {
        "shops": np.r_[rng.integers(0, 999, 50), 123456].astype(float),     # 123,456
        "amount": np.r_[rng.normal(0, 100, 50), -98765.4],                  # negative widest
        "share": np.r_[rng.uniform(0, 0.2, 50), np.nan],                    # missing mark
        "change_pp": np.r_[rng.normal(0, 0.01, 50), 0.99949],               # rounds to +99.9
        "yoy": np.r_[rng.normal(0, 0.1, 50), -0.00004],                     # rounds to 0.0%
    }
    df = pd.DataFrame(cols)
    ws = load_workbook(io.BytesIO(xlsx.workbook_bytes([("表", df)])))["表"]
    for j, col in enumerate(df.columns):
        texts = [fmt.value(v, col) for v in df[col]] + [xlsx.glossary.header(col)]
        expected = min(60, max(xlsx.display_width(t) for t in texts) + 2)
        letter = ws.cell(row=1, column=j + 1).column_letter
        assert int(ws.column_dimensions[letter].width) == expected, col  # + padding
        values = [ws.cell(row=i + 2, column=j + 1).value for i in range(len(df))]
        scale = 100 if col == "change_pp" else 1
        assert [v is None for v in values] == list(df[col].isna()), col  # missing: blank
        written = np.array([np.nan if v is None else v for v in values])
        np.testing.assert_allclose(written, df[col] * scale, rtol=1e-14)  # 16 digits in XML


def _column_sheet_pair():
    """The same cells written per cell by XlsxWriter and by columns with ColumnSheet: numbers
    (NaN, infinities, -0.0, tiny, huge, ints, NumPy scalars), texts (repeated across columns
    and sheets, XML specials, longer than Excel keeps), booleans, dates, formats per row, rows
    with no cell, a column whose cells start in a later block of 16 rows (spans), formats first
    used in another order than made (XF indices)."""
    import datetime as dt

    import numpy as np
    import xlsxwriter

    from kehu_lib.present.xlsx_cells import ColumnSheet

    n = 40
    nums = np.linspace(-1e6, 1e6, n)
    nums[[1, 5, 7, 9]] = [np.nan, np.inf, -np.inf, -0.0]
    nums[[10, 11, 12]] = [1e-300, 1.2345678901234567e20, 0.1 + 0.2]
    texts = [None if i % 7 == 3 else ["甲", "a<b&c\"d'", " 空格 ", "乙"][i % 4] for i in range(n)]
    texts[13] = "长" * 40000
    mixed = [True, np.bool_(False), dt.date(2026, 10, 1), dt.datetime(2026, 10, 1, 8, 30), 3,
             np.int64(-4), np.float32(0.1), "文本", None, float("nan")] * 4
    late = [None] * 20 + [f"{i}" for i in range(20)]
    by_row = np.arange(n) * 1.5  # D3 uses "0.0" before C4 uses the date format

    def build(bulk: bool) -> bytes:
        buf = io.BytesIO()
        with xlsxwriter.Workbook(buf, {"in_memory": True}) as wb:
            head = wb.add_format({"bold": True})
            f1, f2, f3 = (wb.add_format({"num_format": s}) for s in ("0.0", "#,##0", "@"))
            day = wb.add_format({"num_format": "yyyy-mm-dd"})
            row_formats = [f1 if i % 3 else f2 for i in range(n)]
            mixed_formats = [None, None, day, day, f2, f2, f1, f3, None, None] * 4
            for sheet in ("一", "二"):
                # the second sheet: the texts' first uses in another order
                words = texts if sheet == "一" else texts[::-1]
                ws = wb.add_worksheet(sheet, worksheet_class=ColumnSheet if bulk else None)
                for j, h in enumerate(["数", "文", "混", "行", "晚"]):
                    (ws.write_string_column(j, 0, [h], head) if bulk
                     else ws.write_string(0, j, h, head))
                if bulk:
                    ws.write_number_column(0, 1, nums, f2)
                    ws.write_string_column(1, 1, words, f3)
                    ws.write_column(2, 1, mixed, mixed_formats)
                    ws.write_column(3, 1, list(by_row), row_formats)
                    ws.write_string_column(4, 1, late, None)
                else:
                    # column by column, as the bulk writer gives its cells (shared strings
                    # are numbered in the order they are written)
                    for i in range(n):
                        if np.isfinite(nums[i]):
                            ws.write_number(i + 1, 0, nums[i], f2)
                    for i in range(n):
                        if words[i] is not None:
                            ws.write_string(i + 1, 1, words[i], f3)
                    for i in range(n):
                        v, f = mixed[i], mixed_formats[i]
                        if isinstance(v, str):
                            ws.write_string(i + 1, 2, v, f)
                        elif isinstance(v, (bool, np.bool_)):
                            ws.write_boolean(i + 1, 2, bool(v), f)
                        elif isinstance(v, dt.date):
                            ws.write_datetime(i + 1, 2, v, f)
                        elif v is not None and np.isfinite(v):
                            ws.write_number(i + 1, 2, v, f)
                    for i in range(n):
                        ws.write_number(i + 1, 3, by_row[i], row_formats[i])
                    for i in range(n):
                        if late[i] is not None:
                            ws.write_string(i + 1, 4, late[i])
                ws.set_column(0, 4, 12)
                ws.freeze_panes(1, 0)
                ws.autofilter(0, 0, n, 4)
        return buf.getvalue()

    return build(False), build(True)


def test_column_sheet_writes_the_xml_xlsxwriter_writes_per_cell():
    """ColumnSheet's package is XlsxWriter's per-cell one, part for part, byte for byte (sheet
    XML, shared strings, styles); a reader sees the same cells."""
    from xlsx_reference import parts, seen

    per_cell, bulk = _column_sheet_pair()
    a, b = parts(per_cell), parts(bulk)
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == b[name], name
    assert seen(per_cell) == seen(bulk)
    ws = load_workbook(io.BytesIO(bulk))["一"]
    assert ws["A3"].value is None and ws["A7"].value is None and ws["C5"].is_date  # NaN, inf
    assert len(ws["B15"].value) == 32767  # cut to Excel's longest text, as XlsxWriter does


def test_column_sheet_refuses_cells_written_one_at_a_time():
    import pytest
    import xlsxwriter

    from kehu_lib.present.xlsx_cells import ColumnSheet

    wb = xlsxwriter.Workbook(io.BytesIO(), {"in_memory": True})
    ws = wb.add_worksheet("a", worksheet_class=ColumnSheet)
    ws.write_string_column(0, 0, ["x"])
    ws.write_number(1, 0, 1.0)
    with pytest.raises(ValueError, match="whole columns"):
        wb.close()


def test_workbook_is_the_per_cell_workbook():
    """workbook_bytes (ColumnSheet) writes the same package as XlsxWriter's per-cell writes of
    the same sheets: every kind of glossary column, an indicator table (formats by row), a
    sheet with its own headers, an empty sheet."""
    import datetime as dt

    from xlsx_reference import parts, per_cell_workbook, seen

    code = config.DISTRICTS[0]
    df = pd.DataFrame({"district_code": [code.code, None, code.code],
                       "license_id": ["140105000012", "x\x02", None],
                       "shops": [591.0, None, float("inf")], "amount": [479760.4, -1.5, 0.0],
                       "share": [0.1234, None, 1.0], "change_pp": [0.012, -0.3, None],
                       "price_alert": [True, False, None], "month": ["2026-10", "", None]})
    ind = pd.DataFrame({"indicator": ["volume_cases", "value_per_case", "active_shops"],
                        "value": [64.86, 22194.4, None], "yoy": [-0.028, None, -0.026]})
    own = pd.DataFrame({"名称": [" a ", None, "b"], "值": [1, 2, 3], "比": [0.5, None, 2.0],
                        "日期": [dt.date(2026, 10, 1), dt.datetime(2026, 10, 2, 9), None],
                        "是否": [True, False, None]})
    sheets = [("预警", df), ("经营概况", ind, "indicator"), ("自带表头", own), ("空", df.head(0)),
              ("预警", df.iloc[::-1])]
    a, b = xlsx.workbook_bytes(sheets), per_cell_workbook(sheets)
    assert parts(a) == parts(b)
    assert seen(a) == seen(b)
