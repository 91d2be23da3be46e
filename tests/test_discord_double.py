"""The local Discord double against a minimal, unmodified discord.py bot (not fanbot)."""

from __future__ import annotations

import asyncio
import io

import aiohttp
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
    def __init__(self, guild_id: int, intents: discord.Intents | None = None) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=intents or discord.Intents.default(),
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
    await double.wait_ready()
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


async def test_autocomplete_returns_the_bots_choices(double: DiscordDouble, world, bot: TinyBot) -> None:
    choices = await double.autocomplete(world["guild"], world["fan"], world["news"], "stars info",
                                        focused="star", value="so")
    assert [c["value"] for c in choices] == ["Song Hye-kyo", "Han So-hee"]


async def test_channel_role_and_attachment_options_resolve(double: DiscordDouble, world, bot: TinyBot) -> None:
    guild = world["guild"]
    role = guild.add_role("Moderators")
    upload = double.attach_file("poster.png", "image/png", b"\x89PNG" + b"0" * 96)
    ix = await double.invoke(guild, world["fan"], world["news"], "stars setup",
                             name="Song", count=3, channel=world["news"], role=role, file=upload)
    await ix.wait_response()
    assert ix.content == "Song x3 in news (TextChannel) for Moderators; file 100 bytes"
    assert ix.ephemeral and double.channel_messages(world["news"]) == []
    assert double.find_requests("GET", r"/attachments/.*")


async def test_defer_then_followups(double: DiscordDouble, world, bot: TinyBot) -> None:
    ix = await double.invoke(world["guild"], world["fan"], world["news"], "stars slow")
    await ix.wait_followups(2)
    assert ix.response_type == 5
    # Discord's first follow-up after a deferred reply fills in the "thinking" message.
    assert ix.original["content"] == "done thinking" and ix.original["flags"] == 0
    assert [m["content"] for m in ix.followups] == ["done thinking", "and one more"]
    assert ix.followups[1]["flags"] & 64
    assert [m["content"] for m in double.channel_messages(world["news"])] == ["done thinking"]
    follow = double.find_requests("POST", r"/webhooks/.*")[0]
    assert follow.query["wait"] == "1" and not follow.authorized


async def test_persistent_button_and_select(double: DiscordDouble, world, bot: TinyBot) -> None:
    ix = await double.invoke(world["guild"], world["fan"], world["news"], "stars poll")
    await ix.wait_response()
    message = ix.original
    click = await double.click(message, "test:vote", world["fan"])
    await click.wait_response()
    assert click.content == "vote counted for fan" and click.ephemeral
    pick = await double.select(message, "test:pick", ["Song Hye-kyo", "Kim Go-eun"], world["fan"])
    await pick.wait_response()
    assert pick.response_type == 7
    assert double.channel_messages(world["news"])[0]["content"] == "picked Song Hye-kyo, Kim Go-eun"
    with pytest.raises(DoubleUsageError):
        await double.click(message, "test:nope", world["fan"])


async def test_role_creation_reaches_the_client_cache(double: DiscordDouble, world, bot: TinyBot) -> None:
    ix = await double.invoke(world["guild"], world["fan"], world["news"], "stars mkrole", name="Song fans")
    await ix.wait_response()
    role_id = int(ix.content.split()[-1])
    role = await double.wait_for(lambda: bot.get_guild(int(world["guild"].id)).get_role(role_id), 2, "role")
    assert role.name == "Song fans" and role.mentionable
    assert world["guild"].roles[str(role_id)].name == "Song fans"


async def test_dropped_gateway_resumes_and_replays(double: DiscordDouble, world, bot: TinyBot) -> None:
    await double.drop_gateway()
    world["guild"].add_text_channel("while-away")  # dispatched while the socket is down
    resume = await double.wait_for_resume()
    assert resume["path"] == "/gateway-resume" and resume["session_id"] == double.gateway.sessions[0].id
    guild = bot.get_guild(int(world["guild"].id))
    await double.wait_for(lambda: discord.utils.get(guild.text_channels, name="while-away"), 2, "replayed channel")
    ix = await double.invoke(world["guild"], world["fan"], world["news"], "stars info", star="Kim Go-eun")
    await ix.wait_response()
    assert len(double.identifies) == 1


async def test_failed_channel_raises_forbidden_in_the_client(double: DiscordDouble, world, bot: TinyBot) -> None:
    double.fail_channel(world["news"], 403)
    ix = await double.invoke(world["guild"], world["fan"], world["news"], "stars post", channel=world["news"])
    await ix.wait_response()
    assert ix.content == "forbidden 50013"
    double.clear_channel_failure(world["news"])
    ix = await double.invoke(world["guild"], world["fan"], world["news"], "stars post", channel=world["news"])
    await ix.wait_response()
    assert ix.content == "posted"
    assert [m["content"] for m in double.channel_messages(world["news"])] == ["hello"]


async def test_dm_interaction(double: DiscordDouble, world, bot: TinyBot) -> None:
    ix = await double.invoke(None, world["fan"], None, "ping")
    await ix.wait_response()
    assert ix.content == "pong from a DM"
    assert "member" not in ix.payload and ix.payload["user"]["id"] == world["fan"].id
    assert ix.payload["channel"]["type"] == 1 and ix.payload["context"] == 1
    with pytest.raises(DoubleUsageError):  # guild commands do not exist in DMs
        await double.invoke(None, world["fan"], None, "stars info", star="x")
    user = await bot.fetch_user(int(world["fan"].id))
    await user.send("your submission was approved")
    assert double.channel_messages(double.dm_channel(world["fan"]))[-1]["content"] == "your submission was approved"


def text_channel(bot: commands.Bot, channel) -> discord.TextChannel:
    found = bot.get_channel(int(channel.id))
    assert isinstance(found, discord.TextChannel)
    return found


async def test_channel_posts_are_stored_as_sent(double: DiscordDouble, world, bot: TinyBot) -> None:
    role = world["guild"].add_role("Song fans", mentionable=True)
    channel = text_channel(bot, world["news"])
    sent = await channel.send(f"{role.mention} news!", embed=discord.Embed(title="Big story", url="https://e.x/1"),
                              allowed_mentions=discord.AllowedMentions(roles=[discord.Object(int(role.id))]),
                              file=discord.File(io.BytesIO(b"abc"), filename="a.txt"))
    stored = double.channel_messages(world["news"])[-1]
    assert stored["id"] == str(sent.id) and stored["author"]["id"] == double.bot_user.id
    assert stored["embeds"][0]["title"] == "Big story"
    assert stored["allowed_mentions"]["roles"] == [int(role.id)]  # stored exactly as sent
    assert stored["mention_roles"] == [role.id]
    assert stored["attachments"][0]["filename"] == "a.txt" and stored["attachments"][0]["size"] == 3
    assert double.attachment_data(stored["attachments"][0]) == b"abc"
    assert sent.created_at.year >= 2025 and sent.attachments[0].filename == "a.txt"
    await sent.edit(content="edited")
    assert double.channel_messages(world["news"])[-1]["content"] == "edited"
    history = [m async for m in channel.history(limit=10)]
    assert [m.id for m in history] == [sent.id]
    await sent.delete()
    assert double.channel_messages(world["news"]) == []


async def test_enforced_nonce_returns_the_first_message(double: DiscordDouble, world, bot: TinyBot) -> None:
    channel = text_channel(bot, world["news"])
    first = await channel.send("story", nonce="story-1")  # discord.py always adds enforce_nonce
    again = await channel.send("story", nonce="story-1")
    assert first.id == again.id and len(double.channel_messages(world["news"])) == 1
    assert double.nonce_hits == 1
    await channel.send("story", nonce="story-2")
    assert len(double.channel_messages(world["news"])) == 2


async def test_crosspost_only_in_announcement_channels(double: DiscordDouble, world, bot: TinyBot) -> None:
    announcements = world["guild"].add_text_channel("announcements", announcement=True)
    channel = await double.wait_for(lambda: bot.get_channel(int(announcements.id)), 2, "channel in cache")
    assert isinstance(channel, discord.TextChannel) and channel.is_news()
    message = await channel.send("published")
    await message.publish()
    assert double.channel_messages(announcements)[0]["flags"] & 1
    plain = await text_channel(bot, world["news"]).send("not news")
    with pytest.raises(discord.HTTPException) as error:
        await plain.publish()
    assert error.value.code == 50024


async def test_second_response_and_early_followup_are_refused(double: DiscordDouble, world, bot: TinyBot) -> None:
    release = asyncio.Event()

    @bot.tree.command(name="hold", description="answers when told", guild=discord.Object(int(world["guild"].id)))
    async def hold(interaction: discord.Interaction) -> None:
        await release.wait()
        await interaction.response.send_message("one")

    await bot.tree.sync(guild=discord.Object(int(world["guild"].id)))
    ix = await double.invoke(world["guild"], world["fan"], world["news"], "hold")
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{double.api_base}/webhooks/{double.application_id}/{ix.token}?wait=1",
                                json={"content": "too early"}) as early:
            assert early.status == 404 and (await early.json())["code"] == 10015
            assert early.headers["Content-Type"] == "application/json"
        release.set()
        await ix.wait_response()
        async with session.post(f"{double.api_base}/interactions/{ix.id}/{ix.token}/callback",
                                json={"type": 4, "data": {"content": "two"}}) as second:
            assert second.status == 400 and (await second.json())["code"] == 40060
    assert ix.content == "one"


async def test_late_first_response_is_unknown_interaction(double: DiscordDouble, world, bot: TinyBot) -> None:
    double.interaction_deadline = 0.01
    outcome: list[str] = []

    @bot.tree.command(name="late", description="too slow", guild=discord.Object(int(world["guild"].id)))
    async def late(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.05)
        try:
            await interaction.response.send_message("finally")
        except discord.NotFound as error:
            outcome.append(str(error.code))

    await bot.tree.sync(guild=discord.Object(int(world["guild"].id)))
    ix = await double.invoke(world["guild"], world["fan"], world["news"], "late")
    await double.wait_for(lambda: outcome, 2, "the refusal")
    assert outcome == ["10062"] and ix.response is None


async def test_rate_limited_request_is_retried(double: DiscordDouble, world, bot: TinyBot) -> None:
    double.rate_limit(r"/channels/\d+/messages", method="POST", retry_after=0.01)
    await text_channel(bot, world["news"]).send("after a 429")
    posts = double.find_requests("POST", r"/channels/\d+/messages")
    assert [r.status for r in posts] == [429, 200]


async def test_member_roles_and_hierarchy(double: DiscordDouble, world, bot: TinyBot) -> None:
    guild = bot.get_guild(int(world["guild"].id))
    low = world["guild"].add_role("low")
    high = world["guild"].add_role("high", position=50)
    member = await guild.fetch_member(int(world["fan"].id))
    await member.add_roles(discord.Object(int(low.id)))
    assert world["fan"].roles == [low.id]
    with pytest.raises(discord.Forbidden):
        await member.add_roles(discord.Object(int(high.id)))
    await member.remove_roles(discord.Object(int(low.id)))
    assert world["fan"].roles == []


async def test_usage_errors_name_the_problem(double: DiscordDouble, world, bot: TinyBot) -> None:
    guild, fan, news = world["guild"], world["fan"], world["news"]
    with pytest.raises(DoubleUsageError, match="missing required"):
        await double.invoke(guild, fan, news, "stars info")
    with pytest.raises(DoubleUsageError, match="no option 'nope'"):
        await double.invoke(guild, fan, news, "stars info", star="x", nope=1)
    with pytest.raises(DoubleUsageError, match="no subcommand"):
        await double.invoke(guild, fan, news, "stars nothing")
    with pytest.raises(DoubleUsageError, match="not synced"):
        await double.invoke(guild, fan, news, "nothing")


async def test_commands_needing_permissions_are_hidden(double: DiscordDouble, world, bot: TinyBot) -> None:
    gid = discord.Object(int(world["guild"].id))

    @bot.tree.command(name="modonly", description="mods", guild=gid)
    @app_commands.default_permissions(manage_guild=True)
    async def modonly(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"perms {interaction.permissions.manage_guild}")

    await bot.tree.sync(guild=gid)
    with pytest.raises(DoubleUsageError, match="hidden"):
        await double.invoke(world["guild"], world["fan"], world["news"], "modonly")
    mod = world["guild"].add_member("mod", permissions=Perm.MANAGE_GUILD)
    ix = await double.invoke(world["guild"], mod, world["news"], "modonly")
    await ix.wait_response()
    assert ix.content == "perms True"


async def test_gateway_bot_and_unknown_routes(double: DiscordDouble) -> None:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bot {double.token}"}) as session:
        async with session.get(f"{double.api_base}/gateway/bot") as response:
            assert (await response.json())["url"] == double.gateway_url
        async with session.get(f"{double.api_base}/no/such/route") as response:
            assert response.status == 404 and response.headers["Content-Type"] == "application/json"
    assert double.requests[-1].path == "/no/such/route" and double.requests[-1].status == 404


async def test_wrong_token_fails_login(double: DiscordDouble, world) -> None:
    client = TinyBot(int(world["guild"].id))
    with pytest.raises(discord.LoginFailure):
        async with run_bot(client, double, "wrong-token"):
            pass


async def test_bots_can_take_turns_on_one_double(double: DiscordDouble, world) -> None:
    for turn in range(2):
        client = TinyBot(int(world["guild"].id))
        async with run_bot(client, double):
            ix = await double.invoke(world["guild"], world["fan"], world["news"], "stars info", star=f"turn {turn}")
            await ix.wait_response()
            assert ix.embeds[0]["title"] == f"turn {turn}"
    assert len(double.identifies) == 2
    first, second = double.gateway.sessions
    assert first.ended and not second.ended  # the second stays resumable, as on Discord
    await double.wait_for(lambda: not double.gateway.connections, 2, "the sockets closed")


async def test_modal_round_trip(double: DiscordDouble, world, bot: TinyBot) -> None:
    gid = discord.Object(int(world["guild"].id))
    answers: list[str] = []

    class Ask(discord.ui.Modal, title="Propose"):
        pairing = discord.ui.TextInput(label="Pairing", custom_id="pairing")

        async def on_submit(self, interaction: discord.Interaction) -> None:
            answers.append(self.pairing.value)
            await interaction.response.send_message("thanks", ephemeral=True)

    @bot.tree.command(name="ask", description="opens a modal", guild=gid)
    async def ask(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(Ask())

    await bot.tree.sync(guild=gid)
    opened = await double.invoke(world["guild"], world["fan"], world["news"], "ask")
    await opened.wait_response()
    assert opened.response_type == 9
    submitted = await double.submit_modal(opened, {"pairing": "Song Hye-kyo x Han So-hee"})
    await submitted.wait_response()
    assert answers == ["Song Hye-kyo x Han So-hee"] and submitted.content == "thanks"


async def test_run_bot_leaves_no_tasks_behind(double: DiscordDouble, world) -> None:
    before = asyncio.all_tasks()
    async with run_bot(TinyBot(int(world["guild"].id)), double):
        pass
    await double.wait_for(lambda: not double.gateway.connections, 2, "the socket closed")
    await asyncio.sleep(0)
    assert {t for t in asyncio.all_tasks() if not t.done()} - before == set()


async def test_members_intent_gets_members_and_chunks(double: DiscordDouble, world) -> None:
    intents = discord.Intents.default()
    intents.members = True
    client = TinyBot(int(world["guild"].id), intents)
    async with run_bot(client, double):
        await asyncio.wait_for(client.wait_until_ready(), 2)
        guild = client.get_guild(int(world["guild"].id))
        assert {m.name for m in guild.members} == {"owner", "tinybot", "fan"}
        member = guild.get_member(int(world["fan"].id))
        role = world["guild"].add_role("fans")
        await member.add_roles(discord.Object(int(role.id)))
        await double.wait_for(lambda: [r.name for r in guild.get_member(member.id).roles] == ["@everyone", "fans"],
                              2, "GUILD_MEMBER_UPDATE in the cache")


async def test_files_in_responses_and_edits_of_original(double: DiscordDouble, world, bot: TinyBot) -> None:
    gid = discord.Object(int(world["guild"].id))

    @bot.tree.command(name="card", description="answers with files", guild=gid)
    async def card(interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content="card", attachments=[
            discord.File(io.BytesIO(b"front"), filename="front.png")])

    await bot.tree.sync(guild=gid)
    ix = await double.invoke(world["guild"], world["fan"], world["news"], "card")
    await ix.wait_done()
    assert ix.deferred and ix.content == "card" and not ix.original["flags"] & 128
    assert [a["filename"] for a in ix.original["attachments"]] == ["front.png"]
    assert double.attachment_data(ix.original["attachments"][0]) == b"front"
    edit = double.find_requests("PATCH", r"/webhooks/\d+/[^/]+/messages/@original")[0]
    assert edit.files[0].filename == "front.png" and edit.json["content"] == "card"


def test_the_double_refuses_localisations_discord_refuses():
    from tests.discord_double.rest import ApiError, _check_localisations

    good = {"name": "info", "description_localizations": {"ko": "정보"},
            "options": [{"name": "star", "name_localizations": {"ko": "스타"},
                         "choices": [{"name": "news", "name_localizations": {"ko": "관리 로그"}}]}]}
    _check_localisations(good, names_are_commands=True)
    for bad in ({"name_localizations": {"kr": "스타"}}, {"name_localizations": {"ko": "두 단어"}},
                {"name_localizations": {"ko": "Star"}}, {"description_localizations": {"ko": "가" * 101}}):
        with pytest.raises(ApiError) as caught:
            _check_localisations({"name": "x", "options": [bad]}, names_are_commands=True)
        assert caught.value.code == 50035
