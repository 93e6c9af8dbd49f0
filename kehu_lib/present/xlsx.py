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
from xml.sax.saxutils import escape as _xml_escape

import numpy as np
import pandas as pd

from . import format as fmt
from . import glossary
from .tables import BY_ROW

__all__ = ["NUMBER_FORMATS", "workbook_bytes", "summary_sheet", "display_width", "sheet_xml",
           "package", "Styles"]

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


#: Style of the header row (bold, light blue fill, centred) in :func:`_styles_xml`.
HEADER_FILL = "EEF3FA"
_NS = ('xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
       'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"')
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")  # not allowed in XML 1.0
_EPOCH = dt.datetime(1899, 12, 30)
_BAD_TITLE = re.compile(r"[\\/*?:\[\]]")


def _column_letter(j: int) -> str:
    """Excel's letters of the 1-based column ``j`` (1 -> A, 27 -> AA)."""
    out = ""
    while j:
        j, r = divmod(j - 1, 26)
        out = chr(65 + r) + out
    return out


def _attr(v: str) -> str:
    return _xml_escape(v, {'"': "&quot;"})


def _text(v: str) -> str:
    v = _xml_escape(_ILLEGAL.sub("", v))
    space = ' xml:space="preserve"' if v != v.strip() else ""
    return f"<is><t{space}>{v}</t></is>"


class Styles:
    """The workbook's cell formats: 0 default, 1 header, then one per number format."""

    def __init__(self) -> None:
        self.formats: dict[str, int] = {}  # number format -> cellXfs index

    def index(self, number_format: str) -> int:
        return self.formats.setdefault(number_format, len(self.formats) + 2)

    def xml(self) -> str:
        custom = {f: 164 + i for i, f in enumerate(f for f in self.formats if f != "@")}
        num_fmts = "".join(f'<numFmt numFmtId="{i}" formatCode="{_attr(f)}"/>'
                           for f, i in custom.items())
        xfs = ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>',
               '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" '
               'applyFill="1" applyAlignment="1"><alignment horizontal="center" '
               'vertical="center"/></xf>']
        xfs += [f'<xf numFmtId="{49 if f == "@" else custom[f]}" fontId="0" fillId="0" '
                'borderId="0" xfId="0" applyNumberFormat="1"/>' for f in self.formats]
        return (f'{_XML}<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
                f'main">' + (f'<numFmts count="{len(custom)}">{num_fmts}</numFmts>'
                             if custom else "")
                + '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/>'
                '</font><font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
                '</fonts><fills count="3"><fill><patternFill patternType="none"/></fill><fill>'
                '<patternFill patternType="gray125"/></fill><fill><patternFill '
                f'patternType="solid"><fgColor rgb="FF{HEADER_FILL}"/><bgColor indexed="64"/>'
                '</patternFill></fill></fills><borders count="1"><border><left/><right/><top/>'
                '<bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" '
                f'fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="{len(xfs)}">'
                + "".join(xfs) + '</cellXfs><cellStyles count="1"><cellStyle name="Normal" '
                'xfId="0" builtinId="0"/></cellStyles></styleSheet>')


def _cell_xml(ref: str, v: Any, nf: str | None, styles: Styles, text: str | None = "@") -> str:
    """One ``<c>``: text as an inline string (format ``text``: ``@`` or None for General),
    numbers with ``nf``, dates as Excel dates; None, "" (as openpyxl) or a number that is not
    finite writes nothing."""
    if v is None or isinstance(v, str) and not v:
        return ""
    if isinstance(v, str):
        style = f' s="{styles.index(text)}"' if text else ""
        return f'<c r="{ref}"{style} t="inlineStr">{_text(v)}</c>'
    if isinstance(v, (bool, np.bool_)):
        return f'<c r="{ref}" t="b"><v>{int(v)}</v></c>'
    if isinstance(v, (dt.datetime, dt.date)):
        day = v if isinstance(v, dt.datetime) else dt.datetime(v.year, v.month, v.day)
        v, nf = (day.replace(tzinfo=None) - _EPOCH).total_seconds() / 86400, \
            "yyyy-mm-dd h:mm:ss" if isinstance(v, dt.datetime) else "yyyy-mm-dd"
    if isinstance(v, (int, float, np.integer, np.floating)):
        if not math.isfinite(v):
            return ""
        style = f' s="{styles.index(nf)}"' if nf else ""
        return f'<c r="{ref}"{style}><v>{v!r}</v></c>' if isinstance(v, float) else \
            f'<c r="{ref}"{style}><v>{int(v)}</v></c>'
    return _cell_xml(ref, str(v), None, styles, text)


def sheet_xml(head: list[str], columns: list[tuple[list, list, str | None]],
              widths: list[float], styles: Styles, *, filter_rows: int | None) -> str:
    """The worksheet XML of one table: ``head`` in row 1 (header style, frozen), then the rows
    of ``columns`` ((values, number formats, format of text cells) per column), the columns
    ``widths`` wide; an auto-filter over ``filter_rows`` rows below the header (None: none)."""
    letters = [_column_letter(j) for j in range(1, len(head) + 1)]
    rows = ['<row r="1">' + "".join(f'<c r="{letter}1" s="1" t="inlineStr">{_text(h)}</c>'
                                    for letter, h in zip(letters, head)) + "</row>"]
    n = len(columns[0][0]) if columns else 0
    for i in range(n):
        r = i + 2
        rows.append(f'<row r="{r}">' + "".join(
            _cell_xml(f"{letter}{r}", values[i], formats[i], styles, text)
            for letter, (values, formats, text) in zip(letters, columns)) + "</row>")
    last = f"{letters[-1]}{n + 1}" if letters else "A1"
    cols = "".join(f'<col min="{j}" max="{j}" width="{w}" customWidth="1"/>'
                   for j, w in enumerate(widths, 1))
    return (f"{_XML}<worksheet {_NS}><dimension ref=\"A1:{last}\"/><sheetViews><sheetView "
            'workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
            'state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
            '</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
            + (f"<cols>{cols}</cols>" if cols else "") + f"<sheetData>{''.join(rows)}</sheetData>"
            + (f'<autoFilter ref="A1:{_column_letter(len(head))}{filter_rows + 1}"/>'
               if head and filter_rows is not None else "")
            + "</worksheet>")


def _sheet_xml(df: pd.DataFrame, row_keys: str | None, styles: Styles) -> str:
    """A table's worksheet: Chinese headers, values and formats by kind, widths fitted to the
    content (see the module docstring)."""
    head, columns, widths = [], [], []
    for col in df.columns:
        header, values, formats, shown = _column(df, col, row_keys)
        head.append(header)
        columns.append((values, formats, "@"))
        widths.append(min(60, max(display_width(x) for x in [header, *shown]) + 2))
    return sheet_xml(head, columns, widths, styles,
                     filter_rows=len(df) if len(df.columns) and len(df) else None)


def _sheet_names(names: Iterable[str]) -> list[str]:
    used: set[str] = set()
    out = []
    for name in names:
        name = _BAD_TITLE.sub("_", str(name)) or "表"  # characters Excel refuses in a title
        base, n = name[:31], 2
        while base in used:
            base, n = f"{name[:28]}_{n}", n + 1
        used.add(base)
        out.append(base)
    return out


def workbook_bytes(sheets: list[tuple]) -> bytes:
    """An XLSX of ``sheets`` ((name, frame) or (name, frame, row_keys)): frames with glossary-key
    columns get Chinese headers and number formats by kind (by row for the ``row_keys`` table's
    value columns); others are written as they are. Returns the file's bytes.

    The SpreadsheetML is written directly (inline strings, one cell format per number format):
    openpyxl builds and serialises an object per cell, ~1 s of CPU for a district's ~13,000
    cells, once per district in every batch; read back with openpyxl in the tests."""
    styles, names = Styles(), _sheet_names(s[0] for s in sheets)
    parts = []
    for name, (_, df, *rest) in zip(names, sheets):
        parts.append((name, _sheet_xml(df, rest[0] if rest else None, styles),
                      (len(df.columns), len(df)) if len(df.columns) and len(df) else None))
    return package(parts, styles)


def package(sheets: list[tuple[str, str, tuple[int, int] | None]], styles: Styles) -> bytes:
    """The XLSX file of ``sheets`` ((name, worksheet XML of :func:`sheet_xml`, the (columns,
    rows) of its auto-filter or None), names valid and unique) with the ``styles`` they used."""
    import zipfile

    entries = [f'<sheet name="{_attr(name)}" sheetId="{n}" r:id="rId{n}"/>'
               for n, (name, _, _) in enumerate(sheets, 1)]
    parts = [(f"xl/worksheets/sheet{n}.xml", xml) for n, (_, xml, _) in enumerate(sheets, 1)]
    filters = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n - 1}" hidden="1">'
        f"'{_xml_escape(name.replace(chr(39), chr(39) * 2))}'!$A$1:"
        f"${_column_letter(dims[0])}${dims[1] + 1}</definedName>"
        for n, (name, _, dims) in enumerate(sheets, 1) if dims)
    sheet_types = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for n in range(1, len(sheets) + 1))
    rels = "".join(
        f'<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'relationships/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, len(sheets) + 1))
    files = [
        ("[Content_Types].xml",
         f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
         '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
         'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
         '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
         'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/styles.xml" '
         'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
         f"{sheet_types}</Types>"),
        ("_rels/.rels",
         f'{_XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
         'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
         'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
         "</Relationships>"),
        ("xl/workbook.xml",
         f'{_XML}<workbook {_NS}><bookViews><workbookView/></bookViews><sheets>'
         + "".join(entries) + "</sheets>"
         + (f"<definedNames>{filters}</definedNames>" if filters else "") + "</workbook>"),
        ("xl/_rels/workbook.xml.rels",
         f'{_XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
         f'relationships">{rels}<Relationship Id="rId{len(sheets) + 1}" '
         'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
         'Target="styles.xml"/></Relationships>'),
        *parts,
        ("xl/styles.xml", styles.xml()),  # last: it lists the formats the sheets used
    ]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files:
            z.writestr(name, text.encode("utf-8"))
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
