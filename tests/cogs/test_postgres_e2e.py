"""The bot on PostgreSQL through the Discord double, including the server restarting under it."""

from __future__ import annotations

import logging

from bot.settings import Secret


async def test_commands_say_try_again_while_postgresql_restarts_and_work_again_after(
        pg_cluster, start_bot, server, caplog):
    # The leader checks its lock every lease/3 s of wall time; on a busy machine the default 5 s could
    # end inside the outage and log that check's own failure, which is not what this test is about.
    bot = await start_bot(database_url=Secret(await pg_cluster.clean_database()), leader_lease=3600)
    followed = await server.invoke(server.mod, "stars follow", name="Song Hye-kyo")
    assert not followed.ephemeral and "Song Hye-kyo" in followed.content

    pg_cluster.halt()
    try:
        with caplog.at_level(logging.WARNING, logger="bot.replies"):
            refused = await server.invoke(server.mod, "stars follow", name="Han So-hee")
        assert refused.ephemeral and refused.content.startswith("fanbot could not reach its database just now")
        ours = [r for r in caplog.records if r.name.startswith("bot")]
        # An outage is one warning, not a bug report with a traceback.
        assert [r.levelname for r in ours] == ["WARNING"] and not ours[0].exc_info, [(r.name, r.getMessage()[:80]) for r in ours]
    finally:
        pg_cluster.boot()

    # The pool drops its dead connections and reconnects by itself; the refused follow left nothing.
    listed = await server.invoke(server.fan, "stars list")
    assert "Song Hye-kyo" in listed.all_text and "Han So-hee" not in listed.all_text
    again = await server.invoke(server.mod, "stars follow", name="Han So-hee")
    assert not again.ephemeral and "Han So-hee" in again.content
    names = [s.name for s in await bot.services.stars.list(int(server.guild.id))]
    assert names == ["Han So-hee", "Song Hye-kyo"]
