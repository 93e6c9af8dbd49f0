"""The forecast page's 说明 in Chinese, written from the forecasting module's settings, so the
page describes the method it ran (the members of the combination, their weighting, the
fallbacks) and stays right when the method changes."""

from __future__ import annotations

from ..forecast import select
from . import glossary

__all__ = ["method_text"]

_ZH_DIGITS = "零一二三四五六七八九十"


def _power_words(power: float) -> str:
    """The error scale of the weights: 1 -> '误差（MASE）', 2 -> '误差（MASE）平方'."""
    if power == 1:
        return "误差（MASE）"
    if power == 2:
        return "误差（MASE）平方"
    return f"误差（MASE）的{power:g}次方"


def method_text() -> str:
    """How the page's forecasts are made: members, weights, fallbacks, reconciliation and the
    intervals (one paragraph)."""
    names = glossary.code_names("forecast_model")
    members = [names.get(m, m) for m in select.COMBO]
    count = _ZH_DIGITS[len(members)] if len(members) <= 10 else str(len(members))
    power = getattr(select, "WEIGHT_POWER", 1.0)
    share = round(select.INTERMITTENT * 10)
    return (f"预测方法：每个系列用{'、'.join(members)}{count}个模型预测（春节效应明显的系列计入春节因素），"
            f"按近12个月滚动回测{_power_words(power)}的倒数加权组合（回测数据不足时等权）；"
            f"历史不足{select.MIN_OBS}个月的系列用朴素预测（上月值），近12个月{_ZH_DIGITS[share]}成"
            f"以上月份无销量的规格用{names.get(select.INTERMITTENT_METHOD)}。"
            "再以各区总量为准协调：价类按比例调整，重点品牌保持自身预测、差额计入其他品牌，全市为各区之和。"
            "预测区间按回测误差校准，春节所在月份按其自身的回测误差单独校准；历史上春节月份只有少数几个，"
            "1-2月区间的实际把握度可能低于标称水平，宜结合往年春节备货经验判断。")
