"""Benchmark of the shared pages: HTML size against nbconvert, and the batch's time (issue 11).

1. Runs ``kehu run --force --jobs 2`` on the store ($KEHU_STORE, default data/store) into a
   temporary reports folder; for every page prints its size next to nbconvert's ``lab``
   template export of the same executed notebook (``reports/<month>/_logs/<slug>/<nb>.ipynb``,
   ``jupyter nbconvert --to html`` defaults), and the ratio. Target: every page <= 1/3.
2. With ``--baseline REV``: the same batch with the code of git revision ``REV`` (exported to a
   temporary folder; same interpreter; a hard-linked copy of the store, whose precompute the
   baseline brings up to date with its own code, untimed), alternating with this tree ``--repeat`` times;
   prints both medians (wall, and CPU of the batch and its kernels: less disturbed by other
   load) and their ratios. Target: this tree <= 1.10 x the baseline.

The month's shared precompute is brought up to date first and is not timed (it runs once a
month). Timings on a shared machine are noisy: read the ratio, from alternated runs.

    .venv/bin/python benchmarks/html_bench.py                         # sizes only
    .venv/bin/python benchmarks/html_bench.py --baseline 24ec3a5 --repeat 3
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kehu_lib import config  # noqa: E402
from kehu_lib.batch import runner  # noqa: E402

TARGET_SIZE = 1 / 3
TARGET_TIME = 1.10


def tree_env(tree: Path, store: Path, reports: Path | None = None) -> dict[str, str]:
    env = dict(os.environ, KEHU_STORE=str(store),
               PYTHONPATH=os.pathsep.join([str(tree), os.environ.get("PYTHONPATH", "")]))
    if reports is not None:
        env["KEHU_REPORTS"] = str(reports)
    return env


def precompute_in(tree: Path, store: Path, month: str) -> None:
    """Bring the month's precompute of ``store`` up to date with the code of ``tree``."""
    code = ("from kehu_lib.batch import params as P, runner\n"
            "from pathlib import Path\n"
            "d = P.load_defaults(Path('params'))\n"
            f"runner.run_precompute(d.get('precompute') or [], {month!r}, Path({str(store)!r}))\n")
    subprocess.run([sys.executable, "-c", code], env=tree_env(tree, store), cwd=tree, check=True)


def linked_store(store: Path, target: Path) -> Path:
    """A copy of ``store`` made of hard links (its files are never modified in place), without
    its derived caches: the baseline's code computes and keeps its own."""
    import shutil

    shutil.copytree(store, target, ignore=shutil.ignore_patterns("derived"),
                    copy_function=os.link)
    return target


def _children_cpu() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def kehu_run(tree: Path, store: Path, reports: Path, extra: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of ``kehu run`` with the code of ``tree`` (a failing run is
    reported). CPU: the batch process and its kernels (waited-for descendants), which other
    load on the machine disturbs much less than the wall time."""
    env = tree_env(tree, store, reports)
    cpu0, start = _children_cpu(), time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "kehu_lib.cli", "run", "--force", *extra],
                          env=env, cwd=tree, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu0
    summary = [ln for ln in proc.stdout.splitlines() if " runs: " in ln]
    print(f"  {tree.name}: {summary[-1] if summary else '?'} ({wall:.1f} s wall, {cpu:.1f} s CPU)",
          flush=True)
    if proc.returncode != 0:
        print(f"kehu run exit {proc.returncode}\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}",
              file=sys.stderr)
    return wall, cpu


def export_tree(rev: str, target: Path) -> Path:
    """The files of git revision ``rev`` of this repository, in ``target``."""
    data = subprocess.run(["git", "archive", "--format=tar", rev], cwd=ROOT, check=True,
                          capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(target, filter="data")
    return target


def page_sizes(month_dir: Path) -> list[tuple[str, int, int]]:
    """(page, kehu bytes, nbconvert lab-template bytes) of every page with its notebook."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    rows = []
    for page in sorted(month_dir.glob("*/*.html")):
        nb_path = month_dir / "_logs" / page.parent.name / f"{page.stem}.ipynb"
        if not nb_path.exists():
            continue
        body, _ = exporter.from_notebook_node(nbformat.read(str(nb_path), as_version=4))
        rows.append((f"{page.parent.name}/{page.stem}", page.stat().st_size,
                     len(body.encode("utf-8"))))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--districts", default="", help="comma-separated (default: all + city)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--baseline", default="", help="git revision to time the batch against")
    ap.add_argument("--repeat", type=int, default=1, help="alternated batch pairs (medians)")
    args = ap.parse_args()
    districts = [d for d in args.districts.split(",") if d] or None
    extra = ["--jobs", str(args.jobs)] + (["--districts", ",".join(districts)] if districts else [])
    with tempfile.TemporaryDirectory(prefix="kehu-html-bench-") as tmp:
        tmp = Path(tmp)
        pl = runner.plan(runner.BatchOptions(districts=districts, reports=tmp / "plan"))
        print(f"{len(pl.specs)} runs, month {pl.month}, store {pl.store}, {os.cpu_count()} cores")
        runner.run_precompute(pl.precompute, pl.month, pl.store)  # current before any timing
        base_tree = base_store = None
        if args.baseline:  # its own store copy: the forecasts' cache is keyed by their code
            rev = subprocess.run(["git", "rev-parse", "--short", args.baseline], cwd=ROOT,
                                 check=True, capture_output=True, text=True).stdout.strip()
            base_tree = export_tree(rev, tmp / "baseline")
            base_store = ROOT / ".cache" / f"html-bench-{rev}-store"  # kept for the next run
            if not base_store.exists():
                linked_store(pl.store, base_store)
            precompute_in(base_tree, base_store, pl.month)
        ours, theirs = [], []
        for i in range(max(1, args.repeat)):
            if base_tree is not None:
                theirs.append(kehu_run(base_tree, base_store, tmp / "r-base", extra))
            ours.append(kehu_run(ROOT, pl.store, tmp / "r", extra))
        rows = page_sizes(tmp / "r" / pl.month)
    print(f"\n{'page':<34} {'kehu KB':>8} {'nbconvert lab KB':>17} {'ratio':>6}")
    for name, ours_b, lab_b in rows:
        flag = "" if ours_b <= lab_b * TARGET_SIZE else "  > 1/3"
        print(f"{name:<34} {ours_b / 1024:8.0f} {lab_b / 1024:17.0f} {ours_b / lab_b:6.2f}{flag}")
    ratios = [o / lab for _, o, lab in rows]
    if ratios:
        over = sum(r > TARGET_SIZE for r in ratios)
        print(f"pages: {len(ratios)}; size ratio median {statistics.median(ratios):.2f}, max "
              f"{max(ratios):.2f} (target <= {TARGET_SIZE:.2f}); over target: {over}")
    for i, what in ((0, "wall"), (1, "CPU")):
        mine = [t[i] for t in ours]
        line = (f"batch {what} (kehu run --force {' '.join(extra)}): median "
                f"{statistics.median(mine):.1f} s of {len(mine)}")
        if theirs:
            base = [t[i] for t in theirs]
            pair = [o / t for o, t in zip(mine, base)]
            line += (f"; baseline {args.baseline} {statistics.median(base):.1f} s; ratio per "
                     f"pair {', '.join(f'{r:.2f}' for r in pair)}, median "
                     f"{statistics.median(pair):.2f} (target <= {TARGET_TIME:.2f})")
        print(line)


if __name__ == "__main__":
    main()
