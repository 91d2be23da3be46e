"""Which network addresses fanbot may connect to: the SSRF policy, URL checks and a filtering DNS resolver."""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass, field

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

from bot.errors import UnsafeURL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2000

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


@dataclass(frozen=True)
class AddressPolicy:
    """Where the fetcher may go.

    `allow_private` is the FEED_ALLOW_PRIVATE_NETWORKS setting. `extra_allowed` lists exact
    (host, port) pairs let through despite the rules; it exists so tests can reach a first server
    on loopback and still see every other private address refused. Production leaves it empty.
    """

    allow_private: bool = False
    extra_allowed: frozenset[tuple[str, int]] = field(default_factory=frozenset)

    def allows_endpoint(self, host: str, port: int) -> bool:
        return self.allow_private or (host.lower().strip("[]"), port) in self.extra_allowed


# Why an address is refused: the code error_text translates, and the English the messages say.
REASONS = {
    "loopback": "a loopback address",
    "link_local": "a link-local address",
    "multicast": "a multicast address",
    "unspecified": "an unspecified address",
    "shared": "a shared (carrier-grade NAT) address",
    "reserved": "a reserved address",
    "private": "a private address",
    "site_local": "a site-local address",
    "not_public": "not a public address",
}


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why fanbot refuses an address: a REASONS code, and the IPv4 host an IPv6 form of it reaches."""

    reason: str
    embedded: ipaddress.IPv4Address | None = None

    def __str__(self) -> str:
        text = REASONS[self.reason]
        return f"an IPv6 form of {self.embedded}, {text}" if self.embedded is not None else text

    def data(self) -> dict[str, object]:
        return {"reason": self.reason, "embedded": str(self.embedded)} if self.embedded else {"reason": self.reason}

    @property
    def code_suffix(self) -> str:
        return "_wrapped" if self.embedded is not None else ""


def refusal(ip: IPAddress) -> Refusal | None:
    """Why fanbot refuses to connect to `ip`, or None if it is public."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            inner = refusal(embedded)
            # An IPv6 wrapper around a private v4 address reaches that v4 host; name the real target.
            if inner is not None:
                return Refusal(inner.reason, embedded)
            if ip.ipv4_mapped is not None or ip.sixtofour is not None or _in_nat64(ip):
                return None
    checks = (
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link_local"),
        (ip.is_multicast, "multicast"),
        (ip.is_unspecified, "unspecified"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT, "shared"),
        (ip.is_reserved, "reserved"),
        (ip.is_private, "private"),
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "site_local"),
    )
    for hit, reason in checks:
        if hit:
            return Refusal(reason)
    # Anything else the registry does not call global (documentation ranges, benchmarking, ...).
    if not ip.is_global:
        return Refusal("not_public")
    return None


def blocked_reason(ip: IPAddress) -> str | None:
    """Why fanbot refuses to connect to `ip` in English ("a loopback address"), or None if it is public."""
    found = refusal(ip)
    return None if found is None else str(found)


def _in_nat64(ip: ipaddress.IPv6Address) -> bool:
    return any(ip in net for net in _NAT64)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, NAT64, Teredo), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    as_int = int(ip)
    if _in_nat64(ip):
        return ipaddress.IPv4Address(as_int & 0xFFFFFFFF)
    # IPv4-compatible (::a.b.c.d, deprecated); :: and ::1 are handled by the plain checks.
    if as_int >> 32 == 0 and as_int > 1:
        return ipaddress.IPv4Address(as_int)
    return None


def _parse_ipv4_part(part: str) -> int | None:
    if not part:
        return None
    try:
        if part[:2].lower() == "0x":
            return int(part[2:] or "0", 16)
        if len(part) > 1 and part.startswith("0"):
            return int(part[1:], 8)
        return int(part, 10) if part.isdigit() else None
    except ValueError:
        return None


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a URL host denotes if it is an IP literal in any form inet_aton accepts.

    Besides dotted quads this reads 2130706433, 0x7f000001, 0177.0.0.1 and 127.1, which
    getaddrinfo turns into 127.0.0.1 while a naive check sees a hostname. Raises UnsafeURL for a
    host that looks numeric but is not a valid address (browsers refuse those too).
    """
    host = host.strip("[]").rstrip(".")
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            raise UnsafeURL("refused: the address is not a valid IPv6 address", "address.bad_bracketed_ip") from None
    parts = host.split(".")
    last = parts[-1].lower()
    # WHATWG URL rule: a host whose last label is numeric is an IPv4 address or invalid.
    if not (last.isdigit() or (last.startswith("0x") and all(c in "0123456789abcdef" for c in last[2:]))):
        return None
    values = [_parse_ipv4_part(p) for p in parts]
    if len(parts) > 4 or any(v is None for v in values):
        raise UnsafeURL("refused: the host looks like an IP address but is not a valid one", "address.bad_ip")
    *head, tail = values
    if any(v > 255 for v in head) or tail >= 256 ** (4 - len(head)):
        raise UnsafeURL("refused: the host looks like an IP address but is not a valid one", "address.bad_ip")
    number = tail
    for index, value in enumerate(head):
        number += value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


_HOSTNAME_CHARS = re.compile(r"^[a-z0-9._-]+$")


def check_url(url: str, policy: AddressPolicy) -> URL:
    """Refuse a URL fanbot must not fetch (UnsafeURL, moderator-readable); return it parsed.

    Parsing with yarl, as aiohttp will, means the host checked here is the host connected to.
    Hostnames are checked again at connect time by GuardedResolver, since DNS may change.
    """
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(f"refused: the address is longer than {MAX_URL_LENGTH} characters", "address.too_long",
                        limit=MAX_URL_LENGTH)
    try:
        parsed = URL(url.strip())
        scheme = parsed.scheme.lower()
        host = (parsed.raw_host or "").lower()
        port = parsed.port
    except (ValueError, UnicodeError):
        raise UnsafeURL("refused: the address is not a valid URL", "address.invalid") from None
    if scheme not in ("http", "https"):
        if not scheme:
            raise UnsafeURL("refused: only http and https links can be fetched, not a relative path",
                            "address.relative")
        raise UnsafeURL(f"refused: only http and https links can be fetched, not {scheme}:", "address.scheme",
                        scheme=scheme)
    if parsed.user is not None or parsed.password is not None:
        raise UnsafeURL("refused: links with a user name or password are not allowed", "address.credentials")
    if not host:
        raise UnsafeURL("refused: the address has no host", "address.no_host")
    if ":" not in host and not _HOSTNAME_CHARS.match(host):
        raise UnsafeURL("refused: the host name contains characters a host name cannot have", "address.bad_host")
    if port is None:
        port = 443 if scheme == "https" else 80
    if policy.allows_endpoint(host, port):
        return parsed
    ip = parse_ip_literal(host)
    if ip is not None:
        found = refusal(ip)
        if found is not None:
            raise UnsafeURL(f"refused: {ip} is {found}", "address.blocked" + found.code_suffix, ip=str(ip),
                            **found.data())
        return parsed
    bare = host.rstrip(".")
    # RFC 6761: these names always mean this machine; say so without asking DNS.
    if bare == "localhost" or bare.endswith(".localhost"):
        raise UnsafeURL(f"refused: {bare} is this machine (loopback)", "address.localhost", host=bare)
    return parsed


class BlockedAddressError(OSError):
    """Every DNS answer for a host was a refused address; aiohttp reports it as a DNS failure."""

    def __init__(self, host: str, ip: str | None, reason: Refusal | None) -> None:
        # None, None: no answer was an address at all.
        self.message = f"refused: {host} resolves to {ip or 'nothing usable'}, {reason or REASONS['not_public']}"
        super().__init__(self.message)
        self.host = host
        if ip is None or reason is None:
            self.code, self.data = "address.resolves_nothing", {"host": host}
        else:
            self.code = "address.resolves_blocked" + reason.code_suffix
            self.data = {"host": host, "ip": ip, **reason.data()}


class GuardedResolver(AbstractResolver):
    """Wraps aiohttp's resolver and drops refused addresses from every answer.

    aiohttp connects only to what the resolver returns, so this closes the gap between checking a
    hostname and connecting to it (DNS rebinding).
    """

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver | None = None) -> None:
        self.policy = policy
        self._inner = inner if inner is not None else DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        if self.policy.allows_endpoint(host, port):
            return answers
        kept: list[ResolveResult] = []
        first_refusal: tuple[str, Refusal] | None = None
        for answer in answers:
            try:
                ip = ipaddress.ip_address(answer["host"].split("%", 1)[0])
            except ValueError:
                continue
            found = refusal(ip)
            if found is None:
                kept.append(answer)
            elif first_refusal is None:
                first_refusal = (str(ip), found)
        if not kept:
            ip_text, found = first_refusal or (None, None)
            raise BlockedAddressError(host, ip_text, found)
        return kept

    async def close(self) -> None:
        await self._inner.close()
