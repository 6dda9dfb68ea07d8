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
