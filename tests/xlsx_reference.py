"""The district workbook written one cell at a time with XlsxWriter's own ``write_*`` methods
(as kehu_lib.present.xlsx wrote it before its bulk ColumnSheet), and what a reader sees of a
workbook: the references the bulk writer is tested against."""

from __future__ import annotations

import datetime as dt
import io
import math
import zipfile

import numpy as np

from kehu_lib.present import xlsx


def per_cell_workbook(sheets: list[tuple]) -> bytes:
    """:func:`kehu_lib.present.xlsx.workbook_bytes` with every cell written by XlsxWriter's
    ``write_number``/``write_string``/``write_boolean``/``write_datetime``."""
    import xlsxwriter

    buf = io.BytesIO()
    with xlsxwriter.Workbook(buf, {"in_memory": True}) as wb:
        formats = xlsx._Formats(wb)
        for name, (_, df, *rest) in zip(xlsx._sheet_names(s[0] for s in sheets), sheets):
            row_keys = rest[0] if rest else None
            ws = wb.add_worksheet(name)
            text = formats("@")
            for j, col in enumerate(df.columns):
                head, values, nf, shown = xlsx._column(df, col, row_keys)
                nfs = nf if isinstance(nf, list) else [nf] * len(values)
                ws.write_string(0, j, head, formats.header)
                for i, (v, f) in enumerate(zip(list(values), nfs), 1):
                    if v is None or isinstance(v, str) and not v:
                        continue
                    if isinstance(v, str):
                        ws.write_string(i, j, xlsx._ILLEGAL.sub("", v), text)
                    elif isinstance(v, (bool, np.bool_)):
                        ws.write_boolean(i, j, bool(v))
                    elif isinstance(v, dt.datetime):
                        ws.write_datetime(i, j, v, formats("yyyy-mm-dd h:mm:ss"))
                    elif isinstance(v, dt.date):
                        ws.write_datetime(i, j, v, formats("yyyy-mm-dd"))
                    elif isinstance(v, (int, float, np.integer, np.floating)):
                        if math.isfinite(v):
                            ws.write_number(i, j, v, formats(f))
                    else:
                        ws.write_string(i, j, xlsx._ILLEGAL.sub("", str(v)), text)
                width = max(xlsx.display_width(x) for x in [head, *shown])
                ws.set_column(j, j, min(60, width + 2))
            ws.freeze_panes(1, 0)
            if len(df.columns) and len(df):
                ws.autofilter(0, 0, len(df), len(df.columns) - 1)
    return buf.getvalue()


def parts(data: bytes) -> dict[str, bytes]:
    """The package's parts by name, less its creation time (docProps/core.xml)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


def seen(data: bytes) -> dict:
    """What a reader (openpyxl) sees: per sheet its cells (value, type, number format) row by
    row, header fonts and fills, column widths, frozen panes and filter range."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data))
    out = {}
    for ws in wb.worksheets:
        cells = [[(c.value, c.data_type, c.number_format, c.font.b, c.fill.fgColor.rgb)
                  for c in row] for row in ws.iter_rows()]
        widths = {k: d.width for k, d in ws.column_dimensions.items()}
        out[ws.title] = (cells, widths, ws.freeze_panes, ws.auto_filter.ref)
    return out


def per_cell_write_workbook(path, sheets, *, text_columns=()) -> None:
    """:func:`kehu_lib.workbook.write_workbook` with every cell written by XlsxWriter's own
    ``write_*`` methods, one at a time (as it was before its bulk ColumnSheet)."""
    import pandas as pd
    import xlsxwriter

    from kehu_lib.workbook import MAX_WIDTH, MIN_WIDTH, display_width, sheet_name

    text_cols, used = set(text_columns), set()
    with xlsxwriter.Workbook(str(path)) as wb:
        head = wb.add_format({"bold": True, "bg_color": "#EEF3FA", "valign": "vcenter"})
        text = wb.add_format({"num_format": "@"})
        day = wb.add_format({"num_format": "yyyy-mm-dd"})
        stamp = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        for name, df in sheets:
            ws = wb.add_worksheet(sheet_name(name, used))
            df = df.reset_index(drop=True)
            for j, col in enumerate(df.columns):
                ws.write_string(0, j, str(col), head)
                ident = str(col) in text_cols
                for i, v in enumerate(df.iloc[:, j].tolist(), 1):
                    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float)
                                                                  and v != v):
                        continue
                    if ident:
                        ws.write_string(i, j, str(v), text)
                    elif isinstance(v, (bool, np.bool_)):
                        ws.write_boolean(i, j, bool(v))
                    elif isinstance(v, (int, float, np.integer, np.floating)):
                        if np.isfinite(v):
                            ws.write_number(i, j, v)
                    elif isinstance(v, dt.datetime):
                        ws.write_datetime(i, j, v.replace(tzinfo=None), stamp)
                    elif isinstance(v, dt.date):
                        ws.write_datetime(i, j, v, day)
                    else:
                        ws.write_string(i, j, str(v))
                width = max([display_width(col)] + [display_width(v) for v in df.iloc[:, j]])
                ws.set_column(j, j, min(MAX_WIDTH, max(MIN_WIDTH, width + 2)))
            ws.freeze_panes(1, 0)
            if len(df.columns):
                ws.autofilter(0, 0, max(len(df), 1), len(df.columns) - 1)
