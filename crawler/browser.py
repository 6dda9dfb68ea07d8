"""The locked-down browser: what a ``browser`` document's page may do in Chromium.

Every fetch runs in a fresh browser context (no cookies, cache, storage or
service workers from another document), closed with its page. Downloads are
refused and popups closed. Every request of the page and of its frames,
workers and popups, and every WebSocket, goes through :meth:`BrowserLockdown.refusal`:
only http(s) (ws(s) for sockets) to addresses the crawl's
:class:`~crawler.netguard.NetworkGuard` allows. That check is made on a name
before Chromium loads it; the connection itself is made by the guarded proxy
(crawler/browserproxy.py), which judges the address it connects to, so a name
that rebinds in between is refused too. A refused navigation of the main frame
fails the document (``redirect_refused``); a refused sub-request is only
aborted. See docs/decisions/0015-network-guard.md and 0017-browser-network-guard.md.

The HTTP redirects Chromium followed to the page are archived as a Scrapy fetch's
are (:func:`redirects_followed`): hop exchanges in the request's meta, which the
spider reads with those of the redirect middlewares.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.http import Headers, Response
from scrapy_playwright.page import PageMethod

from analysis.evidence import HttpExchange
from crawler.capture import hop_exchange
from crawler.middlewares import HOPS
from crawler.netguard import NetworkGuard, guarded_lookup, host_address

# V8 heap of a page, in MB: a policy page needs a few dozen; a page that
# allocates without end is stopped by Chromium instead of swapping the host.
PAGE_HEAP_MB = 256
_contexts = itertools.count(1)
_crashed: weakref.WeakSet[Any] = weakref.WeakSet()


# Where a browser fetch's request holds the HTTP redirects Chromium followed to its page (hop exchanges, made anew
# on each attempt: a retry goes through them again) and, when there were some, the request Chromium sent for the
# page itself (a Scrapy Request: not the one Scrapy made, whose URL is the first).
BROWSER_HOPS = "browser_redirect_hops"
BROWSER_PAGE_REQUEST = "browser_page_request"
_NAVIGATION = "browser_navigation"  # the main frame's latest navigation response (Playwright's)

# What a locked-down page left in its request's meta, none of it true of a request the page led to.
_PAGE_STATE = ("browser_locked_down", "navigated_hosts", "network_refusal", "blocked_requests", _NAVIGATION,
               BROWSER_PAGE_REQUEST)
# The Scrapy request each open page was made for: what a page method, handed only the page, writes to.
_fetches: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def renew_context(meta: dict[str, Any]) -> None:
    """Make ``meta``, a browser fetch's copied to a request its page led to (a refresh followed), that of a fetch in
    a context of its own: the page's context was closed with it (the request failed as a ``timeout``, "its browser
    context was not open"), and what the page left (its lockdown done, where it went) is not the new page's. The
    redirects Chromium followed to the page are now redirects that led to the new request."""
    for key in _PAGE_STATE:
        meta.pop(key, None)
    if hops := meta.pop(BROWSER_HOPS, ()):
        meta[HOPS] = (*meta.get(HOPS, ()), *hops)
    meta["playwright_context"] = f"{meta['playwright_context'].rsplit('-', 1)[0]}-{next(_contexts)}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class BrowserLockdown:
    """The scrapy-playwright request meta and page hooks of a locked-down fetch."""

    def __init__(self, guard: NetworkGuard, timeout: float, clock: Callable[[], datetime] = _utcnow):
        self.guard = guard
        self.timeout_ms = timeout * 1000
        self.clock = clock  # the spider's (tests set it), so a redirect's time reads as the page's does

    def meta(self, document_id: str) -> dict[str, Any]:
        return {
            "playwright": True,
            "playwright_context": f"document-{document_id}-{next(_contexts)}",
            "playwright_context_kwargs": {
                "accept_downloads": False, "service_workers": "block", "ignore_https_errors": False,
            },
            "playwright_page_init_callback": self.init_page,
            "playwright_page_event_handlers": {"popup": _close_popup, "crash": _crashed.add, "close": _close_context},
            # "load" first: the page's own scripts, styles and images are in, so the DOM is whole
            # (networkidle alone fired while a slow head script still held the parser); then idle,
            # for pages that fetch their text after load.
            "playwright_page_goto_kwargs": {"wait_until": "load", "timeout": self.timeout_ms},
            "playwright_page_methods": [PageMethod(redirects_followed, self.clock),
                                        PageMethod("wait_for_load_state", "networkidle", timeout=self.timeout_ms)],
        }

    async def init_page(self, page: Any, request: Any) -> None:
        """Route every request and socket of the page and its context through the guard."""
        page.set_default_timeout(self.timeout_ms)

        async def route(route: Any, browser_request: Any) -> None:
            reason = await self.refusal(browser_request.url)
            if reason is None:
                await route.fallback()
                return
            await route.abort("blockedbyclient")
            if _is_main_navigation(browser_request, page):
                request.meta["network_refusal"] = reason
            else:
                request.meta["blocked_requests"] = request.meta.get("blocked_requests", 0) + 1

        async def route_socket(socket_route: Any) -> None:
            if await self.refusal(socket_route.url) is None:
                socket_route.connect_to_server()
            else:
                request.meta["blocked_requests"] = request.meta.get("blocked_requests", 0) + 1
                await socket_route.close(code=1008, reason="refused")

        def navigated(browser_request: Any) -> None:
            # Synchronous, so it has run before a failed navigation reaches the spider.
            if _is_main_navigation(browser_request, page):
                request.meta.setdefault("navigated_hosts", []).append(urlsplit(browser_request.url).hostname or "")

        def answered(browser_response: Any) -> None:
            # Synchronous too: noted before the navigation's load ends page.goto, so before redirects_followed.
            if _is_main_navigation(browser_response.request, page):
                request.meta[_NAVIGATION] = browser_response

        await page.context.route("**/*", route)
        await page.route("**/*", route)  # after scrapy-playwright's own route, so it runs first
        await page.route_web_socket("**/*", route_socket)
        page.on("request", navigated)
        page.on("response", answered)
        for key in (_NAVIGATION, BROWSER_HOPS, BROWSER_PAGE_REQUEST):  # an earlier attempt's (a retry copies meta)
            request.meta.pop(key, None)
        _fetches[page] = request  # until redirects_followed reads it, or the page closes first (a failed goto)
        page.on("close", _forget)
        request.meta["browser_locked_down"] = True

    async def refusal(self, url: str) -> str | None:
        """Why the page may not load ``url``, or None."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https", "ws", "wss"):
            return f"refused {url[:100]!r}: only http(s) is loaded"
        host = parts.hostname or ""
        address = host_address(host)
        if address is not None:
            reason = self.guard.refusal(address)
            return f"refused to load {url[:200]}: {reason}" if reason else None
        return await self._name_refusal(host, url)

    async def _name_refusal(self, host: str, url: str) -> str | None:
        """A first, early check of a name (every address must pass); the proxy judges the lookup it connects to."""
        addresses, refusals = await guarded_lookup(self.guard, host, 0)
        if refusals:
            return f"refused to load {url[:200]}: {refusals[0]}"
        return None if addresses else f"refused to load {url[:200]}: {host} does not resolve"


async def redirects_followed(page: Any, clock: Callable[[], datetime]) -> None:
    """A page method, awaited once the page has loaded and before scrapy-playwright makes its response: the HTTP
    redirects Chromium followed to the page (Playwright's ``redirected_from`` chain of the main frame's last
    navigation), as hop exchanges in the request's meta (``BROWSER_HOPS``), and the request Chromium sent for the
    page (``BROWSER_PAGE_REQUEST``).

    Each hop is the request as Chromium reported it (method, URL, headers) and the response's status and headers.
    Chromium does not keep a redirect's body (Playwright: "Response body is unavailable for redirect responses"),
    so its payload is empty, and its head says so as every archived head says the payload's length:
    ``Content-Length: 0``, no ``Content-Encoding`` (decision 0011, "Redirects").
    """
    request = _fetches.pop(page, None)
    # Popped: the request would keep the page, whose response it is, from being freed.
    navigation = request.meta.pop(_NAVIGATION, None) if request is not None else None
    if navigation is None:
        return
    chain, sent = [], navigation.request
    while (sent := sent.redirected_from) is not None:
        chain.append(sent)
    if not chain:
        return
    hops = []
    for sent in reversed(chain):
        if (answer := await _response_to(sent)) is not None:
            hops.append(await _hop_of(sent, answer, clock()))
    request.meta[BROWSER_HOPS] = tuple(hops)
    request.meta[BROWSER_PAGE_REQUEST] = await _scrapy_request(navigation.request)


def _forget(page: Any) -> None:
    _fetches.pop(page, None)


async def _response_to(sent: Any) -> Any:
    """The response Playwright holds for a request (None if it cannot say: a failed page method fails the fetch)."""
    try:
        return await sent.response()
    except Exception:  # noqa: BLE001 - the browser going away under the page
        return None


async def _hop_of(sent: Any, answer: Any, captured_at: datetime) -> HttpExchange:
    """One redirect Chromium followed, archived as the redirect middlewares archive one (``hop_exchange``)."""
    request = await _scrapy_request(sent)
    response = Response(sent.url, status=answer.status, headers=await _headers(answer), body=b"", request=request)
    return hop_exchange(request, response, captured_at, encoded=False)


async def _scrapy_request(sent: Any) -> Request:
    """A request Chromium sent, as a Scrapy Request (its Host is the URL's: ``crawler.capture.request_head``)."""
    headers = await _headers(sent)
    headers.pop(b"Host", None)
    return Request(sent.url, method=sent.method, headers=headers, dont_filter=True)


async def _headers(message: Any) -> Headers:
    """A Playwright request's or response's headers in order, each one kept, as Chromium reports them (those it
    sent or received, but for a request the crawl's route handled, whose are those it was handed; HTTP/2's
    pseudo-headers left out); failing that, the headers Playwright parsed (lower-cased, without cookies)."""
    try:
        pairs = [(h["name"], h["value"]) for h in await message.headers_array()]
    except Exception:  # noqa: BLE001 - Playwright's raw headers are not always to be had (a page closing)
        pairs = list(message.headers.items())
    headers = Headers()
    for name, value in pairs:
        if not name.startswith(":"):
            headers.appendlist(name, value)
    return headers


def _is_main_navigation(browser_request: Any, page: Any) -> bool:
    if not browser_request.is_navigation_request():
        return False
    try:
        return browser_request.frame == page.main_frame
    except Exception:  # noqa: BLE001 - a popup's first navigation has no frame yet: not ours
        return False


async def _close_popup(popup: Any) -> None:
    await popup.close()


async def _close_context(page: Any) -> None:
    """A document's context lives as long as its page.

    Except after a crash (the heap bound): scrapy-playwright then opens a new
    page in the same context to retry, and closing the context under it hung
    the crawl; that context is closed with the browser at the end of the crawl.
    """
    if page in _crashed:
        return
    try:
        await page.context.close()
    except Exception:  # noqa: BLE001 - the browser may already be gone at shutdown
        pass
