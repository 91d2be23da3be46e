"""A star's own accounts (Instagram, YouTube, X, Weibo): platforms, handle checks, and their feed URLs."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from ..errors import UserError

# The order fanbot lists them in; the values are also the /feeds add-social choices.
PLATFORMS = ("instagram", "youtube", "x", "weibo")
RSSHUB_ROUTES = {"instagram": "/instagram/user/{handle}", "x": "/twitter/user/{handle}", "weibo": "/weibo/user/{handle}"}
YOUTUBE_FEED = "https://www.youtube.com/feeds/videos.xml?channel_id={handle}"
MAX_HANDLE = 100
# A handle is pasted into a URL path or query: anything that could leave its segment is refused
# rather than escaped, because no real handle on these platforms needs it.
_UNSAFE = re.compile(r"[/?#%&=\\\s@]|\.\.")
_HANDLE = re.compile(r"[\w.\-]+")


def default_templates(rsshub_base: str | None) -> dict[str, str]:
    """YouTube's own channel feed always; the other platforms only through an RSSHub instance."""
    templates = {"youtube": YOUTUBE_FEED}
    if rsshub_base:
        templates.update({p: rsshub_base.rstrip("/") + route for p, route in RSSHUB_ROUTES.items()})
    return templates


def check_handle(handle: str | None) -> str:
    """The handle as it goes into a feed URL (a leading @ dropped); UserError when it cannot."""
    text = (handle or "").strip()
    if text.startswith("@") and len(text) > 1:
        text = text[1:]
    if not text:
        raise UserError("social.handle_empty")
    if len(text) > MAX_HANDLE:
        raise UserError("social.handle_too_long", limit=MAX_HANDLE)
    if _UNSAFE.search(text) or not _HANDLE.fullmatch(text):
        raise UserError("social.handle_invalid")
    return text


def check_platform(platform: str | None) -> str:
    key = (platform or "").strip().lower()
    if key not in PLATFORMS:
        raise UserError("social.platform_unknown", platforms=", ".join(PLATFORMS))
    return key


def feed_url(templates: Mapping[str, str], platform: str, handle: str) -> str | None:
    """Her account's feed URL, or None when no template covers the platform."""
    template = templates.get(platform)
    return template.replace("{handle}", check_handle(handle)) if template else None


def ordered(accounts: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(platform, handle) pairs without repeats, in PLATFORMS order."""
    unique = dict.fromkeys((p, h) for p, h in accounts)
    return sorted(unique, key=lambda a: (PLATFORMS.index(a[0]) if a[0] in PLATFORMS else len(PLATFORMS), a[1].lower()))
