"""A star's own accounts: which feeds read them, adding them when she is followed or by hand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..clock import Clock
from ..domain.catalogue import Catalogue
from ..domain.socials import check_handle, check_platform, feed_url, ordered
from ..domain.stars import Star
from ..errors import UserError
from ..i18n import N_, Lang
from ..settings import Settings
from ..storage.feeds import FeedRepository, FeedSource

PLATFORM_TITLES = {"instagram": "Instagram", "youtube": "YouTube", "x": "X", "weibo": "Weibo"}
PLATFORM_NAMES = {"instagram": N_("Instagram"), "youtube": N_("YouTube"), "x": N_("X"), "weibo": N_("Weibo")}


def platform_name(platform: str, lang: Lang) -> str:
    """The platform as this reader calls it (인스타그램, Instagram)."""
    source = PLATFORM_NAMES.get(platform)
    return lang._(source) if source else PLATFORM_TITLES.get(platform, platform)


@dataclass(frozen=True, slots=True)
class Account:
    """One of a star's own accounts: a platform and the handle (or channel id) on it."""

    platform: str
    handle: str
    feed_url: str | None  # None: no template for the platform (RSSHUB_BASE unset)
    feed: FeedSource | None  # the server's subscription to it, if any
    in_catalogue: bool

    @property
    def followed(self) -> bool:
        return self.feed is not None and not self.feed.disabled


def feed_name(star: Star, platform: str, handle: str) -> str:
    at = "@" if platform in ("instagram", "x") else ""
    return f"{star.name} · {PLATFORM_TITLES.get(platform, platform)} {at}{handle}"[:100]


class SocialAccounts:
    """A star's own accounts: which exist, which feeds read them, subscribing a server to them."""

    def __init__(self, settings: Settings, feeds: FeedRepository, catalogue: Catalogue, clock: Clock,
                 check_url: Callable[[str], str]) -> None:
        self._settings = settings
        self._feeds = feeds
        self._catalogue = catalogue
        self._clock = clock
        self._check_url = check_url  # the news service's address policy: the same as for any feed

    def catalogued(self, star: Star) -> tuple[tuple[str, str], ...]:
        known = self._catalogue.find(star.name)
        return known.socials if known is not None else ()

    async def accounts(self, star: Star) -> list[Account]:
        """Her accounts from the catalogue and those added by hand, each with its feed if followed."""
        templates = self._settings.social_templates
        feeds = await self._feeds.socials_of(star.guild_id, star.id)
        by_account = {(f.platform, f.handle): f for f in feeds if f.platform and f.handle}
        catalogued = set(self.catalogued(star))
        out = []
        for platform, handle in ordered([*catalogued, *by_account]):
            feed = by_account.get((platform, handle))
            url = feed.url if feed else feed_url(templates, platform, handle)
            out.append(Account(platform, handle, url, feed, (platform, handle) in catalogued))
        return out

    async def follow_catalogued(self, star: Star, *, actor_id: int | None = None) -> list[str]:
        """Subscribe to each of her catalogued accounts a template covers; the URLs that were new."""
        added = []
        for platform, handle in self.catalogued(star):
            url = feed_url(self._settings.social_templates, platform, handle)
            if url is not None and await self._insert(star, platform, handle, url, actor_id):
                added.append(url)
        return added

    async def add(self, star: Star, platform: str, handle: str, *, actor_id: int | None = None) -> tuple[FeedSource, bool]:
        """One account by hand: (its subscription, whether it is new). UserError for a bad handle or a
        platform without a template."""
        platform = check_platform(platform)
        handle = check_handle(handle)
        url = feed_url(self._settings.social_templates, platform, handle)
        if url is None:
            raise UserError("social.no_template", platform=PLATFORM_TITLES[platform])
        url = self._check_url(url)
        created = await self._insert(star, platform, handle, url, actor_id)
        feed = next((f for f in await self._feeds.list(star.guild_id) if f.url == url), None)
        if feed is None:  # removed again in between: nothing to show, nothing half-done
            raise UserError("feed.not_found")
        return feed, created

    async def remove_all(self, star: Star) -> int:
        return await self._feeds.delete_social(star.guild_id, star.id)

    async def _insert(self, star: Star, platform: str, handle: str, url: str, actor_id: int | None) -> bool:
        now = self._clock.now()
        # Due at once: the first poll records her existing posts silently; later ones announce.
        return await self._feeds.insert_if_absent(
            star.guild_id, url, name=feed_name(star, platform, handle), kind="social", star_id=star.id, now=now,
            next_poll_at=now, platform=platform, handle=handle, added_by=actor_id)
