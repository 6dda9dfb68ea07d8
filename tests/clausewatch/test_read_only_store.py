"""A store handed over on read-only media: the commands that only read use it, and change nothing there.

SQLite in WAL mode makes a ``-shm`` file beside the database even to read. In a folder it may not write,
every command ended "unable to open database file", ``verify`` included: a third party given an archive on a
disc or a read-only mount could not check it. The folder is made read-only for real: a read-only bind mount
of it when the tests run as root (who ignores a folder's mode), its mode 0555 otherwise.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from clausewatch.cli import main
from clausewatch.loopback_site import LocalSite, Page
from tests.clausewatch.home_support import acme_home


def _terms(edition: int) -> bytes:
    return (f"<html><body><main><h1>Acme terms</h1><h2>1. Content</h2><p>Acme may keep the content you post for "
            f"{edition * 30} days.</p><h2>2. Disputes</h2><p>You agree to binding arbitration of any dispute."
            f"</p></main></body></html>").encode()


@pytest.fixture(scope="module")
def recorded_home(tmp_path_factory) -> Path:
    """A HOME holding two versions of Acme's terms, and its catalog beside it."""
    root = tmp_path_factory.mktemp("recorded")
    with LocalSite() as site:
        site.set("/terms", Page(_terms(1)))
        base = acme_home(root, site)
        for edition in (1, 2):
            site.set("/terms", Page(_terms(edition)))
            done = CliRunner().invoke(main, [*base, "crawl", "--delay", "0"], catch_exceptions=False)
            assert done.exit_code == 0, done.output
    return root


@pytest.fixture
def copy(recorded_home, tmp_path) -> Iterator[Path]:
    """A copy of the recorded HOME and catalog, to change and seal."""
    copy = tmp_path / "copy"
    shutil.copytree(recorded_home, copy)
    yield copy
    for folder, _, _ in os.walk(copy):
        os.chmod(folder, 0o755)


@contextmanager
def sealed(folder: Path) -> Iterator[Path]:
    """``folder`` seen read-only: mounted read-only elsewhere (as root), or made mode 0555 with its files 0444."""
    if os.geteuid() != 0:
        for path, _, files in os.walk(folder, topdown=False):
            for name in files:
                os.chmod(os.path.join(path, name), 0o444)
            os.chmod(path, 0o555)
        yield folder
        return
    view = folder.with_name(folder.name + "-read-only")
    view.mkdir()
    subprocess.run(["mount", "--bind", str(folder), str(view)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(view)], check=True)
        yield view
    finally:
        subprocess.run(["umount", str(view)], check=True)
        view.rmdir()


def _listing(folder: Path) -> list[tuple[str, int]]:
    return sorted((str(path.relative_to(folder)), path.stat().st_size) for path in folder.rglob("*"))


def _invoke(home: Path, *args: str):
    return CliRunner().invoke(main, ["--home", str(home / "home"), "--catalog", str(home / "catalog"), *args],
                              catch_exceptions=False)


def test_the_reading_commands_use_a_store_on_read_only_media_and_write_nothing_there(copy):
    before = _listing(copy)
    with sealed(copy) as media:
        verify = _invoke(media, "verify")
        status = _invoke(media, "status")
        shown = _invoke(media, "show", "CW-D-00001")
        changes = _invoke(media, "changes")

    assert verify.exit_code == 0, verify.output
    assert "blob(s) checked, 0 problem(s)" in verify.output
    assert status.exit_code == 0, status.output
    assert "CW-D-00001" in status.output and "store size:" in status.output
    assert shown.exit_code == 0, shown.output
    assert "60 days" in shown.output
    assert changes.exit_code == 0, changes.output
    assert "1 change(s)" in changes.output
    assert _listing(copy) == before


def test_an_evidence_bundle_and_a_dry_run_of_the_alerts_come_from_a_store_on_read_only_media(copy, tmp_path):
    # Both write elsewhere and only read the store, yet opened it to record: "cannot record in …".
    (copy / "home" / "subscribers.yaml").write_text("subscribers:\n  - email: legal@example.com\n")
    before = _listing(copy)
    with sealed(copy) as media:
        bundle = _invoke(media, "evidence", "CW-P-000001", "--out", str(tmp_path / "bundle.zip"))
        alerts = _invoke(media, "alerts", "--dry-run", str(tmp_path / "mail"))

    assert bundle.exit_code == 0, bundle.output
    assert (tmp_path / "bundle.zip").stat().st_size > 0
    assert alerts.exit_code == 0, alerts.output
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1
    assert _listing(copy) == before


def test_a_command_that_records_names_the_read_only_folder_in_one_line(copy):
    before = _listing(copy)
    with sealed(copy) as media:
        crawl = _invoke(media, "crawl")

    assert crawl.exit_code == 2
    assert crawl.output.splitlines() == [
        f"Error: HOME (--home, CLAUSEWATCH_HOME): cannot record in sqlite:///{media}/home/clausewatch.db: "
        f"its folder {media}/home is read-only (commands that only read, such as status and verify, can use it)"]
    assert _listing(copy) == before


def test_a_copy_taken_with_changes_still_in_its_log_but_no_shm_file_says_what_is_missing(copy):
    database = copy / "home" / "clausewatch.db"
    # A copy taken while a writer held changes in the write-ahead log, without the -shm file beside it.
    writer = sqlite3.connect(database)
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute("PRAGMA user_version=7")
        writer.commit()
        held = {name: (database.parent / name).read_bytes() for name in ("clausewatch.db", "clausewatch.db-wal")}
    finally:
        writer.close()
    for name in ("clausewatch.db-wal", "clausewatch.db-shm"):
        (database.parent / name).unlink(missing_ok=True)
    for name, content in held.items():
        (database.parent / name).write_bytes(content)
    with sealed(copy) as media:
        verify = _invoke(media, "verify")

    assert verify.exit_code == 2
    assert verify.output.splitlines() == [
        f"Error: HOME (--home, CLAUSEWATCH_HOME): cannot read {media}/home/clausewatch.db: its folder is read-only "
        "and its "
        "write-ahead log clausewatch.db-wal holds changes that SQLite reads only through a clausewatch.db-shm file, "
        "which is missing: copy the store to a writable folder to read it"]


def test_a_store_open_for_writing_elsewhere_is_read_through_its_log_not_as_an_immutable_file(copy):
    # A read-only mount of a live store (a dashboard beside the scheduler): the writer's -shm is there, and the
    # newest commit is still in its log. Opened immutable, the reader would ignore the log (and could read pages a
    # checkpoint is rewriting); SQLite reads it through the -shm instead, and sees the commit.
    database = copy / "home" / "clausewatch.db"
    with sealed(copy) as media:
        writer = sqlite3.connect(database)
        try:
            writer.execute("PRAGMA journal_mode=WAL")
            writer.execute("PRAGMA wal_autocheckpoint=0")
            writer.execute("DELETE FROM clause_changes")
            writer.execute("DELETE FROM changes")
            writer.commit()
            assert (database.parent / "clausewatch.db-shm").exists()
            changes = _invoke(media, "changes")
        finally:
            # Before the mount goes: SQLite keeps the reader's descriptors of the same file open while this
            # process's writer holds its locks.
            writer.close()

    assert changes.exit_code == 0, changes.output
    assert changes.output.splitlines()[-1] == "0 change(s)"


def test_a_database_file_linked_from_a_writable_home_into_read_only_media_is_read_there(copy, tmp_path):
    # SQLite makes its -shm beside the file the link names, not beside the link: the folder to judge is the target's.
    home = tmp_path / "linked"
    home.mkdir()
    with sealed(copy) as media:
        for name in ("clausewatch.db", "objects", "keys"):
            (home / name).symlink_to(media / "home" / name)
        verify = CliRunner().invoke(main, ["--home", str(home), "--catalog", str(media / "catalog"), "verify"])
        crawl = CliRunner().invoke(main, ["--home", str(home), "--catalog", str(media / "catalog"), "crawl"])

    assert verify.exit_code == 0, verify.output
    assert "0 problem(s)" in verify.output
    assert crawl.exit_code == 2
    assert f"its folder {media}/home is read-only" in crawl.output


def test_a_shm_file_left_without_its_log_does_not_stop_the_reading_commands(copy):
    # Every connection in WAL mode has both files: a -shm alone was left by a crash or a copy, and SQLite cannot
    # open the store read-only through it ("unable to open database file").
    (copy / "home" / "clausewatch.db-shm").write_bytes(b"\0" * 32768)
    with sealed(copy) as media:
        verify = _invoke(media, "verify")

    assert verify.exit_code == 0, verify.output
    assert "0 problem(s)" in verify.output


def _kill_a_writer_holding_changes(database: Path) -> None:
    """A writer that deletes every change, commits, and is killed with the commit still in its write-ahead log."""
    killed = subprocess.run(["python3", "-c", (
        "import os, sqlite3, sys\n"
        "writer = sqlite3.connect(sys.argv[1])\n"
        "writer.execute('DELETE FROM clause_changes')\n"
        "writer.execute('DELETE FROM changes')\n"
        "writer.commit()\n"
        "os._exit(9)\n"), str(database)])
    assert killed.returncode == 9


def test_the_reading_commands_leave_a_killed_writers_log_and_database_file_as_they_were(copy):
    # A crawl killed with changes still in its write-ahead log. query_only refused writes, but the last connection
    # to close checkpointed the log into the database and deleted it: `status` rewrote the file and removed a file
    # it did not make. Opened read-only, the readers see the writer's last commit through the log and touch neither.
    database = copy / "home" / "clausewatch.db"
    _kill_a_writer_holding_changes(database)
    files = ("clausewatch.db", "clausewatch.db-wal", "clausewatch.db-shm")
    database_and_log = {name: (database.parent / name).read_bytes() for name in files[:2]}
    assert database_and_log["clausewatch.db-wal"]

    changes = _invoke(copy, "changes")
    status = _invoke(copy, "status")
    shown = _invoke(copy, "show", "CW-D-00001")

    assert changes.exit_code == 0, changes.output
    assert changes.output.splitlines()[-1] == "0 change(s)"
    assert status.exit_code == 0, status.output
    assert shown.exit_code == 0 and "60 days" in shown.output, shown.output
    assert {name: (database.parent / name).read_bytes() for name in files[:2]} == database_and_log
    assert (database.parent / files[2]).exists()


def test_the_reading_commands_leave_a_log_copied_without_its_shm_file_and_the_database_file_as_they_were(copy):
    # A backup that left the -shm out (a common rsync exclude), of a store whose log held changes, in a writable
    # folder: opened as usual, the reader's close checkpointed the log into the database and deleted it (probe of
    # 2026-12-03). Read-only, SQLite makes a -shm to read the log through and changes neither file.
    database = copy / "home" / "clausewatch.db"
    _kill_a_writer_holding_changes(database)
    (database.parent / "clausewatch.db-shm").unlink()
    database_and_log = {name: (database.parent / name).read_bytes()
                        for name in ("clausewatch.db", "clausewatch.db-wal")}

    changes = _invoke(copy, "changes")
    verify = _invoke(copy, "verify")

    assert changes.exit_code == 0, changes.output
    assert changes.output.splitlines()[-1] == "0 change(s)"
    assert verify.exit_code == 0, verify.output
    assert {name: (database.parent / name).read_bytes() for name in database_and_log} == database_and_log


def test_the_reading_commands_leave_no_log_beside_a_store_closed_cleanly(copy):
    # With no log to keep, the file is opened as usual: a read-only connection would leave a -wal and a -shm.
    before = _listing(copy)

    status = _invoke(copy, "status")

    assert status.exit_code == 0, status.output
    assert _listing(copy) == before
