"""XLSX workbooks an analyst opens in Excel: headers in row 1, frozen, fitted widths, ids as text.

:func:`write_workbook` writes one sheet per frame with XlsxWriter. Every sheet has its column
headers in row 1 (bold, filled), the header row frozen, an auto-filter over the table, column
widths fitted to the longest text (CJK characters count double) within bounds, and the given id
columns (licence ids, SKU codes, district codes) stored as text with the ``@`` format, so that
Excel neither drops leading zeros nor shows ``1.40109E+11``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from .present.format import text_width

__all__ = ["write_workbook", "display_width", "sheet_name"]

MIN_WIDTH, MAX_WIDTH = 6, 60


def display_width(value) -> int:
    """Width of ``value`` as text in Excel's character units (wide CJK characters count 2)."""
    if value is None or (isinstance(value, float) and value != value):
        return 0
    text = str(value)
    longest = max(text.splitlines() or [""], key=len)
    return text_width(longest)


def sheet_name(name: str, used: set[str]) -> str:
    """``name`` made a valid, unique Excel sheet name (31 characters, no ``[]:*?/\\``)."""
    clean = "".join("_" if ch in '[]:*?/\\' else ch for ch in str(name)).strip("'") or "Sheet"
    base, n = clean[:31], 2
    while base in used:
        suffix = f"_{n}"
        base, n = clean[:31 - len(suffix)] + suffix, n + 1
    used.add(base)
    return base


def write_workbook(path: str | Path, sheets: Mapping[str, pd.DataFrame] | Iterable[tuple[str, pd.DataFrame]],
                   *, text_columns: Iterable[str] = ()) -> Path:
    """Write ``sheets`` (name -> frame, in order) to ``path``; returns the path.

    ``text_columns``: header names whose values are ids, written as text (``@`` format).
    """
    import xlsxwriter

    items = list(sheets.items()) if isinstance(sheets, Mapping) else list(sheets)
    if not items:
        raise ValueError(f"{path}: no sheet to write")
    text_cols = set(text_columns)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    with xlsxwriter.Workbook(str(path)) as wb:
        head = wb.add_format({"bold": True, "bg_color": "#EEF3FA", "valign": "vcenter"})
        text = wb.add_format({"num_format": "@"})
        day = wb.add_format({"num_format": "yyyy-mm-dd"})
        stamp = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        for name, df in items:
            ws = wb.add_worksheet(sheet_name(name, used))
            df = df.reset_index(drop=True)
            for j, col in enumerate(df.columns):
                ws.write_string(0, j, str(col), head)
                ident = str(col) in text_cols
                for i, v in enumerate(df.iloc[:, j].tolist(), 1):
                    _write(ws, i, j, v, ident, text, day, stamp)
                width = max([display_width(col)] + [display_width(v) for v in df.iloc[:, j]])
                ws.set_column(j, j, min(MAX_WIDTH, max(MIN_WIDTH, width + 2)))
            ws.freeze_panes(1, 0)
            if len(df.columns):
                ws.autofilter(0, 0, max(len(df), 1), len(df.columns) - 1)
    return path


def _write(ws, row: int, col: int, v, ident: bool, text, day, stamp) -> None:
    """One cell: missing stays blank, an id is text (``@``), numbers, booleans and dates keep
    their type; any other value is written as its text (never as a formula or a link)."""
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
        return
    if ident:
        ws.write_string(row, col, str(v), text)
    elif isinstance(v, (bool, np.bool_)):
        ws.write_boolean(row, col, bool(v))
    elif isinstance(v, (int, float, np.integer, np.floating)):
        if np.isfinite(v):
            ws.write_number(row, col, v)
    elif isinstance(v, dt.datetime):
        ws.write_datetime(row, col, v.replace(tzinfo=None), stamp)
    elif isinstance(v, dt.date):
        ws.write_datetime(row, col, v, day)
    else:
        ws.write_string(row, col, str(v))
