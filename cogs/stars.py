"""/stars: which stars this server follows."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.domain.stars import Star
from bot.i18n import Lang

from ._common import IdRef, followed_star_autocomplete, guild_id, reader_lang, safe, star_label
from ._news_text import story_lines
from ._social_text import account_line

if TYPE_CHECKING:
    from bot.client import FanBot

log = logging.getLogger(__name__)
STAR_INFO_NEWS = 3


def describe_star(star: Star, lang: Lang, *, birthday: bool = True) -> str:
    """**송혜교** (Song Hye-kyo) · 1981년 11월 22일생, or **Song Hye-kyo** (송혜교) · born 22 November 1981."""
    name = safe(star.name)
    # clean_hangul admits Hangul syllables and spaces only: nothing in it to escape (and /stars list
    # renders every star, so escaping it too would cost each reply a regex pass per star).
    first, other = (star.hangul, name) if lang.korean and star.hangul else (name, star.hangul)
    text = f"**{first}**" + (f" ({other})" if other else "")
    if birthday and star.birthday:
        text += " · " + lang._("born {date}", date=lang.date(star.birthday))
    return text


class StarsCog(commands.GroupCog, group_name="stars", group_description="The stars this server follows"):
    """/stars: the stars a server follows."""

    def __init__(self, bot: "FanBot") -> None:
        self.bot = bot

    async def catalogue_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        found = self.bot.services.stars.catalogue.search(current, limit=25)
        lang = reader_lang(interaction)
        return [app_commands.Choice(name=star_label(s, lang)[:100], value=s.name) for s in found]

    @app_commands.command(name="follow", description="Follow a star (from the catalogue, or any name you give)")
    @app_commands.describe(
        name="Her name; catalogued stars fill in Hangul, aliases and birthday",
        hangul="Her name in Hangul, e.g. 송혜교",
        aliases="Other names the press uses, comma-separated",
        birthday="YYYY-MM-DD",
    )
    @app_commands.autocomplete(name=catalogue_autocomplete)
    @moderator_only()
    async def follow(
        self,
        interaction: discord.Interaction,
        name: app_commands.Range[str, 1, 200],
        hangul: str | None = None,
        aliases: str | None = None,
        birthday: str | None = None,
    ) -> None:
        star = await self.bot.services.stars.follow(
            guild_id(interaction), name, hangul=hangul, aliases=aliases, birthday=birthday, actor_id=interaction.user.id
        )
        lang = reader_lang(interaction)
        parts = [lang._("Now following {star}.", star=describe_star(star, lang, birthday=False))]
        if star.birthday:
            parts.append(lang._("Birthday: {date}.", date=lang.date(star.birthday)))
        if star.from_catalogue:
            parts.append(lang.n_("Her names came from the catalogue, with {n} other name.",
                                 "Her names came from the catalogue, with {n} other names.", len(star.aliases))
                         if star.aliases else lang._("She is in the catalogue."))
        elif star.aliases:
            parts.append(lang.n_("{n} other name is recorded.", "{n} other names are recorded.", len(star.aliases)))
        followed = sum(a.followed for a in await self.bot.services.news.socials.accounts(star))
        if followed:
            parts.append(lang.n_("Her {n} own account is followed too.", "Her {n} own accounts are followed too.",
                                 followed))
        parts.append(lang._("Fans can opt in to pings with /notify add."))
        await interaction.response.send_message(" ".join(parts))

    @app_commands.command(name="unfollow", description="Stop following a star")
    @app_commands.describe(star="One of the stars this server follows")
    @app_commands.autocomplete(star=followed_star_autocomplete)
    @moderator_only()
    async def unfollow(self, interaction: discord.Interaction, star: IdRef) -> None:
        gone = await self.bot.services.stars.unfollow(guild_id(interaction), star)
        lang = reader_lang(interaction)
        await interaction.response.send_message(lang._("No longer following {star}.", star=describe_star(gone, lang, birthday=False)))

    @app_commands.command(name="edit", description="Change a followed star's Hangul name, aliases or birthday")
    @app_commands.describe(star="One of the stars this server follows", hangul="Her name in Hangul, e.g. 송혜교",
                           aliases="Replaces her aliases; comma-separated", birthday="YYYY-MM-DD")
    @app_commands.autocomplete(star=followed_star_autocomplete)
    @moderator_only()
    async def edit(
        self,
        interaction: discord.Interaction,
        star: IdRef,
        hangul: str | None = None,
        aliases: str | None = None,
        birthday: str | None = None,
    ) -> None:
        updated = await self.bot.services.stars.edit(
            guild_id(interaction), star, hangul=hangul, aliases=aliases, birthday=birthday
        )
        lang = reader_lang(interaction)
        names = ", ".join(safe(a, 100) for a in updated.aliases) or lang._("none")
        await interaction.response.send_message(
            lang._("Updated {star}. Other names: {names}.", star=describe_star(updated, lang), names=names))

    @app_commands.command(name="list", description="The stars this server follows")
    async def list_(self, interaction: discord.Interaction) -> None:
        stars = await self.bot.services.stars.list(guild_id(interaction))
        lang = reader_lang(interaction)
        if not stars:
            await interaction.response.send_message(
                lang._("This server follows no stars yet. A moderator can add one with /stars follow."), ephemeral=True
            )
            return
        lines = [f"• {describe_star(s, lang)}" for s in stars]
        title = lang.n_("Followed stars ({n})", "Followed stars ({n})", len(stars))
        embed = discord.Embed(title=title, description="\n".join(lines)[:4000])
        await interaction.response.send_message(embed=embed)

    @app_commands.command(name="info", description="Names, birthday, latest news and media of a star")
    @app_commands.describe(star="One of the stars this server follows")
    @app_commands.autocomplete(star=followed_star_autocomplete)
    async def info(self, interaction: discord.Interaction, star: IdRef) -> None:
        services = self.bot.services
        lang = reader_lang(interaction)
        found = await services.stars.resolve(guild_id(interaction), star)
        embed = discord.Embed(title=safe(lang.star(found), 256))
        if found.hangul and not lang.korean:
            embed.add_field(name=lang._("Hangul"), value=found.hangul)
        if lang.korean and found.hangul:
            embed.add_field(name=lang._("English name"), value=safe(found.name, 1024))
        if found.birthday:
            age = found.age_on(services.clock.now().date())
            embed.add_field(name=lang._("Birthday"),
                            value=lang._("{date} (age {age})", date=lang.date(found.birthday), age=age))
        if found.aliases:
            embed.add_field(name=lang._("Also known as"), value=safe(", ".join(found.aliases), 1024), inline=False)
        if found.notify_role_id:
            role = f"<@&{found.notify_role_id}>"
            embed.add_field(name=lang._("Pings"), inline=False,
                            value=lang._("{role} (opt in with /notify add)", role=role))
        accounts = await services.news.socials.accounts(found)
        if accounts:
            embed.add_field(name=lang._("Her accounts"), inline=False,
                            value="\n".join(account_line(a, lang) for a in accounts)[:1024])
        stories = await services.news.latest(found.guild_id, star=found, count=STAR_INFO_NEWS)
        embed.add_field(name=lang._("Latest news"), inline=False,
                        value=story_lines(stories, 1024, lang) if stories else lang._("No stories yet."))
        items = await services.media.count(found.guild_id, star_id=found.id)
        embed.add_field(name=lang._("Media"), inline=False,
                        value=lang.n_("{n} item (try /media random)", "{n} items (try /media random)", items))
        await interaction.response.send_message(embed=embed)


async def setup(bot: "FanBot") -> None:
    await bot.add_cog(StarsCog(bot))
