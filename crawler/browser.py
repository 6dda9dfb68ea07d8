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
"""

from __future__ import annotations

import itertools
import weakref
from typing import Any
from urllib.parse import urlsplit

from scrapy_playwright.page import PageMethod

from crawler.netguard import NetworkGuard, guarded_lookup, host_address

# V8 heap of a page, in MB: a policy page needs a few dozen; a page that
# allocates without end is stopped by Chromium instead of swapping the host.
PAGE_HEAP_MB = 256
_contexts = itertools.count(1)
_crashed: weakref.WeakSet[Any] = weakref.WeakSet()


# What a locked-down page left in its request's meta, none of it true of a request the page led to.
_PAGE_STATE = ("browser_locked_down", "navigated_hosts", "network_refusal", "blocked_requests")


def renew_context(meta: dict[str, Any]) -> None:
    """Make ``meta``, a browser fetch's copied to a request its page led to (a refresh followed), that of a fetch in
    a context of its own: the page's context was closed with it (the request failed as a ``timeout``, "its browser
    context was not open"), and what the page left (its lockdown done, where it went) is not the new page's."""
    for key in _PAGE_STATE:
        meta.pop(key, None)
    meta["playwright_context"] = f"{meta['playwright_context'].rsplit('-', 1)[0]}-{next(_contexts)}"


class BrowserLockdown:
    """The scrapy-playwright request meta and page hooks of a locked-down fetch."""

    def __init__(self, guard: NetworkGuard, timeout: float):
        self.guard = guard
        self.timeout_ms = timeout * 1000

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
            "playwright_page_methods": [PageMethod("wait_for_load_state", "networkidle", timeout=self.timeout_ms)],
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

        await page.context.route("**/*", route)
        await page.route("**/*", route)  # after scrapy-playwright's own route, so it runs first
        await page.route_web_socket("**/*", route_socket)
        page.on("request", navigated)
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
