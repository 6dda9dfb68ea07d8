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


def _warc(data: bytes, leaf: LogLeaf) -> Iterator[str]:
    """The WARC's digests hold, and it holds the logged records with the logged payload."""
    seen: dict[str, tuple[str, str | None]] = {}
    try:
        for record in ArchiveIterator(io.BytesIO(data), check_digests=True):
            record_id = record.rec_headers.get_header("WARC-Record-ID")
            record.content_stream().read()  # the digests are checked as the record is read
            if record.digest_checker.passed is False:
                yield f"capture.warc.gz: record {record_id} fails its digest check"
            seen[record_id] = (record.rec_type, record.rec_headers.get_header("WARC-Payload-Digest"))
    except Exception as exc:  # warcio raises many kinds on a damaged archive; any of them is the finding
        yield f"capture.warc.gz: not a readable WARC ({type(exc).__name__}: {exc})"
        return
    for record_id in leaf.records:
        if record_id not in seen:
            yield f"capture.warc.gz: the logged record {record_id} is missing"
        elif (leaf.snapshot and seen[record_id][0] in ("response", "revisit")
              and seen[record_id][1] not in (None, f"sha256:{leaf.snapshot}")):
            yield f"capture.warc.gz: record {record_id} has payload {seen[record_id][1]}, the log says {leaf.snapshot}"


def _log(leaf_bytes: bytes, proof, head: TreeHead, public_key: bytes) -> Iterator[str]:
    path = [bytes.fromhex(p) for p in proof.get("audit_path", [])]
    if proof.get("tree_size") != head.size or not merkle.verify_inclusion(
            merkle.leaf_hash(leaf_bytes), int(proof.get("leaf_index", -1)), head.size, path, head.root):
        yield f"log: the inclusion proof of entry {proof.get('leaf_index')} does not lead to the signed root"
    if not signature_valid(public_key, head):
        yield "log: the tree head's signature does not verify with log/public-key.pem"
