"""The store: one object over the database and the blob folder.

Snapshots (raw bytes) and versions (normalised text) are separate records, as in
Open Terms Archive; a version points back to the snapshots it was extracted
from and can always be rebuilt from them. Saving is idempotent: a hash already
stored returns the existing record.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, case, create_engine, event, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from analysis.domain import (
    ClassifiedClause,
    Document,
    PlatformSpec,
    Snapshot,
    StoredVersion,
    VersionAnalysis,
)
from analysis.text import sha256_text
from analysis.evidence import HttpExchange
from store import capture_log, mapping
from store.blobs import BlobMismatch, BlobStore
from store.models import (
    ChangeRow,
    ClauseRow,
    DocumentRow,
    FetchRow,
    PlatformRow,
    ProvisionRow,
    SnapshotRow,
    VersionRow,
    VersionSnapshotRow,
)

if TYPE_CHECKING:
    from store.migrate import SchemaState

log = logging.getLogger(__name__)

Analyzer = Callable[[StoredVersion | None, str], VersionAnalysis]


# How many consecutive fetches must serve the same implausibly shorter text
# before it is believed and recorded as a version (the first ones are refused).
SHRINK_CONFIRMATIONS = 2


class StoreError(Exception):
    """The store cannot do what was asked; the message says why."""


class UnknownDocumentError(StoreError):
    pass


@dataclass(frozen=True)
class DocumentStatus:
    id: str
    platform: str
    type: str
    url: str
    versions: int
    fetches: int
    failures: int
    consecutive_failures: int
    last_outcome: str | None
    last_error_kind: str | None
    last_verified: datetime | None
    in_catalog: bool
    language: str | None = None  # of the current version, as detected


@dataclass(frozen=True)
class RecordResult:
    """What a fetch came to: its outcome, and the version it produced or confirmed."""

    outcome: str
    version_sha256: str | None = None
    error_kind: str | None = None
    change_id: int | None = None


# Documents per IN (...) list: well under SQLite's 32,766 bound parameters.
_IDS_PER_QUERY = 1000
_ROWS_PER_BATCH = 500


@dataclass(frozen=True)
class NotModifiedFetch:
    """One 304 to record with :meth:`Store.record_not_modified_many`."""

    document_id: str
    started_at: datetime
    finished_at: datetime
    run_id: str | None = None
    exchanges: Sequence[HttpExchange] = ()


def _validators(etag: str | None, last_modified: str | None) -> dict[str, str]:
    """The conditional request headers of a snapshot's validators."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


class StoreUnavailableError(StoreError):
    """The database cannot be reached or read: bad URL, missing driver, server down, not a database."""


class StoreNotFoundError(StoreError):
    """No store exists where the URL points; only ``init`` and ``migrate`` create one."""


class StoreSchemaError(StoreError):
    """The database's schema is behind, ahead of this code, or another program's."""


OPEN_MODES = ("create", "write", "read")
SUPPORTED_DATABASES = ("sqlite", "postgresql")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers (status, site) run beside a crawl; the busy timeout makes a
    # second writer wait instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
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
        engine = create_engine(url, future=True)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise StoreUnavailableError(f"{describe_url(url)} is not a database URL this store can use: "
                                    f"{_reason(exc)} ({expected})") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_read_only if read_only else _sqlite_pragmas)
    elif read_only:
        event.listen(engine, "connect", _postgres_read_only)
    return engine


def describe_url(url: str) -> str:
    """The URL as it may be shown: any password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


def _reason(exc: BaseException) -> str:
    """The first line of a driver's error, without SQLAlchemy's background link."""
    original = getattr(exc, "orig", None) or exc
    return (str(original).strip().splitlines() or [type(original).__name__])[0]


def _sqlite_path(engine: Engine) -> Path | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


class Store:
    """The database and blob folder behind one interface."""

    def __init__(self, engine: Engine, blobs: BlobStore):
        self.engine = engine
        self.blobs = blobs
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, blobs_root: Path, *, mode: str = "create") -> Store:
        """Open the store at ``url``.

        ``create`` makes the database if needed and migrates it to the newest
        schema (``init``, ``migrate``, tests); ``write`` and ``read`` need a
        store that exists at the newest schema and change nothing of its schema;
        ``read`` also makes the database refuse every write.
        """
        if mode not in OPEN_MODES:
            raise ValueError(f"mode must be one of {OPEN_MODES}, got {mode!r}")
        engine = make_engine(url, read_only=mode == "read")
        try:
            _prepare(url, engine, create=mode == "create")
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, BlobStore(blobs_root))

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    # --- Catalog ---------------------------------------------------------------

    def sync_catalog(
        self, platforms: Sequence[PlatformSpec], *, now: datetime, retire_missing: bool = False
    ) -> list[Document]:
        """Insert or update every platform and document; ids of known documents never change.

        A tracked document absent from ``platforms`` stays tracked (its history
        and its failures stay visible) unless ``retire_missing`` says the catalog
        is complete and its absence is meant: only ``clausewatch init`` does that.
        """
        with self.session() as session:
            kept: set[int] = set()
            for spec in platforms:
                platform = self._upsert_platform(session, spec)
                for doc in spec.documents:
                    kept.add(self._upsert_document(session, platform, doc, now))
            if retire_missing:
                # Documents dropped from the catalog keep their history but are no longer crawled.
                # Ids only: loading every row at once made the sync's peak memory grow with the catalog.
                listed = session.scalars(select(DocumentRow.id).where(DocumentRow.in_catalog.is_(True))).all()
                dropped = [document_id for document_id in listed if document_id not in kept]
                for start in range(0, len(dropped), _IDS_PER_QUERY):
                    session.execute(update(DocumentRow)
                                    .where(DocumentRow.id.in_(dropped[start:start + _IDS_PER_QUERY]))
                                    .values(in_catalog=False))
        return self.documents()

    def _upsert_platform(self, session: Session, spec: PlatformSpec) -> PlatformRow:
        row = session.scalar(select(PlatformRow).where(PlatformRow.slug == spec.slug))
        if row is None:
            row = PlatformRow(slug=spec.slug)
            session.add(row)
        row.name = spec.name
        row.homepage = spec.homepage
        row.jurisdictions = list(spec.jurisdictions)
        row.tags = list(spec.tags)
        session.flush()
        return row

    def _upsert_document(self, session: Session, platform: PlatformRow, spec, now: datetime) -> int:
        row = session.scalar(
            select(DocumentRow).where(DocumentRow.platform_id == platform.id, DocumentRow.type == spec.type)
        )
        created = row is None
        if created:
            # The public id derives from the primary key, known only after the insert.
            row = DocumentRow(platform_id=platform.id, type=spec.type, public_id="~" + uuid.uuid4().hex[:16],
                              created_at=now)
            session.add(row)
        row.url = spec.url
        row.spec = mapping.spec_to_json(spec)
        row.fetcher = spec.fetcher
        row.schedule_group = spec.schedule_group
        row.tags = list(spec.tags)
        row.in_catalog = True
        session.flush()
        if created:
            row.public_id = f"CW-D-{row.id:05d}"
        return row.id

    def documents(self) -> list[Document]:
        with self.session() as session:
            # In batches, so the rows of a large catalog are never all in memory at once.
            rows = session.scalars(select(DocumentRow).order_by(DocumentRow.id).execution_options(yield_per=_ROWS_PER_BATCH))
            return [mapping.document_from_row(row) for row in rows]

    def document(self, document_id: str) -> Document:
        with self.session() as session:
            return mapping.document_from_row(self._document_row(session, document_id))

    @staticmethod
    def _document_row(session: Session, document_id: str) -> DocumentRow:
        row = session.scalar(select(DocumentRow).where(DocumentRow.public_id == document_id))
        if row is None:
            raise UnknownDocumentError(f"no document {document_id!r} in the store")
        return row

    # --- Reading versions ----------------------------------------------------

    def conditional_headers(self, document_id: str) -> dict[str, str]:
        """If-None-Match / If-Modified-Since from the snapshot behind the current version."""
        with self.session() as session:
            doc = self._document_row(session, document_id)
            if doc.current_version_id is None:
                return {}
            snap = session.scalar(
                select(SnapshotRow)
                .join(VersionSnapshotRow, VersionSnapshotRow.snapshot_id == SnapshotRow.id)
                .where(VersionSnapshotRow.version_id == doc.current_version_id)
                .order_by(SnapshotRow.fetched_at.desc(), SnapshotRow.id.desc())
                .limit(1)
            )
            return _validators(snap.etag, snap.last_modified) if snap is not None else {}

    def conditional_headers_for(self, document_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        """:meth:`conditional_headers` of many documents, in one query per thousand (a crawl asks for all at once)."""
        wanted = list(dict.fromkeys(document_ids))
        newest: dict[str, tuple[tuple[datetime, int], dict[str, str]]] = {}
        known: set[str] = set()
        with self.session() as session:
            for start in range(0, len(wanted), _IDS_PER_QUERY):
                chunk = wanted[start:start + _IDS_PER_QUERY]
                known.update(session.scalars(select(DocumentRow.public_id).where(DocumentRow.public_id.in_(chunk))))
                rows = session.execute(
                    select(DocumentRow.public_id, SnapshotRow.fetched_at, SnapshotRow.id, SnapshotRow.etag,
                           SnapshotRow.last_modified)
                    .join(VersionSnapshotRow, VersionSnapshotRow.version_id == DocumentRow.current_version_id)
                    .join(SnapshotRow, SnapshotRow.id == VersionSnapshotRow.snapshot_id)
                    .where(DocumentRow.public_id.in_(chunk))
                )
                for row in rows:
                    order = (row.fetched_at, row.id)
                    if row.public_id not in newest or order > newest[row.public_id][0]:
                        newest[row.public_id] = (order, _validators(row.etag, row.last_modified))
        missing = [document_id for document_id in wanted if document_id not in known]
        if missing:
            raise UnknownDocumentError(f"no document {missing[0]!r} in the store")
        return {document_id: newest[document_id][1] if document_id in newest else {} for document_id in wanted}

    def current_version(self, document_id: str) -> StoredVersion | None:
        with self.session() as session:
            doc = self._document_row(session, document_id)
            if doc.current_version_id is None:
                return None
            return self._stored_version(session, session.get(VersionRow, doc.current_version_id), document_id)

    def versions(self, document_id: str, *, include_folded: bool = False) -> list[StoredVersion]:
        """Every version of a document in its history, oldest first (with ``include_folded``, the folded ones too)."""
        with self.session() as session:
            doc = self._document_row(session, document_id)
            query = select(VersionRow).where(VersionRow.document_id == doc.id)
            if not include_folded:
                query = query.where(VersionRow.folded_into_id.is_(None))
            rows = session.scalars(query.order_by(VersionRow.first_seen, VersionRow.id)).all()
            return [self._stored_version(session, row, document_id) for row in rows]

    def resolve_version(self, document_id: str, sha256: str) -> StoredVersion | None:
        """The version a hash stands for today: itself, or the version it was folded into."""
        with self.session() as session:
            doc = self._document_row(session, document_id)
            row = session.scalar(select(VersionRow).where(VersionRow.document_id == doc.id, VersionRow.sha256 == sha256))
            seen: set[int] = set()
            while row is not None and row.folded_into_id is not None and row.id not in seen:
                seen.add(row.id)
                row = session.get(VersionRow, row.folded_into_id)
            return self._stored_version(session, row, document_id) if row is not None else None

    def _stored_version(self, session: Session, row: VersionRow, document_id: str) -> StoredVersion:
        snapshot_shas = tuple(
            session.scalars(
                select(SnapshotRow.sha256)
                .join(VersionSnapshotRow, VersionSnapshotRow.snapshot_id == SnapshotRow.id)
                .where(VersionSnapshotRow.version_id == row.id)
                .order_by(SnapshotRow.fetched_at)
            ).all()
        )
        clauses = session.scalars(select(ClauseRow).where(ClauseRow.version_id == row.id).order_by(ClauseRow.ordinal))
        return StoredVersion(
            version=mapping.version_from_row(row, document_id, snapshot_shas),
            text=self.blobs.get(row.sha256).decode("utf-8"),
            clauses=tuple(mapping.clause_from_row(c) for c in clauses),
        )

    def snapshots(self, document_id: str) -> list[Snapshot]:
        """Every distinct snapshot of a document, in capture order."""
        with self.session() as session:
            doc = self._document_row(session, document_id)
            rows = session.scalars(
                select(SnapshotRow).where(SnapshotRow.document_id == doc.id).order_by(SnapshotRow.fetched_at, SnapshotRow.id)
            ).all()
            return [mapping.snapshot_from_row(row, document_id) for row in rows]

    # --- Recording fetches ---------------------------------------------------

    def record_failure(
        self,
        document_id: str,
        *,
        started_at: datetime,
        finished_at: datetime,
        kind: str,
        detail: str = "",
        snapshot: Snapshot | None = None,
        body: bytes | None = None,
        run_id: str | None = None,
        exchanges: Sequence[HttpExchange] = (),
    ) -> RecordResult:
        """A failed fetch: recorded with its kind, never as a version. An error page is kept as evidence."""
        if body is not None:
            self.blobs.put(body)
        self._put_renderings(exchanges)
        with self.session() as session:
            doc = self._document_row(session, document_id)
            snap = self._upsert_snapshot(session, doc, snapshot) if snapshot is not None and body is not None else None
            self._add_fetch(session, exchanges, FetchRow(
                document_id=doc.id, started_at=started_at, finished_at=finished_at, outcome="failed",
                error_kind=kind, error_detail=detail[:2000], snapshot_id=snap.id if snap else None, run_id=run_id,
            ))
        return RecordResult("failed", error_kind=kind)

    def record_not_modified(
        self, document_id: str, *, started_at: datetime, finished_at: datetime, run_id: str | None = None,
        exchanges: Sequence[HttpExchange] = (),
    ) -> RecordResult:
        """A 304: the current version is verified again, nothing else changes."""
        with self.session() as session:
            doc = self._document_row(session, document_id)
            version = session.get(VersionRow, doc.current_version_id) if doc.current_version_id else None
            if version is not None:
                version.last_verified = max(version.last_verified, finished_at)
            self._add_fetch(session, exchanges, FetchRow(
                document_id=doc.id, started_at=started_at, finished_at=finished_at, outcome="not_modified",
                version_id=version.id if version else None, run_id=run_id,
            ))
        return RecordResult("not_modified", version.sha256 if version else None)

    def record_not_modified_many(self, fetches: Sequence[NotModifiedFetch]) -> list[RecordResult]:
        """Several 304s in one transaction: one query for their documents, one for their versions.

        What each fetch records is what :meth:`record_not_modified` records; on
        an unchanged run most documents answer 304, and a transaction, a
        document lookup and a version lookup per document were most of the
        cost of recording them (decision 0014).
        """
        ids = sorted({fetch.document_id for fetch in fetches})
        with self.session() as session:
            docs = {row.public_id: row for row in session.scalars(
                select(DocumentRow).where(DocumentRow.public_id.in_(ids)))}
            if unknown := [document_id for document_id in ids if document_id not in docs]:
                raise UnknownDocumentError(f"no document {unknown[0]!r} in the store")
            current = [row.current_version_id for row in docs.values() if row.current_version_id]
            versions = {row.id: row for row in session.scalars(select(VersionRow).where(VersionRow.id.in_(current)))}
            rows, results = [], []
            for fetch in fetches:
                doc = docs[fetch.document_id]
                version = versions.get(doc.current_version_id)
                if version is not None:
                    version.last_verified = max(version.last_verified, fetch.finished_at)
                rows.append(FetchRow(
                    document_id=doc.id, started_at=fetch.started_at, finished_at=fetch.finished_at,
                    outcome="not_modified", version_id=version.id if version else None, run_id=fetch.run_id,
                ))
                results.append(RecordResult("not_modified", version.sha256 if version else None))
            session.add_all(rows)
            session.flush()
            capture_log.append_not_modified(session, [(row, fetch.exchanges) for row, fetch in zip(rows, fetches)])
        return results

    def record_text(
        self,
        document_id: str,
        *,
        snapshot: Snapshot,
        body: bytes,
        text: str,
        started_at: datetime,
        finished_at: datetime,
        analyze: Analyzer | None = None,
        extra_snapshots: Sequence[tuple[Snapshot, bytes]] = (),
        part_starts: Sequence[int] = (),
        shrink_ratio: float = 0.0,
        technical: bool = False,
        run_id: str | None = None,
        exchanges: Sequence[HttpExchange] = (),
    ) -> RecordResult:
        """Record a successful fetch whose normalised text is ``text``.

        The same text only moves ``last_verified``; a new text creates the
        version, its clauses, provisions and change in one transaction.
        Blobs are written first, so no row ever points at a missing blob.
        ``extra_snapshots`` are the further parts of a combined document, and
        ``part_starts`` where each part (the first included) begins in ``text``.
        """
        self.blobs.put(body)
        for _extra, extra_body in extra_snapshots:
            self.blobs.put(extra_body)
        text_sha = self.blobs.put(text.encode("utf-8"))
        self._put_renderings(exchanges)
        for _attempt in range(3):
            # The current version's hash and length decide the common cases; its
            # text and clauses are loaded only when a new text must be analysed.
            current = self._current_head(document_id)
            if current is not None and current[0] == text_sha:
                analysis = None
            elif (current is not None and shrink_ratio and len(text) < shrink_ratio * current[1]
                  and not self._shrink_confirmed(document_id, text_sha)):
                detail = f"text shrank from {current[1]} to {len(text)} characters (text {text_sha[:16]})"
                return self.record_failure(
                    document_id, started_at=started_at, finished_at=finished_at, kind="suspicious_shrink",
                    detail=detail, snapshot=snapshot, body=body, run_id=run_id, exchanges=exchanges,
                )
            else:
                analysis = analyze(self.current_version(document_id), text) if analyze else None
            try:
                return self._record_text_transaction(
                    document_id, current[0] if current else None,
                    _parts((snapshot, *(extra for extra, _ in extra_snapshots)), part_starts),
                    text, text_sha, analysis, started_at=started_at, finished_at=finished_at, technical=technical, run_id=run_id,
                    exchanges=exchanges,
                )
            except _CurrentVersionMoved:
                log.info("current version of %s moved during analysis; analysing again", document_id)
            except IntegrityError:
                log.info("concurrent write on %s; retrying", document_id)
        raise StoreError(f"could not record a fetch of {document_id}: the document kept changing under us")

    def _current_head(self, document_id: str) -> tuple[str, int] | None:
        """The current version's text hash and length in characters, without loading it."""
        with self.session() as session:
            doc = self._document_row(session, document_id)
            row = session.execute(
                select(VersionRow.sha256, VersionRow.text_length).where(VersionRow.id == doc.current_version_id)
            ).first()
            return (row.sha256, row.text_length) if row else None

    def _shrink_confirmed(self, document_id: str, text_sha: str) -> bool:
        """Whether this same shorter text was already refused on the last consecutive fetches.

        A broken page rarely serves the very same truncated text again and again;
        a real shrink does, so after SHRINK_CONFIRMATIONS sightings it is recorded
        rather than refused for ever.
        """
        with self.session() as session:
            doc = self._document_row(session, document_id)
            recent = session.scalars(
                select(FetchRow).where(FetchRow.document_id == doc.id)
                .order_by(FetchRow.finished_at.desc(), FetchRow.id.desc()).limit(SHRINK_CONFIRMATIONS - 1)
            ).all()
        return len(recent) == SHRINK_CONFIRMATIONS - 1 and all(
            f.error_kind == "suspicious_shrink" and f"(text {text_sha[:16]})" in (f.error_detail or "") for f in recent
        )

    def _record_text_transaction(
        self, document_id, expected, snapshots, text, text_sha, analysis, *, started_at, finished_at, technical, run_id,
        exchanges=(),
    ) -> RecordResult:
        with self.session() as session:
            doc = self._document_row(session, document_id)
            current = session.get(VersionRow, doc.current_version_id) if doc.current_version_id else None
            if (current.sha256 if current else None) != expected:
                raise _CurrentVersionMoved()
            snaps = [(self._upsert_snapshot(session, doc, snapshot), start) for snapshot, start in snapshots]
            snap = snaps[0][0]
            if current is not None and current.sha256 == text_sha:
                current.last_verified = max(current.last_verified, finished_at)
                for each, start in snaps:
                    self._link(session, current, each, start)
                self._add_fetch(session, exchanges, FetchRow(
                    document_id=doc.id, started_at=started_at, finished_at=finished_at, outcome="unchanged",
                    snapshot_id=snap.id, version_id=current.id, run_id=run_id,
                ))
                return RecordResult("unchanged", text_sha)
            version, created = self._upsert_version(session, doc, text, text_sha, analysis, finished_at, technical)
            for each, start in snaps:
                self._link(session, version, each, start)
            change_id = self._add_change(session, doc, current, version, analysis, finished_at, technical)
            doc.current_version_id = version.id
            self._add_fetch(session, exchanges, FetchRow(
                document_id=doc.id, started_at=started_at, finished_at=finished_at, outcome="new_version",
                snapshot_id=snap.id, version_id=version.id, run_id=run_id,
            ))
            return RecordResult("new_version", text_sha, change_id=change_id)

    @staticmethod
    def _add_fetch(session: Session, exchanges: Sequence[HttpExchange], fetch: FetchRow) -> None:
        """Add a Fetch row with its WARC captures and its entry in the capture log, in one transaction."""
        session.add(fetch)
        session.flush()
        capture_log.append(session, fetch, exchanges)

    def _put_renderings(self, exchanges: Sequence[HttpExchange]) -> None:
        # Blobs before rows: a browser's payload and rendered DOM are stored before the capture naming them.
        for exchange in exchanges:
            for data in (exchange.payload, exchange.rendered_dom):
                if data is not None:
                    self.blobs.put(data)

    def _upsert_snapshot(self, session: Session, doc: DocumentRow, snapshot: Snapshot) -> SnapshotRow:
        row = session.scalar(
            select(SnapshotRow).where(SnapshotRow.document_id == doc.id, SnapshotRow.sha256 == snapshot.sha256)
        )
        if row is None:
            row = SnapshotRow(
                document_id=doc.id, sha256=snapshot.sha256, requested_url=snapshot.requested_url,
                final_url=snapshot.final_url, status=snapshot.status, content_type=snapshot.content_type,
                etag=snapshot.etag, last_modified=snapshot.last_modified, fetcher=snapshot.fetcher,
                size=snapshot.size, fetched_at=snapshot.fetched_at,
            )
            session.add(row)
            session.flush()
        else:
            # Keep the newest validators so the next conditional request matches the server.
            row.etag = snapshot.etag or row.etag
            row.last_modified = snapshot.last_modified or row.last_modified
        return row

    def _upsert_version(self, session, doc, text, text_sha, analysis, now, technical) -> tuple[VersionRow, bool]:
        row = session.scalar(select(VersionRow).where(VersionRow.document_id == doc.id, VersionRow.sha256 == text_sha))
        if row is not None:  # the text went back to an earlier version
            row.last_verified = max(row.last_verified, now)
            row.folded_into_id = None  # seen again as it is: back in the history
            return row, False
        row = VersionRow(
            document_id=doc.id, sha256=text_sha, first_seen=now, last_verified=now, technical=technical,
            text_length=len(text),
            stated_date=analysis.stated_date if analysis else None,
            stated_date_label=analysis.stated_date_label if analysis else None,
            analyzed_with=analysis.analyzer if analysis else None,
            language=analysis.language if analysis else None,
        )
        session.add(row)
        session.flush()
        if analysis is not None:
            self._add_clauses(session, doc, row, analysis, now)
        return row, True

    def _add_clauses(self, session: Session, doc: DocumentRow, version: VersionRow, analysis: VersionAnalysis, now) -> None:
        self.add_clauses(session, doc, version, analysis.clauses, now)

    @classmethod
    def add_clauses(cls, session: Session, doc: DocumentRow, version: VersionRow,
                    clauses: Sequence[ClassifiedClause], now: datetime) -> None:
        """Insert a version's classified clauses in one statement and open any provision they start."""
        if clauses:
            session.execute(insert(ClauseRow), [mapping.clause_values(item, version.id) for item in clauses])
        cls.ensure_provisions(session, doc, {t for item in clauses for t in item.classification.types}, now)

    @staticmethod
    def ensure_provisions(session: Session, doc: DocumentRow, clause_types: set[str], now: datetime) -> None:
        """One provision record per (document, clause type); record ids are never reused."""
        existing = set(session.scalars(
            select(ProvisionRow.clause_type).where(ProvisionRow.document_id == doc.id)
        ))
        created = [
            ProvisionRow(document_id=doc.id, clause_type=clause_type, public_id="~" + uuid.uuid4().hex[:16],
                         first_seen=now)
            for clause_type in sorted(clause_types - existing)
        ]
        if not created:
            return
        session.add_all(created)
        session.flush()  # the record id derives from the primary key
        for row in created:
            row.public_id = f"CW-P-{row.id:06d}"

    @staticmethod
    def _link(session: Session, version: VersionRow, snap: SnapshotRow, text_start: int | None = None) -> None:
        if session.get(VersionSnapshotRow, (version.id, snap.id)) is None:
            session.add(VersionSnapshotRow(version_id=version.id, snapshot_id=snap.id, text_start=text_start))

    @staticmethod
    def _add_change(session, doc, current, version, analysis, now, technical) -> int:
        change = analysis.change if analysis else None
        row = ChangeRow(
            document_id=doc.id,
            from_version_id=current.id if current else None,
            to_version_id=version.id,
            detected_at=now,
            substantive=change.substantive if change else current is not None,
            severity_raised=change.severity_raised if change else False,
            cosmetic_reason=change.cosmetic_reason if change else None,
            technical=technical,
        )
        session.add(row)
        session.flush()
        for ordinal, clause_change in enumerate(change.clause_changes if change else ()):
            session.add(mapping.clause_change_to_row(clause_change, row.id, ordinal))
        return row.id

    # --- Volatile values: held fetches and folded histories (decision 0016) ------

    def current_head(self, document_id: str) -> tuple[str, int] | None:
        """The current version's text hash and length, without loading its text."""
        return self._current_head(document_id)

    def record_held(
        self, document_id: str, *, snapshot: Snapshot, body: bytes, started_at: datetime, finished_at: datetime,
        run_id: str | None = None,
    ) -> RecordResult:
        """A fetch whose text differs from the current version only in values being watched as volatile.

        Its snapshot is kept as evidence and the fetch counts as unchanged; the
        current version is not verified again (its text was not seen as such).
        """
        self.blobs.put(body)
        with self.session() as session:
            doc = self._document_row(session, document_id)
            snap = self._upsert_snapshot(session, doc, snapshot)
            session.add(FetchRow(
                document_id=doc.id, started_at=started_at, finished_at=finished_at, outcome="unchanged",
                snapshot_id=snap.id, version_id=doc.current_version_id, run_id=run_id,
            ))
            current = session.get(VersionRow, doc.current_version_id) if doc.current_version_id else None
            return RecordResult("unchanged", current.sha256 if current else None)

    def fetch_sequence(self, document_id: str) -> list[tuple[str, datetime]]:
        """The primary snapshot hash and time of every fetch that gave a text, in order."""
        with self.session() as session:
            doc = self._document_row(session, document_id)
            return [(sha, at) for sha, at in session.execute(
                select(SnapshotRow.sha256, FetchRow.finished_at)
                .join(SnapshotRow, SnapshotRow.id == FetchRow.snapshot_id)
                .where(FetchRow.document_id == doc.id, FetchRow.outcome.in_(("new_version", "unchanged")))
                .order_by(FetchRow.finished_at, FetchRow.id)
            )]

    def history_shas(self, document_id: str) -> list[str]:
        """The version each shown change led to, in order: the document's history as it is shown."""
        with self.session() as session:
            doc = self._document_row(session, document_id)
            return list(session.scalars(
                select(VersionRow.sha256).join(ChangeRow, ChangeRow.to_version_id == VersionRow.id)
                .where(ChangeRow.document_id == doc.id, ChangeRow.folded.is_(False))
                .order_by(ChangeRow.detected_at, ChangeRow.id)
            ))

    def rebuild_history(self, document_id: str, runs: Sequence[RebuiltRun], *, analyze: Analyzer) -> int:
        """Make ``runs`` the document's history; returns how many (technical) versions it created.

        A run whose text is already a version keeps that version (its hash,
        clauses and provision records); others become technical versions. Every
        other version is folded into the run holding its first snapshot, and
        every change not between two consecutive runs is folded: kept, not shown.
        """
        for run in runs:
            self.blobs.put(run.text.encode("utf-8"))
        with self.session() as session:
            doc = self._document_row(session, document_id)
            history = _History(self, session, doc, analyze)
            for run in runs:
                history.add(run)
            history.fold()
            doc.current_version_id = history.previous_row.id if history.previous_row else doc.current_version_id
            return history.created

    # --- Status and verification ---------------------------------------------

    def status(self) -> list[DocumentStatus]:
        """One line per document of the store, crawled or not."""
        with self.session() as session:
            counts = self._fetch_counts(session)
            version_counts = dict(session.execute(
                select(VersionRow.document_id, func.count()).where(VersionRow.folded_into_id.is_(None))
                .group_by(VersionRow.document_id)
            ).all())
            rows = session.scalars(select(DocumentRow).order_by(DocumentRow.id)).all()
            return [self._status_of(session, row, counts.get(row.id, (0, 0)), version_counts.get(row.id, 0)) for row in rows]

    @staticmethod
    def _fetch_counts(session: Session) -> dict[int, tuple[int, int]]:
        failed = func.sum(case((FetchRow.outcome == "failed", 1), else_=0))
        rows = session.execute(select(FetchRow.document_id, func.count(), failed).group_by(FetchRow.document_id))
        return {doc_id: (total, int(fails or 0)) for doc_id, total, fails in rows}

    def _status_of(self, session: Session, row: DocumentRow, counts: tuple[int, int], versions: int) -> DocumentStatus:
        recent = session.scalars(
            select(FetchRow).where(FetchRow.document_id == row.id).order_by(FetchRow.finished_at.desc(), FetchRow.id.desc()).limit(50)
        ).all()
        consecutive = 0
        for fetch in recent:
            if fetch.outcome != "failed":
                break
            consecutive += 1
        current = session.get(VersionRow, row.current_version_id) if row.current_version_id else None
        return DocumentStatus(
            id=row.public_id, platform=row.platform.slug, type=row.type, url=row.url,
            versions=versions, fetches=counts[0], failures=counts[1], consecutive_failures=consecutive,
            last_outcome=recent[0].outcome if recent else None,
            last_error_kind=recent[0].error_kind if recent else None,
            last_verified=current.last_verified if current else None,
            in_catalog=row.in_catalog,
            language=current.language if current else None,
        )

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

    def text_sha(self, text: str) -> str:
        return sha256_text(text)


@dataclass(frozen=True)
class RebuiltRun:
    """Consecutive fetches whose texts are equal under today's normalisation."""

    text: str
    snapshot_shas: tuple[str, ...]  # every part of every fetch, linked to the run's version
    first_seen: datetime
    last_seen: datetime
    fetch_shas: tuple[str, ...] = ()  # the primary snapshot of each fetch: what decides a fold

    @property
    def sha256(self) -> str:
        return sha256_text(self.text)


class _History:
    """One rebuild of a document's history, run by run, inside one session."""

    def __init__(self, store: Store, session: Session, doc: DocumentRow, analyze: Analyzer) -> None:
        self.store, self.session, self.doc, self.analyze = store, session, doc, analyze
        self.rows = {r.sha256: r for r in session.scalars(select(VersionRow).where(VersionRow.document_id == doc.id))}
        self.snapshots = {r.sha256: r for r in session.scalars(select(SnapshotRow).where(SnapshotRow.document_id == doc.id))}
        self.changes = session.scalars(
            select(ChangeRow).where(ChangeRow.document_id == doc.id).order_by(ChangeRow.detected_at, ChangeRow.id)
        ).all()
        self.by_pair: dict[tuple[int | None, int], ChangeRow] = {}
        for change in self.changes:
            self.by_pair.setdefault((change.from_version_id, change.to_version_id), change)
        self.kept_changes: set[int] = set()
        self.run_of_snapshot: dict[str, VersionRow] = {}  # primary snapshot -> its run's version
        self.run_rows: list[VersionRow] = []
        self.previous: StoredVersion | None = None
        self.previous_row: VersionRow | None = None
        self.created = 0

    def add(self, run: RebuiltRun) -> None:
        row, analysis = self.rows.get(run.sha256), None
        if row is None:
            analysis = self.analyze(self.previous, run.text) if self.analyze else None
            row, _ = self.store._upsert_version(self.session, self.doc, run.text, run.sha256, analysis,
                                                run.first_seen, True)
            self.rows[run.sha256] = row
            self.created += 1
        row.folded_into_id = None
        row.last_verified = max(row.last_verified, run.last_seen)
        for sha in run.snapshot_shas:
            if (snap := self.snapshots.get(sha)) is not None:
                Store._link(self.session, row, snap)
        for sha in run.fetch_shas:
            self.run_of_snapshot.setdefault(sha, row)
        self.run_rows.append(row)
        self._keep_change(row, run, analysis)
        self.previous = self.store._stored_version(self.session, row, self.doc.public_id)
        self.previous_row = row

    def _keep_change(self, row: VersionRow, run: RebuiltRun, analysis: VersionAnalysis | None) -> None:
        change = self.by_pair.get((self.previous_row.id if self.previous_row else None, row.id))
        if change is not None:
            self.kept_changes.add(change.id)
            return
        if analysis is None and self.analyze is not None:
            analysis = self.analyze(self.previous, run.text)
        self.kept_changes.add(Store._add_change(self.session, self.doc, self.previous_row, row, analysis,
                                                run.first_seen, True))

    def fold(self) -> None:
        """Fold every version outside the runs into the run holding its first snapshot; hide other changes."""
        kept_rows = {row.id for row in self.run_of_snapshot.values()} | {row.id for row in self.run_rows}
        for row in self.rows.values():
            if row.id in kept_rows:
                continue
            firsts = self.session.scalars(
                select(SnapshotRow.sha256).join(VersionSnapshotRow, VersionSnapshotRow.snapshot_id == SnapshotRow.id)
                .where(VersionSnapshotRow.version_id == row.id).order_by(SnapshotRow.fetched_at, SnapshotRow.id)
            ).all()
            target = next((self.run_of_snapshot[sha] for sha in firsts if sha in self.run_of_snapshot), None)
            if target is not None and target.id != row.id:
                row.folded_into_id = target.id
        for change in self.changes:
            change.folded = change.id not in self.kept_changes


def _parts(snapshots: Sequence[Snapshot], starts: Sequence[int]) -> list[tuple[Snapshot, int | None]]:
    """Each snapshot with where its page begins in the text; no offsets for a one-page document."""
    if len(snapshots) < 2 or len(starts) != len(snapshots):
        return [(snapshot, None) for snapshot in snapshots]
    return list(zip(snapshots, starts, strict=True))


def _prepare(url: str, engine: Engine, *, create: bool) -> None:
    """Check (or with ``create``, create and migrate) the schema; driver errors become StoreErrors.

    The schema is read through a read-only engine, so a database that turns out
    not to be ours is left exactly as it was.
    """
    from store.migrate import schema_state, upgrade

    where = describe_url(url)
    path = _sqlite_path(engine)
    if path is not None and not create and not path.exists():
        raise StoreNotFoundError(f"no store at {where}: run `clausewatch init` to create one")
    if path is not None and create:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file where a folder of the path should be
            raise StoreUnavailableError(f"cannot create {where}: {exc.strerror}: {exc.filename}") from None
    checker = make_engine(url, read_only=True)
    try:
        state = schema_state(checker)
    except DBAPIError as exc:
        raise StoreUnavailableError(f"cannot use the database at {where}: {_reason(exc)}") from None
    finally:
        checker.dispose()
    _check_schema(state, where, create=create)
    try:
        if create and not state.up_to_date:
            upgrade(engine)
    except DBAPIError as exc:
        raise StoreUnavailableError(f"cannot use the database at {where}: {_reason(exc)}") from None


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


class _CurrentVersionMoved(Exception):
    """Another writer recorded a version while this one was analysing."""
