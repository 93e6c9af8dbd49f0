"""The columnar store: Parquet files under ``data/store`` queried with DuckDB.

Layout (hive partitions, so a query for one month and one district opens only those files)::

    store/districts.parquet, customers.parquet, products.parquet      dimension tables
    store/orders/month=YYYY-MM/district_code=NNNNNN/part-0.parquet    order lines
    store/<table>/month=YYYY-MM/part-0.parquet                       checks, visits, surveys
    store/census/wave=YYYY-MM/part-0.parquet

Writes are atomic per partition: a partition is written under a temporary name and swapped in
with ``os.replace`` of its folder, so a killed write leaves the previous data in place.

Concurrency: one writer at a time (:func:`writer_lock`, held by ``kehu ingest`` and ``kehu sample``
for their whole run), and readers never see a half-committed ingest: :func:`query` and
:func:`months` hold a shared lock while they list and read files, and a commit swaps its
partitions in under the exclusive side of the same lock (:func:`commit_lock`). The lock files sit
beside the store folder (``.<store>.lock``, ``.<store>.rwlock``) so that they survive a sample
build that replaces the whole folder. Locks are ``flock`` locks: the operating system releases
them when the process ends, however it ends. A job of many queries that must see one version of
the store (``kehu run``: the fingerprints, the precompute and every report) holds a
:func:`snapshot` (the shared lock for its whole run, noted in ``.<store>.readers/``); an ingest
that finishes meanwhile commits after it, and says whom it waits for.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import config
from .schema import TABLES

DIMENSIONS = ("districts", "customers", "products")


def _root(store: str | Path | None) -> Path:
    return Path(store).resolve() if store is not None else config.store_dir()


# --------------------------------------------------------------------------------------------
# locks

try:  # POSIX; on other systems the locks are no-ops (the project targets Linux and macOS)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None


class StoreLocked(Exception):
    """Another process holds the store's writer lock and the caller asked not to wait."""


_held = threading.local()  # commit locks this thread holds: readers inside a commit do not re-lock
_held_exclusive: set[str] = set()


def lock_paths(root: str | Path | None = None) -> tuple[Path, Path]:
    """The writer-lock and read/commit-lock files of a store (beside the store folder)."""
    root = _root(root)
    return root.parent / f".{root.name}.lock", root.parent / f".{root.name}.rwlock"


def _open_lock(path: Path, write: bool = True):
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "a+" if write else "r")
    except OSError:  # a read-only location: no other writer can exist there either
        return None


def lock_holder(root: str | Path | None = None) -> dict:
    """What the writer lock file says about its holder (pid, command, since); {} if unknown."""
    path = lock_paths(root)[0]
    try:
        return json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def _describe(holder: dict) -> str:
    if not holder:
        return "another process"
    return f"pid {holder.get('pid')} ({holder.get('command', '?')}, since {holder.get('since', '?')})"


@contextlib.contextmanager
def writer_lock(root: str | Path | None = None, *, wait: bool = True, command: str = "",
                on_wait: Callable[[str], None] | None = None, timeout: float | None = None) -> Iterator[None]:
    """Hold the store's writer lock: one ingest or sample build at a time.

    If another process holds it: with ``wait`` call ``on_wait(message)`` once and block until it is
    free (or ``timeout`` seconds pass, then :class:`StoreLocked`); without ``wait`` raise
    :class:`StoreLocked` naming the holder. The holder's pid, command and start time are written
    into the lock file for the waiting side's message.
    """
    path = lock_paths(root)[0]
    fh = _open_lock(path)
    if fh is None or fcntl is None:
        yield
        return
    acquired = False
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            msg = f"the store {_root(root)} is being written by {_describe(lock_holder(root))}"
            if not wait:
                raise StoreLocked(msg + "; not waiting (--no-wait)") from None
            if on_wait is not None:
                on_wait(msg + "; waiting for it to finish (Ctrl-C to stop) ...")
            t0 = time.monotonic()
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if timeout is not None and time.monotonic() - t0 > timeout:
                        raise StoreLocked(msg + f"; gave up after {timeout:g} s") from None
                    time.sleep(0.1)
        acquired = True
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"pid": os.getpid(), "command": command or " ".join(sys.argv[:2]),
                             "since": time.strftime("%Y-%m-%d %H:%M:%S")}))
        fh.flush()
        yield
    finally:
        try:
            if acquired:
                fh.seek(0)
                fh.truncate()
                fh.flush()
                fcntl.flock(fh, fcntl.LOCK_UN)
        finally:
            fh.close()


def _readers_dir(root: str | Path | None) -> Path:
    root = _root(root)
    return root.parent / f".{root.name}.readers"


def snapshot_readers(root: str | Path | None = None) -> list[dict]:
    """The live processes holding a :func:`snapshot` of the store (pid, command, since)."""
    out = []
    folder = _readers_dir(root)
    for f in sorted(folder.glob("*.json")) if folder.exists() else []:
        try:
            info = json.loads(f.read_text(encoding="utf-8"))
            os.kill(int(info["pid"]), 0)  # raises if the process is gone
        except (OSError, ValueError, KeyError):
            continue
        out.append(info)
    return out


@contextlib.contextmanager
def snapshot(root: str | Path | None = None, *, command: str = "") -> Iterator[None]:
    """Hold the shared read lock for a whole job of many queries (e.g. a month's batch: the
    precompute and every kernel), so that all of them see the same store: an ingest that
    finishes meanwhile waits at its commit, and says for whom, until the job ends. Kernels in
    other processes take their own shared locks, which never conflict with this one."""
    root = _root(root)
    folder = _readers_dir(root)
    info = folder / f"{os.getpid()}.json"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        info.write_text(json.dumps({"pid": os.getpid(), "command": command,
                                    "since": time.strftime("%Y-%m-%d %H:%M:%S")}),
                        encoding="utf-8")
    except OSError:  # a read-only store's folder: lock without the note
        info = None
    try:
        with read_lock(root):
            yield
    finally:
        if info is not None:
            info.unlink(missing_ok=True)


@contextlib.contextmanager
def commit_lock(root: str | Path | None = None, *,
                on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Exclusive side of the read/commit lock: readers wait while partitions are swapped in.

    While a reader holds the shared side (a query, or a whole batch's :func:`snapshot`), the
    commit waits; ``on_wait(message)`` is told once who is reading."""
    key = str(_root(root))
    fh = _open_lock(lock_paths(root)[1])
    if fh is None or fcntl is None or key in _held_exclusive:
        yield
        return
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                who = ", ".join(f"{r.get('command') or 'a process'} (pid {r['pid']}, since "
                                f"{r.get('since', '?')})" for r in snapshot_readers(root))
                on_wait(f"the store {_root(root)} is being read by {who or 'another process'}; "
                        "the new data is committed as soon as it finishes")
            fcntl.flock(fh, fcntl.LOCK_EX)
        _held_exclusive.add(key)
        yield
    finally:
        _held_exclusive.discard(key)
        fh.close()  # closing the descriptor releases the flock


@contextlib.contextmanager
def read_lock(root: str | Path | None = None) -> Iterator[None]:
    """Shared side of the read/commit lock, held while a query lists and reads files."""
    key = str(_root(root))
    depth = getattr(_held, "depth", {})
    if key in _held_exclusive or depth.get(key) or fcntl is None:
        yield
        return
    _finish_dead_commit(_root(root))
    path = lock_paths(root)[1]
    fh = _open_lock(path) if path.parent.exists() else None
    if fh is None:
        yield
        return
    _held.depth = depth
    try:
        fcntl.flock(fh, fcntl.LOCK_SH)
        depth[key] = 1
        yield
    finally:
        depth.pop(key, None)
        fh.close()


def _finish_dead_commit(root: Path) -> None:
    """A commit whose writer died after its COMMITTING marker (killed during the swap) would
    leave half of it visible: the first reader that finds one while no writer holds the lock
    finishes it, as the next ingest would. A live writer's commit is waited for by the read lock."""
    try:
        dead = any(root.glob(".staging-*/COMMITTING"))
    except OSError:
        return
    if not dead:
        return
    try:
        with writer_lock(root, wait=False, command="finishing an interrupted commit"):
            recover(root)
    except (StoreLocked, OSError):
        pass


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


def swap_in(src: Path, dst: Path, remove_old: bool = True) -> Path | None:
    """Put the folder or file ``src`` in place of ``dst`` with renames. The old folder is removed,
    or (``remove_old=False``) left as ``.old-*`` beside it and its path returned.

    Safe when another process swaps in the same ``dst`` at the same time (two batches filling one
    cache): a folder that appears between the check and the rename is moved aside in turn, so the
    last writer wins and neither fails."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if not src.is_dir():
        os.replace(src, dst)
        return None
    aside: list[Path] = []
    for _ in range(100):
        try:
            os.replace(src, dst)  # succeeds when dst is missing (or an empty folder)
            break
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
        old = dst.parent / f".old-{dst.name}-{uuid.uuid4().hex[:8]}"
        try:
            os.replace(dst, old)
        except FileNotFoundError:  # moved by the other writer meanwhile: try again
            continue
        aside.append(old)
    else:
        raise OSError(errno.EBUSY, f"could not swap {src} in place of {dst}: it keeps being replaced")
    keep = None if remove_old or not aside else aside.pop()
    for path in aside:
        shutil.rmtree(path, ignore_errors=True)
    return keep


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


#: DuckDB memory cap of a process when ``$KEHU_MEMORY_LIMIT`` is not set (``kehu run`` sets it
#: per kernel from ``--jobs``: :func:`kehu_lib.batch.runner.kernel_memory_limit`).
DEFAULT_MEMORY_LIMIT = "1GB"


#: The process's DuckDB database, keyed by (pid, threads, memory cap, spill folder); see
#: :func:`connect`.
_DATABASE: dict[tuple, duckdb.DuckDBPyConnection] = {}
_DATABASE_LOCK = threading.Lock()


def connect() -> duckdb.DuckDBPyConnection:
    """A DuckDB connection capped for this process: ``$KEHU_THREADS`` threads (default: the
    machine's cores; the batch sets cores // jobs when several kernels share them) and
    ``$KEHU_MEMORY_LIMIT`` of memory (default :data:`DEFAULT_MEMORY_LIMIT`; the batch sets a
    share of the machine's memory per kernel). A query that needs more spills to a temporary
    folder (``$TMPDIR/kehu-duckdb``) instead of growing the process.

    The connection is a cursor of one in-memory database per process (opening a database costs
    ~40 ms of CPU, and a report runs a dozen queries): the caller closes it as before; what it
    registers or creates as TEMP is its own, and the cap is the process's."""
    import tempfile

    threads = int(os.environ.get("KEHU_THREADS") or 0) or os.cpu_count() or 1
    limit = os.environ.get("KEHU_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT
    spill = os.path.join(tempfile.gettempdir(), "kehu-duckdb")
    key = (os.getpid(), max(1, threads), limit, spill)
    with _DATABASE_LOCK:
        db = _DATABASE.get(key)
        if db is None:  # first query of the process, or the settings changed
            db = duckdb.connect(config={"threads": key[1], "memory_limit": limit,
                                        "temp_directory": spill})
            _DATABASE.clear()
            _DATABASE[key] = db
        con = db.cursor()
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
    with read_lock(root):
        return _query(table, t, root, cols, months, district, where)


def query_fingerprint(table: str, *, months=None, district=None,
                      store: str | Path | None = None) -> str:
    """A key of the files :func:`query` of ``table`` with these ``months`` and ``district``
    reads (the store's folder and each file's path, size and modification time, as
    :mod:`kehu_lib.digest`): it changes when any of them is replaced, added or removed. Cheaper
    than hashing the frame read, for the keys of :func:`kehu_lib.reports.base.memo`."""
    import hashlib

    from .digest import update_with_files

    t = TABLES[table]
    root = _root(store).resolve()
    h = hashlib.sha256(f"{root}\n{table}\n".encode())
    with read_lock(root):
        if table in DIMENSIONS:
            files = [root / f"{table}.parquet"]
        else:
            code = _district_code(district)
            folder = root / table
            files = [Path(f) for f in _partition_files(
                folder, t, _months_filter(months),
                code if "district_code" in t.partition else None)] if folder.exists() else []
            h.update(f"district={code}\n".encode())  # a filter inside the files
        update_with_files(h, root, files)
    return h.hexdigest()


def _query(table, t, root: Path, cols: list[str], months, district, where) -> pd.DataFrame:
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
        present = set(pq.read_schema(path).names)
        # a column added to the data model later (customers.shop_name) reads as empty from an
        # older store
        select = [c if c in present else f"CAST(NULL AS VARCHAR) AS {c}" for c in cols]
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
    sql = f"SELECT {', '.join(select if table in DIMENSIONS else cols)} FROM {source}"
    if conds:
        sql += " WHERE " + " AND ".join(conds)
    con = connect()
    try:
        rel = con.sql(sql, params=params) if params else con.sql(sql)
        return _to_pandas(rel.to_arrow_table(), table)
    finally:
        con.close()


def partition_dir(table: str, values: Sequence[str], store: str | Path | None = None) -> Path:
    """The folder of one partition, e.g. ``orders/month=2026-10/district_code=140109``."""
    t = TABLES[table]
    return _root(store).joinpath(table, *(f"{c}={v}" for c, v in zip(t.partition, values)))


def partition_rows(table: str, values: Sequence[str], store: str | Path | None = None) -> int:
    """Rows stored in one partition (from the Parquet footers; 0 if it does not exist)."""
    folder = partition_dir(table, values, store)
    with read_lock(store):
        return sum(pq.ParquetFile(f).metadata.num_rows for f in folder.rglob("*.parquet")) \
            if folder.exists() else 0


def read_partition(table: str, values: Sequence[str], store: str | Path | None = None) -> pd.DataFrame:
    """All rows of one partition (every column, partition columns filled), schema dtypes."""
    t = TABLES[table]
    folder = _root(store) / table
    part = partition_dir(table, values, store)
    with read_lock(store):
        files = sorted(f.as_posix() for f in part.rglob("*.parquet")) if part.exists() else []
        if not files:
            return _to_pandas(arrow_schema(table).empty_table(), table)
        return _to_pandas(_read_files(files, folder, t, t.columns), table)


def months(table: str = "orders", store: str | Path | None = None) -> list[str]:
    """The months present in a partitioned table, sorted."""
    folder = _root(store) / table
    key = "wave=" if table == "census" else "month="
    with read_lock(store):
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

    The caller holds the :func:`writer_lock`. On leaving the ``with`` block without error, a
    ``COMMITTING`` marker listing the staged paths is written and each staged partition replaces
    its live counterpart under the exclusive :func:`commit_lock` (readers see the store before or
    after the whole commit, never in between); :func:`recover` finishes a commit that was killed
    half-way (marker present) or discards an unfinished staging area (no marker).
    """

    def __init__(self, root: str | Path | None = None, *,
                 on_wait: Callable[[str], None] | None = None):
        self.root = _root(root)
        self.on_wait = on_wait
        self.stage = self.root / f".staging-{uuid.uuid4().hex[:8]}"
        self.items: list[str] = []  # relative paths staged

    def __enter__(self) -> "Transaction":
        self.stage.mkdir(parents=True)
        return self

    def stage_dimension(self, df: pd.DataFrame, table: str) -> None:
        """Stage the full new content of a dimension table."""
        pq.write_table(to_arrow(df, table), self.stage / f"{table}.parquet", compression="zstd")
        self.items.append(f"{table}.parquet")

    def upsert_dimension(self, df: pd.DataFrame, table: str) -> None:
        """Merge rows into a dimension table by its key (new rows win)."""
        key = list(TABLES[table].key)
        try:
            old = query(table, store=self.root)
            df = pd.concat([old[~old.set_index(key).index.isin(df.set_index(key).index)], df],
                           ignore_index=True)
        except FileNotFoundError:
            pass
        self.stage_dimension(df, table)

    def stage_partition(self, df: pd.DataFrame, table: str, values: Sequence[str]) -> str:
        """Stage the full new content of one partition (``values`` of the partition columns,
        e.g. ``("2026-10", "140109")`` for orders); returns its path inside the store."""
        t = TABLES[table]
        rel = "/".join([table, *(f"{c}={v}" for c, v in zip(t.partition, values))])
        target = self.stage / rel
        target.mkdir(parents=True, exist_ok=True)
        pq.write_table(to_arrow(df, table, drop=list(t.partition)), target / "part-0.parquet",
                       compression="zstd", row_group_size=256_000)
        self.items.append(rel)
        return rel

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            shutil.rmtree(self.stage, ignore_errors=True)
            return
        (self.stage / "COMMITTING").write_text("\n".join(self.items), encoding="utf-8")
        _finish_commit(self.root, self.stage, on_wait=self.on_wait)


def _finish_commit(root: Path, stage: Path, on_wait: Callable[[str], None] | None = None) -> None:
    items = (stage / "COMMITTING").read_text(encoding="utf-8").split("\n")
    old: list[Path] = []
    with commit_lock(root, on_wait=on_wait):
        for rel in filter(None, items):
            src, dst = stage / rel, root / rel
            if src.exists():  # else already moved by an interrupted commit
                old.append(swap_in(src, dst, remove_old=False))
    for path in old:
        if path is not None:
            shutil.rmtree(path, ignore_errors=True)
    shutil.rmtree(stage, ignore_errors=True)


def recover(root: str | Path | None = None) -> None:
    """Finish or discard staged writes left by an interrupted ingest (call it holding the
    :func:`writer_lock`: the staging areas of a running writer are not leftovers)."""
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
        # derived/ holds the batch's caches: a running batch may be writing its .tmp-* there
        if leftover.relative_to(root).parts[0] != "derived":
            shutil.rmtree(leftover, ignore_errors=True)
