"""The monthly batch: plan (validate everything), skip what is current, run the rest, index.

:func:`plan` resolves and validates every run before any kernel starts; :func:`run_batch` runs
the shared precompute once (only when something has to run; with several jobs in the background,
while the runs that read none of it start, see :class:`PrecomputeSteps`), executes the pending
runs on warm kernels (``jobs`` threads, each with its own kernel; or a Dask cluster), writes each
run's files atomically as it finishes, and rebuilds the month index, the top index and the
per-district XLSX.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import warnings
from queue import Queue
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from .. import config
from ..store import snapshot as store_snapshot
from . import params as P
from . import step
from .execute import RunResult, RunSpec, execute_run
from .index import FILES_DIR, LOGS_DIR, district_xlsx, month_index, top_index, write_tables
from .kernels import notebook_imports, shutdown_all, thread_kernel
from .manifest import Manifest, atomic_write, data_digest, fingerprint


@dataclass
class BatchOptions:
    """What ``kehu run`` was asked to do."""

    month: str | None = None
    districts: Sequence[str] | None = None
    notebooks: Sequence[str] | None = None
    jobs: int | None = None
    force: bool = False
    with_code: bool = False
    executor: str = "local"
    scheduler: str | None = None
    cli_params: dict[str, str] = field(default_factory=dict)
    verbose: bool = False
    progress: bool = True
    params_dir: Path | None = None
    notebooks_dir: Path | None = None
    store: Path | None = None
    reports: Path | None = None
    timeout: float = 600


@dataclass
class Plan:
    month: str
    store: Path
    reports: Path
    specs: list[RunSpec]
    titles: dict[str, str]
    precompute: list[str]
    figures: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class BatchReport:
    month: str
    results: list[RunResult]
    wall_seconds: float
    reports: Path

    @property
    def failed(self) -> list[RunResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def table(self) -> str:
        """The summary table: run, status, seconds."""
        width = max([len(r.key) for r in self.results] + [3])
        lines = [f"{'run':<{width}}  {'status':<7}  seconds", "-" * (width + 20)]
        for r in sorted(self.results, key=lambda r: r.key):
            lines.append(f"{r.key:<{width}}  {r.status:<7}  {r.seconds:7.2f}"
                         + (f"  {r.error}" if r.error else ""))
        n = {s: sum(r.status == s for r in self.results) for s in ("ok", "skipped", "failed")}
        lines.append(f"{len(self.results)} runs: {n['ok']} ok, {n['skipped']} skipped (current), "
                     f"{n['failed']} failed; {self.wall_seconds:.1f} s")
        return "\n".join(lines)


def _dirs(opts: BatchOptions) -> tuple[Path, Path, Path, Path]:
    return (Path(opts.params_dir or config.PARAMS_DIR), Path(opts.notebooks_dir or config.NOTEBOOKS_DIR),
            Path(opts.store or config.store_dir()).resolve(),
            Path(opts.reports or config.reports_dir()).resolve())


def plan(opts: BatchOptions) -> Plan:
    """Resolve and validate every run (raises :class:`~.params.ParamError`); starts nothing."""
    params_dir, nb_dir, store, reports = _dirs(opts)
    month = P.check_month(opts.month, store)
    found = P.discover(params_dir, nb_dir)
    if not found:
        raise P.ParamError(f"no notebook in {params_dir}: a notebook joins the batch with "
                           f"params/<name>.yaml next to notebooks/<name>.ipynb")
    chosen = list(opts.notebooks or found)
    unknown = [n for n in chosen if n not in found]
    if unknown:
        raise P.ParamError(f"unknown notebook(s) {unknown}; the batch has: {sorted(found)}")
    districts = [P.district_name(d) for d in (opts.districts or
                                              [config.CITY] + [d.name for d in config.DISTRICTS])]
    declared = {n: P.declared_parameters(found[n].path) for n in chosen}
    for key in opts.cli_params:
        if not any(key in declared[n] for n in chosen):
            raise P.ParamError(f"command line: unknown parameter {key!r}; no selected notebook "
                               "declares it")
    defaults = P.load_defaults(params_dir)
    steps = list(defaults.get("precompute") or [])
    for name in chosen:
        unknown = [x for x in (found[name].precompute or ()) if x not in steps]
        if unknown:
            raise P.ParamError(f"params/{name}.yaml: precompute {unknown} is not a step of "
                               f"params/defaults.yaml (its steps: {steps})")
    imports = notebook_imports(found[n].path for n in chosen) + list(defaults.get("warm_imports") or [])
    months = P.store_months(store)
    period = f"{months[0]} 至 {month}"
    data = data_digest(store, month)
    specs: list[RunSpec] = []
    for name in chosen:
        nb = found[name]
        cli = {k: v for k, v in opts.cli_params.items() if k in declared[name]}
        for district in districts:
            city = district == config.CITY
            if (nb.scope == "city_only" and not city) or (nb.scope == "districts_only" and city):
                continue
            values = P.resolve(nb, month=month, district=district, params_dir=params_dir,
                               cli=cli, declared=declared[name])
            slug = P.district_slug(district)
            run_dir = P.safe_output(reports, month, slug, name)
            if "output_dir" in declared[name]:
                # files a notebook writes (demand plan, managers' pages) go beside its HTML
                values["output_dir"] = P.safe_files_dir(values.get("output_dir"), run_dir, reports)
            fp = fingerprint(nb.path, values, data=data,
                             options={"with_code": opts.with_code, "ids": nb.show_license_ids})
            specs.append(RunSpec(name, str(nb.path), month, district, slug, values, str(store),
                                 opts.with_code, nb.show_license_ids, imports, period,
                                 opts.timeout, opts.verbose, fp, needs=nb.precompute))
    titles = {n: found[n].description or n for n in found}
    figures = {n: found[n].index_figures for n in found}
    return Plan(month, store, reports, specs, titles, steps, figures)


def run_precompute(funcs: Sequence[str], month: str, store: Path, *,
                   in_process: bool = False, threads: int = 0,
                   server: "StepServer | None" = None) -> None:
    """Call each dotted-path ``f(month, store)`` once, in order; a missing module is a clear
    error (:class:`~.params.ParamError`).

    Each step runs in a process of its own (:mod:`.step`), so that the memory of its frames
    (the city-wide plan holds the 15-month ledger) goes back to the system when it ends instead
    of staying in the batch process; ``in_process``: call it here (tests, a debugger). A step
    that takes ``dry_run`` is first asked here whether its cache is current, and then not
    started at all: a process of its own re-imports the libraries (~2 CPU s a step), the check
    here costs a few ms once they are imported. ``threads`` > 0 caps each step process's
    thread pools like a kernel's (:func:`.kernels.kernel_env`): the steps run beside the
    kernels, and spinning BLAS or DuckDB pools on busy cores cost CPU for nothing. ``server``:
    the :class:`StepServer` to run them in (forked from one process that imported the libraries
    once); without one, several steps get one of their own for the call, where the platform
    can fork."""
    import inspect

    own = None
    if server is None and not in_process and len(funcs) > 1 and step.can_serve():
        server = own = StepServer(funcs, threads)
    try:
        _run_each(funcs, month, store, in_process, threads, server)
    finally:
        if own is not None:
            own.close()


def _run_each(funcs, month, store, in_process, threads, server) -> None:
    import inspect

    for dotted in funcs:
        start = time.perf_counter()
        try:
            func = step.resolve(dotted)
        except (ImportError, AttributeError, ValueError) as exc:
            raise P.ParamError(f"params/defaults.yaml precompute: cannot import {dotted} "
                               f"({exc})") from None
        if in_process:
            func(month=month, store=store)
        elif ("dry_run" in inspect.signature(func).parameters
              and not func(month=month, store=store, dry_run=True)):
            pass  # current: nothing to compute
        else:
            _step_process(dotted, month, store, threads, server)
        print(f"precompute {dotted}: {time.perf_counter() - start:.1f} s", file=sys.stderr)


def _step_env(threads: int = 0) -> dict[str, str]:
    """Environment of a step process: the project importable, the thread cap (``threads``)."""
    from .kernels import THREAD_VARS

    package_root = str(Path(__file__).resolve().parents[2])  # the folder holding kehu_lib
    env = dict(os.environ)
    if threads > 0:
        env.update({var: str(threads) for var in THREAD_VARS})
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    return env


def _step_process(dotted: str, month: str, store: Path, threads: int = 0,
                  server: "StepServer | None" = None) -> None:
    """Run one step in a child process (:mod:`.step`; forked by ``server`` if given); its
    output passes through to stderr."""
    import subprocess

    if server is not None:
        returncode, out, err = server.run(dotted, month, store)
    else:
        proc = subprocess.run([sys.executable, "-m", "kehu_lib.batch.step", dotted, month,
                               str(store)], env=_step_env(threads), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        returncode, out, err = proc.returncode, proc.stdout, proc.stderr or ""
    if out:
        sys.stderr.write(out)
    if returncode == step.IMPORT_ERROR and step.MARK in err:
        message = err.split(step.MARK, 1)[1].strip()
        raise P.ParamError(f"params/defaults.yaml precompute: cannot import {dotted} "
                           f"({message})")
    if err:
        sys.stderr.write(err)
    if returncode != 0:
        tail = "\n".join(err.strip().splitlines()[-15:])
        raise RuntimeError(f"precompute {dotted} failed (exit status {returncode}):\n{tail}")


class StepServer:
    """The batch's side of a step server (:mod:`.step`, ``--serve``): a process that imported
    the steps' modules once and forks a child per step, so that each step runs in a process of
    its own without re-importing the libraries (~1 CPU s a step). Started on the first
    :meth:`run`; thread-safe (the precompute's steps run side by side); :meth:`close` ends it
    and reaps it (with it the CPU times of its children)."""

    def __init__(self, preload: Sequence[str], threads: int = 0):
        self.preload, self.threads = list(preload), threads
        self.proc = None
        self.lock = threading.Condition()
        self.replies: dict[str, int] = {}
        self.ended = False
        self.count = 0

    def _start(self) -> None:
        import subprocess

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kehu_lib.batch.step", step.SERVE, *self.preload],
            env=_step_env(self.threads), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, encoding="utf-8")
        threading.Thread(target=self._read, name="kehu-step-server", daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            rid, _, status = line.strip().partition(" ")
            with self.lock:
                self.replies[rid] = int(status)
                self.lock.notify_all()
        with self.lock:
            self.ended = True
            self.lock.notify_all()

    def run(self, dotted: str, month: str, store: Path) -> tuple[int, str, str]:
        """Run step ``dotted`` in a child of the server: (exit status, stdout, stderr)."""
        import tempfile

        with self.lock:
            if self.proc is None:
                self._start()
            self.count += 1
            rid = str(self.count)
        with tempfile.TemporaryDirectory(prefix="kehu-step-") as tmp:
            out, err = Path(tmp, "out"), Path(tmp, "err")
            request = {"id": rid, "argv": [dotted, month, str(store)],
                       "out": str(out), "err": str(err)}
            with self.lock:
                if self.ended:
                    raise RuntimeError(f"precompute {dotted}: the step server has ended "
                                       f"(exit status {self.proc.poll()})")
                self.proc.stdin.write(json.dumps(request) + "\n")
                self.proc.stdin.flush()
                while rid not in self.replies and not self.ended:
                    self.lock.wait()
                if rid not in self.replies:
                    raise RuntimeError(f"precompute {dotted}: the step server ended while it "
                                       f"ran (exit status {self.proc.wait()})")
                status = self.replies.pop(rid)

            def read(path: Path) -> str:
                return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

            return status, read(out), read(err)

    def close(self) -> None:
        """End the server once its running steps are done, and reap it."""
        with self.lock:
            proc, self.proc = self.proc, None
            if proc is not None:
                self.ended = True
        if proc is not None:
            try:
                proc.stdin.close()
            except OSError:
                pass
            proc.wait()


def _write(pl: Plan, result: RunResult, manifest: Manifest) -> None:
    month_dir = pl.reports / pl.month
    out = month_dir / result.slug
    if result.html:
        atomic_write(out / f"{result.notebook}.html", result.html)
    if result.ipynb:  # unmasked data and code: kept with the logs, not beside the shared HTML
        atomic_write(month_dir / LOGS_DIR / result.slug / f"{result.notebook}.ipynb", result.ipynb)
    atomic_write(month_dir / LOGS_DIR / result.slug / f"{result.notebook}.log", result.log)
    write_tables(month_dir, result.slug, result.notebook, result.tables)
    manifest.record(result.summary())
    manifest.save()


def _warm_kernel(spec: RunSpec) -> None:
    """Start the calling pool thread's kernel ahead of its first run (best effort: a kernel
    that fails here is started, and its failure reported, by the run itself)."""
    try:
        thread_kernel(imports=spec.imports, store=Path(spec.store), threads=spec.threads)
    except Exception:  # noqa: BLE001
        pass


#: Attribute of a precompute step function: the steps (dotted paths of ``params/defaults.yaml``)
#: whose caches it reads. A step that has it starts as soon as those are done, beside the
#: others; a step without it waits for every step listed before it.
AFTER = "precompute_after"


def step_after(steps: Sequence[str]) -> dict[str, set[str]]:
    """For each of ``steps`` (in their order), the steps it waits for (see :data:`AFTER`):
    those it names that are in ``steps``, or, when it names none (or cannot be imported here:
    the step's own process reports that), every step before it."""
    after: dict[str, set[str]] = {}
    for i, dotted in enumerate(steps):
        try:
            named = getattr(step.resolve(dotted), AFTER, None)
        except (ImportError, AttributeError, ValueError):
            named = None
        after[dotted] = (set(steps[:i]) if named is None
                         else {d for d in named if d in steps[:i]})
    return after


class PrecomputeSteps:
    """The month's precompute steps (``params/defaults.yaml``) on background threads of the
    batch process, so that the runs that read none of them, or only the steps already done,
    start meanwhile instead of waiting for all of them.

    A run waits for the steps its notebook reads (:attr:`RunSpec.needs`; None: all). A step
    starts once the steps it reads are done (:func:`step_after`: those its function names, else
    every earlier one), so independent steps run side by side, each in its own process: the
    steps are the batch's critical path (the market reports and plans wait for all of them).
    The first step that fails stops the steps not yet started, and :meth:`raise_error` raises
    its exception once the runs that did not need it are done (their results are recorded,
    so the next batch resumes). ``threads``: the thread-pool cap of each step's process
    (:func:`run_precompute`), the kernels' cap (:func:`kernel_threads`) in a batch.
    """

    def __init__(self, steps: Sequence[str], month: str, store: Path,
                 cond: threading.Condition | None = None, threads: int = 0):
        self.steps = list(steps)
        self.month, self.store = month, store
        self.cond = cond or threading.Condition()
        self.done: set[str] = set()
        self.error: BaseException | None = None
        self.started: set[str] = set()
        self.failed: set[str] = set()
        self.threads: list[threading.Thread] = []
        self.threads_per_step = threads  # thread-pool cap of each step's process (0: none)
        # the steps' processes are forked by one server that imported the libraries once
        # (started on the first step that computes; ended when the last step thread ends)
        self.server = StepServer(self.steps, threads) if self.steps and step.can_serve() else None
        self.ended = 0  # step threads that have ended

    def start(self) -> "PrecomputeSteps":
        after = step_after(self.steps) if self.steps else {}
        self.threads = [threading.Thread(target=self._run_step, args=(dotted, after[dotted]),
                                         name=f"kehu-precompute-{i}", daemon=True)
                        for i, dotted in enumerate(self.steps)]
        for t in self.threads:
            t.start()
        return self

    def _run_step(self, dotted: str, after: set[str]) -> None:
        try:
            self._wait_and_run(dotted, after)
        finally:
            with self.cond:
                self.ended += 1
                last = self.ended == len(self.steps)
            if last and self.server is not None:
                self.server.close()

    def _wait_and_run(self, dotted: str, after: set[str]) -> None:
        with self.cond:
            while not after <= self.done and self.error is None:
                self.cond.wait()
            if self.error is not None:
                return  # a step failed: the rest do not start
            self.started.add(dotted)
        try:
            run_precompute([dotted], self.month, self.store, threads=self.threads_per_step,
                           server=self.server)
        except BaseException as exc:  # noqa: BLE001 - raised again in the batch's thread
            with self.cond:
                self.failed.add(dotted)
                if self.error is None:
                    self.error = exc
                self.cond.notify_all()
            return
        with self.cond:
            self.done.add(dotted)
            self.cond.notify_all()

    def possible(self, needs: Sequence[str] | None) -> bool:
        """The steps ``needs`` are done or may still be (no step failed, or they were running
        when one did); call with :attr:`cond` held."""
        if self.error is None:
            return True
        return self.wanted(needs) <= (self.done | self.started) - self.failed

    def wanted(self, needs: Sequence[str] | None) -> set[str]:
        return set(self.steps) if needs is None else set(needs) & set(self.steps)

    def ready(self, needs: Sequence[str] | None) -> bool:
        """The steps ``needs`` are done (call with :attr:`cond` held)."""
        return self.wanted(needs) <= self.done

    def join(self) -> None:
        for t in self.threads:
            t.join()

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error


def _execute_local(specs: list[RunSpec], jobs: int, on_result: Callable[[RunResult], None],
                   progress: bool, precompute: PrecomputeSteps | None = None) -> None:
    """Run ``specs`` (in their order) on ``jobs`` warm kernels, with ``precompute``.

    One job: the precompute first, then the runs. Several: the pool's kernels start while the
    precompute runs in the background (:class:`PrecomputeSteps`); each worker takes the first
    pending run whose precompute steps are done, so the runs that need none (or only the
    earlier steps) fill the workers meanwhile and the rest keep their order. While the
    precompute runs, one worker fewer runs at once (jobs − 1, at least 1): the steps get a core
    of their own, since the longest runs (the market reports, the plans) wait for all of them."""
    from tqdm import tqdm

    bar = None
    try:
        if jobs <= 1:
            if precompute is not None:
                precompute.start().join()
                precompute.raise_error()
            bar = tqdm(total=len(specs), desc="kehu run", unit="run", disable=not progress,
                       file=sys.stderr)
            for spec in specs:
                on_result(execute_run(spec))
                bar.update()
            return
        pre = precompute or PrecomputeSteps([], "", Path("."))
        cond = pre.cond
        queue = list(specs)
        results: "Queue[RunResult | None]" = Queue()

        workers = min(jobs, len(specs))
        busy = [0]  # workers running a run

        def cap() -> int:
            """Runs at once: one fewer than the workers while the precompute runs (its steps
            keep a core of their own: every run that needs them waits for the last one, so
            they are the batch's critical path), all of them after."""
            running = precompute is not None and pre.error is None and len(pre.done) < len(pre.steps)
            return max(1, workers - 1) if running else workers

        def take() -> RunSpec | None:
            """The next run whose steps are done; None when no run is left that can run."""
            with cond:
                while queue:
                    if busy[0] < cap():
                        for i, spec in enumerate(queue):
                            if pre.ready(spec.needs):
                                busy[0] += 1
                                return queue.pop(i)
                        if not any(pre.possible(spec.needs) for spec in queue):
                            return None  # the rest need a step that failed
                    cond.wait()
                return None

        def done() -> None:
            with cond:
                busy[0] -= 1
                cond.notify_all()

        errors: list[BaseException] = []

        def worker() -> None:
            try:
                _warm_kernel(specs[0])
                while (spec := take()) is not None:
                    try:
                        results.put(execute_run(spec))
                    finally:
                        done()
            except BaseException as exc:  # noqa: BLE001 - raised again below
                errors.append(exc)
            finally:
                results.put(None)

        pool = [threading.Thread(target=worker, name=f"kehu-run-{i}", daemon=True)
                for i in range(workers)]
        if precompute is not None:
            precompute.start()
        for t in pool:
            t.start()
        bar = tqdm(total=len(specs), desc="kehu run", unit="run", disable=not progress,
                   file=sys.stderr)
        running = workers
        while running:
            result = results.get()
            if result is None:
                running -= 1
                continue
            on_result(result)
            bar.update()
        if errors:
            raise errors[0]
        pre.join()
        pre.raise_error()
    finally:
        if bar is not None:
            bar.close()
        shutdown_all(keep_current=True)  # pool threads' kernels stop; this thread's stays warm


def kernel_threads(jobs: int, cores: int | None = None) -> int:
    """Thread-pool cap per kernel for ``jobs`` parallel runs: cores // jobs (at least 1); 0 (no
    cap) for a single job."""
    cores = cores or os.cpu_count() or 1
    return 0 if jobs <= 1 else max(1, cores // jobs)


def kernel_memory_limit(jobs: int, total_bytes: int | None = None) -> str:
    """DuckDB memory cap per process for ``jobs`` kernels side by side (``$KEHU_MEMORY_LIMIT``).

    A kernel's budget is 2 GB RSS; DuckDB gets at most half of it (the frames a page shows live
    beside it), and no more than a quarter of the machine's memory shared by the ``jobs``
    kernels and the batch process: min(1 GB, RAM / 4 / (jobs + 1)), at least 256 MB."""
    if total_bytes is None:
        try:
            total_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
            total_bytes = 8 << 30
    mb = min(1024, total_bytes // 4 // (max(1, jobs) + 1) // (1 << 20))
    return f"{max(256, mb)}MB"


def run_history(reports: Path, manifest: Manifest) -> dict[str, dict]:
    """The last recorded result of every run key over all months of ``reports`` (this month's
    manifest last, so it wins): a new month starts with last month's timings."""
    runs: dict[str, dict] = {}
    for path in sorted(Path(reports).glob(f"*/{manifest.path.name}")):
        if path != manifest.path:
            runs.update(Manifest(path.parent).runs)
    runs.update(manifest.runs)
    return runs


def longest_first(specs: Sequence[RunSpec], previous: dict[str, dict]) -> list[RunSpec]:
    """The runs ordered by expected seconds, longest first (so that with several jobs a long run
    does not start last and leave the other workers idle at the end).

    Expected seconds: the run's own last time in the manifest; else the mean of its notebook's
    recorded runs; else unknown (after the known ones, the city roll-up first). Stable otherwise.
    """
    by_nb: dict[str, list[float]] = {}
    for rec in previous.values():
        if rec.get("status") == "ok":
            by_nb.setdefault(rec.get("notebook", ""), []).append(float(rec.get("seconds", 0.0)))

    def expected(spec: RunSpec) -> tuple[float, float]:
        rec = previous.get(spec.key)
        if rec and rec.get("status") == "ok":
            return (float(rec["seconds"]), 0.0)
        times = by_nb.get(spec.notebook)
        if times:
            return (sum(times) / len(times), 0.0)
        return (-1.0, 1.0 if spec.district == config.CITY else 0.0)

    return sorted(specs, key=expected, reverse=True)


def remove_stale_files(month_dir: Path, slug: str, runs: dict[str, dict[str, Any]],
                       rerun: set[str]) -> list[Path]:
    """Remove the files in ``<slug>/files/`` that no run of the district claims, once some of
    its runs (``rerun``) ran again; returns the removed paths.

    Every run's manifest record lists the files it wrote there (``files``); the runs not run
    again keep their claims. Nothing is removed while a run of the district has no such list
    (a record of an older batch: its files are unknown), nor outside that folder (no
    sub-folders, no symbolic links followed).
    """
    if not rerun:
        return []
    folder = month_dir / slug / FILES_DIR
    if not folder.is_dir() or folder.is_symlink():
        return []
    mine = [rec for rec in runs.values() if rec.get("slug") == slug]
    if any("files" not in rec for rec in mine):
        return []
    claimed = {name for rec in mine for name in rec["files"]}
    removed = []
    for p in sorted(folder.iterdir()):
        if p.name not in claimed and p.is_file() and not p.is_symlink():
            p.unlink()
            removed.append(p)
    return removed


def _xlsx(month_dir: Path, slug: str, manifest: Manifest, titles: dict[str, str]) -> None:
    """The district's XLSX (:func:`~.index.district_xlsx`) from its runs recorded so far."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        district_xlsx(month_dir, slug, manifest.runs, titles)


def run_batch(opts: BatchOptions) -> BatchReport:
    """Run the batch (see the module docstring); never raises for a failing notebook.

    The whole run holds a :func:`kehu_lib.store.snapshot` of the store: the fingerprints, the
    precompute and every report read the same data, and an ingest finishing meanwhile commits
    after the batch (it says so while it waits)."""
    with store_snapshot(_dirs(opts)[2], command="kehu run"):
        return _run_batch(opts)


def _run_batch(opts: BatchOptions) -> BatchReport:
    start = time.perf_counter()
    pl = plan(opts)
    month_dir = pl.reports / pl.month
    manifest = Manifest(month_dir)
    results: list[RunResult] = []
    pending: list[RunSpec] = []
    written: set[str] = set()  # districts whose XLSX is written
    before = {key: dict(rec) for key, rec in manifest.runs.items()}
    for spec in pl.specs:
        html = month_dir / spec.slug / f"{spec.notebook}.html"
        if not opts.force and manifest.is_current(spec.key, spec.fingerprint, html):
            rec = manifest.runs[spec.key]
            results.append(RunResult(spec.key, spec.notebook, spec.district, spec.slug, "skipped",
                                     headlines=rec.get("headlines", {}), fingerprint=spec.fingerprint))
        else:
            pending.append(spec)
    if pending:
        pending = longest_first(pending, run_history(pl.reports, manifest))
        jobs = opts.jobs or os.cpu_count() or 1
        # DuckDB's memory cap in the kernels (they inherit the environment) and the precompute
        # (set for this batch only; a value the user set is kept)
        own_limit = not os.environ.get("KEHU_MEMORY_LIMIT")
        if own_limit:
            os.environ["KEHU_MEMORY_LIMIT"] = kernel_memory_limit(jobs)
        if not opts.scheduler:  # jobs kernels side by side share this machine's cores
            for spec in pending:
                spec.threads = kernel_threads(jobs)

        left = {}  # runs of each district still to come
        for spec in pending:
            left[spec.slug] = left.get(spec.slug, 0) + 1

        def on_result(result: RunResult) -> None:
            if result.status != "ok":  # a failed run may not have rewritten its files: keep them
                old = before.get(result.key, {}).get("files", [])
                result.files = sorted(set(result.files) | set(old))
            _write(pl, result, manifest)
            result.html = result.ipynb = result.log = ""
            result.tables = []
            results.append(result)
            left[result.slug] -= 1
            if left[result.slug] == 0:  # the district's last run: its XLSX now, while the
                _xlsx(month_dir, result.slug, manifest, pl.titles)  # other runs go on
                written.add(result.slug)

        try:
            if opts.executor == "dask":
                from .dask_exec import execute_dask

                run_precompute(pl.precompute, pl.month, pl.store)
                execute_dask(pending, jobs=jobs, scheduler=opts.scheduler, on_result=on_result)
            elif opts.executor == "local":
                _execute_local(pending, jobs, on_result, opts.progress,
                               precompute=PrecomputeSteps(pl.precompute, pl.month, pl.store,
                                                          threads=kernel_threads(jobs)))
            else:
                raise P.ParamError(f"executor must be 'local' or 'dask', got {opts.executor!r}")
        finally:
            if own_limit:
                os.environ.pop("KEHU_MEMORY_LIMIT", None)
        changed = {r.slug for r in results if r.status != "skipped"}
        for slug in sorted(changed):
            removed = remove_stale_files(month_dir, slug, manifest.runs,
                                         {r.key for r in results if r.slug == slug
                                          and r.status != "skipped"})
            for p in removed:
                print(f"removed {p.relative_to(pl.reports)} (no run of the district writes it any more)",
                      file=sys.stderr)
    else:
        changed = set()
    for spec in pl.specs:
        xlsx = month_dir / spec.slug / f"{spec.slug}_{pl.month}.xlsx"
        if spec.slug in changed or not xlsx.exists():
            changed.add(spec.slug)
    for slug in sorted(changed - written):
        _xlsx(month_dir, slug, manifest, pl.titles)
    month_index(month_dir, manifest.runs, pl.titles, figures=pl.figures)
    top_index(pl.reports)
    return BatchReport(pl.month, results, time.perf_counter() - start, pl.reports)


def resolved(opts: BatchOptions) -> list[dict[str, Any]]:
    """The resolved parameter sets of the planned runs (``kehu params``)."""
    return [{"run": s.key, "notebook": s.notebook, "parameters": s.parameters}
            for s in plan(opts).specs]


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2)
