"""Media library rules: the MediaItem record, tags, titles, link kinds and file-type sniffing by magic bytes."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from ..errors import UserError
from .discord_text import display_text
from .urls import check_http_url, normalize_url

MAX_TITLE = 200
MAX_CREDIT = 200
MAX_TAGS = 10
MAX_TAG = 30
_TAG_CHARS = re.compile(r"^[\w\- ]+$")  # \w is Unicode-aware: Hangul, accented letters, digits

# Sites whose links Discord unfurls into a playable player: for these the link goes in the content.
VIDEO_HOSTS = frozenset({
    "youtube.com", "youtu.be", "m.youtube.com", "music.youtube.com", "vimeo.com", "tiktok.com",
    "twitch.tv", "clips.twitch.tv", "streamable.com", "dailymotion.com", "tv.naver.com", "tv.kakao.com",
})
_IMAGE_EXT = (".jpg", ".jpeg", ".png", ".gif", ".webp")
_VIDEO_EXT = (".mp4", ".webm", ".mov", ".m4v")


@dataclass(frozen=True, slots=True)
class MediaItem:
    """An item of a server's curated library: a link or a stored file."""

    id: int
    guild_id: int
    title: str
    kind: str  # "image", "video" or "link"
    url: str | None = None
    file_name: str | None = None  # stored file, relative to the media folder
    file_type: str | None = None
    star_id: int | None = None
    star_name: str | None = None
    tags: tuple[str, ...] = ()
    credit: str | None = None
    spoiler: bool = False
    added_by: int | None = None
    added_at: datetime | None = None
    post_link: str | None = None  # her post it came from, when it was a suggestion

    @property
    def is_file(self) -> bool:
        return self.file_name is not None


@dataclass(frozen=True, slots=True)
class Submission:
    """A fan's suggestion for the library, waiting for (or decided by) a moderator."""

    id: int
    guild_id: int
    submitter_id: int
    title: str
    kind: str
    status: str  # "pending", "approved", "rejected"
    url: str | None = None
    file_name: str | None = None
    file_type: str | None = None
    star_id: int | None = None
    tags: tuple[str, ...] = ()
    spoiler: bool = False
    item_id: int | None = None
    decided_by: int | None = None
    card_channel_id: int | None = None
    card_message_id: int | None = None
    credit: str | None = None
    post_link: str | None = None  # set for her own post suggested from her account's feed

    @property
    def from_post(self) -> bool:
        return self.post_link is not None


@dataclass(frozen=True, slots=True)
class FileType:
    """What a file's first bytes say it is: its extension and whether it is an image or a video."""

    mime: str
    ext: str
    kind: str  # "image" or "video"


def clean_title(raw: str, *, what: str = "title", limit: int = MAX_TITLE) -> str:
    """A one-line title: control and direction characters removed. Mentions and markdown are
    neutralised when shown, so they are kept here as the fan typed them."""
    text = display_text(raw)
    if not text:
        raise UserError(f"{what}.empty")
    if len(text) > limit:
        raise UserError(f"{what}.too_long", length=len(text), limit=limit)
    return text


def parse_tags(raw: str | None) -> tuple[str, ...]:
    """Tags from "cute, behind the scenes #BTS": comma- or #-separated, folded, deduplicated."""
    if raw is None or not raw.strip():
        return ()
    parts = re.split(r"[,#\n]", unicodedata.normalize("NFKC", raw))
    out: dict[str, None] = {}
    for part in parts:
        tag = " ".join(part.split()).casefold()
        if not tag:
            continue
        if len(tag) > MAX_TAG:
            raise UserError("tag.too_long", tag=tag[:MAX_TAG] + "…", limit=MAX_TAG)
        if not _TAG_CHARS.match(tag):
            raise UserError("tag.bad_characters")
        out.setdefault(tag, None)
    if len(out) > MAX_TAGS:
        raise UserError("tags.too_many", n=len(out), limit=MAX_TAGS)
    return tuple(out)


def tag_key(raw: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", raw.lstrip("#")).split()).casefold()


def check_media_url(raw: str) -> tuple[str, str]:
    """(url, duplicate key) for a link a fan or moderator pasted; BadLink if it is not plain http(s)."""
    url = check_http_url(raw)
    key = normalize_url(url)
    # The same page over http and https is one item.
    return url, "https://" + key[len("http://"):] if key.startswith("http://") else key


def link_kind(url: str) -> str:
    """How a stored link is shown: "video" (a host that unfurls a player), "image" or "link"."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    if host in VIDEO_HOSTS or any(host.endswith("." + h) for h in VIDEO_HOSTS):
        return "video"
    path = parts.path.lower()
    if path.endswith(_IMAGE_EXT):
        return "image"
    if path.endswith(_VIDEO_EXT):
        return "video"
    return "link"


# -- file type sniffing ------------------------------------------------------------------------------
_MP4_BRANDS = frozenset({b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ",
                         b"M4VH", b"dash", b"qt  ", b"MSNV"})


def sniff_file_type(head: bytes) -> FileType | None:
    """The real type of a file from its first bytes, if it is one fanbot keeps; None otherwise.

    Only the allow-list below: a file claiming to be an image is believed by its bytes, never by
    its name or declared content type.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return FileType("image/jpeg", "jpg", "image")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileType("image/png", "png", "image")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return FileType("image/gif", "gif", "image")
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return FileType("image/webp", "webp", "image")
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return FileType("video/quicktime", "mov", "video")
        if brand in _MP4_BRANDS:
            return FileType("video/mp4", "mp4", "video")
        return None
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head[:64]:
        return FileType("video/webm", "webm", "video")
    return None


def looks_like_media_type(content_type: str | None) -> bool:
    """A declared type worth downloading at all (the bytes still decide)."""
    if not content_type:
        return True  # Discord sometimes omits it; the sniffer decides
    return content_type.split(";")[0].strip().lower().startswith(("image/", "video/"))


def item_matches(item: MediaItem, query: str, star_names: tuple[str, ...] = ()) -> bool:
    """Search: every word of the query appears in the title, a tag, the credit or one of her names."""
    words = fold(query).split()
    if not words:
        return False
    haystack = " ".join([item.title, *item.tags, item.credit or "", *star_names])
    folded = fold(haystack)
    squashed = folded.replace(" ", "").replace("-", "")
    return all(w in folded or w.replace("-", "") in squashed for w in words)


def fold(text: str) -> str:
    """Comparable form: NFKC (Hangul jamo composed), case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())
