"""Map what went wrong in a fetch to the error kinds a Fetch records (SPEC §2)."""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as twisted_error
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseNeverReceived


class SchemeRefusedError(IgnoreRequest):
    """A request (usually a redirect) to a URL scheme other than http(s)."""


class AddressRefusedError(IgnoreRequest):
    """A request to a guarded (private, loopback, link-local...) address the crawl may not reach."""


class RedirectLoopError(IgnoreRequest):
    """A redirect back to a URL already visited while fetching this document."""


class CrawlStoppedError(IgnoreRequest):
    """The crawl was asked to stop before this request was sent: its document is not checked, nothing is recorded."""


class TruncatedBodyError(IgnoreRequest):
    """A body that is part of the page, not the page: a compressed one that ends before its stream does, or one read
    up to a Content-Length its server went on sending past (``crawler.download``)."""


class FramingError(IgnoreRequest):
    """A response whose end cannot be told for sure (``crawler.download``): a Transfer-Encoding other than chunked,
    Content-Length values that differ (two places the body may end: a response-smuggling signal) or that are no
    number. Not retried: the server frames its next answer the same way."""


class CorruptBodyError(IgnoreRequest):
    """A compressed body that does not decode (bad data, or a checksum that does not match)."""


class PageDeadlineError(Exception):
    """A browser page that did not finish within its deadline (crawler/browserdeadline.py): a script that never
    yields. Not an OSError, so not retried: the page would hold the browser as long again."""


def _scrapy_exception(name: str) -> type[BaseException] | None:
    import scrapy.exceptions

    return getattr(scrapy.exceptions, name, None)


def kind_of_failure(failure: Failure) -> tuple[str, str]:
    """The error kind and a readable detail for a download failure."""
    exc = failure.value
    detail = f"{type(exc).__name__}: {exc}".strip()
    refusal = getattr(failure, "request", None) is not None and failure.request.meta.get("network_refusal")
    if refusal:
        return "redirect_refused", refusal
    if isinstance(exc, (SchemeRefusedError, AddressRefusedError)):
        return "redirect_refused", str(exc)
    if isinstance(exc, RedirectLoopError):
        return "redirect_loop", str(exc)
    if isinstance(exc, TruncatedBodyError):
        return "truncated", str(exc)
    if isinstance(exc, CorruptBodyError):
        return "decode", str(exc)
    if isinstance(exc, FramingError):
        return "framing", str(exc)
    if isinstance(exc, PageDeadlineError):
        return "timeout", str(exc)
    if isinstance(exc, HttpError):
        return _kind_of_unhandled_response(exc.response)
    message = str(exc)
    if isinstance(exc, IgnoreRequest):
        if "DOWNLOAD_MAXSIZE" in message:  # HttpCompressionMiddleware: a body inflating past the cap
            return "too_large", message
        if "robots.txt" in message:
            return "robots_disallowed", message
        if "max redirections" in message or "redirect" in message.lower():
            return "redirect_loop", message
        return "error", detail
    for name, kind in (
        ("DownloadTimeoutError", "timeout"),
        ("CannotResolveHostError", "dns"),
        ("DownloadConnectionRefusedError", "connection"),
        ("DownloadCancelledError", "too_large"),
        # The connection ended (closed or reset) before the announced Content-Length.
        ("ResponseDataLossError", "truncated"),
    ):
        cls = _scrapy_exception(name)
        if cls is not None and isinstance(exc, cls):
            return kind, detail
    if isinstance(exc, (twisted_error.TimeoutError, TimeoutError)) or _is_browser_timeout(exc):
        return "timeout", detail
    if isinstance(exc, twisted_error.DNSLookupError):
        return "dns", detail
    if "maxsize" in message or "max size" in message or "warnsize" in message:
        return "too_large", detail
    if isinstance(exc, (twisted_error.ConnectError, ResponseNeverReceived, ConnectionError)):
        return "connection", detail
    return "error", detail


def _is_browser_timeout(exc: BaseException) -> bool:
    """A Playwright timeout (navigation or wait of a ``browser`` document)."""
    module = type(exc).__module__
    if not module.startswith("playwright"):
        return False  # do not import Playwright for crawls that never used it
    from playwright.async_api import TimeoutError as PlaywrightTimeoutError

    return isinstance(exc, PlaywrightTimeoutError)


def kind_of_status(status: int) -> str:
    if 300 <= status < 400:
        return "http_3xx"
    if 400 <= status < 500:
        return "http_4xx"
    return "http_5xx"


def _kind_of_unhandled_response(response) -> tuple[str, str]:
    """A response the spider was not given: a redirect RedirectMiddleware would not follow."""
    location = (response.headers.get(b"Location") or b"").decode("latin-1")
    if 300 <= response.status < 400 and location.split(":", 1)[0].lower() not in ("http", "https", location):
        return "redirect_refused", f"refused redirect from {response.url} to {location!r}: only http(s) is fetched"
    return kind_of_status(response.status), f"HTTP {response.status} from {response.url}"
