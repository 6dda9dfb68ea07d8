"""Stopping a crawl: a stop asked for while the crawl is still starting ends it, and a stopped runner starts no more."""

from __future__ import annotations

import threading

from twisted.internet.defer import Deferred

from analysis.domain import DocumentSpec, SourceSpec
from clausewatch.loopback_site import Page
from crawler.crawl import scrapy_settings
from crawler.runner import CrawlRunner
from crawler.spiders.policy import CrawlTarget, PolicySpider


class HeldOpening:
    """An item pipeline whose opening waits until the test lets it go: the crawl is then starting, its engine not
    running yet."""

    opened = threading.Event()
    release: Deferred | None = None

    async def open_spider(self) -> None:
        from scrapy.utils.defer import maybe_deferred_to_future

        HeldOpening.release = Deferred()
        HeldOpening.opened.set()
        await maybe_deferred_to_future(HeldOpening.release)

    def process_item(self, item):
        return item


class Noting:
    def __init__(self) -> None:
        self.recorded: list[str] = []

    def record(self, item) -> None:
        self.recorded.append(item.document_id)


def test_a_stop_asked_while_the_crawl_starts_ends_it_once_its_engine_runs(site, fast_options):
    """Scrapy's stop only sets a flag on a crawler whose engine has not started: the engine then crawled everything
    and waited for ever to be told to stop. A Ctrl-C in the first second of `clausewatch crawl` hung it."""
    targets = []
    for number in range(24):
        site.set(f"/p/{number}", Page(f"<main><p>Policy {number}: we may end your account.</p></main>".encode()))
        spec = DocumentSpec(f"p{number}", "Terms of Service", (SourceSpec(site.url(f"/p/{number}")),))
        targets.append(CrawlTarget(f"CW-D-{number:05d}", spec))
    settings = scrapy_settings(fast_options, browser=False)
    settings["ITEM_PIPELINES"] = {**settings["ITEM_PIPELINES"], f"{__name__}.HeldOpening": 100}
    runner, recorder, finished = CrawlRunner(), Noting(), {}
    from twisted.internet import reactor  # the asyncio reactor CrawlRunner installed


    def crawl() -> None:
        finished["spider"] = runner.run(PolicySpider, settings, targets=targets, recorder=recorder)

    crawling = threading.Thread(target=crawl, daemon=True)
    crawling.start()
    assert HeldOpening.opened.wait(60), "the crawl never opened its pipelines"
    runner.stop()  # the engine is not running yet: the spider is still being opened
    reactor.callFromThread(HeldOpening.release.callback, None)
    crawling.join(60)  # a guard against the hang, not a timing
    assert not crawling.is_alive(), "a crawl stopped while it started never ended"
    assert finished["spider"] is not None
    assert finished["spider"].crawler.stats.get_value("finish_reason") in ("shutdown", "finished")

    # The runner was stopped: a crawl asked of it afterwards is not started.
    assert runner.run(PolicySpider, settings, targets=targets, recorder=recorder) is None
