"""The download handler of a crawl with a browser: scrapy-playwright's, each browser page under its deadline
(``crawler.browserdeadline``), whose requests not for the browser (robots.txt, the ``http`` documents of the crawl)
have their bodies' lengths checked as ``crawler.download`` checks them.

A module of its own: importing scrapy-playwright's handler imports Playwright (~0.3 s), which a crawl without a
browser never needs.
"""

from __future__ import annotations

from crawler.download import LengthCheckedDownloads, aliases_named_from_globals

# After crawler.download, which imports Scrapy's TLS modules under its helper; scrapy-playwright imports them too.
with aliases_named_from_globals():
    from crawler.browserdeadline import DeadlineDownloadHandler  # noqa: E402 - imported under the helper


class LengthCheckedPlaywrightHandler(LengthCheckedDownloads, DeadlineDownloadHandler):
    """The handler of http and https in crawls with a browser."""
