"""The district XLSX: the reports' key tables, one sheet each, as an analyst wants to filter them.

Each sheet has Chinese headers from the glossary in row 1 (frozen, with a filter), number formats
by kind (counts and 元 with separators, 万元 and 箱 to one decimal, shares as %, changes of
shares in 百分点), codes written as names, booleans as 是/否, ids (licence ids, SKU codes) as
text, and column widths fitted to the content. The tables are the full lists the HTML caps.
"""

from __future__ import annotations

import io
from typing import Any, Iterable

import pandas as pd

from . import format as fmt
from . import glossary
from .tables import BY_ROW

__all__ = ["NUMBER_FORMATS", "workbook_bytes", "summary_sheet", "display_width"]

#: Excel number format of each numeric kind (``number`` uses the entry's decimals).
NUMBER_FORMATS = {
    "count": "#,##0", "money": "#,##0", "cartons": "#,##0", "money_wan": "#,##0.0",
    "cases": "#,##0.0", "share": "0.0%", "growth": "+0.0%;-0.0%;0.0%",
    "share_change": "+0.0;-0.0;0.0", "score": "0.0", "score_change": "+0.0;-0.0;0.0",
    "pvalue": "0.0000",
}
_TEXT_KINDS = ("text", "id", "month", "category", "route")


def display_width(text: Any) -> int:
    """Width of ``text`` in Excel columns (a CJK character counts two)."""
    return fmt.text_width(text)


def _number_format(e: glossary.Entry) -> str | None:
    if e.kind == "number":
        d = 1 if e.decimals is None else e.decimals
        return "#,##0" + ("." + "0" * d if d else "")
    return NUMBER_FORMATS.get(e.kind)


def _cell_value(v: Any, e: glossary.Entry):
    """One value as written: numbers stay numbers, the rest become text (None if missing)."""
    if fmt.is_missing(v):
        return None
    if e.kind in _TEXT_KINDS or e.kind in ("bool", "code"):
        return fmt.value(v, e.key)
    if e.kind == "share_change":
        return float(v) * 100  # 百分点
    return float(v)


def _column(df: pd.DataFrame, col: str, row_keys: str | None):
    """(header, values, number formats per row, shown texts) of one column."""
    raw = df[col].tolist()  # Python values: iterating an Arrow-backed column is slow
    if not all(glossary.has(str(c)) for c in df.columns):  # a sheet with its own headers
        values = [None if fmt.is_missing(v) else (v.item() if hasattr(v, "item") else v)
                  for v in raw]
        return str(col), values, [None] * len(values), [str(v) for v in values]
    if row_keys and col in BY_ROW:  # each row its own quantity (an indicator table)
        entries = [glossary.entry(k) for k in df[row_keys].tolist()]
        return (glossary.header(col), [_cell_value(v, e) for v, e in zip(raw, entries)],
                [_number_format(e) for e in entries],
                [fmt.value(v, e.key) for v, e in zip(raw, entries)])
    e = glossary.entry(str(col))
    values = [_cell_value(v, e) for v in raw]
    if e.kind in _TEXT_KINDS or e.kind in ("bool", "code"):  # written as shown: format once
        shown = [fmt.MISSING if v is None else v for v in values]
    else:
        shown = list(fmt.series(df[col], str(col)))
    return e.header, values, [_number_format(e)] * len(df), shown


def _write_sheet(wb, name: str, df: pd.DataFrame, row_keys: str | None = None) -> None:
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(name)
    widths = []
    for j, col in enumerate(df.columns, 1):
        head, values, formats, shown = _column(df, col, row_keys)
        ws.cell(row=1, column=j, value=head)
        for i, (v, nf) in enumerate(zip(values, formats), 2):
            c = ws.cell(row=i, column=j, value=v)
            if isinstance(v, str):
                c.number_format = "@"
            elif v is not None and nf:
                c.number_format = nf
        widths.append(min(60, max(display_width(x) for x in [head, *shown]) + 2))
    from openpyxl.styles import Alignment, Font, PatternFill

    for j, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(j)].width = w
        cell = ws.cell(row=1, column=j)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="EEF3FA")
        cell.alignment = Alignment(horizontal="center", vertical="center")
    ws.freeze_panes = "A2"
    if len(df.columns) and len(df):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(df.columns))}{len(df) + 1}"


def _sheet_names(names: Iterable[str]) -> list[str]:
    used: set[str] = set()
    out = []
    for name in names:
        base, n = str(name)[:31], 2
        while base in used:
            base, n = f"{str(name)[:28]}_{n}", n + 1
        used.add(base)
        out.append(base)
    return out


def workbook_bytes(sheets: list[tuple]) -> bytes:
    """An XLSX of ``sheets`` ((name, frame) or (name, frame, row_keys)): frames with glossary-key
    columns get Chinese headers and number formats by kind (by row for the ``row_keys`` table's
    value columns); others are written as they are. Returns the file's bytes."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, (_, df, *rest) in zip(_sheet_names(s[0] for s in sheets), sheets):
        _write_sheet(wb, name, df, rest[0] if rest else None)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def summary_sheet(rows: Iterable[tuple[str, str, Any]]) -> pd.DataFrame:
    """The 关键指标 sheet: (report title, headline key, value) rows with the figure's Chinese
    name and its value written by kind (keys the glossary does not know are shown as given)."""
    out = []
    for report, key, value in rows:
        if glossary.has(key):
            out.append((report, glossary.header(key), fmt.value(value, key)))
        else:
            out.append((report, key, fmt.MISSING if fmt.is_missing(value) else str(value)))
    return pd.DataFrame(out, columns=["报告", "指标", "数值"])
