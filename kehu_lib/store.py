"""The columnar store: Parquet files under ``data/store`` queried with DuckDB.

Layout (hive partitions, so a query for one month and one district opens only those files)::

    store/districts.parquet, customers.parquet, products.parquet      dimension tables
    store/orders/month=YYYY-MM/district_code=NNNNNN/part-0.parquet    order lines
    store/<table>/month=YYYY-MM/part-0.parquet                       checks, visits, surveys
    store/census/wave=YYYY-MM/part-0.parquet

Writes are atomic per partition: a partition is written under a temporary name and swapped in
with ``os.replace`` of its folder, so a killed write leaves the previous data in place.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Iterable, Sequence

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import config
from .schema import TABLES

DIMENSIONS = ("districts", "customers", "products")


def _root(store: str | Path | None) -> Path:
    return Path(store).resolve() if store is not None else config.store_dir()


def _arrow_type(dtype: str) -> pa.DataType:
    return {
        "string": pa.string(),
        "date": pa.timestamp("ns"),
        "Int64": pa.int64(),
        "float64": pa.float64(),
        "boolean": pa.bool_(),
    }[dtype]


def arrow_schema(table: str, drop: Sequence[str] = ()) -> pa.Schema:
    """The Arrow schema of ``table`` (without the columns in ``drop``)."""
    t = TABLES[table]
    return pa.schema([(f.name, _arrow_type(f.dtype)) for f in t.fields if f.name not in drop])


def to_arrow(df: pd.DataFrame, table: str, drop: Sequence[str] = ()) -> pa.Table:
    """Convert a frame to the table's Arrow schema (column order and types fixed)."""
    schema = arrow_schema(table, drop)
    return pa.Table.from_pandas(df[schema.names], schema=schema, preserve_index=False)


def swap_in(src: Path, dst: Path) -> None:
    """Put the folder or file ``src`` in place of ``dst`` with renames (the old one is removed)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir() and dst.exists():
        old = dst.parent / f".old-{dst.name}-{uuid.uuid4().hex[:8]}"
        os.replace(dst, old)
        os.replace(src, dst)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(src, dst)


def atomic_dir_write(target: Path, write) -> None:
    """Write a folder via ``write(tmpdir)`` and swap it in place of ``target`` atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".tmp-{target.name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        write(tmp)
        swap_in(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_dimension(df: pd.DataFrame, table: str, store: str | Path | None = None) -> Path:
    """Replace a dimension table (``districts``, ``customers``, ``products``) atomically."""
    root = _root(store)
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{table}.parquet"
    tmp = root / f".tmp-{table}-{uuid.uuid4().hex[:8]}.parquet"
    pq.write_table(to_arrow(df, table), tmp, compression="zstd")
    os.replace(tmp, path)
    return path


def write_partitions(df: pd.DataFrame, table: str, store: str | Path | None = None) -> list[Path]:
    """Write a fact table's rows, replacing every partition they touch (never appending).

    The partition columns (``month``, and ``district_code`` for orders) are encoded in the folder
    names. Each partition folder is swapped in atomically.
    """
    t = TABLES[table]
    root = _root(store) / table
    written: list[Path] = []
    if df.empty:
        return written
    parts = list(t.partition)
    for keys, part in df.groupby(parts, sort=True, observed=True):
        keys = keys if isinstance(keys, tuple) else (keys,)
        folder = root.joinpath(*[f"{c}={k}" for c, k in zip(parts, keys)])
        arrow = to_arrow(part, table, drop=parts)

        def _write(tmp: Path, arrow=arrow) -> None:
            pq.write_table(arrow, tmp / "part-0.parquet", compression="zstd",
                           row_group_size=256_000)

        atomic_dir_write(folder, _write)
        written.append(folder)
    return written


def replace_month(df: pd.DataFrame, table: str, month: str, store: str | Path | None = None) -> None:
    """Replace everything of ``table`` in ``month`` with ``df`` (drops stale district parts)."""
    root = _root(store) / table / f"month={month}"
    t = TABLES[table]
    if len(t.partition) == 1:
        write_partitions(df, table, store)
        return

    def _write(tmp: Path) -> None:
        inner = [c for c in t.partition if c != "month"]
        for keys, part in df.groupby(inner, sort=True, observed=True):
            keys = keys if isinstance(keys, tuple) else (keys,)
            sub = tmp.joinpath(*[f"{c}={k}" for c, k in zip(inner, keys)])
            sub.mkdir(parents=True, exist_ok=True)
            pq.write_table(to_arrow(part, table, drop=list(t.partition)), sub / "part-0.parquet",
                           compression="zstd", row_group_size=256_000)

    atomic_dir_write(root, _write)


# --------------------------------------------------------------------------------------------
# reading


def _months_filter(months) -> list[str] | None:
    """Normalise ``months``: None, 'YYYY-MM', a list of them, or a (start, end) tuple inclusive."""
    if months is None:
        return None
    if isinstance(months, (str, pd.Period)):
        return [str(pd.Period(months, freq="M"))]
    if isinstance(months, tuple) and len(months) == 2:
        rng = pd.period_range(pd.Period(months[0], freq="M"), pd.Period(months[1], freq="M"))
        return [str(p) for p in rng]
    return [str(pd.Period(m, freq="M")) for m in months]


def _district_code(district) -> str | None:
    d = config.resolve_district(district)
    return None if d is None else d.code


def connect() -> duckdb.DuckDBPyConnection:
    """A DuckDB connection limited to this machine's cores (or ``$KEHU_THREADS``, which the
    batch sets when several kernels share the cores)."""
    threads = int(os.environ.get("KEHU_THREADS") or 0) or os.cpu_count() or 1
    con = duckdb.connect(config={"threads": max(1, threads)})
    try:  # no progress bar on stdout; inside Jupyter DuckDB wants ipywidgets even to turn it off
        con.execute("SET enable_progress_bar = false")
    except duckdb.Error:
        pass
    return con


def _to_pandas(table_arrow: pa.Table, table: str) -> pd.DataFrame:
    """Arrow -> pandas with the schema's dtypes (strings stay Arrow-backed: no copy)."""
    strings = {pa.string(): pd.StringDtype(), pa.large_string(): pd.StringDtype()}
    df = table_arrow.to_pandas(types_mapper=strings.get)
    t = TABLES[table]
    for f in t.fields:
        if f.name not in df.columns:
            continue
        if f.dtype == "date":
            df[f.name] = df[f.name].astype("datetime64[ns]")
        elif f.dtype == "Int64":
            df[f.name] = df[f.name].astype("Int64")
        elif f.dtype == "boolean":
            df[f.name] = df[f.name].astype("boolean")
        elif f.dtype == "string":
            df[f.name] = df[f.name].astype("string")
    return df


def _partition_files(folder: Path, t, month_list: list[str] | None, code: str | None) -> list[str]:
    """Parquet files of the partitions that can hold matching rows (pruned by path, no globbing
    of unrelated months)."""
    first = folder.glob(f"{t.partition[0]}=*") if month_list is None else (
        folder / f"{t.partition[0]}={m}" for m in month_list)
    files: list[str] = []
    for part in first:
        if not part.is_dir():
            continue
        if len(t.partition) > 1:
            subs = [part / f"{t.partition[1]}={code}"] if code is not None else sorted(
                part.glob(f"{t.partition[1]}=*"))
        else:
            subs = [part]
        for sub in subs:
            files += [f.as_posix() for f in sorted(sub.glob("*.parquet"))]
    return files


def _read_files(files: list[str], folder: Path, t, cols: list[str]) -> pa.Table:
    """Decode the given hive-partitioned Parquet files (only ``cols``) into one Arrow table."""
    import pyarrow.dataset as ds

    part = ds.partitioning(pa.schema([(p, pa.string()) for p in t.partition]), flavor="hive")
    data = ds.dataset(files, format="parquet", partitioning=part, partition_base_dir=folder.as_posix())
    return data.to_table(columns=cols)


def query(table: str, *, columns: Sequence[str] | None = None, months=None, district=None,
          where: dict[str, Iterable] | None = None, store: str | Path | None = None) -> pd.DataFrame:
    """Read rows of a table with filter pushdown; returns a tidy frame with the schema's dtypes.

    ``months``: 'YYYY-MM', a list, or an inclusive ``(start, end)`` tuple; ``district``: name or
    code, ``None``/全市 for all; ``where``: column -> allowed values. Only the partitions that can
    match are opened (month and, for orders, district are folder names) and only the requested
    columns are decoded; DuckDB evaluates the remaining filters inside the scan.
    """
    t = TABLES[table]
    root = _root(store)
    cols = list(columns) if columns is not None else t.columns
    unknown = [c for c in cols if c not in t.columns]
    if unknown:
        raise KeyError(f"{table} has no column(s) {unknown}; columns are {t.columns}")
    month_list = _months_filter(months)
    code = _district_code(district)
    conds: list[str] = []
    params: list = []
    if table in DIMENSIONS:
        path = root / f"{table}.parquet"
        if not path.exists():
            raise FileNotFoundError(f"store has no {table} table at {path}; run `kehu sample` or "
                                    "`kehu ingest` first")
        source = f"read_parquet('{path.as_posix()}')"
    else:
        folder = root / table
        if not folder.exists():
            raise FileNotFoundError(f"store has no {table} data under {folder}; run `kehu sample` "
                                    "or `kehu ingest` first")
        files = _partition_files(folder, t, month_list, code if "district_code" in t.partition else None)
        if not files:
            empty = pa.schema([(c, _arrow_type(t.field(c).dtype)) for c in cols]).empty_table()
            return _to_pandas(empty, table)
        if not where and (code is None or "district_code" in t.partition):
            # only partition filters: decode the pruned files straight into Arrow (no SQL layer)
            return _to_pandas(_read_files(files, folder, t, cols), table)
        types = ", ".join(f"'{p}': VARCHAR" for p in t.partition)
        listing = ", ".join(f"'{f}'" for f in files)
        source = f"read_parquet([{listing}], hive_partitioning=true, hive_types={{{types}}})"
    if code is not None and "district_code" in t.columns and "district_code" not in t.partition:
        conds.append("district_code = ?")
        params.append(code)
    for col, values in (where or {}).items():
        values = list(values)
        if not values:
            conds.append("FALSE")
            continue
        conds.append(f"{col} IN ({', '.join('?' * len(values))})")
        params += [str(v) if not isinstance(v, (int, float, bool)) else v for v in values]
    sql = f"SELECT {', '.join(cols)} FROM {source}"
    if conds:
        sql += " WHERE " + " AND ".join(conds)
    con = connect()
    try:
        rel = con.sql(sql, params=params) if params else con.sql(sql)
        return _to_pandas(rel.to_arrow_table(), table)
    finally:
        con.close()


def months(table: str = "orders", store: str | Path | None = None) -> list[str]:
    """The months present in a partitioned table, sorted."""
    folder = _root(store) / table
    key = "wave=" if table == "census" else "month="
    if not folder.exists():
        return []
    return sorted(p.name.split("=", 1)[1] for p in folder.iterdir()
                  if p.is_dir() and p.name.startswith(key))


def latest_month(store: str | Path | None = None) -> str:
    """The latest month with order data (the default report month)."""
    found = months("orders", store)
    if not found:
        raise FileNotFoundError(f"no order data in {_root(store)}; run `kehu sample` first")
    return found[-1]


# --------------------------------------------------------------------------------------------
# staged, all-or-nothing writes


class Transaction:
    """Stage every write under ``<store>/.staging-<id>`` and swap it in on success.

    On leaving the ``with`` block without error, a ``COMMITTING`` marker is written and each staged
    partition replaces its live counterpart; :func:`recover` finishes a commit that was killed
    half-way (marker present) or discards an unfinished staging area (no marker).
    """

    def __init__(self, root: str | Path | None = None):
        self.root = _root(root)
        self.stage = self.root / f".staging-{uuid.uuid4().hex[:8]}"
        self.items: list[str] = []  # relative paths staged

    def __enter__(self) -> "Transaction":
        self.stage.mkdir(parents=True)
        return self

    def upsert_dimension(self, df: pd.DataFrame, table: str) -> None:
        """Merge rows into a dimension table by its key (new rows win)."""
        key = list(TABLES[table].key)
        try:
            old = query(table, store=self.root)
            df = pd.concat([old[~old.set_index(key).index.isin(df.set_index(key).index)], df],
                           ignore_index=True)
        except FileNotFoundError:
            pass
        pq.write_table(to_arrow(df, table), self.stage / f"{table}.parquet", compression="zstd")
        self.items.append(f"{table}.parquet")

    def replace_months(self, df: pd.DataFrame, table: str) -> list[str]:
        """Stage full replacements of every month (or census wave) present in ``df``."""
        t = TABLES[table]
        mcol = t.partition[0]
        found = sorted(df[mcol].dropna().unique()) if len(df) else []
        for m in found:
            part = df[df[mcol] == m]
            rel = f"{table}/{mcol}={m}"
            target = self.stage / rel
            inner = list(t.partition[1:])
            if inner:
                for keys, sub in part.groupby(inner, sort=True):
                    keys = keys if isinstance(keys, tuple) else (keys,)
                    d = target.joinpath(*[f"{c}={k}" for c, k in zip(inner, keys)])
                    d.mkdir(parents=True, exist_ok=True)
                    pq.write_table(to_arrow(sub, table, drop=list(t.partition)), d / "part-0.parquet",
                                   compression="zstd")
            else:
                target.mkdir(parents=True, exist_ok=True)
                pq.write_table(to_arrow(part, table, drop=list(t.partition)), target / "part-0.parquet",
                               compression="zstd")
            self.items.append(rel)
        return [str(m) for m in found]

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            shutil.rmtree(self.stage, ignore_errors=True)
            return
        (self.stage / "COMMITTING").write_text("\n".join(self.items), encoding="utf-8")
        _finish_commit(self.root, self.stage)


def _finish_commit(root: Path, stage: Path) -> None:
    items = (stage / "COMMITTING").read_text(encoding="utf-8").split("\n")
    for rel in filter(None, items):
        src, dst = stage / rel, root / rel
        if src.exists():  # else already moved by an interrupted commit
            swap_in(src, dst)
    shutil.rmtree(stage, ignore_errors=True)


def recover(root: str | Path | None = None) -> None:
    """Finish or discard staged writes left by an interrupted ingest."""
    root = _root(root)
    if not root.exists():
        return
    for stage in root.glob(".staging-*"):
        if (stage / "COMMITTING").exists():
            _finish_commit(root, stage)
        else:
            shutil.rmtree(stage, ignore_errors=True)
    for leftover in [*root.glob("*/.old-*"), *root.glob("*/*/.old-*"), *root.glob("*/.tmp-*"),
                     *root.glob("*/*/.tmp-*")]:
        shutil.rmtree(leftover, ignore_errors=True)
