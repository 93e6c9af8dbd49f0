"""One module per notebook: ``build(month, district, **params)`` returns a :class:`~.base.Report`.

The notebooks are a parameters cell, one ``build`` call and one ``show`` line per section; the
modules are imported on first use (``reports.market_report``), so a notebook loads only its own.
"""

from __future__ import annotations

import importlib

from .base import Report, Section, load_params, notebook_params

__all__ = ["Report", "Section", "load_params", "notebook_params", "NOTEBOOKS"]

#: The report modules, one per notebook of notebooks/.
NOTEBOOKS = ("census", "market_report", "monthly_plan", "sales_forecast", "survey_consumer",
             "survey_retailer")


def __getattr__(name: str):
    if name in NOTEBOOKS:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
