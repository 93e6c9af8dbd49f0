"""Row-level validation of tables against the data model, with pandera.

:func:`coerce` turns text columns (as read from an export) into the schema's dtypes and records
every value that does not convert; :func:`validate_rows` then checks ranges, allowed codes,
patterns, unique keys and references with pandera and returns the good rows and the rejects,
each reject with its row number, column and reason. Nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa

from .schema import TABLES, Field, Table

TRUE_WORDS = {"1", "true", "t", "yes", "y", "是", "有", "√", "✓"}
FALSE_WORDS = {"0", "false", "f", "no", "n", "否", "无", "×", ""}


@dataclass
class Validated:
    """Result of validating one table: stored rows, rejected rows (with reasons)."""

    table: str
    good: pd.DataFrame
    rejects: pd.DataFrame  # original columns + row, column, reason

    @property
    def n_read(self) -> int:
        return len(self.good) + len(self.rejects)


def _pa_dtype(f: Field):
    return {"string": pd.StringDtype(), "date": "datetime64[ns]", "Int64": "Int64",
            "float64": "float64", "boolean": "boolean"}[f.dtype]


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
            checks.append(pa.Check.str_matches(f.regex, error=f"expected pattern {f.regex}"))
        cols[f.name] = pa.Column(_pa_dtype(f), checks=checks, nullable=f.nullable, coerce=False)
    return pa.DataFrameSchema(cols, strict=False)


def _coerce_column(raw: pd.Series, f: Field) -> tuple[pd.Series, pd.Series]:
    """Convert text to the field's dtype; returns (values, bad-mask of non-empty unconvertible)."""
    text = raw.astype("string").str.strip()
    empty = text.isna() | (text == "")
    if f.dtype == "string":
        return text.where(~empty, pd.NA).astype("string"), pd.Series(False, index=raw.index)
    if f.dtype == "date":
        val = pd.to_datetime(text.where(~empty), errors="coerce", format="mixed")
        return val.astype("datetime64[ns]"), val.isna() & ~empty
    if f.dtype in ("Int64", "float64"):
        num = pd.to_numeric(text.where(~empty).str.replace(",", "", regex=False), errors="coerce")
        bad = num.isna() & ~empty
        if f.dtype == "Int64":
            frac = num.notna() & (num != np.floor(num.fillna(0)))
            bad |= frac
            num = num.where(~frac)
            return num.astype("Int64"), bad
        return num.astype("float64"), bad
    if f.dtype == "boolean":
        low = text.str.lower()
        val = pd.Series(pd.NA, index=raw.index, dtype="boolean")
        val[low.isin(TRUE_WORDS).fillna(False).astype(bool)] = True
        val[(low.isin(FALSE_WORDS - {""})).fillna(False).astype(bool)] = False
        bad = val.isna() & ~empty
        return val, bad
    raise ValueError(f.dtype)


def _expected(f: Field) -> str:
    return {"string": "text", "date": "a date (YYYY-MM-DD)", "Int64": "a whole number",
            "float64": "a number", "boolean": "yes/no (是/否, 1/0, true/false)"}[f.dtype]


def validate_rows(raw: pd.DataFrame, table: str, *, row_numbers: pd.Series | None = None,
                  known: dict[str, set[str]] | None = None) -> Validated:
    """Coerce and check every row of ``raw`` (canonical column names, text values).

    ``row_numbers``: the rows' numbers in the source file (for messages; default 1-based + 1 for
    the header). ``known``: referenced keys, e.g. ``{"license_id": {...}, "sku": {...}}``; rows
    pointing at unknown keys are rejected. Returns good rows in schema dtypes and rejected rows
    with ``row``, ``column``, ``reason`` (one reject row per failed row, reasons joined by '; ').
    """
    t: Table = TABLES[table]
    raw = raw.reset_index(drop=True)
    rows = row_numbers.reset_index(drop=True) if row_numbers is not None else pd.Series(raw.index + 2)
    reasons: dict[int, list[tuple[str, str]]] = {}

    def reject(mask: pd.Series, column: str, reason) -> None:
        for i in np.flatnonzero(mask.to_numpy()):
            text = reason(i) if callable(reason) else reason
            reasons.setdefault(int(i), []).append((column, text))

    data = {}
    for f in t.fields:
        if f.name not in raw.columns:
            continue
        val, bad = _coerce_column(raw[f.name], f)
        reject(bad, f.name, lambda i, f=f: f"{f.name} ({f.zh}) = {raw.at[i, f.name]!r}: expected {_expected(f)}")
        data[f.name] = val
    df = pd.DataFrame(data)
    schema = pandera_schema(table, list(df.columns))
    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        fc = fc[fc["index"].notna()]
        for _, r in fc.iterrows():
            col = r["column"]
            f = t.field(col) if col in t.columns else None
            check = str(r["check"])
            if "not_nullable" in check:
                if any(c == col for c, _ in reasons.get(int(r["index"]), [])):
                    continue  # already rejected for an unconvertible value in this column
                text = f"{col} ({f.zh if f else ''}) is empty: a value is required"
            else:
                text = f"{col} ({f.zh if f else ''}) = {r['failure_case']!r}: {check}"
            reasons.setdefault(int(r["index"]), []).append((col, text))
    # unique key: the first occurrence is kept, later duplicates rejected
    key = [k for k in t.key if k in df.columns]
    if key:
        dup = df.duplicated(subset=key, keep="first")
        reject(dup, "+".join(key), f"duplicate key ({', '.join(key)}): an earlier row has the same key")
    for col, ref in t.refs.items():
        if known and col in known and col in df.columns:
            missing = df[col].notna() & ~df[col].isin(list(known[col]))
            reject(missing, col, lambda i, col=col, ref=ref:
                   f"{col} = {df.at[i, col]!r} is not a known {ref} row")
    bad_idx = sorted(reasons)
    good = df.drop(index=bad_idx).reset_index(drop=True)
    rej = raw.loc[bad_idx].copy()
    rej.insert(0, "reason", ["; ".join(r for _, r in reasons[i]) for i in bad_idx])
    rej.insert(0, "column", [", ".join(dict.fromkeys(c for c, _ in reasons[i])) for i in bad_idx])
    rej.insert(0, "row", rows.loc[bad_idx].to_numpy())
    return Validated(table, good, rej.reset_index(drop=True))
