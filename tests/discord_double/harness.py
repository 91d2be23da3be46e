"""Helpers to run an unmodified discord.py client against the double inside a test."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, AsyncIterator, Callable

import discord
import discord.gateway
import discord.http
import yarl

from .models import shard_of

if TYPE_CHECKING:
    from .server import DiscordDouble


def point_discord_py_at(api_base: str, gateway_url: str) -> Callable[[], None]:
    """Send every REST call (webhooks and interaction callbacks included) and the Gateway to the double.

    Process-wide (class attributes). Returns a function that restores the previous values."""
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)

    def restore() -> None:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway
    return restore


async def _first(task: asyncio.Task, waiter: asyncio.Future | asyncio.Task, what: str) -> None:
    """Wait for `waiter`, but fail at once if the bot's task ends first (it crashed, e.g. in setup_hook)."""
    waiter = asyncio.ensure_future(waiter)
    done, _ = await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if waiter in done:
        waiter.result()
        return
    waiter.cancel()
    with contextlib.suppress(asyncio.CancelledError, TimeoutError):
        await waiter
    task.result()  # re-raises the bot's exception
    raise RuntimeError(f"the bot stopped before {what}")


def guilds_on_shards_of(client: discord.Client, double: DiscordDouble) -> list[str]:
    """The double's guilds that `client`'s shards receive (all of them for an unsharded client)."""
    count = client.shard_count or 1
    shard_ids = set(getattr(client, "shard_ids", None) or range(count))
    return [g for g in double.guilds if shard_of(g, count) in shard_ids]


async def wait_for_guild_cache(client: discord.Client, double: DiscordDouble, timeout: float = 10.0) -> None:
    """Until the client has every guild of its shards in its cache (GUILD_CREATEs processed)."""
    async def cached() -> None:
        while not all(client.get_guild(int(g)) for g in guilds_on_shards_of(client, double)):
            await asyncio.sleep(0.001)
    await asyncio.wait_for(cached(), timeout)


async def _cancel_delayed_ready(client: discord.Client) -> None:
    """discord.py's wait for more GUILD_CREATEs before on_ready outlives close(); stop it so no task leaks."""
    ready_task = getattr(client._connection, "_ready_task", None)
    if ready_task is not None and not ready_task.done():
        ready_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ready_task


@contextlib.asynccontextmanager
async def run_bot(client: discord.Client, double: DiscordDouble, token: str | None = None, *,
                  timeout: float = 10.0, start: Callable[[], object] | None = None) -> AsyncIterator[discord.Client]:
    """Run `client` against `double` for the body of the `async with`.

    Returns once the client identified (setup_hook done, commands synced) and cached every guild; on exit
    closes the client and awaits its task, re-raising anything it died of. `start` replaces
    `client.start(token)` for bots that have their own entry coroutine (it must log in with double.token)."""
    restore = point_discord_py_at(double.api_base, double.gateway_url)
    seen = len(double.identifies)
    coro = start() if start is not None else client.start(token or double.token)
    task = asyncio.create_task(coro, name="discord-double-bot")  # type: ignore[arg-type]
    try:
        await _first(task, double.wait_for_identify(seen + 1, timeout), "IDENTIFY")
        await _first(task, wait_for_guild_cache(client, double, timeout), "the guilds were cached")
        yield client
    finally:
        try:
            await _cancel_delayed_ready(client)
            await client.close()
            await asyncio.wait_for(task, timeout)
        finally:
            restore()
