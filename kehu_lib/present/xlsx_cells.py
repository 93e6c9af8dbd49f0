"""An XlsxWriter worksheet whose cells are given a column at a time and written out in bulk.

XlsxWriter keeps every cell as an object and writes its XML one cell at a time (checks, a
tuple, attribute escaping, a formatted write per cell): for a table of a few hundred thousand
cells that is most of the workbook's cost. :class:`ColumnSheet` takes whole columns instead
(numbers, texts, or mixed values) and renders the sheet's ``<sheetData>`` part itself, with
string building over lists; everything else (shared strings, formats and styles, column
widths, panes, filters, the package) stays XlsxWriter's.

The XML is the one XlsxWriter writes for the same cells (tested byte for byte against
``write_number``/``write_string``/... in ``tests/test_present_xlsx.py``): the same cell
elements and number texts (``%.16G``), shared-string indices in the order the cells are given
(column by column), format indices assigned in XlsxWriter's order (first use, row by row),
``<row>`` elements with the same ``spans``.

Use it through ``workbook.add_worksheet(name, worksheet_class=ColumnSheet)`` and write cells
only with its ``write_*column`` methods (not mixed with XlsxWriter's per-cell ``write_*``,
which it refuses), each cell once (runs of one column must not overlap). It relies on a few
of XlsxWriter's internals (the shared-string table, ``Format._get_xf_index``, the
``_write_sheet_data`` step); the byte-for-byte test is what guards an XlsxWriter upgrade.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Sequence

import numpy as np
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

__all__ = ["ColumnSheet"]

#: Longest text of a cell, in UTF-16 code units (XlsxWriter's ``xls_strmax``).
_STRMAX = 32767


def _truncate(text: str) -> str:
    """``text`` cut to Excel's longest cell text, as XlsxWriter's ``write_string`` does."""
    if len(text) <= _STRMAX // 2 or len(text.encode("utf-16-le")) // 2 <= _STRMAX:
        return text
    return text.encode("utf-16-le")[:2 * _STRMAX].decode("utf-16-le", errors="ignore")


class ColumnSheet(Worksheet):
    """A worksheet written a column at a time; see the module's doc."""

    def __init__(self) -> None:
        super().__init__()
        #: (column, first row, values as written in <v> or None for no cell, type attribute,
        #: format or per-row formats) per written run of cells, in the order given
        self._runs: list[tuple[int, int, list, Any, Any]] = []

    # -- writing ---------------------------------------------------------------------------

    def _add_run(self, col: int, first_row: int, texts: list, types: Any, formats: Any) -> None:
        if None in texts:  # blanks among the cells
            present = [i for i, v in enumerate(texts) if v is not None]
            if not present:
                return
            ends = present[0], present[-1]
        elif texts:
            ends = 0, len(texts) - 1
        else:
            return
        for r in (first_row + ends[0], first_row + ends[1]):
            if self._check_dimensions(r, col):
                raise IndexError(f"cell ({r}, {col}) is outside the worksheet")
        self._runs.append((col, first_row, texts, types, formats))

    def write_number_column(self, col: int, first_row: int, values: np.ndarray,
                            cell_format=None) -> None:
        """Numbers from ``first_row`` down (``write_number``); NaN and infinities are left
        blank."""
        x = np.asarray(values, dtype=float)
        finite = np.isfinite(x).tolist()
        texts = [f"{v:.16G}" if ok else None for v, ok in zip(x.tolist(), finite)]
        self._add_run(col, first_row, texts, "", cell_format)

    def write_string_column(self, col: int, first_row: int, values: Sequence[str | None],
                            cell_format=None) -> None:
        """Texts from ``first_row`` down (``write_string``: shared strings); None is left
        blank."""
        table = self.str_table
        index: dict[str, str] = {}  # text -> its shared-string index, as written
        for v in values:  # texts new to the table join it in the order of their first cell
            if v is not None and v not in index:
                index[v] = str(table._get_shared_string_index(_truncate(v)))
        texts = [None if v is None else index[v] for v in values]
        table.count += len(values) - texts.count(None) - len(index)  # every cell counts
        self._add_run(col, first_row, texts, ' t="s"', cell_format)

    def write_column(self, col: int, first_row: int, values: Sequence[Any],
                     formats: Sequence[Any]) -> None:
        """Values of any kind from ``first_row`` down, each with its format: numbers
        (``write_number``; NaN and infinities blank), texts (``write_string``), booleans
        (``write_boolean``), dates and datetimes (``write_datetime``, the format given); None
        is left blank."""
        index = self.str_table._get_shared_string_index
        texts, types, fmts = [], [], []
        for v, f in zip(values, formats):
            t = ""
            if v is None:
                text = None
            elif isinstance(v, str):
                text, t = str(index(_truncate(v))), ' t="s"'
            elif isinstance(v, (bool, np.bool_)):
                text, t = ("1" if v else "0"), ' t="b"'
            elif isinstance(v, (dt.date, dt.datetime, dt.time, dt.timedelta)):
                text = f"{self._convert_date_time(v):.16G}"
            elif math.isfinite(v):
                text = f"{v:.16G}"
            else:
                text = None
            texts.append(text)
            types.append(t)
            fmts.append(f)
        self._add_run(col, first_row, texts, types, fmts)

    # -- XML -------------------------------------------------------------------------------

    def _write_sheet_data(self) -> None:
        if self.table or self.row_info or self.comments:
            raise ValueError("ColumnSheet: cells written per cell or row options set; "
                             "write whole columns only")
        if not self._runs:
            super()._write_sheet_data()
            return
        nrows = self.dim_rowmax + 1
        self._assign_format_indices()
        cells: dict[int, list] = {}
        for col, first, texts, types, formats in self._runs:
            column = cells.setdefault(col, [None] * nrows)
            name = xl_col_to_name(col)
            if isinstance(types, str) and not isinstance(formats, list):
                s = f' s="{formats._get_xf_index()}"' if formats else ""
                tail = f'"{s}{types}><v>'
                for r, v in enumerate(texts, first + 1):
                    if v is not None:
                        column[r - 1] = f'<c r="{name}{r}{tail}{v}</v></c>'
            else:
                for r, v, t, f in zip(range(first + 1, nrows + 1), texts, types, formats):
                    if v is not None:
                        s = f' s="{f._get_xf_index()}"' if f else ""
                        column[r - 1] = f'<c r="{name}{r}"{s}{t}><v>{v}</v></c>'
        columns = [cells[c] for c in sorted(cells)]
        spans = self._spans(sorted(cells), columns, nrows)
        out = ["<sheetData>"]
        for r, row in enumerate(zip(*columns)):
            body = "".join(filter(None, row))
            if body:
                out.append(f'<row r="{r + 1}" spans="{spans[r >> 4]}">{body}</row>')
        out.append("</sheetData>")
        self.fh.write("".join(out))

    def _assign_format_indices(self) -> None:
        """Give the formats their XF index in the order XlsxWriter does: by first use, row by
        row (left to right) through the sheet."""
        first: dict[int, tuple[int, int, Any]] = {}  # id(format) -> (row, column, format)
        for col, start, texts, _types, formats in self._runs:
            if isinstance(formats, list):
                pairs = ((start + i, f) for i, (v, f) in enumerate(zip(texts, formats))
                         if v is not None and f)
            else:
                i = next(i for i, v in enumerate(texts) if v is not None)
                pairs = [(start + i, formats)] if formats else []
            for r, f in pairs:
                if id(f) not in first or (r, col) < first[id(f)][:2]:
                    first[id(f)] = (r, col, f)
        for *_pos, f in sorted(first.values(), key=lambda p: p[:2]):
            f._get_xf_index()

    @staticmethod
    def _spans(cols: list[int], columns: list[list], nrows: int) -> list[str]:
        """The ``spans`` of each block of 16 rows: first:last column (1-based) with a cell."""
        lo = np.full((nrows + 15) // 16, -1)
        hi = lo.copy()
        for c, column in zip(cols, columns):  # left to right
            blocks = np.unique(np.flatnonzero(np.not_equal(np.array(column, dtype=object),
                                                           None)) >> 4)
            lo[blocks[lo[blocks] < 0]] = c
            hi[blocks] = c
        return [f"{a + 1}:{z + 1}" if a >= 0 else "" for a, z in zip(lo.tolist(), hi.tolist())]
