"""The batch end to end on small test notebooks: statuses, files, index, XLSX, incremental runs."""

from __future__ import annotations

import json
import os
import shutil
import re

import pytest

from kehu_lib.batch import runner
from kehu_lib.batch.manifest import MANIFEST, Manifest, atomic_write

from batch_fixtures import DEMO_YAML, demo_batch, options  # noqa: F401 - fixture

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _status(report):
    return {r.key: r.status for r in report.results}


def test_failing_run_does_not_stop_the_others(demo_batch):
    opts, report = demo_batch
    assert _status(report) == {
        "city/demo_report": "ok", "wanbailin/demo_report": "ok", "yingze/demo_report": "ok",
        "city/failing": "ok", "wanbailin/failing": "ok", "yingze/failing": "failed"}
    assert report.exit_code == 1
    bad = next(r for r in report.results if r.status == "failed")
    assert bad.error == "RuntimeError: 故意失败: 迎泽区 (cell 3)"
    table = report.table()
    assert re.search(r"yingze/failing\s+failed\s+\d+\.\d\d  RuntimeError", table)
    assert "6 runs: 5 ok, 0 skipped (current), 1 failed" in table


def test_failed_notebook_and_every_log_are_kept(demo_batch):
    opts, report = demo_batch
    month = opts.reports / "2026-10"
    nb = json.loads((month / "_logs" / "yingze" / "failing.ipynb").read_text(encoding="utf-8"))
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert errors and errors[0]["evalue"] == "故意失败: 迎泽区"
    for slug in ("city", "wanbailin", "yingze"):
        for name in ("demo_report", "failing"):
            assert (month / "_logs" / slug / f"{name}.log").exists()
    log = (month / "_logs" / "yingze" / "failing.log").read_text(encoding="utf-8")
    assert "RuntimeError: 故意失败: 迎泽区" in log and "status failed" in log


def test_parameters_reach_the_notebook(demo_batch):
    opts, report = demo_batch
    runs = Manifest(opts.reports / "2026-10").runs
    # params/demo_report.yaml: code stays the string "0123" (YAML 1.1 would give 83)
    assert runs["city/demo_report"]["headlines"] == {"总销量(箱)": 250.0, "区域": "全市",
                                                     "月份": "2026-10", "代码": "0123"}
    assert runs["yingze/demo_report"]["headlines"]["区域"] == "迎泽区"


def test_month_index_shows_status_headlines_and_links(demo_batch):
    opts, _ = demo_batch
    page = (opts.reports / "2026-10" / "index.html").read_text(encoding="utf-8")
    assert 'href="wanbailin/demo_report.html"' in page
    assert "总销量(箱)：250.00" in page and "测试报告" in page
    assert 'href="_logs/yingze/failing.log"' in page
    assert "共 6 份报告：成功 5，失败 1" in page
    # each run's status badge reads as the glossary's run_status name, never the code
    assert re.findall(r'<span class="badge (\w+)">([^<]*)</span>', page).count(("failed", "失败")) == 1
    assert re.findall(r'<span class="badge (\w+)">([^<]*)</span>', page).count(("ok", "成功")) == 5
    top = (opts.reports / "index.html").read_text(encoding="utf-8")
    assert 'href="2026-10/index.html"' in top and "失败 1" in top
    assert not re.search(r"(src|href)=\"(https?:)?//", page + top)


def test_district_xlsx_gathers_key_tables(demo_batch):
    import openpyxl

    opts, _ = demo_batch
    wb = openpyxl.load_workbook(opts.reports / "2026-10" / "wanbailin" / "wanbailin_2026-10.xlsx")
    assert wb.sheetnames == ["关键指标", "档位销量"]
    rows = list(wb["档位销量"].values)
    assert rows[0] == ("档位", "销量", "license_id")
    assert rows[1] == ("一档", 120, "1401******23")  # masked (show_license_ids is false)


def test_no_temporary_files_left(demo_batch):
    opts, _ = demo_batch
    leftovers = [p for p in opts.reports.rglob("*") if p.name.startswith(".") and p.name != MANIFEST]
    assert leftovers == []


def test_incremental_rerun_skips_and_force_reruns(tmp_path):
    opts = options(tmp_path, {"demo_report": DEMO_YAML})
    first = runner.run_batch(opts)
    assert _status(first) == {"city/demo_report": "ok", "wanbailin/demo_report": "ok"}
    second = runner.run_batch(opts)
    assert _status(second) == {"city/demo_report": "skipped", "wanbailin/demo_report": "skipped"}
    assert second.exit_code == 0
    # a changed parameter reruns only the runs it changes
    opts.cli_params = {"top_n": "1"}
    third = runner.run_batch(opts)
    assert _status(third) == {"city/demo_report": "ok", "wanbailin/demo_report": "ok"}
    # input data changed -> rerun; a deleted report -> rerun just that one
    opts.cli_params = {"top_n": "1"}
    (opts.reports / "2026-10" / "city" / "demo_report.html").unlink()
    fourth = runner.run_batch(opts)
    assert _status(fourth) == {"city/demo_report": "ok", "wanbailin/demo_report": "skipped"}
    part = opts.store / "orders" / "month=2026-10" / "district_code=140109" / "part-0.parquet"
    part.write_bytes(b"PAR1-changed")
    assert set(_status(runner.run_batch(opts)).values()) == {"ok"}
    opts.force = True
    assert set(_status(runner.run_batch(opts)).values()) == {"ok"}


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    target = tmp_path / "a.html"
    atomic_write(target, "old")

    class Boom(bytes):
        pass

    with pytest.raises(TypeError):
        atomic_write(target, 12345)  # not str/bytes: fails while writing the temporary file
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.html"]


def test_killed_batch_finishes_only_what_is_missing(tmp_path):
    opts = options(tmp_path, {"demo_report": DEMO_YAML})
    runner.run_batch(opts)
    manifest = Manifest(opts.reports / "2026-10")
    del manifest.runs["wanbailin/demo_report"]  # as if killed before this run was recorded
    manifest.save()
    again = runner.run_batch(opts)
    assert _status(again) == {"city/demo_report": "skipped", "wanbailin/demo_report": "ok"}


def test_runs_start_longest_first():
    from kehu_lib.batch.execute import RunSpec
    from kehu_lib.batch.runner import longest_first

    def spec(nb, district):
        return RunSpec(nb, f"{nb}.ipynb", "2026-10", district, district, {}, "")

    specs = [spec("a", "小店区"), spec("b", "小店区"), spec("b", "全市"), spec("c", "迎泽区"),
             spec("c", "全市"), spec("a", "全市")]
    previous = {"小店区/a": {"notebook": "a", "status": "ok", "seconds": 2.0},
                "全市/a": {"notebook": "a", "status": "ok", "seconds": 9.0},
                "小店区/b": {"notebook": "b", "status": "failed", "seconds": 50.0},
                "迎泽区/x": {"notebook": "b", "status": "ok", "seconds": 4.0}}
    order = [s.key for s in longest_first(specs, previous)]
    # own last time (9, 2); else the notebook's mean (b: 4, the failed run ignored); else the
    # unknown ones, the city first, in their given order
    assert order == ["全市/a", "小店区/b", "全市/b", "小店区/a", "全市/c", "迎泽区/c"]


def test_a_new_month_starts_with_the_last_months_timings(tmp_path):
    from kehu_lib.batch.runner import run_history

    old, new = Manifest(tmp_path / "2026-09"), Manifest(tmp_path / "2026-10")
    old.record({"key": "city/a", "notebook": "a", "status": "ok", "seconds": 9.0})
    old.record({"key": "city/b", "notebook": "b", "status": "ok", "seconds": 3.0})
    old.save()
    new.record({"key": "city/b", "notebook": "b", "status": "ok", "seconds": 5.0})
    hist = run_history(tmp_path, new)
    assert hist["city/a"]["seconds"] == 9.0 and hist["city/b"]["seconds"] == 5.0


def test_parallel_kernels_share_the_cores():
    from kehu_lib.batch.kernels import THREAD_VARS, kernel_env
    from kehu_lib.batch.runner import kernel_threads

    assert kernel_threads(1, cores=8) == 0  # one job: the libraries' own defaults
    assert kernel_threads(2, cores=8) == 4 and kernel_threads(2, cores=2) == 1
    assert kernel_threads(16, cores=8) == 1
    env = kernel_env(threads=2)
    assert all(env[v] == "2" for v in THREAD_VARS)


def test_index_links_each_districts_files(tmp_path):
    from kehu_lib.batch.index import district_files, month_index

    month = tmp_path / "2026-10"
    files = month / "wanbailin" / "files"
    files.mkdir(parents=True)
    for name in ("月度工作方案_2026-11_KM0101.html", "月度工作方案_2026-11_KM0102.html",
                 "月度工作方案_万柏林区_2026-11.xlsx", "货源投放建议_万柏林区_2026-10.csv", ".tmp.html"):
        (files / name).write_text("x", encoding="utf-8")
    (month / "wanbailin" / "wanbailin_2026-10.xlsx").write_bytes(b"x")
    pages, downloads = district_files(month, "wanbailin")
    assert pages == {"月度工作方案 2026-11": [
        ("KM0101", "wanbailin/files/月度工作方案_2026-11_KM0101.html"),
        ("KM0102", "wanbailin/files/月度工作方案_2026-11_KM0102.html")]}
    assert [n for n, _ in downloads] == ["月度工作方案_万柏林区_2026-11.xlsx", "货源投放建议_万柏林区_2026-10.csv"]
    assert district_files(month, "yingze") == ({}, [])
    runs = {f"{s}/a": {"notebook": "a", "slug": s, "district": d, "status": "ok", "seconds": 1.0}
            for s, d in (("city", "全市"), ("wanbailin", "万柏林区"), ("yingze", "迎泽区"))}
    page = month_index(month, runs).read_text(encoding="utf-8")
    from urllib.parse import unquote

    hrefs = [unquote(h) for h in re.findall(r'href="([^"]+)"', page)]
    assert "wanbailin/files/月度工作方案_2026-11_KM0102.html" in hrefs
    assert "wanbailin/files/货源投放建议_万柏林区_2026-10.csv" in hrefs
    assert ">KM0101</a>" in page and "下载与客户经理工作方案" in page
    assert not any("yingze/files" in h or ".tmp" in h for h in hrefs)


def test_stale_files_of_a_rerun_are_removed_and_others_kept(tmp_path):
    """A run that no longer writes a file (a manager who left the district) leaves no stale
    page behind; files of runs not run again, a failed run's files and anything outside the
    run's files/ folder stay."""
    from batch_fixtures import copy_notebook

    nbs = tmp_path / "nbs"
    copy_notebook("files_writer", nbs)
    shutil.copy(nbs / "files_writer.ipynb", nbs / "other_writer.ipynb")
    yamls = {"files_writer": "names: KM01,KM02\n", "other_writer": "prefix: 货源\nnames: A\n"}
    opts = options(tmp_path, yamls, notebooks_dir=nbs, districts=["万柏林区", "迎泽区"], jobs=2)
    assert {r.status for r in runner.run_batch(opts).results} == {"ok"}
    month = opts.reports / "2026-10"
    files = month / "wanbailin" / "files"
    assert sorted(p.name for p in files.iterdir()) == ["方案_KM01.html", "方案_KM02.html",
                                                      "货源_A.html"]
    (month / "wanbailin" / "mine.txt").write_text("x", encoding="utf-8")  # beside files/
    (files / "sub").mkdir()  # a folder inside files/ is never removed

    # KM02 left: only files_writer runs again, other_writer is current and keeps its file
    (opts.params_dir / "files_writer.yaml").write_text("names: KM01\n", encoding="utf-8")
    again = runner.run_batch(opts)
    status = {r.key: r.status for r in again.results}
    assert status["wanbailin/files_writer"] == "ok"
    assert status["wanbailin/other_writer"] == "skipped"
    assert sorted(p.name for p in files.iterdir()) == ["sub", "方案_KM01.html", "货源_A.html"]
    assert sorted(p.name for p in (month / "yingze" / "files").iterdir()) == [
        "方案_KM01.html", "货源_A.html"]
    assert (month / "wanbailin" / "mine.txt").exists()
    index = (month / "index.html").read_text(encoding="utf-8")
    assert "KM01" in index and "KM02" not in index

    # a run that fails keeps the files it wrote last time
    copy_notebook("failing", nbs)
    (nbs / "files_writer.ipynb").write_bytes((nbs / "failing.ipynb").read_bytes())
    (opts.params_dir / "files_writer.yaml").write_text("fail_in: 万柏林区\n", encoding="utf-8")
    failed = runner.run_batch(opts)
    assert {r.key: r.status for r in failed.results}["wanbailin/files_writer"] == "failed"
    assert sorted(p.name for p in files.iterdir()) == ["sub", "方案_KM01.html", "货源_A.html"]


def test_stale_files_kept_while_a_run_of_the_district_has_no_file_list(tmp_path):
    from kehu_lib.batch.runner import remove_stale_files

    files = tmp_path / "wanbailin" / "files"
    files.mkdir(parents=True)
    (files / "old.html").write_text("x", encoding="utf-8")
    runs = {"wanbailin/a": {"slug": "wanbailin", "files": []},
            "wanbailin/b": {"slug": "wanbailin"}}  # recorded by an older batch: files unknown
    assert remove_stale_files(tmp_path, "wanbailin", runs, {"wanbailin/a"}) == []
    assert remove_stale_files(tmp_path, "wanbailin", {"wanbailin/a": runs["wanbailin/a"]},
                              set()) == []  # nothing ran again
    assert remove_stale_files(tmp_path, "wanbailin", {"wanbailin/a": runs["wanbailin/a"]},
                              {"wanbailin/a"}) == [files / "old.html"]


def _kernel_envs(opts) -> dict[str, dict]:
    month = opts.reports / "2026-10"
    return {p.parent.parent.name: json.loads(p.read_text(encoding="utf-8"))
            for p in month.glob("*/files/kernel_env.json")}


def _duckdb_setting(limit: str) -> str:
    import duckdb

    con = duckdb.connect(config={"memory_limit": limit})
    try:
        return con.execute("select current_setting('memory_limit')").fetchone()[0]
    finally:
        con.close()


def test_kernels_get_the_memory_cap_and_threads(tmp_path, monkeypatch):
    """Every kernel of a batch runs with the per-kernel DuckDB memory cap ($KEHU_MEMORY_LIMIT,
    :func:`runner.kernel_memory_limit` of --jobs) and its share of the cores ($KEHU_THREADS),
    and its DuckDB connections use them; the batch sets the cap for its own run only, and a
    cap the user set is kept."""
    from batch_fixtures import copy_notebook

    nbs = tmp_path / "nbs"
    copy_notebook("kernel_env", nbs)
    monkeypatch.delenv("KEHU_MEMORY_LIMIT", raising=False)
    yamls = {"kernel_env": "description: 内核环境\n"}
    opts = options(tmp_path / "a", yamls, notebooks_dir=nbs, jobs=2)
    assert {r.status for r in runner.run_batch(opts).results} == {"ok"}
    envs = _kernel_envs(opts)
    assert set(envs) == {"city", "wanbailin"}
    cap, threads = runner.kernel_memory_limit(2), runner.kernel_threads(2)
    for slug, e in envs.items():
        assert e["pid"] != os.getpid()
        assert e["env"] == {"KEHU_MEMORY_LIMIT": cap, "KEHU_THREADS": str(threads)}, slug
        assert e["duckdb"]["memory_limit"] == _duckdb_setting(cap), slug
        assert int(e["duckdb"]["threads"]) == threads, slug
    assert "KEHU_MEMORY_LIMIT" not in os.environ  # this batch's setting only

    monkeypatch.setenv("KEHU_MEMORY_LIMIT", "300MB")  # the user's own cap wins
    opts = options(tmp_path / "b", yamls, notebooks_dir=nbs, jobs=1, districts=["全市"])
    assert {r.status for r in runner.run_batch(opts).results} == {"ok"}
    (e,) = _kernel_envs(opts).values()
    assert e["env"]["KEHU_MEMORY_LIMIT"] == "300MB"
    assert e["duckdb"]["memory_limit"] == _duckdb_setting("300MB")
    assert os.environ["KEHU_MEMORY_LIMIT"] == "300MB"
