"""The media library: adding, finding and removing items, fans' submissions and their moderation, stored files."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ..clock import Clock
from ..domain.media import (
    MAX_CREDIT,
    FileType,
    MediaItem,
    Submission,
    check_media_url,
    clean_title,
    fold,
    item_matches,
    link_kind,
    looks_like_media_type,
    parse_tags,
    sniff_file_type,
    tag_key,
)
from ..domain.refs import Ref
from ..domain.shards import ALL_SHARDS, ShardScope
from ..errors import FetchError, NotFound, UserError
from ..net.addresses import AddressPolicy
from ..net.fetcher import Fetcher, FetchLimits, create_session
from ..settings import Settings
from ..storage.media import MediaRepository, NewMedia
from ..storage.suggestions import PendingFile, SuggestionRepository
from .stars import StarService

if TYPE_CHECKING:
    import aiohttp

log = logging.getLogger(__name__)

SEARCH_LIMIT = 10
# A missing card claimed by a process that died is posted by another one after this long.
CARD_CLAIM = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Upload:
    """A file a user attached to a command, as Discord described it (nothing downloaded yet)."""

    url: str
    filename: str
    size: int
    content_type: str | None = None


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A media file kept by fanbot: its name in the media folder, digest and type."""

    name: str  # relative to settings.media_path
    sha256: str
    type: FileType


class MediaService:
    """The media library: adding, finding and sharing items, and the submission queue."""

    def __init__(self, repo: MediaRepository, stars: StarService, settings: Settings, clock: Clock, *,
                 http: "aiohttp.ClientSession | None" = None, shards: ShardScope = ALL_SHARDS,
                 suggestions: SuggestionRepository | None = None) -> None:
        self.repo = repo
        self._stars = stars
        self._settings = settings
        self._clock = clock
        self._given_http = http
        self._own_http: aiohttp.ClientSession | None = None
        self._shards = shards  # the servers whose missing cards this process posts
        self.suggestions = suggestions  # her posts' suggestions; None where nothing polls feeds (tests, CLI)

    @property
    def root(self) -> Path:
        return Path(self._settings.media_path)

    def path_of(self, file_name: str) -> Path:
        return self.root / file_name

    # -- the library ------------------------------------------------------------------------------
    async def add(self, guild_id: int, actor_id: int, *, title: str, url: str | None = None,
                  upload: Upload | None = None, star: "str | Ref | None" = None, tags: str | None = None,
                  spoiler: bool = False, credit: str | None = None) -> MediaItem:
        new, stored = await self._prepare(guild_id, title=title, url=url, upload=upload, star=star, tags=tags,
                                          spoiler=spoiler, credit=credit)
        try:
            item_id = await self.repo.add_item(new, added_by=actor_id, now=self._clock.now())
        except BaseException:
            await self._discard(stored)
            raise
        item = await self.repo.get(guild_id, item_id)
        assert item is not None
        return item

    async def remove(self, guild_id: int, ref: str) -> MediaItem:
        item = await self.resolve(guild_id, ref)
        gone = await self.repo.remove(guild_id, item.id)
        if gone is None:
            raise NotFound("media.already_removed")
        if gone.file_name:
            await self._discard_name(gone.file_name)
        return gone

    async def resolve(self, guild_id: int, ref: "str | Ref") -> MediaItem:
        """An item from what a user typed: an autocomplete value (id:12), #12, 12, or its exact title."""
        parsed = Ref.parse(ref)
        text = parsed.text
        digits = text.lstrip("#")
        number = parsed.id if parsed.id is not None else (int(digits) if digits.isdigit() and len(digits) < 19 else None)
        if number is not None:
            item = await self.repo.get(guild_id, number)
            if item is not None:
                return item
        if text:
            item = await self.repo.by_title(guild_id, text)
            if item is not None:
                return item
        raise NotFound("media.not_found")

    async def autocomplete(self, guild_id: int, current: str, limit: int = 25) -> list[MediaItem]:
        items = await self.repo.list_items(guild_id)
        needle = fold(current)
        if not needle:
            return items[:limit]
        return [i for i in items if needle in fold(i.title) or needle == f"#{i.id}" or needle == str(i.id)][:limit]

    async def random(self, guild_id: int, *, star: "str | Ref | None" = None, tag: str | None = None) -> MediaItem:
        star_id = (await self._stars.resolve(guild_id, star)).id if star else None
        key = tag_key(tag) if tag and tag.strip() else None
        item = await self.repo.random_item(guild_id, star_id=star_id, tag=key)
        if item is None:
            if star_id is None and key is None:
                raise NotFound("media.library_empty")
            raise NotFound("media.no_match")
        return item

    async def search(self, guild_id: int, query: str, limit: int = SEARCH_LIMIT) -> list[MediaItem]:
        if not fold(query or ""):
            raise UserError("media.empty_query")
        names = {s.id: s.all_names for s in await self._stars.list(guild_id)}
        found = []
        for item in await self.repo.list_items(guild_id):
            star_names = names.get(item.star_id or 0, (item.star_name,) if item.star_name else ())
            if item_matches(item, query, star_names):
                found.append(item)
                if len(found) >= limit:
                    break
        return found

    # -- submissions ------------------------------------------------------------------------------
    async def submit(self, guild_id: int, submitter_id: int, *, title: str, url: str | None = None,
                     upload: Upload | None = None, star: "str | Ref | None" = None, tags: str | None = None) -> Submission:
        new, stored = await self._prepare(guild_id, title=title, url=url, upload=upload, star=star, tags=tags)
        try:
            sub_id = await self.repo.add_submission(new, submitter_id=submitter_id, now=self._clock.now())
        except BaseException:
            await self._discard(stored)
            raise
        sub = await self.repo.get_submission(guild_id, sub_id)
        assert sub is not None
        return sub

    async def withdraw(self, sub: Submission) -> None:
        await self.repo.withdraw(sub.guild_id, sub.id)
        if sub.file_name:
            await self._discard_name(sub.file_name)

    async def cardless(self, grace: timedelta = timedelta(minutes=2)) -> list[Submission]:
        """Submissions stored but never shown to moderators, older than `grace` (so a /media submit
        still posting its card is left alone)."""
        return await self.repo.cardless(self._clock.now() - grace, self._shards)

    async def claim_card(self, sub: Submission) -> bool:
        """Whether this process posts the missing card now (another one running the same job does not)."""
        now = self._clock.now()
        return await self.repo.claim_card(sub.id, now, now - CARD_CLAIM)

    async def set_card(self, sub: Submission, channel_id: int, message_id: int) -> None:
        await self.repo.set_card(sub.id, channel_id, message_id)

    async def get_submission(self, guild_id: int, submission_id: int) -> Submission:
        sub = await self.repo.get_submission(guild_id, submission_id)
        if sub is None:
            raise NotFound("submission.gone")
        return sub

    async def approve(self, guild_id: int, submission_id: int, moderator_id: int) -> tuple[Submission, MediaItem]:
        sub, item_id = await self.repo.approve(guild_id, submission_id, moderator_id, self._clock.now())
        item = await self.repo.get(guild_id, item_id)
        assert item is not None
        return sub, item

    async def reject(self, guild_id: int, submission_id: int, moderator_id: int) -> Submission:
        sub = await self.repo.reject(guild_id, submission_id, moderator_id, self._clock.now())
        if sub.file_name:
            await self._discard_name(sub.file_name)
        return sub

    async def keep_suggested_files(self) -> int:
        """Before her posts' cards go up, keep each one's photo or video where the feed gave a direct
        file within MEDIA_MAX_MB (the guarded fetcher, magic bytes checked); anything else keeps the
        post's link only. The number of files kept."""
        kept = 0
        if self.suggestions is None:
            return kept
        for pending in await self.suggestions.files_to_keep(self._shards):
            try:
                stored = await self._keep_one(pending)
            except Exception:  # one post's file must not hold back the others' cards
                log.exception("could not keep the file of suggestion %s", pending.id)
                stored = None
            if stored is None:
                await self.suggestions.link_only(pending.id, link_kind(pending.post_link))
            elif await self.suggestions.keep_file(pending.id, kind=stored.type.kind, file_name=stored.name,
                                                  file_type=stored.type.mime, sha256=stored.sha256):
                kept += 1
            else:
                await self.suggestions.link_only(pending.id, link_kind(pending.post_link))
                await self._discard(stored)
        return kept

    async def _keep_one(self, pending: PendingFile) -> StoredFile | None:
        cap = self._settings.media_max_bytes
        if pending.media_length is not None and pending.media_length > cap:
            return None  # the feed says it is too big: not a byte is fetched
        try:
            result = await self._fetcher().fetch(pending.media_url, max_bytes=cap)
        except FetchError as error:
            log.info("suggestion %s keeps its link only: %s", pending.id, error)
            return None
        kind = sniff_file_type(result.body[:64])
        if kind is None:
            return None  # a web page or anything else that is not a picture or a video
        digest = hashlib.sha256(result.body).hexdigest()
        name = f"{pending.guild_id}/{digest}.{kind.ext}"
        await asyncio.to_thread(_write_atomically, self.path_of(name), result.body)
        return StoredFile(name, digest, kind)

    # -- what /fanbot status and /stars info show -----------------------------------------------
    async def pending_count(self, guild_id: int) -> int:
        return await self.repo.pending_count(guild_id)

    async def count(self, guild_id: int, *, star_id: int | None = None) -> int:
        """Items in the library (of one star, when given)."""
        return await self.repo.count(guild_id, star_id=star_id)

    # -- input and files --------------------------------------------------------------------------
    async def _prepare(self, guild_id: int, *, title: str, url: str | None, upload: Upload | None,
                       star: "str | Ref | None", tags: str | None, spoiler: bool = False,
                       credit: str | None = None) -> tuple[NewMedia, StoredFile | None]:
        """Validate everything cheap first, then download; nothing is stored until all checks pass."""
        clean = clean_title(title)
        tag_list = parse_tags(tags)
        credit_text = clean_title(credit, what="credit", limit=MAX_CREDIT) if credit and credit.strip() else None
        star_id = (await self._stars.resolve(guild_id, star)).id if star and Ref.parse(star).text else None
        if bool(url and url.strip()) == (upload is not None):
            raise UserError("media.link_or_file")
        if upload is None:
            link, key = check_media_url(url or "")
            if await self.repo.has_url(guild_id, key):
                raise UserError("media.link_in_library")
            return NewMedia(guild_id, clean, link_kind(link), url=link, url_key=key, star_id=star_id, tags=tag_list,
                            credit=credit_text, spoiler=spoiler), None
        stored = await self._download(guild_id, upload)
        new = NewMedia(guild_id, clean, stored.type.kind, file_name=stored.name, file_type=stored.type.mime,
                       file_sha256=stored.sha256, star_id=star_id, tags=tag_list, credit=credit_text, spoiler=spoiler)
        return new, stored

    async def _download(self, guild_id: int, upload: Upload) -> StoredFile:
        cap = self._settings.media_max_bytes
        if upload.size > cap:
            raise UserError("media.file_too_large", size=round(upload.size / 1048576), limit=round(cap / 1048576))
        if not looks_like_media_type(upload.content_type):
            raise UserError("media.wrong_type")
        try:
            result = await self._fetcher().fetch(upload.url, max_bytes=cap)
        except FetchError as error:
            log.warning("could not download attachment %s: %s", upload.filename, error)
            raise UserError("media.download_failed", detail=error) from None
        kind = sniff_file_type(result.body[:64])
        if kind is None:
            raise UserError("media.not_media")
        digest = hashlib.sha256(result.body).hexdigest()
        if await self.repo.has_file(guild_id, digest):
            raise UserError("media.file_in_library")
        name = f"{guild_id}/{digest}.{kind.ext}"
        await asyncio.to_thread(_write_atomically, self.path_of(name), result.body)
        return StoredFile(name, digest, kind)

    def _fetcher(self) -> Fetcher:
        # Attachment downloads go through the SSRF-safe fetcher, with the same address policy as feeds.
        limits = FetchLimits(total_timeout=120.0, read_timeout=30.0, max_bytes=self._settings.media_max_bytes)
        if self._given_http is not None:
            return Fetcher(self._given_http, limits)  # the bot's shared guarded session
        if self._own_http is None or self._own_http.closed:
            self._own_http = create_session(AddressPolicy(allow_private=self._settings.feed_allow_private_networks))
        return Fetcher(self._own_http, limits)

    async def _discard(self, stored: StoredFile | None) -> None:
        if stored is not None:
            await self._discard_name(stored.name)

    async def _discard_name(self, file_name: str) -> None:
        """Delete a stored file once no item and no pending submission uses it."""
        if await self.repo.file_in_use(file_name):
            return
        try:
            await asyncio.to_thread(self.path_of(file_name).unlink, True)
        except OSError:
            log.warning("could not delete stored media file %s", file_name, exc_info=True)

    async def aclose(self) -> None:
        if self._own_http is not None:
            await self._own_http.close()
            self._own_http = None


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
