"""Crawl workers sharing one Redis queue of documents (SPEC §9), all writing to the same store.

``DocumentQueue`` is a reliable queue of document ids: ``enqueue`` pushes each
id at most once while it is pending or being checked; ``claim`` moves ids onto
a lease (a sorted set scored by the lease's deadline, on Redis's own clock so
machines need not agree on the time); ``ack`` ends the lease once the check is
recorded. A lease that runs out (its worker died or hung) is put back at the
head of the queue by the next ``claim`` of any worker, and after
``max_attempts`` tries the document goes to a dead list instead of crashing
workers forever. Every step is one Lua script, so it is atomic however many
workers run.

``QueueSpider`` is a scrapy-redis ``RedisSpider`` (the mixin's batch reading,
idle handling and connection settings) whose pop is a ``claim`` and whose
``make_request_from_data`` builds the request from the store's declaration of
the document. It records through the same ``RecordPipeline``/``Recorder`` as a
local crawl, under the enqueue's run id, and renews its leases while it works.
See docs/decisions/0005-distributed-crawl.md.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import redis
from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.utils.defer import deferred_to_future
from scrapy_redis.spiders import RedisMixin
from sqlalchemy import select
from twisted.internet.task import LoopingCall, deferLater

from crawler.crawl import CrawlOptions, scrapy_settings
from crawler.recorder import Analyze, DocumentResult, OutcomeCounts, Recorder
from crawler.runner import CrawlRunner
from crawler.spiders.policy import CrawlTarget, PolicySpider
from store.models import DocumentRow, FetchRow
from store.repository import Store, UnknownDocumentError

log = logging.getLogger("clausewatch.crawl")

KEY_PREFIX = "clausewatch"
QUEUE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class QueueError(ValueError):
    """A queue name or a queued payload is not what the queue expects."""


# --- The queue -----------------------------------------------------------------

# Puts one expired or released claim back at the head of the queue with one
# more attempt, or on the dead list once it has had max_attempts.
_REQUEUE_LUA = """
local function requeue(raw, penalty, max_attempts)
  local ok, claim = pcall(cjson.decode, raw)
  if not ok or type(claim) ~= 'table' or type(claim.attempt) ~= 'number' then
    redis.call('RPUSH', KEYS[4], raw)
    return
  end
  claim.attempt = claim.attempt + penalty
  if claim.attempt > max_attempts then
    redis.call('SREM', KEYS[3], claim.document_id)
    redis.call('RPUSH', KEYS[4], cjson.encode(claim))
  else
    redis.call('LPUSH', KEYS[1], cjson.encode(claim))
  end
end
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
"""

# KEYS: pending, leases, queued, dead. ARGV: id, payload, id, payload...
_ENQUEUE_LUA = """
local added = 0
for i = 1, #ARGV, 2 do
  if redis.call('SADD', KEYS[3], ARGV[i]) == 1 then
    redis.call('RPUSH', KEYS[1], ARGV[i + 1])
    added = added + 1
  end
end
return added
"""

# ARGV: how many, lease seconds, max attempts.
_CLAIM_LUA = _REQUEUE_LUA + """
local t = now()
for _, raw in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', t)) do
  redis.call('ZREM', KEYS[2], raw)
  requeue(raw, 1, tonumber(ARGV[3]))
end
local claimed = {}
for _ = 1, tonumber(ARGV[1]) do
  local raw = redis.call('LPOP', KEYS[1])
  if not raw then break end
  redis.call('ZADD', KEYS[2], t + tonumber(ARGV[2]), raw)
  claimed[#claimed + 1] = raw
end
return claimed
"""

# ARGV: lease seconds, payload... Returns how many leases were still ours.
_RENEW_LUA = _REQUEUE_LUA + """
local deadline = now() + tonumber(ARGV[1])
local renewed = 0
for i = 2, #ARGV do
  renewed = renewed + redis.call('ZADD', KEYS[2], 'XX', 'CH', deadline, ARGV[i])
end
return renewed
"""

# ARGV: payload, document id. The id leaves the queued set only if the lease was
# still ours: otherwise it was put back and is pending again.
_ACK_LUA = """
if redis.call('ZREM', KEYS[2], ARGV[1]) == 1 then
  redis.call('SREM', KEYS[3], ARGV[2])
  return 1
end
return 0
"""

# ARGV: payload. A payload that is not a claim leaves its lease for the dead list.
_BURY_LUA = """
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('RPUSH', KEYS[4], ARGV[1])
"""

# ARGV: payload, penalty (1 counts as an attempt, 0 does not), max attempts.
_RELEASE_LUA = _REQUEUE_LUA + """
if redis.call('ZREM', KEYS[2], ARGV[1]) == 1 then
  requeue(ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]))
  return 1
end
return 0
"""


@dataclass(frozen=True)
class Claim:
    """One document taken off the queue by one worker, for one enqueue run."""

    document_id: str
    run_id: str
    attempt: int
    payload: str

    @classmethod
    def parse(cls, payload: bytes | str) -> Claim:
        text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
        try:
            data = json.loads(text)
            return cls(str(data["document_id"]), str(data["run_id"]), int(data["attempt"]), text)
        except (ValueError, KeyError, TypeError) as exc:
            raise QueueError(f"queued payload {text[:200]!r} is not a document claim: {exc}") from None


@dataclass(frozen=True)
class QueueCounts:
    pending: int
    leased: int
    dead: int


class DocumentQueue:
    """The Redis keys ``clausewatch:<name>:*`` of one store's shared crawl queue."""

    def __init__(self, client: redis.Redis, name: str, *, max_attempts: int = 3):
        if not QUEUE_NAME.match(name):
            raise QueueError(f"queue name {name!r} must be letters, digits, '.', '_' or '-' (at most 100)")
        self.client = client
        self.name = name
        self.max_attempts = max_attempts
        base = f"{KEY_PREFIX}:{name}"
        self.pending_key = f"{base}:documents"
        self.keys = [self.pending_key, f"{base}:leases", f"{base}:queued", f"{base}:dead"]
        self._scripts = {
            name: client.register_script(source) for name, source in (
                ("enqueue", _ENQUEUE_LUA), ("claim", _CLAIM_LUA), ("renew", _RENEW_LUA),
                ("ack", _ACK_LUA), ("release", _RELEASE_LUA), ("bury", _BURY_LUA),
            )
        }

    @classmethod
    def from_url(cls, url: str, name: str, **kwargs: Any) -> DocumentQueue:
        return cls(redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10), name, **kwargs)

    def _run(self, script: str, *args: Any) -> Any:
        return self._scripts[script](keys=self.keys, args=list(args))

    def enqueue(self, document_ids: Iterable[str], run_id: str) -> int:
        """Queue each id not already pending or leased; returns how many were added."""
        pairs: list[str] = []
        for document_id in dict.fromkeys(document_ids):
            payload = json.dumps({"document_id": document_id, "run_id": run_id, "attempt": 1})
            pairs += [document_id, payload]
        return int(self._run("enqueue", *pairs)) if pairs else 0

    def claim(self, count: int, lease_seconds: float) -> list[Claim]:
        """Lease up to ``count`` documents (expired leases of any worker first)."""
        if count <= 0:
            return []
        claims = []
        for raw in self._run("claim", count, lease_seconds, self.max_attempts):
            try:
                claims.append(Claim.parse(raw))
            except QueueError as exc:
                # Not pushed by `enqueue`; kept for the operator to look at, never retried.
                log.error("crawl queue=%s: %s; moved to the dead list", self.name, exc)
                self._run("bury", raw)
        return claims

    def renew(self, claims: Sequence[Claim], lease_seconds: float) -> int:
        """Push the deadlines of these leases on; returns how many were still held."""
        if not claims:
            return 0
        return int(self._run("renew", lease_seconds, *(c.payload for c in claims)))

    def ack(self, claim: Claim) -> bool:
        """The document was checked and recorded: end its lease. False if the lease had run out."""
        return bool(self._run("ack", claim.payload, claim.document_id))

    def release(self, claim: Claim, *, failed: bool) -> bool:
        """Give a lease back now rather than at its deadline; ``failed`` counts it as an attempt."""
        return bool(self._run("release", claim.payload, 1 if failed else 0, self.max_attempts))

    def counts(self) -> QueueCounts:
        with self.client.pipeline() as pipe:
            pipe.llen(self.keys[0]).zcard(self.keys[1]).llen(self.keys[3])
            pending, leased, dead = pipe.execute()
        return QueueCounts(pending, leased, dead)

    def dead(self) -> list[str]:
        """The payloads of the dead list, oldest first."""
        return [raw.decode("utf-8", "replace") for raw in self.client.lrange(self.keys[3], 0, -1)]

    def clear(self) -> None:
        self.client.delete(*self.keys)


def queue_name_for(database_url: str) -> str:
    """The default queue name of a store: its database name (the file stem for SQLite)."""
    from pathlib import PurePath

    from sqlalchemy.engine import make_url

    database = make_url(database_url).database or "default"
    if make_url(database_url).get_backend_name() == "sqlite":
        database = PurePath(database).stem or "default"
    return re.sub(r"[^A-Za-z0-9_.-]", "-", database)[:100]


def checked_in_run(store: Store, document_id: str, run_id: str) -> bool:
    """Whether the store already holds a fetch of this document made under this run id."""
    with store.session() as session:
        found = session.scalar(
            select(FetchRow.id).join(DocumentRow, DocumentRow.id == FetchRow.document_id)
            .where(DocumentRow.public_id == document_id, FetchRow.run_id == run_id).limit(1)
        )
    return found is not None


# --- Politeness shared by every worker ---------------------------------------------

# KEYS: the domain's key. ARGV: delay in milliseconds. Reserves the domain's next
# free slot (at least ``delay`` after the one before, on Redis's clock) and
# returns how many milliseconds from now it starts.
_PACE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or 0))
local delay = tonumber(ARGV[1])
redis.call('SET', KEYS[1], slot + delay, 'PX', slot - now + delay + 1000)
return slot - now
"""


class DomainPacer:
    """Spaces the requests of every worker to one host by the crawl delay (SPEC §4's per-domain delay)."""

    def __init__(self, client: redis.Redis):
        self.client = client
        self._pace = client.register_script(_PACE_LUA)

    def reserve(self, host: str, delay: float) -> float:
        """Seconds to wait before requesting ``host``; the slot is held for this caller."""
        waited = self._pace(keys=[f"{KEY_PREFIX}:pace:{host}"], args=[round(delay * 1000)])
        return int(waited) / 1000


class SharedPaceMiddleware:
    """Holds each request until its host's shared slot: N workers stay as polite as one."""

    def __init__(self, pacer: DomainPacer, delay: float):
        self.pacer = pacer
        self.delay = delay

    @classmethod
    def from_crawler(cls, crawler: Any) -> SharedPaceMiddleware:
        delay = crawler.settings.getfloat("DOWNLOAD_DELAY")
        if delay <= 0 or not crawler.settings.get("REDIS_URL"):
            raise NotConfigured  # no delay (loopback runs) or no shared Redis: nothing to pace; said quietly
        return cls(DomainPacer(redis.Redis.from_url(crawler.settings["REDIS_URL"])), delay)

    async def process_request(self, request: Request, spider: Any = None) -> None:
        host = urlsplit(request.url).netloc.lower()
        wait = self.pacer.reserve(host, self.delay)
        if wait > 0:
            # Imported here: importing the reactor installs one, and the runner installs asyncio's.
            from twisted.internet import reactor

            await deferred_to_future(deferLater(reactor, wait, lambda: None))


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


class QueueRecorder:
    """Records each item under its claim's run id, then acknowledges the claim."""

    def __init__(self, store: Store, queue: DocumentQueue, *, analyze: Analyze | None, shrink_ratio: float):
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
        except redis.RedisError as exc:
            self.queue_errors += 1
            log.error("crawl queue=%s could not take work: %s", self.queue.name, exc)
            return []
        if claims:
            self.idle_since = time.monotonic()
        return [claim.payload for claim in claims]

    def make_request_from_data(self, data: bytes | str) -> Request | None:
        claim = Claim.parse(data)
        self.recorder.hold(claim)
        if claim.attempt > 1 and checked_in_run(self.recorder.store, claim.document_id, claim.run_id):
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
    analyze: Analyze | None,
    runner: CrawlRunner | None = None,
) -> WorkerReport:
    """Check documents from the shared queue until it is drained, idle too long, or the crawl stops."""
    recorder = QueueRecorder(store, queue, analyze=analyze, shrink_ratio=options.shrink_ratio)
    settings = scrapy_settings(options, browser=worker_uses_browser(store))
    settings["REDIS_URL"] = redis_url
    # Last before the download, so only requests that will really be sent take a slot.
    settings["DOWNLOADER_MIDDLEWARES"] = {**settings["DOWNLOADER_MIDDLEWARES"],
                                          "crawler.distributed.SharedPaceMiddleware": 900}
    started = time.monotonic()
    spider = (runner or CrawlRunner()).run(QueueSpider, settings, queue=queue, recorder=recorder, options=worker)
    return WorkerReport(worker_name(), recorder.results, time.monotonic() - started,
                        getattr(spider, "queue_errors", 0))


def worker_uses_browser(store: Store) -> bool:
    """Whether any document of the store is fetched with the browser (the handler must be installed)."""
    return any(d.spec.fetcher == "browser" for d in store.catalog.documents() if d.in_catalog)
