"""The recording repository: what each fetch came to, written in one transaction.

A new text creates its version, clauses, provision records and change; the same
text only verifies the current version again; a failure is recorded with its
kind, never as a version. Blobs are written before rows, so no row ever points
at a missing blob, and saving is idempotent: a hash already stored returns the
existing record.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from analysis.domain import ClassifiedClause, ClauseChange, Snapshot, StoredVersion, VersionAnalysis
from analysis.evidence import HttpExchange
from analysis.text import sha256_text
from store import capture_log, mapping
from store.database import Database, StoreError, chunks, document_row, document_rows
from store.history import History
from store.tables import (
    ChangeRow,
    ClauseChangeRow,
    ClauseRow,
    DocumentRow,
    FetchRow,
    ProvisionRow,
    SnapshotRow,
    VersionRow,
    VersionSnapshotRow,
)

log = logging.getLogger(__name__)

# The statements every new text runs, built once and run with their parameters: SQLAlchemy spent more on
# building a statement and its cache key than on running it (decision 0014, twelfth pass).
_SNAPSHOTS_OF = select(SnapshotRow).where(SnapshotRow.document_id.in_(bindparam("document_ids", expanding=True)),
                                          SnapshotRow.sha256.in_(bindparam("shas", expanding=True)))
_VERSION_OF_TEXT = select(VersionRow).where(VersionRow.document_id == bindparam("document_id"),
                                            VersionRow.sha256 == bindparam("sha256"))
_PROVISION_TYPES = select(ProvisionRow.clause_type).where(ProvisionRow.document_id == bindparam("document_id"))
_INSERT_CLAUSES = insert(ClauseRow.__table__)
_PROVISIONS = ProvisionRow.__table__
_INSERT_PROVISIONS = insert(_PROVISIONS).returning(_PROVISIONS.c.id)
_NAME_PROVISIONS = update(_PROVISIONS).where(_PROVISIONS.c.id == bindparam("row_id")).values(
    public_id=bindparam("name"))
_INSERT_CHANGE = insert(ChangeRow.__table__)
# A page alternating between two texts (an A/B test, two servers behind one name): once it has gone from one to the
# other and back, each further switch is recorded with its clause changes but is not news: not substantive, so
# neither alerted nor in the feeds, with this as its reason.
ALTERNATING = "back to a text it has switched to and from before"
_SWITCHES = select(func.count()).select_from(ChangeRow).where(
    ChangeRow.document_id == bindparam("document_id"), ChangeRow.folded.is_(False),
    or_(and_(ChangeRow.from_version_id == bindparam("one"), ChangeRow.to_version_id == bindparam("other")),
        and_(ChangeRow.from_version_id == bindparam("other"), ChangeRow.to_version_id == bindparam("one"))))
_INSERT_CLAUSE_CHANGES = insert(ClauseChangeRow.__table__)


class AnalyzeVersion(Protocol):
    """What the store calls to analyse a document's new text (``analysis.pipeline.Analyzer`` is one).

    ``previous`` is the document's current version (None for its first text) and
    ``document_type`` its type in the catalog ("Privacy Policy"…), which decides
    how the privacy types are classified there (decision 0027).
    """

    def __call__(self, previous: StoredVersion | None, text: str,
                 document_type: str | None = None) -> VersionAnalysis: ...


# How many consecutive fetches must serve the same implausibly shorter text
# before it is believed and recorded as a version (the first ones are refused).
SHRINK_CONFIRMATIONS = 2


@dataclass(frozen=True)
class RecordResult:
    """What a fetch came to: its outcome, and the version it produced or confirmed."""

    outcome: str
    version_sha256: str | None = None
    error_kind: str | None = None
    change_id: int | None = None
    detail: str | None = None  # a failure's, as recorded


@dataclass(frozen=True)
class NotModifiedFetch:
    """One 304 to record with :meth:`Recording.record_not_modified_many`."""

    document_id: str
    started_at: datetime
    finished_at: datetime
    run_id: str | None = None
    exchanges: Sequence[HttpExchange] = ()


@dataclass(frozen=True)
class IdenticalFetch:
    """One fetch to record with :meth:`Recording.record_identical_many`: its key and every part's page."""

    document_id: str
    extraction_key: str
    snapshots: Sequence[tuple[Snapshot, bytes]]
    started_at: datetime
    finished_at: datetime
    run_id: str | None = None
    exchanges: Sequence[HttpExchange] = ()


@dataclass(frozen=True)
class KnownHead:
    """What a caller of :meth:`Recording.record_text` read of the document before extracting its text.

    ``current`` is the current version's hash and length in characters (None
    for a document without one), ``document_type`` its type in the catalog.
    ``record_text`` starts from them instead of reading them again (the crawl's
    recorder reads both with the volatile state, decision 0014); the transaction
    still checks the current version is the one expected, and a version recorded
    meanwhile means reading it afresh and analysing again, as for any caller.
    """

    current: tuple[str, int] | None
    document_type: str


class Recording:
    """Records fetches (text, failure, 304, held) and rebuilt histories of documents."""

    def __init__(self, db: Database, history: History) -> None:
        self.db, self.history = db, history

    def record_failure(
        self,
        document_id: str,
        *,
        started_at: datetime,
        finished_at: datetime,
        kind: str,
        detail: str = "",
        snapshot: Snapshot | None = None,
        body: bytes | None = None,
        run_id: str | None = None,
        exchanges: Sequence[HttpExchange] = (),
    ) -> RecordResult:
        """A failed fetch: recorded with its kind, never as a version. An error page is kept as evidence."""
        self._put_pages([body] if body is not None else [], exchanges)
        with self.db.session() as session:
            doc = document_row(session, document_id)
            snap = _upsert_snapshot(session, doc, snapshot) if snapshot is not None and body is not None else None
            _add_fetch(session, exchanges, FetchRow(
                document_id=doc.id, started_at=started_at, finished_at=finished_at, outcome="failed",
                error_kind=kind, error_detail=detail[:2000], snapshot_id=snap.id if snap else None, run_id=run_id,
            ))
        return RecordResult("failed", error_kind=kind, detail=detail[:2000] or None)

    def record_not_modified(
        self, document_id: str, *, started_at: datetime, finished_at: datetime, run_id: str | None = None,
        exchanges: Sequence[HttpExchange] = (),
    ) -> RecordResult:
        """A 304: the current version is verified again, nothing else changes."""
        self._put_renderings(exchanges)  # a redirect's body, were one followed to the 304
        with self.db.session() as session:
            doc = document_row(session, document_id)
            version = session.get(VersionRow, doc.current_version_id) if doc.current_version_id else None
            if version is not None:
                version.last_verified = max(version.last_verified, finished_at)
            _add_fetch(session, exchanges, FetchRow(
                document_id=doc.id, started_at=started_at, finished_at=finished_at, outcome="not_modified",
                version_id=version.id if version else None, run_id=run_id,
            ))
        return RecordResult("not_modified", version.sha256 if version else None)

    def record_not_modified_many(self, fetches: Sequence[NotModifiedFetch]) -> list[RecordResult]:
        """Several 304s in one transaction: one query for their documents, one for their versions.

        What each fetch records is what :meth:`record_not_modified` records; on
        an unchanged run most documents answer 304, and a transaction, a
        document lookup and a version lookup per document were most of the
        cost of recording them (decision 0014).
        """
        for fetch in fetches:
            self._put_renderings(fetch.exchanges)  # a redirect's body, were one followed to the 304
        with self.db.session() as session:
            docs = document_rows(session, [fetch.document_id for fetch in fetches])
            versions = _current_versions(session, docs.values())
            rows, results = [], []
            for fetch in fetches:
                doc = docs[fetch.document_id]
                version = versions.get(doc.current_version_id)
                if version is not None:
                    version.last_verified = max(version.last_verified, fetch.finished_at)
                rows.append((FetchRow(
                    document_id=doc.id, started_at=fetch.started_at, finished_at=fetch.finished_at,
                    outcome="not_modified", version_id=version.id if version else None, run_id=fetch.run_id,
                ), fetch.exchanges))
                results.append(RecordResult("not_modified", version.sha256 if version else None))
            _add_fetches(session, rows)
        return results

    def record_text(
        self,
        document_id: str,
        *,
        snapshot: Snapshot,
        body: bytes,
        text: str,
        started_at: datetime,
        finished_at: datetime,
        analyze: AnalyzeVersion | None = None,
        extra_snapshots: Sequence[tuple[Snapshot, bytes]] = (),
        part_starts: Sequence[int] = (),
        shrink_ratio: float = 0.0,
        technical: bool = False,
        run_id: str | None = None,
        exchanges: Sequence[HttpExchange] = (),
        extraction_key: str | None = None,
        known: KnownHead | None = None,
    ) -> RecordResult:
        """Record a successful fetch whose normalised text is ``text``: the same text only moves ``last_verified``;
        a new text creates the version, its clauses, provisions and change in one transaction, after its blobs.
        ``extra_snapshots`` are the further parts of a combined document, and
        ``part_starts`` where each part (the first included) begins in ``text``.
        ``extraction_key`` (``crawler.extraction_key``), when given, is kept with the text's hash for
        :meth:`record_identical_many`. ``known``, when given, is what the caller read of the document
        (:class:`KnownHead`): the first attempt starts from it.
        """
        text_sha = self._put_blobs(body, extra_snapshots, text, exchanges)
        parts = _parts((snapshot, *(extra for extra, _ in extra_snapshots)), part_starts)
        for attempt in range(3):
            # What the caller read starts the first attempt; a retry reads the head again.
            head = known if attempt == 0 else None
            # The current version's hash and length decide the common cases; its
            # text and clauses are loaded only when a new text must be analysed.
            current = head.current if head else self.history.current_head(document_id)
            if current is not None and current[0] == text_sha:
                analysis = None
            elif detail := self._suspicious_shrink(document_id, current, text, text_sha, shrink_ratio):
                if head:
                    # Judged on what the caller read before extracting: another writer may have recorded a shorter
                    # version since. A refusal is only made on a head read now (no transaction would catch it).
                    continue
                return self.record_failure(
                    document_id, started_at=started_at, finished_at=finished_at, kind="suspicious_shrink",
                    detail=detail, snapshot=snapshot, body=body, run_id=run_id, exchanges=exchanges,
                )
            else:
                # A first text has no version to align with: nothing to load.
                previous = self.history.current_version(document_id) if current and analyze else None
                document_type = head.document_type if head else self.history.document_type(document_id)
                analysis = analyze(previous, text, document_type) if analyze else None
            try:
                return self._record_text_transaction(
                    document_id, current[0] if current else None, parts, text, text_sha, analysis,
                    started_at=started_at, finished_at=finished_at, technical=technical, run_id=run_id,
                    exchanges=exchanges, extraction_key=extraction_key,
                )
            except _CurrentVersionMoved:
                log.info("current version of %s moved during analysis; analysing again", document_id)
            except IntegrityError:
                log.info("concurrent write on %s; retrying", document_id)
        raise StoreError(f"could not record a fetch of {document_id}: the document kept changing under us")

    def _put_blobs(self, body: bytes, extra_snapshots: Sequence[tuple[Snapshot, bytes]], text: str,
                   exchanges: Sequence[HttpExchange]) -> str:
        """Every blob of a fetch, before any row names one; returns the text's hash."""
        self._put_pages([body, *(extra_body for _extra, extra_body in extra_snapshots)], exchanges)
        return self.db.blobs.put(text.encode("utf-8"))

    def _put_pages(self, bodies: Sequence[bytes], exchanges: Sequence[HttpExchange]) -> None:
        """The pages a fetch got and their browser renderings, before any row names them."""
        for body in bodies:
            self.db.blobs.put(body)
        self._put_renderings(exchanges)

    def _suspicious_shrink(self, document_id: str, current: tuple[str, int] | None, text: str, text_sha: str,
                           shrink_ratio: float) -> str | None:
        """Why a text implausibly shorter than the current version is refused, or None to record it."""
        if current is None or not shrink_ratio or len(text) >= shrink_ratio * current[1]:
            return None
        if self._shrink_confirmed(document_id, text_sha):
            return None
        return f"text shrank from {current[1]} to {len(text)} characters (text {text_sha[:16]})"

    def _shrink_confirmed(self, document_id: str, text_sha: str) -> bool:
        """Whether this same shorter text was already refused on the last consecutive fetches.

        A broken page rarely serves the very same truncated text again and again;
        a real shrink does, so after SHRINK_CONFIRMATIONS sightings it is recorded
        rather than refused for ever.
        """
        with self.db.session() as session:
            doc = document_row(session, document_id)
            recent = session.scalars(
                select(FetchRow).where(FetchRow.document_id == doc.id)
                .order_by(FetchRow.finished_at.desc(), FetchRow.id.desc()).limit(SHRINK_CONFIRMATIONS - 1)
            ).all()
        return len(recent) == SHRINK_CONFIRMATIONS - 1 and all(
            f.error_kind == "suspicious_shrink" and f"(text {text_sha[:16]})" in (f.error_detail or "") for f in recent
        )

    def _record_text_transaction(
        self, document_id, expected, snapshots, text, text_sha, analysis, *, started_at, finished_at, technical, run_id,
        exchanges=(), extraction_key=None,
    ) -> RecordResult:
        with self.db.session() as session:
            doc = document_row(session, document_id)
            current = session.get(VersionRow, doc.current_version_id) if doc.current_version_id else None
            if (current.sha256 if current else None) != expected:
                raise _CurrentVersionMoved()
            if extraction_key is not None:
                doc.extraction_key, doc.extraction_text_sha256 = extraction_key, text_sha
            snaps = [(_upsert_snapshot(session, doc, snapshot), start) for snapshot, start in snapshots]
            snap = snaps[0][0]
            if current is not None and current.sha256 == text_sha:
                for each, start in snaps:
                    _link(session, current, each, start)
                _add_fetch(session, exchanges, _verified_again(doc, current, snap, started_at=started_at,
                                                               finished_at=finished_at, run_id=run_id))
                return RecordResult("unchanged", current.sha256)
            version, created = _upsert_version(session, doc, text, text_sha, analysis, finished_at, technical)
            if created:
                _link_new(session, version, snaps)
            else:
                for each, start in snaps:
                    _link(session, version, each, start)
            alternating = not created and current is not None and session.scalar(
                _SWITCHES, {"document_id": doc.id, "one": current.id, "other": version.id}) >= 2
            change_id = _add_change(session, doc, current, version, analysis, finished_at, technical,
                                    alternating=alternating)
            doc.current_version_id = version.id
            _add_fetch(session, exchanges, FetchRow(
                document_id=doc.id, started_at=started_at, finished_at=finished_at, outcome="new_version",
                snapshot_id=snap.id, version_id=version.id, run_id=run_id,
            ))
            return RecordResult("new_version", text_sha, change_id=change_id)

    def record_identical_many(self, fetches: Sequence[IdenticalFetch]) -> list[RecordResult | None]:
        """Fetches whose extraction key is the one the current version's text was last extracted under.

        Each is recorded exactly as :meth:`record_text` records the same text
        (the current version verified again, every part's snapshot kept and its
        validators updated, an ``unchanged`` fetch in the capture log), without
        the text: it is the current version's. Checked in the transaction,
        fetch by fetch: the document's stored key is the fetch's, the text it
        gave is the current version's, and every part is a snapshot already
        linked to that version. A fetch that fails a check gets None and writes
        nothing: the caller extracts it and records it with :meth:`record_text`.
        All of them are recorded in one transaction, the documents, their
        versions and their linked pages read in one query each: one fetch at a
        time, that reading and the transaction were most of the cost of an
        identical page (decision 0014, eleventh pass).
        """
        for fetch in fetches:
            self._put_pages([body for _snapshot, body in fetch.snapshots], fetch.exchanges)
        with self.db.session() as session:
            docs = document_rows(session, [fetch.document_id for fetch in fetches])
            versions = _current_versions(session, docs.values())
            shas = {snapshot.sha256 for fetch in fetches for snapshot, _body in fetch.snapshots}
            linked = _linked_pages(session, versions.values(), shas)
            stored = _stored_snapshots(session, docs.values(), shas)
            rows, results = [], []
            for fetch in fetches:
                doc = docs[fetch.document_id]
                current = versions.get(doc.current_version_id)
                if not _still_identical(fetch, doc, current, linked):
                    results.append(None)
                    continue
                snaps = [_keep_snapshot(session, doc, snapshot, stored) for snapshot, _body in fetch.snapshots]
                rows.append((_verified_again(doc, current, snaps[0], started_at=fetch.started_at,
                                             finished_at=fetch.finished_at, run_id=fetch.run_id), fetch.exchanges))
                results.append(RecordResult("unchanged", current.sha256))
            _add_fetches(session, rows)
        return results

    def _put_renderings(self, exchanges: Sequence[HttpExchange]) -> None:
        # Blobs before rows: a browser's payload and rendered DOM, and a redirect's body, are stored before the
        # capture naming them.
        for exchange in exchanges:
            for data in (exchange.payload, exchange.rendered_dom):
                if data is not None:
                    self.db.blobs.put(data)

    def record_held(
        self, document_id: str, *, snapshot: Snapshot, body: bytes, started_at: datetime, finished_at: datetime,
        extra_snapshots: Sequence[tuple[Snapshot, bytes]] = (), exchanges: Sequence[HttpExchange] = (),
        run_id: str | None = None,
    ) -> RecordResult:
        """A fetch whose text differs from the current version only in values being watched as volatile.

        Its pages are kept as evidence, its captures logged as every fetch's
        are, and the fetch counts as unchanged; the current version is not
        verified again (its text was not seen as such).
        """
        self._put_pages([body, *(extra_body for _extra, extra_body in extra_snapshots)], exchanges)
        with self.db.session() as session:
            doc = document_row(session, document_id)
            snap = _upsert_snapshot(session, doc, snapshot)
            for extra, _body in extra_snapshots:
                _upsert_snapshot(session, doc, extra)
            _add_fetch(session, exchanges, FetchRow(
                document_id=doc.id, started_at=started_at, finished_at=finished_at, outcome="unchanged",
                snapshot_id=snap.id, version_id=doc.current_version_id, run_id=run_id,
            ))
            current = session.get(VersionRow, doc.current_version_id) if doc.current_version_id else None
            return RecordResult("unchanged", current.sha256 if current else None)

    def rebuild_history(self, document_id: str, runs: Sequence[RebuiltRun], *, analyze: AnalyzeVersion) -> int:
        """Make ``runs`` the document's history; returns how many (technical) versions it created.

        A run whose text is already a version keeps that version (its hash,
        clauses and provision records); others become technical versions. Every
        other version is folded into the run holding its first snapshot, and
        every change not between two consecutive runs is folded: kept, not shown.
        """
        for run in runs:
            self.db.blobs.put(run.text.encode("utf-8"))
        with self.db.session() as session:
            doc = document_row(session, document_id)
            history = _Rebuild(self.history, session, doc, analyze)
            for run in runs:
                history.add(run)
            history.fold()
            history.read_fetches(runs)
            doc.current_version_id = history.previous_row.id if history.previous_row else doc.current_version_id
            return history.created


def _add_fetch(session: Session, exchanges: Sequence[HttpExchange], fetch: FetchRow) -> None:
    """Add a Fetch row with its WARC captures and its entry in the capture log, in one transaction."""
    _add_fetches(session, [(fetch, exchanges)])


def _add_fetches(session: Session, fetches: Sequence[tuple[FetchRow, Sequence[HttpExchange]]]) -> None:
    """Add Fetch rows, in log order, with their WARC captures and capture-log entries: one flush for all of them."""
    if not fetches:
        return
    session.add_all([fetch for fetch, _exchanges in fetches])
    session.flush()
    capture_log.append_many(session, fetches)


def _current_versions(session: Session, docs: Iterable[DocumentRow]) -> dict[int, VersionRow]:
    """The current version of each of these documents that has one, by id, in one query."""
    ids = [doc.current_version_id for doc in docs if doc.current_version_id]
    return {row.id: row for row in session.scalars(select(VersionRow).where(VersionRow.id.in_(ids)))}


def _linked_pages(session: Session, versions: Iterable[VersionRow], shas: set[str]) -> set[tuple[int, str]]:
    """Which of these pages (by hash) are snapshots linked to which of these versions: (version id, hash) pairs."""
    return {(version_id, sha) for version_id, sha in session.execute(
        select(VersionSnapshotRow.version_id, SnapshotRow.sha256)
        .join(SnapshotRow, VersionSnapshotRow.snapshot_id == SnapshotRow.id)
        .where(VersionSnapshotRow.version_id.in_([version.id for version in versions]),
               SnapshotRow.sha256.in_(sorted(shas))))}


def _stored_snapshots(session: Session, docs: Iterable[DocumentRow],
                      shas: set[str]) -> dict[tuple[int, str], SnapshotRow]:
    """These documents' snapshots of these pages, by (document id, hash), in one query."""
    return {(row.document_id, row.sha256): row for row in session.scalars(
        _SNAPSHOTS_OF, {"document_ids": [doc.id for doc in docs], "shas": sorted(shas)})}


def _still_identical(fetch: IdenticalFetch, doc: DocumentRow, current: VersionRow | None,
                     linked: set[tuple[int, str]]) -> bool:
    """:meth:`Recording.record_identical_many`'s checks, in the transaction: the key and its text still the current
    version's, every part a snapshot linked to it."""
    return (current is not None and doc.extraction_key == fetch.extraction_key
            and doc.extraction_text_sha256 == current.sha256
            and all((current.id, snapshot.sha256) in linked for snapshot, _body in fetch.snapshots))


def _verified_again(doc: DocumentRow, current: VersionRow, snap: SnapshotRow, *, started_at: datetime,
                    finished_at: datetime, run_id: str | None) -> FetchRow:
    """A fetch that gave the current version's text again: the version verified then, its ``unchanged`` row."""
    current.last_verified = max(current.last_verified, finished_at)
    return FetchRow(document_id=doc.id, started_at=started_at, finished_at=finished_at, outcome="unchanged",
                    snapshot_id=snap.id, version_id=current.id, run_id=run_id)


def _upsert_snapshot(session: Session, doc: DocumentRow, snapshot: Snapshot) -> SnapshotRow:
    return _keep_snapshot(session, doc, snapshot, _stored_snapshots(session, [doc], {snapshot.sha256}))


def _keep_snapshot(session: Session, doc: DocumentRow, snapshot: Snapshot,
                   stored: dict[tuple[int, str], SnapshotRow]) -> SnapshotRow:
    """The stored row of ``snapshot`` (``stored`` holds the rows read) with its newest validators, or a new one."""
    row = stored.get((doc.id, snapshot.sha256))
    if row is None:
        row = SnapshotRow(
            document_id=doc.id, sha256=snapshot.sha256, requested_url=snapshot.requested_url,
            final_url=snapshot.final_url, status=snapshot.status, content_type=snapshot.content_type,
            etag=snapshot.etag, last_modified=snapshot.last_modified, fetcher=snapshot.fetcher,
            size=snapshot.size, fetched_at=snapshot.fetched_at,
        )
        session.add(row)
        session.flush()
        stored[(doc.id, snapshot.sha256)] = row
    else:
        # Keep the newest validators so the next conditional request matches the server.
        row.etag = snapshot.etag or row.etag
        row.last_modified = snapshot.last_modified or row.last_modified
    return row

def _upsert_version(session, doc, text, text_sha, analysis, now, technical) -> tuple[VersionRow, bool]:
    row = session.scalar(_VERSION_OF_TEXT, {"document_id": doc.id, "sha256": text_sha})
    if row is not None:  # the text went back to an earlier version
        row.last_verified = max(row.last_verified, now)
        row.folded_into_id = None  # seen again as it is: back in the history
        return row, False
    row = VersionRow(
        document_id=doc.id, sha256=text_sha, first_seen=now, last_verified=now, technical=technical,
        text_length=len(text),
        stated_date=analysis.stated_date if analysis else None,
        stated_date_label=analysis.stated_date_label if analysis else None,
        analyzed_with=analysis.analyzer if analysis else None,
        language=analysis.language if analysis else None,
    )
    session.add(row)
    session.flush()
    if analysis is not None:
        add_clauses(session, doc, row, analysis.clauses, now)
    return row, True

def add_clauses(session: Session, doc: DocumentRow, version: VersionRow,
                clauses: Sequence[ClassifiedClause], now: datetime) -> None:
    """Insert a version's classified clauses in one statement and open any provision they start."""
    if clauses:
        # A Core insert of the table: the ORM's bulk path adds ~30 % for rows no session holds.
        session.execute(_INSERT_CLAUSES, [mapping.clause_values(item, version.id) for item in clauses])
    ensure_provisions(session, doc, {t for item in clauses for t in item.classification.types}, now)

def ensure_provisions(session: Session, doc: DocumentRow, clause_types: set[str], now: datetime) -> None:
    """One provision record per (document, clause type); record ids are never reused.

    The new records are inserted in one statement, in clause-type order, then
    named after their primary keys in another: flushed as ORM objects, each
    record was an insert of its own (about 16 per new document). Both are Core
    statements of the table: the ORM's bulk insert and update doubled their
    cost (16 records: 1.0 -> 0.5 ms, decision 0014, twelfth pass).
    """
    existing = set(session.scalars(_PROVISION_TYPES, {"document_id": doc.id}))
    new_types = sorted(clause_types - existing)
    if not new_types:
        return
    ids = session.scalars(_INSERT_PROVISIONS, [
        dict(document_id=doc.id, clause_type=clause_type, public_id="~" + uuid.uuid4().hex[:16], first_seen=now)
        for clause_type in new_types
    ]).all()
    # The record id derives from the primary key.
    session.execute(_NAME_PROVISIONS, [{"row_id": id_, "name": f"CW-P-{id_:06d}"} for id_ in ids])

def _link(session: Session, version: VersionRow, snap: SnapshotRow, text_start: int | None = None) -> None:
    if session.get(VersionSnapshotRow, (version.id, snap.id)) is None:
        session.add(VersionSnapshotRow(version_id=version.id, snapshot_id=snap.id, text_start=text_start))

def _link_new(session: Session, version: VersionRow, snaps: Sequence[tuple[SnapshotRow, int | None]]) -> None:
    """Link a version just created to its pages, as :func:`_link` would: none is linked yet, so no query asks
    (a page that is two parts of the document is linked once, at its first start)."""
    linked: set[int] = set()
    for snap, start in snaps:
        if snap.id not in linked:
            linked.add(snap.id)
            session.add(VersionSnapshotRow(version_id=version.id, snapshot_id=snap.id, text_start=start))


def _add_change(session, doc, current, version, analysis, now, technical, *, alternating: bool = False) -> int:
    """The change leading to ``version`` and its clause changes; returns the change's id. A switch between two
    texts the document has gone from one to the other and back before is not substantive (:data:`ALTERNATING`).

    Core inserts, the clause changes in one statement: nothing reads these rows
    back as objects in the transaction, and flushing them as ORM objects cost
    the unit of work a cycle per change and an object per clause change
    (decision 0014, twelfth pass). Rows and ids are the ones the flush made.
    """
    change = analysis.change if analysis else None
    change_id = session.execute(_INSERT_CHANGE, dict(
        document_id=doc.id,
        from_version_id=current.id if current else None,
        to_version_id=version.id,
        detected_at=now,
        substantive=not alternating and (change.substantive if change else current is not None),
        severity_raised=not alternating and (change.severity_raised if change else False),
        cosmetic_reason=ALTERNATING if alternating else change.cosmetic_reason if change else None,
        technical=technical,
    )).inserted_primary_key[0]
    if change is not None:
        insert_clause_changes(session, change_id, change.clause_changes)
    return change_id


def insert_clause_changes(session: Session, change_id: int, clause_changes: Sequence[ClauseChange]) -> None:
    """A change's clause changes, in their order, in one Core insert (no ORM object per row)."""
    if clause_changes:
        session.execute(_INSERT_CLAUSE_CHANGES, [mapping.clause_change_values(clause_change, change_id, ordinal)
                                                 for ordinal, clause_change in enumerate(clause_changes)])


@dataclass(frozen=True)
class RebuiltRun:
    """Consecutive fetches whose texts are equal under today's normalisation."""

    text: str
    snapshot_shas: tuple[str, ...]  # every part of every fetch, linked to the run's version
    first_seen: datetime
    last_seen: datetime
    fetch_shas: tuple[str, ...] = ()  # the primary snapshot of each fetch: what decides a fold
    fetch_ids: tuple[int, ...] = ()  # the fetches of the run, which read as its version from now on
    # A document of several pages: where each page (by hash) begins in the text, as a crawl links them.
    part_starts: Mapping[str, int] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return sha256_text(self.text)


class _Rebuild:
    """One rebuild of a document's history, run by run, inside one session."""

    def __init__(self, history: History, session: Session, doc: DocumentRow, analyze: AnalyzeVersion) -> None:
        self.history, self.session, self.doc, self.analyze = history, session, doc, analyze
        self.rows = {r.sha256: r for r in session.scalars(select(VersionRow).where(VersionRow.document_id == doc.id))}
        self.snapshots = {r.sha256: r for r in session.scalars(select(SnapshotRow).where(SnapshotRow.document_id == doc.id))}
        self.changes = session.scalars(
            select(ChangeRow).where(ChangeRow.document_id == doc.id).order_by(ChangeRow.detected_at, ChangeRow.id)
        ).all()
        self.by_pair: dict[tuple[int | None, int], ChangeRow] = {}
        for change in self.changes:
            self.by_pair.setdefault((change.from_version_id, change.to_version_id), change)
        self.kept_changes: set[int] = set()
        self.run_of_snapshot: dict[str, VersionRow] = {}  # primary snapshot -> its run's version
        self.run_rows: list[VersionRow] = []
        self.previous: StoredVersion | None = None
        self.previous_row: VersionRow | None = None
        self.created = 0

    def add(self, run: RebuiltRun) -> None:
        row, analysis = self.rows.get(run.sha256), None
        if row is None:
            analysis = self.analyze(self.previous, run.text, self.doc.type) if self.analyze else None
            row, _ = _upsert_version(self.session, self.doc, run.text, run.sha256, analysis,
                                          run.first_seen, True)
            self.rows[run.sha256] = row
            self.created += 1
        row.folded_into_id = None
        row.last_verified = max(row.last_verified, run.last_seen)
        for sha in run.snapshot_shas:
            if (snap := self.snapshots.get(sha)) is not None:
                _link(self.session, row, snap, run.part_starts.get(sha))
        for sha in run.fetch_shas:
            self.run_of_snapshot.setdefault(sha, row)
        self.run_rows.append(row)
        self._keep_change(row, run, analysis)
        self.previous = self.history.stored_version(self.session, row, self.doc.public_id)
        self.previous_row = row

    def _keep_change(self, row: VersionRow, run: RebuiltRun, analysis: VersionAnalysis | None) -> None:
        change = self.by_pair.get((self.previous_row.id if self.previous_row else None, row.id))
        if change is not None:
            self.kept_changes.add(change.id)
            return
        if analysis is None and self.analyze is not None:
            analysis = self.analyze(self.previous, run.text, self.doc.type)
        self.kept_changes.add(_add_change(self.session, self.doc, self.previous_row, row, analysis,
                                          run.first_seen, True))

    def read_fetches(self, runs: Sequence[RebuiltRun]) -> None:
        """Record the version each fetch reads as now: its run's; a fetch in no run (a 304, a held fetch whose
        text was no run's) reads as the fetch before it, when both recorded the same version.

        What an earlier rebuild recorded is replaced: the history is this rebuild's.
        """
        version_of = {fetch_id: self.rows[run.sha256].id for run in runs for fetch_id in run.fetch_ids}
        if not version_of:
            return  # runs from before fetches were counted in them: the timeline reads by snapshot, as it did
        fetches = self.session.execute(
            select(FetchRow.id, FetchRow.version_id).where(FetchRow.document_id == self.doc.id,
                                                           FetchRow.version_id.is_not(None))
            .order_by(FetchRow.finished_at, FetchRow.id)).all()
        previous: tuple[int, int | None] | None = None  # (recorded version, read as)
        reading: dict[int | None, list[int]] = defaultdict(list)  # read as -> the fetches that do
        for fetch_id, recorded in fetches:
            read = version_of.get(fetch_id)
            if read is None and previous is not None and previous[0] == recorded:
                read = previous[1]
            reading[read].append(fetch_id)
            previous = (recorded, read)
        for read, ids in reading.items():
            for chunk in chunks(ids):
                self.session.execute(update(FetchRow).where(FetchRow.id.in_(chunk)).values(read_as_version_id=read))

    def fold(self) -> None:
        """Fold every version outside the runs into the run holding its first snapshot; hide other changes."""
        kept_rows = {row.id for row in self.run_of_snapshot.values()} | {row.id for row in self.run_rows}
        for row in self.rows.values():
            if row.id in kept_rows:
                continue
            firsts = self.session.scalars(
                select(SnapshotRow.sha256).join(VersionSnapshotRow, VersionSnapshotRow.snapshot_id == SnapshotRow.id)
                .where(VersionSnapshotRow.version_id == row.id).order_by(SnapshotRow.fetched_at, SnapshotRow.id)
            ).all()
            target = next((self.run_of_snapshot[sha] for sha in firsts if sha in self.run_of_snapshot), None)
            if target is not None and target.id != row.id:
                row.folded_into_id = target.id
        for change in self.changes:
            change.folded = change.id not in self.kept_changes


def _parts(snapshots: Sequence[Snapshot], starts: Sequence[int]) -> list[tuple[Snapshot, int | None]]:
    """Each snapshot with where its page begins in the text; no offsets for a one-page document."""
    if len(snapshots) < 2 or len(starts) != len(snapshots):
        return [(snapshot, None) for snapshot in snapshots]
    return list(zip(snapshots, starts, strict=True))



class _CurrentVersionMoved(Exception):
    """Another writer recorded a version while this one was analysing."""
