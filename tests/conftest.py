"""Shared fixtures: the small sample city, built once and cached between test sessions.

The cache key hashes the generator's source and the planted-signal file, so a change to either
rebuilds the store. Set ``KEHU_TEST_CACHE`` to move the cache (default ``.cache/`` in the project).
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

from kehu_lib import config

SAMPLE_SEED = 7


def _sample_key(size: str) -> str:
    from kehu_lib.sample import generator_version

    return f"sample-{size}-seed{SAMPLE_SEED}-{generator_version()}"


def cached_sample(size: str = "small") -> Path:
    """Path of a sample store of ``size``, building it (atomically) if not cached."""
    from kehu_lib.sample import build_sample

    cache = Path(os.environ.get("KEHU_TEST_CACHE", config.PROJ_ROOT / ".cache"))
    target = cache / _sample_key(size)
    if (target / "sample_manifest.json").exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cache / f".build-{uuid.uuid4().hex[:8]}"
    build_sample(size, SAMPLE_SEED, tmp, progress=False)
    try:
        os.replace(tmp, target)
    except OSError:  # built concurrently by another worker
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def writable_copy(store: Path, target: Path) -> Path:
    """A copy of ``store`` at ``target`` without its derived caches, for tests that write."""
    shutil.copytree(store, target, ignore=shutil.ignore_patterns("derived"))
    return target


@pytest.fixture(scope="session")
def small_store() -> Path:
    """A small sample-city store (~400 shops, 30 months to 2026-10), read-only for tests."""
    return cached_sample("small")


@pytest.fixture(scope="session")
def sample_manifest(small_store):
    import json

    return json.loads((small_store / "sample_manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def signals():
    from kehu_lib.sample import load_signals

    return load_signals()


@pytest.fixture(scope="module")
def sample_env(small_store):
    """KEHU_STORE set to the small sample for the tests of one module (report builders read it)."""
    old = os.environ.get("KEHU_STORE")
    os.environ["KEHU_STORE"] = str(small_store)
    yield small_store
    if old is None:
        os.environ.pop("KEHU_STORE", None)
    else:
        os.environ["KEHU_STORE"] = old
