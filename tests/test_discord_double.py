"""The local Discord double against a minimal, unmodified discord.py bot (not fanbot)."""

from __future__ import annotations

import asyncio

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.discord_double import DiscordDouble, DoubleUsageError, Perm, run_bot

STARS = ["Song Hye-kyo", "Han So-hee", "Kim Go-eun"]


class VoteView(discord.ui.View):
    """A persistent view: it must answer clicks on messages sent before a restart."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Vote", custom_id="test:vote", style=discord.ButtonStyle.primary)
    async def vote(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.send_message(f"vote counted for {interaction.user.name}", ephemeral=True)

    @discord.ui.select(custom_id="test:pick", options=[discord.SelectOption(label=s, value=s) for s in STARS],
                       max_values=2)
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        await interaction.response.edit_message(content="picked " + ", ".join(select.values))


class StarsGroup(app_commands.Group, name="stars", description="Stars"):
    @app_commands.command(description="Show a star")
    async def info(self, interaction: discord.Interaction, star: str) -> None:
        await interaction.response.send_message(embed=discord.Embed(title=star, description="an actress"))

    @info.autocomplete("star")
    async def star_autocomplete(self, interaction: discord.Interaction, current: str):
        return [app_commands.Choice(name=s, value=s) for s in STARS if current.lower() in s.lower()]

    @app_commands.command(description="Everything at once")
    async def setup(self, interaction: discord.Interaction, name: str, count: int, channel: discord.TextChannel,
                    role: discord.Role, file: discord.Attachment | None = None) -> None:
        data = await file.read() if file else b""
        await interaction.response.send_message(
            f"{name} x{count} in {channel.name} ({type(channel).__name__}) for {role.name}; file {len(data)} bytes",
            ephemeral=True)

    @app_commands.command(description="Slow answer")
    async def slow(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("done thinking")
        await interaction.followup.send("and one more", ephemeral=True)

    @app_commands.command(description="Post a vote")
    async def poll(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("vote here", view=VoteView())

    @app_commands.command(description="Make a role")
    async def mkrole(self, interaction: discord.Interaction, name: str) -> None:
        assert interaction.guild is not None
        role = await interaction.guild.create_role(name=name, mentionable=True)
        await interaction.response.send_message(f"made {role.id}")

    @app_commands.command(description="Post in a channel")
    async def post(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        try:
            await channel.send("hello")
        except discord.Forbidden as error:
            await interaction.response.send_message(f"forbidden {error.code}", ephemeral=True)
        else:
            await interaction.response.send_message("posted", ephemeral=True)


class TinyBot(commands.Bot):
    def __init__(self, guild_id: int) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=discord.Intents.default(),
                         guild_ready_timeout=0.05)
        self.guild_id = guild_id
        self.errors: list[BaseException] = []

    async def setup_hook(self) -> None:
        self.add_view(VoteView())
        guild = discord.Object(self.guild_id)
        self.tree.add_command(StarsGroup(), guild=guild)
        self.tree.add_command(ping)
        await self.tree.sync(guild=guild)
        await self.tree.sync()

        @self.tree.error
        async def on_tree_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
            self.errors.append(error)


@app_commands.command(description="Ping, also in DMs")
async def ping(interaction: discord.Interaction) -> None:
    where = "a DM" if interaction.guild is None else interaction.guild.name
    await interaction.response.send_message(f"pong from {where}")


@pytest.fixture
async def double():
    async with DiscordDouble(bot_name="tinybot") as double:
        yield double


@pytest.fixture
def world(double: DiscordDouble):
    guild = double.add_guild("Fan Club")
    return {"guild": guild, "news": guild.add_text_channel("news"), "fan": guild.add_member("fan")}


@pytest.fixture
async def bot(double: DiscordDouble, world):
    client = TinyBot(int(world["guild"].id))
    async with run_bot(client, double):
        yield client
    assert client.errors == []
    assert double.errors == []


async def test_login_identifies_and_caches_the_guild(double: DiscordDouble, world, bot: TinyBot) -> None:
    assert bot.user is not None and bot.user.name == "tinybot"
    guild = bot.get_guild(int(world["guild"].id))
    assert guild is not None and guild.name == "Fan Club"
    assert guild.me is not None and guild.me.guild_permissions.manage_roles
    assert [c.name for c in guild.text_channels] == ["news"]
    assert double.identifies[0]["intents"] == discord.Intents.default().value
    paths = [(r.method, r.path) for r in double.requests]
    assert paths[:2] == [("GET", "/users/@me"), ("GET", "/oauth2/applications/@me")]
    assert all(r.headers["Authorization"] == "Bot double-token" for r in double.requests)


async def test_sync_records_the_schema_with_ids(double: DiscordDouble, world, bot: TinyBot) -> None:
    stars = double.commands[world["guild"].id]["stars"]
    assert stars["id"] and stars["application_id"] == double.application_id
    setup = next(o for o in stars["options"] if o["name"] == "setup")
    assert [(o["name"], o["type"]) for o in setup["options"]] == [
        ("name", 3), ("count", 4), ("channel", 7), ("role", 8), ("file", 11)]
    assert list(double.commands[None]) == ["ping"]


async def test_invoke_records_the_reply(double: DiscordDouble, world, bot: TinyBot) -> None:
    ix = await double.invoke(world["guild"], world["fan"], world["news"], "stars info", star="Han So-hee")
    await ix.wait_response()
    assert ix.response_type == 4
    assert ix.embeds[0]["title"] == "Han So-hee"
    assert not ix.ephemeral
    assert double.channel_messages(world["news"]) == [ix.original]
    callback = double.find_requests("POST", r"/interactions/\d+/[^/]+/callback")[0]
    assert not callback.authorized and callback.query == {"with_response": "1"}
