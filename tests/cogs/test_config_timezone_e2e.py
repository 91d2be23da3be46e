"""/config timezone end to end: IANA names only, whatever else the host's zoneinfo directory holds."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("tz", ["posix/Asia/Seoul", "right/Asia/Seoul", "localtime", "Factory", "posixrules",
                                "/usr/share/zoneinfo/Asia/Seoul", "../Asia/Seoul", "Asia/Seoul\x00", ""])
async def test_names_that_load_but_are_not_iana_zones_are_refused_and_keep_the_old_zone(start_bot, server, tz):
    bot = await start_bot()
    await server.invoke(server.mod, "config timezone", tz="Europe/Paris")
    bad = await server.invoke(server.mod, "config timezone", tz=tz)
    assert bad.ephemeral and "IANA" in bad.content
    assert (await bot.services.guilds.get(int(server.guild.id))).timezone == "Europe/Paris"


async def test_an_iana_name_in_any_case_is_stored_as_iana_spells_it(start_bot, server):
    bot = await start_bot()
    ix = await server.invoke(server.mod, "config timezone", tz="  asia/SEOUL ")
    assert not ix.ephemeral and "Asia/Seoul" in ix.content
    assert (await bot.services.guilds.get(int(server.guild.id))).timezone == "Asia/Seoul"


async def test_autocomplete_offers_only_iana_zones(start_bot, server):
    await start_bot()
    local = await server.autocomplete(server.mod, "config timezone", "tz", "local")
    assert all(c["value"] != "localtime" for c in local)
    seoul = await server.autocomplete(server.mod, "config timezone", "tz", "seoul")
    assert [c["value"] for c in seoul] == ["Asia/Seoul"]
    factory = await server.autocomplete(server.mod, "config timezone", "tz", "fact")
    assert factory == []
