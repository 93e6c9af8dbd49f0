"""The monthly plan's thresholds and settings, read from ``params/monthly_plan.yaml``.

Its own module so that :mod:`.shared` (the city-wide part) and :mod:`.monthly` (one district's
plan) both read them without importing each other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import config
from . import indicators, priority

__all__ = ["PARAMS_FILE", "load_thresholds"]

PARAMS_FILE = config.PARAMS_DIR / "monthly_plan.yaml"


def load_thresholds(path: str | Path = PARAMS_FILE) -> dict[str, Any]:
    """Thresholds and settings of the plan: the module defaults updated with ``path``."""
    import yaml

    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    params = data.get("parameters", data)
    known = {**indicators.DEFAULTS, **priority.DEFAULTS, "alpha": 0.05, "min_treated": 5}
    return {**known, **{k: v for k, v in params.items() if k in known}}
