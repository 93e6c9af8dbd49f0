"""What every report module returns: :class:`Report`, a notebook's result in sections.

A report module's ``build(month, district, **params)`` computes everything the notebook shows and
returns a :class:`Report`: per section, the items to show in order (tables, charts, text of
:mod:`kehu_lib.present`), plus the headline figures the batch records. A section that does not
apply to the page (区县对比 on a district page) is not in ``sections``; one that applies only
sometimes carries its own heading so that nothing of it is shown when it is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from .. import config

__all__ = ["Report", "Section", "notebook_params", "load_params", "place", "memo",
           "frame_digest"]


@dataclass
class Section:
    """One section of a report: its items in order and, if optional, its own heading."""

    items: list = field(default_factory=list)
    heading: str = ""

    def add(self, *items) -> "Section":
        self.items.extend(i for i in items if i is not None)
        return self


@dataclass
class Report:
    """A built report: where, when, its sections and its headline figures."""

    notebook: str
    month: str
    district: str
    sections: dict[str, Section] = field(default_factory=dict)
    headlines: dict[str, Any] = field(default_factory=dict)

    @property
    def city(self) -> bool:
        return self.district == config.CITY

    def section(self, name: str) -> Section:
        return self.sections.setdefault(name, Section())

    def show(self, name: str) -> None:
        """Display section ``name`` in the notebook (nothing when it does not apply)."""
        from ..present import show

        from IPython.display import HTML, display

        from ..present.highlights import section_id

        sec = self.sections.get(name)
        if sec is None:
            return
        # the target of the 本月要点 links (kehu_lib.present.highlights.link)
        display(HTML(f'<a id="{section_id(name)}"></a>'))
        show(f"## {sec.heading}" if sec.heading else None, sec.items)


def load_params(notebook: str) -> dict[str, Any]:
    """The parameters of ``params/<notebook>.yaml`` (their one home), without reserved keys."""
    from ..batch import params as P

    data = P.load_yaml(config.PARAMS_DIR / f"{notebook}.yaml")
    nested = data.get("parameters") or {}  # the YAML may nest them under parameters:
    return {**{k: v for k, v in data.items() if k not in P.RESERVED}, **nested}


def notebook_params(notebook: str, namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The notebook's parameters taken from its namespace (``globals()``): month, district and
    every key of ``params/<notebook>.yaml``."""
    keys = ["month", "district", *load_params(notebook)]
    missing = [k for k in keys if k not in namespace]
    if missing:
        raise KeyError(f"notebook {notebook}: parameters {missing} of params/{notebook}.yaml are "
                       "not set in its parameters cell")
    return {k: namespace[k] for k in keys}


def place(district: str | None) -> tuple[str, str | None]:
    """(name, code) of a district, or (全市, None) for the city (None, "" or 全市)."""
    d = config.resolve_district(district)
    return (config.CITY, None) if d is None else (d.name, d.code)




#: Results of :func:`memo` kept per process (the oldest dropped past this many).
MEMO_KEEP = 16
_MEMO: dict = {}


def frame_digest(df) -> str:
    """A digest of a frame's content: its values in row order, column names and dtypes."""
    import hashlib

    import pandas as pd

    h = hashlib.sha256(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    h.update(repr([(str(c), str(t)) for c, t in df.dtypes.items()]).encode())
    return h.hexdigest()


def params_key(params: Mapping[str, Any]) -> str:
    """The parameters as a key of :func:`memo` (sorted JSON)."""
    import json

    return json.dumps(params, sort_keys=True, ensure_ascii=False, default=repr)


def memo(key: tuple, compute):
    """``compute()``, once per process and ``key``; a copy of the result each call.

    A warm kernel runs the same report for one district after another, and the city-wide parts
    of a report (every district's changes, to correct them as one family; the city's weights)
    are the same on each of those pages: the first page computes them, the next pages of the
    kernel reuse them. ``key`` must name everything the result depends on: the input frames by
    :func:`frame_digest` (or, read from the store, by the files read:
    :func:`kehu_lib.store.query_fingerprint`), the parameters by :func:`params_key`. The copy
    keeps a caller's change of a returned frame out of the cache. The library's code is part of the key
    (:func:`code_stamp`): a JupyterLab kernel whose library was edited (``%autoreload``)
    computes anew instead of showing results of the old code."""
    import copy

    key = (code_stamp(), *key)
    try:
        value = _MEMO[key]
    except KeyError:
        value = compute()
        if len(_MEMO) >= MEMO_KEEP:
            _MEMO.pop(next(iter(_MEMO)))
        _MEMO[key] = value
    return copy.deepcopy(value)


def code_stamp(root=None) -> tuple[int, int]:
    """(number, latest modification time in ns) of the ``.py`` files under ``root`` (default:
    the library): changes when any of them is edited, added or removed (a few ms)."""
    from pathlib import Path

    root = Path(root) if root is not None else Path(__file__).resolve().parents[1]
    times = [p.stat().st_mtime_ns for p in root.rglob("*.py")]
    return len(times), max(times, default=0)
