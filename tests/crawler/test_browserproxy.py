"""The guarded forward proxy in front of Chromium, spoken to over real loopback sockets.

127.0.0.1 plays the public internet and 127.0.0.2 the private network; names
exist only in the test resolver. The proxy runs on the reactor's asyncio loop,
as in a crawl.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import crochet
import pytest
from twisted.internet.defer import Deferred

from clausewatch.loopback_site import LocalSite, Page
from crawler.browserproxy import GuardedProxy
from crawler.netguard import NetworkGuard
from crawler.runner import CrawlRunner
from tests.crawler.test_netguard import SECRET, LoopbackNames

POLICY = b"<main><h1>Terms</h1><p>These are the terms of service of the public site.</p></main>"


@pytest.fixture
def private() -> Iterator[LocalSite]:
    with LocalSite({"/admin": Page(SECRET)}, host="127.0.0.2") as running:
        yield running


@pytest.fixture
def public() -> Iterator[LocalSite]:
    with LocalSite({"/terms": Page(POLICY)}) as running:
        yield running


def exchange(proxy: GuardedProxy, *messages: bytes) -> bytes:
    """Send ``messages`` to the running proxy, one after each answer head, and return all it answered."""
    CrawlRunner()  # the reactor thread, whose asyncio loop serves the proxy

    async def talk() -> bytes:
        await proxy.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", int(proxy.url.rsplit(":", 1)[1]))
            answer = b""
            for message in messages:
                writer.write(message)
                answer += await reader.readuntil(b"\r\n\r\n") if message is not messages[-1] else b""
            answer += await reader.read()  # until the proxy closes
            writer.close()
            return answer
        finally:
            await proxy.close()

    @crochet.wait_for(timeout=30)
    def in_reactor() -> Deferred:
        return Deferred.fromFuture(asyncio.ensure_future(talk()))

    return in_reactor()


def proxy_for(names: dict[str, list[list[str]]] | None = None) -> GuardedProxy:
    guard = NetworkGuard(guarded=(("127.0.0.2/32", "private"),), resolver=LoopbackNames(names or {}))
    return GuardedProxy(guard, timeout=5)


def test_a_connect_to_a_guarded_address_is_answered_403_and_never_made(private):
    proxy = proxy_for({"metadata.example": [["127.0.0.2"]]})
    port = private.base_url.rsplit(":", 1)[1]
    answer = exchange(proxy, f"CONNECT metadata.example:{port} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 403 ")
    assert proxy.refused == 1
    assert private.requests == []


def test_a_plain_request_to_a_guarded_address_is_closed_unanswered(private):
    proxy = proxy_for()
    answer = exchange(proxy, f"GET {private.url('/admin')} HTTP/1.1\r\nHost: 127.0.0.2\r\n\r\n".encode())
    assert answer == b"", "nothing Chromium could render as the site's page"
    assert private.requests == []


def test_a_plain_request_is_forwarded_to_the_address_looked_up_once_and_its_connection_closed(public):
    names = LoopbackNames({"public.example": [["127.0.0.1"], ["127.0.0.2"]]})
    proxy = GuardedProxy(NetworkGuard(guarded=(("127.0.0.2/32", "private"),), resolver=names), timeout=5)
    port = public.base_url.rsplit(":", 1)[1]
    request = (f"GET http://public.example:{port}/terms HTTP/1.1\r\nHost: public.example:{port}\r\n"
               "Proxy-Connection: keep-alive\r\n\r\n").encode()
    answer = exchange(proxy, request)
    head, body = answer.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.") and b" 200 " in head.split(b"\r\n")[0]
    assert b"Connection: close" in head.split(b"\r\n") and b"keep-alive" not in head.lower()
    assert body == POLICY
    assert names.lookups == [("public.example", ["127.0.0.1"])], "connected to the one lookup it judged"
    ((path, headers),) = public.requests
    assert path == "/terms"
    assert "Proxy-Connection" not in headers and headers.get("Connection") == "close"


def test_a_tunnel_relays_both_ways(public):
    proxy = proxy_for({"public.example": [["127.0.0.1"]]})
    port = public.base_url.rsplit(":", 1)[1]
    answer = exchange(proxy, f"CONNECT public.example:{port} HTTP/1.1\r\n\r\n".encode(),
                      "GET /terms HTTP/1.1\r\nHost: public.example\r\nConnection: close\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 200 Connection Established\r\n\r\nHTTP/1.")
    assert answer.endswith(POLICY)


@pytest.mark.parametrize("head", [
    b"GET /relative HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",  # not a proxy request
    b"GET https://public.example/terms HTTP/1.1\r\n\r\n",  # https comes as CONNECT, never in the clear
    b"CONNECT public.example HTTP/1.1\r\n\r\n",  # no port
    b"nonsense\r\n\r\n",
])
def test_what_is_not_a_proxy_request_is_closed_unanswered(head):
    proxy = proxy_for({"public.example": [["127.0.0.1"]]})
    assert exchange(proxy, head) == b""
