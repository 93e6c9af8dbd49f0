"""One run: a notebook, a month and a district, executed with papermill on a warm kernel.

:func:`execute_run` is what every executor calls (in-process, a process pool or a Dask worker).
It returns a :class:`RunResult` holding everything to write (executed notebook, HTML, log, key
tables), so the workers never write into ``reports/``: the batch process writes atomically, and
a Dask worker needs no access to the reports folder.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import exports, headlines
from .kernels import WarmKernel, drop_thread_kernel, thread_kernel

ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class RunSpec:
    """Everything a worker needs for one run (picklable)."""

    notebook: str  # stem
    notebook_path: str
    month: str
    district: str
    slug: str
    parameters: dict[str, Any]
    store: str
    with_code: bool = False
    show_license_ids: bool = False
    imports: list[str] = field(default_factory=list)
    data_period: str = ""
    timeout: float = 600
    progress: bool = False
    fingerprint: str = ""
    threads: int = 0  # thread-pool cap of the kernel (0: the libraries' defaults)
    #: the precompute steps the run reads (None: all); it starts once they are done
    needs: tuple[str, ...] | None = None

    @property
    def key(self) -> str:
        return f"{self.slug}/{self.notebook}"


@dataclass
class RunResult:
    """Outcome of one run; ``status`` is ``ok``, ``failed`` or ``skipped``."""

    key: str
    notebook: str
    district: str
    slug: str
    status: str
    seconds: float = 0.0
    cell_seconds: float = 0.0
    headlines: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    attempts: int = 0
    html: str = ""
    ipynb: str = ""
    log: str = ""
    tables: list[tuple[dict, bytes]] = field(default_factory=list)
    fingerprint: str = ""
    files: list[str] = field(default_factory=list)  # names the run wrote into its output_dir

    def summary(self) -> dict[str, Any]:
        """The small part kept in the manifest (no payloads)."""
        return {"key": self.key, "notebook": self.notebook, "district": self.district,
                "slug": self.slug, "status": self.status, "seconds": round(self.seconds, 3),
                "cell_seconds": round(self.cell_seconds, 3), "headlines": self.headlines,
                "error": self.error, "attempts": self.attempts, "fingerprint": self.fingerprint,
                "files": self.files}


def _is_dead_kernel(exc: BaseException) -> bool:
    from nbclient.exceptions import DeadKernelError

    return isinstance(exc, DeadKernelError) or "DeadKernel" in type(exc).__name__


_ENGINE = "kehu-warm"


def _register_engine() -> None:
    """A papermill engine that runs on a given warm kernel and closes its client afterwards."""
    from queue import Empty

    from jupyter_core.utils import ensure_async, run_sync
    from nbclient.util import run_hook
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.utils import merge_kwargs, remove_args

    if _ENGINE in papermill_engines._engines:
        return

    class WarmClient(PapermillNotebookClient):
        async def async_start_new_kernel_client(self):
            # nbclient's wait_for_ready waits 0.2 s whenever the new iopub subscription misses
            # the kernel_info status message; poll in 20 ms steps instead.
            self.kc = self.km.client()
            await ensure_async(self.kc.start_channels())
            for _ in range(int(self.startup_timeout / 0.02) + 1):
                msg_id = self.kc.kernel_info()
                while True:
                    reply = await self.kc.get_shell_msg(timeout=self.startup_timeout)
                    if reply["parent_header"].get("msg_id") == msg_id:
                        break
                try:
                    await self.kc.get_iopub_msg(timeout=0.02)
                    break
                except Empty:
                    continue
            self.kc.allow_stdin = False
            await run_hook(self.on_notebook_start, notebook=self.nb)
            return self.kc

        start_new_kernel_client = run_sync(async_start_new_kernel_client)

    class WarmKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None,
                                     **kwargs):
            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            client = WarmClient(nb_man, **merge_kwargs(
                kwargs, timeout=execution_timeout, startup_timeout=start_timeout,
                kernel_name=kernel_name, log_output=log_output, stdout_file=stdout_file,
                stderr_file=stderr_file))
            try:
                return client.execute()
            finally:  # the kernel is not ours to stop (owns_km is False): close the channels
                if client.kc is not None:
                    client.kc.stop_channels()

    papermill_engines.register(_ENGINE, WarmKernelEngine)


def _papermill(spec: RunSpec, kernel: WarmKernel):
    """Parameterize and execute with papermill's nbclient engine on the warm kernel."""
    from papermill.engines import papermill_engines
    from papermill.execute import prepare_notebook_metadata, remove_error_markers
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    _register_engine()
    nb = load_notebook_node(spec.notebook_path)
    nb = parameterize_notebook(nb, spec.parameters, report_mode=False, kernel_name="python3",
                               language="python")
    nb = prepare_notebook_metadata(nb, spec.notebook_path, "", False)
    nb = remove_error_markers(nb)
    return papermill_engines.execute_notebook_with_engine(
        _ENGINE, nb, kernel_name="python3", input_path=spec.notebook_path, output_path=None,
        progress_bar=spec.progress, log_output=False, start_timeout=60,
        execution_timeout=spec.timeout, km=kernel.km)


def first_error(nb) -> str:
    """``'ename: evalue (cell N)'`` of the first failing cell, or ``''``."""
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                if out.get("ename") == "SystemExit" and out.get("evalue") in ("", "0"):
                    continue
                return f"{out.get('ename')}: {out.get('evalue')} (cell {i})"
        if cell.get("metadata", {}).get("papermill", {}).get("exception"):
            return f"CellExecutionError (cell {i})"
    return ""


def cell_seconds(nb) -> float:
    """Sum of the cells' own execution times (papermill's per-cell ``duration``)."""
    total = 0.0
    for cell in nb.cells:
        d = cell.get("metadata", {}).get("papermill", {}).get("duration")
        if d:
            total += float(d)
    return total


def run_log(spec: RunSpec, nb, result: RunResult, extra: str = "") -> str:
    """A plain-text log: parameters, each cell's time, its text output and any traceback."""
    buf = io.StringIO()
    buf.write(f"run {spec.key} month={spec.month} district={spec.district}\n")
    buf.write(f"notebook {spec.notebook_path}\nparameters {json.dumps(spec.parameters, ensure_ascii=False)}\n")
    if nb is not None:
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            d = cell.get("metadata", {}).get("papermill", {}).get("duration")
            buf.write(f"--- cell {i} ({d if d is not None else '-'} s)\n")
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream":
                    buf.write(f"[{out.get('name')}] {out.get('text', '')}")
                elif out.get("output_type") == "error":
                    buf.write(ANSI_RE.sub("", "\n".join(out.get("traceback", []))) + "\n")
    if extra:
        buf.write(extra + "\n")
    buf.write(f"status {result.status} attempts {result.attempts} seconds {result.seconds:.3f} "
              f"cells {result.cell_seconds:.3f}\n")
    if result.error:
        buf.write(f"error {result.error}\n")
    return buf.getvalue()


def _collect_tables(folder: Path) -> list[tuple[dict, bytes]]:
    out = []
    for meta in sorted(folder.glob("*.json")):
        data = folder / f"{meta.stem}.parquet"
        if data.exists():
            out.append((json.loads(meta.read_text(encoding="utf-8")), data.read_bytes()))
    return out


def file_state(folder: Path) -> dict[str, tuple[int, int, int]]:
    """``{name: (mtime_ns, size, inode)}`` of the regular files directly in ``folder``."""
    state = {}
    try:
        entries = list(Path(folder).iterdir())
    except OSError:  # not there (yet)
        return state
    for p in entries:
        try:
            st = p.lstat()
        except OSError:
            continue
        if p.is_file() and not p.is_symlink():
            state[p.name] = (st.st_mtime_ns, st.st_size, st.st_ino)
    return state


def written_files(folder: Path, before: dict[str, tuple[int, int, int]]) -> list[str]:
    """Names of the files in ``folder`` that are new or changed since ``before``."""
    return sorted(n for n, st in file_state(folder).items() if before.get(n) != st)


def execute_run(spec: RunSpec, kernel: WarmKernel | None = None, *,
                render: bool = True) -> RunResult:
    """Execute one run on a warm kernel (the calling thread's unless given); never raises.

    A dead kernel (the process crashed or was killed) is replaced and the run retried once.
    """
    import nbformat

    start = time.perf_counter()
    result = RunResult(spec.key, spec.notebook, spec.district, spec.slug, "failed",
                       fingerprint=spec.fingerprint)
    nb = None
    extra = ""
    export_dir = Path(tempfile.mkdtemp(prefix="kehu-export-"))
    out_dir = spec.parameters.get("output_dir")
    files_before = file_state(Path(out_dir)) if out_dir else {}
    try:
        for attempt in (1, 2):
            result.attempts = attempt
            shutil.rmtree(export_dir, ignore_errors=True)
            try:
                if kernel is None:
                    k = thread_kernel(imports=spec.imports, store=Path(spec.store),
                                      threads=spec.threads)
                else:
                    k = kernel if kernel.is_alive() else kernel.restart()
                k.reset({exports.EXPORT_DIR_ENV: str(export_dir), "KEHU_STORE": spec.store,
                         exports.SHOW_IDS_ENV: "1" if spec.show_license_ids else "0",
                         "KEHU_RUN": spec.key})
                nb = _papermill(spec, k)
                break
            except Exception as exc:  # noqa: BLE001 - every failure is reported, none raised
                dead = _is_dead_kernel(exc) or (kernel is not None and not kernel.is_alive())
                extra += f"attempt {attempt}: {type(exc).__name__}: {exc}\n"
                if dead and attempt == 1:
                    if kernel is None:
                        drop_thread_kernel()
                    continue
                extra += traceback.format_exc()
                result.error = f"{type(exc).__name__}: {exc}"[:500]
                nb = None
                break
        if nb is not None:
            result.error = first_error(nb)
            result.status = "failed" if result.error else "ok"
            result.headlines = headlines.read(nb)
            result.cell_seconds = cell_seconds(nb)
            result.tables = _collect_tables(export_dir)
            result.ipynb = nbformat.writes(nb)
            if render:
                from .html import render_html

                result.html = render_html(nb, spec, status=result.status, error=result.error)
    except Exception as exc:  # noqa: BLE001
        result.status = "failed"
        result.error = f"{type(exc).__name__}: {exc}"[:500]
        extra += traceback.format_exc()
    finally:
        shutil.rmtree(export_dir, ignore_errors=True)
    if out_dir:  # what this run wrote (a run into the same folder beside it may add some)
        result.files = written_files(Path(out_dir), files_before)
    result.seconds = time.perf_counter() - start
    result.log = run_log(spec, nb, result, extra)
    return result
