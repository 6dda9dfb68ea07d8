"""Scrapy's HTTP/1.1 download handler, except that a body longer than its Content-Length is a failure, not a page,
and that a response whose end cannot be told for sure is a ``framing`` failure, not Twisted's raw error.

Twisted's client reads a body up to its stated length and ends the response
there; the bytes that came after it are dropped (``_finishResponse`` ignores its
``rest``) and the connection goes back to the pool. A server that counts a UTF-8
page's characters instead of its bytes states a length too short for it: the
page read was its head, and became the policy's new version, its last clauses
"removed". The end-tag check of ``crawler.spiders.policy`` cannot run on bodies of
a stated length (pages minified without their optional end tags would fail for
ever), but the bytes past the stated length are the proof, where they arrive: in
the same read as the body's last byte, as on loopback or in one TLS record.

Where a response ends is read as browsers read it, or refused: only the
``chunked`` transfer coding is read (Twisted looked a whole ``gzip, chunked`` up
and failed with a ``KeyError``), and Content-Length values that differ or are no
number are refused (a ``ValueError``), each a ``framing`` failure naming the
header. Bytes a response left on a connection that reach the client after its next
request was sent are not read as that request's answer: it is sent again on a new
connection.

Overrides private parts of Twisted 26's ``HTTP11ClientProtocol`` (the parser's
body decoder, its status line and headers, the response's finish) and of Scrapy
2.19's handler (its pool's protocol factory), as Scrapy's own lenient parser does
(tests/crawler/test_faults.py breaks if a release changes them).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, TypeVar

import scrapy.utils.deprecate
from scrapy import Request
from scrapy.exceptions import DownloadFailedError, ResponseDataLossError
from scrapy.http import Response
from twisted.web._newclient import STATUS, ParseError, ResponseFailed
from twisted.web.http import _DataLoss, _IdentityTransferDecoder
from twisted.web.http_headers import Headers

from crawler.errors import FramingError, TruncatedBodyError

_E = TypeVar("_E", bound=BaseException)


class _CallerByGlobals:
    """What ``scrapy.utils.deprecate`` asks of ``inspect`` to name the module that defines a deprecated alias, without
    reading the stack's sources: the caller's frame, and its module from the frame's globals.

    ``create_deprecated_class`` calls ``inspect.stack()``, which reads the source file of every frame on the stack
    and looks each one's module up among all those loaded. Three such aliases are defined when Scrapy's TLS modules
    are imported, by the first crawl of every process: 66 ms of CPU, a twelfth of a crawl whose 100 pages all
    answer 304 (decision 0014, twenty-fifth pass).
    """

    @staticmethod
    def stack() -> list[tuple[FrameType | None]]:
        return [(None,), (sys._getframe(2),)]  # [this call, create_deprecated_class's caller]

    @staticmethod
    def getmodule(frame: FrameType) -> Any:
        return sys.modules.get(frame.f_globals.get("__name__", ""))


@contextmanager
def aliases_named_from_globals() -> Iterator[None]:
    """While Scrapy's TLS modules are imported, its deprecation helper finds its caller as above. Only the name
    ``inspect`` inside that helper's module is swapped, back as the block ends; the standard library is untouched."""
    helper = scrapy.utils.deprecate
    real = getattr(helper, "inspect", None)
    if real is None:  # a Scrapy that no longer looks its caller up this way: nothing to save
        yield
        return
    helper.inspect = _CallerByGlobals
    try:
        yield
    finally:
        helper.inspect = real


with aliases_named_from_globals():
    from scrapy.core.downloader.handlers.http11 import (  # noqa: E402 - imported under the helper above
        HTTP11DownloadHandler,
        _LenientHTTP11ClientFactory,
        _LenientHTTP11ClientProtocol,
        _LenientHTTPClientParser,
    )


class ContentLengthExceededError(_DataLoss):
    """The server sent more bytes than its Content-Length: the body read up to that length is the page's head.

    A ``_DataLoss``, the one failure of a body Scrapy's response reader takes
    (as a ``ResponseDataLossError``) besides a connection closed early."""


class _Overrun:
    """The body decoder of a response that ended at its stated length with bytes still coming: it fails the body when
    the parser lets go of it, where a body that came whole ends."""

    def __init__(self, stated: int, extra: int):
        self.stated = stated
        self.extra = extra

    def noMoreData(self) -> None:  # noqa: N802 - Twisted's decoder API
        raise ContentLengthExceededError(
            f"the server sent more bytes than its Content-Length ({self.stated}), at least {self.extra} more (a "
            "length counted in characters, not bytes?): the body read up to that length is cut short")


# What some servers add after a whole body they have counted: line breaks, NUL padding, a framework's comment
# ("<!-- Page generated in 0.12 s -->", added once the length was set), whole or cut by the read.
_AFTER_THE_PAGE = re.compile(rb"(?:[\s\x00]+|<!--(?:(?!-->).)*(?:-->|\Z))*\Z", re.S)


def _cuts_the_page(response: Any, rest: bytes) -> bool:
    """Whether the bytes past a body of a stated length cut a page: a 2xx's body is kept as the page (another's
    status says all), and blank bytes or a comment after it cut nothing of it."""
    return 200 <= response.code < 300 and not _AFTER_THE_PAGE.match(rest)


# The longest status or header line read: Twisted's parser drops the connection past 16 KB, and a site's
# Content-Security-Policy or preload Link header of 17 KB failed its page as "Connection was closed cleanly" (probe of
# 2026-12-03). Browsers take a quarter of a megabyte of headers.
HEADER_LINE_MAX = 256 * 1024


def _header_list(headers: Headers, name: bytes) -> list[bytes] | None:
    """The entries of every ``name`` header, as one comma-separated list (empty entries left out); None without one."""
    values = headers.getRawHeaders(name)
    if values is None:
        return None
    return [entry.strip() for entry in b",".join(values).split(b",") if entry.strip()]


def _said(entries: list[bytes]) -> str:
    return b", ".join(entries).decode("latin-1")[:80]


def check_framing(headers: Headers) -> None:
    """Leaves in ``headers`` (a response's connection headers) a framing Twisted reads as it should, or raises
    :class:`FramingError`.

    Only ``chunked`` is read of the transfer codings, and ``identity`` names none: ``identity, chunked`` is chunked,
    ``identity`` alone is as if no Transfer-Encoding were sent; any other (``gzip, chunked``) is refused, where Twisted
    looked the first header up whole and failed with a ``KeyError``. With chunked, a Content-Length is not read and
    the connection is not used again (RFC 9112 §6.3). Content-Length values that differ are two places the body may
    end (response smuggling, or a broken proxy) and are refused, as browsers refuse them; the same value twice is
    one."""
    codings = _header_list(headers, b"Transfer-Encoding")
    if codings is not None:
        read = [coding for coding in codings if coding.lower() != b"identity"]
        if [coding.lower() for coding in read] == [b"chunked"]:
            headers.setRawHeaders(b"Transfer-Encoding", [b"chunked"])
            if headers.hasHeader(b"Content-Length"):  # both framings: chunked wins, and the connection is not kept
                headers.removeHeader(b"Content-Length")
                headers.setRawHeaders(b"Connection", [b"close"])
            return
        if read:
            raise FramingError(f"the response's Transfer-Encoding {_said(codings)!r} names a transfer coding other "
                               "than chunked: where its body ends and how it decodes are not read here")
        headers.removeHeader(b"Transfer-Encoding")
    lengths = _header_list(headers, b"Content-Length")
    if lengths is None:
        return
    if not lengths or not all(length.isdigit() and length.isascii() for length in lengths):
        raise FramingError(f"the response's Content-Length {_said(lengths)!r} is no number of bytes: where its body "
                           "ends is not known")
    if len({int(length) for length in lengths}) > 1:
        raise FramingError(f"the response has conflicting Content-Length values ({_said(lengths)}): two places its "
                           "body may end (a response-smuggling signal), and no telling which is meant")
    # One length, however it was written (`100, 100`, `100,`, an empty second header): as Twisted reads it.
    headers.setRawHeaders(b"Content-Length", [lengths[0]])


class _FramingCheckedParser(_LenientHTTPClientParser):
    """Scrapy's lenient parser, which skips blank lines before a status line (RFC 9112 §2.2) and reads a body only
    where it is framed as :func:`check_framing` has it. Defines no state: it is the class of the parser Twisted made,
    swapped as Scrapy swaps it."""

    def lineReceived(self, line: bytes) -> None:  # noqa: N802 - Twisted's parser API
        if self.state == STATUS and not line.rstrip(b"\r"):
            return  # a CRLF a server sent after its last response
        super().lineReceived(line)

    def allHeadersReceived(self) -> None:  # noqa: N802 - Twisted's parser API
        code = self.response.code
        if not (100 <= code < 200 or code in self.NO_BODY_CODES or self.request.method == b"HEAD"):
            check_framing(self.connHeaders)
        super().allHeadersReceived()


class _ReusedConnectionParser(_FramingCheckedParser):
    """The parser of a request on a connection that answered one before: a first line that is no status line is
    bytes the former response left (sent past its Content-Length, and read only now), not this request's answer. It
    fails as a response never received, which Twisted's pool sends again, once, on a new connection."""

    def statusReceived(self, status: bytes) -> None:  # noqa: N802 - Twisted's parser API
        if status[:5].upper() != b"HTTP/":
            self._everReceivedData = False  # nothing of this request's answer came
            raise ParseError("bytes a former response left on the connection", status[:80])
        super().statusReceived(status)


class _LengthCheckedProtocol(_LenientHTTP11ClientProtocol):
    """Fails a response whose server went on sending a page past its Content-Length, and closes a connection that
    brought bytes no response accounts for: those still coming are not where the next response starts. Reads header
    lines up to ``HEADER_LINE_MAX``, and a response's framing with :class:`_FramingCheckedParser`."""

    _answered = False  # whether a response came whole on this connection before

    def request(self, request: Any) -> Any:
        sent = super().request(request)
        if self._parser is not None:  # made by the request, before any byte of the response is read
            self._parser.MAX_LENGTH = HEADER_LINE_MAX
            self._parser.__class__ = _ReusedConnectionParser if self._answered else _FramingCheckedParser
        return sent

    def _finishResponse_WAITING(self, rest: bytes) -> None:  # noqa: N802 - Twisted's state dispatch
        parser = self._parser
        self._answered = True
        if rest and parser is not None:
            self._currentRequest.persistent = False
            if isinstance(parser.bodyDecoder, _IdentityTransferDecoder) and _cuts_the_page(parser.response, rest):
                parser.bodyDecoder = _Overrun(parser.response.length, len(rest))
        super()._finishResponse_WAITING(rest)

    _finishResponse_TRANSMITTING = _finishResponse_WAITING  # noqa: N815 - the response came before the request was sent


class _LengthCheckedFactory(_LenientHTTP11ClientFactory):
    def buildProtocol(self, addr: Any) -> _LengthCheckedProtocol:  # noqa: N802 - Twisted's factory API
        return _LengthCheckedProtocol(self._quiescentCallback)


class LengthCheckedDownloads:
    """Mixed into a download handler based on Scrapy's HTTP/1.1 one (scrapy-playwright's fetches its non-browser
    requests with it): the connections of its pool check the length of every body."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self._pool._factory = _LengthCheckedFactory

    async def download_request(self, request: Request) -> Response:
        """... and a body past its Content-Length is a ``truncated`` failure saying so, and a framing not read a
        ``framing`` failure, neither retried: the server sends the same body the same way again."""
        try:
            return await super().download_request(request)
        except ResponseDataLossError as exc:
            overrun = _reason_of(exc, ContentLengthExceededError)
            if overrun is None:
                raise
            raise TruncatedBodyError(str(overrun)) from exc
        except DownloadFailedError as exc:
            framing = _reason_of(exc, FramingError)
            if framing is None:
                raise
            raise FramingError(str(framing)) from exc


def _reason_of(exc: Exception, kind: type[_E]) -> _E | None:
    """The failure of that kind behind a download failure Scrapy reports (its cause, a ``ResponseFailed``, holds the
    parser's or the body's failures)."""
    cause = exc.__cause__
    reasons = cause.reasons if isinstance(cause, ResponseFailed) else []
    return next((r.value for r in reasons if isinstance(r.value, kind)), None)


class LengthCheckedDownloadHandler(LengthCheckedDownloads, HTTP11DownloadHandler):
    """The handler of http and https in crawls without a browser."""
