"""Ingest benchmark: time and peak memory of `kehu ingest` against a plain read of the same files.

Usage: python benchmarks/ingest_bench.py [--shops 20000] [--csv-mb 200] [--chunk-rows 500000]

Builds (once, cached in .cache/bench-ingest-<shops>) a sample city of ``--shops`` shops with its
last three months (20,000 shops = the city size: about 1.2 M order lines a month), exports
2026-10 with `kehu export`, and measures, each in a fresh process (peak RSS: VmHWM of that
process, imports included, which unlike ru_maxrss is not inherited from the parent; wall time of the work only):

1. ingest of the month's export folder (all tables, about 1.2 M order lines) into a copy of the store;
2. ingest of one orders CSV of ``--csv-mb`` MB (2026-08..10 order lines, cut at that size)
   into a copy of the store (``--replace`` of its months is not needed: it covers them whole);
3. the baselines on the same files: pandas.read_csv(dtype=str) and pyarrow.csv.read_csv.

Prints the figures and the ratios ingest / baseline. The goal for the 200 MB file is a peak of at
most 1 GB. Timings are noisy on a shared machine: compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MONTH = "2026-10"

CHILD = r"""
import json, resource, sys, time
mode, arg, store = sys.argv[1], sys.argv[2], sys.argv[3]
t0 = time.perf_counter()
if mode == "ingest":
    from kehu_lib.ingest import ingest_folder
    chunk = int(sys.argv[4])
    t0 = time.perf_counter()
    rep = ingest_folder(arg, store_dir=store, rejects_dir=store + "-rejects", chunk_rows=chunk)
    rows = sum(r.read for r in rep.results)
    stored = sum(r.stored for r in rep.results)
elif mode == "pandas":
    import pandas as pd
    from pathlib import Path
    t0 = time.perf_counter()
    files = sorted(Path(arg).glob("*.csv")) if Path(arg).is_dir() else [Path(arg)]
    frames = [pd.read_csv(f, dtype=str, keep_default_na=False, encoding="utf-8-sig") for f in files]
    rows = stored = sum(len(f) for f in frames)
elif mode == "pyarrow":
    import pyarrow.csv as pacsv
    from pathlib import Path
    t0 = time.perf_counter()
    files = sorted(Path(arg).glob("*.csv")) if Path(arg).is_dir() else [Path(arg)]
    tables = [pacsv.read_csv(f) for f in files]
    rows = stored = sum(t.num_rows for t in tables)
dt = time.perf_counter() - t0
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")]
peak = int(hwm[0].split()[1]) / 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": dt, "peak_mb": peak,
                  "rows": rows, "stored": stored}))
"""


def run(mode: str, arg: Path, store: Path | None = None, chunk: int = 500_000) -> dict:
    cmd = [sys.executable, "-c", CHILD, mode, str(arg), str(store or ""), str(chunk)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def build(shops: int) -> Path:
    """A sample city of ``shops`` shops with its last three months (cached)."""
    from kehu_lib.sample import build as sb

    name = f"bench-ingest-{shops}"
    sb.SIZES[name] = (shops, 3, 1.0)
    store = ROOT / ".cache" / name
    if not sb.is_current(store, name, 7):
        t0 = time.perf_counter()
        sb.build_sample(name, 7, store, progress=False)
        print(f"built the sample ({shops:,} shops, 3 months) in {time.perf_counter() - t0:.0f} s")
    return store


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shops", type=int, default=20_000)
    ap.add_argument("--csv-mb", type=float, default=200.0)
    ap.add_argument("--chunk-rows", type=int, default=500_000)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from kehu_lib import loaders
    from kehu_lib.export_month import export_month

    store = build(args.shops)
    work = ROOT / ".cache" / f"bench-ingest-work-{args.shops}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    month_dir = work / MONTH
    export_month(MONTH, month_dir, store_dir=store)
    n_month = len(loaders.load_orders(months=MONTH, store=store, columns=["sku"]))
    # one big orders CSV: the three months' lines, cut at --csv-mb
    big_dir = work / "big"
    big_dir.mkdir()
    big = big_dir / "orders.csv"
    target = int(args.csv_mb * 2**20)
    with open(big, "wb") as out:
        header_done = False
        for m in ("2026-08", "2026-09", "2026-10"):
            d = work / m
            if m != MONTH:
                export_month(m, d, store_dir=store)
            with open(d / "orders.csv", "rb") as fh:
                head = fh.readline()
                if not header_done:
                    out.write(head)
                    header_done = True
                for line in fh:
                    if out.tell() + len(line) > target:
                        break
                    out.write(line)
            if out.tell() >= target - 200:
                break
    for p in big_dir.parent.glob("2026-0[89]"):
        shutil.rmtree(p)
    for f in month_dir.iterdir():  # the month folder keeps only what ingest reads
        if f.is_dir():
            shutil.rmtree(f)
    size_mb = big.stat().st_size / 2**20
    print(f"month export: {sum(f.stat().st_size for f in month_dir.glob('*.csv')) / 2**20:,.0f} MB, "
          f"{n_month:,} order lines; big CSV: {size_mb:,.0f} MB")
    print(f"{'measurement':44} {'seconds':>8} {'peak MB':>8} {'rows':>11}")
    res = {}
    for label, mode, arg in (("ingest one month (all tables)", "ingest", month_dir),
                             ("  pandas.read_csv of the same files", "pandas", month_dir),
                             ("  pyarrow.csv.read_csv of the same files", "pyarrow", month_dir),
                             (f"ingest {size_mb:,.0f} MB orders CSV", "ingest", big_dir),
                             ("  pandas.read_csv of the same file", "pandas", big),
                             ("  pyarrow.csv.read_csv of the same file", "pyarrow", big)):
        copy = None
        if mode == "ingest":
            copy = work / "store"
            shutil.rmtree(copy, ignore_errors=True)
            shutil.rmtree(work / "store-rejects", ignore_errors=True)
            shutil.copytree(store, copy, ignore=shutil.ignore_patterns("derived"))
        r = run(mode, arg, copy, args.chunk_rows)
        res[label] = r
        print(f"{label:44} {r['seconds']:8.1f} {r['peak_mb']:8.0f} {r['rows']:11,}")
    keys = list(res)
    for ingest_key, base in ((keys[0], keys[1:3]), (keys[3], keys[4:6])):
        i = res[ingest_key]
        for b in base:
            print(f"{ingest_key.strip()} / {b.strip()}: time {i['seconds'] / res[b]['seconds']:.1f}x, "
                  f"peak memory {i['peak_mb'] / res[b]['peak_mb']:.2f}x")
    peak = res[keys[3]]["peak_mb"]
    print(f"peak memory of the {size_mb:,.0f} MB ingest: {peak:,.0f} MB "
          f"({'within' if peak <= 1024 else 'OVER'} the 1 GB goal)")
    shutil.rmtree(work / "store", ignore_errors=True)


if __name__ == "__main__":
    main()
