"""Store queries of the analysis stage: prevalence, and re-analysing stored versions.

Prevalence counts, per clause type, the tracked platforms whose *current*
versions have a clause of that type. Re-analysis replaces a version's clauses
and classifications in one transaction; provisions are only ever added, so a
provision's public record id (``CW-P-000001``) is never reused or renumbered.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, cast, delete, func, select
from sqlalchemy.orm import Session

from analysis.alignment import reclassified, refreshed
from analysis.domain import Classification, ClauseChange, VersionAnalysis
from analysis.language import NOT_ANALYSED
from analysis.prevalence import Prevalence
from store import mapping
from store.database import StoreError, document_row
from store.recording import add_clauses, insert_clause_changes
from store.repository import Store
from store.tables import ChangeRow, ClauseChangeRow, ClauseRow, DocumentRow, VersionRow


@dataclass(frozen=True)
class VersionRef:
    """A stored version to (re)analyse, and the analyser it was last analysed with."""

    document_id: str
    sha256: str
    analyzed_with: str | None


def tracked_platform_count(store: Store) -> int:
    """Platforms with at least one catalog document whose current version was analysed.

    A version in a language the classifier does not read (its clauses' reason
    says "not analysed: language fr") tells nothing about which types a platform
    has, so it counts neither for nor against prevalence.
    """
    unread = (
        select(ClauseRow.id)
        .where(ClauseRow.version_id == DocumentRow.current_version_id, ClauseRow.reason.like(NOT_ANALYSED + "%"))
        .exists()
    )
    with store.session() as session:
        return session.scalar(
            select(func.count(func.distinct(DocumentRow.platform_id))).where(
                DocumentRow.in_catalog.is_(True), DocumentRow.current_version_id.is_not(None), ~unread
            )
        ) or 0


def prevalence_counts(store: Store) -> dict[str, int]:
    """For each clause type found, how many tracked platforms' current versions have it."""
    platforms: dict[str, set[int]] = defaultdict(set)
    with store.session() as session:
        rows = session.execute(
            select(DocumentRow.platform_id, ClauseRow.types)
            .join(ClauseRow, ClauseRow.version_id == DocumentRow.current_version_id)
            .where(DocumentRow.in_catalog.is_(True), cast(ClauseRow.types, String) != "[]")
        )
        for platform_id, types in rows:
            for clause_type in types or ():
                platforms[clause_type].add(platform_id)
    return {clause_type: len(ids) for clause_type, ids in sorted(platforms.items())}


def prevalence(store: Store, clause_types: tuple[str, ...] = ()) -> dict[str, Prevalence]:
    """Prevalence of every clause type found, and of each of ``clause_types`` (0 when absent)."""
    total = tracked_platform_count(store)
    counts = prevalence_counts(store)
    wanted = sorted(set(counts) | set(clause_types))
    return {t: Prevalence(t, counts.get(t, 0), total) for t in wanted}


def versions_to_analyse(store: Store, analyzer_id: str, *, everything: bool = False) -> list[VersionRef]:
    """Versions analysed with another analyser, never, or before language detection, oldest first per document.

    With ``everything``, all versions.
    """
    with store.session() as session:
        query = select(DocumentRow.public_id, VersionRow.sha256, VersionRow.analyzed_with).join(
            DocumentRow, DocumentRow.id == VersionRow.document_id
        )
        if not everything:
            # A version stored before language detection is stale too: its language is unknown.
            query = query.where((VersionRow.analyzed_with != analyzer_id) | VersionRow.analyzed_with.is_(None)
                                | VersionRow.language.is_(None))
        query = query.order_by(DocumentRow.id, VersionRow.first_seen, VersionRow.id)
        return [VersionRef(doc, sha, analyzed) for doc, sha, analyzed in session.execute(query)]


class AnalysisMovedError(StoreError):
    """The version was re-analysed by someone else since it was read."""


def replace_analysis(
    store: Store, ref: VersionRef, analysis: VersionAnalysis, *, now: datetime
) -> None:
    """Replace a version's clauses and classifications with ``analysis``, in one transaction.

    Provisions are added for clause types new to the document; none is removed
    or renumbered. The stored changes on either side of the version get the
    severities and moved facts of the new analysis. When the document's current
    version is re-classified, what moved is recorded as a *technical* change of
    that version to itself (never alerted, shown as such in the history).
    Raises :class:`AnalysisMovedError` when the version's ``analyzed_with`` is
    no longer what ``ref`` says (another run got there first).
    """
    with store.session() as session:
        doc = document_row(session, ref.document_id)
        version = session.scalar(
            select(VersionRow).where(VersionRow.document_id == doc.id, VersionRow.sha256 == ref.sha256).with_for_update()
        )
        if version is None:
            raise StoreError(f"no version {ref.sha256[:12]} of {ref.document_id} in the store")
        if version.analyzed_with != ref.analyzed_with:
            raise AnalysisMovedError(
                f"version {ref.sha256[:12]} of {ref.document_id} is now analysed with {version.analyzed_with!r}"
            )
        old = [mapping.clause_from_row(row) for row in
               session.scalars(select(ClauseRow).where(ClauseRow.version_id == version.id).order_by(ClauseRow.ordinal))]
        # Executed at once, so the new rows never meet the old ones' (version, ordinal) keys.
        session.execute(delete(ClauseRow).where(ClauseRow.version_id == version.id))
        # The repository's own insert and record-id scheme, so clauses and provisions are written one way only.
        add_clauses(session, doc, version, analysis.clauses, now)
        _refresh_changes(session, version.id)
        if doc.current_version_id == version.id and old:
            _record_reanalysis(session, doc, version, reclassified(old, analysis.clauses), ref, analysis, now)
        version.analyzed_with = analysis.analyzer
        version.language = analysis.language
        if analysis.stated_date is not None:
            version.stated_date = analysis.stated_date
            version.stated_date_label = analysis.stated_date_label


def _record_reanalysis(session: Session, doc: DocumentRow, version: VersionRow, moved: tuple[ClauseChange, ...],
                       ref: VersionRef, analysis: VersionAnalysis, now: datetime) -> None:
    """A technical change of the version to itself listing the clauses the new analysis re-classified."""
    if not moved:
        return
    row = ChangeRow(
        document_id=doc.id, from_version_id=version.id, to_version_id=version.id, detected_at=now,
        substantive=False, severity_raised=any(c.raises_severity for c in moved),
        cosmetic_reason=f"re-analysed: {ref.analyzed_with or 'never analysed'} → {analysis.analyzer}"[:200],
        technical=True,
    )
    session.add(row)
    session.flush()
    insert_clause_changes(session, row.id, moved)


def _refresh_changes(session: Session, version_id: int) -> None:
    """Bring the severities and facts stored with the changes on either side of a version up to date."""
    changes = session.scalars(select(ChangeRow).where(
        (ChangeRow.from_version_id == version_id) | (ChangeRow.to_version_id == version_id),
        ChangeRow.from_version_id.is_not(None), ChangeRow.from_version_id != ChangeRow.to_version_id,
    )).all()
    for change in changes:
        before, after = _analyses(session, change.from_version_id), _analyses(session, change.to_version_id)
        rows = session.scalars(select(ClauseChangeRow).where(ClauseChangeRow.change_id == change.id)).all()
        updated = []
        for row in rows:
            clause_change = refreshed(mapping.clause_change_from_row(row), before.get(row.clause_key),
                                      after.get(row.clause_key))
            row.severity_before, row.severity_after = clause_change.severity_before, clause_change.severity_after
            row.facts = [mapping.fact_to_json(fact) for fact in clause_change.facts]
            updated.append(clause_change)
        if change.substantive:
            change.severity_raised = any(c.raises_severity for c in updated)


def _analyses(session: Session, version_id: int) -> dict[str, Classification]:
    rows = session.scalars(select(ClauseRow).where(ClauseRow.version_id == version_id))
    return {row.key: mapping.clause_from_row(row).classification for row in rows}
