"""Warm kernels: reuse, isolation between runs, IPC transport, dead-kernel retry."""

from __future__ import annotations

import pytest

from kehu_lib.batch import runner
from kehu_lib.batch.kernels import WarmKernel, notebook_imports

from batch_fixtures import TEST_NOTEBOOKS, options

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_no_state_leaks_from_one_run_to_the_next(tmp_path):
    opts = options(tmp_path, {"leak_set": "", "leak_check": ""}, districts=["全市"], jobs=1,
                   notebooks=["leak_set", "leak_check"])
    report = runner.run_batch(opts)
    heads = {r.notebook: r.headlines for r in report.results}
    assert heads["leak_set"]["figs"] == 1  # the first run did leave a figure open ...
    # ... on the same kernel process (so the check below is meaningful) ...
    assert heads["leak_check"]["pid"] == heads["leak_set"]["pid"]
    # ... and the second run sees none of its variable, figure, rcParams, pandas option, env var
    assert heads["leak_check"] == {"pid": heads["leak_set"]["pid"], "has_var": False, "figs": 0,
                                   "linewidth": 1.5, "max_rows": 60, "env": ""}


def test_dead_kernel_is_replaced_and_the_run_retried_once(tmp_path):
    marker = tmp_path / "crashed"
    opts = options(tmp_path, {"crash": f"marker: '{marker}'\n"}, districts=["全市"],
                   notebooks=["crash"])
    report = runner.run_batch(opts)
    (result,) = report.results
    assert marker.exists()  # the kernel did die once (os._exit in the first attempt)
    assert (result.status, result.attempts, result.headlines) == ("ok", 2, {"survived": 1})


def test_kernel_uses_ipc_transport_and_resets():
    kernel = WarmKernel(imports=[]).start()
    try:
        assert kernel.km.transport == "ipc"
        kernel.execute("x = 1")
        kernel.reset({"KEHU_RUN": "a"})
        out = kernel.execute("", expressions={"x": "'x' in globals()",
                                              "run": "__import__('os').environ['KEHU_RUN']"})
        assert out["x"]["data"]["text/plain"] == "False"
        assert out["run"]["data"]["text/plain"] == "'a'"
    finally:
        kernel.shutdown()
    assert not kernel.is_alive()


def test_notebook_imports_are_found():
    mods = notebook_imports([TEST_NOTEBOOKS / "demo_report.ipynb"])
    assert mods == ["kehu_lib", "kehu_lib.exports", "kehu_lib.present", "kehu_lib.present.tables",
                    "matplotlib.pyplot", "pandas"]


def test_a_kernel_for_parallel_jobs_caps_its_thread_pools():
    kernel = WarmKernel(imports=[], threads=1).start()
    try:
        out = kernel.execute("from kehu_lib import store", expressions={
            "blas": "__import__('os').environ.get('OPENBLAS_NUM_THREADS')",
            "duckdb": "store.connect().execute(\"select current_setting('threads')\").fetchone()[0]"})
        assert out["blas"]["data"]["text/plain"] == "'1'"
        assert out["duckdb"]["data"]["text/plain"] == "1"
    finally:
        kernel.shutdown()
