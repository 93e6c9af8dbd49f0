"""The monthly plan's thresholds and settings; their values live in ``params/monthly_plan.yaml``.

Its own module so that :mod:`.shared` (the city-wide part) and :mod:`.monthly` (one district's
plan) both read them without importing each other; :data:`kehu_lib.plan.indicators.DEFAULTS` and
:data:`kehu_lib.plan.priority.DEFAULTS` are the YAML's values of their keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import config

__all__ = ["PARAMS_FILE", "INDICATOR_KEYS", "PRIORITY_KEYS", "EVALUATION_KEYS",
           "load_thresholds", "defaults"]

PARAMS_FILE = config.PARAMS_DIR / "monthly_plan.yaml"
#: Thresholds of the state indicators (:mod:`.indicators`).
INDICATOR_KEYS = ("volume_gap_alert", "value_gap_alert", "key_brand_volume_gap_alert",
                  "shop_stock_ratio_alert", "min_stock", "order_swing_alert", "rationed_alert",
                  "recommendation_gap_alert", "width_gap_alert", "key_brand_change_alert",
                  "adoption_gap_alert", "key_brand_min_baseline", "new_product_months",
                  "min_peers", "tier_band")
#: Settings of the key shops, visits and targets (:mod:`.priority`).
PRIORITY_KEYS = ("key_shops_per_manager", "extra_visits_key", "weight_min", "weight_max",
                 "key_account_weight", "share_months")
#: Settings of the strategy evaluation (:mod:`.evaluate`).
EVALUATION_KEYS = ("alpha", "min_treated")


def load_thresholds(path: str | Path = PARAMS_FILE) -> dict[str, Any]:
    """Every threshold and setting of the plan, read from ``path`` (a missing one is an error
    naming it: the YAML is their one home)."""
    data = config.read_yaml(path) or {}
    params = data.get("parameters", data)
    keys = INDICATOR_KEYS + PRIORITY_KEYS + EVALUATION_KEYS
    missing = [k for k in keys if k not in params]
    if missing:
        raise KeyError(f"{Path(path).name}: thresholds {missing} are missing")
    return {k: params[k] for k in keys}


def defaults(keys: tuple[str, ...]) -> dict[str, Any]:
    """The YAML's values of ``keys``."""
    t = load_thresholds()
    return {k: t[k] for k in keys}
