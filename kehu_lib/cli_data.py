"""Data commands: ``kehu sample`` (build the sample city), ``kehu ingest`` (real exports),
``kehu inspect`` (how a file would be read) and ``kehu export`` (a month of the store as files).

No traceback reaches the user: expected problems print their message (file, row, column, what
was expected) and exit 2; the writer lock refused with ``--no-wait`` exits 3; an unexpected error
prints its type and message and exits 70 (``KEHU_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator, List, Optional

import click
import typer


@contextlib.contextmanager
def _user_errors(what: str) -> Iterator[None]:
    """Turn every failure into a message and an exit code (never a traceback)."""
    from .profiles import ProfileError
    from .readers import IngestError
    from .store import StoreLocked

    try:
        yield
    except (typer.Exit, click.exceptions.ClickException, click.exceptions.Abort):
        raise
    except StoreLocked as exc:
        typer.echo(f"{what} refused: {exc}", err=True)
        raise typer.Exit(3) from None
    except (IngestError, ProfileError) as exc:
        typer.echo(f"{what} stopped, nothing written: {exc}", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        typer.echo(f"{what} interrupted; the store is as it was (a started commit is finished by "
                   "the next ingest)", err=True)
        raise typer.Exit(130) from None
    except Exception as exc:  # noqa: BLE001 - the user gets a message, the developer KEHU_DEBUG
        if os.environ.get("KEHU_DEBUG"):
            raise
        typer.echo(f"{what} failed: {type(exc).__name__}: {exc} (set KEHU_DEBUG=1 for the "
                   "traceback and report it)", err=True)
        raise typer.Exit(70) from None


def _waiting(message: str) -> None:
    typer.echo(message, err=True)


def register(app: typer.Typer) -> None:
    """Add the data commands to the ``kehu`` app."""

    @app.command()
    def sample(
        size: str = typer.Option("default", help="small (tests), default (a new user), city (benchmarks)"),
        seed: int = typer.Option(7, help="random seed; the same size and seed give the same city"),
        out: Optional[Path] = typer.Option(None, help="store folder (default: data/store or $KEHU_STORE)"),
        if_missing: bool = typer.Option(False, "--if-missing",
                                        help="keep an existing store built with this size, seed and generator"),
        no_wait: bool = typer.Option(False, "--no-wait", help="refuse instead of waiting when the store is being written"),
    ) -> None:
        """Build the sample city (太原) with its planted signals into the store."""
        from . import config
        from .sample import build_sample, is_current

        target = out if out is not None else config.store_dir()
        with _user_errors("sample"):
            if if_missing and is_current(target, size, seed):
                typer.echo(f"sample city ({size}, seed {seed}) is up to date in {target}")
                return
            try:
                manifest = build_sample(size, seed, out, wait=not no_wait, on_wait=_waiting,
                                        if_missing=if_missing)
            except ValueError as exc:
                raise typer.BadParameter(str(exc), param_hint="--size") from exc
        rows = ", ".join(f"{k} {v:,}" for k, v in manifest["rows"].items())
        typer.echo(f"sample city ({size}, seed {seed}): {manifest['shops']:,} shops, "
                   f"{manifest['first_month']}..{manifest['last_month']}; {rows}; "
                   f"{manifest['seconds']} s")

    @app.command()
    def ingest(
        path: Path = typer.Argument(..., help="folder with the exports (CSV or XLSX), e.g. one month"),
        out: Optional[Path] = typer.Option(None, help="store folder (default: data/store or $KEHU_STORE)"),
        rejects: Optional[Path] = typer.Option(None, help="folder for rejected rows (default: PATH/rejects)"),
        profile: Optional[str] = typer.Option(None, help="export profile: canonical, yingxiao or a .yaml "
                                              "path (default: detected from file names and headers)"),
        date_format: Optional[str] = typer.Option(None, "--date-format",
                                                  help="format of D/M/Y dates, e.g. %d/%m/%Y or %m/%d/%Y"),
        replace: List[str] = typer.Option([], "--replace", metavar="MONTH",
                                          help="replace this month even if the store would shrink "
                                               "(repeatable)"),
        max_shrink: float = typer.Option(0.30, help="stop when a replacement shrinks a stored "
                                         "(month, district) by more than this share"),
        no_wait: bool = typer.Option(False, "--no-wait", help="refuse instead of waiting when another "
                                     "ingest or sample build is writing the store"),
    ) -> None:
        """Validate exports and write them into the store, replacing the (month, district)
        partitions they cover; see data/README.md."""
        from .ingest import ingest_folder

        with _user_errors("ingest"):
            report = ingest_folder(path, store_dir=out, rejects_dir=rejects, profile=profile,
                                   date_format=date_format, replace=replace, max_shrink=max_shrink,
                                   wait=not no_wait, on_wait=_waiting)
        typer.echo(report.summary())
        if report.all_rejected:
            raise typer.Exit(1)

    @app.command()
    def inspect(
        file: Path = typer.Argument(..., help="one export file (CSV or XLSX)"),
        profile: Optional[str] = typer.Option(None, help="export profile (default: detected)"),
        date_format: Optional[str] = typer.Option(None, "--date-format", help="format of D/M/Y dates"),
        rows: int = typer.Option(5, help="parsed sample rows to show"),
        out: Optional[Path] = typer.Option(None, help="store whose shops and SKUs the rows are checked against"),
    ) -> None:
        """Show how a file would be read (table, columns, units, dates, sample rows); writes nothing."""
        from .ingest import inspect_file

        with _user_errors("inspect"):
            typer.echo(inspect_file(file, profile=profile, date_format=date_format, sample_rows=rows,
                                    store_dir=out))

    @app.command()
    def export(
        out_dir: Path = typer.Argument(..., help="folder to write the export files into"),
        month: str = typer.Option(..., help="the month to export, YYYY-MM"),
        store_dir: Optional[Path] = typer.Option(None, "--store", help="store folder (default: data/store or $KEHU_STORE)"),
        profile: str = typer.Option("canonical", help="layout of the files (canonical reads back unchanged)"),
    ) -> None:
        """Write one month of the store as export files (one per table) that `kehu ingest` reads."""
        from .export_month import export_month

        with _user_errors("export"):
            written = export_month(month, out_dir, store_dir=store_dir, profile=profile)
        for name, n in written.items():
            typer.echo(f"{out_dir / name}: {n:,} rows")
