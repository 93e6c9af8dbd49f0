"""One precompute step in a process of its own: ``python -m kehu_lib.batch.step DOTTED MONTH
STORE`` calls ``DOTTED(month=MONTH, store=STORE)`` and exits.

The batch runs each step of ``params/defaults.yaml`` this way (:func:`kehu_lib.batch.runner.
run_precompute`): the city-wide plan holds the 15-month ledger of 20,000 shops (about 1 GB of
frames), and a process returns such memory to the system only when it ends. Run in the batch
process, it stayed there beside the runs' HTML and pushed the batch process over 2 GB; in its own
process it is freed when the step ends, and the batch process stays small.

Exit status: 0 done; :data:`IMPORT_ERROR` the step cannot be imported (its message on stderr,
after :data:`MARK`); anything else: the step failed (its traceback on stderr).

**Step server** (``python -m kehu_lib.batch.step --serve DOTTED...``, POSIX only): a fresh
process spends about 1 CPU s importing pandas, pyarrow, DuckDB and the step's modules before it
computes anything (4 steps: ~4.5 CPU s of a city batch). The server imports the steps' modules
once and then forks a child per step: each step still runs in a process of its own, whose memory
goes back to the system when it ends, with the same exit status, stdout and stderr as
``python -m kehu_lib.batch.step``, but without the imports. Protocol: one JSON request per line
on stdin (``{"id", "argv": [DOTTED, MONTH, STORE], "out", "err"}``: the child's stdout and stderr
go to the files ``out`` and ``err``), one line ``ID STATUS`` on stdout when that child has
ended (STATUS as :func:`os.waitstatus_to_exitcode`: negative for a signal). The server reaps each
child, so their CPU times reach whoever waits for the server; it ends when stdin is closed and
its children are done. :class:`kehu_lib.batch.runner.StepServer` is the batch's side.
"""

from __future__ import annotations

import importlib
import sys

#: Exit status of a step that cannot be imported.
IMPORT_ERROR = 3
#: Prefix of the import error's message on stderr.
MARK = "kehu-step-import-error: "
#: First argument that makes ``python -m kehu_lib.batch.step`` a step server.
SERVE = "--serve"


def resolve(dotted: str):
    """The function named by ``dotted`` (module.attr); ImportError or AttributeError if none."""
    module, _, attr = dotted.rpartition(".")
    return getattr(importlib.import_module(module), attr)


def main(argv: list[str] | None = None) -> int:
    argv = argv if argv is not None else sys.argv[1:]
    if argv[:1] == [SERVE]:
        return serve(argv[1:])
    dotted, month, store = argv
    try:
        func = resolve(dotted)
    except (ImportError, AttributeError, ValueError) as exc:
        print(MARK + str(exc), file=sys.stderr, flush=True)
        return IMPORT_ERROR
    func(month=month, store=store)
    return 0


def can_serve() -> bool:
    """Whether this platform can run a step server (it forks: POSIX)."""
    import os

    return hasattr(os, "fork") and hasattr(os, "waitstatus_to_exitcode")


def serve(preload: list[str]) -> int:
    """The step server's loop (see the module docstring): import ``preload``'s modules, then
    fork a child per request line until stdin closes and every child has ended."""
    import json
    import os
    import selectors
    import signal

    for dotted in preload:  # a step that cannot be imported reports it from its child
        try:
            resolve(dotted)
        except Exception:  # noqa: BLE001
            pass
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)  # a child's end (SIGCHLD) wakes the select below
    signal.signal(signal.SIGCHLD, lambda *_: None)
    sel = selectors.DefaultSelector()
    stdin = sys.stdin.fileno()
    sel.register(stdin, selectors.EVENT_READ)
    sel.register(wake_r, selectors.EVENT_READ)
    running: dict[int, str] = {}  # child pid -> request id
    buf, reading = b"", True

    def reply(rid: str, status: int) -> None:
        sys.stdout.write(f"{rid} {status}\n")
        sys.stdout.flush()

    while reading or running:
        for key, _ in sel.select(timeout=1.0):
            if key.fd == wake_r:
                while True:
                    try:
                        if not os.read(wake_r, 512):
                            break
                    except BlockingIOError:
                        break
                continue
            data = os.read(stdin, 65536)
            if not data:
                reading = False
                sel.unregister(stdin)
                continue
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if line.strip():
                    request = json.loads(line)
                    running[_fork_step(request, (wake_r, wake_w))] = str(request["id"])
        while running:  # reap every child that has ended
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            if pid in running:
                reply(running.pop(pid), os.waitstatus_to_exitcode(status))
    return 0


def _fork_step(request: dict, wake: tuple[int, int]) -> int:
    """Fork a child that runs ``main(request["argv"])`` with its stdout and stderr in the
    request's files; the child's pid."""
    import os
    import signal
    import traceback

    pid = os.fork()
    if pid:
        return pid
    status = 1
    try:  # the child: the server's signal wiring off, its own stdio
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in wake:
            os.close(fd)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        for fd, path in ((1, request["out"]), (2, request["err"])):
            target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(target, fd)
            os.close(target)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
        status = main(list(request["argv"]))
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - reported as the step's failure, as a process would
        traceback.print_exc()
        status = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        os._exit(status)


if __name__ == "__main__":
    sys.exit(main())
