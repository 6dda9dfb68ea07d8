"""The incremental writer: a build killed mid-write leaves no temporary file in the published site."""

from __future__ import annotations

import os
import time

from reports.site.manifest import IncrementalWriter


def test_temporary_files_left_by_a_killed_build_are_removed_by_the_next(tmp_path):
    (tmp_path / "feeds").mkdir()
    leftover = tmp_path / "feeds" / ".tmp-k1ll3d"
    leftover.write_bytes(b"<feed>half a fe")
    an_hour_ago = time.time() - 3600
    os.utime(leftover, (an_hour_ago, an_hour_ago))
    writer = IncrementalWriter(tmp_path)
    writer.write("feeds/all.xml", "f1", lambda: b"<feed/>")
    fresh = tmp_path / "feeds" / ".tmp-beside"  # a build running beside this one: its file is kept
    fresh.write_bytes(b"...")
    os.utime(fresh, (time.time() + 60, time.time() + 60))
    writer.finish()
    assert not leftover.exists() and fresh.exists()
    assert (tmp_path / "feeds" / "all.xml").read_bytes() == b"<feed/>"
