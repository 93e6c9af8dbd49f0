"""Parameters of the batch: YAML traps, merge order, validation before any kernel starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from kehu_lib.batch import params as P
from kehu_lib.batch import runner

from batch_fixtures import DEMO_YAML, TEST_NOTEBOOKS, make_params, make_store, options

DEMO = TEST_NOTEBOOKS / "demo_report.ipynb"


def _yaml(tmp_path, text):
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    return P.load_yaml(path)


def test_strict_loader_closes_yaml_11_traps(tmp_path):
    data = _yaml(tmp_path, "a: no\nb: 0123\nc: on\nd: 2026-10-01\ne: true\nf: 12\ng: 1.5\n"
                           "h: 007\ni: 1_000\nj: 0x1F\nk: False\n")
    # PyYAML's SafeLoader gives a=False, b=83, c=True, d=date, h=7, i=1000, j=31
    assert data == {"a": "no", "b": "0123", "c": "on", "d": "2026-10-01", "e": True, "f": 12,
                    "g": 1.5, "h": "007", "i": "1_000", "j": "0x1F", "k": False}


def test_duplicate_yaml_key_is_an_error(tmp_path):
    with pytest.raises(P.ParamError, match=r"duplicate key\(s\) \['a'\]"):
        _yaml(tmp_path, "a: 1\na: 2\n")


def test_declared_parameters_reads_types_defaults_and_help():
    d = P.declared_parameters(DEMO)
    assert {k: (v.type, v.default) for k, v in d.items()} == {
        "month": ("str", ""), "district": ("str", "全市"), "top_n": ("int", 3),
        "code": ("str", "0123"), "scale": ("float", 1.0), "show_chart": ("bool", True)}
    assert d["top_n"].help == "显示前几名"


def test_notebook_without_parameters_cell_is_rejected(tmp_path):
    nb = tmp_path / "x.ipynb"
    nb.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    with pytest.raises(P.ParamError, match="x.ipynb: expected exactly one cell tagged "
                                           "'parameters', found 0"):
        P.declared_parameters(nb)


def test_parameter_declared_twice_is_an_error(tmp_path):
    """A second declaration would silently win over the first (survey_retailer had one)."""
    import json

    nb = tmp_path / "x.ipynb"
    cell = {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "outputs": [],
            "execution_count": None, "source": "a: int = 1  # x\nb: int = 2\na: int = 3  # x\n"}
    nb.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    with pytest.raises(P.ParamError, match=r"x.ipynb: parameters cell declares 'a' twice \(line 3\)"):
        P.declared_parameters(nb)


@pytest.mark.parametrize("value, typ, source, expected", [
    ("007", "str", "command line", "007"),
    ("5", "int", "command line", 5),
    ("2.5", "float", "command line", 2.5),
    ("false", "bool", "command line", False),
    ("[1, 2]", "list", "command line", [1, 2]),
    (140109, "str", "yaml", "140109"),
    (3, "float", "yaml", 3.0),
])
def test_coerce_converts_losslessly(value, typ, source, expected):
    out = P.coerce("p", value, P.Declared("p", typ, None), source)
    assert out == expected and type(out) is type(expected)


@pytest.mark.parametrize("value, typ, source, message", [
    (False, "str", "yaml", "parameter 'p' (from yaml): expected text (str), got bool False"),
    ("no", "bool", "yaml", "expected true or false (bool), got str 'no'"),
    ("yes", "bool", "command line", "expected true or false, got 'yes'"),
    ("7.5", "int", "command line", "expected an integer, got '7.5'"),
    (True, "int", "yaml", "expected an integer (int), got bool True"),
    ("x", "float", "yaml", "expected a number (float), got str 'x'"),
])
def test_coerce_rejects_wrong_types(value, typ, source, message):
    with pytest.raises(P.ParamError, match=message.replace("(", r"\(").replace(")", r"\)")):
        P.coerce("p", value, P.Declared("p", typ, None), source)


def test_merge_order_defaults_notebook_district_cli(tmp_path):
    params = make_params(tmp_path / "params", {"demo_report": DEMO_YAML})
    (params / "defaults.yaml").write_text("parameters:\n  scale: 2.0\n  unrelated: 1\n",
                                          encoding="utf-8")
    (params / "districts").mkdir()
    (params / "districts" / "yingze.yaml").write_text("demo_report:\n  code: '0456'\n",
                                                     encoding="utf-8")
    spec = P.discover(params, TEST_NOTEBOOKS)["demo_report"]
    city = P.resolve(spec, month="2026-10", district="全市", params_dir=params)
    assert city == {"top_n": 2, "code": "0123", "scale": 2.0, "month": "2026-10", "district": "全市"}
    yz = P.resolve(spec, month="2026-10", district="迎泽区", params_dir=params,
                   cli={"scale": "3", "code": "007"})
    assert yz == {"top_n": 1, "code": "007", "scale": 3.0, "month": "2026-10", "district": "迎泽区"}
    yz2 = P.resolve(spec, month="2026-10", district="迎泽区", params_dir=params)
    assert yz2["code"] == "0456" and yz2["top_n"] == 1


def test_unknown_parameter_is_an_error(tmp_path):
    params = make_params(tmp_path / "params", {"demo_report": "top_nn: 3\n"})
    spec = P.discover(params, TEST_NOTEBOOKS)["demo_report"]
    with pytest.raises(P.ParamError, match="params/demo_report.yaml: unknown parameter 'top_nn' "
                                           "for notebook demo_report"):
        P.resolve(spec, month="2026-10", district="全市", params_dir=params)


def test_month_and_district_are_not_yaml_parameters(tmp_path):
    params = make_params(tmp_path / "params", {"demo_report": "district: 迎泽区\n"})
    spec = P.discover(params, TEST_NOTEBOOKS)["demo_report"]
    with pytest.raises(P.ParamError, match="'district' is set by the runner"):
        P.resolve(spec, month="2026-10", district="全市", params_dir=params)


def test_check_month(tmp_path):
    store = make_store(tmp_path / "store")
    assert P.check_month("", store) == "2026-10"
    with pytest.raises(P.ParamError, match="month must be YYYY-MM"):
        P.check_month("2026-13", store)
    with pytest.raises(P.ParamError, match=r"no data for month 2026-08 .* 2026-09 \.\. 2026-10"):
        P.check_month("2026-08", store)
    with pytest.raises(P.ParamError, match="no order data in the store"):
        P.check_month("2026-10", tmp_path / "empty")


def test_district_names_and_slugs():
    assert P.district_name("140109") == "万柏林区"
    assert P.district_slug("万柏林区") == "wanbailin" and P.district_slug("全市") == "city"
    with pytest.raises(P.ParamError, match="unknown district '../etc'"):
        P.district_name("../etc")


def test_no_path_escape(tmp_path):
    with pytest.raises(P.ParamError, match=r"unsafe path component '\.\./x'"):
        P.safe_output(tmp_path, "2026-10", "../x", "demo")
    with pytest.raises(P.ParamError, match="unsafe path component"):
        P.safe_output(tmp_path, "2026-10/../..", "city", "demo")
    assert P.safe_output(tmp_path, "2026-10", "city", "demo") == (tmp_path / "2026-10" / "city").resolve()


def test_plan_validates_before_any_kernel(tmp_path, monkeypatch):
    from kehu_lib.batch import kernels

    def boom(*a, **k):
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(kernels.WarmKernel, "start", boom)
    opts = options(tmp_path, {"demo_report": DEMO_YAML}, cli_params={"top_n": "x"})
    with pytest.raises(P.ParamError, match="expected an integer, got 'x'"):
        runner.run_batch(opts)
    opts = options(tmp_path, {"demo_report": DEMO_YAML}, cli_params={"nope": "1"})
    with pytest.raises(P.ParamError, match="command line: unknown parameter 'nope'"):
        runner.run_batch(opts)
    opts = options(tmp_path, {"demo_report": DEMO_YAML}, notebooks=["missing"])
    with pytest.raises(P.ParamError, match=r"unknown notebook\(s\) \['missing'\]"):
        runner.run_batch(opts)


def test_plan_scope_and_specs(tmp_path):
    opts = options(tmp_path, {"demo_report": "city_only: true\n", "failing": "scope: districts_only\n"})
    pl = runner.plan(opts)
    assert sorted(s.key for s in pl.specs) == ["city/demo_report", "wanbailin/failing"]
    spec = pl.specs[0]
    assert spec.parameters["month"] == "2026-10" and spec.data_period == "2026-09 至 2026-10"
    assert "pandas" in spec.imports and "kehu_lib.exports" in spec.imports


def test_parse_cli():
    assert P.parse_cli(["a=1", "b=x=y"]) == {"a": "1", "b": "x=y"}
    with pytest.raises(P.ParamError, match="-p expects NAME=VALUE, got 'a'"):
        P.parse_cli(["a"])


def test_output_dir_stays_inside_reports(tmp_path):
    reports = tmp_path / "reports"
    run_dir = reports / "2026-10" / "wanbailin"
    assert P.safe_files_dir("", run_dir, reports) == str(run_dir / "files")
    assert P.safe_files_dir("extra", run_dir, reports) == str((run_dir / "extra").resolve())
    with pytest.raises(P.ParamError, match=r"output_dir '/etc' is outside the reports folder"):
        P.safe_files_dir("/etc", run_dir, reports)
    with pytest.raises(P.ParamError, match="outside the reports folder"):
        P.safe_files_dir("../../../x", run_dir, reports)
