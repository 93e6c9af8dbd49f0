"""Charts on warm kernels: every page shows the charts its notebook draws, whatever the run order.

A warm kernel used to restore matplotlib's interactive mode *off* before each run (the snapshot
of its state was taken before matplotlib loaded the inline backend, which is what turns it on),
so figures were no longer queued for display and only the first run on each kernel had charts.
"""

from __future__ import annotations

import re

import pytest

from kehu_lib.batch import runner
from kehu_lib.batch.kernels import WarmKernel

from batch_fixtures import options

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

AREAS = ["全市", "万柏林区", "迎泽区", "小店区"]


def _charts(page: str) -> int:
    return len(re.findall(r"<img\b", page))


@pytest.mark.parametrize("executor,jobs", [("local", 1), ("local", 2), ("dask", 1)])
def test_charts_drawn_without_show_appear_on_every_warm_run(tmp_path, executor, jobs):
    if executor == "dask":
        pytest.importorskip("distributed")
    # tests/notebooks/charts.ipynb draws two figures and never calls plt.show(), like the reports
    opts = options(tmp_path, {"charts": ""}, districts=AREAS, jobs=jobs, executor=executor,
                   notebooks=["charts"])
    report = runner.run_batch(opts)
    assert {r.status for r in report.results} == {"ok"}
    month = opts.reports / "2026-10"
    counts = {p.parent.name: _charts(p.read_text(encoding="utf-8"))
              for p in month.glob("*/charts.html")}
    assert counts == {"city": 2, "wanbailin": 2, "yingze": 2, "xiaodian": 2}


def test_warm_kernel_keeps_matplotlib_inline_across_resets():
    kernel = WarmKernel(imports=[]).start()
    try:
        expr = {"interactive": "__import__('matplotlib').is_interactive()"}
        assert kernel.execute("", expressions=expr)["interactive"]["data"]["text/plain"] == "True"
        kernel.execute("import matplotlib.pyplot as plt; plt.ioff()")  # a run may switch it off
        kernel.reset()
        assert kernel.execute("", expressions=expr)["interactive"]["data"]["text/plain"] == "True"
    finally:
        kernel.shutdown()
