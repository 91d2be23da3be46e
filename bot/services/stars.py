"""Following, unfollowing and editing stars; tells listeners (the news matcher) when names change."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..clock import Clock
from ..domain.catalogue import Catalogue
from ..domain.refs import Ref
from ..domain.shards import ALL_SHARDS, ShardScope
from ..domain.stars import (
    Star,
    StarDraft,
    clean_hangul,
    clean_name,
    merge_aliases,
    name_key,
    parse_aliases,
    parse_birthday,
)
from ..errors import Conflict, NotFound, UserError
from ..storage.stars import StarRepository

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StarChange:
    """A star was followed, unfollowed or edited (told to listeners such as the news matcher)."""

    kind: str  # "followed", "unfollowed", "edited"
    star: Star


StarListener = Callable[[StarChange], Awaitable[None]]


class StarService:
    """Following, unfollowing, editing and finding a server's stars."""

    def __init__(self, repo: StarRepository, catalogue: Catalogue, clock: Clock) -> None:
        self._repo = repo
        self._catalogue = catalogue
        self._clock = clock
        self._listeners: list[StarListener] = []

    @property
    def catalogue(self) -> Catalogue:
        return self._catalogue

    def subscribe(self, listener: StarListener) -> None:
        self._listeners.append(listener)

    async def _emit(self, kind: str, star: Star) -> None:
        for listener in self._listeners:
            try:
                await listener(StarChange(kind, star))
            except Exception:  # a listener's failure must not undo the change the moderator made
                log.exception("star listener failed for %s %s", kind, star.name)

    async def follow(
        self,
        guild_id: int,
        name: str,
        *,
        hangul: str | None = None,
        aliases: str | None = None,
        birthday: str | None = None,
        actor_id: int | None = None,
    ) -> Star:
        clean = clean_name(name)
        typed_hangul = clean_hangul(hangul)
        typed_aliases = parse_aliases(aliases)
        typed_birthday = parse_birthday(birthday, today=self._clock.now().date())
        known = self._catalogue.find(clean) or (self._catalogue.find(typed_hangul) if typed_hangul else None)
        if known is not None:
            display = known.name
            draft = StarDraft(
                name=display,
                hangul=typed_hangul or known.hangul,
                # Misspellings stay in the catalogue for the matcher; fans should not see them as names.
                aliases=merge_aliases(
                    [a for a in known.aliases if a not in known.misspellings], typed_aliases, exclude=(display,)
                ),
                birthday=typed_birthday or known.birthday,
            )
        else:
            draft = StarDraft(clean, typed_hangul, merge_aliases(typed_aliases, exclude=(clean,)), typed_birthday)
        existing = await self._repo.by_key(guild_id, name_key(draft.name))
        if existing is not None:
            raise Conflict("star.already_followed", star=existing)
        star_id = await self._repo.upsert_follow(guild_id, draft, from_catalogue=known is not None, actor_id=actor_id,
                                                 now=self._clock.now())
        star = await self._repo.get(guild_id, star_id)
        assert star is not None
        await self._emit("followed", star)
        return star

    async def unfollow(self, guild_id: int, star_ref: "str | Ref") -> Star:
        star = await self.resolve(guild_id, star_ref)
        await self._repo.set_followed(star.id, False)
        await self._emit("unfollowed", star)
        return star

    async def edit(
        self,
        guild_id: int,
        star_ref: "str | Ref",
        *,
        hangul: str | None = None,
        aliases: str | None = None,
        birthday: str | None = None,
    ) -> Star:
        star = await self.resolve(guild_id, star_ref)
        if hangul is None and aliases is None and birthday is None:
            raise UserError("star.nothing_to_change")
        draft = StarDraft(
            name=star.name,
            hangul=clean_hangul(hangul) if hangul is not None else star.hangul,
            aliases=merge_aliases(parse_aliases(aliases), exclude=(star.name,)) if aliases is not None else star.aliases,
            birthday=parse_birthday(birthday, today=self._clock.now().date()) if birthday is not None else star.birthday,
        )
        await self._repo.update(star.id, draft)
        updated = await self._repo.get(guild_id, star.id)
        assert updated is not None
        await self._emit("edited", updated)
        return updated

    async def set_notify_role(self, star: Star, role_id: int | None) -> None:
        await self._repo.set_notify_role(star.id, role_id)

    async def list(self, guild_id: int) -> list[Star]:
        return await self._repo.list_followed(guild_id)

    async def all_followed(self, shards: ShardScope = ALL_SHARDS) -> list[Star]:
        return await self._repo.all_followed(shards)

    async def get(self, guild_id: int, star_id: int) -> Star | None:
        return await self._repo.get(guild_id, star_id)

    async def resolve(self, guild_id: int, ref: "str | Ref") -> Star:
        """A followed star of this server from what a user typed: an autocomplete id or any of her names."""
        parsed = Ref.parse(ref)
        if parsed.id is not None:
            star = await self._repo.get(guild_id, parsed.id)
            if star is not None and star.followed:
                return star
        ref = parsed.text
        key = name_key(ref)
        if key:
            star = await self._repo.by_key(guild_id, key)
            if star is not None:
                return star
            for candidate in await self._repo.list_followed(guild_id):
                if key in {name_key(n) for n in candidate.all_names}:
                    return candidate
        raise NotFound("star.not_followed", name=ref[:60])

    async def autocomplete(self, guild_id: int, current: str, limit: int = 25) -> list[Star]:
        stars = await self._repo.list_followed(guild_id)
        key = name_key(current)
        if not key:
            return stars[:limit]
        starts, contains = [], []
        for star in stars:
            keys = [name_key(n) for n in star.all_names]
            if any(k.startswith(key) for k in keys):
                starts.append(star)
            elif any(key in k for k in keys):
                contains.append(star)
        return (starts + contains)[:limit]
