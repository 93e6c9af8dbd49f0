"""The month index and one report in headless Chromium: offline, Chinese text, a screenshot."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

from kehu_lib import config

from batch_fixtures import demo_batch  # noqa: F401 - fixture

CHROMIUM = os.environ.get("KEHU_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = config.PROJ_ROOT / "test-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def _open(page_path: Path, shot: str):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    requests: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-background-networking", "--disable-component-update",
            "--disable-default-apps", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})

            def route(r):
                requests.append(r.request.url)
                url = urlparse(r.request.url)
                if url.scheme in ("file", "data") or url.hostname in ("localhost", "127.0.0.1"):
                    r.continue_()
                else:
                    r.abort()

            page.route("**/*", route)
            page.goto(page_path.as_uri(), wait_until="load")
            text = page.inner_text("body")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
            images = page.eval_on_selector_all(
                "img", "els => els.map(e => e.complete && e.naturalWidth > 0)")
            captions = page.evaluate("""() => [...document.querySelectorAll('caption')].map(c => {
                const r = document.createRange(); r.selectNodeContents(c);
                return [c.innerText, new Set([...r.getClientRects()].map(x => Math.round(x.top))).size];
            })""")
            wide = page.evaluate("""() => [...document.querySelectorAll('table')]
                .filter(t => t.getBoundingClientRect().width > t.parentElement.clientWidth + 1)
                .map(t => [t.caption ? t.caption.innerText : '', Math.round(t.getBoundingClientRect().width),
                           t.parentElement.clientWidth])""")
        finally:
            browser.close()
    outside = [u for u in requests if urlparse(u).scheme not in ("file", "data")
               and urlparse(u).hostname not in ("localhost", "127.0.0.1")]
    return text, outside, images, captions, wide


def test_month_index_in_chromium(demo_batch):
    opts, _ = demo_batch
    text, outside, _, _, _ = _open(opts.reports / "2026-10" / "index.html", "month_index.png")
    assert outside == []
    assert "2026-10 月度报告" in text and "万柏林区" in text and "成功" in text


def test_report_in_chromium(demo_batch):
    opts, _ = demo_batch
    text, outside, images, captions, wide = _open(
        opts.reports / "2026-10" / "wanbailin" / "demo_report.html", "report.png")
    assert outside == []
    assert "测试报告：销量概览" in text and "目录" in text and "报告月份" in text
    assert images == [True]  # the embedded chart decoded
    # A table narrower than its caption (two short columns) widens to it, instead of
    # wrapping the caption over three lines above the table.
    assert captions and all(lines == 1 for _, lines in captions), captions
    # An eleven-column table (the supply plan's) fits a 1200 px window: headers break at their
    # unit's bracket rather than the table scrolling sideways.
    assert len(captions) >= 2 and wide == [], wide
