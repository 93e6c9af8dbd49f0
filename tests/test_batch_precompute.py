"""The batch's precompute steps run each in a process of their own (kehu_lib.batch.step), so
that the memory of their frames goes back to the system when they end (issue 16: the batch
process peaked at 2 GB holding the city-wide plan's ledger)."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

from kehu_lib.batch import params as P
from kehu_lib.batch import runner

STEPS = textwrap.dedent("""
    import os
    from pathlib import Path

    def record(month, store):
        Path(store, "step.txt").write_text(f"{os.getpid()} {month}")

    def fail(month, store):
        raise ValueError("the step's own error")

    def cached(month, store, dry_run=False):
        stale = not Path(store, f"cache-{month}").exists()
        if dry_run:
            return stale
        Path(store, f"cache-{month}").write_text(str(os.getpid()))
        return stale
""")


@pytest.fixture
def steps_module(tmp_path, monkeypatch):
    mod = tmp_path / "mods"
    mod.mkdir()
    (mod / "kehu_test_steps.py").write_text(STEPS, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(mod), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.syspath_prepend(str(mod))
    return tmp_path


def test_a_step_runs_in_a_child_process(steps_module, capsys):
    store = steps_module
    runner.run_precompute(["kehu_test_steps.record"], "2026-10", store)
    pid, month = (store / "step.txt").read_text().split()
    assert month == "2026-10"
    assert int(pid) != os.getpid()  # its memory is returned when that process ends
    assert "precompute kehu_test_steps.record:" in capsys.readouterr().err
    (store / "step.txt").unlink()
    runner.run_precompute(["kehu_test_steps.record"], "2026-09", store, in_process=True)
    assert (store / "step.txt").read_text() == f"{os.getpid()} 2026-09"


def test_a_step_that_cannot_be_imported_is_a_parameter_error(tmp_path):
    for dotted, why in (("no_such_module_x.step", "No module named"),
                        ("kehu_lib.aggregates.no_such_step", "has no attribute")):
        for in_process in (False, True):
            with pytest.raises(P.ParamError, match=f"cannot import {dotted} .*{why}"):
                runner.run_precompute([dotted], "2026-10", tmp_path, in_process=in_process)


def test_a_failing_step_raises_with_its_traceback(steps_module):
    with pytest.raises(RuntimeError, match=r"(?s)kehu_test_steps.fail failed.*the step's own error"):
        runner.run_precompute(["kehu_test_steps.fail", "kehu_test_steps.record"], "2026-10",
                              steps_module)
    assert not (steps_module / "step.txt").exists()  # the steps after a failed one do not run


def test_a_current_step_is_asked_here_and_not_started(steps_module):
    """A step taking ``dry_run`` is asked in the batch process first: a stale one runs in a
    child, a current one is not started (a child re-imports the libraries, ~2 CPU s a step)."""
    store = steps_module
    runner.run_precompute(["kehu_test_steps.cached"], "2026-10", store)
    first = (store / "cache-2026-10").read_text()
    assert int(first) != os.getpid()  # stale: computed in a child
    (store / "cache-2026-10").write_text("kept")
    runner.run_precompute(["kehu_test_steps.cached"], "2026-10", store)
    assert (store / "cache-2026-10").read_text() == "kept"  # current: not run again


def test_the_shipped_steps_say_when_they_are_current(small_store, tmp_path):
    """Every step of params/defaults.yaml takes dry_run; on a store whose caches were just
    brought up to date each answers 'nothing to compute'."""
    import inspect

    from kehu_lib import config, loaders
    from kehu_lib.batch import step

    from conftest import writable_copy

    store = writable_copy(small_store, tmp_path / "store")
    funcs = P.load_defaults(config.PARAMS_DIR).get("precompute") or []
    month = loaders.latest_month(store=store)
    runner.run_precompute(funcs, month, store)
    for dotted in funcs:
        func = step.resolve(dotted)
        assert "dry_run" in inspect.signature(func).parameters, dotted
        assert not func(month=month, store=store, dry_run=True), dotted


def test_a_step_process_gets_the_kernels_thread_cap(steps_module):
    """Beside the kernels the step processes share the cores: their BLAS, OpenMP, Arrow and
    DuckDB pools get the kernels' cap (spinning pools on busy cores burn CPU for nothing)."""
    import json

    from kehu_lib.batch.kernels import THREAD_VARS

    store = steps_module
    (store / "mods" / "kehu_test_env.py").write_text(
        "import json, os\nfrom pathlib import Path\n"
        "def env(month, store):\n"
        f"    Path(store, 'env.json').write_text(json.dumps({{v: os.environ.get(v) for v in {list(THREAD_VARS)!r}}}))\n",
        encoding="utf-8")
    runner.run_precompute(["kehu_test_env.env"], "2026-10", store, threads=3)
    assert set(json.loads((store / "env.json").read_text()).values()) == {"3"}
    steps = runner.PrecomputeSteps(["kehu_test_env.env"], "2026-10", store, threads=3)
    (store / "env.json").unlink()
    steps.start().join()
    steps.raise_error()
    assert set(json.loads((store / "env.json").read_text()).values()) == {"3"}
    assert runner.kernel_threads(2, cores=2) == 1  # what kehu run gives them with --jobs 2


SERVED = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path

    def record(month, store):
        print("out of", month)
        print("err of", month, file=sys.stderr)
        Path(store, f"served-{month}.txt").write_text(f"{os.getpid()} {os.getppid()}")

    def spin(month, store):
        end = time.process_time() + 0.5
        while time.process_time() < end:
            pass

    def killed(month, store):
        os.kill(os.getpid(), 9)

    def fail(month, store):
        raise ValueError("the served step's own error")
""")


@pytest.fixture
def served(steps_module):
    (steps_module / "mods" / "kehu_test_served.py").write_text(SERVED, encoding="utf-8")
    return steps_module


@pytest.mark.skipif(not runner.step.can_serve(), reason="the step server forks (POSIX)")
def test_the_step_server_runs_each_step_in_a_child_of_its_own(served, capsys):
    """Each step is a forked child of the server (not the batch process, not the server), with
    its stdout and stderr passed on; the server's children are reaped, so their CPU seconds
    reach the batch (the benchmark's CPU column); close() ends and reaps the server."""
    import resource

    server = runner.StepServer(["kehu_test_served.record"])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        status, out, err = server.run("kehu_test_served.record", "2026-10", served)
        assert (status, out, err) == (0, "out of 2026-10\n", "err of 2026-10\n")
        status, _, _ = server.run("kehu_test_served.record", "2026-09", served)
        assert status == 0
        server_pid = server.proc.pid
        pids = [tuple(map(int, (served / f"served-{m}.txt").read_text().split()))
                for m in ("2026-10", "2026-09")]
        assert all(parent == server_pid and pid not in (os.getpid(), server_pid)
                   for pid, parent in pids)
        assert pids[0][0] != pids[1][0]  # a process per step: its memory goes back when it ends
        assert server.run("kehu_test_served.spin", "2026-10", served)[0] == 0
    finally:
        proc = server.proc
        server.close()
    assert proc.poll() == 0
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert used.ru_utime + used.ru_stime - before.ru_utime - before.ru_stime >= 0.4


@pytest.mark.skipif(not runner.step.can_serve(), reason="the step server forks (POSIX)")
def test_served_steps_fail_as_step_processes_do(served):
    """Through the server a step that cannot be imported is still a parameter error, a failing
    one raises with its traceback, a killed one with its signal; the steps after it do not run,
    and the server is ended."""
    with pytest.raises(P.ParamError, match="cannot import kehu_test_served.nothing .*has no attr"):
        runner.run_precompute(["kehu_test_served.nothing", "kehu_test_served.record"],
                              "2026-10", served)
    with pytest.raises(RuntimeError, match=r"(?s)kehu_test_served.fail failed \(exit status 1\)"
                                           r".*the served step's own error"):
        runner.run_precompute(["kehu_test_served.fail", "kehu_test_served.record"], "2026-10",
                              served)
    with pytest.raises(RuntimeError, match=r"kehu_test_served.killed failed \(exit status -9\)"):
        runner.run_precompute(["kehu_test_served.killed", "kehu_test_served.record"],
                              "2026-10", served)
    assert not (served / "served-2026-10.txt").exists()
    runner.run_precompute(["kehu_test_served.record", "kehu_test_served.record"], "2026-10",
                          served)
    pid, parent = map(int, (served / "served-2026-10.txt").read_text().split())
    assert parent != os.getpid()  # forked by a server, which has ended: the batch reaped it
    with pytest.raises(ProcessLookupError):  # ended and reaped (no zombie left behind)
        os.kill(parent, 0)
