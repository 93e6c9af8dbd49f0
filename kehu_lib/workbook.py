"""XLSX workbooks an analyst opens in Excel: headers in row 1, frozen, fitted widths, ids as text.

:func:`write_workbook` writes one sheet per frame with XlsxWriter (cells a column at a time,
:class:`kehu_lib.present.xlsx_cells.ColumnSheet`). Every sheet has its column
headers in row 1 (bold, filled), the header row frozen, an auto-filter over the table, column
widths fitted to the longest text (CJK characters count double) within bounds, and the given id
columns (licence ids, SKU codes, district codes) stored as text with the ``@`` format, so that
Excel neither drops leading zeros nor shows ``1.40109E+11``.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from .present.format import text_width
from .present.xlsx_cells import ColumnSheet

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
    buf = io.BytesIO()
    with xlsxwriter.Workbook(buf, {"in_memory": True}) as wb:
        head = wb.add_format({"bold": True, "bg_color": "#EEF3FA", "valign": "vcenter"})
        text = wb.add_format({"num_format": "@"})
        day = wb.add_format({"num_format": "yyyy-mm-dd"})
        stamp = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        for name, df in items:
            ws = wb.add_worksheet(sheet_name(name, used), worksheet_class=ColumnSheet)
            for j, (col, series) in enumerate(df.items()):
                ws.write_string_column(j, 0, [str(col)], head)
                ident = str(col) in text_cols
                values = series.tolist()
                cells = [_cell(v, ident, text, day, stamp) for v in values]
                ws.write_column(j, 1, [c[0] for c in cells], [c[1] for c in cells])
                shown = {str(v) for v in series if not _blank_width(v)}  # each once
                width = max([display_width(col)] + [display_width(v) for v in shown])
                ws.set_column(j, j, min(MAX_WIDTH, max(MIN_WIDTH, width + 2)))
            ws.freeze_panes(1, 0)
            if len(df.columns):
                ws.autofilter(0, 0, max(len(df), 1), len(df.columns) - 1)
    path.write_bytes(buf.getvalue())
    return path


def _blank_width(v) -> bool:
    """Whether ``v`` has no width (:func:`display_width`: None and NaN floats)."""
    return v is None or (isinstance(v, float) and v != v)


def _cell(v, ident: bool, text, day, stamp) -> tuple:
    """(value, format) of one cell as :class:`ColumnSheet` writes it: missing stays blank
    (None), an id is text (``@``), numbers, booleans and dates keep their type; any other value
    is written as its text (never as a formula or a link)."""
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
        return None, None
    if ident:
        return str(v), text
    if isinstance(v, (bool, np.bool_)):
        return bool(v), None
    if isinstance(v, (int, float, np.integer, np.floating)):
        return (v, None) if np.isfinite(v) else (None, None)
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None), stamp
    if isinstance(v, dt.date):
        return v, day
    return str(v), None
