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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.domain import ClassifiedClause, Snapshot
from analysis.timeline import Capture, Period, in_force_at, periods_of
from store import mapping
from store.models import ClauseRow, DocumentRow, FetchRow, ProvisionRow, SnapshotRow, VersionRow, VersionSnapshotRow
from store.repository import Store, StoreError


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
    captures: tuple[datetime, ...]  # every successful fetch recorded with this version, oldest first
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
        row = Store._document_row(session, document_id)
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


def clauses_by_version(store: Store, document_id: str) -> dict[str, tuple[ClassifiedClause, ...]]:
    """The classified clauses of every version of a document, by version SHA-256, in text order."""
    with store.session() as session:
        doc = Store._document_row(session, document_id)
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


def _timelines(session: Session, document_pk: int | None) -> dict[str, DocumentTimeline]:
    docs = select(DocumentRow.id, DocumentRow.public_id)
    versions = select(VersionRow).order_by(VersionRow.first_seen, VersionRow.id)
    fetches = (select(FetchRow.document_id, FetchRow.id, FetchRow.finished_at, FetchRow.snapshot_id, FetchRow.version_id)
               .where(FetchRow.version_id.is_not(None)).order_by(FetchRow.id))
    if document_pk is not None:
        docs = docs.where(DocumentRow.id == document_pk)
        versions = versions.where(VersionRow.document_id == document_pk)
        fetches = fetches.where(FetchRow.document_id == document_pk)
    public_ids = dict(session.execute(docs).all())
    version_rows = session.scalars(versions).all()
    snapshots = _snapshots_by_version(session, public_ids, document_pk)
    fetch_rows = session.execute(fetches).all()
    technical = {row.id for row in version_rows if row.technical}
    superseded = _rereadings(fetch_rows, technical)
    shas = {row.id: row.sha256 for row in version_rows}
    recorded: dict[int, list[datetime]] = defaultdict(list)
    captures: dict[int, list[tuple[datetime, int, str]]] = defaultdict(list)
    for doc_pk, fetch_id, finished, _snapshot, version_id in fetch_rows:
        recorded[version_id].append(finished)
        captures[doc_pk].append((finished, fetch_id, shas[superseded.get(version_id, version_id)]))
    by_doc: dict[int, list[VersionRecord]] = defaultdict(list)
    for row in version_rows:
        by_doc[row.document_id].append(VersionRecord(
            sha256=row.sha256, first_seen=row.first_seen, last_verified=row.last_verified,
            stated_date=row.stated_date, technical=row.technical, analyzed_with=row.analyzed_with,
            text_length=row.text_length, snapshots=tuple(snapshots.get(row.id, ())),
            captures=tuple(sorted(recorded.get(row.id, ()))),
            superseded_by=shas[superseded[row.id]] if row.id in superseded else None,
        ))
    return {
        public_id: DocumentTimeline(
            public_id, tuple(by_doc.get(pk, ())),
            periods_of([Capture(at, sha) for at, _id, sha in sorted(captures.get(pk, ()))]),
        )
        for pk, public_id in public_ids.items()
    }


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


def _rereadings(fetch_rows: Iterable[tuple], technical: set[int]) -> dict[int, int]:
    """Version id -> the technical version that later re-read one of its snapshots (followed to the last)."""
    reading_of_snapshot: dict[int, int] = {}
    replaced: dict[int, int] = {}
    for _doc, _id, _finished, snapshot_id, version_id in fetch_rows:  # in fetch id (recording) order
        if snapshot_id is None:
            continue
        earlier = reading_of_snapshot.get(snapshot_id)
        if earlier is not None and earlier != version_id and version_id in technical:
            replaced[earlier] = version_id
        reading_of_snapshot[snapshot_id] = version_id
    resolved = {}
    for version_id in replaced:
        seen, last = {version_id}, replaced[version_id]
        while last in replaced and replaced[last] not in seen:  # a re-reading may itself be re-read
            seen.add(last)
            last = replaced[last]
        if last != version_id:
            resolved[version_id] = last
    return resolved
