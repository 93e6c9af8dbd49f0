"""Cost of the market report's seed-004 / 大客户 sections (kehu_lib.reports.market_sections) on a
store, as a ratio to loading the report's own inputs (findings.load_inputs) in the same run.

    python benchmarks/market_sections_bench.py --store <store> [--month 2026-10] [--repeat 3]

Prints, per page (全市, one district, 大客户): seconds of load_inputs, seconds of add_sections,
their ratio, and the rows the DuckDB aggregate returned against the order lines it summed.
Timings are medians over ``--repeat`` runs; on a shared machine read the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    from kehu_lib import config, findings, loaders
    from kehu_lib.reports import load_params
    from kehu_lib.reports import market_sections as ms
    from kehu_lib.reports.base import Report

    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True)
    ap.add_argument("--month", default="2026-10")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--districts", default=f"{config.CITY},万柏林区,大客户")
    a = ap.parse_args()
    p = load_params("market_report")
    prod = loaders.load_products(store=a.store)
    print(f"{'page':8} {'load_inputs s':>14} {'sections s':>11} {'ratio':>6} "
          f"{'agg rows':>9} {'lines':>10}")
    for d in a.districts.split(","):
        t_in, t_sec = [], []
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            data = findings.load_inputs(d, a.month, store=a.store)
            t1 = time.perf_counter()
            r = Report("market_report", a.month, d)
            views = ms.add_sections(r, month=a.month, district=d, products=prod, params=p,
                                    store=a.store)
            t2 = time.perf_counter()
            t_in.append(t1 - t0)
            t_sec.append(t2 - t1)
            del data
        win = sorted(set(ms._window(a.month, 3) + ms._window(a.month, 3, back=12)))
        code = None if d == config.CITY else config.resolve_district(d).code
        lines = ms.order_aggregate("SELECT COUNT(*) AS n FROM orders", months=win,
                                   district=code, store=a.store)["n"].iloc[0]
        i, s = statistics.median(t_in), statistics.median(t_sec)
        print(f"{d:8} {i:14.2f} {s:11.2f} {s / i:6.2f} {views['agg_rows']:9,} {int(lines):10,}")


if __name__ == "__main__":
    main()
