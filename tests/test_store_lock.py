"""The store lock, with real processes: one writer at a time; readers never see half a commit."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from kehu_lib import loaders, store
from kehu_lib.export_month import export_month

from conftest import writable_copy

MONTH = "2026-10"

HOLDER = textwrap.dedent("""
    import sys, time
    from kehu_lib import store
    with store.writer_lock(sys.argv[1], command="test holder"):
        print("locked", flush=True)
        sys.stdin.readline()  # hold until the test closes our stdin
""")


@pytest.fixture()
def st(small_store, tmp_path):
    return writable_copy(small_store, tmp_path / "store")


def _hold(root):
    p = subprocess.Popen([sys.executable, "-c", HOLDER, str(root)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "locked"
    return p


def _release(p):
    p.stdin.close()
    p.wait(timeout=30)


def test_second_writer_refuses_with_no_wait_or_waits_and_says_so(st, tmp_path):
    folder = tmp_path / "in"
    export_month(MONTH, folder, store_dir=st)
    for f in folder.iterdir():
        if f.name != "orders.csv":
            f.unlink()
    holder = _hold(st)
    try:
        # --no-wait: refused, naming the holder; nothing written
        res = subprocess.run([sys.executable, "-m", "kehu_lib.cli", "ingest", str(folder), "--out", str(st),
                              "--no-wait"], capture_output=True, text=True, timeout=120)
        assert res.returncode == 3
        assert f"being written by pid {holder.pid} (test holder" in res.stderr
        assert "Traceback" not in res.stderr
        with pytest.raises(store.StoreLocked, match="test holder"):
            from kehu_lib.sample import build_sample
            build_sample("small", 7, st, progress=False, wait=False)
        # waiting: says so, and runs once the holder is gone
        waiter = subprocess.Popen([sys.executable, "-m", "kehu_lib.cli", "ingest", str(folder), "--out", str(st)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = waiter.stderr.readline()
        assert "waiting for it to finish" in line and f"pid {holder.pid}" in line
        time.sleep(0.5)
        assert waiter.poll() is None  # still waiting
    finally:
        _release(holder)
    out, err = waiter.communicate(timeout=300)
    assert waiter.returncode == 0, err
    assert "orders           2026-10" in out
    assert store.lock_holder(st) == {}  # released and cleared


WRITER = textwrap.dedent("""
    import sys
    import pandas as pd
    from kehu_lib import store
    root, month, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    base = store.query("orders", months=month, store=root)
    versions = [base, base.assign(qty_supplied=base["qty_supplied"] + 1000)]
    with store.writer_lock(root, command="test writer"):
        print("start", flush=True)
        for i in range(n):
            df = versions[i % 2]
            with store.Transaction(root) as tx:
                for d, part in df.groupby("district_code", observed=True):
                    tx.stage_partition(part, "orders", (month, d))
        print("done", flush=True)
""")


def test_reader_during_commits_sees_old_or_new_month_never_half(st):
    base = loaders.load_orders(months=MONTH, store=st)
    a = base.groupby("district_code")["qty_supplied"].sum()
    b = a + 1000 * base.groupby("district_code").size()
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(st), MONTH, "40"],
                              stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "start"
    seen = {"a": 0, "b": 0}
    while writer.poll() is None:
        got = loaders.load_orders(months=MONTH, store=st, columns=["district_code", "qty_supplied"])
        sums = got.groupby("district_code")["qty_supplied"].sum()
        assert len(got) == len(base)
        if sums.round(6).equals(a.round(6)):
            seen["a"] += 1
        elif sums.round(6).equals(b.round(6)):
            seen["b"] += 1
        else:
            mixed = (sums.round(6) == b.round(6)).sum()
            pytest.fail(f"a read saw half a commit: {mixed} of {len(a)} districts new")
    assert writer.returncode == 0
    assert seen["a"] + seen["b"] > 0
    assert not list(st.glob(".staging-*"))


def test_two_ingests_at_once_both_finish_and_the_store_stays_whole(st, tmp_path):
    folder = tmp_path / "in"
    export_month(MONTH, folder, store_dir=st)
    n_orders = len(loaders.load_orders(store=st, columns=["sku"]))
    n_cust = len(loaders.load_customers(store=st))
    procs = [subprocess.Popen([sys.executable, "-m", "kehu_lib.cli", "ingest", str(folder), "--out", str(st),
                               "--rejects", str(tmp_path / f"rej{i}")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert any("waiting for it to finish" in err for _, err in outs)
    assert len(loaders.load_orders(store=st, columns=["sku"])) == n_orders
    assert len(loaders.load_customers(store=st)) == n_cust
    o = loaders.load_orders(months=MONTH, store=st, columns=["license_id"])
    assert o["license_id"].isin(loaders.load_customers(store=st)["license_id"]).all()  # no orphans
    assert not list(st.glob(".staging-*")) and not list(st.rglob(".old-*"))


SNAPSHOT = textwrap.dedent("""
    import sys
    from kehu_lib import store
    with store.snapshot(sys.argv[1], command="test batch"):
        print("reading", flush=True)
        sys.stdin.readline()  # hold until the test closes our stdin
""")


def test_ingest_commits_after_a_batch_snapshot_and_says_whom_it_waits_for(st, tmp_path):
    """A month's batch reads one store: an ingest finishing meanwhile waits at its commit."""
    folder = tmp_path / "in"
    export_month(MONTH, folder, store_dir=st)
    for f in folder.iterdir():
        if f.name != "orders.csv":
            f.unlink()
    orders = folder / "orders.csv"
    import pandas as pd
    df = pd.read_csv(orders, dtype=str)
    df["qty_supplied"] = (pd.to_numeric(df["qty_supplied"]) + 1).astype(str)
    df.to_csv(orders, index=False)
    before = loaders.load_orders(months=MONTH, store=st, columns=["qty_supplied"])["qty_supplied"].sum()
    reader = subprocess.Popen([sys.executable, "-c", SNAPSHOT, str(st)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "reading"
    assert [r["command"] for r in store.snapshot_readers(st)] == ["test batch"]
    try:
        ingest = subprocess.Popen([sys.executable, "-m", "kehu_lib.cli", "ingest", str(folder),
                                   "--out", str(st)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        line = ingest.stderr.readline()
        assert f"being read by test batch (pid {reader.pid}" in line
        time.sleep(0.5)
        assert ingest.poll() is None  # waits at the commit
        # the batch (any process) still reads the old month
        now = loaders.load_orders(months=MONTH, store=st, columns=["qty_supplied"])["qty_supplied"]
        assert now.sum() == before
    finally:
        _release(reader)
    out, err = ingest.communicate(timeout=300)
    assert ingest.returncode == 0, err
    after = loaders.load_orders(months=MONTH, store=st, columns=["qty_supplied"])["qty_supplied"]
    assert after.sum() == before + len(after)
    assert store.snapshot_readers(st) == []  # the note left with the reader


def test_run_batch_holds_a_snapshot_for_the_whole_run(st, monkeypatch):
    import os

    from kehu_lib.batch import runner

    seen = []
    monkeypatch.setattr(runner, "_run_batch", lambda opts: seen.append(store.snapshot_readers(st)))
    runner.run_batch(runner.BatchOptions(month=MONTH, store=st))
    assert [(r["pid"], r["command"]) for r in seen[0]] == [(os.getpid(), "kehu run")]
    assert store.snapshot_readers(st) == []


def test_recover_leaves_the_batch_cache_being_written(st):
    tmp = st / "derived" / "forecasts" / f".tmp-month={MONTH}-abcd1234"
    tmp.mkdir(parents=True)
    stray = st / "orders" / ".tmp-x"
    stray.mkdir()
    with store.writer_lock(st):
        store.recover(st)
    assert tmp.exists() and not stray.exists()
