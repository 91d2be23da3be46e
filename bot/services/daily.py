"""Daily posts: the media of the day and birthday greetings, each at most once per server and local day."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..clock import Clock
from ..domain.daily import age_turning, due_date, is_birthday, local_date
from ..domain.media import MediaItem
from ..domain.shards import ALL_SHARDS, ShardScope
from ..domain.stars import Star
from ..storage.media import DailyRepository, MediaRepository
from ..storage.timefmt import from_db
from .guilds import GuildConfigService
from .stars import StarService

log = logging.getLogger(__name__)

# Discord drops a repeated message nonce for a few minutes; a claim older than this is not resent,
# because its first send may have reached Discord just before a crash (at most once beats twice).
RESEND_WINDOW = timedelta(minutes=4)
BIRTHDAY_HOUR = 0  # greet as her day begins in the server's time zone, as fans do at midnight KST


@dataclass(frozen=True, slots=True)
class DailyPost:
    """A claimed post that still has to be sent (the journal row already exists)."""

    guild_id: int
    kind: str  # "media" or "birthday"
    subject_id: int  # star id for birthdays, 0 for the media of the day
    day: date
    nonce: str
    item: MediaItem | None = None
    star: Star | None = None
    age: int | None = None


# Whether a channel for a kind exists and is not paused; the cog passes the poster's check in.
ChannelCheck = Callable[[int, str], Awaitable[bool]]


class DailyService:
    """Decides which daily posts (media of the day, birthdays) are due in each server, and records them."""

    def __init__(self, repo: DailyRepository, media: MediaRepository, guilds: GuildConfigService,
                 stars: StarService, clock: Clock, *, shards: ShardScope = ALL_SHARDS) -> None:
        self.repo = repo
        self._shards = shards
        self._media = media
        self._guilds = guilds
        self._stars = stars
        self._clock = clock

    async def due(self, now: datetime, has_channel: ChannelCheck) -> list[DailyPost]:
        """Claim every post due at `now` and return them to be sent, plus recent claims never confirmed sent.

        For each server: is it past its hour locally, and is today not yet recorded? The record is
        written before sending (claim, then send with the claim's nonce, then mark sent), so a crash
        can lose a day's post but never post it twice.
        """
        posts = await self._retries(now)
        retrying = {(p.guild_id, p.kind, p.subject_id, p.day) for p in posts}
        birthdays: dict[int, list[Star]] = {}
        for star in await self._stars.all_followed(self._shards):
            if star.birthday is not None:
                birthdays.setdefault(star.guild_id, []).append(star)
        guild_ids = set(await self._guilds.guild_ids(self._shards)) | set(birthdays)
        for guild_id in sorted(guild_ids):
            config = await self._guilds.get(guild_id)
            day = due_date(now, config.timezone, config.media_hour)
            if day is not None and await has_channel(guild_id, "media"):
                nonce = _nonce()
                item_id = await self.repo.claim_media(guild_id, day, nonce, now)
                if item_id is not None:
                    item = await self._media.get(guild_id, item_id)
                    posts.append(DailyPost(guild_id, "media", 0, day, nonce, item=item))
            today = due_date(now, config.timezone, BIRTHDAY_HOUR)
            stars = [s for s in birthdays.get(guild_id, []) if today and s.birthday and is_birthday(s.birthday, today)]
            if today is None or not stars or not await has_channel(guild_id, "birthdays"):
                continue
            for star in stars:
                if (guild_id, "birthday", star.id, today) in retrying:
                    continue
                nonce = _nonce()
                assert star.birthday is not None
                if await self.repo.claim_birthday(guild_id, star.id, today, nonce, now):
                    posts.append(DailyPost(guild_id, "birthday", star.id, today, nonce, star=star,
                                           age=age_turning(star.birthday, today)))
        return posts

    async def _retries(self, now: datetime) -> list[DailyPost]:
        posts = []
        for row in await self.repo.unsent(self._shards):
            day = date.fromisoformat(row["local_date"])
            config = await self._guilds.get(row["guild_id"])
            claimed_at = from_db(row["claimed_at"])
            assert claimed_at is not None
            if now - claimed_at > RESEND_WINDOW or local_date(now, config.timezone) != day:
                await self.repo.mark(row["guild_id"], row["kind"], row["subject_id"], day, "skipped",
                                     note="not confirmed sent in time; not resent so it cannot appear twice")
                log.warning("daily %s post for guild %s on %s was not confirmed sent; skipped",
                            row["kind"], row["guild_id"], day)
                continue
            if row["kind"] == "media":
                item = await self._media.get(row["guild_id"], row["item_id"]) if row["item_id"] else None
                if item is None:  # removed since it was picked
                    await self.repo.mark(row["guild_id"], "media", 0, day, "skipped", note="item removed")
                    continue
                posts.append(DailyPost(row["guild_id"], "media", 0, day, row["nonce"], item=item))
            else:
                star = await self._stars.get(row["guild_id"], row["subject_id"])
                if star is None or not star.followed or star.birthday is None:
                    await self.repo.mark(row["guild_id"], "birthday", row["subject_id"], day, "skipped",
                                         note="star unfollowed")
                    continue
                posts.append(DailyPost(row["guild_id"], "birthday", star.id, day, row["nonce"], star=star,
                                       age=age_turning(star.birthday, day)))
        return posts

    async def sent(self, post: DailyPost, message_id: int) -> None:
        await self.repo.mark(post.guild_id, post.kind, post.subject_id, post.day, "sent", message_id=message_id,
                             now=self._clock.now())

    async def not_sent(self, post: DailyPost, reason: str) -> None:
        """Discord refused (channel gone or forbidden): today's post is given up, not retried all day."""
        await self.repo.mark(post.guild_id, post.kind, post.subject_id, post.day, "skipped", note=reason[:200])

    async def last_media_day(self, guild_id: int) -> date | None:
        """The server's local date of the last media of the day that was sent."""
        rows = await self.repo.posts(guild_id, "media")
        last = next((r for r in reversed(rows) if r["status"] == "sent"), None)
        return date.fromisoformat(last["local_date"]) if last else None


def _nonce() -> str:
    # Discord nonces are at most 25 characters; 63 random bits fit in 19 digits.
    return str(secrets.randbits(63))
