"""Delivering news announcements: journal first, send with the row's nonce, keep to the per-minute budget."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from ..clock import Clock
from ..domain.announcements import (
    WINDOW,
    Digest,
    Post,
    digest_capacity,
    plan_delivery,
    render_digest,
    render_post,
    retry_delay,
)
from ..domain.routing import Routing
from ..domain.shards import ALL_SHARDS, ShardScope
from ..i18n import Lang
from ..i18n.choose import server_lang
from ..storage.announcements import Announcement, AnnouncementRepository, DigestJob
from ..storage.leases import LeaseRepository
from .guilds import GuildConfigService
from .socials import platform_name

if TYPE_CHECKING:
    from ..client import FanBot

log = logging.getLogger(__name__)

JOB_NAME = "news-deliver"
JOB_EVERY = 5.0
GIVE_UP_AFTER = 8  # attempts refused with a 4xx other than 403/404: the post itself is bad, stop retrying
NEWS_COLOUR = discord.Colour(0xE88AA6)
OWN_POST_COLOUR = discord.Colour(0x8A6FE8)  # her own posts stand apart from press stories at a glance
NETWORK_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError)
# Discord remembers an enforced nonce for "a few minutes". A send interrupted longer ago than this is
# first looked for in the channel's recent messages instead of trusting the nonce alone.
NONCE_TRUST = timedelta(minutes=4)
HISTORY_LOOKBACK = 50
# How long a server's delivery lease lasts unrenewed: a process that dies holding it delays that
# server's news by at most this much; a live holder renews it while it posts, so it keeps it.
LEASE_TIME = timedelta(seconds=60)


class _Stop(Exception):
    """Sending to this channel must stop for this run (paused, or Discord is failing)."""


class _LeaseLost(Exception):
    """Another process took this server's lease (this one stalled past it): stop delivering there."""


def process_holder() -> str:
    """Who holds a lease: this host and process, plus a random tail (two announcers in one process differ)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


def pings(role_ids: tuple[int, ...]) -> discord.AllowedMentions:
    """Exactly these roles may be pinged; never @everyone, users or any other role."""
    roles: Any = [discord.Object(r) for r in role_ids] if role_ids else False
    return discord.AllowedMentions(everyone=False, users=False, roles=roles, replied_user=False)


def post_embed(post: Post, lang: Lang) -> discord.Embed:
    own = post.platform is not None and post.posted_by is not None
    embed = discord.Embed(title=post.title, url=post.url, description=post.description, timestamp=post.timestamp,
                          colour=OWN_POST_COLOUR if own else NEWS_COLOUR)
    if own:
        # Her post needs no star matching and no publisher: the account is hers.
        embed.set_author(name=lang._("{star} posted on {platform}", star=post.posted_by,
                                     platform=platform_name(post.platform or "", lang)))
    elif post.stars:
        embed.add_field(name=lang._("Stars"), value=post.stars)
    if post.source and not own:
        embed.add_field(name=lang._("Source"), value=post.source)
    if post.image_url:
        embed.set_image(url=post.image_url)
    return embed


def digest_embed(digest: Digest, lang: Lang) -> discord.Embed:
    title = lang.n_("{n} more story", "{n} more stories", digest.count)
    return discord.Embed(title=title, description=digest.description, colour=NEWS_COLOUR)


def _render_options(lang: Lang) -> dict[str, Any]:
    """What render_post/render_digest take from the server's language."""
    return {"untitled": lang._("Untitled story"), "name_of": lambda s: s.hangul if lang.korean and s.hangul else s.name}


def _describe(exc: BaseException) -> str:
    if isinstance(exc, discord.HTTPException):
        return f"{exc.status} {exc.text or type(exc).__name__}"[:300]
    return f"{type(exc).__name__}: {exc}"[:300]


class Announcer:
    """Turns pending announcements into posts in each channel they are routed to (the news channel, or
    a star's own channel).

    Never lost: the journal row (one per story and channel) exists before anything is sent and stays
    waiting until Discord's message id is recorded. Never doubled: every resend of a row (after a crash
    or a server error) carries the same nonce with enforce_nonce, so Discord returns the message it
    already created; and only the process holding a server's delivery lease posts there, so two
    processes on one shard (a rolling restart) do not both send."""

    def __init__(self, repo: AnnouncementRepository, guilds: GuildConfigService, clock: Clock, *,
                 shards: ShardScope = ALL_SHARDS, leases: LeaseRepository | None = None,
                 holder: str | None = None, lease_time: timedelta = LEASE_TIME) -> None:
        self.repo = repo
        self.lease_time = lease_time
        self.leases = leases if leases is not None else LeaseRepository(repo.db)
        self.holder = holder or process_holder()
        self._shards = shards
        self._guilds = guilds
        self._clock = clock
        self._bot: FanBot | None = None
        self._lock = asyncio.Lock()
        self._claimed_at: dict[int, datetime] = {}  # guild id -> when its lease was last claimed or renewed
        self._not_before: dict[int, datetime] = {}  # channel id -> no sends until (after a server error)

    def bind(self, bot: "FanBot") -> None:
        self._bot = bot

    def unbind(self) -> None:
        self._bot = None

    async def deliver_pending(self, now: datetime | None = None) -> int:
        """Send what is due in every server; returns how many stories went out (alone or in a digest)."""
        if self._bot is None:
            return 0
        now = now or self._clock.now()
        delivered = 0
        async with self._lock:
            for guild_id in await self.repo.guilds_with_work(now, self._shards):
                if not await self.leases.claim(guild_id, self.holder, now, self.lease_time):
                    continue  # another process on this shard is delivering there right now
                self._claimed_at[guild_id] = now
                try:
                    delivered += await self._deliver_guild(guild_id, now)
                except _LeaseLost:
                    log.warning("lost the delivery lease of guild %s to another process; leaving it to it", guild_id)
                    continue
                except Exception:
                    # One server's trouble must not hold up the others; its rows stay waiting (an
                    # interrupted one in 'sending', resent with its nonce next time).
                    log.exception("delivering news in guild %s failed; will try again", guild_id)
                finally:
                    self._claimed_at.pop(guild_id, None)
                    await self._release(guild_id)
        return delivered

    async def _release(self, guild_id: int) -> None:
        try:
            await self.leases.release(guild_id, self.holder)
        except Exception:
            # Not fatal: the lease expires by itself after its lease time.
            log.warning("could not release the delivery lease of guild %s", guild_id, exc_info=True)

    async def _renew(self, guild_id: int, now: datetime) -> None:
        """Called after each post: a run longer than a third of the lease time renews it (a write per post
        would cost more than the post's own journal), and a stalled one learns it lost it."""
        current = max(now, self._clock.now())
        if current - self._claimed_at.get(guild_id, now) < self.lease_time / 3:
            return
        if not await self.leases.renew(guild_id, self.holder, current, self.lease_time):
            raise _LeaseLost()
        self._claimed_at[guild_id] = current

    async def stats(self, guild_id: int) -> tuple[int, datetime | None]:
        """(announcements waiting, when the last one was sent) of one server."""
        return await self.repo.stats(guild_id)

    # -- one server ------------------------------------------------------------------------------
    async def _deliver_guild(self, guild_id: int, now: datetime) -> int:
        assert self._bot is not None
        if self._bot.get_guild(guild_id) is None:
            return 0  # not connected yet (or the server is unavailable): roles and channel type are unknown
        config = await self._guilds.get(guild_id)
        routing = config.routing
        # Stories get their channels by today's routes; a part waiting for a news channel stays unrouted.
        await self.repo.route_waiting(guild_id, routing, now)
        roles = self._existing_roles(guild_id)
        lang = await server_lang(self._bot, guild_id)
        delivered = 0
        for channel_id in await self.repo.channels_with_work(guild_id, now):
            target = config.channel_target(channel_id)
            if target is not None and target.blocked_reason:
                continue  # paused: kept waiting until a moderator sets (or fixes) the channel
            # No longer a destination (routes moved): what is left there is a send that may already have
            # posted; it is finished where it began, with its nonce, and never moved elsewhere.
            if self._not_before.get(channel_id, now) > now:
                continue
            channel = self._channel(guild_id, channel_id)
            try:
                delivered += await self._deliver_channel(guild_id, channel, routing, now, roles, lang)
            except _Stop:
                continue  # this channel only: the server's other routes still get their posts
        return delivered

    def _channel(self, guild_id: int, channel_id: int) -> Any:
        assert self._bot is not None
        # Not in the cache (e.g. created while we were away): a PartialMessageable still posts.
        return self._bot.get_channel(channel_id) or self._bot.get_partial_messageable(channel_id, guild_id=guild_id)

    async def _deliver_channel(self, guild_id: int, channel: Any, routing: Routing, now: datetime,
                               roles: set[int] | None, lang: Lang) -> int:
        since = now - WINDOW
        delivered = 0
        for job in await self.repo.open_digests(guild_id, now, channel_id=channel.id):
            if await self.repo.digests_since(channel.id, since):
                break
            await self.repo.begin_digest_retry(job.id, channel.id)
            delivered += await self._send_digest(job, channel, guild_id, now, roles, lang, routing, retry=True)
            await self._renew(guild_id, now)
        due = await self.repo.due(guild_id, now, channel_id=channel.id)
        singles, overflow = await self.next_batch(guild_id, channel.id, now, due=due)
        for announcement in singles:
            delivered += await self._send_one(announcement, channel, guild_id, now, roles, lang, routing)
            await self._renew(guild_id, now)
        if overflow:
            job = await self.repo.begin_digest(guild_id, channel.id, [a.id for a in overflow], now)
            if job is not None:
                delivered += await self._send_digest(job, channel, guild_id, now, roles, lang, routing)
                await self._renew(guild_id, now)
        return delivered

    async def next_batch(self, guild_id: int, channel_id: int, now: datetime, *,
                         due: list[Announcement] | None = None) -> tuple[list[Announcement], list[Announcement]]:
        """What may go out now in this channel: (posted one by one, gathered into one digest), by the
        journal's last minute there. `due`: the channel's waiting rows (default: all the server's)."""
        if due is None:
            due = await self.repo.due(guild_id, now)
        if not due:
            return [], []
        since = now - WINDOW
        plan = plan_delivery(
            len(due), await self.repo.sent_since(channel_id, since), await self.repo.digests_since(channel_id, since)
        )
        overflow = due[plan.send : plan.send + plan.digest]
        return due[: plan.send], overflow[: digest_capacity([a.story for a in overflow])]

    async def _already_posted(self, channel: Any, embed: discord.Embed) -> discord.Message | None:
        """fanbot's own message carrying this embed among the channel's latest, if there is one."""
        assert self._bot is not None and self._bot.user is not None
        try:
            async for message in channel.history(limit=HISTORY_LOOKBACK):
                if message.author.id == self._bot.user.id and any(
                    e.title == embed.title and e.url == embed.url and e.description == embed.description
                    for e in message.embeds
                ):
                    return message
        except discord.HTTPException as exc:
            log.warning("could not read channel %s to check for an earlier post: %s", channel.id, _describe(exc))
        return None

    def _existing_roles(self, guild_id: int) -> set[int] | None:
        """Roles the server still has (a deleted notify role would render as '@deleted-role')."""
        assert self._bot is not None
        guild = self._bot.get_guild(guild_id)
        return {r.id for r in guild.roles} if guild is not None else None

    # -- sending ---------------------------------------------------------------------------------
    async def _send_one(self, announcement: Announcement, channel: Any, guild_id: int, now: datetime,
                        roles: set[int] | None, lang: Lang, routing: Routing) -> int:
        story = routing.pinged_in(channel.id, announcement.story)
        post = render_post(story, allowed_roles=roles, **_render_options(lang))
        embed = post_embed(post, lang)
        # 'sending' before this attempt: an earlier send (crash, server error) may already be in the channel.
        interrupted = announcement.status == "sending" and announcement.sending_at is not None
        if interrupted and now - announcement.sending_at > NONCE_TRUST:
            found = await self._already_posted(channel, embed)
            if found is not None:
                log.info("announcement %s was posted before a crash as %s; recording it", announcement.id, found.id)
                await self.repo.record_sent(announcement.id, channel.id, found.id, now)
                await self._publish(channel, found)
                return 1
        if not await self.repo.begin_send(announcement.id, channel.id, now):
            return 0  # no longer waiting
        try:
            message = await channel.send(content=post.content or None, embed=embed,
                                         nonce=announcement.nonce, allowed_mentions=pings(post.role_ids))
        except Exception as exc:
            stop = await self._failed(
                exc, channel, guild_id, now, announcement.attempts + 1,
                # A refusal now does not undo an earlier attempt that may have posted it.
                postpone=lambda error, at, maybe_sent: self.repo.postpone(announcement.id, error, at,
                                                                          maybe_sent=maybe_sent or interrupted),
                give_up=lambda error: self.repo.give_up(announcement.id, error),
            )
            if stop is exc:
                raise
            raise stop from exc
        await self.repo.record_sent(announcement.id, channel.id, message.id, now)
        await self._publish(channel, message)
        return 1

    async def _send_digest(self, job: DigestJob, channel: Any, guild_id: int, now: datetime,
                           roles: set[int] | None, lang: Lang, routing: Routing, *, retry: bool = False) -> int:
        stories = [routing.pinged_in(channel.id, a.story) for a in job.announcements]
        digest = render_digest(stories, allowed_roles=roles, **_render_options(lang))
        embed = digest_embed(digest, lang)
        started = min((a.sending_at for a in job.announcements if a.sending_at), default=None)
        if started is not None and now - started > NONCE_TRUST:
            found = await self._already_posted(channel, embed)
            if found is not None:
                await self.repo.record_digest_sent(job.id, channel.id, found.id, now)
                await self._publish(channel, found)
                return len(job.announcements)
        try:
            message = await channel.send(content=digest.content or None, embed=embed,
                                         nonce=job.nonce, allowed_mentions=pings(digest.role_ids))
        except Exception as exc:
            stop = await self._failed(
                exc, channel, guild_id, now, job.attempts + 1,
                postpone=lambda error, at, maybe_sent: self.repo.postpone_digest(job.id, error, at or now),
                give_up=lambda error: self.repo.fail_digest(job.id, error),
                # A first attempt refused posted nothing: its stories may go out again in any form. A
                # retried digest may be in the channel already, so it waits whole with its nonce.
                refused=(lambda error: self.repo.postpone_digest(job.id, error, now)) if retry
                else (lambda error: self.repo.dissolve_digest(job.id, error)),
            )
            if stop is exc:
                raise
            raise stop from exc
        await self.repo.record_digest_sent(job.id, channel.id, message.id, now)
        await self._publish(channel, message)
        return len(job.announcements)

    async def _failed(self, exc: Exception, channel: Any, guild_id: int, now: datetime, attempts: int, *,
                      postpone: Any, give_up: Any, refused: Any = None) -> BaseException:
        """Record why a send failed and when to try again; returns what to raise (_Stop: this channel is
        done for this run; anything else is a bug or shutdown, and the row stays 'sending')."""
        assert self._bot is not None
        error = _describe(exc)
        if isinstance(exc, (discord.Forbidden, discord.NotFound)) and (
                await self._guilds.get(guild_id)).channel_target(channel.id) is None:
            # A channel no moderator points at any more refuses an interrupted send: nothing can be done.
            log.warning("channel %s, no longer a news destination, refused an interrupted post: %s", channel.id,
                        error)
            await give_up(error)
            return _Stop()
        if isinstance(exc, (discord.Forbidden, discord.NotFound)):
            # This attempt posted nothing: the stories wait until /config channel news is set again (in
            # 'sending' if an earlier attempt may have posted them, so that resend checks first).
            await (refused(error) if refused else postpone(error, None, False))
            await self._bot.poster.pause(guild_id, channel.id, "news", exc)
            return _Stop()
        retry_at = now + retry_delay(attempts)
        if isinstance(exc, discord.DiscordServerError) or isinstance(exc, NETWORK_ERRORS):
            # The message may or may not exist; the retry carries the same nonce either way.
            log.warning("news post to channel %s failed (%s); retrying at %s", channel.id, error, retry_at)
            await postpone(error, retry_at, True)
            self._not_before[channel.id] = retry_at
            return _Stop()
        if isinstance(exc, discord.HTTPException):
            if attempts >= GIVE_UP_AFTER:
                log.error("giving up a news post to channel %s after %d attempts: %s", channel.id, attempts, error)
                await give_up(error)
            else:
                log.warning("Discord refused a news post to channel %s (%s); retrying at %s", channel.id, error,
                            retry_at)
                await postpone(error, retry_at, False)
            return _Stop()
        return exc

    async def _publish(self, channel: Any, message: discord.Message) -> None:
        """In an announcement channel, crosspost to following servers; a failure here is not fatal."""
        if not isinstance(channel, discord.TextChannel) or not channel.is_news() or message.flags.crossposted:
            return
        try:
            await message.publish()
        except discord.HTTPException as exc:
            log.warning("could not publish message %s in channel %s: %s", message.id, channel.id, _describe(exc))
