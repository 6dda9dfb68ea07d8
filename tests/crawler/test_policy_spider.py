"""PolicySpider hands its start requests to Scrapy lazily, so the request queue stays short."""

from __future__ import annotations

from typing import Any

from scrapy import signals

from analysis.domain import DocumentSpec, SourceSpec
from clausewatch.loopback_site import Page
from crawler.crawl import scrapy_settings
from crawler.runner import CrawlRunner
from crawler.spiders.policy import CrawlTarget, PolicySpider

DOCUMENTS = 80


class QueueWatchingSpider(PolicySpider):
    """Notes the most requests ever scheduled but not yet handed to the downloader."""

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> QueueWatchingSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.queued = spider.most_queued = 0
        crawler.signals.connect(spider._scheduled, signals.request_scheduled)
        crawler.signals.connect(spider._dequeued, signals.request_reached_downloader)
        return spider

    def _scheduled(self, request: Any, spider: Any) -> None:
        self.queued += 1
        self.most_queued = max(self.most_queued, self.queued)

    def _dequeued(self, request: Any, spider: Any) -> None:
        self.queued -= 1


class Counting:
    def __init__(self) -> None:
        self.recorded: list[str] = []

    def record(self, item: Any) -> None:
        self.recorded.append(item.document_id)


def test_the_request_queue_stays_short_however_many_documents_are_crawled(site, fast_options):
    targets = []
    for number in range(DOCUMENTS):
        site.set(f"/p/{number}", Page(f"<main><p>Policy {number}.</p></main>".encode()))
        spec = DocumentSpec(f"p{number}", "Terms of Service", (SourceSpec(site.url(f"/p/{number}")),))
        targets.append(CrawlTarget(f"CW-D-{number:05d}", spec))
    recorder = Counting()
    settings = scrapy_settings(fast_options, browser=False)

    spider = CrawlRunner().run(QueueWatchingSpider, settings, targets=targets, recorder=recorder)

    assert sorted(recorder.recorded) == [target.document_id for target in targets]
    # Every start request queued at once would make this DOCUMENTS; lazily, a slot's worth at most.
    assert spider.most_queued <= settings["CONCURRENT_REQUESTS"]
