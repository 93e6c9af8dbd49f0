"""Tests of kehu_lib.metrics.crosstab against scipy.stats."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.stats.contingency import association

from kehu_lib.metrics.crosstab import crosstab, crosstab_test


def table_frame(counts: dict) -> pd.DataFrame:
    rows = [(r, c) for (r, c), n in counts.items() for _ in range(n)]
    return pd.DataFrame(rows, columns=["business_format", "satisfied"])


COUNTS = {("食杂店", "满意"): 30, ("食杂店", "不满意"): 10, ("超市", "满意"): 12,
          ("超市", "不满意"): 18, ("便利店", "满意"): 20, ("便利店", "不满意"): 9}


def test_chi2_and_cramers_v_match_scipy():
    df = table_frame(COUNTS)
    obs = crosstab(df, row="business_format", col="satisfied").to_numpy()
    res = crosstab_test(df, row="business_format", col="satisfied").iloc[0]
    chi2, p, dof, _ = stats.chi2_contingency(obs, correction=False)  # scipy
    assert res["chi2"] == pytest.approx(chi2) and res["p_value"] == pytest.approx(p)
    assert res["dof"] == dof == 2 and res["n"] == 99
    assert res["cramers_v"] == pytest.approx(association(obs, method="cramer"))  # scipy
    assert res["warning"] == "" and res["status"] == "ok" and res["share_low_expected"] == 0


def test_perfect_association_and_small_expected_warning():
    df = table_frame({("食杂店", "满意"): 3, ("超市", "不满意"): 3})
    res = crosstab_test(df, row="business_format", col="satisfied").iloc[0]
    assert res["cramers_v"] == pytest.approx(1.0)  # by hand: a diagonal table
    assert res["min_expected"] == pytest.approx(1.5)
    assert res["warning"] == "期望频数小于5，卡方检验结果仅供参考"
    assert res["status"] == "low_expected" and res["share_low_expected"] == 1.0  # all 4 cells 1.5


def test_shares_and_bad_input():
    df = table_frame(COUNTS)
    share = crosstab(df, row="business_format", col="satisfied", normalize="index")
    assert share.loc["食杂店", "满意"] == pytest.approx(0.75)
    with pytest.raises(ValueError, match="column 'tier' not in the data"):
        crosstab_test(df, row="tier", col="satisfied")
    with pytest.raises(ValueError, match="needs at least 2 rows and 2 columns with data, got 1x2"):
        crosstab_test(df[df.business_format == "超市"], row="business_format", col="satisfied")
    one = pd.DataFrame({"business_format": ["超市"], "satisfied": [np.nan]})
    with pytest.raises(ValueError, match="got 0x0"):
        crosstab_test(one, row="business_format", col="satisfied")
