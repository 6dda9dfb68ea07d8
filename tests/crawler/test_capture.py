"""WARC captures at fetch time, read back with warcio: responses, revisits, failures, rendered pages."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
from clausewatch.loopback_site import Page
from store.capture_log import REVISIT_IDENTICAL, REVISIT_NOT_MODIFIED, CaptureLog
from store.warc import CaptureWriter

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "crawl"
POLICY = b"<html><body><main><h1>Terms</h1><p>These terms are governed by the laws of Ireland.</p></main></body></html>"


def platform(*documents: DocumentSpec) -> list[PlatformSpec]:
    return [PlatformSpec("acme", "Acme", documents)]


def document(url: str, kind: str = "Terms of Service", **fields) -> DocumentSpec:
    return DocumentSpec("acme", kind, (SourceSpec(url),), **fields)


def warc_records(store) -> list:
    """Every capture of the store written as one WARC, read back with warcio (digests checked)."""
    out = io.BytesIO()
    writer = CaptureWriter(out, store.blobs)
    writer.write_all(c for _, c in CaptureLog(store).captures())
    records = []
    for record in ArchiveIterator(io.BytesIO(out.getvalue()), check_digests=True):
        body = record.content_stream().read()
        assert record.digest_checker.passed is not False, record.digest_checker.problems
        records.append((record.rec_type, dict(record.rec_headers.headers), record.http_headers, body))
    return records


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound, never listening, and held for the test, so that no
    server of a test running beside this one is given it."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


def test_each_fetch_is_archived_once_and_repeats_are_revisits(store, site, run_crawl, closed_port):
    site.set("/terms", Page(POLICY))
    terms, missing, down = (document(site.url("/terms")), document(site.url("/gone"), "Privacy Policy"),
                            document(f"http://127.0.0.1:{closed_port}/x", "Cookie Policy"))
    everything = platform(terms, missing, down)
    run_crawl(store, everything)  # 200, 404, connection refused
    run_crawl(store, everything)  # 304 to our conditional request, the same 404, refused again
    site.conditional = False
    run_crawl(store, everything)  # 200 with the very same payload, ...

    records = warc_records(store)
    by_type = {}
    for kind, headers, http, body in records:
        by_type.setdefault(kind, []).append((headers, http, body))
    assert len(by_type["request"]) == 9
    responses = {h["WARC-Target-URI"]: (h, http, body) for h, http, body in by_type["response"]}
    assert set(responses) == {site.url("/terms"), site.url("/gone")}  # each payload once
    headers, http, body = responses[site.url("/terms")]
    assert body == POLICY and http.get_statuscode() == "200"
    assert headers["WARC-Payload-Digest"] == "sha256:" + store.history.snapshots("CW-D-00001")[0].sha256
    assert responses[site.url("/gone")][1].get_statuscode() == "404"

    revisits = [(h, http) for h, http, _ in by_type["revisit"] if h["WARC-Target-URI"] == site.url("/terms")]
    assert [h["WARC-Profile"] for h, _ in revisits] == [REVISIT_NOT_MODIFIED, REVISIT_IDENTICAL]
    assert [http.get_statuscode() for _, http in revisits] == ["304", "200"]
    assert all(h["WARC-Refers-To"] == headers["WARC-Record-ID"] for h, _ in revisits)
    assert all(h["WARC-Refers-To-Target-URI"] == site.url("/terms") for h, _ in revisits)

    gone = [h for h, _ in [(h, http) for h, http, _ in by_type["revisit"]] if h["WARC-Target-URI"].endswith("/gone")]
    assert [h["WARC-Profile"] for h in gone] == [REVISIT_IDENTICAL] * 2  # the same error page, kept once

    refused = [h for h, http, _ in by_type["request"] if h["WARC-Target-URI"].endswith("/x")]
    assert len(refused) == 3 and all("WARC-Concurrent-To" not in h for h in refused)  # no response ever came
    leaves = [e.decoded for e in CaptureLog(store).entries()]
    assert sorted((leaf.document, leaf.outcome, leaf.failure) for leaf in leaves) == [
        ("CW-D-00001", "new_version", None), ("CW-D-00001", "not_modified", None), ("CW-D-00001", "unchanged", None),
        *[("CW-D-00002", "failed", "http_4xx")] * 3, *[("CW-D-00003", "failed", "connection")] * 3]


@pytest.mark.browser
def test_a_rendered_page_keeps_the_served_html_and_its_dom_as_a_conversion(sqlite_url, tmp_path, site, run_crawl):
    from store.repository import Store

    store = Store.open(sqlite_url, tmp_path / "objects")
    served = (FIXTURES / "rendered.html").read_bytes()
    site.set("/app", Page(served))
    report = run_crawl(store, platform(document(site.url("/app"), fetcher="browser")))
    assert [r.outcome for r in report.results] == ["new_version"]
    records = warc_records(store)
    [(_, response, http, payload)] = [r for r in records if r[0] == "response"]
    [(_, conversion, _, dom)] = [r for r in records if r[0] == "conversion"]
    assert payload == served  # what the server sent, not what the browser made of it
    assert b"You grant us a licence to the content you upload." in dom
    assert conversion["WARC-Refers-To"] == response["WARC-Record-ID"]
    assert store.history.snapshots("CW-D-00001")[0].sha256 == _sha(dom)  # the snapshot stays the rendered page
    store.close()


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()
