"""The plan's precompute on less data and fewer copies (kehu_lib.plan.data / shared, the ledger
helpers of kehu_lib.frames): every shortcut against the straightforward computation it replaces.

- the lean ledger of ``load_inputs(thresholds=...)`` (months before ``month`` − 8: only the key
  accounts' and new SKUs' rows) gives the city-wide plan of the whole ledger, frame by frame;
- month windows cut as slices (``rows_of``, ``isin_runs``) give the plan of boolean selections;
- the states interleaved per shop equal the states sorted; key-brand change, managers' targets and
  the DiD's t functions equal their former row-level / scipy.stats computations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kehu_lib import aggregates, frames
from kehu_lib.metrics import customers as cm
from kehu_lib.plan import data as pdata
from kehu_lib.plan import evaluate, indicators, key_accounts, priority, shared, strategies
from kehu_lib.plan.thresholds import load_thresholds

MONTH = "2026-10"


@pytest.fixture(scope="module")
def full(small_store):
    return pdata.load_inputs(MONTH, store=small_store)


@pytest.fixture(scope="module")
def lean(small_store):
    return pdata.load_inputs(MONTH, store=small_store, thresholds=load_thresholds())


def _same_part(a: dict, b: dict) -> None:
    for name in shared.FRAMES:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True, obj=name)
    assert a["targets_note"] == b["targets_note"]


def test_lean_inputs_drop_old_rows_but_keep_sums_and_months(full, lean, small_store):
    od, lo = full["orders"], lean["orders"]
    first = str(pd.Period(MONTH, "M") - pdata.FULL_MONTHS)
    # the recent months whole, the old ones cut (the small sample loses most of their rows)
    pd.testing.assert_frame_equal(lo[lo["month"] >= first].reset_index(drop=True),
                                  od[od["month"] >= first].reset_index(drop=True))
    assert 0 < (lo["month"] < first).sum() < (od["month"] < first).sum() / 2
    # the volumes and months are those of the whole ledger, as pandas and DuckDB sum them
    ref = pdata.district_volume(od, full["products"])
    pd.testing.assert_frame_equal(lean["district_volume"], ref, check_exact=True)
    pd.testing.assert_frame_equal(full["district_volume"], ref, check_exact=True)
    key = full["products"].loc[full["products"]["key_brand"].fillna(False).astype(bool), "sku"]
    duck = aggregates.district_volume(key.tolist(), None,
                                      (str(pd.Period(MONTH, "M") - pdata.HISTORY), MONTH),
                                      store=small_store)
    pd.testing.assert_frame_equal(duck, ref, check_exact=True)
    assert pdata.months_of_orders(lean) == sorted(od["month"].unique())
    # a caller replacing the orders gets its own months
    assert pdata.months_of_orders({**lean, "orders": od[od["month"] >= first]}) == sorted(
        od.loc[od["month"] >= first, "month"].unique())


def test_lean_inputs_give_the_plan_of_the_whole_ledger(full, lean, small_store):
    t, lib = load_thresholds(), strategies.load_library()
    _same_part(shared.city_part(lean, t, lib, store=small_store),
               shared.city_part(full, t, lib, store=small_store))


def _selected(df, col, values):
    return df[df[col].isin(list(values))]


def _isin(s, values):
    return s.isin(list(values)).to_numpy(dtype=bool)


def test_month_slices_give_the_plan_of_boolean_selections(full, small_store, monkeypatch):
    t, lib = load_thresholds(), strategies.load_library()
    got = shared.city_part(full, t, lib, store=small_store)
    for mod in (indicators, shared, cm):
        monkeypatch.setattr(mod, "rows_of", _selected)
    monkeypatch.setattr(cm, "isin_runs", _isin)
    _same_part(got, shared.city_part(full, t, lib, store=small_store))


def test_states_interleaved_equal_states_sorted(full):
    t = load_thresholds()
    values = indicators.indicator_values(full["orders"], full["products"], full["customers"],
                                         full["checks"], month=MONTH, thresholds=t)
    assert values["license_id"].is_monotonic_increasing
    got = indicators.shop_states(values, thresholds=t)
    # reversed shops: not sorted, so the states are sorted as before
    ref = indicators.shop_states(values.iloc[::-1].reset_index(drop=True), thresholds=t)
    pd.testing.assert_frame_equal(got, ref, check_exact=True)


def _key_brand_change_reference(orders, products, *, month, current_months=2, baseline_lag=4,
                                baseline_months=3, relative=True, min_baseline=40.0):
    """The former row-level computation: a groupby on (shop, key brand, current month)."""
    p = pd.Period(month, freq="M")
    base_months = [str(p - baseline_lag - i) for i in range(baseline_months)]
    cur_months = [str(p - i) for i in range(current_months)]
    key = set(products.loc[products["key_brand"].fillna(False).astype(bool), "sku"])
    df = orders[["license_id", "sku", "month", "qty_supplied"]]
    df = df[df["month"].isin(base_months + cur_months)]
    df = df.assign(_kb=df["sku"].isin(key), _cur=df["month"].isin(cur_months))
    g = df.groupby(["license_id", "_kb", "_cur"])["qty_supplied"].sum().unstack(
        ["_kb", "_cur"], fill_value=0.0)

    def col(kb, cur, n):
        return (g[(kb, cur)] if (kb, cur) in g.columns else pd.Series(0.0, index=g.index)) / n

    out = pd.DataFrame({"baseline": col(True, False, baseline_months),
                        "current": col(True, True, current_months)}, index=g.index)
    other_base = col(False, False, baseline_months)
    out["other_ratio"] = (col(False, True, current_months) / other_base.where(other_base > 0)
                          if relative else np.nan)
    out = out[out["baseline"] >= min_baseline].copy()
    ratio = out["current"] / out["baseline"]
    if relative:
        ratio = ratio / out["other_ratio"].where(out["other_ratio"] > 0)
    out["change_ratio"] = ratio
    out = out.reset_index()
    out.columns.name = None
    return out[["license_id", "baseline", "current", "other_ratio", "change_ratio"]]


@pytest.mark.parametrize("month", ["2026-10", "2026-08", "2026-01"])
def test_key_brand_change_equals_the_row_level_groupby(full, month):
    od, prod = full["orders"], full["products"]
    shuffled = od.sample(frac=1.0, random_state=3)  # not sorted by month: no slices
    for kw in ({}, {"relative": False, "min_baseline": 0.0}, {"baseline_lag": 3}):
        ref = _key_brand_change_reference(od, prod, month=month, **kw)
        assert len(ref)
        pd.testing.assert_frame_equal(cm.key_brand_change(od, prod, month=month, **kw), ref,
                                      check_exact=True)
        pd.testing.assert_frame_equal(cm.key_brand_change(shuffled, prod, month=month, **kw),
                                      _key_brand_change_reference(shuffled, prod, month=month,
                                                                  **kw), check_exact=True)


def test_key_brand_change_sums_of_fractions_and_missing_quantities(full):
    """Whole 条 are summed by bincount (exact), a fractional quantity by the groupby (its
    compensated sum); a missing quantity counts 0 on both ways: the row-level groupby's result."""
    od, prod = full["orders"], full["products"]
    rng = np.random.default_rng(5)
    fractional = od.assign(qty_supplied=od["qty_supplied"] * 1.37 + rng.random(len(od)) / 3)
    missing = od.assign(qty_supplied=od["qty_supplied"].where(rng.random(len(od)) > 0.05))
    assert missing["qty_supplied"].isna().any()
    for orders in (fractional, missing):
        pd.testing.assert_frame_equal(
            cm.key_brand_change(orders, prod, month=MONTH),
            _key_brand_change_reference(orders, prod, month=MONTH), check_exact=True)


def test_manager_targets_equal_the_row_level_sums(full):
    """Summed per shop first, then per manager: the former merge of every order row."""
    od, prod, cust = full["orders"], full["products"], full["customers"]
    fc = {c: 1.0e6 for c in od["district_code"].unique()}
    got = priority.manager_targets(od, prod, cust, month=MONTH, district_forecast=fc)
    months = [str(pd.Period(MONTH, "M") - i) for i in range(3)]
    key = set(prod.loc[prod["key_brand"].fillna(False).astype(bool), "sku"])
    rows = od[od["month"].isin(months)].merge(cust[["license_id", "manager_id"]],
                                             on="license_id", how="left")
    rows = rows.assign(_kb=rows["qty_supplied"].where(rows["sku"].isin(key), 0.0))
    g = rows.groupby(["district_code", "manager_id"]).agg(
        shops=("license_id", "nunique"), volume=("qty_supplied", "sum"),
        kb=("_kb", "sum")).reset_index()
    for c in ("district_code", "manager_id", "shops"):
        pd.testing.assert_series_equal(got[c], g[c])
    tot = g.groupby("district_code")["volume"].transform("sum")
    pd.testing.assert_series_equal(got["share"], g["volume"] / tot, check_names=False,
                                   check_exact=True)
    pd.testing.assert_series_equal(got["key_brand_share"], g["kb"] / g["volume"],
                                   check_names=False, check_exact=True)


def test_did_t_functions_equal_scipy_stats():
    """The CI and p value of the DiD with scipy.special equal scipy.stats.t's exactly."""
    rng = np.random.default_rng(11)
    d = rng.normal(size=60)
    t = rng.random(60) < 0.3
    r = evaluate.did_arrays(d, t, [rng.choice(["a", "b", "c"], 60)])
    dof = 60 - 4
    q = stats.t.ppf(0.975, dof)
    assert r["ci_low"] == r["estimate"] - q * r["se"]
    assert r["ci_high"] == r["estimate"] + q * r["se"]
    assert r["p_value"] == float(2 * stats.t.sf(abs(r["estimate"] / r["se"]), dof))


def test_key_accounts_months_with_orders(full):
    """A month with orders is 0 for a key account that did not order, even when the frame
    holds none of its rows (as the lean ledger may); a month without orders has no volume."""
    od, cust = full["orders"], full["customers"]
    ka = set(cust.loc[cust["key_account"].fillna(False).astype(bool), "license_id"])
    gone = str(pd.Period(MONTH, "M") - 12)  # a month of last year's 同比
    cut = od[~(od["license_id"].isin(ka) & (od["month"] == gone))]  # no key account ordered
    only = cut[cut["month"] != gone]  # ... and the month's other rows dropped
    ref = key_accounts.key_account_list(cut, cust, month=MONTH)
    got = key_accounts.key_account_list(only, cust, month=MONTH,
                                        months_with_orders=sorted(od["month"].unique()))
    pd.testing.assert_frame_equal(got, ref)
    # without the month: no volume, so no 同比
    none = key_accounts.key_account_list(only, cust, month=MONTH)
    assert none["yoy"].isna().all() and ref["yoy"].notna().any()


def test_forecast_dir_is_the_forecast_modules_cache_dir(small_store):
    from kehu_lib.forecast import pipeline

    for store in (None, small_store):
        assert pdata.forecast_dir(MONTH, store) == pipeline.cache_dir(MONTH, store)


def test_peer_groups_made_once_give_peer_comparison(full):
    t = load_thresholds()
    values = indicators.indicator_values(full["orders"], full["products"], full["customers"],
                                         full["checks"], month=MONTH, thresholds=t)
    groups = indicators._peer_groups(values)
    for value in ("volume", "shop_stock_ratio", "key_brand_change", "new_product_adoption"):
        for mp in (1, 3, 40):
            ref = cm.peer_comparison(values, value=value, peer_keys=indicators.PEER_LEVELS[0],
                                     fallback=indicators.PEER_LEVELS[1:], min_peers=mp)
            pd.testing.assert_frame_equal(indicators._peer(values, value, mp, groups), ref,
                                          check_exact=True)
