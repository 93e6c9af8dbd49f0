"""Ingest real exports (CSV in UTF-8, UTF-8 with BOM, GBK/GB18030; XLSX) into the store.

Every file is matched to a table by its name, its header row found and its headers mapped to the
data model by an export profile (:mod:`kehu_lib.profiles`; ``canonical`` or a system's own, given
or detected), and every row normalised and validated (:mod:`kehu_lib.validate`). Rows that fail
go to ``rejects/<file>.rejects.csv`` with the reason; rows read = rows stored + rows rejected for
every file. A missing column, an unreadable file or dates of unknown day/month order stop the
ingest before anything is written. Personal data columns are dropped and reported.

What is replaced: an export replaces exactly the (month, district) partitions it covers. Months
holding only a few of the export's rows (under ``late_share`` of its largest month: late lines
of an earlier month, early lines of the next) are merged by key into the stored month, never
replacing it. A replacement that would shrink a stored partition by more than ``max_shrink``
stops the ingest unless the month is named in ``replace``. Dimension tables (districts,
customers, products) are merged by key. The ingest holds the store's writer lock and commits
all-or-nothing (:class:`kehu_lib.store.Transaction`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from . import config, profiles, store
from .readers import (CSV_SUFFIXES, XLSX_SUFFIXES, IngestError, Layout, chunks, layout,
                      layouts as read_parts, read_export, table_of)
from .present.format import pad, text_width
from .schema import TABLES
from .validate import AmbiguousDates, DateState, validate_rows

__all__ = ["IngestError", "IngestReport", "ingest_folder", "inspect_file", "read_export", "table_for"]

ORDER = ("districts", "products", "customers", "orders", "price_checks", "visits", "retailer_survey",
         "consumer_survey", "census")
#: Table names a file may carry in the canonical profile (kept for callers of earlier versions).
TABLE_ALIASES = {t: tuple(s.files[1:]) for t, s in profiles.load("canonical").tables.items()}
MAX_SHRINK = 0.30
LATE_SHARE = 0.20
CHUNK_ROWS = 500_000


def table_for(path: Path) -> str:
    """The table a file holds under the canonical profile (see :func:`readers.table_of`)."""
    return table_of(Path(path), profiles.load("canonical"))


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
    notes: list[str] = field(default_factory=list)

    @property
    def all_rejected(self) -> bool:
        """Nothing of this file was stored: every row rejected, or no data rows at all."""
        return self.stored == 0


@dataclass
class Change:
    """What the ingest did to one partition (or dimension table)."""

    table: str
    month: str  # "" for a dimension table
    district: str  # district code, "" for a dimension table
    before: int
    after: int
    action: str  # replaced | merged | upserted
    detail: str = ""


@dataclass
class IngestReport:
    results: list[FileResult]
    changes: list[Change]
    profile: str = "canonical"
    notes: list[str] = field(default_factory=list)

    @property
    def months(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for c in self.changes:
            if c.month and c.action == "replaced" and c.month not in out.setdefault(c.table, []):
                out[c.table].append(c.month)
        return out

    @property
    def all_rejected(self) -> list[FileResult]:
        return [r for r in self.results if r.all_rejected]

    def summary(self) -> str:
        names = {d.code: d.name for d in config.DISTRICTS}
        fw = max([32, *(text_width(r.file) for r in self.results)])
        lines = [f"profile: {self.profile}", *self.notes,
                 f"{pad('file', fw)} {'table':16} {'read':>9} {'stored':>9} {'rejected':>9}"]
        for r in self.results:
            lines.append(f"{pad(r.file, fw)} {r.table:16} {r.read:>9,} {r.stored:>9,} "
                         f"{r.rejected:>9,}")
            if r.read == 0:
                lines.append("  NO DATA ROWS under the header: nothing from this file was stored")
            elif r.all_rejected:
                lines.append(f"  ALL {r.read:,} ROWS REJECTED: nothing from this file was stored")
            for note in r.notes:
                lines.append(f"  {note}")
            if r.dropped_personal:
                lines.append(f"  personal data dropped, not stored: {', '.join(r.dropped_personal)}")
            if r.dropped_unknown:
                lines.append(f"  columns not in the data model, ignored: {', '.join(r.dropped_unknown)}")
            if r.rejects_file:
                lines.append(f"  rejected rows with reasons: {r.rejects_file}")
        if self.changes:
            lines.append(f"{'table':16} {'month':8} {pad('district', 16)} {'before':>9}   "
                         f"{'after':>9}  action")
            for c in self.changes:
                dist = f"{c.district} {names.get(c.district, '')}".strip() if c.district else "-"
                lines.append(f"{c.table:16} {c.month or '-':8} {pad(dist, 16)} {c.before:>9,} → "
                             f"{c.after:>9,}  "
                             f"{c.action}{' (' + c.detail + ')' if c.detail else ''}")
        for table, months in self.months.items():
            lines.append(f"{table}: replaced month(s) {', '.join(months)} "
                         f"(only the districts listed above)")
        if self.all_rejected:
            lines.append(f"{len(self.all_rejected)} file(s) had every row rejected or no rows: "
                         + ", ".join(r.file for r in self.all_rejected))
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# profile and files


def _export_files(src: Path) -> tuple[list[Path], list[str]]:
    files, skipped = [], []
    for p in sorted(src.iterdir()):
        if not p.is_file() or p.name.startswith((".", "~$")):
            continue
        if p.suffix.lower() in CSV_SUFFIXES + XLSX_SUFFIXES + (".xls",):
            files.append(p)
        else:
            skipped.append(p.name)
    return files, skipped


def choose_profile(files: Sequence[Path], name: str | None = None) -> tuple[profiles.Profile, bool]:
    """The profile given by name/path, or the shipped one whose file names and headers match the
    files best (canonical on a tie). Returns ``(profile, detected)``."""
    if name:
        try:
            return profiles.load(name), False
        except profiles.ProfileError as exc:
            raise IngestError(str(exc)) from None
    best, best_score = None, -1
    for prof in profiles.load_all():
        score = 0
        for f in files:
            try:
                lo = layout(f, prof, check=False)
            except IngestError:
                continue
            score += 1 + len(lo.mapping)
        if score > best_score:
            best, best_score = prof, score
    return best, True


def layouts(files: Sequence[Path], prof: profiles.Profile) -> list[Layout]:
    """Every file's layout, one per part: a workbook holding its table on several sheets gives
    one per sheet, and notes its other sheets with cells on its first part (raises IngestError
    for the first unreadable or incomplete file)."""
    out = []
    for f in files:
        parts, notes = read_parts(f, prof)
        parts[0].extra_notes.extend(notes)
        out.extend(parts)
    return out


# --------------------------------------------------------------------------------------------
# the ingest


def ingest_folder(path: str | Path, *, store_dir: str | Path | None = None,
                  rejects_dir: str | Path | None = None, profile: str | None = None,
                  date_format: str | None = None, replace: Sequence[str] = (),
                  max_shrink: float = MAX_SHRINK, late_share: float = LATE_SHARE, wait: bool = True,
                  on_wait: Callable[[str], None] | None = None,
                  chunk_rows: int = CHUNK_ROWS) -> IngestReport:
    """Validate every export in ``path`` and write it into the store; see the module docstring.

    ``replace``: months ('YYYY-MM') allowed to shrink (and always replaced, however few their
    rows). ``wait``: wait for another writer (``on_wait`` is told) or raise
    :class:`kehu_lib.store.StoreLocked`.
    """
    src = Path(path)
    root = Path(store_dir).resolve() if store_dir else config.store_dir()
    if not src.is_dir():
        raise IngestError(f"{src}: not a folder; pass the folder holding the month's export files")
    files, skipped = _export_files(src)
    if not files:
        raise IngestError(f"{src}: no .csv or .xlsx files to ingest")
    prof, detected = choose_profile(files, profile)
    if date_format:
        prof.date_format = date_format
    replace = {str(pd.Period(m, "M")) for m in replace}
    los = layouts(files, prof)
    notes = [f"files not read (not CSV/XLSX): {', '.join(skipped)}"] if skipped else []
    with store.writer_lock(root, wait=wait, on_wait=on_wait, command="kehu ingest"):
        store.recover(root)
        known = _known_keys(root)
        by_table: dict[str, list[Layout]] = {}
        for lo in los:
            by_table.setdefault(lo.table, []).append(lo)
        results: dict[Path, FileResult] = {}
        rejects: dict[Path, list[pd.DataFrame]] = {}
        tables: dict[str, pd.DataFrame] = {}
        for table in ORDER:
            if table not in by_table:
                continue
            goods = []
            for k, lo in enumerate(by_table[table]):
                good, rej, res = _read_file(lo, known, prof, chunk_rows)
                goods.append(good.assign(_file=np.int16(k)))
                rejects[id(lo)] = rej
                results[id(lo)] = res
            df = _dedupe_across(table, goods, by_table[table], rejects, results)
            df = _reject_strays(table, df, by_table[table], rejects, results, root, replace,
                                late_share)
            tables[table] = df
            if table == "customers":
                known["license_id"] |= set(df["license_id"].astype(str))
                known["district_of"].update(zip(df["license_id"].astype(str), df["district_code"].astype(str)))
            elif table == "products":
                known["sku"] |= set(df["sku"].astype(str))
            elif table == "districts":
                known["district_code"] |= set(df["district_code"].astype(str))
        rej_root = Path(rejects_dir) if rejects_dir else src / "rejects"
        for lo in los:
            rej = [r for r in rejects[id(lo)] if len(r)]
            if rej:
                rej_root.mkdir(parents=True, exist_ok=True)
                out = rej_root / f"{lo.path.stem}{_part_suffix(lo)}.rejects.csv"
                pd.concat(rej, ignore_index=True).sort_values("row", kind="stable").to_csv(
                    out, index=False, encoding="utf-8-sig")
                results[id(lo)].rejects_file = str(out)
        changes, staged = _plan(tables, root, replace, max_shrink, late_share)
        if staged:
            with store.Transaction(root, on_wait=on_wait) as tx:
                for table, values, frame in staged:
                    if values is None:
                        tx.stage_dimension(frame, table)
                    else:
                        tx.stage_partition(frame, table, values)
    name = f"{prof.name} ({'detected' if detected else 'given'})"
    return IngestReport([results[id(lo)] for lo in los], changes, name, notes)


def _part_suffix(lo: Layout) -> str:
    """'.<sheet>' for a part of a table spread over sheets (file-name safe), else ''."""
    if not lo.part:
        return ""
    return "." + re.sub(r'[\\/:*?"<>|\s]+', "_", lo.part)


def _read_file(lo: Layout, known: dict, prof: profiles.Profile, chunk_rows: int):
    """Validate one file chunk by chunk: (compact good rows, reject frames, FileResult)."""
    state = DateState(prof.date_format, open_end=prof.open_end_dates)
    goods, rejs = [], []
    time_dropped: dict[str, int] = {}
    open_end: dict[str, int] = {}
    n_read = 0
    for rows, bad_lines in chunks(lo, chunk_rows):
        if len(bad_lines):
            rejs.append(bad_lines.assign(column="(whole row)")[["row", "column", "reason", "text"]])
            n_read += len(bad_lines)
        if not len(rows):
            continue
        n_read += len(rows)
        try:
            v = validate_rows(rows.drop(columns="_row"), lo.table, row_numbers=rows["_row"],
                              known=known, dates=state, factors=lo.factors)
        except AmbiguousDates as exc:
            raise IngestError(f"{lo.name}: {exc}; nothing written") from None
        for col, n in v.notes.get("time_dropped", {}).items():
            time_dropped[col] = time_dropped.get(col, 0) + n
        for col, n in v.notes.get("open_end", {}).items():
            open_end[col] = open_end.get(col, 0) + n
        goods.append(_compact(v.good, lo.table))
        if len(v.rejects):
            rejs.append(v.rejects)
    good = _concat(goods) if goods else _compact(_empty(lo.table), lo.table)
    notes = lo.notes()
    for col, n in time_dropped.items():
        notes.append(f"{col}: time of day dropped from {n:,} value(s); dates are stored at day precision")
    for col, n in open_end.items():
        notes.append(f"{col}: {n:,} value(s) {' / '.join(prof.open_end_dates)} read as no date "
                     "(stored empty: the profile's open_end_dates)")
    for col, order in state.order.items():
        notes.append(f"{col}: D/M/Y dates read {'day' if order == 'dayfirst' else 'month'}-first "
                     "(found in the values)")
    res = FileResult(lo.name, lo.table, n_read, len(good), n_read - len(good), lo.personal,
                     lo.unmapped, None, notes)
    return good, rejs, res


def _empty(table: str) -> pd.DataFrame:
    return store._to_pandas(store.arrow_schema(table).empty_table(), table).assign(_row=np.int64(0))[:0]


def _compact(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Strings to categories (a month of a large file held in a fraction of the memory)."""
    if table in store.DIMENSIONS:
        return df
    out = df.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.StringDtype):
            out[c] = out[c].astype("category")
    out["_row"] = out["_row"].astype(np.int64)
    return out


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    if len(frames) == 1:
        return frames[0]
    cats = [c for c in frames[0].columns if isinstance(frames[0][c].dtype, pd.CategoricalDtype)]
    unified = {c: pd.api.types.union_categoricals([f[c] for f in frames], ignore_order=True).categories
               for c in cats}
    frames = [f.assign(**{c: f[c].cat.set_categories(unified[c]) for c in cats}) for f in frames]
    return pd.concat(frames, ignore_index=True)


def _typed(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Back to the schema's dtypes (categories to text), optional columns added empty."""
    out = df.drop(columns=[c for c in ("_row", "_file") if c in df.columns])
    for f in TABLES[table].fields:
        if f.name not in out.columns:
            out[f.name] = pd.Series(pd.NA, index=out.index, dtype="string")
        elif isinstance(out[f.name].dtype, pd.CategoricalDtype):
            out[f.name] = out[f.name].astype("string")
    return out[TABLES[table].columns]


def _dedupe_across(table: str, goods: list[pd.DataFrame], los: list[Layout],
                   rejects: dict, results: dict) -> pd.DataFrame:
    """One frame of the table's good rows; a key seen in an earlier file (or an earlier chunk of
    the same file) rejects the later row, naming the file and row of the first."""
    df = _concat(goods)
    key = list(TABLES[table].key)
    dup = df.duplicated(subset=key, keep="first").to_numpy()
    if not dup.any():
        return df
    first = df[~dup][key + ["_file", "_row"]].merge(df[dup][key + ["_file", "_row"]].reset_index(),
                                                    on=key, suffixes=("_first", ""))
    for k, lo in enumerate(los):
        mine = first[first["_file"] == k]
        if not len(mine):
            continue
        where = [f"row {r} of this file" if f == k else f"{los[f].name} row {r}"
                 for f, r in zip(mine["_file_first"], mine["_row_first"])]
        _add_rejects(df.loc[mine["index"]], table, lo, "+".join(key),
                     [f"duplicate key ({', '.join(key)}): the same key is in {w}" for w in where],
                     rejects, results)
    return df[~dup].reset_index(drop=True)


def _add_rejects(rows: pd.DataFrame, table: str, lo: Layout, column: str, reasons: list[str],
                 rejects: dict, results: dict) -> None:
    """Move ``rows`` (good so far) of ``lo`` to its rejects, with their row numbers and reasons."""
    rej = _typed(rows, table)
    rej = rej.assign(**{c: rej[c].dt.strftime("%Y-%m-%d") for c in rej.columns
                        if pd.api.types.is_datetime64_any_dtype(rej[c])})
    rej = rej.astype(object).astype("string")
    rej.insert(0, "reason", reasons)
    rej.insert(0, "column", column)
    rej.insert(0, "row", rows["_row"].to_numpy())
    rejects[id(lo)].append(rej.reset_index(drop=True))
    res = results[id(lo)]
    res.stored -= len(rows)
    res.rejected += len(rows)


def _reject_strays(table: str, df: pd.DataFrame, los: list[Layout], rejects: dict, results: dict,
                   root: Path, replace: set[str], late_share: float) -> pd.DataFrame:
    """Reject the lines of a month the export barely covers and the store does not hold.

    Such a month has fewer than ``late_share`` × the lines of the export's largest month and no
    partition of this table in the store. Lines of a month the store holds are late lines and
    are merged (:func:`_plan`); these are a stray date instead: a typo (2016 for 2026) or a line
    of next month. Storing them would create a month of a handful of lines, and a next month
    would become the store's latest, the batch's default report month. They are rejected and
    counted; ``--replace MONTH`` stores them anyway.
    """
    if table in store.DIMENSIONS or not len(df):
        return df
    mcol = TABLES[table].partition[0]
    month = df[mcol].astype(str)
    per_month = month.value_counts()
    largest = int(per_month.max())
    held = set(store.months(table, root))
    stray = {m: int(c) for m, c in per_month.items()
             if c < late_share * largest and m not in held and m not in replace}
    if not stray:
        return df
    date_col = next((f.name for f in TABLES[table].fields
                     if f.dtype == "date" and f.name in TABLES[table].key), None)
    mask = month.isin(list(stray)).to_numpy()
    for k, lo in enumerate(los):
        mine = df[mask & (df["_file"] == k).to_numpy()]
        if not len(mine):
            continue
        ms = mine[mcol].astype(str)
        what = (mine[date_col].dt.strftime("%Y-%m-%d").radd(f"{date_col} ") if date_col
                else ms.radd(f"{mcol} "))
        reasons = [f"{w} is in {m}: the store holds no {table} of {m} and this export has only "
                   f"{stray[m]:,} line(s) of it (its largest month {largest:,}): a stray date? A "
                   f"new month comes in its own export; pass --replace {m} to store these lines "
                   "anyway" for w, m in zip(what, ms)]
        _add_rejects(mine, table, lo, date_col or mcol, reasons, rejects, results)
    return df[~mask].reset_index(drop=True)


def _known_keys(root: Path) -> dict:
    known = {"license_id": set(), "sku": set(), "district_of": {}, "district_code": set()}
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
    try:
        known["district_code"] = set(store.query("districts", columns=["district_code"], store=root)["district_code"])
    except FileNotFoundError:  # a new store: the city's districts as configured
        known["district_code"] = {d.code for d in config.DISTRICTS}
    return known


# --------------------------------------------------------------------------------------------
# what to replace, what to merge


def _key_index(df: pd.DataFrame, key: list[str]) -> pd.MultiIndex:
    return pd.MultiIndex.from_frame(df[key].astype({k: "string" for k in key if df[k].dtype != "datetime64[ns]"}))


def _plan(tables: dict[str, pd.DataFrame], root: Path, replace: set[str], max_shrink: float,
          late_share: float):
    """The changes per partition and the frames to stage; raises IngestError when a replacement
    would shrink a stored partition by more than ``max_shrink`` (unless its month is in
    ``replace``)."""
    changes: list[Change] = []
    staged: list[tuple[str, tuple | None, pd.DataFrame]] = []
    blocked: list[str] = []
    for table in ORDER:
        if table not in tables:
            continue
        new = tables[table]
        t = TABLES[table]
        key = list(t.key)
        if table in store.DIMENSIONS:
            if not len(new):
                continue
            new = _typed(new, table)
            try:
                old = store.query(table, store=root)
            except FileNotFoundError:
                old = new.iloc[:0]
            hit = _key_index(old, key).isin(_key_index(new, key))
            merged = pd.concat([old[~hit], new], ignore_index=True)
            changes.append(Change(table, "", "", len(old), len(merged), "upserted",
                                  f"{len(new) - int(hit.sum()):,} new, {int(hit.sum()):,} updated"))
            staged.append((table, None, merged))
            continue
        if not len(new):
            continue
        mcol = t.partition[0]
        counts = new.groupby([mcol, "district_code"], observed=True).size()
        counts = counts[counts > 0]
        per_month = counts.groupby(level=0, observed=True).sum()
        largest = per_month.max()
        late = {str(m) for m, c in per_month.items() if c < late_share * largest and str(m) not in replace}
        for month in sorted(str(m) for m in per_month.index):
            rows = _typed(new[new[mcol] == month], table)
            districts = sorted(str(d) for d in counts.loc[month].index)
            by_district = "district_code" in t.partition
            old_month = None if by_district else store.read_partition(table, (month,), root)
            kept_parts = []
            for d in districts:
                part_new = rows[rows["district_code"] == d]
                if by_district:
                    before = store.partition_rows(table, (month, d), root)
                else:
                    before = int((old_month["district_code"] == d).sum())
                if month in late:
                    old = store.read_partition(table, (month, d), root) if by_district else \
                        old_month[old_month["district_code"] == d]
                    hit = _key_index(old, key).isin(_key_index(part_new, key))
                    part = pd.concat([old[~hit], part_new], ignore_index=True)
                    detail = (f"{len(part_new):,} late line(s) merged by key: {len(part_new) - int(hit.sum()):,} "
                              f"new, {int(hit.sum()):,} updated; the month is not replaced")
                    action = "merged"
                else:
                    part = part_new
                    action, detail = "replaced", ""
                    if before and len(part) < (1 - max_shrink) * before and month not in replace:
                        blocked.append(f"{table} {month} district {d}: {before:,} → {len(part):,} rows "
                                       f"({len(part) / before - 1:+.1%})")
                changes.append(Change(table, month, d, before, len(part), action, detail))
                if by_district:
                    staged.append((table, (month, d), part))
                else:
                    kept_parts.append(part)
            if not by_district:
                rest = old_month[~old_month["district_code"].isin(districts)]
                staged.append((table, (month,), pd.concat([rest, *kept_parts], ignore_index=True)))
    if blocked:
        months = sorted({b.split()[1] for b in blocked})
        raise IngestError(
            "replacing would shrink stored data by more than "
            f"{max_shrink * 100:g}%: " + "; ".join(blocked) + ". Nothing written. If the export is "
            "complete and the store is wrong, pass " + " ".join(f"--replace {m}" for m in months)
            + "; if the export is partial, export the whole month")
    return changes, staged


# --------------------------------------------------------------------------------------------
# inspect


def inspect_file(path: str | Path, *, profile: str | None = None, date_format: str | None = None,
                 sample_rows: int = 5, store_dir: str | Path | None = None) -> str:
    """How ``path`` would be read, without writing anything: table, profile, encoding/sheet,
    header row, column mapping with units, unmapped and personal columns, date order found,
    and the first parsed rows (or the reason the file cannot be read)."""
    p = Path(path)
    if not p.is_file():
        raise IngestError(f"{p}: no such file")
    prof, detected = choose_profile([p], profile)
    if date_format:
        prof.date_format = date_format
    lines = [f"file:      {p.name}", f"profile:   {prof.name} ({'detected' if detected else 'given'})"]
    lo = layout(p, prof, check=False)
    lines.append(f"table:     {lo.table} ({TABLES[lo.table].zh})")
    try:
        parts, sheet_notes = read_parts(p, prof, lo.table)
    except IngestError as exc:
        parts, sheet_notes = [lo], [f"PROBLEM: {exc}"]
    sheets = ", ".join(repr(x.sheet) for x in parts) if len(parts) > 1 else repr(lo.sheet)
    lines.append("read as:   " + (f"XLSX sheet{'s' if len(parts) > 1 else ''} {sheets}"
                                  + (" (the table spans them; every sheet is read, the first shown"
                                     " here)" if len(parts) > 1 else "")
                                  if lo.kind == "xlsx" else
                                  f"CSV, encoding {lo.encoding}, delimiter {lo.delimiter!r}"))
    lines.extend(f"           {n}" for n in sheet_notes)
    lines.append(f"header:    row {lo.header_row}" + (
        f" (rows above skipped: {'; '.join(s for s in lo.skipped_above if s)[:80]!r})" if lo.header_row > 1 else ""))
    lines.append("columns:")
    for h in lo.headers:
        if h in lo.mapping:
            f = lo.mapping[h]
            unit = lo.units.get(f)
            conv = f"  [{unit} -> {TABLES[lo.table].field(f).unit}]" if unit and unit != TABLES[lo.table].field(f).unit else ""
            lines.append(f"  {h!r:24} -> {f}{conv}")
    for label, cols in (("personal data, dropped", lo.personal), ("known, ignored", lo.ignored),
                        ("unmapped, ignored", lo.unmapped)):
        if cols:
            lines.append(f"{label}: {', '.join(cols)}")
    try:
        _check = layout(p, prof)
        del _check
        lines.append("required columns: all present")
    except IngestError as exc:
        lines.append(f"PROBLEM: {exc}")
    rows, _ = next(iter(chunks(lo, 2000)), (pd.DataFrame(), None))
    if len(rows):
        known = _known_keys(Path(store_dir).resolve() if store_dir else config.store_dir())
        # without a store holding shops and SKUs, references are not checked (said below)
        known = {k: v for k, v in known.items() if len(v)}
        if "license_id" not in known:
            lines.append("references: the store has no customers/products; shops and SKUs not checked")
        state = DateState(prof.date_format, open_end=prof.open_end_dates)
        try:
            v = validate_rows(rows.drop(columns="_row"), lo.table, row_numbers=rows["_row"],
                              dates=state, factors=lo.factors, known=known)
        except AmbiguousDates as exc:
            lines.append(f"PROBLEM: {exc}")
        else:
            for col in (f.name for f in TABLES[lo.table].fields if f.dtype == "date"):
                if col in v.good:
                    seen = state.seen.get(col, {})
                    found = ", ".join(f"{k} ({n:,})" for k, n in seen.items()) or "no dates"
                    lines.append(f"dates:     {col}: {found}"
                                 + (f"; time of day dropped from {v.notes['time_dropped'][col]:,}"
                                    if col in v.notes.get("time_dropped", {}) else "")
                                 + (f"; {v.notes['open_end'][col]:,} open-end date(s) read as no date"
                                    if col in v.notes.get("open_end", {}) else ""))
            lines.append(f"first {min(sample_rows, len(v.good))} parsed rows (of the first {len(rows):,}: "
                         f"{len(v.good):,} good, {len(v.rejects):,} rejected):")
            with pd.option_context("display.width", 160, "display.max_columns", 30):
                lines.append(_typed(v.good.head(sample_rows), lo.table).to_string(index=False))
            if len(v.rejects):
                lines.append("first rejected rows:")
                for r in v.rejects.head(3).itertuples(index=False):
                    lines.append(f"  row {r.row}: {r.reason}")
    else:
        lines.append("no data rows under the header")
    return "\n".join(lines)
