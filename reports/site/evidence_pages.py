"""The site's evidence: the capture log and its signed tree heads, and one evidence bundle per record.

Published under ``log/`` (the public key, every signed tree head, every leaf) and
``evidence/CW-P-….zip``. A bundle is proved against the first tree head that
covers its capture, so once written its bytes never change.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from analysis.evidence import LogLeaf
from reports.evidence import captures_warc, check_blobs, write_bundle
from store.capture_log import CaptureLog
from store.evidence_data import CaptureSummary, EvidenceReader
from store.signing import key_id

LOG_KEY_PATH = "log/public-key.pem"


@dataclass(frozen=True)
class RawPage:
    path: str
    fingerprint: dict[str, Any]
    produce: Callable[[], bytes]


class EvidencePages:
    """Plans the log pages and bundles of one build."""

    def __init__(self, store, public_key: bytes, base_url: str):
        self.store = store
        self.public_key = public_key
        self.base_url = base_url
        self.reader = EvidenceReader(store)
        self.captures = self.reader.current_captures()
        self.signed_versions = self.reader.signed_versions()
        # What the bundles of one capture share (a dozen records of a version in a row): its blobs found sound
        # and its WARC records, made once for the capture last bundled.
        self._capture: tuple[str, int] | None = None
        self._checked: set[str] = set()
        self._captures_warc: bytes | None = None

    def log_pages(self) -> Iterator[RawPage]:
        heads = [h.to_json() for h in self.reader.heads]
        entries = CaptureLog(self.store).entries()
        yield RawPage(LOG_KEY_PATH, {"key": self.public_key.decode()}, lambda: self.public_key)
        yield RawPage("log/tree-heads.json", {"heads": heads},
                      lambda: _json({"log_key_id": key_id(self.public_key), "public_key": LOG_KEY_PATH,
                                     "tree_heads": heads}))
        summary = {"size": len(entries), "last": entries[-1].leaf_hash.hex() if entries else None}
        yield RawPage("log/entries.json", summary, lambda: _json({"entries": [
            {"index": e.index, "leaf_hash": e.leaf_hash.hex(), "leaf": LogLeaf.decode(e.leaf).to_json()}
            for e in entries]}))

    def capture_line(self, document_id: str, record_id: str) -> dict[str, Any] | None:
        """What a record page shows: captured … · log entry N · tree head signed … · its bundle."""
        capture: CaptureSummary | None = self.captures.get(document_id)
        if capture is None:
            return None
        return {"captured_at": f"{capture.captured_at:%Y-%m-%d %H:%M:%S} UTC", "index": capture.index,
                "signed": f"{capture.tree_head.time:%Y-%m-%d %H:%M:%S} UTC", "tree_size": capture.tree_head.size,
                "bundle": bundle_path(record_id)}

    def bundle_page(self, document_id: str, record_id: str, version_sha: str | None) -> RawPage | None:
        """The record's bundle in ``version_sha``, the version its page shows, once a signed head covers it.

        Made of that version, not of whatever is current when the bundle is
        written: a crawl recording beside the build made the bundle of a newer
        version no head signed yet, and the build ended in a traceback.
        """
        line = self.capture_line(document_id, record_id)
        if line is None or version_sha is None or (document_id, version_sha) not in self.signed_versions:
            return None
        return RawPage(bundle_path(record_id), {**line, "version": version_sha},
                       lambda: self._bundle(self.reader.record_subject(record_id, version_sha)))

    def version_bundle(self, document_id: str, version_sha: str, path: str) -> RawPage | None:
        """The bundle of one version at ``path``, once a signed tree head covers its first capture."""
        index = self.signed_versions.get((document_id, version_sha))
        if index is None:
            return None
        return RawPage(path, {"document": document_id, "version": version_sha, "index": index},
                       lambda: self._bundle(self.reader.version_subject(document_id, version_sha)))

    def _bundle(self, subject) -> bytes:
        """A bundle, its blobs re-hashed first as `evidence` does: one a blob changed on disk would make fails
        ``verify-evidence``, and is never published (:class:`BlobError`, which the build reports). The blobs and
        WARC records of the capture bundled last are not hashed or written again."""
        capture = (subject.document_id, subject.log_index)
        if capture != self._capture:
            self._capture, self._checked, self._captures_warc = capture, set(), None
        check_blobs(subject, self.store.blobs, self._checked)
        if self._captures_warc is None:
            self._captures_warc = captures_warc(subject, self.store.blobs)
        return write_bundle(subject, self.store.blobs, self.public_key, base_url=self.base_url,
                            captures=self._captures_warc)


def bundle_path(record_id: str) -> str:
    return f"evidence/{record_id}.zip"


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=1, ensure_ascii=False).encode("utf-8") + b"\n"
