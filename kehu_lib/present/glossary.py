"""The single glossary of report columns and codes (``glossary.yaml`` next to this module).

Every column a report table, the month's index or the district XLSX shows has one entry: its
Chinese label, unit, kind (how :mod:`kehu_lib.present.format` writes its values), and where it
applies the map from codes to names or the order of its categories. Computations keep their
English column names and codes; only the presentation layer looks them up here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable


__all__ = ["Entry", "KINDS", "GLOSSARY_FILE", "entry", "has", "label", "header", "code_names",
           "code_name", "order", "ordered", "columns", "check_mapping"]

GLOSSARY_FILE = Path(__file__).with_name("glossary.yaml")

#: The kinds of value the glossary knows (see ``glossary.yaml`` for their meaning).
KINDS = ("text", "id", "month", "bool", "code", "category", "count", "money", "money_wan",
         "cartons", "cases", "share", "growth", "share_change", "score", "score_change", "number",
         "pvalue", "route")


@dataclass(frozen=True)
class Entry:
    """One glossary entry: a column's Chinese label, unit and kind."""

    key: str
    zh: str
    kind: str
    unit: str = ""
    decimals: int | None = None
    codes: str | None = None
    order: str | None = None

    @property
    def header(self) -> str:
        """The table header: ``中文名（单位）`` or ``中文名``."""
        return f"{self.zh}（{self.unit}）" if self.unit else self.zh


@lru_cache(maxsize=1)
def _load() -> dict[str, Any]:
    from .. import config

    data = config.read_yaml(GLOSSARY_FILE)  # libyaml's loader: ~1 s less per kernel
    entries = {}
    for key, spec in data["columns"].items():
        e = Entry(key=key, zh=str(spec["zh"]), kind=spec["kind"], unit=str(spec.get("unit", "")),
                  decimals=spec.get("decimals"), codes=spec.get("codes"), order=spec.get("order"))
        if e.kind not in KINDS:
            raise ValueError(f"{GLOSSARY_FILE.name}: column {key!r} has unknown kind {e.kind!r}; "
                             f"expected one of {', '.join(KINDS)}")
        if e.kind == "code" and e.codes not in data["codes"]:
            raise ValueError(f"{GLOSSARY_FILE.name}: column {key!r} names code map {e.codes!r}, "
                             "which is not under codes:")
        if e.kind == "category" and e.order not in data["orders"]:
            raise ValueError(f"{GLOSSARY_FILE.name}: column {key!r} names order {e.order!r}, "
                             "which is not under orders:")
        entries[key] = e
    codes = {name: {str(k): str(v) for k, v in (m or {}).items()}
             for name, m in data["codes"].items()}
    codes["district"] = {d.code: d.name for d in config.DISTRICTS}
    codes["column"] = {k: e.header for k, e in entries.items()}
    orders = {}
    for name, spec in data["orders"].items():
        if "from" in spec:
            module, _, attr = spec["from"].rpartition(".")
            orders[name] = tuple(getattr(importlib.import_module(module), attr))
        else:
            orders[name] = tuple(spec["values"])
    return {"columns": entries, "codes": codes, "orders": orders}


def columns() -> dict[str, Entry]:
    """Every glossary entry by column key."""
    return dict(_load()["columns"])


def has(key: str) -> bool:
    """True when ``key`` has a glossary entry."""
    return key in _load()["columns"]


def entry(key: str) -> Entry:
    """The glossary entry of column ``key`` (a clear KeyError naming the file if missing)."""
    try:
        return _load()["columns"][key]
    except KeyError:
        raise KeyError(f"column {key!r} has no entry in {GLOSSARY_FILE.name}; add its Chinese "
                       "label, unit and kind there") from None


def label(key: str) -> str:
    """The Chinese label of ``key`` without its unit."""
    return entry(key).zh


def header(key: str) -> str:
    """The Chinese table header of ``key``: label and unit."""
    return entry(key).header


def code_names(name: str) -> dict[str, str]:
    """The code -> display name map called ``name`` (codes as strings)."""
    return dict(_load()["codes"][name])


def code_name(name: str, code: Any) -> str:
    """The display name of one ``code`` of map ``name`` (the code itself if unmapped)."""
    if isinstance(code, float) and code.is_integer():
        code = int(code)
    return _load()["codes"][name].get(str(code), str(code))


def order(name: str) -> tuple[str, ...]:
    """The category order called ``name``."""
    return _load()["orders"][name]


def ordered(values: Iterable[Any], key: str):
    """``values`` as an ordered ``pd.Categorical`` in the order of column ``key``'s categories.

    Values outside the order keep their first-seen order after the known ones.
    """
    import pandas as pd

    e = entry(key)
    known = list(order(e.order)) if e.order else []
    values = list(values)
    extra = [v for v in dict.fromkeys(values) if v not in known and v is not None
             and v == v]
    return pd.Categorical(values, categories=known + extra, ordered=True)


def check_mapping(frame_columns: Iterable[str]) -> list[str]:
    """The columns of ``frame_columns`` without a glossary entry (for tests and errors)."""
    return [c for c in frame_columns if not has(str(c))]

