"""PDF documents and JavaScript-rendered documents, crawled for real."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
from clausewatch.loopback_site import Page

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "crawl"


def one_document(url: str, **fields) -> list[PlatformSpec]:
    return [PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SourceSpec(url),), **fields),))]


def test_pdf_document_text_is_extracted_and_versioned(store, site, run_crawl):
    site.set("/terms.pdf", Page((FIXTURES / "api-terms.pdf").read_bytes(), content_type="application/pdf"))
    report = run_crawl(store, one_document(site.url("/terms.pdf")))
    assert [r.outcome for r in report.results] == ["new_version"]
    text = store.history.current_version("CW-D-00001").text
    assert "We grant you a limited licence to use the API." in text
    assert "We may terminate access at any time." in text
    assert store.history.snapshots("CW-D-00001")[0].content_type == "application/pdf"


@pytest.mark.browser
def test_browser_document_is_rendered_in_headless_chromium(sqlite_url, tmp_path, site, run_crawl):
    from store.repository import Store

    store = Store.open(sqlite_url, tmp_path / "objects")
    site.set("/app", Page((FIXTURES / "rendered.html").read_bytes()))
    http = run_crawl(store, one_document(site.url("/app")))
    # Plain HTTP sees the shell, "Loading…": a failure, not a version (review of 2026-12-01: it was archived).
    assert [(r.outcome, r.error_kind) for r in http.results] == [("failed", "empty")]
    assert "application's shell" in http.results[0].detail and store.history.current_version("CW-D-00001") is None

    browser = run_crawl(store, one_document(site.url("/app"), fetcher="browser"))
    assert [r.outcome for r in browser.results] == ["new_version"]
    text = store.history.current_version("CW-D-00001").text
    assert "You grant us a licence to the content you upload." in text
    snapshot = store.history.snapshots("CW-D-00001")[-1]
    assert snapshot.fetcher == "browser"
    store.close()
