"""The monthly plan pages of a real batch (small sample): the district page links each of its
managers' own pages, the links resolve and lead back (issue #13: managers could not reach their
pages, nothing linked to them)."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from kehu_lib import config
from kehu_lib.batch import runner

from batch_fixtures import broken_links, hrefs

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"), pytest.mark.slow]


@pytest.fixture(scope="module")
def plan_batch(small_store, signals, tmp_path_factory):
    """monthly_plan for the city and every district, as the batch runs it (the city's page
    links the managers' pages the districts' plans write)."""
    tmp = tmp_path_factory.mktemp("plan_pages")
    opts = runner.BatchOptions(month="2026-10", jobs=1, store=small_store,
                               reports=tmp / "reports", progress=False, force=True,
                               notebooks=["monthly_plan"])
    report = runner.run_batch(opts)
    bad = {r.key: r.error for r in report.results if r.status != "ok"}
    assert not bad, f"runs failed on the small sample: {bad}"
    return opts.reports / report.month


def test_plan_page_links_every_manager_page_and_back(plan_batch):
    for slug in (config.resolve_district("小店区").slug, config.resolve_district("万柏林区").slug):
        page = plan_batch / slug / "monthly_plan.html"
        written = sorted((plan_batch / slug / "files").glob("月度工作方案_*_KM*.html"))
        assert written, f"{slug}: no manager page written"
        links = [unquote(h) for h in hrefs(page)]
        managers = [h for h in links if h.startswith("files/月度工作方案_")]
        # every manager's page is linked from the plan page (at the top and in its own
        # section), and nothing else under that name
        assert sorted(set(managers)) == [f"files/{p.name}" for p in written]
        assert len(managers) == 2 * len(written)
        for href in managers:
            target = page.parent / href
            assert target.is_file()
            back = [unquote(h) for h in hrefs(target)]
            assert "../monthly_plan.html" in back  # and back to the plan page
            assert (target.parent / "../monthly_plan.html").resolve() == page.resolve()


def test_city_plan_links_the_districts_manager_pages_and_writes_none(plan_batch):
    """The city's plan does not write every manager's page again: it links each page that a
    district's plan wrote (../<district>/files/…), every one of them, and every link resolves."""
    page = plan_batch / "city" / "monthly_plan.html"
    assert not list((plan_batch / "city" / "files").glob("月度工作方案_*"))
    links = [unquote(h) for h in hrefs(page)]
    managers = sorted({h for h in links if "/files/月度工作方案_" in h})
    written = sorted(f"../{p.parent.parent.name}/files/{p.name}"
                     for p in plan_batch.glob("*/files/月度工作方案_*_KM*.html"))
    assert len({h.split("/")[1] for h in written}) >= 5  # pages of several districts
    assert managers == written
    assert broken_links([page], plan_batch) == []
    # each item says what the district's own item says (key shops, target)
    city_items = _manager_items(page)
    for href in written:
        slug, name = href.split("/")[1], href.split("/")[-1]
        own = _manager_items(plan_batch / slug / "monthly_plan.html")[f"files/{name}"]
        assert city_items[href].endswith(own), (city_items[href], own)


def _manager_items(page):
    """href -> the text of the list item linking it, on a plan page."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    return {unquote(a["href"]): a.find_parent("li").get_text() for a in soup.find_all("a", href=True)
            if "月度工作方案_" in unquote(a["href"]) and a.find_parent("li") is not None}


def test_every_link_of_the_plan_pages_resolves(plan_batch):
    pages = [*plan_batch.glob("*/monthly_plan.html"), *plan_batch.glob("*/files/*.html")]
    assert len(pages) > 2
    assert broken_links(pages, plan_batch) == []


def test_plan_pages_print_on_a4(plan_batch):
    """The report page and the managers' pages carry their A4 print rules (portrait for the
    report, landscape for the week list), after the screen rules so that they win."""
    page = (plan_batch / "city" / "monthly_plan.html").read_text(encoding="utf-8")
    assert "@page{size:A4;" in page
    assert page.rindex("@media print") > page.rindex(".kehu-table td{white-space:nowrap}")
    mgr = next(plan_batch.glob("*/files/月度工作方案_*_KM*.html"))
    assert "@page{size:A4 landscape" in mgr.read_text(encoding="utf-8")


def _print(page_path, *, width_cm: float, margin_cm: float):
    """Open ``page_path`` in headless Chromium with print media at the printable width of the
    page (``width_cm`` − 2 × ``margin_cm``, 96 px per inch); returns (overflowing elements, PDF
    bytes printed with the page's own @page size)."""
    import os
    from pathlib import Path

    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = os.environ.get("KEHU_CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        pytest.skip(f"no Chromium at {chromium}")
    px = round((width_cm - 2 * margin_cm) / 2.54 * 96)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                     args=["--no-sandbox", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": px, "height": 800})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
                ("file:", "data:")) else r.abort())
            page.goto(page_path.as_uri(), wait_until="load")
            page.emulate_media(media="print")
            over = page.evaluate("""w => [...document.querySelectorAll('table, img, h1, h2, p')]
                .filter(e => e.offsetParent !== null && e.getBoundingClientRect().right > w + 1)
                .map(e => e.tagName + ':' + (e.innerText || '').slice(0, 30))""", px)
            pdf = page.pdf(prefer_css_page_size=True, print_background=True)
        finally:
            browser.close()
    return over, pdf


def _page_sizes(pdf: bytes) -> set[tuple[int, int]]:
    """(width, height) in points of every page of a PDF (its /MediaBox entries)."""
    import re

    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert boxes, "no page in the PDF"
    return {(round(float(w)), round(float(h))) for w, h in boxes}


@pytest.mark.browser
def test_plan_pages_print_on_a4_in_chromium(plan_batch):
    """Printed from headless Chromium: a manager's week list on A4 landscape (842 × 595 pt),
    the district plan on A4 portrait (595 × 842 pt), and nothing wider than the printable
    width (29.7 or 21 cm less the 1 cm margins), so no column is cut off on paper."""
    district = config.resolve_district("小店区").slug
    mgr = sorted((plan_batch / district / "files").glob("月度工作方案_*_KM*.html"))[0]
    over, pdf = _print(mgr, width_cm=29.7, margin_cm=1.0)
    assert over == [], f"{mgr.name}: wider than A4 landscape: {over}"
    assert _page_sizes(pdf) == {(842, 595)}
    over, pdf = _print(plan_batch / district / "monthly_plan.html", width_cm=21.0, margin_cm=1.0)
    assert over == [], f"monthly_plan.html: wider than A4 portrait: {over}"
    assert _page_sizes(pdf) == {(595, 842)}


@pytest.mark.browser
def test_month_index_fits_the_screen(plan_batch):
    """The month index in an 800 px wide window: no horizontal scroll, although the rows link
    the managers' pages (each district's row its own managers': the links wrap), and a
    district's name stays on one line."""
    import os
    from pathlib import Path

    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = os.environ.get("KEHU_CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        pytest.skip(f"no Chromium at {chromium}")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                     args=["--no-sandbox", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 800, "height": 800})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
                ("file:", "data:")) else r.abort())
            page.goto((plan_batch / "index.html").as_uri(), wait_until="load")
            width = page.evaluate("document.documentElement.scrollWidth")
            managers = page.eval_on_selector_all("a", "els => els.filter(e => /^KM\\d+$/.test(e.innerText)).length")
            name_lines = page.evaluate("""() => [...document.querySelectorAll('tr > th:first-child')]
                .map(th => { const r = document.createRange(); r.selectNodeContents(th.firstChild);
                             return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; })""")
        finally:
            browser.close()
    assert managers >= 5
    assert width <= 800, f"the index is {width} px wide in an 800 px window"
    assert name_lines and max(name_lines) == 1, f"a district's name wraps: {name_lines}"
