"""Volatile values learned per document: watched while they prove themselves, then learned.

A fetch whose text differs from the current version only in link parameter
values or in one span of numbers, dates or tokens per line is *held*: the
places that changed become candidates. When the next fetch serves the very
same text, the change is real and is recorded; when it changes those same
places again, the candidates gain an observation; after
``VOLATILE_OBSERVATIONS`` consecutive changes they are *learned* and every
version of the document is normalised without them (decision 0016).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from analysis.volatile import HELD, LEARNED, STABLE, VolatileKey, VolatileRules, Watch, watch_step
from store.database import document_rows
from store.mapping import spec_from_json
from store.repository import Store, UnknownDocumentError
from store.tables import DocumentRow, VersionRow, VolatileValueRow

# Longer line templates (a whole paragraph around a counter) are not stored:
# such a line is left to make versions and to an operator's `volatile` rule.
MAX_TEMPLATE = 1000

__all__ = ["HELD", "LEARNED", "STABLE", "VolatileState", "VolatileValue", "observe", "stop_watching",
           "volatile_state", "volatile_states", "volatile_values"]


@dataclass(frozen=True)
class VolatileValue:
    """One row of what ``status`` shows: a parameter or template, learned or being watched."""

    document_id: str
    kind: str
    value: str
    state: str
    observations: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True)
class VolatileState:
    """A document's volatile rules (declared and learned, less the kept), and whether candidates are watched."""

    rules: VolatileRules
    keep: frozenset[str]
    watching: bool
    current_sha256: str | None = None  # the current version's hash, read in the same session
    # The stored declaration, and the key and text of the last extraction recorded (crawler.extraction_key).
    spec: dict | None = None
    extraction_key: str | None = None
    extraction_text_sha256: str | None = None
    # The current version's length and the document's type, read with the rest: what ``record_text`` would read
    # again before analysing (``store.recording.KnownHead``).
    current_length: int | None = None
    document_type: str | None = None


def _document(session, document_id: str) -> DocumentRow:
    row = session.scalar(select(DocumentRow).where(DocumentRow.public_id == document_id))
    if row is None:
        raise UnknownDocumentError(document_id)
    return row


def _rules(rows: Iterable[VolatileValueRow]) -> VolatileRules:
    return VolatileRules.learned_from(frozenset(VolatileKey(r.kind, r.value) for r in rows if r.state == "learned"))


def volatile_state(store: Store, document_id: str) -> VolatileState:
    """What the recorder needs per fetch, in one session: the rules to extract with and the watch."""
    return volatile_states(store, [document_id])[document_id]


def volatile_states(store: Store, document_ids: Sequence[str]) -> dict[str, VolatileState]:
    """:func:`volatile_state` of each of a batch's documents, in three queries for the batch (one unknown
    document refuses the batch)."""
    with store.session() as session:
        docs = document_rows(session, document_ids)
        values = defaultdict(list)
        for row in session.scalars(select(VolatileValueRow).where(
                VolatileValueRow.document_id.in_([doc.id for doc in docs.values()]))):
            values[row.document_id].append(row)
        versions = [doc.current_version_id for doc in docs.values() if doc.current_version_id]
        current = {version_id: (sha, length) for version_id, sha, length in session.execute(
            select(VersionRow.id, VersionRow.sha256, VersionRow.text_length).where(VersionRow.id.in_(versions)))}
        return {document_id: _state(doc, values[doc.id], current.get(doc.current_version_id, (None, None)))
                for document_id, doc in docs.items()}


def _state(doc: DocumentRow, rows: Sequence[VolatileValueRow], current: tuple[str | None, int | None]
           ) -> VolatileState:
    spec = spec_from_json(doc.spec)
    return VolatileState(spec.volatile_rules(_rules(rows)), spec.volatile_keep,
                         any(r.state == "candidate" for r in rows), current[0], doc.spec, doc.extraction_key,
                         doc.extraction_text_sha256, current[1], doc.type)


def observe(store: Store, document_id: str, keys: frozenset[VolatileKey], text_sha: str, now: datetime) -> str:
    """Watch a fetch that changed only ``keys``: ``held``, ``learned`` (now confirmed) or ``stable`` (a real edit)."""
    if any(len(key.value) > MAX_TEMPLATE for key in keys):
        return STABLE
    with store.session() as session:
        doc = _document(session, document_id)
        candidates = session.scalars(select(VolatileValueRow).where(
            VolatileValueRow.document_id == doc.id, VolatileValueRow.state == "candidate")).all()
        watch = Watch(frozenset(VolatileKey(c.kind, c.value) for c in candidates),
                      min((c.observations for c in candidates), default=0),
                      candidates[0].held_text_sha256 if candidates else None)
        verdict, watched = watch_step(watch, keys, text_sha)
        if verdict == LEARNED:
            _learn(session, doc, candidates, keys, now)
        elif watched.keys != watch.keys:
            _drop(session, candidates)
            candidates = [_candidate(session, doc, key, now) for key in sorted(watched.keys)]
        for candidate in candidates if verdict == HELD else ():
            candidate.observations, candidate.held_text_sha256, candidate.last_seen = (
                watched.observations, watched.held_sha256, now)
        if verdict == STABLE:
            _drop(session, candidates)
        return verdict


def _learn(session, doc: DocumentRow, candidates, keys: frozenset[VolatileKey], now: datetime) -> None:
    by_key = {VolatileKey(c.kind, c.value): c for c in candidates}
    for key in sorted(keys):
        row = by_key.pop(key, None) or _candidate(session, doc, key, now)
        row.state, row.held_text_sha256, row.last_seen = "learned", None, now
        row.observations += 1
    _drop(session, by_key.values())


def _candidate(session, doc: DocumentRow, key: VolatileKey, now: datetime) -> VolatileValueRow:
    row = VolatileValueRow(document_id=doc.id, kind=key.kind, value=key.value, state="candidate", observations=0,
                           first_seen=now, last_seen=now)
    session.add(row)
    session.flush()
    return row


def _drop(session, rows: Iterable[VolatileValueRow]) -> None:
    for row in rows:
        session.delete(row)
    session.flush()


def stop_watching(store: Store, document_id: str) -> None:
    """A fetch that changed something real (or nothing): the candidates' streak is over."""
    with store.session() as session:
        doc = _document(session, document_id)
        session.execute(delete(VolatileValueRow).where(
            VolatileValueRow.document_id == doc.id, VolatileValueRow.state == "candidate"))


def volatile_values(store: Store) -> dict[str, list[VolatileValue]]:
    """Every learned or watched value, by document id: what ``status`` shows."""
    found: dict[str, list[VolatileValue]] = defaultdict(list)
    with store.session() as session:
        rows = session.execute(
            select(DocumentRow.public_id, VolatileValueRow).join(DocumentRow, DocumentRow.id == VolatileValueRow.document_id)
            .order_by(DocumentRow.id, VolatileValueRow.kind, VolatileValueRow.value)
        ).all()
        for public_id, row in rows:
            found[public_id].append(VolatileValue(public_id, row.kind, row.value, row.state, row.observations,
                                                  row.first_seen, row.last_seen))
    return dict(found)
