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

City scale (issue 16), with ``--store`` (once per store, e.g. the ``city`` and the ``default``
sample): the whole month's batch as a user runs it, ``kehu run --month M --force --jobs 2``,
precompute included and from cold caches (each batch on a fresh hard-linked copy of the store
without ``derived/``), while the process tree is sampled every 0.2 s (psutil) for the peak RSS
of the batch process, of its precompute steps (each in a process of its own, see
``kehu_lib.batch.step``; a baseline that runs them in the batch process shows them there), of
its other helper processes and of each kernel. Prints per store and tree: wall seconds, CPU seconds of the whole process tree (what a
shared machine's load does not change), the precompute's seconds (its own log lines),
the peaks in MB, and with ``--baseline REV`` the same batch with the code of git revision REV
(exported to a temporary folder, same interpreter), alternated ``--repeat`` times, with the
ratios this tree / baseline. Targets on the city sample: wall <= 90 s, every process <= 2 GB;
on the default sample: wall ratio <= 1. The machine may be shared: read the ratios of the same
run, not the seconds.

    .venv/bin/python benchmarks/batch_bench.py --store STORE_CITY --store STORE_DEFAULT \
        --baseline REV [--repeat 2] [--month 2026-10]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

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


# --------------------------------------------------------------------------------------------
# city scale: wall and peak RSS per process of the whole batch, this tree against a baseline


def _sample_tree(proc, peaks: dict, stop) -> None:
    """Sample the RSS of ``proc`` and its descendants into ``peaks`` (pid -> [kind, bytes])."""
    import psutil

    try:
        root = psutil.Process(proc.pid)
    except psutil.NoSuchProcess:
        return
    while not stop.is_set():
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        for q in procs:
            try:
                rss = q.memory_info().rss
                if q.pid not in peaks:
                    peaks[q.pid] = ["batch" if q.pid == root.pid else "other", 0]
                if peaks[q.pid][0] == "other":
                    # classified again until it is a kernel or a precompute step: a process
                    # first seen between its fork and its exec shows the batch's command line
                    cmd = " ".join(q.cmdline())
                    if "ipykernel" in cmd:
                        peaks[q.pid][0] = "kernel"
                    elif "kehu_lib.batch.step" in cmd:
                        peaks[q.pid][0] = "step"
                peaks[q.pid][1] = max(peaks[q.pid][1], rss)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        stop.wait(0.2)


def scale_run(tree: Path, store: Path, reports: Path, month: str, jobs: int) -> dict:
    """One cold batch of ``tree``'s code on a fresh copy of ``store``: wall, precompute seconds,
    peak RSS (MB) of the batch process, its other helpers and the kernels (max and each)."""
    import re
    import threading

    from html_bench import linked_store, tree_env

    copy = reports.parent / f"store-{reports.name}"
    if copy.exists():
        shutil.rmtree(copy)
    linked_store(store, copy)
    env = tree_env(tree, copy, reports)
    env.pop("KEHU_MEMORY_LIMIT", None)
    peaks: dict[int, list] = {}
    stop = threading.Event()
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "kehu_lib.cli", "run", "--month", month,
                             "--force", "--jobs", str(jobs)], env=env, cwd=tree,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = threading.Thread(target=_sample_tree, args=(proc, peaks, stop), daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    # CPU seconds of the whole tree (the batch reaps its kernels and helpers, so their times
    # reach it, and its own reach this process when it ends): the work, whatever the machine's
    # load did to the wall time
    now = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (now.ru_utime - used.ru_utime) + (now.ru_stime - used.ru_stime)
    stop.set()
    sampler.join()
    shutil.rmtree(copy, ignore_errors=True)
    # not anchored at a line start: the progress bar (carriage returns, no newline) may precede
    pre = sum(float(x) for x in re.findall(r"precompute \S+: ([0-9.]+) s", err))
    summary = [ln for ln in out.splitlines() if " runs: " in ln]
    if proc.returncode != 0:
        print(f"kehu run exit {proc.returncode}\n{out[-2000:]}{err[-2000:]}", file=sys.stderr)
    mb = 1 << 20
    kernels = sorted((v[1] / mb for v in peaks.values() if v[0] == "kernel"), reverse=True)
    return {"wall": wall, "cpu": cpu, "precompute": pre, "summary": summary[-1] if summary else "?",
            "batch_mb": max([v[1] / mb for v in peaks.values() if v[0] == "batch"], default=0),
            "other_mb": max([v[1] / mb for v in peaks.values() if v[0] == "other"], default=0),
            "step_mb": max([v[1] / mb for v in peaks.values() if v[0] == "step"], default=0),
            "kernel_mb": kernels[0] if kernels else 0, "kernels_mb": kernels}


def scale_main(args) -> None:
    import html_bench

    stores = [Path(s).resolve() for s in args.store]
    with tempfile.TemporaryDirectory(prefix="kehu-scale-bench-") as tmp:
        tmp = Path(tmp)
        trees = [("this tree", ROOT)]
        if args.baseline:
            rev = subprocess.run(["git", "rev-parse", "--short", args.baseline], cwd=ROOT,
                                 check=True, capture_output=True, text=True).stdout.strip()
            trees.insert(0, (f"baseline {rev}", html_bench.export_tree(rev, tmp / "baseline")))
        results: dict[tuple[str, str], list[dict]] = {}
        for store in stores:
            month = args.month or max(p.name.split("=", 1)[1]
                                      for p in (store / "orders").glob("month=*"))
            print(f"store {store.name}: month {month}, --jobs {args.jobs}, "
                  f"{os.cpu_count()} cores", flush=True)
            for i in range(max(1, args.repeat)):
                for label, tree in trees:  # alternated: baseline, this tree, baseline, ...
                    r = scale_run(tree, store, tmp / f"r{i}-{len(results)}", month, args.jobs)
                    results.setdefault((store.name, label), []).append(r)
                    print(f"  {label}: {r['summary']} ({r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU, precompute "
                          f"{r['precompute']:.1f} s, batch {r['batch_mb']:.0f} MB, precompute steps "
                          f"{r['step_mb']:.0f} MB, kernels "
                          f"{', '.join(f'{k:.0f}' for k in r['kernels_mb'])} MB)", flush=True)
    med = statistics.median
    cols = ("wall", "cpu", "precompute", "batch_mb", "step_mb", "other_mb", "kernel_mb")
    print(f"\n{'store':<10} {'code':<18} {'wall s':>8} {'CPU s':>8} {'precompute s':>13} "
          f"{'batch MB':>9} {'precompute steps MB':>20} {'helpers MB':>11} {'max kernel MB':>14}"
          f"  {'max process <= 2048 MB':>22}")
    for (name, label), rs in results.items():
        v = [med(r.get(c, 0) for r in rs) for c in cols]
        worst = max(max(r["batch_mb"], r.get("step_mb", 0), r["other_mb"], r["kernel_mb"])
                    for r in rs)  # the worst run's largest process, not a median
        print(f"{name:<10} {label:<18} {v[0]:8.1f} {v[1]:8.1f} {v[2]:13.1f} {v[3]:9.0f} "
              f"{v[4]:20.0f} {v[5]:11.0f} {v[6]:14.0f}  "
              f"{('yes' if worst <= 2048 else 'NO'):>15} ({worst:.0f})")
    if args.baseline:
        print("\nratios this tree / baseline (medians of the alternated runs):")
        for store in stores:
            base = next(rs for (n, lab), rs in results.items()
                        if n == store.name and lab.startswith("baseline"))
            mine = results[(store.name, "this tree")]
            parts = [f"{c} {med(r.get(c, 0) for r in mine) / med(r.get(c, 0) for r in base):.2f}"
                     for c in cols if med(r.get(c, 0) for r in base) > 0]
            print(f"  {store.name}: " + ", ".join(parts))
    print("targets (city sample): wall <= 90 s; every process <= 2048 MB; "
          "default sample: wall ratio <= 1.00")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--districts", default="", help="comma-separated (default: all + city)")
    ap.add_argument("--skip-plain", action="store_true", help="skip the slow plain loop")
    ap.add_argument("--repeat", type=int, default=1,
                    help="repetitions of the jobs-1 / jobs-2 pair (medians are printed)")
    ap.add_argument("--warm", action="store_true",
                    help="keep the month's precompute caches (default: time them from cold)")
    ap.add_argument("--store", action="append", default=[],
                    help="city scale: a store to run the whole cold batch on (repeatable)")
    ap.add_argument("--baseline", default="",
                    help="with --store: git revision whose batch runs alternated with this tree")
    ap.add_argument("--month", default="", help="with --store: the month (default: the latest)")
    ap.add_argument("--jobs", type=int, default=2, help="with --store: kehu run --jobs")
    args = ap.parse_args()
    if args.store:
        scale_main(args)
        return
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
