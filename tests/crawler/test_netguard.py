"""The private-network guard: literal address forms, the policy table, and real crawls on loopback.

Every request in these tests goes to loopback. 127.0.0.1 plays the public
internet and 127.0.0.2 (or ::1) the private network the guard protects: the
crawls pass their own guarded table, or rely on the default one where the
catalog URL on 127.0.0.1 allows 127.0.0.0/8 but not ::1.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterator

import pytest
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IHostnameResolver
from zope.interface import implementer

from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
from clausewatch.loopback_site import LocalSite, Page
from crawler.netguard import NetworkGuard, host_address

POLICY = b"<main><h1>Terms</h1><p>These are the terms of service of the public site.</p></main>"
SECRET = b"<main><h1>Admin console</h1><p>instance credentials: AKIA-SECRET-TOKEN-0000</p></main>"
# 127.0.0.1 is the public side, 127.0.0.2 the private side.
TEST_TABLE = (("127.0.0.2/32", "private"), ("::1/128", "loopback"))


def platform(url: str) -> PlatformSpec:
    return PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SourceSpec(url),)),))


def outcome(report) -> tuple[str, str | None]:
    (result,) = report.results
    return result.outcome, result.error_kind


@pytest.fixture
def private() -> Iterator[LocalSite]:
    with LocalSite({"/": Page(SECRET), "/admin": Page(SECRET)}, host="127.0.0.2") as running:
        yield running


@pytest.fixture
def guarded_options(fast_options):
    return dataclasses.replace(fast_options, guarded_networks=TEST_TABLE)


def assert_nothing_from(private: LocalSite, store) -> None:
    assert private.requests == [], "the guarded address must never be sent a request"
    assert store.history.versions("CW-D-00001") == []
    assert store.history.snapshots("CW-D-00001") == []


# --- Literal hosts in every spelling --------------------------------------------


@pytest.mark.parametrize("host", [
    "127.0.0.2", "2130706434", "0x7f000002", "017700000002", "0x7f.0.0.2", "0177.0.0.02", "127.2", "127.0.2",
    "0x7F.0x00.0x00.0x02", "127.0.0.2.",
])
def test_every_ipv4_spelling_is_the_same_address(host):
    assert host_address(host) == ipaddress.IPv4Address("127.0.0.2")


@pytest.mark.parametrize("host,expected", [
    ("::1", "::1"), ("::ffff:127.0.0.2", "::ffff:7f00:2"), ("fe80::1%eth0", "fe80::1"),
])
def test_ipv6_literals(host, expected):
    assert host_address(host) == ipaddress.IPv6Address(expected)


@pytest.mark.parametrize("host", ["example.com", "1.2.3.4.5", "256.1.1.1", "0x1g.0.0.1", "127.0.0.1.example", ""])
def test_names_and_invalid_numbers_are_not_addresses(host):
    assert host_address(host) is None


# --- The default table ----------------------------------------------------------


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1",
    "100.127.255.254", "169.254.169.254", "224.0.0.1", "239.255.255.250", "0.0.0.0", "240.0.0.1",
    "255.255.255.255", "198.18.0.1", "192.0.0.170", "::1", "::", "fd00::1", "fc12::9", "fe80::1", "ff02::1",
    "::ffff:169.254.169.254", "::ffff:10.0.0.1", "2002:a9fe:a9fe::1", "64:ff9b::a9fe:a9fe", "::a9fe:a9fe",
])
def test_default_guard_refuses_every_non_public_address(address):
    assert NetworkGuard().refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "100.128.0.1", "172.32.0.1",
                                     "2606:4700:4700::1111", "::ffff:93.184.216.34"])
def test_default_guard_allows_public_addresses(address):
    assert NetworkGuard().refusal(ipaddress.ip_address(address)) is None


def test_allowed_networks_and_the_catalog_network_are_not_refused():
    guard = NetworkGuard(allowed=["10.0.0.0/8"])
    assert guard.refusal(ipaddress.ip_address("10.20.30.40")) is None
    assert guard.refusal(ipaddress.ip_address("::ffff:10.20.30.40")) is None
    assert "192.168.0.0/16" in guard.refusal(ipaddress.ip_address("192.168.0.9"))
    guard.trust_catalog_address(ipaddress.ip_address("192.168.7.7"))  # an intranet policy in the catalog
    assert guard.refusal(ipaddress.ip_address("192.168.0.9")) is None
    assert guard.refusal(ipaddress.ip_address("172.16.0.1")) is not None


def test_check_url_reads_the_host_of_a_url():
    guard = NetworkGuard()
    assert "link-local" in guard.check_url("http://0xa9fea9fe/latest/meta-data/")
    assert "loopback" in guard.check_url("http://[::1]:8080/")
    assert guard.check_url("https://example.com/terms") is None


# --- Real crawls ----------------------------------------------------------------


@pytest.mark.parametrize("form", ["127.0.0.2", "2130706434", "0x7f000002", "017700000002", "127.2",
                                  "[::ffff:127.0.0.2]"])
def test_http_redirect_to_a_guarded_address_is_refused_in_every_spelling(store, site, private, run_crawl,
                                                                         guarded_options, form):
    port = private.base_url.rsplit(":", 1)[1]
    site.set("/terms", Page(b"", status=302, headers={"Location": f"http://{form}:{port}/admin"}))
    report = run_crawl(store, [platform(site.url("/terms"))], guarded_options)
    assert outcome(report) == ("failed", "redirect_refused")
    assert "private" in report.results[0].detail
    assert_nothing_from(private, store)


def test_meta_refresh_to_a_guarded_address_is_refused(store, site, private, run_crawl, guarded_options):
    refresh = f'<html><head><meta http-equiv="refresh" content="0; url={private.url("/admin")}"></head></html>'
    site.set("/terms", Page(refresh.encode()))
    report = run_crawl(store, [platform(site.url("/terms"))], guarded_options)
    assert outcome(report) == ("failed", "redirect_refused")
    assert_nothing_from(private, store)


def test_default_table_allows_the_catalog_network_but_not_another_one(store, site, run_crawl, fast_options):
    with LocalSite({"/admin": Page(SECRET)}, host="::1") as ipv6, \
            LocalSite({"/intranet": Page(POLICY)}, host="127.0.0.2") as neighbour:
        site.set("/terms", Page(b"", status=302, headers={"Location": ipv6.url("/admin")}))
        report = run_crawl(store, [platform(site.url("/terms"))], fast_options)
        assert outcome(report) == ("failed", "redirect_refused")
        assert_nothing_from(ipv6, store)
        # The catalog URL is on 127.0.0.0/8: the operator tracks a policy on that network on purpose.
        site.set("/terms", Page(b"", status=302, headers={"Location": neighbour.url("/intranet")}))
        assert outcome(run_crawl(store, [platform(site.url("/terms"))], fast_options)) == ("new_version", None)


def test_allowed_networks_are_followed(store, site, private, run_crawl, guarded_options):
    private.set("/admin", Page(POLICY))
    site.set("/terms", Page(b"", status=302, headers={"Location": private.url("/admin")}))
    options = dataclasses.replace(guarded_options, allowed_networks=("127.0.0.2/32",))
    assert outcome(run_crawl(store, [platform(site.url("/terms"))], options)) == ("new_version", None)
    assert "public site" in store.history.current_version("CW-D-00001").text


@implementer(IHostnameResolver)
class LoopbackNames:
    """A name resolver for tests: each name answers its lists of loopback addresses in turn
    (the last one repeats), literal addresses answer themselves, other names do not resolve."""

    def __init__(self, answers: dict[str, list[list[str]]]):
        self.answers = {name: list(lists) for name, lists in answers.items()}
        self.lookups: list[tuple[str, list[str]]] = []

    def resolveHostName(self, receiver, hostName, portNumber=0, addressTypes=None,  # noqa: N802, N803
                        transportSemantics="TCP"):  # noqa: N803
        literal = host_address(hostName)
        queue = self.answers.get(hostName, [])
        addresses = [str(literal)] if literal else (queue.pop(0) if len(queue) > 1 else (queue or [[]])[0])
        self.lookups.append((hostName, addresses))
        receiver.resolutionBegan(None)
        for address in addresses:
            kind = IPv6Address if ":" in address else IPv4Address
            receiver.addressResolved(kind("TCP", address, portNumber))
        receiver.resolutionComplete()
        return None


def test_a_name_resolving_to_a_guarded_address_is_refused(store, site, private, run_crawl, guarded_options):
    names = LoopbackNames({"metadata.example": [["127.0.0.2"]]})
    port = private.base_url.rsplit(":", 1)[1]
    site.set("/terms", Page(b"", status=301, headers={"Location": f"http://metadata.example:{port}/admin"}))
    options = dataclasses.replace(guarded_options, name_resolver=names, obey_robots=False)
    report = run_crawl(store, [platform(site.url("/terms"))], options)
    assert outcome(report) == ("failed", "redirect_refused")
    assert "refused to connect to metadata.example" in report.results[0].detail
    assert_nothing_from(private, store)


def test_a_name_that_rebinds_to_a_guarded_address_is_caught_on_the_lookup_connected_to(
        store, private, run_crawl, guarded_options):
    port = int(private.base_url.rsplit(":", 1)[1])
    names = LoopbackNames({"rebind.example": [["127.0.0.1"], ["127.0.0.2"]]})
    closing = {"Connection": "close"}  # no kept-alive connection: every fetch looks the name up again
    target = f"http://rebind.example:{port}/admin"
    # The public side listens on the same port as the private one, so only the address differs.
    with LocalSite({"/admin": Page(POLICY, headers=closing)}, port=port) as public:
        public.set("/a", Page(b"", status=302, headers={"Location": target, **closing}))
        public.set("/b", Page(b"", status=302, headers={"Location": target, **closing}))
        acme = PlatformSpec("acme", "Acme", (
            DocumentSpec("first", "Terms of Service", (SourceSpec(public.url("/a")),)),
            DocumentSpec("second", "Privacy Policy", (SourceSpec(public.url("/b")),)),
        ))
        options = dataclasses.replace(guarded_options, name_resolver=names, obey_robots=False)
        report = run_crawl(store, [acme], options)
    assert [answer for name, answer in names.lookups if name == "rebind.example"] == [["127.0.0.1"], ["127.0.0.2"]]
    assert sorted((r.outcome, r.error_kind) for r in report.results) == [
        ("failed", "redirect_refused"), ("new_version", None)]
    assert private.requests == [], "the rebound lookup must not be connected to"


def test_a_catalog_name_that_rebinds_from_public_to_private_is_refused(store, private, run_crawl, guarded_options):
    port = int(private.base_url.rsplit(":", 1)[1])
    names = LoopbackNames({"policy.example": [["127.0.0.1"], ["127.0.0.2"]]})
    closing = {"Connection": "close"}
    with LocalSite({"/terms": Page(POLICY, headers=closing), "/privacy": Page(POLICY, headers=closing)},
                   port=port):
        acme = PlatformSpec("acme", "Acme", (
            DocumentSpec("terms", "Terms of Service", (SourceSpec(f"http://policy.example:{port}/terms"),)),
            DocumentSpec("privacy", "Privacy Policy", (SourceSpec(f"http://policy.example:{port}/privacy"),)),
        ))
        options = dataclasses.replace(guarded_options, name_resolver=names, obey_robots=False)
        report = run_crawl(store, [acme], options)
    assert sorted((r.outcome, r.error_kind) for r in report.results) == [
        ("failed", "redirect_refused"), ("new_version", None)]
    assert private.requests == []


def test_a_catalog_name_on_a_private_network_is_fetched(store, private, run_crawl, guarded_options):
    private.set("/intranet", Page(POLICY))
    names = LoopbackNames({"intranet.corp": [["127.0.0.2"]]})
    port = private.base_url.rsplit(":", 1)[1]
    options = dataclasses.replace(guarded_options, name_resolver=names, obey_robots=False)
    report = run_crawl(store, [platform(f"http://intranet.corp:{port}/intranet")], options)
    assert outcome(report) == ("new_version", None)


def test_an_allowed_ipv6_prefix_never_allows_an_ipv4_address():
    guard = NetworkGuard(allowed=["::/96"])
    assert guard.refusal(ipaddress.ip_address("10.0.0.1")) is not None
