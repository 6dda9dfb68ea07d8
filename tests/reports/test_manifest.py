"""The incremental writer: a build killed mid-write leaves no temporary file in the published site."""

from __future__ import annotations

import os
import time

from reports.site.manifest import MANIFEST_NAME, TEMPORARY_PREFIX, IncrementalWriter


def test_temporary_files_left_by_a_killed_build_are_removed_by_the_next(tmp_path):
    (tmp_path / "feeds").mkdir()
    leftover = tmp_path / "feeds" / f"{TEMPORARY_PREFIX}k1ll3d"
    leftover.write_bytes(b"<feed>half a fe")
    an_hour_ago = time.time() - 3600
    os.utime(leftover, (an_hour_ago, an_hour_ago))
    writer = IncrementalWriter(tmp_path)
    writer.write("feeds/all.xml", "f1", lambda: b"<feed/>")
    fresh = tmp_path / "feeds" / f"{TEMPORARY_PREFIX}beside"  # a build running beside this one: its file is kept
    fresh.write_bytes(b"...")
    os.utime(fresh, (time.time() + 60, time.time() + 60))
    writer.finish()
    assert not leftover.exists() and fresh.exists()
    assert (tmp_path / "feeds" / "all.xml").read_bytes() == b"<feed/>"


def test_a_tmp_file_the_build_did_not_make_is_kept(tmp_path):
    (tmp_path / "project").mkdir()
    theirs = [tmp_path / ".tmp-notes", tmp_path / "project" / ".tmp-draft.txt"]
    an_hour_ago = time.time() - 3600
    for path in theirs:
        path.write_text("mine")
        os.utime(path, (an_hour_ago, an_hour_ago))
    writer = IncrementalWriter(tmp_path)
    writer.write("index.html", "f1", lambda: b"<html/>")
    writer.finish()
    assert all(path.read_text() == "mine" for path in theirs)


def test_the_manifest_marks_the_folder_before_the_first_page(tmp_path):
    IncrementalWriter(tmp_path)  # a first build killed before it wrote anything
    assert (tmp_path / MANIFEST_NAME).is_file()
