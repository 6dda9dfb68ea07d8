"""Item pipeline: hand each checked document to the spider's recorder off the reactor thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from threading import Thread
from typing import Any

from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_to_future
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from crawler.items import FetchedDocument, NotModifiedDocument
from crawler.middlewares import stop_sending
from store.repository import StoreFailedError

log = logging.getLogger("clausewatch.crawl")

# Two recording threads: one extracts or analyses while the other waits on the
# database or an fsync. More only contend for the GIL and SQLite's one writer:
# with Twisted's default ten, a crawl used 8 % more CPU and 50 MB more memory
# (decision 0014).
DEFAULT_RECORD_THREADS = 2
# A thread whose text is in an analysis worker waits without the GIL; two more
# threads a worker keep one text queued at it while another is stored (100 new
# pages, one worker: 3.4-3.5 s with four threads against 3.7-4.0 with two;
# in process four were slower, 5.9 s against 5.4; decision 0014, 23rd pass).
RECORD_THREADS_PER_WORKER = 2


def record_threads(analysis_workers: int) -> int:
    """The recording threads of a crawl whose analysis runs in this many worker processes (0: in process)."""
    return DEFAULT_RECORD_THREADS + RECORD_THREADS_PER_WORKER * analysis_workers
# 304s, and fetched pages that may re-send the bytes of their current text, are
# recorded together, in one transaction: those that arrive within BATCH_WINDOW
# seconds of the first, up to BATCH_SIZE of them or half of Scrapy's
# SCRAPER_SLOT_MAX_ACTIVE_SIZE in pages (past that Scrapy stops downloading until
# the waiting responses are recorded: a batch waiting out its window would wait
# for nothing). Recording either alone cost about six times as much CPU as
# recording it in a batch (decision 0014, second and eleventh passes); the window is short
# beside any crawl delay.
BATCH_WINDOW = 0.05
BATCH_SIZE = 64
# The recorder's method that records a batch of each kind of item it batches.
BATCHED = {NotModifiedDocument: "record_not_modified_batch", FetchedDocument: "record_identical_batch"}


class RecordingThreads(ThreadPool):
    """The recording pool, of daemon threads.

    A crawl cut short at once (a second Ctrl-C, a job's shutdown signal) never
    closes its spider, so the pool is never stopped, and the interpreter waits at
    exit for every thread that is not a daemon: the command printed its error and
    never ended. A recording the exit cuts off is a transaction that never
    committed.
    """

    def threadFactory(self, *args: Any, **kwargs: Any) -> Thread:  # noqa: N802 - Twisted's name
        return Thread(*args, daemon=True, **kwargs)


class RecordPipeline:
    """Records items in worker threads of its own: extraction and database writes block, the reactor must not."""

    def __init__(self, crawler: Crawler, threads: int = DEFAULT_RECORD_THREADS):
        self.crawler = crawler
        self.pool = RecordingThreads(minthreads=0, maxthreads=threads, name="clausewatch-record")
        self._batches: dict[type, RecordBatches] = {}
        self._stopping = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RecordPipeline:
        return cls(crawler, crawler.settings.getint("RECORD_THREADS", DEFAULT_RECORD_THREADS))

    def open_spider(self) -> None:
        self.pool.start()
        recorder = self.crawler.spider.recorder
        max_bytes = self.crawler.settings.getint("SCRAPER_SLOT_MAX_ACTIVE_SIZE") // 2
        self._batches = {kind: RecordBatches(self.pool, getattr(recorder, method), recorder.record, max_bytes)
                         for kind, method in BATCHED.items() if hasattr(recorder, method)}

    def close_spider(self) -> None:
        # Every item has been recorded when the spider closes, so this only joins idle threads.
        self.pool.stop()

    async def process_item(self, item: Any) -> Any:
        from twisted.internet import reactor  # the one crawler.runner installed

        try:
            if (batches := self._batches.get(type(item))) is not None:
                await deferred_to_future(batches.add(item))
            else:
                await deferred_to_future(deferToThreadPool(reactor, self.pool, self.crawler.spider.recorder.record,
                                                           item))
        except StoreFailedError:
            # The recorder kept the failure and logged it. Every later page would be fetched for nothing: the
            # crawl stops, and its documents not recorded are reported as not checked (crawler.crawl).
            self._stop_crawl()
        return item

    def _stop_crawl(self) -> None:
        from scrapy.utils.defer import deferred_from_coro

        if not self._stopping:
            self._stopping = True
            stop_sending(self.crawler, "the store failed")
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="store_failed"))


class RecordBatches:
    """Items of one kind gathered on the reactor thread and recorded a batch at a time in the pool.

    ``record_batch`` records a batch in one transaction and returns, item by
    item, its result or None for an item it left to be recorded alone; those
    are recorded with ``record_one``, as any other item, and so is every item
    of a batch that failed as a whole (one unknown document, say).
    """

    def __init__(self, pool: ThreadPool, record_batch: Callable[[list], list], record_one: Callable[[Any], Any],
                 max_bytes: int):
        self.pool, self.record_batch, self.record_one, self.max_bytes = pool, record_batch, record_one, max_bytes
        self._pending: list[tuple[Any, Deferred]] = []
        self._bytes = 0
        self._timer: Any = None

    def add(self, item: Any) -> Deferred:
        """A Deferred that fires once ``item`` is recorded, in the batch it joins or alone."""
        from twisted.internet import reactor

        recorded: Deferred = Deferred()
        self._pending.append((item, recorded))
        self._bytes += _page_bytes(item)
        if len(self._pending) >= BATCH_SIZE or self._bytes >= self.max_bytes:
            self._record_batch()
        elif self._timer is None:
            self._timer = reactor.callLater(BATCH_WINDOW, self._record_batch)
        return recorded

    def _record_batch(self) -> None:
        from twisted.internet import reactor

        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        batch, self._pending, self._bytes = self._pending, [], 0
        done = deferToThreadPool(reactor, self.pool, self.record_batch, [item for item, _ in batch])
        done.addCallbacks(lambda results: self._record_rest(batch, results),
                          lambda failure: self._record_rest(batch, [None] * len(batch), failure))

    def _record_rest(self, batch: list[tuple[Any, Deferred]], results: list, failure: Any = None) -> None:
        """Fire the Deferreds of the items the batch recorded; record each other alone."""
        from twisted.internet import reactor

        if failure is not None:
            log.info("a batch of %d items failed (%s); recording each alone", len(batch), failure.getErrorMessage())
        for (item, recorded), result in zip(batch, results, strict=True):
            if result is None:
                deferToThreadPool(reactor, self.pool, self.record_one, item).chainDeferred(recorded)
            else:
                recorded.callback(None)


def _page_bytes(item: Any) -> int:
    """The bytes of the pages an item holds: what Scrapy counts against SCRAPER_SLOT_MAX_ACTIVE_SIZE until it is
    recorded (a 304 holds none)."""
    return sum(len(part.body) for part in item.parts) if isinstance(item, FetchedDocument) else 0
