"""The fetcher against a real local HTTP server: redirects, refusals, validators, size and time limits."""

from __future__ import annotations

import asyncio
import gzip
import socket

import pytest
from aiohttp import web

from bot.errors import FetchError, UnsafeURL
from bot.net.addresses import AddressPolicy
from bot.net.fetcher import Fetcher, FetchLimits, MiB, create_session
from tests.net.dns import FakeDNS

FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Local news</title><link>http://example.com/</link>
<item><title>Song Hye-kyo returns</title><link>http://example.com/a</link></item>
</channel></rss>"""
ETAG = '"v1"'
LAST_MODIFIED = "Wed, 01 Jan 2026 00:00:00 GMT"
BIG = 50 * MiB
SEEN = web.AppKey("seen", list)


def _bomb() -> bytes:
    # ~50 KB on the wire, 50 MB once inflated.
    return gzip.compress(b"\0" * BIG, compresslevel=9)


BOMB = _bomb()


async def feed(request: web.Request) -> web.Response:
    request.app[SEEN].append(dict(request.headers))
    if request.headers.get("If-None-Match") == ETAG or (
        request.headers.get("If-Modified-Since") == LAST_MODIFIED
    ):
        return web.Response(status=304, headers={"ETag": ETAG})
    return web.Response(
        body=FEED,
        content_type="application/rss+xml",
        charset="utf-8",
        headers={"ETag": ETAG, "Last-Modified": LAST_MODIFIED},
    )


async def redirect_to(request: web.Request) -> web.Response:
    raise web.HTTPFound(request.query["to"])


async def chain(request: web.Request) -> web.Response:
    left = int(request.match_info["n"])
    raise web.HTTPFound("../feed" if left == 0 else f"{left - 1}")


async def loop(request: web.Request) -> web.Response:
    raise web.HTTPMovedPermanently("/loop")


async def big(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse()
    await resp.prepare(request)
    block = b"x" * MiB
    try:
        for _ in range(BIG // MiB):
            await resp.write(block)
    except (ConnectionError, asyncio.CancelledError):
        pass  # the client hung up, as it should
    return resp


async def big_declared(request: web.Request) -> web.Response:
    return web.Response(body=b"x" * (6 * MiB))


async def bomb(request: web.Request) -> web.Response:
    return web.Response(body=BOMB, headers={"Content-Encoding": "gzip", "Content-Type": "text/xml"})


async def gzipped_feed(request: web.Request) -> web.Response:
    return web.Response(
        body=gzip.compress(FEED), headers={"Content-Encoding": "gzip", "Content-Type": "text/xml"}
    )


async def drip(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse()
    await resp.prepare(request)
    # Five minutes of drip, a byte each 50 ms (always within the read timeout): a fetch that is not cut
    # off by its total timeout would sit here far past any patience, and then not fail at all.
    for _ in range(6000):
        await resp.write(b"<")
        await asyncio.sleep(0.05)
    return resp


async def stall(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse()
    await resp.prepare(request)
    await asyncio.sleep(5)
    return resp


async def html(request: web.Request) -> web.Response:
    return web.Response(text="<!doctype html><html><body>Hi</body></html>", content_type="text/html")


async def missing(request: web.Request) -> web.Response:
    return web.Response(status=404, reason="Gone Fishing <@everyone>")


@pytest.fixture
async def server():
    app = web.Application()
    app[SEEN] = []
    app.router.add_get("/feed", feed)
    app.router.add_get("/to", redirect_to)
    app.router.add_get("/chain/{n}", chain)
    app.router.add_get("/loop", loop)
    app.router.add_get("/big", big)
    app.router.add_get("/big-declared", big_declared)
    app.router.add_get("/bomb", bomb)
    app.router.add_get("/gz", gzipped_feed)
    app.router.add_get("/drip", drip)
    app.router.add_get("/stall", stall)
    app.router.add_get("/page", html)
    app.router.add_get("/missing", missing)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield app, f"http://127.0.0.1:{port}", port
    await runner.cleanup()


def _allow_first(port: int) -> AddressPolicy:
    """Let the test server through as if it were public; every other private address stays refused."""
    return AddressPolicy(extra_allowed=frozenset({("127.0.0.1", port)}))


@pytest.fixture
async def fetcher(server):
    _app, _base, port = server
    session = create_session(_allow_first(port))
    yield Fetcher(session, FetchLimits(connect_timeout=1, read_timeout=1, total_timeout=3))
    await session.close()


async def test_fetches_a_feed_with_validators_and_a_fanbot_user_agent(server, fetcher):
    app, base, _ = server
    result = await fetcher.fetch(f"{base}/feed")
    assert result.status == 200 and not result.not_modified
    assert result.body == FEED
    assert result.content_type == "application/rss+xml; charset=utf-8"
    assert (result.etag, result.last_modified) == (ETAG, LAST_MODIFIED)
    assert result.final_url == f"{base}/feed"
    sent = app[SEEN][-1]
    assert sent["User-Agent"].startswith("fanbot/")
    assert "If-None-Match" not in sent and "If-Modified-Since" not in sent


async def test_sends_only_the_validators_it_has_and_reports_not_modified(server, fetcher):
    app, base, _ = server
    result = await fetcher.fetch(f"{base}/feed", etag=ETAG)
    assert result.not_modified and result.status == 304 and result.body == b""
    assert app[SEEN][-1]["If-None-Match"] == ETAG
    assert "If-Modified-Since" not in app[SEEN][-1]

    result = await fetcher.fetch(f"{base}/feed", last_modified=LAST_MODIFIED)
    assert result.not_modified
    assert app[SEEN][-1]["If-Modified-Since"] == LAST_MODIFIED
    assert "If-None-Match" not in app[SEEN][-1]

    result = await fetcher.fetch(f"{base}/feed", etag='"old"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT")
    assert not result.not_modified and result.body == FEED
    assert app[SEEN][-1]["If-None-Match"] == '"old"'


async def test_follows_relative_redirects_and_chains_up_to_five(server, fetcher):
    _app, base, _ = server
    result = await fetcher.fetch(f"{base}/to?to=feed")
    assert result.final_url == f"{base}/feed" and result.body == FEED
    result = await fetcher.fetch(f"{base}/chain/4")  # 5 redirects
    assert result.body == FEED and result.url == f"{base}/chain/4"
    with pytest.raises(FetchError, match="too many redirects"):
        await fetcher.fetch(f"{base}/chain/5")  # 6 redirects
    with pytest.raises(FetchError, match="too many redirects"):
        await fetcher.fetch(f"{base}/loop")


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("http://[::1]:{port}/feed", "::1 is a loopback address"),
        ("http://127.0.0.2:{port}/feed", "127.0.0.2 is a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("http://10.0.0.1/", "10.0.0.1 is a private address"),
        ("http://[::ffff:127.0.0.1]:{port}/feed", "127.0.0.1, a loopback address"),
        ("http://2130706433:{port}/feed", "127.0.0.1 is a loopback address"),
        ("http://localhost:{port}/feed", "localhost is this machine"),
        ("file:///etc/passwd", "not file:"),
    ],
)
async def test_refuses_a_redirect_to_a_forbidden_address(server, fetcher, target, reason):
    app, base, port = server
    with pytest.raises(UnsafeURL, match="refused") as caught:
        await fetcher.fetch(f"{base}/to?to={target.format(port=port)}")
    assert reason in str(caught.value)
    assert app[SEEN] == []  # the feed handler was never reached


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "/etc/passwd",
        "javascript:alert(1)",
        "data:text/plain,hi",
        "http://127.0.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://2130706433/",
        "http://169.254.169.254/",
        "http://0x7f000001/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://localhost/",
        "http://user:secret@example.com/",
        "http://example.com/" + "a" * 2000,
    ],
)
async def test_refuses_forbidden_urls_before_connecting(url):
    session = create_session(AddressPolicy())
    try:
        with pytest.raises(UnsafeURL) as caught:
            await Fetcher(session).fetch(url)
        assert "secret" not in str(caught.value)
    finally:
        await session.close()


async def test_filters_dns_answers_so_a_name_cannot_lead_to_loopback(server):
    _app, _base, port = server
    # A rebinding attacker's name server: a public-looking name that answers loopback.
    session = create_session(AddressPolicy(), resolver=FakeDNS("127.0.0.1"))
    try:
        with pytest.raises(UnsafeURL, match="feeds.example resolves to 127.0.0.1, a loopback address"):
            await Fetcher(session).fetch(f"http://feeds.example:{port}/feed")
    finally:
        await session.close()


async def test_allow_private_lets_a_loopback_server_through(server):
    _app, base, port = server
    session = create_session(AddressPolicy(allow_private=True))
    try:
        fetcher = Fetcher(session)
        assert (await fetcher.fetch(f"{base}/feed")).body == FEED
        assert (await fetcher.fetch(f"http://localhost:{port}/feed")).body == FEED
    finally:
        await session.close()


async def test_refuses_a_50_mb_body_quickly(server, fetcher):
    _app, base, _ = server
    with pytest.raises(FetchError, match="too large: over 5 MiB"):
        await fetcher.fetch(f"{base}/big")


async def test_refuses_a_declared_length_over_the_cap_without_reading(server, fetcher):
    _app, base, _ = server
    with pytest.raises(FetchError, match="too large: over 5 MiB"):
        await fetcher.fetch(f"{base}/big-declared")
    # A media download may ask for a bigger cap.
    result = await fetcher.fetch(f"{base}/big-declared", max_bytes=25 * MiB)
    assert len(result.body) == 6 * MiB


async def test_refuses_a_gzip_bomb_quickly(server, fetcher):
    _app, base, _ = server
    assert len(BOMB) < 100_000
    with pytest.raises(FetchError, match="too large: over 1 MiB"):
        await fetcher.fetch(f"{base}/bomb", max_bytes=MiB)


async def test_inflates_a_gzipped_feed(server, fetcher):
    _app, base, _ = server
    assert (await fetcher.fetch(f"{base}/gz")).body == FEED


async def test_cuts_off_a_server_that_drips_bytes(server):
    _app, base, port = server
    session = create_session(_allow_first(port))
    try:
        fetcher = Fetcher(session, FetchLimits(read_timeout=0.3, total_timeout=0.4))
        with pytest.raises(FetchError, match="longer than 0.4 s"):
            await fetcher.fetch(f"{base}/drip")
    finally:
        await session.close()


async def test_cuts_off_a_server_that_stops_sending(server):
    _app, base, port = server
    session = create_session(_allow_first(port))
    try:
        fetcher = Fetcher(session, FetchLimits(read_timeout=0.2, total_timeout=3))
        with pytest.raises(FetchError, match="sent nothing for 0.2 s"):
            await fetcher.fetch(f"{base}/stall")
    finally:
        await session.close()


async def test_passes_html_through_for_the_parser_to_judge(server, fetcher):
    _app, base, _ = server
    result = await fetcher.fetch(f"{base}/page")
    assert result.content_type.startswith("text/html") and b"<html>" in result.body


async def test_reports_an_error_status_in_plain_words(server, fetcher):
    _app, base, _ = server
    with pytest.raises(FetchError) as caught:
        await fetcher.fetch(f"{base}/missing")
    assert str(caught.value) == "the server answered 404 Not Found"


async def test_reports_a_closed_port_as_a_connection_failure():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    session = create_session(AddressPolicy(allow_private=True))
    try:
        with pytest.raises(FetchError, match="could not connect to 127.0.0.1"):
            await Fetcher(session).fetch(f"http://127.0.0.1:{port}/")
    finally:
        await session.close()


async def test_needs_a_session_from_create_session():
    import aiohttp

    async with aiohttp.ClientSession() as plain:
        with pytest.raises(ValueError, match="create_session"):
            Fetcher(plain)
