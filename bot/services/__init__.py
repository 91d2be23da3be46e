"""The services the cogs call, built once from the database, settings and clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..clock import Clock
from ..domain.catalogue import Catalogue
from ..domain.shards import ALL_SHARDS, ShardScope
from ..sharding import scope_of
from ..settings import Settings
from ..storage.announcements import AnnouncementRepository
from ..storage.database import Database
from ..storage.guilds import GuildRepository
from ..storage.stars import StarRepository
from ..storage.state import BotState
from .announcer import Announcer
from .guilds import GuildConfigService
from .media import build_media_services
from .polls import build_poll_service
from .news import NewsService
from .stars import StarService

if TYPE_CHECKING:
    import aiohttp


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    state: BotState
    stars: StarService
    guilds: GuildConfigService
    # The servers this process does outbound work for (announcements, polls, daily posts, cards).
    shards: ShardScope = ALL_SHARDS
    # Feature services, filled in by build_services; typed loosely to keep the core free of them.
    news: Any = None
    polls: Any = None
    media: Any = None
    daily: Any = None
    announcer: Any = None


def build_services(
    settings: Settings,
    db: Database,
    clock: Clock,
    *,
    catalogue: Catalogue | None = None,
    http: "aiohttp.ClientSession | None" = None,
) -> Services:
    catalogue = catalogue or Catalogue.load()
    services = Services(
        settings=settings,
        db=db,
        clock=clock,
        state=BotState(db),
        stars=StarService(StarRepository(db), catalogue, clock),
        guilds=GuildConfigService(GuildRepository(db, clock)),
        shards=scope_of(settings),
    )
    services.news = NewsService(settings, db, clock, services.stars, session=http)
    services.announcer = Announcer(AnnouncementRepository(db), services.guilds, clock, shards=services.shards)
    services.polls = build_poll_service(db, services.stars, clock, shards=services.shards)
    build_media_services(services, http)
    return services
