"""The store and loaders: filter pushdown, dtypes, atomic partition writes."""

from __future__ import annotations

import pandas as pd
import pytest

from kehu_lib import config, loaders, store


def test_one_district_month_reads_only_its_rows(small_store):
    full = loaders.load_orders(store=small_store, columns=["month", "district_code", "qty_supplied"])
    part = loaders.load_orders("万柏林区", "2026-10", store=small_store)
    expected = full[(full["month"] == "2026-10") & (full["district_code"] == "140109")]
    assert len(part) == len(expected) > 0
    assert part["qty_supplied"].sum() == pytest.approx(expected["qty_supplied"].sum())
    assert set(part["district_code"]) == {"140109"}


def test_loader_dtypes_keep_ids_as_text(small_store):
    c = loaders.load_customers(store=small_store)
    assert c["license_id"].dtype == "string"
    assert c["license_id"].str.fullmatch(r"\d{12}").all()
    assert c["tier"].dtype == "Int64"
    assert c["opened_date"].dtype == "datetime64[ns]"
    o = loaders.load_orders("140109", ("2026-09", "2026-10"), store=small_store,
                            columns=["order_date", "month", "sku", "amount"])
    assert list(o.columns) == ["order_date", "month", "sku", "amount"]
    assert sorted(o["month"].unique()) == ["2026-09", "2026-10"]
    assert o["sku"].str.fullmatch(r"\d{13}").all()


def test_city_and_unknown_district(small_store):
    a = loaders.load_orders(config.CITY, "2026-10", store=small_store, columns=["qty_supplied"])
    b = loaders.load_orders(None, "2026-10", store=small_store, columns=["qty_supplied"])
    assert len(a) == len(b)
    with pytest.raises(ValueError, match=r"unknown district '海淀区'; expected 全市 or one of: 万柏林区 \(140109\)"):
        loaders.load_orders("海淀区", "2026-10", store=small_store)


def test_unknown_column_and_missing_store(small_store, tmp_path):
    with pytest.raises(KeyError, match=r"orders has no column\(s\) \['qty'\]"):
        loaders.load_orders(store=small_store, columns=["qty"])
    with pytest.raises(FileNotFoundError, match=r"run `kehu sample` or `kehu ingest` first"):
        loaders.load_orders(store=tmp_path)


def test_months_and_latest(small_store):
    months = loaders.available_months(store=small_store)
    assert months[0] == "2024-05" and months[-1] == "2026-10" and len(months) == 30
    assert loaders.latest_month(store=small_store) == "2026-10"
    assert loaders.available_months("census", store=small_store) == ["2024-06", "2025-06", "2026-06"]


def test_write_partitions_replaces_not_appends(tmp_path):
    df = pd.DataFrame({
        "check_date": pd.to_datetime(["2026-10-05", "2026-10-06"]), "month": "2026-10",
        "district_code": "140109", "license_id": ["140109000001", "140109000002"],
        "sku": ["6901028000100", "6901028000107"], "retail_price": [450.0, 200.0], "stock": [3.0, 4.0]})
    store.write_partitions(df, "price_checks", tmp_path)
    store.write_partitions(df.head(1), "price_checks", tmp_path)
    got = loaders.load_price_checks(store=tmp_path)
    assert len(got) == 1 and got.loc[0, "license_id"] == "140109000001"
    assert not list((tmp_path / "price_checks").glob(".tmp-*"))


def test_connections_share_one_database_per_process_and_keep_their_own_views(monkeypatch):
    """store.connect opens the process's database once (cursors after): what a connection
    registers or creates as TEMP is its own, and changed caps open a database with them."""
    import pandas as pd

    from kehu_lib import store as kstore

    monkeypatch.setenv("KEHU_THREADS", "1")
    monkeypatch.setenv("KEHU_MEMORY_LIMIT", "300MB")
    a, b = kstore.connect(), kstore.connect()
    assert len(kstore._DATABASE) == 1
    a.register("frame", pd.DataFrame({"v": [1]}))
    a.execute("CREATE TEMP VIEW orders AS SELECT 1 AS k")
    b.execute("CREATE TEMP VIEW orders AS SELECT 2 AS k")  # no clash with a's
    assert a.sql("SELECT k FROM orders").fetchall() == [(1,)]
    assert b.sql("SELECT k FROM orders").fetchall() == [(2,)]
    with pytest.raises(Exception, match="frame"):
        b.sql("SELECT * FROM frame").fetchall()
    a.close()
    assert b.sql("SELECT k FROM orders").fetchall() == [(2,)]  # closing one leaves the other
    b.close()
    c = kstore.connect()
    assert c.sql("SELECT current_setting('threads')").fetchall() == [(1,)]
    with pytest.raises(Exception, match="orders"):  # the closed connections' views are gone
        c.sql("SELECT * FROM orders").fetchall()
    c.close()
    monkeypatch.setenv("KEHU_MEMORY_LIMIT", "200MB")
    d = kstore.connect()
    limit = d.sql("SELECT current_setting('memory_limit')").fetchall()[0][0]
    assert limit.startswith("190") or limit.startswith("200"), limit  # MiB as DuckDB shows it
    d.close()
