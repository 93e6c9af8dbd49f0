"""The month's forecasts on the small sample store: runs, is coherent, caches, feeds the plan."""


import numpy as np
import pandas as pd
import pytest

from kehu_lib import config
from kehu_lib.forecast import pipeline, plan, report

from conftest import writable_copy


@pytest.fixture(scope="module")
def store(small_store, tmp_path_factory):
    """A writable copy of the small store (the cache is written beside the data)."""
    return writable_copy(small_store, tmp_path_factory.mktemp("fc") / "store")


@pytest.fixture(scope="module")
def built(store):
    # the cheapest model keeps the test fast; the full set runs in the batch and the benchmark
    return pipeline.build_month_forecasts("2026-10", store, candidates=("snaive",),
                                          sku_model="snaive")


def test_build_writes_cache_and_loads(built, store):
    folder = pipeline.cache_dir("2026-10", store)
    for name in ("forecasts", "backtest", "series"):
        assert (folder / f"{name}.parquet").exists()
    fc = pipeline.load_month_forecasts("2026-10", "万柏林区", store=store)
    assert set(fc["district"]) == {"万柏林区"}
    assert list(fc.columns[:8]) == ["unique_id", "ds", "model", "mean", "lo_80", "hi_80",
                                    "lo_95", "hi_95"]
    # horizon: November and December 2026, at least 3 months -> Nov..Jan
    assert sorted(fc["ds"].dt.strftime("%Y-%m").unique()) == ["2026-11", "2026-12", "2027-01"]


def test_forecasts_are_coherent(built):
    f = built[built["level"] != "规格"].set_index(["unique_id", "ds"])["mean"]
    for ds in built["ds"].unique():
        sub = built[(built["ds"] == ds) & (built["level"] != "规格")]
        total = sub[sub["level"] == "总量"].set_index("district")["mean"]
        districts = [d.name for d in config.DISTRICTS if d.name in total.index]
        assert total[config.CITY] == pytest.approx(total[districts].sum(), rel=1e-9)
        for lvl in ("价类", "品牌"):
            parts = sub[sub["level"] == lvl].groupby("district")["mean"].sum()
            np.testing.assert_allclose(parts[total.index], total, rtol=1e-9)
    assert (f >= 0).all()


def test_intervals_bracket_the_mean(built):
    b = built
    assert (b["lo_95"] <= b["lo_80"] + 1e-9).all() and (b["lo_80"] <= b["mean"] + 1e-9).all()
    assert (b["mean"] <= b["hi_80"] + 1e-9).all() and (b["hi_80"] <= b["hi_95"] + 1e-9).all()


def test_sku_plan_adds_up_to_district_total(built):
    nxt = built[built["ds"] == built["ds"].min()]
    sku = nxt[nxt["level"] == "规格"].groupby("district")["mean"].sum()
    tot = nxt[nxt["level"] == "总量"].set_index("district")["mean"]
    np.testing.assert_allclose(sku[tot.index], tot, rtol=1e-6)


def test_reconciled_no_worse_than_base_on_average(built, store):
    bt = pipeline.load_backtest("2026-10", pipeline.ALL, store=store)
    check = report.reconciliation_check(bt)
    assert not check.empty
    # measured: reconciliation never worsens the average MASE much at any level
    assert check["mase_reconciled"].mean() <= check["mase_base"].mean() * 1.02


def test_demand_plan_marks_rationed_items(built, store, tmp_path):
    d = plan.demand_plan("2026-10", "万柏林区", store=store)
    assert d["sku"].is_unique and (d["mean"] >= 0).all()
    # 订单满足率 = supplied / ordered over the history months
    hist = plan.order_history("2026-10", "万柏林区", months=3, store=store)
    one = hist.groupby("sku")[["qty_ordered", "qty_supplied"]].sum().iloc[0]
    row = d.set_index("sku").loc[one.name]
    assert row["fill_rate"] == pytest.approx(one["qty_supplied"] / one["qty_ordered"])
    assert (d["rationed"] == (d["fill_rate"] < 0.95)).all()
    paths = plan.write_plan(d, tmp_path, month="2026-10", district="万柏林区")
    from kehu_lib.present import glossary

    sku_header = glossary.header("sku")  # 规格代码
    back = pd.read_excel(paths["xlsx"], dtype={sku_header: str})
    assert len(back) == len(d) and glossary.header("fill_rate") in back.columns
    assert set(back[sku_header]) == set(d["sku"].astype(str))
    import openpyxl

    ws = openpyxl.load_workbook(paths["xlsx"])["货源投放建议"]
    assert ws["A1"].value == sku_header and ws.freeze_panes == "A2"
    assert ws["A2"].data_type == "s" and ws["A2"].number_format == "@"
    with pytest.raises(ValueError, match="fill_threshold"):
        plan.demand_plan("2026-10", "万柏林区", store=store, fill_threshold=1.5)


def test_interval_scale_hand_computed():
    # errors of 1, 2, 3, 4 against half-widths of 2 (80%) and 4 (95%): r80 = .5, 1, 1.5, 2
    bt = pd.DataFrame({"level": "总量", "y": [11.0, 8.0, 13.0, 6.0], "mean": 10.0,
                       "lo_80": 8.0, "hi_80": 12.0, "lo_95": 6.0, "hi_95": 14.0})
    sc = pipeline.interval_scale(bt).iloc[0]
    assert sc["scale_80"] == pytest.approx(np.quantile([0.5, 1, 1.5, 2], 0.8))  # numpy: 1.7
    assert sc["scale_95"] == 1.0  # r95 = .25 .. 1: quantile < 1 -> never narrowed
    fc = pd.DataFrame({"level": ["总量"], "mean": [10.0], "lo_80": [8.0], "hi_80": [12.0],
                       "lo_95": [6.0], "hi_95": [14.0]})
    out = pipeline.calibrate_intervals(fc, bt).iloc[0]
    assert out["hi_80"] == pytest.approx(10 + 2 * 1.7) and out["lo_95"] == pytest.approx(6.0 - 0.0)


def test_reason_codes_and_model_choice_table(built, store):
    from kehu_lib.forecast.select import REASONS

    assert built["reason"].notna().all() and set(built["reason"]) <= set(REASONS)
    fc = pipeline.load_month_forecasts("2026-10", "万柏林区", store=store)
    bt = pipeline.load_backtest("2026-10", "万柏林区", store=store)
    t = report.model_choice(fc, bt)
    assert set(t["level"]) <= {"总量", "价类"} and t["unique_id"].is_unique
    assert list(t["level"].iloc[:1]) == ["总量"]
    tot = t[t["level"] == "总量"].iloc[0]
    # the evidence is the candidates' backtest rows of the series: recompute the MASE
    b = bt[(bt["unique_id"] == tot["unique_id"]) & (bt["model"] == "snaive")]
    assert tot["mase_snaive"] == pytest.approx(float((abs(b["mean"] - b["y"]) / b["scale"]).mean()))
    assert tot["origins"] == 2 and tot["n"] == 12


def test_order_history_is_the_order_lines_summed(store):
    """order_history reads the monthly ledger (kehu_lib.aggregates); it must equal the order
    lines grouped by SKU and month (pandas on the raw lines), for the city and a district,
    inside the cached months and before them (no ledger cache there)."""
    from kehu_lib import aggregates, loaders

    aggregates.ensure_month_aggregates("2026-10", store)  # the ledger of the last 15 months
    assert aggregates._current("2026-09", store) is not None
    assert aggregates._current("2024-06", store) is None
    for district in ("全市", "万柏林区"):
        for month, months in (("2026-10", 3), ("2024-06", 2)):
            end = pd.Period(month, "M")
            lines = loaders.load_orders(district, months=(str(end - months + 1), month),
                                        store=store,
                                        columns=["month", "sku", "qty_ordered", "qty_supplied"])
            want = lines.groupby(["sku", "month"], as_index=False, observed=True)[
                ["qty_ordered", "qty_supplied"]].sum()
            want["fill_rate"] = want["qty_supplied"] / want["qty_ordered"].where(
                want["qty_ordered"] > 0)
            got = plan.order_history(month, district, months=months, store=store)
            assert len(got) > 0
            pd.testing.assert_frame_equal(got, want, check_exact=True)
