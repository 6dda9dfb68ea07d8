"""The one mapper between SQLAlchemy rows and the domain dataclasses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row

from analysis.domain import (
    Classification,
    ClassifiedClause,
    Clause,
    ClauseChange,
    Document,
    DocumentSpec,
    FactChange,
    HistoricalDeclaration,
    RangeSelector,
    Selector,
    Snapshot,
    SourceSpec,
    Version,
)
from analysis.volatile import VolatileRules
from store.tables import (
    ClauseChangeRow,
    ClauseRow,
    DocumentRow,
    SnapshotRow,
    VersionRow,
)

_RANGE_KEYS = ("start_before", "start_after", "end_before", "end_after")


def _selector_to_json(selector: Selector) -> Any:
    if isinstance(selector, RangeSelector):
        return {k: getattr(selector, k) for k in _RANGE_KEYS if getattr(selector, k)}
    return selector


def _selector_from_json(value: Any) -> Selector:
    return RangeSelector(**value) if isinstance(value, dict) else value


def source_to_json(source: SourceSpec) -> dict[str, Any]:
    return {
        "url": source.url,
        "select": [_selector_to_json(s) for s in source.select],
        "remove": [_selector_to_json(s) for s in source.remove],
        "filters": list(source.filters),
        "execute_client_scripts": source.execute_client_scripts,
    }


def source_from_json(data: dict[str, Any]) -> SourceSpec:
    return SourceSpec(
        url=data["url"],
        select=tuple(_selector_from_json(s) for s in data.get("select", ())),
        remove=tuple(_selector_from_json(s) for s in data.get("remove", ())),
        filters=tuple(data.get("filters", ())),
        execute_client_scripts=data.get("execute_client_scripts", False),
    )


def spec_to_json(spec: DocumentSpec) -> dict[str, Any]:
    return {
        "platform": spec.platform,
        "type": spec.type,
        "sources": [source_to_json(s) for s in spec.sources],
        "fetcher": spec.fetcher,
        "schedule_group": spec.schedule_group,
        "tags": list(spec.tags),
        "obey_robots": spec.obey_robots,
        "title": spec.title,
        "history": [
            {"valid_until": h.valid_until.isoformat(), "sources": [source_to_json(s) for s in h.sources]}
            for h in spec.history
        ],
        "volatile": {"params": sorted(spec.volatile.params), "text": list(spec.volatile.texts),
                     "keep": sorted(spec.volatile_keep)},
    }


def spec_from_json(data: dict[str, Any]) -> DocumentSpec:
    return DocumentSpec(
        platform=data["platform"],
        type=data["type"],
        sources=tuple(source_from_json(s) for s in data["sources"]),
        fetcher=data.get("fetcher", "http"),
        schedule_group=data.get("schedule_group", "default"),
        tags=tuple(data.get("tags", ())),
        obey_robots=data.get("obey_robots", True),
        title=data.get("title"),
        history=tuple(
            HistoricalDeclaration(
                valid_until=datetime.fromisoformat(h["valid_until"]),
                sources=tuple(source_from_json(s) for s in h["sources"]),
            )
            for h in data.get("history", ())
        ),
        **_volatile_from_json(data.get("volatile") or {}),
    )


def _volatile_from_json(data: dict[str, Any]) -> dict[str, Any]:
    """Only what the document declares: the others keep DocumentSpec's shared defaults
    (an empty frozenset of its own is 216 bytes; two per document were a third of a Document)."""
    declared: dict[str, Any] = {}
    if data.get("params") or data.get("text"):
        declared["volatile"] = VolatileRules(params=frozenset(data.get("params", ())), texts=tuple(data.get("text", ())))
    if data.get("keep"):
        declared["volatile_keep"] = frozenset(data["keep"])
    return declared


def document_from_row(row: DocumentRow) -> Document:
    return Document(
        id=row.public_id,
        platform=row.platform.slug,
        platform_name=row.platform.name,
        type=row.type,
        url=row.url,
        spec=spec_from_json(row.spec),
        in_catalog=row.in_catalog,
    )


def snapshot_from_row(row: SnapshotRow, document_id: str) -> Snapshot:
    return Snapshot(
        sha256=row.sha256,
        document_id=document_id,
        requested_url=row.requested_url,
        final_url=row.final_url,
        status=row.status,
        content_type=row.content_type,
        fetched_at=row.fetched_at,
        fetcher=row.fetcher,
        etag=row.etag,
        last_modified=row.last_modified,
        size=row.size,
    )


def version_from_row(row: VersionRow, document_id: str, snapshot_sha256s: tuple[str, ...] = ()) -> Version:
    return Version(
        sha256=row.sha256,
        document_id=document_id,
        first_seen=row.first_seen,
        last_verified=row.last_verified,
        snapshot_sha256s=snapshot_sha256s,
        stated_date=row.stated_date,
        technical=row.technical,
        language=row.language,
        analyzed_with=row.analyzed_with,
    )


def clause_values(item: ClassifiedClause, version_id: int) -> dict:
    """The column values of a clause row (for bulk inserts)."""
    clause, classification = item.clause, item.classification
    return dict(
        version_id=version_id,
        ordinal=clause.ordinal,
        key=clause.key,
        heading_path=list(clause.heading_path),
        text=clause.text,
        sha256=clause.sha256,
        types=list(classification.types),
        severity=classification.severity,
        confidence=classification.confidence,
        evidence=list(classification.evidence),
        basis=classification.basis,
        reason=classification.reason,
    )


def clause_from_row(row: ClauseRow | Row) -> ClassifiedClause:
    """A stored clause, from its ORM row or from a row of its columns (``store.history`` reads those)."""
    return ClassifiedClause(
        clause=Clause(ordinal=row.ordinal, heading_path=tuple(row.heading_path), text=row.text, key=row.key),
        classification=Classification(
            types=tuple(row.types or ()),
            severity=row.severity or "low",
            confidence=row.confidence or 0.0,
            evidence=tuple(row.evidence or ()),
            basis=row.basis or "inferred",
            reason=row.reason or "",
        ),
    )


def clause_change_values(change: ClauseChange, change_id: int, ordinal: int) -> dict:
    """The column values of a clause change row (for bulk inserts)."""
    return dict(
        change_id=change_id,
        ordinal=ordinal,
        kind=change.kind,
        clause_key=change.clause_key,
        heading_path=list(change.heading_path),
        before=change.before,
        after=change.after,
        severity_before=change.severity_before,
        severity_after=change.severity_after,
        similarity=change.similarity,
        facts=[fact_to_json(fact) for fact in change.facts],
    )


def fact_to_json(fact: FactChange) -> dict[str, Any]:
    """The stored and published shape of a moved fact (``changes --json``)."""
    return {"fact": fact.fact, "label": fact.label, "before": fact.before, "after": fact.after,
            "against_user": fact.against_user, "summary": fact.summary}


def fact_from_json(data: dict[str, Any]) -> FactChange:
    return FactChange(data["fact"], data["label"], data.get("before"), data.get("after"), data.get("against_user"))


def clause_change_from_row(row: ClauseChangeRow) -> ClauseChange:
    return ClauseChange(
        kind=row.kind,
        clause_key=row.clause_key,
        heading_path=tuple(row.heading_path),
        before=row.before,
        after=row.after,
        severity_before=row.severity_before,
        severity_after=row.severity_after,
        similarity=row.similarity,
        facts=tuple(fact_from_json(item) for item in row.facts or ()),
    )
