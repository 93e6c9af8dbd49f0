"""Packaging: environment.yml and pyproject.toml list the same dependencies; docs match the schema."""

from __future__ import annotations

import tomllib

import yaml

from kehu_lib import config
from kehu_lib.schema import TABLES, markdown


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((config.PROJ_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["test"])
    env = yaml.safe_load((config.PROJ_ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert "python=3.11" in env["dependencies"]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert set(pip) == wanted, f"only in pyproject: {wanted - set(pip)}; only in environment.yml: {set(pip) - wanted}"


def test_data_readme_documents_every_field():
    readme = (config.DATA_DIR / "README.md").read_text(encoding="utf-8")
    assert markdown() in readme, "data/README.md is stale: paste kehu_lib.schema.markdown() into it"
    for table in TABLES.values():
        for f in table.fields:
            assert f"`{f.name}` | {f.zh}" in readme


def test_signals_documented():
    readme = (config.DATA_DIR / "README.md").read_text(encoding="utf-8")
    signals = yaml.safe_load((config.DATA_DIR / "planted_signals.yaml").read_text(encoding="utf-8"))
    for name in ("oversupplied_sku", "satisfaction_drop", "key_brand_loss", "new_product", "strategy_effects"):
        assert name in signals and f"`{name}`" in readme
