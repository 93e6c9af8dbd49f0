"""Export profiles: how one system's export files map to the store's tables (YAML data).

A profile (``kehu_lib/profiles/<name>.yaml``, or any YAML file passed by path) says, per table,
which file names hold it, which header(s) each field may carry, in which unit a column is
written, and which known columns to ignore without a warning; plus the file encoding, the date
format, the header row and the XLSX sheet. ``canonical`` is kehu's own layout (``kehu export``);
``yingxiao`` is a marketing system's download with its own headers and 万支. The format is
described in ``data/README.md`` (Export profiles).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..schema import TABLES

PROFILES_DIR = Path(__file__).resolve().parent

#: unit -> (kind, factor to the store's unit): quantities to 条, prices to 元/条, money to 元.
#: 1 条 = 10 盒 = 200 支; 1 箱 = 250 条; 1 万支 = 50 条.
UNITS = {
    "条": ("qty", 1.0), "箱": ("qty", 250.0), "万支": ("qty", 50.0), "盒": ("qty", 0.1),
    "包": ("qty", 0.1), "支": ("qty", 0.005),
    "元/条": ("price", 1.0), "元/箱": ("price", 1 / 250), "元/万支": ("price", 1 / 50),
    "元/盒": ("price", 10.0), "元/包": ("price", 10.0),
    "元": ("money", 1.0), "万元": ("money", 10_000.0),
}
STORE_UNIT = {"qty": "条", "price": "元/条", "money": "元"}


class ProfileError(ValueError):
    """A profile file that cannot be used (named in the message)."""


def norm(text) -> str:
    """A header or file name for matching: NFKC, no blanks/underscores/dashes/brackets, lower."""
    text = unicodedata.normalize("NFKC", str(text)).replace("\ufeff", "")
    return re.sub(r"[\s_\-()/\[\]【】]+", "", text).lower()


_UNIT_SUFFIX = re.compile(r"^(.*?)[\s]*[(（\[【]\s*(" + "|".join(
    re.escape(u) for u in sorted(UNITS, key=len, reverse=True)) + r")\s*[)）\]】]\s*$")


def split_unit(header: str) -> tuple[str, str | None]:
    """``'需求量(箱)'`` -> ``('需求量', '箱')``; a header without a unit suffix -> ``(header, None)``."""
    h = unicodedata.normalize("NFKC", str(header)).strip()
    m = _UNIT_SUFFIX.match(h)
    return (m.group(1), m.group(2)) if m else (h, None)


def field_kind(table: str, name: str) -> str | None:
    """'qty', 'price' or 'money' for a field measured in 条, 元/条 or 元; None otherwise."""
    unit = TABLES[table].field(name).unit
    for kind, u in STORE_UNIT.items():
        if unit == u:
            return kind
    return None


#: What may follow a table's file name in the name of one part of a split export.
_PART_SEPARATOR = re.compile(r"[\s_\-.(（\[【#0-9]")


@dataclass
class TableSpec:
    files: list[str]
    headers: dict[str, list[str]]  # field -> accepted headers
    units: dict[str, str] = field(default_factory=dict)  # field -> unit written in the export
    ignore: list[str] = field(default_factory=list)


@dataclass
class Profile:
    name: str
    description: str
    tables: dict[str, TableSpec]
    encoding: str = "auto"
    date_format: str | None = None
    header_row: int | None = None
    sheet: str | int | None = None
    path: Path | None = None
    #: dates that mean "no date yet" in this system's exports (YYYY-MM-DD), e.g. 9999-12-31
    open_end_dates: tuple[str, ...] = ()

    def table_for_file(self, path: Path) -> str | None:
        """The table a file holds from its name: one of the table's ``files`` names, or such a
        name followed by a separator or digit and anything (the parts of a split export:
        ``订单明细_1.csv``, ``订单明细(2).xlsx``, ``orders-万柏林区.csv``, ``订单明细202610.csv``);
        the longest name wins, so ``零售客户满意度调查_1`` is the survey, not ``零售客户``."""
        stem = norm(path.stem)
        for table, spec in self.tables.items():
            if stem in {norm(f) for f in spec.files}:
                return table
        raw = unicodedata.normalize("NFKC", path.stem).replace("\ufeff", "").strip().lower()
        best = None
        for table, spec in self.tables.items():
            for f in spec.files:
                name = unicodedata.normalize("NFKC", f).lower()
                if (raw.startswith(name) and _PART_SEPARATOR.match(raw[len(name):])
                        and (best is None or len(name) > best[0])):
                    best = (len(name), table)
        return best[1] if best else None

    def lookup(self, table: str) -> dict[str, str]:
        """Normalised header -> field for ``table``."""
        out = {}
        for name, headers in self.tables[table].headers.items():
            for h in headers:
                out.setdefault(norm(h), name)
        return out


def _auto(value):
    return None if value in (None, "auto", "") else value


def _parse(data: dict, path: Path) -> Profile:
    where = f"profile {path.name}"
    if not isinstance(data, dict) or "tables" not in data:
        raise ProfileError(f"{where}: expected a mapping with name and tables")
    tables = {}
    for table, spec in (data.get("tables") or {}).items():
        if table not in TABLES:
            raise ProfileError(f"{where}: unknown table {table!r}; expected one of {', '.join(TABLES)}")
        headers, units = {}, {}
        for name, value in (spec.get("columns") or {}).items():
            if name not in TABLES[table].columns:
                raise ProfileError(f"{where}: {table} has no field {name!r}; fields are "
                                   f"{', '.join(TABLES[table].columns)}")
            if isinstance(value, dict):
                hs = value.get("header")
                if value.get("unit") is not None:
                    unit = str(value["unit"])
                    kind = field_kind(table, name)
                    if unit not in UNITS or UNITS[unit][0] != kind:
                        ok = [u for u, (k, _) in UNITS.items() if k == kind]
                        raise ProfileError(f"{where}: {table}.{name} unit {unit!r} is not convertible; "
                                           f"expected one of {', '.join(ok) or '(no unit)'}")
                    units[name] = unit
            else:
                hs = value
            headers[name] = [str(h) for h in (hs if isinstance(hs, list) else [hs])]
        tables[table] = TableSpec([str(f) for f in spec.get("files") or [table]], headers, units,
                                  [str(c) for c in spec.get("ignore") or []])
    header_row = _auto(data.get("header_row"))
    open_end = []
    for d in data.get("open_end_dates") or []:
        text = str(d)
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ProfileError(f"{where}: open_end_dates: {text!r} is not a date written YYYY-MM-DD")
        open_end.append(text)
    return Profile(str(data.get("name") or path.stem), str(data.get("description") or ""), tables,
                   str(data.get("encoding") or "auto"), _auto(data.get("date_format")),
                   int(header_row) if header_row is not None else None, _auto(data.get("sheet")), path,
                   tuple(open_end))


def available() -> list[str]:
    """Names of the shipped profiles."""
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


def load(name_or_path: str | Path) -> Profile:
    """A shipped profile by name (``canonical``, ``yingxiao``) or a profile YAML file by path."""
    p = Path(name_or_path)
    if p.suffix.lower() not in (".yaml", ".yml"):
        p = PROFILES_DIR / f"{name_or_path}.yaml"
    if not p.exists():
        raise ProfileError(f"unknown profile {str(name_or_path)!r}; shipped profiles: "
                           f"{', '.join(available())} (or pass the path of a .yaml profile)")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ProfileError(f"profile {p.name}: not valid YAML ({exc})") from None
    return _parse(data, p)


def load_all() -> list[Profile]:
    """Every shipped profile, canonical first."""
    names = available()
    names.sort(key=lambda n: (n != "canonical", n))
    return [load(n) for n in names]
