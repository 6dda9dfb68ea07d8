"""The locked-down browser, in real headless Chromium on loopback.

127.0.0.1 plays the public site and 127.0.0.2 the private network (the crawls
pass their own guarded table): nothing a page does may reach 127.0.0.2.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
from clausewatch.localsite import LocalSite, Page

pytestmark = pytest.mark.browser

SECRET = b"<main><h1>Admin console</h1><p>instance credentials: AKIA-SECRET-TOKEN-0000</p></main>"
TEXT = "<h1>Terms</h1><p>These are the terms of service of the public site, rendered by a script.</p>"


def platform(*urls: str) -> PlatformSpec:
    sources = tuple(SourceSpec(url) for url in urls)
    return PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", sources, fetcher="browser"),))


def page(script: str, body: str = "") -> Page:
    html = f"<html><body><main id=terms>{body}</main><script>{script}</script></body></html>"
    return Page(html.encode())


@pytest.fixture
def private() -> Iterator[LocalSite]:
    with LocalSite({"/admin": Page(SECRET), "/pixel": Page(SECRET), "/ws": Page(SECRET)}, host="127.0.0.2") as running:
        yield running


@pytest.fixture
def options(fast_options):
    return dataclasses.replace(fast_options, guarded_networks=(("127.0.0.2/32", "private"),), obey_robots=False)


def outcome(report) -> tuple[str, str | None]:
    (result,) = report.results
    return result.outcome, result.error_kind


def test_script_navigation_to_a_guarded_address_fails_the_document(store, site, private, run_crawl, options):
    site.set("/app", page(f"location.href = {private.url('/admin')!r};", TEXT))
    report = run_crawl(store, [platform(site.url("/app"))], options)
    assert outcome(report) == ("failed", "redirect_refused")
    assert "127.0.0.2" in report.results[0].detail
    assert private.requests == []
    assert store.history.versions("CW-D-00001") == [] and store.history.snapshots("CW-D-00001") == []


def test_sub_requests_frames_sockets_and_popups_to_a_guarded_address_are_aborted(store, site, private, run_crawl,
                                                                                 options):
    admin, pixel = private.url("/admin"), private.url("/pixel")
    socket_url = private.url("/ws").replace("http:", "ws:")
    script = f"""
        document.getElementById('terms').innerHTML = {TEXT!r};
        fetch({admin!r}).catch(() => null);
        const xhr = new XMLHttpRequest(); xhr.open('GET', {admin!r} + '?xhr'); xhr.send();
        try {{ new WebSocket({socket_url!r}); }} catch (error) {{}}
        window.open({admin!r} + '?popup');
    """
    body = f"<img src={pixel!r}><iframe src={admin!r}></iframe><script src={admin + '?script'!r}></script>"
    site.set("/app", page(script, body))
    report = run_crawl(store, [platform(site.url("/app"))], options)
    assert outcome(report) == ("new_version", None)
    assert "rendered by a script" in store.history.current_version("CW-D-00001").text
    assert private.requests == [], "no frame, script, image, XHR, fetch, socket or popup may reach the guarded address"


def test_each_fetch_gets_a_fresh_context(store, site, run_crawl, options):
    site.set("/set", page("document.cookie = 'visitor=1; max-age=3600'; localStorage.setItem('visitor', '1');"
                          f"document.getElementById('terms').innerHTML = {TEXT!r};"))
    site.set("/read", page("document.getElementById('terms').innerHTML = '<p>Second part: ' + "
                           "(document.cookie || localStorage.getItem('visitor') ? 'a returning visitor' : "
                           "'a fresh visitor') + ' reads these terms.</p>';"))
    report = run_crawl(store, [platform(site.url("/set"), site.url("/read"))], options)
    assert outcome(report) == ("new_version", None)
    assert "Second part: a fresh visitor" in store.history.current_version("CW-D-00001").text


def test_a_download_is_refused(store, site, run_crawl, options):
    site.set("/terms.zip", Page(b"PK\x03\x04 not a policy", content_type="application/zip",
                                headers={"Content-Disposition": "attachment; filename=terms.zip"}))
    report = run_crawl(store, [platform(site.url("/terms.zip"))], options)
    assert outcome(report)[0] == "failed"
    assert store.history.versions("CW-D-00001") == []


def test_a_page_that_never_settles_ends_at_the_crawl_timeout(store, site, run_crawl, options):
    site.set("/app", page("setInterval(() => fetch('/poll?' + Math.random()), 50);", TEXT))
    report = run_crawl(store, [platform(site.url("/app"))], dataclasses.replace(options, timeout=3, retries=0))
    assert outcome(report) == ("failed", "timeout")


def test_a_page_that_allocates_without_end_is_stopped_by_its_heap_bound(store, site, run_crawl, options):
    site.set("/app", page("const hoard = []; while (true) { hoard.push(new Array(1 << 20).fill(hoard.length)); }",
                          TEXT))
    report = run_crawl(store, [platform(site.url("/app"))], dataclasses.replace(options, timeout=20, retries=0))
    assert outcome(report)[0] == "failed"
    assert store.history.versions("CW-D-00001") == []
