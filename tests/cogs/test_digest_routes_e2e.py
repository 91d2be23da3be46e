"""Digests where a server has several news channels, and in a Korean server, through the double on SQLite
and PostgreSQL (issue 12: what the rewritten delivery code left unpinned)."""

from __future__ import annotations

from bot.i18n import Catalogues
from tests.cogs.test_announce_e2e import SONG, record
from tests.cogs.test_delivery_leases_e2e import shared_db, song_routed  # noqa: F401  (the fixture: one database per kind)


def digests(double, channel):
    """The digests posted there: one list of linked titles, where a single post's embed links its story."""
    return [m for m in double.channel_messages(channel.id)
            if m["embeds"] and "url" not in m["embeds"][0] and m["embeds"][0]["description"].startswith("•")]


async def test_an_interrupted_digest_is_resent_in_its_own_channel_never_in_another_routes(
        start_bot, server, double, clock, shared_db):  # noqa: F811
    bot, gid, song, han, news, song_channel = await song_routed(start_bot, server, shared_db)
    repo = bot.services.announcer.repo
    for n in range(4):  # each goes to Song Hye-kyo's channel and, for Han So-hee, to the news channel
        await record(bot, server, clock, f"Song Hye-kyo and Han So-hee story {n}", [song, han])
    await repo.route_waiting(gid, (await bot.services.guilds.get(gid)).routing, clock.now())
    rows = await bot.db.fetchall("SELECT id, channel_id FROM announcements ORDER BY id")
    in_news, in_song = ([r[0] for r in rows if r[1] == int(c.id)] for c in (news, song_channel))
    assert len(in_news) == len(in_song) == 4
    # Two digests a process journaled and died before sending: the star channel's first, so a run that
    # took every open digest of the server into the news channel would send that one there.
    assert await repo.begin_digest(gid, int(song_channel.id), in_song[:2], clock.now())
    assert await repo.begin_digest(gid, int(news.id), in_news[2:], clock.now())

    await bot.services.announcer.deliver_pending(clock.now())
    [news_digest], [song_digest] = digests(double, news), digests(double, song_channel)
    assert "story 2" in news_digest["embeds"][0]["description"] and "story 0" not in news_digest["embeds"][0]["description"]
    assert "story 0" in song_digest["embeds"][0]["description"] and "story 2" not in song_digest["embeds"][0]["description"]
    sent = await bot.db.fetchall("SELECT channel_id, status FROM announcement_digests ORDER BY id")
    assert [tuple(r) for r in sent] == [(int(song_channel.id), "sent"), (int(news.id), "sent")]


async def test_a_digest_in_a_korean_server_names_the_stars_in_hangul(start_bot, server, double, clock,
                                                                     shared_db):  # noqa: F811
    bot = await start_bot(**shared_db)
    await server.configure(bot)
    gid = int(server.guild.id)
    await bot.services.guilds.set_language(gid, "ko")
    song = await bot.services.stars.follow(gid, SONG)
    for n in range(7):  # five go out alone, the last two in a digest
        await record(bot, server, clock, f"Song Hye-kyo story {n}", [song])
    assert await bot.services.announcer.deliver_pending(clock.now()) == 7

    [digest] = digests(double, server.channels["news"])
    korean = Catalogues.load().get("ko")
    assert digest["embeds"][0]["title"] == korean.n_("{n} more story", "{n} more stories", 2)
    lines = digest["embeds"][0]["description"].splitlines()
    assert len(lines) == 2 and all(line.endswith("· 송혜교") for line in lines), lines
