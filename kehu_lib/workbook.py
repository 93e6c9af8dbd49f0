"""XLSX workbooks an analyst opens in Excel: headers in row 1, frozen, fitted widths, ids as text.

:func:`write_workbook` writes one sheet per frame with openpyxl. Every sheet has its column
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
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    items = list(sheets.items()) if isinstance(sheets, Mapping) else list(sheets)
    if not items:
        raise ValueError(f"{path}: no sheet to write")
    text_cols = set(text_columns)
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="EEF3FA")
    for name, df in items:
        ws = wb.create_sheet(sheet_name(name, used))
        df = df.reset_index(drop=True)
        ws.append([str(c) for c in df.columns])
        for cell in ws[1]:
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(vertical="center", wrap_text=False)
        ids = [i for i, c in enumerate(df.columns) if str(c) in text_cols]
        for row in df.itertuples(index=False, name=None):
            values = []
            for i, v in enumerate(row):
                if v is None or (isinstance(v, float) and v != v) or v is pd.NA or v is pd.NaT:
                    values.append(None)
                elif i in ids:
                    values.append(str(v))
                elif hasattr(v, "item") and not isinstance(v, (str, bytes)):
                    values.append(v.item())  # numpy scalar -> Python
                else:
                    values.append(v)
            ws.append(values)
        for i, col in enumerate(df.columns):
            letter = get_column_letter(i + 1)
            width = max([display_width(col)] + [display_width(v) for v in df.iloc[:, i]])
            ws.column_dimensions[letter].width = min(MAX_WIDTH, max(MIN_WIDTH, width + 2))
            if i in ids:
                for (cell,) in ws.iter_rows(min_row=2, min_col=i + 1, max_col=i + 1):
                    cell.number_format = "@"
        ws.freeze_panes = "A2"
        if len(df.columns):
            ws.auto_filter.ref = f"A1:{get_column_letter(len(df.columns))}{max(len(df), 1) + 1}"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
