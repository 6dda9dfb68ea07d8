"""The shell's crawl wiring: the in-process analyser is built only when a new text needs it."""

from __future__ import annotations

from datetime import UTC, datetime

from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
from clausewatch.crawling import DeferredAnalyzer
from clausewatch.localsite import LocalSite, Page
from crawler.crawl import CrawlOptions, crawl

POLICY = (b"<main><h1>Terms</h1><h2>1. Termination</h2><p>We may suspend your account at any time for any "
          b"reason.</p><h2>2. Law</h2><p>These terms are governed by the laws of Ireland.</p></main>")
OPTIONS = CrawlOptions(user_agent="clausewatch-tests/1", delay=0, concurrency=4, timeout=5, retries=0)


def test_unchanged_pages_never_load_the_classifier_and_new_text_is_analysed(store):
    with LocalSite({"/terms": Page(POLICY)}) as site:
        platforms = [PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service",
                                                                 (SourceSpec(site.url("/terms")),)),))]
        documents = store.sync_catalog(platforms, now=datetime.now(UTC))

        first = DeferredAnalyzer()
        assert crawl(store, documents, OPTIONS, analyze=first).counts == {"new_version": 1}
        assert first.loaded
        version = store.current_version(documents[0].id)
        assert any("suspend your account" in clause.clause.text for clause in version.clauses)

        again = DeferredAnalyzer()
        assert crawl(store, documents, OPTIONS, analyze=again).counts == {"not_modified": 1}
        assert not again.loaded
