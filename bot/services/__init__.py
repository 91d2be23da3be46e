"""The services the cogs call, built once from the database, settings and clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from ..clock import Clock
from ..domain.catalogue import Catalogue
from ..domain.shards import ALL_SHARDS, ShardScope
from ..settings import Settings
from ..sharding import scope_of
from ..storage.announcements import AnnouncementRepository
from ..storage.database import Database
from ..storage.guilds import GuildRepository
from ..storage.media import DailyRepository, MediaRepository
from ..storage.stars import StarRepository
from ..storage.state import BotState
from ..storage.suggestions import SuggestionRepository
from ..wakeups import wake_others_after
from .announcer import Announcer
from .daily import DailyService
from .guilds import GuildConfigService
from .ingest import ModNotice
from .media import MediaService
from .news import NewsService
from .polls import PollService, build_poll_service
from .stars import StarService

if TYPE_CHECKING:
    import aiohttp


@dataclass
class Services:
    """Every service, typed: cogs call them directly instead of probing for what exists."""

    settings: Settings
    db: Database
    clock: Clock
    state: BotState
    stars: StarService
    guilds: GuildConfigService
    news: NewsService
    announcer: Announcer
    polls: PollService
    media: MediaService
    daily: DailyService
    # The servers this process does outbound work for (announcements, polls, daily posts, cards).
    shards: ShardScope = ALL_SHARDS


def build_services(
    settings: Settings,
    db: Database,
    clock: Clock,
    *,
    catalogue: Catalogue | None = None,
    http: "aiohttp.ClientSession | None" = None,
    mod_log: ModNotice | None = None,
) -> Services:
    """`mod_log` posts a notice to a server's moderators (the bot's Poster); None drops them (tests, CLI)."""
    catalogue = catalogue or Catalogue.load()
    stars = StarService(StarRepository(db), catalogue, clock)
    guilds = GuildConfigService(GuildRepository(db, clock))
    shards = scope_of(settings)
    announcer = Announcer(AnnouncementRepository(db), guilds, clock, shards=shards,
                          lease_time=timedelta(seconds=settings.delivery_lease))
    media_repo = MediaRepository(db)
    return Services(
        settings=settings,
        db=db,
        clock=clock,
        state=BotState(db),
        stars=stars,
        guilds=guilds,
        # New stories are announced right after the poll that found them, not at the next delivery tick,
        # here and (PostgreSQL) by the gateway processes of the other shards, woken with a NOTIFY.
        news=NewsService(settings, db, clock, stars, session=http, notify_mods=mod_log,
                         after_new_stories=wake_others_after(announcer.deliver_pending, db)),
        announcer=announcer,
        polls=build_poll_service(db, stars, clock, shards=shards),
        media=MediaService(media_repo, stars, settings, clock, http=http, shards=shards,
                           suggestions=SuggestionRepository(db)),
        daily=DailyService(DailyRepository(db), media_repo, guilds, stars, clock, shards=shards),
        shards=shards,
    )
