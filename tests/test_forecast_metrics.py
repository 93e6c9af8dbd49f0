"""Accuracy metrics against hand computation."""

import numpy as np
import pandas as pd
import pytest

from kehu_lib.forecast.metrics import accuracy, mase_scale


def test_mase_scale_hand_computed():
    y = np.r_[np.arange(12.0), np.arange(12.0) + 2, np.arange(12.0) + 5]
    # seasonal differences: 12 x 2 then 12 x 3 -> mean 2.5
    assert mase_scale(y) == pytest.approx(2.5)
    assert mase_scale([1.0, 3.0, 2.0]) == pytest.approx(1.5)  # < 13 values: lag 1, (2+1)/2
    assert np.isnan(mase_scale(np.full(24, 7.0)))  # constant: undefined scale
    assert np.isnan(mase_scale([5.0]))


def test_accuracy_hand_computed():
    d = pd.DataFrame({"model": ["a", "a", "b"], "y": [100.0, 50.0, 10.0],
                      "mean": [110.0, 40.0, 10.0], "scale": [5.0, 5.0, 2.0],
                      "lo_80": [105.0, 30.0, 9.0], "hi_80": [115.0, 45.0, 11.0],
                      "lo_95": [90.0, 30.0, 5.0], "hi_95": [120.0, 60.0, 15.0]})
    out = accuracy(d, by="model").set_index("model")
    # a: |err| 10, 10 -> /5 -> MASE 2; sMAPE = (20/210 + 20/90) / 2; bias = (150 - 150) / 150 = 0
    assert out.loc["a", "mase"] == pytest.approx(2.0)
    assert out.loc["a", "smape"] == pytest.approx((20 / 210 + 20 / 90) / 2)
    assert out.loc["a", "bias"] == pytest.approx(0.0)
    assert out.loc["a", "coverage_80"] == pytest.approx(0.0)  # 100 < 105, 50 > 45
    assert out.loc["a", "coverage_95"] == pytest.approx(1.0)
    assert out.loc["b", "mase"] == 0 and out.loc["b", "smape"] == 0
    assert out.loc["a", "n"] == 2


def test_accuracy_zero_actual_and_forecast_counts_as_zero_smape():
    d = pd.DataFrame({"y": [0.0], "mean": [0.0], "scale": [1.0]})
    assert accuracy(d)["smape"].iloc[0] == 0.0


def test_accuracy_empty_and_missing_column():
    assert accuracy(pd.DataFrame(columns=["y", "mean", "scale"]), by="model").empty
    with pytest.raises(KeyError, match="needs column"):
        accuracy(pd.DataFrame({"y": [1.0]}))
