"""Data commands: ``kehu sample`` (build the sample city) and ``kehu ingest`` (real exports)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    """Add the data commands to the ``kehu`` app."""

    @app.command()
    def sample(
        size: str = typer.Option("default", help="small (tests), default (a new user), city (benchmarks)"),
        seed: int = typer.Option(7, help="random seed; the same size and seed give the same city"),
        out: Optional[Path] = typer.Option(None, help="store folder (default: data/store or $KEHU_STORE)"),
        if_missing: bool = typer.Option(False, "--if-missing",
                                        help="keep an existing store built with this size, seed and generator"),
    ) -> None:
        """Build the sample city (太原) with its planted signals into the store."""
        from . import config
        from .sample import build_sample, is_current

        target = out if out is not None else config.store_dir()
        if if_missing and is_current(target, size, seed):
            typer.echo(f"sample city ({size}, seed {seed}) is up to date in {target}")
            return
        try:
            manifest = build_sample(size, seed, out)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--size") from exc
        rows = ", ".join(f"{k} {v:,}" for k, v in manifest["rows"].items())
        typer.echo(f"sample city ({size}, seed {seed}): {manifest['shops']:,} shops, "
                   f"{manifest['first_month']}..{manifest['last_month']}; {rows}; "
                   f"{manifest['seconds']} s")

    @app.command()
    def ingest(
        path: Path = typer.Argument(..., help="folder with one month's exports (CSV or XLSX)"),
        out: Optional[Path] = typer.Option(None, help="store folder (default: data/store or $KEHU_STORE)"),
        rejects: Optional[Path] = typer.Option(None, help="folder for rejected rows (default: PATH/rejects)"),
    ) -> None:
        """Validate a month of real exports and write them into the store (replacing that month)."""
        from .ingest import IngestError, ingest_folder

        try:
            report = ingest_folder(path, store_dir=out, rejects_dir=rejects)
        except IngestError as exc:
            typer.echo(f"ingest stopped, nothing written: {exc}", err=True)
            raise typer.Exit(2) from exc
        typer.echo(report.summary())
