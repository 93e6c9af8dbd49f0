"""Self-contained HTML for sharing on an offline intranet.

One file per run, built with nbconvert and the small ``templates/kehu`` template (it extends the
``classic`` cell markup but drops everything in its page head: no require.js, jQuery, MathJax or
mermaid from a CDN, no web font, no 260 KB lab CSS; ~3 KB of inline CSS with a system CJK font
stack). Code is hidden unless ``with_code``; charts are PNG ``data:`` URIs; a table of contents
is built from the headings; parameters and data period are stated at the top.

Privacy pass on the finished page (outside ``data:`` URIs): mobile numbers are always masked
(``138****5678``) and 12-digit licence ids are masked (``1401******23``) unless the notebook's
YAML sets ``show_license_ids: true``.
"""

from __future__ import annotations

import datetime as dt
import html as _html
import re
import threading
import urllib.parse
from pathlib import Path
from typing import Any

from ..exports import mask_license  # re-exported: notebooks may call either

__all__ = ["render_html", "mask_license", "mask_page", "slim_markup", "table_of_contents",
           "TEMPLATES"]

TEMPLATES = Path(__file__).parent / "templates"
_local = threading.local()

_NUMBERED = re.compile(r"^(?:[一二三四五六七八九十]+、|\d+[.、．])")
_HEADING = re.compile(r"<h([1-3]) id=\"([^\"]+)\"[^>]*>(.*?)</h\1>", re.S)
_TAG = re.compile(r"<[^>]+>")
_DATA_OR_ID = re.compile(r"(data:[^\"'\s)]*)|(?<![\d.])(1[3-9]\d{9}|\d{12})(?![\d.])")


_IMG_WITHOUT_ALT = re.compile(r"<img(?![^>]*\balt=)")


def _exporter_class():
    """nbconvert's HTMLExporter without its BeautifulSoup pass over the finished page.

    ``HTMLExporter.from_notebook_node`` parses and re-serialises the whole page to add ``alt``
    to images and ``tabindex`` to JupyterLab cells; on a report with many tables that takes
    ~85% of the conversion (~0.3 s a run). The ``kehu`` template has no JupyterLab cells, and
    the ``alt`` text is added here with a regular expression instead.
    """
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class KehuHTMLExporter(HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            self.register_filter("highlight_code", self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return _IMG_WITHOUT_ALT.sub('<img alt="图表"', html), resources

    return KehuHTMLExporter


def _exporter(with_code: bool):
    key = f"exporter_{with_code}"
    exp = getattr(_local, key, None)
    if exp is None:
        exp = _exporter_class()(template_name="kehu", extra_template_basedirs=[str(TEMPLATES)],
                           exclude_input=not with_code, exclude_input_prompt=True,
                           exclude_output_prompt=True, embed_images=True,
                           default_preprocessors=[])  # each would re-validate the notebook
        setattr(_local, key, exp)
    return exp


def _css(with_code: bool) -> str:
    css = (TEMPLATES / "kehu" / "report.css").read_text(encoding="utf-8")
    if with_code:
        from pygments.formatters import HtmlFormatter

        css += HtmlFormatter(style="default").get_style_defs(".highlight")
    return css


def mask_page(page: str, *, show_license_ids: bool = False) -> str:
    """Mask mobile numbers always and 12-digit licence ids unless ``show_license_ids``."""
    def sub(m: re.Match) -> str:
        if m.group(1):
            return m.group(1)
        s = m.group(2)
        if len(s) == 11:
            return s[:3] + "****" + s[-4:]
        return s if show_license_ids else mask_license(s)

    return _DATA_OR_ID.sub(sub, page)


def table_of_contents(page: str) -> str:
    """An ``<nav>`` list of the page's h2/h3 headings (nbconvert gives each an id)."""
    items, texts = [], []
    for level, anchor, inner in _HEADING.findall(page):
        if level == "1":
            continue
        text = _html.unescape(_TAG.sub("", inner)).replace("¶", "").strip()
        texts.append(text)
        items.append(f'<li class="l{level}"><a href="#{anchor}">{_html.escape(text)}</a></li>')
    if not items:
        return ""
    # headings numbered by the page itself (一、… / 1. …) are not numbered a second time
    numbered = all(_NUMBERED.match(t) for t in texts)
    return (f'<nav class="kehu-toc"><b>目录</b><ol{" class=plain" if numbered else ""}>'
            + "".join(items) + "</ol></nav>")


def notebook_title(nb) -> str:
    """The first markdown H1 of the notebook (or its file name)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"(?m)^#\s+(.+)$", cell.source)
            if m:
                return m.group(1).strip()
    return nb.metadata.get("papermill", {}).get("input_path", "report")


def _short(value: Any) -> str:
    if isinstance(value, bool):
        text = "是" if value else "否"
    elif isinstance(value, (list, tuple)):
        text = "、".join(_short(v) for v in value) or "（空）"
    elif isinstance(value, dict):
        text = "、".join(f"{k} {_short(v)}" for k, v in value.items()) or "（空）"
    elif value == "":
        text = "（空）"
    else:
        text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _param_labels(notebook_path: str) -> dict[str, str]:
    """Parameter name -> its Chinese comment in the notebook's parameters cell."""
    from .params import ParamError, declared_parameters

    try:
        return {k: d.help for k, d in declared_parameters(notebook_path).items() if d.help}
    except (OSError, ParamError, ValueError):
        return {}


def render_html(nb, spec, *, status: str = "ok", error: str = "") -> str:
    """The run's HTML page (a string); ``spec`` is a :class:`~.execute.RunSpec`."""
    from .. import __version__

    # where the run writes its files is the runner's business, not the reader's (and a local path)
    labels = _param_labels(spec.notebook_path)
    params = [(labels.get(k, k), _short(v)) for k, v in spec.parameters.items()
              if k not in ("output_dir", "month", "district")]
    title = notebook_title(nb)
    if spec.district and spec.district not in title:
        title = f"{title}（{spec.district}）"
    resources = {"kehu": {
        "title": title, "month": spec.month, "district": spec.district,
        "data_period": spec.data_period or spec.month, "parameters": params,
        "generated": dt.datetime.now().strftime("%Y-%m-%d %H:%M"), "status": status,
        "error": error, "version": __version__, "notebook": spec.notebook,
        "css": _css(spec.with_code)}}
    body, _ = _exporter(spec.with_code).from_notebook_node(nb, resources=resources)
    body = body.replace("<!--KEHU_TOC-->", table_of_contents(body), 1)
    return mask_page(collapse_whitespace(slim_markup(body)), show_license_ids=spec.show_license_ids)


#: nbconvert ``classic`` wrappers that carry no style of the page (report.css): dropped, content kept.
_UNWRAP = frozenset({"output_wrapper", "output", "output_area", "inner_cell",
                     "text_cell_render border-box-sizing rendered_html",
                     "output_markdown rendered_html output_subarea "})
#: ``classic`` wrappers kept under the one class report.css styles them by.
_RENAME = {"output_html rendered_html output_subarea ": "output_subarea",
           "output_png output_subarea ": "output_png"}
_DIV = re.compile(r"<div\b[^>]*>|</div\s*>")
_DIV_CLASS = re.compile(r'<div(?: id="[^"]*")? class="([^"]*)">')
_EMPTY_CELL = re.compile(r'<div class="cell">\s*</div>\n?')
_ANCHOR_LINK = re.compile(r'<a class="anchor-link" href="#[^"]*">(?:&#182;|¶)</a>')
_ENCODED_ID = re.compile(r'(\bid="|\bhref="#)((?:%[0-9A-Fa-f]{2}|[^"%<>\s])+)"')
_CJK_REF = re.compile(r"&#(\d{5});")


def slim_markup(page: str) -> str:
    """The page without the markup nobody sees (a third of a page's bytes outside its charts
    and tables): nbconvert's nested wrappers of every output (kept: one ``div.cell`` per cell,
    ``div.output_subarea`` around HTML output for wide tables, ``div.output_png`` around charts,
    and the stream/error/input blocks as they are), empty code cells (hidden parameters and
    imports), the hidden ``¶`` anchor links of headings, and percent-encoded heading anchors
    and ``&#NNNNN;`` escapes of Chinese text (written as the text itself: the page is UTF-8).
    Divs are matched by nesting, so content inside a dropped wrapper is kept as it is."""
    out, keep, pos = [], [], 0
    for m in _DIV.finditer(page):
        out.append(page[pos:m.start()])
        pos, tag = m.end(), m.group(0)
        if tag.startswith("</"):
            if not keep or keep.pop():
                out.append(tag)
            continue
        c = _DIV_CLASS.fullmatch(tag)
        cls = c.group(1) if c else None
        keep.append(cls not in _UNWRAP)
        if cls in _RENAME:
            tag = f'<div class="{_RENAME[cls]}">'
        elif cls is not None and cls.startswith("cell "):  # cell-id anchors: nobody links them
            tag = '<div class="cell">'
        if keep[-1]:
            out.append(tag)
    out.append(page[pos:])
    page = _ANCHOR_LINK.sub("", _EMPTY_CELL.sub("", "".join(out)))

    def decode(m: re.Match) -> str:
        text = urllib.parse.unquote(m.group(2))
        return m.group(0) if re.search(r'["<>&\s]', text) else f'{m.group(1)}{text}"'

    page = _ENCODED_ID.sub(decode, page)
    return _CJK_REF.sub(lambda m: chr(int(m.group(1))) if int(m.group(1)) >= 0x3000
                        else m.group(0), page)


_PRE_OR_GAP = re.compile(r"(<(pre|textarea)\b.*?</\2\s*>)|(?<=>)\s+(?=<)", re.S | re.I)


def collapse_whitespace(page: str) -> str:
    """The indentation between tags collapsed to one newline (a run of white space renders as
    one space anyway), except inside ``<pre>``/``<textarea>``, where it is the content."""
    return _PRE_OR_GAP.sub(lambda m: m.group(1) or "\n", page)
