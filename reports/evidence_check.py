"""Check an evidence bundle: every file hash, the WARC digests, the clause offsets, the inclusion proof and the signature.

The same checks as the bundle's VERIFY.md script, plus the WARC records read
back with warcio; every failure is named rather than stopping at the first.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from analysis import merkle
from analysis.evidence import LogLeaf, TreeHead
from store.signing import signature_valid


class BundleError(Exception):
    """The file is not an evidence bundle at all (not a zip, no manifest); the message says what is wrong."""


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_bundle(path: Path) -> dict[str, bytes]:
    """The files of a bundle by their name inside its folder."""
    try:
        with zipfile.ZipFile(path) as bundle:
            files = {}
            for name in bundle.namelist():
                _top, _, inner = name.partition("/")
                if inner and not name.endswith("/"):
                    files[inner] = bundle.read(name)
    except (OSError, zipfile.BadZipFile) as exc:
        raise BundleError(f"{path}: not an evidence bundle ({exc})") from None
    if "manifest.json" not in files:
        raise BundleError(f"{path}: not an evidence bundle (no manifest.json in its folder)")
    return files


def check_bundle(files: dict[str, bytes]) -> list[str]:
    """Every claim of the bundle that does not hold, named; empty when all hold."""
    try:
        manifest = json.loads(files["manifest.json"])
        leaf = LogLeaf.decode(files["log/leaf.json"])
        head = TreeHead.from_json(json.loads(files["log/tree-head.json"]))
        proof = json.loads(files["log/inclusion-proof.json"])
    except (KeyError, ValueError, TypeError) as exc:
        return [f"the bundle is incomplete or malformed: {type(exc).__name__} {exc}"]
    problems = list(_file_hashes(manifest, files))
    problems += list(_leaf_claims(manifest, leaf, files))
    problems += list(_clauses(manifest, files))
    problems += list(_warc(files.get("capture.warc.gz", b""), leaf))
    problems += list(_log(files["log/leaf.json"], proof, head, files.get("log/public-key.pem", b"")))
    return problems


def _file_hashes(manifest, files) -> Iterator[str]:
    for name, digest in manifest.get("files", {}).items():
        if name not in files:
            yield f"{name}: listed in manifest.json but missing"
        elif _sha(files[name]) != digest:
            yield f"{name}: SHA-256 is {_sha(files[name])}, manifest.json says {digest}"


def _leaf_claims(manifest, leaf: LogLeaf, files) -> Iterator[str]:
    if leaf.document != manifest.get("document"):
        yield f"log/leaf.json is about {leaf.document}, the manifest about {manifest.get('document')}"
    if _sha(files.get("version.txt", b"")) != leaf.version:
        yield "version.txt: its SHA-256 is not the version the log recorded"
    if manifest.get("version", {}).get("sha256") != leaf.version:
        yield "manifest.json: its version is not the one the log recorded"
    if leaf.snapshot and _sha(files.get("snapshot.bin", b"")) != leaf.snapshot:
        yield "snapshot.bin: its SHA-256 is not the snapshot the log recorded"


def _clauses(manifest, files) -> Iterator[str]:
    text = files.get("version.txt", b"").decode("utf-8", errors="replace")
    for clause in manifest.get("clauses", []):
        if clause.get("start") is None:
            continue
        quoted = text[clause["start"]:clause["end"]].encode("utf-8")
        if _sha(quoted) != clause["sha256"]:
            yield f"clause {clause['ordinal']}: the text at {clause['start']}–{clause['end']} is not the clause"


@dataclass(frozen=True)
class _WarcRecord:
    kind: str
    payload_digest: str | None
    head: bytes
    concurrent_to: str | None


def _warc(data: bytes, leaf: LogLeaf) -> Iterator[str]:
    """The WARC's digests hold, and it holds the logged records with the logged headers and payload."""
    try:
        seen = dict(_warc_records(data))
    except Exception as exc:  # warcio raises many kinds on a damaged archive; any of them is the finding
        yield f"capture.warc.gz: not a readable WARC ({type(exc).__name__}: {exc})"
        return
    for problem in (record for record in seen.values() if isinstance(record, str)):
        yield problem
    requests = {r.concurrent_to: r for r in seen.values() if isinstance(r, _WarcRecord) and r.kind == "request"}
    payloads: dict[str, str] = {}
    for number, record_id in enumerate(leaf.records):
        main = seen.get(record_id)
        if not isinstance(main, _WarcRecord):
            yield f"capture.warc.gz: the logged record {record_id} is missing"
            continue
        if main.kind in ("response", "revisit") and main.payload_digest is not None:
            payloads[record_id] = main.payload_digest
        heads = main.head if main.kind == "request" else requests.get(record_id, _NO_REQUEST).head + main.head
        if number < len(leaf.heads) and _sha(heads) != leaf.heads[number]:
            yield f"capture.warc.gz: the HTTP headers of {record_id} are not the ones the log recorded"
    # The logged snapshot is the document's first page: one of the logged records carries it. A combined
    # document's other pages are records of their own, whose headers the log binds (above) and whose payloads
    # the WARC's own digests check.
    if leaf.snapshot and payloads and f"sha256:{leaf.snapshot}" not in payloads.values():
        found = ", ".join(f"{record_id} has {digest}" for record_id, digest in payloads.items())
        yield f"capture.warc.gz: no logged record has the payload the log says, {leaf.snapshot} ({found})"


_NO_REQUEST = _WarcRecord("request", None, b"", None)


def _warc_records(data: bytes) -> Iterator[tuple[str, _WarcRecord | str]]:
    for record in ArchiveIterator(io.BytesIO(data), check_digests=True):
        record_id = record.rec_headers.get_header("WARC-Record-ID")
        record.content_stream().read()  # the digests are checked as the record is read
        if record.digest_checker.passed is False:
            yield f"problem:{record_id}", f"capture.warc.gz: record {record_id} fails its digest check"
        head = record.http_headers.to_ascii_bytes() if record.http_headers else b""
        yield record_id, _WarcRecord(record.rec_type, record.rec_headers.get_header("WARC-Payload-Digest"), head,
                                     record.rec_headers.get_header("WARC-Concurrent-To"))


def _log(leaf_bytes: bytes, proof, head: TreeHead, public_key: bytes) -> Iterator[str]:
    path = [bytes.fromhex(p) for p in proof.get("audit_path", [])]
    if proof.get("tree_size") != head.size or not merkle.verify_inclusion(
            merkle.leaf_hash(leaf_bytes), int(proof.get("leaf_index", -1)), head.size, path, head.root):
        yield f"log: the inclusion proof of entry {proof.get('leaf_index')} does not lead to the signed root"
    if not signature_valid(public_key, head):
        yield "log: the tree head's signature does not verify with log/public-key.pem"
