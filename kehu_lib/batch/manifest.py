"""Incremental runs and crash-safe writes.

A run is skipped when its fingerprint equals the one recorded at its last success and its HTML
still exists. The fingerprint hashes the notebook file, the resolved parameters, the kehu version
and library sources, the HTML options, and the input data: size and modification time of every
store file of the schema's tables up to the report month (derived caches written by the shared
precompute are not inputs). Every file is written to a temporary name and renamed into place,
so a killed batch leaves no half-written report and the manifest is only updated after a run's
files are in place.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from .. import config
from ..digest import update_with_files

MANIFEST = ".manifest.json"


def atomic_write(path: Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; reports are shared
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


@lru_cache(maxsize=1)
def library_digest() -> str:
    """Hash of the kehu version and the library's source files (and report templates)."""
    from .. import __version__

    h = hashlib.sha256(__version__.encode())
    root = Path(config.PROJ_ROOT) / "kehu_lib"
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".j2", ".css", ".json", ".yaml") and path.is_file():
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def data_digest(store: Path, month: str) -> str:
    """Hash of the store's input files (name, size, mtime) for partitions up to ``month``."""
    from ..schema import TABLES

    h = hashlib.sha256()
    store = Path(store)
    for table in sorted(TABLES):
        flat = store / f"{table}.parquet"
        files = [flat] if flat.exists() else []
        folder = store / table
        if folder.is_dir():
            for part in sorted(folder.iterdir()):
                key = part.name.split("=", 1)[-1]
                if part.name.startswith(("month=", "wave=")) and key > month:
                    continue
                files += sorted(p for p in part.rglob("*.parquet") if p.is_file())
        update_with_files(h, store, files)
    return h.hexdigest()[:16]


def fingerprint(notebook: Path, parameters: dict[str, Any], *, data: str,
                options: dict[str, Any]) -> str:
    """The run's fingerprint (see the module docstring)."""
    h = hashlib.sha256()
    h.update(Path(notebook).read_bytes())
    h.update(json.dumps(parameters, sort_keys=True, ensure_ascii=False, default=str).encode())
    h.update(json.dumps(options, sort_keys=True, default=str).encode())
    h.update(library_digest().encode())
    h.update(data.encode())
    return h.hexdigest()[:24]


class Manifest:
    """``reports/YYYY-MM/.manifest.json``: the last result of every run of the month."""

    def __init__(self, month_dir: Path):
        self.path = Path(month_dir) / MANIFEST
        self.runs: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            try:
                self.runs = json.loads(self.path.read_text(encoding="utf-8")).get("runs", {})
            except (json.JSONDecodeError, OSError):
                self.runs = {}

    def is_current(self, key: str, fp: str, html: Path) -> bool:
        """True when ``key`` last succeeded with fingerprint ``fp`` and its HTML exists."""
        rec = self.runs.get(key)
        return bool(rec and rec.get("status") == "ok" and rec.get("fingerprint") == fp
                    and html.exists())

    def record(self, summary: dict[str, Any]) -> None:
        self.runs[summary["key"]] = summary

    def save(self) -> None:
        atomic_write(self.path, json.dumps({"runs": self.runs}, ensure_ascii=False, indent=1,
                                           sort_keys=True))
