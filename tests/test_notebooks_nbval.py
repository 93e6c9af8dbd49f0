"""Notebook regression tests: every notebook of params/ on the small sample city.

Two layers (charts are never compared by pixels: the figures behind them are recorded):

1. ``test_headlines_match_baseline``: each notebook runs on the warm-kernel batch runner for the
   city, and its recorded headline figures (:func:`kehu_lib.headlines.record`) are compared with
   ``tests/baselines/<notebook>.json`` (floats to a relative 1e-6). A missing baseline FAILS;
   ``KEHU_UPDATE_BASELINES=1`` writes it (review the diff before committing).
2. ``test_nbval`` (slow): nbval runs a generated copy of each notebook whose headline cell carries
   the reference outputs (``tests/baselines/<notebook>.outputs.json``: text and headline data
   only) as its stored output and ``# NBVAL_CHECK_OUTPUT`` (run with ``--nbval-lax``, so
   only that cell is compared). nbval silently passes a cell without stored output, so
   :func:`check_outputs` refuses a checked cell with none — tested below.
"""

from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from kehu_lib import config, headlines
from kehu_lib.batch import params as P
from kehu_lib.batch import runner

BASELINES = Path(__file__).parent / "baselines"
NOTEBOOKS = sorted(P.discover(config.PARAMS_DIR, config.NOTEBOOKS_DIR))
CHECK = "# NBVAL_CHECK_OUTPUT"

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def city_batch(small_store, tmp_path_factory):
    """Every notebook for the city on the small sample, run once on a warm kernel."""
    reports = tmp_path_factory.mktemp("reports")
    opts = runner.BatchOptions(districts=[config.CITY], jobs=1, store=small_store,
                               reports=reports, progress=False, force=True)
    report = runner.run_batch(opts)
    return {r.notebook: r for r in report.results}, reports / report.month


def _close(a, b) -> bool:
    """``a`` (got) equals ``b`` (baseline) to a relative 1e-6, or to one unit of the last
    decimal the baseline was rounded to (headlines are rounded, and a value on a rounding
    boundary may flip by one unit with the BLAS/thread layout of the machine)."""
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        text = repr(float(b))
        decimals = len(text.split(".")[1]) if "." in text and "e" not in text else 0
        unit = 10.0 ** -decimals if 0 < decimals < 9 else 0.0
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=max(1e-9, unit * 1.01))
    return a == b


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_headlines_match_baseline(name, city_batch):
    results, _ = city_batch
    result = results[name]
    assert result.status == "ok", f"{name} failed on the small sample: {result.error}"
    got = result.headlines
    assert got, f"{name} recorded no headline figures (call kehu_lib.headlines.record)"
    path = BASELINES / f"{name}.json"
    if os.environ.get("KEHU_UPDATE_BASELINES") == "1":
        path.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n",
                        encoding="utf-8")
        executed = nbformat.read(str(city_batch[1] / "_logs" / "city" / f"{name}.ipynb"), as_version=4)
        outs = next(c.outputs for c in executed.cells
                    if c.cell_type == "code" and "headlines.record" in c.source)
        (BASELINES / f"{name}.outputs.json").write_text(
            json.dumps(sanitize(outs), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert path.exists(), (f"no baseline {path.name}: run the tests with KEHU_UPDATE_BASELINES=1 "
                           "and commit it")
    want = json.loads(path.read_text(encoding="utf-8"))
    assert list(got) == list(want), "headline keys (or their order) changed"
    diffs = {k: (got[k], want[k]) for k in want if not _close(got[k], want[k])}
    assert not diffs, f"headline figures differ from the baseline (got, want): {diffs}"


KEEP = ("text/plain", headlines.MIME)


def sanitize(outputs) -> list[dict]:
    """Text and headline data of the outputs only (no images, HTML or execution counts)."""
    clean = []
    for out in outputs:
        out = dict(out)
        if "data" in out:
            out["data"] = {k: v for k, v in out["data"].items() if k in KEEP}
            out["metadata"] = {}
            if not out["data"]:
                continue
        if "execution_count" in out:
            out["execution_count"] = 1
        clean.append(out)
    return clean


def reference_notebook(source: Path, outputs: list | None) -> nbformat.NotebookNode:
    """A copy of the notebook whose headline cell stores ``outputs`` as its reference."""
    nb = nbformat.read(str(source), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "headlines.record" in cell.source:
            # `pass` last: IPython's ';' suppression of the returned dict differs between kernels
            cell.source = f"{CHECK}\n{cell.source}\npass"
            cell.outputs = []
            cell.execution_count = None
            if outputs:
                cell.execution_count = 1  # nbval refuses an "unrun" cell with outputs
                cell.outputs = [nbformat.from_dict(o) for o in outputs
                                if o["output_type"] != "execute_result"]  # see `pass`
    return nb


def check_outputs(nb) -> None:
    """Refuse a notebook whose checked cells have no stored output (nbval would pass them)."""
    checked = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and CHECK in c.source]
    if not checked:
        raise AssertionError("no cell is marked NBVAL_CHECK_OUTPUT: nothing would be compared")
    empty = [i for i in checked if not nb.cells[i].get("outputs")]
    if empty:
        raise AssertionError(f"cell(s) {empty} are checked but have no reference output")


def test_guard_fails_when_reference_output_is_missing():
    source = config.NOTEBOOKS_DIR / f"{NOTEBOOKS[0]}.ipynb" if NOTEBOOKS else None
    if source is None:
        pytest.skip("no notebook in params/")
    with pytest.raises(AssertionError, match=r"checked but have no reference output"):
        check_outputs(reference_notebook(source, None))
    check_outputs(reference_notebook(source, [{"output_type": "stream", "name": "stdout",
                                               "text": "x: 1\n"}]))


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_nbval(name, small_store, tmp_path):
    path = BASELINES / f"{name}.outputs.json"
    assert path.exists(), f"no reference outputs {path.name} (KEHU_UPDATE_BASELINES=1)"
    outputs = json.loads(path.read_text(encoding="utf-8"))
    src = config.NOTEBOOKS_DIR / f"{name}.ipynb"
    nb = reference_notebook(src, outputs)
    check_outputs(nb)
    target = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, str(target))
    env = dict(os.environ, KEHU_STORE=str(small_store), KEHU_REPORTS=str(tmp_path / "reports"),
               PYTHONPATH=os.pathsep.join([str(config.PROJ_ROOT), os.environ.get("PYTHONPATH", "")]))
    before = sorted(config.NOTEBOOKS_DIR.rglob("*"))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--nbval-lax", "--nbval-current-env", "--nbval-cell-timeout=600",
                           str(target)], cwd=config.NOTEBOOKS_DIR, env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    # a run outside the batch writes its files (plans, workbooks) under the reports folder
    assert sorted(config.NOTEBOOKS_DIR.rglob("*")) == before, "the notebook wrote into notebooks/"
