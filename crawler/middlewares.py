"""Downloader middlewares: only http(s) leaves the crawler, redirects end, retries back off, robots.txt is read as
RFC 9309 says."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.utils.defer import deferred_to_future, maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import get_base_url, response_status_message
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater
from twisted.python.failure import Failure

from analysis.evidence import HttpExchange
from crawler import decompression
from crawler.capture import hop_exchange
from crawler.errors import (
    CorruptBodyError,
    CrawlStoppedError,
    FramingError,
    RedirectLoopError,
    SchemeRefusedError,
    TruncatedBodyError,
    kind_of_failure,
)
from crawler.hosts import url_problem
from crawler.refresh import declared_refresh

ALLOWED_SCHEMES = ("http", "https")
# The longest Crawl-delay obeyed: the ceiling of CRAWL_DELAY itself (clausewatch.settings).
MAX_CRAWL_DELAY = 3600.0
# A retry's wait this long or longer is said in the log, where a crawl's progress is read.
SAID_WAIT_SECONDS = 10.0
log = logging.getLogger(__name__)


class SchemeGuardMiddleware:
    """Refuse any request whose URL is not http(s), or whose host no request can be sent to, including redirect
    targets (SPEC §10).

    Redirected requests go through the middleware chain again, so placing this
    after RedirectMiddleware catches ``Location: file:///etc/passwd`` as well as
    a bad catalog URL.
    """

    def process_request(self, request: Request) -> None:
        scheme = request.url.split(":", 1)[0].lower()
        if scheme not in ALLOWED_SCHEMES:
            raise SchemeRefusedError(f"refused to fetch {request.url!r}: only http(s) URLs are fetched")
        if problem := url_problem(urlparse_cached(request)):
            raise SchemeRefusedError(f"refused to fetch {request.url[:200]!r}: {problem}")


class StopGateMiddleware:
    """The last downloader middleware before the per-site queues: once the crawl stops, it refuses, unsent, every
    request that reaches it (:func:`stop_sending` closes it).

    Dropping the requests already waiting in those queues for their crawl delay
    is not enough: a request still on its way to them (yielded by the spider, or
    in a middleware that awaits something, as the shared pace and robots.txt do)
    was queued after that and sent a crawl delay later: a SIGTERM fetched one more
    page a minute after it came. Its document is "not checked".
    """

    def __init__(self) -> None:
        self.reason: str | None = None

    def close(self, reason: str) -> None:
        self.reason = reason

    def process_request(self, request: Request, spider: Any = None) -> None:
        if self.reason is not None:
            raise CrawlStoppedError(f"{request.url} was not fetched: {self.reason}")


def stop_sending(crawler: Any, reason: str) -> None:
    """Send nothing more: close the gate (:class:`StopGateMiddleware`), and fail, unsent, the requests waiting in
    the downloader's per-site queues for their politeness delay.

    Scrapy's stop or close lets every request the downloader holds be sent: up to
    ``CONCURRENT_REQUESTS`` of them, each a crawl delay after the last, so a
    SIGTERM went on crawling for minutes (past a service manager's stop timeout),
    and a failed store had pages fetched for nothing. Only the transfers in flight
    finish; the documents whose requests are dropped are "not checked"
    (``CrawlStoppedError``, which the spider records nothing for). The middlewares
    and slots are read through attributes Scrapy does not document: without
    them, a stop is only slower.
    """
    downloader = crawler.engine.downloader
    for middleware in getattr(getattr(downloader, "middleware", None), "middlewares", ()):
        if isinstance(middleware, StopGateMiddleware):
            middleware.close(reason)
    for slot in list(getattr(downloader, "slots", {}).values()):
        queue = getattr(slot, "queue", None)
        while queue:
            request, waiting = queue.popleft()
            waiting.errback(CrawlStoppedError(f"{request.url} was not fetched: {reason}"))


class RedirectLoopMiddleware:
    """End a document's redirect chain as soon as it comes back to a URL it already visited.

    Scrapy follows up to ``REDIRECT_MAX_TIMES`` hops and each hop waits the
    politeness delay in the downloader: a two-page loop cost 10 hops and over a
    minute per document. A redirected request carries the URLs before it
    (``redirect_urls``), so a cycle is refused here, before it is queued.
    """

    def process_request(self, request: Request, spider: Any = None) -> None:
        visited = request.meta.get("redirect_urls") or []
        if request.url in visited:
            raise RedirectLoopError(f"redirect loop: {request.url} redirects back to itself after "
                                    f"{len(visited)} hop(s)")


class _ArchivesHops:
    """A redirect middleware that archives each redirect it follows (:func:`_followed`), and one it refuses with the
    failure (:func:`refused_hop`)."""

    crawler: Any
    encoded = False  # whether a response's body is still in its Content-Encoding when it is read here

    def _hop(self, request: Request, response: Response) -> HttpExchange | None:
        """The redirect's exchange; None for a page a browser rendered, whose body is its DOM, not what the server
        sent (the HTTP redirects a browser follows are archived from what it reports: ``crawler.browser``)."""
        if "playwright" in response.flags:
            return None
        return hop_exchange(request, response, _now(self.crawler), encoded=self.encoded)

    def _with_hop(self, error: Exception, request: Request, response: Response) -> Exception:
        error.hop = self._hop(request, response)
        return error


class StrictRedirectMiddleware(_ArchivesHops, RedirectMiddleware):
    """Scrapy's 3xx redirects, except that a Location no request can be made of (``javascript:…``,
    ``http://[::1``) is a ``redirect_refused`` failure, as a ``file:`` one is, not an internal ``ValueError``.

    Each 3xx followed is archived: the redirected request carries it (:func:`_followed`), and the document's
    capture records hold it before the page's. One refused, or past the most hops followed, goes with its failure.
    """

    encoded = True  # followed before decompression (590): a 3xx's body is archived as it came

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        if 300 <= response.status < 400 and len(locations := _locations(response)) > 1:
            # Scrapy took the last, which may be a page that is not the policy; browsers refuse the response.
            raise self._with_hop(SchemeRefusedError(
                f"refused redirect from {response.url}: {len(locations)} different Location headers, and no telling "
                "which is meant"), request, response)
        try:
            result = _unconditional(request, super().process_response(request, response))
        except ValueError as error:
            raise self._with_hop(SchemeRefusedError(
                f"refused redirect from {response.url} to {response.headers.get(b'Location', b'')[:200]!r}: {error}"),
                request, response) from error
        except IgnoreRequest as error:  # max redirections reached
            raise self._with_hop(error, request, response)
        return _followed(request, result, lambda: self._hop(request, response))


# Where a redirected request carries the redirects that led to it, in order (a tuple: each hop a new one, as
# Scrapy copies a request's meta to its redirect and retries shallowly).
HOPS = "redirect_hops"


def _followed(request: Request, result: Request | Response,
              hop: Callable[[], HttpExchange | None]) -> Request | Response:
    """``result`` carrying the redirect it follows, after those that led to ``request``, when it is a redirect
    that is archived."""
    if isinstance(result, Request) and result is not request and (exchange := hop()) is not None:
        result.meta[HOPS] = (*request.meta.get(HOPS, ()), exchange)
    return result


def refused_hop(error: BaseException) -> HttpExchange | None:
    """The redirect a ``redirect_refused`` failure (or one past the most followed) refused, to archive with it."""
    return getattr(error, "hop", None)


def _now(crawler: Any) -> datetime:
    """The spider's clock (tests set it), so a hop's time reads as the page's does."""
    clock = getattr(getattr(crawler, "spider", None), "clock", None)
    return clock() if clock is not None else datetime.now(UTC)


def _locations(response: Response) -> set[bytes]:
    """The different places a redirect names (read only for a 3xx: every response passes here)."""
    return {value.strip() for value in response.headers.getlist("Location")}


# The validators of a conditional request: they name the document's last capture, not wherever it redirects.
_VALIDATORS = (b"If-None-Match", b"If-Modified-Since")


def _unconditional(request: Request, result: Request | Response) -> Request | Response:
    """The request a redirect makes, without the validators of the one it answers.

    Scrapy copies every header to the redirected request: a document moved to its site's home page, which answered
    304 to the old page's ETag or date (a static site's one deploy time), was recorded as ``not_modified`` and
    "verified" on every crawl, where a fresh crawl fails it; one moved to another policy stayed the old one as long
    as its server answered 304. The redirect target is asked for whole.
    """
    if isinstance(result, Request) and result is not request:
        for name in _VALIDATORS:
            result.headers.pop(name, None)
    return result


class StrictMetaRefreshMiddleware(_ArchivesHops, MetaRefreshMiddleware):
    """A page's refresh, read as browsers read it (``crawler.refresh``); one that will not be followed fails
    the document.

    Scrapy returns the page as it is when a ``<meta http-equiv=refresh>`` points
    to a scheme it does not follow (``file:``, ``javascript:``), so a six-byte
    "Moved" stub became the policy's new version; and a refresh URL no request
    can be made of raised a ValueError out of the middleware. Both are now a
    ``redirect_refused`` failure (issue 13). w3lib missed the refreshes written
    without ``url=`` (``0;/policy``), with a comma, or spaced, and the
    ``Refresh`` header: their stubs became versions too; they are followed now.
    A malformed ``<base href>`` is ignored, as browsers ignore it, and the page
    URL resolves the refresh. A refresh with a long delay (a page that reloads
    itself) or to the page itself is not a redirect and the page is kept. A
    refresh followed is archived as a 3xx is (:class:`StrictRedirectMiddleware`),
    its page decoded (after decompression, 590).
    """

    def __init__(self, settings: Any):
        super().__init__(settings)
        self.max_delay = settings.getint("METAREFRESH_MAXDELAY")

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        if request.meta.get("dont_redirect", False) or request.method == "HEAD" or not isinstance(
                response, HtmlResponse):
            return response
        refresh = declared_refresh(response)
        if refresh is None or refresh.url is None or refresh.delay >= self.max_delay:
            return response
        try:  # a URL no request can be made of raises ValueError, anywhere from the join to the request
            url = urljoin(_base_of(response), refresh.url)
            if url == response.url:
                return response  # the page reloading itself
            if urlsplit(url).scheme.lower() not in ALLOWED_SCHEMES:
                raise SchemeRefusedError(f"refused meta refresh from {response.url} to {url[:200]!r}: "
                                         "only http(s) URLs are fetched")
            redirected = self._redirect_request_using_get(request, response, url)
        except SchemeRefusedError as error:
            raise self._with_hop(error, request, response)
        except ValueError as error:
            raise self._with_hop(SchemeRefusedError(f"refused meta refresh on {response.url}: {error}"), request,
                                 response) from error
        try:
            result = _unconditional(request, self._redirect(redirected, request, "meta refresh"))
        except IgnoreRequest as error:  # max redirections reached
            raise self._with_hop(error, request, response)
        if "playwright" in response.flags and isinstance(result, Request) and result is not request:
            from crawler.browser import renew_context  # a crawl with a browser has it loaded already

            renew_context(result.meta)
        return _followed(request, result, lambda: self._hop(request, response))


def _base_of(response: HtmlResponse) -> str:
    """The page's ``<base href>`` when it is a URL, else the page's own URL (a browser ignores a bad base)."""
    try:
        return get_base_url(response)
    except ValueError:
        return response.url


class StrictHttpCompressionMiddleware(HttpCompressionMiddleware):
    """Scrapy's decompression, except that a body must decode to the end of its stream, in an encoding read here.

    Scrapy keeps whatever a gzip, deflate or brotli body decoded to before it
    broke off (by design: "resilient to CRC checksum errors"), so a response cut
    short in transit became the policy's new version, its last clauses "removed".
    A stream that ends early is a ``truncated`` failure, one that does not decode
    a ``decode`` failure (``crawler.decompression``).
    """

    @staticmethod
    def _decode(body: bytes, encoding: bytes, max_size: int) -> bytes:
        return decompression.decode(body, encoding, max_size)

    def _warn_unknown_encoding(self, response: Response, encodings: list[bytes]) -> None:
        """Nothing: :meth:`process_response` fails the document, naming the encoding."""

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        """... and a body in an encoding no one here reads (``compress``, a typo) is a ``decode`` failure: Scrapy
        warned and handed it on as it came, and its bytes became the policy's version. ``identity`` and empty entries
        of the list are dropped first: Scrapy decodes from the last coding back and stops at the first it does not
        know, so "gzip, identity" and "gzip," failed a gzip page. So are tokens that name no coding at all (``utf-8``,
        ``none``, ``binary``: a charset or a transfer's description set as the Content-Encoding), which browsers
        ignore, showing the page: unless the body is compressed all the same, then a ``decode`` failure naming the
        header."""
        sent = _codings(response)
        no_codings = [coding for coding in sent if coding.lower() not in CONTENT_CODINGS]
        _only_codings(response)
        response = super().process_response(request, response)
        if isinstance(response, Response):
            left = _codings(response)
            if left:
                raise CorruptBodyError(f"{response.url} sent its body in an encoding not read here "
                                       f"({b', '.join(left).decode('latin-1')[:80]!r})")
            max_size = request.meta.get("download_maxsize", self._max_size)
            if no_codings and (compression := decompression.compressed_as(response.body, max_size)):
                raise CorruptBodyError(f"{response.url} sent a {compression} body under Content-Encoding "
                                       f"{b', '.join(sent).decode('latin-1')[:80]!r}, which names no coding of it")
        return response


# The content codings of IANA's registry (RFC 9110 §8.4.1): a body in one not read here is compressed or encrypted,
# and fails. Any other token names no coding and is dropped, as browsers drop it.
CONTENT_CODINGS = frozenset({b"gzip", b"x-gzip", b"deflate", b"br", b"zstd", b"compress", b"x-compress", b"exi",
                             b"pack200-gzip", b"aes128gcm", b"dcb", b"dcz", b"identity"})


def _codings(response: Response) -> list[bytes]:
    """The codings of a response's Content-Encoding (every header of it), identity and empty entries left out."""
    return [coding.strip() for coding in b",".join(response.headers.getlist("Content-Encoding")).split(b",")
            if coding.strip().lower() not in (b"", b"identity")]


def _only_codings(response: Response) -> None:
    """Rewrite the response's Content-Encoding as one list of the codings it names: identity, empty entries and
    tokens that name no coding (``utf-8``, ``none``) left out; no header at all when nothing is left."""
    if not response.headers.getlist("Content-Encoding"):
        return
    if codings := [coding for coding in _codings(response) if coding.lower() in CONTENT_CODINGS]:
        response.headers[b"Content-Encoding"] = b", ".join(codings)
    else:
        del response.headers[b"Content-Encoding"]


_UNANSWERED = frozenset({"connection", "dns", "timeout"})  # failures of robots.txt the page's request meets too


class UnreachableRobotsTxt:
    """The robots.txt of a host whose server failed to give it (a 5xx once the retries are spent, a body cut short)."""

    def __init__(self, reason: str):
        self.reason = reason

    def allowed(self, url: str, user_agent: str | bytes) -> bool:
        return False


class Rfc9309RobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt, read as RFC 9309 §2.3.1 has it: a 4xx means no rules (Scrapy's reading too), but a server
    error for robots.txt (a 5xx once the retries are spent, an answer cut short) means every path of the host is
    disallowed, where Scrapy allowed them all. The document fails as ``robots_disallowed``, naming why; the next crawl
    asks again.

    When robots.txt brings no answer at all (refused, no such host, a timeout) the page's own request is let go, as in
    Scrapy: it meets the same network and fails as that (``connection``, ``dns``, ``timeout``), which names the real
    cause where "disallowed" would hide it. Overrides two private methods of Scrapy 2.19's middleware, the only places
    that see the robots.txt response and its failure, and the method requests wait for it in
    (tests/crawler/test_crawl.py breaks if a release changes them).
    """

    async def robot_parser(self, request: Request) -> Any:
        """The host's parser; a request that comes while robots.txt is still loading waits on a Deferred of its own.

        Scrapy 2.19 has every such request await the host's one Deferred: the first waiter's await ends that
        Deferred's chain with None, so the later ones got None, which reads as "no rules", and a disallowed page
        third in line was fetched and archived. Each waiter now gets the parser through a relay that passes it on.
        """
        waiting = self._parsers.get(urlparse_cached(request).netloc)
        if not isinstance(waiting, Deferred):
            return await super().robot_parser(request)
        mine: Deferred = Deferred()

        def relay(result: Any) -> Any:
            if not mine.called:  # a waiter whose crawl stopped has cancelled its own
                mine.callback(result)
            return result  # for the next waiter

        waiting.addBoth(relay)
        return await maybe_deferred_to_future(mine)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status < 500:
            await super()._parse_robots(response, netloc, request)
            self._obey_crawl_delay(self._parsers[netloc], request)
            return
        self._settle(netloc, UnreachableRobotsTxt(f"HTTP {response.status}"))

    def _obey_crawl_delay(self, parser: Any, request: Request) -> None:
        """A ``Crawl-delay`` longer than the crawl's own delay becomes the delay between that host's requests (the
        downloader's slot for it, and the shared pace of the workers, which reads the same setting). Not when the
        crawl's delay is 0: politeness lifted, on loopback benchmarks only."""
        own = self.crawler.settings.getfloat("DOWNLOAD_DELAY")
        useragent = self._robotstxt_useragent or request.headers.get(b"User-Agent", self._default_useragent)
        asked = parser.crawl_delay(useragent) if own > 0 and hasattr(parser, "crawl_delay") else None
        if asked is None or asked <= own:
            return
        delay = min(asked, MAX_CRAWL_DELAY)
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        downloader.per_slot_settings.setdefault(key, {})["delay"] = delay  # the slot made for it from now on
        if key in downloader.slots:
            downloader.slots[key].delay = delay
        log.warning("robots.txt of %s asks for Crawl-delay: %g s; its pages are fetched %g s apart", key, asked, delay)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        # An IgnoreRequest is a refusal on our side (the network guard, a scheme never fetched) that the page's own
        # request meets too; a body cut short or corrupt (a gzip robots.txt) is robots.txt's own, as the same body
        # unencoded and cut short is: it could not be read, and every path is disallowed. So is one whose end cannot
        # be told (a framing not read).
        if isinstance(exc, IgnoreRequest) and not isinstance(exc, (TruncatedBodyError, CorruptBodyError,
                                                                   FramingError)) \
                or kind_of_failure(Failure(exc))[0] in _UNANSWERED:
            super()._robots_error(exc, netloc)
        else:
            self._settle(netloc, UnreachableRobotsTxt(f"{type(exc).__name__}: {exc}"[:200]))

    def _settle(self, netloc: str, parser: UnreachableRobotsTxt) -> None:
        waiting = self._parsers[netloc]
        self._parsers[netloc] = parser
        if isinstance(waiting, Deferred):
            waiting.callback(parser)

    def process_request_2(self, rp: Any, request: Request) -> None:
        if isinstance(rp, UnreachableRobotsTxt):
            raise IgnoreRequest(f"robots.txt of {urlsplit(request.url).netloc} could not be read ({rp.reason}); "
                                "RFC 9309 has a crawler then take every path as disallowed")
        super().process_request_2(rp, request)


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry (429, 5xx, timeouts) with exponential backoff honouring Retry-After.

    ``RETRY_BACKOFF_BASE`` seconds doubles on each retry up to ``RETRY_BACKOFF_MAX``;
    a server's Retry-After wins when it asks for longer (capped the same way).
    A base of 0 retries at once (loopback tests and benchmarks).
    """

    def __init__(self, settings: Any):
        super().__init__(settings)
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)

    async def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        await self._pause(retry, _retry_after(response))
        return retry

    async def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> Request | None:
        if request.meta.get("dont_retry", False) or not isinstance(exception, self.exceptions_to_retry):
            return None
        retry = self._retry(request, exception)
        if retry is not None:
            await self._pause(retry, None)
        return retry

    async def _pause(self, retry: Request, retry_after: float | None) -> None:
        attempt = retry.meta.get("retry_times", 1)
        delay = self.backoff_base * 2 ** (attempt - 1) if self.backoff_base > 0 else 0.0
        if retry_after is not None and self.backoff_base > 0:
            delay = max(delay, retry_after)
        delay = min(delay, self.backoff_max)
        if delay >= SAID_WAIT_SECONDS:  # a crawl that waits minutes in silence looks hung
            log.warning("waiting %g s before trying %s again (attempt %d%s)", delay, retry.url, attempt + 1,
                        ", as its Retry-After asks" if retry_after is not None and retry_after >= delay else "")
        if delay > 0:
            # Imported here: importing the reactor installs one, and the runner must choose it first.
            from twisted.internet import reactor

            await deferred_to_future(deferLater(reactor, delay, lambda: None))


def _retry_after(response: Response) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or HTTP date), if any."""
    value = response.headers.get(b"Retry-After")
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isascii() and text.isdigit():  # "²" is a digit to str.isdigit, not to float()
        return float(text)
    date = response.headers.get(b"Date")
    try:  # a server's dates are hostile too: unreadable, or one with a zone and one without
        when = parsedate_to_datetime(text)
        now = parsedate_to_datetime(date.decode("latin-1")) if date else None
        return max(0.0, (when - now).total_seconds()) if now else None
    except (TypeError, ValueError, OverflowError):
        return None
