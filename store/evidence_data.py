"""What an evidence bundle proves, read in one place: a record or document, the version
in force on a date, the capture that first recorded it, and its place in the signed log."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import merkle
from analysis.domain import ClassifiedClause, StoredVersion
from analysis.evidence import CaptureRecord, LogLeaf, TreeHead
from store import capture_log
from store.tables import (
    RECORDED_OUTCOMES,
    CaptureRecordRow,
    DocumentRow,
    FetchRow,
    LogEntryRow,
    ProvisionRow,
    VersionRow,
)

RECORD_ID = re.compile(r"^(CW-P-\d{6}|CW-D-\d{5})$")


class EvidenceError(Exception):
    """No evidence can be given for what was asked; the message says why."""


@dataclass(frozen=True)
class EvidenceSubject:
    """A record (or a whole document) at one version, and the signed log entry that captured that version."""

    record_id: str
    document_id: str
    platform: str
    document_type: str
    clause_type: str | None
    version: StoredVersion
    analyzer: str | None
    clauses: tuple[ClassifiedClause, ...]
    log_index: int
    leaf: bytes
    tree_head: TreeHead
    inclusion_proof: tuple[bytes, ...]
    captures: tuple[CaptureRecord, ...]

    @property
    def decoded_leaf(self) -> LogLeaf:
        return LogLeaf.decode(self.leaf)


@dataclass(frozen=True)
class CaptureSummary:
    """The line a record page shows: when the version was captured, its log entry, the head that signs it."""

    index: int
    captured_at: datetime
    tree_head: TreeHead


@dataclass(frozen=True)
class _VersionEvidence:
    """What the evidence of every record of one version shares: the document, the analysis, the capture that
    recorded the version, the signed head covering it and its proof."""

    platform: str
    document_type: str
    version: StoredVersion
    analyzer: str | None
    log_index: int
    leaf: bytes
    tree_head: TreeHead
    inclusion_proof: tuple[bytes, ...]
    captures: tuple[CaptureRecord, ...]


class EvidenceReader:
    """Reads evidence for many records of one store, sharing the log's leaves and subtree hashes.

    A site build asks for the bundle of each record of a document's version in a row (about a dozen), then for
    each of its versions: what those share is read once (:class:`_VersionEvidence`, the last few versions kept).
    Read for each record, it was ten statements and the version's every clause each time, most of a first build.
    """

    def __init__(self, store):
        self.store = store
        with store.session() as session:
            self.heads = capture_log.tree_heads(session)
            self._proofs = merkle.ProofCache([e.leaf_hash for e in capture_log.entries(session)])
        self._shared = functools.lru_cache(maxsize=4)(self._read_shared)

    def subject(self, record_id: str, at: datetime | None = None) -> EvidenceSubject:
        """The evidence of ``record_id`` (CW-P-… or CW-D-…) as it stood at ``at`` (default: now)."""
        if not RECORD_ID.match(record_id):
            raise EvidenceError(f"{record_id!r} is not a record id (CW-P-000001) or a document id (CW-D-00001)")
        with self.store.session() as session:
            document_id, clause_type = _subject(session, record_id)
        version = _version_at(self.store, document_id, at)
        return _record_subject(record_id, document_id, clause_type, self._evidence_of(document_id, version, at))

    def version_subject(self, document_id: str, version_sha256: str) -> EvidenceSubject:
        """The evidence of one version of a document (the bundle its version page links)."""
        return _record_subject(document_id, document_id, None, self._shared(document_id, version_sha256))

    def record_subject(self, record_id: str, version_sha256: str) -> EvidenceSubject:
        """The evidence of ``record_id`` in one given version: the one a site build planned its page on, whatever
        a crawl recorded since."""
        with self.store.session() as session:
            document_id, clause_type = _subject(session, record_id)
        return _record_subject(record_id, document_id, clause_type, self._shared(document_id, version_sha256))

    def _read_shared(self, document_id: str, version_sha256: str) -> _VersionEvidence:
        return self._evidence_of(document_id, _stored_version(self.store, document_id, version_sha256))

    def _evidence_of(self, document_id: str, version: StoredVersion, at: datetime | None = None) -> _VersionEvidence:
        with self.store.session() as session:
            document = session.scalar(select(DocumentRow).where(DocumentRow.public_id == document_id))
            analyzer = session.scalar(select(VersionRow.analyzed_with).where(
                VersionRow.document_id == document.id, VersionRow.sha256 == version.version.sha256))
            entry = None
            if at is not None:  # the capture nearest before the date that saw this version, under a signed head
                signed = max((head.size for head in self.heads), default=0)
                entry = _last_capture_by(session, document.id, version.version.sha256, at, signed)
            entry = entry or _first_capture(session, document.id, version.version.sha256, document_id)
            head = self.covering_head(entry.id, document_id)
            return _VersionEvidence(
                platform=document.platform.name, document_type=document.type, version=version, analyzer=analyzer,
                log_index=entry.id, leaf=bytes(entry.leaf), tree_head=head,
                inclusion_proof=tuple(self._proofs.inclusion_proof(entry.id, head.size)),
                captures=tuple(_captures_with_originals(session, entry.fetch_id)),
            )

    def signed_versions(self) -> dict[tuple[str, str], int]:
        """(document id, version SHA-256) → log index, for every version whose first capture a signed head covers."""
        signed = max((head.size for head in self.heads), default=0)
        logged = capture_log.CaptureLog(self.store).first_log_index_by_version()
        return {version: index for version, index in logged.items() if index < signed}

    def covering_head(self, index: int, document_id: str) -> TreeHead:
        """The first signed head covering entry ``index``: a bundle made once never needs remaking."""
        for head in self.heads:
            if head.size > index:
                return head
        raise EvidenceError(f"log entry {index} ({document_id}) is not yet covered by a signed tree head: "
                            "the next crawl signs one when it ends")

    def current_captures(self) -> dict[str, CaptureSummary]:
        """For each document whose current version was captured and signed: its capture line."""
        with self.store.session() as session:
            rows = session.execute(
                select(DocumentRow.public_id, LogEntryRow.id, FetchRow.finished_at)
                .join(FetchRow, FetchRow.document_id == DocumentRow.id)
                .join(LogEntryRow, LogEntryRow.fetch_id == FetchRow.id)
                .where(FetchRow.version_id == DocumentRow.current_version_id, FetchRow.outcome == "new_version")
                .order_by(LogEntryRow.id.desc())
            ).all()
            # Documents whose current version was rebuilt (technical): the first capture that named it.
            rebuilt = session.scalars(select(DocumentRow.id).join(VersionRow, VersionRow.id ==
                                                                  DocumentRow.current_version_id)
                                      .where(VersionRow.technical.is_(True))).all()
            if rebuilt:
                rows += session.execute(
                    select(DocumentRow.public_id, LogEntryRow.id, FetchRow.finished_at)
                    .join(FetchRow, FetchRow.document_id == DocumentRow.id)
                    .join(VersionRow, VersionRow.id == FetchRow.version_id)
                    .join(LogEntryRow, LogEntryRow.fetch_id == FetchRow.id)
                    .where(FetchRow.document_id.in_(rebuilt), FetchRow.version_id == DocumentRow.current_version_id,
                           *capture_log.REBUILT_VERSION_CAPTURE)
                    .order_by(LogEntryRow.id.desc())
                ).all()
        found: dict[str, CaptureSummary] = {}
        for document_id, index, captured_at in rows:
            head = next((h for h in self.heads if h.size > index), None)
            if head is not None:
                found[document_id] = CaptureSummary(index, captured_at, head)
        return found


def _record_subject(record_id: str, document_id: str, clause_type: str | None,
                    shared: _VersionEvidence) -> EvidenceSubject:
    """The evidence of a record (or, without a clause type, of the whole document) in the version of ``shared``."""
    return EvidenceSubject(
        record_id=record_id, document_id=document_id, platform=shared.platform, document_type=shared.document_type,
        clause_type=clause_type, version=shared.version, analyzer=shared.analyzer,
        clauses=tuple(item for item in shared.version.clauses
                      if clause_type is None or clause_type in item.classification.types),
        log_index=shared.log_index, leaf=shared.leaf, tree_head=shared.tree_head,
        inclusion_proof=shared.inclusion_proof, captures=shared.captures,
    )


def evidence_subject(store, record_id: str, at: datetime | None = None) -> EvidenceSubject:
    """The evidence of ``record_id`` (CW-P-… or CW-D-…) as it stood at ``at`` (default: now)."""
    return EvidenceReader(store).subject(record_id, at)


def _subject(session: Session, record_id: str) -> tuple[str, str | None]:
    if record_id.startswith("CW-D-"):
        if session.scalar(select(DocumentRow.id).where(DocumentRow.public_id == record_id)) is None:
            raise EvidenceError(f"no document {record_id} in the store")
        return record_id, None
    row = session.execute(select(DocumentRow.public_id, ProvisionRow.clause_type)
                          .join(DocumentRow, DocumentRow.id == ProvisionRow.document_id)
                          .where(ProvisionRow.public_id == record_id)).first()
    if row is None:
        raise EvidenceError(f"no provision record {record_id} in the store")
    return row.public_id, row.clause_type


def _version_at(store, document_id: str, at: datetime | None) -> StoredVersion:
    """The version in force at ``at`` (default: the current one), by the document's timeline.

    Not "the last one first seen by then": a text that went back to an earlier
    wording (A, B, then A again) keeps A's first sighting, and B was bundled
    for a date A was in force again.
    """
    if at is None:
        current = store.history.current_version(document_id)
        if current is None:
            raise EvidenceError(f"{document_id} had no version")
        return current
    from analysis.timeline import NotYetCapturedError
    from store.timeline import document_timeline

    try:
        period, _record = document_timeline(store, document_id).in_force(at)
    except NotYetCapturedError as before:
        first = (f"its first capture was {before.first_capture.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
                 if before.first_capture else "it was never captured")
        raise EvidenceError(f"{document_id} had no version on {at:%Y-%m-%d %H:%M} UTC: {first}") from None
    return _stored_version(store, document_id, period.version)


def _stored_version(store, document_id: str, version_sha256: str) -> StoredVersion:
    # Folded versions too: the site's version pages and the timeline show them, and their captures prove them.
    versions = store.history.versions(document_id, include_folded=True)
    version = next((v for v in versions if v.version.sha256 == version_sha256), None)
    if version is None:
        raise EvidenceError(f"{document_id} has no version {version_sha256[:16]}")
    return version


def _last_capture_by(session: Session, document_pk: int, version_sha: str, at: datetime,
                     signed: int) -> LogEntryRow | None:
    """The latest capture of a page, by ``at`` and under a signed head (a log index below ``signed``), that saw
    this version as the document's: the nearest proof of the text as it stood then."""
    return session.scalar(
        select(LogEntryRow).join(FetchRow, FetchRow.id == LogEntryRow.fetch_id)
        .join(VersionRow, VersionRow.id == FetchRow.version_id)
        .where(FetchRow.document_id == document_pk, VersionRow.sha256 == version_sha,
               FetchRow.outcome.in_(RECORDED_OUTCOMES), FetchRow.snapshot_id.is_not(None),
               FetchRow.finished_at <= at, LogEntryRow.id < signed)
        .order_by(LogEntryRow.id.desc()).limit(1)
    )


def _first_capture(session: Session, document_pk: int, version_sha: str, document_id: str) -> LogEntryRow:
    """The capture that first recorded the version; for a technical version (rebuilt from earlier captures), the
    first capture of a page that named it as the document's version, or else the first 304 that did (a page that
    never changed again answers nothing else)."""
    for where in ((FetchRow.outcome == "new_version",), capture_log.REBUILT_VERSION_CAPTURE,
                  capture_log.REBUILT_VERSION_NOT_MODIFIED):
        entry = session.scalar(
            select(LogEntryRow).join(FetchRow, FetchRow.id == LogEntryRow.fetch_id)
            .join(VersionRow, VersionRow.id == FetchRow.version_id)
            .where(FetchRow.document_id == document_pk, VersionRow.sha256 == version_sha, *where)
            .order_by(LogEntryRow.id).limit(1)
        )
        if entry is not None:
            return entry
    technical = session.scalar(select(VersionRow.technical).where(VersionRow.document_id == document_pk,
                                                                  VersionRow.sha256 == version_sha))
    if technical:
        current = session.scalar(select(DocumentRow.current_version_id).where(DocumentRow.id == document_pk))
        version_pk = session.scalar(select(VersionRow.id).where(VersionRow.document_id == document_pk,
                                                                VersionRow.sha256 == version_sha))
        later = "the next crawl's capture will" if current == version_pk else \
            "and, superseded since, none will: its pages are in the log, and `show` gives its text"
        raise EvidenceError(f"version {version_sha[:12]} of {document_id} was rebuilt from earlier captures (reprocess, "
                            f"or a value learned as volatile), and no capture names it as the document's version; "
                            f"{later}")
    raise EvidenceError(f"version {version_sha[:12]} of {document_id} was recorded before the capture log "
                        "began: it has no log entry to prove")


def _captures_with_originals(session: Session, fetch_id: int) -> list[CaptureRecord]:
    """The fetch's captures, preceded by any response record a revisit among them refers to."""
    own = capture_log.capture_records(session, [fetch_id]).get(fetch_id, [])
    wanted = {c.refers_to_record_id for c in own if c.record_type == "revisit" and c.refers_to_record_id}
    originals = [capture_log.capture_from_row(row) for row in session.scalars(
        select(CaptureRecordRow).where(CaptureRecordRow.record_id.in_(wanted)))] if wanted else []
    return [*originals, *own]
