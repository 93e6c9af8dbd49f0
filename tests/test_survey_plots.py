"""Tests of kehu_lib.present.survey_plots: bars centred on neutral, the IPA fix-first quadrant."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from kehu_lib.present import survey_plots as sp  # noqa: E402
from kehu_lib.metrics.survey import ipa_table  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_diverging_bars_centre_the_neutral_answer():
    counts = pd.DataFrame({"item": ["R01", "R02"], "share_1": [0.1, 0.0], "share_2": [0.1, 0.2],
                           "share_3": [0.2, 0.4], "share_4": [0.4, 0.2], "share_5": [0.2, 0.2]})
    ax = sp.diverging_bars(counts, labels={"R01": "盈利水平"})
    bars = ax.patches  # 5 answer levels x 2 items, level by level
    neutral = bars[4:6]
    for b, s3 in zip(neutral, [20.0, 40.0]):
        assert b.get_x() == pytest.approx(-s3 / 2) and b.get_width() == pytest.approx(s3)
    # R01: 很不满意 starts at -(10 + 10 + 10) = -30
    assert bars[0].get_x() == pytest.approx(-30.0)
    assert ax.get_yticklabels()[0].get_text() == "盈利水平"
    assert "不满意" in ax.get_xlabel() and [t.get_text() for t in ax.get_legend().get_texts()] == \
        ["很不满意", "不满意", "一般", "满意", "很满意"]
    with pytest.raises(ValueError, match="counts lacks column\\(s\\) \\['share_5'\\]"):
        sp.diverging_bars(counts.drop(columns="share_5"))


def test_ipa_chart_marks_fix_first():
    scores = pd.DataFrame({"item": ["R01", "R02", "R03", "R04"], "mean": [60.0, 90.0, 70.0, 85.0]})
    imp = pd.DataFrame({"item": ["R01", "R02", "R03", "R04"], "importance": [0.8, 0.7, 0.2, 0.1]})
    ax = sp.ipa_chart(ipa_table(scores, imp, labels={"R01": "盈利水平"}))
    texts = [t.get_text() for t in ax.texts]
    assert "盈利水平" in texts and any("优先改进" in t for t in texts)
    colors = ax.collections[0].get_facecolors()
    assert tuple(colors[0][:3]) != tuple(colors[1][:3])  # the fix-first item stands out
    assert "分" in ax.get_xlabel()
    with pytest.raises(ValueError, match="ipa table is empty"):
        sp.ipa_chart(ipa_table(scores.iloc[:0], imp))


def test_change_chart_skips_suppressed_rows():
    ch = pd.DataFrame({"item": ["R01", "R02", "R03"], "diff": [-20.0, 2.0, float("nan")],
                       "ci_low": [-28.0, -4.0, float("nan")], "ci_high": [-12.0, 8.0, float("nan")],
                       "significant": [True, False, False]})
    ax = sp.change_chart(ch)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["R01", "R02"]


def test_ipa_labels_of_clustered_items_do_not_overlap():
    """The 杏花岭区 case: five items within 2 points of score and 0.02 of importance. The label
    boxes measured by matplotlib's renderer (independent of the placer's estimate) do not
    overlap each other once the figure is laid out as the batch does (tight_layout)."""
    names = ["卷烟经营盈利水平", "按订单组织货源供应满意度", "品牌培育与货源投放政策", "动销台账使用",
             "零售网点布局合理性", "经营环境", "客户经理服务", "电话订货员服务", "问题处理及时性"]
    scores = pd.DataFrame({"item": [f"R0{i}" for i in range(1, 10)],
                           "mean": [77.8, 58.9, 75.3, 73.2, 77.2, 79.5, 85.5, 81.9, 81.3]})
    imp = pd.DataFrame({"item": scores["item"],
                        "importance": [0.40, 0.465, 0.52, 0.22, 0.355, 0.362, 0.36, 0.349, 0.31]})
    ax = sp.ipa_chart(ipa_table(scores, imp, labels=dict(zip(scores["item"], names))))
    fig = ax.figure
    fig.tight_layout()
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(r) for t in ax.texts if t.get_text() in names]
    assert len(boxes) == len(names)
    clashes = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:] if a.overlaps(b)]
    assert clashes == []
