"""The district XLSX: the reports' key tables, one sheet each, as an analyst wants to filter them.

Each sheet has Chinese headers from the glossary in row 1 (frozen, with a filter), number formats
by kind (counts and 元 with separators, 万元 and 箱 to one decimal, shares as %, changes of
shares in 百分点), codes written as names, booleans as 是/否, ids (licence ids, SKU codes) as
text, and column widths fitted to the content. The tables are the full lists the HTML caps.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from typing import Any, Iterable

import numpy as np
import pandas as pd

from . import format as fmt
from . import glossary
from .tables import BY_ROW
from .xlsx_cells import ColumnSheet

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


#: Kinds written by :func:`kehu_lib.present.format.number`: the text's width grows with the
#: value's magnitude on either side of zero, so a column's widest text is its largest or smallest
#: value's (or the missing mark).
_NUMBER_KINDS = ("number", "count", "money", "money_wan", "cartons", "cases", "share", "growth",
                 "share_change", "score", "score_change")


def _column(df: pd.DataFrame, col: str, row_keys: str | None):
    """(header, values, number format, shown texts) of one column: a numeric column's values
    are an array of floats (missing and non-finite: NaN, written blank) with one format, and
    its shown texts only those that can be the widest (see :data:`_NUMBER_KINDS`); otherwise
    a list of Python values with one format, or a format per row (the ``row_keys`` table)."""
    if not all(glossary.has(str(c)) for c in df.columns):  # a sheet with its own headers
        values = [None if fmt.is_missing(v) else (v.item() if hasattr(v, "item") else v)
                  for v in df[col].tolist()]
        return str(col), values, None, [str(v) for v in values]
    if row_keys and col in BY_ROW:  # each row its own quantity (an indicator table)
        raw = df[col].tolist()  # Python values: iterating an Arrow-backed column is slow
        entries = [glossary.entry(k) for k in df[row_keys].tolist()]
        return (glossary.header(col), [_cell_value(v, e) for v, e in zip(raw, entries)],
                [_number_format(e) for e in entries],
                [fmt.value(v, e.key) for v, e in zip(raw, entries)])
    e = glossary.entry(str(col))
    if e.kind in _NUMBER_KINDS:
        x = pd.to_numeric(df[col]).to_numpy(dtype=float, na_value=np.nan)
        finite = x[np.isfinite(x)]
        widest = [finite.min(), finite.max()] if len(finite) else []
        shown = [fmt.value(v, e.key) for v in widest] + ([fmt.MISSING] if len(finite) < len(x)
                                                          else [])
        return e.header, x * 100 if e.kind == "share_change" else x, _number_format(e), shown
    raw = df[col].tolist()
    if e.kind in _TEXT_KINDS or e.kind in ("bool", "code"):  # written as shown: format once
        seen: dict = {}
        values = []
        for v in raw:
            try:
                values.append(seen[v])
            except (KeyError, TypeError):  # a new (or unhashable) value
                w = _cell_value(v, e)
                try:
                    seen[v] = w
                except TypeError:
                    pass
                values.append(w)
        return e.header, values, _number_format(e), [fmt.MISSING if v is None else v
                                                     for v in values]
    values = [_cell_value(v, e) for v in raw]
    return e.header, values, _number_format(e), list(fmt.series(df[col], str(col)))


#: Characters XML 1.0 (and so XLSX) cannot hold; dropped from text cells.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Characters Excel refuses in a sheet title.
_BAD_TITLE = re.compile(r"[\\/*?:\[\]]")
HEADER = {"bold": True, "bg_color": "#EEF3FA", "align": "center", "valign": "vcenter"}


class _Formats:
    """The workbook's cell formats, one XlsxWriter format per number format."""

    def __init__(self, wb) -> None:
        self.wb, self.cache = wb, {}
        self.header = wb.add_format(HEADER)

    def __call__(self, number_format: str | None):
        if number_format is None:
            return None
        if number_format not in self.cache:
            self.cache[number_format] = self.wb.add_format({"num_format": number_format})
        return self.cache[number_format]


def _write_sheet(wb, formats: _Formats, name: str, df: pd.DataFrame,
                 row_keys: str | None = None) -> None:
    """One table on sheet ``name``: headers in row 1 (frozen, with a filter), its rows below;
    text as text (``@``), numbers with their format, dates as dates; missing and non-finite
    values stay blank. Cells are written a column at a time (:class:`ColumnSheet`)."""
    ws = wb.add_worksheet(name, worksheet_class=ColumnSheet)
    text = formats("@")
    for j, col in enumerate(df.columns):
        head, values, number_format, shown = _column(df, col, row_keys)
        ws.write_string_column(j, 0, [head], formats.header)
        if isinstance(values, np.ndarray):  # floats of one format
            ws.write_number_column(j, 1, values, formats(number_format))
        elif set(map(type, values)) <= {str, type(None)}:  # texts
            ws.write_string_column(j, 1, _texts(values), text)
        else:
            by_row = number_format if isinstance(number_format, list) else None
            cells = [_cell(v, formats(number_format if by_row is None else by_row[i]), formats)
                     for i, v in enumerate(values)]
            ws.write_column(j, 1, [c[0] for c in cells], [c[1] for c in cells])
        widths = map(display_width, set(map(str, [head, *shown])))
        ws.set_column(j, j, min(60, max(widths) + 2))
    ws.freeze_panes(1, 0)
    if len(df.columns) and len(df):
        ws.autofilter(0, 0, len(df), len(df.columns) - 1)


def _texts(values: list) -> list:
    """Text cells as written: control characters XML cannot hold dropped, "" left blank."""
    clean: dict[str, str] = {}
    out = []
    for v in values:
        if not v:
            out.append(None)
            continue
        try:
            out.append(clean[v])
        except KeyError:
            out.append(clean.setdefault(v, _ILLEGAL.sub("", v)))
    return out


def _cell(v: Any, number_format, formats: _Formats) -> tuple[Any, Any]:
    """(value, format) of one cell of any kind: text (``@``, control characters dropped),
    booleans, dates (``yyyy-mm-dd``, with the time if any), numbers with ``number_format``;
    (None, None) for a blank (missing, "", non-finite); anything else as its text."""
    if v is None or isinstance(v, str) and not v:
        return None, None
    if isinstance(v, str):
        return _ILLEGAL.sub("", v), formats("@")
    if isinstance(v, (bool, np.bool_)):
        return bool(v), None
    if isinstance(v, dt.datetime):
        return v, formats("yyyy-mm-dd h:mm:ss")
    if isinstance(v, dt.date):
        return v, formats("yyyy-mm-dd")
    if isinstance(v, (int, float, np.integer, np.floating)):
        return (v, number_format) if math.isfinite(v) else (None, None)
    return _ILLEGAL.sub("", str(v)), formats("@")


def _sheet_names(names: Iterable[str]) -> list[str]:
    """Sheet titles Excel accepts: at most 31 characters, none of \\ / * ? : [ ], no quote at
    either end, unique."""
    used: set[str] = set()
    out = []
    for name in names:
        clean = _BAD_TITLE.sub("_", str(name)).strip("'") or "表"
        base, n = clean[:31], 2
        while base in used:
            base, n = f"{clean[:28]}_{n}", n + 1
        used.add(base)
        out.append(base)
    return out


def workbook_bytes(sheets: list[tuple]) -> bytes:
    """An XLSX of ``sheets`` ((name, frame) or (name, frame, row_keys)): frames with glossary-key
    columns get Chinese headers and number formats by kind (by row for the ``row_keys`` table's
    value columns); others are written as they are. Returns the file's bytes (XlsxWriter)."""
    import xlsxwriter

    buf = io.BytesIO()
    with xlsxwriter.Workbook(buf, {"in_memory": True}) as wb:
        formats = _Formats(wb)
        for name, (_, df, *rest) in zip(_sheet_names(s[0] for s in sheets), sheets):
            _write_sheet(wb, formats, name, df, rest[0] if rest else None)
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
