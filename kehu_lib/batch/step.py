"""One precompute step in a process of its own: ``python -m kehu_lib.batch.step DOTTED MONTH
STORE`` calls ``DOTTED(month=MONTH, store=STORE)`` and exits.

The batch runs each step of ``params/defaults.yaml`` this way (:func:`kehu_lib.batch.runner.
run_precompute`): the city-wide plan holds the 15-month ledger of 20,000 shops (about 1 GB of
frames), and a process returns such memory to the system only when it ends. Run in the batch
process, it stayed there beside the runs' HTML and pushed the batch process over 2 GB; in its own
process it is freed when the step ends, and the batch process stays small.

Exit status: 0 done; :data:`IMPORT_ERROR` the step cannot be imported (its message on stderr,
after :data:`MARK`); anything else: the step failed (its traceback on stderr).
"""

from __future__ import annotations

import importlib
import sys

#: Exit status of a step that cannot be imported.
IMPORT_ERROR = 3
#: Prefix of the import error's message on stderr.
MARK = "kehu-step-import-error: "


def resolve(dotted: str):
    """The function named by ``dotted`` (module.attr); ImportError or AttributeError if none."""
    module, _, attr = dotted.rpartition(".")
    return getattr(importlib.import_module(module), attr)


def main(argv: list[str] | None = None) -> int:
    dotted, month, store = argv if argv is not None else sys.argv[1:]
    try:
        func = resolve(dotted)
    except (ImportError, AttributeError, ValueError) as exc:
        print(MARK + str(exc), file=sys.stderr, flush=True)
        return IMPORT_ERROR
    func(month=month, store=store)
    return 0


if __name__ == "__main__":
    sys.exit(main())
