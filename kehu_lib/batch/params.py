"""Batch parameters: load the YAML files of ``params/``, merge them, validate them.

Merge order (later wins), documented in ``params/README.md``::

    params/defaults.yaml  <  params/<notebook>.yaml  <  district overrides  <  command line

Everything is validated before any kernel starts: the month's format and that its data exists,
that the district is known, that every value has the type declared in the notebook's
``parameters`` cell, and that every parameter is declared there (papermill only warns).

YAML is read with :class:`StrictLoader`, which closes the YAML 1.1 traps: ``no``/``on`` stay
strings (only ``true``/``false`` are booleans), ``0123`` stays the string ``"0123"`` (not octal
83), dates stay strings. Command-line values are converted by the notebook's declared type, so a
``str`` parameter given as ``007`` stays ``"007"``.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from .. import config

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
STEM_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
#: Parameters the runner sets itself for every run.
RUN_KEYS = ("month", "district")
#: Top-level keys of a notebook's YAML that are not parameters.
RESERVED = ("description", "scope", "city_only", "districts_only", "districts", "parameters",
            "show_license_ids", "index_figures", "precompute")
SCOPES = ("all", "city_only", "districts_only")
#: YAML files of params/ that are not notebooks.
NOT_NOTEBOOKS = ("defaults", "batch", "survey_items")
CITY_SLUG = "city"


class ParamError(ValueError):
    """A parameter problem found before any kernel starts."""


# ------------------------------------------------------------------------------------------ YAML

class StrictLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2-like scalars: no yes/no/on/off booleans, no octal, no dates."""


_DROP = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
         "tag:yaml.org,2002:timestamp"}
StrictLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag not in _DROP]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789"))
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:(?:0|[1-9][0-9]*)\.[0-9]+(?:[eE][-+]?[0-9]+)?)$"), list("-+0123456789"))


def _no_duplicates(loader, node, deep=False):
    keys = [loader.construct_object(k, deep=deep) for k, _ in node.value]
    dup = sorted({str(k) for k in keys if keys.count(k) > 1})
    if dup:
        raise ParamError(f"duplicate key(s) {dup} {node.start_mark}")
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


StrictLoader.add_constructor(
    "tag:yaml.org,2002:map", lambda loader, node: _no_duplicates(loader, node, deep=True))


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping with :class:`StrictLoader` (empty file -> ``{}``)."""
    data = config.read_yaml(path, loader=StrictLoader)  # parsed once per process and content
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParamError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


# ------------------------------------------------------------------------- the parameters cell

@dataclass(frozen=True)
class Declared:
    """One parameter declared in a notebook's ``parameters`` cell."""

    name: str
    type: str  # str, int, float, bool, list, dict or "any"
    default: Any
    help: str = ""


_TYPES = {"str": str, "int": int, "float": float, "bool": bool, "list": list, "dict": dict}


def _type_name(annotation: ast.expr | None, default: Any) -> str:
    if annotation is not None:
        text = ast.unparse(annotation).replace(" ", "")
        base = text.split("|")[0].split("[")[0].replace("typing.", "")
        base = {"List": "list", "Dict": "dict", "Optional": "any"}.get(base, base)
        return base if base in _TYPES else "any"
    for name, typ in (("bool", bool), ("int", int), ("float", float), ("str", str),
                      ("list", list), ("dict", dict)):
        if isinstance(default, typ):
            return name
    return "any"


def parameters_cell(nb: Mapping) -> dict:
    """The cell tagged ``parameters`` (error if none or several)."""
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ParamError(f"expected exactly one cell tagged 'parameters', found {len(cells)}")
    return cells[0]


def declared_parameters(notebook: str | Path) -> dict[str, Declared]:
    """Parameters declared in the notebook's ``parameters`` cell: name -> :class:`Declared`."""
    with open(notebook, encoding="utf-8") as fh:
        nb = json.load(fh)
    try:
        cell = parameters_cell(nb)
    except ParamError as exc:
        raise ParamError(f"{Path(notebook).name}: {exc}") from None
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    lines = source.splitlines()
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ParamError(f"{Path(notebook).name}: parameters cell does not parse: {exc}") from None
    found: dict[str, Declared] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, ann, value = node.target.id, node.annotation, node.value
        elif (isinstance(node, ast.Assign) and len(node.targets) == 1
              and isinstance(node.targets[0], ast.Name)):
            name, ann, value = node.targets[0].id, None, node.value
        else:
            continue
        try:
            default = ast.literal_eval(value) if value is not None else None
        except ValueError:
            default = None
        if name in found:
            raise ParamError(f"{Path(notebook).name}: parameters cell declares {name!r} twice "
                             f"(line {node.lineno}); keep one declaration")
        line = lines[node.lineno - 1]
        comment = line.split("#", 1)[1].strip() if "#" in line else ""
        found[name] = Declared(name, _type_name(ann, default), default, comment)
    return found


# ---------------------------------------------------------------------------- type conversion

def coerce(name: str, value: Any, declared: Declared, source: str) -> Any:
    """Check ``value`` against the declared type; convert only where lossless.

    ``source`` names where the value came from (for the message). Command-line values arrive as
    strings and are parsed by the declared type; YAML ints are accepted for ``str`` parameters
    (the strict loader never turns ``0123`` into a number, so the text is kept exactly).
    """
    t = declared.type
    where = f"parameter {name!r} (from {source})"
    if t == "any":
        return value
    if source == "command line" and isinstance(value, str):
        if t == "str":
            return value
        if t == "int":
            if not re.fullmatch(r"[-+]?\d+", value.strip()):
                raise ParamError(f"{where}: expected an integer, got {value!r}")
            return int(value)
        if t == "float":
            try:
                return float(value)
            except ValueError:
                raise ParamError(f"{where}: expected a number, got {value!r}") from None
        if t == "bool":
            low = value.strip().lower()
            if low not in ("true", "false"):
                raise ParamError(f"{where}: expected true or false, got {value!r}")
            return low == "true"
        value = yaml.load(value, Loader=StrictLoader)  # noqa: S506 - list/dict
    if t == "str":
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ParamError(f"{where}: expected text (str), got {type(value).__name__} {value!r};"
                             " quote it in YAML")
        return str(value)
    if t == "bool":
        if not isinstance(value, bool):
            raise ParamError(f"{where}: expected true or false (bool), got "
                             f"{type(value).__name__} {value!r}")
        return value
    if t == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParamError(f"{where}: expected an integer (int), got "
                             f"{type(value).__name__} {value!r}")
        return value
    if t == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParamError(f"{where}: expected a number (float), got "
                             f"{type(value).__name__} {value!r}")
        return float(value)
    if not isinstance(value, _TYPES[t]):
        raise ParamError(f"{where}: expected {t}, got {type(value).__name__} {value!r}")
    return value


# ------------------------------------------------------------------------------- the notebooks

@dataclass
class NotebookSpec:
    """A notebook of the batch and its YAML."""

    stem: str
    path: Path
    scope: str = "all"
    parameters: dict[str, Any] = field(default_factory=dict)
    districts: dict[str, dict[str, Any]] = field(default_factory=dict)
    show_license_ids: bool = False
    description: str = ""
    index_figures: dict[str, str] = field(default_factory=dict)  # headline key -> label
    #: the precompute steps (dotted paths of ``defaults.yaml``) whose results the notebook reads;
    #: None (the key absent): all of them. Its runs start once these steps are done.
    precompute: tuple[str, ...] | None = None


def _notebook_yaml(stem: str, path: Path, data: dict[str, Any]) -> NotebookSpec:
    scope = data.get("scope", "all")
    if data.get("city_only") is True:
        scope = "city_only"
    if data.get("districts_only") is True:
        scope = "districts_only"
    if scope not in SCOPES:
        raise ParamError(f"params/{stem}.yaml: scope must be one of {SCOPES}, got {scope!r}")
    if "parameters" in data:
        params = data["parameters"] or {}
        extra = sorted(set(data) - set(RESERVED))
        if extra:
            raise ParamError(f"params/{stem}.yaml: unknown top-level key(s) {extra}; put "
                             "parameters under 'parameters:'")
    else:
        params = {k: v for k, v in data.items() if k not in RESERVED}
    if not isinstance(params, dict):
        raise ParamError(f"params/{stem}.yaml: 'parameters' must be a mapping")
    districts = data.get("districts") or {}
    if not isinstance(districts, dict) or not all(isinstance(v, dict) for v in districts.values()):
        raise ParamError(f"params/{stem}.yaml: 'districts' must map a district to a mapping")
    canon = {}
    for name, over in districts.items():
        canon[district_name(str(name), f"params/{stem}.yaml")] = over
    figures = data.get("index_figures") or {}
    if not isinstance(figures, dict):
        raise ParamError(f"params/{stem}.yaml: 'index_figures' must map a headline key to a label")
    steps = data.get("precompute")
    if steps is not None and (not isinstance(steps, list)
                              or not all(isinstance(x, str) for x in steps)):
        raise ParamError(f"params/{stem}.yaml: 'precompute' must list the precompute steps "
                         "(dotted paths of defaults.yaml) the notebook reads, [] for none")
    return NotebookSpec(stem, path, scope, dict(params), canon,
                        bool(data.get("show_license_ids", False)), str(data.get("description", "")),
                        {str(k): str(v) for k, v in figures.items()},
                        None if steps is None else tuple(steps))


def discover(params_dir: Path, notebooks_dir: Path) -> dict[str, NotebookSpec]:
    """Notebooks of the batch: every ``params/<stem>.yaml`` with a ``notebooks/<stem>.ipynb``."""
    found: dict[str, NotebookSpec] = {}
    for yml in sorted(params_dir.glob("*.yaml")):
        stem = yml.stem
        if stem in NOT_NOTEBOOKS or not STEM_RE.match(stem):
            continue
        nb = notebooks_dir / f"{stem}.ipynb"
        if nb.exists():
            found[stem] = _notebook_yaml(stem, nb, load_yaml(yml))
    return found


# ------------------------------------------------------------------------ months and districts

def district_name(district: str, source: str = "command line") -> str:
    """Canonical district name (全市 for the city); error naming the known ones."""
    try:
        d = config.resolve_district(district)
    except ValueError as exc:
        raise ParamError(f"{source}: {exc}") from None
    return config.CITY if d is None else d.name


def district_slug(district: str) -> str:
    """Safe folder name: the district's ASCII slug, ``city`` for 全市."""
    d = config.resolve_district(district)
    slug = CITY_SLUG if d is None else d.slug
    if not STEM_RE.match(slug):  # pragma: no cover - config slugs are ASCII
        raise ParamError(f"unsafe folder name {slug!r} for district {district!r}")
    return slug


def store_months(store: Path) -> list[str]:
    """Months with order data in the store (folder names only; no data is read)."""
    folder = Path(store) / "orders"
    if not folder.is_dir():
        return []
    return sorted(p.name[6:] for p in folder.iterdir()
                  if p.is_dir() and p.name.startswith("month=") and MONTH_RE.match(p.name[6:]))


def check_month(month: str | None, store: Path) -> str:
    """The validated report month ('' or None -> the latest month in the store)."""
    months = store_months(store)
    if not months:
        raise ParamError(f"no order data in the store {store}; run `kehu sample` first")
    if not month:
        return months[-1]
    if not MONTH_RE.match(str(month)):
        raise ParamError(f"month must be YYYY-MM (e.g. 2026-10), got {month!r}")
    if month not in months:
        raise ParamError(f"no data for month {month} in the store {store}; months available: "
                         f"{months[0]} .. {months[-1]}")
    return month


def safe_output(reports: Path, month: str, slug: str, stem: str) -> Path:
    """``reports/YYYY-MM/<slug>/`` for a run; refuses anything that would leave ``reports``."""
    for part, rx in ((month, MONTH_RE), (slug, STEM_RE), (stem, STEM_RE)):
        if not rx.match(part):
            raise ParamError(f"unsafe path component {part!r}")
    out = (reports / month / slug).resolve()
    if not out.is_relative_to(reports.resolve()):  # pragma: no cover - guarded by the regexes
        raise ParamError(f"output {out} is outside the reports folder {reports}")
    return out


def safe_files_dir(given: Any, run_dir: Path, reports: Path) -> str:
    """The ``output_dir`` of a run: ``<run folder>/files`` unless a folder inside ``reports`` is
    given; a folder outside the reports folder is refused."""
    if not given:
        return str(run_dir / "files")
    out = Path(str(given))
    out = (run_dir / out).resolve() if not out.is_absolute() else out.resolve()
    if not out.is_relative_to(reports.resolve()):
        raise ParamError(f"output_dir {given!r} is outside the reports folder {reports}; "
                         "the batch writes only under it")
    return str(out)


# ------------------------------------------------------------------------------------ merging

def load_defaults(params_dir: Path) -> dict[str, Any]:
    """``params/defaults.yaml``: ``parameters`` (shared defaults), ``precompute``, ``jobs``."""
    path = params_dir / "defaults.yaml"
    return load_yaml(path) if path.exists() else {}


def district_file(params_dir: Path, district: str) -> dict[str, Any]:
    """``params/districts/<slug>.yaml``: ``{all: {...}, <notebook>: {...}}`` overrides."""
    path = params_dir / "districts" / f"{district_slug(district)}.yaml"
    return load_yaml(path) if path.exists() else {}


def resolve(spec: NotebookSpec, *, month: str, district: str, params_dir: Path,
            cli: Mapping[str, str] | None = None,
            declared: Mapping[str, Declared] | None = None) -> dict[str, Any]:
    """The resolved parameters of one run, merged and validated (see the module docstring)."""
    declared = declared if declared is not None else declared_parameters(spec.path)
    for key in RUN_KEYS:
        if key not in declared:
            raise ParamError(f"{spec.stem}: the parameters cell must declare {key!r}")
    defaults = load_defaults(params_dir).get("parameters") or {}
    dfile = district_file(params_dir, district)
    layers: list[tuple[str, Mapping[str, Any], bool]] = [
        ("params/defaults.yaml", {k: v for k, v in defaults.items() if k in declared}, True),
        (f"params/{spec.stem}.yaml", spec.parameters, True),
        (f"params/{spec.stem}.yaml districts: {district}", spec.districts.get(district, {}), True),
        (f"params/districts/{district_slug(district)}.yaml all",
         {k: v for k, v in (dfile.get("all") or {}).items() if k in declared}, True),
        (f"params/districts/{district_slug(district)}.yaml {spec.stem}",
         dfile.get(spec.stem) or {}, True),
        ("command line", cli or {}, False),
    ]
    merged: dict[str, Any] = {}
    for source, layer, _ in layers:
        for key, value in layer.items():
            if key in RUN_KEYS:
                raise ParamError(f"{source}: {key!r} is set by the runner (use --{key})")
            if key not in declared:
                known = ", ".join(sorted(declared))
                raise ParamError(f"{source}: unknown parameter {key!r} for notebook "
                                 f"{spec.stem} (its parameters cell declares: {known})")
            merged[key] = coerce(key, value, declared[key], source)
    merged["month"] = month
    merged["district"] = district
    return merged


def parse_cli(pairs: Iterable[str]) -> dict[str, str]:
    """``['top_n=5', 'code=007']`` -> ``{'top_n': '5', 'code': '007'}`` (values stay text)."""
    out: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ParamError(f"-p expects NAME=VALUE, got {pair!r}")
        key, value = pair.split("=", 1)
        out[key.strip()] = value
    return out
