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
from store.database import chunks, document_row
from store.repository import Store
from store.site_data import clause_starts, version_text
from store.tables import (
    RECORDED_OUTCOMES,
    CaptureRecordRow,
    ClauseRow,
    DocumentRow,
    FetchRow,
    LogEntryRow,
    SnapshotRow,
    VersionRow,
    VersionSnapshotRow,
)


@dataclass(frozen=True)
class CitedCapture:
    """One page of one logged fetch, as a citation prints it."""

    log_index: int
    url: str
    captured_at: datetime
    snapshot_sha256: str | None


class CitedCaptures:
    """Finds the captures citations name, for one reading of a store (a site build, a `show`).

    The first capture of every version, and the pages of those fetches, are read in a few queries the first time
    one is asked for: a site build cites every version and record without a query per page.
    """

    def __init__(self, store: Store):
        self.store = store
        self._first: dict[tuple[str, str], int] | None = None
        self._pages: dict[int, list[CitedCapture]] = {}  # log index -> the fetch's pages, in part order
        self._readings: tuple[str, list[tuple[datetime, int, str]]] | None = None  # one document's, by time
        self._starts: dict[tuple[str, str], list[int]] | None = None  # where the pages of each version begin

    def first(self, document_id: str, version_sha256: str, part: int = 0) -> CitedCapture | None:
        """Page ``part`` of the capture that first recorded the version (None: no logged capture of it)."""
        if self._first is None:
            self._first = CaptureLog(self.store).first_log_index_by_version()
            with self.store.session() as session:
                self._pages.update(_pages_of(session, sorted(set(self._first.values()))))
        index = self._first.get((document_id, version_sha256))
        if index is None:  # a version rebuilt by `reprocess` that no crawl recorded since: the first page read as it
            with self.store.session() as session:
                index = _first_reading(session, document_id, version_sha256)
        return None if index is None else self._page(index, part)

    def at(self, document_id: str, version_sha256: str, moment: datetime, part: int = 0) -> CitedCapture | None:
        """Page ``part`` of the latest capture by ``moment`` that read as the version (None: none did)."""
        if self._readings is None or self._readings[0] != document_id:  # a build cites one document after another
            with self.store.session() as session:
                self._readings = (document_id, _readings(session, document_id))
        index = None
        for finished_at, logged, read_as in self._readings[1]:
            if finished_at > moment:
                break
            if read_as == version_sha256:
                index = logged
        return None if index is None else self._page(index, part)

    def _page(self, index: int, part: int) -> CitedCapture | None:
        """Page ``part`` of the fetch logged at ``index`` (its first page if it has no such part)."""
        if index not in self._pages:
            with self.store.session() as session:
                self._pages.update(_pages_of(session, [index]))
        pages = self._pages.get(index, [])
        return pages[part] if part < len(pages) else (pages[0] if pages else None)

    def part_of(self, document_id: str, version_sha256: str, clause_type: str) -> int:
        """Which page of the document the version's first clause of ``clause_type`` came from (0 for a document of
        one page, or a clause that cannot be placed)."""
        if self._starts is None:
            with self.store.session() as session:
                self._starts = _page_starts(session)
        starts = self._starts.get((document_id, version_sha256), [])
        if len(starts) < 2:
            return 0
        with self.store.session() as session:
            doc = document_row(session, document_id)
            clauses = [mapping.clause_from_row(row) for row in session.scalars(
                select(ClauseRow).join(VersionRow, VersionRow.id == ClauseRow.version_id)
                .where(VersionRow.document_id == doc.id, VersionRow.sha256 == version_sha256)
                .order_by(ClauseRow.ordinal))]
        chosen = [c for c in clauses if clause_type in c.classification.types]
        if not chosen:
            return 0
        position = clause_starts(version_text(self.store, version_sha256), clauses).get(chosen[0].clause.key)
        if position is None:
            return 0
        return max(index for index, start in enumerate(starts) if start <= position or index == 0)


def _page_starts(session: Session) -> dict[tuple[str, str], list[int]]:
    """(document id, version SHA-256) -> where each of its pages begins in its text, for the versions of
    documents combined from several pages."""
    found: dict[tuple[str, str], set[int]] = {}
    for document_id, sha256, start in session.execute(
            select(DocumentRow.public_id, VersionRow.sha256, VersionSnapshotRow.text_start)
            .join(VersionRow, VersionRow.id == VersionSnapshotRow.version_id)
            .join(DocumentRow, DocumentRow.id == VersionRow.document_id)
            .where(VersionSnapshotRow.text_start.is_not(None))):
        found.setdefault((document_id, sha256), set()).add(start)
    return {key: sorted(starts) for key, starts in found.items()}


def _readings(session: Session, document_id: str) -> list[tuple[datetime, int, str]]:
    """(finished at, log index, version read as) of every logged fetch of the document whose pages were archived,
    in time order: the version it recorded or, after a rebuild, the one it reads as now."""
    doc = document_row(session, document_id)
    reading = func.coalesce(FetchRow.read_as_version_id, FetchRow.version_id)
    return [tuple(row) for row in session.execute(
        select(FetchRow.finished_at, LogEntryRow.id, VersionRow.sha256)
        .join(LogEntryRow, LogEntryRow.fetch_id == FetchRow.id).join(VersionRow, VersionRow.id == reading)
        .where(FetchRow.document_id == doc.id, FetchRow.outcome.in_(RECORDED_OUTCOMES),
               FetchRow.snapshot_id.is_not(None))
        .order_by(FetchRow.finished_at, LogEntryRow.id))]


def _first_reading(session: Session, document_id: str, version_sha256: str) -> int | None:
    """The log index of the first fetch whose pages were archived that reads as this version now (after a rebuild,
    a fetch that recorded another version)."""
    doc = document_row(session, document_id)
    reading = func.coalesce(FetchRow.read_as_version_id, FetchRow.version_id)
    return session.scalar(
        select(LogEntryRow.id).join(FetchRow, FetchRow.id == LogEntryRow.fetch_id)
        .join(VersionRow, VersionRow.id == reading)
        .where(FetchRow.document_id == doc.id, VersionRow.sha256 == version_sha256,
               FetchRow.outcome.in_(RECORDED_OUTCOMES), FetchRow.snapshot_id.is_not(None))
        .order_by(LogEntryRow.id).limit(1))


def _pages_of(session: Session, indexes: list[int]) -> dict[int, list[CitedCapture]]:
    """The pages of the fetches logged at ``indexes``, each in part order (the redirects followed to them are
    not pages); a fetch logged before its exchanges were kept has its first page's snapshot, at the fetch's end."""
    found: dict[int, list[CitedCapture]] = {}
    for chunk in chunks(indexes):
        rows = session.execute(
            select(LogEntryRow.id, CaptureRecordRow.url, CaptureRecordRow.captured_at,
                   CaptureRecordRow.payload_sha256)
            .join(CaptureRecordRow, CaptureRecordRow.fetch_id == LogEntryRow.fetch_id)
            .where(LogEntryRow.id.in_(chunk), CaptureRecordRow.hop.is_(False))
            .order_by(LogEntryRow.id, CaptureRecordRow.part))
        for index, url, captured_at, payload in rows:
            found.setdefault(index, []).append(CitedCapture(index, url, captured_at, payload))
        for index in set(chunk) - set(found):
            if (page := _primary_page(session, index)) is not None:
                found[index] = [page]
    return found


def _primary_page(session: Session, index: int) -> CitedCapture | None:
    """A fetch logged before its exchanges were kept: its first page's snapshot, at the fetch's end."""
    row = session.execute(select(SnapshotRow.requested_url, FetchRow.finished_at, SnapshotRow.sha256)
                          .join(FetchRow, FetchRow.snapshot_id == SnapshotRow.id)
                          .join(LogEntryRow, LogEntryRow.fetch_id == FetchRow.id)
                          .where(LogEntryRow.id == index)).first()
    return None if row is None else CitedCapture(index, row[0], row[1], row[2])
