"""The capture a citation names: which fetch of the cited version, which page of that fetch, and its log entry.

A citation without a date (a version's page, a record's page) names the capture that first recorded the version,
the one its evidence bundle proves. A citation of a date names the latest capture, by that date, of a page that
read as the version then in force: never a capture made after the date, nor one of another period of the same text
(A, then B, then A again). Of that fetch it names the page the provision's clauses came from (a document combined
from several pages), else the first; its URL, time and payload are that page's in that very fetch, so the snapshot,
the time and the log entry a citation prints always belong together (decision 0012).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store import mapping
from store.capture_log import CaptureLog
from store.database import document_row
from store.repository import Store
from store.site_data import clause_starts, version_text
from store.tables import (
    CaptureRecordRow,
    ClauseRow,
    FetchRow,
    LogEntryRow,
    SnapshotRow,
    VersionRow,
    VersionSnapshotRow,
)

_RECORDED = ("new_version", "unchanged")  # a fetch whose pages were archived (a 304 archived no payload)


@dataclass(frozen=True)
class CitedCapture:
    """One page of one logged fetch, as a citation prints it."""

    log_index: int
    url: str
    captured_at: datetime
    snapshot_sha256: str | None


class CitedCaptures:
    """Finds the captures citations name, for one reading of a store (a site build, a `show`)."""

    def __init__(self, store: Store):
        self.store = store
        self._first: dict[tuple[str, str], int] | None = None

    def first(self, document_id: str, version_sha256: str, part: int = 0) -> CitedCapture | None:
        """Page ``part`` of the capture that first recorded the version (None: no logged capture of it)."""
        if self._first is None:  # one query for a whole build
            self._first = CaptureLog(self.store).first_log_index_by_version()
        index = self._first.get((document_id, version_sha256))
        with self.store.session() as session:
            if index is None:  # a version rebuilt by `reprocess` that no crawl recorded since: the first page read as it
                index = _reading_capture(session, document_id, version_sha256, None)
            return None if index is None else _page_of(session, index, part)

    def at(self, document_id: str, version_sha256: str, moment: datetime, part: int = 0) -> CitedCapture | None:
        """Page ``part`` of the latest capture by ``moment`` that read as the version (None: none did)."""
        with self.store.session() as session:
            index = _reading_capture(session, document_id, version_sha256, moment)
            return None if index is None else _page_of(session, index, part)

    def part_of(self, document_id: str, version_sha256: str, clause_type: str) -> int:
        """Which page of the document the version's first clause of ``clause_type`` came from (0 for a document of
        one page, or a clause that cannot be placed)."""
        with self.store.session() as session:
            doc = document_row(session, document_id)
            version = session.scalar(select(VersionRow.id).where(VersionRow.document_id == doc.id,
                                                                 VersionRow.sha256 == version_sha256))
            starts = sorted(set(session.scalars(
                select(VersionSnapshotRow.text_start).where(VersionSnapshotRow.version_id == version,
                                                            VersionSnapshotRow.text_start.is_not(None)))))
            if len(starts) < 2:
                return 0
            clauses = [mapping.clause_from_row(row) for row in session.scalars(
                select(ClauseRow).where(ClauseRow.version_id == version).order_by(ClauseRow.ordinal))]
        chosen = [c for c in clauses if clause_type in c.classification.types]
        if not chosen:
            return 0
        position = clause_starts(version_text(self.store, version_sha256), clauses).get(chosen[0].clause.key)
        if position is None:
            return 0
        return max(index for index, start in enumerate(starts) if start <= position or index == 0)


def _reading_capture(session: Session, document_id: str, version_sha256: str, moment: datetime | None) -> int | None:
    """The log index of the latest fetch by ``moment`` (None: the first fetch ever) whose pages were archived and
    that reads as this version: the one it recorded, or after a rebuild the one it reads as now."""
    doc = document_row(session, document_id)
    reading = func.coalesce(FetchRow.read_as_version_id, FetchRow.version_id)
    query = (select(LogEntryRow.id).join(FetchRow, FetchRow.id == LogEntryRow.fetch_id)
             .join(VersionRow, VersionRow.id == reading)
             .where(FetchRow.document_id == doc.id, VersionRow.sha256 == version_sha256,
                    FetchRow.outcome.in_(_RECORDED), FetchRow.snapshot_id.is_not(None)))
    if moment is None:
        return session.scalar(query.order_by(LogEntryRow.id).limit(1))
    return session.scalar(query.where(FetchRow.finished_at <= moment).order_by(LogEntryRow.id.desc()).limit(1))


def _page_of(session: Session, index: int, part: int) -> CitedCapture | None:
    """Page ``part`` of the fetch logged at ``index`` (its first page if it has no such part)."""
    rows = session.execute(
        select(CaptureRecordRow.part, CaptureRecordRow.url, CaptureRecordRow.captured_at,
               CaptureRecordRow.payload_sha256, CaptureRecordRow.refers_to_record_id)
        .join(LogEntryRow, LogEntryRow.fetch_id == CaptureRecordRow.fetch_id)
        .where(LogEntryRow.id == index).order_by(CaptureRecordRow.part)).all()
    if not rows:
        return _primary_page(session, index)
    row = next((r for r in rows if r.part == part), rows[0])
    payload = row.payload_sha256
    if payload is None and row.refers_to_record_id is not None:  # a revisit naming the response that holds it
        payload = session.scalar(select(CaptureRecordRow.payload_sha256)
                                 .where(CaptureRecordRow.record_id == row.refers_to_record_id))
    return CitedCapture(index, row.url, row.captured_at, payload)


def _primary_page(session: Session, index: int) -> CitedCapture | None:
    """A fetch logged before its exchanges were kept: its first page's snapshot, at the fetch's end."""
    row = session.execute(select(SnapshotRow.requested_url, FetchRow.finished_at, SnapshotRow.sha256)
                          .join(FetchRow, FetchRow.snapshot_id == SnapshotRow.id)
                          .join(LogEntryRow, LogEntryRow.fetch_id == FetchRow.id)
                          .where(LogEntryRow.id == index)).first()
    return None if row is None else CitedCapture(index, row[0], row[1], row[2])
