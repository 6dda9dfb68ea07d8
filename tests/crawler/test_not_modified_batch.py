"""304s are recorded in batches, one transaction each, and record exactly what one-by-one recording did.

Real loopback crawls on SQLite and PostgreSQL (the ``store`` fixture): a first
run records a version of each page, the second run's conditional requests are
all answered 304 and go through ``Store.record_not_modified_many``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
from analysis.evidence import HttpExchange
from clausewatch.loopback_site import Page
from crawler.items import NotModifiedDocument
from crawler.recorder import Recorder
from store.capture_log import REVISIT_NOT_MODIFIED, CaptureLog
from store.log_check import check_log
from store.recording import NotModifiedFetch
from store.repository import UnknownDocumentError

PAGES = 12


def catalog(site) -> list[PlatformSpec]:
    for number in range(PAGES):
        site.set(f"/p/{number}", Page(f"<main><p>Policy {number}: we may end your account.</p></main>".encode()))
    return [PlatformSpec(f"p{n}", f"P{n}", (DocumentSpec(f"p{n}", "Terms of Service", (SourceSpec(site.url(f"/p/{n}")),)),))
            for n in range(PAGES)]


def test_an_unchanged_run_records_a_verified_304_fetch_for_every_document(store, site, run_crawl):
    platforms = catalog(site)
    first = run_crawl(store, platforms)
    second = run_crawl(store, platforms)

    assert first.counts == {"new_version": PAGES}
    assert second.counts == {"not_modified": PAGES}
    versions = {r.document_id: r.version for r in first.results}
    assert {r.document_id: r.version for r in second.results} == versions
    log = CaptureLog(store)
    leaves = [entry.decoded for entry in log.entries()]
    assert [entry.index for entry in log.entries()] == list(range(2 * PAGES))  # no gap, no duplicate
    second_leaves = leaves[PAGES:]
    assert sorted(leaf.document for leaf in second_leaves) == sorted(versions)
    assert all(leaf.outcome == "not_modified" and leaf.version == versions[leaf.document] for leaf in second_leaves)
    assert all(store.history.fetched_in_run(document_id, second.run_id) for document_id in versions)
    captures = [capture for _document, capture in log.captures()]
    originals = {c.record_id: c for c in captures if c.record_type == "response"}
    revisits = [c for c in captures if c.record_type == "revisit"]
    assert len(revisits) == PAGES
    for capture in revisits:  # a revisit of that very page's archived response
        assert (capture.profile, capture.exchange.status) == (REVISIT_NOT_MODIFIED, 304)
        assert originals[capture.refers_to_record_id].exchange.url == capture.exchange.url
    for leaf in second_leaves:  # each version verified again
        assert store.history.current_version(leaf.document).version.last_verified >= leaf.time
    assert check_log(store, None).problems == []  # every leaf matches what verify recomputes


def test_a_batch_naming_an_unknown_document_records_nothing_and_the_others_are_recorded_alone(store, site, run_crawl):
    platforms = catalog(site)
    run_crawl(store, platforms)
    now = datetime.now(UTC)
    known = store.catalog.documents()[0].id

    def exchange():
        return [HttpExchange(site.url("/p/0"), now, b"GET /p/0 HTTP/1.1\r\n\r\n", b"HTTP/1.1 304 Not Modified\r\n\r\n", 304)]

    try:
        store.recording.record_not_modified_many([NotModifiedFetch(known, now, now, "r1", exchange()),
                                         NotModifiedFetch("CW-D-99999", now, now, "r1", exchange())])
    except UnknownDocumentError as error:
        assert "CW-D-99999" in str(error)
    else:
        raise AssertionError("an unknown document must refuse the batch")
    assert not any(store.history.fetched_in_run(document.id, "r1") for document in store.catalog.documents())

    recorder = Recorder(store, analyze=None, run_id="r2")
    results = recorder.record_not_modified_batch([NotModifiedDocument(known, now, now, exchange())])
    assert [(r.document_id, r.outcome) for r in results] == [(known, "not_modified")]
    assert recorder.counts == {"not_modified": 1} and recorder.failures == []
    assert check_log(store, None).problems == []


def test_a_304_after_a_revert_refers_to_the_text_then_in_force_not_the_last_response(store, site, run_crawl):
    # A, then B, then A again (an identical-payload revisit of A's response), then a 304: the 304 referred to the
    # latest *response* of the URL, B's, so a replay resolving it showed B's text while the log said A.
    texts = [f"<main><p>Policy {word}: we may end your account.</p></main>".encode() for word in ("A", "B", "A")]
    platforms = [PlatformSpec("p", "P", (DocumentSpec("p", "Terms of Service", (SourceSpec(site.url("/p")),)),))]
    for text in texts:
        site.set("/p", Page(text))
        run_crawl(store, platforms)
    unchanged = run_crawl(store, platforms)

    assert unchanged.counts == {"not_modified": 1}
    log = CaptureLog(store)
    captures = [capture for _document, capture in log.captures()]
    responses = {c.record_id: c for c in captures if c.record_type == "response"}
    not_modified = captures[-1]
    assert (not_modified.record_type, not_modified.exchange.status) == ("revisit", 304)
    first_a = next(c for c in responses.values() if c.exchange.payload_sha256 == captures[0].exchange.payload_sha256)
    assert not_modified.refers_to_record_id == first_a.record_id
    assert not_modified.refers_to_date == first_a.exchange.captured_at
    assert not_modified.exchange.payload_sha256 == first_a.exchange.payload_sha256
    assert check_log(store, None).problems == []
