"""Reconciliation: coherence and the OLS projection computed by hand."""

import numpy as np
import pandas as pd
import pytest

from kehu_lib.forecast.reconcile import reconcile, summing_matrix


def _base(total, a, b):
    return pd.DataFrame({"unique_id": ["T", "a", "b"], "ds": pd.Timestamp("2026-11-01"),
                         "mean": [total, a, b], "lo_80": [total * 0.9, a * 0.9, b * 0.9],
                         "hi_80": [total * 1.1, a * 1.1, b * 1.1]})


S = summing_matrix({"T": ["a", "b"]}, ["a", "b"])


def test_summing_matrix_layout():
    np.testing.assert_array_equal(S.to_numpy(), [[1, 1], [1, 0], [0, 1]])
    with pytest.raises(ValueError, match="unknown bottom"):
        summing_matrix({"T": ["a", "z"]}, ["a", "b"])


def test_ols_hand_computed():
    # S'S = [[2,1],[1,2]], S'y = [13, 15] -> b = [11/3, 17/3], total 28/3
    out = reconcile(_base(10, 3, 5), S, method="ols").set_index("unique_id")
    assert out.loc["a", "mean"] == pytest.approx(11 / 3)
    assert out.loc["b", "mean"] == pytest.approx(17 / 3)
    assert out.loc["T", "mean"] == pytest.approx(28 / 3)
    assert out.loc["T", "mean_base"] == 10
    assert out.loc["a", "hi_80"] == pytest.approx(3.3 * (11 / 3) / 3)  # bounds scaled by ratio


@pytest.mark.parametrize("method", ["bottom_up", "ols", "wls_struct"])
def test_reconciled_forecasts_are_coherent(method):
    out = reconcile(_base(12, 3, 5), S, method=method).set_index("unique_id")
    assert out.loc["T", "mean"] == pytest.approx(out.loc["a", "mean"] + out.loc["b", "mean"])


def test_bottom_up_keeps_bottom():
    out = reconcile(_base(12, 3, 5), S, method="bottom_up").set_index("unique_id")
    assert out.loc["T", "mean"] == 8 and out.loc["a", "mean"] == 3


def test_wls_struct_hand_computed():
    # W^-1 = diag(1/2, 1, 1): S'W^-1S = [[1.5, .5], [.5, 1.5]], S'W^-1 y = [6+3, 6+5]
    out = reconcile(_base(12, 3, 5), S).set_index("unique_id")
    b = np.linalg.solve([[1.5, 0.5], [0.5, 1.5]], [9.0, 11.0])
    assert out.loc["a", "mean"] == pytest.approx(b[0])
    assert out.loc["T", "mean"] == pytest.approx(b.sum())


def test_missing_series_and_bad_method_messages():
    with pytest.raises(ValueError, match="no base forecast"):
        reconcile(_base(1, 1, 1).iloc[:2], S)
    with pytest.raises(ValueError, match="unknown reconciliation method"):
        reconcile(_base(1, 1, 1), S, method="mint_shrink")


def _hierarchy(rows):
    """(base forecasts of 2026-11, meta) from rows (district, level, member, mean)."""
    meta = pd.DataFrame([(f"{d}|{lv}|{m}", d, lv, m) for d, lv, m, _ in rows],
                        columns=["unique_id", "district", "level", "member"])
    fc = pd.DataFrame({"unique_id": meta["unique_id"], "ds": pd.Timestamp("2026-11-01"),
                       "mean": [r[3] for r in rows]})
    return fc, meta


def test_middle_out_anchors_district_totals_and_sums_the_city():
    from kehu_lib.forecast.reconcile import middle_out

    rows = [  # district, level, member, base mean
        ("A", "总量", "合计", 100.0), ("A", "价类", "一类", 30.0), ("A", "价类", "二类", 50.0),
        ("A", "品牌", "中华", 20.0), ("A", "品牌", "其他品牌", 70.0),
        ("B", "总量", "合计", 50.0), ("B", "价类", "一类", 25.0), ("B", "价类", "二类", 25.0),
        ("B", "品牌", "中华", 10.0), ("B", "品牌", "其他品牌", 40.0),
        ("全市", "总量", "合计", 160.0), ("全市", "价类", "一类", 50.0), ("全市", "价类", "二类", 80.0),
        ("全市", "品牌", "中华", 25.0), ("全市", "品牌", "其他品牌", 100.0)]
    fc, meta = _hierarchy(rows)
    fc = fc.assign(lo_80=fc["mean"] * 0.5, hi_80=fc["mean"] * 2)
    out = middle_out(fc, meta, anchor="total").set_index("unique_id")["mean"]
    # classes scaled by 100 / 80 = 1.25; 其他品牌 absorbs 100 - 20 = 80; 中华 keeps 20
    assert out["A|价类|一类"] == pytest.approx(37.5) and out["A|价类|二类"] == pytest.approx(62.5)
    assert out["A|品牌|中华"] == 20 and out["A|品牌|其他品牌"] == 80
    assert out["B|品牌|其他品牌"] == 40  # already coherent: unchanged
    # city = A + B member by member
    assert out["全市|总量|合计"] == 150 and out["全市|价类|一类"] == pytest.approx(62.5)
    assert out["全市|品牌|中华"] == 30
    hi = middle_out(fc, meta, anchor="total").set_index("unique_id")["hi_80"]
    assert hi["A|价类|一类"] == pytest.approx(60.0 * 1.25)  # bounds scaled with the mean


def test_wls_var_hand_computed_and_needs_variances():
    # W^-1 = diag(1/4, 1, 1): S'W^-1S = [[1.25, .25], [.25, 1.25]], S'W^-1y = [3 + 3, 3 + 5]
    var = pd.Series({"T": 4.0, "a": 1.0, "b": 1.0})
    out = reconcile(_base(12, 3, 5), S, method="wls_var", variances=var).set_index("unique_id")
    b = np.linalg.solve([[1.25, 0.25], [0.25, 1.25]], [6.0, 8.0])
    assert out.loc["a", "mean"] == pytest.approx(b[0])
    assert out.loc["b", "mean"] == pytest.approx(b[1])
    with pytest.raises(ValueError, match="needs the forecast error variances"):
        reconcile(_base(12, 3, 5), S, method="wls_var")


def test_middle_out_mean_anchor():
    from kehu_lib.forecast.reconcile import middle_out

    rows = [("A", "总量", "合计", 100.0), ("A", "价类", "一类", 40.0), ("A", "价类", "二类", 50.0),
            ("A", "品牌", "中华", 20.0), ("A", "品牌", "其他品牌", 60.0),
            ("全市", "总量", "合计", 100.0), ("全市", "价类", "一类", 40.0), ("全市", "价类", "二类", 50.0),
            ("全市", "品牌", "中华", 20.0), ("全市", "品牌", "其他品牌", 60.0)]
    fc, meta = _hierarchy(rows)
    out = middle_out(fc, meta).set_index("unique_id")["mean"]
    assert out["A|总量|合计"] == pytest.approx((100 + 90 + 80) / 3)  # = 90
    assert out["A|价类|一类"] == pytest.approx(40.0)  # classes already sum to 90
    assert out["A|品牌|其他品牌"] == pytest.approx(70.0)  # 90 - 20
    with pytest.raises(ValueError, match="anchor must be"):
        middle_out(fc, meta, anchor="city")
