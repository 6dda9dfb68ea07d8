"""Read queries behind the published site.

Everything a page needs is loaded in a handful of bulk queries (one per table)
rather than one query per page, so a site of 10,000 provision pages is read in
seconds. Version texts stay in the blob store and are read only for the pages
being rendered (:func:`version_text`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from analysis.domain import ClassifiedClause, Document, Snapshot
from store import mapping
from store.change_records import ChangeRecord, list_changes
from store.health import NEVER_FETCHED, FetchHealth, fetch_health
from store.repository import Store
from store.tables import (
    ClauseRow,
    DocumentRow,
    PlatformRow,
    ProvisionRow,
    SnapshotRow,
    VersionRow,
    VersionSnapshotRow,
)


@dataclass(frozen=True)
class PlatformInfo:
    slug: str
    name: str
    homepage: str | None
    jurisdictions: tuple[str, ...]


@dataclass(frozen=True)
class VersionInfo:
    """A version's metadata and its latest snapshot (the evidence shown on pages)."""

    sha256: str
    first_seen: datetime
    last_verified: datetime
    stated_date: str | None
    stated_date_label: str | None
    technical: bool
    text_length: int
    snapshot: Snapshot | None
    language: str | None = None  # detected language (ISO 639-1), None before detection
    # A document combined from several pages: each page's latest snapshot, by where it begins in the text.
    parts: tuple[tuple[int, Snapshot], ...] = ()


@dataclass(frozen=True)
class ProvisionInfo:
    """One provision record: a clause type as it stands in a document."""

    id: str
    document_id: str
    clause_type: str
    first_seen: datetime


@dataclass(frozen=True)
class DocumentInfo:
    document: Document
    versions: tuple[VersionInfo, ...]  # oldest first
    current_sha256: str | None
    clauses: tuple[ClassifiedClause, ...]  # of the current version
    changes: tuple[ChangeRecord, ...]  # oldest first, the first version's included
    provisions: tuple[ProvisionInfo, ...]
    health: FetchHealth

    @property
    def current(self) -> VersionInfo | None:
        return next((v for v in reversed(self.versions) if v.sha256 == self.current_sha256), None)

    @property
    def first_tracked(self) -> datetime | None:
        return self.versions[0].first_seen if self.versions else None


@dataclass(frozen=True)
class SiteData:
    platforms: dict[str, PlatformInfo]
    documents: tuple[DocumentInfo, ...]

    @cached_property
    def _documents_by_platform(self) -> dict[str, list[DocumentInfo]]:
        grouped: dict[str, list[DocumentInfo]] = defaultdict(list)
        for doc in self.documents:
            grouped[doc.document.platform].append(doc)
        return grouped

    def by_platform(self, slug: str) -> list[DocumentInfo]:
        return list(self._documents_by_platform.get(slug, ()))


def load_site_data(store: Store) -> SiteData:
    """Every platform, document, version, current clause, change and provision of the store."""
    changes: dict[str, list[ChangeRecord]] = defaultdict(list)
    for change in list_changes(store, include_technical=True, include_first=True):
        changes[change.document_id].append(change)
    with store.session() as session:
        platforms = {
            row.slug: PlatformInfo(row.slug, row.name, row.homepage, tuple(row.jurisdictions or ()))
            for row in session.scalars(select(PlatformRow).order_by(PlatformRow.slug))
        }
        doc_rows = session.scalars(
            select(DocumentRow).options(selectinload(DocumentRow.platform)).order_by(DocumentRow.id)
        ).all()
        public_ids = {row.id: row.public_id for row in doc_rows}
        versions = _versions_by_document(session, public_ids)
        clauses = _current_clauses(session)
        provisions = _provisions_by_document(session, public_ids)
        health = fetch_health(session)
        documents = tuple(
            DocumentInfo(
                document=mapping.document_from_row(row),
                versions=tuple(v for _, v in versions.get(row.id, ())),
                current_sha256=_sha_of(versions.get(row.id, ()), row.current_version_id),
                clauses=tuple(clauses.get(row.current_version_id, ())),
                changes=tuple(changes.get(row.public_id, ())),
                provisions=tuple(provisions.get(row.id, ())),
                health=health.get(row.id, NEVER_FETCHED),
            )
            for row in doc_rows
        )
    return SiteData(platforms, documents)


def _sha_of(versions: Iterable[tuple[int, VersionInfo]], version_id: int | None) -> str | None:
    return next((v.sha256 for vid, v in versions if vid == version_id), None)


def _versions_by_document(session: Session, public_ids: dict[int, str]) -> dict[int, list[tuple[int, VersionInfo]]]:
    latest_snapshot: dict[int, SnapshotRow] = {}
    latest_parts: dict[int, dict[int, SnapshotRow]] = defaultdict(dict)
    for version_id, text_start, snap in session.execute(
        select(VersionSnapshotRow.version_id, VersionSnapshotRow.text_start, SnapshotRow)
        .join(SnapshotRow, VersionSnapshotRow.snapshot_id == SnapshotRow.id)
        .order_by(SnapshotRow.fetched_at, SnapshotRow.id)
    ):
        latest_snapshot[version_id] = snap  # ordered ascending, so the last one wins
        if text_start is not None:
            latest_parts[version_id][text_start] = snap
    result: dict[int, list[tuple[int, VersionInfo]]] = defaultdict(list)
    shown = select(VersionRow).where(VersionRow.folded_into_id.is_(None))  # folded versions left the history
    for row in session.scalars(shown.order_by(VersionRow.first_seen, VersionRow.id)):
        snap = latest_snapshot.get(row.id)
        result[row.document_id].append((row.id, VersionInfo(
            sha256=row.sha256, first_seen=row.first_seen, last_verified=row.last_verified,
            stated_date=row.stated_date, stated_date_label=row.stated_date_label, technical=row.technical,
            text_length=row.text_length,
            snapshot=mapping.snapshot_from_row(snap, public_ids[row.document_id]) if snap is not None else None,
            language=row.language,
            parts=tuple((start, mapping.snapshot_from_row(part, public_ids[row.document_id]))
                        for start, part in sorted(latest_parts.get(row.id, {}).items())),
        )))
    return result


def clause_starts(text: str, clauses: Sequence[ClassifiedClause]) -> dict[str, int]:
    """Where each clause (by key) begins in its version's text, found in order by its first line.

    A clause whose first line cannot be found is left out: it is then cited with
    the document's latest snapshot, as before pages were traced.
    """
    starts: dict[str, int] = {}
    position = 0
    for item in clauses:
        first_line = next((line.strip() for line in item.clause.text.splitlines() if line.strip()), "")
        found = text.find(first_line[:200], position) if first_line else -1
        if found >= 0:
            starts[item.clause.key] = position = found
    return starts


def _current_clauses(session: Session) -> dict[int, list[ClassifiedClause]]:
    rows = session.scalars(
        select(ClauseRow)
        .join(DocumentRow, DocumentRow.current_version_id == ClauseRow.version_id)
        .order_by(ClauseRow.version_id, ClauseRow.ordinal)
    )
    result: dict[int, list[ClassifiedClause]] = defaultdict(list)
    for row in rows:
        result[row.version_id].append(mapping.clause_from_row(row))
    return result


def _provisions_by_document(session: Session, public_ids: dict[int, str]) -> dict[int, list[ProvisionInfo]]:
    result: dict[int, list[ProvisionInfo]] = defaultdict(list)
    for row in session.scalars(select(ProvisionRow).order_by(ProvisionRow.id)):
        result[row.document_id].append(
            ProvisionInfo(row.public_id, public_ids[row.document_id], row.clause_type, row.first_seen)
        )
    return result


def version_text(store: Store, sha256: str) -> str:
    """The normalised text of a version, from the blob store."""
    return store.blobs.get(sha256).decode("utf-8")


def snapshot_problem(store: Store, sha256: str) -> str | None:
    """Re-hash a stored snapshot: None when present and intact, else what is wrong."""
    return store.blobs.check(sha256)
