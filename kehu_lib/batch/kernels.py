"""Warm kernels: started once per worker, libraries pre-imported, reset between runs.

Starting Python, importing papermill and starting a kernel costs about 1.1 s before any cell
runs, plus ~0.6 s to import pandas and matplotlib. A :class:`WarmKernel` pays that once per
worker: the kernel is started over the IPC transport (Unix sockets, so many kernels starting at
once cannot collide on ZMQ TCP ports), the modules the notebooks import are imported ahead,
matplotlib's inline integration is switched on (as ``%matplotlib inline`` does: interactive mode
on, figures shown when their cell ends, as palette PNGs: :mod:`.charts`) before the state is
snapshotted, and before every run :data:`RESET_CODE` restores a clean state:

- every user variable deleted (like ``%reset -f`` but without its 0.2 s history/gc work),
  ``In``/``Out`` history and the execution counter cleared;
- ``plt.close('all')`` and rcParams restored to the snapshot taken after the warm-up (so a
  ``set_theme()``/rcParams change of one run is absent in the next);
- pandas options, warning filters, ``os.environ``, the working folder, ``sys.path`` and the random
  seeds of ``random``/``numpy`` restored.

Modules stay imported (that is the point); a notebook that monkeypatches a library would leak, so
notebooks must not (they define no functions at all). A kernel that dies is replaced.
"""

from __future__ import annotations

import ast
import json
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Iterable

from .. import config

#: Modules imported ahead in every warm kernel, besides those the notebooks import.
BASE_IMPORTS = ("numpy", "pandas", "matplotlib", "matplotlib.pyplot", "kehu_lib",
                "kehu_lib.headlines", "kehu_lib.exports", "kehu_lib.present", "kehu_lib.present.theme",
                "kehu_lib.loaders")

WARMUP_CODE = """
_MPL_INLINE = __import__('os').environ.get('MPLBACKEND', '').endswith('backend_inline')
import importlib as _il
for _m in {modules!r}:
    try:
        _il.import_module(_m)
    except Exception:
        pass
try:
    import kehu_lib.present.theme as _kt
    _kt.cjk_font()
except Exception:
    pass
# What `%matplotlib inline` does, now rather than at the first figure: matplotlib loads its
# backend lazily, and loading matplotlib_inline is what turns interactive mode on (new figures
# are queued for display after the cell) and registers its post-execute hook. Done lazily, the
# snapshot below would record interactive mode off, every reset would restore it, and only the
# first run on each kernel would show its charts.
if _MPL_INLINE:
    get_ipython().enable_matplotlib('inline')
    import matplotlib as _mpl
    assert _mpl.is_interactive(), 'matplotlib inline integration not active'
    del _mpl
# charts as compact palette PNGs (a fifth of the bytes of matplotlib's RGBA PNGs): kehu_lib.batch.charts
__import__('kehu_lib.batch.charts', fromlist=['register']).register(get_ipython())
import sys as _sys, types as _types
_snap = _types.ModuleType('__kehu_warm__')
exec(compile({reset_source!r}, '<kehu-reset>', 'exec'), _snap.__dict__)
_snap.snapshot(get_ipython())
_sys.modules['__kehu_warm__'] = _snap
del _il, _m, _kt, _sys, _types, _snap, _MPL_INLINE
# What the warm-up leaves (modules, functions, caches: ~300,000 objects) lives as long as the
# kernel: moved out of the collector's generations, so the full collections of a run do not
# traverse it again and again (the market report's 8 runs: 2.1 -> 0.5 s of collection).
__import__('gc').collect()
__import__('gc').freeze()
"""

#: Defines ``snapshot(ip)`` and ``reset(ip, env)`` in a hidden module of the kernel.
RESET_SOURCE = """
import os, random, sys, warnings
import matplotlib

def snapshot(ip):
    global RC, ENVIRON, PATH, FILTERS, CWD, HIDDEN
    RC = matplotlib.rcParams.copy()
    ENVIRON, PATH, FILTERS, CWD = dict(os.environ), list(sys.path), list(warnings.filters), os.getcwd()

def reset(ip, env):
    ns = ip.user_ns
    for key in [k for k in ns if k not in ip.user_ns_hidden and not k.startswith('__')]:
        del ns[key]
    hm = ip.history_manager
    hm.input_hist_parsed[:] = ['']
    hm.input_hist_raw[:] = ['']
    hm.output_hist.clear()
    hm.output_hist_reprs.clear()
    ns.update({'_': '', '__': '', '___': ''})
    ip.execution_count = 1
    if 'matplotlib.pyplot' in sys.modules:
        sys.modules['matplotlib.pyplot'].close('all')
    dict.update(matplotlib.rcParams, RC)
    for key in [k for k in matplotlib.rcParams if k not in RC]:
        dict.pop(matplotlib.rcParams, key)
    if 'pandas' in sys.modules:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            sys.modules['pandas'].reset_option('all')
    warnings.filters[:] = FILTERS
    os.environ.clear()
    os.environ.update(ENVIRON)
    os.environ.update(env)
    sys.path[:] = PATH
    os.chdir(CWD)
    random.seed()
    if 'numpy' in sys.modules:
        sys.modules['numpy'].random.seed()
"""

RESET_CODE = "__import__('sys').modules['__kehu_warm__'].reset(get_ipython(), {env!r})"


class KernelSetupError(RuntimeError):
    """The warm-up or reset code failed in the kernel."""


def notebook_imports(paths: Iterable[Path]) -> list[str]:
    """Top-level modules imported by the code cells of the notebooks (for the warm-up)."""
    mods: set[str] = set()
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            nb = json.load(fh)
        for cell in nb.get("cells", []):
            if cell.get("cell_type") != "code":
                continue
            src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            src = re.sub(r"(?m)^\s*[%!].*$", "", src)
            try:
                tree = ast.parse(src)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    mods.update(a.name for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    mods.add(node.module)
    return sorted(mods)


#: Thread-pool sizes a kernel's libraries read at start (BLAS, OpenMP, Arrow; DuckDB via kehu).
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "KEHU_THREADS")


def kernel_env(store: Path | None = None, threads: int = 0) -> dict[str, str]:
    """Environment of a batch kernel: the project importable, the store, a headless backend.

    ``threads`` > 0 caps the thread pools of the kernel's libraries (:data:`THREAD_VARS`), so
    that ``jobs`` kernels running side by side share the cores instead of oversubscribing them
    (OpenBLAS and OpenMP pools spin while they wait and slow down badly when oversubscribed).
    """
    env = dict(os.environ)
    if threads > 0:
        env.update({var: str(threads) for var in THREAD_VARS})
    root = str(config.PROJ_ROOT)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in paths if p != root])
    if store is not None:
        env["KEHU_STORE"] = str(store)
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    return env


class WarmKernel:
    """One ipykernel over IPC, pre-imported, reset before every run. Used by one thread."""

    def __init__(self, *, imports: Iterable[str] = (), store: Path | None = None,
                 cwd: Path | None = None, kernel_name: str = "python3",
                 startup_timeout: float = 60, threads: int = 0):
        self.imports = list(dict.fromkeys([*BASE_IMPORTS, *imports]))
        self.store = store
        self.threads = threads
        self.cwd = Path(cwd or config.NOTEBOOKS_DIR)
        self.kernel_name = kernel_name
        self.startup_timeout = startup_timeout
        self.km = None
        self.runs = 0
        self._ipc_dir: str | None = None
        self.memory_limit: str | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> "WarmKernel":
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        self._ipc_dir = tempfile.mkdtemp(prefix="kehu-ipc-")
        km = AsyncKernelManager(kernel_name=self.kernel_name, transport="ipc",
                                ip=os.path.join(self._ipc_dir, "k"))
        self.cwd.mkdir(parents=True, exist_ok=True)
        # No history database: runs reset the execution counter and need no history.
        env = kernel_env(self.store, self.threads)
        # the DuckDB memory cap the kernel runs with (read at its first query): a batch with
        # another cap starts a kernel of its own (thread_kernel)
        self.memory_limit = env.get("KEHU_MEMORY_LIMIT")
        run_sync(km.start_kernel)(env=env, cwd=str(self.cwd),
                                  extra_arguments=["--HistoryManager.enabled=False"])
        self.km = km
        self.execute(WARMUP_CODE.format(modules=self.imports, reset_source=RESET_SOURCE),
                     timeout=self.startup_timeout + 300)
        self.runs = 0
        return self

    def is_alive(self) -> bool:
        from jupyter_core.utils import run_sync

        return self.km is not None and bool(run_sync(self.km.is_alive)())

    def shutdown(self) -> None:
        from jupyter_core.utils import run_sync

        if self.km is not None:
            try:
                run_sync(self.km.shutdown_kernel)(now=True)
            except Exception:  # pragma: no cover - best effort
                pass
        self.km = None
        if self._ipc_dir:
            import shutil

            shutil.rmtree(self._ipc_dir, ignore_errors=True)
            self._ipc_dir = None

    def restart(self) -> "WarmKernel":
        self.shutdown()
        return self.start()

    # -- code -----------------------------------------------------------------------------
    def execute(self, code: str, timeout: float = 60, expressions: dict | None = None) -> dict:
        """Run ``code`` silently (not stored in history); return the user expressions' values."""
        from jupyter_core.utils import run_sync

        # A fresh shell-only client per call: a client that was open while papermill's client
        # ran no longer receives replies, and a shell-only one never buffers the iopub stream.
        kc = self.km.client()
        kc.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)

        async def _go():
            msg_id = kc.execute(code, silent=False, store_history=False, allow_stdin=False,
                                     user_expressions=expressions or {})
            while True:
                reply = await kc.get_shell_msg(timeout=timeout)
                if reply["parent_header"].get("msg_id") == msg_id:
                    return reply["content"]

        try:
            content = run_sync(_go)()
        finally:
            kc.stop_channels()
        if content["status"] != "ok":
            tb = "\n".join(content.get("traceback", []))
            raise KernelSetupError(f"{content.get('ename')}: {content.get('evalue')}\n{tb}")
        return content.get("user_expressions", {})

    def reset(self, env: dict[str, str] | None = None) -> None:
        """Restore a clean state and set the run's environment variables."""
        self.execute(RESET_CODE.format(env=dict(env or {})))
        self.runs += 1

    def pid(self) -> int:
        out = self.execute("", expressions={"pid": "__import__('os').getpid()"})
        return int(out["pid"]["data"]["text/plain"])


_local = threading.local()
_ALL: list[tuple[int, WarmKernel]] = []
_ALL_LOCK = threading.Lock()


def thread_kernel(**kwargs) -> WarmKernel:
    """The warm kernel of the calling thread (started on first use, replaced when dead)."""
    kernel = getattr(_local, "kernel", None)
    if kernel is not None and (kernel.threads != kwargs.get("threads", 0)
                               or kernel.memory_limit != os.environ.get("KEHU_MEMORY_LIMIT")):
        drop_thread_kernel()  # started for another number of jobs or another memory cap
        kernel = None
    if kernel is None:
        kernel = WarmKernel(**kwargs).start()
        _local.kernel = kernel
        with _ALL_LOCK:
            _ALL.append((threading.get_ident(), kernel))
        _register_cleanup(kernel)
    elif not kernel.is_alive():
        kernel.restart()
    return kernel


def drop_thread_kernel() -> None:
    """Shut down the calling thread's kernel (the next run starts a fresh one)."""
    kernel = getattr(_local, "kernel", None)
    if kernel is not None:
        kernel.shutdown()
        _local.kernel = None


def shutdown_all(keep_current: bool = False) -> int:
    """Shut down the thread kernels of this process (end of a batch); returns how many.

    ``keep_current`` keeps the calling thread's kernel warm for the next batch in this process.
    """
    me = threading.get_ident()
    with _ALL_LOCK:
        stop = [(t, k) for t, k in _ALL if not (keep_current and t == me)]
        _ALL[:] = [(t, k) for t, k in _ALL if keep_current and t == me]
    for _, kernel in stop:
        kernel.shutdown()
    return len(stop)


def _register_cleanup(kernel: WarmKernel) -> None:
    import atexit
    from multiprocessing import util

    atexit.register(kernel.shutdown)  # a kernel also exits by itself when its parent dies
    util.Finalize(kernel, kernel.shutdown, exitpriority=10)
