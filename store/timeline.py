"""Time-travel queries: every version of a document with its captures, and what was in force when.

The periods a version was in force come from the document's successful fetches
(``analysis.timeline``): each fetch names the version it produced or confirmed.
A ``reprocess`` re-reads stored snapshots with a newer extractor and records
the result as a *technical* version; a version re-read that way is superseded
by its re-reading everywhere in the timeline, so the text in force at a date
is always today's best reading of what was captured then (decision 0012).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.domain import ClassifiedClause, Snapshot
from analysis.timeline import Capture, Period, in_force_at, periods_of
from store import mapping
from store.database import StoreError, document_row
from store.repository import Store
from store.tables import ClauseRow, DocumentRow, FetchRow, ProvisionRow, SnapshotRow, VersionRow, VersionSnapshotRow


class UnknownRecordError(StoreError):
    """No provision record has the id asked for."""


@dataclass(frozen=True)
class VersionRecord:
    """A version as its own page shows it: hashes, snapshots and every fetch that produced it."""

    sha256: str
    first_seen: datetime
    last_verified: datetime
    stated_date: str | None
    technical: bool
    analyzed_with: str | None
    text_length: int
    snapshots: tuple[Snapshot, ...]  # capture order
    capture_count: int  # successful fetches recorded with this version
    last_capture: datetime | None
    superseded_by: str | None = None  # the technical re-reading that replaced it, if any


@dataclass(frozen=True)
class DocumentTimeline:
    document_id: str
    versions: tuple[VersionRecord, ...]  # oldest first
    periods: tuple[Period, ...]

    def version(self, sha256: str) -> VersionRecord:
        return next(v for v in self.versions if v.sha256 == sha256)

    def in_force(self, moment: datetime) -> tuple[Period, VersionRecord]:
        """The period and version in force at ``moment`` (:class:`NotYetCapturedError` before any capture)."""
        period = in_force_at(self.periods, moment)
        return period, self.version(period.version)

    @property
    def first_capture(self) -> datetime | None:
        return self.periods[0].start if self.periods else None


def load_timelines(store: Store) -> dict[str, DocumentTimeline]:
    """The timeline of every document of the store, keyed by document id, in a few bulk queries."""
    with store.session() as session:
        return _timelines(session, None)


def document_timeline(store: Store, document_id: str) -> DocumentTimeline:
    """One document's timeline; :class:`UnknownDocumentError` for an unknown id."""
    with store.session() as session:
        row = document_row(session, document_id)
        return _timelines(session, row.id)[document_id]


def provision_of(store: Store, record_id: str) -> tuple[str, str]:
    """(document id, clause type) of a provision record."""
    with store.session() as session:
        found = session.execute(
            select(DocumentRow.public_id, ProvisionRow.clause_type)
            .join(DocumentRow, DocumentRow.id == ProvisionRow.document_id)
            .where(ProvisionRow.public_id == record_id)
        ).first()
    if found is None:
        raise UnknownRecordError(f"no provision record {record_id!r} in the store")
    return found[0], found[1]


def version_captures(store: Store, document_id: str, sha256: str) -> tuple[datetime, ...]:
    """When every successful fetch recorded with this version finished, oldest first."""
    with store.session() as session:
        doc = document_row(session, document_id)
        return tuple(session.scalars(
            select(FetchRow.finished_at)
            .join(VersionRow, VersionRow.id == FetchRow.version_id)
            .where(VersionRow.document_id == doc.id, VersionRow.sha256 == sha256)
            .order_by(FetchRow.finished_at, FetchRow.id)
        ))


def clauses_by_version(store: Store, document_id: str) -> dict[str, tuple[ClassifiedClause, ...]]:
    """The classified clauses of every version of a document, by version SHA-256, in text order."""
    with store.session() as session:
        doc = document_row(session, document_id)
        rows = session.execute(
            select(VersionRow.sha256, ClauseRow)
            .join(ClauseRow, ClauseRow.version_id == VersionRow.id)
            .where(VersionRow.document_id == doc.id)
            .order_by(VersionRow.id, ClauseRow.ordinal)
        )
        found: dict[str, list[ClassifiedClause]] = defaultdict(list)
        for sha, clause in rows:
            found[sha].append(mapping.clause_from_row(clause))
    return {sha: tuple(clauses) for sha, clauses in found.items()}


# --- Loading -------------------------------------------------------------------
#
# A build reads the store once for every document, so nothing here loads one
# row per fetch: the periods come from the fetches where the version changed
# (a window query) and the captures of each version are counted in SQL. The
# list of a version's captures is read only for the page that shows it.


def _timelines(session: Session, document_pk: int | None) -> dict[str, DocumentTimeline]:
    docs = select(DocumentRow.id, DocumentRow.public_id)
    versions = select(VersionRow).order_by(VersionRow.first_seen, VersionRow.id)
    if document_pk is not None:
        docs = docs.where(DocumentRow.id == document_pk)
        versions = versions.where(VersionRow.document_id == document_pk)
    public_ids = dict(session.execute(docs).all())
    version_rows = session.scalars(versions).all()
    shas = {row.id: row.sha256 for row in version_rows}
    superseded = _rereadings(session, {row.id for row in version_rows if row.technical}, document_pk)
    counts = _capture_counts(session, document_pk)
    snapshots = _snapshots_by_version(session, public_ids, document_pk)
    by_doc: dict[int, list[VersionRecord]] = defaultdict(list)
    for row in version_rows:
        count, last = counts.get(row.id, (0, None))
        by_doc[row.document_id].append(VersionRecord(
            sha256=row.sha256, first_seen=row.first_seen, last_verified=row.last_verified,
            stated_date=row.stated_date, technical=row.technical, analyzed_with=row.analyzed_with,
            text_length=row.text_length, snapshots=tuple(snapshots.get(row.id, ())),
            capture_count=count, last_capture=last,
            superseded_by=shas[superseded[row.id]] if row.id in superseded else None,
        ))
    # A history rebuilt since fetches record what they read as reads fetch by fetch; one rebuilt before reads each
    # version recorded from a snapshot as the newest technical version that re-read it (``superseded``).
    starts: dict[int, list[Capture]] = defaultdict(list)
    for doc_pk, finished, version_id, read_as, read_fetch_by_fetch in _version_starts(session, document_pk):
        if read_as is not None:
            read = read_as
        elif read_fetch_by_fetch:
            read = version_id
        else:
            read = superseded.get(version_id, version_id)
        starts[doc_pk].append(Capture(finished, shas[read]))
    return {
        public_id: DocumentTimeline(public_id, tuple(by_doc.get(pk, ())), periods_of(starts.get(pk, ())))
        for pk, public_id in public_ids.items()
    }


def _version_starts(session: Session,
                    document_pk: int | None) -> list[tuple[int, datetime, int, int | None, bool]]:
    """(document, finished at, version recorded, version read as, whether a rebuild recorded the document's
    readings fetch by fetch) of each successful fetch whose reading differs from the one before (the version it
    reads as after a rebuild, else the one it recorded)."""
    window = {"partition_by": FetchRow.document_id}
    reading = func.coalesce(FetchRow.read_as_version_id, FetchRow.version_id)
    previous = func.lag(reading).over(**window, order_by=(FetchRow.finished_at, FetchRow.id))
    rebuilt = func.count(FetchRow.read_as_version_id).over(**window)
    ordered = (select(FetchRow.document_id, FetchRow.finished_at, FetchRow.id, FetchRow.version_id,
                      FetchRow.read_as_version_id, reading.label("reading"), previous.label("previous"),
                      rebuilt.label("rebuilt"))
               .where(FetchRow.version_id.is_not(None)))
    if document_pk is not None:
        ordered = ordered.where(FetchRow.document_id == document_pk)
    ordered = ordered.subquery()
    query = (select(ordered.c.document_id, ordered.c.finished_at, ordered.c.version_id, ordered.c.read_as_version_id,
                    ordered.c.rebuilt > 0)
             .where(ordered.c.previous.is_(None) | (ordered.c.previous != ordered.c.reading))
             .order_by(ordered.c.document_id, ordered.c.finished_at, ordered.c.id))
    return [tuple(row) for row in session.execute(query)]


def _capture_counts(session: Session, document_pk: int | None) -> dict[int, tuple[int, datetime]]:
    query = (select(FetchRow.version_id, func.count(), func.max(FetchRow.finished_at))
             .where(FetchRow.version_id.is_not(None)).group_by(FetchRow.version_id))
    if document_pk is not None:
        query = query.where(FetchRow.document_id == document_pk)
    # max() keeps the column's type, so the time comes back UTC-aware as every other
    return {version_id: (count, last) for version_id, count, last in session.execute(query)}


def _snapshots_by_version(session: Session, public_ids: dict[int, str], document_pk: int | None) -> dict[int, list[Snapshot]]:
    query = (select(VersionSnapshotRow.version_id, SnapshotRow)
             .join(SnapshotRow, VersionSnapshotRow.snapshot_id == SnapshotRow.id)
             .order_by(SnapshotRow.fetched_at, SnapshotRow.id))
    if document_pk is not None:
        query = query.where(SnapshotRow.document_id == document_pk)
    result: dict[int, list[Snapshot]] = defaultdict(list)
    for version_id, snap in session.execute(query):
        result[version_id].append(mapping.snapshot_from_row(snap, public_ids[snap.document_id]))
    return result


def _rereadings(session: Session, technical: set[int], document_pk: int | None) -> dict[int, int]:
    """Version id -> the newest technical version that re-read one of its snapshots.

    A technical version (``reprocess``) linked to a snapshot re-reads it: every
    version recorded before it from that snapshot is superseded by it.
    """
    if not technical:
        return {}
    query = select(VersionSnapshotRow.version_id, VersionSnapshotRow.snapshot_id)
    if document_pk is not None:
        query = query.join(SnapshotRow, SnapshotRow.id == VersionSnapshotRow.snapshot_id).where(
            SnapshotRow.document_id == document_pk)
    readers: dict[int, list[int]] = defaultdict(list)
    for version_id, snapshot_id in session.execute(query):
        readers[snapshot_id].append(version_id)
    replaced: dict[int, int] = {}
    for versions in readers.values():
        newest = max((v for v in versions if v in technical), default=None)
        for version_id in versions:
            if newest is not None and version_id < newest:
                replaced[version_id] = max(replaced.get(version_id, newest), newest)
    return replaced
