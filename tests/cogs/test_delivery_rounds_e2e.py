"""One delivery run across servers and minutes: who waits for whom, and what a run reports as delivered."""

from __future__ import annotations

from datetime import timedelta

from tests.cogs.test_announce_e2e import SONG, news_server, posts_to, record, status_of
from tests.conftest import FanServer


def digests_in(server):
    return [m for m in server.messages("news") if m["embeds"] and m["embeds"][0]["title"].endswith("more stories")]


async def test_one_run_serves_every_server_and_a_refusal_stops_only_its_own(start_bot, server, double, clock):
    other = FanServer(double, "Other fans")  # a second server the bot was invited to earlier
    bot, song, _han, _sr, _hr = await news_server(start_bot, server, clock)
    await other.configure(bot)
    other_song = await bot.services.stars.follow(int(other.guild.id), SONG)
    repo = bot.services.announcer.repo

    async def story_in(fan_server, star, title):
        return await repo.record_story(int(fan_server.guild.id), title=title, now=clock.now(), star_ids=[star.id],
                                       link=f"https://news.example/{fan_server.guild.id}/{abs(hash(title))}")

    await story_in(server, song, "Song Hye-kyo in Busan")
    await story_in(other, other_song, "Song Hye-kyo in Busan")
    assert await bot.services.announcer.deliver_pending(clock.now()) == 2
    assert len(server.messages("news")) == len(other.messages("news")) == 1

    # The server served first now refuses; the other one still gets its story in the same run.
    first, second = sorted(((server, song), (other, other_song)), key=lambda pair: int(pair[0].guild.id))
    double.fail_channel(first[0].channels["news"], 403)
    await story_in(first[0], first[1], "Song Hye-kyo in Jeju")
    waiting = await story_in(second[0], second[1], "Song Hye-kyo in Jeju")
    assert await bot.services.announcer.deliver_pending(clock.now()) == 1
    assert len(second[0].messages("news")) == 2 and (await status_of(bot, waiting))["status"] == "sent"


async def test_a_second_open_digest_waits_for_the_next_minute_but_single_posts_do_not(start_bot, server, double,
                                                                                   clock):
    bot, song, _han, _sr, _hr = await news_server(start_bot, server, clock)
    repo = bot.services.announcer.repo
    gid, news_id = int(server.guild.id), int(server.channels["news"].id)
    first = [await record(bot, server, clock, f"First wave {n} Song Hye-kyo", [song]) for n in range(2)]
    second = [await record(bot, server, clock, f"Second wave {n} Song Hye-kyo", [song]) for n in range(2)]
    # Two digests journaled by processes that died before sending them.
    assert await repo.begin_digest(gid, news_id, first, clock.now())
    assert await repo.begin_digest(gid, news_id, second, clock.now())
    alone = await record(bot, server, clock, "Song Hye-kyo alone", [song])

    assert await bot.services.announcer.deliver_pending(clock.now()) == 3  # one digest of two, one post
    assert len(digests_in(server)) == 1  # at most one digest a minute, resent ones included
    assert (await status_of(bot, alone))["status"] == "sent"
    assert [(await status_of(bot, i))["status"] for i in second] == ["sending", "sending"]

    # The time a run is given is the time it goes by, whatever the clock says.
    assert await bot.services.announcer.deliver_pending(clock.now() + timedelta(seconds=61)) == 2
    assert len(digests_in(server)) == 2
    assert [(await status_of(bot, i))["status"] for i in second] == ["digested", "digested"]


async def test_after_a_server_error_the_whole_channel_backs_off_not_just_the_failed_post(start_bot, server, double,
                                                                                       clock):
    bot, song, _han, _sr, _hr = await news_server(start_bot, server, clock)
    news = server.channels["news"]
    double.fail_channel(news, 503)
    await record(bot, server, clock, "Song Hye-kyo first", [song])
    assert await bot.services.announcer.deliver_pending(clock.now()) == 0
    double.clear_channel_failure(news)

    later = await record(bot, server, clock, "Song Hye-kyo second", [song])
    clock.advance(10)
    assert await bot.services.announcer.deliver_pending(clock.now()) == 0  # Discord was failing a moment ago
    assert len(posts_to(double, news)) == 0 and (await status_of(bot, later))["status"] == "pending"
    clock.advance(21)
    assert await bot.services.announcer.deliver_pending(clock.now()) == 2
    assert len(server.messages("news")) == 2
