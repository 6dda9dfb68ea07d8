"""The read model of changes: listing them, the alert queue, failing documents.

A *change record* is a stored :class:`~analysis.domain.Change` with what readers
need around it: the document and platform, when it was detected, whether it was
alerted, and for each clause change the provision records (``CW-P-…``) it
concerns (:func:`provision_links`). ``changes``, alerts, the digest and the site
all read changes through :func:`list_changes` (decision 0022).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, aliased

from analysis.domain import ClauseChange, severity_rank
from store import mapping
from store.database import chunks
from store.health import FetchHealth, fetch_health
from store.repository import Store
from store.tables import (
    ChangeRow,
    ClauseChangeRow,
    ClauseRow,
    DocumentRow,
    PlatformRow,
    ProvisionRow,
    VersionRow,
)


@dataclass(frozen=True)
class ClauseChangeRecord:
    """A clause change and the provision records it concerns (see :func:`provision_links`)."""

    change: ClauseChange
    record_ids: tuple[str, ...] = ()  # the primary record first

    @property
    def record_id(self) -> str | None:
        """The clause's primary provision record: that of its weightiest type (``None`` for a clause of no type)."""
        return self.record_ids[0] if self.record_ids else None

    @property
    def severity(self) -> str | None:
        """The higher of the severities before and after."""
        both = (self.change.severity_before, self.change.severity_after)
        return max(both, key=severity_rank)

    @property
    def raises_severity(self) -> bool:
        return self.change.raises_severity


@dataclass(frozen=True)
class ChangeRecord:
    """A stored change between two consecutive versions of a document."""

    id: int
    document_id: str
    platform: str
    platform_name: str
    document_type: str
    url: str
    from_version: str | None
    to_version: str
    detected_at: datetime
    substantive: bool
    severity_raised: bool
    cosmetic_reason: str | None
    technical: bool
    alerted_at: datetime | None
    clause_changes: tuple[ClauseChangeRecord, ...] = ()

    @property
    def severity(self) -> str | None:
        """The highest severity any of its clauses had before or after."""
        return max((c.severity for c in self.clause_changes), key=severity_rank, default=None)

    def to_json(self) -> dict:
        """The stable JSON shape of ``clausewatch changes --json``."""
        return {
            "document": self.document_id,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "detected_at": self.detected_at.isoformat(),
            "substantive": self.substantive,
            "severity_raised": self.severity_raised,
            "clause_changes": [
                {
                    "kind": c.change.kind,
                    "clause_key": c.change.clause_key,
                    "record_id": c.record_id,
                    "heading_path": list(c.change.heading_path),
                    "severity_before": c.change.severity_before,
                    "severity_after": c.change.severity_after,
                    "before": c.change.before,
                    "after": c.change.after,
                    "facts": [mapping.fact_to_json(fact) for fact in c.change.facts],
                }
                for c in self.clause_changes
            ],
        }


@dataclass(frozen=True)
class FailingDocument:
    """A document whose latest fetches all failed."""

    document_id: str
    platform: str
    platform_name: str
    document_type: str
    url: str
    consecutive_failures: int
    error_kind: str | None
    error_detail: str | None
    failing_since: datetime
    last_failure: datetime


def list_changes(
    store: Store,
    *,
    since: datetime | None = None,
    platforms: Sequence[str] = (),
    substantive_only: bool = False,
    include_technical: bool = False,
    pending_alert: bool = False,
    change_ids: Sequence[int] | None = None,
    include_first: bool = False,
) -> list[ChangeRecord]:
    """Changes between two versions, oldest first: the one change query of ``changes``, alerts, digest and site.

    ``pending_alert`` keeps the substantive, non-technical changes not yet alerted;
    ``include_first`` adds each document's first version (``from_version`` None),
    which the site shows as "first version archived".
    """
    with store.session() as session:
        query = _changes_query(since, platforms, substantive_only or pending_alert,
                               include_technical and not pending_alert, include_first)
        if pending_alert:
            query = query.where(ChangeRow.alerted_at.is_(None))
        if change_ids is not None:
            query = query.where(ChangeRow.id.in_(list(change_ids)))
        rows = session.execute(query).all()
        clause_changes = _clause_changes(session, [row[0] for row in rows])
        return [_record(row, clause_changes.get(row[0].id, ())) for row in rows]


def _changes_query(since, platforms, substantive_only: bool, include_technical: bool, include_first: bool):
    from_version, to_version = aliased(VersionRow), aliased(VersionRow)
    query = (
        select(ChangeRow, DocumentRow, PlatformRow, from_version.sha256, to_version.sha256)
        .join(DocumentRow, DocumentRow.id == ChangeRow.document_id)
        .join(PlatformRow, PlatformRow.id == DocumentRow.platform_id)
        .join(from_version, from_version.id == ChangeRow.from_version_id, isouter=include_first)
        .join(to_version, to_version.id == ChangeRow.to_version_id)
        .where(ChangeRow.folded.is_(False))
        .order_by(ChangeRow.detected_at, ChangeRow.id)
    )
    if since is not None:
        query = query.where(ChangeRow.detected_at >= since)
    if platforms:
        query = query.where(PlatformRow.slug.in_(list(platforms)))
    if substantive_only:
        query = query.where(ChangeRow.substantive.is_(True))
    if not include_technical:
        query = query.where(ChangeRow.technical.is_(False))
    return query


def _record(row, clause_changes: tuple[ClauseChangeRecord, ...]) -> ChangeRecord:
    change, document, platform, from_sha, to_sha = row
    return ChangeRecord(
        id=change.id, document_id=document.public_id, platform=platform.slug, platform_name=platform.name,
        document_type=document.type, url=document.url, from_version=from_sha, to_version=to_sha,
        detected_at=change.detected_at, substantive=change.substantive, severity_raised=change.severity_raised,
        cosmetic_reason=change.cosmetic_reason, technical=change.technical, alerted_at=change.alerted_at,
        clause_changes=clause_changes,
    )


def provision_links(kind: str, types_before: Sequence[str], types_after: Sequence[str],
                    provisions: dict[str, str]) -> tuple[str, ...]:
    """THE rule tying a clause change to provision records (``provisions``: clause type → record id).

    A clause change concerns the provision of every type its clause had on the
    side(s) of the change where it exists: after the change (added, modified), then
    before it (removed, modified; a type it lost still concerns the record it
    leaves). Within a side the classifier's order (weightiest first) is kept, so
    the first record is the clause's primary one: the one ``changes`` and alerts
    name. Every record listed shows the change in its history on the site.
    """
    sides = (() if kind == "removed" else types_after, () if kind == "added" else types_before)
    ordered = dict.fromkeys(t for types in sides for t in types)
    return tuple(provisions[t] for t in ordered if t in provisions)


def _clause_changes(session: Session, changes: Sequence[ChangeRow]) -> dict[int, tuple[ClauseChangeRecord, ...]]:
    if not changes:
        return {}
    by_id = {c.id: c for c in changes}
    rows = [row for chunk in chunks(by_id) for row in session.scalars(
        select(ClauseChangeRow).where(ClauseChangeRow.change_id.in_(chunk))
    )]
    rows.sort(key=lambda row: (row.change_id, row.ordinal))
    types = _clause_types(session, changes)
    provisions = _provision_ids(session, {c.document_id for c in changes})
    result: dict[int, list[ClauseChangeRecord]] = defaultdict(list)
    for row in rows:
        change = by_id[row.change_id]
        records = provision_links(row.kind, types.get((change.from_version_id, row.clause_key), ()),
                                  types.get((change.to_version_id, row.clause_key), ()),
                                  provisions.get(change.document_id, {}))
        result[row.change_id].append(ClauseChangeRecord(mapping.clause_change_from_row(row), records))
    return {change_id: tuple(items) for change_id, items in result.items()}


def _clause_types(session: Session, changes: Sequence[ChangeRow]) -> dict[tuple[int, str], tuple[str, ...]]:
    """``(version id, clause key) → types`` (weightiest first) for the versions on either side of the changes."""
    version_ids = {c.to_version_id for c in changes} | {c.from_version_id for c in changes if c.from_version_id}
    found: dict[tuple[int, str], tuple[str, ...]] = {}
    for chunk in chunks(version_ids):
        rows = session.execute(
            select(ClauseRow.version_id, ClauseRow.key, ClauseRow.types).where(ClauseRow.version_id.in_(chunk))
        )
        found.update({(version_id, key): tuple(types or ()) for version_id, key, types in rows})
    return found


def _provision_ids(session: Session, document_ids: set[int]) -> dict[int, dict[str, str]]:
    """Document primary key → clause type → provision record id."""
    found: dict[int, dict[str, str]] = defaultdict(dict)
    for chunk in chunks(document_ids):
        rows = session.execute(
            select(ProvisionRow.document_id, ProvisionRow.clause_type, ProvisionRow.public_id)
            .where(ProvisionRow.document_id.in_(chunk))
        )
        for document_id, clause_type, public_id in rows:
            found[document_id][clause_type] = public_id
    return found


def mark_alerted(store: Store, change_ids: Sequence[int], at: datetime) -> int:
    """Set ``alerted_at`` on changes not alerted yet; returns how many were marked."""
    if not change_ids:
        return 0
    with store.session() as session:
        result = session.execute(
            update(ChangeRow)
            .where(ChangeRow.id.in_(list(change_ids)), ChangeRow.alerted_at.is_(None))
            .values(alerted_at=at)
        )
        return result.rowcount or 0


# The failure kind of a tracked document its catalog file no longer declares.
CATALOG_ERROR = "catalog_error"
# Kinds that are failing at the first occurrence: no retry will fix them, a person must.
IMMEDIATE_FAILURE_KINDS = (CATALOG_ERROR,)


def failing_documents(store: Store, *, at_least: int) -> list[FailingDocument]:
    """Documents in the catalog whose failure streak (:mod:`store.health`) is ``at_least`` long,
    or whose last fetch failed with a kind of IMMEDIATE_FAILURE_KINDS."""
    with store.session() as session:
        documents = session.execute(
            select(DocumentRow, PlatformRow).join(PlatformRow, PlatformRow.id == DocumentRow.platform_id)
            .where(DocumentRow.in_catalog.is_(True)).order_by(DocumentRow.id)
        ).all()
        health = fetch_health(session, [document.id for document, _ in documents])
        failing = (_failing(document, platform, health.get(document.id)) for document, platform in documents)
        return [f for f in failing if f is not None
                and (f.consecutive_failures >= max(at_least, 1) or f.error_kind in IMMEDIATE_FAILURE_KINDS)]


def _failing(document: DocumentRow, platform: PlatformRow, health: FetchHealth | None) -> FailingDocument | None:
    if health is None or not health.consecutive_failures:
        return None
    return FailingDocument(
        document_id=document.public_id, platform=platform.slug, platform_name=platform.name,
        document_type=document.type, url=document.url, consecutive_failures=health.consecutive_failures,
        error_kind=health.last_error_kind, error_detail=health.last_error_detail,
        failing_since=health.failing_since, last_failure=health.last_attempt,
    )
