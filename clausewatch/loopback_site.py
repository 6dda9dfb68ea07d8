"""A small HTTP server on loopback that serves pages from memory.

The demo serves its bundled policies with it, benchmarks serve thousands of
pages, and the crawl tests serve fixture sites and fault pages — always a real
server on a real socket, never mocked responses.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Page:
    """What the server answers for one path.

    ``hang`` holds the connection open without answering until the test calls
    :meth:`LocalSite.release` (then the page is served) or the server stops
    (then the connection closes unanswered); ``chunks`` streams the body that
    many times (a giant page without holding it in memory); ``render``, when
    set, makes the body afresh for every request (given how many requests the
    path had), as a page carrying per-visit ids does.

    Faults, for the fault-injection tests (SPEC §10): ``drip`` sends the body in
    pieces of that many bytes with ``drip_pause`` seconds between them (a slow
    drip); ``cut_after`` sends only that many bytes of the body after announcing
    all of it, then closes (a truncated body), or with ``reset`` resets the
    connection (TCP RST) instead; ``unsized`` states no length and ends the body by
    closing the connection (as HTTP/1.0 servers do), with ``cut_after`` before its end; ``content_length`` states
    that length whatever the body's (a server counting a UTF-8 page's characters, not its bytes), and sends the
    whole body.
    """

    body: bytes = b""
    status: int = 200
    content_type: str | None = "text/html; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)
    hang: bool = False
    chunks: int = 1
    render: Callable[[int], bytes] | None = None
    drip: int = 0
    drip_pause: float = 0.0
    cut_after: int | None = None
    reset: bool = False
    unsized: bool = False
    content_length: int | None = None


class LocalSite:
    """Serves ``pages`` (path → Page) on loopback (127.0.0.1 unless ``host`` names another
    loopback address, e.g. 127.0.0.2 or ::1); pages can be swapped while it runs."""

    def __init__(self, pages: Mapping[str, Page] | None = None, *, conditional: bool = True,
                 host: str = "127.0.0.1", port: int = 0):
        self.pages: dict[str, Page] = dict(pages or {})
        self.sequences: dict[str, list[Page]] = {}
        self.conditional = conditional
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._stopping = threading.Event()
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._requested = threading.Condition(self._lock)
        server_class = _QuietIPv6Server if ":" in host else QuietServer
        self._server = server_class((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="localsite", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def set(self, path: str, page: Page) -> None:
        with self._lock:
            self.pages[path] = page

    def set_many(self, pages: Mapping[str, Page]) -> None:
        with self._lock:
            self.pages.update(pages)

    def set_sequence(self, path: str, pages: list[Page]) -> None:
        """Answer the next requests of ``path`` with ``pages`` in turn (a 5xx burst, a 429 then the page);
        once they are used up, the page :meth:`set` gave answers."""
        with self._lock:
            self.sequences[path] = list(pages)

    def page(self, path: str) -> Page | None:
        with self._lock:
            queued = self.sequences.get(path)
            if queued:
                return queued.pop(0)
            return self.pages.get(path)

    def release(self) -> None:
        """Let every hanging request (``Page(hang=True)``) be answered, now and from now on."""
        self._released.set()

    def record_request(self, path: str, headers: dict[str, str]) -> None:
        with self._requested:
            self.requests.append((path, headers))
            self._requested.notify_all()

    def wait_for_request(self, path: str, timeout: float = 60.0) -> bool:
        """Block until ``path`` has been requested (a test waits on the thing, not on the clock)."""
        with self._requested:
            return self._requested.wait_for(lambda: any(p == path for p, _ in self.requests), timeout)

    def start(self) -> LocalSite:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LocalSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class QuietServer(ThreadingHTTPServer):
    """A client that went away (killed, or gave up at a size cap) is no error of the server's.

    It listens with a backlog a crawl's concurrency fits: with ``socketserver``'s 5, the kernel drops the
    connections over it and each client retries a second later."""

    request_queue_size = 128

    def handle_error(self, request, client_address) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _QuietIPv6Server(QuietServer):
    address_family = socket.AF_INET6


def _stated_length(page: Page) -> int:
    return page.content_length if page.content_length is not None else len(page.body) * page.chunks


def _etag(page: Page) -> str:
    from hashlib import sha256

    return '"' + sha256(page.body).hexdigest()[:16] + '"'


class _Handler(BaseHTTPRequestHandler):
    """Serves the pages of :attr:`site` with the misbehaviours each page asks for."""

    site: LocalSite
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        path = urlsplit(self.path).path
        self.site.record_request(path, dict(self.headers.items()))
        page = self.site.page(path)
        if page is None:
            page = Page(b"<h1>Not found</h1>", status=404) if path != "/robots.txt" else Page(
                b"User-agent: *\nAllow: /\n", content_type="text/plain")
        if page.hang:
            self.site._released.wait()
            if self.site._stopping.is_set():
                self.close_connection = True  # closed unanswered
                return
        if page.render is not None:
            page = replace(page, body=page.render(sum(1 for p, _ in self.site.requests if p == path)))
        if self.site.conditional and page.status == 200 and self.headers.get("If-None-Match") == _etag(page):
            self.send_response(304)
            self.send_header("ETag", _etag(page))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._send(page)

    def _send(self, page: Page) -> None:
        self.send_response(page.status)
        if page.content_type:
            self.send_header("Content-Type", page.content_type)
        if page.status == 200:
            self.send_header("ETag", _etag(page))
            self.send_header("Last-Modified", formatdate(0, usegmt=True))
        for name, value in page.headers.items():
            self.send_header(name, value)
        if page.unsized:
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(_stated_length(page)))
        self.end_headers()
        try:
            if page.cut_after is not None:
                self._cut(page)
            elif page.drip:
                self._drip(page)
            else:
                for _ in range(page.chunks):
                    self.wfile.write(page.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a size cap): nothing to do

    def _drip(self, page: Page) -> None:
        for start in range(0, len(page.body), page.drip):
            self.wfile.write(page.body[start:start + page.drip])
            self.wfile.flush()
            if self.site._stopping.wait(page.drip_pause):
                return

    def _cut(self, page: Page) -> None:
        self.wfile.write(page.body[:page.cut_after])
        self.wfile.flush()
        self.close_connection = True
        if page.reset:  # linger 0: close() sends RST instead of FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the http.server API
        pass



def _handler_for(site: LocalSite) -> type[BaseHTTPRequestHandler]:
    return type("Handler", (_Handler,), {"site": site})
