"""The precompute in the background: runs that read none of it (or only the steps already done)
start while it runs; the others wait for their steps; a failing step stops only the runs that
need it, and the batch still raises it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from kehu_lib.batch import params as P
from kehu_lib.batch import runner
from kehu_lib.batch.execute import RunResult, RunSpec

from batch_fixtures import DEMO_YAML, options


def _fake_runner(monkeypatch, fake_precompute, fake_run):
    """The runner with fake precompute and run functions, and no kernels."""
    monkeypatch.setattr(runner, "run_precompute", fake_precompute)
    monkeypatch.setattr(runner, "execute_run", fake_run)
    monkeypatch.setattr(runner, "_warm_kernel", lambda spec: None)
    monkeypatch.setattr(runner, "shutdown_all", lambda keep_current=False: 0)


def _spec(name: str, needs) -> RunSpec:
    return RunSpec(name, "", "2026-10", "全市", "city", {}, "", needs=needs)


@pytest.fixture
def fake_batch(monkeypatch):
    """execute_run and run_precompute replaced by recorders: step ``a`` waits (up to 10 s)
    until the run ``free`` has run; each run records the steps done when it started."""
    seen: dict[str, set] = {}
    steps_log: list[str] = []
    free_ran = threading.Event()
    state = {"pre": None, "fail": None}

    def fake_precompute(funcs, month, store, **kw):
        (dotted,) = funcs
        if dotted == "a":
            free_ran.wait(10)
        if dotted == state["fail"]:
            raise RuntimeError(f"step {dotted} failed")
        steps_log.append(f"{dotted}:{'after-free' if free_ran.is_set() else 'before-free'}")

    def fake_run(spec):
        with state["pre"].cond:
            seen[spec.notebook] = set(state["pre"].done)
        if spec.notebook == "free":
            free_ran.set()
        return RunResult(spec.key, spec.notebook, spec.district, spec.slug, "ok")

    _fake_runner(monkeypatch, fake_precompute, fake_run)
    return seen, steps_log, state


def test_runs_needing_no_precompute_start_before_it_ends(fake_batch):
    seen, steps_log, state = fake_batch
    pre = runner.PrecomputeSteps(["a", "b"], "2026-10", Path("."))
    state["pre"] = pre
    # the order asks for the runs needing everything first: they must wait, not block a worker
    specs = [_spec("all", None), _spec("after_a", ("a",)), _spec("free", ())]
    got = []
    runner._execute_local(specs, 2, got.append, progress=False, precompute=pre)
    assert sorted(r.notebook for r in got) == ["after_a", "all", "free"]
    assert seen["free"] == set()           # ran while step a was still running
    assert steps_log == ["a:after-free", "b:after-free"]
    assert "a" in seen["after_a"]          # waited for its step only
    assert seen["all"] == {"a", "b"}       # waited for every step


def test_a_failing_step_stops_only_the_runs_that_need_it(fake_batch):
    seen, steps_log, state = fake_batch
    state["fail"] = "b"
    pre = runner.PrecomputeSteps(["a", "b"], "2026-10", Path("."))
    state["pre"] = pre
    specs = [_spec("all", None), _spec("after_a", ("a",)), _spec("free", ())]
    got = []
    with pytest.raises(RuntimeError, match="step b failed"):
        runner._execute_local(specs, 2, got.append, progress=False, precompute=pre)
    # recorded before the error: the next batch resumes with the run that needed step b
    assert sorted(r.notebook for r in got) == ["after_a", "free"]
    assert "all" not in seen


def test_one_job_runs_the_precompute_first(fake_batch):
    seen, steps_log, state = fake_batch
    pre = runner.PrecomputeSteps(["b"], "2026-10", Path("."))
    state["pre"] = pre
    got = []
    runner._execute_local([_spec("free", ()), _spec("all", None)], 1, got.append,
                          progress=False, precompute=pre)
    assert [r.notebook for r in got] == ["free", "all"]
    assert seen == {"free": {"b"}, "all": {"b"}}


def test_a_notebooks_precompute_steps_are_checked(tmp_path):
    opts = options(tmp_path, {"demo_report": DEMO_YAML + "precompute: [no.such.step]\n"})
    with pytest.raises(P.ParamError, match=r"precompute \['no.such.step'\] is not a step"):
        runner.plan(opts)
    opts = options(tmp_path / "b", {"demo_report": DEMO_YAML + "precompute: none\n"})
    with pytest.raises(P.ParamError, match="'precompute' must list"):
        runner.plan(opts)
    opts = options(tmp_path / "c", {"demo_report": DEMO_YAML + "precompute: []\n"})
    specs = runner.plan(opts).specs
    assert specs and all(s.needs == () for s in specs)
    assert "precompute" not in specs[0].parameters  # a reserved key, not a parameter
    opts = options(tmp_path / "d", {"demo_report": DEMO_YAML})
    assert all(s.needs is None for s in runner.plan(opts).specs)  # absent: every step


def test_the_shipped_notebooks_name_shipped_steps():
    from kehu_lib import config

    found = P.discover(config.PARAMS_DIR, config.NOTEBOOKS_DIR)
    steps = P.load_defaults(config.PARAMS_DIR)["precompute"]
    for nb in found.values():
        assert set(nb.precompute or ()) <= set(steps), nb.stem
    # the reports that read the city-wide plan (the plan itself, 本月要点) wait for every step
    for name in ("market_report", "monthly_plan"):
        assert found[name].precompute is None
    assert "kehu_lib.forecast.ensure_month_forecasts" in found["sales_forecast"].precompute


def test_while_the_precompute_runs_one_worker_fewer_runs(monkeypatch):
    """With 2 jobs the precompute keeps a core: one run at a time until its last step is done,
    then both workers run (the runs waiting for it are the batch's longest)."""
    lock = threading.Lock()
    state = {"now": 0, "max_during": 0, "max_after": 0, "free_done": 0}
    all_free = threading.Event()
    both = threading.Barrier(2, timeout=10)
    pre = runner.PrecomputeSteps(["a"], "2026-10", Path("."))

    def fake_precompute(funcs, month, store, **kw):
        all_free.wait(10)  # the step lasts until the three free runs are done

    def fake_run(spec):
        with lock:
            state["now"] += 1
            key = "max_after" if pre.done else "max_during"
            state[key] = max(state[key], state["now"])
        if spec.notebook == "all":
            both.wait()  # both "all" runs at once, or a BrokenBarrierError
        else:
            threading.Event().wait(0.05)
        with lock:
            state["now"] -= 1
            if spec.notebook == "free":
                state["free_done"] += 1
                if state["free_done"] == 3:
                    all_free.set()
        return RunResult(spec.key, spec.notebook, spec.district, spec.slug, "ok")

    _fake_runner(monkeypatch, fake_precompute, fake_run)
    specs = [_spec("all", None), _spec("all", None), *[_spec("free", ()) for _ in range(3)]]
    got = []
    runner._execute_local(specs, 2, got.append, progress=False, precompute=pre)
    assert len(got) == 5
    assert state["max_during"] == 1
    assert state["max_after"] == 2


def test_steps_that_name_what_they_read_run_side_by_side(monkeypatch):
    """A step function naming the steps it reads (runner.AFTER) starts once those are done,
    beside the others; a step naming none waits for every step before it."""
    import types

    mod = types.ModuleType("kehu_dag_steps")
    for name, after in (("one", ()), ("two", ()), ("three", ("kehu_dag_steps.one",)),
                        ("four", None)):
        def f(month, store):
            return None
        if after is not None:
            setattr(f, runner.AFTER, after)
        setattr(mod, name, f)
    monkeypatch.setitem(__import__("sys").modules, "kehu_dag_steps", mod)
    steps = [f"kehu_dag_steps.{n}" for n in ("one", "two", "three", "four")]
    assert runner.step_after(steps) == {
        steps[0]: set(), steps[1]: set(), steps[2]: {steps[0]}, steps[3]: set(steps[:3])}

    both = threading.Barrier(2, timeout=10)  # one and two at once, or a BrokenBarrierError
    order: list[str] = []
    lock = threading.Lock()

    def fake_precompute(funcs, month, store, **kw):
        (dotted,) = funcs
        if dotted in steps[:2]:
            both.wait()
        with lock:
            order.append(dotted)

    monkeypatch.setattr(runner, "run_precompute", fake_precompute)
    pre = runner.PrecomputeSteps(steps, "2026-10", Path("."))
    pre.start().join()
    pre.raise_error()
    assert set(order[:2]) == set(steps[:2]) and order[3] == steps[3]
    assert order.index(steps[2]) > order.index(steps[0])
    assert pre.done == set(steps)


def test_a_failing_step_leaves_the_runs_of_a_step_running_beside_it(fake_batch, monkeypatch):
    """Step b fails while a (independent of it) still runs: the run needing only a waits for
    it and runs; the one needing b does not."""
    seen, steps_log, state = fake_batch
    monkeypatch.setattr(runner, "step_after", lambda steps: {s: set() for s in steps})
    pre = runner.PrecomputeSteps(["a", "b"], "2026-10", Path("."))
    state["pre"] = pre
    a_started = threading.Event()
    fake = runner.run_precompute  # the fixture's: a waits for the run "free"

    def precompute(funcs, month, store, **kw):
        if funcs == ["a"]:
            a_started.set()
            return fake(funcs, month, store)
        a_started.wait(10)  # b fails while a runs
        raise RuntimeError("step b failed")

    monkeypatch.setattr(runner, "run_precompute", precompute)
    specs = [_spec("after_b", ("b",)), _spec("after_a", ("a",)), _spec("free", ())]
    got = []
    with pytest.raises(RuntimeError, match="step b failed"):
        runner._execute_local(specs, 2, got.append, progress=False, precompute=pre)
    assert sorted(r.notebook for r in got) == ["after_a", "free"]
    assert "a" in seen["after_a"] and "after_b" not in seen
