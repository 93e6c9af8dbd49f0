"""Headline figures recorded by notebooks in machine-readable form.

A notebook calls :func:`record` once at its end. The figures are displayed as a JSON output with the
MIME type :data:`MIME` only (no text: the page does not print them), which the batch runner reads from the executed notebook (for the month
index and the XLSX summary) and the regression tests compare. Values must be JSON-serialisable
numbers or strings; floats are rounded to 4 significant decimals so outputs are stable.
"""

from __future__ import annotations

import json
import math
from typing import Any, Mapping

MIME = "application/vnd.kehu.headlines+json"


def _clean(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return round(value, 4)
    if isinstance(value, (int, str, bool)) or value is None:
        return value
    return str(value)


def record(figures: Mapping[str, Any]) -> dict[str, Any]:
    """Display ``figures`` as the notebook's headline figures and return the cleaned dict."""
    clean = {str(k): _clean(v) for k, v in figures.items()}
    try:
        from IPython.display import display

        display({MIME: clean}, raw=True)
    except ImportError:  # pragma: no cover - IPython is a dependency
        pass
    return clean


def read(notebook: Any) -> dict[str, Any]:
    """Headline figures recorded in an executed notebook (an ``nbformat`` node or a path)."""
    import nbformat

    if not hasattr(notebook, "cells"):
        notebook = nbformat.read(str(notebook), as_version=4)
    found: dict[str, Any] = {}
    for cell in notebook.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if MIME in data:
                payload = data[MIME]
                found.update(json.loads(payload) if isinstance(payload, str) else payload)
    return found
