"""What went over the wire for one fetch, as the header blocks of WARC request/response records.

Scrapy hands the spider a parsed response: the status, the headers (names in
title case, values as received) and the body after transfer and content
decoding. The archived response is that exchange: the status line is rebuilt
from the status and protocol, ``Content-Encoding`` is gone (Scrapy removed it
when it decoded the body) and ``Content-Length`` states the payload's length,
so the record replays as it is. See docs/decisions/0011-web-archive-captures.md.
"""

from __future__ import annotations

from datetime import datetime
from http import HTTPStatus
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.http import Response

from analysis.evidence import HttpExchange
from analysis.text import sha256_bytes

# Hop-by-hop or already undone by Scrapy: the archived payload is the decoded body.
_DROPPED = {b"transfer-encoding", b"content-encoding", b"content-length"}


def request_head(request: Request) -> bytes:
    """The request line and headers as sent (Scrapy's middlewares have added theirs by now)."""
    parts = urlsplit(request.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"{request.method} {target} HTTP/1.1".encode("latin-1"), b"Host: " + _host(parts.netloc)]
    for name, values in request.headers.items():
        lines.extend(bytes(name) + b": " + bytes(value) for value in values)
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _host(netloc: str) -> bytes:
    """The Host header of a request: IDNA; for a host no request could be sent to (a label over 63 characters), as
    written, so the attempt's record still says where it went."""
    try:
        return netloc.encode("idna")
    except UnicodeError:
        return netloc.encode("utf-8", "backslashreplace")


def response_head(response: Response, *, encoded: bool = False) -> bytes:
    """The status line and headers of the response, stating the length of the body as archived; ``encoded``: the
    body is still in its ``Content-Encoding``, which the head then keeps."""
    reason = _reason(response.status)
    protocol = response.protocol or "HTTP/1.1"
    lines = [f"{protocol} {response.status} {reason}".rstrip().encode("latin-1")]
    dropped = _DROPPED - {b"content-encoding"} if encoded else _DROPPED
    for name, values in response.headers.items():
        if bytes(name).lower() in dropped:
            continue
        lines.extend(bytes(name) + b": " + bytes(value) for value in values)
    if response.status != 304:
        lines.append(b"Content-Length: " + str(len(response.body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def response_exchange(response: Response, captured_at: datetime, *, original_body: bytes | None = None,
                      request: Request | None = None) -> HttpExchange:
    """The exchange behind ``response``; for a browser page ``response.body`` is the rendered DOM.

    A browser response's payload is what the server sent (``original_body``, as
    the browser reported it) and the rendered DOM becomes a conversion record.
    Without the original body the rendered DOM stands as the payload. ``request``
    is the request that was answered when it is not ``response.request`` (the
    one a browser sent for its page after redirects).
    """
    separate = "playwright" in response.flags and original_body is not None
    payload = original_body if separate else response.body
    head = response_head(response)
    return HttpExchange(
        url=response.url, captured_at=captured_at, request_head=request_head(request or response.request),
        response_head=_with_length(head, payload) if separate else head,
        status=response.status, payload_sha256=sha256_bytes(payload) if response.status != 304 else None,
        payload=payload if separate else None, rendered_dom=response.body if separate else None,
    )


def _with_length(head: bytes, payload: bytes) -> bytes:
    lines = [line for line in head.split(b"\r\n") if line and not line.lower().startswith(b"content-length:")]
    return b"\r\n".join([*lines, b"Content-Length: " + str(len(payload)).encode()]) + b"\r\n\r\n"


def hop_exchange(request: Request, response: Response, captured_at: datetime, *, encoded: bool) -> HttpExchange:
    """A redirect followed (a 3xx, or a page's refresh): ``request`` as sent and what answered it, its body kept as
    its payload (stored as a blob, as a browser page's is). A 3xx is followed before its body is decoded (Scrapy's
    redirect middleware comes before decompression), so with ``encoded`` its body is archived in the coding it came
    in, and its head keeps the ``Content-Encoding`` that says so."""
    return HttpExchange(
        url=response.url, captured_at=captured_at, request_head=request_head(request),
        response_head=response_head(response, encoded=encoded), status=response.status,
        payload_sha256=sha256_bytes(response.body), payload=response.body, hop=True,
    )


def failed_exchange(request: Request, captured_at: datetime) -> HttpExchange:
    """A request that got no response (timeout, refused connection): the request alone is the evidence."""
    return HttpExchange(url=request.url, captured_at=captured_at, request_head=request_head(request))
