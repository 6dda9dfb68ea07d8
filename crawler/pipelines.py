"""Item pipeline: hand each checked document to the spider's recorder off the reactor thread."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_to_future
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from crawler.items import NotModifiedDocument

# Two recording threads: one extracts or analyses while the other waits on the
# database or an fsync. More only contend for the GIL and SQLite's one writer:
# with Twisted's default ten, a crawl used 8 % more CPU and 50 MB more memory
# (decision 0014).
DEFAULT_RECORD_THREADS = 2
# 304s are recorded together, in one transaction: those that arrive within
# NOT_MODIFIED_WINDOW seconds of the first, up to NOT_MODIFIED_BATCH of them.
# Recording one alone cost six times as much CPU as recording it in a batch
# (decision 0014); the window is short beside any crawl delay.
NOT_MODIFIED_WINDOW = 0.05
NOT_MODIFIED_BATCH = 64


class RecordPipeline:
    """Records items in worker threads of its own: extraction and database writes block, the reactor must not."""

    def __init__(self, crawler: Crawler, threads: int = DEFAULT_RECORD_THREADS):
        self.crawler = crawler
        self.pool = ThreadPool(minthreads=0, maxthreads=threads, name="clausewatch-record")
        self._not_modified: list[tuple[NotModifiedDocument, Deferred]] = []
        self._timer: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RecordPipeline:
        return cls(crawler, crawler.settings.getint("RECORD_THREADS", DEFAULT_RECORD_THREADS))

    def open_spider(self) -> None:
        self.pool.start()

    def close_spider(self) -> None:
        # Every item has been recorded when the spider closes, so this only joins idle threads.
        self.pool.stop()

    async def process_item(self, item: Any) -> Any:
        from twisted.internet import reactor  # the one crawler.runner installed

        recorder = self.crawler.spider.recorder
        if isinstance(item, NotModifiedDocument) and hasattr(recorder, "record_not_modified_batch"):
            await deferred_to_future(self._record_with_others(item))
        else:
            await deferred_to_future(deferToThreadPool(reactor, self.pool, recorder.record, item))
        return item

    def _record_with_others(self, item: NotModifiedDocument) -> Deferred:
        """A Deferred that fires once ``item`` is recorded, in the batch of 304s it joins."""
        from twisted.internet import reactor

        recorded: Deferred = Deferred()
        self._not_modified.append((item, recorded))
        if len(self._not_modified) >= NOT_MODIFIED_BATCH:
            self._record_batch()
        elif self._timer is None:
            self._timer = reactor.callLater(NOT_MODIFIED_WINDOW, self._record_batch)
        return recorded

    def _record_batch(self) -> None:
        from twisted.internet import reactor

        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        batch, self._not_modified = self._not_modified, []
        recorder = self.crawler.spider.recorder
        done = deferToThreadPool(reactor, self.pool, recorder.record_not_modified_batch, [item for item, _ in batch])
        done.addCallbacks(lambda _results: [recorded.callback(None) for _, recorded in batch],
                          lambda _failure: self._record_each(batch))

    def _record_each(self, batch: list[tuple[NotModifiedDocument, Deferred]]) -> None:
        """After a batch failed as a whole (one unknown document, say): each 304 alone, as any other item."""
        from twisted.internet import reactor

        recorder = self.crawler.spider.recorder
        for item, recorded in batch:
            deferToThreadPool(reactor, self.pool, recorder.record, item).chainDeferred(recorded)
