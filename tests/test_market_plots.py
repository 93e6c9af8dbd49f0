"""The market report's charts fit the page: shown at their own size, not scaled down by the
browser (which blurs the Chinese labels), and as compact palette PNGs."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

#: Widest a chart may be drawn, in px: the report column on a 1280 px laptop screen (.kehu-body
#: is up to 1320px wide, less 2 x 28px padding, kehu_lib/batch/templates/kehu/report.css; wide
#: tables use the room up to 1320px on larger screens, charts stay readable without it).
PAGE_WIDTH = 1040 - 2 * 28


@pytest.fixture(scope="module")
def png_size():
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    from kehu_lib.batch.charts import figure_png
    from kehu_lib.present import theme

    theme.set_theme()

    def size(fig):
        try:
            data = figure_png(fig, base64=False)
        finally:
            plt.close(fig)
        return Image.open(io.BytesIO(data)).size, len(data)

    return size


def test_district_comparison_fits_the_page(png_size):
    from kehu_lib import config
    from kehu_lib.present.market_plots import district_small_multiples

    months = [str(m) for m in pd.period_range("2025-10", "2026-10", freq="M")]
    rng = np.random.default_rng(7)
    monthly = pd.DataFrame([(d.code, m, 200 + 400 * rng.random()) for d in config.DISTRICTS
                            for m in months], columns=["district_code", "month", "volume_cases"])
    (width, height), nbytes = png_size(district_small_multiples(monthly))
    assert len(config.DISTRICTS) >= 7
    assert 700 < width <= PAGE_WIDTH and height < width
    assert nbytes < 40_000  # a palette PNG (matplotlib's RGBA PNG of it is ~4x)


def test_brand_trend_fits_the_page(png_size):
    from kehu_lib.present.market_plots import brand_trend_chart

    months = [str(m) for m in pd.period_range("2025-10", "2026-10", freq="M")]
    trend = pd.DataFrame([(b, m, 100 + 20 * i + j) for i, b in enumerate(
        ["中华", "云烟", "利群", "玉溪", "红塔山", "芙蓉王"]) for j, m in enumerate(months)],
        columns=["brand", "month", "volume_cases"])
    (width, _), _ = png_size(brand_trend_chart(trend))
    assert width <= PAGE_WIDTH
