"""The address policy: which IP literals and DNS answers fanbot refuses, in every spelling."""

from __future__ import annotations

import ipaddress

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
from tests.net.dns import FakeDNS


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("192.168.257", "192.168.1.1"),
        ("8.8.8.8", "8.8.8.8"),
        ("[::1]", "::1"),
        ("example.com", None),
    ],
)
def test_reads_every_ipv4_spelling_getaddrinfo_accepts(host, expected):
    parsed = parse_ip_literal(host)
    assert (str(parsed) if parsed else None) == expected


# "1_0" is a hostname label (check_url lets "_" through) that Python's int() would read as 10.
@pytest.mark.parametrize("host", ["1.2.3.4.5", "256.1.1.1", "1.2.3.0x100", "example.123", "08.1.1.1", "1_0.0.0.1"])
def test_refuses_hosts_that_look_numeric_but_are_not_addresses(host):
    with pytest.raises(UnsafeURL):
        parse_ip_literal(host)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("10.2.3.4", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("192.0.2.1", "private"),  # documentation range
        ("::1", "loopback"),
        ("fc00::1", "private"),
        ("fd12::1", "private"),
        ("fe80::1", "link-local"),
        ("ff02::1", "multicast"),
        ("::", "unspecified"),
        ("::ffff:127.0.0.1", "IPv6 form of 127.0.0.1"),
        ("::127.0.0.1", "IPv6 form of 127.0.0.1"),
        ("2002:a00:1::", "IPv6 form of 10.0.0.1"),  # 6to4
        ("64:ff9b::192.168.0.1", "IPv6 form of 192.168.0.1"),  # NAT64
    ],
)
def test_names_why_an_address_is_refused(address, reason):
    assert reason in (blocked_reason(ipaddress.ip_address(address)) or "")


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700::1111", "::ffff:8.8.8.8"])
def test_lets_public_addresses_through(address):
    assert blocked_reason(ipaddress.ip_address(address)) is None


def test_extra_allowed_lets_through_exactly_one_endpoint():
    policy = AddressPolicy(extra_allowed=frozenset({("127.0.0.1", 8080)}))
    assert str(check_url("http://127.0.0.1:8080/feed", policy)) == "http://127.0.0.1:8080/feed"
    for url in ("http://127.0.0.1:8081/", "http://127.0.0.2:8080/", "http://[::1]:8080/"):
        with pytest.raises(UnsafeURL):
            check_url(url, policy)


def test_hostnames_pass_the_literal_check_and_are_idna_encoded():
    assert check_url("https://Bücher.example/x", AddressPolicy()).raw_host == "xn--bcher-kva.example"


async def test_resolver_drops_refused_answers_and_keeps_public_ones():
    resolver = GuardedResolver(AddressPolicy(), FakeDNS("127.0.0.1", "8.8.8.8", "fe80::1%2"))
    answers = await resolver.resolve("mixed.example", 80)
    assert [a["host"] for a in answers] == ["8.8.8.8"]


async def test_resolver_fails_when_no_answer_is_allowed():
    resolver = GuardedResolver(AddressPolicy(), FakeDNS("10.0.0.5", "::1"))
    with pytest.raises(BlockedAddressError, match="rebind.example resolves to 10.0.0.5, a private address"):
        await resolver.resolve("rebind.example", 80)


async def test_resolver_allows_everything_when_private_networks_are_allowed():
    resolver = GuardedResolver(AddressPolicy(allow_private=True), FakeDNS("10.0.0.5"))
    assert len(await resolver.resolve("intranet.example", 80)) == 1
