"""Charts of the batch's pages as compact palette PNGs: a fifth of the bytes, the same picture.

Matplotlib writes its charts as 32-bit RGBA PNGs, and the charts are most of a shared page's
size. A report chart is a few flat colours (white, the grid, the theme's palette, the text) and
their anti-aliased edges, so it is stored as a palette PNG of few colours:

- every colour that covers at least :data:`FLAT_SHARE` of the picture (the flat areas, lines,
  bars, text), and every saturated colour of a small mark (:data:`MARK_PIXELS`), is kept
  *exactly*, so no two series ever merge into one colour and no marker loses its colour;
- the remaining entries (up to :data:`COLORS` in all) come from a median cut of the other (edge) pixels and
  serve the anti-aliased edges, each pixel mapped to its nearest entry (no dithering: the edges
  of Chinese glyphs stay crisp, they move by a few levels of grey);
- the PNG is written with a high zlib level (:data:`PNG_LEVEL`) and zlib's ``Z_FILTERED``
  strategy (:data:`PNG_STRATEGY`), which suits the long runs of a palette picture.

The warm kernels register :func:`figure_png` as IPython's PNG formatter for matplotlib figures
(in place of ``print_figure(fig, 'png')``), so the notebooks' ``display``/inline output is this
PNG directly: the figure is rendered once (uncompressed), quantised and compressed once.

Rendering once: IPython's ``print_figure`` saves with ``bbox_inches="tight"``, which lays the
figure out twice before it draws it (a draw without rasterising, then the artists' tight bounding
box: ~40% of a chart's time, all in matplotlib's Python layout code). :func:`render_tight` draws the
figure once on a canvas with a margin around it (:data:`MARGIN`, as ``bbox_inches`` does for an
artist outside the figure, such as a legend beside the axes or long tick labels) and crops the
pixels to what was drawn plus ``savefig.pad_inches``: the same picture, within a pixel or two of
the tight box. A figure whose drawing reaches the margin's edge or that places a text or legend
beyond it, with a transparent face or with a layout engine is saved the usual way.
"""

from __future__ import annotations

from binascii import b2a_base64
from io import BytesIO

__all__ = ["figure_png", "palette_image", "register", "render_tight"]

#: Palette entries of a chart (more when it has more flat colours than that, up to 256).
#: With :data:`EDGE_COLORS` 6 the market report's charts are 11% smaller than with 32 entries
#: (16 of them for the edges), their flat colours the same and an edge pixel off by a median of
#: 16 levels of 255 instead of 11.
COLORS = 20
#: A colour covering at least this share of the pixels is a flat colour, kept exactly.
FLAT_SHARE = 0.001
#: A colour of at least this many pixels and :data:`MARK_CHROMA` (max - min channel, of 255)
#: is kept exactly too: a small mark of its own colour (the one red point of a significant
#: change among blue ones) covers far less than FLAT_SHARE and was mapped to a grey edge entry.
#: Grey glyph edges have no chroma, so they still share the edge entries.
MARK_PIXELS = 12
MARK_CHROMA = 48
#: Entries kept for the anti-aliased edges on top of the flat colours.
EDGE_COLORS = 6
#: zlib level of the PNG: 8 is 7% smaller than the default 6. 9 (Pillow's ``optimize``) is
#: another 1.4% smaller at 2.4 times the time (the batch's 82 charts: 1.07 MB in 2.7 s of CPU
#: against 1.09 MB in 1.1 s); it was needed while the city market report stood at 0.334 of
#: nbconvert's page, which is now 0.30 at level 9 (126 of 422 KB: 1.4% more chart bytes
#: leave it under 0.31).
PNG_LEVEL = 8
#: zlib strategy of the PNG (``zlib.Z_FILTERED``: 1.5% smaller than the default, same time).
PNG_STRATEGY = 1
#: Canvas added around a figure for artists drawn outside it (inches: left, bottom, right, top);
#: the left side is widest for the long Chinese tick labels of horizontal bar charts.
MARGIN = (3.5, 1.0, 1.5, 1.0)


def render_tight(fig):
    """``fig`` drawn once and cropped to its drawing plus ``savefig.pad_inches`` (an RGB array,
    as ``print_figure(fig, bbox_inches="tight")`` would render it); None when that cannot be
    done in one draw (see the module docstring): the caller saves it the usual way."""
    import matplotlib
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    try:  # matplotlib's own helpers of savefig (private: a version without them saves as usual)
        from matplotlib import _tight_bbox, cbook
        adjust_bbox, setattr_cm = _tight_bbox.adjust_bbox, cbook._setattr_cm
    except (ImportError, AttributeError):
        return None
    from matplotlib.colors import to_rgba
    from matplotlib.layout_engine import PlaceHolderLayoutEngine
    from matplotlib.transforms import Bbox

    canvas, engine = fig.canvas, fig.get_layout_engine()
    if not isinstance(canvas, FigureCanvasAgg) or not (
            engine is None or isinstance(engine, PlaceHolderLayoutEngine)):
        return None  # a layout engine lays out at draw time: print_figure's order matters
    face = np.array([round(255 * c) for c in to_rgba(fig.get_facecolor())], dtype=np.uint8)
    if face[3] != 255:
        return None
    (left, bottom, right, top), (w, h) = MARGIN, fig.get_size_inches()
    restore = adjust_bbox(fig, Bbox.from_extents(-left, -bottom, w + right, h + top),
                                      None)
    try:
        with setattr_cm(canvas, _is_saving=True, manager=None):
            canvas.draw()
        pixels = np.asarray(canvas.buffer_rgba())
        drawn = _drawn(pixels, face)
        rows, cols = np.flatnonzero(drawn.any(axis=1)), np.flatnonzero(drawn.any(axis=0))
        pad = int(round(matplotlib.rcParams["savefig.pad_inches"] * fig.dpi))
        if not len(rows):
            return None
        y0, y1, x0, x1 = rows[0] - pad, rows[-1] + 1 + pad, cols[0] - pad, cols[-1] + 1 + pad
        if y0 < 0 or x0 < 0 or y1 > pixels.shape[0] or x1 > pixels.shape[1]:
            return None  # drawn beyond the margin
        if not all(_inside(a, canvas.get_renderer(), pixels.shape) for a in _placed(fig)):
            return None  # an artist placed wholly beyond the margin (not drawn at all)
        return pixels[y0:y1, x0:x1, :3].copy()
    finally:
        restore()


def _drawn(pixels, face):
    """Mask of the RGBA ``pixels`` that differ from ``face`` in any channel: the four bytes of
    a pixel compared as one 32-bit word (~100x faster than ``(pixels != face).any(axis=2)``)."""
    import numpy as np

    words = np.ascontiguousarray(pixels).view(np.uint32)[..., 0]
    return words != np.ascontiguousarray(face, dtype=np.uint8).view(np.uint32)[0]


def palette_image(rgb, *, colors: int = COLORS):
    """``rgb`` (an opaque PIL image) as a palette image: its flat colours exact, the rest mapped
    to the nearest of a median-cut palette (see the module docstring); ``colors`` entries, or
    more (up to 256) when the picture has more flat colours than ``colors - EDGE_COLORS``."""
    import numpy as np
    from PIL import Image

    a = np.asarray(rgb.convert("RGB"))
    packed = ((a[..., 0].astype(np.uint32) << 16) | (a[..., 1].astype(np.uint32) << 8)
              | a[..., 2])
    uniq, inverse, counts = _unique(packed.ravel())
    rgb_of = np.stack([(uniq >> 16) & 255, (uniq >> 8) & 255, uniq & 255], axis=1).astype(np.int32)
    if len(uniq) <= colors:  # already few colours: all of them, exactly
        table, index = rgb_of, np.arange(len(uniq))
    else:
        chroma = rgb_of.max(axis=1) - rgb_of.min(axis=1)
        keep = (counts >= FLAT_SHARE * packed.size) | ((counts >= MARK_PIXELS) & (chroma >= MARK_CHROMA))
        order = np.lexsort((-counts, ~keep))  # kept colours first, each group by count descending
        n_flat = min(int(keep.sum()), 256 - EDGE_COLORS)
        flat, rest = order[:n_flat], order[n_flat:]
        size = min(256, max(colors, n_flat + EDGE_COLORS))
        edges = np.repeat(rgb_of[rest], counts[rest], axis=0).astype(np.uint8)  # the edge pixels
        cut = Image.fromarray(edges.reshape(1, -1, 3), "RGB").quantize(
            colors=size - n_flat, method=Image.Quantize.MEDIANCUT,
            dither=Image.Dither.NONE).getpalette()[: 3 * (size - n_flat)]
        entries = [tuple(int(v) for v in rgb_of[i]) for i in flat]
        entries += [tuple(cut[i:i + 3]) for i in range(0, len(cut), 3)]
        table = np.array(list(dict.fromkeys(entries))[:size], dtype=np.int32)
        index = np.empty(len(uniq), dtype=np.int64)
        for start in range(0, len(uniq), 4096):  # nearest entry of each distinct colour
            block = rgb_of[start:start + 4096]
            index[start:start + 4096] = ((block[:, None, :] - table[None, :, :]) ** 2).sum(-1).argmin(1)
    out = Image.fromarray(index.astype(np.uint8)[inverse].reshape(packed.shape), "P")
    out.putpalette(table.astype(np.uint8).ravel().tolist())
    return out


def _unique(values):
    """``np.unique(values, return_inverse=True, return_counts=True)`` of a 1-d unsigned array,
    from one plain sort (numpy's radix sort of 32-bit values) instead of its argsort of every
    pixel: about a third less time for a chart's ~400,000 pixels."""
    import numpy as np

    s = np.sort(values)
    first = np.empty(len(s), dtype=bool)
    first[:1] = True
    np.not_equal(s[1:], s[:-1], out=first[1:])
    distinct = s[first]
    counts = np.diff(np.append(np.flatnonzero(first), len(s)))
    return distinct, np.searchsorted(distinct, values), counts


def _placed(fig):
    """The artists placed anywhere by coordinates: texts, annotations and legends (the rest
    of a chart grows from its axes, so what sticks out of the margin touches its edge)."""
    yield from fig.texts
    yield from fig.legends
    for ax in fig.axes:
        yield from ax.texts
        if ax.get_legend() is not None:
            yield ax.get_legend()


def _inside(artist, renderer, shape) -> bool:
    if not artist.get_visible():
        return True
    box = artist.get_window_extent(renderer)
    return box.x0 >= 0 and box.y0 >= 0 and box.x1 <= shape[1] and box.y1 <= shape[0]


def figure_png(fig, *, base64: bool = True, colors: int = COLORS):
    """``fig`` as a compact palette PNG (base64 text unless ``base64`` is False); None for an
    empty figure (as IPython's ``print_figure``, whose bounding box and dpi it keeps)."""
    from IPython.core.pylabtools import print_figure
    from PIL import Image

    if not fig.axes and not fig.lines:  # as print_figure: nothing to show
        return None
    rgb = render_tight(fig)
    if rgb is not None:
        image = Image.fromarray(rgb, "RGB")
    else:
        raw = print_figure(fig, "png", pil_kwargs={"compress_level": 0})
        if raw is None:
            return None
        with Image.open(BytesIO(raw)) as im:
            image = im.convert("RGBA")
    if image.mode == "RGB" or image.getextrema()[3][0] == 255:  # opaque (the theme's white face)
        pal = palette_image(image, colors=colors)
    else:  # a transparent figure keeps its alpha (only the octree method quantises RGBA)
        pal = image.quantize(colors=256, method=Image.Quantize.FASTOCTREE,
                            dither=Image.Dither.NONE)
    out = BytesIO()
    pal.save(out, format="png", compress_level=PNG_LEVEL, compress_type=PNG_STRATEGY)
    data = out.getvalue()
    return b2a_base64(data, newline=False).decode("ascii") if base64 else data


def register(shell) -> None:
    """Make :func:`figure_png` the shell's PNG formatter for matplotlib figures."""
    from matplotlib.figure import Figure

    shell.display_formatter.formatters["image/png"].for_type(Figure, figure_png)
