"""Meta refreshes that are not followed fail the document; a redirect loop ends at its first repeat."""

from __future__ import annotations

import pytest

from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
from clausewatch.loopback_site import Page

POLICY = b"<main><h1>Terms</h1><p>These are the terms of service, long enough to be a policy.</p></main>"


def platform(url: str) -> PlatformSpec:
    return PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SourceSpec(url),)),))


def refresh(target: str, delay: int = 0) -> bytes:
    return (f'<html><head><meta http-equiv="refresh" content="{delay}; url={target}"></head>'
            f'<body>Moved</body></html>').encode()


def outcome(report) -> tuple[str, str | None]:
    (result,) = report.results
    return result.outcome, result.error_kind


@pytest.mark.parametrize("target", [
    "file:///etc/passwd", "javascript:alert(1)", "mailto:legal@example.com", "data:text/html,<p>x</p>",
    "ftp://example.com/terms", "chrome://settings", "http://[::1", "gopher://127.0.0.1:70/",
])
def test_a_meta_refresh_that_is_not_followed_fails_the_document_and_archives_no_stub(store, site, run_crawl, target):
    site.set("/terms", Page(refresh(target)))
    report = run_crawl(store, [platform(site.url("/terms"))])
    assert outcome(report) == ("failed", "redirect_refused")
    assert "meta refresh" in report.results[0].detail
    assert store.history.versions("CW-D-00001") == []


def test_a_meta_refresh_to_http_is_followed(store, site, run_crawl):
    site.set("/moved", Page(refresh("/terms")))
    site.set("/terms", Page(POLICY))
    assert outcome(run_crawl(store, [platform(site.url("/moved"))])) == ("new_version", None)
    assert "terms of service" in store.history.current_version("CW-D-00001").text


def test_a_page_that_reloads_itself_later_is_archived(store, site, run_crawl):
    page = b'<html><head><meta http-equiv="refresh" content="600; url=file:///x"></head><body>' + POLICY
    site.set("/terms", Page(page))
    assert outcome(run_crawl(store, [platform(site.url("/terms"))])) == ("new_version", None)


def test_a_redirect_loop_ends_at_the_first_repeated_url(store, site, run_crawl):
    site.set("/a", Page(b"", status=302, headers={"Location": "/b"}))
    site.set("/b", Page(b"", status=302, headers={"Location": "/a"}))
    report = run_crawl(store, [platform(site.url("/a"))])
    assert outcome(report) == ("failed", "redirect_loop")
    fetched = [path for path, _ in site.requests if path != "/robots.txt"]
    assert fetched == ["/a", "/b"], "each URL of the loop is fetched once, not REDIRECT_MAX_TIMES times"


def test_a_meta_refresh_loop_ends_too(store, site, run_crawl):
    site.set("/a", Page(refresh("/b")))
    site.set("/b", Page(refresh("/a")))
    assert outcome(run_crawl(store, [platform(site.url("/a"))])) == ("failed", "redirect_loop")
    assert [path for path, _ in site.requests if path != "/robots.txt"] == ["/a", "/b"]


@pytest.mark.parametrize("content", [
    "0;/terms", "0,url=/terms", "0 ; URL = /terms", "0; /terms", '0;URL="/terms"', "0;url='/terms' trailing",
    "0.5;url=/terms",
])
def test_a_refresh_written_any_way_a_browser_follows_is_followed_and_its_stub_never_archived(store, site, run_crawl,
                                                                                            content):
    # w3lib reads only "N; url=…": the other forms were missed and "Redirecting you now" became the version.
    page = f'<html><head><meta http-equiv="Refresh" content="{content.replace(chr(34), "&quot;")}"></head>' \
           "<body>Redirecting you now</body></html>"
    site.set("/moved", Page(page.encode()))
    site.set("/terms", Page(POLICY))
    assert outcome(run_crawl(store, [platform(site.url("/moved"))])) == ("new_version", None)
    assert "terms of service" in store.history.current_version("CW-D-00001").text


def test_a_refresh_header_is_followed(store, site, run_crawl):
    site.set("/moved", Page(b"<html><body>Redirecting you</body></html>", headers={"Refresh": "0; url=/terms"}))
    site.set("/terms", Page(POLICY))
    assert outcome(run_crawl(store, [platform(site.url("/moved"))])) == ("new_version", None)
    assert "terms of service" in store.history.current_version("CW-D-00001").text


def test_a_malformed_base_href_is_ignored_as_a_browser_ignores_it(store, site, run_crawl):
    # It stopped the document being archived, as a "refused meta refresh" on a page that had none.
    site.set("/terms", Page(b"<html><head><base href='http://[::1'></head><body>" + POLICY + b"</body></html>"))
    site.set("/moved", Page(b"<html><head><base href='http://[::1'><meta http-equiv=refresh content='0;/terms'>"
                            b"</head><body>Moved</body></html>"))
    for path in ("/terms", "/moved"):
        store_report = run_crawl(store, [platform(site.url(path))])
        # The refresh's target is asked for whole (not with /terms's validators): the same text, verified again.
        assert outcome(store_report) in (("new_version", None), ("unchanged", None)), path
    assert "terms of service" in store.history.current_version("CW-D-00001").text


@pytest.mark.parametrize(("content", "delay", "url"), [
    ("5", 5.0, None), ("0; url=", 0.0, None), (" 3 ", 3.0, None), ("0;URL = 'a b'", 0.0, "a b"),
    ("1;urn:x", 1.0, "urn:x"), ("2; url /x", 2.0, "url /x"), (".5,/x", 0.0, "/x"),
])
def test_refresh_contents_parse_as_the_html_standard_says(content, delay, url):
    from crawler.refresh import Refresh, parse_refresh

    assert parse_refresh(content) == Refresh(delay, url)


@pytest.mark.parametrize("content", ["", "soon", "x; url=/a", "0x; url=/a"])
def test_what_is_no_refresh_is_none(content):
    from crawler.refresh import parse_refresh

    assert parse_refresh(content) is None


@pytest.mark.parametrize(("headers", "expected"), [
    ({"Retry-After": "120"}, 120.0),
    ({"Retry-After": "\u00b2".encode("latin-1")}, None),  # a digit to str.isdigit, not to float()
    ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT", "Date": "not a date"}, None),
    ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT", "Date": "Wed, 21 Oct 2015 07:27:00 -0000"}, None),
    ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT", "Date": "Wed, 21 Oct 2015 07:27:00 GMT"}, 60.0),
])
def test_a_hostile_retry_after_means_no_wait_asked_never_a_lost_retry(headers, expected):
    # "Retry-After: ²" ended the document in "error: ValueError" instead of retrying it (review of 2026-12-01).
    from scrapy.http import Response

    from crawler.middlewares import _retry_after

    assert _retry_after(Response("https://example.com/", status=503, headers=headers)) == expected


@pytest.mark.parametrize("location", ["javascript:alert(1)", "http://[::1"])
def test_a_location_no_request_can_be_made_of_is_a_refused_redirect(store, site, run_crawl, location):
    # It ended as "error: ValueError", while a file: Location was a refused redirect (review of 2026-12-01).
    site.set("/terms", Page(b"", status=302, headers={"Location": location}))
    report = run_crawl(store, [platform(site.url("/terms"))])
    assert outcome(report) == ("failed", "redirect_refused")
    assert "refused redirect from" in report.results[0].detail
