"""Fetch feeds and media over HTTP safely: public addresses only, bounded time and size, conditional GET."""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass
from http import HTTPStatus

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from bot import __version__
from bot.errors import FetchError, UnsafeURL
from bot.net.addresses import AddressPolicy, BlockedAddressError, GuardedResolver, check_url

log = logging.getLogger(__name__)

MiB = 1024 * 1024
USER_AGENT = f"fanbot/{__version__} (Discord news bot; +https://github.com/fanbot/fanbot)"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024

# The policy each session was built with; the fetcher reads it from here so the URL checks and
# the resolver's DNS filtering can never disagree.
_SESSION_POLICIES: weakref.WeakKeyDictionary[aiohttp.ClientSession, AddressPolicy] = (
    weakref.WeakKeyDictionary()
)


@dataclass(frozen=True)
class FetchLimits:
    """Time and size bounds for one fetch (all redirects and the body included in `total_timeout`)."""

    connect_timeout: float = 10.0
    read_timeout: float = 15.0
    total_timeout: float = 30.0
    max_bytes: int = 5 * MiB
    max_redirects: int = 5


@dataclass(frozen=True)
class FetchResult:
    """What a guarded fetch returned: status, body, validators and the final URL."""

    url: str
    final_url: str
    status: int
    body: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None
    not_modified: bool


def create_session(
    policy: AddressPolicy | None = None,
    *,
    user_agent: str = USER_AGENT,
    resolver: AbstractResolver | None = None,
) -> aiohttp.ClientSession:
    """The one shared HTTP session, with DNS answers filtered by `policy`. Call inside the event loop.

    `resolver` replaces aiohttp's default DNS lookup (tests use a fixed table); its answers are
    filtered all the same. No cookies and no proxy settings from the environment: a feed fetch
    carries nothing but the URL.
    """
    policy = policy or AddressPolicy()
    guarded = GuardedResolver(policy, resolver)
    connector = aiohttp.TCPConnector(resolver=guarded, limit=20, ttl_dns_cache=60)
    session = aiohttp.ClientSession(
        connector=connector,
        headers={"User-Agent": user_agent},
        cookie_jar=aiohttp.DummyCookieJar(),
        trust_env=False,
        auto_decompress=True,
    )
    _SESSION_POLICIES[session] = policy
    return session


def _size(limit: int) -> str:
    if limit % MiB == 0:
        return f"{limit // MiB} MiB"
    if limit % 1024 == 0:
        return f"{limit // 1024} KiB"
    return f"{limit} bytes"


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _status_text(status: int) -> str:
    # The standard phrase, not the server's own reason text, which is attacker-chosen.
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


class Fetcher:
    """GETs one URL at a time through a session made by `create_session`."""

    def __init__(self, session: aiohttp.ClientSession, limits: FetchLimits | None = None) -> None:
        policy = _SESSION_POLICIES.get(session)
        if policy is None:
            # A plain session would resolve hostnames to private addresses unchecked.
            raise ValueError("Fetcher needs a session made by bot.net.fetcher.create_session")
        self.session = session
        self.policy = policy
        self.limits = limits or FetchLimits()

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        max_bytes: int | None = None,
    ) -> FetchResult:
        """GET `url`, following up to `max_redirects` redirects, each one checked like the first.

        Sends If-None-Match / If-Modified-Since only for the validators given. Raises UnsafeURL
        for refused addresses and FetchError for everything else that goes wrong.
        """
        limits = self.limits
        cap = max_bytes if max_bytes is not None else limits.max_bytes
        try:
            async with asyncio.timeout(limits.total_timeout):
                return await self._follow(url, etag, last_modified, cap)
        except aiohttp.ConnectionTimeoutError:
            raise FetchError(
                f"timed out: could not connect within {_seconds(limits.connect_timeout)}",
                "fetch.connect_timeout", seconds=f"{limits.connect_timeout:g}",
            ) from None
        except aiohttp.ServerTimeoutError:
            raise FetchError(
                f"timed out: the server sent nothing for {_seconds(limits.read_timeout)}",
                "fetch.read_timeout", seconds=f"{limits.read_timeout:g}",
            ) from None
        except TimeoutError:
            raise FetchError(
                f"timed out: the download took longer than {_seconds(limits.total_timeout)}",
                "fetch.total_timeout", seconds=f"{limits.total_timeout:g}",
            ) from None

    async def _follow(
        self, url: str, etag: str | None, last_modified: str | None, cap: int
    ) -> FetchResult:
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        for _hop in range(self.limits.max_redirects + 1):
            target = check_url(current, self.policy)
            outcome = await self._request(target, headers, cap)
            if isinstance(outcome, URL):
                current = str(outcome)
                continue
            return FetchResult(
                url=url,
                final_url=str(target),
                status=outcome.status,
                body=outcome.body,
                content_type=outcome.content_type,
                etag=outcome.etag,
                last_modified=outcome.last_modified,
                not_modified=outcome.status == 304,
            )
        raise FetchError(f"too many redirects (more than {self.limits.max_redirects})", "fetch.too_many_redirects",
                         limit=self.limits.max_redirects)

    async def _request(self, target: URL, headers: dict[str, str], cap: int) -> URL | _Response:
        """One hop: the redirect target as a URL, or the final response."""
        limits = self.limits
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=limits.connect_timeout,
            sock_connect=limits.connect_timeout,
            sock_read=limits.read_timeout,
        )
        host = target.raw_host or "the server"
        # A relative URL never gets this far (check_url refuses it), so `where` is the host in practice.
        where = target.raw_host or str(target)
        try:
            async with self.session.get(
                target, headers=headers, allow_redirects=False, timeout=timeout
            ) as resp:
                if resp.status in _REDIRECTS:
                    return _redirect_target(resp)
                if resp.status == 304:
                    return _Response.of(resp, b"")
                if not 200 <= resp.status < 300:
                    status = _status_text(resp.status)
                    raise FetchError(f"the server answered {status}", "fetch.status", status=status)
                body = await _read_capped(resp, cap)
                return _Response.of(resp, body)
        except aiohttp.ClientConnectorDNSError as exc:
            if isinstance(exc.os_error, BlockedAddressError):
                blocked = exc.os_error
                raise UnsafeURL(blocked.message, blocked.code, **blocked.data) from None
            raise FetchError(f"could not find the server {host} (DNS lookup failed)", "fetch.dns", host=where) from None
        except aiohttp.ClientConnectorCertificateError:
            raise FetchError(f"refused: {host} presented an invalid TLS certificate", "fetch.tls", host=where) from None
        except aiohttp.ClientConnectorError:
            raise FetchError(f"could not connect to {host}", "fetch.connect", host=where) from None
        except aiohttp.ClientPayloadError:
            raise FetchError("the server sent a broken or badly compressed response", "fetch.broken_response") from None
        except aiohttp.InvalidURL:
            raise UnsafeURL("refused: the address is not a valid URL", "address.invalid") from None
        except aiohttp.ServerTimeoutError:
            raise  # fetch() names which timeout it was
        except aiohttp.ClientError as exc:
            log.debug("fetch of %s failed: %r", host, exc)
            raise FetchError(f"the request to {host} failed ({type(exc).__name__})", "fetch.failed", host=where,
                             error=type(exc).__name__) from None


@dataclass(frozen=True)
class _Response:
    status: int
    body: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None

    @classmethod
    def of(cls, resp: aiohttp.ClientResponse, body: bytes) -> _Response:
        return cls(
            status=resp.status,
            body=body,
            content_type=resp.headers.get("Content-Type"),
            etag=resp.headers.get("ETag"),
            last_modified=resp.headers.get("Last-Modified"),
        )


def _redirect_target(resp: aiohttp.ClientResponse) -> URL:
    location = resp.headers.get("Location")
    if not location:
        status = _status_text(resp.status)
        raise FetchError(f"the server answered {status} without saying where to", "fetch.redirect_nowhere",
                         status=status)
    try:
        return resp.url.join(URL(location))
    except (ValueError, UnicodeError):
        raise UnsafeURL("refused: the server redirected to an invalid address", "address.bad_redirect") from None


async def _read_capped(resp: aiohttp.ClientResponse, cap: int) -> bytes:
    """The decompressed body, refused as soon as it passes `cap` bytes.

    aiohttp inflates gzip/deflate in bounded steps as we read, so a bomb never sits in memory whole.
    """
    limit = _size(cap)
    declared = resp.content_length
    if declared is not None and declared > cap:
        resp.close()  # drop the connection rather than drain a body we refuse
        raise FetchError(f"too large: over {limit}", "fetch.too_large", limit=limit)
    body = bytearray()
    async for chunk in resp.content.iter_chunked(_CHUNK):
        body += chunk
        if len(body) > cap:
            resp.close()
            raise FetchError(f"too large: over {limit}", "fetch.too_large", limit=limit)
    return bytes(body)
