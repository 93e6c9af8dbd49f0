"""The batch commands: kehu run / params / lab."""

from __future__ import annotations

import json
import sys

import pytest
import typer
from typer.testing import CliRunner

from kehu_lib.batch import cli

from batch_fixtures import DEMO_YAML, TEST_NOTEBOOKS, make_params, make_store

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture()
def app():
    app = typer.Typer()
    cli.register(app)
    return app


def test_params_prints_the_resolved_set(app, tmp_path, monkeypatch):
    monkeypatch.setenv("KEHU_STORE", str(make_store(tmp_path / "store")))
    params = make_params(tmp_path / "params", {"demo_report": DEMO_YAML})
    res = CliRunner().invoke(app, ["params", "--district", "迎泽区", "--notebook", "demo_report",
                                   "-p", "code=007", "--params-dir", str(params),
                                   "--notebooks-dir", str(TEST_NOTEBOOKS)])
    assert res.exit_code == 0, res.output
    (run,) = json.loads(res.output)
    assert run == {"run": "yingze/demo_report", "notebook": "demo_report", "parameters": {
        "top_n": 1, "code": "007", "month": "2026-10", "district": "迎泽区"}}


def test_run_bad_month_exits_2_with_message(app, tmp_path, monkeypatch):
    monkeypatch.setenv("KEHU_STORE", str(make_store(tmp_path / "store")))
    params = make_params(tmp_path / "params", {"demo_report": DEMO_YAML})
    res = CliRunner().invoke(app, ["run", "--month", "2026/10", "--params-dir", str(params),
                                   "--notebooks-dir", str(TEST_NOTEBOOKS)])
    assert res.exit_code == 2
    assert "error: month must be YYYY-MM (e.g. 2026-10), got '2026/10'" in res.output


def test_lab_dry_run_prints_the_command(app):
    res = CliRunner().invoke(app, ["lab", "--dry-run", "--port", "8899"])
    assert res.exit_code == 0
    out = res.output.strip()
    assert out.startswith(f"{sys.executable} -m jupyterlab")
    assert "notebooks" in out and "--MappingKernelManager.default_kernel_name=kehu" in out
    assert out.endswith("--port=8899")


def test_kernelspec_points_at_this_interpreter(tmp_path):
    path = cli.ensure_kernelspec(prefix=str(tmp_path))
    spec = json.loads(path.read_text(encoding="utf-8"))
    assert spec["argv"][:3] == [sys.executable, "-m", "ipykernel_launcher"]
    assert path.parent.name == "kehu"
