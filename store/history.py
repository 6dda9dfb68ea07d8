"""The history repository: reading a document's versions and snapshots.

Snapshots (raw bytes) and versions (normalised text) are separate records, as in
Open Terms Archive; a version points back to the snapshots it was extracted
from and can always be rebuilt from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from analysis.domain import Snapshot, StoredVersion
from store import mapping
from store.database import Database, UnknownDocumentError, chunks, document_row
from store.tables import (
    RECORDED_OUTCOMES,
    CaptureRecordRow,
    ChangeRow,
    ClauseRow,
    DocumentRow,
    FetchRow,
    SnapshotRow,
    VersionRow,
    VersionSnapshotRow,
)

# A stored version's pages and clauses, built once (every edit's analysis reads the previous version: decision
# 0014, twelfth pass). The clauses are read as the columns ``mapping.clause_from_row`` reads, not as ClauseRow
# objects: the mapper does not track ~80 rows the analysis only reads (most of the cost of reading the version).
_VERSION_PAGES = (select(SnapshotRow.sha256)
                  .join(VersionSnapshotRow, VersionSnapshotRow.snapshot_id == SnapshotRow.id)
                  .where(VersionSnapshotRow.version_id == bindparam("version_id"))
                  .order_by(SnapshotRow.fetched_at))
_VERSION_CLAUSES = (select(ClauseRow.ordinal, ClauseRow.heading_path, ClauseRow.text, ClauseRow.key, ClauseRow.types,
                           ClauseRow.severity, ClauseRow.confidence, ClauseRow.evidence, ClauseRow.basis,
                           ClauseRow.reason)
                    .where(ClauseRow.version_id == bindparam("version_id")).order_by(ClauseRow.ordinal))


def _validators(etag: str | None, last_modified: str | None, fetched_at: datetime) -> dict[str, str]:
    """The conditional request headers of a snapshot's validators. A Last-Modified later than the fetch that
    brought it (RFC 9110 §8.8.2.1 forbids one), or not a date, is not sent back: a server answering 304 to every
    If-Modified-Since before its year 2100 would hide every change for good."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified and _not_after(last_modified, fetched_at):
        headers["If-Modified-Since"] = last_modified
    return headers


def _not_after(http_date: str, moment: datetime) -> bool:
    try:
        stated = parsedate_to_datetime(http_date)
    except (TypeError, ValueError, IndexError, OverflowError):
        return False
    return (stated if stated.tzinfo else stated.replace(tzinfo=UTC)) <= moment


class History:
    """What the store holds of each document: versions, snapshots, the fetch sequence."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def conditional_headers(self, document_id: str) -> dict[str, str]:
        """If-None-Match / If-Modified-Since from the snapshot behind the current version."""
        with self.db.session() as session:
            doc = document_row(session, document_id)
            if doc.current_version_id is None:
                return {}
            snap = session.scalar(
                select(SnapshotRow)
                .join(VersionSnapshotRow, VersionSnapshotRow.snapshot_id == SnapshotRow.id)
                .where(VersionSnapshotRow.version_id == doc.current_version_id)
                .order_by(SnapshotRow.fetched_at.desc(), SnapshotRow.id.desc())
                .limit(1)
            )
            return _validators(snap.etag, snap.last_modified, snap.fetched_at) if snap is not None else {}

    def conditional_headers_for(self, document_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        """:meth:`conditional_headers` of many documents, in one query per thousand (a crawl asks for all at once)."""
        wanted = list(dict.fromkeys(document_ids))
        newest: dict[str, tuple[tuple[datetime, int], dict[str, str]]] = {}
        known: set[str] = set()
        with self.db.session() as session:
            for chunk in chunks(wanted):
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
                        newest[row.public_id] = (order, _validators(row.etag, row.last_modified, row.fetched_at))
        missing = [document_id for document_id in wanted if document_id not in known]
        if missing:
            raise UnknownDocumentError(missing[0])
        return {document_id: newest[document_id][1] if document_id in newest else {} for document_id in wanted}

    def current_version(self, document_id: str) -> StoredVersion | None:
        with self.db.session() as session:
            doc = document_row(session, document_id)
            if doc.current_version_id is None:
                return None
            return self.stored_version(session, session.get(VersionRow, doc.current_version_id), document_id)

    def versions(self, document_id: str, *, include_folded: bool = False) -> list[StoredVersion]:
        """Every version of a document in its history, oldest first (with ``include_folded``, the folded ones too)."""
        with self.db.session() as session:
            doc = document_row(session, document_id)
            query = select(VersionRow).where(VersionRow.document_id == doc.id)
            if not include_folded:
                query = query.where(VersionRow.folded_into_id.is_(None))
            rows = session.scalars(query.order_by(VersionRow.first_seen, VersionRow.id)).all()
            return [self.stored_version(session, row, document_id) for row in rows]


    def resolve_version(self, document_id: str, sha256: str) -> StoredVersion | None:
        """The version a hash stands for today: itself, or the version it was folded into."""
        with self.db.session() as session:
            doc = document_row(session, document_id)
            row = session.scalar(select(VersionRow).where(VersionRow.document_id == doc.id, VersionRow.sha256 == sha256))
            seen: set[int] = set()
            while row is not None and row.folded_into_id is not None and row.id not in seen:
                seen.add(row.id)
                row = session.get(VersionRow, row.folded_into_id)
            return self.stored_version(session, row, document_id) if row is not None else None

    def stored_version(self, session: Session, row: VersionRow, document_id: str) -> StoredVersion:
        snapshot_shas = tuple(session.scalars(_VERSION_PAGES, {"version_id": row.id}).all())
        clauses = session.execute(_VERSION_CLAUSES, {"version_id": row.id})
        return StoredVersion(
            version=mapping.version_from_row(row, document_id, snapshot_shas),
            text=self.db.blobs.get(row.sha256).decode("utf-8"),
            clauses=tuple(mapping.clause_from_row(c) for c in clauses),
        )

    def snapshots(self, document_id: str) -> list[Snapshot]:
        """Every distinct snapshot of a document, in capture order."""
        with self.db.session() as session:
            doc = document_row(session, document_id)
            rows = session.scalars(
                select(SnapshotRow).where(SnapshotRow.document_id == doc.id).order_by(SnapshotRow.fetched_at, SnapshotRow.id)
            ).all()
            return [mapping.snapshot_from_row(row, document_id) for row in rows]

    def count_never_fetched(self, document_ids: Sequence[str]) -> int:
        """How many of these documents were never fetched: their first text is still to come.

        A document whose fetches all failed has no version either, but a page that
        keeps failing (a dead URL, a browser document without Chromium) would count
        on every daily run: it says nothing of a text to analyse.
        """
        fetched = select(FetchRow.id).where(FetchRow.document_id == DocumentRow.id).exists()
        with self.db.session() as session:
            return sum(session.scalar(
                select(func.count()).select_from(DocumentRow)
                .where(DocumentRow.public_id.in_(chunk), DocumentRow.current_version_id.is_(None), ~fetched)) or 0
                for chunk in chunks(list(document_ids)))

    def current_head(self, document_id: str) -> tuple[str, int] | None:
        """The current version's text hash and length in characters, without loading its text.

        One query, and no document row: every fetch asks this first.
        """
        with self.db.session() as session:
            row = session.execute(
                select(DocumentRow.id, VersionRow.sha256, VersionRow.text_length)
                .outerjoin(VersionRow, VersionRow.id == DocumentRow.current_version_id)
                .where(DocumentRow.public_id == document_id)
            ).first()
        if row is None:
            raise UnknownDocumentError(document_id)
        return (row.sha256, row.text_length) if row.sha256 is not None else None

    def document_type(self, document_id: str) -> str:
        """The document's type in the catalog ("Terms of Service", "Privacy Policy"…)."""
        with self.db.session() as session:
            document_type = session.scalar(select(DocumentRow.type).where(DocumentRow.public_id == document_id))
        if document_type is None:
            raise UnknownDocumentError(document_id)
        return document_type

    def fetch_sequence(self, document_id: str) -> list[tuple[tuple[str, ...], datetime, int]]:
        """The pages (snapshot hashes, the primary first), time and id of every fetch that gave a text, in order.

        A snapshot is stored once per distinct bytes, so a fetch's pages are
        read from its capture records, one per HTTP exchange in order: those
        whose payload is a snapshot of the document. A fetch recorded before
        capture records existed has only its primary.
        """
        with self.db.session() as session:
            doc = document_row(session, document_id)
            fetches = session.execute(
                select(FetchRow.id, SnapshotRow.sha256, FetchRow.finished_at)
                .join(SnapshotRow, SnapshotRow.id == FetchRow.snapshot_id)
                .where(FetchRow.document_id == doc.id, FetchRow.outcome.in_(RECORDED_OUTCOMES))
                .order_by(FetchRow.finished_at, FetchRow.id)
            ).all()
            pages: dict[int, list[str]] = {}
            for fetch_id, sha in session.execute(
                    select(CaptureRecordRow.fetch_id, CaptureRecordRow.payload_sha256)
                    .join(FetchRow, FetchRow.id == CaptureRecordRow.fetch_id)
                    .join(SnapshotRow, (SnapshotRow.document_id == doc.id)
                          & (SnapshotRow.sha256 == CaptureRecordRow.payload_sha256))
                    .where(FetchRow.document_id == doc.id, FetchRow.outcome.in_(RECORDED_OUTCOMES),
                           CaptureRecordRow.hop.is_(False))  # a redirect followed to a page is not one
                    .order_by(CaptureRecordRow.fetch_id, CaptureRecordRow.part)):
                pages.setdefault(fetch_id, []).append(sha)
        sequence = []
        for fetch_id, primary, at in fetches:
            parts = tuple(pages.get(fetch_id, ()))
            sequence.append((parts if parts[:1] == (primary,) else (primary,), at, fetch_id))
        return sequence

    def history_shas(self, document_id: str) -> list[str]:
        """The version each shown change led to, in order: the document's history as it is shown."""
        with self.db.session() as session:
            doc = document_row(session, document_id)
            return list(session.scalars(
                select(VersionRow.sha256).join(ChangeRow, ChangeRow.to_version_id == VersionRow.id)
                .where(ChangeRow.document_id == doc.id, ChangeRow.folded.is_(False))
                .order_by(ChangeRow.detected_at, ChangeRow.id)
            ))

    def fetched_in_run(self, document_id: str, run_id: str) -> bool:
        """Whether a fetch of this document made under this run id is recorded (a re-claimed queue entry)."""
        with self.db.session() as session:
            found = session.scalar(
                select(FetchRow.id).join(DocumentRow, DocumentRow.id == FetchRow.document_id)
                .where(DocumentRow.public_id == document_id, FetchRow.run_id == run_id).limit(1)
            )
        return found is not None
