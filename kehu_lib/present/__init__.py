"""The presentation layer: labels, formats, tables, charts and workbooks. It never computes.

- :mod:`.glossary`: the single glossary of columns and codes (Chinese label, unit, kind)
- :mod:`.format`: values written by kind (counts, 元/万元, %, 百分点, 条/箱, 是/否)
- :mod:`.tables`: :class:`~.tables.Table` (empty -> a sentence, capped -> a note), :func:`show`
"""

from .tables import Chart, Table, Text, show

__all__ = ["Chart", "Table", "Text", "show"]
