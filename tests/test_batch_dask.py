"""The Dask executor against a local cluster on loopback."""

from __future__ import annotations

import pytest

from kehu_lib.batch import runner

from batch_fixtures import DEMO_YAML, options

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_dask_executor_runs_the_same_batch(tmp_path):
    pytest.importorskip("distributed")
    opts = options(tmp_path, {"demo_report": DEMO_YAML, "failing": "fail_in: 万柏林区\n"},
                   executor="dask", jobs=1)
    report = runner.run_batch(opts)
    status = {r.key: r.status for r in report.results}
    assert status == {"city/demo_report": "ok", "wanbailin/demo_report": "ok",
                      "city/failing": "ok", "wanbailin/failing": "failed"}
    month = opts.reports / "2026-10"
    # the workers returned the files; the batch process wrote them
    assert (month / "wanbailin" / "demo_report.html").exists()
    assert (month / "_logs" / "wanbailin" / "failing.ipynb").exists()
    assert "总销量(箱)" in (month / "index.html").read_text(encoding="utf-8")
    assert report.exit_code == 1
