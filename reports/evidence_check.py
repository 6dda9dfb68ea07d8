"""Check an evidence bundle: every file hash, the WARC records, the clause offsets, the inclusion proof and the signature.

The checks of the bundle's VERIFY.md script, with the WARC read back by warcio
(the script parses it with the standard library); every failure is named
rather than stopping at the first. What the log binds is checked against the
leaf, never against the manifest alone: the manifest is not signed.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from warcio.archiveiterator import ArchiveIterator

from analysis import merkle
from analysis.evidence import LogLeaf, TreeHead, iso_time
from store.signing import key_id, signature_valid


class BundleError(Exception):
    """The file is not an evidence bundle at all (not a zip, no manifest); the message says what is wrong."""


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# No bundle clausewatch writes comes near these (a page is capped at CRAWL_MAX_BYTES, 20 MB by default); an entry
# past them is a zip bomb (a few MB of zip that inflate to gigabytes, all read into memory), refused unread.
MAX_ENTRY_BYTES = 256 << 20
MAX_BUNDLE_BYTES = 1 << 30


class BundleFiles(dict[str, bytes]):
    """The files of a bundle by their name inside its folder, and what is wrong with the zip's layout itself: a
    name given twice (a zip tool extracts one copy, a reader may read the other), a second folder, a file outside
    the folder. Each is a failed check, not a reason to stop reading."""

    def __init__(self, files: dict[str, bytes], problems: list[str]):
        super().__init__(files)
        self.problems = problems


def read_bundle(path: Path) -> BundleFiles:
    """The files of a bundle by their name inside its folder, with the problems of its layout."""
    try:
        with zipfile.ZipFile(path) as bundle:
            entries, problems = _entries(bundle)
            _refuse_bombs(path, entries)
            files = BundleFiles({inner: _read_entry(path, bundle, info) for inner, info in entries.items()},
                                problems)
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError) as exc:
        raise BundleError(f"{path}: not an evidence bundle ({exc})") from None
    except RuntimeError as exc:  # an encrypted entry: zipfile asks for a password
        raise BundleError(f"{path}: not an evidence bundle ({exc}); bundles are never encrypted") from None
    if "manifest.json" not in files:
        raise BundleError(f"{path}: not an evidence bundle (no manifest.json in its folder)")
    return files


def _entries(bundle: zipfile.ZipFile) -> tuple[dict[str, zipfile.ZipInfo], list[str]]:
    entries: dict[str, zipfile.ZipInfo] = {}
    problems: list[str] = []
    folders = sorted({info.filename.partition("/")[0] for info in bundle.infolist()})
    if len(folders) > 1:
        problems.append(f"the zip holds {len(folders)} folders or files at its top ({', '.join(folders)[:200]}), "
                        "a bundle one folder")
    for info in bundle.infolist():
        _top, _, inner = info.filename.partition("/")
        if info.is_dir() or not inner:
            continue  # a file at the top is named above
        if inner in entries:
            problems.append(f"{inner}: in the zip twice; a zip tool extracts one copy, and which is not for the "
                            "bundle to leave open")
            continue
        entries[inner] = info
    return entries, problems


def _read_entry(path: Path, bundle: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """One entry, read a piece at a time and held to the size its zip states (which :func:`_refuse_bombs`
    checked). ``ZipFile.read`` inflated up to 1 GiB at once before cutting to the size stated: a zip stating 100
    bytes for a bomb took 1.8 GB. zipfile stops at the stated size itself; the count here keeps that promise if it
    ever does not."""
    pieces, total = [], 0
    with bundle.open(info) as entry:
        while piece := entry.read(1 << 20):
            total += len(piece)
            if total > info.file_size:
                raise BundleError(f"{path}: not an evidence bundle ({info.filename} inflates past the "
                                  f"{info.file_size} bytes its zip states)")
            pieces.append(piece)
    return b"".join(pieces)


def _refuse_bombs(path: Path, entries: dict[str, zipfile.ZipInfo]) -> None:
    """Refuse, before reading, a bundle whose files would inflate past what any bundle holds, by the sizes the zip
    states (:func:`_read_entry` holds each file to its stated size)."""
    for inner, info in entries.items():
        if info.file_size > MAX_ENTRY_BYTES:
            raise BundleError(f"{path}: not an evidence bundle ({inner} inflates to {info.file_size} bytes; no "
                              f"bundle file is over {MAX_ENTRY_BYTES >> 20} MiB)")
    if (total := sum(info.file_size for info in entries.values())) > MAX_BUNDLE_BYTES:
        raise BundleError(f"{path}: not an evidence bundle (its files inflate to {total} bytes; no bundle is over "
                          f"{MAX_BUNDLE_BYTES >> 20} MiB)")


def check_bundle(files: dict[str, bytes]) -> list[str]:
    """Every claim of the bundle that does not hold, named; empty when all hold."""
    problems = list(getattr(files, "problems", []))
    try:
        manifest = json.loads(files["manifest.json"])
        leaf = LogLeaf.decode(files["log/leaf.json"])
        head = TreeHead.from_json(json.loads(files["log/tree-head.json"]))
        proof = json.loads(files["log/inclusion-proof.json"])
    except (KeyError, ValueError, TypeError, AttributeError, RecursionError) as exc:
        return [*problems, f"the bundle is incomplete or malformed: {type(exc).__name__} {exc}"]
    if shape := _malformed(manifest, proof):
        return [*problems, *shape]
    try:
        problems += list(_unlisted(manifest, files))
        problems += list(_file_hashes(manifest, files))
        problems += list(_leaf_claims(manifest, leaf, files))
        problems += list(_log_claims(manifest, leaf, files, proof, head))
        problems += list(_clauses(manifest, files))
        problems += list(_warc(files.get("capture.warc.gz", b""), leaf))
        problems += list(_log(files["log/leaf.json"], proof, head, files.get("log/public-key.pem", b"")))
    except (KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:  # a value of a kind none is
        problems.append(f"the bundle is malformed: {type(exc).__name__} {exc}")
    return problems


def _malformed(manifest: object, proof: object) -> list[str]:
    """What the checks read of the manifest and the proof, of the kinds they read it as: else what is not."""
    if not isinstance(manifest, dict):
        return [f"manifest.json: a {type(manifest).__name__}, not an object"]
    problems = []
    files = manifest.get("files", {})
    if not (isinstance(files, dict) and all(isinstance(v, str) for v in files.values())):
        problems.append("manifest.json: \"files\" is not an object of file names and SHA-256 hashes")
    for key in ("log", "version"):
        if not isinstance(manifest.get(key, {}), dict):
            problems.append(f"manifest.json: \"{key}\" is not an object")
    clauses = manifest.get("clauses", [])
    if not (isinstance(clauses, list) and all(_clause_shaped(clause) for clause in clauses)):
        problems.append("manifest.json: \"clauses\" is not a list of clauses, each with an ordinal, whole-number "
                        "offsets and a SHA-256")
    if not (isinstance(proof, dict) and isinstance(proof.get("audit_path", []), list)
            and isinstance(proof.get("leaf_index", -1), int)):
        problems.append("log/inclusion-proof.json: not an object with a leaf_index and an audit_path")
    return problems


def _clause_shaped(clause: object) -> bool:
    if not isinstance(clause, dict) or not isinstance(clause.get("sha256", ""), str):
        return False
    offsets = (clause.get("start"), clause.get("end"))
    return offsets[0] is None or all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)


def _unlisted(manifest: dict, files: dict[str, bytes]) -> Iterator[str]:
    """A file the manifest does not list is checked by nothing: it would ride along in the bundle unproved."""
    for name in sorted(set(files) - set(manifest.get("files", {})) - {"manifest.json"}):
        yield f"{name[:200]}: not listed in manifest.json, so nothing proves it"


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


def _log_claims(manifest, leaf: LogLeaf, files, proof, head: TreeHead) -> Iterator[str]:
    """What the manifest says of the log entry is what the proof and the leaf show; the key is the one named."""
    log = manifest.get("log", {})
    if log.get("index") != proof.get("leaf_index"):
        yield f"manifest.json: log entry {log.get('index')}, the inclusion proof is of entry {proof.get('leaf_index')}"
    if log.get("tree_size") != head.size:
        yield f"manifest.json: a tree of {log.get('tree_size')}, the signed head is of {head.size}"
    if log.get("leaf_hash") != _sha(b"\x00" + files["log/leaf.json"]):
        yield "manifest.json: its leaf_hash is not the hash of log/leaf.json"
    first_seen = manifest.get("version", {}).get("first_seen")
    if not isinstance(first_seen, str) or first_seen > iso_time(leaf.time):
        yield f"manifest.json: first seen {first_seen}, after the capture that proves it ({iso_time(leaf.time)})"
    stated = json.loads(files["log/tree-head.json"]).get("log_key_id")
    try:
        actual = key_id(files.get("log/public-key.pem", b""))
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return  # not a key: the signature check names it
    if stated != actual:
        yield f"log/tree-head.json: log_key_id {stated}, but log/public-key.pem is the key {actual}"


def _clauses(manifest, files) -> Iterator[str]:
    """Each clause stands in the version text at its offsets, and analysis.json quotes exactly those clauses."""
    text = files.get("version.txt", b"").decode("utf-8", errors="replace")
    quoted = {}
    for clause in manifest.get("clauses", []):
        if clause.get("start") is None:  # every clause is verbatim in its version: none is left unproved
            yield f"clause {clause.get('ordinal')}: not found in version.txt, so its text is not proved"
            continue
        quoted[clause["ordinal"]] = text[clause["start"]:clause["end"]]
        if _sha(quoted[clause["ordinal"]].encode("utf-8")) != clause["sha256"]:
            yield f"clause {clause['ordinal']}: the text at {clause['start']}–{clause['end']} is not the clause"
    try:
        analysed = {c["ordinal"]: c["text"] for c in json.loads(files.get("analysis.json", b"{}")).get("clauses", [])}
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        yield f"analysis.json: not readable ({type(exc).__name__})"
        return
    for ordinal in sorted(set(analysed) | set(quoted), key=str):
        if analysed.get(ordinal) != quoted.get(ordinal):
            yield f"analysis.json: clause {ordinal} is not the text version.txt holds at the manifest's offsets"


@dataclass(frozen=True)
class _WarcRecord:
    record_id: str
    kind: str
    url: str | None
    date: str | None
    payload_digest: str | None  # the WARC-Payload-Digest header
    payload_sha256: str | None  # what the record's payload hashes to, recomputed here
    head: bytes
    concurrent_to: str | None
    refers_to: str | None
    refers_to_uri: str | None
    refers_to_date: str | None


def _warc(data: bytes, leaf: LogLeaf) -> Iterator[str]:
    """The WARC's digests hold; it holds the logged records with the header blocks, URLs, dates and payloads the
    log binds, the responses their revisits refer to as the log binds them, and nothing else."""
    try:
        found = list(_warc_records(data))
    except Exception as exc:  # warcio raises many kinds on a damaged archive; any of them is the finding
        yield f"capture.warc.gz: not a readable WARC ({type(exc).__name__}: {exc})"
        return
    yield from (item for item in found if isinstance(item, str))
    records: dict[str, _WarcRecord] = {}
    for record in (item for item in found if isinstance(item, _WarcRecord)):
        if record.record_id in records:  # a replay would show one of the two, and which is not for the log to say
            yield f"capture.warc.gz: two records share the id {record.record_id}"
        records.setdefault(record.record_id, record)
    yield from _unbound_records(records, leaf)
    requests = {r.concurrent_to: r for r in records.values() if r.kind == "request"}
    held: dict[str, str] = {}  # logged record id → the payload a replay of it shows, recomputed
    for number, record_id in enumerate(leaf.records):
        main = records.get(record_id)
        if main is None:
            yield f"capture.warc.gz: the logged record {record_id} is missing"
            continue
        if number < len(leaf.heads) and _exchange_heads(main, requests) != leaf.heads[number]:
            yield f"capture.warc.gz: the HTTP headers of {record_id} are not the ones the log recorded"
        if (shown := _payload_shown(main, records)) is not None:
            held[record_id] = shown
        if leaf.v >= 2:
            yield from _bound_fields(record_id, main, shown, leaf, number)
        if leaf.v >= 3:
            yield from _bound_original(main, records, requests, leaf, number)
        if leaf.v >= 4:
            yield from _bound_rendering(main, records, leaf, number)
    if leaf.snapshot and leaf.records and not _snapshot_held(leaf.snapshot, held, records):
        found_payloads = ", ".join(f"{rid} has {digest}" for rid, digest in held.items()) or "none has a payload"
        yield f"capture.warc.gz: no logged record has the payload the log says, {leaf.snapshot} ({found_payloads})"


def _unbound_records(records: dict[str, _WarcRecord], leaf: LogLeaf) -> Iterator[str]:
    """Every record is the log's: the warcinfo, a logged record, the response a logged revisit refers to, the one
    request of each, at its URL and date, or the rendering of a page fetched in a browser that the leaf names (before
    leaf version 4, the one conversion of a bound record; the first page's is the logged snapshot). Anything else
    would ride along unchecked."""
    bound = {rid: record for rid in leaf.records if (record := records.get(rid)) is not None}
    named = {rendering[0] for rendering in leaf.renderings if rendering}
    bound |= {r.refers_to: records[r.refers_to] for r in list(bound.values())
              if r.kind == "revisit" and r.refers_to in records}
    asked: dict[str, int] = {}
    for record in records.values():
        if record.kind == "warcinfo" or record.record_id in bound:
            continue
        if record.kind == "request" and (answered := bound.get(record.concurrent_to)) is not None \
                and (record.url, record.date) == (answered.url, answered.date):
            asked[answered.record_id] = asked.get(answered.record_id, 0) + 1
            if asked[answered.record_id] == 1:
                continue
        elif record.kind == "conversion" and leaf.v >= 4:
            if record.record_id in named:
                continue
        elif record.kind == "conversion" and record.refers_to in bound and _one_conversion(records, record) \
                and (record.refers_to != (leaf.records or ("",))[0] or record.payload_sha256 == leaf.snapshot):
            continue
        yield f"capture.warc.gz: the {record.kind} record {record.record_id} is not one the log binds"


def _one_conversion(records: dict[str, _WarcRecord], conversion: _WarcRecord) -> bool:
    """Before leaf version 4, a browser page has one rendering: the first page's is the logged snapshot; a later
    page's is not bound by the leaf, only its being the one rendering of a bound response."""
    return sum(1 for r in records.values() if r.kind == "conversion" and r.refers_to == conversion.refers_to) == 1


def _bound_rendering(record: _WarcRecord, records: dict[str, _WarcRecord], leaf: LogLeaf,
                     number: int) -> Iterator[str]:
    """What a version 4 leaf binds of a page rendered in a browser: its conversion record, by id and payload, which
    refers to the page's record at the page's URL and date."""
    bound = leaf.renderings[number] if number < len(leaf.renderings) else None
    if bound is None:
        return
    conversion_id, payload = bound
    conversion = records.get(conversion_id)
    if conversion is None or conversion.kind != "conversion":
        yield f"capture.warc.gz: the rendering {conversion_id} of {record.record_id} is missing"
        return
    if (conversion.refers_to, conversion.url, conversion.date) != (record.record_id, record.url, record.date):
        yield f"capture.warc.gz: the rendering {conversion_id} is not of {record.record_id}, at its URL and date"
    if conversion.payload_sha256 != payload:
        yield f"capture.warc.gz: the rendering {conversion_id} hashes to {conversion.payload_sha256}, the log says " \
              f"{payload}"


def _exchange_heads(record: _WarcRecord, requests: dict[str | None, _WarcRecord]) -> str:
    heads = record.head if record.kind == "request" else requests.get(record.record_id, _NO_REQUEST).head + record.head
    return _sha(heads)


def _payload_shown(record: _WarcRecord, records: dict[str, _WarcRecord]) -> str | None:
    """The payload a replay of the record shows: its own, or, for a revisit, that of the response it refers to
    (whose payload is recomputed here, so an edited original is found even though the revisit's header is not)."""
    if record.kind == "response":
        return record.payload_sha256
    if record.kind == "revisit" and record.refers_to is not None:
        original = records.get(record.refers_to)
        if original is not None and original.kind == "response":
            return original.payload_sha256
    return None


def _bound_fields(record_id: str, record: _WarcRecord, shown: str | None, leaf: LogLeaf,
                  number: int) -> Iterator[str]:
    """What a version 2 leaf binds of each record: its URL, its date and its payload."""
    if number >= min(len(leaf.urls), len(leaf.dates), len(leaf.payloads)):
        yield f"log/leaf.json: record {record_id} has no URL, date or payload in the leaf"
        return
    if record.url != leaf.urls[number]:
        yield f"capture.warc.gz: {record_id} is of {record.url}, the log says {leaf.urls[number]}"
    if record.date != leaf.dates[number]:
        yield f"capture.warc.gz: {record_id} is dated {record.date}, the log says {leaf.dates[number]}"
    expected = leaf.payloads[number]
    if expected is None:
        return
    if shown is None and record.kind == "revisit":
        yield f"capture.warc.gz: {record_id} refers to {record.refers_to}, which is not a response in the archive"
    elif shown != expected:
        yield f"capture.warc.gz: the payload of {record_id} hashes to {shown}, the log says {expected}"
    if record.payload_digest != f"sha256:{expected}":
        yield f"capture.warc.gz: {record_id} states the payload {record.payload_digest}, the log says {expected}"


def _bound_original(record: _WarcRecord, records: dict[str, _WarcRecord], requests, leaf: LogLeaf,
                    number: int) -> Iterator[str]:
    """What a version 3 leaf binds of the response a revisit refers to: its id, URL, date and header blocks."""
    bound = leaf.originals[number] if number < len(leaf.originals) else None
    if bound is None:
        if record.kind == "revisit" and record.refers_to is not None:
            yield f"capture.warc.gz: {record.record_id} refers to {record.refers_to}, which the log does not name"
        return
    original_id, url, date, heads = bound
    if (record.refers_to, record.refers_to_uri, record.refers_to_date) != (original_id, url, date):
        yield f"capture.warc.gz: {record.record_id} refers to another response than the log says ({original_id})"
    original = records.get(original_id)
    if original is None or original.kind != "response":
        yield f"capture.warc.gz: the response {original_id} that {record.record_id} refers to is missing"
        return
    if (original.url, original.date) != (url, date):
        yield f"capture.warc.gz: the response {original_id} is of {original.url} at {original.date}, the log says " \
              f"{url} at {date}"
    if heads is not None and _exchange_heads(original, requests) != heads:
        yield f"capture.warc.gz: the HTTP headers of {original_id} are not the ones the log recorded"


def _snapshot_held(snapshot: str, held: dict[str, str], records: dict[str, _WarcRecord]) -> bool:
    """The logged snapshot is a logged record's payload, or (a page rendered in a browser) the conversion
    record of one."""
    if snapshot in held.values():
        return True
    return any(r.kind == "conversion" and r.refers_to in held and r.payload_sha256 == snapshot
               for r in records.values())


_NO_REQUEST = _WarcRecord("", "request", None, None, None, None, b"", None, None, None, None)


def _warc_records(data: bytes) -> Iterator[_WarcRecord | str]:
    for record in ArchiveIterator(io.BytesIO(data), check_digests=True):
        headers = record.rec_headers
        record_id = headers.get_header("WARC-Record-ID")
        payload = record.raw_stream.read()  # the digests are checked as the record is read
        if record.digest_checker.passed is False:
            yield f"capture.warc.gz: record {record_id} fails its digest check"
        names = [name.lower() for name, _value in headers.headers]
        if len(names) != len(set(names)):  # readers differ on which of two values counts: neither does here
            yield f"capture.warc.gz: record {record_id} states a WARC header twice"
        head = record.http_headers.to_ascii_bytes() if record.http_headers else b""
        yield _WarcRecord(
            record_id, record.rec_type, headers.get_header("WARC-Target-URI"), headers.get_header("WARC-Date"),
            headers.get_header("WARC-Payload-Digest"), _sha(payload) if record.rec_type != "revisit" else None, head,
            headers.get_header("WARC-Concurrent-To"), headers.get_header("WARC-Refers-To"),
            headers.get_header("WARC-Refers-To-Target-URI"), headers.get_header("WARC-Refers-To-Date"))


def _log(leaf_bytes: bytes, proof, head: TreeHead, public_key: bytes) -> Iterator[str]:
    path = [bytes.fromhex(p) for p in proof.get("audit_path", [])]
    if proof.get("tree_size") != head.size or not merkle.verify_inclusion(
            merkle.leaf_hash(leaf_bytes), int(proof.get("leaf_index", -1)), head.size, path, head.root):
        yield f"log: the inclusion proof of entry {proof.get('leaf_index')} does not lead to the signed root"
    if not signature_valid(public_key, head):
        yield "log: the tree head's signature does not verify with log/public-key.pem"
