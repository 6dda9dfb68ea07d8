"""Evidence bundles: one zip per record that anyone can check offline, without clausewatch.

A bundle holds the WARC records of the capture that first recorded the version,
the raw snapshot, the version text, the record's clauses with their character
offsets in that text, the analysis (with the analyzer's id), the capture log's
leaf for that capture, its inclusion proof, the signed tree head and the public
key, and VERIFY.md: how to check all of it with Python's standard library and
``cryptography``, or with sha256sum and openssl.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from analysis.evidence import iso_time
from analysis.text import sha256_bytes
from store.blobs import BlobError
from store.evidence_data import EvidenceSubject
from store.signing import key_id
from store.warc import CaptureWriter

BUNDLE_FORMAT = "clausewatch-evidence/1"
# Zip entries carry this fixed time, so the same evidence always makes the same bytes.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def bundle_files(subject: EvidenceSubject, blobs, public_key_pem: bytes, *, base_url: str,
                 captures: bytes | None = None) -> dict[str, bytes]:
    """Every file of the bundle by its name in the zip; ``captures`` as for :func:`write_bundle`."""
    leaf = subject.decoded_leaf
    head = subject.tree_head
    files = {
        "version.txt": subject.version.text.encode("utf-8"),
        "capture.warc.gz": _warc(subject, blobs, captures),
        "analysis.json": _json(_analysis(subject)),
        "log/leaf.json": subject.leaf,
        "log/tree-head.json": _json({**head.to_json(), "log_key_id": key_id(public_key_pem)}),
        "log/tree-head.tbs": head.signed_bytes(),
        "log/tree-head.sig": head.signature,
        "log/inclusion-proof.json": _json({"leaf_index": subject.log_index, "tree_size": head.size,
                                           "audit_path": [p.hex() for p in subject.inclusion_proof]}),
        "log/public-key.pem": public_key_pem,
    }
    if leaf.snapshot:
        files["snapshot.bin"] = blobs.get(leaf.snapshot)
    files["VERIFY.md"] = verify_text(subject, base_url, key_id(public_key_pem)).encode("utf-8")
    files["manifest.json"] = _json(_manifest(subject, files))
    return files


def bundle_blobs(subject: EvidenceSubject) -> list[str]:
    """The SHA-256 of every blob the bundle puts in: the version text, the snapshot, the WARC payloads."""
    wanted = [subject.version.version.sha256, subject.decoded_leaf.snapshot]
    for capture in subject.captures:
        if capture.record_type == "response":
            wanted.append(capture.exchange.payload_sha256)
        wanted.append(capture.conversion_sha256 if capture.conversion_record_id else None)
    return list(dict.fromkeys(sha for sha in wanted if sha))


class UnprovableClauseError(BlobError):
    """A clause of the record is not verbatim in its version's text (the database was edited): a bundle would
    quote what nothing proves."""


def check_blobs(subject: EvidenceSubject, blobs, checked: set[str] | None = None) -> None:
    """Re-hash every blob the bundle holds against the SHA-256 the store names it by, and find each clause in the
    version's text: a blob changed on disk, or a clause edited in the database, would make a bundle
    ``verify-evidence`` rejects, so none is made. ``checked``, when given, holds the blobs found sound already
    (for another record of the same version): they are not hashed again, and the ones found sound are added."""
    for sha in bundle_blobs(subject):
        if checked is not None and sha in checked:
            continue
        problem = blobs.check(sha)
        if problem:
            raise BlobError(f"blob {sha} does not match the store's record ({problem}); "
                            "no bundle was written: `clausewatch verify` tells more")
        if checked is not None:
            checked.add(sha)
    for item in subject.clauses:
        if not item.clause.text.strip() or clause_offsets(subject.version.text, item.clause.text) is None:
            raise UnprovableClauseError(
                f"clause {item.clause.ordinal} of {subject.record_id} is not in its version's text (the store's "
                "clauses were changed?); no bundle was written: `clausewatch verify` tells more")


def write_bundle(subject: EvidenceSubject, blobs, public_key_pem: bytes, *, base_url: str,
                 captures: bytes | None = None) -> bytes:
    """The bundle as zip bytes (stored uncompressed but for the WARC, which is gzip already).

    ``captures`` is the subject's captures as WARC records (:func:`captures_warc`) when they were written already,
    for another record of the same capture: the bundle is the same bytes either way.
    """
    files = bundle_files(subject, blobs, public_key_pem, base_url=base_url, captures=captures)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as bundle:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{subject.record_id}/{name}", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED if name.endswith(".gz") else zipfile.ZIP_DEFLATED
            bundle.writestr(info, files[name])
    return out.getvalue()


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n"


def captures_warc(subject: EvidenceSubject, blobs) -> bytes:
    """The subject's captures as gzipped WARC records, each its own gzip member: what every bundle of the same
    capture holds after its own warcinfo record."""
    out = io.BytesIO()
    CaptureWriter(out, blobs).write_all(subject.captures)
    return out.getvalue()


def _warc(subject: EvidenceSubject, blobs, captures: bytes | None = None) -> bytes:
    out = io.BytesIO()
    CaptureWriter(out, blobs).write_warcinfo(f"{subject.record_id}.warc.gz", subject.tree_head.time)
    return out.getvalue() + (captures if captures is not None else captures_warc(subject, blobs))


def clause_offsets(text: str, clause_text: str) -> tuple[int, int] | None:
    """Where the clause stands in the version text, in Unicode code points (None if not verbatim)."""
    start = text.find(clause_text)
    return (start, start + len(clause_text)) if start >= 0 else None


def _clauses(subject: EvidenceSubject) -> list[dict[str, Any]]:
    found = []
    for item in subject.clauses:
        offsets = clause_offsets(subject.version.text, item.clause.text)
        found.append({
            "ordinal": item.clause.ordinal, "heading": item.clause.heading, "key": item.clause.key,
            "start": offsets[0] if offsets else None, "end": offsets[1] if offsets else None,
            "sha256": sha256_bytes(item.clause.text.encode("utf-8")),
        })
    return found


def _analysis(subject: EvidenceSubject) -> dict[str, Any]:
    return {
        "analyzer": subject.analyzer, "record": subject.record_id, "clause_type": subject.clause_type,
        "clauses": [{
            "ordinal": item.clause.ordinal, "heading": item.clause.heading, "text": item.clause.text,
            "types": list(item.classification.types), "severity": item.classification.severity,
            "confidence": item.classification.confidence, "basis": item.classification.basis,
            "evidence": list(item.classification.evidence), "reason": item.classification.reason,
        } for item in subject.clauses],
    }


def _manifest(subject: EvidenceSubject, files: dict[str, bytes]) -> dict[str, Any]:
    version = subject.version.version
    return {
        "format": BUNDLE_FORMAT, "record": subject.record_id, "document": subject.document_id,
        "platform": subject.platform, "document_type": subject.document_type, "clause_type": subject.clause_type,
        "version": {"sha256": version.sha256, "first_seen": iso_time(version.first_seen),
                    "last_verified": iso_time(version.last_verified)},
        "clauses": _clauses(subject),
        "log": {"index": subject.log_index, "tree_size": subject.tree_head.size,
                "leaf_hash": sha256_bytes(b"\x00" + subject.leaf)},
        "files": {name: sha256_bytes(data) for name, data in sorted(files.items())},
    }


def verify_text(subject: EvidenceSubject, base_url: str, key_id_of: str) -> str:
    """VERIFY.md of a bundle: what it claims, and how to check it without clausewatch."""
    head, leaf = subject.tree_head, subject.decoded_leaf
    values = {
        "record": subject.record_id, "document": subject.document_id, "platform": subject.platform,
        "document_type": subject.document_type, "version": subject.version.version.sha256,
        "first_seen": _first_seen(subject), "index": subject.log_index, "captured": iso_time(leaf.time),
        "url": leaf.url, "key_id": key_id_of,
        "size": head.size, "signed": iso_time(head.time), "key_url": base_url.rstrip("/") + "/log/public-key.pem",
        "snippet": VERIFY_SNIPPET.strip(),
    }
    return VERIFY_TEMPLATE.format(**values)


def _first_seen(subject: EvidenceSubject) -> str:
    """When the version was first seen, and, for one rebuilt from earlier captures, what the capture here proves."""
    first_seen = iso_time(subject.version.version.first_seen)
    leaf = subject.decoded_leaf
    if leaf.outcome == "new_version":
        return first_seen
    return (f"{first_seen} (a version rebuilt from earlier captures, when clausewatch learned a value of the page "
            f"to be volatile or reprocessed its history: the capture here, of {iso_time(leaf.time)}, is the first "
            "that named it as the document's version)")


# Checks a bundle with the standard library and ``cryptography`` only; tested as it
# stands here, in a Python that cannot import clausewatch (tests/reports/test_evidence.py).
VERIFY_SNIPPET = r'''
import datetime, gzip, hashlib, json, pathlib, struct, sys
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

bundle = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
read = lambda name: (bundle / name).read_bytes()
sha256 = lambda data: hashlib.sha256(data).hexdigest()
manifest = json.loads(read("manifest.json"))

# 1. Every file is the one the manifest lists.
for name, digest in manifest["files"].items():
    assert sha256(read(name)) == digest, f"{name} does not match its SHA-256 in manifest.json"

# 2. The version text and the raw snapshot are the ones the capture log recorded.
leaf_bytes = read("log/leaf.json")
leaf = json.loads(leaf_bytes)
assert leaf["document"] == manifest["document"], "the log leaf is about another document"
assert sha256(read("version.txt")) == leaf["version"] == manifest["version"]["sha256"], \
    "version.txt is not the version the log recorded"
if leaf["snapshot"]:
    assert sha256(read("snapshot.bin")) == leaf["snapshot"], "snapshot.bin is not the snapshot the log recorded"

# 3. Each clause stands in the version text at its offsets (Unicode code points), and analysis.json quotes it.
text = read("version.txt").decode("utf-8")
quoted = {}
for clause in manifest["clauses"]:
    assert clause["start"] is not None, f"clause {clause['ordinal']} is not found in version.txt: its text is not proved"
    quoted[clause["ordinal"]] = text[clause["start"]:clause["end"]]
    assert sha256(quoted[clause["ordinal"]].encode("utf-8")) == clause["sha256"], \
        f"clause {clause['ordinal']} is not at its offsets"
analysed = {clause["ordinal"]: clause["text"] for clause in json.loads(read("analysis.json"))["clauses"]}
assert analysed == quoted, "analysis.json quotes other clauses than version.txt holds at the manifest's offsets"

# 4. The leaf is in the signed tree (RFC 6962 hashing, RFC 9162 section 2.1.3.2 verification).
head = json.loads(read("log/tree-head.json"))
proof = json.loads(read("log/inclusion-proof.json"))
node = lambda left, right: hashlib.sha256(b"\x01" + left + right).digest()
fn, sn = proof["leaf_index"], head["tree_size"] - 1
value = hashlib.sha256(b"\x00" + leaf_bytes).digest()
assert fn <= sn and proof["tree_size"] == head["tree_size"], "the proof is for another tree"
for sibling in map(bytes.fromhex, proof["audit_path"]):
    assert sn > 0, "the audit path is too long"
    if fn & 1 or fn == sn:
        value = node(sibling, value)
        while not fn & 1 and fn:
            fn, sn = fn >> 1, sn >> 1
    else:
        value = node(value, sibling)
    fn, sn = fn >> 1, sn >> 1
assert sn == 0 and value.hex() == head["sha256_root_hash"], "the inclusion proof does not lead to the signed root"

# 5. The tree head is signed by the log's key (RFC 6962 TreeHeadSignature, Ed25519), the key the head names.
signed = struct.pack(">BBQQ", 0, 1, head["timestamp"], head["tree_size"]) + bytes.fromhex(head["sha256_root_hash"])
key = load_pem_public_key(read("log/public-key.pem"))
key.verify(bytes.fromhex(head["signature"]), signed)
assert sha256(key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)) == head["log_key_id"], \
    "log/public-key.pem is not the key log/tree-head.json names (log_key_id)"
assert (manifest["log"]["index"], manifest["log"]["tree_size"]) == (proof["leaf_index"], head["tree_size"]), \
    "manifest.json names another log entry or tree"

# 6. capture.warc.gz holds the logged records and nothing else: the HTTP header blocks the leaf binds and, from
#    leaf version 2, each record's URL, date and payload, from version 3 the response a revisit refers to (its
#    id, URL, date, header blocks and payload), and from version 4 each page's rendering in a browser (its
#    conversion record's id and payload). A record's WARC headers are read as warcio reads them (names in any case); one
#    stated twice, or two records of one id, fail: readers differ on which counts.
def warc_records(data):
    data, records, at = gzip.decompress(data), {}, 0
    while at < len(data):
        end = data.index(b"\r\n\r\n", at)
        lines = data[at:end].decode("utf-8").split("\r\n")
        assert lines[0].startswith("WARC/"), "capture.warc.gz is not a WARC file"
        pairs = [line.split(":", 1) for line in lines[1:]]
        fields = {name.strip().lower(): value.strip() for name, value in pairs}
        record_id = fields["warc-record-id"]
        assert len(fields) == len(pairs), f"WARC record {record_id} states a header twice"
        assert record_id not in records, f"two WARC records share the id {record_id}"
        block = data[end + 4:end + 4 + int(fields["content-length"])]
        at = end + 4 + len(block) + 4
        assert fields.get("warc-block-digest", "sha256:" + sha256(block)) == "sha256:" + sha256(block), \
            f"WARC record {record_id} does not match its block digest"
        split = block.find(b"\r\n\r\n") + 4 if fields.get("content-type", "").startswith("application/http") else 0
        records[record_id] = dict(fields, head=block[:split], payload=block[split:])
    return records

records = warc_records(read("capture.warc.gz"))
requests = {r.get("warc-concurrent-to"): r for r in records.values() if r["warc-type"] == "request"}
exchange = lambda r: sha256(r["head"] if r["warc-type"] == "request" else requests[r["warc-record-id"]]["head"] + r["head"])
logged = [records.get(record_id) for record_id in leaf["records"]]
assert None not in logged, "capture.warc.gz lacks a logged record"
bound = {r["warc-record-id"]: r for r in logged}
bound.update({r["warc-refers-to"]: records.get(r["warc-refers-to"], {}) for r in logged if r["warc-type"] == "revisit"
              and "warc-refers-to" in r})
asked = [r.get("warc-concurrent-to") for r in records.values() if r["warc-type"] == "request"]
rendered = [r.get("warc-refers-to") for r in records.values() if r["warc-type"] == "conversion"]
named = {rendering[0] for rendering in leaf.get("renderings") or [] if rendering}
for record in records.values():  # the warcinfo; the bound records; one request each, at its URL and date; the
    kind, answered = record["warc-type"], bound.get(record.get("warc-concurrent-to"), {})  # renderings the leaf names
    assert kind == "warcinfo" or record["warc-record-id"] in bound or (
        kind == "request" and answered and asked.count(record["warc-concurrent-to"]) == 1
        and (record["warc-target-uri"], record["warc-date"]) == (answered["warc-target-uri"], answered["warc-date"])
    ) or (kind == "conversion" and leaf["v"] >= 4 and record["warc-record-id"] in named) or (
        kind == "conversion" and leaf["v"] < 4 and record.get("warc-refers-to") in bound  # before version 4: one a page
        and rendered.count(record["warc-refers-to"]) == 1
        and (record["warc-refers-to"] != leaf["records"][0] or sha256(record["payload"]) == leaf["snapshot"])), \
        f"capture.warc.gz holds {record['warc-record-id']}, a record the log does not bind"
shown = {}
for n, record in enumerate(logged):
    record_id = record["warc-record-id"]
    assert exchange(record) == leaf["heads"][n], f"the HTTP headers of {record_id} are not the ones the log recorded"
    original = records.get(record.get("warc-refers-to"), {}) if record["warc-type"] == "revisit" else record
    if original.get("warc-type") == "response":
        shown[record_id] = sha256(original["payload"])
        assert original.get("warc-payload-digest") == "sha256:" + shown[record_id], \
            f"{original['warc-record-id']} states another payload than it holds"
    if leaf["v"] < 2:
        continue
    assert (record["warc-target-uri"], record["warc-date"]) == (leaf["urls"][n], leaf["dates"][n]), \
        f"{record_id} is not of the URL and time the log recorded"
    assert leaf["payloads"][n] in (None, shown.get(record_id)), f"the payload of {record_id} is not the one logged"
    assert leaf["payloads"][n] is None or record.get("warc-payload-digest") == "sha256:" + leaf["payloads"][n], \
        f"{record_id} states another payload than the log recorded"
    if leaf["v"] < 3:
        continue
    if leaf["originals"][n] is not None:
        original_id, url, date, heads = leaf["originals"][n]
        assert (record.get("warc-refers-to"), record.get("warc-refers-to-target-uri"),
                record.get("warc-refers-to-date")) == (original_id, url, date), f"{record_id} refers elsewhere"
        assert original.get("warc-record-id") == original_id and (original["warc-target-uri"], original["warc-date"]) \
            == (url, date), f"the response {original_id} that {record_id} refers to is not the one the log recorded"
        assert heads is None or exchange(original) == heads, f"the HTTP headers of {original_id} are not the logged ones"
    else:
        assert record["warc-type"] != "revisit" or "warc-refers-to" not in record, f"{record_id} refers to a response " \
            "the log does not name"
    if leaf["v"] >= 4 and leaf["renderings"][n] is not None:
        conversion_id, payload = leaf["renderings"][n]
        conversion = records.get(conversion_id, {})
        assert conversion.get("warc-type") == "conversion" and sha256(conversion["payload"]) == payload and (
            conversion.get("warc-refers-to"), conversion.get("warc-target-uri"), conversion.get("warc-date")) == (
            record_id, record["warc-target-uri"], record["warc-date"]), \
            f"the rendering {conversion_id} of {record_id} is not the one the log recorded"
conversions = {sha256(r["payload"]) for r in records.values()
               if r["warc-type"] == "conversion" and r.get("warc-refers-to") in shown}
assert not (leaf["snapshot"] and leaf["records"]) or leaf["snapshot"] in {*shown.values(), *conversions}, \
    "no logged WARC record holds the snapshot the log recorded"
assert manifest["version"]["first_seen"] <= leaf["time"], "manifest.json says first seen after the capture proving it"

# What the signature proves, from the signed bytes alone (the leaf, the timestamp of the signed head).
signed_at = datetime.datetime.fromtimestamp(head["timestamp"] / 1000, datetime.timezone.utc)
print(f"OK: {leaf['document']} version {leaf['version'][:12]} captured {leaf['time']} from {leaf['url']}: "
      f"log entry {proof['leaf_index']} of the tree of {head['tree_size']} signed {signed_at:%Y-%m-%dT%H:%M:%S.%fZ} "
      f"by the key {head['log_key_id'][:16]}")
'''


VERIFY_TEMPLATE = """# Evidence bundle {record}

This bundle claims that version `{version}` of **{platform} — {document_type}**
(`{document}`) was captured by clausewatch on {captured} from {url}, and that this
capture is entry {index} of clausewatch's append-only capture log, whose tree head
of size {size} was signed on {signed}. clausewatch first saw this version {first_seen}.

What the signature proves is what the log entry (`log/leaf.json`) holds: the document, the
capture's time and URL, the version and snapshot hashes, and each WARC record's id, HTTP
header blocks, URL, date and payload hash (for a revisit, also the response it refers to;
for a page rendered in a browser, also its rendering).
`manifest.json` is not signed: the checks below hold its claims against the leaf. The first
sighting is proved by this capture only when it is the capture's own time. Not proved by the
signature: the analysis (clause types and severities in `analysis.json` are clausewatch's
reading of the proved text, by the analyzer it names; the checks tie each clause it quotes
to the proved text), the platform and document type names, `last_verified`, and this page's
prose: the script prints what is proved.

| file | what it is |
|---|---|
| `manifest.json` | the claims, and the SHA-256 of every other file |
| `version.txt` | the normalised text of the version (its SHA-256 is the version id) |
| `snapshot.bin` | the raw bytes as fetched (absent for a 304) |
| `capture.warc.gz` | the HTTP exchanges as WARC 1.1 records (request, response or revisit, and the response a revisit refers to); `warcio check capture.warc.gz` checks its digests, the script below what the log binds of it |
| `analysis.json` | the clauses of this record, their type, severity, evidence, and the analyzer that decided |
| `log/leaf.json` | the capture's leaf in the log, byte for byte as hashed (it also binds, for each record of `capture.warc.gz`, its HTTP header blocks and, from leaf version 2, its URL, date and payload, from version 3 the response a revisit refers to, from version 4 a browser page's rendering, from version 5 which records are redirects the fetch followed on its way to the page, `hops`) |
| `log/inclusion-proof.json` | the audit path from the leaf to the signed root (RFC 6962) |
| `log/tree-head.json` | the signed tree head: size, root, time (ms since 1970), Ed25519 signature, and `log_key_id`, the SHA-256 of the key's DER encoding |
| `log/tree-head.tbs`, `log/tree-head.sig` | the exact signed bytes and the signature, for openssl |
| `log/public-key.pem` | the log's public key |

## Check that the key is the log's key

A bundle can only prove what its key vouches for. Compare `log/public-key.pem` with the
key clausewatch publishes at {key_url} (and, ideally, with a copy you kept earlier), or its
id, `{key_id}`, with the id published beside it:

    sha256sum log/public-key.pem

## Check everything with Python (standard library + `cryptography`)

Save this as `verify.py`, then run `python3 verify.py .` in the unzipped folder. It prints
`OK: …` or stops at the first claim that does not hold.

```python
{snippet}
```

## Or with sha256sum and openssl

    sha256sum version.txt snapshot.bin        # compare with "version" and "snapshot" in log/leaf.json
    openssl pkeyutl -verify -pubin -inkey log/public-key.pem -rawin \\
        -in log/tree-head.tbs -sigfile log/tree-head.sig

`log/tree-head.tbs` is RFC 6962's TreeHeadSignature: version 0, signature type 1, the
timestamp and tree size as 64-bit big-endian integers, then the 32-byte root. The
inclusion proof (step 4 of the script) needs a few lines of code in any language:
leaves are hashed as SHA-256(0x00 ‖ leaf), nodes as SHA-256(0x01 ‖ left ‖ right).
"""
