"""The database and blob folder every repository of the store works over.

:class:`Database` holds the engine, the blob store and the session factory;
opening it checks (or creates and migrates) the schema. The repositories
(:mod:`store.catalog`, :mod:`store.history`, :mod:`store.recording`,
:mod:`store.change_records`, :mod:`store.job_runs`…) take a Database and are the only code
that opens a session: nothing outside ``store/`` touches a session or a row.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import quote, unquote

from sqlalchemy import Engine, bindparam, create_engine, event, func, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from store.blobs import BlobMismatch, BlobStore
from store.errors import StoreError, StoreFailedError
from store.tables import DocumentRow, SnapshotRow, VersionRow

if TYPE_CHECKING:
    from store.migrate import SchemaState

T = TypeVar("T")

# Documents per IN (...) list: well under SQLite's 32,766 bound parameters.
IDS_PER_QUERY = 1000


def chunks(values: Iterable[T], size: int | None = None) -> Iterator[list[T]]:
    """``values`` in lists of at most ``size`` (default ``IDS_PER_QUERY``, read at the call): one query each, so no
    statement outgrows the bound parameters."""
    items = list(values)
    size = size or IDS_PER_QUERY
    return (items[start:start + size] for start in range(0, len(items), size))


class UnknownDocumentError(StoreError):
    """No document of this public id in the store."""

    def __init__(self, document_id: str):
        super().__init__(document_id)  # the id alone in ``args``: the error pickles and unpickles as itself
        self.document_id = document_id

    def __str__(self) -> str:
        return f"no document {self.document_id!r} in the store"


class StoreUnavailableError(StoreError):
    """The database cannot be reached or read: bad URL, missing driver, server down, not a database."""


class StoreNotFoundError(StoreError):
    """No store exists where the URL points; only ``init`` and ``migrate`` create one."""


class StoreSchemaError(StoreError):
    """The database's schema is behind, ahead of this code, or another program's."""


class BlobFolderMissingError(StoreError):
    """The blob folder is not there, yet the database holds versions or snapshots whose blobs it keeps.

    A mistyped or unmounted folder, not an empty store: the caller names the setting.
    """

    def __init__(self, folder: Path, versions: int, snapshots: int):
        self.folder, self.versions, self.snapshots = folder, versions, snapshots
        self.problem = "is not a folder" if folder.exists() else "does not exist"
        super().__init__(f"the blob folder {folder} {self.problem}, but the store holds {versions} version(s) "
                         f"and {snapshots} snapshot(s)")


OPEN_MODES = ("create", "write", "read")

# SQLite's page cache per connection, in KiB (its default is 2,000). Each pooled
# connection fills its own cache as the database grows, so a crawl's memory rose
# with the store's size until every cache was full: SQLite held 2.3 MB at 1,000
# documents and up to 11 MB at 10,000. 512 KiB keeps the pages a recording touches
# again (the tables' and indexes' upper levels); the rest are read from the
# system's file cache (decision 0014, fifteenth pass).
SQLITE_CACHE_KIB = 512
SUPPORTED_DATABASES = ("sqlite", "postgresql")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers (status, site) run beside a crawl; the busy timeout makes a
    # second writer wait instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


def _sqlite_read_only(dbapi_connection, _record) -> None:
    # No journal_mode change here: that would rewrite another program's file.
    # query_only makes SQLite itself refuse any write through this connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def _postgres_read_only(dbapi_connection, _record) -> None:
    # Autocommit around the SET so it does not open the transaction SQLAlchemy expects to begin.
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET default_transaction_read_only = on")
    dbapi_connection.autocommit = autocommit


def make_engine(url: str, *, read_only: bool = False) -> Engine:
    """An engine for ``url``; ``read_only`` makes the database itself refuse writes.

    Raises :class:`StoreUnavailableError` for a URL that is malformed or names a
    database this installation has no driver for.
    """
    expected = "expected sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
    try:
        backend = make_url(url).get_backend_name()
        if backend not in SUPPORTED_DATABASES:
            raise StoreUnavailableError(f"{describe_url(url)}: {backend} databases are not supported ({expected})")
        # A server restarted, or a pooled connection closed by an idle timeout, between two sessions of a
        # long-lived process (the scheduler): each checkout is pinged, and a dead connection replaced, rather than
        # failing the next job. SQLite's connections are files: nothing to ping.
        target = _sqlite_read_only_target(url) if read_only and backend == "sqlite" else url
        engine = create_engine(target, future=True, pool_pre_ping=backend != "sqlite")
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise StoreUnavailableError(f"{describe_url(url)} is not a database URL this store can use: "
                                    f"{_reason(exc)} ({expected})") from None
    except ValueError as exc:  # SQLAlchemy's int() of a port that is no number, an unclosed "[" included
        raise StoreUnavailableError(f"{describe_url(url)} is not a database URL this store can use: "
                                    f"its host or port cannot be read, {exc} ({expected})") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_read_only if read_only else _sqlite_pragmas)
    elif read_only:
        event.listen(engine, "connect", _postgres_read_only)
    return engine


def describe_url(url: str) -> str:
    """The URL as it may be shown: any password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        # Not readable as a URL, yet a password may still be in it.
        return repr(re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url))


def _reason(exc: BaseException) -> str:
    """The first line of a driver's error, without SQLAlchemy's background link."""
    original = getattr(exc, "orig", None) or exc
    return (str(original).strip().splitlines() or [type(original).__name__])[0]


# Below this, a disk is full for SQLite: its -shm index alone takes 32 KiB.
_FULL_DISK_BYTES = 1 << 20


def _sqlite_reason(exc: BaseException, path: Path | None) -> str:
    """The driver's reason, and for an SQLite file on a disk with (almost) no room left, that room.

    SQLite reports a ``-shm`` it cannot grow as "disk I/O error": an operator checking ``status`` after a crawl
    stopped on a full disk was sent to look at the hardware. SQLite does not say which system error it got, so the
    disk's free space is read when the reason is one a full disk gives.
    """
    reason = _reason(exc)
    if path is None or not any(words in reason for words in ("disk I/O error", "disk is full")):
        return reason
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return reason
    if free >= _FULL_DISK_BYTES:
        return reason
    return f"{reason}: the disk holding {path.parent} is full ({free // 1024} KiB free)"


def _sqlite_read_only_target(url: str) -> str | URL:
    """What a command that only reads opens for the SQLite store at ``url``: the file as usual, the file opened
    read-only when a write-ahead log holds changes, or, on read-only media, the file opened immutable.

    - **A log holding changes** (a writer at work, or one killed with changes in its log, a crawl's ``kill -9``,
      or a copy made without its ``-shm``): opened read-only. ``query_only`` refuses every write through a
      connection, but the last connection to close checkpoints the log into the database and deletes it: ``status``
      would rewrite a killed writer's file and remove its log. A read-only connection reads the log through the
      ``-shm``, as any reader does, with SQLite's locks (immutable would read pages a checkpoint is rewriting), and
      leaves both files to the next writer. Without its ``-shm`` (a backup that left it out), SQLite makes one to
      read the log through, and leaves it.
    - **Read-only media** (a disc, a read-only mount, an archive's copy), with no writer's files beside it: SQLite
      in WAL mode needs a ``-shm`` even to read and cannot make one there, so the file is opened immutable, which
      nothing on such media can contradict. A log holding changes without its ``-shm`` is refused in one line:
      SQLite reads it only through that file. (A ``-shm`` alone is left over: every connection in WAL mode has
      both files.)
    - **Otherwise**, as usual: with no log, or an empty one, nothing is checkpointed, and read-only SQLite would
      make a ``-wal`` and a ``-shm`` and leave them behind.
    """
    path = _sqlite_file(url)
    if path is None:
        return url
    log, shared = (path.with_name(path.name + suffix) for suffix in ("-wal", "-shm"))
    writer_files = shared.exists() and log.exists()
    changes = log.exists() and log.stat().st_size > 0
    if changes and (writer_files or os.access(path.parent, os.W_OK)):
        return _sqlite_uri(url, path, mode="ro")
    if writer_files or os.access(path.parent, os.W_OK):
        return url
    if changes:
        raise StoreUnavailableError(
            f"cannot read {path}: its folder is read-only and its write-ahead log {log.name} holds changes "
            f"that SQLite reads only through a {shared.name} file, which is missing: copy the store to a "
            "writable folder to read it")
    return _sqlite_uri(url, path, mode="ro", immutable="1")


def _sqlite_file(url: str) -> Path | None:
    """The database file an SQLite URL names, resolved (SQLite makes its files beside the file a symlink names);
    None for memory or a file that does not exist."""
    parsed = make_url(url)
    database = _uri_path(parsed) if _uri_filename(parsed) else parsed.database
    if not database or database == ":memory:":
        return None
    path = _resolved(Path(database))
    return path if path.is_file() else None


def _resolved(path: Path) -> Path:
    """``path`` with its symbolic links followed; a loop of them is named as one, not a RuntimeError."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # RuntimeError before Python 3.13
        raise StoreUnavailableError(f"cannot use {path}: its symbolic links make a loop") from None


def _sqlite_uri(url: str, path: Path, **options: str) -> URL:
    """``url`` naming ``path`` as an SQLite URI filename with ``options`` (``mode``, ``immutable``)."""
    return make_url(url).set(database=f"file:{quote(str(path))}", query={**options, "uri": "true"})


def sqlite_path(engine: Engine) -> Path | None:
    """The file of an SQLite store (also when opened read-only or immutable as a URI), None for any other
    database."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    if _uri_filename(engine.url):
        path = _uri_path(engine.url)
        return Path(path) if path else None
    return Path(database)


def _uri_path(url: URL) -> str | None:
    """The file a URI filename names (``file:/srv/cw.db``, ``file:///srv/cw.db``, ``file:cw.db?mode=ro``); None for
    an in-memory database."""
    target, _, options = url.database.removeprefix("file:").partition("?")
    if target.startswith("//"):  # file://localhost/srv/cw.db, file:///srv/cw.db
        target = "/" + target[2:].partition("/")[2]
    target = unquote(target)
    if not target or target == ":memory:" or "mode=memory" in options or url.query.get("mode") == "memory":
        return None
    return target


def _uri_filename(url: URL) -> bool:
    """Whether SQLite reads the URL's database as a URI (``file:…`` with ``uri=true``); without ``uri=true``,
    ``sqlite:///file:x.db`` names a file called ``file:x.db``, which a reading command must find, not make."""
    return bool(url.database and url.database.startswith("file:") and url.query.get("uri") == "true")


def database_where(engine: Engine) -> str:
    """The database as messages name it: the URL it was opened with, whatever options opening added."""
    path = sqlite_path(engine)
    if path is not None:
        return f"sqlite:///{path}"
    return engine.url.render_as_string(hide_password=True)




# Built once, run with its parameter: every recording reads a document row, and SQLAlchemy spent more on
# building the statement and its cache key than on running it (decision 0014, twelfth pass).
_DOCUMENT_BY_PUBLIC_ID = select(DocumentRow).where(DocumentRow.public_id == bindparam("public_id"))


def document_row(session: Session, document_id: str) -> DocumentRow:
    """The row of the document with public id ``document_id``; :class:`UnknownDocumentError` if none."""
    row = session.scalar(_DOCUMENT_BY_PUBLIC_ID, {"public_id": document_id})
    if row is None:
        raise UnknownDocumentError(document_id)
    return row


def document_rows(session: Session, document_ids: Iterable[str]) -> dict[str, DocumentRow]:
    """The rows of a batch's documents by public id, in one query; one unknown refuses the batch
    (:class:`UnknownDocumentError`)."""
    ids = sorted(set(document_ids))
    rows = {row.public_id: row for row in session.scalars(select(DocumentRow).where(DocumentRow.public_id.in_(ids)))}
    if unknown := [document_id for document_id in ids if document_id not in rows]:
        raise UnknownDocumentError(unknown[0])
    return rows


class Database:
    """The engine, the blob folder and the sessions over them."""

    def __init__(self, engine: Engine, blobs: BlobStore):
        self.engine = engine
        self.blobs = blobs
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._file = _SQLiteFile.of(engine)

    @classmethod
    def open(cls, url: str, blobs_root: Path, *, mode: str = "create"):
        """Open the store at ``url``.

        ``create`` makes the database if needed and migrates it to the newest
        schema (``init``, ``migrate``, tests); ``write`` and ``read`` need a
        store that exists at the newest schema and change nothing of its schema;
        ``read`` also makes the database refuse every write.
        """
        if mode not in OPEN_MODES:
            raise ValueError(f"mode must be one of {OPEN_MODES}, got {mode!r}")
        engine = make_engine(url, read_only=mode == "read")
        blobs = BlobStore(blobs_root)
        try:
            if mode != "read":
                _check_folder_writable(engine)
            _prepare(url, engine, create=mode == "create")
            _check_blob_folder(engine, blobs, mode)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, blobs)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction, committed when the block ends without error.

        A driver error that is not a constraint's (a full disk, a server gone,
        a file that stopped being a database) is a :class:`StoreFailedError`
        naming the database; constraint errors stay as they are, for the
        callers that retry on them. So is an SQLite file removed or replaced
        while the store is open (:class:`_SQLiteFile`).
        """
        try:
            if self._file is not None:
                self._file.check()  # before a new connection would make an empty file in its place
            with self._sessions() as session, session.begin():
                yield session
                if self._file is not None:
                    self._file.check()  # before the commit, which would go into a file no longer there
        except IntegrityError:
            raise
        except DBAPIError as exc:
            raise StoreFailedError(f"the database at {database_where(self.engine)} failed: "
                                   f"{_sqlite_reason(exc, sqlite_path(self.engine))}") from exc


    def verify(self) -> list[BlobMismatch]:
        """Re-hash every blob, and check every snapshot and version row has its blob."""
        problems = list(self.blobs.verify())
        seen = {p.sha256 for p in problems}
        with self.session() as session:
            referenced = set(session.scalars(select(SnapshotRow.sha256)).all())
            referenced |= set(session.scalars(select(VersionRow.sha256)).all())
        for sha in sorted(referenced - seen):
            if not self.blobs.exists(sha):
                problems.append(BlobMismatch(sha, self.blobs.path(sha), "referenced by the database but missing"))
        return problems



class _SQLiteFile:
    """The SQLite file a store was opened on, to notice it removed or replaced while in use.

    SQLite writes on through its open descriptors into a file that was deleted
    (a HOME removed mid-crawl) or renamed over (a backup restored): every commit
    succeeds, and all of it is gone when the process ends. One ``stat`` per
    transaction, compared with the file's identity at opening, turns that into
    a :class:`StoreFailedError`, so a crawl stops at the first document instead
    of recording the rest into nothing.
    """

    def __init__(self, path: Path, identity: tuple[int, int]):
        self.path = path
        self.identity = identity
        self.set_aside: list[str] = []  # this process's log files of it, once moved away

    @classmethod
    def of(cls, engine: Engine) -> _SQLiteFile | None:
        path = sqlite_path(engine)
        if path is None:
            return None
        try:
            stat = path.stat()
        except OSError:  # checked by _prepare a moment ago; a file gone since fails at the first session
            return cls(path, (-1, -1))
        return cls(path, (stat.st_dev, stat.st_ino))

    def check(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            raise StoreFailedError(f"the database file {self.path} was removed or moved while in use: what was "
                                   f"recorded in it is not at that path any more{self._set_aside()}") from None
        except OSError as exc:
            raise StoreFailedError(f"the database file {self.path} cannot be read: {exc.strerror}") from None
        if (stat.st_dev, stat.st_ino) != self.identity:
            raise StoreFailedError(f"the database file {self.path} was replaced by another file while in use: "
                                   f"what was recorded since it was opened is not in the file now there"
                                   f"{self._set_aside()}")

    def _set_aside(self) -> str:
        """Move this process's write-ahead log and its index away from the path, and say where.

        They belong to the file that was there: the next process to open a
        file put at that path (a backup restored) would replay this log into
        it and corrupt it, and even a command that only reads does that. Only
        the files this process holds open are moved, never deleted; SQLite
        leaves them alone when it closes a database that has moved.
        """
        for suffix in ("-wal", "-shm"):
            log = self.path.with_name(self.path.name + suffix)
            if _held_by_this_process(log):
                aside = log.with_name(f"{log.name}.of-a-replaced-file-{os.getpid()}")
                try:
                    os.rename(log, aside)
                except OSError:
                    continue
                self.set_aside.append(aside.name)
        return f"; this process's log files of it were set aside as {', '.join(self.set_aside)}" \
            if self.set_aside else ""


def _held_by_this_process(path: Path) -> bool:
    """Whether one of this process's open descriptors is the file at ``path`` (Linux's /proc; False elsewhere)."""
    try:
        target = path.stat()
        descriptors = os.listdir("/proc/self/fd")
    except OSError:
        return False
    for descriptor in descriptors:
        try:
            opened = os.fstat(int(descriptor))
        except (OSError, ValueError):
            continue
        if (opened.st_dev, opened.st_ino) == (target.st_dev, target.st_ino):
            return True
    return False


def _prepare(url: str, engine: Engine, *, create: bool) -> None:
    """Check (or with ``create``, create and migrate) the schema; driver errors become StoreErrors.

    The schema is read through a read-only engine, so a database that turns out
    not to be ours is left exactly as it was.
    """
    from store.migrate import schema_state, upgrade

    where = describe_url(url)
    path = sqlite_path(engine)
    if path is not None and not create and not _resolved(path).exists():
        raise StoreNotFoundError(f"no store at {where}: run `clausewatch init` to create one")
    if path is not None and create:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file where a folder of the path should be
            raise StoreUnavailableError(f"cannot create {where}: {exc.strerror}: {exc.filename}") from None
    created = path is not None and create and _make_new_file(path)
    with _creating(path if create else None):
        try:
            checker = make_engine(url, read_only=True)
            try:
                state = schema_state(checker)
            finally:
                checker.dispose()
            _check_schema(state, where, create=create)
            if create and not state.up_to_date:
                upgrade(engine)
        except BaseException as exc:
            if created:
                # SQLite runs the migrations' DDL outside a transaction: a first migration cut short (a full disk)
                # left a database of some tables that no later `init` would take for a store. This call made the
                # file, so it may remove it, and the next `init` starts afresh.
                engine.dispose()
                _remove_new_database(path)
            if isinstance(exc, DBAPIError):
                reason = _sqlite_reason(exc, path)
                raise StoreUnavailableError(f"cannot use the database at {where}: {reason}") from None
            raise


@contextmanager
def _creating(path: Path | None) -> Iterator[None]:
    """While an SQLite store is checked and migrated, no other ``init`` or ``migrate`` of it is (``path`` None:
    nothing to hold).

    Its DDL runs outside a transaction, so two at once interleaved, and the
    one that then failed could remove the tables the other had made. Held as an
    advisory ``flock`` on the database's folder: not on the file itself, whose
    descriptor, once closed, would drop every POSIX lock SQLite holds on it in
    this process. PostgreSQL's migrations take an advisory lock of their own.
    """
    if path is None:
        yield
        return
    import fcntl

    fd = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _make_new_file(path: Path) -> bool:
    """Create the empty file ``path`` unless it exists; True only for the one process that made it.

    Two ``init`` at once both saw no file, and the one whose migration then
    failed removed the database the other had just reported ready: only the
    maker of the file may remove it, and only while it holds :func:`_creating`.
    """
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    except FileExistsError:
        return False
    except OSError as exc:  # a folder not writable, a full disk: as SQLite would have said it
        raise StoreUnavailableError(f"cannot create {path}: {exc.strerror}") from None
    return True


def _remove_new_database(path: Path) -> None:
    """The SQLite file this process just made, and the files SQLite keeps beside it."""
    for each in (path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal"))):
        each.unlink(missing_ok=True)


def _check_folder_writable(engine: Engine) -> None:
    """An SQLite store to record in needs its folder writable (SQLite makes its log files there), not only its file."""
    path = sqlite_path(engine)
    if path is None or not path.is_file():
        return
    folder = path.resolve().parent  # where SQLite makes its files, beside the file a symlink names
    if not os.access(folder, os.W_OK):
        raise StoreUnavailableError(f"cannot record in {database_where(engine)}: its folder {folder} is "
                                    "read-only (commands that only read, such as status and verify, can use it)")


def _check_blob_folder(engine: Engine, blobs: BlobStore, mode: str) -> None:
    """A store holding versions or snapshots needs the folder of their blobs; an empty one opened to record makes it.

    Without it every read fails blob by blob, and a crawl would start a new, empty
    folder beside the real one. The folder is made here, not by a blob's write: a
    folder that goes away in use (a HOME deleted mid-crawl) is then a failure of
    the store, not a new empty folder the crawl fills as if nothing happened.
    ``create`` (``init``, ``migrate``) leaves the missing folder of a store that
    holds blobs alone: migrating a database without its blob folder mounted is
    allowed. Counted only when the folder is missing: opening costs nothing more.
    """
    if blobs.root.is_dir():
        return
    with engine.connect() as connection:
        versions = connection.scalar(select(func.count()).select_from(VersionRow)) or 0
        snapshots = connection.scalar(select(func.count()).select_from(SnapshotRow)) or 0
    if not (versions or snapshots):
        if mode != "read":
            blobs.root.mkdir(parents=True, exist_ok=True)
    elif mode != "create":
        raise BlobFolderMissingError(blobs.root, versions, snapshots)


def _check_schema(state: SchemaState, where: str, *, create: bool) -> None:
    if state.foreign_tables:
        tables = ", ".join(state.foreign_tables[:5]) + (", …" if len(state.foreign_tables) > 5 else "")
        raise StoreSchemaError(f"{where} is not a clausewatch store: it holds other tables ({tables}) "
                               "and no clausewatch schema; it was left untouched")
    if not state.known:
        raise StoreSchemaError(f"the store at {where} has schema {', '.join(state.current)}, newer than this "
                               f"clausewatch knows ({', '.join(state.heads)}): upgrade clausewatch")
    if create or state.up_to_date:
        return
    if not state.current:
        raise StoreNotFoundError(f"no store at {where} (the database is empty): run `clausewatch init` to create one")
    raise StoreSchemaError(f"the store at {where} has schema {', '.join(state.current)} but this clausewatch needs "
                           f"{', '.join(state.heads)}: run `clausewatch migrate` first")

