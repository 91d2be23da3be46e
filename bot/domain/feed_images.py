"""The picture of a feed item: media:content, media:thumbnail, an image enclosure, or the first <img> of its HTML."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

# Hosts that serve only 1x1 tracking images (web beacons) in feed HTML; a subdomain counts too.
_PIXEL_HOSTS = (
    "feeds.feedburner.com",
    "feedproxy.google.com",
    "pixel.wp.com",
    "stats.wp.com",
    "pixel.quantserve.com",
    "scorecardresearch.com",
    "google-analytics.com",
    "doubleclick.net",
    "feedblitz.com",
    "pixel.mathtag.com",
)
_IMAGE_SUFFIX = re.compile(r"\.(jpe?g|png|gif|webp|avif)(\?|$)", re.IGNORECASE)
_HTML_LIMIT = 50_000  # of an item's HTML searched for an <img>; the first picture is near the top


def _host_is_pixel(url: str) -> bool:
    host = url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0].lower().rstrip(".")
    return any(host == h or host.endswith("." + h) for h in _PIXEL_HOSTS)


def _tiny(width: Any, height: Any) -> bool:
    """True when a stated size makes it a beacon (1x1 or smaller); an unstated size is no evidence."""
    for value in (width, height):
        try:
            if value is not None and str(value).strip() != "" and int(str(value).strip().rstrip("px")) <= 1:
                return True
        except ValueError:
            continue
    return False


class _FirstImage(HTMLParser):
    """Finds the first <img> source (or <video> poster) in document order (skipping beacons) until the caller has one."""

    def __init__(self, accept: Callable[[str], str | None]) -> None:
        super().__init__(convert_charrefs=True)
        self._accept = accept
        self.found: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.found is not None or tag not in ("img", "video"):
            return
        values = dict(attrs)
        if _tiny(values.get("width"), values.get("height")):
            return
        # A video's poster is its thumbnail: the picture an announcement of a clip should show.
        self.found = self._accept(values.get("src" if tag == "img" else "poster") or "")

    handle_startendtag = handle_starttag


def entry_image(entry: Any, link_of: Callable[[Any], str | None]) -> str | None:
    """The item's picture as an absolute http(s) URL, or None.

    `link_of` turns a raw value into an absolute http(s) URL or None (the parser's own rule, so
    `javascript:` and `data:` sources are never taken).
    """

    def accept(raw: Any) -> str | None:
        url = link_of(raw)
        return None if url is None or _host_is_pixel(url) else url

    for media in entry.get("media_content") or []:
        kind = (media.get("type") or "").lower()
        url = media.get("url") or ""
        is_image = kind.startswith("image/") or media.get("medium") == "image" or (not kind and _IMAGE_SUFFIX.search(url))
        if is_image and not _tiny(media.get("width"), media.get("height")):
            found = accept(url)
            if found:
                return found
    for thumb in entry.get("media_thumbnail") or []:
        if not _tiny(thumb.get("width"), thumb.get("height")):
            found = accept(thumb.get("url"))
            if found:
                return found
    for link in entry.get("links") or []:
        if link.get("rel") == "enclosure" and (link.get("type") or "").lower().startswith("image/"):
            found = accept(link.get("href"))
            if found:
                return found
    return _first_html_image(entry, accept)


def _first_html_image(entry: Any, accept: Callable[[str], str | None]) -> str | None:
    htmls = [entry.get("summary")] + [c.get("value") for c in entry.get("content") or []]
    for html in htmls:
        if not isinstance(html, str):
            continue
        lowered = html[:_HTML_LIMIT].lower()
        if "<img" not in lowered and "<video" not in lowered:
            continue
        parser = _FirstImage(accept)
        parser.feed(html[:_HTML_LIMIT])
        parser.close()
        if parser.found:
            return parser.found
    return None
