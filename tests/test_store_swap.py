"""Derived caches written by two processes at once: neither fails, and the folder is whole.

Two test workers (or two analysts' batches) fill the same month cache on a shared store. CI failed
once on this: the second writer found the folder created between its check and its rename
(``OSError: Directory not empty``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pandas as pd
import pyarrow.parquet as pq

from kehu_lib import aggregates, store

from conftest import writable_copy

MONTH = "2026-10"


def _folder(path, text):
    path.mkdir()
    (path / "part.txt").write_text(text, encoding="utf-8")
    return path


def test_swap_in_wins_over_a_folder_that_appears_after_the_check(tmp_path, monkeypatch):
    """The race itself, made certain: the other writer's folder lands just before our rename."""
    src, dst = _folder(tmp_path / "new", "ours"), tmp_path / "cache"
    real_replace = os.replace
    calls = []

    def replace(a, b):
        calls.append((a, b))
        if len(calls) == 1:  # the other process swaps its folder in first
            _folder(dst, "theirs")
        return real_replace(a, b)

    monkeypatch.setattr(store.os, "replace", replace)
    assert store.swap_in(src, dst) is None
    assert (dst / "part.txt").read_text(encoding="utf-8") == "ours"
    assert not src.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["cache"]  # the displaced folder is removed


def test_swap_in_keeps_the_old_folder_when_asked(tmp_path):
    src, dst = _folder(tmp_path / "new", "new"), _folder(tmp_path / "cache", "old")
    old = store.swap_in(src, dst, remove_old=False)
    assert (dst / "part.txt").read_text(encoding="utf-8") == "new"
    assert (old / "part.txt").read_text(encoding="utf-8") == "old"


HAMMER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from kehu_lib import store
    target, tag = Path(sys.argv[1]), sys.argv[2]
    def write(tmp):
        for i in range(3):
            (tmp / f"part-{i}.txt").write_text(tag, encoding="utf-8")
    for _ in range(150):
        store.atomic_dir_write(target, write)
    print("done", flush=True)
""")


def test_two_processes_writing_one_folder_both_finish_and_it_stays_whole(tmp_path):
    target = tmp_path / "derived" / "cache"
    procs = [subprocess.Popen([sys.executable, "-c", HAMMER, str(target), tag],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for tag in "ab"]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
        assert out.strip() == "done"
    texts = {f.read_text(encoding="utf-8") for f in target.iterdir()}
    assert sorted(f.name for f in target.iterdir()) == ["part-0.txt", "part-1.txt", "part-2.txt"]
    assert len(texts) == 1  # one writer's folder, never a mix
    assert sorted(p.name for p in target.parent.iterdir()) == ["cache"]


PRECOMPUTE = textwrap.dedent("""
    import sys
    from kehu_lib import aggregates
    aggregates.ensure_month_aggregates(sys.argv[2], store=sys.argv[1])
    print("done", flush=True)
""")


def test_two_batches_filling_the_month_caches_at_once(small_store, tmp_path):
    """The precompute of two batches on one store: both finish, each month cached once, whole."""
    st = writable_copy(small_store, tmp_path / "store")
    procs = [subprocess.Popen([sys.executable, "-c", PRECOMPUTE, str(st), MONTH],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    months = [str(pd.Period(MONTH, "M") - i) for i in range(aggregates.HISTORY, -1, -1)]
    for m in months:
        path = aggregates._current(m, st)
        assert path is not None, m
        folder = path.parent
        assert sorted(f.name for f in folder.iterdir()) == ["fingerprint.txt", "part-0.parquet"]
        cached = pq.read_table(path).to_pandas()
        assert not cached.duplicated(["district_code", "license_id", "sku"]).any()
    left = [p.name for p in (st / "derived" / "orders_monthly").iterdir() if p.name.startswith(".")]
    assert left == []
