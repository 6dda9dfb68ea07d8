"""The private-network guard: a tracked page must not turn the crawler against its own network.

A redirect, meta refresh or browser navigation whose target is (or resolves to)
a loopback, private, link-local, CGNAT, multicast, unspecified or reserved
address is refused, unless the catalog URL of the crawl is itself on that
network or the network is allowed by ``CRAWL_ALLOWED_NETWORKS``.

The check is made where the address is chosen: :class:`GuardedResolver` sits
between Twisted's ``HostnameEndpoint`` and the system resolver, so the only
addresses a connection can be made to are the ones the guard let through (a
name that rebinds from public to private between two lookups is caught on the
lookup that is connected to). :class:`NetworkGuardMiddleware` refuses literal
addresses in every spelling before anything is sent and names the refusal.
See docs/decisions/0015-network-guard.md.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import threading
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IHostnameResolver, IResolutionReceiver
from zope.interface import implementer

from crawler.errors import AddressRefusedError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# The special-purpose blocks of the IANA registries (RFC 6890 and successors)
# that a crawler publishing what it fetches must not reach on a page's say-so.
GUARDED_NETWORKS: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "unspecified"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "carrier-grade NAT"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),  # cloud instance metadata lives here
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "reserved"),
    ("192.0.2.0/24", "reserved"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "reserved"),
    ("198.51.100.0/24", "reserved"),
    ("203.0.113.0/24", "reserved"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),  # includes the broadcast address
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("100::/64", "reserved"),
    ("2001:db8::/32", "reserved"),
    ("fc00::/7", "private"),  # unique-local
    ("fe80::/10", "link-local"),
    ("fec0::/10", "reserved"),  # deprecated site-local
    ("ff00::/8", "multicast"),
)

# IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64, the
# deprecated IPv4-compatible form); IPv4-mapped and 6to4 have ipaddress properties.
_EMBEDDING_IPV4 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("::/96"))


class NetworkGuard:
    """Which addresses a crawl may connect to, and the refusals it made (per host).

    ``guarded`` replaces the table of guarded networks (tests treat 127.0.0.1 as
    public and 127.0.0.2 as private this way); by default it is
    :data:`GUARDED_NETWORKS`, and any address Python does not know as globally
    routable is guarded too. ``allowed`` networks are never refused.
    ``resolver`` is the Twisted name resolver whose answers are checked (None:
    the reactor's own; tests map names to loopback addresses with theirs).
    """

    def __init__(self, allowed: Iterable[str] = (), guarded: Sequence[tuple[str, str]] | None = None,
                 resolver: Any = None):
        self.resolver = resolver
        self.allowed: list[Network] = [ipaddress.ip_network(n, strict=False) for n in allowed]
        self.guarded = [(ipaddress.ip_network(n), label) for n, label in (guarded or GUARDED_NETWORKS)]
        self.strict = guarded is None
        self._catalog_hosts: set[str] = set()
        self._looked_up: set[str] = set()
        self._refusals: dict[str, str] = {}
        self._lock = threading.Lock()

    def __deepcopy__(self, memo: dict[int, Any]) -> NetworkGuard:
        # Scrapy deep-copies its settings; the resolver, middleware and spider
        # of one crawl must share this one guard (its catalog hosts, refusals).
        return self

    # -- the policy ---------------------------------------------------------

    def refusal(self, address: Address) -> str | None:
        """Why a connection to ``address`` is refused, or None when it is allowed."""
        for candidate in _spellings(address):
            found = self._guarded_block(candidate)
            if found and not self._allowed(candidate):
                network, label = found
                return f"{address} is a {label} address ({network})"
        return None

    def _allowed(self, address: Address) -> bool:
        # Only networks of the address's own version (an IPv4-mapped address was judged as IPv4).
        return any(address.version == network.version and address in network for network in self.allowed)

    def _guarded_block(self, address: Address) -> tuple[Network, str] | None:
        for network, label in self.guarded:
            if address.version == network.version and address in network:
                return network, label
        if self.strict and not address.is_global:
            return ipaddress.ip_network(address), "non-global"
        return None

    def trust_catalog_address(self, address: Address) -> None:
        """A catalog URL is on ``address``: the operator chose that network, so allow its block."""
        for candidate in _spellings(address):
            found = self._guarded_block(candidate)
            if found:
                with self._lock:
                    if found[0] not in self.allowed:
                        self.allowed.append(found[0])

    # -- catalog hosts and refusals, shared with the resolver thread --------

    def add_catalog_host(self, host: str) -> None:
        with self._lock:
            self._catalog_hosts.add(host)

    def add_catalog_url(self, url: str) -> None:
        """A catalog URL is about to be fetched: its host (and its network, when a literal) is the operator's."""
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:  # an unclosed "[": its request fails as a catalog error, nothing to trust
            return
        self.add_catalog_host(host)
        address = host_address(host)
        if address is not None:
            self.trust_catalog_address(address)

    def first_catalog_lookup(self, host: str) -> bool:
        """True for the first lookup of a catalog host in this crawl: its answer says which network
        the operator's URL is on. Later lookups are judged like any other, so a catalog name that
        rebinds from public to private is refused too."""
        with self._lock:
            if host not in self._catalog_hosts or host in self._looked_up:
                return False
            self._looked_up.add(host)
            return True

    def record_refusal(self, host: str, reason: str) -> None:
        with self._lock:
            self._refusals[host] = reason

    def refusal_of(self, host: str) -> str | None:
        with self._lock:
            return self._refusals.get(host)

    def last_refusal_among(self, hosts: Sequence[str]) -> str | None:
        """The refusal of the last of ``hosts`` (a browser page's navigation hops) that was refused, or None."""
        for host in reversed(hosts):
            reason = self.refusal_of(host)
            if reason:
                return reason
        return None

    def check_url(self, url: str) -> str | None:
        """Why ``url`` is refused without any lookup (its host is a literal address), or None."""
        address = host_address(urlsplit(url).hostname or "")
        return self.refusal(address) if address is not None else None


def _spellings(address: Address) -> list[Address]:
    """The addresses a connection to ``address`` reaches: an IPv4-mapped address is its IPv4
    address; 6to4, NAT64 and IPv4-compatible addresses count as themselves and their IPv4."""
    if not isinstance(address, ipaddress.IPv6Address):
        return [address]
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    found: list[Address] = [address]
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address in _EMBEDDING_IPV4[0] or (address in _EMBEDDING_IPV4[1] and int(address) > 1):
        found.append(ipaddress.IPv4Address(address.packed[12:]))
    return found


_IPV4_PART = re.compile(r"^(?:0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*)$")


def host_address(host: str) -> Address | None:
    """The address a URL host denotes when it is a literal, in any spelling a browser accepts.

    IPv6 (brackets already removed by urlsplit, zone ids dropped) and IPv4 in the
    WHATWG URL forms: dotted, one to four parts, each decimal, octal (leading 0)
    or hex (0x), e.g. ``2130706433``, ``0x7f.1``, ``017700000001``, ``127.1``.
    """
    host = host.strip().rstrip(".").lower()
    if not host:
        return None
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return None
    parts = host.split(".")
    if len(parts) > 4 or not all(_IPV4_PART.match(p) for p in parts):
        return None
    numbers = [int(p, 16) if p[:2] == "0x" else int(p, 8) if len(p) > 1 and p[0] == "0" else int(p or "0")
               for p in parts]
    *leading, last = numbers
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(parts)):
        return None
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _ip(host: str) -> Address:
    return ipaddress.ip_address(host.split("%", 1)[0])


# --- Twisted: the resolver every connection of the crawl goes through ------------


@implementer(IResolutionReceiver)
class _FilteringReceiver:
    """Passes on only the addresses the guard allows; remembers why others were dropped."""

    def __init__(self, receiver: Any, host: str, guard: NetworkGuard):
        self.receiver = receiver
        self.host = host
        self.guard = guard
        self.catalog = guard.first_catalog_lookup(host)
        self.refusals: list[str] = []

    def resolutionBegan(self, resolution: Any) -> None:  # noqa: N802 - the Twisted interface
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address: Any) -> None:  # noqa: N802
        ip = _ip(address.host)
        if self.catalog:
            self.guard.trust_catalog_address(ip)
        reason = self.guard.refusal(ip)
        if reason:
            self.refusals.append(f"refused to connect to {self.host}: {reason}")
            self.guard.record_refusal(self.host, self.refusals[-1])
            return
        self.receiver.addressResolved(address)

    def resolutionComplete(self) -> None:  # noqa: N802
        self.receiver.resolutionComplete()


@implementer(IHostnameResolver)
class GuardedResolver:
    """The reactor's name resolver during a crawl: the inner resolver's answers, filtered by the guard.

    Twisted's ``HostnameEndpoint`` (used by Scrapy's HTTP/1.1 handler) connects
    only to addresses this resolver reports, so the address checked is the one
    connected to. Installed with the public ``installNameResolver``; Scrapy's
    own ``TWISTED_DNS_RESOLVER`` is applied by ``CrawlerProcess`` only, not by
    the ``CrawlerRunner`` we run crawls with.
    """

    def __init__(self, inner: Any, guard: NetworkGuard, system: Any = None):
        self.inner = inner
        self.guard = guard
        self.system = system or inner

    def resolveHostName(self, resolutionReceiver: Any, hostName: str, portNumber: int = 0,  # noqa: N802, N803
                        addressTypes: Any = None, transportSemantics: str = "TCP") -> Any:  # noqa: N803
        receiver = _FilteringReceiver(resolutionReceiver, hostName, self.guard)
        return self.inner.resolveHostName(receiver, hostName, portNumber, addressTypes, transportSemantics)

    @classmethod
    def install(cls, reactor: Any, guard: NetworkGuard, inner: Any = None) -> GuardedResolver:
        """Put a resolver for ``guard`` on the reactor (replacing the one of an earlier crawl)."""
        system = _system_resolver(reactor)
        resolver = cls(inner or system, guard, system)
        reactor.installNameResolver(resolver)
        return resolver


def _system_resolver(reactor: Any) -> Any:
    current = reactor.nameResolver
    return current.system if isinstance(current, GuardedResolver) else current


@implementer(IResolutionReceiver)
class _Collector:
    """The end of a guarded lookup made outside Twisted's endpoints: the allowed addresses, in order."""

    def __init__(self) -> None:
        self.addresses: list[Address] = []
        self.done: Deferred[list[Address]] = Deferred()

    def resolutionBegan(self, resolution: Any) -> None:  # noqa: N802 - the Twisted interface
        pass

    def addressResolved(self, address: Any) -> None:  # noqa: N802
        self.addresses.append(_ip(address.host))

    def resolutionComplete(self) -> None:  # noqa: N802
        self.done.callback(self.addresses)


async def guarded_lookup(guard: NetworkGuard, host: str, port: int) -> tuple[list[Address], list[str]]:
    """Look ``host`` up as a Scrapy connection would: the addresses the guard allows, and why others were dropped.

    For the browser's proxy (crawler/browserproxy.py) and its request routing, which
    run on the reactor's asyncio loop: the same resolver (the guard's, else the
    system's) and the same judgement (:class:`_FilteringReceiver`) as every
    connection of the Scrapy path.
    """
    from twisted.internet import reactor

    collector = _Collector()
    receiver = _FilteringReceiver(collector, host, guard)
    literal = host_address(host)
    if literal is not None:  # an address needs no resolver (and no trip to its thread pool)
        receiver.resolutionBegan(None)
        kind = IPv4Address if literal.version == 4 else IPv6Address
        receiver.addressResolved(kind("TCP", str(literal), port))
        receiver.resolutionComplete()
    else:
        (guard.resolver or _system_resolver(reactor)).resolveHostName(receiver, host, port)
    addresses = await collector.done.asFuture(asyncio.get_running_loop())
    return addresses, receiver.refusals


# --- Scrapy: refuse literal addresses up front, name resolver refusals ----------


class NetworkGuardMiddleware:
    """Downloader middleware of the guard; its settings are ``NETWORK_GUARD`` (a :class:`NetworkGuard`).

    Every request whose host is a literal address is checked before it is sent
    (catalog URLs were registered by the spider, so their network is allowed); a connection refused by :class:`GuardedResolver` comes
    back as a lookup error and is renamed ``AddressRefusedError`` here.
    """

    def __init__(self, guard: NetworkGuard):
        self.guard = guard

    @classmethod
    def from_crawler(cls, crawler: Any) -> NetworkGuardMiddleware:
        from scrapy.exceptions import NotConfigured
        from twisted.internet import reactor

        guard = crawler.settings.get("NETWORK_GUARD")
        if guard is None:
            raise NotConfigured("no NETWORK_GUARD")
        GuardedResolver.install(reactor, guard, guard.resolver)
        return cls(guard)

    def process_request(self, request: Any, spider: Any = None) -> None:
        address = host_address(urlsplit(request.url).hostname or "")
        reason = self.guard.refusal(address) if address is not None else None
        if reason:
            raise AddressRefusedError(f"refused to fetch {request.url}: {reason}")

    def process_exception(self, request: Any, exception: BaseException, spider: Any = None) -> None:
        if request.meta.get("playwright"):
            # A browser page fails with Chromium's error when the browser's proxy refused its
            # navigation (crawler/browserproxy.py): name the refusal of one of its hops.
            reason = request.meta.get("network_refusal") or self.guard.last_refusal_among(
                request.meta.get("navigated_hosts", ()))
        else:
            reason = self.guard.refusal_of(urlsplit(request.url).hostname or "")
            reason = reason if _is_lookup_error(exception) else None
        if reason:
            request.meta["network_refusal"] = reason
            request.meta["dont_retry"] = True


def _is_lookup_error(exception: BaseException) -> bool:
    import scrapy.exceptions
    from twisted.internet.error import DNSLookupError

    lookup = getattr(scrapy.exceptions, "CannotResolveHostError", DNSLookupError)
    return isinstance(exception, (DNSLookupError, lookup))
