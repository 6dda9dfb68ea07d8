"""RecordPipeline records every item off the reactor thread, in a bounded pool of its own threads."""

from __future__ import annotations

import threading

from analysis.domain import DocumentSpec, SourceSpec
from clausewatch.loopback_site import Page
from crawler.crawl import scrapy_settings
from crawler.items import FetchedDocument
from crawler.pipelines import DEFAULT_RECORD_THREADS
from crawler.runner import CrawlRunner
from crawler.spiders.policy import CrawlTarget, PolicySpider


class ThreadNoting:
    """A recorder that notes which thread recorded each document."""

    def __init__(self) -> None:
        self.threads: dict[str, str] = {}
        self._lock = threading.Lock()

    def record(self, item) -> None:
        assert isinstance(item, FetchedDocument)
        with self._lock:
            self.threads[item.document_id] = threading.current_thread().name


def test_every_item_is_recorded_by_at_most_the_pipelines_threads(site, fast_options):
    targets = []
    for number in range(24):
        site.set(f"/p/{number}", Page(f"<main><p>Policy {number}: we may end your account.</p></main>".encode()))
        spec = DocumentSpec(f"p{number}", "Terms of Service", (SourceSpec(site.url(f"/p/{number}")),))
        targets.append(CrawlTarget(f"CW-D-{number:05d}", spec))
    recorder = ThreadNoting()

    CrawlRunner().run(PolicySpider, scrapy_settings(fast_options, browser=False), targets=targets, recorder=recorder)

    assert set(recorder.threads) == {target.document_id for target in targets}
    names = set(recorder.threads.values())
    assert len(names) <= DEFAULT_RECORD_THREADS
    assert all("clausewatch-record" in name for name in names)
    assert threading.current_thread().name not in names
