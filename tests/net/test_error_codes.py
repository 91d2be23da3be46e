"""Fetch, address and feed errors carry a code and data that error_text writes in each language: the
English is the error's own message to the byte, the Korean has no English sentence left in it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from aiohttp import web

from bot.domain.feeds import parse_feed
from bot.error_text import ADDRESS_REASONS, ERROR_TEXT, error_text
from bot.errors import DiagnosedError, FeedError, FetchError, UnsafeURL
from bot.i18n import Catalogues
from bot.net.addresses import REASONS, AddressPolicy, BlockedAddressError, GuardedResolver, check_url
from bot.net.fetcher import Fetcher, FetchLimits, create_session
from tests.net.dns import FakeDNS

CATALOGUES = Catalogues.load()
ENGLISH = CATALOGUES.english
KOREAN = CATALOGUES.get("ko")
# Words of an English sentence; data (addresses, hosts, HTTP phrases, sizes) may stay as they are.
ENGLISH_WORDS = re.compile(r"\b(refused|the|is|not|could|server|feed|address|answered|over|than|an?)\b", re.I)
HTTP_PHRASES = re.compile(r"\d{3} [A-Z][A-Za-z ]+")


def assert_readable_in_both(exc: DiagnosedError) -> str:
    assert exc.code in ERROR_TEXT
    assert error_text(ENGLISH, exc.code, exc.data) == str(exc)
    korean = error_text(KOREAN, exc.code, exc.data)
    assert re.search("[가-힣]", korean), korean
    assert not ENGLISH_WORDS.search(HTTP_PHRASES.sub("", korean)), korean
    return korean


def test_every_address_reason_has_words_repeating_the_english_of_the_address_checks():
    assert ADDRESS_REASONS == REASONS
    for reason in REASONS:
        assert KOREAN.translated(ADDRESS_REASONS[reason])


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://127.0.0.1/feed", "address.blocked"),
        ("http://10.0.0.1/", "address.blocked"),
        ("http://[::ffff:192.168.1.1]/", "address.blocked_wrapped"),
        ("http://localhost:8080/", "address.localhost"),
        ("ftp://example.com/feed", "address.scheme"),
        ("/just/a/path", "address.relative"),
        ("http://user:secret@example.com/", "address.credentials"),
        ("http:///feed", "address.no_host"),
        ("http://exa$mple.com/", "address.bad_host"),
        ("http://1.2.3.999/", "address.bad_ip"),
        ("http://1.2.3.4.5/", "address.bad_ip"),  # five parts: refused before any value is read
        ("http://08.1.1.1/", "address.bad_ip"),  # 08 is no octal number
        ("http://[1:2:3]/", "address.bad_bracketed_ip"),
        ("http://example.com:99999/", "address.invalid"),
        ("http://example.com/" + "a" * 2000, "address.too_long"),
    ],
)
def test_a_refused_address_reads_in_english_as_logged_and_in_korean(url, code):
    with pytest.raises(UnsafeURL) as caught:
        check_url(url, AddressPolicy())
    assert caught.value.code == code
    assert_readable_in_both(caught.value)


def test_the_loopback_refusal_names_the_address_in_korean():
    with pytest.raises(UnsafeURL) as caught:
        check_url("http://127.0.0.1/feed", AddressPolicy())
    assert caught.value.data == {"ip": "127.0.0.1", "reason": "loopback"}
    assert error_text(KOREAN, caught.value.code, caught.value.data) == "루프백 주소(127.0.0.1)라서 거부했어요"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "feed.empty"),
        (b"<!doctype html><html><body>Hi</body></html>", "feed.web_page"),
        (b"just some words", "feed.not_a_feed"),
        (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><rss/>', "feed.entities"),
    ],
)
def test_a_document_that_is_no_feed_reads_in_both_languages(body, code):
    with pytest.raises(FeedError) as caught:
        parse_feed(body, url="https://example.com/feed")
    assert caught.value.code == code
    assert_readable_in_both(caught.value)


DNS = FakeDNS(by_name={
    "rebind.example": ["10.0.0.5", "127.0.0.1"],
    "six.example": ["::ffff:10.0.0.5"],
    "junk.example": ["not-an-address"],
})


@pytest.mark.parametrize(
    ("host", "code", "data", "message"),
    [
        ("rebind.example", "address.resolves_blocked", {"host": "rebind.example", "ip": "10.0.0.5", "reason": "private"},
         "refused: rebind.example resolves to 10.0.0.5, a private address"),
        ("six.example", "address.resolves_blocked_wrapped",
         {"host": "six.example", "ip": "::ffff:a00:5", "reason": "private", "embedded": "10.0.0.5"},
         "refused: six.example resolves to ::ffff:a00:5, an IPv6 form of 10.0.0.5, a private address"),
        ("junk.example", "address.resolves_nothing", {"host": "junk.example"},
         "refused: junk.example resolves to nothing usable, not a public address"),
        ("empty.example", "address.resolves_nothing", {"host": "empty.example"},  # no answer at all
         "refused: empty.example resolves to nothing usable, not a public address"),
    ],
)
async def test_a_dns_refusal_names_the_first_refused_answer_with_a_code_readable_in_both(host, code, data, message):
    # Built inside the test, by the resolver, so that the test is the one that reaches the error's code.
    with pytest.raises(BlockedAddressError) as caught:
        await GuardedResolver(AddressPolicy(), DNS).resolve(host, 80)
    error = caught.value
    assert (error.host, error.code, error.data, error.message, str(error)) == (host, code, data, message, message)
    assert_readable_in_both(UnsafeURL(error.message, error.code, **error.data))


async def nowhere(request: web.Request) -> web.Response:
    return web.Response(status=302)  # a redirect with no Location


async def missing(request: web.Request) -> web.Response:
    return web.Response(status=404)


async def large(request: web.Request) -> web.Response:
    return web.Response(body=b"x" * 4096)


async def again(request: web.Request) -> web.Response:
    raise web.HTTPFound("/again")


@pytest.fixture
async def local():
    app = web.Application()
    for path, handler in (("/nowhere", nowhere), ("/missing", missing), ("/large", large), ("/again", again)):
        app.router.add_get(path, handler)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    session = create_session(AddressPolicy(extra_allowed=frozenset({("127.0.0.1", port)})),
                             resolver=FakeDNS("10.1.2.3"))
    yield Fetcher(session, FetchLimits(connect_timeout=1, read_timeout=1, total_timeout=3, max_bytes=1024)), port
    await session.close()
    await runner.cleanup()


@pytest.mark.parametrize(
    ("path", "code", "korean"),
    [
        ("/missing", "fetch.status", "서버가 404 Not Found 오류로 응답했어요"),
        ("/nowhere", "fetch.redirect_nowhere", None),
        ("/large", "fetch.too_large", "크기가 너무 커요 (1 KiB 초과)"),
        ("/again", "fetch.too_many_redirects", None),
    ],
)
async def test_a_failed_fetch_reads_in_english_as_logged_and_in_korean(local, path, code, korean):
    fetcher, port = local
    with pytest.raises(FetchError) as caught:
        await fetcher.fetch(f"http://127.0.0.1:{port}{path}")
    assert caught.value.code == code
    written = assert_readable_in_both(caught.value)
    if korean is not None:
        assert written == korean


async def test_a_host_resolving_to_a_private_address_is_refused_in_both_languages(local):
    fetcher, _port = local
    with pytest.raises(UnsafeURL) as caught:
        await fetcher.fetch("http://rebind.example/feed")
    assert caught.value.code == "address.resolves_blocked"
    assert str(caught.value) == "refused: rebind.example resolves to 10.1.2.3, a private address"
    assert assert_readable_in_both(caught.value) == "rebind.example의 IP가 사설 주소(10.1.2.3)라서 거부했어요"


def _code_is_known(node: ast.expr | None) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in ERROR_TEXT
    if isinstance(node, ast.BinOp):  # "address.blocked" + refusal.code_suffix: both forms must exist
        return _code_is_known(node.left) and node.left.value + "_wrapped" in ERROR_TEXT
    return isinstance(node, ast.Attribute)  # BlockedAddressError's own code, checked by the DNS tests above


def _message_pattern(node: ast.expr) -> str | None:
    """The raise site's English as a regex (each {...} stands for any text), None when not a literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return re.escape(node.value)
    if isinstance(node, ast.JoinedStr):
        return "".join(re.escape(v.value) if isinstance(v, ast.Constant) else ".+" for v in node.values)
    return None


def test_every_fetch_and_feed_error_the_code_raises_passes_a_code_whose_english_is_its_message():
    root = Path(__file__).resolve().parents[2]
    calls, missing, drifted = 0, [], []
    for path in [*(root / "bot").rglob("*.py"), *(root / "cogs").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("FetchError", "UnsafeURL", "FeedError")):
                continue
            calls += 1
            where = f"{path.relative_to(root)}:{node.lineno}"
            code = node.args[1] if len(node.args) > 1 else None
            if not _code_is_known(code):
                missing.append(where)
                continue
            pattern = _message_pattern(node.args[0])
            if isinstance(code, ast.Constant) and pattern is not None:
                template = re.sub(r"\{[a-z_]+\}", "X", ERROR_TEXT[code.value])
                if not re.fullmatch(pattern, template):
                    drifted.append((where, template))
    assert calls > 30 and not missing, missing
    assert not drifted, drifted


def test_the_replies_that_carry_a_fetch_error_write_it_in_the_reader_s_language():
    too_large = FetchError("too large: over 8 MiB", "fetch.too_large", limit="8 MiB")
    assert error_text(KOREAN, "media.download_failed", {"detail": too_large}) == (
        "fanbot이 파일을 내려받지 못했어요: 크기가 너무 커요 (8 MiB 초과). 다시 해 보거나 링크로 공유해 주세요.")
    assert error_text(ENGLISH, "media.download_failed", {"detail": too_large}) == (
        "fanbot could not download that file (too large: over 8 MiB); try again or share a link.")
    # Data is inert whatever the language: a host cannot ping through a translated template.
    dns = FetchError("could not find the server @everyone (DNS lookup failed)", "fetch.dns", host="@everyone")
    for lang in (ENGLISH, KOREAN):
        assert "@everyone" not in error_text(lang, "feed.unreadable", {"detail": dns})


def test_an_error_raised_without_a_code_is_shown_in_its_english_not_lost():
    # Code written before (or merged beside) the codes still reaches people, inert, in English.
    plain = FetchError("the server hung up <@&42>")
    assert plain.code is None and str(plain) == "the server hung up <@&42>"
    for lang in (ENGLISH, KOREAN):
        shown = error_text(lang, "feed.unreadable", {"detail": plain})
        assert "the server hung up" in shown and "<@&42>" not in shown
