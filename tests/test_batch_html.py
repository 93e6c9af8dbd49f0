"""The shared HTML: self-contained, offline, code hidden, TOC, parameters, masking."""

from __future__ import annotations

import re

import pytest

from kehu_lib.batch.html import mask_license, mask_page, table_of_contents
from kehu_lib.exports import mask_frame

from batch_fixtures import demo_batch  # noqa: F401 - fixture

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def page(demo_batch):
    opts, _ = demo_batch
    return (opts.reports / "2026-10" / "wanbailin" / "demo_report.html").read_text(encoding="utf-8")


def test_page_is_self_contained(page):
    assert not re.search(r"(src|href)\s*=\s*[\"'](https?:)?//", page)
    assert "require.js" not in page and "MathJax" not in page and "@import" not in page
    assert "<link" not in page
    assert len(page) < 120_000  # nbconvert's lab template alone inlines ~260 KB of CSS


def test_chart_is_embedded_and_code_hidden(page):
    assert page.count('src="data:image/png;base64,') == 1
    assert re.findall(r"<img[^>]*>", page) and all(  # every image has a text alternative
        " alt=" in tag for tag in re.findall(r"<img[^>]*>", page))
    assert "ax.set_ylabel" not in page and "import pandas" not in page


def test_header_states_parameters_period_and_toc(page):
    assert "测试报告：销量概览（万柏林区）" in page
    assert "<th>报告月份</th><td>2026-10</td>" in page
    assert "<th>数据期间</th><td>2026-09 至 2026-10</td>" in page
    # the parameters in Chinese (the comments of the parameters cell), collapsed
    assert "<details class=\"kehu-params-box\">" in page
    assert "<th>显示前几名</th><td>2</td>" in page and "<th>区域代码（文本）</th><td>0123</td>" in page
    assert "top_n" not in page
    toc = re.search(r'<nav class="kehu-toc">.*?</nav>', page).group(0)
    assert "一、销量表" in toc and "二、销量图" in toc
    assert "<ol class=plain>" in toc  # numbered by the page: the list adds no second "1."


def test_toc_numbers_only_unnumbered_headings():
    from kehu_lib.batch.html import table_of_contents

    plain = table_of_contents('<h2 id="a">一、客户状态判断</h2><h2 id="b">二、下月方案</h2>')
    assert "<ol class=plain>" in plain and '<a href="#a">一、客户状态判断</a>' in plain
    listed = table_of_contents('<h2 id="a">总量预测</h2><h2 id="b">预测回测</h2>')
    assert "<ol>" in listed and '<a href="#b">预测回测</a>' in listed


def test_personal_data_masked(page):
    assert "13812345678" not in page and "138****5678" in page
    assert "140109123423" not in page and "1401******23" in page


def test_chinese_font_stack_in_css(page):
    assert '"Noto Sans CJK SC"' in page and '"Microsoft YaHei"' in page


def test_with_code_shows_code(tmp_path):
    from kehu_lib.batch import runner
    from batch_fixtures import DEMO_YAML, options

    opts = options(tmp_path, {"demo_report": DEMO_YAML}, districts=["全市"], with_code=True)
    runner.run_batch(opts)
    page = (opts.reports / "2026-10" / "city" / "demo_report.html").read_text(encoding="utf-8")
    assert "set_ylabel" in page and ".highlight" in page


def test_mask_license():
    assert mask_license("140109123423") == "1401******23"
    assert mask_license("12345") == "*****"
    assert mask_license(None) is None


def test_mask_page_keeps_data_uris_and_other_numbers():
    uri = "data:image/png;base64,AAAA140109123423BBBB13812345678"
    text = f'<img src="{uri}"> 140109123423 1234567890123 13812345678 140109'
    out = mask_page(text)
    assert uri in out and "1401******23" in out and "138****5678" in out
    assert "1234567890123" in out and " 140109" in out  # a 13-digit SKU, a 6-digit code
    assert "140109123423" in mask_page("x 140109123423", show_license_ids=True)


def test_mask_frame_drops_personal_columns():
    import pandas as pd

    df = pd.DataFrame({"license_id": ["140109123423"], "owner_name": ["张三"], "phone": ["1"],
                       "v": [1]})
    assert mask_frame(df, show_ids=False).to_dict("records") == [
        {"license_id": "1401******23", "v": 1}]
    assert mask_frame(df, show_ids=True)["license_id"].tolist() == ["140109123423"]


def test_table_of_contents_empty_without_headings():
    assert table_of_contents("<p>x</p>") == ""


def test_whitespace_between_tags_collapses_outside_pre():
    from kehu_lib.batch.html import collapse_whitespace

    page = ("<div>\n    <p><b>本月</b>   <i>销量</i></p>\n\n  </div>"
            "<pre>a:\n    1\n  <b>x</b>   <i>y</i></pre>\n   <PRE>  z  </PRE>  <textarea>\n  t</textarea>")
    assert collapse_whitespace(page) == (
        "<div>\n<p><b>本月</b>\n<i>销量</i></p>\n</div>"
        "<pre>a:\n    1\n  <b>x</b>   <i>y</i></pre>\n<PRE>  z  </PRE>\n<textarea>\n  t</textarea>")
