"""Store.open modes: only `create` makes or migrates a store; `read` never writes; bad databases are StoreErrors."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from analysis.domain import DocumentSpec, PlatformSpec, Snapshot, SourceSpec
from analysis.text import sha256_bytes
from store.database import SQLITE_CACHE_KIB
from store.migrate import MIGRATION_LOCK_KEY, schema_state, upgrade
from store.repository import (
    BlobFolderMissingError,
    Store,
    StoreFailedError,
    StoreNotFoundError,
    StoreSchemaError,
    StoreUnavailableError,
    make_engine,
)

ACME = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SourceSpec("http://x/t"),)),))
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("mode", ["read", "write"])
def test_a_missing_sqlite_store_is_refused_and_not_created(tmp_path, mode):
    path = tmp_path / "typo" / "clausewatch.db"
    with pytest.raises(StoreNotFoundError, match="clausewatch init"):
        Store.open(f"sqlite:///{path}", tmp_path / "objects", mode=mode)
    assert not path.exists() and not path.parent.exists()


@pytest.mark.parametrize("mode", ["read", "write"])
@pytest.mark.parametrize("database", ["file:{tmp}/cw.db?uri=true", "file://{tmp}/cw.db?uri=true", "file:cw.db"])
def test_a_missing_sqlite_store_named_as_a_uri_or_a_file_name_starting_file_is_not_created(tmp_path, monkeypatch,
                                                                                          database, mode):
    # `status` with `sqlite:///file:newstore.db` left an empty "file:newstore.db" behind (probe of 2026-12-03).
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreNotFoundError, match="clausewatch init"):
        Store.open(f"sqlite:///{database.replace('{tmp}', str(tmp_path))}", tmp_path / "objects", mode=mode)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.postgres
def test_an_empty_postgres_database_is_refused_unless_created(pg_url, tmp_path):
    with pytest.raises(StoreNotFoundError):
        Store.open(pg_url, tmp_path / "objects", mode="write")
    engine = sa.create_engine(pg_url)
    with engine.connect() as connection:
        assert sa.inspect(connection).get_table_names() == []
    engine.dispose()
    Store.open(pg_url, tmp_path / "objects", mode="create").close()
    Store.open(pg_url, tmp_path / "objects", mode="write").close()


def test_read_mode_makes_the_database_refuse_writes(store_url, tmp_path):
    Store.open(store_url, tmp_path / "objects").close()
    reader = Store.open(store_url, tmp_path / "objects", mode="read")
    try:
        assert reader.catalog.documents() == []
        with pytest.raises(StoreFailedError, match="read-?only") as refused:
            reader.catalog.sync_catalog([ACME], now=NOW)
        assert isinstance(refused.value.__cause__, sa.exc.DBAPIError)
    finally:
        reader.close()
    writer = Store.open(store_url, tmp_path / "objects", mode="write")
    writer.catalog.sync_catalog([ACME], now=NOW)
    assert [d.id for d in writer.catalog.documents()] == ["CW-D-00001"]
    writer.close()


def _record_a_version(store: Store) -> None:
    store.catalog.sync_catalog([ACME], now=NOW)
    body = b"<p>We may terminate your account at any time.</p>"
    snapshot = Snapshot(sha256_bytes(body), "CW-D-00001", "http://x/t", "http://x/t", 200, "text/html", NOW,
                        size=len(body))
    store.recording.record_text("CW-D-00001", snapshot=snapshot, body=body,
                                text="We may terminate your account at any time.", started_at=NOW, finished_at=NOW)


def test_a_store_with_no_version_yet_makes_its_blob_folder_when_opened_to_record(store_url, tmp_path):
    Store.open(store_url, tmp_path / "objects").close()
    shutil.rmtree(tmp_path / "objects")  # `init` made it; a command that only reads makes none
    Store.open(store_url, tmp_path / "objects", mode="read").close()
    assert not (tmp_path / "objects").exists()
    writer = Store.open(store_url, tmp_path / "objects", mode="write")
    assert (tmp_path / "objects").is_dir()  # made here, not by a blob's write (store.blobs)
    try:
        _record_a_version(writer)
    finally:
        writer.close()
    assert len(list(writer.blobs.names())) == 2  # the snapshot and the text, in the folder made for them


@pytest.mark.parametrize("mode", ["read", "write"])
def test_a_store_holding_versions_refuses_a_blob_folder_that_is_not_there(store_url, tmp_path, mode):
    store = Store.open(store_url, tmp_path / "objects")
    try:
        _record_a_version(store)
    finally:
        store.close()
    with pytest.raises(BlobFolderMissingError) as refused:
        Store.open(store_url, tmp_path / "objcts", mode=mode)
    assert (refused.value.folder, refused.value.versions, refused.value.snapshots) == (tmp_path / "objcts", 1, 1)
    assert str(refused.value) == f"the blob folder {tmp_path / 'objcts'} does not exist, but the store holds " \
                                 "1 version(s) and 1 snapshot(s)"
    assert not (tmp_path / "objcts").exists()  # never a new, empty folder beside the real one
    Store.open(store_url, tmp_path / "objcts", mode="create").close()  # `init` and `migrate` read no blob


def test_a_sqlite_connection_that_writes_keeps_a_bounded_page_cache(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'clausewatch.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KIB
    engine.dispose()


@pytest.mark.parametrize("mode", ["read", "write", "create"])
def test_another_programs_sqlite_file_is_left_byte_for_byte_untouched(tmp_path, mode):
    path = tmp_path / "notes.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE notes (body TEXT)")
    connection.commit()
    connection.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(StoreSchemaError, match=r"not a clausewatch store: it holds other tables \(notes\)"):
        Store.open(f"sqlite:///{path}", tmp_path / "objects", mode=mode)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_a_file_that_is_not_a_database_is_unavailable(tmp_path):
    path = tmp_path / "clausewatch.db"
    path.write_text("hello, not a database\n")
    with pytest.raises(StoreUnavailableError, match="file is not a database"):
        Store.open(f"sqlite:///{path}", tmp_path / "objects", mode="read")
    assert path.read_text() == "hello, not a database\n"


@pytest.mark.parametrize("url, message", [
    ("not a url", "not a database URL"),
    ("mysql://user@localhost/terms", "mysql databases are not supported"),
    ("postgresql+psycopg://postgres@127.0.0.1:1/test", "Connection refused"),
    ("postgresql+psycopg://postgres@unresolvable.invalid/test", "resolve"),
    ("postgresql+psycopg://postgres@127.0.0.1:abc/test", "host or port cannot be read"),
    ("postgresql://postgres@[::1/test", "host or port cannot be read"),
])
def test_unusable_urls_raise_store_errors_naming_the_url(tmp_path, url, message):
    with pytest.raises(StoreUnavailableError, match=message):
        Store.open(url, tmp_path / "objects", mode="read")


def test_a_password_is_never_shown(tmp_path):
    with pytest.raises(StoreUnavailableError) as raised:
        Store.open("postgresql+psycopg://user:s3cret@127.0.0.1:1/test", tmp_path / "objects", mode="read")
    assert "s3cret" not in str(raised.value) and "***" in str(raised.value)


def test_a_password_is_never_shown_in_a_url_that_cannot_be_read(tmp_path):
    with pytest.raises(StoreUnavailableError) as raised:
        Store.open("postgresql+psycopg://user:s3cret@127.0.0.1:abc/test", tmp_path / "objects", mode="read")
    assert "s3cret" not in str(raised.value) and "***" in str(raised.value)


def test_a_schema_behind_must_be_migrated_explicitly(store_url, tmp_path):
    engine = make_engine(store_url)
    upgrade(engine, "0001")
    assert schema_state(engine).current == ("0001",)
    for mode in ("read", "write"):
        with pytest.raises(StoreSchemaError, match="run `clausewatch migrate`"):
            Store.open(store_url, tmp_path / "objects", mode=mode)
    assert schema_state(engine).current == ("0001",)  # refusing changed nothing
    Store.open(store_url, tmp_path / "objects", mode="create").close()
    assert schema_state(engine).up_to_date
    engine.dispose()


@pytest.mark.postgres
def test_migration_waits_for_the_postgres_advisory_lock(pg_url):
    engine = make_engine(pg_url)
    holder = sa.create_engine(pg_url)
    with holder.connect() as connection:
        connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.commit()
        migrating = threading.Thread(target=upgrade, args=(engine,))
        migrating.start()
        _wait_for_a_waiter(connection, migrating)
        assert not schema_state(engine).current  # nothing migrated while the lock is held
        connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.commit()
        migrating.join()
    assert schema_state(engine).up_to_date
    engine.dispose()
    holder.dispose()


def _wait_for_a_waiter(connection, migrating: threading.Thread) -> None:
    """Until another backend waits for the migration lock (it blocks: no timing involved)."""
    query = sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                    "AND ((classid::bigint << 32) | objid::bigint) = :key")
    while not connection.execute(query, {"key": MIGRATION_LOCK_KEY}).scalar():
        connection.commit()
        assert migrating.is_alive(), "the migration ended without waiting for the lock"


@pytest.mark.postgres
def test_a_postgres_connection_the_server_ended_between_sessions_is_replaced(pg_url, tmp_path):
    """A PostgreSQL restart, or an idle timeout, ends the pooled connection of a long-lived process (the scheduler):
    the next session gets a new one instead of failing its job."""
    store = Store.open(pg_url, tmp_path / "objects")
    admin = sa.create_engine(pg_url)
    try:
        store.catalog.sync_catalog([ACME], now=NOW)
        with store.engine.connect() as connection:  # the pool's one connection, back in the pool after the block
            pid = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        with admin.begin() as connection:
            assert connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
        assert [d.id for d in store.catalog.documents()] == ["CW-D-00001"]
    finally:
        admin.dispose()
        store.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="a small filesystem of its own is mounted (tmpfs): root only, as in CI")
@pytest.mark.parametrize("mode", ["read", "write"])
def test_a_store_on_a_full_disk_says_the_disk_is_full(tmp_path, mode):
    # SQLite cannot make its 32 KiB -shm there and says "disk I/O error": an operator checking `status` after a crawl
    # stopped on a full disk was sent to look at the hardware.
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], check=True)
    try:
        Store.open(f"sqlite:///{disk / 'clausewatch.db'}", tmp_path / "objects", mode="create").close()
        (disk / "filler").write_bytes(b"")
        free = shutil.disk_usage(disk).free
        subprocess.run(["fallocate", "-l", str(free), str(disk / "filler")], check=True)

        with pytest.raises(StoreUnavailableError) as refused:
            Store.open(f"sqlite:///{disk / 'clausewatch.db'}", tmp_path / "objects", mode=mode)
    finally:
        subprocess.run(["umount", str(disk)], check=True)

    assert str(refused.value).endswith(f"disk I/O error: the disk holding {disk} is full (0 KiB free)"), refused.value
