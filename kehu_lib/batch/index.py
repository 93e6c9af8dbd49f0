"""Index pages and per-district XLSX.

``reports/YYYY-MM/index.html``: a district x report table with each run's status, a few headline
figures (from the manifest, i.e. recorded by the notebooks, never scraped from HTML), its time
and links; below it, per district, the key-table XLSX, the account managers' plan pages and the
other files the runs wrote into ``<slug>/files/``. ``reports/index.html``: the months. ``reports/YYYY-MM/<slug>/<slug>_YYYY-MM.xlsx``:
the key tables every report of the district exported (:func:`kehu_lib.exports.export_table`),
one sheet each, plus a 关键指标 sheet. Pages are static, offline, with inline CSS only.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path
from urllib.parse import quote
from typing import Any, Iterable

from .. import config
from ..present import glossary
from .manifest import MANIFEST, atomic_write

TABLES_DIR = "_tables"
LOGS_DIR = "_logs"
FILES_DIR = "files"  # what the runs write through their output_dir (params.safe_files_dir)

CSS = """body{margin:0;background:#f6f7f9;color:#222;font:14px/1.6 -apple-system,"PingFang SC",
"Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei",
sans-serif}main{max-width:1280px;margin:0 auto;padding:16px 24px;background:#fff}
h1{color:#1f5fa8;font-size:1.6em;margin:.2em 0}table{border-collapse:collapse;width:100%}
th,td{border:1px solid #d8dee8;padding:6px 8px;vertical-align:top}th{background:#eef3fa}
td.ok{border-left:4px solid #2e9e5b}td.failed{background:#fdecee;border-left:4px solid #d1495b}
.badge{display:inline-block;padding:0 6px;border-radius:3px;color:#fff;font-size:.85em}
.badge.ok{background:#2e9e5b}.badge.failed{background:#d1495b}.fig{font-size:.85em;color:#444}
.sec{color:#888;font-size:.8em}a{color:#1f5fa8}.sum{margin:.4em 0 1em}
h2{color:#1f5fa8;font-size:1.2em;margin:1.4em 0 .4em}.files a{margin-right:.8em;white-space:nowrap}
table.files-table th,tr>th:first-child{white-space:nowrap}"""


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1.0">'
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head>"
            f"<body><main>{body}</main></body></html>\n")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def district_order(slugs: Iterable[str]) -> list[str]:
    """City first, then the districts in the configured order, then anything else."""
    order = ["city"] + [d.slug for d in config.DISTRICTS]
    slugs = set(slugs)
    return [s for s in order if s in slugs] + sorted(slugs - set(order))


#: Headline keys that only restate the run's context.
CONTEXT_KEYS = {"district", "month", "place", "wave", "prev_wave", "plan_month", "next_month", "区县",
                "月份"}


def _figure(key: str, value: Any) -> str:
    """A headline figure written by the presentation layer (its glossary kind), if it knows it."""
    from ..present import format as fmt, glossary

    return fmt.value(value, key) if glossary.has(key) else _fmt(value)


def _figures(heads: dict[str, Any], wanted: dict[str, str] | None, n: int) -> list[tuple[str, str]]:
    from ..present import format as fmt, glossary

    if wanted:
        out = []
        for key, label in wanted.items():
            if key in heads:
                v = heads[key]
                if glossary.has(key):
                    out.append((label.removesuffix("%"), fmt.value(v, key)))
                elif label.endswith("%") and isinstance(v, (int, float)) and not isinstance(v, bool):
                    out.append((label[:-1], f"{v * 100:.1f}%"))
                else:
                    out.append((label, _figure(key, v)))
        return out
    return [(str(k), _figure(k, v)) for k, v in heads.items() if k not in CONTEXT_KEYS][:n]


def _href(path: str) -> str:
    return html.escape(quote(path), quote=True)


def _link(path: str, label: str) -> str:
    return f'<a href="{_href(path)}">{html.escape(label)}</a>'


def district_files(month_dir: Path, slug: str) -> tuple[dict[str, list[tuple[str, str]]],
                                                       list[tuple[str, str]]]:
    """The files the district's runs wrote into ``<slug>/files/``, for the index.

    Returns ``(pages, downloads)``. ``pages``: the HTML pages (the account managers' own plans,
    ``月度工作方案_2026-11_KM0101.html``) grouped by the name before its last ``_`` part
    (``月度工作方案 2026-11``), each as ``(last part, href)`` (``KM0101``). ``downloads``: the
    workbooks and CSV files as ``(file name, href)``. Hrefs are relative to the month folder.
    """
    folder = month_dir / slug / FILES_DIR
    if not folder.is_dir():
        return {}, []
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    pages: dict[str, list[tuple[str, str]]] = {}
    for p in files:
        if p.suffix.lower() == ".html":
            title, _, label = p.stem.rpartition("_")
            pages.setdefault(title.replace("_", " "), []).append(
                (label or p.stem, f"{slug}/{FILES_DIR}/{p.name}"))
    downloads = [(p.name, f"{slug}/{FILES_DIR}/{p.name}") for p in files
                 if p.suffix.lower() in (".xlsx", ".csv")]
    return pages, downloads


def _files_section(month_dir: Path, slugs: list[str], names: dict[str, str]) -> str:
    rows = []
    for slug in slugs:
        xlsx = f"{slug}/{slug}_{month_dir.name}.xlsx"
        summary = _link(xlsx, "汇总表 XLSX") if (month_dir / xlsx).exists() else "—"
        pages, downloads = district_files(month_dir, slug)
        if not (pages or downloads) and summary == "—":
            continue
        page_html = "".join(
            (f'<div class="sec">{html.escape(title)}</div>' if title else "")
            + " ".join(_link(href, label) for label, href in links)  # spaces: the list wraps
            for title, links in pages.items()) or "—"
        down_html = "<br>".join(_link(href, label) for label, href in downloads) or "—"
        rows.append(f"<tr><th>{html.escape(names[slug])}</th><td class=\"files\">{summary}</td>"
                    f"<td class=\"files\">{page_html}</td><td class=\"files\">{down_html}</td></tr>")
    if not rows:
        return ""
    return ("<h2>下载与客户经理工作方案</h2><p class=\"sec\">客户经理工作方案含完整许可证号，"
            "仅供客户经理本人使用，请勿转发。</p><table class=\"files-table\"><tr><th>区域</th><th>关键表格</th>"
            "<th>客户经理工作方案</th><th>其他文件</th></tr>" + "".join(rows) + "</table>")


def month_index(month_dir: Path, runs: dict[str, dict[str, Any]],
                titles: dict[str, str] | None = None, max_figures: int = 3,
                figures: dict[str, dict[str, str]] | None = None) -> Path:
    """Write ``reports/YYYY-MM/index.html`` from the manifest's runs.

    ``figures``: per notebook, the headline keys to show and their labels (the YAML's
    ``index_figures``; a label ending in '%' shows a share as a percentage). Without it the
    first ``max_figures`` headline figures that are not context (district, month ...) are shown.
    """
    titles = titles or {}
    figures = figures or {}
    month = month_dir.name
    notebooks = sorted({r["notebook"] for r in runs.values()})
    names = {r["slug"]: r["district"] for r in runs.values()}
    n_ok = sum(r["status"] == "ok" for r in runs.values())
    n_fail = sum(r["status"] != "ok" for r in runs.values())
    head = "".join(f"<th>{html.escape(titles.get(nb, nb))}</th>" for nb in notebooks)
    rows = []
    for slug in district_order(names):
        cells = []
        for nb in notebooks:
            r = runs.get(f"{slug}/{nb}")
            if r is None:
                cells.append("<td>—</td>")
                continue
            st = r["status"]
            fig_html = "<br>".join(f"{html.escape(k)}：{html.escape(v)}"
                                   for k, v in _figures(r.get("headlines", {}), figures.get(nb),
                                                        max_figures))
            links = f'<a href="{slug}/{nb}.html">报告</a>'
            if st != "ok":
                links += (f' · <a href="{LOGS_DIR}/{slug}/{nb}.log">日志</a>'
                          f' · <a href="{LOGS_DIR}/{slug}/{nb}.ipynb">笔记本</a>')
                fig_html = html.escape(r.get("error", ""))
            cells.append(f'<td class="{st}"><span class="badge {st}">{html.escape(glossary.code_name("run_status", st))}'
                         f'</span> {links}<div class="fig">{fig_html}</div>'
                         f'<div class="sec">{r.get("seconds", 0):.1f} 秒</div></td>')
        xlsx = f"{slug}/{slug}_{month}.xlsx"
        xlink = f' <a class="sec" href="{_href(xlsx)}">XLSX</a>' if (month_dir / xlsx).exists() else ""
        rows.append(f"<tr><th>{html.escape(names[slug])}{xlink}</th>{''.join(cells)}</tr>")
    now = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    body = (f'<p><a href="../index.html">全部月份</a></p><h1>{month} 月度报告</h1>'
            f'<p class="sum">共 {len(runs)} 份报告：成功 {n_ok}，失败 {n_fail}。更新于 {now}。</p>'
            f"<table><tr><th>区域</th>{head}</tr>{''.join(rows)}</table>"
            + _files_section(month_dir, district_order(names), names))
    return atomic_write(month_dir / "index.html", _page(f"{month} 月度报告", body))


def top_index(reports: Path) -> Path:
    """Write ``reports/index.html`` listing every month with a manifest."""
    items = []
    for mdir in sorted((p for p in reports.iterdir() if (p / MANIFEST).exists()), reverse=True):
        runs = json.loads((mdir / MANIFEST).read_text(encoding="utf-8")).get("runs", {})
        ok = sum(r["status"] == "ok" for r in runs.values())
        bad = len(runs) - ok
        flag = f'<span class="badge failed">失败 {bad}</span>' if bad else \
            '<span class="badge ok">全部成功</span>'
        items.append(f'<tr><td><a href="{mdir.name}/index.html">{mdir.name}</a></td>'
                     f"<td>{len(runs)}</td><td>{flag}</td></tr>")
    body = ("<h1>月度分析报告</h1><table><tr><th>月份</th><th>报告数</th><th>状态</th></tr>"
             + "".join(items) + "</table>")
    return atomic_write(reports / "index.html", _page("月度分析报告", body))


def district_xlsx(month_dir: Path, slug: str, runs: dict[str, dict[str, Any]],
                  titles: dict[str, str] | None = None) -> Path | None:
    """Gather the district's exported key tables into one XLSX (None if nothing to write):
    a 关键指标 sheet, then each report's key tables (:mod:`kehu_lib.present.xlsx`)."""
    import pandas as pd

    from ..present import xlsx

    titles = titles or {}
    sheets: list[tuple] = []
    heads = [(titles.get(r["notebook"], r["notebook"]), k, v)
             for r in runs.values() if r["slug"] == slug and r["status"] == "ok"
             for k, v in r.get("headlines", {}).items() if k not in CONTEXT_KEYS]
    if heads:
        sheets.append(("关键指标", xlsx.summary_sheet(heads)))
    tdir = month_dir / slug / TABLES_DIR
    for nbdir in sorted(p for p in tdir.glob("*") if p.is_dir()) if tdir.exists() else []:
        for meta in sorted(nbdir.glob("*.json")):
            info = json.loads(meta.read_text(encoding="utf-8"))
            sheets.append((info.get("sheet") or info.get("name", meta.stem),
                           pd.read_parquet(nbdir / f"{meta.stem}.parquet"), info.get("row_keys")))
    if not sheets:
        return None
    return atomic_write(month_dir / slug / f"{slug}_{month_dir.name}.xlsx",
                        xlsx.workbook_bytes(sheets))


def write_tables(month_dir: Path, slug: str, notebook: str,
                 tables: list[tuple[dict, bytes]]) -> None:
    """Replace the run's key-table sidecar ``<slug>/_tables/<notebook>/`` atomically."""
    import shutil
    import uuid

    target = month_dir / slug / TABLES_DIR / notebook
    tmp = target.parent / f".tmp-{notebook}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    for i, (meta, data) in enumerate(tables):
        (tmp / f"{i:02d}.parquet").write_bytes(data)
        (tmp / f"{i:02d}.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    old = None
    if target.exists():
        old = target.parent / f".old-{notebook}-{uuid.uuid4().hex[:8]}"
        target.rename(old)
    tmp.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
