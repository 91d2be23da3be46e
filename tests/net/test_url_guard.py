"""The URL-level half of the address guard, with DNS that would let anything through.

The resolver here answers a public address for every host it is asked about, so the connect-time
filter never refuses: each refusal below can only come from `check_url`, before any DNS lookup.
"""

from __future__ import annotations

import ipaddress
import socket

import pytest

from bot.errors import UnsafeURL
from bot.net.addresses import (
    AddressPolicy,
    BlockedAddressError,
    GuardedResolver,
    blocked_reason,
    check_url,
    parse_ip_literal,
)
from bot.net.fetcher import Fetcher, FetchLimits, create_session

PUBLIC = "93.184.216.34"


def _teredo(client: str) -> str:
    """A Teredo address whose (obfuscated) client is `client`, via a public Teredo server."""
    server = int(ipaddress.IPv4Address("65.54.227.120"))
    obfuscated = int(ipaddress.IPv4Address(client)) ^ 0xFFFFFFFF
    return str(ipaddress.IPv6Address((0x20010000 << 96) | (server << 64) | obfuscated))
from tests.net.dns import FakeDNS


@pytest.fixture
async def guarded():
    resolver = FakeDNS(PUBLIC)
    session = create_session(AddressPolicy(), resolver=resolver)
    # Short limits: should a check be missing, the test fails on a quick connect error, not a hang.
    yield Fetcher(session, FetchLimits(connect_timeout=0.5, read_timeout=0.5, total_timeout=1)), resolver
    await session.close()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://user@example.com/feed", "user name or password"),
        ("http://:secret@example.com/feed", "user name or password"),
        ("http://user:secret@example.com/feed", "user name or password"),
        ("http://localhost./feed", "localhost is this machine"),
        ("http://LocalHost/feed", "localhost is this machine"),
        ("http://foo.localhost/feed", "foo.localhost is this machine"),
        ("http://a.b.localhost./feed", "a.b.localhost is this machine"),
        ("http://127.0.0.1./feed", "127.0.0.1 is a loopback address"),
        ("http://10.0.0.1./feed", "10.0.0.1 is a private address"),
        (f"http://[{_teredo('127.0.0.1')}]/feed", "an IPv6 form of 127.0.0.1, a loopback address"),
        (f"http://[{_teredo('10.0.0.1')}]/feed", "an IPv6 form of 10.0.0.1, a private address"),
        ("http://[::127.0.0.1]/feed", "an IPv6 form of 127.0.0.1, a loopback address"),
        ("http://[::10.1.2.3]/feed", "an IPv6 form of 10.1.2.3, a private address"),
        ("http://[::ffff:192.168.0.1]/feed", "an IPv6 form of 192.168.0.1, a private address"),
    ],
)
async def test_the_url_check_refuses_before_dns_is_asked(guarded, url, reason):
    fetcher, resolver = guarded
    with pytest.raises(UnsafeURL) as caught:
        await fetcher.fetch(url)
    assert reason in str(caught.value)
    assert resolver.asked == []
    assert "secret" not in str(caught.value)


async def test_names_that_merely_contain_localhost_are_ordinary_hosts(guarded):
    fetcher, _resolver = guarded
    for host in ("localhost.example", "mylocalhost", "notlocalhost."):
        # No UnsafeURL: these are somebody's public names, left to the resolver-level check.
        assert check_url(f"http://{host}/", fetcher.policy).raw_host == host


@pytest.mark.parametrize("host", ["exa mple.com", "exa_mple.com\\x", "ex%41mple.com"])
def test_a_host_name_with_characters_no_host_name_has_is_refused(host):
    with pytest.raises(UnsafeURL):
        check_url(f"http://{host}/", AddressPolicy())


def test_an_empty_host_is_refused():
    with pytest.raises(UnsafeURL, match="no host"):
        check_url("http:///feed", AddressPolicy())


def test_scheme_is_compared_case_blind_and_only_http_and_https_pass():
    assert check_url("HTTPS://example.com/", AddressPolicy()).host == "example.com"
    assert check_url("Http://example.com/", AddressPolicy()).host == "example.com"
    with pytest.raises(UnsafeURL, match="not ftp:"):
        check_url("ftp://example.com/", AddressPolicy())
    with pytest.raises(UnsafeURL, match="not a relative path"):
        check_url("//example.com/", AddressPolicy())


def test_a_url_of_exactly_the_length_limit_passes_and_one_more_is_refused():
    head = "http://example.com/"
    exact = head + "a" * (2000 - len(head))
    assert str(check_url(exact, AddressPolicy())) == exact
    with pytest.raises(UnsafeURL, match="longer than 2000"):
        check_url(exact + "a", AddressPolicy())


def test_extra_allowed_uses_the_scheme_default_port():
    https = AddressPolicy(extra_allowed=frozenset({("127.0.0.1", 443)}))
    assert check_url("https://127.0.0.1/feed", https).port == 443
    with pytest.raises(UnsafeURL):
        check_url("http://127.0.0.1/feed", https)
    http = AddressPolicy(extra_allowed=frozenset({("127.0.0.1", 80)}))
    assert check_url("http://127.0.0.1/feed", http).port == 80
    with pytest.raises(UnsafeURL):
        check_url("https://127.0.0.1/feed", http)


def test_extra_allowed_matches_an_ipv6_host_case_blind_without_brackets():
    policy = AddressPolicy(extra_allowed=frozenset({("fe80::1", 8080)}))
    assert policy.allows_endpoint("[FE80::1]", 8080)
    assert not policy.allows_endpoint("[fe80::1]", 8081)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        (_teredo("127.0.0.1"), "an IPv6 form of 127.0.0.1, a loopback address"),
        (_teredo("192.168.1.1"), "an IPv6 form of 192.168.1.1, a private address"),
        ("::ffff:10.0.0.1", "an IPv6 form of 10.0.0.1, a private address"),
        ("::169.254.169.254", "an IPv6 form of 169.254.169.254, a link-local address"),
        ("64:ff9b:1::a00:1", "an IPv6 form of 10.0.0.1, a private address"),
        ("fec0::1", "a site-local address"),
        ("100.127.255.255", "a shared (carrier-grade NAT) address"),
        ("198.18.0.1", "a private address"),
        ("::2", "an IPv6 form of 0.0.0.2, a private address"),
        # Wrappers that carry a public IPv4 address are still refused when they are not a route to it.
        (_teredo("8.8.8.8"), "a private address"),
        ("::8.8.8.8", "a reserved address"),
        ("::1:a00:1", "a reserved address"),  # 33 bits: not an IPv4-compatible address
    ],
)
def test_names_the_real_target_of_every_wrapped_address(address, reason):
    assert blocked_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(
    "address", ["::ffff:8.8.8.8", "2002:808:808::1", "64:ff9b::808:808", "100.128.0.1", "100.63.255.255"]
)
def test_public_addresses_in_every_wrapper_pass(address):
    assert blocked_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1.", "127.0.0.1"),
        ("0X7F.1", "127.0.0.1"),
        ("0x7f.0.0.0x1", "127.0.0.1"),
        ("0x.0.0.1", "0.0.0.1"),
        ("00.0.0.1", "0.0.0.1"),
        ("1.16777215", "1.255.255.255"),
        ("4294967295", "255.255.255.255"),
        ("[fe80::1%25eth0]", "fe80::1"),
        ("fe80::1%eth0%1", "fe80::1"),
        ("255.255.255.255", "255.255.255.255"),
        ("192.168.255.1", "192.168.255.1"),
    ],
)
def test_reads_the_rarer_ip_spellings(host, expected):
    assert str(parse_ip_literal(host)) == expected


@pytest.mark.parametrize("host", ["example.cafe", "my.feed", "feed.0xg", "news.0xzz", "a.b"])
def test_a_last_label_that_only_looks_hexadecimal_is_a_host_name(host):
    assert parse_ip_literal(host) is None


@pytest.mark.parametrize(
    "host", ["4294967296", "1.16777216", "1.2.65536", "0x1g.0.0.1", "1..1", "[::g]", "1.2.3.4.0", "1.2.3.4.5.6"])
def test_refuses_numbers_just_past_each_limit(host):
    with pytest.raises(UnsafeURL):
        parse_ip_literal(host)


async def test_the_resolver_asks_the_inner_one_exactly_what_it_was_asked():
    inner = FakeDNS(PUBLIC)
    answers = await GuardedResolver(AddressPolicy(), inner).resolve("feeds.example", 443, socket.AF_INET6)
    assert [a["host"] for a in answers] == [PUBLIC]
    assert inner.asked == [("feeds.example", 443, socket.AF_INET6)]


async def test_the_resolver_lets_through_an_allowed_endpoint_on_its_port_only():
    policy = AddressPolicy(extra_allowed=frozenset({("localhost", 8080)}))
    resolver = GuardedResolver(policy, FakeDNS("127.0.0.1"))
    assert [a["host"] for a in await resolver.resolve("localhost", 8080)] == ["127.0.0.1"]
    with pytest.raises(BlockedAddressError):
        await resolver.resolve("localhost", 8081)


async def test_the_resolver_skips_unreadable_answers_and_keeps_later_public_ones():
    resolver = GuardedResolver(AddressPolicy(), FakeDNS("not-an-address", "10.0.0.1", PUBLIC))
    assert [a["host"] for a in await resolver.resolve("mixed.example", 80)] == [PUBLIC]


async def test_the_resolver_names_a_scoped_link_local_answer_it_refused():
    resolver = GuardedResolver(AddressPolicy(), FakeDNS("fe80::1%2"))
    with pytest.raises(BlockedAddressError) as caught:
        await resolver.resolve("scoped.example", 80)
    assert caught.value.host == "scoped.example"
    assert caught.value.message == "refused: scoped.example resolves to fe80::1, a link-local address"
