"""Why a feed cannot be added or keeps failing, in the reader's language (replies, /feeds list) and the
server's (mod-log notices), through the Discord double and a local feed server."""

from __future__ import annotations

import re

import pytest

from tests.conftest import FanServer
from tests.feedserver import FeedServer, Item

PAGE = b"<!doctype html><html><head><title>Press</title></head><body>News</body></html>"
# Words that would mean an English sentence slipped in; data (an address, "404 Not Found") may stay.
ENGLISH = re.compile(r"\b(refused|the|is|not|could|server|feed|answered|page|error|this)\b", re.I)
HTTP_PHRASE = re.compile(r"\d{3} [A-Z][A-Za-z ]+")


def english_left(text: str) -> list[str]:
    return ENGLISH.findall(HTTP_PHRASE.sub("", text))


@pytest.fixture
async def feeds():
    server = await FeedServer().start()
    yield server
    await server.stop()


async def _add(server: FanServer, member, url: str):
    ix = await server.invoke(member, "feeds add", url=url)
    await ix.wait_done()
    return ix


async def test_a_korean_moderator_reads_why_a_feed_cannot_be_added_in_korean(start_bot, server: FanServer, feeds):
    bot = await start_bot(feed_allow_private_networks=False)
    ko_mod = server.guild.add_member("운영자", permissions=0x20, locale="ko")
    loopback = await _add(server, ko_mod, "http://127.0.0.1/feed")
    assert loopback.ephemeral
    assert loopback.content == ("그 피드 주소는 쓸 수 없어요: 루프백 주소(127.0.0.1)라서 거부했어요. "
                                 "공개된 http(s) 피드 링크를 써 주세요."), loopback.content

    await start_bot.restart(bot, feed_allow_private_networks=True)  # the local feed server is on loopback
    feeds.feed("page.html", body=PAGE, content_type="text/html; charset=utf-8")
    page = await _add(server, ko_mod, feeds.url("page.html"))
    assert page.content == ("피드를 추가하지 못했어요: RSS나 Atom 피드가 아니라 웹 페이지예요. "
                             "사이트의 피드 링크를 찾아 주세요."), page.content
    missing = await _add(server, ko_mod, feeds.url("gone.xml"))
    assert missing.content == "피드를 추가하지 못했어요: 서버가 404 Not Found 오류로 응답했어요.", missing.content
    for reply in (loopback, page, missing):
        assert reply.ephemeral and not english_left(reply.content), reply.content


async def test_an_english_moderator_reads_the_same_refusals_in_english(start_bot, server: FanServer, feeds):
    bot = await start_bot(feed_allow_private_networks=False)
    en_mod = server.guild.add_member("sam", permissions=0x20, locale="en-US")
    loopback = await _add(server, en_mod, "http://127.0.0.1/feed")
    assert loopback.content == ("That feed address was refused: 127.0.0.1 is a loopback address. "
                                 "Use a public http(s) feed link.")

    await start_bot.restart(bot, feed_allow_private_networks=True)
    feeds.feed("page.html", body=PAGE, content_type="text/html; charset=utf-8")
    page = await _add(server, en_mod, feeds.url("page.html"))
    assert page.content == ("Could not add that feed: this is a web page, not an RSS or Atom feed; "
                             "look for the site's feed link.")
    missing = await _add(server, en_mod, feeds.url("gone.xml"))
    assert missing.content == "Could not add that feed: the server answered 404 Not Found."
    assert all(reply.ephemeral for reply in (loopback, page, missing))


async def test_feeds_list_and_the_disabled_notice_give_the_last_error_in_each_language(
    start_bot, double, server: FanServer, clock, feeds
):
    server.guild.set_preferred_locale("ko")  # `auto`: the server's notices are Korean
    bot = await start_bot()
    await server.configure(bot)
    gid = int(server.guild.id)
    ko_mod = server.guild.add_member("운영자", permissions=0x20, locale="ko")
    en_mod = server.guild.add_member("sam", permissions=0x20, locale="en-US")
    press = feeds.feed("a.xml", Item("Song Hye-kyo old story", "http://press.example/old", "old"))
    await _add(server, en_mod, feeds.url("a.xml"))

    press.status = 503
    (feed,) = await bot.services.news.list_feeds(gid)
    clock.set(feed.next_poll_at)
    await bot.scheduler.run_once()
    (feed,) = await bot.services.news.list_feeds(gid)
    assert feed.last_error == "the server answered 503 Service Unavailable"  # the English, as logged

    korean = (await server.invoke(ko_mod, "feeds list")).embeds[0]["fields"][0]["value"]
    assert "마지막 오류 <t:" in korean and "서버가 503 Service Unavailable 오류로 응답했어요" in korean, korean
    english = (await server.invoke(en_mod, "feeds list")).embeds[0]["fields"][0]["value"]
    assert "Last error <t:" in english and "the server answered 503 Service Unavailable" in english, english

    for _ in range(5):
        (feed,) = await bot.services.news.list_feeds(gid)
        clock.set(feed.next_poll_at)
        await bot.scheduler.run_once()
    (notice,) = [m["content"] for m in server.messages("modlog")]
    assert "마지막 오류: 서버가 503 Service Unavailable 오류로 응답했어요." in notice, notice
    assert not english_left(notice.replace("/feeds add", "").replace("URL", "")), notice
    korean = (await server.invoke(ko_mod, "feeds list")).embeds[0]["fields"][0]["value"]
    assert "**꺼짐** <t:" in korean and korean.count("서버가 503 Service Unavailable 오류로 응답했어요") == 2, korean
    english = (await server.invoke(en_mod, "feeds list")).embeds[0]["fields"][0]["value"]
    assert english.count("the server answered 503 Service Unavailable") == 2, english


async def test_an_error_stored_before_codes_is_shown_as_it_was_written(start_bot, server: FanServer, feeds):
    bot = await start_bot()
    ko_mod = server.guild.add_member("운영자", permissions=0x20, locale="ko")
    feeds.feed("a.xml")
    await _add(server, ko_mod, feeds.url("a.xml"))
    await bot.db.execute("UPDATE feed_sources SET last_error = ?", ("could not connect to old.example",))
    listed = (await server.invoke(ko_mod, "feeds list")).embeds[0]["fields"][0]["value"]
    assert "마지막 오류 : could not connect to old.example" in listed, listed
