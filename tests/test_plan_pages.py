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
    """monthly_plan for the city and the oversupplied district, as the batch runs it."""
    tmp = tmp_path_factory.mktemp("plan_pages")
    district = signals["oversupplied_sku"]["district"]
    opts = runner.BatchOptions(month="2026-10", jobs=1, store=small_store,
                               reports=tmp / "reports", progress=False, force=True,
                               notebooks=["monthly_plan"], districts=[config.CITY, district])
    report = runner.run_batch(opts)
    bad = {r.key: r.error for r in report.results if r.status != "ok"}
    assert not bad, f"runs failed on the small sample: {bad}"
    return opts.reports / report.month


def test_plan_page_links_every_manager_page_and_back(plan_batch):
    for slug in ("city", config.resolve_district("小店区").slug):
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


def test_every_link_of_the_plan_pages_resolves(plan_batch):
    pages = [*plan_batch.glob("*/monthly_plan.html"), *plan_batch.glob("*/files/*.html")]
    assert len(pages) > 2
    assert broken_links(pages, plan_batch) == []


def test_plan_pages_print_on_a4(plan_batch):
    """The report page and the managers' pages carry their A4 print rules (portrait for the
    report, landscape for the week list), after the screen rules so that they win."""
    page = (plan_batch / "city" / "monthly_plan.html").read_text(encoding="utf-8")
    assert "@page{size:A4;" in page
    assert page.rindex("@media print") > page.rindex(".kehu-table td,.kehu-table th{white-space:nowrap}")
    mgr = next((plan_batch / "city" / "files").glob("月度工作方案_*_KM*.html"))
    assert "@page{size:A4 landscape" in mgr.read_text(encoding="utf-8")
