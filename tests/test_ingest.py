"""Ingest of real exports: encodings, header mapping, rejects, personal data, atomic replace."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from kehu_lib import loaders, store
from kehu_lib.ingest import IngestError, ingest_folder
from kehu_lib.schema import TABLES

MONTH = "2026-10"


def pq_rows(folder):
    """Rows of every Parquet file under ``folder``, read directly (no store query)."""
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in folder.rglob("*.parquet"))


@pytest.fixture()
def exports(tmp_path, small_store):
    """A month of exports cut from the small sample: 40 shops, their orders, the products."""
    folder = tmp_path / "exports"
    folder.mkdir()
    cust = loaders.load_customers(store=small_store)
    cust = cust[cust["status"] == "正常"].head(40)
    orders = loaders.load_orders(months=MONTH, store=small_store)
    orders = orders[orders["license_id"].isin(cust["license_id"])]
    products = loaders.load_products(store=small_store)
    return folder, cust, orders, products


def _write_csv(df, path, encoding="utf-8"):
    df.astype(object).to_csv(path, index=False, encoding=encoding)


def test_ingest_counts_rejects_and_gbk_chinese_headers(exports, tmp_path):
    folder, cust, orders, products = exports
    zh = {f.name: f.zh for f in TABLES["customers"].fields}
    cust_export = cust.rename(columns=zh).assign(业主姓名="王某", 联系电话="13900000000")
    _write_csv(cust_export, folder / "零售客户.csv", encoding="gb18030")
    _write_csv(products, folder / "products.csv", encoding="utf-8-sig")
    bad = orders.drop(columns=["month", "district_code"]).astype(object).reset_index(drop=True)
    bad.loc[0, "qty_supplied"] = "abc"          # not a number
    bad.loc[1, "sku"] = "6901028999999"         # unknown SKU
    bad.loc[2, "qty_ordered"] = -3              # out of range
    bad.loc[3, "license_id"] = "999999999999"  # unknown shop
    bad = pd.concat([bad, bad.iloc[[10]]], ignore_index=True)  # duplicate key
    bad.to_excel(folder / "订单明细.xlsx", index=False)

    out = tmp_path / "store"
    report = ingest_folder(folder, store_dir=out)
    res = {r.table: r for r in report.results}
    assert res["orders"].read == len(bad)
    assert res["orders"].rejected == 5
    assert res["orders"].stored + res["orders"].rejected == res["orders"].read
    assert res["customers"].dropped_personal == ["业主姓名", "联系电话"]
    stored = loaders.load_customers(store=out)
    assert "业主姓名" not in stored.columns and len(stored) == len(cust)
    assert stored["license_id"].str.fullmatch(r"\d{12}").all()  # kept as text

    rej = pd.read_csv(res["orders"].rejects_file, dtype=str, encoding="utf-8-sig")
    reasons = dict(zip(rej["row"].astype(int), rej["reason"]))
    assert "qty_supplied (供货量) = 'abc': expected a number" in reasons[2]
    assert "sku = '6901028999999' is not a known products row" in reasons[3]
    assert "qty_ordered (订购量(需求量)) = -3.0: expected >= 0" in reasons[4]
    assert "license_id = '999999999999' is not a known customers row" in reasons[5]
    assert any("duplicate key" in r for r in reasons.values())
    got = loaders.load_orders(months=MONTH, store=out)
    assert len(got) == res["orders"].stored
    assert "orders: replaced month(s) 2026-10" in report.summary()


def test_missing_column_stops_and_writes_nothing(exports, tmp_path):
    folder, cust, orders, products = exports
    _write_csv(products, folder / "products.csv")
    _write_csv(cust, folder / "customers.csv")
    _write_csv(orders.drop(columns=["qty_supplied"]), folder / "orders.csv")
    out = tmp_path / "store"
    with pytest.raises(IngestError) as err:
        ingest_folder(folder, store_dir=out)
    msg = str(err.value)
    assert msg.startswith("orders.csv: missing column 'qty_supplied' (供货量, 条)")
    assert "expected the columns order_date (订货日期)" in msg
    assert not (out / "products.parquet").exists() and not (out / "orders").exists()


def test_misnamed_column_gets_a_hint(exports, tmp_path):
    folder, _, orders, _ = exports
    _write_csv(orders.rename(columns={"qty_supplied": "qty_suplied"}), folder / "orders.csv")
    with pytest.raises(IngestError, match=r"did you mean 'qty_suplied'\?"):
        ingest_folder(folder, store_dir=tmp_path / "store")


def test_unknown_file_name_is_an_error(tmp_path):
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "销售汇总.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(IngestError, match=r"销售汇总.csv: cannot tell which table this file holds"):
        ingest_folder(tmp_path / "exports", store_dir=tmp_path / "store")


def _ingest_clean(folder, cust, orders, products, out):
    """Write clean exports and ingest them into ``out``."""
    _write_csv(products, folder / "products.csv")
    _write_csv(cust, folder / "customers.csv")
    _write_csv(orders, folder / "orders.csv")
    ingest_folder(folder, store_dir=out)
    return out


def test_reingest_replaces_the_month_never_duplicates(exports, tmp_path):
    folder, cust, orders, products = exports
    out = _ingest_clean(folder, cust, orders, products, tmp_path / "store")
    ingest_folder(folder, store_dir=out)
    assert len(loaders.load_orders(store=out)) == len(orders)
    assert len(loaders.load_customers(store=out)) == len(cust)
    # a much smaller re-export of the month stops (it would shrink the month by > 30%) ...
    _write_csv(orders.head(100), folder / "orders.csv")
    with pytest.raises(IngestError, match=r"shrink stored data by more than 30%.*--replace 2026-10"):
        ingest_folder(folder, store_dir=out)
    assert len(loaders.load_orders(store=out)) == len(orders)
    # ... unless the month is named: then it replaces the partitions it covers
    ingest_folder(folder, store_dir=out, replace=[MONTH])
    assert len(loaders.load_orders(store=out)) == 100


def test_killed_ingest_leaves_store_as_it_was(exports, tmp_path, monkeypatch):
    folder, cust, orders, products = exports
    out = _ingest_clean(folder, cust, orders, products, tmp_path / "store")
    before = loaders.load_orders(store=out)

    def boom(*args, **kwargs):
        raise KeyboardInterrupt("killed")

    _write_csv(orders.head(10), folder / "orders.csv")
    monkeypatch.setattr(store, "_finish_commit", boom)
    with pytest.raises(KeyboardInterrupt):
        ingest_folder(folder, store_dir=out, replace=[MONTH])
    monkeypatch.undo()
    # nothing was swapped in yet: the old month is intact on disk
    assert pq_rows(out / "orders") == len(before)
    # the staged commit had its marker: the next reader (or ingest) completes it, never half
    assert len(loaders.load_orders(store=out)) == 10
    assert not list(out.glob(".staging-*"))


def test_unfinished_staging_is_discarded(tmp_path, small_store):
    out = tmp_path / "store"
    shutil.copytree(small_store, out)
    stage = out / ".staging-dead"
    (stage / "orders" / "month=2026-10").mkdir(parents=True)
    store.recover(out)
    assert not stage.exists()
    assert len(loaders.load_orders(months="2026-10", store=out)) > 0


def test_gbk_file_reads_chinese(tmp_path):
    from kehu_lib.ingest import read_export

    p = tmp_path / "products.csv"
    p.write_bytes("sku,brand\n6901028000100,中华\n".encode("gbk"))
    assert read_export(p).loc[0, "brand"] == "中华"


def test_summary_columns_line_up_with_chinese_file_and_district_names():
    """CJK characters take two terminal cells: the numbers still line up under their headers."""
    from kehu_lib.ingest import Change, FileResult, IngestReport
    from kehu_lib.present.format import text_width

    rep = IngestReport(results=[FileResult("订单明细_小店区_2026年10月.xlsx", "orders", 1200, 1190, 10),
                                FileResult("orders.csv", "orders", 5, 5, 0)],
                       changes=[Change("orders", "2026-10", "140105", 100, 1190, "replaced"),
                                Change("orders", "2026-10", "", 0, 5, "merged")])
    lines = rep.summary().splitlines()
    head, rows = lines[1], lines[2:4]
    end = text_width(head)
    assert all(text_width(r) == end for r in rows)          # right edge of 'rejected' column
    ch_head = next(i for i, ln in enumerate(lines) if ln.startswith("table"))
    arrows = [text_width(ln[:ln.index("→")]) for ln in lines[ch_head + 1:ch_head + 3]]
    assert arrows[0] == arrows[1]
