"""Month aggregates of the order ledger, computed by DuckDB over the Parquet store.

A city's month holds about 1.3 M order lines (20,000 shops, several orders per shop and SKU); the
reports and the plan only ever sum them by month, shop and SKU. So the sums are taken inside the
store, and only the monthly ledger reaches pandas:

- :func:`shop_sku_month` — one row per month × shop × SKU: ``qty_ordered``, ``qty_supplied``,
  ``amount`` (sums) and ``lines`` (order lines summed); the columns of the order lines the
  reports read, so every metric that sums, counts shops or tests ``qty > 0`` gives the same
  figures on it as on the lines (quantities are never negative, see :mod:`kehu_lib.schema`);
- :func:`sku_month`, :func:`shop_month`, :func:`district_sku_month` and
  :func:`district_month` — the 13-month trends (by SKU; by shop, the shop × month indicators;
  by district and SKU, the forecasts' series; by district with the month's 有效户数), summed
  from the ledger inside DuckDB without loading it.

The monthly ledger of each month is cached in ``<store>/derived/orders_monthly/month=YYYY-MM/``
(``part-0.parquet`` and ``fingerprint.txt``, written atomically like the forecast cache; summed
with NumPy from each district's files, DuckDB's GROUP BY the fallback, see :func:`_summed`): the
fingerprint hashes this module's code and the month's order files (path, size, modification
time), so a re-ingested month is re-aggregated and an unchanged one never is. The batch's
precompute (:func:`ensure_month_aggregates`, ``params/defaults.yaml``) brings the report month
and the :data:`HISTORY` months before it up to date once; a report that finds a month's cache
missing or stale sums that month's lines on the fly (and does not write: only the precompute
writes the cache).

Memory and threads: every query runs on :func:`kehu_lib.store.connect`, which caps DuckDB per
process (``$KEHU_THREADS`` threads, ``$KEHU_MEMORY_LIMIT`` memory; the batch sets both per kernel
from ``--jobs``, see :func:`kehu_lib.batch.runner.kernel_limits`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable, Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import config
from . import store as _store
from .digest import update_with_files

__all__ = ["LEDGER_COLUMNS", "HISTORY", "cache_dir", "month_fingerprint", "ensure_month", "ledger_sql",
           "ensure_month_aggregates", "shop_sku_month", "sku_month", "shop_month",
           "district_sku_month", "district_month", "district_volume"]

#: Columns of the monthly ledger (:func:`shop_sku_month`).
LEDGER_COLUMNS = ["month", "district_code", "license_id", "sku", "qty_ordered", "qty_supplied",
                  "amount", "lines"]
#: Months before the report month the precompute caches (the plan reads 14, the market report 13).
HISTORY = 14
_SUMS = ("qty_ordered", "qty_supplied", "amount")


def _root(store) -> Path:
    return Path(store).resolve() if store is not None else config.store_dir()


def cache_dir(month: str, store=None) -> Path:
    """Folder of one month's cached ledger."""
    return _root(store) / "derived" / "orders_monthly" / f"month={pd.Period(month, 'M')}"


def _order_files(month: str, root: Path) -> list[Path]:
    return sorted((root / "orders" / f"month={month}").glob("district_code=*/*.parquet"))


def month_fingerprint(month: str, store=None) -> str:
    """Hash of what one month's ledger depends on: this module and the month's order files."""
    root = _root(store)
    h = hashlib.sha256(Path(__file__).read_bytes())
    update_with_files(h, root, _order_files(str(pd.Period(month, "M")), root))
    return h.hexdigest()[:16]


def _lines_source(files: Sequence[Path], month: str,
                  keys: Sequence[str] = ("license_id", "sku"),
                  sums: Sequence[str] = _SUMS) -> str:
    """SQL of one month's ledger summed from its order-line files.

    One GROUP BY per district partition (``district_code=…`` folder), its code a constant, the
    parts joined by UNION ALL: the same rows as grouping the month's lines by district, shop and
    SKU (a district's lines are all in its folder), for a fifth less CPU than grouping on the
    partition column read from the paths.

    ``keys``: the line columns grouped on besides month and district (a non-empty subset of
    ``license_id, sku``, in that order); the columns left out are absent from the rows. A query
    that sums over shops asks for ``("sku",)``: its rows are the sums of the ledger's rows of
    each (district, SKU), without building the ~470,000 shop × SKU groups of a city month first
    (a twentieth of the CPU). Quantities and amounts are whole 条 and 元 in the store's ledgers,
    so the sums are the same in either order (a fractional amount may differ in its last bit,
    as between DuckDB's thread counts).

    ``sums``: the columns of ``qty_ordered, qty_supplied, amount`` summed (default all; the
    others are absent from the rows): a query reading fewer sums reads fewer columns."""
    keys = [k for k in ("license_id", "sku") if k in keys]
    if not keys:
        raise ValueError("the lines are grouped on license_id, sku or both")
    cols = ", ".join(keys)
    sums = ", ".join(f"SUM({c})::DOUBLE AS {c}" for c in _SUMS if c in sums)
    by_district: dict[str, list[Path]] = {}
    for f in files:
        key, _, code = f.parent.name.partition("=")
        if key != "district_code" or not code.isalnum():  # not a partition folder: the paths
            paths = ", ".join(f"'{f.as_posix()}'" for f in files)
            return (f"SELECT '{month}' AS month, district_code, {cols}, {sums}, "
                    f"COUNT(*)::BIGINT AS lines FROM read_parquet([{paths}], "
                    "hive_partitioning=true, hive_types={'month': VARCHAR, 'district_code': "
                    f"VARCHAR}}) GROUP BY district_code, {cols}")
        by_district.setdefault(code, []).append(f)
    def listing(parts: list[Path]) -> str:
        return ", ".join(f"'{p.as_posix()}'" for p in parts)

    return " UNION ALL ".join(
        f"SELECT '{month}' AS month, '{code}' AS district_code, {cols}, {sums}, "
        f"COUNT(*)::BIGINT AS lines FROM read_parquet([{listing(parts)}]) "
        f"GROUP BY {cols}" for code, parts in sorted(by_district.items()))


def _current(month: str, root: Path) -> Path | None:
    """The cached ledger file of ``month`` if its fingerprint is current."""
    folder = cache_dir(month, root)
    stamp = folder / "fingerprint.txt"
    try:
        if stamp.read_text(encoding="utf-8").strip() == month_fingerprint(month, root):
            return folder / "part-0.parquet"
    except OSError:
        pass
    return None


def ensure_month(month: str, store=None, *, dry_run: bool = False) -> bool:
    """Cache one month's ledger unless current; True when it wrote. A month without orders is
    not cached. ``dry_run``: only say whether it would write."""
    root = _root(store)
    month = str(pd.Period(month, "M"))
    if _current(month, root) is not None:
        return False
    if dry_run:
        with _store.read_lock(root):
            return bool(_order_files(month, root))
    with _store.read_lock(root):
        files = _order_files(month, root)
        if not files:
            return False
        fingerprint = month_fingerprint(month, root)
        table = _summed(files, month)
        if table is None:  # not the store's usual lines: DuckDB sums them
            con = _store.connect()
            try:
                sql = _lines_source(files, month) + " ORDER BY district_code, license_id, sku"
                table = con.sql(sql).to_arrow_table()
            finally:
                con.close()

    def _write(tmp: Path) -> None:
        import pyarrow.parquet as pq

        pq.write_table(table, tmp / "part-0.parquet", compression="zstd", row_group_size=64_000)
        (tmp / "fingerprint.txt").write_text(fingerprint, encoding="utf-8")

    _store.atomic_dir_write(cache_dir(month, root), _write)
    return True


#: Largest whole number up to which every sum of float64 values is exact (2**53).
_EXACT = float(2 ** 53)
_LINE_TYPES = {"license_id": (pa.string(), pa.large_string()), "sku": (pa.string(), pa.large_string()),
               **{c: (pa.float64(),) for c in _SUMS}}


def _summed(files: Sequence[Path], month: str) -> pa.Table | None:
    """One month's ledger (the rows of :func:`_lines_source` ordered by district, shop and SKU)
    summed with NumPy from the order files of each district partition, or None when the lines
    are not of the kind this gives exactly the same rows for (then DuckDB sums them).

    Each district's shops and SKUs are numbered in the order of their strings (the byte order
    of DuckDB's ``ORDER BY``), so the (shop, SKU) groups come out sorted from ``np.bincount``;
    a fifth of DuckDB's CPU, which hashes and sorts the strings. The sums are exact in any
    order when every quantity and amount is a whole number and their magnitudes sum below
    2**53 (checked; the store's ledgers hold whole 条 and 元): they are then the same doubles as
    DuckDB's. Not taken (None): files outside ``district_code=`` folders, columns of other
    types, missing values, fractional or huge values, a month without lines."""
    import numpy as np
    import pyarrow.parquet as pq

    by_district: dict[str, list[Path]] = {}
    for f in files:
        key, _, code = f.parent.name.partition("=")
        if key != "district_code" or not code.isalnum():
            return None
        by_district.setdefault(code, []).append(f)
    parts = []
    for code, paths in sorted(by_district.items()):
        schema = pq.read_schema(paths[0])
        for p in paths[1:]:
            if not pq.read_schema(p).equals(schema):
                return None
        if any(c not in schema.names or schema.field(c).type not in types
               for c, types in _LINE_TYPES.items()):
            return None
        t = pq.read_table([p.as_posix() for p in paths] if len(paths) > 1 else paths[0],
                          columns=list(_LINE_TYPES), read_dictionary=["license_id", "sku"],
                          use_threads=False)
        if t.num_rows == 0:
            continue
        if any(col.null_count for col in t.columns) or any(
                ch.dictionary.null_count for c in ("license_id", "sku") for ch in t.column(c).chunks):
            return None
        sums = {}
        for c in _SUMS:
            x = np.concatenate([ch.to_numpy() for ch in t.column(c).chunks])
            if not (np.all(np.isfinite(x)) and np.array_equal(x, np.trunc(x))
                    and float(np.abs(x).sum()) < _EXACT):
                return None
            sums[c] = x
        shops, shop = _ranks(t.column("license_id"))
        skus, sku = _ranks(t.column("sku"))
        key = shop * len(skus) + sku
        size = len(shops) * len(skus)
        if size <= 4 * len(key) + (1 << 20):  # dense: one slot per (shop, SKU)
            lines = np.bincount(key, minlength=size)
            groups = np.flatnonzero(lines)
            lines = lines[groups]
            totals = {c: np.bincount(key, weights=x, minlength=size)[groups] for c, x in sums.items()}
        else:
            groups, inverse = np.unique(key, return_inverse=True)
            lines = np.bincount(inverse, minlength=len(groups))
            totals = {c: np.bincount(inverse, weights=x, minlength=len(groups))
                      for c, x in sums.items()}
        const = np.zeros(len(groups), dtype=np.int32)
        parts.append(pa.table({
            "month": pa.array([month], pa.string()).take(const),
            "district_code": pa.array([code], pa.string()).take(const),
            "license_id": shops.take(groups // len(skus)),
            "sku": skus.take(groups % len(skus)),
            **{c: pa.array(v, pa.float64()) for c, v in totals.items()},
            "lines": pa.array(lines.astype(np.int64), pa.int64())}))
    if not parts:
        return None
    return pa.concat_tables(parts)


def _ranks(column: pa.ChunkedArray):
    """(values, codes) of a dictionary-encoded string column: its distinct values sorted
    (byte order, as a string array), and each row's position among them (int64)."""
    import numpy as np

    column = column.unify_dictionaries()
    chunks = column.chunks
    dictionary = chunks[0].dictionary.cast(pa.string())
    indices = np.concatenate([ch.indices.to_numpy(zero_copy_only=False) for ch in chunks])
    order = pc.sort_indices(dictionary).to_numpy()
    ordered = dictionary.take(order)
    values = ordered.to_numpy(zero_copy_only=False)
    first = np.ones(len(values), dtype=bool)  # a value's first place (a dictionary may repeat one)
    first[1:] = values[1:] != values[:-1]
    rank = np.empty(len(values), dtype=np.int64)
    rank[order] = np.cumsum(first) - 1
    return ordered.filter(pa.array(first)), rank[indices]


def ensure_month_aggregates(month: str = "", store=None, *, dry_run: bool = False) -> int:
    """Batch precompute: cache the ledger of ``month`` and the :data:`HISTORY` months before it.
    Returns the number of months (re)computed (``dry_run``: that would be)."""
    from .loaders import latest_month

    month = month or latest_month(store=store)
    p = pd.Period(month, "M")
    return sum(ensure_month(str(p - i), store, dry_run=dry_run) for i in range(HISTORY, -1, -1))


#: the precompute steps whose caches this step reads (:data:`kehu_lib.batch.runner.AFTER`):
#: none, it sums the order lines
ensure_month_aggregates.precompute_after = ()


def _ledger_sql(month_list: Sequence[str], root: Path,
                keys: Sequence[str] = ("license_id", "sku"),
                sums: Sequence[str] = _SUMS) -> str | None:
    """SQL of the ledger of ``month_list``: the cache where current, else summed from lines.

    ``keys``: the columns of ``license_id, sku`` the query reads (see :func:`_lines_source`):
    a month summed from its lines is grouped on them only, and every part has only them;
    ``sums`` likewise the sums it reads."""
    keys = [k for k in ("license_id", "sku") if k in keys]
    sums = [c for c in _SUMS if c in sums]
    cols = ", ".join(["month", "district_code", *keys, *sums, "lines"])
    parts = []
    for m in month_list:
        cached = _current(m, root)
        if cached is not None:
            parts.append(f"SELECT {cols} FROM read_parquet('{cached.as_posix()}')")
            continue
        files = _order_files(m, root)
        if files:
            parts.append(_lines_source(files, m, keys, sums))
    return " UNION ALL ".join(parts) if parts else None


def ledger_sql(months, district_code: str | None = None, *, store=None,
               keys: Sequence[str] = ("license_id", "sku")) -> str | None:
    """SQL of the monthly ledger (:data:`LEDGER_COLUMNS`) of ``months`` (those with orders) of
    one district (``district_code``; None: the city) — the cached months read from their files,
    the others summed from their order lines — or None when none of ``months`` has orders.
    For a query that sums order lines by month, shop and SKU: it gets the same sums from a
    smaller table (no order dates). Call it under :func:`kehu_lib.store.read_lock`.

    ``keys``: the columns of ``license_id, sku`` the query reads (default both); with
    ``("sku",)`` the rows have no ``license_id`` and a month without a current cache is summed
    per district and SKU only (see :func:`_lines_source`): for a query that sums over shops."""
    root = _root(store)
    source = _ledger_sql(_months(months, root), root, keys)
    if source is None:
        return None
    if district_code is None:
        return source
    if not str(district_code).isalnum():
        raise ValueError(f"not a district code: {district_code!r}")
    return f"SELECT * FROM ({source}) WHERE district_code = '{district_code}'"


def _months(months, root: Path) -> list[str]:
    found = _store.months("orders", root)
    wanted = _store._months_filter(months)
    return found if wanted is None else [m for m in wanted if m in set(found)]


def _run(sql: str, params: list) -> pa.Table:
    con = _store.connect()
    try:
        return con.sql(sql, params=params).to_arrow_table() if params else con.sql(sql).to_arrow_table()
    finally:
        con.close()


def _filters(district, skus) -> tuple[list[str], list]:
    conds, params = [], []
    code = _store._district_code(district)
    if code is not None:
        conds.append("district_code = ?")
        params.append(code)
    if skus is not None:
        skus = [str(s) for s in skus]
        conds.append(f"sku IN ({', '.join('?' * len(skus))})" if skus else "FALSE")
        params += skus
    return conds, params


def shop_sku_month(district=None, months=None, *, columns: Sequence[str] | None = None,
                   skus: Sequence[str] | None = None, store=None,
                   each_month: Callable[[str, pa.Table], pa.Table] | None = None
                   ) -> pd.DataFrame:
    """The monthly ledger: one row per month × shop × SKU with the summed ``qty_ordered``,
    ``qty_supplied``, ``amount`` and the number of order ``lines``.

    ``district``, ``months`` and ``skus`` filter as in :func:`kehu_lib.loaders.load_orders`;
    ``columns`` a subset of :data:`LEDGER_COLUMNS` (default all). Rows are sorted by month,
    district, shop and SKU; dtypes as the order table's (``lines`` int64). A cached month is
    decoded straight from its file (filters pushed into the Parquet scan); a month without a
    current cache is summed from its order lines by DuckDB. ``each_month(month, table)``, if
    given, sees each month's Arrow table (key columns dictionary-encoded or plain strings)
    and returns the rows kept (e.g. sums taken on the way, rows not needed dropped).
    """
    import pyarrow.dataset as ds

    root = _root(store)
    cols = list(columns) if columns is not None else LEDGER_COLUMNS
    unknown = [c for c in cols if c not in LEDGER_COLUMNS]
    if unknown:
        raise KeyError(f"the monthly ledger has no column(s) {unknown}; columns are {LEDGER_COLUMNS}")
    schema = pa.schema([(c, pa.int64() if c == "lines" else pa.float64() if c in _SUMS
                         else pa.string()) for c in LEDGER_COLUMNS])
    keys = [c for c in cols if c not in _SUMS and c != "lines"]
    code = _store._district_code(district)
    expr = None
    if code is not None:
        expr = ds.field("district_code") == code
    if skus is not None:
        e = ds.field("sku").isin([str(s) for s in skus])
        expr = e if expr is None else expr & e
    # the key columns are decoded dictionary-encoded (as stored) and become plain strings once,
    # in _one_chunk; allocations go to the system allocator, whose freed blocks _trim returns.
    # A district's rows: its code column is read plain, so that the row groups' statistics
    # skip the other districts' groups (those of a dictionary-encoded column are not used: every
    # group would be decoded, at three times the CPU)
    dictionary = [k for k in keys if k != "district_code" or code is None]
    fmt = ds.ParquetFileFormat(read_options=ds.ParquetReadOptions(dictionary_columns=dictionary))
    parts: list[pa.Table] = []
    with _store.read_lock(root):
        for m in _months(months, root):
            cached = _current(m, root)
            if cached is not None:
                t = ds.dataset(cached.as_posix(), format=fmt).to_table(
                    columns=cols, filter=expr, memory_pool=_POOL)  # only the columns asked
            else:
                files = _order_files(m, root)
                if not files:
                    continue
                conds, params = _filters(district, skus)
                sql = (f"SELECT * FROM ({_lines_source(files, m)})"
                       + (" WHERE " + " AND ".join(conds) if conds else "")
                       + " ORDER BY district_code, license_id, sku")
                t = _run(sql, params)
            t = t.select(cols)
            parts.append(t if each_month is None else each_month(m, t))
    # one chunk per column: pandas' row selections on Arrow-backed columns (take) slow down
    # with the number of chunks (one per month and row group here)
    table = (_one_chunk(parts, cols, schema) if parts else
             schema.empty_table().select(cols))
    return _store._to_pandas(table, "orders")


#: Arrow allocations of the ledger's decoding (see :func:`_trim`).
_POOL = pa.system_memory_pool()


def _trim() -> None:
    """Return the heap's freed blocks to the system (glibc's ``malloc_trim``; elsewhere a
    no-op): the decoding frees many small buffers, which would otherwise stay in the process
    beside the ledger (its peak memory was ~2.5 × the ledger's size)."""
    import ctypes

    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _one_chunk(parts: list[pa.Table], cols: list[str], schema: pa.Schema) -> pa.Table:
    """``parts`` concatenated into one chunk per column, column by column (each column of the
    parts is released once copied, ``parts`` is emptied of its columns: the peak is the table
    plus one column, not twice the table), cast to ``schema``'s types. Strings become
    ``large_string``, the type pandas' Arrow-backed strings hold (the conversion to pandas
    copies nothing), decoded once from their dictionaries: the month's dictionary indices
    concatenated, then one take from the unified dictionary."""
    arrays = []
    for c in cols:
        typ = schema.field(c).type
        chunks = [ch for p in parts for ch in p.column(c).chunks]
        if typ == pa.string():
            chunks = [ch if pa.types.is_dictionary(ch.type) else
                      pc.dictionary_encode(ch.cast(pa.string()), memory_pool=_POOL)
                      for ch in chunks]
            chunks = [ch.cast(pa.dictionary(pa.int32(), pa.string())) for ch in chunks]
            if chunks:
                unified = pa.chunked_array(chunks).unify_dictionaries(memory_pool=_POOL)
                values = pc.cast(unified.chunk(0).dictionary, pa.large_string(),
                                 memory_pool=_POOL)
                index = pa.concat_arrays([ch.indices for ch in unified.chunks],
                                         memory_pool=_POOL)
                del unified
                arrays.append(pc.take(values, index, memory_pool=_POOL))
                del values, index
            else:
                arrays.append(pa.array([], type=pa.large_string()))
        else:
            chunks = [ch.cast(typ, memory_pool=_POOL) if ch.type != typ else ch
                      for ch in chunks]
            arrays.append(pa.concat_arrays(chunks, memory_pool=_POOL) if chunks
                          else pa.array([], type=typ))
        del chunks
        parts[:] = [p.drop_columns([c]) for p in parts]  # in place: the caller's list too
        _trim()
    return pa.table(arrays, names=cols)


def sku_month(district=None, months=None, *, store=None) -> pd.DataFrame:
    """Sums per SKU and month (the brand trends): month, sku, qty_ordered, qty_supplied, amount."""
    return _grouped(["month", "sku"], district, months, store)


def shop_month(district=None, months=None, *, store=None, sums: Sequence[str] = _SUMS,
               lines: bool = True) -> pd.DataFrame:
    """Sums per shop and month (the shop × month indicators; 13-month district trends with
    their 有效户数): month, district_code, license_id, qty_ordered, qty_supplied, amount, lines.
    A shop has qty_supplied > 0 here exactly when one of its order lines has. ``sums``: only
    these of the three (in that order) and ``lines=False``: no ``lines``, read and summed."""
    return _grouped(["month", "district_code", "license_id"], district, months, store,
                    lines=lines, sums=sums)


def district_sku_month(district=None, months=None, *, store=None,
                       sums: Sequence[str] = _SUMS) -> pd.DataFrame:
    """Sums per district, SKU and month (the forecasts' series): month, district_code, sku,
    qty_ordered, qty_supplied, amount (``sums``: only these of the three, in that order)."""
    return _grouped(["month", "district_code", "sku"], district, months, store, sums=sums)


def district_month(district=None, months=None, *, store=None) -> pd.DataFrame:
    """Sums per district and month with the month's 有效户数 (shops supplied, qty_supplied > 0):
    month, district_code, qty_ordered, qty_supplied, amount, active_shops."""
    return _grouped(["month", "district_code"], district, months, store, active=True)


def _grouped(keys: list[str], district, months, store, active: bool = False,
             lines: bool = False, sums: Sequence[str] = _SUMS) -> pd.DataFrame:
    root = _root(store)
    with _store.read_lock(root):
        # the lines of a month without a cache are grouped only as finely as the sums need
        line_keys = [k for k in ("license_id", "sku") if k in keys
                     or (k == "license_id" and active)] or ["sku"]
        sums = [c for c in _SUMS if c in sums]  # and only the sums asked are read
        read = [c for c in _SUMS if c in sums or (c == "qty_supplied" and active)]
        source = _ledger_sql(_months(months, root), root, line_keys, read)
        if source is None:
            cols = (keys + sums + (["active_shops"] if active else [])
                    + (["lines"] if lines else []))
            return pd.DataFrame({c: pd.Series(dtype="string" if c in keys else "int64"
                                              if c in ("lines", "active_shops") else "float64")
                                 for c in cols})
        conds, params = _filters(district, None)
        sums = ", ".join(f"SUM({c})::DOUBLE AS {c}" for c in sums)
        extra = (", COUNT(DISTINCT license_id) FILTER (WHERE qty_supplied > 0)::BIGINT "
                 "AS active_shops") if active else ""
        extra += ", SUM(lines)::BIGINT AS lines" if lines else ""
        sql = (f"SELECT {', '.join(keys)}, {sums}{extra} FROM ({source})"
               + (" WHERE " + " AND ".join(conds) if conds else "")
               + f" GROUP BY {', '.join(keys)} ORDER BY {', '.join(keys)}")
        return _store._to_pandas(_run(sql, params), "orders")


def district_volume(key_skus: Sequence[str], district=None, months=None, *,
                    store=None) -> pd.DataFrame:
    """Monthly volume per district (条) with the volume of the SKUs ``key_skus`` (the key
    brands): district_code, month, volume, key_brand_volume — sorted by district and month, the
    frame :func:`kehu_lib.plan.data.district_volume` sums from the ledger in pandas. The sums
    are taken in DuckDB (quantities are whole 条, so their sums are exact in any order)."""
    root = _root(store)
    cols = {"district_code": "string", "month": "string", "volume": "float64",
            "key_brand_volume": "float64"}
    with _store.read_lock(root):
        source = _ledger_sql(_months(months, root), root, ["sku"])  # summed over shops
        if source is None:
            return pd.DataFrame({c: pd.Series(dtype=t) for c, t in cols.items()})
        conds, params = _filters(district, None)
        keys = [str(k) for k in key_skus]
        kb = (f"sku IN ({', '.join('?' * len(keys))})" if keys else "FALSE")
        sql = (f"SELECT district_code, month, SUM(qty_supplied)::DOUBLE AS volume, "
               f"COALESCE(SUM(qty_supplied) FILTER (WHERE {kb}), 0)::DOUBLE AS key_brand_volume "
               f"FROM ({source})" + (" WHERE " + " AND ".join(conds) if conds else "")
               + " GROUP BY district_code, month ORDER BY district_code, month")
        out = _store._to_pandas(_run(sql, keys + params), "orders")
    return out[list(cols)].astype(cols)
