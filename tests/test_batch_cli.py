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


def test_lab_allows_root_only_for_root():
    assert "--allow-root" in cli.lab_command(as_root=True)
    assert "--allow-root" not in cli.lab_command(as_root=False)
    import os

    assert ("--allow-root" in cli.lab_command()) == (os.geteuid() == 0)


def test_lab_starts_for_this_user_with_the_kehu_kernel(tmp_path, monkeypatch):
    """JupyterLab really starts (as root on these machines: it refused without --allow-root)."""
    import os
    import socket
    import subprocess
    import time
    import urllib.request

    if "kehu" not in _kernelspecs():
        pytest.skip("no kehu kernelspec installed (make install)")
    monkeypatch.setenv("KEHU_REPORTS", str(tmp_path / "reports"))
    cli.checkpoints_dir().mkdir(parents=True)  # as `kehu lab` does
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = cli.lab_command(port=port) + ["--no-browser", "--ServerApp.ip=127.0.0.1",
                                        "--IdentityProvider.token=t"]
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        specs = None
        for _ in range(240):
            if proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/kernelspecs?token=t",
                                            timeout=2) as r:
                    specs = json.load(r)
                break
            except OSError:
                time.sleep(0.5)
        assert proc.poll() is None, f"JupyterLab exited {proc.returncode}: {proc.stdout.read()[-2000:]}"
        assert specs is not None, "JupyterLab did not answer"
        assert specs["default"] == "kehu" and "kehu" in specs["kernelspecs"]
        assert specs["kernelspecs"]["kehu"]["spec"]["display_name"] == cli.KERNEL_DISPLAY_NAME
        # opening a notebook makes a checkpoint: it goes under the reports folder
        before = sorted(cli.config.NOTEBOOKS_DIR.rglob("*"))
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/contents/census.ipynb/checkpoints?token=t", method="POST")
        with urllib.request.urlopen(req, timeout=30) as r:
            assert r.status == 201
        assert sorted(cli.config.NOTEBOOKS_DIR.rglob("*")) == before
        assert list((tmp_path / "reports" / "interactive" / "checkpoints").glob("census-*.ipynb"))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _kernelspecs() -> set[str]:
    from jupyter_client.kernelspec import KernelSpecManager

    return set(KernelSpecManager().find_kernel_specs())


def test_notebooks_carry_the_kehu_kernelspec():
    from kehu_lib import config

    paths = sorted(config.NOTEBOOKS_DIR.glob("*.ipynb"))
    assert paths
    for path in paths:
        meta = json.loads(path.read_text(encoding="utf-8"))["metadata"]
        assert meta["kernelspec"] == {"name": "kehu", "display_name": cli.KERNEL_DISPLAY_NAME,
                                      "language": "python"}, path.name
