"""Loaders: tidy, typed pandas frames of the store, reading only what is asked for.

Every loader takes ``district`` (name such as '万柏林区', code such as '140109', or ``None``/'全市'
for the whole city), ``months`` where the table is monthly ('YYYY-MM', a list, or an inclusive
``(start, end)`` tuple) and ``columns`` (default: all, see ``data/README.md``), and ``store`` (a
store folder; default ``data/store`` or ``$KEHU_STORE``). Filters are pushed down to Parquet: a
one-district, one-month load opens only that partition.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from . import store as _store

Store = str | Path | None


def load_districts(*, store: Store = None) -> pd.DataFrame:
    """Districts (区县/市场部): district_code, district, kind, panel_size."""
    return _store.query("districts", store=store)


def load_customers(district=None, *, columns: Sequence[str] | None = None,
                   store: Store = None) -> pd.DataFrame:
    """Retail customers (零售客户), one row per licence; see data/README.md for the fields."""
    return _store.query("customers", columns=columns, district=district, store=store)


def load_products(*, columns: Sequence[str] | None = None, store: Store = None) -> pd.DataFrame:
    """Cigarette SKUs (卷烟规格) with prices per carton (元/条), 价类 and key-brand flag."""
    return _store.query("products", columns=columns, store=store)


def load_orders(district=None, months=None, *, columns: Sequence[str] | None = None,
                skus: Sequence[str] | None = None, store: Store = None) -> pd.DataFrame:
    """Order lines (订单明细): quantities in cartons (条), amount in yuan (元)."""
    where = {"sku": skus} if skus is not None else None
    return _store.query("orders", columns=columns, months=months, district=district, where=where,
                        store=store)


def load_price_checks(district=None, months=None, *, columns: Sequence[str] | None = None,
                      store: Store = None) -> pd.DataFrame:
    """Retail price and stock checks (价存采集): price in 元/条, stock in 条."""
    return _store.query("price_checks", columns=columns, months=months, district=district,
                        store=store)


def load_visits(district=None, months=None, *, columns: Sequence[str] | None = None,
                store: Store = None) -> pd.DataFrame:
    """Visit records (拜访记录) with the KZB strategy codes used (';'-separated)."""
    return _store.query("visits", columns=columns, months=months, district=district, store=store)


def load_retailer_survey(district=None, months=None, *, columns: Sequence[str] | None = None,
                         store: Store = None) -> pd.DataFrame:
    """Retailer survey answers, long format (one row per shop x item), answers 1-5."""
    return _store.query("retailer_survey", columns=columns, months=months, district=district,
                        store=store)


def load_consumer_survey(district=None, months=None, *, columns: Sequence[str] | None = None,
                         store: Store = None) -> pd.DataFrame:
    """Consumer survey answers, long format, with the consumer price class A-D."""
    return _store.query("consumer_survey", columns=columns, months=months, district=district,
                        store=store)


def load_census(district=None, waves=None, *, columns: Sequence[str] | None = None,
                store: Store = None) -> pd.DataFrame:
    """Retail census answers (零售户普查), one row per shop and wave."""
    return _store.query("census", columns=columns, months=waves, district=district, store=store)


def available_months(table: str = "orders", *, store: Store = None) -> list[str]:
    """Months ('YYYY-MM') present in a table."""
    return _store.months(table, store)


def latest_month(*, store: Store = None) -> str:
    """The latest month with order data."""
    return _store.latest_month(store)
