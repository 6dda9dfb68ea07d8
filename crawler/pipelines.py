"""Item pipeline: hand each checked document to the spider's recorder off the reactor thread."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_to_future
from twisted.internet.threads import deferToThread


class RecordPipeline:
    """Records items in a worker thread: extraction and database writes block, the reactor must not."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RecordPipeline:
        return cls(crawler)

    async def process_item(self, item: Any) -> Any:
        recorder = self.crawler.spider.recorder
        await deferred_to_future(deferToThread(recorder.record, item))
        return item
