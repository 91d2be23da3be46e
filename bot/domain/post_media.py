"""The photo or video a star's post carries (enclosure, media:content, a YouTube video): what a suggestion keeps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class PostMedia:
    """The photo or video a star's post carries: what kind, and a file the bot may keep."""

    kind: str  # "image" or "video"
    file_url: str | None  # a direct file the bot may keep; None when only the post's page has it (YouTube)
    length: int | None = None  # bytes, as the feed states it (unverified: the download enforces the cap)


def _kind(mime: Any, medium: Any) -> str | None:
    mime = str(mime or "").lower()
    for kind in ("image", "video"):
        if mime.startswith(kind + "/") or medium == kind:
            return kind
    return None


def _length(value: Any) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def entry_media(entry: Any, link_of: Callable[[Any], str | None]) -> PostMedia | None:
    """The first photo or video of a feed entry, videos first (a clip is what fans come for).

    `link_of` is the parser's rule for an absolute http(s) URL (so javascript: and data: never pass)."""
    found: list[PostMedia] = []
    for enclosure in entry.get("enclosures") or []:
        kind, url = _kind(enclosure.get("type"), None), link_of(enclosure.get("href"))
        if kind and url:
            found.append(PostMedia(kind, url, _length(enclosure.get("length"))))
    for media in entry.get("media_content") or []:
        kind, url = _kind(media.get("type"), media.get("medium")), link_of(media.get("url"))
        if kind and url:
            found.append(PostMedia(kind, url, _length(media.get("filesize") or media.get("fileSize"))))
    if entry.get("yt_videoid"):
        # YouTube's feed names the video, never a file: the suggestion keeps the watch link.
        found.append(PostMedia("video", None))
    videos = [m for m in found if m.kind == "video"]
    return (videos or found or [None])[0]
