"""The ``kehu`` command: a thin layer that parses options and calls one library function."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="kehu: monthly survey analyses, forecasts, market reports and work plans.")

#: Modules that add their commands to the app (each defines ``register(app)``).
COMMAND_MODULES = ("kehu_lib.cli_data", "kehu_lib.batch.cli")

for _name in COMMAND_MODULES:
    try:
        _module = importlib.import_module(_name)
    except ModuleNotFoundError as exc:  # a command group not built yet
        if exc.name != _name:
            raise
        continue
    _module.register(app)


def main() -> None:
    """Entry point of the console script."""
    app()


if __name__ == "__main__":
    main()
