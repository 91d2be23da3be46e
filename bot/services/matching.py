"""One star matcher for every server's followed stars, rebuilt only when names change."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Hashable, Iterable

from ..domain.catalogue import Catalogue
from ..domain.matcher import NameRule, StarMatcher
from ..domain.stars import Star
from ..domain.text import name_key
from .stars import StarChange

log = logging.getLogger(__name__)


def star_match_names(star: Star, catalogue: Catalogue) -> tuple[str | NameRule, ...]:
    """Her names for the matcher: a catalogued star's names with their care rules, plus her own extras."""
    known = catalogue.find(star.name) if star.from_catalogue else None
    if known is None:
        return star.all_names
    names: list[str | NameRule] = list(known.match_names())
    have = {name_key(n.text if isinstance(n, NameRule) else n) for n in names}
    for extra in star.all_names:
        if name_key(extra) not in have:
            have.add(name_key(extra))
            names.append(extra)
    return tuple(names)


def build_matcher(entries: Iterable[tuple[Hashable, Iterable[str | NameRule]]]) -> StarMatcher:
    return StarMatcher.build(entries)


class NewsMatcher:
    """Maps a story's text to the followed stars it names, per server.

    The index holds every server's stars keyed by star id (one pass per text whatever the number of
    servers); a change to any star marks it stale and the next cycle rebuilds it once.
    """

    def __init__(self, load: Callable[[], Awaitable[list[Star]]], catalogue: Catalogue) -> None:
        self._load = load
        self._catalogue = catalogue
        self._matcher: StarMatcher | None = None
        self._guild_of: dict[int, int] = {}
        self._stale = True
        self.builds = 0

    async def on_star_change(self, change: StarChange) -> None:
        self.invalidate()

    def invalidate(self) -> None:
        # Only mark it stale: a poll cycle in flight keeps matching with the old index (dropping it
        # would make match() answer [] and the cycle mark those stories seen, losing them).
        self._stale = True

    async def ready(self) -> None:
        """Rebuild the index if a star changed since the last build."""
        if not self._stale and self._matcher is not None:
            return
        self._stale = False
        stars = await self._load()
        self._guild_of = {s.id: s.guild_id for s in stars}
        self._matcher = build_matcher((s.id, star_match_names(s, self._catalogue)) for s in stars)
        self.builds += 1
        log.debug("star matcher rebuilt: %d stars, %d names", len(stars), len(self._matcher))

    def match(self, guild_id: int, text: str) -> list[int]:
        """Ids of this server's followed stars named in text, in order of first mention. Call ready() first."""
        if self._matcher is None or not self._guild_of:
            return []
        return [s for s in self._matcher.match(text) if self._guild_of.get(s) == guild_id]  # type: ignore[misc]

    def guilds_with_stars(self) -> set[int]:
        return set(self._guild_of.values())
