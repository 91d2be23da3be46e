"""Turn fetched feed bytes into news items: safe parsing, plain text, absolute links, keys for dedup."""

from __future__ import annotations

import calendar
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from bot.domain.discord_text import truncate
from bot.domain.feed_images import entry_image
from bot.domain.post_media import PostMedia, entry_media
from bot.domain.urls import MAX_URL_LENGTH, normalize_url
from bot.errors import FeedError

TITLE_LIMIT = 256  # Discord embed title
SUMMARY_LIMIT = 500  # enough for an embed description that stays readable
MAX_ITEMS = 500
_HTML_INPUT_LIMIT = 20_000  # of a summary's HTML; the first screenful is all we keep


@dataclass(frozen=True)
class FeedEntry:
    """One item of a parsed feed, as plain text."""

    guid: str
    link: str | None
    title: str
    summary: str
    published: datetime | None
    image_url: str | None
    source_name: str
    media: PostMedia | None = None  # a photo or video it carries (only her own posts use it)


@dataclass(frozen=True)
class ParsedFeed:
    """A feed document turned into its title and items."""

    title: str
    link: str | None
    items: list[FeedEntry]


# --- refusing entity declarations before any parser sees them ----------------------------------

_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)
_NO_BOM_UTF16 = ((b"\x00<\x00?", "utf-16-be"), (b"<\x00?\x00", "utf-16-le"), (b"\x00<\x00!", "utf-16-be"), (b"<\x00!\x00", "utf-16-le"))


def _as_text(body: bytes) -> str:
    """The body as text good enough to read its markup: exact for UTF-16/32, byte-per-char otherwise.

    Every ASCII-compatible encoding spells "<!ENTITY" in the same bytes, so latin-1 (one char per
    byte, never fails) is enough to find it there.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, errors="replace")
    for start, codec in _NO_BOM_UTF16:
        if body.startswith(start):
            return body.decode(codec, errors="replace")
    return body.decode("latin-1")


_DOCTYPE = re.compile(r"<!DOCTYPE", re.IGNORECASE)
_ENTITY = re.compile(r"<!ENTITY", re.IGNORECASE)


def _refuse_entity_declarations(body: bytes) -> None:
    """FeedError if the prolog declares entities (a DOCTYPE internal subset or <!ENTITY).

    Walks the prolog (declaration, comments, processing instructions, DOCTYPE) properly instead of
    searching the first N bytes, so a long comment cannot push a DOCTYPE out of sight; the body
    after the root element is not searched, where "<!ENTITY" may be quoted article text.
    """
    text = _as_text(body)
    refusal = FeedError("the feed declares XML entities, which fanbot refuses", "feed.entities")
    pos, end = 0, len(text)
    while pos < end:
        if text[pos] in " \t\r\n\ufeff":
            pos += 1
        elif text.startswith("<?", pos):
            close = text.find("?>", pos)
            pos = end if close < 0 else close + 2
        elif text.startswith("<!--", pos):
            close = text.find("-->", pos + 4)
            pos = end if close < 0 else close + 3
        elif _DOCTYPE.match(text, pos):
            # A DOCTYPE that opens "[" before its ">" (outside quotes) has an internal subset.
            quote = None
            for ch in text[pos + 9 :]:
                if quote:
                    quote = None if ch == quote else quote
                elif ch in "\"'":
                    quote = ch
                elif ch == "[":
                    raise refusal
                elif ch == ">":
                    break
            close = text.find(">", pos)
            pos = end if close < 0 else close + 1
        elif _ENTITY.match(text, pos):
            raise refusal
        else:
            return  # the root element: the prolog is over


# --- text clean-up ---------------------------------------------------------------------------

class _TextExtractor(HTMLParser):
    _SKIP = frozenset({"script", "style", "template", "noscript"})
    _BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BREAKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BREAKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


_SPACE = re.compile(r"\s+")
_LOOKS_LIKE_MARKUP = re.compile(r"</?[A-Za-z][A-Za-z0-9]*[\s/>]|&(#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);")
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def _html_to_text(value: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(value[:_HTML_INPUT_LIMIT])
    extractor.close()
    return "".join(extractor.parts)


def plain_text(value: str | None, *, is_html: bool = True) -> str:
    """Markup stripped, entities decoded, invisible characters removed, whitespace collapsed."""
    if not value:
        return ""
    text = _html_to_text(value) if is_html else value[:_HTML_INPUT_LIMIT]
    # Feeds that escape their HTML twice leave "<p>" or "&amp;" behind after one round.
    if _LOOKS_LIKE_MARKUP.search(text):
        text = _html_to_text(text)
    text = _INVISIBLE.sub("", text)
    return _SPACE.sub(" ", text).strip()


def _detail_text(entry: Any, key: str) -> str:
    detail = entry.get(f"{key}_detail") or {}
    kind = (detail.get("type") or "text/html").lower()
    return plain_text(entry.get(key), is_html="html" in kind)


_SUFFIX_DASHES = (" - ", " | ", " – ", " — ")


def normalise_title(title: str, source: str | None = None) -> str:
    """A key under which the same headline from two sources compares equal.

    Case, width, accents, punctuation and spacing are ignored; a trailing " - Source" (as Google
    News appends) is dropped when the source is given.
    """
    text = unicodedata.normalize("NFKC", title or "").casefold()
    if source:
        suffix = unicodedata.normalize("NFKC", source).casefold()
        for dash in _SUFFIX_DASHES:
            if text.endswith(dash + suffix):
                text = text[: -len(dash + suffix)]
                break
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(ch if ch.isalnum() else " " for ch in decomposed if not unicodedata.combining(ch))
    return _SPACE.sub(" ", unicodedata.normalize("NFC", kept)).strip()


def strip_source_suffix(title: str, source: str) -> str:
    """`title` without a trailing " - Source" (any of the usual dashes), if it ends so and more is left."""
    for dash in _SUFFIX_DASHES:
        tail = dash + source
        if title.endswith(tail) and title[: -len(tail)].strip():
            return title[: -len(tail)].rstrip()
    return title


def canonical_link(url: str) -> str:
    """The link two feeds carrying the same story agree on (see bot.domain.urls.normalize_url)."""
    return normalize_url(url)


# --- links, dates, images ----------------------------------------------------------------------

def _http_link(value: Any, base: str) -> str | None:
    """`value` made absolute against `base`, if it is then an http(s) URL with a host."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        absolute = urljoin(base, value.strip())
        parts = urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if len(absolute) > MAX_URL_LENGTH or any(ch.isspace() for ch in absolute):
        return None
    return absolute


def _entry_link(entry: Any, base: str) -> str | None:
    link = _http_link(entry.get("link"), base)
    if link:
        return link
    for candidate in entry.get("links") or []:
        if candidate.get("rel", "alternate") == "alternate":
            link = _http_link(candidate.get("href"), base)
            if link:
                return link
    return None


def _published(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # dict.get, not entry.get: FeedParserDict maps a missing "updated" to "published" with a warning.
        parsed = dict.get(entry, key)
        if parsed:
            try:
                # feedparser's struct_time is already in UTC; timegm reads it as such.
                return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc)
            except (OverflowError, ValueError, OSError, TypeError):
                continue
    return None


def _guid(entry: Any, link: str | None, title: str, summary: str) -> str:
    guid = (entry.get("id") or "").strip()
    if guid and len(guid) <= 500:
        return guid
    if link:
        return link
    digest = hashlib.sha256(f"{guid}\n{title}\n{summary}".encode("utf-8")).hexdigest()
    return f"sha256:{digest[:40]}"


# --- the parse itself -----------------------------------------------------------------------------

_XML_ENCODING = re.compile(rb"^<\?xml[^>]{0,200}encoding\s*=", re.IGNORECASE)


def _charset_hint(body: bytes, content_type: str | None) -> str | None:
    """'euc-kr' for Korean feeds that declare no encoding at all, which feedparser would read as
    windows-1252 (it guesses only with chardet, which fanbot does not ship)."""
    if content_type and "charset=" in content_type.lower():
        return None
    if body.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")) or _XML_ENCODING.match(body.lstrip()):
        return None
    try:
        body.decode("utf-8")
        return None
    except UnicodeDecodeError:
        pass
    try:
        text = body.decode("euc-kr")
    except UnicodeDecodeError:
        return None
    wide = [ch for ch in text if ord(ch) > 0x7F]
    hangul = sum(1 for ch in wide if "\uac00" <= ch <= "\ud7a3")
    return "euc-kr" if wide and hangul * 2 >= len(wide) else None


def _looks_like_html(body: bytes) -> bool:
    head = _as_text(body[:2048]).lower()
    return "<html" in head or "<!doctype html" in head


def parse_feed(body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse an RSS/Atom document fetched from `url`; FeedError if it is not a usable feed.

    Synchronous and CPU-bound: call it with asyncio.to_thread.
    """
    if not body or not body.strip():
        raise FeedError("the feed is empty", "feed.empty")
    _refuse_entity_declarations(body)
    headers = {"content-location": url}
    hint = _charset_hint(body, content_type)
    if hint:
        headers["content-type"] = f"application/xml; charset={hint}"
    elif content_type:
        headers["content-type"] = content_type
    # BytesIO, never bytes or str: feedparser treats a string as a URL or a file path to open.
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    entries = parsed.get("entries") or []
    if not parsed.get("version") and not entries:
        if _looks_like_html(body):
            raise FeedError("this is a web page, not an RSS or Atom feed; look for the site's feed link",
                            "feed.web_page")
        raise FeedError("this is not an RSS or Atom feed", "feed.not_a_feed")

    info = parsed.get("feed") or {}
    feed_title = truncate(_detail_text(info, "title"), TITLE_LIMIT)
    feed_link = _http_link(info.get("link"), url)
    fallback_source = feed_title or (urlsplit(url).hostname or "")
    items = [_entry(entry, url, fallback_source) for entry in entries[:MAX_ITEMS]]
    return ParsedFeed(title=feed_title, link=feed_link, items=items)


def _entry(entry: Any, base: str, fallback_source: str) -> FeedEntry:
    link = _entry_link(entry, base)
    title = _detail_text(entry, "title")
    summary = _detail_text(entry, "summary")
    if not summary and entry.get("content"):
        first = entry["content"][0]
        summary = plain_text(first.get("value"), is_html="html" in (first.get("type") or "html"))
    source = entry.get("source") or {}
    publisher = plain_text(source.get("title"), is_html=False)
    if publisher:
        # Google News (and other aggregators) name the publisher in <source> and repeat it at the
        # end of the headline; the announcement shows it once, as the source.
        title = strip_source_suffix(title, publisher)
    source_name = publisher or fallback_source
    guid = _guid(entry, link, title, summary)
    if not title:
        title = summary or link or "(untitled)"
    return FeedEntry(
        guid=guid,
        link=link,
        title=truncate(title, TITLE_LIMIT),
        summary=truncate(summary, SUMMARY_LIMIT),
        published=_published(entry),
        image_url=entry_image(entry, lambda value: _http_link(value, base)),
        source_name=truncate(source_name, 100),
        media=entry_media(entry, lambda value: _http_link(value, base)),
    )
