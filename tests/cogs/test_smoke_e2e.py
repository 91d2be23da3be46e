"""A first end-to-end run: the real bot logs in to the double and answers a fan."""

from __future__ import annotations


async def test_bot_logs_in_syncs_and_answers(start_bot, server, double):
    await start_bot()
    assert "stars" in {c["name"] for c in double.commands[None].values()}
    ix = await server.invoke(server.fan, "stars list")
    assert ix.ephemeral
    assert "follows no stars" in ix.content
