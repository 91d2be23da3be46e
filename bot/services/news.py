"""News: the feeds a server reads, polling them on schedule, star search feeds, and recent stories."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, quote_plus, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver

from ..clock import Clock
from ..domain.discord_text import display_text, truncate
from ..domain.filters import StoryFilter, parse_phrases
from ..domain.refs import Ref
from ..domain.stars import Star
from ..domain.urls import check_http_url
from ..errors import FeedError, FetchError, NotFound, UnsafeURL, UserError
from ..net.addresses import AddressPolicy, check_url
from ..net.fetcher import Fetcher, FetchLimits, create_session
from ..settings import Settings
from ..storage.database import Database
from ..storage.feeds import FeedRepository, FeedSource, PollSuccess
from ..storage.news import NewsRepository, NewsStory
from .ingest import CONCURRENCY, CycleReport, ModNotice, Poller
from .matching import NewsMatcher
from .socials import SocialAccounts
from .stars import StarChange, StarService

log = logging.getLogger(__name__)

POLL_JOB = "news-poll"
POLL_EVERY = 5.0
MAX_PER_CYCLE = 200  # keeps one scheduler tick short; the rest are still due on the next one


@dataclass(frozen=True, slots=True)
class AddedFeed:
    """What /feeds add did: the feed, whether it is new, its current items and new stories."""

    feed: FeedSource
    created: bool
    items: int
    new_stories: int


def _fraction(text: str) -> float:
    """A stable number in [0, 1) from text, to spread feeds over the poll interval."""
    return int.from_bytes(hashlib.sha1(text.encode()).digest()[:4], "big") / 2**32


def _is_korean(template: str) -> bool:
    values = [v.lower() for _, v in parse_qsl(urlsplit(template).query)]
    return any(v == "ko" or v.startswith(("ko-", "ko_")) or v.endswith(":ko") for v in values)


def search_feed_urls(templates: tuple[str, ...], star: Star) -> list[tuple[str, str]]:
    """(url, name) per template: the quoted display name, or her Hangul name in a Korean template."""
    out = []
    for template in templates:
        korean = _is_korean(template) and bool(star.hangul)
        name = star.hangul if korean and star.hangul else star.name
        url = template.replace("{query}", quote_plus(f'"{name}"'))
        out.append((url, f"Search: {name} ({'Korean' if _is_korean(template) else 'English'})"))
    return out


class NewsService:
    """Feeds and stories of each server: adding and polling feeds, matching stories to stars."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        clock: Clock,
        stars: StarService,
        *,
        policy: AddressPolicy | None = None,
        resolver: AbstractResolver | None = None,
        session: aiohttp.ClientSession | None = None,
        limits: FetchLimits | None = None,
        concurrency: int = CONCURRENCY,
        notify_mods: ModNotice | None = None,
        after_new_stories: Callable[[datetime], Awaitable[object]] | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.stars = stars
        self.feeds = FeedRepository(db)
        self.news = NewsRepository(db)
        self.policy = policy or AddressPolicy(allow_private=settings.feed_allow_private_networks)
        self._resolver = resolver
        self._limits = limits or FetchLimits(max_bytes=settings.feed_max_bytes)
        self.matcher = NewsMatcher(stars.all_followed, stars.catalogue)
        self.poller = Poller(
            db, self.feeds, self.news, self.matcher,
            interval=settings.feed_poll_interval, max_bytes=settings.feed_max_bytes, concurrency=concurrency,
        )
        # The bot's shared guarded session when given (it owns and closes it); otherwise our own.
        self._given_session = session
        self._session: aiohttp.ClientSession | None = None
        # A mod-log notice, and "stories are waiting" for the delivery side: wired by build_services.
        self.notify_mods = notify_mods
        self.after_new_stories = after_new_stories
        self.socials = SocialAccounts(settings, self.feeds, stars.catalogue, clock, self.check_url)
        stars.subscribe(self._on_star_change)

    # -- life cycle -------------------------------------------------------------------------
    async def start(self) -> None:
        self.poller.closing = False
        if self.poller.fetcher is not None:
            return
        if self._given_session is not None and self._resolver is None:
            self.poller.fetcher = Fetcher(self._given_session, self._limits)
        else:
            self._session = create_session(self.policy, resolver=self._resolver)
            self.poller.fetcher = Fetcher(self._session, self._limits)

    async def close(self) -> None:
        self.poller.closing = True
        self.poller.fetcher = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        self.poller.close()

    # -- polling ----------------------------------------------------------------------------
    async def poll_due(self, now: datetime | None = None, *, limit: int | None = MAX_PER_CYCLE) -> CycleReport:
        now = now or self.clock.now()
        return await self._run(await self.feeds.due(now, limit), now)

    async def refresh(self, guild_id: int) -> CycleReport:
        """Poll every enabled feed of this server now, whatever their schedule (and, since a fetch
        moves a shared source's validators on, record it for the other servers reading them too)."""
        feeds = await self.feeds.enabled_in(guild_id)
        if not feeds:
            raise NotFound("feeds.none_to_refresh")
        return await self._run(await self.feeds.subscribers([f.source_id for f in feeds]), self.clock.now())

    async def _run(self, feeds: list[FeedSource], now: datetime) -> CycleReport:
        await self.start()
        report = await self.poller.poll(feeds, now)
        await self.poller.notify_disabled(report, self.notify_mods)
        await self._deliver_new(report, now)
        return report

    async def _deliver_new(self, report: CycleReport, now: datetime) -> None:
        """Announce what a poll found at once. A failure here is not the poll's (nor /feeds add's): the
        stories are recorded and queued, and the delivery job picks them up next tick."""
        if report.story_ids and self.after_new_stories is not None:
            try:
                await self.after_new_stories(now)
            except Exception:
                log.exception("delivering new stories right after the poll failed")

    # -- feeds ------------------------------------------------------------------------------
    def check_url(self, url: str) -> str:
        """The URL if fanbot may fetch it (scheme, host, address policy); UserError saying why not."""
        url = check_http_url(url)
        try:
            check_url(url, self.policy)
        except UnsafeURL as exc:
            raise UserError("feed.unsafe_address", detail=exc) from None
        return url

    async def add_feed(self, guild_id: int, url: str, *, name: str | None = None, actor_id: int | None = None) -> AddedFeed:
        """Fetch the feed once and refuse it unless it is a working RSS/Atom feed; its current items
        are recorded as seen, not announced. Adding a URL again re-enables it."""
        url = self.check_url(url)
        await self.start()
        now = self.clock.now()
        probe = FeedSource(0, guild_id, url, name, "manual", None, None, None, now, None, None, None, None, 0, None, None, False, now)
        try:
            result = await self.poller.fetch(probe)
            parsed = await self.poller.parse(result)
        except UnsafeURL as exc:
            raise UserError("feed.unsafe_address", detail=exc) from None
        except (FetchError, FeedError) as exc:
            raise UserError("feed.unreadable", detail=exc) from None
        title = truncate(display_text(name), 100) if display_text(name) else None
        first_poll = now + timedelta(seconds=self.settings.feed_poll_interval * (0.5 + 0.5 * _fraction(f"{guild_id}:{url}")))
        async with self.db.transaction() as tx:
            feed_id, created = await self.feeds.upsert(
                tx, guild_id, url, name=title, default_name=truncate(parsed.title, 100) if parsed.title else None,
                kind="manual", star_id=None, added_by=actor_id, now=now, next_poll_at=first_poll,
            )
            feed = await self.feeds.get_tx(tx, feed_id)
        assert feed is not None
        report = CycleReport()
        subscribers = await self.feeds.subscribers([feed.source_id])
        success = PollSuccess(feed.source_id, now, first_poll, result.etag, result.last_modified,
                              tuple(s.id for s in subscribers))
        await self.poller.ingest(subscribers, parsed, success, now, report)
        await self._deliver_new(report, now)
        fresh = await self.feeds.get(guild_id, feed.id)
        assert fresh is not None
        return AddedFeed(fresh, created, len(parsed.items), report.new_stories)

    async def resolve_feed(self, guild_id: int, ref: "str | Ref") -> FeedSource:
        """A feed of this server: an autocomplete value (id:12), its URL or its name."""
        parsed = Ref.parse(ref)
        text = parsed.text
        feeds = await self.feeds.list(guild_id)
        for feed in feeds:
            if parsed.id == feed.id or text == feed.url or (feed.name and text.casefold() == feed.name.casefold()):
                return feed
        raise NotFound("feed.not_found")

    async def remove_feed(self, guild_id: int, ref: str) -> FeedSource:
        feed = await self.resolve_feed(guild_id, ref)
        await self.feeds.delete(guild_id, feed.id)
        return feed

    async def set_filter(self, guild_id: int, ref: "str | Ref", include: str | None, exclude: str | None) -> FeedSource:
        """Replace a feed's story filter with these comma-separated phrases (empty or None clears that
        list); the feed as it is now. Refused with a UserError code for bad phrases, nothing changed."""
        story_filter = StoryFilter(parse_phrases(include, which="include"), parse_phrases(exclude, which="exclude"))
        feed = await self.resolve_feed(guild_id, ref)
        if not await self.feeds.set_filter(guild_id, feed.id, story_filter):
            raise NotFound("feed.not_found")
        updated = await self.feeds.get(guild_id, feed.id)
        if updated is None:
            raise NotFound("feed.not_found")
        return updated

    async def list_feeds(self, guild_id: int) -> list[FeedSource]:
        return await self.feeds.list(guild_id)

    async def autocomplete(self, guild_id: int, current: str, limit: int = 25) -> list[FeedSource]:
        needle = (current or "").casefold().strip()
        feeds = await self.feeds.list(guild_id)
        return [f for f in feeds if needle in f.label.casefold() or needle in f.url.casefold()][:limit]

    async def add_star_search(self, guild_id: int, star: Star) -> list[str]:
        """Add the search feeds for a star (STAR_SEARCH_FEEDS); the URLs that were new."""
        if not self.settings.star_search_feeds:
            raise UserError("feeds.star_search_off")
        now = self.clock.now()
        added = []
        for url, name in search_feed_urls(self.settings.star_search_feeds, star):
            # Due at once: the first poll only records what is there (no flood), later ones announce.
            if await self.feeds.insert_if_absent(
                guild_id, url, name=name, kind="star_search", star_id=star.id, now=now, next_poll_at=now
            ):
                added.append(url)
        return added

    async def _on_star_change(self, change: StarChange) -> None:
        self.matcher.invalidate()
        star = change.star
        if change.kind == "followed":
            if self.settings.star_search_feeds:
                await self.add_star_search(star.guild_id, star)
            await self.socials.follow_catalogued(star)
        elif change.kind == "unfollowed":
            await self.feeds.delete_star_search(star.guild_id, star.id)
            await self.socials.remove_all(star)
        elif change.kind == "edited" and self.settings.star_search_feeds:
            # A new Hangul name changes the Korean search: swap her search feeds for the new ones.
            mine = [f for f in await self.feeds.list(star.guild_id) if f.kind == "star_search" and f.star_id == star.id]
            wanted = {url for url, _ in search_feed_urls(self.settings.star_search_feeds, star)}
            if mine and {f.url for f in mine} != wanted:
                for feed in mine:
                    if feed.url not in wanted:
                        await self.feeds.delete(star.guild_id, feed.id)
                await self.add_star_search(star.guild_id, star)

    # -- stories ----------------------------------------------------------------------------
    async def latest(self, guild_id: int, *, star: Star | None = None, count: int = 5) -> list[NewsStory]:
        return await self.news.latest(guild_id, star_id=star.id if star else None, limit=max(1, min(count, 10)))

    async def health(self, guild_id: int) -> tuple[int, int, int, datetime | None]:
        """(feeds, failing, disabled, last poll) of one server."""
        return await self.feeds.health(guild_id)
