"""Wiring shared by every command: settings → store, catalog, selection and output files.

Commands receive the resolved :class:`Settings` as ``ctx.obj`` and call these
helpers; nothing below ``clausewatch/`` reads settings or the environment.
"""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from analysis.domain import Document, PlatformSpec
from clausewatch.errors import BadInputError, file_in_the_way
from clausewatch.settings import Settings, sqlite_url

if TYPE_CHECKING:  # imported where used: every command loads this module (decision 0014)
    from crawler.declarations import CatalogLoad
    from reports.mail import SmtpConfig
    from store.catalog import DocumentStatus
    from store.repository import BlobFolderMissingError, Store, StoreFailedError


HOME_SETTING = "HOME (--home, CLAUSEWATCH_HOME)"


def new_holder() -> str:
    """Names this process and run to other processes (leases, alert claims): host, pid and a token unique to the
    run, so two runs in one process are two holders."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def utcnow() -> datetime:
    return datetime.now(UTC)


def first_few(names: Sequence[str], shown: int = 3) -> str:
    """``a, b, c and 2 more``: a list named in one line."""
    rest = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + rest


def open_store(settings: Settings, mode: str = "write") -> Store:
    """Open the store the settings name.

    ``mode`` is ``read`` for commands that only read (the database then refuses
    any write), ``write`` for commands that record (the store must exist at the
    newest schema), ``create`` for ``init`` and ``migrate`` only. Any problem is
    a :class:`BadInputError` naming the setting to fix.
    """
    from store.repository import BlobFolderMissingError, Store, StoreError

    setting = database_setting(settings)
    if mode == "create" and setting == HOME_SETTING:  # the database lives in HOME: a file there is in the way
        ensure_folder(settings.home, HOME_SETTING)
    try:
        return Store.open(settings.database_url, settings.blobs, mode=mode)
    except BlobFolderMissingError as exc:
        raise BadInputError(blob_folder_problem(settings, exc)) from None
    except StoreError as exc:
        raise BadInputError(f"{setting}: {exc}") from None


def blob_folder_problem(settings: Settings, error: BlobFolderMissingError) -> str:
    """A store whose blob folder is missing, as one line naming the setting that put the folder there."""
    line = f"the blob folder {error.folder} ({{where}}) {error.problem}, but the store holds {error.versions} version(s) " \
           f"and {error.snapshots} snapshot(s): {{question}}"
    if settings.blobs != settings.home / "objects":
        return line.format(where="BLOBS, CLAUSEWATCH_BLOBS", question="is BLOBS mistyped?")
    where = "HOME/objects, as BLOBS (CLAUSEWATCH_BLOBS) is empty"
    if database_setting(settings) == HOME_SETTING:  # the database was found in HOME: HOME is right
        return line.format(where=where, question="was it moved? Set BLOBS to where the blobs are")
    return line.format(where=where, question="is HOME (--home, CLAUSEWATCH_HOME) mistyped, or BLOBS unset?")


@contextmanager
def store_for(settings: Settings, store: Store | None, mode: str = "write") -> Iterator[Store]:
    """The store a caller handed in (left open: it is theirs), or the settings' store opened in
    ``mode`` for the block and closed after it."""
    if store is not None:
        yield store
        return
    from store.repository import StoreFailedError

    opened = open_store(settings, mode)
    try:
        yield opened
    except StoreFailedError as exc:
        raise BadInputError(store_failure_line(settings, exc)) from exc
    finally:
        opened.close()


def store_failure_line(settings: Settings, error: StoreFailedError) -> str:
    """The store failing in use (a full disk, a database gone), as one line naming the setting that put it there."""
    from store.errors import BlobFolderFailedError

    if not isinstance(error, BlobFolderFailedError):
        return f"{database_setting(settings)}: {error}"
    if settings.blobs != settings.home / "objects":
        return f"BLOBS (CLAUSEWATCH_BLOBS): {error}"
    return f"{HOME_SETTING}: {error}"


def database_setting(settings: Settings) -> str:
    """The setting that decides where the store is, as a user would name it."""
    if settings.database_url == sqlite_url(settings.home / "clausewatch.db"):
        return HOME_SETTING
    return "DATABASE_URL (--database-url, CLAUSEWATCH_DATABASE_URL)"


def ensure_folder(folder: Path, setting: str) -> Path:
    """Create ``folder`` if needed; a file (or a file on its path) in the way is bad input naming ``setting``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocking = file_in_the_way(str(folder))
        raise BadInputError(f"{setting}: {folder} cannot be a folder: {blocking or 'a file'} is in the way") from None
    except OSError as exc:
        raise BadInputError(f"{setting}: cannot create {folder}: {exc.strerror}") from None
    return folder


def writable_folder(folder: Path, setting: str) -> Path:
    """:func:`ensure_folder`, then a file made and removed there: a folder that exists but takes no file (read-only,
    not ours) is bad input naming ``setting`` before any work, not one failure per file written later."""
    ensure_folder(folder, setting)
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".clausewatch-probe-"):
            pass
    except OSError as exc:
        raise BadInputError(f"{setting}: cannot write in {folder}: {exc.strerror}") from None
    return folder


def refuse_existing(path: Path, option: str) -> None:
    """A command's output file must be new: a file already there may be someone's, and is never overwritten."""
    if path.exists() or path.is_symlink():
        raise BadInputError(f"{option}: {path} exists; remove it or choose another {option}")


@contextmanager
def new_file(path: Path, option: str) -> Iterator[Path]:
    """A temporary path beside ``path`` to write; when the block ends without error it becomes
    ``path`` (never replacing a file that appeared meanwhile), otherwise it is removed: a failed
    command leaves no half file."""
    refuse_existing(path, option)
    from store.files import TEMPORARY_PREFIX, naming

    path.parent.mkdir(parents=True, exist_ok=True)  # a file in the way is an OSError naming it (exit 2)
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=TEMPORARY_PREFIX)
    except OSError as exc:  # a read-only folder: the option and its file, not the random name tried beside it
        raise BadInputError(f"{option}: cannot write {path}: {exc.strerror}") from None
    os.close(fd)
    temporary = Path(name)
    try:
        try:
            yield temporary
        except OSError as exc:
            # A write the disk refused names no file, one through the temporary file names ours: name the one
            # asked for (exit 2, one line).
            raise naming(exc, path) from exc
        os.chmod(temporary, 0o644)
        try:
            os.link(temporary, path)  # unlike a rename, fails when the name was taken meanwhile
        except FileExistsError:
            refuse_existing(path, option)
    finally:
        temporary.unlink(missing_ok=True)


def read_catalog(settings: Settings, *, strict: bool = False) -> CatalogLoad:
    """Load every declaration of the catalog folder; every problem of every file is in the result.

    Bad files are reported (``errors``), never fatal, unless ``strict``: then a
    catalog with any error is bad input naming each problem (exit status 2).
    Warnings are returned, not shown: the command layer prints them to people,
    a crawl logs them (the scheduler's runs have no one else to say them).
    """
    from crawler.declarations import load_catalog

    folder = Path(settings.catalog)
    if not folder.is_dir():
        raise BadInputError(f"CATALOG (--catalog, CLAUSEWATCH_CATALOG): {folder} is not a folder")
    loaded = load_catalog(folder)
    if strict and loaded.errors:
        raise CatalogError(folder, loaded.errors)
    return loaded


class CatalogError(BadInputError):
    """A catalog with bad files where none is allowed; ``problems`` lists every one, file:line first."""

    def __init__(self, folder: Path, problems: Sequence[object]) -> None:
        self.problems = [f"catalog: {problem}" for problem in problems]
        super().__init__(f"CATALOG: {len(problems)} problem(s) in {folder}")


# What the catalog check reads (id, platform slug, type, in_catalog) is in both: status hands in the rows it read.
Tracked = TypeVar("Tracked", Document, "DocumentStatus")


def catalog_problems(catalog: CatalogLoad, tracked: Iterable[Tracked]) -> list[str]:
    """What is wrong with the catalog, as lines: files that did not load, tracked documents it no longer declares.

    Catalog documents not yet in the store are not problems: `crawl` or `init` registers them.
    """
    problems = [f"catalog: {error}" for error in catalog.errors]
    problems += [f"{d.id} {d.platform} · {d.type}: tracked but no longer declared by the catalog"
                 for d in undeclared_documents(catalog, tracked)]
    return problems


def check_catalog_declares(settings: Settings, catalog: CatalogLoad, tracked: Iterable[Tracked]) -> None:
    """A catalog that declares no document, on a store that tracks none, is a wrong CATALOG: bad input, never
    "nothing to crawl" (a store that tracks documents the catalog lost lists them as failures instead)."""
    if any(p.documents for p in catalog.platforms) or any(d.in_catalog for d in tracked):
        return
    broken = f"; {len(catalog.errors)} file(s) did not load, the first: {catalog.errors[0]}" if catalog.errors else ""
    raise BadInputError(f"the catalog {settings.catalog} declares no document: nothing to crawl (CATALOG, "
                        f"--catalog){broken}")


def record_lost(store: Store, document: Tracked, catalog: CatalogLoad, now: datetime) -> str:
    """Record a failed fetch of a tracked document the catalog no longer declares, visible everywhere failures
    are; what the failure says."""
    from store.change_records import CATALOG_ERROR

    detail = f"{document.platform} · {document.type} is tracked but no longer loads from the catalog" \
        + _why_lost(document.platform, catalog)
    store.recording.record_failure(document.id, started_at=now, finished_at=now, kind=CATALOG_ERROR, detail=detail)
    return detail


def _why_lost(platform: str, catalog: CatalogLoad) -> str:
    """What the catalog says of a platform it lost: its own file failed to load, or no file declares it (and which
    files failed, one of which may have), never an unrelated file's problem given as the reason."""
    from crawler.declarations import slugify

    own = [error for error in catalog.errors if slugify(Path(error.file).stem) == platform]
    if own:
        return f" (its file failed to load: {own[0]})"
    if any(p.slug == platform for p in catalog.platforms):
        return ": its platform's file no longer declares it; fix the catalog, or run `clausewatch init` to stop " \
               "tracking it"
    if catalog.errors:
        return (f": no catalog file declares {platform} (removed or renamed?); {len(catalog.errors)} problem(s) in "
                f"files that failed to load, which may have, the first: {catalog.errors[0]}")
    return f": no catalog file declares {platform} (removed or renamed?); fix the catalog, or run `clausewatch " \
           "init` to stop tracking it"


def undeclared_documents(catalog: CatalogLoad, tracked: Iterable[Tracked]) -> list[Tracked]:
    """The documents the store tracks that the catalog, as loaded, does not declare (any more)."""
    declared = {(p.slug, d.type) for p in catalog.platforms for d in p.documents}
    return [d for d in tracked if d.in_catalog and (d.platform, d.type) not in declared]


@dataclass(frozen=True)
class Selection:
    """Which documents a crawl or a scheduled job covers; empty selectors cover everything."""

    platforms: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    types: tuple[str, ...] = ()

    @property
    def is_all(self) -> bool:
        return not (self.platforms or self.tags or self.types)

    def covers(self, document: Document, platform_tags: Iterable[str] = ()) -> bool:
        """Whether a tracked document (as the store knows it) falls in this selection; a tag counts on the document
        or on its platform (``platform_tags``, which the store does not keep), as :func:`select_platforms` has it."""
        return ((not self.platforms or document.platform in self.platforms)
                and (not self.tags or bool(set(self.tags) & {*document.spec.tags, *platform_tags}))
                and (not self.types or document.type.lower() in {t.lower() for t in self.types}))

    def lost(self, catalog: CatalogLoad, tracked: Iterable[Tracked]) -> list[Tracked]:
        """The tracked documents the catalog no longer declares that this selection covers. A document whose
        platform the catalog no longer has is covered by any tag: its platform's tags are unknown, and a loss is
        said rather than left out."""
        tags = {platform.slug: platform.tags for platform in catalog.platforms}
        return [document for document in undeclared_documents(catalog, tracked)
                if self.covers(document, tags.get(document.platform, self.tags))]

    def chosen(self, catalog: CatalogLoad) -> set[tuple[str, str]]:
        """The (platform, type) of every document of the catalog this selection covers."""
        return {(p.slug, d.type) for p in select_platforms(catalog.platforms, slugs=self.platforms, tags=self.tags,
                                                          types=self.types)
                for d in p.documents}

    def describe(self) -> str:
        if self.is_all:
            return "all"
        parts = [f"{name}={','.join(values)}" for name, values in
                 (("platforms", self.platforms), ("tags", self.tags), ("types", self.types)) if values]
        return " ".join(parts)


def selection_problem(selection: Selection, catalog: CatalogLoad, tracked: Iterable[Document]) -> str | None:
    """Why ``selection`` would check nothing, or None: a platform neither the catalog nor the store (its documents
    still in the catalog: a catalog file that failed to load) knows, or a selection matching no document of a
    catalog that loads. Shared by `crawl`, `enqueue` and the check of the schedules' jobs."""
    tracked = [d for d in tracked if d.in_catalog]
    known = {p.slug for p in catalog.platforms} | {d.platform for d in tracked}
    if unknown := sorted(set(selection.platforms) - known):
        return (f"unknown platform {', '.join(map(repr, unknown))}: neither in the catalog nor tracked in the store "
                f"(known: {', '.join(sorted(known)) or 'none'})")
    if not selection.is_all and not catalog.errors \
            and not select_platforms(catalog.platforms, slugs=selection.platforms, tags=selection.tags,
                                     types=selection.types) \
            and not any(selection.covers(d) for d in tracked):
        return f"the selection ({selection.describe()}) matches no document of the catalog"
    return None


def check_selection(selection: Selection, catalog: CatalogLoad, tracked: Iterable[Document]) -> None:
    """:func:`selection_problem` as bad input."""
    if problem := selection_problem(selection, catalog, tracked):
        raise BadInputError(problem)


def sync_selection(settings: Settings, store: Store, catalog: CatalogLoad, selection: Selection,
                   now: datetime) -> list[Tracked]:
    """What `crawl` and `enqueue` do before choosing documents: the selection and the catalog are checked against the
    documents the store tracks (bad input if they would check nothing), then the catalog is synced into the store.
    Returns the tracked documents the selection covers that the catalog no longer declares, for the caller to
    record as failures (:func:`record_lost`)."""
    tracked = store.catalog.each_document()
    check_selection(selection, catalog, tracked)
    check_catalog_declares(settings, catalog, tracked)
    lost = selection.lost(catalog, tracked)
    store.catalog.sync_catalog(catalog.platforms, now=now)
    return lost


def select_platforms(
    platforms: Sequence[PlatformSpec],
    *,
    slugs: Sequence[str] = (),
    tags: Sequence[str] = (),
    types: Sequence[str] = (),
) -> list[PlatformSpec]:
    """Keep the platforms and documents a selection names (empty selectors keep everything)."""
    chosen: list[PlatformSpec] = []
    wanted_types = {t.lower() for t in types}
    for platform in platforms:
        if slugs and platform.slug not in slugs:
            continue
        documents = tuple(
            doc for doc in platform.documents
            if (not tags or set(tags) & (set(doc.tags) | set(platform.tags)))
            and (not wanted_types or doc.type.lower() in wanted_types)
        )
        if documents:
            chosen.append(replace(platform, documents=documents))
    return chosen


def smtp_config(settings: Settings) -> SmtpConfig:
    """The SMTP server that alerts and digests are sent through."""
    from reports.mail import SmtpConfig

    host = settings.smtp_host.strip()
    try:  # "" connected nowhere ("please run connect() first"); "a..b" failed in the idna codec
        if not host or host != settings.smtp_host or " " in host:
            raise UnicodeError("no host name")
        host.encode("idna")
    except UnicodeError:
        raise BadInputError(f"SMTP_HOST (CLAUSEWATCH_SMTP_HOST): {settings.smtp_host!r} is not a host name or "
                            "address") from None
    return SmtpConfig(host=settings.smtp_host, port=settings.smtp_port, starttls=settings.smtp_starttls,
                      user=settings.smtp_user, password=settings.smtp_password)
