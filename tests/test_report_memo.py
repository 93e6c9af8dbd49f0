"""reports.base.memo: computed once per key in a process, a copy each call; frame_digest
tells frames apart by content (used by the retailer survey report's city-wide parts)."""

from __future__ import annotations

import pandas as pd

from kehu_lib.reports import base


def test_memo_computes_once_per_key_and_returns_copies():
    calls = []

    def compute():
        calls.append(1)
        return pd.DataFrame({"x": [1, 2]})

    key = ("test_memo", "a")
    base._MEMO.pop(key, None)
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
