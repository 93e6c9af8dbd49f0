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
    assert t.loc[0, "model"] == "chosen"  # a code; its name 选定模型 is in the glossary


def test_last_month_check_error():
    bt = pd.DataFrame({"level": ["总量"], "member": ["合计"], "model": ["last_month"],
                       "mean": [550.0], "y": [500.0]})
    t = report.last_month_check(bt)
    assert t.loc[0, "error"] == pytest.approx(0.1) and t.loc[0, "actual"] == 2.0


def test_fallback_notes_name_the_series():
    notes = report.fallback_notes(_fc())
    assert notes == ["合计历史不足6个月，采用朴素预测(上月值)。"]
