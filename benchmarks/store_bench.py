"""Store benchmark: sample generation, store size, and loads against the Parquet decode floor.

Usage: python benchmarks/store_bench.py [--size city] [--store DIR] [--rebuild]

Prints: generation time of the sample (when built here), the store's size on disk, and for a
one-district, one-month load and for a full scan of the order table: wall time and peak memory,
each measured in a fresh process (imports excluded; memory as the peak added over the process after its imports), against (a) the decode floor — pyarrow reading the same Parquet
files and columns into Arrow, no conversion — and (b) the full scan, as ratios. Also the same
one-district-month query answered by pandas over the whole table (what a naive script does).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DISTRICT, CODE, MONTH = "小店区", "140105", "2026-10"

#: name -> (setup, timed statement); setup (imports) is not timed.
SNIPPETS = {
    "load one district-month (kehu.load_orders)": (
        "from kehu_lib.loaders import load_orders",
        f"df = load_orders({DISTRICT!r}, {MONTH!r}, store=STORE)"),
    "decode floor, one district-month (pyarrow)": (
        "import pyarrow.dataset as ds",
        f"t = ds.dataset(STORE + '/orders', format='parquet', partitioning='hive')"
        f".to_table(filter=(ds.field('month') == {MONTH!r}) & (ds.field('district_code') == {int(CODE)}))"),
    "load full table (kehu.load_orders)": (
        "from kehu_lib.loaders import load_orders",
        "df = load_orders(store=STORE)"),
    "decode floor, full table (pyarrow)": (
        "import pyarrow.dataset as ds",
        "t = ds.dataset(STORE + '/orders', format='parquet', partitioning='hive').to_table()"),
    "pandas over the full table, then filter": (
        "import pandas as pd",
        f"df = pd.read_parquet(STORE + '/orders'); "
        f"df = df[(df['month'].astype(str) == {MONTH!r}) & (df['district_code'].astype(str) == {CODE!r})]"),
}


def measure(snippet: tuple[str, str], store: Path, repeat: int = 3) -> tuple[float, float, int]:
    """Best wall time (s) over ``repeat`` fresh processes, the peak memory the statement added
    over the process after its imports (MB), and the rows returned."""
    setup, timed = snippet
    code = (
        "import resource, time, sys\n"
        f"STORE = {str(store)!r}\n"
        "import pandas, pyarrow, duckdb\n"
        f"{setup}\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "t0 = time.perf_counter()\n"
        f"{timed}\n"
        "dt = time.perf_counter() - t0\n"
        "n = len(df) if 'df' in dir() else t.num_rows\n"
        "print(dt, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base, n)\n"
    )
    best, peak, rows = float("inf"), 0.0, 0
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             cwd=ROOT)
        dt, rss, n = out.stdout.split()[-3:]
        best, peak, rows = min(best, float(dt)), max(peak, float(rss)), int(n)
    return best, peak, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="city", choices=["small", "default", "city"])
    ap.add_argument("--store", type=Path, default=None, help="store folder (default .cache/bench-<size>)")
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    store = (args.store or ROOT / ".cache" / f"bench-{args.size}").resolve()
    sys.path.insert(0, str(ROOT))
    from kehu_lib.sample import build_sample, is_current

    if args.rebuild or not is_current(store, args.size, 7):
        t0 = time.perf_counter()
        manifest = build_sample(args.size, 7, store)
        print(f"generation ({args.size}): {time.perf_counter() - t0:.1f} s")
    manifest = json.loads((store / "sample_manifest.json").read_text(encoding="utf-8"))
    size_mb = sum(p.stat().st_size for p in store.rglob("*.parquet")) / 2**20
    orders_mb = sum(p.stat().st_size for p in (store / "orders").rglob("*.parquet")) / 2**20
    print(f"sample: {args.size}, {manifest['shops']:,} shops, {manifest['rows']['orders']:,} order lines, "
          f"generated in {manifest['seconds']} s")
    print(f"store size: {size_mb:,.0f} MB (orders {orders_mb:,.0f} MB)")
    results = {}
    print(f"{'measurement':48} {'seconds':>9} {'+peak MB':>9} {'rows':>12}")
    for name, snippet in SNIPPETS.items():
        results[name] = measure(snippet, store, 1 if name.startswith("pandas") else args.repeat)
        dt, mb, n = results[name]
        print(f"{name:48} {dt:9.3f} {mb:9.0f} {n:12,}")
    one, one_floor = results["load one district-month (kehu.load_orders)"], results["decode floor, one district-month (pyarrow)"]
    full, full_floor = results["load full table (kehu.load_orders)"], results["decode floor, full table (pyarrow)"]
    naive = results["pandas over the full table, then filter"]
    print(f"one district-month / decode floor: time {one[0] / one_floor[0]:.2f}x")
    print(f"full table / decode floor: time {full[0] / full_floor[0]:.2f}x")
    print(f"one district-month / full scan: time {one[0] / full[0]:.4f}x, peak memory {one[1] / full[1]:.3f}x, "
          f"rows {one[2] / full[2]:.4f}x")
    print(f"pandas full-table filter / kehu one district-month: time {naive[0] / one[0]:.0f}x slower")


if __name__ == "__main__":
    main()
