"""A process without the gateway role: it polls feeds (`feeds`) and/or does the leader's work (`leader`),
and never opens a Gateway connection. A feeds-only process needs no token and never talks to Discord."""

from __future__ import annotations

import asyncio
import logging

from .clock import Clock, SystemClock
from .net.addresses import AddressPolicy
from .net.fetcher import create_session
from .scheduler import Scheduler
from .services import Services, build_services
from .services.news import POLL_EVERY, POLL_JOB
from .settings import Settings
from .sharding import ProcessRoles
from .storage.database import Database

log = logging.getLogger(__name__)


async def run_worker(settings: Settings, db: Database, stop: asyncio.Event, *, clock: Clock | None = None,
                     scheduler_tick: float = 5.0) -> int:
    """Run until `stop` is set. The stories a feeds process writes wait as pending announcements,
    which the gateway processes deliver on their next tick."""
    from .client import FanBot

    roles = ProcessRoles(settings.process_roles)
    clock = clock or SystemClock()
    http = create_session(AddressPolicy(allow_private=settings.feed_allow_private_networks))
    scheduler = Scheduler(clock, tick_seconds=scheduler_tick)
    leader: FanBot | None = None
    services: Services | None = None
    try:
        if roles.leader:
            # Logging in over REST runs setup_hook: the cogs load (so the command tree is complete) and the
            # tree is synced if it changed. Nothing connects to the Gateway; the bot's own jobs never run.
            assert settings.discord_token is not None
            leader = FanBot(settings, db, clock=clock, http_session=http, scheduler_tick=None)
            await leader.login(settings.discord_token.get())
        if roles.feeds:
            # Services of its own, not the leader bot's: their news service is wired to deliver at once,
            # and posting is the gateway processes' work.
            services = build_services(settings, db, clock, http=http)
            await services.news.start()
            scheduler.add(POLL_JOB, services.news.poll_due, every=POLL_EVERY)
        log.info("running as %s, without a Gateway connection", ",".join(sorted(settings.process_roles)))
        scheduler.start()
        await stop.wait()
        log.info("shutting down")
    finally:
        await scheduler.stop()
        if services is not None:
            await services.news.close()
        if leader is not None:
            await leader.close()
        await http.close()
    return 0
