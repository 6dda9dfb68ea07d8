"""Every redirect a fetch followed is archived as an exchange of its own, before the page's: in the fetch's capture
records, its log leaf and its WARC records (read back with warcio). Citations, the document's pages and `verify`
read as before: a redirect is never a page of the document.

Known and left in decision 0013 (seventh pass) until 2026-12-03: only the final response was archived, so a third
party reading the WARC could not see that the catalog URL answered 301, nor where it pointed.
"""

from __future__ import annotations

import gzip
import io

from warcio.archiveiterator import ArchiveIterator

from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
from clausewatch.loopback_site import Page
from store.capture_log import CaptureLog
from store.citing import CitedCaptures
from store.log_check import check_log
from store.warc import CaptureWriter

POLICY = b"<html><body><main><h1>Terms</h1><p>These terms are governed by the laws of Ireland.</p></main></body></html>"
SECOND = b"<html><body><main><h1>Sharing</h1><p>We do not sell the data you give us.</p></main></body></html>"
MOVED = b"<html><body><p>Moved to <a href='/terms'>/terms</a>.</p></body></html>"


def refresh(target: str) -> bytes:
    return f'<html><head><meta http-equiv="refresh" content="0; url={target}"></head><body>Moved</body></html>'.encode()


def platform(*urls: str) -> list[PlatformSpec]:
    return [PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service",
                                                       tuple(SourceSpec(url) for url in urls)),))]


def captures(store) -> list:
    """The store's captures, in the order they were recorded."""
    return [capture for _document, capture in CaptureLog(store).captures()]


def seen(store) -> list[tuple[str, int | None]]:
    """The URL and status of each capture, in order."""
    return [(c.exchange.url, c.exchange.status) for c in captures(store)]


def hops(store) -> list[bool]:
    """Which of the captures are redirects followed (not pages of the document)."""
    return [c.exchange.hop for c in captures(store)]


def warc(store) -> list[tuple[str, dict, object, bytes]]:
    """Every capture written as a WARC and read back with warcio, digests checked: (type, WARC headers, HTTP
    headers, payload as recorded)."""
    out = io.BytesIO()
    CaptureWriter(out, store.blobs).write_all(captures(store))
    records = []
    for record in ArchiveIterator(io.BytesIO(out.getvalue()), check_digests=True):
        body = record.raw_stream.read()
        assert record.digest_checker.passed is not False, record.digest_checker.problems
        records.append((record.rec_type, dict(record.rec_headers.headers), record.http_headers, body))
    return records


def only_leaf(store):
    [entry] = CaptureLog(store).entries()
    return entry.decoded


def cited(store, part: int = 0):
    version = store.history.current_head("CW-D-00001")[0]
    return CitedCaptures(store).first("CW-D-00001", version, part)


def test_a_catalog_url_that_moved_is_archived_as_its_301_then_the_page(store, site, run_crawl):
    site.set("/old", Page(MOVED, status=301, headers={"Location": "/terms"}))
    site.set("/terms", Page(POLICY))
    report = run_crawl(store, platform(site.url("/old")))
    assert [(r.outcome, r.error_kind) for r in report.results] == [("new_version", None)]

    assert seen(store) == [(site.url("/old"), 301), (site.url("/terms"), 200)]
    assert hops(store) == [True, False]
    moved, page = captures(store)
    assert b"\r\nLocation: /terms\r\n" in moved.exchange.response_head
    assert moved.exchange.request_head.startswith(b"GET /old HTTP/1.1\r\n")
    responses = [(headers, http, body) for kind, headers, http, body in warc(store) if kind == "response"]
    assert [(h["WARC-Target-URI"], http.get_statuscode(), http.get_header("Location"), body)
            for h, http, body in responses] == [(site.url("/old"), "301", "/terms", MOVED),
                                                (site.url("/terms"), "200", None, POLICY)]

    # The leaf binds both exchanges, the redirect first; it names the page, where the document was served from.
    leaf = only_leaf(store)
    assert leaf.urls == (site.url("/old"), site.url("/terms"))
    assert leaf.records == (moved.record_id, page.record_id)
    assert (leaf.url, leaf.status) == (site.url("/terms"), 200)
    # A citation names the page, and the document's pages are the page alone.
    snapshot = store.history.snapshots("CW-D-00001")[0].sha256
    assert (cited(store).url, cited(store).snapshot_sha256) == (site.url("/terms"), snapshot)
    assert [pages for pages, _at, _id in store.history.fetch_sequence("CW-D-00001")] == [(snapshot,)]
    assert check_log(store, None).problems == []

    # Crawled again: the page is a revisit of what was archived; the redirect is archived in full again (a revisit
    # of a redirect would save a few bytes and name another capture's), and verify stays clean.
    report = run_crawl(store, platform(site.url("/old")))
    assert [r.outcome for r in report.results] == ["unchanged"]
    again = captures(store)[2:]
    assert [(c.exchange.status, c.exchange.hop, c.record_type) for c in again] == [
        (301, True, "response"), (200, False, "revisit")]
    assert [c.refers_to_record_id for c in again] == [None, page.record_id]
    assert check_log(store, None).problems == []


def test_a_chain_of_redirects_is_archived_hop_by_hop_and_a_coded_body_as_it_came(store, site, run_crawl):
    coded = gzip.compress(b"<p>Found elsewhere</p>")
    site.set("/a", Page(coded, status=302, headers={"Location": "/b", "Content-Encoding": "gzip"}))
    site.set("/b", Page(status=301, headers={"Location": "/terms"}))
    site.set("/terms", Page(POLICY))
    report = run_crawl(store, platform(site.url("/a")))
    assert [r.outcome for r in report.results] == ["new_version"]

    assert seen(store) == [(site.url("/a"), 302), (site.url("/b"), 301), (site.url("/terms"), 200)]
    assert hops(store) == [True, True, False]
    first, second, _page = captures(store)
    # Followed before it is decoded: the 302's body is archived in its coding, and its head says so.
    assert b"\r\nContent-Encoding: gzip\r\n" in first.exchange.response_head
    assert f"\r\nContent-Length: {len(coded)}\r\n".encode() in first.exchange.response_head
    assert first.exchange.request_head.startswith(b"GET /a HTTP/1.1\r\n")
    assert second.exchange.request_head.startswith(b"GET /b HTTP/1.1\r\n")
    responses = [(http.get_statuscode(), http.get_header("Location"), body)
                 for kind, _headers, http, body in warc(store) if kind == "response"]
    assert responses == [("302", "/b", coded), ("301", "/terms", b""), ("200", None, POLICY)]
    leaf = only_leaf(store)
    assert leaf.urls == (site.url("/a"), site.url("/b"), site.url("/terms"))
    assert (leaf.url, leaf.status) == (site.url("/terms"), 200)
    assert cited(store).url == site.url("/terms")
    assert check_log(store, None).problems == []


def test_a_meta_refresh_followed_is_archived_before_the_page_and_is_not_a_page(store, site, run_crawl):
    site.set("/moved", Page(refresh("/terms")))
    site.set("/terms", Page(POLICY))
    report = run_crawl(store, platform(site.url("/moved")))
    assert [r.outcome for r in report.results] == ["new_version"]

    assert seen(store) == [(site.url("/moved"), 200), (site.url("/terms"), 200)]
    assert hops(store) == [True, False]
    bodies = [body for kind, _headers, _http, body in warc(store) if kind == "response"]
    assert bodies == [refresh("/terms"), POLICY]
    snapshot = store.history.snapshots("CW-D-00001")[0].sha256
    assert (cited(store).url, cited(store).snapshot_sha256) == (site.url("/terms"), snapshot)
    assert [pages for pages, _at, _id in store.history.fetch_sequence("CW-D-00001")] == [(snapshot,)]
    assert (only_leaf(store).url, only_leaf(store).urls) == (site.url("/terms"), (site.url("/moved"),
                                                                                   site.url("/terms")))
    assert check_log(store, None).problems == []


def test_a_combined_documents_second_page_behind_a_redirect_is_still_its_second_page(store, site, run_crawl):
    site.set("/part1", Page(POLICY))
    site.set("/old-part2", Page(status=308, headers={"Location": "/part2"}))
    site.set("/part2", Page(SECOND))
    report = run_crawl(store, platform(site.url("/part1"), site.url("/old-part2")))
    assert [r.outcome for r in report.results] == ["new_version"]

    assert seen(store) == [(site.url("/part1"), 200), (site.url("/old-part2"), 308), (site.url("/part2"), 200)]
    assert hops(store) == [False, True, False]
    # Page 1 of the document is its second page, not the redirect on the way to it.
    assert [cited(store, part).url for part in (0, 1)] == [site.url("/part1"), site.url("/part2")]
    shas = {s.final_url: s.sha256 for s in store.history.snapshots("CW-D-00001")}
    assert [pages for pages, _at, _id in store.history.fetch_sequence("CW-D-00001")] == [
        (shas[site.url("/part1")], shas[site.url("/part2")])]
    assert check_log(store, None).problems == []


def test_a_redirect_to_a_missing_page_keeps_the_redirect_in_the_failures_evidence(store, site, run_crawl):
    site.set("/old", Page(MOVED, status=301, headers={"Location": "/gone"}))
    report = run_crawl(store, platform(site.url("/old")))
    assert [(r.outcome, r.error_kind) for r in report.results] == [("failed", "http_4xx")]

    assert seen(store) == [(site.url("/old"), 301), (site.url("/gone"), 404)]
    assert hops(store) == [True, False]
    leaf = only_leaf(store)
    assert (leaf.outcome, leaf.failure, leaf.url, leaf.status) == ("failed", "http_4xx", site.url("/gone"), 404)
    assert leaf.urls == (site.url("/old"), site.url("/gone"))
    assert check_log(store, None).problems == []


def test_a_redirect_loop_and_a_refused_redirect_keep_the_redirects_they_met(store, site, run_crawl):
    site.set("/loop-a", Page(status=302, headers={"Location": "/loop-b"}))
    site.set("/loop-b", Page(status=302, headers={"Location": "/loop-a"}))
    site.set("/to-script", Page(status=301, headers={"Location": "/relay"}))
    site.set("/relay", Page(refresh("javascript:alert(1)")))
    platforms = [PlatformSpec("acme", "Acme", (
        DocumentSpec("acme", "Terms of Service", (SourceSpec(site.url("/loop-a")),)),
        DocumentSpec("acme", "Privacy Policy", (SourceSpec(site.url("/to-script")),))))]
    report = run_crawl(store, platforms)
    assert sorted((r.document_id, r.error_kind) for r in report.results) == [
        ("CW-D-00001", "redirect_loop"), ("CW-D-00002", "redirect_refused")]

    by_document: dict[str, list] = {}
    for document, capture in CaptureLog(store).captures():
        by_document.setdefault(document, []).append((capture.exchange.url, capture.exchange.status))
    assert by_document == {
        # Both hops of the loop, up to the request that would have gone back to the first.
        "CW-D-00001": [(site.url("/loop-a"), 302), (site.url("/loop-b"), 302)],
        # The redirect followed, then the page whose refresh was refused.
        "CW-D-00002": [(site.url("/to-script"), 301), (site.url("/relay"), 200)],
    }
    assert hops(store) == [True] * 4
    leaves = {entry.decoded.document: entry.decoded for entry in CaptureLog(store).entries()}
    assert (leaves["CW-D-00001"].url, leaves["CW-D-00001"].status) == (site.url("/loop-a"), 302)
    assert check_log(store, None).problems == []


def test_a_304_where_a_redirect_was_does_not_revisit_the_redirect(store, site, run_crawl):
    # The page moved back to its catalog URL: the 304 to the validators of the page says the page is unchanged,
    # never that the 301 archived at that URL is.
    site.set("/old", Page(status=301, headers={"Location": "/terms"}))
    site.set("/terms", Page(POLICY))
    run_crawl(store, platform(site.url("/old")))
    site.set("/old", Page(POLICY))
    report = run_crawl(store, platform(site.url("/old")))
    assert [r.outcome for r in report.results] == ["not_modified"]
    assert seen(store)[:2] == [(site.url("/old"), 301), (site.url("/terms"), 200)]
    moved = captures(store)[0]
    [not_modified] = [c for c in captures(store) if c.exchange.status == 304]
    assert not_modified.refers_to_record_id != moved.record_id
    assert check_log(store, None).problems == []


def test_a_redirect_mark_changed_in_the_store_is_caught_by_verify(store, site, run_crawl):
    # Which records are pages decides what a citation names: a page marked a redirect in the database made the
    # second page's clauses cite the first, and `verify` saw nothing (review of 2026-12-03). Leaf version 5 binds
    # each record's mark.
    from sqlalchemy import update

    from store.tables import CaptureRecordRow

    site.set("/part1", Page(POLICY))
    site.set("/old-part2", Page(status=308, headers={"Location": "/part2"}))
    site.set("/part2", Page(SECOND))
    run_crawl(store, platform(site.url("/part1"), site.url("/old-part2")))
    assert only_leaf(store).hops == (False, True, False)
    assert check_log(store, None).problems == []

    for part, hop in ((2, True), (1, False)):  # the second page made a redirect; the redirect made a page
        with store.session() as session:
            session.execute(update(CaptureRecordRow).where(CaptureRecordRow.part == part).values(hop=hop))
        problems = check_log(store, None).problems
        assert [(p.what, "hops" in p.detail) for p in problems] == [("altered", True)], problems
        with store.session() as session:
            session.execute(update(CaptureRecordRow).where(CaptureRecordRow.part == part).values(hop=not hop))
    assert check_log(store, None).problems == []


def test_a_page_is_never_a_revisit_of_a_redirect_whose_body_it_shares(store, site, run_crawl):
    # A server that sends the page along with its 301: the page's payload is the redirect's. It was archived as a
    # revisit whose original is the 301 (review of 2026-12-03): a reader following it reached a redirect. A page
    # refers only to a page, and a redirect is always archived in full.
    site.set("/old", Page(POLICY, status=301, headers={"Location": "/terms"}))
    site.set("/terms", Page(POLICY))
    run_crawl(store, platform(site.url("/old")))
    moved, page = captures(store)
    assert [(c.exchange.hop, c.record_type) for c in (moved, page)] == [(True, "response"), (False, "response")]
    assert [body for kind, _headers, _http, body in warc(store) if kind == "response"] == [POLICY, POLICY]

    # Crawled again: the page is a revisit of the page, the redirect in full again.
    run_crawl(store, platform(site.url("/old")))
    again = captures(store)[2:]
    assert [(c.exchange.hop, c.record_type, c.refers_to_record_id) for c in again] == [
        (True, "response", None), (False, "revisit", page.record_id)]
    assert check_log(store, None).problems == []


def test_a_later_page_with_an_earlier_redirects_body_is_archived_in_full(store, site, run_crawl):
    # The catalog URL stops redirecting and serves its "Moved" stub as a page: that page is not a revisit of the
    # 301 archived at the same URL with the same body, but a response of its own.
    site.set("/old", Page(MOVED, status=301, headers={"Location": "/terms"}))
    site.set("/terms", Page(POLICY))
    run_crawl(store, platform(site.url("/old")))
    site.set("/old", Page(MOVED))
    run_crawl(store, platform(site.url("/old")))
    moved, first_page, stub = captures(store)
    assert (stub.exchange.url, stub.exchange.status, stub.exchange.hop) == (site.url("/old"), 200, False)
    assert stub.exchange.payload_sha256 == moved.exchange.payload_sha256
    assert (stub.record_type, stub.refers_to_record_id) == ("response", None)
    [(_kind, _headers, http, body)] = [r for r in warc(store) if r[0] == "response" and r[1]["WARC-Record-ID"]
                                       == stub.record_id]
    assert (http.get_statuscode(), body) == ("200", MOVED)

    # And the other way: a redirect whose body is an earlier page's is not a revisit of that page.
    site.set("/old", Page(POLICY, status=301, headers={"Location": "/terms"}))
    run_crawl(store, platform(site.url("/old")))
    hop, page = captures(store)[3:]
    assert (hop.exchange.hop, hop.record_type) == (True, "response")
    assert (page.record_type, page.refers_to_record_id) == ("revisit", first_page.record_id)
    assert check_log(store, None).problems == []
