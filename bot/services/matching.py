"""One star matcher for every server's followed stars, rebuilt only when names change."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping

from ..domain.catalogue import Catalogue
from ..domain.matcher import NameRule, StarMatcher
from ..domain.stars import Star
from ..domain.text import name_key
from .stars import StarChange

log = logging.getLogger(__name__)

# What NewsMatcher.named() answers: the name sets a text names, each as {guild id: its star ids}.
Named = list[Mapping[int, tuple[int, ...]]]


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

    Thousands of servers follow the same star, each with its own row. The index holds each distinct
    name set once (a group: the star's effective names, so a server that edited her aliases gets a
    group of its own), so a text costs one pass whatever the number of servers, and a hit costs what
    one star's names cost, not one check per server. A group then maps to each server's star ids.
    A change to any star marks the index stale and the next cycle rebuilds it once.
    """

    def __init__(self, load: Callable[[], Awaitable[list[Star]]], catalogue: Catalogue) -> None:
        self._load = load
        self._catalogue = catalogue
        self._matcher: StarMatcher | None = None
        self._members: list[dict[int, tuple[int, ...]]] = []  # group -> {guild id: its star ids}
        self._guilds: frozenset[int] = frozenset()
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
        group_of: dict[frozenset[str | NameRule], int] = {}
        names: list[tuple[str | NameRule, ...]] = []
        persons: dict[Hashable, Hashable] = {}
        members: list[dict[int, list[int]]] = []
        for star in stars:
            effective = star_match_names(star, self._catalogue)
            group = group_of.setdefault(frozenset(effective), len(names))
            if group == len(names):
                names.append(effective)
                members.append({})
                persons[group] = name_key(star.name)
            members[group].setdefault(star.guild_id, []).append(star.id)
        self._members = [{g: tuple(ids) for g, ids in m.items()} for m in members]
        self._guilds = frozenset(s.guild_id for s in stars)
        self._matcher = StarMatcher.build(enumerate(names), person=persons)
        self.builds += 1
        log.debug("star matcher rebuilt: %d stars in %d name sets, %d names", len(stars), len(names),
                  len(self._matcher))

    def named(self, text: str) -> Named:
        """The name sets text names, in order of first mention, each as {guild id: its star ids}: match
        once per text, then ask match() for each server. They belong to the index they came from, so
        a rebuild in between (a star followed mid-cycle) cannot give one server another's hit. Call
        ready() first."""
        if self._matcher is None or not self._members:
            return []
        members = self._members
        return [members[group] for group in self._matcher.match(text)]  # type: ignore[index]

    def match(self, guild_id: int, text: str, named: Named | None = None) -> list[int]:
        """Ids of this server's followed stars named in text, in order of first mention. `named`: what
        named(text) answered, when several servers look at the same text. Call ready() first."""
        found: list[int] = []
        for stars in self.named(text) if named is None else named:
            found.extend(stars.get(guild_id, ()))
        return found

    @property
    def name_sets(self) -> int:
        """How many distinct name sets the index holds (each indexed once, whatever its followers)."""
        return len(self._members)

    def guilds_with_stars(self) -> set[int]:
        return set(self._guilds)
