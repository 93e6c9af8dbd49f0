"""Charts of the batch's pages as compact palette PNGs: a fifth of the bytes, the same picture.

Matplotlib writes its charts as 32-bit RGBA PNGs, and the charts are most of a shared page's
size. A report chart is a few flat colours (white, the grid, the theme's palette, the text) and
their anti-aliased edges, so it is stored as a palette PNG of few colours:

- every colour that covers at least :data:`FLAT_SHARE` of the picture (the flat areas, lines,
  bars, text) is kept *exactly*, so no two series ever merge into one colour;
- the remaining entries (up to :data:`COLORS` in all) come from a median cut of the other (edge) pixels and
  serve the anti-aliased edges, each pixel mapped to its nearest entry (no dithering: the edges
  of Chinese glyphs stay crisp, they move by a few levels of grey);
- the PNG is written with a high zlib level (:data:`PNG_LEVEL`).

The warm kernels register :func:`figure_png` as IPython's PNG formatter for matplotlib figures
(in place of ``print_figure(fig, 'png')``), so the notebooks' ``display``/inline output is this
PNG directly: the figure is rendered once (uncompressed), quantised and compressed once.
"""

from __future__ import annotations

from binascii import b2a_base64
from io import BytesIO

__all__ = ["figure_png", "palette_image", "register"]

#: Palette entries of a chart (more when it has more flat colours than that, up to 256).
COLORS = 32
#: A colour covering at least this share of the pixels is a flat colour, kept exactly.
FLAT_SHARE = 0.001
#: Entries kept for the anti-aliased edges on top of the flat colours.
EDGE_COLORS = 16
#: zlib level of the PNG: 8 is within 2% of 9's bytes (Pillow's ``optimize``) at half its time,
#: and 7% smaller than the default 6 (measured on the market report's charts).
PNG_LEVEL = 8


def palette_image(rgb, *, colors: int = COLORS):
    """``rgb`` (an opaque PIL image) as a palette image: its flat colours exact, the rest mapped
    to the nearest of a median-cut palette (see the module docstring); ``colors`` entries, or
    more (up to 256) when the picture has more flat colours than ``colors - EDGE_COLORS``."""
    import numpy as np
    from PIL import Image

    a = np.asarray(rgb.convert("RGB"), dtype=np.uint32)
    packed = (a[..., 0] << 16) | (a[..., 1] << 8) | a[..., 2]
    uniq, inverse, counts = np.unique(packed.ravel(), return_inverse=True, return_counts=True)
    rgb_of = np.stack([(uniq >> 16) & 255, (uniq >> 8) & 255, uniq & 255], axis=1).astype(np.int32)
    if len(uniq) <= colors:  # already few colours: all of them, exactly
        table, index = rgb_of, np.arange(len(uniq))
    else:
        order = np.argsort(-counts, kind="stable")
        n_flat = min(int((counts >= FLAT_SHARE * packed.size).sum()), 256 - EDGE_COLORS)
        flat, rest = order[:n_flat], order[n_flat:]  # counts descending
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


def figure_png(fig, *, base64: bool = True, colors: int = COLORS):
    """``fig`` as a compact palette PNG (base64 text unless ``base64`` is False); None for an
    empty figure (as IPython's ``print_figure``, whose bounding box and dpi it keeps)."""
    from IPython.core.pylabtools import print_figure
    from PIL import Image

    raw = print_figure(fig, "png", pil_kwargs={"compress_level": 0})
    if raw is None:
        return None
    with Image.open(BytesIO(raw)) as im:
        rgba = im.convert("RGBA")
    if rgba.getextrema()[3][0] == 255:  # opaque (the theme's white face)
        pal = palette_image(rgba, colors=colors)
    else:  # a transparent figure keeps its alpha (only the octree method quantises RGBA)
        pal = rgba.quantize(colors=256, method=Image.Quantize.FASTOCTREE,
                            dither=Image.Dither.NONE)
    out = BytesIO()
    pal.save(out, format="png", compress_level=PNG_LEVEL)
    data = out.getvalue()
    return b2a_base64(data, newline=False).decode("ascii") if base64 else data


def register(shell) -> None:
    """Make :func:`figure_png` the shell's PNG formatter for matplotlib figures."""
    from matplotlib.figure import Figure

    shell.display_formatter.formatters["image/png"].for_type(Figure, figure_png)
