"""kehu_lib.frames: the fast isin / joined give exactly pandas' own results (Series.isin,
groupby().agg(sep.join)), and the plan functions that use them give the frames of the old
computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kehu_lib.frames import isin, joined


def _ids(rng, n, k=300):
    pool = np.array([f"14010{i:07d}" for i in range(k)], dtype=object)
    s = pd.Series(pool[rng.integers(0, k, n)], dtype="str")
    s[rng.random(n) < 0.05] = None
    return s


@pytest.mark.parametrize("dtype", ["str", "string[pyarrow]", "string[python]", "object"])
def test_isin_is_series_isin(dtype):
    rng = np.random.default_rng(7)
    s = _ids(rng, 5000).astype(dtype)
    some = list(dict.fromkeys(s.dropna().iloc[:150]))
    for values in (set(some), some, pd.Series(some, dtype="str"), [], {"nope"},
                   [*some[:3], None], [*some[:3], np.nan], [1, 2, *some[:3]], ("x",),
                   pd.Index(some)):
        want = s.isin(values).to_numpy()
        got = isin(s, values)
        assert got.dtype == bool and len(got) == len(s)
        np.testing.assert_array_equal(got, want)


def test_isin_of_a_row_selection_and_of_a_chunked_column():
    rng = np.random.default_rng(3)
    s = _ids(rng, 4000)
    part = s[s.index % 3 == 0]  # not starting at 0, not contiguous
    chunked = pd.concat([s.iloc[:1000], s.iloc[1000:]])
    values = set(s.dropna().iloc[:50])
    for col in (part, chunked, s.iloc[0:0]):
        np.testing.assert_array_equal(isin(col, values), col.isin(values).to_numpy())


def test_joined_is_groupby_agg_join():
    rng = np.random.default_rng(11)
    keys = _ids(rng, 3000, k=400)
    vals = pd.Series(rng.choice(["销量", "单条值", "重点品牌", "KZB-01"], len(keys)), dtype="str")
    frame = pd.DataFrame({"k": keys, "v": vals}).sample(frac=1.0, random_state=1)
    want = frame.groupby("k")["v"].agg("、".join)
    pd.testing.assert_series_equal(joined(frame["k"], frame["v"], "、"), want)
    empty = frame.iloc[:0]
    got = joined(empty["k"], empty["v"], ";")
    assert got.empty and got.index.name == "k"


def _old_shop_priority(states, values, thresholds=None):
    """kehu_lib.plan.priority.shop_priority before #16 (the problems joined per group)."""
    from kehu_lib.plan.priority import DEFAULTS, shop_weight

    f = states[states["flagged"]].sort_values("severity", ascending=False)
    agg = f.groupby("license_id").agg(n_flags=("indicator", "size"),
                                      gap_score=("severity", "sum"),
                                      problems=("indicator_zh", lambda s: "、".join(s)))
    attrs = [c for c in ("license_id", "district_code", "manager_id", "business_format",
                         "trade_area", "tier", "key_account", "volume", "amount")
             if c in values.columns]
    out = values[attrs].assign(weight=shop_weight(values, thresholds=thresholds).to_numpy())
    out = out.join(agg, on="license_id")
    out["n_flags"] = out["n_flags"].fillna(0).astype("int64")
    out["gap_score"] = out["gap_score"].fillna(0.0)
    out["problems"] = out["problems"].fillna("").astype("string")
    out["priority"] = out["gap_score"] * out["weight"]
    out = out.sort_values(["manager_id", "priority", "license_id"], ascending=[True, False, True],
                          ignore_index=True)
    out["rank"] = out.groupby("manager_id").cumcount() + 1
    return out[attrs + ["n_flags", "gap_score", "weight", "priority", "rank", "problems"]]


@pytest.fixture(scope="module")
def city(small_store):
    from kehu_lib.plan import data as pdata, shared, strategies
    from kehu_lib.plan.thresholds import load_thresholds

    t = load_thresholds()
    inputs = pdata.load_inputs("2026-10", store=small_store)
    lib = strategies.load_library()
    return inputs, t, lib, shared.city_part(inputs, t, lib, store=small_store)


def test_plan_frames_are_the_old_computation(city):
    """The plan's priority, key shops and week plan against the old per-group joins."""
    from kehu_lib.plan import priority, strategies

    inputs, t, lib, part = city
    states, values = part["states"], part["values"]
    actions = part["district_actions"]
    own = strategies.shop_level_states(states, actions)
    old = _old_shop_priority(own, values, t)
    new = priority.shop_priority(own, values, thresholds=t)
    pd.testing.assert_frame_equal(new, old)
    assert (new["problems"] != "").sum() > 100
    # key shops: strategy codes and names joined per shop, as groupby().agg(sep.join) did
    ks = part["key_shops"]
    s = part["shop_strategies"]
    s = s[s["license_id"].isin(set(ks["license_id"]))].sort_values(["license_id", "order"])
    want = ks["license_id"].map(s.groupby("license_id")["code"].agg(";".join))
    pd.testing.assert_series_equal(ks["strategy_codes"], want, check_names=False)
    want = ks["license_id"].map(s.groupby("license_id")["name"].agg("、".join))
    pd.testing.assert_series_equal(ks["strategy_names"], want, check_names=False)
    # the week plan's problems and strategies per key shop
    w = part["week_plan"]
    fl = own[own["flagged"] & own["license_id"].isin(set(ks["license_id"]))].sort_values(
        ["license_id", "severity"], ascending=[True, False])
    want = w["license_id"].map(fl.groupby("license_id")["indicator"].agg(";".join))
    pd.testing.assert_series_equal(w["problems"], want.astype("string"), check_names=False)
    ss = part["shop_strategies"].sort_values(["license_id", "order"])
    want = w["license_id"].map(ss.groupby("license_id")["code"].agg(";".join))
    pd.testing.assert_series_equal(w["strategy_codes"], want.astype("string"),
                                   check_names=False)


def test_cause_names_are_the_table_lookup(city):
    from kehu_lib.present import plan_text

    lib = city[2]
    for cause in [*lib.causes["cause"].unique(), "no_such_cause"]:
        hit = lib.causes.loc[lib.causes["cause"] == cause, "cause_zh"]
        want = str(hit.iloc[0]) if len(hit) else cause
        assert lib.cause_name(cause) == want == plan_text._cause(lib, cause)
    assert plan_text._cause(lib, None) == "" == plan_text._cause(lib, "")


def _old_order_aggregate(sql, *, months, district=None, store=None, tables=None):
    """kehu_lib.reports.market_sections.order_aggregate before #16: over the order lines."""
    from pathlib import Path

    from kehu_lib import config, store as kstore

    code = None if district is None else getattr(config.resolve_district(district), "code", None)
    files = []
    for m in months:
        folder = kstore.partition_dir("orders", [m], store)
        subs = [folder / f"district_code={code}"] if code else sorted(folder.glob("district_code=*"))
        for sub in subs:
            files += [f.as_posix() for f in sorted(Path(sub).glob("*.parquet"))]
    con = kstore.connect()
    try:
        for name, df in (tables or {}).items():
            con.register(name, df)
        listing = ", ".join(f"'{f}'" for f in files)
        con.execute(f"CREATE TEMP VIEW orders AS SELECT * FROM read_parquet([{listing}], "
                    "hive_partitioning=true, hive_types={'month': VARCHAR, "
                    "'district_code': VARCHAR})")
        return con.sql(sql).df()
    finally:
        con.close()


@pytest.mark.parametrize("district", [None, "小店区"])
def test_market_order_aggregates_are_those_of_the_order_lines(small_store, district, tmp_path):
    """The market report's queries over the monthly ledger (cached or summed on the fly) give
    the frames they gave over the order lines."""
    from kehu_lib import aggregates, loaders
    from kehu_lib.metrics.brands import new_products
    from kehu_lib.reports import market_sections as ms

    from conftest import writable_copy

    month = "2026-10"
    prod = loaders.load_products(store=small_store)
    months = ms._window(month, 4) + ["2025-10"]
    new = new_products(prod, month=month, within_months=6)[["sku"]].astype(str)
    ids = pd.DataFrame({"license_id": loaders.load_customers(None, store=small_store)[
        "license_id"].astype(str).iloc[::7]})
    queries = [
        ("SELECT o.month, o.district_code, o.license_id, p.price_class, "
         "SUM(o.qty_ordered) AS qty_ordered, SUM(o.qty_supplied) AS qty_supplied, "
         "SUM(o.amount) AS amount FROM orders o JOIN products p USING (sku) "
         "GROUP BY ALL ORDER BY ALL", {"products": prod[["sku", "price_class"]]}),
        ("SELECT month, SUM(qty_supplied) AS volume FROM orders GROUP BY month ORDER BY month",
         {}),
        ("SELECT o.month, o.license_id, SUM(o.qty_supplied) AS qty_supplied FROM orders o "
         "JOIN ka USING (license_id) GROUP BY ALL ORDER BY ALL", {"ka": ids}),
        ("SELECT o.month, CASE WHEN ka.license_id IS NULL THEN NULL ELSE o.license_id END "
         "AS license_id, o.sku, SUM(o.qty_ordered) AS qty_ordered, "
         "SUM(o.qty_supplied) AS qty_supplied FROM orders o LEFT JOIN ka USING (license_id) "
         "GROUP BY ALL ORDER BY ALL", {"ka": ids}),
        ("SELECT o.month, o.license_id, CASE WHEN n.sku IS NULL THEN '' ELSE o.sku END AS sku,"
         " SUM(o.qty_supplied) AS qty_supplied FROM orders o LEFT JOIN new n USING (sku) "
         "WHERE o.qty_supplied > 0 GROUP BY ALL ORDER BY ALL", {"new": new}),
    ]
    cached = writable_copy(small_store, tmp_path / "store")
    aggregates.ensure_month_aggregates(month, cached)
    for sql, tables in queries:
        want = _old_order_aggregate(sql, months=months, district=district, store=small_store,
                                    tables=tables)
        assert len(want) > 0
        for st in (small_store, cached):  # summed from the lines / read from the cache
            got = ms.order_aggregate(sql, months=months, district=district, store=st,
                                     tables=tables)
            pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12)


def test_looked_up_equals_per_key_column_by_column():
    """looked_up factorizes the keys once for several columns: each column the same Series as
    per_key's lookup of it (text, float and boolean columns; with and without a missing key
    and keys missing from the table)."""
    from kehu_lib.frames import looked_up, per_key

    rng = np.random.default_rng(5)
    table = pd.DataFrame({"v": pd.array([f"组{i % 7}" for i in range(50)], dtype="str"),
                          "p": rng.normal(size=50), "b": [bool(i % 2) for i in range(50)]},
                         index=pd.Index([f"s{i}" for i in range(50)], dtype="str", name="k"))
    for with_missing in (False, True):
        keys = pd.Series(pd.array([f"s{i}" for i in rng.integers(0, 60, 2_000)], dtype="str"),
                         index=np.arange(5, 2_005), name="k")
        if with_missing:
            keys.iloc[[3, 700]] = None
        got = looked_up(keys, table, ["v", "p", "b"])
        assert list(got) == ["v", "p", "b"]
        for col, values in got.items():
            pd.testing.assert_series_equal(values, per_key(keys, table[col].reindex),
                                           check_exact=True)


def test_per_key_equals_the_left_merge_and_the_per_row_map():
    """per_key looks a column up once per distinct key: the merged column of a left merge on a
    key unique in the right table, and the per-row map's Series (dtype, missing keys, keys
    missing from the table), with and without a missing key."""
    from kehu_lib.frames import per_key

    rng = np.random.default_rng(4)
    table = pd.DataFrame({"k": pd.array([f"s{i}" for i in range(50)], dtype="str"),
                          "v": pd.array([f"组{i % 7}" for i in range(50)], dtype="str"),
                          "b": [bool(i % 2) for i in range(50)]})
    for with_missing in (False, True):
        keys = pd.Series(pd.array([f"s{i}" for i in rng.integers(0, 60, 2_000)], dtype="str"),
                         index=np.arange(5, 2_005), name="k")
        if with_missing:
            keys.iloc[[3, 700]] = None
        for col in ("v", "b"):
            merged = keys.to_frame().merge(table[["k", col]], on="k", how="left")[col]
            got = per_key(keys, table.set_index("k")[col].reindex)
            pd.testing.assert_series_equal(got.reset_index(drop=True),
                                           merged.rename("k"), check_exact=True)
            assert got.index.equals(keys.index)
        fn = (lambda x: "none" if pd.isna(x) else x.upper())
        pd.testing.assert_series_equal(per_key(keys, lambda s: s.map(fn)), keys.map(fn),
                                       check_exact=True)


def test_pair_lookup_is_the_join_on_shop_and_sku():
    """pair_lookup matches (license_id, sku) pairs on integer codes: the column a left join of
    a groupby mean on the two keys gives (pairs without rows, rows without a pair, missing
    keys in the rows, a row index that is not a range)."""
    from kehu_lib.frames import pair_lookup

    rng = np.random.default_rng(6)
    shops = [f"1401{i:08d}" for i in range(300)]
    skus = [f"69{i:04d}" for i in range(12)]
    rows = pd.DataFrame({"license_id": pd.array(rng.choice(shops, 5_000), dtype="string"),
                         "sku": pd.array(rng.choice(skus, 5_000), dtype="string"),
                         "qty": rng.random(5_000)}, index=np.arange(10, 5_010) * 3)
    rows.loc[rows.index[[5, 90]], "license_id"] = None
    rows.loc[rows.index[[7, 90, 400]], "sku"] = None
    checks = pd.DataFrame({"license_id": pd.array(rng.choice(shops + ["1499"], 2_000),
                                                  dtype="string"),
                           "sku": pd.array(rng.choice(skus + ["690099"], 2_000), dtype="string"),
                           "retail_price": rng.integers(100, 900, 2_000) / 10})
    obs = checks.groupby(["license_id", "sku"])["retail_price"].mean().rename("_obs")
    want = rows.join(obs, on=["license_id", "sku"])["_obs"]
    got = pair_lookup(rows, obs)
    pd.testing.assert_series_equal(got, want, check_exact=True)
    assert got.notna().sum() > 1_000 and got.isna().any()


@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_rows_of_and_isin_runs_are_the_boolean_selection(order):
    from kehu_lib.frames import isin_runs, rows_of

    rng = np.random.default_rng(5)
    months = [f"2026-{m:02d}" for m in range(1, 11)]
    df = pd.DataFrame({"month": pd.array(np.repeat(months, rng.integers(0, 40, len(months))),
                                         dtype="string"),
                       "x": 0.0})
    df["x"] = rng.random(len(df))
    if order == "shuffled":
        df = df.sample(frac=1.0, random_state=1)
    for values in (["2026-05"], months[2:6], [months[1], months[7]], [], ["2030-01"], months,
                   {"2026-10", "2026-09"}):
        want = df[df["month"].isin(list(values))]
        got = rows_of(df, "month", values)
        pd.testing.assert_frame_equal(got, want)
        assert (isin_runs(df["month"], values) == df["month"].isin(list(values))).all()
    slice_ = rows_of(df, "month", months[2:6])
    if order == "sorted":  # a slice: the same memory, no copy
        assert np.shares_memory(slice_["x"].to_numpy(), df["x"].to_numpy())
    # missing months: the boolean selection
    na = df.assign(month=df["month"].where(df.index % 7 != 0))
    pd.testing.assert_frame_equal(rows_of(na, "month", months[:3]),
                                  na[na["month"].isin(months[:3])])
    assert (isin_runs(na["month"], months[:3]) == na["month"].isin(months[:3])).all()


def test_run_values_are_the_distinct_values():
    from kehu_lib.frames import run_values

    s = pd.Series(["b", "b", "a", None, "a", "c"], dtype="string")
    assert run_values(s) == {"a", "b", "c"} == run_values(s.astype(object))
    assert run_values(s.iloc[:0]) == set()
