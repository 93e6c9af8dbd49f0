"""Row-level validation of tables against the data model, with pandera.

:func:`normalise_text` makes exported text comparable (NFKC: full-width digits and letters become
ASCII; blanks trimmed); :func:`parse_dates` reads the accepted date formats (including Excel
serial numbers) at day precision; :func:`validate_rows` coerces every column to the schema's
dtype (thousands separators removed, units converted, survey answer words mapped to their codes),
derives ``month``/``district_code`` where an export leaves them out, and checks ranges, allowed
codes, patterns, unique keys and references with pandera. It returns the good rows and the
rejects, each reject with its row number, column and reason. Nothing is dropped silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pyarrow
import pyarrow.compute as pc

from .schema import TABLES, Field, Table

TRUE_WORDS = {"1", "true", "t", "yes", "y", "是", "有", "√", "✓"}
FALSE_WORDS = {"0", "false", "f", "no", "n", "否", "无", "×", ""}

#: Survey answers written as words (5-point satisfaction scale, 5 = 很满意) -> code.
ANSWER_WORDS = {"很满意": 5, "非常满意": 5, "满意": 4, "比较满意": 4, "较满意": 4, "一般": 3,
                "不太满意": 2, "不满意": 2, "较不满意": 2, "很不满意": 1, "非常不满意": 1}
#: Words meaning "don't know" (stored as an empty answer with dont_know = true).
DONT_KNOW_WORDS = {"不清楚", "不知道", "说不清", "不了解", "不好说"}

#: Dates outside this range are rejected per row (an export's 9999-12-31 is not a date).
DATE_MIN, DATE_MAX = pd.Timestamp("1900-01-01"), pd.Timestamp("2099-12-31")
#: Excel serial day numbers accepted as dates (1950-01-01 .. 2099-12-31); 0 = 1899-12-30.
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
SERIAL_MIN, SERIAL_MAX = 18264, 73050
ACCEPTED_DATES = ("YYYY-MM-DD", "YYYY/MM/DD", "YYYY.MM.DD", "YYYYMMDD", "YYYY年M月D日",
                  "any of these with a time of day (dropped)", "Excel serial day numbers",
                  "DD/MM/YYYY or MM/DD/YYYY when the order is known")


@dataclass
class Validated:
    """Result of validating one table: stored rows, rejected rows (with reasons), notes."""

    table: str
    good: pd.DataFrame
    rejects: pd.DataFrame  # original columns + row, column, reason
    notes: dict = field(default_factory=dict)  # e.g. {"time_dropped": {"order_date": 12}}

    @property
    def n_read(self) -> int:
        return len(self.good) + len(self.rejects)


class AmbiguousDates(ValueError):
    """Dates like 01/10/2026 whose day/month order the values do not tell."""

    def __init__(self, column: str, examples: list[tuple[int, str]]):
        self.column, self.examples = column, examples
        shown = ", ".join(f"row {r}: {v!r}" for r, v in examples)
        super().__init__(
            f"column {column}: dates such as {shown} can be read day-first or month-first and no "
            "value tells which; pass --date-format %d/%m/%Y (or %m/%d/%Y), or set date_format in "
            "the profile")


@dataclass
class DateState:
    """Day/month order of a file's D/M/Y dates, per column: given by a format or found in the
    values (a first number above 12 means day-first), then kept for the rest of the file."""

    date_format: str | None = None
    order: dict[str, str] = field(default_factory=dict)  # column -> "dayfirst" | "monthfirst"
    #: dates an export writes for "no date yet" (e.g. 9999-12-31 as an open 歇业日期), as
    #: YYYY-MM-DD; in a nullable date field they are stored empty and counted, elsewhere rejected
    open_end: tuple[str, ...] = ()
    seen: dict[str, dict[str, int]] = field(default_factory=dict)  # column -> format -> values

    def saw(self, column: str, label: str, n: int) -> None:
        if n:
            d = self.seen.setdefault(column, {})
            d[label] = d.get(label, 0) + int(n)

    def open_end_mask(self, text: pd.Series) -> pd.Series:
        """Values of ``text`` that are one of the :attr:`open_end` dates in any written form
        (9999-12-31, 9999/12/31, 9999年12月31日, 99991231, 31/12/9999, with or without a time)."""
        if not self.open_end:
            return pd.Series(False, index=text.index)
        forms = set()
        for d in self.open_end:
            y, m, dd = str(d).split("-")
            forms |= {y + m + dd, dd + m + y, m + dd + y}
        digits = text.astype("string").str.replace(r"[^0-9]", "", regex=True)
        ymd = digits.str[:8].isin(forms) & digits.str.len().isin([8, 12, 14])
        return ymd.fillna(False).astype(bool)

    def given_order(self) -> str | None:
        f = self.date_format or ""
        if "%d" in f and "%m" in f:
            return "dayfirst" if f.index("%d") < f.index("%m") else "monthfirst"
        return None


# --------------------------------------------------------------------------------------------
# text


def normalise_text(raw: pd.Series) -> pd.Series:
    """NFKC (full-width digits, letters, punctuation and blanks to ASCII), trimmed; empty -> NA."""
    arr = pyarrow.array(raw.astype("string").array, type=pyarrow.string()) if len(raw) else \
        pyarrow.array([], type=pyarrow.string())
    if len(arr) and not pc.all(pc.string_is_ascii(arr)).as_py():
        arr = pc.utf8_normalize(arr, form="NFKC")
    arr = pc.utf8_trim_whitespace(arr)
    arr = pc.if_else(pc.equal(arr, ""), pyarrow.scalar(None, pyarrow.string()), arr)
    return pd.Series(pd.array(arr, dtype=pd.StringDtype()), index=raw.index)


# --------------------------------------------------------------------------------------------
# dates

_TIME = r"(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?)?"
_YMD = re.compile(r"^(?P<y>\d{4})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?" + _TIME + "$")
_COMPACT = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})" + _TIME + "$")
_DMY = re.compile(r"^(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<y>\d{4})" + _TIME + "$")
_SERIAL = re.compile(r"^(?P<n>\d{5})(?P<f>\.\d+)?$")


def _from_parts(y, m, d) -> tuple[pd.Series, pd.Series]:
    """Dates from year/month/day number series; (dates, out-of-range mask)."""
    y, m, d = (pd.to_numeric(s, errors="coerce") for s in (y, m, d))
    out = (y < DATE_MIN.year) | (y > DATE_MAX.year)
    ok = ~out & y.notna()
    val = pd.Series(pd.NaT, index=y.index, dtype="datetime64[ns]")
    if ok.any():
        val[ok] = pd.to_datetime(pd.DataFrame({"year": y[ok], "month": m[ok], "day": d[ok]}),
                                 errors="coerce")
    return val, out.fillna(False)


def _has_time(parts: pd.DataFrame) -> pd.Series:
    t = parts[["H", "M", "S"]].apply(pd.to_numeric, errors="coerce").fillna(0)
    return (t != 0).any(axis=1)


def parse_dates(text: pd.Series, column: str, state: DateState | None = None,
                rows: pd.Series | None = None) -> tuple[pd.Series, pd.Series, pd.Series, int]:
    """Parse normalised text to dates at day precision.

    Returns ``(dates, bad, out_of_range, n_time_dropped)``: ``bad`` marks non-empty values that are
    not a date in an accepted format, ``out_of_range`` dates before 1900 or after 2099. D/M/Y
    values need the order from ``state`` (a date format, or found earlier in the file); when no
    value tells the order, :class:`AmbiguousDates` is raised with example rows.
    """
    state = state or DateState()
    val = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    out = pd.Series(False, index=text.index)
    timed = pd.Series(False, index=text.index)
    todo = text.notna()
    formats = ([state.date_format] if state.date_format else []) + ["%Y-%m-%d"]
    for fmt in formats:  # an explicit format first, then the fast path for ISO dates
        if not todo.any():
            break
        got = pd.to_datetime(text.where(todo), format=fmt, errors="coerce")
        hit = got.notna()
        state.saw(column, fmt.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD"), hit.sum())
        far = hit & ((got < DATE_MIN) | (got > DATE_MAX + pd.Timedelta(days=1)))
        out |= far
        ok = hit & ~far
        val = val.where(~ok, got.where(ok).dt.normalize().astype("datetime64[ns]"))
        todo &= ~hit
    if todo.any():
        rest = text[todo]
        for pattern, label in ((_YMD, "YYYY/MM/DD, YYYY.MM.DD or YYYY年M月D日"), (_COMPACT, "YYYYMMDD")):
            parts = rest.str.extract(pattern)
            hit = parts["y"].notna()
            state.saw(column, label, hit.sum())
            if hit.any():
                p = parts[hit]
                v, o = _from_parts(p["y"], p["m"], p["d"])
                val.loc[v.index] = v
                out.loc[o.index] = o
                timed.loc[p.index] = _has_time(p).to_numpy()
                rest = rest[~hit]
        serial = rest.str.extract(_SERIAL)
        hit = serial["n"].notna()
        state.saw(column, "Excel serial day numbers", hit.sum())
        if hit.any():
            s = serial[hit]
            n = pd.to_numeric(s["n"])
            inside = n.between(SERIAL_MIN, SERIAL_MAX)
            val.loc[n.index[inside]] = (EXCEL_EPOCH + pd.to_timedelta(n[inside], unit="D")).to_numpy()
            frac = pd.to_numeric(s["f"].fillna("0"), errors="coerce").fillna(0)
            timed.loc[s.index] = (frac > 0).to_numpy() & inside.to_numpy()
            rest = rest[~hit]
        dmy = rest.str.extract(_DMY)
        hit = dmy["a"].notna()
        if hit.any():
            p = dmy[hit]
            a, b = pd.to_numeric(p["a"]), pd.to_numeric(p["b"])
            order = state.order.get(column) or state.given_order()
            if order is None:
                day_first, month_first = bool((a > 12).any()), bool((b > 12).any())
                if day_first != month_first:
                    order = "dayfirst" if day_first else "monthfirst"
                    state.order[column] = order
                else:
                    idx = p.index[(a <= 12) & (b <= 12)][:3] if not day_first else p.index[:3]
                    nums = rows if rows is not None else pd.Series(text.index + 2, index=text.index)
                    raise AmbiguousDates(column, [(int(nums.loc[i]), str(text.loc[i])) for i in idx])
            d, m = (a, b) if order == "dayfirst" else (b, a)
            state.saw(column, "DD/MM/YYYY" if order == "dayfirst" else "MM/DD/YYYY", len(p))
            v, o = _from_parts(p["y"], m, d)
            val.loc[v.index] = v
            out.loc[o.index] = o
            timed.loc[p.index] = _has_time(p).to_numpy()
    bad = text.notna() & val.isna() & ~out
    return val, bad, out, int(timed.sum())


# --------------------------------------------------------------------------------------------
# columns


def _pa_dtype(f: Field):
    return {"string": pd.StringDtype(), "date": "datetime64[ns]", "Int64": "Int64",
            "float64": "float64", "boolean": "boolean"}[f.dtype]


_DIGITS = re.compile(r"^\^\\d\{(\d+)\}\$$")
#: An id that Excel turned into a number and wrote in scientific notation (1.40105E+11).
_SCIENTIFIC = re.compile(r"^\s*\d(?:\.\d+)?[eE]\+?\d+\s*$")


def _pattern_words(regex: str) -> str:
    """What a pattern asks for, in words: ``^\\d{12}$`` -> '12 digits (pattern ^\\d{12}$)'."""
    m = _DIGITS.match(regex)
    return f"{m.group(1)} digits (pattern {regex})" if m else f"pattern {regex}"


def pandera_schema(table: str, columns: list[str] | None = None) -> pa.DataFrameSchema:
    """A pandera schema for ``table`` (restricted to ``columns`` when given)."""
    t = TABLES[table]
    cols = {}
    for f in t.fields:
        if columns is not None and f.name not in columns:
            continue
        checks = []
        if f.isin:
            checks.append(pa.Check.isin(list(f.isin), error=f"expected one of {' / '.join(map(str, f.isin))}"))
        if f.ge is not None:
            checks.append(pa.Check.ge(f.ge, error=f"expected >= {f.ge:g}"))
        if f.le is not None:
            checks.append(pa.Check.le(f.le, error=f"expected <= {f.le:g}"))
        if f.regex:
            checks.append(pa.Check.str_matches(f.regex, error=f"expected {_pattern_words(f.regex)}"))
        cols[f.name] = pa.Column(_pa_dtype(f), checks=checks, nullable=f.nullable, coerce=False)
    return pa.DataFrameSchema(cols, strict=False)


def _numbers(text: pd.Series) -> pd.Series:
    """Numbers from normalised text: thousands separators (1,234 / 1，234 / 1 234) removed."""
    arr = pyarrow.array(text.array, type=pyarrow.string())
    sep = pc.fill_null(pc.match_substring_regex(arr, r"\d[, ']\d{3}"), False)
    if pc.any(sep).as_py():
        mask = pd.Series(sep.to_numpy(zero_copy_only=False), index=text.index)
        text = text.copy()
        text[mask] = text[mask].str.replace(r"(?<=\d)[, '](?=\d{3}(?:\D|$))", "", regex=True)
        arr = pyarrow.array(text.array, type=pyarrow.string())
    try:  # fast: every value a plain number
        return pd.Series(pc.cast(arr, pyarrow.float64()).to_numpy(zero_copy_only=False), index=text.index)
    except (pyarrow.ArrowInvalid, pyarrow.ArrowNotImplementedError):
        return pd.to_numeric(text, errors="coerce")


def _coerce_column(text: pd.Series, f: Field, factor: float = 1.0) -> tuple[pd.Series, pd.Series]:
    """Convert normalised text to the field's dtype; returns (values, bad-mask of non-empty
    unconvertible values). Dates are handled by :func:`parse_dates`."""
    empty = text.isna()
    if f.dtype == "string":
        return text.astype("string"), pd.Series(False, index=text.index)
    if f.dtype in ("Int64", "float64"):
        num = _numbers(text)
        bad = num.isna() & ~empty
        if factor != 1.0:
            num = num * factor
        if f.dtype == "Int64":
            frac = num.notna() & (num != np.floor(num.fillna(0)))
            bad |= frac
            num = num.where(~frac)
            return num.astype("Int64"), bad
        return num.astype("float64"), bad
    if f.dtype == "boolean":
        low = text.str.lower()
        val = pd.Series(pd.NA, index=text.index, dtype="boolean")
        val[low.isin(TRUE_WORDS).fillna(False).astype(bool)] = True
        val[(low.isin(FALSE_WORDS - {""})).fillna(False).astype(bool)] = False
        bad = val.isna() & ~empty
        return val, bad
    raise ValueError(f.dtype)


def _expected(f: Field) -> str:
    return {"string": "text", "date": "a date (YYYY-MM-DD; see data/README.md for the accepted formats)",
            "Int64": "a whole number", "float64": "a number",
            "boolean": "yes/no (是/否, 1/0, true/false)"}[f.dtype]


def validate_rows(raw: pd.DataFrame, table: str, *, row_numbers: pd.Series | None = None,
                  known: dict | None = None, dates: DateState | None = None,
                  factors: dict[str, float] | None = None) -> Validated:
    """Normalise, coerce and check every row of ``raw`` (canonical column names, text values).

    ``row_numbers``: the rows' numbers in the source file (default 1-based + 1 for the header).
    ``known``: referenced keys, e.g. ``{"license_id": {...}, "sku": {...}, "district_code": {...},
    "district_of": {license: district}}``; rows pointing at unknown keys are rejected, and a
    missing ``district_code`` is taken from the customer master. ``dates``: the file's date
    format / day-month order (kept across the chunks of one file). ``factors``: field -> unit
    conversion factor. Returns good rows in schema dtypes and rejected rows with ``row``,
    ``column``, ``reason`` (one reject row per failed row, reasons joined by '; ').
    """
    t: Table = TABLES[table]
    raw = raw.reset_index(drop=True)
    rows = row_numbers.reset_index(drop=True) if row_numbers is not None else pd.Series(raw.index + 2)
    reasons: dict[int, list[tuple[str, str]]] = {}
    notes: dict = {}
    factors = factors or {}
    known = known or {}

    def reject(mask: pd.Series, column: str, reason) -> None:
        for i in np.flatnonzero(mask.to_numpy(dtype=bool, na_value=False)):
            text = reason(i) if callable(reason) else reason
            reasons.setdefault(int(i), []).append((column, text))

    data = {}
    for f in t.fields:
        if f.name not in raw.columns:
            continue
        text = normalise_text(raw[f.name])
        if f.name == "answer" and table in ("retailer_survey", "consumer_survey"):
            text, dont_know = _answer_words(text, raw, reject)
            if dont_know.any():
                data["_dont_know_word"] = dont_know
        if f.dtype == "date":
            if f.nullable and dates is not None:
                open_end = dates.open_end_mask(text)
                if open_end.any():
                    notes.setdefault("open_end", {})[f.name] = int(open_end.sum())
                    text = text.mask(open_end)
            val, bad, out, n_time = parse_dates(text, f.name, dates, rows)
            if n_time:
                notes.setdefault("time_dropped", {})[f.name] = n_time
            reject(out, f.name, lambda i, f=f: f"{f.name} ({f.zh}) = {raw.at[i, f.name]!r}: date out of "
                   f"range (expected {DATE_MIN:%Y-%m-%d} .. {DATE_MAX:%Y-%m-%d})")
        else:
            val, bad = _coerce_column(text, f, factors.get(f.name, 1.0))
        reject(bad, f.name, lambda i, f=f: f"{f.name} ({f.zh}) = {raw.at[i, f.name]!r}: expected {_expected(f)}")
        data[f.name] = val
    df = pd.DataFrame(data, index=raw.index)
    if "_dont_know_word" in df:
        word = df.pop("_dont_know_word")
        if "dont_know" in df:
            df.loc[word, "dont_know"] = True
    _derive(df, t, known, reject)
    schema = pandera_schema(table, [c for c in df.columns if c in t.columns])
    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        fc = fc[fc["index"].notna()]
        for r in fc.itertuples(index=False):
            col = r.column
            f = t.field(col) if col in t.columns else None
            check = str(r.check)
            if "not_nullable" in check:
                if any(c == col for c, _ in reasons.get(int(r.index), [])):
                    continue  # already rejected for an unconvertible value in this column
                text = f"{col} ({f.zh if f else ''}) is empty: a value is required"
            else:
                text = f"{col} ({f.zh if f else ''}) = {r.failure_case!r}: {check}"
                if f is not None and f.regex and _SCIENTIFIC.match(str(r.failure_case)):
                    text += (" (Excel stored this id as a number and wrote it in scientific "
                             "notation, losing digits: format the column as text before exporting)")
            reasons.setdefault(int(r.index), []).append((col, text))
    # unique key: the first occurrence is kept, later duplicates rejected
    key = [k for k in t.key if k in df.columns]
    if key:
        dup = df.duplicated(subset=key, keep="first")
        if dup.any():
            first = df[~dup].reset_index().merge(df[dup].reset_index(), on=key, suffixes=("", "_dup"))
            first_row = dict(zip(first["index_dup"], rows.loc[first["index"]].to_numpy()))
            reject(dup, "+".join(key), lambda i: f"duplicate key ({', '.join(key)}): the same key as "
                   f"row {first_row.get(i, '?')} of this file")
    refs = dict(t.refs)
    if "district_code" in t.columns:
        refs["district_code"] = "districts"
    for col, ref in refs.items():
        if col in known and col in df.columns:
            missing = df[col].notna() & ~df[col].isin(list(known[col]))
            reject(missing, col, lambda i, col=col, ref=ref:
                   f"{col} = {df.at[i, col]!r} is not a known {ref} row")
    bad_idx = sorted(reasons)
    good = df.drop(index=bad_idx).reset_index(drop=True)
    rej = raw.loc[bad_idx].copy()
    rej.insert(0, "reason", ["; ".join(r for _, r in reasons[i]) for i in bad_idx])
    rej.insert(0, "column", [", ".join(dict.fromkeys(c for c, _ in reasons[i])) for i in bad_idx])
    rej.insert(0, "row", rows.loc[bad_idx].to_numpy())
    good_rows = rows.drop(index=bad_idx).reset_index(drop=True)
    return Validated(table, good.assign(_row=good_rows.to_numpy()), rej.reset_index(drop=True), notes)


def _answer_words(text: pd.Series, raw: pd.DataFrame, reject) -> tuple[pd.Series, pd.Series]:
    """Survey answers written as words: 很满意 .. 很不满意 -> 5 .. 1; 不清楚 -> empty + dont_know.
    Other words are rejected naming the accepted ones (never counted as missing)."""
    is_word = text.notna() & ~text.str.fullmatch(r"[\d.,]+").fillna(True).astype(bool)
    dont_know = pd.Series(False, index=text.index)
    if not is_word.any():
        return text, dont_know
    words = text[is_word]
    codes = words.map(ANSWER_WORDS)
    dk = words.isin(DONT_KNOW_WORDS)
    dont_know.loc[dk.index[dk.to_numpy(dtype=bool)]] = True
    unknown = codes.isna() & ~dk
    accepted = " / ".join(f"{w}={c}" for w, c in ANSWER_WORDS.items()) + " / " + " / ".join(sorted(DONT_KNOW_WORDS))
    reject(pd.Series(unknown.reindex(text.index, fill_value=False), index=text.index), "answer",
           lambda i: f"answer (答案) = {raw.at[i, 'answer']!r}: expected 1-5 or one of {accepted}")
    out = text.copy()
    out.loc[words.index] = codes.astype("Int64").astype("string")
    return out, dont_know


def _derive(df: pd.DataFrame, t: Table, known: dict, reject) -> None:
    """Fill ``month`` from the table's date and ``district_code`` from the customer master when
    the export leaves them out; reject rows whose given values contradict them."""
    date_col = next((f.name for f in t.fields if f.dtype == "date"), None)
    if "month" in t.columns and date_col in df:
        ym = df[date_col].dt.year * 100 + df[date_col].dt.month
        labels = {v: f"{int(v) // 100:04d}-{int(v) % 100:02d}" for v in pd.unique(ym.dropna())}
        derived = ym.map(labels).astype("string")
        _fill_or_check(df, "month", derived, reject, lambda i: (
            f"month = {df.at[i, 'month']!r} does not match {date_col} {df.at[i, date_col]:%Y-%m-%d}"))
    if "district_code" in t.columns and "license_id" in df and known.get("district_of") is not None \
            and t.name != "customers":
        master = df["license_id"].map(known["district_of"]).astype("string")
        _fill_or_check(df, "district_code", master, reject, lambda i: (
            f"district_code = {df.at[i, 'district_code']!r} differs from the customer master's "
            f"{master.iloc[i]!r} for this licence"))


def _fill_or_check(df: pd.DataFrame, col: str, derived: pd.Series, reject, why) -> None:
    """Fill ``col`` with ``derived`` when the export leaves it out; else reject the rows whose
    given value contradicts it (``why(i)`` is the reason of row ``i``)."""
    if col in df:
        reject(df[col].notna() & derived.notna() & (df[col] != derived), col, why)
    else:
        df[col] = derived
