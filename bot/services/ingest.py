"""Polling feeds: fetch (conditional GET), parse off the loop, record what is new, back off what fails."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..domain.discord_text import neutralise
from ..domain.feeds import ParsedFeed, parse_feed
from ..errors import FeedError, FetchError
from ..net.fetcher import Fetcher, FetchResult
from ..storage.database import Database
from ..storage.feeds import FeedRepository, FeedSource, PollFailure, PollSuccess
from ..storage.news import NewsRepository
from .matching import NewsMatcher

log = logging.getLogger(__name__)

MAX_FAILURES = 6
MAX_BACKOFF = timedelta(hours=24)
CONCURRENCY = 20

ModNotice = Callable[[int, str], Awaitable[object]]


@dataclass
class CycleReport:
    polled: int = 0
    not_modified: int = 0
    failed: int = 0
    new_stories: int = 0
    story_ids: list[int] = field(default_factory=list)
    disabled: list[tuple[FeedSource, str]] = field(default_factory=list)


def backoff(interval: float, failures: int) -> timedelta:
    """interval × 2^failures, capped at a day."""
    return min(timedelta(seconds=interval * (2 ** min(failures, 20))), MAX_BACKOFF)


class Poller:
    """Polls feeds with bounded concurrency. Feeds where nothing changed (304, or only items seen
    before) cost no write transaction of their own: their bookkeeping is written once per cycle."""

    def __init__(
        self,
        db: Database,
        feeds: FeedRepository,
        news: NewsRepository,
        matcher: NewsMatcher,
        *,
        interval: int,
        max_bytes: int,
        concurrency: int = CONCURRENCY,
    ) -> None:
        self._db = db
        self._feeds = feeds
        self._news = news
        self._matcher = matcher
        self.interval = interval
        self.max_bytes = max_bytes
        self.fetcher: Fetcher | None = None
        self._semaphore = asyncio.Semaphore(concurrency)
        self._in_flight: set[int] = set()
        self._rng = random.Random()

    def next_poll(self, now: datetime) -> datetime:
        # A little jitter so feeds added together drift apart instead of polling in lockstep.
        return now + timedelta(seconds=self.interval + self._rng.uniform(0, self.interval * 0.05))

    async def fetch(self, feed: FeedSource) -> FetchResult:
        assert self.fetcher is not None, "NewsService.start() creates the fetcher"
        return await self.fetcher.fetch(
            feed.url, etag=feed.etag, last_modified=feed.last_modified, max_bytes=self.max_bytes
        )

    @staticmethod
    async def parse(result: FetchResult) -> ParsedFeed:
        return await asyncio.to_thread(parse_feed, result.body, url=result.final_url, content_type=result.content_type)

    async def poll(self, feeds: list[FeedSource], now: datetime) -> CycleReport:
        """Poll these feeds once each; one feed's failure (or bug) never stops the others."""
        report = CycleReport()
        if not feeds:
            return report
        await self._matcher.ready()
        successes: list[PollSuccess] = []
        failures: list[PollFailure] = []
        chosen = [f for f in feeds if f.id not in self._in_flight]
        self._in_flight.update(f.id for f in chosen)
        try:
            await asyncio.gather(*(self._poll_one(f, now, report, successes, failures) for f in chosen))
            await self._feeds.save_outcomes(successes, failures)
        finally:
            self._in_flight.difference_update(f.id for f in chosen)
        report.polled = len(chosen)
        report.failed = len(failures)
        return report

    async def _poll_one(
        self,
        feed: FeedSource,
        now: datetime,
        report: CycleReport,
        successes: list[PollSuccess],
        failures: list[PollFailure],
    ) -> None:
        async with self._semaphore:
            try:
                result = await self.fetch(feed)
                if result.not_modified:
                    report.not_modified += 1
                    successes.append(PollSuccess(feed.id, now, self.next_poll(now), feed.etag, feed.last_modified))
                    return
                parsed = await self.parse(result)
                ok = PollSuccess(feed.id, now, self.next_poll(now), result.etag, result.last_modified)
                changed = await self.ingest(feed, parsed, ok, now, report)
                if not changed:
                    successes.append(ok)
            except (FetchError, FeedError) as exc:
                failures.append(self._failure(feed, now, str(exc), report))
            except Exception:
                log.exception("polling feed %s (%s) failed", feed.id, feed.url)
                failures.append(self._failure(feed, now, "fanbot could not process this feed (see the bot's log)", report))

    def _failure(self, feed: FeedSource, now: datetime, error: str, report: CycleReport) -> PollFailure:
        count = feed.consecutive_failures + 1
        disabled = count >= MAX_FAILURES
        if disabled:
            report.disabled.append((feed, error))
        return PollFailure(feed.id, now, now + backoff(self.interval, count), error, count, disabled)

    async def ingest(
        self, feed: FeedSource, parsed: ParsedFeed, success: PollSuccess, now: datetime, report: CycleReport
    ) -> bool:
        """Record the items this feed has not delivered before; True if a write was needed.

        An unprimed feed (just added) records its items as seen without announcing them.
        """
        keys = [item.guid for item in parsed.items]
        # Committed reads first: most polls of a feed without validators bring nothing new.
        if feed.primed and not await self._news.unseen(feed.id, keys):
            return False
        async with self._db.transaction() as tx:
            current = await self._feeds.get_tx(tx, feed.id)
            if current is None:
                return True  # removed while we were fetching
            fresh = set(await self._news.unseen(feed.id, keys, tx))
            announce = current.primed
            await self._news.mark_seen(tx, feed.id, fresh, now)
            if announce:
                # Oldest first, so stories are recorded (and announced) in the order they appeared.
                for item in reversed(parsed.items):
                    if item.guid not in fresh:
                        continue
                    fresh.discard(item.guid)
                    stars = self._matcher.match(feed.guild_id, f"{item.title}\n{item.summary}")
                    if not stars:
                        continue
                    story_id = await self._news.record_story(tx, feed.guild_id, feed.id, item, stars, now)
                    if story_id is not None:
                        report.story_ids.append(story_id)
                        report.new_stories += 1
            await self._feeds.save_success(tx, success)
        return True

    async def notify_disabled(self, report: CycleReport, notify: ModNotice | None) -> None:
        for feed, feed_error in report.disabled:
            log.warning("feed %s (%s) disabled after %d failures", feed.id, feed.url, MAX_FAILURES)
            if notify is None:
                continue
            try:
                await notify(
                    feed.guild_id,
                    f"fanbot stopped polling the feed {neutralise(feed.label[:200])} after {MAX_FAILURES} failures in a row. "
                    f"Last error: {neutralise((feed_error or '')[:300])}. Check the address, then run /feeds add "
                    "with the same URL to turn it back on.",
                )
            except Exception:  # the notice is a courtesy; polling the other feeds matters more
                log.exception("could not tell the moderators of guild %s about feed %s", feed.guild_id, feed.id)
