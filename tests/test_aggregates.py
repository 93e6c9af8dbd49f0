"""Month aggregates summed by DuckDB in the store (kehu_lib.aggregates).

The reference is pandas on the order lines of the same store (``loaders.load_orders`` and a
``groupby().sum()``): the ledger, its cache and the trend sums must give the same numbers, and the
market report's and the plan's figures computed on the ledger must equal those computed on the
order lines.
"""

from __future__ import annotations

import os

import pandas as pd
import pytest

from kehu_lib import aggregates, findings, loaders, store as kstore
from kehu_lib.batch.runner import kernel_memory_limit

from conftest import writable_copy

MONTH = "2026-10"
MONTHS = ("2025-09", MONTH)
KEYS = ["month", "district_code", "license_id", "sku"]


@pytest.fixture(scope="module")
def store(small_store, tmp_path_factory):
    """A private copy of the small sample (the cache is written into it)."""
    return writable_copy(small_store, tmp_path_factory.mktemp("aggregates") / "store")


@pytest.fixture(scope="module")
def lines(store):
    return loaders.load_orders(None, MONTHS, store=store,
                               columns=KEYS + ["qty_ordered", "qty_supplied", "amount"])


def _reference(lines: pd.DataFrame, keys=KEYS) -> pd.DataFrame:
    g = lines.groupby(keys, observed=True)
    out = g[["qty_ordered", "qty_supplied", "amount"]].sum()
    out["lines"] = g.size().astype("int64")
    return out.reset_index().sort_values(keys, ignore_index=True)


def test_ledger_equals_pandas_sums_of_the_lines(store, lines):
    got = aggregates.shop_sku_month(None, MONTHS, store=store)
    assert list(got.columns) == aggregates.LEDGER_COLUMNS
    ref = _reference(lines)
    pd.testing.assert_frame_equal(got, ref, check_dtype=False)
    assert got["license_id"].dtype == "string" and got["lines"].dtype == "int64"
    assert got["lines"].sum() == len(lines)


def test_cache_is_written_once_read_back_and_refreshed_by_a_new_export(store, lines):
    uncached = aggregates.shop_sku_month("万柏林区", MONTH, store=store)
    assert aggregates.ensure_month_aggregates(MONTH, store=store) == aggregates.HISTORY + 1
    assert (aggregates.cache_dir(MONTH, store) / "fingerprint.txt").exists()
    assert aggregates.ensure_month_aggregates(MONTH, store=store) == 0  # current: nothing to do
    cached = aggregates.shop_sku_month("万柏林区", MONTH, store=store)
    pd.testing.assert_frame_equal(cached, uncached)
    assert set(cached["district_code"]) == {"140109"}
    # a changed partition of the month makes its cache stale: it is summed from the lines again
    # (never the old cache) and the next precompute rewrites it
    part = kstore.partition_dir("orders", (MONTH, "140109"), store)
    df = kstore.read_partition("orders", (MONTH, "140109"), store)
    df = df.assign(qty_supplied=df["qty_supplied"] * 2)
    kstore.write_partitions(df, "orders", store)
    assert part.exists()
    fresh = aggregates.shop_sku_month("万柏林区", MONTH, store=store)
    assert fresh["qty_supplied"].sum() == pytest.approx(2 * cached["qty_supplied"].sum())
    assert aggregates.ensure_month(MONTH, store=store) is True
    pd.testing.assert_frame_equal(aggregates.shop_sku_month("万柏林区", MONTH, store=store), fresh)
    kstore.write_partitions(df.assign(qty_supplied=df["qty_supplied"] / 2), "orders", store)


def test_filters_columns_and_errors(store, lines):
    skus = sorted(lines["sku"].unique())[:3]
    got = aggregates.shop_sku_month("140109", MONTH, skus=skus, store=store,
                                    columns=["license_id", "sku", "qty_supplied"])
    sel = lines[(lines["month"] == MONTH) & (lines["district_code"] == "140109")
                & lines["sku"].isin(skus)]
    assert list(got.columns) == ["license_id", "sku", "qty_supplied"]
    assert got["qty_supplied"].sum() == sel["qty_supplied"].sum()
    assert set(got["sku"]) == set(sel["sku"])
    assert aggregates.shop_sku_month(None, "2030-01", store=store).empty
    with pytest.raises(KeyError, match=r"no column\(s\) \['qty'\]"):
        aggregates.shop_sku_month(None, MONTH, columns=["qty"], store=store)


def test_trend_sums_equal_pandas(store, lines):
    by_sku = aggregates.sku_month(None, MONTHS, store=store)
    ref = lines.groupby(["month", "sku"], as_index=False)[
        ["qty_ordered", "qty_supplied", "amount"]].sum()
    pd.testing.assert_frame_equal(by_sku, ref, check_dtype=False)
    by_d = aggregates.district_month(None, MONTHS, store=store)
    sup = lines[lines["qty_supplied"] > 0]
    active = sup.groupby(["month", "district_code"])["license_id"].nunique()
    assert by_d.set_index(["month", "district_code"])["active_shops"].to_dict() == active.to_dict()
    vol = lines.groupby(["month", "district_code"])["qty_supplied"].sum()
    assert by_d.set_index(["month", "district_code"])["qty_supplied"].to_dict() == vol.to_dict()


def test_sums_over_shops_of_cached_and_uncached_months_equal_the_lines(small_store, tmp_path):
    """A month without a cache is grouped only on the keys a query keeps (by SKU, without the
    shop × SKU groups): beside a cached month, every trend still equals pandas on the lines."""
    own = writable_copy(small_store, tmp_path / "store")
    lines = loaders.load_orders(None, MONTHS, store=own,
                                columns=KEYS + ["qty_ordered", "qty_supplied", "amount"])
    for cached in ([], [MONTH]):  # no month cached; the report month cached, the rest not
        for m in cached:
            assert aggregates.ensure_month(m, store=own) is True
        sums = ["qty_ordered", "qty_supplied", "amount"]
        for keys, got in ((["month", "sku"], aggregates.sku_month(None, MONTHS, store=own)),
                          (["month", "district_code", "sku"],
                           aggregates.district_sku_month(None, MONTHS, store=own))):
            ref = lines.groupby(keys, as_index=False)[sums].sum()
            pd.testing.assert_frame_equal(got, ref, check_dtype=False, check_exact=True)
        by_d = aggregates.district_month(None, MONTHS, store=own)
        sup = lines[lines["qty_supplied"] > 0]
        active = sup.groupby(["month", "district_code"])["license_id"].nunique()
        assert by_d.set_index(["month", "district_code"])["active_shops"].to_dict() \
            == active.to_dict()
        shop = aggregates.shop_month("140109", MONTHS, store=own)
        ref = _reference(lines[lines["district_code"] == "140109"],
                         ["month", "district_code", "license_id"])
        pd.testing.assert_frame_equal(shop, ref, check_dtype=False, check_exact=True)
        skus = sorted(lines["sku"].unique())[:5]
        vol = aggregates.district_volume(skus, None, MONTHS, store=own)
        ref = lines.assign(kb=lines["qty_supplied"].where(lines["sku"].isin(skus), 0.0)) \
            .groupby(["district_code", "month"], as_index=False)[["qty_supplied", "kb"]].sum()
        assert vol["volume"].tolist() == ref["qty_supplied"].tolist()
        assert vol["key_brand_volume"].tolist() == ref["kb"].tolist()
    with pytest.raises(ValueError, match="grouped on"):
        aggregates._lines_source([], MONTH, keys=())


def test_market_report_figures_on_the_ledger_equal_those_on_the_lines(store):
    """findings.analyse on load_inputs (the ledger) against the same on the order lines."""
    inputs = findings.load_inputs(None, MONTH, store=store)
    p = pd.Period(MONTH, "M")
    ref_inputs = {**inputs, "orders": loaders.load_orders(None, (str(p - 13), MONTH),
                                                           columns=findings.ORDER_COLUMNS,
                                                           store=store)}
    got, ref = findings.analyse(inputs), findings.analyse(ref_inputs)
    for key in ("headline", "alerts", "key_brand", "new_products", "margin", "drivers",
                "explanation"):
        pd.testing.assert_frame_equal(got[key].reset_index(drop=True),
                                      ref[key].reset_index(drop=True), check_dtype=False,
                                      obj=key)
    pd.testing.assert_frame_equal(findings.compose(got), findings.compose(ref))


def test_duckdb_is_capped_per_process(monkeypatch):
    monkeypatch.setenv("KEHU_MEMORY_LIMIT", "300MB")
    monkeypatch.setenv("KEHU_THREADS", "1")
    con = kstore.connect()
    try:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    finally:
        con.close()
    assert threads == 1
    assert limit.replace(" ", "").upper().startswith(("286.1MIB", "300.0MB", "300MB", "286MIB"))
    # a quarter of the memory shared by the kernels and the batch process, at most 1 GB each
    assert kernel_memory_limit(2, total_bytes=8 << 30) == "682MB"
    assert kernel_memory_limit(1, total_bytes=64 << 30) == "1024MB"
    assert kernel_memory_limit(8, total_bytes=2 << 30) == "256MB"
    assert os.environ["KEHU_MEMORY_LIMIT"] == "300MB"


def test_shop_month_gives_the_district_trend_of_the_lines(store, lines):
    from kehu_lib.metrics import sales

    got = sales.sales_summary(aggregates.shop_month(None, MONTHS, store=store),
                              by=["district_code", "month"])
    ref = sales.sales_summary(lines, by=["district_code", "month"])
    pd.testing.assert_frame_equal(got, ref, check_dtype=False)
    shops = aggregates.shop_month("140109", MONTH, store=store)
    assert set(shops["district_code"]) == {"140109"}
    assert shops["lines"].sum() == ((lines["month"] == MONTH)
                                    & (lines["district_code"] == "140109")).sum()


def test_brand_trend_on_sku_sums_equals_the_lines(store, lines):
    from kehu_lib.metrics import brands

    prod = loaders.load_products(store=store)
    window = sorted(lines["month"].unique())
    got = brands.brand_trend(aggregates.sku_month(None, MONTHS, store=store), prod, months=window)
    ref = brands.brand_trend(lines, prod, months=window)
    pd.testing.assert_frame_equal(got, ref)


def test_forecast_series_sums_equal_the_lines(store):
    """forecast.pipeline.monthly_volume (now summed in DuckDB) against pandas on the lines."""
    from kehu_lib.forecast import pipeline

    got = pipeline.monthly_volume(MONTH, store=store)
    o = loaders.load_orders(None, None, store=store,
                            columns=["month", "district_code", "sku", "qty_ordered", "qty_supplied"])
    ref = o.groupby(["month", "district_code", "sku"], as_index=False)[
        ["qty_ordered", "qty_supplied"]].sum()
    got_sums = got.groupby(["month", "sku"])[["qty_ordered", "qty_supplied"]].sum()
    ref_sums = ref.groupby(["month", "sku"])[["qty_ordered", "qty_supplied"]].sum()
    pd.testing.assert_frame_equal(got_sums, ref_sums)
    assert len(got) == len(ref)
    assert list(got["month"]) == list(ref["month"]) and list(got["sku"]) == list(ref["sku"])
    # the forecasts ask for the supplied volume only: the same frame without qty_ordered
    only = pipeline.monthly_volume(MONTH, store=store, sums=("qty_supplied",))
    pd.testing.assert_frame_equal(only, got.drop(columns="qty_ordered"), check_exact=True)


def test_survey_volume_change_on_shop_sums_equals_the_lines(store):
    from kehu_lib.metrics import survey_groups

    months = ("2025-08", MONTH)
    o = loaders.load_orders(None, months, store=store, columns=["month", "license_id",
                                                                 "qty_ordered"])
    got = survey_groups.volume_change(aggregates.shop_month(None, months, store=store),
                                      month=MONTH)
    pd.testing.assert_frame_equal(got, survey_groups.volume_change(o, month=MONTH))
    # the report sums only the months compared (volume_change_months): the same frame
    only = aggregates.shop_month(None, survey_groups.volume_change_months(MONTH, 3), store=store)
    assert set(only["month"]) == {"2026-10", "2026-09", "2026-08", "2025-10", "2025-09",
                                  "2025-08"}
    pd.testing.assert_frame_equal(survey_groups.volume_change(only, month=MONTH), got,
                                  check_exact=True)
    # the report reads qty_ordered only (sums=, lines=False): the same sums
    few = aggregates.shop_month(None, survey_groups.volume_change_months(MONTH, 3), store=store,
                                sums=["qty_ordered"], lines=False)
    assert list(few.columns) == ["month", "district_code", "license_id", "qty_ordered"]
    pd.testing.assert_frame_equal(few, only[list(few.columns)], check_exact=True)


def test_forecast_page_market_check_on_the_ledger_equals_the_lines(store, monkeypatch):
    from kehu_lib.metrics import market
    from kehu_lib.reports import sales_forecast

    _, inv = sales_forecast._market_check("全市", MONTH, store=store)
    chk = loaders.load_price_checks(None, MONTH, store=store)
    od = loaders.load_orders(None, MONTH, store=store,
                             columns=["month", "license_id", "sku", "qty_supplied"])
    ref = market.social_inventory(chk, od, loaders.load_customers(None, store=store), month=MONTH)
    pd.testing.assert_frame_equal(inv, ref)


def test_district_volume_in_the_store_equals_the_plans_pandas_sums(store):
    """The plan's district volumes (with the key brands') summed by DuckDB equal exactly
    :func:`kehu_lib.plan.data.district_volume` over the plan's ledger in pandas (as the plan
    computed them before), for the city, one district and no key brand."""
    from kehu_lib.plan import data as pdata

    inputs = pdata.load_inputs(MONTH, store=store)
    ref = pdata.district_volume(inputs["orders"], inputs["products"])
    pd.testing.assert_frame_equal(inputs["district_volume"], ref, check_exact=True)
    assert ref["key_brand_volume"].gt(0).all() and (ref["key_brand_volume"] < ref["volume"]).all()
    months = (str(pd.Period(MONTH, "M") - pdata.HISTORY), MONTH)
    one = aggregates.district_volume([], "万柏林区", months, store=store)
    code = one["district_code"].iloc[0]
    mine = ref[ref["district_code"] == code].reset_index(drop=True)
    pd.testing.assert_frame_equal(one, mine.assign(key_brand_volume=0.0), check_exact=True)


def test_plan_uses_the_store_sums_only_beside_the_orders_read_with_them(store):
    """A caller that replaces ``inputs['orders']`` (e.g. a what-if without one district) gets
    the volumes of its own orders, not the store's sums of the ledger it no longer uses."""
    from kehu_lib.plan import data as pdata

    inputs = pdata.load_inputs(MONTH, store=store)
    assert pdata.volume_of_orders(inputs) is inputs["district_volume"]
    code = inputs["orders"]["district_code"].iloc[0]
    inputs["orders"] = inputs["orders"][inputs["orders"]["district_code"] != code]
    own = pdata.volume_of_orders(inputs)
    assert code not in set(own["district_code"])
    pd.testing.assert_frame_equal(own, pdata.district_volume(inputs["orders"], inputs["products"]))


def _duckdb_ledger(files, month):
    con = kstore.connect()
    try:
        sql = aggregates._lines_source(files, month) + " ORDER BY district_code, license_id, sku"
        return con.sql(sql).to_arrow_table()
    finally:
        con.close()


def test_numpy_ledger_equals_duckdbs_rows(small_store):
    """The cached ledger is summed with NumPy (:func:`aggregates._summed`): the same Arrow
    table (types, order, every double) as DuckDB's GROUP BY of the same files."""
    root = aggregates._root(small_store)
    for month in ("2025-02", MONTH):
        files = aggregates._order_files(month, root)
        got = aggregates._summed(files, month)
        ref = _duckdb_ledger(files, month)
        assert got is not None and got.schema.equals(ref.schema)
        assert got.equals(ref)


def test_numpy_ledger_falls_back_to_duckdb_on_lines_it_cannot_sum_exactly(small_store, tmp_path):
    """Fractional amounts (sums then depend on their order), missing values, a district part
    of another layout: ``_summed`` declines and the cache is DuckDB's, equal to pandas."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    own = writable_copy(small_store, tmp_path / "store")
    root = aggregates._root(own)
    files = aggregates._order_files(MONTH, root)
    t = pq.read_table(files[0])
    amount = pa.array(t.column("amount").to_numpy() + 0.1)
    pq.write_table(t.set_column(t.schema.get_field_index("amount"), "amount", amount), files[0])
    assert aggregates._summed(files, MONTH) is None
    qty = t.column("qty_ordered").to_numpy().copy()
    with_null = pa.array(qty, mask=(pd.Series(range(len(qty))) == 3).to_numpy())
    pq.write_table(t.set_column(t.schema.get_field_index("qty_ordered"), "qty_ordered", with_null),
                   files[1])
    assert aggregates._summed(files[1:], MONTH) is None
    assert aggregates._summed([tmp_path / "x.parquet"], MONTH) is None  # not a partition folder
    assert aggregates.ensure_month(MONTH, store=own) is True
    lines = loaders.load_orders(None, MONTH, store=own,
                                columns=KEYS + ["qty_ordered", "qty_supplied", "amount"])
    got = aggregates.shop_sku_month(None, MONTH, store=own)
    ref = _reference(lines)
    pd.testing.assert_frame_equal(got, ref, check_dtype=False, check_exact=False)
    assert got["lines"].sum() == len(lines)


def test_district_sku_month_reads_only_the_sums_asked(store):
    full = aggregates.district_sku_month(None, MONTHS, store=store)
    two = aggregates.district_sku_month(None, MONTHS, store=store,
                                        sums=("qty_supplied", "qty_ordered"))
    assert list(two.columns) == ["month", "district_code", "sku", "qty_ordered", "qty_supplied"]
    pd.testing.assert_frame_equal(two, full[list(two.columns)], check_exact=True)
