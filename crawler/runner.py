"""Run Scrapy crawls any number of times from one long-lived process.

Twisted allows one reactor per process, started once and never restarted, so
``CrawlerProcess`` can run only one crawl per process. Instead the asyncio
reactor (which scrapy-playwright needs) is installed once and run by crochet in
a daemon thread for the life of the process; every crawl is scheduled on it with
``CrawlerRunner`` and the calling thread blocks until that crawl ends. See
docs/decisions/0002-one-reactor-per-process.md.
"""

from __future__ import annotations

import threading
from typing import Any

ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

_setup_lock = threading.Lock()
_ready = False


class CrawlRunnerError(RuntimeError):
    """The crawl could not be started or did not finish."""


def _ensure_reactor() -> None:
    global _ready
    with _setup_lock:
        if _ready:
            return
        from scrapy.utils.reactor import install_reactor, is_asyncio_reactor_installed, is_reactor_installed

        if not is_reactor_installed():
            install_reactor(ASYNCIO_REACTOR)
        elif not is_asyncio_reactor_installed():
            raise CrawlRunnerError("a non-asyncio Twisted reactor is already installed in this process")
        import crochet

        crochet.setup()
        _ready = True


# How often a stop asked for while a crawl is still starting looks again whether its engine runs.
_STOP_RETRY_SECONDS = 0.05


class CrawlRunner:
    """Schedules crawls on the process-wide reactor thread and waits for them."""

    def __init__(self) -> None:
        _ensure_reactor()
        self._active: list[Any] = []
        self._lock = threading.Lock()
        self._stopping = False

    def run(self, spider_cls: type, settings: dict[str, Any], timeout: float | None = None, **spider_kwargs: Any) -> Any:
        """Run one crawl to its end and return the finished spider (None: stopped before it started)."""
        import crochet

        result = crochet.run_in_reactor(self._start)(spider_cls, settings, spider_kwargs)
        try:
            return result.wait(timeout=timeout if timeout is not None else 10**9)
        except crochet.TimeoutError:
            self.stop()
            raise CrawlRunnerError(f"crawl did not finish within {timeout} seconds") from None

    def _start(self, spider_cls: type, settings: dict[str, Any], spider_kwargs: dict[str, Any]):
        from scrapy.crawler import CrawlerRunner
        from twisted.internet import defer

        with self._lock:
            if self._stopping:  # stopped before this crawl was started: it is not
                return defer.succeed(None)
        runner = CrawlerRunner(settings)
        crawler = runner.create_crawler(spider_cls)
        with self._lock:
            self._active.append(crawler)
        deferred = runner.crawl(crawler, **spider_kwargs)

        def finished(result: Any) -> Any:
            with self._lock:
                self._active.remove(crawler)
            return crawler.spider if not hasattr(result, "raiseException") else result

        return deferred.addBoth(finished)

    def stop(self) -> None:
        """Ask every crawl in flight to close gracefully (finishing its open requests); a crawl not started yet is
        not started, and one still starting is stopped as soon as its engine runs."""
        import crochet

        @crochet.run_in_reactor
        def _stop() -> None:
            with self._lock:
                self._stopping = True
                crawlers = list(self._active)
            for crawler in crawlers:
                self._stop_when_running(crawler)

        _stop().wait(timeout=60)

    def _stop_when_running(self, crawler: Any) -> None:
        """Stop ``crawler`` once its engine runs. Scrapy's stop only sets a flag on a crawler whose engine has not
        started yet, and the engine then crawls everything and waits for ever to be told to stop (a Ctrl-C in the
        first second of a crawl hung it)."""
        from scrapy.utils.defer import deferred_from_coro
        from twisted.internet import reactor

        with self._lock:
            if crawler not in self._active:
                return  # finished meanwhile
        if _engine_running(crawler):
            from crawler.middlewares import stop_sending

            stop_sending(crawler, "the crawl was stopped")
            deferred_from_coro(crawler.stop_async())
        else:
            reactor.callLater(_STOP_RETRY_SECONDS, self._stop_when_running, crawler)


def _engine_running(crawler: Any) -> bool:
    try:
        return bool(crawler.engine.running)
    except RuntimeError:  # the engine is made as the crawl starts: reading it before raises
        return False
