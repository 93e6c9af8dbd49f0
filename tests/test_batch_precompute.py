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
