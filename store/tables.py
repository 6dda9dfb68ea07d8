"""SQLAlchemy 2 models of the store (SPEC §2). The schema itself is owned by
the Alembic migrations in ``store/migrations``; a test keeps the two equal.

These rows are never handed out of ``store/``: ``store/mapping.py`` turns them
into the frozen dataclasses of ``analysis.domain``.

No ``from __future__ import annotations`` here: SQLAlchemy reads every ``Mapped[...]``
annotation, and evaluated strings again (two ``eval`` per column, ~3 ms of every command
that opens a store, decision 0014); the two forward references are quoted instead.
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from store.errors import CorruptValueError

# Explicit constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _read_or_refuse(processor: Any, what: str) -> Any:
    """``processor``, with a value it cannot read (a database edited or damaged by hand: "garbage" where a date
    should be) a :class:`CorruptValueError` naming it, not a ``ValueError`` traceback from deep in SQLAlchemy."""
    if processor is None:
        return None

    def process(value: Any) -> Any:
        try:
            return processor(value)
        except (ValueError, TypeError) as exc:
            shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
            raise CorruptValueError(f"the store holds {shown} where {what} should be ({exc}): the database was "
                                    "edited or damaged outside clausewatch") from None

    return process


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite keeps no zone, PostgreSQL would convert."""

    impl = DateTime
    cache_ok = True

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        return _read_or_refuse(super().result_processor(dialect, coltype), "a date and time")

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to the store; use UTC-aware datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


class StoredJSON(TypeDecorator[Any]):
    """JSON, with a value that is no JSON named (:func:`_read_or_refuse`); the schema's type is JSON itself."""

    impl = JSON
    cache_ok = True

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        return _read_or_refuse(super().result_processor(dialect, coltype), "JSON")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class PlatformRow(Base):
    __tablename__ = "platforms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    homepage: Mapped[str | None] = mapped_column(String(2000))
    jurisdictions: Mapped[list[str]] = mapped_column(StoredJSON, default=list)
    tags: Mapped[list[str]] = mapped_column(StoredJSON, default=list)

    documents: Mapped[list["DocumentRow"]] = relationship(back_populates="platform")


class DocumentRow(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(20), unique=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id"), index=True)
    type: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(2000))
    spec: Mapped[dict[str, Any]] = mapped_column(StoredJSON)
    fetcher: Mapped[str] = mapped_column(String(20), default="http")
    schedule_group: Mapped[str] = mapped_column(String(100), default="default")
    tags: Mapped[list[str]] = mapped_column(StoredJSON, default=list)
    in_catalog: Mapped[bool] = mapped_column(Boolean, default=True)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("versions.id", use_alter=True), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # What the last text recorded from a fetch was extracted from (crawler.extraction_key) and its hash:
    # a later fetch with the same key has that text, without extracting it again (decision 0014).
    extraction_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    extraction_text_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)

    platform: Mapped["PlatformRow"] = relationship(back_populates="documents")
    __table_args__ = (UniqueConstraint("platform_id", "type", name="uq_documents_platform_type"),)


class SnapshotRow(Base):
    __tablename__ = "snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    requested_url: Mapped[str] = mapped_column(String(2000))
    final_url: Mapped[str] = mapped_column(String(2000))
    status: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(200))
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    fetcher: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(Integer)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("document_id", "sha256", name="uq_snapshots_document_sha256"),)


class VersionRow(Base):
    __tablename__ = "versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_verified: Mapped[datetime] = mapped_column(UTCDateTime)
    stated_date: Mapped[str | None] = mapped_column(String(40))
    stated_date_label: Mapped[str | None] = mapped_column(String(60))
    technical: Mapped[bool] = mapped_column(Boolean, default=False)
    text_length: Mapped[int] = mapped_column(Integer)
    analyzed_with: Mapped[str | None] = mapped_column(String(100))
    # ISO 639-1 code of the detected language ("en", "de"); None until detected.
    language: Mapped[str | None] = mapped_column(String(16))
    # Set when ``reprocess`` found this version equal to another under a newer
    # normalisation: it leaves the history, its hash still resolves to that one.
    folded_into_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"), nullable=True)

    __table_args__ = (UniqueConstraint("document_id", "sha256", name="uq_versions_document_sha256"),)


class VersionSnapshotRow(Base):
    __tablename__ = "version_snapshots"

    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id"), primary_key=True)
    # For a document combined from several pages: the character offset in the
    # version's text where this snapshot's page begins (None for one page).
    text_start: Mapped[int | None] = mapped_column(Integer, nullable=True)


# The outcomes of a fetch whose pages were archived (a 304 archived no payload; a failure, perhaps an error page).
RECORDED_OUTCOMES = ("new_version", "unchanged")


class FetchRow(Base):
    __tablename__ = "fetches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(20))
    error_kind: Mapped[str | None] = mapped_column(String(40))
    error_detail: Mapped[str | None] = mapped_column(Text)
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("snapshots.id"))
    version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"))
    run_id: Mapped[str | None] = mapped_column(String(64))
    # Set when the document's history was rebuilt: the version this fetch reads as now (``version_id`` stays the
    # one it recorded, as the capture log says). No foreign key: adding one makes SQLite copy the table (0010).
    read_as_version_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_fetches_document_finished", "document_id", "finished_at"),)


class ClauseRow(Base):
    __tablename__ = "clauses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id", ondelete="CASCADE"))
    ordinal: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(64))
    heading_path: Mapped[list[str]] = mapped_column(StoredJSON)
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    types: Mapped[list[str]] = mapped_column(StoredJSON, default=list)
    severity: Mapped[str | None] = mapped_column(String(10))
    confidence: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[list[str]] = mapped_column(StoredJSON, default=list)
    basis: Mapped[str | None] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("version_id", "ordinal", name="uq_clauses_version_ordinal"),)


class ProvisionRow(Base):
    __tablename__ = "provisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(20), unique=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    clause_type: Mapped[str] = mapped_column(String(60))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("document_id", "clause_type", name="uq_provisions_document_type"),)


class ChangeRow(Base):
    __tablename__ = "changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    from_version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"))
    to_version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    substantive: Mapped[bool] = mapped_column(Boolean, default=True)
    severity_raised: Mapped[bool] = mapped_column(Boolean, default=False)
    cosmetic_reason: Mapped[str | None] = mapped_column(String(200))
    technical: Mapped[bool] = mapped_column(Boolean, default=False)
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A change between versions that a reprocess folded together: kept, not shown.
    folded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ClauseChangeRow(Base):
    __tablename__ = "clause_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id", ondelete="CASCADE"), index=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    clause_key: Mapped[str] = mapped_column(String(64))
    heading_path: Mapped[list[str]] = mapped_column(StoredJSON)
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    severity_before: Mapped[str | None] = mapped_column(String(10))
    severity_after: Mapped[str | None] = mapped_column(String(10))
    similarity: Mapped[float | None] = mapped_column(Float)
    # The facts that moved: [{"fact", "label", "before", "after", "against_user"}].
    facts: Mapped[list[dict[str, Any]] | None] = mapped_column(StoredJSON)


class VolatileValueRow(Base):
    """A query parameter or line template of a document seen to change on every fetch (decision 0016).

    ``candidate`` while it is being watched (``observations`` consecutive
    fetches changed only it; ``held_text_sha256`` is the last such text),
    ``learned`` once confirmed: versions are then normalised without it.
    """

    __tablename__ = "volatile_values"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    kind: Mapped[str] = mapped_column(String(10))
    value: Mapped[str] = mapped_column(String(1000))
    state: Mapped[str] = mapped_column(String(10))
    observations: Mapped[int] = mapped_column(Integer)
    held_text_sha256: Mapped[str | None] = mapped_column(String(64))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("document_id", "kind", "value", name="uq_volatile_values_document_kind_value"),)


class JobRunRow(Base):
    """One run of a scheduled job (``schedules.yaml``): when, by whom, and how it ended."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    holder: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(20))
    counts: Mapped[dict[str, Any]] = mapped_column(StoredJSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_job_runs_job_started", "job_id", "started_at"),)


class JobLeaseRow(Base):
    """Who runs a job right now: one row per running job, held until ``expires_at``."""

    __tablename__ = "job_leases"

    job_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CaptureRecordRow(Base):
    """The WARC identity of one HTTP exchange of a fetch; the payload is the snapshot blob (a redirect's body, for a
    ``hop``). ``part`` is the exchange's place in the fetch, its redirects before each page."""

    __tablename__ = "capture_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fetch_id: Mapped[int] = mapped_column(ForeignKey("fetches.id"))
    part: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(String(2000))
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime)
    request_record_id: Mapped[str] = mapped_column(String(64))
    request_head: Mapped[bytes] = mapped_column(LargeBinary)
    record_id: Mapped[str | None] = mapped_column(String(64))
    record_type: Mapped[str | None] = mapped_column(String(20))
    response_head: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[int | None] = mapped_column(Integer)
    payload_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    profile: Mapped[str | None] = mapped_column(String(200))
    refers_to_record_id: Mapped[str | None] = mapped_column(String(64))
    refers_to_uri: Mapped[str | None] = mapped_column(String(2000))
    refers_to_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    conversion_record_id: Mapped[str | None] = mapped_column(String(64))
    conversion_sha256: Mapped[str | None] = mapped_column(String(64))
    # A redirect the fetch followed on its way to a page (a 3xx, or a refresh): archived, never a page of the document.
    hop: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (UniqueConstraint("fetch_id", "part", name="uq_capture_records_fetch_part"),)


class LogEntryRow(Base):
    """One leaf of the capture log: a Fetch, by its position (``id`` is the log index, from 0)."""

    __tablename__ = "log_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    fetch_id: Mapped[int] = mapped_column(ForeignKey("fetches.id"), unique=True)
    leaf: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[str] = mapped_column(String(64))


class TreeHeadRow(Base):
    """A signed tree head of the capture log (RFC 6962 style), one per crawl run."""

    __tablename__ = "tree_heads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    root: Mapped[str] = mapped_column(String(64))
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)
    signature: Mapped[str] = mapped_column(String(128))
    key_id: Mapped[str] = mapped_column(String(64))
    # The log's frontier at this size (analysis.merkle.frontier), hex hashes joined by commas: the next head starts
    # from it. None for a head signed before revision 0011.
    frontier: Mapped[str | None] = mapped_column(Text, nullable=True)


class NotificationClaimRow(Base):
    """One notification some host took on: a change to alert, a failure streak, a one-off import.

    The unique key makes claiming atomic across hosts; ``sent_at`` stays empty
    while the claimant is still delivering (a claim left so by a crash expires).
    """

    __tablename__ = "notification_claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(300))
    holder: Mapped[str] = mapped_column(String(200))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("kind", "key", name="uq_notification_claims_kind_key"),)
