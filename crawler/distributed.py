"""Crawl workers sharing one Redis queue of documents (SPEC §9), all writing to the same store.

``QueueSpider`` is a scrapy-redis ``RedisSpider`` (the mixin's batch reading,
idle handling and connection settings) whose pop is a ``claim`` of the
:class:`~crawler.queue.DocumentQueue` and whose ``make_request_from_data``
builds the request from the store's declaration of the document. It records
through the same ``RecordPipeline``/``Recorder`` as a local crawl, under the
enqueue's run id, and renews its leases while it works; requests to one host
are spaced across workers by :mod:`crawler.pacing`.
See docs/decisions/0005-distributed-crawl.md.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import redis
from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider
from scrapy_redis.spiders import RedisMixin
from twisted.internet.task import LoopingCall

from crawler.crawl import CrawlOptions, scrapy_settings
from crawler.queue import Claim, DocumentQueue, QueueError
from crawler.recorder import DocumentResult, OutcomeCounts, Recorder
from crawler.runner import CrawlRunner
from crawler.spiders.policy import CrawlTarget, PolicySpider
from store.recording import AnalyzeVersion
from store.repository import Store, StoreFailedError, UnknownDocumentError

log = logging.getLogger("clausewatch.crawl")

# --- The worker ------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerOptions:
    """How one worker takes work: leases, how much it holds at once, when it stops."""

    lease_seconds: float = 300.0
    prefetch: int = 16
    drain: bool = False
    idle_exit: float | None = None


@dataclass
class WorkerReport(OutcomeCounts):
    worker: str
    results: list[DocumentResult] = field(default_factory=list)
    seconds: float = 0.0  # from starting the crawl to its end, process start-up excluded
    queue_errors: int = 0  # times Redis could not be reached
    # The store's own failure that stopped the worker (its claims went back to the queue), if one did.
    store_failure: StoreFailedError | None = None

    @property
    def counts(self) -> dict[str, int]:
        return dict(Counter(r.outcome for r in self.results))


class QueueRecorder:
    """Records each item under its claim's run id, then acknowledges the claim."""

    def __init__(self, store: Store, queue: DocumentQueue, *, analyze: AnalyzeVersion | None, shrink_ratio: float):
        self.store = store
        self.queue = queue
        self.analyze = analyze
        self.shrink_ratio = shrink_ratio
        self.claims: dict[str, Claim] = {}
        self.results: list[DocumentResult] = []
        self._recorders: dict[str, Recorder] = {}
        self._lock = threading.Lock()

    def hold(self, claim: Claim) -> None:
        with self._lock:
            self.claims[claim.document_id] = claim

    def held(self) -> list[Claim]:
        with self._lock:
            return list(self.claims.values())

    def drop(self, document_id: str) -> Claim | None:
        with self._lock:
            return self.claims.pop(document_id, None)

    def record(self, item: Any) -> DocumentResult:
        with self._lock:
            claim = self.claims[item.document_id]
        result = self._recorder(claim.run_id).record(item)
        self.finish(claim, result)
        return result

    def finish(self, claim: Claim, result: DocumentResult) -> None:
        """The document is done (recorded or skipped): end its lease and keep the result."""
        try:
            acknowledged = self.queue.ack(claim)
        except redis.RedisError as exc:
            # Recorded all the same: whoever claims it again finds this run's fetch and skips it.
            log.error("crawl queue=%s document=%s could not be acknowledged: %s", self.queue.name,
                      claim.document_id, exc)
            acknowledged = True
        if not acknowledged:
            log.warning("crawl queue=%s document=%s lease had run out before it was recorded; it may be checked "
                        "twice", self.queue.name, claim.document_id)
        self.drop(claim.document_id)
        with self._lock:
            self.results.append(result)

    @property
    def store_failure(self) -> StoreFailedError | None:
        """The first failure of the store itself any run's recorder met (the worker then stops)."""
        with self._lock:
            return next((r.store_failure for r in self._recorders.values() if r.store_failure), None)

    def _recorder(self, run_id: str) -> Recorder:
        with self._lock:
            if run_id not in self._recorders:
                self._recorders[run_id] = Recorder(self.store, analyze=self.analyze, run_id=run_id,
                                                   shrink_ratio=self.shrink_ratio)
            return self._recorders[run_id]


class QueueSpider(RedisMixin, PolicySpider):
    """A RedisSpider fed document claims; each becomes the request of the store's declaration."""

    name = "policy-queue"

    def __init__(self, queue: DocumentQueue, recorder: QueueRecorder, options: WorkerOptions, **kwargs: Any):
        super().__init__(targets=(), recorder=recorder, redis_key=queue.pending_key, **kwargs)
        self.queue = queue
        self.options = options
        self.idle_since = time.monotonic()
        self.queue_errors = 0
        self._renewal = LoopingCall(self._renew)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> QueueSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.setup_redis(crawler)
        for signal in (signals.item_scraped, signals.item_dropped):
            crawler.signals.connect(spider._item_done, signal=signal)
        crawler.signals.connect(spider._item_error, signal=signals.item_error)
        crawler.signals.connect(spider._opened, signal=signals.spider_opened)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        return spider

    async def start(self) -> AsyncIterator[Request]:
        for request in self.next_requests():
            yield request

    # scrapy-redis reads batches through ``fetch_data``, which is this method
    # for a list queue: a lease instead of a destructive pop.
    def pop_list_queue(self, redis_key: str, batch_size: int) -> list[str]:
        room = min(batch_size, self.options.prefetch - len(self.recorder.held()))
        try:
            claims = self.queue.claim(room, self.options.lease_seconds)
        except (redis.RedisError, QueueError) as exc:  # QueueError: a key of the queue's name turned another kind
            self.queue_errors += 1
            log.error("crawl queue=%s could not take work: %s", self.queue.name, exc)
            return []
        if claims:
            self.idle_since = time.monotonic()
        return [claim.payload for claim in claims]

    def make_request_from_data(self, data: bytes | str) -> Request | None:
        claim = Claim.parse(data)
        self.recorder.hold(claim)
        if claim.attempt > 1 and self.recorder.store.history.fetched_in_run(claim.document_id, claim.run_id):
            # The worker before us recorded it, then died before acknowledging.
            self.recorder.finish(claim, DocumentResult(claim.document_id, "skipped", detail="already checked in "
                                                       f"run {claim.run_id}"))
            return None
        try:
            document = self.recorder.store.catalog.document(claim.document_id)
        except UnknownDocumentError as exc:
            self.recorder.finish(claim, DocumentResult(claim.document_id, "skipped", detail=str(exc)))
            return None
        headers = self.recorder.store.history.conditional_headers(claim.document_id)
        return self._request(CrawlTarget(document.id, document.spec, headers), 0, self.clock(), [])

    def spider_idle(self) -> None:
        orphans = self.recorder.held()
        for claim in orphans:
            # The engine is idle, so no request or item of this claim is left.
            log.warning("crawl queue=%s document=%s produced no result; released", self.queue.name,
                        claim.document_id)
            self.recorder.drop(claim.document_id)
            self._release(claim, failed=True)
        self.schedule_next_requests()
        if self.recorder.held():
            raise DontCloseSpider
        if self.options.drain:
            return
        idle_exit = self.options.idle_exit
        if idle_exit is not None and time.monotonic() - self.idle_since >= idle_exit:
            return
        raise DontCloseSpider

    def _item_done(self, item: Any, **_: Any) -> None:
        self.schedule_next_requests()

    def _item_error(self, item: Any, failure: Any, **_: Any) -> None:
        claim = self.recorder.drop(item.document_id)
        if claim is not None:
            log.error("crawl queue=%s document=%s could not be recorded: %s; released for another try",
                      self.queue.name, claim.document_id, failure.getErrorMessage())
            self._release(claim, failed=True)
        self.schedule_next_requests()

    def _opened(self, spider: Any) -> None:
        self._renewal.start(max(self.options.lease_seconds / 3, 0.5), now=False)

    def _closed(self, spider: Any, reason: str) -> None:
        if self._renewal.running:
            self._renewal.stop()
        for claim in self.recorder.held():
            # Shut down before checking it: give it straight back, not counted as an attempt.
            self.recorder.drop(claim.document_id)
            self._release(claim, failed=False)

    def _release(self, claim: Claim, *, failed: bool) -> None:
        try:
            self.queue.release(claim, failed=failed)
        except redis.RedisError as exc:
            self.queue_errors += 1
            log.error("crawl queue=%s document=%s could not be given back (its lease will run out): %s",
                      self.queue.name, claim.document_id, exc)

    def _renew(self) -> None:
        held = self.recorder.held()
        try:
            kept = self.queue.renew(held, self.options.lease_seconds)
        except redis.RedisError as exc:
            # Not fatal: a LoopingCall that raises stops for good, and the next renewal may succeed.
            self.queue_errors += 1
            log.error("crawl queue=%s could not renew %d lease(s): %s", self.queue.name, len(held), exc)
            return
        if kept < len(held):
            log.warning("crawl queue=%s %d lease(s) had already run out", self.queue.name, len(held) - kept)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def work_queue(
    store: Store,
    queue: DocumentQueue,
    redis_url: str,
    options: CrawlOptions,
    worker: WorkerOptions,
    *,
    analyze: AnalyzeVersion | None,
    runner: CrawlRunner | None = None,
) -> WorkerReport:
    """Check documents from the shared queue until it is drained, idle too long, or the crawl stops."""
    recorder = QueueRecorder(store, queue, analyze=analyze, shrink_ratio=options.shrink_ratio)
    settings = scrapy_settings(options, browser=worker_uses_browser(store))
    settings["REDIS_URL"] = redis_url
    # Last before the download but for the stop gate (1000), so only requests that will really be sent take a slot
    # (or one refused by a stop that came while it waited for that slot).
    settings["DOWNLOADER_MIDDLEWARES"] = {**settings["DOWNLOADER_MIDDLEWARES"],
                                          "crawler.pacing.SharedPaceMiddleware": 900}
    started = time.monotonic()
    spider = (runner or CrawlRunner()).run(QueueSpider, settings, queue=queue, recorder=recorder, options=worker)
    return WorkerReport(worker_name(), recorder.results, time.monotonic() - started,
                        getattr(spider, "queue_errors", 0), recorder.store_failure)


def worker_uses_browser(store: Store) -> bool:
    """Whether any document of the store is fetched with the browser (the handler must be installed)."""
    return any(d.spec.fetcher == "browser" for d in store.catalog.each_document() if d.in_catalog)
