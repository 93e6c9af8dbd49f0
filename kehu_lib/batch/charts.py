"""Charts of the batch's pages as palette PNGs: a quarter of the size, the same picture.

Matplotlib writes its charts as 32-bit RGBA PNGs; a report's charts have a few hundred colours
(the palette and the anti-aliased edges), so a 256-colour palette PNG shows the same picture in
about a quarter of the bytes, and the charts are most of a shared page's size. The warm kernels
register :func:`figure_png` as IPython's PNG formatter for matplotlib figures (in place of
``print_figure(fig, 'png')``), so the notebooks' ``display``/inline output is palette PNG
directly: the figure is rendered once (uncompressed), quantised by median cut without
dithering (the flat colours stay exact, anti-aliased edges move by a level or two), and
compressed once.
"""

from __future__ import annotations

from binascii import b2a_base64
from io import BytesIO

__all__ = ["figure_png", "register"]

COLORS = 256


def figure_png(fig, *, base64: bool = True, colors: int = COLORS):
    """``fig`` as a palette PNG (base64 text unless ``base64`` is False); None for an empty
    figure (as IPython's ``print_figure``, whose bounding box and colours it keeps)."""
    from IPython.core.pylabtools import print_figure
    from PIL import Image

    raw = print_figure(fig, "png", pil_kwargs={"compress_level": 0})
    if raw is None:
        return None
    with Image.open(BytesIO(raw)) as im:
        rgba = im.convert("RGBA")
    if rgba.getextrema()[3][0] == 255:  # opaque (the theme's white face): median cut, exact-ish
        pal = rgba.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT,
                                           dither=Image.Dither.NONE)
    else:  # a transparent figure keeps its alpha (only the octree method quantises RGBA)
        pal = rgba.quantize(colors=colors, method=Image.Quantize.FASTOCTREE,
                            dither=Image.Dither.NONE)
    out = BytesIO()
    pal.save(out, format="png", compress_level=6)
    data = out.getvalue()
    return b2a_base64(data, newline=False).decode("ascii") if base64 else data


def register(shell) -> None:
    """Make :func:`figure_png` the shell's PNG formatter for matplotlib figures."""
    from matplotlib.figure import Figure

    shell.display_formatter.formatters["image/png"].for_type(Figure, figure_png)
