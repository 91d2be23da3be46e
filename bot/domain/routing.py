"""Per-star news channels (SPEC §10): which channels a story goes to, and whom each post pings."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

from .announcements import Story


@dataclass(frozen=True, slots=True)
class Routing:
    """A server's news destinations: the news channel (None: not set) and each routed star's channel."""

    news_channel: int | None
    routes: Mapping[int, int]  # star id -> channel id

    @property
    def channels(self) -> frozenset[int]:
        """Every channel a story may be routed to now."""
        found = set(self.routes.values())
        if self.news_channel is not None:
            found.add(self.news_channel)
        return frozenset(found)

    def _home(self, star_id: int) -> int | None:
        return self.routes.get(star_id, self.news_channel)

    def targets(self, star_ids: tuple[int, ...] | list[int]) -> tuple[tuple[int, ...], bool]:
        """(the channels this story goes to, whether a part of it waits for a news channel to be set).
        Each star's news goes to her route, else the news channel; a story naming no star, to the news
        channel. One channel shared by several of its stars gets it once."""
        homes = [self._home(s) for s in star_ids] if star_ids else [self.news_channel]
        channels = tuple(sorted({h for h in homes if h is not None}))
        return channels, any(h is None for h in homes)

    def pinged_in(self, channel_id: int, story: Story) -> Story:
        """The story as posted in this channel: every star still named, only the ones whose news goes
        here pinged (a fan of one star is not pinged in another star's channel)."""
        here = [s for s in story.stars if self._home(s.star_id) == channel_id]
        if len(here) == len(story.stars):
            return story
        stars = tuple(s if s in here else replace(s, role_id=None) for s in story.stars)
        return replace(story, stars=stars)
