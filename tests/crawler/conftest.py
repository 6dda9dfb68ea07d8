"""A real loopback HTTP server and a crawl helper for the crawler tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from analysis.pipeline import Analyzer
from clausewatch.loopback_site import LocalSite
from crawler.crawl import CrawlOptions, CrawlReport, crawl
from crawler.recorder import DocumentResult

# Loopback crawls: no politeness delay, short timeouts, one retry.
FAST_OPTIONS = CrawlOptions(user_agent="clausewatch-tests/1 (+http://127.0.0.1/)", delay=0, concurrency=8,
                            timeout=5, retries=1, max_bytes=2_000_000, shrink_ratio=0.5)


@pytest.fixture
def fast_options() -> CrawlOptions:
    return FAST_OPTIONS


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with LocalSite() as running:
        yield running


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    return Analyzer()


@dataclass
class CrawlResults(CrawlReport):
    """A crawl's report with every result it passed on, which these tests check document by document."""

    results: list[DocumentResult] = field(default_factory=list)


@pytest.fixture
def run_crawl(analyzer):
    """Crawl the given platforms (synced into the store first) with fast loopback options."""
    from datetime import UTC, datetime

    def run(store, platforms, options: CrawlOptions = FAST_OPTIONS) -> CrawlResults:
        store.catalog.sync_catalog(platforms, now=datetime.now(UTC))
        results: list[DocumentResult] = []
        report = crawl(store, store.catalog.each_document(), options, analyze=analyzer, on_result=results.append)
        return CrawlResults(report.run_id, report.counts, report.failures, report.store_failure,
                            report.unreached_unlisted, results=results)

    return run
