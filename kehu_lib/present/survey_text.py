"""Sentences about survey score changes, in Chinese, from the coded rows of
:func:`kehu_lib.metrics.survey_change.survey_changes` (the metrics return codes and numbers;
the words live here and in the glossary)."""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from . import format as fmt
from . import glossary

__all__ = ["change_sentences"]


def _p(p: float) -> str:
    """``p<0.001`` below 0.001, else ``p=0.012``."""
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def change_sentences(changes: pd.DataFrame, *, labels: Mapping[str, str] | None = None,
                     district_names: Mapping[str, str] | None = None) -> list[str]:
    """One sentence per significant change, most significant (smallest adjusted p) first.

    Each names the comparison (环比/同比), the district, the item, the change in points (分) with
    its 95% CI, the corrected p-value and the test with its number of matched pairs, e.g.
    "环比：杏花岭区 供货满意度下降21.3分（95%置信区间 -28.0～-14.6分，校正后p<0.001，配对t检验，
    58对），显著下降。"
    """
    from ..config import DISTRICT_BY_CODE

    names = dict(district_names or {c: d.name for c, d in DISTRICT_BY_CODE.items()})
    labels = dict(labels or {})
    if changes.empty or "significant" not in changes.columns:
        return []
    out = []
    for _, r in changes[changes["significant"].astype(bool)].sort_values("p_adj").iterrows():
        comp = glossary.code_name("comparison_code", r.get("comparison", "all"))
        verb = "下降" if r["diff"] < 0 else "上升"
        test = r.get("test", "")
        how = ""
        if test in ("paired_t", "wilcoxon"):
            how = f"，{glossary.code_name('test_method', test)}，{fmt.count(r['n_pairs'])}对"
        elif test == "welch":
            how = f"，{glossary.code_name('test_method', test)}"
        out.append(f"{comp}：{names.get(r['district_code'], r['district_code'])} "
                   f"{labels.get(r['item'], r['item'])}{verb}{abs(r['diff']):.1f}分"
                   f"（95%置信区间 {r['ci_low']:+.1f}～{r['ci_high']:+.1f}分，"
                   f"校正后{_p(r['p_adj'])}{how}），显著{verb}。")
    return out
