"""Polling feeds: fetch (conditional GET), parse off the loop, record what is new, back off what fails."""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..domain.feeds import FeedEntry, ParsedFeed, parse_feed
from ..domain.notices import Notice
from ..errors import DatabaseUnavailable, DiagnosedError, FeedError, FetchError
from ..net.fetcher import Fetcher, FetchResult
from ..storage.database import Database, Transaction
from ..storage.feeds import FeedRepository, FeedSource, PollFailure, PollSuccess, StoredError
from ..storage.news import NewsRepository
from ..storage.suggestions import SuggestionRepository
from .matching import Named, NewsMatcher
from .suggestions import suggestion_of

log = logging.getLogger(__name__)

MAX_FAILURES = 6
MAX_BACKOFF = timedelta(hours=24)
CONCURRENCY = 20
FLUSH_EVERY = 200  # unchanged feeds per background write during a cycle

ModNotice = Callable[[int, Notice], Awaitable[object]]


@dataclass
class CycleReport:
    """What one poll cycle over feeds did: polled, unchanged, failed, new stories, feeds disabled."""

    polled: int = 0
    not_modified: int = 0
    failed: int = 0
    new_stories: int = 0
    story_ids: list[int] = field(default_factory=list)
    disabled: list[tuple[FeedSource, DiagnosedError]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Plan:
    feed: FeedSource  # one server's subscription
    keys: list[str]  # every entry key the feed carries now
    matches: list[tuple[FeedEntry, list[int]]]  # unseen items naming this server's stars, oldest first
    unmatched: tuple[FeedEntry, ...] = ()  # a subscription's first look: unseen items, not matched


@dataclass(frozen=True, slots=True)
class _Changed:
    """A source that brought items some subscriber has not seen: written for all its subscribers at once."""

    subscriptions: list[FeedSource]
    plans: list[_Plan]
    success: PollSuccess


def by_source(feeds: list[FeedSource]) -> dict[int, list[FeedSource]]:
    groups: dict[int, list[FeedSource]] = {}
    for feed in feeds:
        groups.setdefault(feed.source_id, []).append(feed)
    return groups


def backoff(interval: float, failures: int) -> timedelta:
    """interval × 2^failures, capped at a day."""
    return min(timedelta(seconds=interval * (2 ** min(failures, 20))), MAX_BACKOFF)


class Poller:
    """Polls feed sources with bounded concurrency: each URL is fetched once, whatever number of
    servers subscribe to it, and what it brought is matched and recorded for each of them. Sources
    where nothing changed (304, or only items seen before) cost no write transaction of their own:
    their bookkeeping is written once per cycle."""

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
        self._suggestions = SuggestionRepository(db)
        self.interval = interval
        self.max_bytes = max_bytes
        self.fetcher: Fetcher | None = None
        self._concurrency = concurrency
        self._semaphore = asyncio.Semaphore(concurrency)  # shared: a refresh during a cycle adds no more
        self._in_flight: set[int] = set()
        # Set while the service shuts down: feeds cut off mid-fetch then are not the feeds' fault.
        self.closing = False
        self._rng = random.Random()
        self._parse_pool: ThreadPoolExecutor | None = None

    def next_poll(self, now: datetime) -> datetime:
        # A little jitter so feeds added together drift apart instead of polling in lockstep.
        return now + timedelta(seconds=self.interval + self._rng.uniform(0, self.interval * 0.05))

    async def fetch(self, feed: FeedSource, *, conditional: bool = True) -> FetchResult:
        assert self.fetcher is not None, "NewsService.start() creates the fetcher"
        return await self.fetcher.fetch(
            feed.url, etag=feed.etag if conditional else None,
            last_modified=feed.last_modified if conditional else None, max_bytes=self.max_bytes,
        )

    async def parse(self, result: FetchResult) -> ParsedFeed:
        # One parsing thread: parsing holds the GIL, so more threads add no speed, only longer
        # waits for the event loop (a stalled gateway heartbeat, slow command replies).
        if self._parse_pool is None:
            self._parse_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feed-parse")
        job = functools.partial(parse_feed, result.body, url=result.final_url, content_type=result.content_type)
        return await asyncio.get_running_loop().run_in_executor(self._parse_pool, job)

    def close(self) -> None:
        if self._parse_pool is not None:
            self._parse_pool.shutdown(wait=False, cancel_futures=True)
            self._parse_pool = None

    async def poll(self, feeds: list[FeedSource], now: datetime) -> CycleReport:
        """Fetch the sources of these subscriptions once each and record what they brought for every
        subscription given (pass all of a source's enabled subscriptions: its validators move on for
        all of them); one source's failure (or bug) never stops the others.

        Fetching, parsing and matching run concurrently; everything they found is then written in
        one transaction (a savepoint per subscription), so a cycle costs a handful of commits, not
        one per feed.
        """
        report = CycleReport()
        if not feeds:
            return report
        await self._matcher.ready()
        changed: list[_Changed] = []
        successes: list[PollSuccess] = []
        failures: list[PollFailure] = []
        chosen = [subs for source_id, subs in by_source(feeds).items() if source_id not in self._in_flight]
        self._in_flight.update(subs[0].source_id for subs in chosen)
        try:
            queue = iter(chosen)
            flushes: list[asyncio.Task[None]] = []

            async def worker() -> None:
                # A few workers pulling from one queue, not a task per feed: a thousand tasks all
                # woken in one loop iteration would stall everything else the bot does.
                for subs in queue:
                    await self._poll_one(subs, now, report, changed, successes, failures)
                    if len(successes) >= FLUSH_EVERY and (not flushes or flushes[-1].done()):
                        # Unchanged feeds' bookkeeping is written while the rest are still fetched.
                        batch = successes[:]
                        successes.clear()
                        flushes.append(asyncio.create_task(self._feeds.save_outcomes(batch, [])))

            try:
                await asyncio.gather(*(worker() for _ in range(min(self._concurrency, len(chosen)))))
            finally:
                await asyncio.gather(*flushes)
            await self._write(changed, successes, failures, now, report)
        finally:
            self._in_flight.difference_update(subs[0].source_id for subs in chosen)
        report.polled = len(chosen)
        report.failed = len(failures)
        return report

    async def _poll_one(
        self,
        subs: list[FeedSource],
        now: datetime,
        report: CycleReport,
        changed: list[_Changed],
        successes: list[PollSuccess],
        failures: list[PollFailure],
    ) -> None:
        source = subs[0]
        ids = tuple(s.id for s in subs)
        async with self._semaphore:
            try:
                # A subscriber's first look must see the whole feed, so validators wait until all are primed.
                result = await self.fetch(source, conditional=all(s.primed for s in subs))
                if result.not_modified:
                    report.not_modified += 1
                    successes.append(PollSuccess(source.source_id, now, self.next_poll(now), source.etag,
                                                 source.last_modified, ids))
                    return
                parsed = await self.parse(result)
                ok = PollSuccess(source.source_id, now, self.next_poll(now), result.etag, result.last_modified, ids)
                named: dict[str, Named] = {}
                plans = [plan for sub in subs if (plan := await self.plan(sub, parsed, named)) is not None]
                if plans:
                    changed.append(_Changed(subs, plans, ok))
                else:
                    successes.append(ok)
            except (FetchError, FeedError) as exc:
                if not self.closing:
                    failures.append(self._failure(subs, now, exc, report))
            except Exception:
                if self.closing:
                    return
                log.exception("polling feed source %s (%s) failed", source.source_id, source.url)
                unprocessed = FeedError("fanbot could not process this feed (see the bot's log)", "feed.process_failed")
                failures.append(self._failure(subs, now, unprocessed, report))

    def _failure(self, subs: list[FeedSource], now: datetime, error: DiagnosedError, report: CycleReport) -> PollFailure:
        source = subs[0]
        count = source.consecutive_failures + 1
        disabled = count >= MAX_FAILURES
        if disabled:
            report.disabled.extend((sub, error) for sub in subs)
        return PollFailure(source.source_id, now, now + backoff(self.interval, count), str(error), count, disabled,
                           StoredError(error.code, error.data) if error.code else None)

    async def plan(self, feed: FeedSource, parsed: ParsedFeed, named: dict[str, Named] | None = None) -> _Plan | None:
        """What to write for this feed's items, or None when it brought nothing new (no write needed).
        named: what the matcher found in each text, shared by the subscriptions of one source so each
        item is matched once however many servers read it."""
        keys = [item.guid for item in parsed.items]
        # Committed reads: most polls of a feed without validators bring nothing new.
        fresh = set(await self._news.unseen(feed.id, keys)) if feed.primed else set(keys)
        if not fresh:
            return None
        if not feed.primed:
            # A new subscription's first look is marked seen, never announced: matching it would be
            # wasted, unless another poll primes it meanwhile (then _record matches these items).
            return _Plan(feed, keys, [], unmatched=tuple(i for i in reversed(parsed.items) if i.guid in fresh))
        return _Plan(feed, keys, self.matches(feed, [i for i in reversed(parsed.items) if i.guid in fresh], named))

    def matches(self, feed: FeedSource, items: "list[FeedEntry] | tuple[FeedEntry, ...]",
                named: dict[str, Named] | None = None) -> list[tuple[FeedEntry, list[int]]]:
        """The items (oldest first, so stories are recorded and announced in the order they appeared)
        that name this server's stars and pass the subscription's filter, with those stars."""
        found: list[tuple[FeedEntry, list[int]]] = []
        story_filter = feed.story_filter
        memo = {} if named is None else named
        for item in items:
            text = f"{item.title}\n{item.summary}"
            # Her own account's posts are hers whether or not they name her ("Morning light").
            if feed.social:
                stars = [feed.star_id]
            else:
                groups = memo.get(text)
                if groups is None:
                    groups = memo[text] = self._matcher.named(text)
                stars = self._matcher.match(feed.guild_id, text, groups) if groups else []
            # A story the subscription's filter keeps out is still marked seen (keys, below), so
            # changing the filter later never brings back old items.
            if stars and story_filter.allows(text):
                found.append((item, stars))
        return found

    async def ingest(self, subs: list[FeedSource], parsed: ParsedFeed, success: PollSuccess, now: datetime,
                     report: CycleReport) -> None:
        """Record what one source brought for all its subscriptions (used by /feeds add, which fetched
        it already: the other subscribers must not miss what that fetch found)."""
        await self._matcher.ready()
        named: dict[str, Named] = {}
        plans = [plan for sub in subs if (plan := await self.plan(sub, parsed, named)) is not None]
        await self._write([_Changed(subs, plans, success)] if plans else [], [] if plans else [success], [], now, report)

    async def _write(
        self, changed: list[_Changed], successes: list[PollSuccess], failures: list[PollFailure], now: datetime,
        report: CycleReport,
    ) -> None:
        if not changed:
            await self._feeds.save_outcomes(successes, failures)
            return
        async with self._db.transaction() as tx:
            primed = await self._feeds.primed_flags(tx, [p.feed.id for c in changed for p in c.plans])
            for source in changed:
                recorded = True
                for plan in source.plans:
                    if plan.feed.id not in primed:
                        continue  # unsubscribed while we were fetching
                    try:
                        async with tx.savepoint("feed"):
                            story_ids = await self._record(tx, plan, primed[plan.feed.id], now)
                    except DatabaseUnavailable:
                        raise
                    except Exception:
                        log.exception("recording feed %s (%s) failed", plan.feed.id, plan.feed.url)
                        recorded = False
                    else:
                        report.story_ids.extend(story_ids)
                # One subscriber's items not recorded: the source keeps its old validators, so the next
                # poll fetches it whole again (the others' items are seen by then and not doubled).
                if recorded:
                    successes.append(source.success)
                else:
                    unrecorded = FeedError("fanbot could not record this feed's items", "feed.record_failed")
                    failures.append(self._failure(source.subscriptions, now, unrecorded, report))
            await self._feeds.save_outcomes_tx(tx, successes, failures)
        report.new_stories = len(report.story_ids)

    async def _record(self, tx: Transaction, plan: _Plan, primed: bool, now: datetime) -> list[int]:
        feed = plan.feed
        # Checked again inside the transaction: another poll of this feed may have just recorded them.
        fresh = set(await self._news.unseen(feed.id, plan.keys, tx))
        await self._news.mark_seen(tx, feed.id, fresh, now)
        if not primed:
            return []  # a new feed's backlog: seen, never announced
        story_ids = []
        matches = plan.matches or self.matches(feed, plan.unmatched)
        for item, stars in matches:
            if item.guid in fresh:
                story_id = await self._news.record_story(tx, feed.guild_id, feed.id, item, stars, now,
                                                         platform=feed.platform if feed.social else None)
                if story_id is not None:
                    story_ids.append(story_id)
                # In the same transaction as the story: a crash records both or neither, and the
                # post's key keeps a second feed (or a second poll) from queueing it again.
                suggestion = suggestion_of(feed, item) if feed.social else None
                if suggestion is not None:
                    await self._suggestions.record(tx, suggestion, now)
        return story_ids

    async def notify_disabled(self, report: CycleReport, notify: ModNotice | None) -> None:
        for feed, feed_error in report.disabled:
            log.warning("feed %s (%s) disabled after %d failures", feed.id, feed.url, MAX_FAILURES)
            if notify is None:
                continue
            try:
                await notify(feed.guild_id, Notice("feed_disabled", {
                    "feed": feed.label[:200], "failures": MAX_FAILURES, "error": feed_error}))
            except Exception:  # the notice is a courtesy; polling the other feeds matters more
                log.exception("could not tell the moderators of guild %s about feed %s", feed.guild_id, feed.id)
