"""The download handler of a crawl with a browser: scrapy-playwright's, whose requests not for the browser (robots.txt,
the ``http`` documents of the crawl) have their bodies' lengths checked as ``crawler.download`` checks them.

A module of its own: importing scrapy-playwright's handler imports Playwright (~0.3 s), which a crawl without a
browser never needs.
"""

from __future__ import annotations

from crawler.download import LengthCheckedDownloads, aliases_named_from_globals

with aliases_named_from_globals():  # if Scrapy's TLS modules are not imported yet (crawler.download)
    from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler  # noqa: E402 - imported under the helper


class LengthCheckedPlaywrightHandler(LengthCheckedDownloads, ScrapyPlaywrightDownloadHandler):
    """The handler of http and https in crawls with a browser."""
