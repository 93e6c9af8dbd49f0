"""Notebooks are thin, reports are built by the library, and every shown column is in the glossary.

- every notebook has at most 12 code cells, no dict literal mapping to Chinese text and no
  comparison with a Chinese string (an AST scan of each code cell);
- each notebook's parameters cell declares exactly the parameters of ``params/<notebook>.yaml``
  (plus month and district), with the same default values: the YAML is their one home;
- each report builds on the small sample city (the city and one district) and every column of
  every table it shows has a glossary entry (:class:`kehu_lib.present.Table` refuses others);
  no shown cell is True/False/nan, no header is snake_case, no table mixes 条 and 箱.
"""

from __future__ import annotations

import ast
import json
import re

import pandas as pd
import pytest

from kehu_lib import config, reports
from kehu_lib.batch import params as P
from kehu_lib.present import Table, glossary

CJK = re.compile(r"[\u4e00-\u9fff]")
MAX_CODE_CELLS = 12
THIN = tuple(reports.NOTEBOOKS)


def _code_cells(name: str) -> list[str]:
    nb = json.loads((config.NOTEBOOKS_DIR / f"{name}.ipynb").read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def _chinese(node: ast.AST) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)
            and bool(CJK.search(node.value)))


def offences(source: str) -> list[str]:
    """Label dicts, comparisons with Chinese text and function definitions in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict) and any(_chinese(v) for v in node.values):
            found.append(f"label dict at line {node.lineno}")
        if isinstance(node, ast.Compare) and any(_chinese(x)
                                                 for x in [node.left, *node.comparators]):
            found.append(f"comparison with Chinese text at line {node.lineno}")
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("eq", "ne", "isin", "replace")
                and any(_chinese(a) for a in ast.walk(node) if a is not node.func)):
            found.append(f".{node.func.attr}() with Chinese text at line {node.lineno}")
        if isinstance(node, (ast.FunctionDef, ast.Lambda, ast.ClassDef)):
            found.append(f"definition at line {node.lineno}")
    return found


def test_scan_catches_what_it_should():
    assert offences('t.rename(columns={"x": "销量"})')
    assert offences('df[df["signal"] == "显著下降"]')
    assert offences('df["n_flag"].ne("正常")')
    assert offences("def f():\n    pass")
    assert not offences('r.show("brands")\nheadlines.record(r.headlines);')


@pytest.mark.parametrize("name", THIN)
def test_notebook_is_thin(name):
    cells = _code_cells(name)
    assert len(cells) <= MAX_CODE_CELLS, f"{name}: {len(cells)} code cells"
    for i, src in enumerate(cells):  # the parameters cell's Chinese labels are comments
        assert not offences(src), f"{name} code cell {i}: {offences(src)}"


@pytest.mark.parametrize("name", sorted(P.discover(config.PARAMS_DIR, config.NOTEBOOKS_DIR)))
def test_parameters_cell_matches_yaml(name):
    declared = P.declared_parameters(config.NOTEBOOKS_DIR / f"{name}.ipynb")
    yaml_params = reports.load_params(name)
    assert set(declared) - set(P.RUN_KEYS) == set(yaml_params), (
        f"{name}: parameters cell and params/{name}.yaml declare different parameters")
    diff = {k: (declared[k].default, v) for k, v in yaml_params.items()
            if declared[k].default != v}
    assert not diff, f"{name}: defaults differ from params/{name}.yaml (cell, yaml): {diff}"


#: Settings that may differ by report under one name (how many rows a table shows).
PER_REPORT_SETTINGS = {"top_n"}


def test_one_name_one_rule_across_notebooks():
    """A parameter name two notebooks declare is one rule with one value (a different rule gets
    its own name: key_brand_loss_alert in the market report, key_brand_volume_gap_alert in the
    plan; new_product_tracking_months vs the plan's new_product_months)."""
    values: dict[str, dict[str, object]] = {}
    for name in sorted(P.discover(config.PARAMS_DIR, config.NOTEBOOKS_DIR)):
        for key, value in reports.load_params(name).items():
            values.setdefault(key, {})[name] = value
    clashes = {k: v for k, v in values.items()
               if k not in PER_REPORT_SETTINGS and len({json.dumps(x) for x in v.values()}) > 1}
    assert not clashes, f"one name, different values (rename the distinct rules): {clashes}"


@pytest.mark.parametrize("district", [config.CITY, "万柏林区"])
@pytest.mark.parametrize("name", THIN)
def test_report_builds_and_every_column_is_in_the_glossary(name, district, sample_env, tmp_path):
    files = {"output_dir": str(tmp_path)} if "output_dir" in reports.load_params(name) else {}
    report = getattr(reports, name).build("2026-10", district, **files)
    tables = [i for s in report.sections.values() for i in s.items if isinstance(i, Table)]
    assert tables, f"{name} shows no table"
    for t in tables:
        assert not glossary.check_mapping(t.data.columns), t.title
        page = t._repr_html_()
        assert "True" not in page and "False" not in page and "nan" not in page
        assert not re.search(r"<th>[a-z_]+</th>", page), t.title
        units = {glossary.entry(c).unit for c in t.data.columns}
        assert not {"条", "箱"} <= units, f"{t.title}: 条 and 箱 in one table"
    if district != config.CITY:
        assert "districts" not in report.sections  # 区县对比 only on the city page
    assert report.headlines


def test_census_weighted_scores_say_how_far_weighting_moves_them(sample_env):
    """The census page puts the unweighted score before the weighted one, and its sentence gives
    the range and mean of (weighted − unweighted) as read back from the same table."""
    from kehu_lib.present import Text, format as fmt

    items = reports.census.build("2026-10", "万柏林区").sections["weighted"].items
    table = next(i for i in items if isinstance(i, Table))
    assert list(table.data.columns) == ["item", "n_valid", "score", "score_weighted", "n_eff"]
    diff = table.data["score_weighted"] - table.data["score"]
    text = next(i for i in items if isinstance(i, Text)).text
    assert text == (f"加权后各题得分变化{fmt.score_change(diff.min())}至"
                    f"{fmt.score_change(diff.max())}分（平均{fmt.score_change(diff.mean())}分）。")


def test_forecast_page_describes_the_method_it_runs(monkeypatch):
    """The 说明 is written from kehu_lib.forecast.select: its members, their weighting and the
    fallback thresholds; a change of the method changes the words (it was a fixed text that
    still described the old per-series model choice)."""
    from kehu_lib.forecast import select
    from kehu_lib.present import forecast_text

    names = glossary.code_names("forecast_model")
    text = forecast_text.method_text()
    assert all(names[m] in text for m in select.COMBO)
    assert f"历史不足{select.MIN_OBS}个月" in text and names[select.INTERMITTENT_METHOD] in text
    monkeypatch.setattr(select, "COMBO", ("ets", "theta", "sarima", "snaive"))
    monkeypatch.setattr(select, "WEIGHT_POWER", 2.0, raising=False)
    changed = forecast_text.method_text()
    assert "指数平滑ETS、Theta、SARIMA、季节朴素四个模型" in changed
    assert "回测误差（MASE）平方的倒数加权" in changed


def test_model_choice_says_a_shared_reason_once():
    """A reason (or backtest size) common to every series is one sentence, not a repeated
    column; one that differs keeps its column."""
    import pandas as pd

    from kehu_lib.reports.sales_forecast import _model_choice

    same = pd.DataFrame({"level": ["总量", "价类"], "member": ["合计", "一类"],
                         "model": ["combo", "combo"], "reason": ["weighted", "weighted"],
                         "mase_ets": [0.8, 0.5], "origins": [2, 2], "n": [12, 12]})
    text, table = _model_choice(same)
    assert "reason" not in table.data and "origins" not in table.data
    assert text.text.startswith("各序列的模型均为") and "每个序列回测2个起点、12次预测" in text.text
    mixed = same.assign(reason=["weighted", "short"], n=[12, 6])
    text, table = _model_choice(mixed)
    assert text is None and {"reason", "origins", "n_forecasts"} <= set(table.data.columns)


@pytest.mark.parametrize("district", [None, "小店区"])
def test_last_months_abc_classes_from_the_amounts_alone(district, small_store):
    """The market report classifies last month's shops from their 销售额 alone
    (``market_report._shop_amounts``): the same shops, amounts and ABC classes, to the last
    bit, as ``customers.abc_classes`` of the month's whole ``shop_indicators`` (the reference)."""
    from kehu_lib import findings
    from kehu_lib.metrics import customers
    from kehu_lib.reports.market_report import _shop_amounts

    data = findings.load_inputs(district, "2026-10", store=small_store)
    od, prod, cust = data["orders"], data["products"], data["customers"]
    # also with active shops that did not order that month (their amount is 0, class C)
    silent = od.loc[od["month"] == "2026-09", "license_id"].drop_duplicates().head(3)
    quiet = od[~((od["month"] == "2026-09") & od["license_id"].isin(silent))]
    for orders in (od, quiet):
        ref = customers.shop_indicators(orders, prod, cust, month="2026-09")
        got = _shop_amounts(orders, cust, "2026-09")
        assert len(got) == len(ref) > 0 and (got["amount"] > 0).any()
        pd.testing.assert_frame_equal(customers.abc_classes(got), customers.abc_classes(ref),
                                      check_exact=True)
