"""Check the store against its capture log and every signed tree head (``clausewatch verify``).

The log is recomputed from the rows it describes (fetches, snapshots, versions,
capture records) and compared leaf by leaf with what was logged; the logged
leaves are then checked against every signed tree head (signature, and root of
the prefix the head signed, which also proves each head consistent with every
later one). So a fetch or version deleted, inserted, back-dated or altered after
it was logged is named, and so is a log entry dropped or a tree head replaced.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import merkle
from analysis.evidence import LogLeaf, TreeHead, iso_time
from store import capture_log
from store.signing import signature_valid
from store.tables import (
    CaptureRecordRow,
    DocumentRow,
    FetchRow,
    LogEntryRow,
    SnapshotRow,
    VersionRow,
    VersionSnapshotRow,
)


@dataclass(frozen=True)
class LogProblem:
    """One thing the log and the store disagree on; ``what`` is deleted/inserted/altered/back-dated/forged."""

    what: str
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.where}: {self.detail} ({self.what})"


@dataclass(frozen=True)
class LogReport:
    entries: int
    tree_heads: int
    problems: list[LogProblem]
    # Entries after the largest signed head. A crawl signs at its end, so these are a crawl's that was stopped, or
    # running, or, if the newest head was deleted, entries rewritten since: only the heads published elsewhere
    # (the site's log/, bundles) can tell which; verify says how many, for the operator to look.
    unsigned: int = 0


def check_log(store, public_key_pem: bytes | None) -> LogReport:
    """Every disagreement between the store, its capture log and the signed tree heads."""
    with store.session() as session:
        rows = session.scalars(select(LogEntryRow).order_by(LogEntryRow.id)).all()
        heads = capture_log.tree_heads(session)
        problems = [*_gaps(rows), *_leaf_hashes(rows), *_against_store(session, rows)]
        problems += _versions_against_log(session, rows)
    problems += _tree_heads(rows, heads, public_key_pem)
    signed = max((head.size for head in heads), default=0)
    return LogReport(len(rows), len(heads), problems, unsigned=max(len(rows) - signed, 0))


def _gaps(rows: list[LogEntryRow]) -> Iterator[LogProblem]:
    present = {row.id for row in rows}
    top = max(present) + 1 if present else 0
    for index in sorted(set(range(top)) - present):
        yield LogProblem("deleted", f"log entry {index}", "missing from the log")


def _leaf_hashes(rows: list[LogEntryRow]) -> Iterator[LogProblem]:
    for row in rows:
        if merkle.leaf_hash(bytes(row.leaf)).hex() != row.leaf_hash:
            yield LogProblem("altered", f"log entry {row.id}", "its leaf does not hash to its recorded leaf hash")


def _against_store(session: Session, rows: list[LogEntryRow]) -> Iterator[LogProblem]:
    fetches = {f.id: f for f in session.scalars(select(FetchRow))}
    documents = dict(session.execute(select(DocumentRow.id, DocumentRow.public_id)).all())
    snapshots = {s.id: s for s in session.scalars(select(SnapshotRow))}
    versions = dict(session.execute(select(VersionRow.id, VersionRow.sha256)).all())
    records: dict[int, list[CaptureRecordRow]] = defaultdict(list)
    responses: dict[str, CaptureRecordRow] = {}  # what a leaf binds of a revisit's original
    for record in session.scalars(select(CaptureRecordRow).order_by(CaptureRecordRow.fetch_id, CaptureRecordRow.part)):
        records[record.fetch_id].append(record)
        if record.record_type == "response":
            responses[record.record_id] = record
    logged = set()
    for row in rows:
        logged.add(row.fetch_id)
        fetch = fetches.get(row.fetch_id)
        where = f"log entry {row.id}"
        if fetch is None:
            yield LogProblem("deleted", where, f"its fetch #{row.fetch_id} is gone from the store")
            continue
        logged_leaf = LogLeaf.decode(bytes(row.leaf))
        yield from _compare(where, logged_leaf, _recomputed(
            fetch, documents, snapshots, versions, records[fetch.id], logged_leaf.url, responses))
        if logged_leaf.v < 5 and any(record.hop for record in records[fetch.id]):
            # Logged before hops were bound (leaf version 5): none of its records was a redirect archived.
            yield LogProblem("altered", f"{where} ({logged_leaf.document})",
                             f"a record is marked a redirect followed, which a version {logged_leaf.v} leaf never has")
    # Fetches recorded before the log existed (migration 0004) come before its first entry.
    first = min(logged) if logged else None
    for fetch_id in sorted(set(fetches) - logged):
        if first is None or fetch_id < first:
            continue
        fetch = fetches[fetch_id]
        yield LogProblem("inserted", f"fetch #{fetch_id} of {documents.get(fetch.document_id)}",
                         f"at {iso_time(fetch.finished_at)} is not in the capture log")


def _recomputed(fetch, documents, snapshots, versions, records, logged_url: str, responses) -> LogLeaf:
    snapshot = snapshots.get(fetch.snapshot_id) if fetch.snapshot_id else None
    return capture_log.make_leaf(
        fetch, documents.get(fetch.document_id, "?"), records, snapshot.sha256 if snapshot else None,
        versions.get(fetch.version_id) if fetch.version_id else None,
        fallback_url=snapshot.final_url if snapshot else logged_url,
        fallback_status=snapshot.status if snapshot else None, originals=responses,
    )


def _compare(where: str, logged: LogLeaf, stored: LogLeaf) -> Iterator[LogProblem]:
    old, new = logged.to_json(), replace(stored, v=logged.v).to_json()  # a leaf is checked in the form it was logged
    for key in sorted(old):
        if old[key] != new[key]:
            what = "back-dated" if key == "time" and new[key] < old[key] else "altered"
            yield LogProblem(what, f"{where} ({logged.document})",
                             f"{key} is {new[key]!r} in the store but {old[key]!r} in the log")


def _versions_against_log(session: Session, rows: list[LogEntryRow]) -> list[LogProblem]:
    """Each version's first_seen must be the time its first capture was logged.

    A technical version (``reprocess``, or the crawl folding a history under a
    value it learned as volatile) was made from pages already logged, not by a
    fetch of its own: it must be made of at least one logged page, and not be
    first seen before the first of them was logged.
    """
    first_logged, page_logged = _logged_times(rows)
    problems = []
    query = select(VersionRow.id, DocumentRow.public_id, VersionRow.sha256, VersionRow.first_seen,
                   VersionRow.technical).join(DocumentRow, DocumentRow.id == VersionRow.document_id)
    start = LogLeaf.decode(bytes(rows[0].leaf)).time if rows else None
    pages = None
    for version_id, document, sha, first_seen, technical in session.execute(query).all():
        where = f"version {sha[:12]} of {document}"
        logged = first_logged.get((document, sha))
        made_of: list[str] = []
        if logged is None and technical:
            pages = pages if pages is not None else _pages_of_versions(session)
            made_of = sorted(page_logged[(document, page)] for page in pages.get(version_id, ())
                             if (document, page) in page_logged)
        if logged is None and not made_of and (start is None or first_seen < start):
            continue  # recorded before the log began
        if logged is None and technical:
            if not made_of:
                problems.append(LogProblem("inserted", where, "a technical version, but none of its pages is in "
                                                              "the log"))
            elif iso_time(first_seen) < made_of[0]:
                problems.append(LogProblem("back-dated", where, f"first seen {iso_time(first_seen)} in the store "
                                                                f"but its first page was logged {made_of[0]}"))
        elif logged is None:
            problems.append(LogProblem("inserted", where, "no capture in the log ever recorded it"))
        elif logged != iso_time(first_seen):
            what = "back-dated" if iso_time(first_seen) < logged else "altered"
            problems.append(LogProblem(what, where, f"first seen {iso_time(first_seen)} in the store "
                                                    f"but first logged {logged}"))
    return problems


def _logged_times(rows: list[LogEntryRow]) -> tuple[dict[tuple[str, str], str], dict[tuple[str, str], str]]:
    """When the log first recorded each (document, version) as new, and each (document, page) at all."""
    first_logged: dict[tuple[str, str], str] = {}
    page_logged: dict[tuple[str, str], str] = {}
    for row in rows:
        leaf = LogLeaf.decode(bytes(row.leaf))
        if leaf.version and leaf.outcome == "new_version":
            first_logged.setdefault((leaf.document, leaf.version), iso_time(leaf.time))
        if leaf.snapshot:
            page_logged.setdefault((leaf.document, leaf.snapshot), iso_time(leaf.time))
    return first_logged, page_logged


def _pages_of_versions(session: Session) -> dict[int, list[str]]:
    """The hashes of the pages each version is linked to, by version id."""
    pages: dict[int, list[str]] = defaultdict(list)
    for version_id, sha in session.execute(
            select(VersionSnapshotRow.version_id, SnapshotRow.sha256)
            .join(SnapshotRow, SnapshotRow.id == VersionSnapshotRow.snapshot_id)):
        pages[version_id].append(sha)
    return pages


def _tree_heads(rows: list[LogEntryRow], heads: list[TreeHead], public_key_pem: bytes | None) -> list[LogProblem]:
    hashes = [bytes.fromhex(row.leaf_hash) for row in rows]
    roots = merkle.roots_at(hashes, {h.size for h in heads if h.size <= len(hashes)})
    problems = []
    for number, head in enumerate(heads, start=1):
        where = f"tree head {number} (size {head.size}, signed {iso_time(head.time)})"
        if public_key_pem is not None and not signature_valid(public_key_pem, head):
            problems.append(LogProblem("forged", where, "its signature does not verify with the log's public key"))
        if head.size > len(hashes):
            problems.append(LogProblem("deleted", where, f"signs {head.size} entries but the log has {len(hashes)}"))
        elif roots[head.size] != head.root:
            problems.append(LogProblem("altered", where, "its root does not match the log: an entry it covers was "
                                                         "altered, dropped or inserted"))
    for earlier, later in zip(heads, heads[1:]):
        if later.size < earlier.size or later.timestamp_ms < earlier.timestamp_ms:
            problems.append(LogProblem("forged", f"tree head of size {later.size}",
                                       f"is older or smaller than the head before it (size {earlier.size})"))
    return problems
