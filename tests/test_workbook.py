"""Plan workbooks and the folder notebooks write their files into."""

from __future__ import annotations

import numpy as np
import openpyxl
import pandas as pd
import pytest

from kehu_lib import config
from kehu_lib.workbook import display_width, sheet_name, write_workbook


def test_workbook_has_headers_in_row_1_frozen_widths_and_text_ids(tmp_path):
    df = pd.DataFrame({"许可证号": ["014010900001", "140109123423"], "规格名称": ["黄鹤楼（硬珍品）", "云烟"],
                       "销量（箱）": [np.float64(1.5), np.nan], "户数": [np.int64(3), np.int64(12)]})
    path = write_workbook(tmp_path / "a" / "b.xlsx", {"名单": df, "空表": df.iloc[:0]},
                          text_columns=["许可证号"])
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["名单", "空表"]
    ws = wb["名单"]
    assert [c.value for c in ws[1]] == list(df.columns) and ws["A1"].font.bold
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:D3"
    # ids keep their leading zero, as text
    assert ws["A2"].value == "014010900001" and ws["A2"].data_type == "s"
    assert ws["A2"].number_format == "@"
    assert ws["C2"].value == 1.5 and ws["C3"].value is None and ws["D3"].value == 12
    # widths in characters; the file stores them with Excel's cell padding (+0.71)
    assert int(ws.column_dimensions["A"].width) == 14  # 12 digits + 2
    assert int(ws.column_dimensions["B"].width) == 16 + 2  # 8 CJK characters count double
    assert [c.value for c in wb["空表"][1]] == list(df.columns) and wb["空表"].max_row == 1


def test_widths_and_sheet_names():
    assert display_width("万柏林区") == 8 and display_width("ab\nabcd") == 4
    assert display_width(None) == 0 and display_width(float("nan")) == 0
    used: set[str] = set()
    assert sheet_name("a/b:c", used) == "a_b_c"
    long = "很" * 40
    assert sheet_name(long, used) == "很" * 31
    assert sheet_name(long, used) == "很" * 29 + "_2"


def test_workbook_without_sheets_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no sheet"):
        write_workbook(tmp_path / "x.xlsx", {})


def test_notebook_files_default_outside_the_notebooks_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("KEHU_REPORTS", str(tmp_path / "reports"))
    base = tmp_path / "reports" / "interactive" / "2026-10"
    assert config.files_dir("", month="2026-10", place="万柏林区") == base / "wanbailin"
    assert config.files_dir(None, month="2026-10", place=config.CITY) == base / "city"
    assert config.files_dir(".", month="2026-10", place="小店区") == base / "xiaodian"
    assert config.files_dir("sub", month="2026-10", place="小店区") == base / "xiaodian" / "sub"
    assert config.files_dir(tmp_path / "x", month="2026-10", place="小店区") == tmp_path / "x"
    assert config.files_dir("", place="某地/区") == tmp_path / "reports" / "interactive" / "latest" / "某地_区"
    assert not config.files_dir("", month="2026-10").is_relative_to(config.NOTEBOOKS_DIR)


def test_workbook_is_the_per_cell_workbook(tmp_path):
    """write_workbook (cells by column, ColumnSheet) writes the package XlsxWriter writes cell by
    cell, part for part: ids, texts, ints, floats (NaN, infinities, float32), booleans, dates,
    timestamps (with a time zone), pandas' missing values, an empty sheet."""
    import datetime as dt

    from xlsx_reference import parts, per_cell_write_workbook, seen

    n = 20
    df = pd.DataFrame({
        "许可证号": [f"0140109{i:05d}" if i % 5 else None for i in range(n)],
        "名称": ["黄鹤楼", "云烟", "", "a<b&c", None] * 4,
        "户数": np.arange(n, dtype=np.int64), "比": np.r_[np.linspace(-1, 1, n - 3), np.nan,
                                                        np.inf, -0.0],
        "f32": np.arange(n, dtype=np.float32) / 3, "是否": [True, False] * 10,
        "日": [dt.date(2026, 10, 1 + i) for i in range(n)],
        "时": pd.date_range("2026-10-01 08:00", periods=n, freq="h", tz="Asia/Shanghai"),
        "缺": pd.array([None if i % 3 else i for i in range(n)], dtype="Int64"),
        "混": [1, "x", 2.5, None, True] * 4})
    sheets = [("名单", df), ("空表", df.iloc[:0]), ("名单", df.iloc[::-1])]
    write_workbook(tmp_path / "bulk.xlsx", sheets, text_columns=["许可证号"])
    per_cell_write_workbook(tmp_path / "cells.xlsx", sheets, text_columns=["许可证号"])
    bulk, cells = (tmp_path / "bulk.xlsx").read_bytes(), (tmp_path / "cells.xlsx").read_bytes()
    assert parts(bulk) == parts(cells)
    assert seen(bulk) == seen(cells)
