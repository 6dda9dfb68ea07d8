"""The capture log: every Fetch a leaf of an RFC 6962 Merkle tree, signed after every run.

Each Fetch row gets, in the transaction that records it, its WARC capture
records (one per HTTP exchange: request, then response or revisit) and one log
entry whose leaf (``analysis.evidence.LogLeaf``) names the document, URL, time,
outcome, HTTP status, snapshot and version hashes or failure kind, and WARC
record ids. Leaves are numbered from 0 in the order they are recorded; after a
crawl run the shell signs a tree head over all of them.

Revisits keep the history complete without storing a payload twice: a payload
already archived as a ``response`` record is recorded again as a ``revisit``
(identical-payload-digest profile) that refers to it, and a 304 as a
``revisit`` of the server-not-modified profile.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, func, insert, or_, select, text
from sqlalchemy.orm import Session

from analysis import merkle
from analysis.evidence import CaptureRecord, HttpExchange, LogLeaf, TreeHead
from store.tables import (
    CaptureRecordRow,
    DocumentRow,
    FetchRow,
    LogEntryRow,
    SnapshotRow,
    TreeHeadRow,
    VersionRow,
)
from store.warc import exchange_heads_sha256, new_record_id, warc_date

log = logging.getLogger(__name__)

REVISIT_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
REVISIT_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"

# Any constant would do: it names the PostgreSQL advisory lock that serialises
# appends, so two crawler processes never take the same log index.
_PG_APPEND_LOCK = 6962


class CaptureLogError(Exception):
    """The capture log cannot answer: an unknown index or tree size; the message says which."""


class ClockBehindError(CaptureLogError):
    """The clock is behind the log's last signed tree head: a head signed now would read as forged."""


@dataclass(frozen=True)
class LogEntry:
    """One leaf of the log, by index, as it was recorded."""

    index: int
    leaf: bytes
    leaf_hash: bytes

    @property
    def decoded(self) -> LogLeaf:
        return LogLeaf.decode(self.leaf)


# --- Appending (inside the recording transaction) ------------------------------

# Built once: every recording runs them (decision 0014, twelfth pass).
_NEXT_INDEX = select(func.coalesce(func.max(LogEntryRow.id) + 1, 0))
_INSERT_ENTRIES = insert(LogEntryRow)
# The pages' responses that archived these payloads, oldest first: what a revisit of an identical payload names
# (never a redirect's: ``_Originals``).
_FIRST_RESPONSES = (select(CaptureRecordRow)
                    .where(CaptureRecordRow.payload_sha256.in_(bindparam("payloads", expanding=True)),
                           CaptureRecordRow.record_type == "response", CaptureRecordRow.hop.is_(False))
                    .order_by(CaptureRecordRow.id))


def append_many(session: Session, fetches: Sequence[tuple[FetchRow, Sequence[HttpExchange]]]) -> None:
    """Each fetch's WARC captures and log leaf, in a few statements for the whole batch.

    The fetches must be flushed, in log order. The originals their revisits
    refer to are looked up once for the batch (:class:`_Originals`), and the
    leaves take consecutive indexes after one ``max``: the write lock (SQLite)
    or the advisory lock (PostgreSQL) is held from the first insert to the
    commit, so no other writer can take them. A batch of 304s or of identical
    pages costs a few queries, not a few per fetch (decision 0014).
    """
    # The recording session holds these rows already: no query.
    documents = {fetch.document_id: session.get(DocumentRow, fetch.document_id) for fetch, _exchanges in fetches}
    originals = _Originals(session, documents, [exchange for _fetch, exchanges in fetches for exchange in exchanges])
    leaves = []
    for fetch, exchanges in fetches:
        document = documents[fetch.document_id]
        records = [_add_capture(session, fetch, document, part, exchange, originals)
                   for part, exchange in enumerate(exchanges)]
        leaves.append((fetch.id, leaf_for(session, fetch, document.public_id, records, fallback_url=document.url,
                                          originals=originals.responses).encode()))
    _lock_log(session)
    first = session.scalar(_NEXT_INDEX)
    session.execute(_INSERT_ENTRIES, [
        {"id": first + offset, "fetch_id": fetch_id, "leaf": leaf, "leaf_hash": merkle.leaf_hash(leaf).hex()}
        for offset, (fetch_id, leaf) in enumerate(leaves)])


@dataclass(frozen=True)
class _Original:
    """The ``response`` record holding a payload: what a revisit names (WARC-Refers-To and its target and date)."""

    record_id: str
    url: str
    captured_at: datetime
    payload_sha256: str | None

    @classmethod
    def of(cls, row: CaptureRecordRow) -> _Original | None:
        """The response a capture holds or, for a revisit, the one it refers to (None if it names none)."""
        if row.record_type == "response":
            return cls(row.record_id, row.url, row.captured_at, row.payload_sha256)
        if row.refers_to_record_id is not None:
            return cls(row.refers_to_record_id, row.refers_to_uri, row.refers_to_date, row.payload_sha256)
        return None


class _Originals:
    """The ``response`` records a batch's revisits may refer to, read in at most two queries.

    A 304 refers to the payload of the latest capture of its document and URL:
    the response itself or, when that capture was a revisit (the page back to
    an earlier text, or a 304 already), the response that revisit names. A
    page's payload already archived refers to the first page's response with
    that payload. A redirect is neither: it is always a response of its own
    (:func:`_choose_record_type`). A capture recorded in the batch itself is
    :meth:`added`, so a later capture of the batch refers to it as it would had
    it been recorded alone.
    """

    def __init__(self, session: Session, documents: dict[int, DocumentRow], exchanges: Sequence[HttpExchange]):
        self.latest: dict[tuple[int, str], _Original] = {}
        self.first: dict[str, _Original] = {}
        self.responses: dict[str, CaptureRecordRow] = {}  # by record id: what a leaf binds of a revisit's original
        if any(exchange.status == 304 for exchange in exchanges):
            ids = list(documents)
            # The responses (one per payload a document ever had: few), then the latest capture of each URL, which
            # may be a revisit (a 304 a day adds one: they are never all read).
            for row in session.scalars(select(CaptureRecordRow).join(FetchRow, FetchRow.id == CaptureRecordRow.fetch_id)
                                       .where(FetchRow.document_id.in_(ids), CaptureRecordRow.record_type == "response")):
                self.responses[row.record_id] = row
            for document_id, row in session.execute(
                    select(FetchRow.document_id, CaptureRecordRow)
                    .join(FetchRow, FetchRow.id == CaptureRecordRow.fetch_id)
                    .where(CaptureRecordRow.id.in_(_latest_capture_ids(ids)))):
                self._note_latest(document_id, row)
        if payloads := sorted({exchange.payload_sha256 for exchange in exchanges
                               if exchange.status != 304 and not exchange.hop} - {None}):
            responses = session.scalars(_FIRST_RESPONSES, {"payloads": payloads})
            for row in responses:
                self.first.setdefault(row.payload_sha256, _Original.of(row))
                self.responses[row.record_id] = row

    def added(self, row: CaptureRecordRow, document: DocumentRow) -> None:
        self._note_latest(document.id, row)
        if row.record_type == "response":
            self.responses[row.record_id] = row
            if row.payload_sha256 is not None and not row.hop:
                self.first.setdefault(row.payload_sha256, _Original.of(row))

    def _note_latest(self, document_id: int, row: CaptureRecordRow) -> None:
        # A redirect is never what a 304 says is unchanged: its validators are those of a page.
        if not row.hop and (original := _Original.of(row)) is not None:
            self.latest[(document_id, row.url)] = original


def _latest_capture_ids(document_ids: list[int]):
    """The id of the latest capture of each document and URL that holds or names a response (of a page, not a
    redirect)."""
    return (select(func.max(CaptureRecordRow.id)).join(FetchRow, FetchRow.id == CaptureRecordRow.fetch_id)
            .where(FetchRow.document_id.in_(document_ids), CaptureRecordRow.hop.is_(False),
                   or_(CaptureRecordRow.record_type == "response",
                       (CaptureRecordRow.record_type == "revisit") & CaptureRecordRow.refers_to_record_id.is_not(None)))
            .group_by(FetchRow.document_id, CaptureRecordRow.url))


def _lock_log(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_APPEND_LOCK})


# A write that changes nothing, first in its transaction: SQLite then holds the store's write lock from the start,
# so the tree head is computed and kept with no other writer between.
_TAKE_SQLITE_WRITE_LOCK = text("DELETE FROM tree_heads WHERE 0 = 1")


def _lock_for_signing(session: Session) -> None:
    """Until the transaction ends, no other signer (nor, on SQLite, any writer) runs: two heads signed at once
    were kept in the other order of their times, and ``verify`` read the later one as forged."""
    if session.get_bind().dialect.name == "postgresql":
        _lock_log(session)
    else:
        session.execute(_TAKE_SQLITE_WRITE_LOCK)


def _add_capture(session: Session, fetch: FetchRow, document: DocumentRow, part: int,
                 exchange: HttpExchange, originals: _Originals) -> CaptureRecordRow:
    row = _capture_row(fetch, part, exchange)
    if exchange.response_head is not None:
        _choose_record_type(row, document, originals)
    if exchange.rendered_dom is not None:
        from analysis.text import sha256_bytes

        row.conversion_record_id = new_record_id()
        row.conversion_sha256 = sha256_bytes(exchange.rendered_dom)
    session.add(row)
    originals.added(row, document)
    return row


def _capture_row(fetch: FetchRow, part: int, exchange: HttpExchange) -> CaptureRecordRow:
    """The capture records of one exchange, before its record type is chosen."""
    row = CaptureRecordRow(
        fetch_id=fetch.id, part=part, url=exchange.url, captured_at=exchange.captured_at,
        request_record_id=new_record_id(), request_head=exchange.request_head,
        response_head=exchange.response_head, status=exchange.status, payload_sha256=exchange.payload_sha256,
        hop=exchange.hop,
    )
    if exchange.response_head is not None:
        row.record_id = new_record_id()
    return row


def _choose_record_type(row: CaptureRecordRow, document: DocumentRow, originals: _Originals) -> None:
    """``response`` for a payload never archived, else a ``revisit`` referring to the original.

    A redirect followed is always a ``response``, and never an original. Its body may be a page's (a server that
    sends the page with its 301, two empty bodies, a "Moved" stub later served as a page): a page was a revisit of
    the 301 then, and a reader following it reached a redirect. Nor is it a revisit of another redirect: its body
    is most often a few bytes (a browser's, none), so a revisit saves next to nothing in a WARC, and it would name
    one of another capture, perhaps of another document years before (every empty one the first ever archived),
    which a bundle of the capture would then hold too (decision 0011, "Redirects")."""
    if row.status == 304:
        _revisit(row, REVISIT_NOT_MODIFIED, originals.latest.get((document.id, row.url)))
    elif row.hop:
        row.record_type = "response"
    elif row.payload_sha256 is not None and (original := originals.first.get(row.payload_sha256)) is not None:
        _revisit(row, REVISIT_IDENTICAL, original)
    else:
        row.record_type = "response"


def _revisit(row: CaptureRecordRow, profile: str, original: _Original | None) -> None:
    row.record_type = "revisit"
    row.profile = profile
    if original is not None:
        row.refers_to_record_id = original.record_id
        row.refers_to_uri = original.url
        row.refers_to_date = original.captured_at
        row.payload_sha256 = row.payload_sha256 or original.payload_sha256


def leaf_for(session: Session, fetch: FetchRow, document_id: str, records: Sequence[CaptureRecordRow],
             *, fallback_url: str, originals: Mapping[str, CaptureRecordRow] | None = None) -> LogLeaf:
    """The leaf a fetch row and its capture records make (also how ``verify`` recomputes it); ``originals`` holds
    the responses its revisits refer to, by record id (looked up when not given)."""
    snapshot = session.get(SnapshotRow, fetch.snapshot_id) if fetch.snapshot_id else None
    version = session.get(VersionRow, fetch.version_id) if fetch.version_id else None
    originals = originals or {}
    if missing := [r.refers_to_record_id for r in records
                   if r.refers_to_record_id and r.refers_to_record_id not in originals]:
        originals = {**originals, **responses_by_id(session, missing)}
    return make_leaf(fetch, document_id, records, snapshot.sha256 if snapshot else None,
                     version.sha256 if version else None,
                     fallback_url=snapshot.final_url if snapshot else fallback_url,
                     fallback_status=snapshot.status if snapshot else None, originals=originals)


def responses_by_id(session: Session, record_ids: Sequence[str]) -> dict[str, CaptureRecordRow]:
    """The ``response`` capture rows of these WARC record ids."""
    if not record_ids:
        return {}
    rows = session.scalars(select(CaptureRecordRow).where(CaptureRecordRow.record_id.in_(sorted(set(record_ids))),
                                                          CaptureRecordRow.record_type == "response"))
    return {row.record_id: row for row in rows}


def make_leaf(fetch: FetchRow, document_id: str, records: Sequence[CaptureRecordRow], snapshot_sha: str | None,
              version_sha: str | None, *, fallback_url: str, fallback_status: int | None,
              originals: Mapping[str, CaptureRecordRow] = {}) -> LogLeaf:  # noqa: B006 (read only)
    # The URL and status a leaf names are its first page's (where the document was served from), not those of a
    # redirect on the way to it (bound with every record, in ``urls`` and ``heads``); a fetch that ended in redirects
    # names the first. Before redirects were archived, the first record was the first page.
    first = next((r for r in records if not r.hop), records[0] if records else None)
    return LogLeaf(
        document=document_id, url=first.url if first else fallback_url, time=fetch.finished_at,
        outcome=fetch.outcome, status=first.status if first else fallback_status,
        snapshot=snapshot_sha, version=version_sha, failure=fetch.error_kind,
        records=tuple(r.record_id or r.request_record_id for r in records),
        heads=tuple(_heads(r) for r in records),
        payloads=tuple(r.payload_sha256 if r.record_id else None for r in records),
        urls=tuple(r.url for r in records), dates=tuple(warc_date(r.captured_at) for r in records),
        originals=tuple(_original_of(r, originals) for r in records),
        renderings=tuple((r.conversion_record_id, r.conversion_sha256) if r.conversion_record_id else None
                         for r in records),
        hops=tuple(bool(r.hop) for r in records),
    )


def _heads(row: CaptureRecordRow) -> str:
    return exchange_heads_sha256(bytes(row.request_head),
                                 bytes(row.response_head) if row.response_head is not None else None)


def _original_of(row: CaptureRecordRow, originals: Mapping[str, CaptureRecordRow]
                 ) -> tuple[str, str, str, str | None] | None:
    """What a revisit binds of the response it refers to: its id, URL, date and header blocks (None if the
    response is not in the store: it is then named, not bound)."""
    if row.record_type != "revisit" or row.refers_to_record_id is None:
        return None
    original = originals.get(row.refers_to_record_id)
    return (row.refers_to_record_id, row.refers_to_uri, warc_date(row.refers_to_date),
            _heads(original) if original is not None else None)


# --- Reading -------------------------------------------------------------------


def entries(session: Session, *, upto: int | None = None) -> list[LogEntry]:
    """Every log entry in index order (the first ``upto`` when given)."""
    query = select(LogEntryRow.id, LogEntryRow.leaf, LogEntryRow.leaf_hash).order_by(LogEntryRow.id)
    if upto is not None:
        query = query.where(LogEntryRow.id < upto)
    return [LogEntry(i, bytes(leaf), bytes.fromhex(h)) for i, leaf, h in session.execute(query)]


def size(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(LogEntryRow)) or 0


def tree_heads(session: Session) -> list[TreeHead]:
    """Every signed tree head, oldest first."""
    rows = session.scalars(select(TreeHeadRow).order_by(TreeHeadRow.id))
    return [TreeHead(r.size, bytes.fromhex(r.root), r.timestamp_ms, bytes.fromhex(r.signature)) for r in rows]


def add_tree_head(session: Session, head: TreeHead, key_id: str, frontier: Sequence[bytes] | None = None) -> None:
    session.add(TreeHeadRow(size=head.size, root=head.root.hex(), timestamp_ms=head.timestamp_ms,
                            signature=head.signature.hex(), key_id=key_id,
                            frontier=",".join(h.hex() for h in frontier) if frontier is not None else None))


def _unsigned_head_and_frontier(session: Session, now: datetime, signer) -> tuple[TreeHead, list[bytes]]:
    """The tree head of the log as it stands, ready to be signed, and its frontier (``analysis.merkle.frontier``).

    Computed from the last signed head's frontier and the leaves logged since: a crawl reads its own leaves, not the
    log's whole history, which grows by one leaf a fetch for ever (a year of daily crawls of 1,000 documents is
    365,000 leaves, a second of CPU and their bytes in memory, at every crawl). From every leaf when no head can be
    continued (:func:`_continued_head`).
    """
    start, start_size = _continued_head(session, signer)
    leaves = session.scalars(select(LogEntryRow.leaf_hash).where(LogEntryRow.id >= start_size)
                             .order_by(LogEntryRow.id))
    subtrees, size = merkle.frontier((bytes.fromhex(h) for h in leaves), start, start_size)
    return TreeHead(size, merkle.frontier_root(subtrees), int(now.timestamp() * 1000)), subtrees


def _continued_head(session: Session, signer) -> tuple[list[bytes], int]:
    """The newest signed head's frontier and size when the next head can start from them, else nothing and 0.

    None kept (a head signed before revision 0011) is the common case, said nothing of. Otherwise the frontier must
    fold to its head's root, the head must verify under this signer's key, and the log must still hold the last leaf
    that head covered: a log cut short, restored from an older copy or given a head by another key is signed from
    the leaves it holds, as every head was before, and ``verify`` names what happened.
    """
    row = session.scalar(select(TreeHeadRow).where(TreeHeadRow.frontier.is_not(None))
                         .order_by(TreeHeadRow.id.desc()).limit(1))
    if row is None:
        return [], 0
    subtrees, problem = _frontier_of(session, row, signer)
    if problem is None:
        return subtrees, row.size
    log.warning("the signed tree head of size %d cannot be continued (%s): the next head is computed from every "
                "leaf of the log", row.size, problem)
    return [], 0


def _frontier_of(session: Session, row: TreeHeadRow, signer) -> tuple[list[bytes], str | None]:
    """The head's frontier, and why it cannot be continued (None when it can)."""
    try:
        subtrees = [bytes.fromhex(h) for h in row.frontier.split(",")] if row.frontier else []
        root = bytes.fromhex(row.root)
        signature = bytes.fromhex(row.signature)
    except ValueError:
        return [], "a value of it is not hex"
    if len(subtrees) != row.size.bit_count() or merkle.frontier_root(subtrees) != root:
        return [], "its frontier does not fold to its root"
    from store.signing import signature_valid  # only signing needs it: the store's readers load this module too

    if not signature_valid(signer.public_pem, TreeHead(row.size, root, row.timestamp_ms, signature)):
        return [], "it does not verify under this signer's key"
    # Its last leaf, one look-up: a log cut short or restored from an older copy has lost it. A leaf missing before
    # it is continued over, as signed: the heads name it, and a new head over the leaves left would sign the loss.
    if row.size and session.get(LogEntryRow, row.size - 1) is None:
        return [], f"the log no longer holds the {row.size} leaves it covered"
    return subtrees, None


def inclusion_proof(session: Session, index: int, tree_size: int) -> list[bytes]:
    hashes = [e.leaf_hash for e in entries(session, upto=tree_size)]
    if len(hashes) < tree_size or not 0 <= index < tree_size:
        raise CaptureLogError(f"log entry {index} is not in a tree of size {tree_size} (the log has {len(hashes)})")
    return merkle.inclusion_proof(hashes, index)


def consistency_proof(session: Session, old_size: int, new_size: int) -> list[bytes]:
    hashes = [e.leaf_hash for e in entries(session, upto=new_size)]
    if len(hashes) < new_size or not 0 <= old_size <= new_size:
        raise CaptureLogError(f"no consistency proof from size {old_size} to {new_size} (the log has {len(hashes)})")
    return merkle.consistency_proof(hashes, old_size)


def capture_records(session: Session, fetch_ids: Sequence[int]) -> dict[int, list[CaptureRecord]]:
    """The capture records of each fetch, by fetch row id, in exchange order."""
    found: dict[int, list[CaptureRecord]] = {}
    if not fetch_ids:
        return found
    rows = session.scalars(select(CaptureRecordRow).where(CaptureRecordRow.fetch_id.in_(list(fetch_ids)))
                           .order_by(CaptureRecordRow.fetch_id, CaptureRecordRow.part))
    for row in rows:
        found.setdefault(row.fetch_id, []).append(capture_from_row(row))
    return found


def capture_from_row(row: CaptureRecordRow) -> CaptureRecord:
    exchange = HttpExchange(
        url=row.url, captured_at=row.captured_at, request_head=bytes(row.request_head),
        response_head=bytes(row.response_head) if row.response_head is not None else None, status=row.status,
        payload_sha256=row.payload_sha256, hop=row.hop,
    )
    return CaptureRecord(
        exchange=exchange, request_record_id=row.request_record_id, record_id=row.record_id,
        record_type=row.record_type, profile=row.profile, refers_to_record_id=row.refers_to_record_id,
        refers_to_uri=row.refers_to_uri, refers_to_date=row.refers_to_date,
        conversion_record_id=row.conversion_record_id, conversion_sha256=row.conversion_sha256,
    )


def clock_behind(now: datetime, logged: datetime) -> str:
    return (f"the clock says {now.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC, before the latest time in the capture log "
            f"({logged.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f} UTC): captures recorded now would be out of time order; "
            "check the system clock")


def _last_capture_time(session: Session) -> datetime | None:
    leaf = session.scalar(select(LogEntryRow.leaf).order_by(LogEntryRow.id.desc()).limit(1))
    return None if leaf is None else LogLeaf.decode(bytes(leaf)).time


def _latest_time(session: Session) -> datetime | None:
    milliseconds = session.scalar(select(TreeHeadRow.timestamp_ms).order_by(TreeHeadRow.id.desc()).limit(1))
    times = [datetime.fromtimestamp(milliseconds / 1000, UTC)] if milliseconds is not None else []
    if (captured := _last_capture_time(session)) is not None:
        times.append(captured)
    return max(times, default=None)


# --- The repository the rest of the program uses ------------------------------------


def _first_entries_of_versions(*, rebuilt: bool = False):
    """The least log index among the captures that recorded a new version (narrow it with ``where``).

    ``rebuilt``: of the technical versions instead (a history rebuilt by
    ``reprocess`` or when a volatile value was learned), which no capture
    recorded as new: the first capture of a page that named one as the
    document's version (:data:`REBUILT_VERSION_CAPTURE`).
    """
    query = (select(func.min(LogEntryRow.id)).join(FetchRow, FetchRow.id == LogEntryRow.fetch_id)
             .join(DocumentRow, DocumentRow.id == FetchRow.document_id)
             .join(VersionRow, VersionRow.id == FetchRow.version_id))
    if rebuilt:
        return query.where(*REBUILT_VERSION_CAPTURE)
    return query.where(FetchRow.outcome == "new_version")


# A capture that stands for a technical version: a page fetched while it was the document's version.
REBUILT_VERSION_CAPTURE = (VersionRow.technical.is_(True), FetchRow.outcome == "unchanged",
                           FetchRow.snapshot_id.is_not(None))
# Failing that, a 304 while it was: the server said the page was as archived (its revisit names the response).
REBUILT_VERSION_NOT_MODIFIED = (VersionRow.technical.is_(True), FetchRow.outcome == "not_modified")


class CaptureLog:
    """The capture log of a store: its entries, signed tree heads and proofs."""

    def __init__(self, store):
        self.store = store

    def size(self) -> int:
        with self.store.session() as session:
            return size(session)

    def entries(self, *, upto: int | None = None) -> list[LogEntry]:
        with self.store.session() as session:
            return entries(session, upto=upto)

    def tree_heads(self) -> list[TreeHead]:
        with self.store.session() as session:
            return tree_heads(session)

    def latest_tree_head(self) -> TreeHead | None:
        heads = self.tree_heads()
        return heads[-1] if heads else None

    def sign_tree_head(self, signer, now: datetime) -> TreeHead:
        """Sign the log as it stands (after a crawl run) and keep the signed head.

        Heads must follow one another in time: when another signer kept a head
        later than ``now`` over the same entries a moment ago, that head is the
        answer; over fewer entries, the clock is behind and nothing is signed
        (:class:`ClockBehindError`).
        """
        with self.store.session() as session:
            _lock_for_signing(session)
            head, frontier = _unsigned_head_and_frontier(session, now, signer)
            latest = session.scalar(select(TreeHeadRow).order_by(TreeHeadRow.id.desc()).limit(1))
            if latest is not None and head.timestamp_ms < latest.timestamp_ms:
                if (latest.size, latest.root) == (head.size, head.root.hex()):
                    return TreeHead(latest.size, bytes.fromhex(latest.root), latest.timestamp_ms,
                                    bytes.fromhex(latest.signature))
                raise ClockBehindError(clock_behind(now, _latest_time(session)))
            if (captured := _last_capture_time(session)) is not None and now < captured:
                raise ClockBehindError(clock_behind(now, captured))
            head = signer.sign(head)
            add_tree_head(session, head, signer.key_id, frontier)
        return head

    def latest_time(self) -> datetime | None:
        """The latest time the log states: its last signed tree head's, or its last capture's if later (captures
        logged and not signed yet, a crawl killed before its end); None for an empty log."""
        with self.store.session() as session:
            return _latest_time(session)

    def inclusion_proof(self, index: int, tree_size: int) -> list[bytes]:
        with self.store.session() as session:
            return inclusion_proof(session, index, tree_size)

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        with self.store.session() as session:
            return consistency_proof(session, old_size, new_size)

    def log_index_of_version(self, document_id: str, version_sha256: str) -> int | None:
        """The log index of the capture that first recorded this version of the document (None if never logged).

        For citations and version pages: "version … · log entry N".
        """
        with self.store.session() as session:
            for rebuilt in (False, True):
                index = session.scalar(_first_entries_of_versions(rebuilt=rebuilt)
                                       .where(DocumentRow.public_id == document_id, VersionRow.sha256 == version_sha256))
                if index is not None:
                    return index
            return None

    def first_log_index_by_version(self) -> dict[tuple[str, str], int]:
        """(document id, version SHA-256) → :meth:`log_index_of_version`, for every logged version in one query."""
        with self.store.session() as session:
            found: dict[tuple[str, str], int] = {}
            for rebuilt in (False, True):
                if rebuilt and session.scalar(select(VersionRow.id).where(VersionRow.technical.is_(True)).limit(1)) \
                        is None:
                    break  # no history was ever rebuilt: no second pass over the fetches
                rows = session.execute(_first_entries_of_versions(rebuilt=rebuilt)
                                       .add_columns(DocumentRow.public_id, VersionRow.sha256)
                                       .group_by(DocumentRow.public_id, VersionRow.sha256))
                for index, document_id, sha256 in rows:
                    found.setdefault((document_id, sha256), index)
            return found

    def first_log_index_by_page(self) -> dict[tuple[str, str], int]:
        """(document id, snapshot SHA-256) → the log index of the first capture of that document that archived the
        snapshot, as any page of the fetch (a fetch logged before its exchanges were kept: as its first page).

        One query for a whole site build: a version page's table of snapshots says "log entry N" for each.
        """
        logged = (select(DocumentRow.public_id, func.min(LogEntryRow.id))
                  .join(FetchRow, FetchRow.document_id == DocumentRow.id)
                  .join(LogEntryRow, LogEntryRow.fetch_id == FetchRow.id))
        pages = (logged.add_columns(CaptureRecordRow.payload_sha256)
                 .join(CaptureRecordRow, CaptureRecordRow.fetch_id == FetchRow.id)
                 .where(CaptureRecordRow.payload_sha256.is_not(None), CaptureRecordRow.hop.is_(False))
                 .group_by(DocumentRow.public_id, CaptureRecordRow.payload_sha256))
        first_pages = (logged.add_columns(SnapshotRow.sha256)
                       .join(SnapshotRow, SnapshotRow.id == FetchRow.snapshot_id)
                       .group_by(DocumentRow.public_id, SnapshotRow.sha256))
        found: dict[tuple[str, str], int] = {}
        with self.store.session() as session:
            for query in (pages, first_pages):
                for document_id, index, sha256 in session.execute(query):
                    found[(document_id, sha256)] = min(found.get((document_id, sha256), index), index)
        return found

    def captures(self, document_ids: Sequence[str] | None = None, since: datetime | None = None
                 ) -> list[tuple[str, CaptureRecord]]:
        """(document id, capture) of every HTTP exchange captured, oldest first, with the original of any
        revisit among them (so an export replays even when its originals are older than ``since``)."""
        with self.store.session() as session:
            query = (select(DocumentRow.public_id, CaptureRecordRow)
                     .join(FetchRow, FetchRow.id == CaptureRecordRow.fetch_id)
                     .join(DocumentRow, DocumentRow.id == FetchRow.document_id)
                     .order_by(CaptureRecordRow.captured_at, CaptureRecordRow.id))
            if document_ids is not None:
                query = query.where(DocumentRow.public_id.in_(list(document_ids)))
            if since is not None:
                query = query.where(CaptureRecordRow.captured_at >= since)
            chosen = [(doc, capture_from_row(row)) for doc, row in session.execute(query)]
            have = {c.record_id for _, c in chosen}
            wanted = {c.refers_to_record_id for _, c in chosen if c.refers_to_record_id} - have
            originals = session.execute(
                select(DocumentRow.public_id, CaptureRecordRow)
                .join(FetchRow, FetchRow.id == CaptureRecordRow.fetch_id)
                .join(DocumentRow, DocumentRow.id == FetchRow.document_id)
                .where(CaptureRecordRow.record_id.in_(wanted))) if wanted else []
            earlier = [(doc, capture_from_row(row)) for doc, row in originals]
        return sorted([*earlier, *chosen], key=lambda pair: pair[1].exchange.captured_at)
