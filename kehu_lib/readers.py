"""Reading export files: encoding, delimiter, sheet and header row found, headers mapped by a profile.

:func:`layout` looks at a file without reading it whole: which table it holds (from its name),
its encoding (UTF-8 with or without BOM, else GBK/GB18030), CSV delimiter, XLSX sheet, the row
that holds the header (searched among the first rows: a title row above the header is skipped),
and how each header maps to a field of the data model (with its unit). :func:`chunks` then
yields the rows as text in chunks (CSV streamed with pyarrow, so a large file never sits in
memory whole), with their row numbers in the file. Every problem is an :class:`IngestError`
naming the file, the row and what was expected.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from . import profiles as _profiles
from .profiles import UNITS, Profile, field_kind, norm, split_unit
from .schema import PERSONAL_COLUMNS, TABLES

#: Columns ingest can derive when an export leaves them out: month from the date, district from
#: the customer master.
DERIVABLE = {"orders": {"month": "order_date", "district_code": "license_id"},
             "price_checks": {"month": "check_date", "district_code": "license_id"},
             "visits": {"month": "visit_date", "district_code": "license_id"},
             "retailer_survey": {"district_code": "license_id"},
             "census": {"district_code": "license_id"}}
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
HEADER_SEARCH_ROWS = 20
DELIMITERS = (",", "\t", ";", "|")
PERSONAL_WORDS = ("电话", "phone", "姓名", "身份证", "手机")
#: Fields an export may leave out (stored empty): added to the data model after exports existed.
OPTIONAL = {"shop_name"}


class IngestError(Exception):
    """A problem that stops the ingest before anything is written."""


@dataclass
class Layout:
    """How one file is read: everything ``kehu inspect`` shows."""

    path: Path
    table: str
    profile: Profile
    kind: str  # "csv" | "xlsx"
    header_row: int  # 1-based row of the header in the file (or sheet)
    headers: list[str]  # the header cells as written
    mapping: dict[str, str]  # header -> field
    units: dict[str, str]  # field -> unit written in the file (converted to the store's unit)
    personal: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # known to the profile, not stored
    unmapped: list[str] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    skipped_above: list[str] = field(default_factory=list)  # text of rows above the header
    #: The sheet when the file's table spans several sheets (each read as one part), else None.
    part: str | None = None
    extra_notes: list[str] = field(default_factory=list)  # e.g. sheets of the file not read

    @property
    def name(self) -> str:
        """The file's name, with the sheet when the table spans several: ``订单明细.xlsx〈Sheet2〉``."""
        return f"{self.path.name}〈{self.part}〉" if self.part else self.path.name

    @property
    def factors(self) -> dict[str, float]:
        return {f: UNITS[u][1] for f, u in self.units.items() if UNITS[u][1] != 1.0}

    def notes(self) -> list[str]:
        out = list(self.extra_notes)
        if self.header_row > 1:
            above = "; ".join(s for s in self.skipped_above if s)[:80]
            out.append(f"header found on row {self.header_row}" + (f" (above it: {above!r})" if above else ""))
        for f, u in self.units.items():
            kind = field_kind(self.table, f)
            if UNITS[u][1] != 1.0:
                out.append(f"{f} converted from {u} to {_profiles.STORE_UNIT[kind]} (x {UNITS[u][1]:g})")
        return out


# --------------------------------------------------------------------------------------------
# raw access


def _detect_encoding(path: Path, declared: str = "auto") -> str:
    """'utf-8-sig' when the whole file decodes as UTF-8 (with or without BOM), else 'gb18030'."""
    if declared not in ("auto", None):
        return declared
    dec = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as fh:
        try:
            while block := fh.read(1 << 22):
                dec.decode(block)
            dec.decode(b"", final=True)
            return "utf-8-sig"
        except UnicodeDecodeError:
            pass
    # confirm the fallback on the start of the file: GB18030 decodes any byte sequence of text
    with open(path, "rb") as fh:
        try:
            fh.read(1 << 20).decode("gb18030", errors="strict")
        except UnicodeDecodeError as exc:
            if exc.end < (1 << 20) - 4:
                raise IngestError(f"{path.name}: not readable as UTF-8 or GBK/GB18030 text "
                                  f"(byte {exc.start}); save it as UTF-8 or GBK CSV") from None
    return "gb18030"


def _csv_preview(path: Path, encoding: str) -> list[str]:
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    lines = text.splitlines()
    if len(head) == 1 << 16 and lines:
        lines = lines[:-1]  # the last line may be cut
    return lines[:HEADER_SEARCH_ROWS]


def _xlsx_cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, pd.Timestamp) or hasattr(v, "isoformat"):
        return v.isoformat(sep=" ") if hasattr(v, "hour") else v.isoformat()
    return str(v)


def _open_workbook(path: Path):
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise IngestError(f"{path.name}: not a readable .xlsx workbook ({type(exc).__name__}: {exc}); "
                          "open it in Excel and save it again as .xlsx, or export CSV") from None
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise IngestError(f"{path.name}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from None


# --------------------------------------------------------------------------------------------
# header search and mapping


def _score(cells: list[str], lookup: dict[str, str]) -> int:
    return len({lookup[n] for n in (norm(split_unit(c)[0]) for c in cells) if n in lookup})


def _find_header(rows: list[list[str]], lookup: dict[str, str], fixed: int | None) -> tuple[int, int]:
    """(0-based index of the header row, its score)."""
    if fixed is not None:
        i = fixed - 1
        return i, _score(rows[i], lookup) if i < len(rows) else 0
    best = (0, -1)
    for i, cells in enumerate(rows):
        s = _score(cells, lookup)
        if s > best[1]:
            best = (i, s)
    return best


def table_of(path: Path, profile: Profile) -> str:
    """The table a file holds, from its name; raises IngestError naming the expected names."""
    table = profile.table_for_file(path)
    if table is None:
        expected = ", ".join(f"{t} ({s.files[1] if len(s.files) > 1 else s.files[0]})"
                             for t, s in profile.tables.items())
        raise IngestError(f"{path.name}: cannot tell which table this file holds from its name; "
                          f"expected a file named after one of: {expected} (profile {profile.name})")
    return table


def _grids(path: Path, profile: Profile) -> list[tuple[dict, list[list[str]]]]:
    """Candidate readings of the first rows: ({encoding, delimiter} or {sheet}, rows)."""
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise IngestError(f"{path.name}: the old Excel .xls format is not read; save it as .xlsx or CSV")
    if path.stat().st_size == 0:
        raise IngestError(f"{path.name}: the file is empty (0 bytes): no header, no rows")
    if suffix in XLSX_SUFFIXES:
        wb = _open_workbook(path)
        try:
            sheets = wb.sheetnames
            if profile.sheet is not None:
                s = profile.sheet
                name = sheets[int(s) - 1] if str(s).isdigit() and int(s) <= len(sheets) else str(s)
                if name not in sheets:
                    raise IngestError(f"{path.name}: no sheet {s!r}; sheets are {', '.join(sheets)}")
                sheets = [name]
            out = []
            for name in sheets:
                rows = [[_xlsx_cell(v) for v in r] for r in
                        wb[name].iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True)]
                out.append(({"sheet": name}, rows))
            return out
        except IngestError:
            raise
        except Exception as exc:
            raise IngestError(f"{path.name}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from None
        finally:
            wb.close()
    encoding = _detect_encoding(path, profile.encoding)
    lines = _csv_preview(path, encoding)
    if not any(line.strip() for line in lines):
        raise IngestError(f"{path.name}: the file is empty: no header, no rows")
    out = []
    for d in DELIMITERS:
        rows = list(csv.reader(lines, delimiter=d))
        out.append(({"encoding": encoding, "delimiter": d}, rows))
    return out


def _readings(path: Path, profile: Profile, table: str) -> list[tuple[dict, list[list[str]], int, int]]:
    """Every candidate reading (delimiter or sheet) with its header row: (opts, rows, score, i)."""
    lookup = profile.lookup(table)
    out = []
    for opts, rows in _grids(path, profile):
        i, score = _find_header(rows, lookup, profile.header_row)
        out.append((opts, rows, score, i))
    return out


def layout(path: Path, profile: Profile, table: str | None = None, check: bool = True) -> Layout:
    """Find how ``path`` is read under ``profile`` (its best-matching delimiter or sheet); raises
    IngestError for a file that cannot be read or lacks a required column (naming the file, where
    the header was looked for, and the expected columns). A workbook may hold its table on
    several sheets: :func:`layouts` finds them all."""
    table = table or table_of(path, profile)
    best = None
    for reading in _readings(path, profile, table):
        if best is None or reading[2] > best[2]:
            best = reading
    return _layout_of(path, profile, table, best, check)


def layouts(path: Path, profile: Profile, table: str | None = None) -> tuple[list[Layout], list[str]]:
    """Every part of ``path`` that holds its table, and notes on the parts not read.

    A CSV is one part. A workbook is read on every sheet whose header has the table's required
    columns, so a table split over sheets (as exports past Excel's 1,048,576-row limit are) is
    read whole; each part is then labelled ``file〈sheet〉``. A sheet with cells but no such
    header (a title page, notes, a pivot) is not read and gets a note naming it and its rows, so
    nothing is left out unseen. No sheet with the table raises the IngestError of the best one.
    """
    table = table or table_of(path, profile)
    if path.suffix.lower() not in XLSX_SUFFIXES or profile.sheet is not None:
        return [layout(path, profile, table)], []
    readings = _readings(path, profile, table)
    parts, unread = [], []
    for reading in readings:
        opts, rows = reading[0], reading[1]
        try:
            parts.append(_layout_of(path, profile, table, reading, True))
        except IngestError as exc:
            if any(c.strip() for r in rows for c in r):
                why = str(exc).split(": ", 1)[1] if reading[2] > 0 else (
                    f"no header row of {table} in its first {HEADER_SEARCH_ROWS} rows")
                unread.append((opts["sheet"], _sheet_rows(path, opts["sheet"]), why))
    if not parts:
        return [layout(path, profile, table)], []  # raises the best sheet's error
    for sheet, n, why in unread:
        if n is None or n > HEADER_SEARCH_ROWS:  # more than a title page or notes: maybe data
            raise IngestError(
                f"{path.name}: sheet {sheet!r} has {'its' if n is None else f'{n:,}'} rows but is not "
                f"read ({why}), while sheet {parts[0].sheet!r} holds {table}; if it continues the "
                f"table, give it the same header row; if not, move it out of the workbook")
    notes = [f"sheet {sheet!r} not read ({n:,} rows, no {table} header): {why}"
             for sheet, n, why in unread]
    if len(parts) > 1:
        for lo in parts:
            lo.part = lo.sheet
    return parts, notes


def _sheet_rows(path: Path, sheet: str) -> int | None:
    """Rows of a sheet, from the workbook's stored dimension (None when it does not say)."""
    wb = _open_workbook(path)
    try:
        return wb[sheet].max_row
    except Exception:
        return None
    finally:
        wb.close()


def _layout_of(path: Path, profile: Profile, table: str, reading, check: bool) -> Layout:
    spec = profile.tables[table]
    lookup = profile.lookup(table)
    opts, rows, score, i = reading
    where = f" of sheet {opts['sheet']!r}" if "sheet" in opts else ""
    if score <= 0:
        looked = f"row {profile.header_row}" if profile.header_row else f"rows 1-{max(1, len(rows))}"
        first = next((r for r in rows if any(c.strip() for c in r)), [])
        expected = ", ".join(f"{f} ({'/'.join(h[:2])})" for f, h in list(spec.headers.items())[:6])
        raise IngestError(f"{path.name}: no header row found: looked in {looked}{where} for columns such "
                          f"as {expected}; the first row reads {', '.join(first[:8])!r}"
                          + (" (is the delimiter ',' ?)" if "delimiter" in opts else ""))
    headers = [str(c) for c in rows[i]]
    out = Layout(path, table, profile, "xlsx" if "sheet" in opts else "csv", i + 1, headers, {}, {},
                 encoding=opts.get("encoding"), delimiter=opts.get("delimiter"), sheet=opts.get("sheet"),
                 skipped_above=[" ".join(c for c in r if c).strip() for r in rows[:i]])
    personal_norm = {norm(p) for p in PERSONAL_COLUMNS}
    ignore_norm = {norm(c) for c in spec.ignore}
    conflicts: list[str] = []
    for h in headers:
        base, unit = split_unit(h)
        n = norm(base)
        if not n:
            continue
        if n in lookup:
            name = lookup[n]
            if name in out.mapping.values():
                other = next(k for k, v in out.mapping.items() if v == name)
                conflicts.append(f"{path.name}: columns {other!r} and {h!r} both map to {name}; "
                                 "keep one of them (or name the one to use in a profile)")
                continue
            out.mapping[h] = name
            unit = unit or spec.units.get(name)
            if unit is not None:
                kind = field_kind(table, name)
                if UNITS.get(unit, (None,))[0] != kind:
                    raise IngestError(f"{path.name}: column {h!r}: unit {unit!r} cannot be converted for "
                                      f"{name} ({TABLES[table].field(name).unit or 'no unit'})")
                out.units[name] = unit
        elif n in personal_norm or any(p in n for p in PERSONAL_WORDS):
            out.personal.append(h)
        elif n in ignore_norm:
            out.ignored.append(h)
        else:
            out.unmapped.append(h)
    if check:
        _check_required(out, where)
        if conflicts:
            raise IngestError(conflicts[0])
    return out


def _check_required(lo: Layout, where: str) -> None:
    t = TABLES[lo.table]
    spec = lo.profile.tables[lo.table]
    have = set(lo.mapping.values())
    derivable = DERIVABLE.get(lo.table, {})
    missing = [f.name for f in t.fields if f.name not in have and f.name not in OPTIONAL
               and not (f.name in derivable and derivable[f.name] in have)]
    # a derivable field whose source is missing too: name the source first
    first = set(missing)
    missing.sort(key=lambda m: m in derivable and derivable[m] in first)
    if not missing:
        return
    name = missing[0]
    f = t.field(name)
    heads = spec.headers.get(name, [name])
    zh = next((h for h in heads if h != name), f.zh)
    candidates = [str(c) for c in lo.unmapped]
    hint = (difflib.get_close_matches(zh, candidates, n=1) or difflib.get_close_matches(name, candidates, n=1))
    extra = f"; did you mean {hint[0]!r}?" if hint else ""
    more = f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else ""
    expected = ", ".join(f"{x.name} ({spec.headers.get(x.name, [x.zh])[-1]})" for x in t.fields
                         if x.name in spec.headers)
    raise IngestError(
        f"{lo.path.name}: missing column {name!r} ({zh}{', ' + f.unit if f.unit else ''}){more}; "
        f"header read from row {lo.header_row}{where}; expected the columns {expected}{extra}")


# --------------------------------------------------------------------------------------------
# rows


def chunks(lo: Layout, chunk_rows: int = 500_000) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Yield ``(rows, bad_lines)``: rows as text with canonical column names and a ``_row``
    column (row number in the file); ``bad_lines`` CSV lines that could not be split into the
    header's columns (``row``, ``text``, ``reason``). Blank rows are skipped."""
    if lo.kind == "xlsx":
        yield from _xlsx_chunks(lo, chunk_rows)
    else:
        yield from _csv_chunks(lo, chunk_rows)


def _unique(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for h in headers:
        h = h or "unnamed"
        k = seen.get(h, 0)
        out.append(h if k == 0 else f"{h}.{k}")
        seen[h] = k + 1
    return out


def _frame(cols: dict[str, list | pa.Array], lo: Layout, names: list[str], rows: np.ndarray) -> pd.DataFrame:
    data = {}
    for raw_name, header in zip(names, lo.headers):
        if header in lo.mapping:
            data[lo.mapping[header]] = cols[raw_name]
    arrow_str = pd.StringDtype("pyarrow")
    df = pd.DataFrame({k: pd.array(v, dtype=pd.StringDtype()) if not isinstance(v, pa.ChunkedArray)
                       else arrow_str.__from_arrow__(v) for k, v in data.items()})
    df["_row"] = rows
    blank = np.ones(len(df), dtype=bool)
    for c in data:
        blank &= (df[c].isna() | (df[c] == "")).to_numpy(dtype=bool, na_value=True)
    return df[~blank].reset_index(drop=True)


def _xlsx_chunks(lo: Layout, chunk_rows: int):
    wb = _open_workbook(lo.path)
    names = _unique(lo.headers)
    try:
        ws = wb[lo.sheet]
        buf: list[tuple] = []
        start = lo.header_row + 1
        n = len(names)

        def emit(buf, first_row):
            cols = {name: [(_xlsx_cell(r[j]) if j < len(r) else "") for r in buf] for j, name in enumerate(names)}
            return _frame(cols, lo, names, np.arange(first_row, first_row + len(buf)))

        first = start
        for r in ws.iter_rows(min_row=start, values_only=True):
            buf.append(r[:n])
            if len(buf) >= chunk_rows:
                yield emit(buf, first), _NO_BAD
                first += len(buf)
                buf = []
        if buf:
            yield emit(buf, first), _NO_BAD
    except IngestError:
        raise
    except Exception as exc:
        raise IngestError(f"{lo.path.name}: reading sheet {lo.sheet!r} failed near row {first} "
                          f"({type(exc).__name__}: {exc})") from None
    finally:
        wb.close()


_NO_BAD = pd.DataFrame({"row": pd.Series([], dtype="int64"), "text": pd.Series([], dtype="string"),
                        "reason": pd.Series([], dtype="string")})


def _csv_chunks(lo: Layout, chunk_rows: int):
    names = _unique(lo.headers)
    bad: list[tuple[int, str, str]] = []

    def on_invalid(row) -> str:
        d = lo.delimiter if lo.delimiter != "\t" else "tab"
        if row.actual_columns > row.expected_columns:
            why = (f"{row.actual_columns} fields where the header has {row.expected_columns}: a value "
                   f"holds the delimiter {d!r} (e.g. an unquoted 1,234); quote it or fix the export")
        else:
            why = (f"{row.actual_columns} fields where the header has {row.expected_columns}: the row "
                   f"is cut short or uses another delimiter than {d!r}")
        bad.append((int(row.number) if row.number is not None else -1, row.text, why))
        return "skip"

    wanted = [n for n, h in zip(names, lo.headers) if h in lo.mapping]
    read_opts = pacsv.ReadOptions(skip_rows=lo.header_row, column_names=names, use_threads=False,
                                  encoding="utf8" if lo.encoding in ("utf-8-sig", "utf-8", "utf8")
                                  else lo.encoding, block_size=1 << 23)
    parse_opts = pacsv.ParseOptions(delimiter=lo.delimiter, invalid_row_handler=on_invalid,
                                    ignore_empty_lines=False)
    conv = pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, include_columns=wanted,
                                strings_can_be_null=False, quoted_strings_can_be_null=False)
    try:
        reader = pacsv.open_csv(lo.path, read_options=read_opts, parse_options=parse_opts,
                                convert_options=conv)
    except (pa.ArrowInvalid, OSError) as exc:
        raise IngestError(f"{lo.path.name}: cannot be read as delimited text ({exc})") from None
    next_line = lo.header_row + 1
    pending: list[pa.RecordBatch] = []
    pending_rows = 0

    def lines_for(n: int) -> np.ndarray:
        nonlocal next_line
        inv = np.array(sorted(x for x, _, _ in bad if x >= next_line), dtype=np.int64)
        cand = np.arange(next_line, next_line + n + len(inv), dtype=np.int64)
        cand = cand[~np.isin(cand, inv)][:n]
        next_line = int(cand[-1]) + 1 if len(cand) else next_line
        return cand

    def flush():
        nonlocal pending, pending_rows, bad
        table = pa.Table.from_batches(pending)
        rows = lines_for(table.num_rows)
        cols = {n: table.column(n) for n in wanted}
        frame = _frame(cols, lo, names, rows)
        emitted = [b for b in bad if b[0] < next_line]
        bad = [b for b in bad if b[0] >= next_line]
        pending, pending_rows = [], 0
        return frame, pd.DataFrame(emitted, columns=["row", "text", "reason"]) if emitted else _NO_BAD

    try:
        for batch in reader:
            pending.append(batch)
            pending_rows += batch.num_rows
            if pending_rows >= chunk_rows:
                yield flush()
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise IngestError(f"{lo.path.name}: unreadable text after row {next_line - 1} ({exc}); "
                          f"read as {lo.encoding} with delimiter {lo.delimiter!r}") from None
    if pending:
        yield flush()
    if bad:  # malformed lines after the last good row
        yield _frame({n: pa.array([], pa.string()) for n in wanted}, lo, names,
                     np.array([], dtype=np.int64)), pd.DataFrame(bad, columns=["row", "text", "reason"])


def read_export(path: Path, profile: str | Profile = "canonical") -> pd.DataFrame:
    """Read a whole export file as text with canonical column names (small files, tests)."""
    prof = profile if isinstance(profile, Profile) else _profiles.load(profile)
    lo = layout(Path(path), prof, check=False)
    frames = [f for f, _ in chunks(lo)]
    return pd.concat(frames, ignore_index=True).drop(columns="_row")
