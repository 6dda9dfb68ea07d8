"""PolicySpider: fetch each tracked document once and hand the result to the recorder."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.httpobj import urlparse_cached
from twisted.python.failure import Failure

from analysis.domain import DocumentSpec, Snapshot
from analysis.evidence import HttpExchange
from analysis.text import sha256_bytes
from crawler.browser import BROWSER_HOPS, BROWSER_PAGE_REQUEST, BrowserLockdown
from crawler.capture import failed_exchange, response_exchange
from crawler.errors import CrawlStoppedError, kind_of_failure, kind_of_status
from crawler.items import FailedDocument, FetchedDocument, FetchedPart, NotModifiedDocument
from crawler.middlewares import HOPS, refused_hop
from crawler.netguard import NetworkGuard

# Statuses handed to the spider instead of dropped: 304 answers our conditional
# request; error statuses become failed fetches that name the status. 3xx other
# than 304 stay with RedirectMiddleware, which follows them.
HANDLED_STATUSES = [304, *range(400, 600)]


@dataclass(frozen=True)
class CrawlTarget:
    """One document to check, with the validators of its last snapshot."""

    document_id: str
    spec: DocumentSpec
    conditional_headers: dict[str, str] = field(default_factory=dict)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class PolicySpider(scrapy.Spider):
    """Fetches every source of every target; combined sources are fetched in order, then recorded together."""

    name = "policy"

    def __init__(self, targets: Iterable[CrawlTarget], recorder: Any, clock: Callable[[], datetime] = _utcnow,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.targets = targets
        self.recorder = recorder
        self.clock = clock
        # What the server sent for each browser-rendered page, by URL, until its response is parsed.
        self._served_bodies: dict[str, bytes] = {}

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """One request per target, handed over only when the scheduler has run dry.

        Scrapy reads ``start()`` to the end as fast as it can, so yielding every
        request at once queued them all (~3 KB each); waiting for ``scheduler_empty``
        while the engine is busy keeps the queue a few requests long whatever the
        catalog's size (Scrapy's "lazy start requests"). ``targets`` is read once,
        as the crawl goes, so it may read them from the store as it is iterated.
        """
        for target in self.targets:
            if self.crawler.engine.needs_backout():
                await self.crawler.signals.wait_for(signals.scheduler_empty)
            yield self._request_or_failure(target, 0, self.clock(), [])

    def _request_or_failure(self, target: CrawlTarget, index: int, started_at: datetime,
                            parts: list[FetchedPart]) -> scrapy.Request | FailedDocument:
        """The request of a source, or that document's failure when its URL cannot be requested.

        The catalog refuses such URLs (a port out of range, an unclosed ``[``); one that
        slips past it raised in ``start()``, which ended the crawl for every later document.
        """
        try:
            return self._request(target, index, started_at, parts)
        except ValueError as exc:
            url = target.spec.sources[index].url
            return FailedDocument(target.document_id, started_at, self.clock(), "catalog_error",
                                  f"cannot request {url[:200]!r}: {exc}", exchanges=_exchanges(parts, (), None))

    def _request(self, target: CrawlTarget, index: int, started_at: datetime, parts: list[FetchedPart]):
        spec = target.spec
        meta: dict[str, Any] = {"handle_httpstatus_list": HANDLED_STATUSES}
        # The operator chose this URL: the network guard allows its network (before robots.txt is asked).
        self._guard().add_catalog_url(spec.sources[index].url)
        if not spec.obey_robots:
            meta["dont_obey_robotstxt"] = True
        if spec.fetcher == "browser":
            meta.update(self._lockdown().meta(target.document_id))
            meta["playwright_page_event_handlers"]["response"] = self._keep_served_body
        # A combined document is only unchanged if every part is, so conditional
        # requests are used for single-source documents only; a browser cannot
        # render a 304 it has no cached page for, so it always asks for the page.
        conditional = len(spec.sources) == 1 and spec.fetcher == "http"
        headers = target.conditional_headers if conditional else {}
        return scrapy.Request(
            spec.sources[index].url, callback=self.parse_source, errback=self.fetch_failed, meta=meta,
            headers=headers, dont_filter=True,
            cb_kwargs={"target": target, "index": index, "started_at": started_at, "parts": parts},
        )

    def parse_source(self, response: Response, target: CrawlTarget, index: int, started_at: datetime,
                     parts: list[FetchedPart]) -> Iterator[Any]:
        hops = _hops(response.request)
        if response.status == 304 and _asked_if_changed(response):
            yield NotModifiedDocument(target.document_id, started_at, self.clock(),
                                      [*hops, response_exchange(response, self.clock())])
            return
        refusal = self._refusal(response)
        if refusal:
            # The page is not recorded; the redirects that led to it (from the hosts allowed) are.
            yield FailedDocument(target.document_id, started_at, self.clock(), "redirect_refused", refusal,
                                 exchanges=_exchanges(parts, hops, None))
            return
        if _viewer_only(response, self._served_bodies):
            # Chromium keeps a PDF's bytes to its viewer: asked again without the browser, through the guard.
            self._served_bodies.pop(response.url, None)
            yield response.request.replace(meta=_without_browser(response.request.meta))
            return
        part = self._part(response, target, index)
        failure = _failure_of(response)
        if failure is not None:
            yield FailedDocument(target.document_id, started_at, self.clock(), *failure, part,
                                 _exchanges(parts, part.hops, part.exchange))
            return
        parts = [*parts, part]
        if index + 1 < len(target.spec.sources):
            yield self._request_or_failure(target, index + 1, started_at, parts)
        else:
            yield FetchedDocument(target.document_id, started_at, self.clock(), parts)

    def _guard(self) -> NetworkGuard:
        guard = self.settings.get("NETWORK_GUARD")
        if guard is None:  # run without scrapy_settings(): still guard, with the default table
            guard = self.__dict__.setdefault("_default_guard", NetworkGuard())
        return guard

    def _lockdown(self) -> BrowserLockdown:
        return BrowserLockdown(self._guard(), self.settings.getfloat("DOWNLOAD_TIMEOUT", 30.0), self.clock)

    def _refusal(self, response: Response) -> str | None:
        """Why a response must not be recorded: the page went where the network guard forbids."""
        meta = response.meta
        if meta.get("network_refusal"):
            return meta["network_refusal"]
        if meta.get("playwright") and not meta.get("browser_locked_down"):
            return f"the browser page for {response.url} could not be locked down; nothing recorded"
        if urlparse_cached(response).scheme not in ("http", "https"):
            # e.g. Chromium's error page after the browser's proxy refused a later navigation: name that refusal
            reason = self._guard().last_refusal_among(meta.get("navigated_hosts", ()))
            return reason or f"refused {response.url[:200]!r}: the page ended on a non-http(s) URL"
        if meta.get("playwright"):
            return None  # its server address is our proxy's, which judged the address it connected to
        reason = self._guard().refusal(response.ip_address) if response.ip_address else None
        return f"refused {response.url}: {reason}" if reason else None

    def fetch_failed(self, failure: Failure) -> Iterator[FailedDocument]:
        if isinstance(failure.value, CrawlStoppedError):
            return  # never sent: the document is not checked, which is not a failure of it
        kwargs = failure.request.cb_kwargs
        kind, detail = kind_of_failure(failure)
        # The redirects followed, then one refused (or past the most followed), if any: a failure's evidence.
        hops = (*_hops(failure.request), *filter(None, [refused_hop(failure.value)]))
        yield FailedDocument(kwargs["target"].document_id, kwargs["started_at"], self.clock(), kind,
                             f"{detail} ({failure.request.url})",
                             exchanges=_exchanges(kwargs["parts"], hops, self._failed_exchange(failure)))

    def _failed_exchange(self, failure: Failure) -> HttpExchange | None:
        """What a failed fetch leaves as evidence: the response it got, or the request that got none."""
        if isinstance(failure.value, HttpError):
            response = failure.value.response
            return response_exchange(response, self.clock(), request=response.meta.get(BROWSER_PAGE_REQUEST))
        if isinstance(failure.value, IgnoreRequest):
            return None  # refused before anything was sent (robots.txt, a scheme other than http(s))
        return failed_exchange(failure.request, self.clock())

    async def _keep_served_body(self, response: Any) -> None:
        """Playwright's handler of every response of a page: keep the body of the main document."""
        if response.request.is_navigation_request() and response.frame.parent_frame is None:
            try:
                self._served_bodies[response.url] = await response.body()
            except Exception:  # a redirect or an aborted navigation has no body; the DOM stands alone then
                return

    def _part(self, response: Response, target: CrawlTarget, index: int) -> FetchedPart:
        headers = response.headers
        served = self._served_bodies.pop(response.url, None) if "playwright" in response.flags else None
        # A browser shows only a page as itself: for a PDF or a text its DOM is its viewer's, wrapped around the
        # document (a PDF was Chromium's 271-byte <embed> page, a false `decode` failure). What the server sent is.
        body = served if served is not None and not _shown_as_itself(headers) else response.body
        snapshot = Snapshot(
            sha256=sha256_bytes(body),
            document_id=target.document_id,
            requested_url=target.spec.sources[index].url,
            final_url=response.url,
            status=response.status,
            content_type=_header(headers, b"Content-Type"),
            fetched_at=self.clock(),
            # A browser document asked again without the browser (a PDF) says so.
            fetcher="http" if target.spec.fetcher == "browser" and "playwright" not in response.flags else
            target.spec.fetcher,
            etag=_header(headers, b"ETag"),
            last_modified=_header(headers, b"Last-Modified"),
            size=len(body),
        )
        return FetchedPart(snapshot, body, target.spec.sources[index],
                           response_exchange(response, snapshot.fetched_at, original_body=served,
                                             request=response.meta.get(BROWSER_PAGE_REQUEST)),
                           _hops(response.request))


# The media types of a page: a browser shows it as itself (its DOM is the page).
_PAGE_TYPES = (b"text/html", b"application/xhtml+xml")


def _viewer_only(response: Response, served: dict[str, bytes]) -> bool:
    """Whether a browser gave only its viewer of a document that is not a page, and not the bytes it was sent: for a
    PDF, even the body Playwright reports for the navigation is the viewer's page."""
    if "playwright" not in response.flags or _shown_as_itself(response.headers):
        return False
    return _media_type(response.headers) == b"application/pdf" or response.url not in served


def _without_browser(meta: dict[str, Any]) -> dict[str, Any]:
    """A browser request's meta for the same request made by Scrapy itself (which follows and archives the redirects
    the browser followed again)."""
    return {key: value for key, value in meta.items()
            if not key.startswith(("playwright", "browser_")) and key != "download_latency"}


def _shown_as_itself(headers: Any) -> bool:
    """Whether a browser-fetched response is a page (or says no type), whose DOM as rendered is the document."""
    media = _media_type(headers)
    return not media or media in _PAGE_TYPES


def _media_type(headers: Any) -> bytes:
    return (headers.get(b"Content-Type") or b"").split(b";", 1)[0].strip().lower()


def _asked_if_changed(response: Response) -> bool:
    """A 304 answers a conditional request; to one that asked for nothing conditional it says nothing of the page."""
    return any(name in response.request.headers for name in (b"If-None-Match", b"If-Modified-Since"))


# A server that ends a body by closing the connection, without saying its length (Twisted's PotentialDataLoss,
# Scrapy's "partial" flag), cannot be told from a connection cut short in transit; an HTML page must then at least
# reach its end tag. Searched in the last bytes only: what follows it is whitespace or a comment, or a few stray tags.
_HTML_END = re.compile(rb"</(?:html|body)\s*>", re.IGNORECASE)
_END_WINDOW = 4096
# A PHP script that died mid-page ("Fatal error: Allowed memory size … exhausted … on line 4921"): the page is cut
# where it died, its end tag often missing, and sent as a whole 200. PHP writes the error where the output stops.
_SCRIPT_DIED = re.compile(rb"<b>(?:Fatal|Parse) error</b>:.{0,600}? on line <b>\d+</b>", re.IGNORECASE | re.DOTALL)


def _failure_of(response: Response) -> tuple[str, str] | None:
    """The failure kind and detail of a response that is not the page (an error status, a 304 or a 206 the request
    did not ask for, an HTML page cut short), or None."""
    if response.status >= 300:  # a 3xx here is one the redirect middleware did not follow: a 304 not asked for
        return kind_of_status(response.status), f"HTTP {response.status} from {response.url}" + (
            " to a request that asked for nothing conditional" if response.status == 304 else "")
    if response.status == 206:
        return "truncated", f"HTTP 206 (a part of the page) from {response.url} to a request for all of it"
    if response.status not in _THE_PAGE:
        return _not_the_page(response)
    if (redirected := response.meta.get("redirect_urls")) and _is_home(response.url) and not _is_home(redirected[0]):
        # How a site says a page is gone: its home page became the policy's new version, every clause "removed".
        return "http_4xx", (f"{redirected[0]} redirects to the home page of its site ({response.url}): the document "
                            "is gone or moved; declare its new URL")
    if not _looks_html(response):
        return None
    end = response.body[-_END_WINDOW:]
    if _SCRIPT_DIED.search(end):
        return "http_5xx", f"{response.url} ended in a server error (a script died mid-page): cut short at the source"
    if "partial" in response.flags and not _HTML_END.search(end):
        return "truncated", (f"{response.url} ended when the server closed the connection, without a stated length, "
                             "before the page's end tag: cut short in transit")
    return None


# The success statuses whose body is the page asked for (RFC 9110 §15.3): 203 is a 200 a proxy transformed.
_THE_PAGE = frozenset({200, 203})


def _not_the_page(response: Response) -> tuple[str, str]:
    """A success status that does not send the page: none at all (204, 205), or a body about something else, such
    as the challenge page a firewall sends with 202 Accepted; archived, it would be the policy's new version."""
    status = response.status
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "not a standard status"
    detail = f"HTTP {status} ({phrase}) from {response.url}: a status that does not send the page (200 does)"
    return ("empty" if status in (204, 205) else "not_text"), detail


def _is_home(url: str) -> bool:
    """Whether ``url`` is its site's root page (``/``, no query)."""
    parts = urlsplit(url)
    return parts.path in ("", "/") and not parts.query


def _looks_html(response: Response) -> bool:
    kind = _media_type(response.headers)
    return kind in _PAGE_TYPES or (not kind and b"<html" in response.body[:1024].lower())


def _exchanges(parts: list[FetchedPart], hops: tuple[HttpExchange, ...], last: HttpExchange | None
               ) -> list[HttpExchange]:
    """The exchanges of a document's fetch: those of the parts fetched so far, then the redirects of the last
    request, then its own."""
    earlier = [exchange for p in parts for exchange in p.exchanges]
    return [*earlier, *hops, last] if last is not None else [*earlier, *hops]


def _hops(request: scrapy.Request | None) -> tuple[HttpExchange, ...]:
    """The redirects followed on the way to ``request`` (``crawler.middlewares``), then those Chromium followed for it
    (``crawler.browser``), in order."""
    return (*request.meta.get(HOPS, ()), *request.meta.get(BROWSER_HOPS, ())) if request is not None else ()


# Control characters no ETag, date or media type may hold (RFC 9110 allows a tab, and bytes past 0x7F, in some).
_INVALID_IN_HEADER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _header(headers: Any, name: bytes) -> str | None:
    """A header's value as kept with the snapshot; None for one holding a control character: a NUL in an ETag
    stopped every crawl on PostgreSQL, whose text refuses it. The header as sent stays in the capture record."""
    value = headers.get(name)
    text = value.decode("latin-1") if value else None
    return None if text is None or _INVALID_IN_HEADER.search(text) else text
