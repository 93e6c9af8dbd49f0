"""One precompute step in a process of its own.

The batch runs each step of ``params/defaults.yaml`` this way (:func:`kehu_lib.batch.runner.
run_precompute`): the city-wide plan holds the 15-month ledger of 20,000 shops (about 1 GB of
frames), and a process returns such memory to the system only when it ends. Run in the batch
process, it stayed there beside the runs' HTML and pushed the batch process over 2 GB; in its own
process it is freed when the step ends, and the batch process stays small.

The processes are forked from one server (:func:`run_forked`, multiprocessing's ``forkserver``)
that imported the steps' modules once: a fresh interpreter per step re-imported pandas, SciPy and
DuckDB each time, ~3 CPU s a step. The server is a clean single-threaded process, so forking it
is safe while the batch process runs its kernel threads.

``python -m kehu_lib.batch.step DOTTED MONTH STORE`` runs one step by hand. Exit status: 0 done;
:data:`IMPORT_ERROR` the step cannot be imported (its message on stderr, after :data:`MARK`);
anything else: the step failed (its traceback on stderr).
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import traceback
from pathlib import Path
from typing import Sequence

#: Exit status of a step that cannot be imported.
IMPORT_ERROR = 3
#: Prefix of the import error's message on stderr.
MARK = "kehu-step-import-error: "

#: Imported by the fork server before it forks any step (besides the steps' own modules): the
#: libraries every step uses.
PRELOAD = ("numpy", "pandas", "pyarrow", "duckdb", "scipy.stats")


class StepImportError(Exception):
    """The step cannot be imported (its module or function is missing)."""


class StepFailed(Exception):
    """The step raised, or its process ended without saying (killed): ``status`` (exit status
    or signal), ``detail`` (its traceback, if any)."""

    def __init__(self, status: str, detail: str = ""):
        super().__init__(f"{status}: {detail}".rstrip(": "))
        self.status, self.detail = status, detail


def resolve(dotted: str):
    """The function named by ``dotted`` (module.attr); ImportError or AttributeError if none."""
    module, _, attr = dotted.rpartition(".")
    return getattr(importlib.import_module(module), attr)


_lock = threading.Lock()


def _context(modules: Sequence[str]):
    """multiprocessing's forkserver context; the server (started at the first step) preloads
    :data:`PRELOAD` and ``modules``."""
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver")
    with _lock:
        from multiprocessing import forkserver

        if getattr(forkserver._forkserver, "_forkserver_pid", None) is None:
            ctx.set_forkserver_preload([*PRELOAD, *modules])
    return ctx


def stop_server() -> None:
    """Stop the step server, if running, and wait for it: its memory (the preloaded libraries)
    goes back to the system, and its CPU time and its steps' reach the batch's accounting
    (``getrusage`` of waited-for children)."""
    from multiprocessing import forkserver

    server = forkserver._forkserver
    with _lock:
        if getattr(server, "_forkserver_pid", None) is not None:
            server._stop()


def _child(conn, dotted: str, month: str, store: str, env: dict, cwd: str,
           path: list[str]) -> None:
    """In the forked process: the batch's environment, folder and import path, then the step.
    Sends (kind, message, output) back on ``conn``: kind "ok", "import" or "error" (message: the
    traceback); output: what the step printed (its stdout and stderr, captured in a file since
    the server's own descriptors may not be the batch's current ones)."""
    import tempfile

    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    sys.path[:] = path
    importlib.invalidate_caches()
    kind, message = "ok", ""
    with tempfile.TemporaryFile() as out:
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
        try:
            func = resolve(dotted)
        except (ImportError, AttributeError, ValueError) as exc:
            kind, message = "import", str(exc)
        else:
            try:
                func(month=month, store=store)
            except BaseException:  # noqa: BLE001 - reported to the batch with its traceback
                kind, message = "error", traceback.format_exc()
        sys.stdout.flush()
        sys.stderr.flush()
        out.seek(0)
        conn.send((kind, message, out.read().decode("utf-8", "replace")))


def run_forked(dotted: str, month: str, store: Path | str, *,
               preload: Sequence[str] = ()) -> None:
    """Run ``dotted(month=month, store=store)`` in a process forked from the step server and
    wait for it. Raises :class:`StepImportError` or :class:`StepFailed`."""
    ctx = _context([d.rpartition(".")[0] for d in (*preload, dotted)])
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, name=f"kehu-step {dotted}",
                       args=(send, dotted, month, str(store), dict(os.environ), os.getcwd(),
                             list(sys.path)))
    proc.start()
    send.close()
    try:
        kind, message, output = recv.recv()
    except EOFError:  # ended without a word: killed (e.g. out of memory) or os._exit
        kind, message, output = "died", "", ""
    finally:
        recv.close()
        proc.join()
    if output:
        sys.stderr.write(output)
    if kind == "ok" and proc.exitcode == 0:
        return
    if kind == "import":
        raise StepImportError(message)
    code = proc.exitcode
    status = (f"killed by signal {-code}" if code is not None and code < 0
              else f"exit status {code}")
    raise StepFailed(status, message.strip())


def main(argv: list[str] | None = None) -> int:
    dotted, month, store = argv if argv is not None else sys.argv[1:]
    try:
        func = resolve(dotted)
    except (ImportError, AttributeError, ValueError) as exc:
        print(MARK + str(exc), file=sys.stderr, flush=True)
        return IMPORT_ERROR
    func(month=month, store=store)
    return 0


if __name__ == "__main__":
    sys.exit(main())
