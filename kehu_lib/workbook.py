"""XLSX workbooks an analyst opens in Excel: headers in row 1, frozen, fitted widths, ids as text.

:func:`write_workbook` writes one sheet per frame. Every sheet has its column
headers in row 1 (bold, filled), the header row frozen, an auto-filter over the table, column
widths fitted to the longest text (CJK characters count double) within bounds, and the given id
columns (licence ids, SKU codes, district codes) stored as text with the ``@`` format, so that
Excel neither drops leading zeros nor shows ``1.40109E+11``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping

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
    Written with the district XLSX's SpreadsheetML writer (:func:`kehu_lib.present.xlsx.package`),
    several times faster than openpyxl's cell objects."""
    from .present import xlsx

    items = list(sheets.items()) if isinstance(sheets, Mapping) else list(sheets)
    if not items:
        raise ValueError(f"{path}: no sheet to write")
    text_cols = set(text_columns)
    styles, used, parts = xlsx.Styles(), set(), []
    for name, df in items:
        df = df.reset_index(drop=True)
        head = [str(c) for c in df.columns]
        columns, widths = [], []
        for i, col in enumerate(df.columns):
            ident = head[i] in text_cols
            values = [_value(v, ident) for v in df.iloc[:, i].tolist()]
            columns.append((values, [None] * len(values), "@" if ident else None))
            width = max([display_width(col)] + [display_width(v) for v in df.iloc[:, i]])
            widths.append(min(MAX_WIDTH, max(MIN_WIDTH, width + 2)))
        rows = max(len(df), 1) if len(df.columns) else None  # the filter covers an empty table
        parts.append((sheet_name(name, used),
                      xlsx.sheet_xml(head, columns, widths, styles, filter_rows=rows),
                      (len(df.columns), rows) if rows else None))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(xlsx.package(parts, styles))
    return path


def _value(v, ident: bool):
    """One value as written: missing is blank, an id is text, a numpy scalar a Python one."""
    if v is None or (isinstance(v, float) and v != v) or v is pd.NA or v is pd.NaT:
        return None
    if ident:
        return str(v)
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        return v.item()
    return v
