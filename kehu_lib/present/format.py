"""Formatting of values by their glossary kind: the only place numbers become report text.

- counts: integers with thousands separators (``1,234``)
- money: whole 元 (``479,760``), or 万元 to one decimal (``47.9``)
- shares: per cent to one decimal (``12.3%``); relative changes signed (``+1.2%``); changes of
  shares in 百分点 (``+1.2``; the unit is in the header, :func:`pp` writes it out in sentences)
- volume: shop level in 条 (integers), district level in 箱 (one decimal)
- booleans: 是/否; codes: their names; 访销线 by district and number (``小店区14线``);
  missing values: ``—``
- never ``-0.0``: a value that rounds to zero is written without a sign
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any

from . import glossary

__all__ = ["MISSING", "is_missing", "number", "count", "money", "money_wan", "cartons", "cases",
           "share", "growth", "share_change", "pp", "score", "score_change", "pvalue", "boolean", "route", "value",
           "series"]

MISSING = "—"
YES, NO = "是", "否"


def is_missing(v: Any) -> bool:
    """True for None, NaN, NaT and pandas' NA."""
    if v is None:
        return True
    t = type(v)
    if t is float:  # the common cases first: a float, a string, an int (a table has many)
        return v != v
    if t is str or t is int or t is bool:
        return False
    try:
        import pandas as pd

        if v is pd.NA or v is pd.NaT:
            return True
    except ImportError:  # pragma: no cover
        pass
    try:
        return bool(isinstance(v, float) and math.isnan(v)) or (
            hasattr(v, "dtype") and v != v)  # numpy scalars
    except (TypeError, ValueError):
        return False


def number(v: Any, decimals: int = 1, *, sign: bool = False, sep: bool = True) -> str:
    """``v`` rounded to ``decimals`` with thousands separators; never ``-0.0``."""
    if is_missing(v):
        return MISSING
    x = round(float(v), decimals)
    if x == 0:
        x = 0.0  # drops the sign of -0.0
    text = f"{x:{',' if sep else ''}.{decimals}f}"
    if sign and x > 0:
        text = "+" + text
    return text


def count(v: Any) -> str:
    """A count: integer with separators (``591``, ``12,345``)."""
    return number(v, 0)


def money(v: Any) -> str:
    """Money in whole 元 (``479,760``)."""
    return number(v, 0)


def money_wan(v: Any, *, from_yuan: bool = False) -> str:
    """Money in 万元 to one decimal; ``from_yuan`` when ``v`` is in 元 (``479,760`` -> ``48.0``)."""
    if is_missing(v):
        return MISSING
    return number(float(v) / 10_000 if from_yuan else v, 1)


def cartons(v: Any) -> str:
    """Shop-level volume in 条: integer with separators."""
    return number(v, 0)


def cases(v: Any) -> str:
    """District-level volume in 箱: one decimal with separators."""
    return number(v, 1)


def share(v: Any, decimals: int = 1) -> str:
    """A share (0-1) as per cent: ``0.1234`` -> ``12.3%``."""
    if is_missing(v):
        return MISSING
    return number(float(v) * 100, decimals) + "%"


def growth(v: Any) -> str:
    """A relative change (0-1 scale) as signed per cent: ``0.012`` -> ``+1.2%``."""
    if is_missing(v):
        return MISSING
    return number(float(v) * 100, 1, sign=True) + "%"


def share_change(v: Any) -> str:
    """A change of shares (0-1 scale) in 百分点, signed: ``0.012`` -> ``+1.2``."""
    if is_missing(v):
        return MISSING
    return number(float(v) * 100, 1, sign=True)


def pp(v: Any) -> str:
    """A change of shares written out for a sentence: ``0.012`` -> ``+1.2个百分点``."""
    text = share_change(v)
    return text if text == MISSING else text + "个百分点"


def score(v: Any) -> str:
    """A survey score (分) to one decimal."""
    return number(v, 1)


def score_change(v: Any) -> str:
    """A change of survey score (分), signed, one decimal: ``2.34`` -> ``+2.3``."""
    return number(v, 1, sign=True)


def pvalue(v: Any) -> str:
    """A p-value to four decimals, ``<0.0001`` below that."""
    if is_missing(v):
        return MISSING
    return "<0.0001" if float(v) < 0.0001 else number(v, 4)


def boolean(v: Any) -> str:
    """是 / 否 (missing stays ``—``)."""
    if is_missing(v):
        return MISSING
    if isinstance(v, str):
        low = v.strip().lower()
        if low in ("true", "1"):
            return YES
        if low in ("false", "0", ""):
            return NO
    return YES if bool(v) else NO


def _text(v: Any) -> str:
    if is_missing(v):
        return MISSING
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if hasattr(v, "strftime"):
        return v.strftime("%Y-%m-%d")
    return str(v)


def route(v: Any) -> str:
    """A 访销线 code ``<district code>-<nn>`` by its name: ``140105-14`` -> ``小店区14线``
    (a code of another form is written as it is)."""
    if is_missing(v):
        return MISSING
    from .. import config

    code, _, nn = str(v).partition("-")
    d = config.DISTRICT_BY_CODE.get(code)
    return f"{d.name}{int(nn)}线" if d is not None and nn.isdigit() else str(v)


def _month(v: Any) -> str:
    if is_missing(v):
        return MISSING
    if hasattr(v, "strftime"):
        return v.strftime("%Y-%m")
    return str(v)[:7]


_BY_KIND = {
    "count": count, "money": money, "money_wan": money_wan, "cartons": cartons, "cases": cases,
    "share": share, "growth": growth, "share_change": share_change, "score": score,
    "score_change": score_change,
    "pvalue": pvalue, "bool": boolean, "text": _text, "id": _text, "month": _month,
    "category": _text, "route": route,
}


def value(v: Any, key: str) -> str:
    """``v`` written as the glossary's kind of column ``key`` says."""
    e = glossary.entry(key)
    if e.kind == "number":
        return number(v, 1 if e.decimals is None else e.decimals)
    if e.kind == "code" or (e.kind == "category" and e.codes):
        return MISSING if is_missing(v) else glossary.code_name(e.codes, v)
    return _BY_KIND[e.kind](v)


def series(s, key: str):
    """A column of values written as strings by ``key``'s kind (the index kept)."""
    e = glossary.entry(key)
    if e.kind == "number":
        d = 1 if e.decimals is None else e.decimals
        return s.map(lambda v: number(v, d))
    if e.kind == "code" or (e.kind == "category" and e.codes):  # a category may name its codes
        names = glossary.code_names(e.codes)
        return s.map(lambda v: MISSING if is_missing(v) else
                     names.get(str(int(v)) if isinstance(v, float) and v.is_integer() else str(v),
                               str(v)))
    return s.astype(object).map(_BY_KIND[e.kind])


def text_width(text: Any) -> int:
    """Display width of ``text`` in terminal cells / Excel column units: a wide (CJK)
    character counts two, e.g. ``"小店区 ab"`` -> 9."""
    text = str(text)
    if text.isascii():  # no wide character
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: Any, width: int, *, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` display cells (:func:`text_width`), on the right
    (left-aligned) or, with ``right=True``, on the left; never cut."""
    gap = " " * max(0, width - text_width(text))
    return f"{gap}{text}" if right else f"{text}{gap}"
