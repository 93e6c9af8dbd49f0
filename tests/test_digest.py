"""File fingerprints shared by the forecast and plan caches and the batch manifest."""

import hashlib
import os

from kehu_lib.digest import update_with_files


def _digest(root, files):
    h = hashlib.sha256()
    update_with_files(h, root, files)
    return h.hexdigest()


def test_size_mtime_and_name_change_the_digest_and_missing_files_are_skipped(tmp_path):
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    a.write_bytes(b"1234")
    base = _digest(tmp_path, [a, b])  # b does not exist yet: skipped, no error
    assert base == _digest(tmp_path, [a])
    st = a.stat()
    os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    touched = _digest(tmp_path, [a])
    assert touched != base
    a.write_bytes(b"12345")
    os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns + 1))  # same mtime, other size
    resized = _digest(tmp_path, [a])
    assert resized != touched
    a.rename(b)  # same size and mtime, other name
    assert _digest(tmp_path, [a, b]) != resized
