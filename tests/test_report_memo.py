"""reports.base.memo: computed once per key in a process, a copy each call; frame_digest
tells frames apart by content, store.query_fingerprint store reads by their files (used by the
retailer survey report's city-wide parts)."""

from __future__ import annotations

import pandas as pd

from kehu_lib.reports import base


def test_memo_computes_once_per_key_and_returns_copies():
    calls = []

    def compute():
        calls.append(1)
        return pd.DataFrame({"x": [1, 2]})

    key = ("test_memo", "a")
    base._MEMO.clear()
    first = base.memo(key, compute)
    first.loc[0, "x"] = 99  # a caller's change stays out of the cache
    second = base.memo(key, compute)
    assert len(calls) == 1 and second["x"].tolist() == [1, 2]
    base.memo(("test_memo", "b"), compute)
    assert len(calls) == 2


def test_frame_digest_follows_content_and_dtypes():
    a = pd.DataFrame({"m": ["2026-10", "2026-09"], "v": [1, 2]})
    assert base.frame_digest(a) == base.frame_digest(a.copy())
    assert base.frame_digest(a) != base.frame_digest(a.assign(v=[1, 3]))
    assert base.frame_digest(a) != base.frame_digest(a.iloc[::-1].reset_index(drop=True))
    assert base.frame_digest(a) != base.frame_digest(a.astype({"v": "float64"}))
    assert base.params_key({"b": 1, "a": [0.1]}) == base.params_key({"a": [0.1], "b": 1})


def test_memo_computes_anew_after_the_library_changed(monkeypatch, tmp_path):
    """An edited library (a JupyterLab kernel with %autoreload) gets new results, not the
    cached ones of the old code; code_stamp follows edits, new and removed files."""
    calls = []
    base._MEMO.clear()
    base.memo(("test_memo", "c"), lambda: calls.append(1))
    base.memo(("test_memo", "c"), lambda: calls.append(1))
    monkeypatch.setattr(base, "code_stamp", lambda: (1, 2))
    base.memo(("test_memo", "c"), lambda: calls.append(1))
    assert len(calls) == 2

    import os

    monkeypatch.undo()
    (tmp_path / "a.py").write_text("x = 1\n")
    before = base.code_stamp(tmp_path)
    os.utime(tmp_path / "a.py", ns=(before[1] + 10**9, before[1] + 10**9))
    edited = base.code_stamp(tmp_path)
    (tmp_path / "b.py").write_text("y = 2\n")
    os.utime(tmp_path / "b.py", ns=(before[1], before[1]))
    added = base.code_stamp(tmp_path)
    assert len({before, edited, added}) == 3 and added[0] == 2


def test_query_fingerprint_follows_the_files_read(small_store, tmp_path):
    """The key of a store read (the survey report's city-wide parts): the same for the same
    files, another when a file read is replaced, not when a month not read changes."""
    import os

    from conftest import writable_copy

    from kehu_lib import store as kstore

    own = writable_copy(small_store, tmp_path / "store")
    months = ("2026-08", "2026-10")
    key = kstore.query_fingerprint("retailer_survey", months=months, store=own)
    assert key == kstore.query_fingerprint("retailer_survey", months=months, store=own)
    assert key != kstore.query_fingerprint("retailer_survey", months=months, store=small_store)
    assert key != kstore.query_fingerprint("retailer_survey", months="2026-10", store=own)
    assert key != kstore.query_fingerprint("retailer_survey", months=months, district="140109",
                                           store=own)
    f = next((own / "retailer_survey" / "month=2026-07").glob("*.parquet"))
    os.utime(f, ns=(1, 1))  # a month not read
    assert key == kstore.query_fingerprint("retailer_survey", months=months, store=own)
    f = next((own / "retailer_survey" / "month=2026-09").glob("*.parquet"))
    os.utime(f, ns=(1, 1))  # a file read, replaced
    assert key != kstore.query_fingerprint("retailer_survey", months=months, store=own)
    cust = kstore.query_fingerprint("customers", store=own)
    os.utime(own / "customers.parquet", ns=(1, 1))
    assert cust != kstore.query_fingerprint("customers", store=own)
