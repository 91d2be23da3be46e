"""Fixtures for news service tests: a temp database, real stars, a local feed server, a NewsService on them."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from bot.clock import ManualClock
from bot.domain.catalogue import Catalogue
from bot.services.news import NewsService
from bot.services.stars import StarService
from bot.settings import Settings
from bot.storage.stars import StarRepository
from tests.feedserver import FeedServer

GUILD = 111
OTHER_GUILD = 222


@pytest.fixture
async def db(any_db):
    return any_db


@pytest.fixture
def news_clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc))


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return Catalogue.load()


@pytest.fixture
def stars(db, news_clock, catalogue) -> StarService:
    return StarService(StarRepository(db), catalogue, news_clock)


@pytest.fixture
async def feed_server():
    server = await FeedServer().start()
    yield server
    await server.stop()


@pytest.fixture
async def make_news(db, news_clock, stars, tmp_path):
    made: list[NewsService] = []

    async def make(**overrides) -> NewsService:
        settings = Settings(
            database_path=tmp_path / "news.db",
            feed_allow_private_networks=True,
            star_search_feeds=(),
            feed_poll_interval=600,
        )
        settings = replace(settings, **overrides)
        service = NewsService(settings, db, news_clock, stars)
        await service.start()
        made.append(service)
        return service

    yield make
    for service in made:
        await service.close()
