"""The guarded forward proxy in front of Chromium: a browser page connects only where the guard allows.

Chromium resolves names itself, so checking the name of a URL before Chromium
loads it leaves a window: a name that resolves public when checked and private
when Chromium connects (DNS rebinding) reaches the private address. Chromium is
therefore started with ``--proxy-server`` pointing here and
``--proxy-bypass-list=<-loopback>`` (so loopback is proxied too): every
connection of every page (documents, sub-requests, WebSocket tunnels) is made
by this proxy, which resolves the host itself through the crawl's guard
(:func:`~crawler.netguard.guarded_lookup`, the same resolver and judgement as
the Scrapy path) and connects to an address that lookup allowed, never
resolving again. A refused CONNECT is answered 403 (Chromium fails the request
with a tunnel error); a refused plain-HTTP request gets its connection closed
without an answer, so no page of ours is ever rendered as the site's.

Small and bounded on purpose: one request per plain-HTTP connection (forwarded
with ``Connection: close``), a cap on open connections, a timeout on every
wait, and nothing logged (bodies never are). Runs on the reactor's asyncio loop,
which is also Playwright's. See docs/decisions/0017-browser-network-guard.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any
from urllib.parse import urlsplit

from crawler.netguard import NetworkGuard, guarded_lookup

# Open client connections (each holds two sockets): Chromium opens up to 32 per proxy for each
# browser context, and a crawl has a context per document in flight (16 at most by default).
MAX_CONNECTIONS = 256
HEAD_BYTES = 16 * 1024  # a request or response head longer than this is refused
HEAD_TIMEOUT = 10.0  # seconds for Chromium to send a request head
CHUNK = 64 * 1024
# Headers that belong to one connection: not passed on (requests), replaced by Connection: close (answers).
_CONNECTION_HEADERS = (b"connection", b"proxy-connection", b"keep-alive")
_REQUEST_HOP_HEADERS = (*_CONNECTION_HEADERS, b"proxy-authorization", b"te", b"trailer", b"upgrade")


class ProxyRequestError(ValueError):
    """A request head the proxy does not forward (malformed, too long, not absolute-URI HTTP or CONNECT)."""


class GuardedProxy:
    """A forward proxy on 127.0.0.1 for one crawl's Chromium, judging every connection by ``guard``.

    The listening socket is bound when the proxy is made, so Chromium's flags can
    name its port before the crawl starts; :meth:`start` (on the reactor's loop)
    begins answering and :meth:`close` ends every connection.
    """

    def __init__(self, guard: NetworkGuard, timeout: float = 30.0, max_connections: int = MAX_CONNECTIONS):
        self.guard = guard
        self.timeout = timeout
        self.max_connections = max_connections
        self.connections = 0  # counters for benchmarks/guard.py; no request is logged
        self.refused = 0
        self.peak = 0
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[Any]] = set()

    def __deepcopy__(self, memo: dict[int, Any]) -> GuardedProxy:
        return self  # Scrapy deep-copies settings; a crawl has one proxy

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self._socket.getsockname()[1]

    def chromium_args(self) -> list[str]:
        """Chromium's flags: every connection through us, loopback included (Chromium bypasses it by default)."""
        return [f"--proxy-server={self.url}", "--proxy-bypass-list=<-loopback>"]

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, sock=self._socket, limit=HEAD_BYTES)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        else:
            self._socket.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    # -- one client connection ---------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.connections += 1
        self.peak = max(self.peak, len(self._handlers))
        try:
            if len(self._handlers) <= self.max_connections:
                await self._serve(reader, writer)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ProxyRequestError):
            pass  # the client or the server went away, was too slow, or sent what we do not forward
        finally:
            self._handlers.discard(task)
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT)
        method, host, port, forwarded = _parse_request(head)
        upstream = await self._connect(host, port)
        if upstream is None:
            self.refused += 1
            if method == b"CONNECT":
                writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return  # plain HTTP: closed unanswered, so Chromium renders nothing as the site's page
        up_reader, up_writer = upstream
        try:
            if method == b"CONNECT":
                writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                await self._relay(reader, writer, up_reader, up_writer, rewrite_head=False)
            else:
                up_writer.write(forwarded)
                await self._relay(reader, writer, up_reader, up_writer, rewrite_head=True)
        finally:
            up_writer.close()

    async def _connect(self, host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """A connection to an address of ``host`` the guard allows (the lookup is the one connected to)."""
        addresses, _refusals = await asyncio.wait_for(guarded_lookup(self.guard, host, port), self.timeout)
        for address in addresses:
            try:
                return await asyncio.wait_for(asyncio.open_connection(str(address), port, limit=HEAD_BYTES),
                                              self.timeout)
            except (OSError, asyncio.TimeoutError):
                continue
        return None

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     up_reader: asyncio.StreamReader, up_writer: asyncio.StreamWriter, rewrite_head: bool) -> None:
        """Copy both ways until either side ends or stays idle for the timeout."""
        outbound = asyncio.ensure_future(self._copy(reader, up_writer))
        inbound = asyncio.ensure_future(self._answer(up_reader, writer, rewrite_head))
        try:
            await asyncio.wait((outbound, inbound), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (outbound, inbound):
                task.cancel()
            await asyncio.gather(outbound, inbound, return_exceptions=True)

    async def _answer(self, up_reader: asyncio.StreamReader, writer: asyncio.StreamWriter, rewrite_head: bool) -> None:
        if rewrite_head:  # a plain-HTTP answer: tell Chromium not to send another request on this connection
            head = await asyncio.wait_for(up_reader.readuntil(b"\r\n\r\n"), self.timeout)
            writer.write(_closing_head(head))
        await self._copy(up_reader, writer)

    async def _copy(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        while True:
            async with asyncio.timeout(self.timeout):  # cheaper than wait_for, which makes a task a read
                chunk = await source.read(CHUNK)
            if not chunk:
                return
            sink.write(chunk)
            await sink.drain()


def _parse_request(head: bytes) -> tuple[bytes, str, int, bytes]:
    """Method, host, port and the head to send upstream (origin-form, ``Connection: close``) of a proxy request."""
    request_line, *header_lines = head[:-4].split(b"\r\n")
    try:
        method, target, version = request_line.split(b" ")
    except ValueError:
        raise ProxyRequestError("malformed request line") from None
    if method == b"CONNECT":
        parts = urlsplit("//" + target.decode("ascii", "replace"))
        default_port = None
    else:
        parts = urlsplit(target.decode("ascii", "replace"))
        if parts.scheme != "http":
            raise ProxyRequestError("only absolute http:// URIs are forwarded")
        default_port = 80
    try:
        port = parts.port or default_port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        raise ProxyRequestError("no host and port")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    kept = [line for line in header_lines if line.split(b":", 1)[0].strip().lower() not in _REQUEST_HOP_HEADERS]
    forwarded = b"\r\n".join([b"%s %s %s" % (method, path.encode("ascii", "replace"), version), *kept,
                              b"Connection: close", b"", b""])
    return method, parts.hostname, port, forwarded


def _closing_head(head: bytes) -> bytes:
    """A response head with its connection headers replaced by ``Connection: close``."""
    status_line, *header_lines = head[:-4].split(b"\r\n")
    kept = [line for line in header_lines if line.split(b":", 1)[0].strip().lower() not in _CONNECTION_HEADERS]
    return b"\r\n".join([status_line, *kept, b"Connection: close", b"Proxy-Connection: close", b"", b""])


class GuardedProxyExtension:
    """Scrapy extension: serve the crawl's ``BROWSER_PROXY`` while the engine runs, close it after."""

    def __init__(self, proxy: GuardedProxy):
        self.proxy = proxy

    @classmethod
    def from_crawler(cls, crawler: Any) -> GuardedProxyExtension:
        from scrapy import signals
        from scrapy.exceptions import NotConfigured

        proxy = crawler.settings.get("BROWSER_PROXY")
        if proxy is None:
            raise NotConfigured("no BROWSER_PROXY")
        extension = cls(proxy)
        crawler.signals.connect(extension.engine_started, signal=signals.engine_started)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    async def engine_started(self) -> None:
        await self.proxy.start()

    async def engine_stopped(self) -> None:
        with contextlib.suppress(Exception):  # a crawl's end must not fail on the proxy's
            await self.proxy.close()
