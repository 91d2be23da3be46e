"""/stars, /config and /fanbot status end to end: the real bot, through the Discord double."""

from __future__ import annotations

import pytest

from tests.conftest import FanServer, assert_no_pings


async def follow(server: FanServer, name: str, **options):
    return await server.invoke(server.mod, "stars follow", name=name, **options)

async def test_moderator_follows_a_catalogued_star_and_gets_her_names_and_birthday(start_bot, server):
    await start_bot()
    ix = await follow(server, "song hye kyo")
    assert not ix.ephemeral
    assert "Song Hye-kyo" in ix.content and "송혜교" in ix.content and "1981-11-22" in ix.content
    info = await server.invoke(server.fan, "stars info", star="Song Hye-kyo")
    text = info.all_text
    assert "송혜교" in text and "1981-11-22" in text and "age 45" in text  # clock: 2026-11-29
    assert "Song Hye-gyo" in text  # an alias from the catalogue
    assert "Sony Hye Kyo" not in text  # a misspelling the matcher knows, not a name to show

async def test_moderator_follows_a_star_by_name_with_her_details(start_bot, server):
    await start_bot()
    ix = await follow(server, "Lee Jae-in", hangul="이재인", aliases="Lee Jaein, Jae-in Lee", birthday="2004-06-07")
    assert "Lee Jae-in" in ix.content and "이재인" in ix.content
    info = await server.invoke(server.fan, "stars info", star="lee jaein")
    assert "Jae-in Lee" in info.all_text and "2004-06-07" in info.all_text

async def test_fans_list_and_autocomplete_followed_stars(start_bot, server):
    await start_bot()
    await follow(server, "Song Hye-kyo")
    await follow(server, "Han So-hee")
    listing = await server.invoke(server.fan, "stars list")
    assert "Song Hye-kyo" in listing.all_text and "Han So-hee" in listing.all_text
    choices = await server.autocomplete(server.fan, "stars info", "star", "han")
    assert [c["name"] for c in choices] == ["Han So-hee (한소희)"]
    choices = await server.autocomplete(server.fan, "stars info", "star", "송")
    assert [c["name"] for c in choices] == ["Song Hye-kyo (송혜교)"]
    picked = await server.invoke(server.fan, "stars info", star=choices[0]["value"])
    assert "Song Hye-kyo" in picked.all_text

async def test_follow_autocompletes_from_the_catalogue(start_bot, server):
    await start_bot()
    choices = await server.autocomplete(server.mod, "stars follow", "name", "kim go")
    assert any(c["value"] == "Kim Go-eun" for c in choices)

async def test_fan_is_refused_moderator_commands_and_nothing_changes(start_bot, server):
    bot = await start_bot()
    ix = await server.invoke(server.fan, "stars follow", name="Song Hye-kyo")
    assert ix.ephemeral and "moderator" in ix.content.lower()
    assert await bot.services.stars.list(int(server.guild.id)) == []
    ix = await server.invoke(server.fan, "config timezone", tz="Europe/Paris")
    assert ix.ephemeral
    assert (await bot.services.guilds.get(int(server.guild.id))).timezone == "Asia/Seoul"

async def test_the_configured_moderator_role_grants_moderator_commands(start_bot, server):
    bot = await start_bot()
    helpers = server.guild.add_role("Helpers")
    helper = server.guild.add_member("helper", roles=[helpers])
    refused = await server.invoke(helper, "stars follow", name="IU")
    assert refused.ephemeral
    await server.invoke(server.mod, "config mod-role", role=helpers)
    ok = await server.invoke(helper, "stars follow", name="IU")
    assert not ok.ephemeral and "IU" in ok.content
    assert [s.name for s in await bot.services.stars.list(int(server.guild.id))] == ["IU"]

@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"name": "x" * 101}, "too long"),
        ({"name": "@everyone"}, "mention"),
        ({"name": "Lee <@&123456789012345678>"}, "mention"),
        ({"name": "[Song](https://evil.example)"}, "letters"),
        ({"name": "New Star", "birthday": "1990-02-30"}, "YYYY-MM-DD"),
        ({"name": "New Star", "birthday": "2099-01-01"}, "today"),
        ({"name": "New Star", "hangul": "Song"}, "Hangul"),
        ({"name": "New Star", "aliases": "ok, @here"}, "mention"),
    ],
)
async def test_bad_follow_input_gets_a_short_ephemeral_error_and_stores_nothing(start_bot, server, double, options, needle):
    bot = await start_bot()
    await follow(server, "Song Hye-kyo")
    ix = await server.invoke(server.mod, "stars follow", **options)
    assert ix.ephemeral, ix.content
    assert needle.lower() in ix.content.lower()
    assert len(ix.content) < 200
    assert [s.name for s in await bot.services.stars.list(int(server.guild.id))] == ["Song Hye-kyo"]
    assert_no_pings(double)

async def test_duplicate_follow_and_unknown_star_are_refused(start_bot, server):
    bot = await start_bot()
    await follow(server, "Han So-hee")
    again = await follow(server, "HAN SO HEE")
    assert again.ephemeral and "already follows" in again.content
    unknown = await server.invoke(server.fan, "stars info", star="Nobody Here")
    assert unknown.ephemeral and "does not follow" in unknown.content
    gone = await server.invoke(server.mod, "stars unfollow", star="Kim Go-eun")
    assert gone.ephemeral
    assert len(await bot.services.stars.list(int(server.guild.id))) == 1

async def test_edit_and_unfollow(start_bot, server):
    bot = await start_bot()
    await follow(server, "Han So-hee")
    edited = await server.invoke(server.mod, "stars edit", star="Han So-hee", aliases="Sohee Han, 소희 언니")
    assert not edited.ephemeral and "Sohee Han" in edited.content
    star = (await bot.services.stars.list(int(server.guild.id)))[0]
    assert star.aliases == ("Sohee Han", "소희 언니") and star.hangul == "한소희"
    nothing = await server.invoke(server.mod, "stars edit", star="Han So-hee")
    assert nothing.ephemeral
    await server.invoke(server.mod, "stars unfollow", star="Han So-hee")
    assert await bot.services.stars.list(int(server.guild.id)) == []
    # Following again brings her back without a duplicate row.
    await follow(server, "Han So-hee")
    assert len(await bot.services.stars.list(int(server.guild.id))) == 1

async def test_two_servers_never_see_each_others_stars(start_bot, double):
    first, second = FanServer(double, "First"), FanServer(double, "Second")
    await start_bot()
    await first.invoke(first.mod, "stars follow", name="Song Hye-kyo")
    await second.invoke(second.mod, "stars follow", name="Suzy")
    listing = await second.invoke(second.fan, "stars list")
    assert "Suzy" in listing.all_text and "Song Hye-kyo" not in listing.all_text
    choices = await second.autocomplete(second.fan, "stars info", "star", "")
    assert [c["name"] for c in choices] == ["Suzy (수지)"]
    first_id = (await first.autocomplete(first.fan, "stars info", "star", ""))[0]["value"]
    leaked = await second.invoke(second.fan, "stars info", star=first_id)
    assert leaked.ephemeral and "does not follow" in leaked.content

async def test_restart_keeps_everything_and_does_not_register_commands_again(start_bot, server, double):
    bot = await start_bot()
    assert double.sync_count == 1
    await follow(server, "Song Hye-kyo")
    await server.invoke(server.mod, "config timezone", tz="Europe/Paris")
    bot = await start_bot.restart(bot)
    assert double.sync_count == 1 and bot.last_synced is False
    info = await server.invoke(server.fan, "stars info", star="Song Hye-kyo")
    assert "송혜교" in info.all_text
    assert (await bot.services.guilds.get(int(server.guild.id))).timezone == "Europe/Paris"

async def test_commands_are_refused_in_direct_messages(start_bot, server, double):
    await start_bot()
    dm = double.dm_channel(server.fan)
    handle = await double.invoke(None, server.fan.user, dm, "stars list")
    await handle.wait_response()
    assert handle.ephemeral and "server" in handle.content

async def test_config_channel_timezone_media_hour_and_show(start_bot, server):
    bot = await start_bot()
    ix = await server.invoke(server.mod, "config channel", kind="news", channel=server.channels["news"])
    assert server.channels["news"].mention in ix.content
    bad = await server.invoke(server.mod, "config timezone", tz="Mars/Olympus")
    assert bad.ephemeral and "IANA" in bad.content
    await server.invoke(server.mod, "config media-hour", hour=21)
    choices = await server.autocomplete(server.mod, "config timezone", "tz", "seoul")
    assert {"name": "Asia/Seoul", "value": "Asia/Seoul"} in choices
    fan_view = await server.invoke(server.fan, "config show")
    assert fan_view.ephemeral and "moderator" in fan_view.content.lower()
    shown = await server.invoke(server.mod, "config show")
    assert shown.ephemeral
    text = shown.all_text
    assert server.channels["news"].mention in text and "21:00" in text and "Asia/Seoul" in text
    assert "poll posts**: not set" in text  # a kind without a channel says so
    config = await bot.services.guilds.get(int(server.guild.id))
    assert config.channel("news").channel_id == int(server.channels["news"].id) and config.media_hour == 21

async def test_status_shows_health_to_moderators_only(start_bot, server):
    await start_bot()
    refused = await server.invoke(server.fan, "fanbot status")
    assert refused.ephemeral and "moderator" in refused.content.lower()
    status = await server.invoke(server.mod, "fanbot status")
    assert status.ephemeral
    assert "Version" in status.all_text and "Database" in status.all_text and "Gateway latency" in status.all_text


async def test_an_unexpected_failure_gets_a_short_ephemeral_apology_and_a_logged_traceback(start_bot, server, caplog):
    bot = await start_bot()

    async def broken(guild_id: int):
        raise RuntimeError("database on fire")

    bot.services.stars.list = broken  # a fault inside the service, as a real bug would be
    ix = await server.invoke(server.fan, "stars list")
    assert ix.ephemeral and "went wrong" in ix.content and "fire" not in ix.content
    failures = [r for r in caplog.records if r.levelname == "ERROR" and r.exc_info]
    assert failures and "database on fire" in str(failures[-1].exc_info[1])


async def test_only_manage_server_can_choose_the_moderator_role(start_bot, server):
    bot = await start_bot()
    helpers = server.guild.add_role("Helpers")
    helper = server.guild.add_member("helper", roles=[helpers])
    await server.invoke(server.mod, "config mod-role", role=helpers)
    everyone_ish = server.guild.add_role("Fans")
    refused = await server.invoke(helper, "config mod-role", role=everyone_ish)
    assert refused.ephemeral and "Manage Server" in refused.content
    assert (await bot.services.guilds.get(int(server.guild.id))).mod_role_id == int(helpers.id)


async def test_config_channel_warns_when_fanbot_itself_cannot_post_there(start_bot, server):
    quiet = server.guild.add_text_channel("quiet")
    quiet.set_overwrite(server.guild.bot_role, deny=1 << 11)  # fanbot may not send messages here
    server.guild.refresh()
    await start_bot()
    warned = await server.invoke(server.mod, "config channel", kind="media", channel=quiet)
    assert "cannot send messages" in warned.content
    fine = await server.invoke(server.mod, "config channel", kind="news", channel=server.channels["news"])
    assert "cannot send" not in fine.content
