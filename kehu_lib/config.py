"""Every path and canonical name of the project, defined once.

Paths follow the project layout: ``notebooks/``, ``params/``, ``data/`` and ``reports/`` beside
the package. The store location can be moved with the ``KEHU_STORE`` environment variable and the
reports folder with ``KEHU_REPORTS``, so tests and benchmarks can work on their own copies.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJ_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = PROJ_ROOT / "notebooks"
PARAMS_DIR = PROJ_ROOT / "params"
DATA_DIR = PROJ_ROOT / "data"
BENCHMARKS_DIR = PROJ_ROOT / "benchmarks"


#: Parsed YAML files of this process: (loader, file bytes) -> data (see :func:`read_yaml`).
_YAML_PARSED: dict[tuple, Any] = {}
_YAML_KEEP = 64


def read_yaml(path: str | Path, *, loader=None) -> Any:
    """The YAML file ``path`` parsed, once per process and content: a report reads its
    parameters, thresholds, item catalogue and strategy library many times, and PyYAML's
    pure-Python parser costs milliseconds per file. Keyed on the file's bytes (read each
    call, a few microseconds), so an edited file is parsed again however fast it changed.

    ``loader``: default libyaml's ``CSafeLoader`` when PyYAML has it (same results as
    ``yaml.safe_load``, several times faster), else ``SafeLoader``. Returns a copy of the
    parsed data (the caller may change it)."""
    import copy

    import yaml

    loader = loader or getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, "rb") as fh:
        key = (loader, fh.read())
    try:
        data = _YAML_PARSED[key]
    except KeyError:
        with open(path, encoding="utf-8") as fh:  # from the file: errors name it
            data = yaml.load(fh, Loader=loader)  # noqa: S506 - safe loaders only
        if len(_YAML_PARSED) >= _YAML_KEEP:
            _YAML_PARSED.clear()
        _YAML_PARSED[key] = data
    return copy.deepcopy(data)


def yaml_params(path: str | Path, keys: tuple[str, ...] | list[str], *, what: str) -> dict:
    """The values of ``keys`` in the parameters YAML ``path`` (top level, or nested under
    ``parameters:``); a missing key is an error naming the file and ``what`` the keys are."""
    data = read_yaml(path) or {}
    params = data.get("parameters", data)
    missing = [k for k in keys if k not in params]
    if missing:
        raise KeyError(f"{Path(path).name}: {what} {missing} are missing")
    return {k: params[k] for k in keys}


def store_dir() -> Path:
    """The columnar store root (``data/store`` unless ``KEHU_STORE`` is set)."""
    return Path(os.environ.get("KEHU_STORE", DATA_DIR / "store")).resolve()


def reports_dir() -> Path:
    """Where the batch writes HTML reports (``reports/`` unless ``KEHU_REPORTS`` is set)."""
    return Path(os.environ.get("KEHU_REPORTS", PROJ_ROOT / "reports")).resolve()


#: Folder under the reports folder for the files of notebooks run outside the batch.
INTERACTIVE_DIR = "interactive"


def files_dir(output_dir: str | Path = "", *, month: str = "", place: str = "") -> Path:
    """The folder a notebook writes its files into (plans, workbooks, CSV); not created here.

    The batch always passes its run's ``files/`` folder as ``output_dir``. Left empty (a run in
    JupyterLab, ``pytest --nbval-lax notebooks/``) the files go to
    ``<reports>/interactive/<month>/<district slug>/``, never into the folder the kernel runs in
    (``notebooks/``: the files hold full licence ids and do not belong beside the notebooks). A
    relative ``output_dir`` is taken relative to that folder; an absolute one is used as given.
    """
    given = Path(str(output_dir)) if output_dir not in (None, "") else None
    if given is not None and given.is_absolute():
        return given
    try:
        district = resolve_district(place)
        slug = district.slug if district is not None else "city"
    except ValueError:
        slug = re.sub(r"[^\w.-]+", "_", str(place)).strip("._") or "other"
    base = reports_dir() / INTERACTIVE_DIR / (month or "latest") / slug
    return (base / given).resolve() if given is not None else base


#: The roll-up pseudo-district: the whole city.
CITY = "全市"


@dataclass(frozen=True)
class District:
    """A sales district (市场部 / 区) of the city, or the key-account segment."""

    code: str  # administrative code as a string, e.g. "140109"; never an int
    name: str  # Chinese name, e.g. "万柏林区"
    slug: str  # ASCII folder name, e.g. "wanbailin"
    rural_share: float  # share of the district's shops that are rural (乡村)
    shop_share: float  # share of the city's shops
    panel_size: int  # retailer informant panel size (seed 004)
    kind: str  # "urban", "mixed", "rural" or "key_account"


#: The six Taiyuan districts of seed 004 plus the key-account (大客户) segment.
DISTRICTS: tuple[District, ...] = (
    District("140109", "万柏林区", "wanbailin", 0.08, 0.21, 160, "urban"),
    District("140106", "迎泽区", "yingze", 0.03, 0.18, 140, "urban"),
    District("140107", "杏花岭区", "xinghualing", 0.06, 0.18, 140, "urban"),
    District("140105", "小店区", "xiaodian", 0.25, 0.20, 140, "mixed"),
    District("140108", "尖草坪区", "jiancaoping", 0.55, 0.11, 80, "rural"),
    District("140110", "晋源区", "jinyuan", 0.65, 0.08, 60, "rural"),
    District("140199", "大客户", "dakehu", 0.0, 0.04, 40, "key_account"),
)

DISTRICT_BY_NAME = {d.name: d for d in DISTRICTS}
DISTRICT_BY_CODE = {d.code: d for d in DISTRICTS}

#: Price classes (价类) by tax-exclusive wholesale price per carton (yuan/条), lower bounds.
PRICE_CLASS_BOUNDS: tuple[tuple[str, float], ...] = (
    ("一类", 100.0),
    ("二类", 70.0),
    ("三类", 30.0),
    ("四类", 16.5),
    ("五类", 0.0),
)
PRICE_CLASSES = tuple(name for name, _ in PRICE_CLASS_BOUNDS)

#: Consumer price classes of seed 004, by retail price per pack (yuan/盒).
CONSUMER_CLASSES = ("A", "B", "C", "D")

#: Unit conversions.
CARTONS_PER_CASE = 250  # 1 箱 = 250 条
PACKS_PER_CARTON = 10  # 1 条 = 10 盒


def resolve_district(district: str | None) -> District | None:
    """Return the district for a name or code; ``None`` (or 全市) means the whole city.

    Raises ``ValueError`` naming the known districts when the district is unknown.
    """
    if district is None or district == CITY or district == "":
        return None
    key = str(district).strip()
    if key in DISTRICT_BY_NAME:
        return DISTRICT_BY_NAME[key]
    if key in DISTRICT_BY_CODE:
        return DISTRICT_BY_CODE[key]
    for d in DISTRICTS:
        if key in (d.slug, d.name.rstrip("区")):
            return d
    known = ", ".join(f"{d.name} ({d.code})" for d in DISTRICTS)
    raise ValueError(f"unknown district {district!r}; expected {CITY} or one of: {known}")


def price_class(wholesale_per_carton: float) -> str:
    """价类 of a SKU from its tax-exclusive wholesale price per carton (yuan/条)."""
    for name, lower in PRICE_CLASS_BOUNDS:
        if wholesale_per_carton >= lower:
            return name
    return PRICE_CLASSES[-1]
