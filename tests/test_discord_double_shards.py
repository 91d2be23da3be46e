"""The double's sharding, as Discord does it: guilds per shard, interactions to the owning session,
GET /gateway/bot, and IDENTIFY spaced per max_concurrency bucket (op 9 for an early one)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.discord_double import DiscordDouble, run_bot
from tests.discord_double.models import shard_of


@app_commands.command(description="Which shard answers")
async def where(interaction: discord.Interaction) -> None:
    if interaction.guild is None:
        await interaction.response.send_message("a DM")
    else:
        await interaction.response.send_message(f"shard {interaction.guild.shard_id} of {interaction.guild.name}")


class TinyShardedBot(commands.AutoShardedBot):
    def __init__(self, *, shard_count: int | None, shard_ids: list[int] | None = None,
                 retry_pause: float = 0.0) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=discord.Intents.default(),
                         shard_count=shard_count, shard_ids=shard_ids, guild_ready_timeout=0.05)
        self.retry_pause = retry_pause
        self.identify_calls: list[tuple[int | None, bool]] = []

    async def setup_hook(self) -> None:
        self.tree.add_command(where)
        await self.tree.sync()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # Not discord.py's default (5 s before every non-initial IDENTIFY): the tests set the spacing.
        self.identify_calls.append((shard_id, initial))
        if not initial and self.retry_pause:
            await asyncio.sleep(self.retry_pause)


def two_shard_world(double: DiscordDouble) -> dict[str, Any]:
    world: dict[str, Any] = {}
    for shard in (0, 1):
        for n in (1, 2):
            guild = double.add_guild(f"shard {shard} club {n}", shard=(shard, 2))
            world[f"g{shard}{n}"] = guild
            world[f"c{shard}{n}"] = guild.add_text_channel("general")
            world[f"f{shard}{n}"] = guild.add_member("fan")
    return world


async def _identify(double: DiscordDouble, shard: list[int] | None) -> dict[str, Any]:
    """A raw client: HELLO, then IDENTIFY; returns Discord's first answer (READY dispatch or op 9)."""
    async with aiohttp.ClientSession() as session, session.ws_connect(double.gateway_url) as ws:
        hello = json.loads((await ws.receive(timeout=2)).data)
        assert hello["op"] == 10
        data: dict[str, Any] = {"token": double.token, "intents": 1, "properties": {}}
        if shard is not None:
            data["shard"] = shard
        await ws.send_str(json.dumps({"op": 2, "d": data}))
        message = await ws.receive(timeout=2)
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
            return {"closed": ws.close_code if message.type != aiohttp.WSMsgType.CLOSE else message.data}
        return json.loads(message.data)


def test_guilds_can_be_placed_on_a_shard() -> None:
    double = DiscordDouble()
    for count in (1, 2, 3, 16):
        for shard_id in range(count):
            guild = double.add_guild(f"{shard_id}/{count}", shard=(shard_id, count))
            assert shard_of(guild.id, count) == shard_id
    assert len({g for g in double.guilds}) == sum((1, 2, 3, 16))


async def test_gateway_bot_reports_shards_and_session_start_limit() -> None:
    async with DiscordDouble(shards=4, max_concurrency=2) as double:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bot {double.token}"}) as session:
            async with session.get(f"{double.api_base}/gateway/bot") as response:
                before = await response.json()
            assert (await _identify(double, [0, 4]))["t"] == "READY"
            async with session.get(f"{double.api_base}/gateway/bot") as response:
                after = await response.json()
            async with session.get(f"{double.api_base}/gateway") as response:
                plain = await response.json()
    assert before["shards"] == 4 and before["url"] == double.gateway_url
    assert before["session_start_limit"] == {"total": 1000, "remaining": 1000, "reset_after": 0,
                                             "max_concurrency": 2}
    assert after["session_start_limit"]["remaining"] == 999 and after["session_start_limit"]["reset_after"] > 0
    assert plain == {"url": double.gateway_url}  # GET /gateway is for clients: no shard advice


async def test_ready_lists_only_the_guilds_of_the_identified_shard() -> None:
    async with DiscordDouble() as double:
        world = two_shard_world(double)
        ready = await _identify(double, [1, 2])
    assert ready["t"] == "READY" and ready["d"]["shard"] == [1, 2]
    assert {g["id"] for g in ready["d"]["guilds"]} == {world["g11"].id, world["g12"].id}
    session = double.gateway.sessions[-1]
    assert session.guild_ids == {world["g11"].id, world["g12"].id}


async def test_an_invalid_shard_is_closed_with_4010() -> None:
    async with DiscordDouble() as double:
        answer = await _identify(double, [2, 2])
    assert answer == {"closed": 4010}
    assert double.gateway.sessions == []


async def test_early_identify_in_the_same_bucket_gets_op_9() -> None:
    async with DiscordDouble(max_concurrency=2, identify_interval=5.0) as double:
        now = [100.0]
        double.now = lambda: now[0]  # type: ignore[method-assign]
        assert (await _identify(double, [0, 4]))["t"] == "READY"
        assert (await _identify(double, [1, 4]))["t"] == "READY"  # bucket 1 % 2 = 1: its own bucket
        now[0] += 4.9
        assert await _identify(double, [2, 4]) == {"op": 9, "d": False}  # 2 % 2 = 0: too early
        now[0] += 0.1
        assert (await _identify(double, [2, 4]))["t"] == "READY"
    log = [(a.shard[0], a.accepted) for a in double.gateway.identify_log]
    assert log == [(0, True), (1, True), (2, False), (2, True)]
    assert len(double.gateway.sessions) == 3


async def test_a_sharded_client_gets_each_shards_guilds_and_interactions() -> None:
    async with DiscordDouble(shards=2) as double:
        world = two_shard_world(double)
        bot = TinyShardedBot(shard_count=None)  # asks GET /gateway/bot, as discord.py does
        async with run_bot(bot, double):
            assert bot.shard_count == 2 and len(bot.guilds) == 4
            answers = {}
            for key in ("01", "12"):
                ix = await double.invoke(world[f"g{key}"], world[f"f{key}"], world[f"c{key}"], "where")
                await ix.wait_response()
                answers[key] = ix.content
            by_shard = {s.shard: s for s in double.gateway.sessions}
            for shard_id, key in ((0, "01"), (1, "12")):
                got = [f["d"]["guild_id"] for f in by_shard[(shard_id, 2)].replay if f["t"] == "INTERACTION_CREATE"]
                assert got == [world[f"g{key}"].id]
    assert answers == {"01": "shard 0 of shard 0 club 1", "12": "shard 1 of shard 1 club 2"}
    assert sorted(tuple(i["shard"]) for i in double.identifies) == [(0, 2), (1, 2)]
    assert double.errors == []


async def test_a_client_on_one_shard_never_sees_the_other() -> None:
    async with DiscordDouble(shards=2) as double:
        world = two_shard_world(double)
        bot = TinyShardedBot(shard_count=2, shard_ids=[1])
        async with run_bot(bot, double):
            assert sorted(g.name for g in bot.guilds) == ["shard 1 club 1", "shard 1 club 2"]
            late = double.add_guild("joined later", shard=(0, 2))
            mine = double.add_guild("joined later too", shard=(1, 2))
            await double.wait_for(lambda: bot.get_guild(int(mine.id)), 2, "the shard 1 guild")
            assert bot.get_guild(int(late.id)) is None
            with pytest.raises(RuntimeError, match="no connected session owns"):
                await double.invoke(world["g01"], world["f01"], world["c01"], "where")
    assert [i["shard"] for i in double.identifies] == [[1, 2]]


async def test_discord_py_reidentifies_after_op_9() -> None:
    async with DiscordDouble(shards=2, identify_interval=0.3) as double:
        two_shard_world(double)
        bot = TinyShardedBot(shard_count=2, retry_pause=0.05)
        async with run_bot(bot, double):
            await double.wait_for(lambda: len(bot.guilds) == 4, 5, "both shards' guilds")
    log = double.gateway.identify_log
    accepted = [a for a in log if a.accepted]
    assert [a.shard for a in accepted] == [(0, 2), (1, 2)]
    assert any(not a.accepted for a in log), "the second shard identified early and was refused"
    assert accepted[1].time - accepted[0].time >= 0.3


async def test_during_a_rolling_restart_the_newer_session_of_a_shard_gets_the_interactions() -> None:
    async with DiscordDouble(shards=2) as double:
        world = two_shard_world(double)
        old = TinyShardedBot(shard_count=2, shard_ids=[1])
        async with run_bot(old, double):
            new = TinyShardedBot(shard_count=2, shard_ids=[1])
            async with run_bot(new, double):
                ix = await double.invoke(world["g11"], world["f11"], world["c11"], "where")
                await ix.wait_response()
                older, newer = double.gateway.sessions
                assert not older.ended and older.connection is not None  # both shard 1 sessions live
                assert [f["t"] for f in newer.replay].count("INTERACTION_CREATE") == 1
                assert [f["t"] for f in older.replay].count("INTERACTION_CREATE") == 0
            # The new process stopped (its session stays resumable but has no socket): the old one answers.
            await double.wait_for(lambda: newer.connection is None, 2, "the new process's socket closed")
            ix = await double.invoke(world["g12"], world["f12"], world["c12"], "where")
            await ix.wait_response()
            assert ix.content == "shard 1 of shard 1 club 2"
            assert [f["t"] for f in older.replay].count("INTERACTION_CREATE") == 1


async def test_dms_go_to_shard_0_only() -> None:
    async with DiscordDouble(shards=2) as double:
        world = two_shard_world(double)
        fan = world["f11"]
        async with run_bot(TinyShardedBot(shard_count=2, shard_ids=[1]), double):
            with pytest.raises(RuntimeError, match="no connected session owns DMs"):
                await double.invoke(None, fan, None, "where")
        async with run_bot(TinyShardedBot(shard_count=2), double):
            ix = await double.invoke(None, fan, None, "where")
            await ix.wait_response()
            assert ix.content == "a DM"
            [zero] = [s for s in double.gateway.active_sessions if s.shard == (0, 2)]
            assert [f["t"] for f in zero.replay].count("INTERACTION_CREATE") == 1
    assert double.errors == []
