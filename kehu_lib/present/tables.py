"""Tables as the reader sees them: Chinese headers from the glossary, values formatted by kind.

:class:`Table` wraps a computed frame (English column keys of the glossary) with its title and
what to say when it is empty or longer than the page shows:

- an empty table becomes one sentence saying there is none and why (``empty=``);
- a capped table shows its first ``cap`` rows and says
  ``共N户，显示前K户，完整名单见 XLSX 的〈表名〉``; the full list goes to the district XLSX;
- a list of shops or items for the whole city carries the 区县 column (``city=True`` checks it).

:func:`show` displays tables, charts and text in a notebook and registers the tables that
belong in the XLSX. Nothing here computes: rows are shown in the order given.
"""

from __future__ import annotations

import html as _html
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import pandas as pd

from . import format as fmt
from . import glossary

__all__ = ["Table", "Chart", "Text", "show", "html_table", "plain_text"]

_LEFT = {"text", "id", "category", "code", "month", "bool", "route"}
#: Columns written by each row's own quantity in a table with ``row_keys`` (an indicator table).
BY_ROW = ("value", "prev_month", "last_year")


@dataclass
class Table:
    """A report table.

    ``data``: the computed frame; its columns are glossary keys (the index is not shown).
    ``title``: caption. ``empty``: the sentence shown instead of an empty table (say why:
    "本月没有触发预警的规格（价格指数均不低于0.95、存销比均未超过1.0）").
    ``cap``: show at most this many rows; the full table then goes to the XLSX sheet
    ``sheet`` (default: the title) and a note says so. ``noun``: what a row is (户, 个规格 ...).
    ``sheet``: also export the (full) table to the district XLSX under this name.
    ``city``: a city-wide list; must carry ``district_code`` or ``district`` (区县).
    ``row_keys``: a column holding a glossary key per row (an indicator); the :data:`BY_ROW`
    columns are then written by that row's kind (销量 in 箱, 销售额 in 万元, 户数 ...).
    """

    data: pd.DataFrame
    title: str = ""
    empty: str = ""
    cap: int | None = None
    noun: str = "户"
    sheet: str | None = None
    city: bool = False
    columns: Sequence[str] | None = None
    row_keys: str | None = None

    def __post_init__(self):
        if self.columns is not None:
            self.data = self.data.loc[:, list(self.columns)]
        dup = sorted({c for c in self.data.columns if list(self.data.columns).count(c) > 1})
        if dup:
            raise ValueError(f"table {self.title!r}: duplicate columns {dup}")
        missing = glossary.check_mapping(self.data.columns)
        if missing:
            raise KeyError(f"table {self.title!r}: columns {missing} have no glossary entry "
                           f"({glossary.GLOSSARY_FILE.name})")
        if self.city and not {"district_code", "district"} & set(self.data.columns):
            raise ValueError(f"table {self.title!r} lists the whole city but has no 区县 column")
        if self.cap is not None and len(self.data) > self.cap and not self.sheet:
            self.sheet = self.title

    @property
    def capped(self) -> bool:
        return self.cap is not None and len(self.data) > self.cap

    def note(self) -> str:
        """The cap note, or '' when the whole table is shown."""
        if not self.capped:
            return ""
        return (f"共{len(self.data):,}{self.noun}，显示前{self.cap}{self.noun}，"
                f"完整名单见 XLSX 的〈{self.sheet}〉")

    def formatted(self) -> pd.DataFrame:
        """The shown rows as strings, with Chinese headers."""
        view, cols = self.shown()
        return pd.DataFrame({glossary.header(c): col for c, col in zip(view.columns, cols)})

    def shown(self) -> tuple[pd.DataFrame, list]:
        """The shown rows and each column of them as text (formatted once per table: a
        notebook's display asks for the HTML and the plain text of the same table). A column
        blank in every shown row (a 提示 column with nothing to say) is left out."""
        key = (self.data, self.cap, self.row_keys)  # the frame itself: a new one is new text
        cached = getattr(self, "_shown", None)
        if cached is None or cached[0][0] is not key[0] or cached[0][1:] != key[1:]:
            view = self.data.head(self.cap) if self.capped else self.data
            cols = [self.strings(view, c) for c in view.columns]
            keep = [j for j, col in enumerate(cols) if any(str(x).strip() for x in col)]
            if len(keep) < len(cols) and keep:
                view, cols = view.iloc[:, keep], [cols[j] for j in keep]
            cached = self._shown = (key, view, cols)
        return cached[1], cached[2]

    def strings(self, view: pd.DataFrame, col: str):
        """Column ``col`` of ``view`` written as text (by kind, or by row for :data:`BY_ROW`)."""
        if self.row_keys and col in BY_ROW:
            return [fmt.value(v, k) for v, k in zip(view[col], view[self.row_keys])]
        return fmt.series(view[col], col).to_numpy()

    def _repr_html_(self) -> str:
        return html_table(self)

    def __repr__(self) -> str:
        if self.data.empty:
            return self.empty_text()
        view, cols = self.shown()
        text = plain_text([glossary.header(c) for c in view.columns], cols)
        head = f"{self.title}\n" if self.title else ""
        note = f"\n{self.note()}" if self.capped else ""
        return head + text + note

    def empty_text(self) -> str:
        title = f"{self.title}：" if self.title else ""
        return title + (self.empty or "无")


#: What pandas' plain text writes for a tab, line feed and carriage return in a cell.
_ESCAPES = str.maketrans({"\t": r"\t", "\n": r"\n", "\r": r"\r"})


def plain_text(headers: Sequence[str], columns: Sequence[Sequence[str]]) -> str:
    """The shown table as plain text (a notebook's ``text/plain``), exactly as pandas'
    ``DataFrame.to_string(index=False)`` writes a frame of these strings: every column
    right-aligned to its longest cell, columns one space apart. Written directly: pandas'
    formatter costs ~7 ms a table, a tenth of a market report's tables' time."""
    columns = [list(c) for c in columns]
    if (any(not isinstance(h, str) or h != h.strip() for h in headers)  # pandas trims these
            or len(set(headers)) < len(headers)
            or any(not isinstance(v, str) for c in columns for v in c)):
        return pd.DataFrame(dict(zip(headers, columns))).to_string(index=False)
    out = []
    for head, col in zip(headers, columns):
        cells = [head.translate(_ESCAPES)] + [v.translate(_ESCAPES) for v in col]
        width = max(map(len, cells))
        out.append([c.rjust(width) for c in cells])
    return "\n".join(" ".join(row) for row in zip(*out))


def html_table(t: Table) -> str:
    """The HTML of a table (a sentence when empty).

    Text columns are left-aligned by a class of the table (``l2``: its second column, one of
    the first :data:`LEFT_COLUMNS`; report.css), not by a class on each of their cells; a text
    cell longer than :data:`WRAP_AT` characters may wrap (``w``)."""
    if t.data.empty:
        return f'<p class="kehu-empty">{_html.escape(t.empty_text())}</p>'
    view, cols = t.shown()
    kinds = [glossary.entry(c).kind for c in view.columns]
    head = "".join(f"<th>{_html.escape(glossary.header(c))}</th>" for c in view.columns)
    # per column: the class of its short and of its long cells
    marks = [("", "") if kind not in _LEFT else ("", ' class="w"') if j < LEFT_COLUMNS
             else (' class="t"', ' class="t w"') for j, kind in enumerate(kinds)]
    rows = []
    for i in range(len(view)):
        cells = []
        for col, (short, long_) in zip(cols, marks):
            text = str(col[i])
            cells.append(f"<td{long_ if long_ and len(text) > WRAP_AT else short}>"
                         f"{_html.escape(text)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    left = "".join(f" l{j + 1}" for j, kind in enumerate(kinds[:LEFT_COLUMNS]) if kind in _LEFT)
    caption = f"<caption>{_html.escape(t.title)}</caption>" if t.title else ""
    note = f'<p class="kehu-note">{_html.escape(t.note())}</p>' if t.capped else ""
    return (f'<table class="kehu-table{left}">{caption}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>{note}")


#: Text cells longer than this may wrap (shorter ones never break, not even in a narrow column;
#: an outcome with its unit, 重点品牌及新品销量占比（百分点）, is 16).
WRAP_AT = 15
#: Text columns among the first this many are left-aligned by the table's ``l<n>`` classes
#: (report.css has a rule for each); a text cell further right carries its own ``t`` class.
LEFT_COLUMNS = 12


@dataclass
class Chart:
    """A chart: ``draw(data, **options)`` returns a matplotlib Figure (or Axes)."""

    draw: Callable[..., Any]
    data: Any
    options: dict = field(default_factory=dict)


@dataclass
class Text:
    """Markdown text: a paragraph, or a numbered list when ``items`` is given."""

    text: str = ""
    items: Sequence[str] = ()
    numbered: bool = True

    def markdown(self) -> str:
        lines = [self.text] if self.text else []
        for i, item in enumerate(self.items, 1):
            lines.append(f"{i}. {item}" if self.numbered else f"- {item}")
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def __repr__(self) -> str:
        return self.markdown()


def _display_chart(chart: Chart) -> None:
    import matplotlib.pyplot as plt
    from IPython.display import display

    from .theme import set_theme

    set_theme()
    out = chart.draw(chart.data, **chart.options)
    fig = getattr(out, "figure", out) if not hasattr(out, "savefig") else out
    if fig is None:
        return
    display(fig)
    plt.close(fig)


def show(*items: Any) -> None:
    """Display report items in order: Tables, Charts, Text (or a list of them; None is skipped).

    A table with a ``sheet`` is also registered for the district XLSX, in full
    (:func:`kehu_lib.exports.export_table`).
    """
    from IPython.display import Markdown, display

    from .. import exports

    for item in _flatten(items):
        if isinstance(item, Table):
            if item.sheet and not item.data.empty:
                exports.export_table(item.sheet, item.data, row_keys=item.row_keys)
            display(item)
        elif isinstance(item, Chart):
            _display_chart(item)
        elif isinstance(item, Text):
            display(Markdown(item.markdown()))
        elif isinstance(item, str):
            display(Markdown(item))
        else:
            raise TypeError(f"cannot show a {type(item).__name__}; expected Table, Chart or Text")


def _flatten(items: Iterable[Any]):
    for item in items:
        if item is None:
            continue
        if isinstance(item, (list, tuple)):
            yield from _flatten(item)
        else:
            yield item
