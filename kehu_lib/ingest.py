"""Ingest a month of real exports (CSV in UTF-8, UTF-8 with BOM, GBK/GB18030; XLSX) into the store.

Every file is matched to a table by its name (``orders.csv``, ``订单明细.xlsx``, ...), its headers
to the data model's columns (English names or the Chinese terms of ``data/README.md``), and every
row validated (:mod:`kehu_lib.validate`). Rows that fail go to ``rejects/<file>.rejects.csv`` with
the reason; the counts satisfy rows read = rows stored + rows rejected for every file. A missing
column stops the ingest before anything is written. Personal data columns (owner names, phone
numbers) are dropped and reported. The write is staged and swapped in, so an interrupted ingest
leaves the store as it was, and re-ingesting a month replaces it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import config, store
from .schema import PERSONAL_COLUMNS, TABLES
from .validate import Validated, validate_rows

#: Table names a file may carry (stem, case-insensitive), besides the canonical English name.
TABLE_ALIASES = {
    "districts": ("区县", "市场部", "区县/市场部"),
    "customers": ("零售客户", "客户", "customer", "retailers"),
    "products": ("卷烟规格", "规格", "product", "skus"),
    "orders": ("订单明细", "订单", "order_lines", "order"),
    "price_checks": ("价存采集", "价格库存", "checks"),
    "visits": ("拜访记录", "拜访", "visit"),
    "retailer_survey": ("零售客户满意度调查", "满意度调查", "零售客户调查"),
    "consumer_survey": ("消费者调查", "消费者满意度调查"),
    "census": ("零售户普查", "普查"),
}
#: Columns ingest can derive when an export leaves them out: month from the date, district from
#: the customer master.
DERIVABLE = {"orders": {"month": "order_date", "district_code": "license_id"},
             "price_checks": {"month": "check_date", "district_code": "license_id"},
             "visits": {"month": "visit_date", "district_code": "license_id"},
             "retailer_survey": {"district_code": "license_id"},
             "census": {"district_code": "license_id"}}
ORDER = ("districts", "products", "customers", "orders", "price_checks", "visits", "retailer_survey",
         "consumer_survey", "census")
ENCODINGS = ("utf-8-sig", "gb18030")


class IngestError(Exception):
    """A problem that stops the ingest before anything is written."""


@dataclass
class FileResult:
    file: str
    table: str
    read: int
    stored: int
    rejected: int
    dropped_personal: list[str] = field(default_factory=list)
    dropped_unknown: list[str] = field(default_factory=list)
    rejects_file: str | None = None


@dataclass
class IngestReport:
    results: list[FileResult]
    months: dict[str, list[str]]

    def summary(self) -> str:
        lines = [f"{'file':32} {'table':16} {'read':>9} {'stored':>9} {'rejected':>9}"]
        for r in self.results:
            lines.append(f"{r.file:32} {r.table:16} {r.read:>9,} {r.stored:>9,} {r.rejected:>9,}")
            if r.dropped_personal:
                lines.append(f"  personal data dropped, not stored: {', '.join(r.dropped_personal)}")
            if r.dropped_unknown:
                lines.append(f"  columns not in the data model, ignored: {', '.join(r.dropped_unknown)}")
            if r.rejects_file:
                lines.append(f"  rejected rows with reasons: {r.rejects_file}")
        for table, months in self.months.items():
            lines.append(f"{table}: replaced month(s) {', '.join(months)}")
        return "\n".join(lines)


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-()（）/]+", "", str(text).replace("\ufeff", "")).lower()


def table_for(path: Path) -> str:
    """The table a file holds, from its name; raises IngestError naming the expected names."""
    stem = _norm(path.stem)
    for table, aliases in TABLE_ALIASES.items():
        if stem in {_norm(table), *(_norm(a) for a in aliases)}:
            return table
    expected = ", ".join(f"{t} ({a[0]})" for t, a in TABLE_ALIASES.items())
    raise IngestError(f"{path.name}: cannot tell which table this file holds from its name; "
                      f"expected a file named after one of: {expected}")


def read_export(path: Path) -> pd.DataFrame:
    """Read a CSV (UTF-8, UTF-8 BOM, GBK/GB18030) or XLSX export with every value as text."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return pd.read_excel(path, dtype=str, engine="openpyxl")
    last = None
    for enc in ENCODINGS:
        try:
            return pd.read_csv(path, dtype=str, encoding=enc, keep_default_na=False)
        except UnicodeDecodeError as exc:
            last = exc
    raise IngestError(f"{path.name}: not readable as UTF-8 or GBK/GB18030 text ({last})")


def map_columns(df: pd.DataFrame, table: str, path: Path) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Rename headers to canonical names; drop personal and unknown columns; check required ones."""
    t = TABLES[table]
    lookup = {}
    for f in t.fields:
        lookup[_norm(f.name)] = f.name
        lookup[_norm(f.zh)] = f.name
    personal_norm = {_norm(p) for p in PERSONAL_COLUMNS}
    rename, personal, unknown = {}, [], []
    for col in df.columns:
        n = _norm(col)
        if n in lookup:
            rename[col] = lookup[n]
        elif n in personal_norm or any(p in n for p in ("电话", "phone", "姓名", "身份证")):
            personal.append(str(col))
        else:
            unknown.append(str(col))
    out = df.rename(columns=rename).drop(columns=personal + unknown)
    derivable = DERIVABLE.get(table, {})
    for f in t.fields:
        if f.name in out.columns or (f.name in derivable and derivable[f.name] in out.columns):
            continue
        hint = difflib.get_close_matches(str(f.zh), [str(c) for c in unknown], n=1) or \
            difflib.get_close_matches(f.name, [str(c) for c in unknown], n=1)
        extra = f"; did you mean {hint[0]!r}?" if hint else ""
        raise IngestError(
            f"{path.name}: missing column {f.name!r} ({f.zh}{', ' + f.unit if f.unit else ''}); "
            f"expected the columns {', '.join(f'{x.name} ({x.zh})' for x in t.fields)}{extra}")
    return out, personal, unknown


def ingest_folder(path: str | Path, *, store_dir: str | Path | None = None,
                  rejects_dir: str | Path | None = None) -> IngestReport:
    """Validate every export in ``path`` and write it into the store; see the module docstring."""
    src = Path(path)
    root = Path(store_dir) if store_dir else config.store_dir()
    if not src.is_dir():
        raise IngestError(f"{src}: not a folder; pass the folder holding the month's export files")
    files = sorted(p for p in src.iterdir() if p.is_file() and p.suffix.lower() in (".csv", ".xlsx", ".xlsm"))
    if not files:
        raise IngestError(f"{src}: no .csv or .xlsx files to ingest")
    by_table: dict[str, list[Path]] = {}
    for f in files:
        by_table.setdefault(table_for(f), []).append(f)
    store.recover(root)
    # pass 1: read and check headers of every file before validating or writing anything
    frames: dict[Path, tuple[str, pd.DataFrame, list[str], list[str]]] = {}
    for table in ORDER:
        for f in by_table.get(table, []):
            raw = read_export(f)
            mapped, personal, unknown = map_columns(raw, table, f)
            frames[f] = (table, mapped, personal, unknown)
    # pass 2: validate in dependency order, collecting known keys for references
    known = _known_keys(root)
    validated: dict[str, list[tuple[Path, Validated, list[str], list[str]]]] = {}
    for table in ORDER:
        for f in by_table.get(table, []):
            _, mapped, personal, unknown = frames[f]
            mapped = _derive(mapped, table, known)
            v = validate_rows(mapped, table, known=known)
            if table == "customers":
                known["license_id"] |= set(v.good["license_id"])
                known["district_of"].update(zip(v.good["license_id"], v.good["district_code"]))
            if table == "products":
                known["sku"] |= set(v.good["sku"])
            validated.setdefault(table, []).append((f, v, personal, unknown))
    # pass 3: stage and commit
    rej_root = Path(rejects_dir) if rejects_dir else src / "rejects"
    results, months = [], {}
    with store.Transaction(root) as tx:
        for table, items in validated.items():
            good = pd.concat([v.good for _, v, _, _ in items], ignore_index=True)
            if table in store.DIMENSIONS:
                tx.upsert_dimension(good, table)
            else:
                months[table] = tx.replace_months(good, table)
    for table, items in validated.items():
        for f, v, personal, unknown in items:
            rej_file = None
            if len(v.rejects):
                rej_root.mkdir(parents=True, exist_ok=True)
                rej_file = rej_root / f"{f.stem}.rejects.csv"
                v.rejects.to_csv(rej_file, index=False, encoding="utf-8-sig")
            results.append(FileResult(f.name, table, v.n_read, len(v.good), len(v.rejects),
                                      personal, unknown, str(rej_file) if rej_file else None))
    return IngestReport(results, months)


def _known_keys(root: Path) -> dict:
    known = {"license_id": set(), "sku": set(), "district_of": {}}
    try:
        c = store.query("customers", columns=["license_id", "district_code"], store=root)
        known["license_id"] = set(c["license_id"])
        known["district_of"] = dict(zip(c["license_id"], c["district_code"]))
    except FileNotFoundError:
        pass
    try:
        known["sku"] = set(store.query("products", columns=["sku"], store=root)["sku"])
    except FileNotFoundError:
        pass
    return known


def _derive(df: pd.DataFrame, table: str, known: dict) -> pd.DataFrame:
    """Fill derivable columns (month from the date, district from the customer master)."""
    df = df.copy()
    for col, source in DERIVABLE.get(table, {}).items():
        if col in df.columns:
            continue
        if col == "month":
            dates = pd.to_datetime(df[source].astype("string").str.strip(), errors="coerce", format="mixed")
            df[col] = dates.dt.strftime("%Y-%m")
        elif col == "district_code":
            df[col] = df[source].astype("string").str.strip().map(known["district_of"])
    return df
