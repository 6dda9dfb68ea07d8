"""WARC 1.1 records of the captures, written with warcio (the web-archiving field's own library).

A capture's WARC identity (record ids, dates, header blocks, digests) is fixed
when the fetch is recorded (``store.capture_log``); its payload is the snapshot
blob. Writing the records joins the two, so WARC files hold each payload once
and the blob store stays the one copy on disk (docs/decisions/0011-…).
Digests are SHA-256, written ``sha256:<hex>`` so they read like our hashes.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import BinaryIO

from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParser
from warcio.warcwriter import WARCWriter

from analysis.evidence import CaptureRecord, iso_time
from store.blobs import BlobStore

WARC_VERSION = "1.1"


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def header_block(head: bytes, *, is_request: bool) -> bytes:
    """A stored header block exactly as a WARC record of it holds it (warcio's serialisation)."""
    return _parse_head(head, is_request=is_request).headers_buff


def exchange_heads_sha256(request_head: bytes, response_head: bytes | None) -> str:
    """What the log binds of an exchange's header blocks: SHA-256 of the request's, then the response's."""
    response = header_block(response_head, is_request=False) if response_head is not None else b""
    return hashlib.sha256(header_block(request_head, is_request=True) + response).hexdigest()


def sha256_label(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def warc_date(moment: datetime) -> str:
    """WARC 1.1 dates carry microseconds: 2026-11-29T23:14:22.123456Z."""
    return iso_time(moment)


class CaptureWriter:
    """Writes captures as WARC 1.1 records to one (gzip) WARC stream."""

    def __init__(self, out: BinaryIO, blobs: BlobStore, *, software: str = "clausewatch"):
        self.writer = WARCWriter(out, gzip=True, warc_version=WARC_VERSION)
        self.blobs = blobs
        self.software = software

    def write_warcinfo(self, filename: str, when: datetime) -> None:
        fields = (f"software: {self.software}\r\nformat: WARC File Format 1.1\r\n"
                  "description: captures of tracked legal documents; digests are SHA-256\r\n").encode()
        # Named by what it describes, so the same file written twice is the same bytes (a bundle never changes).
        record_id = f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'warcinfo:{filename}:{warc_date(when)}')}>"
        headers = {"WARC-Record-ID": record_id, "WARC-Date": warc_date(when), "WARC-Filename": filename,
                   "WARC-Block-Digest": sha256_label(fields)}
        self.writer.write_record(self.writer.create_warc_record(
            "", "warcinfo", payload=io.BytesIO(fields), length=len(fields), warc_headers_dict=headers))

    def write(self, capture: CaptureRecord) -> None:
        """The request record, then the response or revisit, then the conversion of a rendered page."""
        exchange = capture.exchange
        self._write_http(capture.request_record_id, "request", exchange.url, exchange.captured_at,
                         exchange.request_head, b"", {"WARC-Concurrent-To": capture.record_id})
        if capture.record_id is None or exchange.response_head is None:
            return
        if capture.record_type == "revisit":
            self._write_revisit(capture)
        else:
            payload = self.blobs.get(exchange.payload_sha256) if exchange.payload_sha256 else b""
            self._write_http(capture.record_id, "response", exchange.url, exchange.captured_at,
                             exchange.response_head, payload, {"WARC-Concurrent-To": capture.request_record_id})
        if capture.conversion_record_id and capture.conversion_sha256:
            self._write_conversion(capture)

    def write_all(self, captures: Iterable[CaptureRecord]) -> None:
        for capture in captures:
            self.write(capture)

    def _write_http(self, record_id: str, record_type: str, url: str, when: datetime, head: bytes,
                    payload: bytes, extra: dict[str, str | None]) -> None:
        http = _parse_head(head, is_request=record_type == "request")
        headers = {"WARC-Record-ID": record_id, "WARC-Date": warc_date(when),
                   **{k: v for k, v in extra.items() if v}}
        headers["WARC-Block-Digest"] = sha256_label(http.headers_buff + payload)
        headers["WARC-Payload-Digest"] = sha256_label(payload)
        record = self.writer.create_warc_record(url, record_type, payload=io.BytesIO(payload), length=len(payload),
                                                warc_headers_dict=headers, http_headers=http)
        self.writer.write_record(record)

    def _write_revisit(self, capture: CaptureRecord) -> None:
        exchange = capture.exchange
        http = _parse_head(exchange.response_head or b"", is_request=False)
        headers = {
            "WARC-Record-ID": capture.record_id, "WARC-Date": warc_date(exchange.captured_at),
            "WARC-Concurrent-To": capture.request_record_id, "WARC-Profile": capture.profile,
            "WARC-Refers-To": capture.refers_to_record_id, "WARC-Refers-To-Target-URI": capture.refers_to_uri,
            "WARC-Refers-To-Date": warc_date(capture.refers_to_date) if capture.refers_to_date else None,
            "WARC-Block-Digest": sha256_label(http.headers_buff),
        }
        if exchange.payload_sha256:
            headers["WARC-Payload-Digest"] = "sha256:" + exchange.payload_sha256
        record = self.writer.create_warc_record(exchange.url, "revisit", payload=io.BytesIO(b""), length=0,
                                                warc_headers_dict={k: v for k, v in headers.items() if v},
                                                http_headers=http)
        self.writer.write_record(record)

    def _write_conversion(self, capture: CaptureRecord) -> None:
        dom = self.blobs.get(capture.conversion_sha256 or "")
        headers = {
            "WARC-Record-ID": capture.conversion_record_id, "WARC-Date": warc_date(capture.exchange.captured_at),
            "WARC-Refers-To": capture.record_id, "WARC-Block-Digest": sha256_label(dom),
            "WARC-Payload-Digest": sha256_label(dom),
        }
        record = self.writer.create_warc_record(capture.exchange.url, "conversion", payload=io.BytesIO(dom),
                                                length=len(dom), warc_content_type="text/html; charset=utf-8",
                                                warc_headers_dict=headers)
        self.writer.write_record(record)


def _parse_head(head: bytes, *, is_request: bool) -> StatusAndHeaders:
    """warcio's parse of a stored header block, with the exact bytes it will write as its buffer."""
    http = StatusAndHeadersParser([], verify=False).parse(io.BytesIO(head))
    http.is_http_request = is_request
    http.compute_headers_buffer()
    return http
