"""The monthly batch: every notebook of ``params/`` for every district and the city, as HTML.

Modules: :mod:`.params` (load, merge and validate parameters before any kernel starts),
:mod:`.kernels` (a warm pool of pre-imported kernels, reset between runs),
:mod:`.execute` (one papermill run: retries, logs, HTML), :mod:`.manifest` (incremental skip and
atomic writes), :mod:`.html` (self-contained offline HTML), :mod:`.index` (month and top index,
per-district XLSX, links to each district's files), :mod:`.charts` (charts as palette PNGs),
:mod:`.audit` (what a finished page must not show; its chart count), :mod:`.runner` (the batch),
:mod:`.dask_exec` and :mod:`.cli`.

The public entry point is :func:`kehu_lib.batch.runner.run_batch`; notebooks only ever import the
light :mod:`kehu_lib.exports` and :mod:`kehu_lib.headlines`.
"""

import sys as _sys

# jsonschema, which nbformat imports in the batch process, builds ~40 grammar parsers of the
# optional rfc3987-syntax package when that is installed (~2 s of CPU at every import) for its
# IRI format checks; nbformat validates notebooks without a format checker, so the batch never
# uses them. Marked absent before anything imports jsonschema (it then skips those checks).
if "jsonschema" not in _sys.modules:
    _sys.modules.setdefault("rfc3987_syntax", None)
del _sys
