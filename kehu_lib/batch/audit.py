"""Audit of a finished report page: what a reader must not see, and how many charts it has.

:func:`audit_page` returns the :class:`Problem` list of one HTML page (the batch's export, or any
nbconvert HTML). The rules, each with its ``rule`` name:

- ``raw_value``: a table cell showing ``True``/``False``/``None``/``nan``/``NaN``/``NaT``/``<NA>``
  (booleans and missing values must be shown as 是/否 or a mark, and as blank or 无);
- ``snake_header``: a table header in snake_case (``volume_cases``): a column name, not a label;
- ``english_table``: a table whose headers are all English words (``row``, ``col``, ``chi2``);
- ``empty_table``: a table with headers and no row (say "none, and why" in a sentence instead);
- ``dump``: an output printing a dict (``{'share': 0.3}``) or ``key: value`` lines with an
  identifier for a key (``did_kzb06_effect: False``);
- ``district_code``: a bare 6-digit district code of :data:`kehu_lib.config.DISTRICTS` in the text
  (show the district's name).

:func:`count_charts` counts the page's ``<img>`` elements (charts are embedded PNGs).
Inline images' ``data:`` URIs, styles and scripts are never scanned; code cells shown with
``--with-code`` are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

__all__ = ["Problem", "audit_page", "count_charts", "RULES"]

RULES = ("raw_value", "snake_header", "english_table", "empty_table", "dump", "district_code")

RAW_VALUES = {"True", "False", "None", "nan", "NaN", "NaT", "<NA>", "inf", "-inf"}
_SNAKE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+$")
_ENGLISH = re.compile(r"^[A-Za-z][A-Za-z0-9_ .()%/-]*$")
_CJK = re.compile(r"[\u3400-\u9fff]")
_DICT_REPR = re.compile(r"\{\s*['\"][^'\"]{1,80}['\"]\s*:")
_KEY_VALUE = re.compile(r"^\s*[A-Za-z_][A-Za-z0-9_]*\s*:(?!//)\s*\S", re.M)
_IMG = re.compile(r"<img\b", re.I)


@dataclass(frozen=True)
class Problem:
    """One finding: its rule, where on the page (nearest heading, table/output number), the text."""

    rule: str
    where: str
    text: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.where}: {self.text}"


def count_charts(page: str) -> int:
    """Number of ``<img>`` elements (embedded charts) on the page."""
    return len(_IMG.findall(page))


def _district_codes() -> tuple[str, ...]:
    from .. import config

    return tuple(d.code for d in config.DISTRICTS)


def _text(node) -> str:
    return " ".join(node.get_text(" ", strip=True).split())


def _where(node, kind: str, n: int) -> str:
    head = node.find_previous(["h1", "h2", "h3", "h4"])
    title = _text(head).replace("¶", "").strip() if head is not None else ""
    return f"{kind} {n}" + (f"（{title}）" if title else "")


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _table_problems(table, n: int) -> Iterable[Problem]:
    where = _where(table, "表", n)
    thead = table.find("thead")
    header_cells = thead.find_all("th") if thead is not None else []
    if not header_cells:  # a table without <thead>: its first row holds the headers
        first = table.find("tr")
        header_cells = first.find_all("th") if first is not None else []
    headers = [_text(th) for th in header_cells]
    for text in headers:
        if _SNAKE.match(text):
            yield Problem("snake_header", where, text)
    named = [h for h in headers if h]
    if named and all(_ENGLISH.match(h) and not _CJK.search(h) for h in named) \
            and any(re.search(r"[A-Za-z]{2}", h) for h in named):
        yield Problem("english_table", where, _short("、".join(named)))
    body_rows = [tr for tr in table.find_all("tr")
                 if tr.find("td") is not None and (thead is None or tr.find_parent("thead") is None)]
    if header_cells and not body_rows:
        yield Problem("empty_table", where, _short("、".join(named) or "(无表头)"))
    for r, tr in enumerate(body_rows, 1):
        for c, cell in enumerate(tr.find_all(["td", "th"]), 1):
            text = _text(cell)
            if text in RAW_VALUES:
                yield Problem("raw_value", f"{where} 第{r}行第{c}列", text)


def _dump_problems(pre, n: int) -> Iterable[Problem]:
    text = pre.get_text()
    where = _where(pre, "输出", n)
    m = _DICT_REPR.search(text)
    if m:
        yield Problem("dump", where, _short(text[m.start():].strip().splitlines()[0]))
        return
    lines = _KEY_VALUE.findall(text)
    if lines:
        first = next(line for line in text.splitlines() if _KEY_VALUE.match(line))
        yield Problem("dump", where, _short(first.strip()))


def audit_page(page: str, *, district_codes: Iterable[str] | None = None) -> list[Problem]:
    """The problems of one HTML page (see the module docstring), in page order by rule."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, "html.parser")
    for node in soup(["style", "script", "img", "svg"]):
        node.decompose()
    for node in soup.select(".input, .input_area, .jp-InputArea, .jp-CodeCell .highlight"):
        node.decompose()  # shown code (--with-code) is not output
    problems: list[Problem] = []
    for n, table in enumerate(soup.find_all("table"), 1):
        problems.extend(_table_problems(table, n))
    for n, pre in enumerate(soup.find_all("pre"), 1):
        problems.extend(_dump_problems(pre, n))
    codes = tuple(district_codes) if district_codes is not None else _district_codes()
    if codes:
        pattern = re.compile(r"(?<![\d.])(" + "|".join(map(re.escape, codes)) + r")(?![\d.])")
        for n, string in enumerate(soup.find_all(string=pattern), 1):
            if string.parent is not None and string.parent.name == "title":
                continue
            problems.append(Problem("district_code", _where(string.parent, "文字", n),
                                    _short(" ".join(str(string).split()))))
    return problems
