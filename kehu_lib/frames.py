"""Small helpers for pandas frames with Arrow-backed string columns (pandas' ``str`` dtype).

``Series.isin(values)`` on an Arrow-backed string column turns every one of ``values`` into a
pyarrow scalar in Python before the (fast) Arrow kernel runs: about 5 µs a value, so testing a
column against the 20,000 licence ids of a city costs 0.1 s a call, whatever the column's
length. :func:`isin` gives the same answer with the value set converted in one Arrow call.
:func:`rows_of` selects the rows of some values of a sorted column (the months of a ledger) as
a slice, without a row-by-row Arrow take of every column.
"""

from __future__ import annotations

import weakref
from typing import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["isin", "isin_runs", "joined", "looked_up", "pair_lookup", "per_key", "rows_of",
           "run_values"]


def isin(s: pd.Series, values: Iterable) -> np.ndarray:
    """``s.isin(values).to_numpy()`` (a bool array aligned with ``s``), fast for an
    Arrow-backed string column and a large value set; other columns go to ``Series.isin``.

    Same result as ``Series.isin``: a missing value of ``s`` matches only when ``values``
    holds a missing value; values that are not strings never match a string column."""
    dtype = s.dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return s.isin(values).to_numpy(dtype=bool)
    vals = list(values)
    try:
        value_set = pa.array(vals, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # non-string values: pandas' own filter
        return s.isin(vals).to_numpy(dtype=bool)
    if not len(value_set):
        return np.zeros(len(s), dtype=bool)
    arr = pa.array(s.array)  # the column's Arrow data (no copy)
    hit = pc.is_in(arr, value_set=value_set.cast(arr.type))
    return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)


#: run-length encodings of Arrow columns, by the id of their (live) Arrow data
_RUNS: dict[int, tuple[pa.Array, np.ndarray]] = {}


def _runs(s: pd.Series) -> tuple[pa.Array, np.ndarray] | None:
    """(values, ends) of the runs of equal values of an Arrow-backed string column, or None
    for another column. Kept while the column's Arrow data lives: a ledger's month column is
    encoded once however many windows are cut from it."""
    dtype = s.dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow") or not len(s):
        return None
    data = getattr(s.array, "_pa_array", None)
    key = id(data)
    if data is not None and key in _RUNS:
        return _RUNS[key]
    arr = pa.array(s.array)
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    runs = pc.run_end_encode(arr)
    out = (runs.values, runs.run_ends.to_numpy())
    if data is not None:
        _RUNS[key] = out
        weakref.finalize(data, _RUNS.pop, key, None)
    return out


def run_values(s: pd.Series) -> set:
    """The distinct non-missing values of a column made of long runs (``set(s.dropna())``),
    from its run-length encoding."""
    runs = _runs(s)
    if runs is None:
        return set(s.dropna().unique())
    return {v for v in runs[0].to_pylist() if v is not None}


def isin_runs(s: pd.Series, values: Iterable) -> np.ndarray:
    """:func:`isin` for a column made of long runs of equal values (the month of a ledger
    sorted by month): each run tested once, the answer repeated over its rows."""
    runs = _runs(s)
    if runs is None:
        return isin(s, values)
    vals, ends = runs
    hit = isin(pd.Series(pd.array(vals, dtype=s.dtype)), values)
    return np.repeat(hit, np.diff(ends, prepend=0))


def joined(keys: pd.Series, values: pd.Series, sep: str) -> pd.Series:
    """``values.groupby(keys).agg(sep.join)`` without a Python call per group: the values of
    each key joined by ``sep`` in their order in the frame, indexed by the keys in sorted order
    (as the groupby's; missing keys dropped). ``values`` must be strings."""
    parts: dict = {}
    for k, v in zip(keys.tolist(), values.tolist()):
        if k is None or k is pd.NA or (isinstance(k, float) and k != k):
            continue
        parts.setdefault(k, []).append(v)
    index = sorted(parts)
    return pd.Series([sep.join(parts[k]) for k in index], index=pd.Index(index, dtype=keys.dtype,
                                                                          name=keys.name),
                     dtype=values.dtype if isinstance(values.dtype, pd.StringDtype) else object,
                     name=values.name)


def per_key(keys: pd.Series, values_of) -> pd.Series:
    """``values_of(distinct keys)`` spread back to the rows of ``keys``: the Series a per-row
    map or lookup would give (its dtype; a missing key gives what ``values_of`` gives for a
    missing one), computed on the few distinct keys (a city's 20,000 shops, not its 500,000
    rows). ``values_of`` takes a Series of the distinct keys (and one missing value when a key
    is missing) and returns a Series of the same length.

    For a left merge on a key that is unique in the right table, ``per_key(keys,
    table.set_index(key)[col].reindex)`` is the merged column, in the rows' order."""
    codes, distinct = _distinct(keys)
    return _spread(values_of(distinct), codes, keys)


def looked_up(keys: pd.Series, table: pd.DataFrame, cols: Iterable[str]) -> dict[str, pd.Series]:
    """``{c: per_key(keys, table[c].reindex) for c in cols}`` with ``keys`` factorized once:
    the columns ``cols`` of a left merge on a key unique in ``table`` (indexed by that key), in
    the rows' order."""
    codes, distinct = _distinct(keys)
    return {c: _spread(table[c].reindex(distinct), codes, keys) for c in cols}


def _distinct(keys: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """(position of each row's key in the distinct keys, a missing key at the end; the distinct
    keys as a Series of ``keys``' dtype, with one missing value last when a key is missing)."""
    codes, uniques = pd.factorize(keys)
    missing = bool((codes < 0).any())  # only then a missing entry (it may change the dtype)
    if isinstance(keys.dtype, pd.StringDtype) and not missing:
        distinct = pd.Series(pd.array(uniques, dtype=keys.dtype))  # not one by one in Python
    else:
        distinct = pd.Series(pd.array(list(uniques) + [None] * missing, dtype=keys.dtype))
    return np.where(codes < 0, len(uniques), codes), distinct  # a missing key: the last entry


def _spread(mapped: pd.Series, codes: np.ndarray, keys: pd.Series) -> pd.Series:
    """The values of the distinct keys (``mapped``) taken for each row (``codes``)."""
    return pd.Series(mapped.array.take(codes), index=keys.index, name=keys.name)


def pair_lookup(df: pd.DataFrame, values: pd.Series) -> pd.Series:
    """``df.join(values, on=["license_id", "sku"])[values.name]`` for float64 ``values``
    indexed by unique (license_id, sku) pairs without a missing key (a groupby's result): the
    pairs matched on integer codes of the rows' shops and SKUs, no row of ``df`` copied."""
    lic, lic_u = pd.factorize(df["license_id"])
    sku, sku_u = pd.factorize(df["sku"])
    n = max(len(sku_u), 1)
    vl = pd.Index(lic_u).get_indexer(values.index.get_level_values(0))
    vs = pd.Index(sku_u).get_indexer(values.index.get_level_values(1))
    ok = (vl >= 0) & (vs >= 0)  # pairs of shops and SKUs that have rows
    row_key = np.where((lic >= 0) & (sku >= 0), lic.astype("int64") * n + sku, -1)
    pos = pd.Index(vl[ok].astype("int64") * n + vs[ok]).get_indexer(row_key)
    found = values.to_numpy(dtype="float64")[ok]
    out = np.where(pos >= 0, found[np.maximum(pos, 0)] if len(found) else np.nan, np.nan)
    return pd.Series(out, index=df.index, name=values.name)


def rows_of(df: pd.DataFrame, col: str, values: Iterable) -> pd.DataFrame:
    """``df[df[col].isin(values)]``, as a slice of ``df`` (no copy) when ``df[col]`` is sorted,
    has no missing value and the rows of ``values`` are one run of it (e.g. consecutive months
    of a ledger sorted by month); else the boolean selection. Same rows, order and index."""
    wanted = set(values)
    s = df[col]
    runs = _runs(s)
    if runs is not None and not runs[0].null_count:
        vals, ends = runs[0].to_pylist(), runs[1]
        if all(a < b for a, b in zip(vals, vals[1:])):  # sorted: each value is one run
            hit = [i for i, v in enumerate(vals) if v in wanted]
            if not hit:
                return df.iloc[0:0]
            if hit == list(range(hit[0], hit[-1] + 1)):
                start = int(ends[hit[0] - 1]) if hit[0] else 0
                return df.iloc[start:int(ends[hit[-1]])]
    if runs is not None:  # several runs (months apart): each run tested once
        return df[isin_runs(s, wanted)]
    return df[s.isin(list(wanted)).to_numpy(dtype=bool)]
