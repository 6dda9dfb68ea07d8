"""What the capture log holds and signs, as bytes anyone can rebuild (SPEC §2, §7).

A *capture* is what the crawler saw on the wire for one HTTP exchange: the
request and response header blocks as sent and received, and the digest of the
payload (kept in the blob store). A *log leaf* is one Fetch of a document,
encoded as canonical JSON; the log is the RFC 6962 Merkle tree of the leaves
(``analysis.merkle``). A *tree head* (size, root, time) is signed as RFC 6962's
``TreeHeadSignature`` structure, so a verifier needs ``struct``, ``hashlib`` and
an Ed25519 implementation, nothing of ours.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# 1: each exchange's header blocks bound (``heads``). 2: also its payload's SHA-256, its URL and its time, as its
# WARC record states them, so every page of a combined document is bound. 3: also, for a revisit, the response it
# refers to (id, URL, time, header blocks): every WARC field a replay shows is bound. 4: also, for a page rendered
# in a browser, its conversion record (id and payload): every page's rendering, which the text is extracted from.
LEAF_VERSION = 5


@dataclass(frozen=True)
class HttpExchange:
    """One request and what came back, as the crawler saw it (a WARC request/response pair).

    ``response_head`` is the status line and header block; None when no response
    arrived (timeout, refused connection). The payload is the snapshot's body,
    except for a browser page, whose snapshot is the rendered DOM: then
    ``payload`` holds what the server sent and ``rendered_dom`` becomes a WARC
    ``conversion`` record. A ``hop`` is a redirect the fetch followed on its way
    to a page (a 3xx, or a page refreshing to another): archived as an exchange
    of its own, before the page's, and never a page of the document; its
    ``payload`` is the body it came with.
    """

    url: str
    captured_at: datetime
    request_head: bytes
    response_head: bytes | None = None
    status: int | None = None
    payload_sha256: str | None = None
    payload: bytes | None = field(default=None, repr=False)  # page bytes never go into a log line
    rendered_dom: bytes | None = field(default=None, repr=False)
    hop: bool = False


@dataclass(frozen=True)
class CaptureRecord:
    """The WARC identity of one exchange, fixed at capture time and stored with the fetch.

    ``record_type`` is ``response`` (a payload not archived before), ``revisit``
    (an identical payload or a 304), or None when no response arrived (the
    request record alone is the evidence of the attempt).
    """

    exchange: HttpExchange
    request_record_id: str
    record_id: str | None
    record_type: str | None
    profile: str | None = None
    refers_to_record_id: str | None = None
    refers_to_uri: str | None = None
    refers_to_date: datetime | None = None
    conversion_record_id: str | None = None
    conversion_sha256: str | None = None


@dataclass(frozen=True)
class LogLeaf:
    """One Fetch as a leaf of the capture log.

    ``records`` are the WARC record ids of its exchanges (the response or revisit,
    or the request when nothing answered); ``heads`` the SHA-256 of each exchange's
    request and response header blocks as its WARC records hold them. From leaf
    version 2, ``payloads``, ``urls`` and ``dates`` give each record's payload
    SHA-256 (None when nothing was sent), WARC-Target-URI and WARC-Date; from
    version 3, ``originals``, for a revisit, the response it refers to: its record id,
    WARC-Target-URI, WARC-Date and the SHA-256 of its exchange's header blocks
    (None for any other record, or a revisit that names no response); from version
    4, ``renderings``, for a page fetched in a browser, the WARC record id and payload
    SHA-256 of its ``conversion`` record (the page as rendered, which the text is
    extracted from; None for a page not rendered); from version 5, ``hops``, whether each
    record is a redirect the fetch followed (a 3xx, or a page's refresh) rather than a page
    of the document: citations and the document's pages skip those. A leaf keeps the
    version it was recorded in (``v``) and is encoded as it was: a version 1 leaf has none
    of these, a version 2 leaf no ``originals``, a version 3 leaf no ``renderings``, a
    version 4 leaf no ``hops``.
    """

    document: str
    url: str
    time: datetime
    outcome: str
    status: int | None = None
    snapshot: str | None = None
    version: str | None = None
    failure: str | None = None
    records: tuple[str, ...] = field(default_factory=tuple)
    heads: tuple[str, ...] = field(default_factory=tuple)
    payloads: tuple[str | None, ...] = field(default_factory=tuple)
    urls: tuple[str, ...] = field(default_factory=tuple)
    dates: tuple[str, ...] = field(default_factory=tuple)
    originals: tuple[tuple[str, str, str, str | None] | None, ...] = field(default_factory=tuple)
    renderings: tuple[tuple[str, str] | None, ...] = field(default_factory=tuple)
    hops: tuple[bool, ...] = field(default_factory=tuple)
    v: int = LEAF_VERSION

    def to_json(self) -> dict[str, Any]:
        fields = {
            "v": self.v, "document": self.document, "url": self.url, "time": iso_time(self.time),
            "outcome": self.outcome, "status": self.status, "snapshot": self.snapshot, "version": self.version,
            "failure": self.failure, "records": list(self.records), "heads": list(self.heads),
        }
        if self.v >= 2:
            fields.update(payloads=list(self.payloads), urls=list(self.urls), dates=list(self.dates))
        if self.v >= 3:
            fields["originals"] = [list(original) if original else None for original in self.originals]
        if self.v >= 4:
            fields["renderings"] = [list(rendering) if rendering else None for rendering in self.renderings]
        if self.v >= 5:
            fields["hops"] = list(self.hops)
        return fields

    def encode(self) -> bytes:
        """The canonical bytes that are hashed into the tree."""
        return canonical_json(self.to_json())

    @classmethod
    def decode(cls, data: bytes) -> LogLeaf:
        raw = json.loads(data)
        return cls(document=raw["document"], url=raw["url"], time=parse_time(raw["time"]), outcome=raw["outcome"],
                   status=raw["status"], snapshot=raw["snapshot"], version=raw["version"], failure=raw["failure"],
                   records=tuple(raw["records"]), heads=tuple(raw.get("heads", ())),
                   payloads=tuple(raw.get("payloads", ())), urls=tuple(raw.get("urls", ())),
                   dates=tuple(raw.get("dates", ())), v=int(raw.get("v", 1)),
                   originals=tuple(tuple(o) if o else None for o in raw.get("originals", ())),
                   renderings=tuple(tuple(r) if r else None for r in raw.get("renderings", ())),
                   hops=tuple(bool(hop) for hop in raw.get("hops", ())))


@dataclass(frozen=True)
class TreeHead:
    """A signed statement that the log had ``size`` leaves with root ``root`` at ``timestamp_ms``."""

    size: int
    root: bytes
    timestamp_ms: int
    signature: bytes = b""

    def signed_bytes(self) -> bytes:
        return tree_head_bytes(self.size, self.root, self.timestamp_ms)

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)

    def to_json(self) -> dict[str, Any]:
        return {"tree_size": self.size, "sha256_root_hash": self.root.hex(), "timestamp": self.timestamp_ms,
                "time": iso_time(self.time), "signature": self.signature.hex()}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> TreeHead:
        return cls(int(raw["tree_size"]), bytes.fromhex(raw["sha256_root_hash"]), int(raw["timestamp"]),
                   bytes.fromhex(raw["signature"]))


def tree_head_bytes(size: int, root: bytes, timestamp_ms: int) -> bytes:
    """RFC 6962 §3.5 ``TreeHeadSignature``: version v1 (0), signature_type tree_hash (1), timestamp, size, root."""
    return struct.pack(">BBQQ", 0, 1, timestamp_ms, size) + root


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: one encoding per value, on any machine."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def iso_time(moment: datetime) -> str:
    """UTC with microseconds and a Z, e.g. 2026-11-29T23:14:22.123456Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
