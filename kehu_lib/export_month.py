"""``kehu export``: one month of the store as export files that ``kehu ingest`` reads back.

:func:`export_month` writes one CSV per table: the dimension tables whole (districts, customers,
products: the month's facts refer to them) and every fact table's rows of the month (census: the
wave of that month, if any). In the ``canonical`` profile the headers are the field names, text
is UTF-8 with a BOM (Excel opens it), dates ``YYYY-MM-DD``, numbers with full precision, so that
export → ingest leaves the store unchanged. Another profile writes its own headers, units and
file names (``yingxiao``: GBK, 万支), e.g. to build test cases in a system's layout.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from . import profiles, store
from .ingest import ORDER
from .schema import TABLES


def _to_text(df: pd.DataFrame, table: str, factors: dict[str, float]) -> pa.Table:
    cols = {}
    for f in TABLES[table].fields:
        s = df[f.name]
        if f.dtype == "date":
            cols[f.name] = pa.array(s.dt.strftime("%Y-%m-%d").astype(object).where(s.notna(), None),
                                    type=pa.string())
        elif f.dtype == "boolean":
            cols[f.name] = pa.array(s.map({True: "true", False: "false"}).astype(object).where(s.notna(), None),
                                    type=pa.string())
        elif f.dtype in ("float64", "Int64"):
            v = s.astype("float64") / factors[f.name] if f.name in factors else s
            cols[f.name] = pa.array(v.astype(object).where(v.notna(), None))
        else:
            cols[f.name] = pa.array(s.astype(object).where(s.notna(), None), type=pa.string())
    return pa.table(cols)


def export_month(month: str, out_dir: str | Path, *, store_dir: str | Path | None = None,
                 profile: str = "canonical") -> dict[str, int]:
    """Write ``month`` ('YYYY-MM') of the store into ``out_dir``; returns rows per file written."""
    month = str(pd.Period(month, "M"))
    prof = profiles.load(profile)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    encoding = "gb18030" if prof.encoding.lower() in ("gbk", "gb18030", "gb2312") else "utf-8-sig"
    written: dict[str, int] = {}
    for table in ORDER:
        if table not in prof.tables:
            continue
        spec = prof.tables[table]
        try:
            df = store.query(table, store=store_dir) if table in store.DIMENSIONS else \
                store.query(table, months=month, store=store_dir)
        except FileNotFoundError:  # a store without this table (e.g. no census yet)
            continue
        if table not in store.DIMENSIONS and not len(df):
            continue
        factors = {f: profiles.UNITS[u][1] for f, u in spec.units.items()}
        data = _to_text(df, table, factors)
        keep = [f.name for f in TABLES[table].fields if f.name in spec.headers]
        data = data.select(keep).rename_columns([spec.headers[c][0] for c in keep])
        name = f"{spec.files[0]}.csv"
        path = out / name
        buf = pa.BufferOutputStream()
        pacsv.write_csv(data, buf, pacsv.WriteOptions(quoting_style="needed"))
        text = buf.getvalue().to_pybytes()
        if encoding == "utf-8-sig":
            path.write_bytes(b"\xef\xbb\xbf" + text)
        else:
            path.write_bytes(text.decode("utf-8").encode("gb18030"))
        written[name] = len(df)
    facts = [n for n in written if not any(n == f"{prof.tables[t].files[0]}.csv" for t in store.DIMENSIONS
                                           if t in prof.tables)]
    if not facts:
        from .readers import IngestError

        raise IngestError(f"the store has no rows of {month} (orders, checks, visits, surveys, census); "
                          f"months with orders: {', '.join(store.months('orders', store_dir)[-6:]) or 'none'}")
    return written
