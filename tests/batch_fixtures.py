"""Fixtures of the batch tests: a tiny fake store, test notebooks and their params folder.

Import the fixtures in a test module with ``from batch_fixtures import *  # noqa``. The test
notebooks in ``tests/notebooks/`` need no data; the store only needs month folders to validate.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from kehu_lib.batch import runner

TEST_NOTEBOOKS = Path(__file__).parent / "notebooks"

DEMO_YAML = """description: 测试报告
parameters:
  top_n: 2
  code: 0123
districts:
  迎泽区:
    top_n: 1
"""


def make_store(root: Path, months=("2026-09", "2026-10")) -> Path:
    """A store with order partitions for ``months`` (empty parquet placeholders)."""
    for m in months:
        part = root / "orders" / f"month={m}" / "district_code=140109"
        part.mkdir(parents=True, exist_ok=True)
        (part / "part-0.parquet").write_bytes(b"PAR1")
    return root


def make_params(root: Path, yamls: dict[str, str]) -> Path:
    """A params folder with ``defaults.yaml`` and the given notebook YAMLs."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "defaults.yaml").write_text("parameters: {}\nprecompute: []\n", encoding="utf-8")
    for name, text in yamls.items():
        (root / f"{name}.yaml").write_text(text, encoding="utf-8")
    return root


def options(tmp: Path, yamls: dict[str, str], **kw) -> runner.BatchOptions:
    """Batch options over the test notebooks, a fake store and a reports folder in ``tmp``."""
    base = dict(month="2026-10", districts=["全市", "万柏林区"], jobs=1,
                params_dir=make_params(tmp / "params", yamls), notebooks_dir=TEST_NOTEBOOKS,
                store=make_store(tmp / "store"), reports=tmp / "reports", progress=False)
    base.update(kw)
    return runner.BatchOptions(**base)


@pytest.fixture(scope="module")
def demo_batch(tmp_path_factory):
    """One batch of demo_report + failing over the city and two districts, run once."""
    tmp = tmp_path_factory.mktemp("batch")
    opts = options(tmp, {"demo_report": DEMO_YAML, "failing": "fail_in: 迎泽区\n"},
                   districts=["全市", "万柏林区", "迎泽区"], jobs=2)
    report = runner.run_batch(opts)
    return opts, report


def copy_notebook(name: str, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(TEST_NOTEBOOKS / f"{name}.ipynb", dest / f"{name}.ipynb"))


def hrefs(page: Path) -> list[str]:
    """The ``href`` of every link of an HTML page."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    return [a["href"] for a in soup.find_all("a", href=True)]


def broken_links(pages, root: Path) -> list[str]:
    """Links of ``pages`` that point at no file ("page -> href", paths relative to ``root``);
    a link leaving the reports folder (with a scheme, e.g. https:) fails at once."""
    broken = []
    for page in pages:
        for href in hrefs(page):
            if href.startswith("#"):
                continue
            assert not urlsplit(href).scheme, f"{page.name}: {href} leaves the reports folder"
            if not (page.parent / unquote(urlsplit(href).path)).is_file():
                broken.append(f"{page.relative_to(root)} -> {href}")
    return broken
