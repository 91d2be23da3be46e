"""/notify end to end: fans opt in and out of star pings; fanbot keeps one mentionable role per star."""

from __future__ import annotations

from tests.discord_double import Perm

SONG, HAN = "Song Hye-kyo", "Han So-hee"


def roles_named(server, name):
    return [r for r in server.guild.roles.values() if r.name == name]


async def following(start_bot, server):
    bot = await start_bot()
    gid = int(server.guild.id)
    song = await bot.services.stars.follow(gid, SONG)
    han = await bot.services.stars.follow(gid, HAN)
    return bot, song, han


async def notify(server, member, sub, **options):
    ix = await server.invoke(member, f"notify {sub}", **options)
    await ix.wait_done()
    return ix


async def test_first_opt_in_creates_the_role_and_later_ones_reuse_it(start_bot, server, double):
    bot, song, han = await following(start_bot, server)
    ix = await notify(server, server.fan, "add", star=f"id:{song.id}")
    assert ix.ephemeral
    [role] = roles_named(server, f"🔔 {SONG}")
    assert role.mentionable and role.permissions == 0
    assert role.id in server.fan.roles
    assert role.mention in ix.all_text and "/notify remove" in ix.all_text
    assert (await bot.services.stars.get(int(server.guild.id), song.id)).notify_role_id == int(role.id)
    [create] = double.find_requests("POST", rf"/guilds/{server.guild.id}/roles")
    assert create.headers.get("X-Audit-Log-Reason")

    other = server.new_fan()
    await notify(server, other, "add", star=SONG)  # a typed name works as well as the autocomplete value
    assert len(roles_named(server, f"🔔 {SONG}")) == 1 and role.id in other.roles
    assert len(double.find_requests("POST", rf"/guilds/{server.guild.id}/roles")) == 1

    again = await notify(server, server.fan, "add", star=f"id:{song.id}")
    assert again.ephemeral and "already" in again.all_text
    assert server.fan.roles.count(role.id) == 1


async def test_list_and_remove(start_bot, server, double):
    bot, song, han = await following(start_bot, server)
    empty = await notify(server, server.fan, "list")
    assert empty.ephemeral and "no star pings" in empty.all_text and SONG in empty.all_text

    await notify(server, server.fan, "add", star=f"id:{song.id}")
    await notify(server, server.fan, "add", star=f"id:{han.id}")
    listed = await notify(server, server.fan, "list")
    assert listed.ephemeral and SONG in listed.all_text and HAN in listed.all_text

    removed = await notify(server, server.fan, "remove", star=f"id:{song.id}")
    assert removed.ephemeral and "no more pings" in removed.all_text
    [song_role] = roles_named(server, f"🔔 {SONG}")
    assert song_role.id not in server.fan.roles
    assert song_role.id in server.guild.roles  # the role stays for the other fans
    listed = await notify(server, server.fan, "list")
    assert SONG not in listed.all_text and HAN in listed.all_text

    twice = await notify(server, server.fan, "remove", star=f"id:{song.id}")
    assert twice.ephemeral and "nothing to stop" in twice.all_text


async def test_without_manage_roles_the_fan_is_told_and_nothing_changes(start_bot, server, double):
    server.guild.bot_role.permissions &= ~Perm.MANAGE_ROLES
    bot, song, han = await following(start_bot, server)
    guild = bot.get_guild(int(server.guild.id))
    assert not guild.me.guild_permissions.manage_roles

    ix = await notify(server, server.fan, "add", star=f"id:{song.id}")
    assert ix.ephemeral
    assert "ask a moderator to give fanbot Manage Roles" in ix.all_text
    assert roles_named(server, f"🔔 {SONG}") == []
    assert not double.find_requests("POST", rf"/guilds/{server.guild.id}/roles")
    assert (await bot.services.stars.get(int(server.guild.id), song.id)).notify_role_id is None


async def test_a_deleted_role_is_replaced(start_bot, server, double):
    bot, song, han = await following(start_bot, server)
    await notify(server, server.fan, "add", star=f"id:{song.id}")
    [old] = roles_named(server, f"🔔 {SONG}")
    del server.guild.roles[old.id]
    server.fan.roles.remove(old.id)
    double.gateway.guild_event(server.guild, "GUILD_ROLE_DELETE", {"guild_id": server.guild.id, "role_id": old.id})
    await double.wait_for(lambda: bot.get_guild(int(server.guild.id)).get_role(int(old.id)) is None)

    await notify(server, server.fan, "add", star=f"id:{song.id}")
    [new] = roles_named(server, f"🔔 {SONG}")
    assert new.id != old.id and new.id in server.fan.roles
    assert (await bot.services.stars.get(int(server.guild.id), song.id)).notify_role_id == int(new.id)


async def test_unknown_or_unfollowed_star_is_refused(start_bot, server, double):
    bot, song, han = await following(start_bot, server)
    ix = await notify(server, server.fan, "add", star="Kim Go-eun")
    assert ix.ephemeral and "does not follow" in ix.all_text
    await bot.services.stars.unfollow(int(server.guild.id), f"id:{han.id}")
    ix = await notify(server, server.fan, "add", star=f"id:{han.id}")
    assert ix.ephemeral and "does not follow" in ix.all_text
    assert not double.find_requests("POST", rf"/guilds/{server.guild.id}/roles")
    assert not double.find_requests("PUT", r"/guilds/\d+/members/\d+/roles/\d+")


async def test_a_role_above_fanbot_cannot_be_handed_out(start_bot, server, double):
    bot, song, han = await following(start_bot, server)
    high = server.guild.add_role("Song fans (old)", position=50, mentionable=True)
    await bot.services.stars.set_notify_role(song, int(high.id))
    await double.wait_for(lambda: bot.get_guild(int(server.guild.id)).get_role(int(high.id)) is not None)
    ix = await notify(server, server.fan, "add", star=f"id:{song.id}")
    assert ix.ephemeral and "above fanbot's own role" in ix.all_text
    assert high.id not in server.fan.roles
    assert not double.find_requests("PUT", r"/guilds/\d+/members/\d+/roles/\d+")


async def test_remove_answers_before_waiting_on_a_rate_limited_role_change(start_bot, server, double):
    bot, song, han = await following(start_bot, server)
    await notify(server, server.fan, "add", star=f"id:{song.id}")
    [role] = roles_named(server, f"🔔 {SONG}")
    removal = rf"/guilds/{server.guild.id}/members/{server.fan.id}/roles/{role.id}"
    double.rate_limit(removal, method="DELETE", retry_after=0.3)

    removed = await notify(server, server.fan, "remove", star=f"id:{song.id}")
    assert removed.deferred and removed.ephemeral and "no more pings" in removed.all_text
    assert role.id not in server.fan.roles
    requests = double.find_requests()
    callback = [i for i, r in enumerate(requests)  # the last deferral is the one answering /notify remove
                if r.method == "POST" and r.path.endswith("/callback") and r.json.get("type") == 5][-1]
    first_delete = next(i for i, r in enumerate(requests) if r.method == "DELETE" and r.path == removal)
    assert callback < first_delete  # the 3-second deadline is met before Discord makes us wait
