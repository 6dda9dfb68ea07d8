"""Read queries behind the published site and the digest.

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

from analysis.domain import ClassifiedClause, ClauseChange, Document, Snapshot, severity_rank
from store import mapping
from store.models import (
    ChangeRow,
    ClauseChangeRow,
    ClauseRow,
    DocumentRow,
    FetchRow,
    PlatformRow,
    ProvisionRow,
    SnapshotRow,
    VersionRow,
    VersionSnapshotRow,
)
from store.repository import Store


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
class ChangeInfo:
    id: int
    from_sha256: str | None
    to_sha256: str
    detected_at: datetime
    substantive: bool
    severity_raised: bool
    cosmetic_reason: str | None
    technical: bool
    clause_changes: tuple[ClauseChange, ...]

    @property
    def severity(self) -> str | None:
        """The highest severity any of its clauses had before or after."""
        found = [s for c in self.clause_changes for s in (c.severity_before, c.severity_after) if s]
        return max(found, key=severity_rank) if found else None


@dataclass(frozen=True)
class ProvisionInfo:
    """One provision record: a clause type as it stands in a document."""

    id: str
    document_id: str
    clause_type: str
    first_seen: datetime


@dataclass(frozen=True)
class FetchHealth:
    """How the latest fetches of a document went."""

    last_outcome: str | None
    last_error_kind: str | None
    last_error_detail: str | None
    last_attempt: datetime | None
    consecutive_failures: int


@dataclass(frozen=True)
class DocumentInfo:
    document: Document
    versions: tuple[VersionInfo, ...]  # oldest first
    current_sha256: str | None
    clauses: tuple[ClassifiedClause, ...]  # of the current version
    changes: tuple[ChangeInfo, ...]  # oldest first
    provisions: tuple[ProvisionInfo, ...]
    health: FetchHealth
    # clause key -> every clause type it ever had, in any version
    key_types: dict[str, frozenset[str]]

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
        changes = _changes_by_document(session)
        provisions = _provisions_by_document(session, public_ids)
        health = _health_by_document(session)
        key_types = _key_types_by_document(session)
        documents = tuple(
            DocumentInfo(
                document=mapping.document_from_row(row),
                versions=tuple(v for _, v in versions.get(row.id, ())),
                current_sha256=_sha_of(versions.get(row.id, ()), row.current_version_id),
                clauses=tuple(clauses.get(row.current_version_id, ())),
                changes=tuple(changes.get(row.id, ())),
                provisions=tuple(provisions.get(row.id, ())),
                health=health.get(row.id, FetchHealth(None, None, None, None, 0)),
                key_types=key_types.get(row.id, {}),
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


def _changes_by_document(session: Session) -> dict[int, list[ChangeInfo]]:
    shas = dict(session.execute(select(VersionRow.id, VersionRow.sha256)).all())
    clause_changes: dict[int, list[ClauseChange]] = defaultdict(list)
    for row in session.scalars(select(ClauseChangeRow).order_by(ClauseChangeRow.change_id, ClauseChangeRow.ordinal)):
        clause_changes[row.change_id].append(mapping.clause_change_from_row(row))
    result: dict[int, list[ChangeInfo]] = defaultdict(list)
    for row in session.scalars(select(ChangeRow).where(ChangeRow.folded.is_(False))
                               .order_by(ChangeRow.detected_at, ChangeRow.id)):
        result[row.document_id].append(ChangeInfo(
            id=row.id, from_sha256=shas.get(row.from_version_id), to_sha256=shas[row.to_version_id],
            detected_at=row.detected_at, substantive=row.substantive, severity_raised=row.severity_raised,
            cosmetic_reason=row.cosmetic_reason, technical=row.technical,
            clause_changes=tuple(clause_changes.get(row.id, ())),
        ))
    return result


def _provisions_by_document(session: Session, public_ids: dict[int, str]) -> dict[int, list[ProvisionInfo]]:
    result: dict[int, list[ProvisionInfo]] = defaultdict(list)
    for row in session.scalars(select(ProvisionRow).order_by(ProvisionRow.id)):
        result[row.document_id].append(
            ProvisionInfo(row.public_id, public_ids[row.document_id], row.clause_type, row.first_seen)
        )
    return result


def _health_by_document(session: Session) -> dict[int, FetchHealth]:
    """Latest outcome and the run of failures at the end of each document's fetch history."""
    rows = session.execute(
        select(FetchRow.document_id, FetchRow.outcome, FetchRow.error_kind, FetchRow.error_detail, FetchRow.finished_at)
        .order_by(FetchRow.document_id, FetchRow.finished_at.desc(), FetchRow.id.desc())
    )
    result: dict[int, FetchHealth] = {}
    streak_open: dict[int, bool] = {}
    for doc_id, outcome, kind, detail, finished in rows:
        if doc_id not in result:
            result[doc_id] = FetchHealth(outcome, kind, detail, finished, 0)
            streak_open[doc_id] = True
        if streak_open[doc_id] and outcome == "failed":
            old = result[doc_id]
            result[doc_id] = FetchHealth(old.last_outcome, old.last_error_kind, old.last_error_detail,
                                         old.last_attempt, old.consecutive_failures + 1)
        else:
            streak_open[doc_id] = False
    return result


def _key_types_by_document(session: Session) -> dict[int, dict[str, frozenset[str]]]:
    """Which clause types each clause key ever carried: ties clause changes to provisions."""
    found: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    rows = session.execute(
        select(VersionRow.document_id, ClauseRow.key, ClauseRow.types)
        .join(VersionRow, VersionRow.id == ClauseRow.version_id)
    )
    for doc_id, key, types in rows:
        if types:
            found[doc_id][key].update(types)
    return {doc: {key: frozenset(types) for key, types in keys.items()} for doc, keys in found.items()}


def version_text(store: Store, sha256: str) -> str:
    """The normalised text of a version, from the blob store."""
    return store.blobs.get(sha256).decode("utf-8")


def snapshot_problem(store: Store, sha256: str) -> str | None:
    """Re-hash a stored snapshot: None when present and intact, else what is wrong."""
    return store.blobs.check(sha256)
