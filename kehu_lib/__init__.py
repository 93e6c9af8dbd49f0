"""kehu: monthly analysis workbook for tobacco account managers and market analysts.

The library holds every computation; the notebooks in ``notebooks/`` are thin, parameterized
narratives that call it. See ``data/README.md`` for the data model.
"""

__version__ = "0.1.0"
