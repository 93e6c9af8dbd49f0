"""The presentation layer: labels, formats, tables, charts and workbooks. It never computes.

- :mod:`.glossary`: the single glossary of columns and codes (``glossary.yaml``: Chinese label,
  unit, kind, code -> name maps, category orders)
- :mod:`.format`: values written by kind (counts, 元/万元, %, 百分点, 条/箱, 是/否, codes as names)
- :mod:`.tables`: :class:`~.tables.Table` (Chinese headers; empty -> a sentence saying why;
  capped -> "共N户，显示前K户，完整名单见 XLSX 的〈表名〉"), :class:`~.tables.Chart`,
  :class:`~.tables.Text` and :func:`show`
- :mod:`.theme`, :mod:`.market_plots`, :mod:`.survey_plots`: the charts and their look
- :mod:`.xlsx`: the district workbook (headers, number formats, widths, frozen header)
"""

from .tables import Chart, Table, Text, show

__all__ = ["Chart", "Table", "Text", "show"]
