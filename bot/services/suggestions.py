"""Her posts as media suggestions: what one post puts in the queue, and keeping its file before the card."""

from __future__ import annotations

import logging

from ..domain.discord_text import display_text, truncate
from ..domain.feeds import FeedEntry, canonical_link
from ..domain.media import MAX_TITLE, check_media_url, link_kind
from ..domain.post_media import PostMedia
from ..errors import UserError
from ..storage.feeds import FeedSource
from ..storage.suggestions import NewSuggestion
from .socials import PLATFORM_TITLES

log = logging.getLogger(__name__)


def credit_of(platform: str, handle: str) -> str:
    at = "@" if platform in ("instagram", "x") else ""
    return f"{PLATFORM_TITLES.get(platform, platform)} {at}{handle}"


def suggestion_of(feed: FeedSource, item: FeedEntry) -> NewSuggestion | None:
    """The suggestion one of her posts makes, or None when it has no photo or video (or no usable link)."""
    media = item.media or (PostMedia("image", item.image_url) if item.image_url else None)
    if media is None or not item.link or feed.star_id is None or not feed.platform:
        return None
    try:
        link, key = check_media_url(item.link)
    except UserError:
        return None
    return NewSuggestion(
        guild_id=feed.guild_id, title=truncate(display_text(item.title) or link, MAX_TITLE), kind=link_kind(link),
        post_link=link, post_key=canonical_link(link), url_key=key, star_id=feed.star_id,
        credit=credit_of(feed.platform, feed.handle or ""), media_url=media.file_url, media_length=media.length,
    )
