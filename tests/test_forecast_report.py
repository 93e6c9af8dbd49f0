"""Report helpers: unit conversion to 箱, Jan/Feb backtest column, last month's check."""

import pandas as pd
import pytest

from kehu_lib.forecast import report


def _fc():
    return pd.DataFrame({"unique_id": ["A|总量|合计"] * 2,
                         "ds": pd.to_datetime(["2026-11-01", "2026-12-01"]),
                         "model": "combo", "mean": [500.0, 750.0], "lo_80": [250.0, 500.0],
                         "hi_80": [750.0, 1000.0], "lo_95": [0.0, 250.0], "hi_95": [1000.0, 1250.0],
                         "district": "A", "level": "总量", "member": "合计", "note": "序列过短"})


def test_forecast_table_in_cases():
    t = report.forecast_table(_fc(), months=1)
    assert len(t) == 1 and t.loc[0, "mean"] == 2.0 and t.loc[0, "hi_95"] == 4.0  # 500 条 = 2 箱
    assert t.loc[0, "month"] == "2026-11" and t.loc[0, "model"] == "combo"  # name in the glossary


def test_backtest_table_separates_jan_feb():
    bt = pd.DataFrame({"unique_id": "A|总量|合计", "level": "总量", "model": "chosen",
                       "ds": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01"]),
                       "y": [100.0, 100.0, 100.0], "mean": [110.0, 90.0, 100.0],
                       "scale": [10.0, 10.0, 10.0]})
    t = report.backtest_table(bt, models=("chosen",))
    assert t.loc[0, "mase"] == pytest.approx(2 / 3)  # (1 + 1 + 0) / 3
    assert t.loc[0, "mase_jan_feb"] == pytest.approx(1.0)
    assert t.loc[0, "model"] == "chosen"  # a code; its name 采用模型 is in the glossary


def test_last_month_check_error():
    bt = pd.DataFrame({"level": ["总量"], "member": ["合计"], "model": ["last_month"],
                       "mean": [550.0], "y": [500.0]})
    t = report.last_month_check(bt)
    assert t.loc[0, "error"] == pytest.approx(0.1) and t.loc[0, "actual"] == 2.0


def test_fallback_notes_name_the_series():
    notes = report.fallback_notes(_fc())
    assert notes == ["合计历史不足6个月，采用朴素预测(上月值)。"]


def test_model_choice_hand_computed():
    fc = pd.concat([_fc().assign(reason="weighted"),
                    _fc().assign(unique_id="A|价类|一类", level="价类", member="一类",
                                 model="sba", reason="intermittent"),
                    _fc().assign(unique_id="A|品牌|X", level="品牌", member="X")])
    origins = pd.to_datetime(["2026-03-01", "2026-06-01"])
    rows = []
    for uid in ("A|总量|合计", "A|价类|一类", "A|品牌|X"):
        for model, err in (("snaive", 20.0), ("ets", 5.0), ("theta", 10.0), ("sarima", 15.0),
                           ("holt", 12.0), ("combo", 8.0)):
            for o in origins:
                rows.append({"unique_id": uid, "model": model, "origin": o, "mean": 100 + err,
                             "y": 100.0, "scale": 10.0})
    bt = pd.DataFrame(rows + [{"unique_id": "A|总量|合计", "model": "chosen",
                               "origin": origins[0], "mean": 0.0, "y": 100.0, "scale": 10.0}])
    t = report.model_choice(fc, bt)
    assert list(t["unique_id"]) == ["A|总量|合计", "A|价类|一类"]  # headline levels only
    r = t.iloc[0]
    assert r["model"] == "combo" and r["reason"] == "weighted"
    # backtest MASE = |error| / scale: 20/10, 5/10, ...; "chosen" rows are not a candidate
    assert (r["mase_snaive"], r["mase_ets"], r["mase_combo"]) == (2.0, 0.5, 0.8)
    assert r["best"] == "ets" and r["origins"] == 2 and r["n"] == 2
    # weights 1 / MASE^2: 4, 1, 1/2.25, 1/1.44 over ets, theta, sarima, holt
    tot = 4 + 1 + 1 / 2.25 + 1 / 1.44
    assert r["weight_ets"] == pytest.approx(4 / tot)
    assert r["weight_sarima"] == pytest.approx((1 / 2.25) / tot)
    assert r["weight_holt"] == pytest.approx((1 / 1.44) / tot)
    assert t.iloc[1]["model"] == "sba" and t.iloc[1]["reason"] == "intermittent"
    assert pd.isna(t.iloc[1]["weight_ets"])
