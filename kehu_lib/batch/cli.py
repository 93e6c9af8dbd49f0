"""``kehu run``, ``kehu params`` and ``kehu lab``: parse options, call one library function."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

import typer

from .. import config

KERNEL_NAME = "kehu"
#: The kernel's name in JupyterLab (the notebooks' ``metadata.kernelspec`` and the Makefile say the same).
KERNEL_DISPLAY_NAME = "kehu (Python 3)"


def _split(values: Optional[List[str]]) -> list[str] | None:
    if not values:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def register(app: typer.Typer) -> None:
    """Add the batch commands to the ``kehu`` app."""

    @app.command("run")
    def run_cmd(
        month: Optional[str] = typer.Option(None, help="Report month YYYY-MM (default: latest in the store)."),
        districts: Optional[List[str]] = typer.Option(None, "--districts", "-d", help="Districts (names, codes or slugs; comma-separated or repeated); 全市 = city. Default: all and the city."),
        notebooks: Optional[List[str]] = typer.Option(None, "--notebooks", "-n", help="Notebooks (stems in params/). Default: all."),
        jobs: Optional[int] = typer.Option(None, "--jobs", "-j", help="Parallel runs (default: the machine's cores)."),
        force: bool = typer.Option(False, "--force", help="Run even when nothing changed."),
        with_code: bool = typer.Option(False, "--with-code", help="Show the code in the HTML."),
        executor: str = typer.Option("local", "--executor", help="local or dask."),
        scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address (default: a local cluster)."),
        param: Optional[List[str]] = typer.Option(None, "--param", "-p", help="NAME=VALUE, overrides every YAML (repeatable)."),
        verbose: bool = typer.Option(False, "--verbose", "-v", help="papermill's per-cell progress."),
        params_dir: Optional[Path] = typer.Option(None, hidden=True),
        notebooks_dir: Optional[Path] = typer.Option(None, hidden=True),
    ) -> None:
        """Run every report of a month for every district and the city, as HTML."""
        from .params import ParamError, parse_cli
        from .runner import BatchOptions, run_batch

        try:
            opts = BatchOptions(month=month, districts=_split(districts), notebooks=_split(notebooks),
                                jobs=jobs, force=force, with_code=with_code, executor=executor,
                                scheduler=scheduler, cli_params=parse_cli(param or []),
                                verbose=verbose, params_dir=params_dir, notebooks_dir=notebooks_dir)
            report = run_batch(opts)
        except ParamError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2)
        typer.echo(report.table())
        typer.echo(f"index: {report.reports / report.month / 'index.html'}")
        raise typer.Exit(report.exit_code)

    @app.command("params")
    def params_cmd(
        month: Optional[str] = typer.Option(None, help="Report month YYYY-MM (default: latest)."),
        district: str = typer.Option(config.CITY, "--district", help="District (全市 = city)."),
        notebook: Optional[str] = typer.Option(None, "--notebook", help="Notebook stem (default: all)."),
        param: Optional[List[str]] = typer.Option(None, "--param", "-p", help="NAME=VALUE."),
        params_dir: Optional[Path] = typer.Option(None, hidden=True),
        notebooks_dir: Optional[Path] = typer.Option(None, hidden=True),
    ) -> None:
        """Print the resolved, validated parameters of runs (as JSON)."""
        from .params import ParamError, parse_cli
        from .runner import BatchOptions, dumps, resolved

        try:
            opts = BatchOptions(month=month, districts=[district],
                                notebooks=[notebook] if notebook else None,
                                cli_params=parse_cli(param or []), params_dir=params_dir,
                                notebooks_dir=notebooks_dir)
            typer.echo(dumps(resolved(opts)))
        except ParamError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2)

    @app.command("lab")
    def lab_cmd(
        dry_run: bool = typer.Option(False, "--dry-run", help="Print the command instead of starting JupyterLab."),
        port: Optional[int] = typer.Option(None, help="Port for JupyterLab."),
    ) -> None:
        """Open JupyterLab on notebooks/ with the project's environment as the kernel."""
        cmd = lab_command(port=port)
        if dry_run:
            typer.echo(shlex.join(cmd))
            return
        ensure_kernelspec()
        checkpoints_dir().mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(config.PROJ_ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
        raise typer.Exit(subprocess.call(cmd, env=env))


def checkpoints_dir() -> Path:
    """Where JupyterLab keeps the notebooks' checkpoints: ``<reports>/interactive/checkpoints``
    (Jupyter falls back to a temporary folder when its parent does not exist yet)."""
    return config.reports_dir() / config.INTERACTIVE_DIR / "checkpoints"


def lab_command(port: int | None = None, *, as_root: bool | None = None) -> list[str]:
    """The JupyterLab command ``kehu lab`` runs (project interpreter, notebooks/, kehu kernel).

    ``as_root`` (default: the effective user is root, as in containers and on many of the
    company's analysis machines) adds ``--allow-root``, without which Jupyter refuses to start.
    The notebooks' checkpoints go under ``<reports>/interactive/checkpoints`` (opening a notebook
    makes one), so that nothing but the user's own edits is written into ``notebooks/``.
    """
    if as_root is None:
        as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    cmd = [sys.executable, "-m", "jupyterlab", f"--notebook-dir={config.NOTEBOOKS_DIR}",
           f"--MappingKernelManager.default_kernel_name={KERNEL_NAME}",
           f"--FileCheckpoints.checkpoint_dir={checkpoints_dir()}"]
    if as_root:
        cmd.append("--allow-root")
    if port:
        cmd.append(f"--port={port}")
    return cmd


def ensure_kernelspec(prefix: str | None = None) -> Path:
    """Install the ``kehu`` kernelspec (this interpreter, project on PYTHONPATH) into the env."""
    import json

    prefix = prefix or sys.prefix
    folder = Path(prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": KERNEL_DISPLAY_NAME, "language": "python",
            "env": {"PYTHONPATH": str(config.PROJ_ROOT)}, "metadata": {"debugger": True}}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "kernel.json"
    text = json.dumps(spec, indent=1, ensure_ascii=False)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    src = Path(sys.prefix) / "share" / "jupyter" / "kernels" / "python3"
    for logo in ("logo-32x32.png", "logo-64x64.png"):
        if (src / logo).exists() and not (folder / logo).exists():
            shutil.copy(src / logo, folder / logo)
    return path
