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


def test_constraints_pin_every_dependency():
    """constraints.txt (used by make install) pins each direct dependency to one version that
    pyproject.toml allows, so two fresh installs compute the same figures."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins = {}
    for line in (config.PROJ_ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not pinned with =="
            pins[canonicalize_name(name)] = version.strip()
    project = tomllib.loads((config.PROJ_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for spec in project["dependencies"] + project["optional-dependencies"]["test"]:
        req = Requirement(spec.split("#")[0].strip())
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not pinned in constraints.txt"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {req.name}=={pins[name]}, outside pyproject's {req.specifier}")
