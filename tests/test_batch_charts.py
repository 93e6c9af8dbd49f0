"""Charts on warm kernels: every page shows the charts its notebook draws, whatever the run order.

A warm kernel used to restore matplotlib's interactive mode *off* before each run (the snapshot
of its state was taken before matplotlib loaded the inline backend, which is what turns it on),
so figures were no longer queued for display and only the first run on each kernel had charts.
"""

from __future__ import annotations

import re

import pytest

from kehu_lib.batch import runner
from kehu_lib.batch.kernels import WarmKernel

from batch_fixtures import options

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

AREAS = ["全市", "万柏林区", "迎泽区", "小店区"]


def _charts(page: str) -> int:
    return len(re.findall(r"<img\b", page))


@pytest.mark.parametrize("executor,jobs", [("local", 1), ("local", 2), ("dask", 1)])
def test_charts_drawn_without_show_appear_on_every_warm_run(tmp_path, executor, jobs):
    if executor == "dask":
        pytest.importorskip("distributed")
    # tests/notebooks/charts.ipynb draws two figures and never calls plt.show(), like the reports
    opts = options(tmp_path, {"charts": ""}, districts=AREAS, jobs=jobs, executor=executor,
                   notebooks=["charts"])
    report = runner.run_batch(opts)
    assert {r.status for r in report.results} == {"ok"}
    month = opts.reports / "2026-10"
    counts = {p.parent.name: _charts(p.read_text(encoding="utf-8"))
              for p in month.glob("*/charts.html")}
    assert counts == {"city": 2, "wanbailin": 2, "yingze": 2, "xiaodian": 2}
    # the charts are palette PNGs (kehu_lib.batch.charts), not matplotlib's RGBA ones
    page = (month / "yingze" / "charts.html").read_text(encoding="utf-8")
    assert {_png(b).mode for b in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)} == {"P"}


def _png(b64: str):
    import base64
    import io

    from PIL import Image

    return Image.open(io.BytesIO(base64.b64decode(b64)))


def test_warm_kernel_keeps_matplotlib_inline_across_resets():
    kernel = WarmKernel(imports=[]).start()
    try:
        expr = {"interactive": "__import__('matplotlib').is_interactive()"}
        assert kernel.execute("", expressions=expr)["interactive"]["data"]["text/plain"] == "True"
        kernel.execute("import matplotlib.pyplot as plt; plt.ioff()")  # a run may switch it off
        kernel.reset()
        assert kernel.execute("", expressions=expr)["interactive"]["data"]["text/plain"] == "True"
    finally:
        kernel.shutdown()


def test_palette_png_is_the_same_picture_in_fewer_bytes():
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from IPython.core.pylabtools import print_figure

    from kehu_lib.present import theme
    from kehu_lib.batch.charts import figure_png, render_tight

    theme.set_theme()
    rng = np.random.default_rng(1)
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for i in range(6):
        ax.plot(np.arange(13), rng.random(13) + i, marker="o", label=f"品牌{i}")
    ax.legend()
    ax.set_title("重点品牌近13个月走势")
    try:
        rgba, pal, a = print_figure(fig, "png"), figure_png(fig, base64=False), render_tight(fig)
    finally:
        plt.close(fig)
    a = a.astype(int)  # the picture drawn once (test_render_tight_draws_print_figures_picture)
    b = np.asarray(_png_bytes(pal).convert("RGB"), dtype=int)
    assert a.shape == b.shape
    diff = np.abs(a - b).max(axis=2)
    # every flat colour (white, grid, the six series, text) is kept exactly, so no two series
    # merge; only anti-aliased edge pixels move to a near palette entry
    packed = (a[..., 0] << 16) | (a[..., 1] << 8) | a[..., 2]
    colours, counts = np.unique(packed, return_counts=True)
    flat = np.isin(packed, colours[counts >= 0.001 * packed.size])
    assert flat.mean() > 0.9 and (diff[flat] == 0).all()
    assert {int(c[1:], 16) for c in theme.PALETTE[:6]} <= set(colours[counts >= 0.001 * packed.size])
    assert diff.mean() < 1.5 and (diff == 0).mean() > 0.9
    # the edge pixels move by a few levels (median 16 of 255 with 6 edge entries, 11 with 16)
    assert np.median(diff[~flat]) <= 20 and np.percentile(diff[~flat], 95) <= 48
    assert len(pal) < len(rgba) / 4
    assert figure_png(plt.figure()) is None  # an empty figure shows nothing, as in IPython
    clear = plt.figure(facecolor="none")
    clear.add_subplot().plot([1, 2])
    img = _png_bytes(figure_png(clear, base64=False))
    plt.close("all")
    assert img.mode == "P" and "transparency" in img.info  # a transparent figure stays so


def _aligned_equal(a, b, shift: int = 3) -> float:
    """Largest share of equal pixels of ``a`` and ``b`` over their overlap, ``b`` shifted by up
    to ``shift`` pixels each way (two crops of one picture differ by a pixel or two)."""
    import numpy as np

    best = 0.0
    for dy in range(-shift, shift + 1):
        for dx in range(-shift, shift + 1):
            ya, yb, xa, xb = max(0, -dy), max(0, dy), max(0, -dx), max(0, dx)
            h = min(a.shape[0] - ya, b.shape[0] - yb)
            w = min(a.shape[1] - xa, b.shape[1] - xb)
            same = (a[ya:ya + h, xa:xa + w] == b[yb:yb + h, xb:xb + w]).all(axis=2)
            best = max(best, float(same.sum()) / (a.shape[0] * a.shape[1]))
    return best


def test_render_tight_draws_print_figures_picture():
    """The one-draw rendering is IPython's ``bbox_inches="tight"`` picture: the same size within
    a few pixels and the same pixels (bar a sub-pixel shift of anti-aliased edges), also for a
    legend and tick labels drawn outside the figure; a drawing beyond the margin is left to
    ``print_figure`` (figure_png then has its exact size)."""
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from IPython.core.pylabtools import print_figure

    from kehu_lib.batch.charts import figure_png, render_tight
    from kehu_lib.present import theme

    theme.set_theme()
    fig, ax = plt.subplots(figsize=(5, 3))  # no tight_layout: labels and legend stick out
    ax.barh(["KZB-11 提升客户推荐能力（重点品牌及新品销量占比）", "KZB-06 传递公司信息（销量）"],
            [1.2, -0.6], label="效果")
    ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left")
    ax.set_title("上月策略效果")
    tight = np.asarray(_png_bytes(print_figure(fig, "png")).convert("RGB"))
    once = render_tight(fig)
    again = np.asarray(_png_bytes(print_figure(fig, "png")).convert("RGB"))
    assert (again == tight).all()  # the figure is left as it was
    assert tight.shape[1] > 5 * fig.dpi  # the labels and legend are outside the figure
    assert np.abs(np.array(once.shape) - tight.shape).max() <= 3
    assert _aligned_equal(tight, once) > 0.9
    fig.text(-9, 0.5, "远在画布之外")  # beyond the margin: the usual two-pass save
    assert render_tight(fig) is None
    far = _png_bytes(figure_png(fig, base64=False))
    assert far.size == _png_bytes(print_figure(fig, "png")).size
    plt.close("all")


def _png_bytes(data: bytes):
    import io

    from PIL import Image

    return Image.open(io.BytesIO(data))


def test_palette_keeps_every_flat_colour_of_a_many_coloured_chart():
    """A heatmap-like picture of 100 flat cells keeps all 100 colours exactly (the palette grows
    beyond COLORS), and a picture of few colours is stored as they are."""
    import numpy as np
    from PIL import Image

    from kehu_lib.batch.charts import COLORS, palette_image

    cells = np.array([[i * 2, 255 - i * 2, (i * 37) % 256] for i in range(100)], dtype=np.uint8)
    grid = np.repeat(np.repeat(cells.reshape(10, 10, 3), 20, axis=0), 20, axis=1)
    grid[::20, :, :] = 255  # white lines between the cells
    out = np.asarray(palette_image(Image.fromarray(grid)).convert("RGB"))
    assert (out == grid).all()
    two = np.zeros((10, 10, 3), dtype=np.uint8)
    two[:5] = 255
    img = palette_image(Image.fromarray(two))
    assert img.mode == "P" and (np.asarray(img.convert("RGB")) == two).all()
    assert COLORS < 100


def test_palette_keeps_the_colour_of_one_small_mark():
    """The retailer survey's change chart draws the one significant change as a red point among
    blue ones (kehu_lib.present.survey_plots.change_chart). The red covers ~0.02% of the picture,
    under FLAT_SHARE: it was mapped to a grey edge entry and the page showed no red at all."""
    import matplotlib
    import numpy as np
    import pandas as pd

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kehu_lib.batch.charts import figure_png
    from kehu_lib.present import survey_plots, theme

    theme.set_theme()
    items = [f"R{i:02d}" for i in range(1, 11)]
    diff = np.linspace(-3, 3, 10)
    diff[1] = -20.8
    changes = pd.DataFrame({"item": items, "diff": diff, "ci_low": diff - 3, "ci_high": diff + 3,
                            "significant": [i == 1 for i in range(10)]})
    ax = survey_plots.change_chart(changes)
    picture = np.asarray(_png_bytes(figure_png(ax.figure, base64=False)).convert("RGB"), dtype=int)
    plt.close("all")
    red, blue = np.array([0xD1, 0x49, 0x5B]), np.array([0x1F, 0x5F, 0xA8])
    assert (np.abs(picture - red).sum(-1) == 0).sum() >= 20  # the red point, exactly
    assert (np.abs(picture - blue).sum(-1) == 0).sum() >= 9 * 20  # the nine blue ones


def test_distinct_colours_as_numpy_unique():
    """The palette's distinct colours (one sort instead of an argsort of every pixel) are
    numpy's ``unique(..., return_inverse=True, return_counts=True)``: values, inverse and counts."""
    import numpy as np

    from kehu_lib.batch.charts import _unique

    rng = np.random.default_rng(7)
    for values in (rng.integers(0, 1 << 24, 5000).astype(np.uint32),
                   rng.choice(np.array([0xFFFFFF, 0x1F5FA8, 0xD1495B, 7], dtype=np.uint32), 9000),
                   np.array([5], dtype=np.uint32)):
        want = np.unique(values, return_inverse=True, return_counts=True)
        got = _unique(values)
        for w, g in zip(want, got):
            assert np.array_equal(w, g)


def test_drawn_pixels_differ_from_the_face_in_any_channel():
    """render_tight crops to every pixel that differs from the face in any channel (compared as
    one 32-bit word): a pixel that differs only in blue or only in alpha counts."""
    import numpy as np

    from kehu_lib.batch.charts import _drawn

    face = np.array([255, 255, 255, 255], dtype=np.uint8)
    px = np.tile(face, (4, 5, 1))
    px[1, 3, 2] = 254  # blue only
    px[2, 1, 3] = 0  # alpha only
    px[3, 0, 0] = 0  # red only
    assert np.array_equal(_drawn(px, face), (px != face).any(axis=2))
    assert _drawn(px, face).sum() == 3
