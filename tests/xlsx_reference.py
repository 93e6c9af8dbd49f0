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
