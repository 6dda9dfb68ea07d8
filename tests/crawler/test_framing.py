"""How a response says where its body ends (Transfer-Encoding, Content-Length), written byte by byte by a server on a
raw loopback socket: each oddity ends as the right version or a named failure, never Twisted's raw error, a hang, or
another document's response (probe of 2026-12-03, "left" in decision 0013)."""

from __future__ import annotations

import dataclasses
import gzip
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
from store.repository import Store

POLICY = b"""<html><head><meta charset="utf-8"><title>Terms</title></head><body><main><h1>Terms of Service</h1>
<h2>1. Acceptance</h2><p>By using the service you agree to these terms.</p>
<h2>2. Termination</h2><p>We may suspend your account at any time for any reason.</p>
<h2>3. Governing law</h2><p>These terms are governed by the laws of Ireland.</p>
</main></body></html>"""
RIGHT_TEXT = "These terms are governed by the laws of Ireland."


@dataclass(frozen=True)
class Raw:
    """One response as its bytes: the status line and header lines (CRLF added), then the body as it is. ``later``
    is written on the same connection only when its next request comes, before that request's answer: bytes past
    the body that reach the client in a later read than the body's last byte."""

    head: tuple[str, ...]
    body: bytes = b""
    later: bytes = b""

    def wire(self) -> bytes:
        return "".join(f"{line}\r\n" for line in self.head).encode("latin-1") + b"\r\n" + self.body


def chunked(body: bytes, size: int = 100) -> bytes:
    pieces = [body[i:i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"


def page(*headers: str, body: bytes = POLICY, later: bytes = b"") -> Raw:
    return Raw(("HTTP/1.1 200 OK", "Content-Type: text/html; charset=utf-8", *headers), body, later)


class RawSite:
    """A loopback server that answers each request of a connection, in turn, with the bytes of its path's ``Raw``
    (robots.txt is a 404), and closes a connection when its client does."""

    def __init__(self, responses: dict[str, Raw]):
        self.responses = responses
        self.requests: list[tuple[str, int]] = []  # (path, connection number)
        self.met_late_bytes: list[str] = []  # the paths whose answer came after bytes a former response left
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, name="rawsite", daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}{path}"

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:  # closed by stop()
                return
            with self._lock:
                self._connections.append(connection)
                number = len(self._connections)
            threading.Thread(target=self._serve, args=(connection, number), daemon=True).start()

    def _serve(self, connection: socket.socket, number: int) -> None:
        buffered, later = b"", b""
        with connection:
            while True:
                while b"\r\n\r\n" not in buffered:
                    try:
                        data = connection.recv(65536)
                    except OSError:
                        return
                    if not data:
                        return
                    buffered += data
                head, buffered = buffered.split(b"\r\n\r\n", 1)
                path = head.split(b" ", 2)[1].decode("latin-1")
                with self._lock:
                    self.requests.append((path, number))
                    if later:
                        self.met_late_bytes.append(path)
                response = self.responses.get(path) or Raw(("HTTP/1.1 404 Not Found", "Content-Length: 0"))
                try:
                    connection.sendall(later + response.wire())
                except OSError:
                    return
                later = response.later

    def __enter__(self) -> RawSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._listener.close()
        with self._lock:
            for connection in self._connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@pytest.fixture
def store(sqlite_url, tmp_path):
    opened = Store.open(sqlite_url, tmp_path / "objects")
    yield opened
    opened.close()


@pytest.fixture
def raw_site() -> Iterator[RawSite]:
    with RawSite({}) as running:
        yield running


def _platform(slug: str, url: str) -> PlatformSpec:
    return PlatformSpec(slug, slug.title(), (DocumentSpec(slug, "Terms of Service", (SourceSpec(url),)),))


def _crawl(store, raw_site, run_crawl, options, paths):
    platforms = [_platform(path.strip("/"), raw_site.url(path)) for path in paths]
    report = run_crawl(store, platforms, options) if options else run_crawl(store, platforms)
    by_url = {d.url: d.id for d in store.catalog.documents()}
    results = {r.document_id: r for r in report.results}
    return {path: results[by_url[raw_site.url(path)]] for path in paths}, by_url


def _archived_right(store, result, document_id) -> bool:
    current = store.history.current_version(document_id)
    return result.outcome == "new_version" and current is not None and RIGHT_TEXT in current.text


GZIPPED = gzip.compress(POLICY)
# path -> (the response, and the outcome: the right text, or a failure kind and words its detail must hold)
FRAMINGS = {
    # Transfer codings: only chunked is read (Twisted's parser looked the whole first header value up and failed
    # with "KeyError: b'gzip, chunked'"); identity names no coding, and the body is framed as if it were absent.
    "/te-gzip-chunked": (page("Transfer-Encoding: gzip, chunked", body=chunked(GZIPPED)),
                         ("framing", "Transfer-Encoding 'gzip, chunked'")),
    "/te-two-headers": (page("Transfer-Encoding: gzip", "Transfer-Encoding: chunked", body=chunked(GZIPPED)),
                        ("framing", "Transfer-Encoding 'gzip, chunked'")),
    "/te-gzip": (page("Transfer-Encoding: gzip", "Connection: close", body=GZIPPED), ("framing", "'gzip'")),
    "/te-identity": (page("Transfer-Encoding: identity", f"Content-Length: {len(POLICY)}"), RIGHT_TEXT),
    "/te-identity-chunked": (page("Transfer-Encoding: identity, chunked", body=chunked(POLICY)), RIGHT_TEXT),
    "/te-chunked": (page("Transfer-Encoding: Chunked", body=chunked(POLICY)), RIGHT_TEXT),
    # Content-Length: two different values are two places the body may end (response smuggling); the same value
    # twice is one.
    "/cl-conflict": (page("Content-Length: 100", "Content-Length: 200", body=POLICY[:200]),
                     ("framing", "conflicting Content-Length values (100, 200)")),
    "/cl-conflict-list": (page("Content-Length: 100, 200", body=POLICY[:200]),
                          ("framing", "conflicting Content-Length values (100, 200)")),
    "/cl-same": (page(f"Content-Length: {len(POLICY)}", f"Content-Length: {len(POLICY)}"), RIGHT_TEXT),
    # An empty entry beside one length is that length (it failed as Twisted's raw ValueError, review of the pass).
    "/cl-trailing-comma": (page(f"Content-Length: {len(POLICY)},"), RIGHT_TEXT),
    "/cl-leading-comma": (page(f"Content-Length: ,{len(POLICY)}"), RIGHT_TEXT),
    "/cl-empty-second": (page(f"Content-Length: {len(POLICY)}", "Content-Length: "), RIGHT_TEXT),
    "/cl-not-a-number": (page("Content-Length: 12abc"), ("framing", "Content-Length '12abc'")),
}


def test_a_framing_that_cannot_be_read_is_a_named_failure_and_one_that_can_is_the_page(store, raw_site, run_crawl,
                                                                                       fast_options):
    raw_site.responses.update({path: response for path, (response, _) in FRAMINGS.items()})
    results, by_url = _crawl(store, raw_site, run_crawl, dataclasses.replace(fast_options, retries=2), FRAMINGS)
    got, want = {}, {}
    for path, (_response, expected) in FRAMINGS.items():
        result = results[path]
        if expected == RIGHT_TEXT:
            got[path] = _archived_right(store, result, by_url[raw_site.url(path)])
            want[path] = True
        else:
            kind, said = expected
            got[path] = (result.outcome, result.error_kind, said in (result.detail or ""), "\n" in result.detail)
            want[path] = ("failed", kind, True, False)
    assert got == want, {path: results[path].detail for path in FRAMINGS}
    refused = [path for path, expected in FRAMINGS.items() if expected != RIGHT_TEXT]
    assert all([p for p, _ in raw_site.requests].count(path) == 1 for path in refused)  # not retried: it would be
    # the same bytes


def test_bytes_past_a_content_length_in_a_later_read_are_no_part_of_the_next_response(store, raw_site, run_crawl,
                                                                                      fast_options):
    # Each answer is whole at its Content-Length; more bytes follow on the connection, read only once the client has
    # sent its next request there (robots.txt's connection is the first page's). Twisted read them as that request's
    # status line ("ParseError: wrong number of parts"): the page failed as `error`, or Scrapy's retry saved it. With
    # no retry of Scrapy's, every page is archived: a request met by such bytes is sent again on a new connection.
    late = b"\r\n<p>A paragraph the server sent past its Content-Length, later.</p>\r\n"
    paths = ("/first", "/second", "/third")
    robots = b"User-agent: *\nAllow: /\n"
    raw_site.responses["/robots.txt"] = Raw(("HTTP/1.1 200 OK", "Content-Type: text/plain",
                                             f"Content-Length: {len(robots)}"), robots, later=late)
    raw_site.responses.update({path: page(f"Content-Length: {len(POLICY)}", later=late) for path in paths})
    results, by_url = _crawl(store, raw_site, run_crawl, dataclasses.replace(fast_options, retries=0), paths)
    assert raw_site.met_late_bytes  # the case happened
    asked = [path for path, _ in raw_site.requests]
    assert all(asked.count(path) == 2 for path in raw_site.met_late_bytes)  # sent again, on a new connection
    assert {path: (r.outcome, r.error_kind, r.detail) for path, r in results.items()} == {
        path: ("new_version", None, None) for path in paths}
    for path in paths:
        current = store.history.current_version(by_url[raw_site.url(path)])
        assert RIGHT_TEXT in current.text and "past its Content-Length" not in current.text


def test_a_robots_txt_whose_end_cannot_be_told_disallows_every_path(store, raw_site, run_crawl):
    # As one cut short (RFC 9309: a robots.txt the server failed to give): the framing failure was an IgnoreRequest,
    # read as "no robots.txt", and the page fetched.
    rules = b"User-agent: *\nDisallow: /terms\n"
    raw_site.responses["/robots.txt"] = Raw(("HTTP/1.1 200 OK", "Content-Type: text/plain",
                                             "Transfer-Encoding: gzip, chunked"), chunked(gzip.compress(rules)))
    raw_site.responses["/terms"] = page(f"Content-Length: {len(POLICY)}")
    results, _ = _crawl(store, raw_site, run_crawl, None, ["/terms"])
    assert (results["/terms"].outcome, results["/terms"].error_kind) == ("failed", "robots_disallowed")
    assert "Transfer-Encoding 'gzip, chunked'" in results["/terms"].detail
    assert [path for path, _ in raw_site.requests] == ["/robots.txt"]


def test_a_response_framed_both_chunked_and_by_length_is_read_chunked_and_its_connection_not_used_again(
        store, raw_site, run_crawl):
    # RFC 9112 §6.3: Transfer-Encoding wins over Content-Length, and the connection is closed after (where the next
    # response starts is not certain, a smuggling signal). It was read chunked and the connection kept (review of
    # 2026-12-03): the page after it was asked on the same connection.
    robots = b"User-agent: *\nAllow: /\n"
    raw_site.responses["/robots.txt"] = Raw(("HTTP/1.1 200 OK", "Content-Type: text/plain", "Content-Length: 5",
                                             "Transfer-Encoding: chunked"), chunked(robots))
    raw_site.responses["/terms"] = page(f"Content-Length: {len(POLICY)}")
    results, by_url = _crawl(store, raw_site, run_crawl, None, ["/terms"])
    assert _archived_right(store, results["/terms"], by_url[raw_site.url("/terms")])
    assert raw_site.requests == [("/robots.txt", 1), ("/terms", 2)]
