"""Politeness shared by every crawl worker: one per-host delay across machines, kept in Redis."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import redis
from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_to_future
from twisted.internet.task import deferLater

from crawler.queue import KEY_PREFIX

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

    def __init__(self, pacer: DomainPacer, delay: float, crawler: Any = None):
        self.pacer = pacer
        self.delay = delay
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> SharedPaceMiddleware:
        delay = crawler.settings.getfloat("DOWNLOAD_DELAY")
        if delay <= 0 or not crawler.settings.get("REDIS_URL"):
            raise NotConfigured  # no delay (loopback runs) or no shared Redis: nothing to pace; said quietly
        return cls(DomainPacer(redis.Redis.from_url(crawler.settings["REDIS_URL"])), delay, crawler)

    def delay_for(self, request: Request) -> float:
        """The crawl's delay, or the longer Crawl-delay the host's robots.txt asked for (set on the downloader's
        slot settings by ``crawler.middlewares.Rfc9309RobotsTxtMiddleware``)."""
        if self.crawler is None or self.crawler.engine is None:
            return self.delay
        downloader = self.crawler.engine.downloader
        return downloader.per_slot_settings.get(downloader.get_slot_key(request), {}).get("delay", self.delay)

    async def process_request(self, request: Request, spider: Any = None) -> None:
        host = urlsplit(request.url).netloc.lower()
        wait = self.pacer.reserve(host, self.delay_for(request))
        if wait > 0:
            # Imported here: importing the reactor installs one, and the runner installs asyncio's.
            from twisted.internet import reactor

            await deferred_to_future(deferLater(reactor, wait, lambda: None))
