"""Benchmark of the monthly batch (issue 3, "Done when").

Prints, for the same runs (every notebook of params/ x the chosen districts, default: all and
the city) on the store ($KEHU_STORE, default data/store):

- the shared precompute of the month (``params/defaults.yaml``: forecasts for every district and
  the city-wide part of the monthly plan), timed from cold caches unless ``--warm``; it runs once
  per month and store, so the timed batches below find it current (like every later batch);
- bare-kernel baseline: the same number of papermill runs of an empty notebook (cold kernels);
- plain sequential papermill loop over the runs (cold kernel per run, no HTML);
- ``kehu run --force --jobs 1``, then the same month again with ``--force --jobs 2`` (warm
  kernels, HTML, index, XLSX; the second batch starts the longest runs first);
- the floor: the sum of the cells' own execution times (from the jobs-1 batch);
- a second, fully incremental ``kehu run``.

Each wall time is also given as a ratio to the baseline. Targets: jobs 2 <= 1.5 x floor / 2,
at least 3x faster than the plain loop, incremental < 5 s.

    .venv/bin/python benchmarks/batch_bench.py [--districts 全市,万柏林区]      # the store in data/store
    .venv/bin/kehu sample --size small --out .cache/bench-small
    KEHU_STORE=.cache/bench-small .venv/bin/python benchmarks/batch_bench.py   # a small sample
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kehu_lib import config  # noqa: E402
from kehu_lib.batch import runner  # noqa: E402
from kehu_lib.batch.kernels import kernel_env  # noqa: E402


def kehu_run(reports: Path, extra: list[str]) -> float:
    env = dict(os.environ, KEHU_REPORTS=str(reports))
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "kehu_lib.cli", "run", *extra], env=env,
                          cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    summary = [ln for ln in proc.stdout.splitlines() if " runs: " in ln]
    print(f"  kehu run {' '.join(extra)}: {summary[-1] if summary else '?'}", flush=True)
    if proc.returncode != 0:  # a failing notebook is timed like the others, but reported
        print(f"kehu run {' '.join(extra)}: exit {proc.returncode}\n{proc.stdout[-2000:]}",
              file=sys.stderr)
    return wall


def papermill_loop(specs, notebook_for, out: Path) -> float:
    """A plain sequential papermill loop in a fresh interpreter (cold kernel per run)."""
    jobs = [{"nb": notebook_for(s), "params": s.parameters, "out": str(out / f"{i}.ipynb")}
            for i, s in enumerate(specs)]
    code = ("import json,sys,papermill as pm\n"
            "for j in json.load(open(sys.argv[1])):\n"
            "    try:\n"
            "        pm.execute_notebook(j['nb'], j['out'], parameters=j['params'],"
            " progress_bar=False, kernel_name='python3', cwd=%r)\n"
            "    except pm.PapermillExecutionError as e:\n"
            "        print('failed', j['out'], e.ename, file=sys.stderr)\n" % str(config.NOTEBOOKS_DIR))
    listing = out / "jobs.json"
    listing.write_text(json.dumps(jobs, ensure_ascii=False), encoding="utf-8")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(listing)], check=True, env=kernel_env(),
                   cwd=ROOT, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def precompute(pl, cold: bool) -> float:
    """Seconds of the month's shared precompute (after removing its caches when ``cold``)."""
    if cold:
        for folder in (pl.store / "derived").glob(f"*/month={pl.month}"):
            shutil.rmtree(folder)
    start = time.perf_counter()
    runner.run_precompute(pl.precompute, pl.month, pl.store)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--districts", default="", help="comma-separated (default: all + city)")
    ap.add_argument("--skip-plain", action="store_true", help="skip the slow plain loop")
    ap.add_argument("--repeat", type=int, default=1,
                    help="repetitions of the jobs-1 / jobs-2 pair (medians are printed)")
    ap.add_argument("--warm", action="store_true",
                    help="keep the month's precompute caches (default: time them from cold)")
    args = ap.parse_args()
    districts = [d for d in args.districts.split(",") if d] or None
    sel = ["--districts", ",".join(districts)] if districts else []
    with tempfile.TemporaryDirectory(prefix="kehu-bench-") as tmp:
        tmp = Path(tmp)
        pl = runner.plan(runner.BatchOptions(districts=districts, reports=tmp / "r0"))
        n = len(pl.specs)
        print(f"{n} runs ({len({s.notebook for s in pl.specs})} notebooks), month {pl.month}, "
              f"store {pl.store}, {os.cpu_count()} cores")
        pre = precompute(pl, cold=not args.warm)
        empty = ROOT / "benchmarks" / "_empty.ipynb"
        empty_specs = [runner.RunSpec("_empty", str(empty), pl.month, "", "x", {}, "")] * n
        (tmp / "base").mkdir()
        base = papermill_loop(empty_specs, lambda s: str(empty), tmp / "base")
        plain = None
        if not args.skip_plain:
            (tmp / "plain").mkdir()
            plain = papermill_loop(pl.specs, lambda s: s.notebook_path, tmp / "plain")
        pairs = []  # (jobs 1, floor, jobs 2) of each repetition, the same month re-run
        for _ in range(args.repeat):
            j1 = kehu_run(tmp / "r1", ["--force", "--jobs", "1", *sel])
            runs = json.loads((tmp / "r1" / pl.month / ".manifest.json").read_text())["runs"]
            floor = sum(r["cell_seconds"] for r in runs.values())
            # the month again with two jobs (its manifest orders the runs longest first)
            j2 = kehu_run(tmp / "r1", ["--force", "--jobs", "2", *sel])
            pairs.append((j1, floor, j2))
        inc = kehu_run(tmp / "r1", ["--jobs", "2", *sel])
    j1, floor, j2 = (statistics.median(p[i] for p in pairs) for i in range(3))
    ratio = statistics.median(p[2] / (p[1] / 2) for p in pairs)
    print(f"shared precompute of the month ({'cold' if not args.warm else 'as found'}): "
          f"{pre:.1f} s, once per month (not in the batches below: their caches are current)")
    if len(pairs) > 1:
        print(f"median of {len(pairs)} repetitions; jobs 2 / (floor/2) of each: "
              + ", ".join(f"{p[2] / (p[1] / 2):.2f}" for p in pairs))
    rows = [("bare-kernel baseline (empty notebook, papermill)", base),
            ("plain sequential papermill loop", plain),
            ("kehu run --jobs 1", j1), ("kehu run --jobs 2", j2),
            ("floor: sum of cell times", floor), ("floor / 2", floor / 2),
            ("incremental re-run (kehu run, nothing changed)", inc)]
    print(f"{'measure':<50} {'seconds':>9} {'x baseline':>11}")
    for label, sec in rows:
        if sec is None:
            continue
        print(f"{label:<50} {sec:9.1f} {sec / base:11.2f}")
    print(f"jobs 2 / (floor/2) = {ratio:.2f} (target <= 1.5)")
    if plain:
        print(f"plain loop / jobs 2 = {plain / j2:.2f} (target >= 3)")
    print(f"incremental = {inc:.1f} s (target < 5)")


if __name__ == "__main__":
    main()
