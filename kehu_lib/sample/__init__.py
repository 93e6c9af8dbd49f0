"""The sample city: a deterministic, realistic synthetic Taiyuan with planted signals.

``build_sample(size, seed, out)`` writes a complete store; see ``data/README.md`` for what it
contains and ``data/planted_signals.yaml`` for the signals the reports must find.
"""

from .build import SIZES, build_sample, generator_version, is_current, load_signals

__all__ = ["SIZES", "build_sample", "generator_version", "is_current", "load_signals"]
