"""Tests of kehu_lib.metrics.reliability against pingouin and scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats

from kehu_lib.metrics.reliability import cronbach_alpha, item_reliability


@pytest.fixture
def wide():
    # pingouin's bundled 'cronbach_alpha' dataset (long) -> wide, complete cases
    d = pg.read_dataset("cronbach_alpha")
    return d.pivot(index="Subj", columns="Items", values="Scores").astype(float)


def test_alpha_and_ci_match_pingouin(wide):
    a, ci = pg.cronbach_alpha(data=wide, ci=0.95)  # pingouin: 0.5917, [0.195, 0.84]
    res = cronbach_alpha(wide).iloc[0]
    assert res["alpha"] == pytest.approx(a)
    assert round(res["ci_low"], 3) == ci[0] and round(res["ci_high"], 3) == ci[1]
    assert (res["n"], res["k"]) == (wide.shape[0], wide.shape[1])


def test_alpha_listwise_with_missing_matches_pingouin_on_complete_rows():
    d = pg.read_dataset("cronbach_wide_missing").astype(float)
    complete = d.dropna()
    a, _ = pg.cronbach_alpha(data=complete)  # pingouin on the complete rows
    res = cronbach_alpha(d).iloc[0]
    assert res["alpha"] == pytest.approx(a) and res["n"] == len(complete)


def test_alpha_if_dropped_and_item_rest(wide):
    res = item_reliability(wide).set_index("item")
    for item in wide.columns:
        rest = wide.drop(columns=item)
        a, _ = pg.cronbach_alpha(data=rest)  # pingouin on the remaining items
        assert res.loc[item, "alpha_if_dropped"] == pytest.approx(a)
        r = stats.pearsonr(wide[item], rest.sum(axis=1)).statistic  # scipy
        assert res.loc[item, "item_rest_corr"] == pytest.approx(r)


def test_reverse_coded_item_is_flagged():
    rng = np.random.default_rng(1)
    latent = rng.normal(0, 1, 200)
    df = pd.DataFrame({f"R0{i}": latent + rng.normal(0, 0.5, 200) for i in range(1, 5)})
    df["R05"] = -latent + rng.normal(0, 0.5, 200)  # coded the other way round
    res = item_reliability(df).set_index("item")
    assert res["reverse_suspect"].tolist() == [False, False, False, False, True]
    assert "R05 与其余题目负相关" in res.loc["R05", "warning"] and "疑似反向计分" in res.loc["R05", "warning"]
    # dropping the reversed item raises alpha
    assert res.loc["R05", "alpha_if_dropped"] > cronbach_alpha(df).iloc[0]["alpha"]


def test_bad_input_messages(wide):
    with pytest.raises(ValueError, match="needs at least 2 items, got 1"):
        cronbach_alpha(wide.iloc[:, :1])
    with pytest.raises(ValueError, match="at least 2 complete respondents, got 1"):
        cronbach_alpha(wide.iloc[:1])
    with pytest.raises(ValueError, match="at least 3 complete respondents, got 2"):
        item_reliability(wide.iloc[:2])
