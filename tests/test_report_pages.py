"""The real reports of a small-sample batch: charts on every page, and the page audit.

One batch of every notebook for the city and every district runs on a warm kernel that has
already run another notebook (``tests/notebooks/charts.ipynb``), so no page is the first run on
its kernel. Its pages are compared with cold runs: each notebook executed once for the city
and once for a district by plain papermill on a fresh kernel, exported by the same HTML
exporter. District pages are compared with the district's cold run: the notebooks draw the same
charts for every district that has data, and in the sample every district has data for each.
"""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from kehu_lib import config
from kehu_lib.batch import runner
from kehu_lib.batch.audit import audit_page, count_charts
from kehu_lib.batch.html import render_html

from batch_fixtures import broken_links, hrefs, options

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"), pytest.mark.slow,
              pytest.mark.xdist_group("small_sample_batch")]

COLD_DISTRICT = config.DISTRICTS[0].name


@pytest.fixture(scope="module")
def small_batch(small_store, tmp_path_factory):
    """Every notebook x (the city and every district) on the small sample, on a used kernel."""
    tmp = tmp_path_factory.mktemp("pages")
    first = runner.run_batch(options(tmp / "first", {"charts": ""}, districts=[config.CITY],
                                     notebooks=["charts"], jobs=1))
    assert [r.status for r in first.results] == ["ok"]
    opts = runner.BatchOptions(month="2026-10", jobs=1, store=small_store, reports=tmp / "reports",
                               progress=False, force=True)
    report = runner.run_batch(opts)
    bad = {r.key: r.error for r in report.results if r.status != "ok"}
    assert not bad, f"runs failed on the small sample: {bad}"
    assert len(report.results) == 8 * 6
    return opts.reports / report.month


@pytest.fixture(scope="module")
def cold_charts(small_store, tmp_path_factory):
    """(notebook, 'city'|'district') -> charts on the page of a cold run (plain papermill)."""
    import papermill

    tmp = tmp_path_factory.mktemp("cold")
    opts = runner.BatchOptions(month="2026-10", districts=[config.CITY, COLD_DISTRICT],
                               store=small_store, reports=tmp / "reports", progress=False)
    counts = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KEHU_STORE", str(small_store))
        for spec in runner.plan(opts).specs:
            nb = papermill.execute_notebook(spec.notebook_path, str(tmp / f"{spec.slug}-{spec.notebook}.ipynb"),
                                            parameters=spec.parameters, kernel_name="python3",
                                            progress_bar=False, cwd=str(tmp))
            kind = "city" if spec.district == config.CITY else "district"
            counts[spec.notebook, kind] = count_charts(render_html(nb, spec))
    return counts


def test_every_page_has_the_charts_of_a_cold_run(small_batch, cold_charts):
    assert set(cold_charts.values()) - {0}, "the cold runs drew no chart: nothing is compared"
    got, want = {}, {}
    for page in sorted(small_batch.glob("*/*.html")):
        kind = "city" if page.parent.name == "city" else "district"
        got[f"{page.parent.name}/{page.stem}"] = count_charts(page.read_text(encoding="utf-8"))
        want[f"{page.parent.name}/{page.stem}"] = cold_charts[page.stem, kind]
    assert len(got) == 48
    assert got == want


def test_every_link_of_the_index_and_the_pages_resolves(small_batch):
    reports = small_batch.parent
    pages = [small_batch / "index.html", reports / "index.html", *small_batch.glob("*/*.html")]
    assert broken_links(pages, reports) == []
    index = [unquote(h) for h in hrefs(small_batch / "index.html")]
    for d in config.DISTRICTS:  # every district: its key-table XLSX and its managers' own plans
        assert f"{d.slug}/{d.slug}_2026-10.xlsx" in index
        plans = [h for h in index if h.startswith(f"{d.slug}/files/月度工作方案_") and h.endswith(".html")]
        written = sorted((small_batch / d.slug / "files").glob("月度工作方案_*.html"))
        assert written and len(plans) == len(written)


def test_every_page_passes_audit(small_batch):
    problems = {}
    for page in sorted(small_batch.glob("*/*.html")):
        found = audit_page(page.read_text(encoding="utf-8"))
        if found:
            problems[f"{page.parent.name}/{page.stem}"] = [str(p) for p in found[:5]]
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())
