"""Fingerprints of input files for the caches and the batch manifest.

A store file is identified by its path inside the store, its size in bytes and its modification
time (ns): the store replaces files whole (written aside, then renamed), so a changed partition
always has a new mtime, and hashing the stat is as safe as hashing the bytes at a fraction of the
cost.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

__all__ = ["update_with_files"]


def update_with_files(h, root: Path, files: Iterable[Path]) -> None:
    """Feed ``path-in-root:size:mtime_ns`` of each existing file of ``files`` to hash ``h``."""
    for f in files:
        if f.exists():
            st = f.stat()
            h.update(f"{f.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
