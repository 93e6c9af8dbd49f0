"""Table presentation for reports: thousands separators, percentages with one decimal.

Rounding and formatting are presentation only: metric functions return raw numbers, and the
notebooks pass them through :func:`styled` to show them.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
import pandas as pd


def _fmt_number(decimals: int):
    def f(v):
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            return "—"
        return f"{v:,.{decimals}f}"
    return f


def _fmt_pct(v):
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return "—"
    return f"{v * 100:,.1f}%"


def _fmt_pp(v):
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return "—"
    return f"{v * 100:+.1f}个百分点"


def styled(df: pd.DataFrame, *, pct: Iterable[str] = (), pp: Iterable[str] = (),
           decimals: Mapping[str, int] | None = None, rename: Mapping[str, str] | None = None,
           caption: str | None = None, max_rows: int = 50) -> "pd.io.formats.style.Styler":
    """Format a frame for a report.

    ``pct``: columns holding shares (0.123 -> "12.3%"); ``pp``: columns holding share changes
    (0.012 -> "+1.2个百分点"); other numeric columns get thousands separators with
    ``decimals[col]`` decimals (default 0 for integers, 1 for floats). ``rename`` maps column
    names to Chinese headers. Shows at most ``max_rows`` rows.
    """
    decimals = dict(decimals or {})
    pct, pp = set(pct), set(pp)
    view = df.head(max_rows)
    formats = {}
    for col in view.columns:
        if col in pct:
            formats[col] = _fmt_pct
        elif col in pp:
            formats[col] = _fmt_pp
        elif pd.api.types.is_bool_dtype(view[col]):
            continue
        elif pd.api.types.is_integer_dtype(view[col]):
            formats[col] = _fmt_number(decimals.get(col, 0))
        elif pd.api.types.is_float_dtype(view[col]):
            formats[col] = _fmt_number(decimals.get(col, 1))
    styler = view.style.format(formats).hide(axis="index")
    if rename:
        styler = styler.relabel_index([rename.get(c, c) for c in view.columns], axis="columns")
    if caption:
        styler = styler.set_caption(caption)
    return styler
