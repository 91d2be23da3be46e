"""What one delivery run skips without giving up the rest: a server another process is delivering, a
channel that refuses or is paused, servers of other shards (issue 12), on SQLite and PostgreSQL."""

from __future__ import annotations

from bot.services.announcer import LEASE_TIME
from bot.storage.leases import LeaseRepository
from tests.cogs.test_announce_e2e import SONG, record
from tests.cogs.test_delivery_leases_e2e import shared_db, song_routed  # noqa: F401  (the fixture: one database per kind)
from tests.conftest import FanServer


def titles(double, channel):
    return [m["embeds"][0]["title"] for m in double.channel_messages(channel.id) if m["embeds"]]


async def test_a_server_another_process_is_delivering_is_skipped_and_the_next_server_still_served(
        start_bot, server, double, clock, shared_db):  # noqa: F811
    other = FanServer(double, "Other fans")
    bot = await start_bot(**shared_db)
    for fans in (server, other):
        await fans.configure(bot)
        star = await bot.services.stars.follow(int(fans.guild.id), SONG)
        await record(bot, fans, clock, "Song Hye-kyo in Seoul", [star])
    announcer = bot.services.announcer
    first, second = await announcer.repo.guilds_with_work(clock.now())
    busy, free = (server, other) if first == int(server.guild.id) else (other, server)
    assert await LeaseRepository(bot.db).claim(first, "another-process", clock.now(), LEASE_TIME)

    assert await announcer.deliver_pending(clock.now()) == 1
    assert busy.messages("news") == [] and len(free.messages("news")) == 1
    assert int(free.guild.id) == second


async def test_a_channel_that_refuses_or_is_paused_holds_up_only_itself_not_the_servers_other_routes(
        start_bot, server, double, clock, shared_db):  # noqa: F811
    bot, gid, song, han, news, song_channel = await song_routed(start_bot, server, shared_db)

    double.fail_channel(news, 403)
    await record(bot, server, clock, "Song Hye-kyo and Han So-hee in Seoul", [song, han])
    await bot.services.announcer.deliver_pending(clock.now())
    assert titles(double, song_channel) == ["Song Hye-kyo and Han So-hee in Seoul"]  # same run, despite the 403
    assert (await bot.services.guilds.get(gid)).channel_target(int(news.id)).blocked_reason  # paused now

    await record(bot, server, clock, "Song Hye-kyo and Han So-hee in Busan", [song, han])
    clock.advance(61)
    await bot.services.announcer.deliver_pending(clock.now())
    assert titles(double, song_channel)[-1] == "Song Hye-kyo and Han So-hee in Busan"  # the paused one is skipped
    assert titles(double, news) == []


async def test_a_process_takes_delivery_leases_only_for_the_servers_of_its_own_shards(
        start_bot, double, clock, shared_db, monkeypatch):  # noqa: F811
    double.shards = 2
    servers = [FanServer(double, f"Fan club {i}", shard=(i % 2, 2)) for i in range(2)]
    zero = await start_bot(shard_count=2, shard_ids=(0,), **shared_db)
    for fans in servers:
        await fans.configure(zero)
        star = await zero.services.stars.follow(int(fans.guild.id), SONG)
        await record(zero, fans, clock, "Song Hye-kyo in Seoul", [star])
    announcer = zero.services.announcer
    claimed = []
    claim = announcer.leases.claim

    async def noting(guild_id, *args):
        claimed.append(guild_id)
        return await claim(guild_id, *args)

    monkeypatch.setattr(announcer.leases, "claim", noting)
    assert await announcer.deliver_pending(clock.now()) == 1
    # Shard 1's server is the other process's: not even its lease is taken, which would make it wait.
    assert claimed == [int(servers[0].guild.id)]
    assert len(servers[0].messages("news")) == 1 and servers[1].messages("news") == []


async def test_a_channel_waiting_out_a_discord_server_error_holds_up_only_itself(start_bot, server, double, clock,
                                                                                  shared_db):  # noqa: F811
    bot, gid, song, han, news, song_channel = await song_routed(start_bot, server, shared_db)

    double.fail_channel(news, 503)
    await record(bot, server, clock, "Song Hye-kyo and Han So-hee in Seoul", [song, han])
    await bot.services.announcer.deliver_pending(clock.now())
    double.fail_channel(news, None)
    await record(bot, server, clock, "Song Hye-kyo and Han So-hee in Busan", [song, han])
    clock.advance(1)  # the news channel's retry is not due yet
    await bot.services.announcer.deliver_pending(clock.now())
    assert titles(double, song_channel) == ["Song Hye-kyo and Han So-hee in Seoul", "Song Hye-kyo and Han So-hee in Busan"]
    assert titles(double, news) == []
