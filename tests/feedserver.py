"""A local RSS server for news tests: feeds whose items a test changes, ETag/304, failures, recorded requests."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web


@dataclass
class Item:
    title: str
    link: str | None = None
    guid: str | None = None
    summary: str = ""
    published: datetime | None = None
    source: str | None = None  # an aggregator's <source>: the publisher's name
    enclosure: tuple[str, str, int] | None = None  # (url, type, length), as RSSHub gives a post's video


@dataclass
class Feed:
    title: str = "Local news"
    items: list[Item] = field(default_factory=list)
    status: int = 200  # anything else: answer with this status and no feed
    body: bytes | None = None  # served as is instead of the generated RSS
    content_type: str = "application/rss+xml; charset=utf-8"
    conditional: bool = True  # answer 304 when If-None-Match matches
    redirect: str | None = None  # answer 302 to this address
    delay: float = 0.0  # seconds to wait before answering (a slow server)


def rss(feed: Feed) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>',
        f"<title>{escape(feed.title)}</title><link>http://news.example/</link>",
    ]
    for item in feed.items:
        parts.append("<item>")
        parts.append(f"<title>{escape(item.title)}</title>")
        if item.link:
            parts.append(f"<link>{escape(item.link)}</link>")
        if item.guid:
            parts.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
        if item.summary:
            parts.append(f"<description>{escape(item.summary)}</description>")
        if item.published:
            parts.append(f"<pubDate>{format_datetime(item.published)}</pubDate>")
        if item.source:
            parts.append(f'<source url="https://publisher.example">{escape(item.source)}</source>')
        if item.enclosure:
            url, kind, length = item.enclosure
            parts.append(f'<enclosure url="{escape(url)}" type="{escape(kind)}" length="{length}"/>')
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


class FeedServer:
    def __init__(self) -> None:
        self.feeds: dict[str, Feed] = {}
        self.files: dict[str, tuple[bytes, str]] = {}  # other paths served as is: (body, content type)
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> "FeedServer":
        app = web.Application()
        app.router.add_get("/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def feed(self, path: str, *items: Item, **options: Any) -> Feed:
        """Create or replace the feed at path; returns it so the test can change it later."""
        self.feeds[path.lstrip("/")] = Feed(items=list(items), **options)
        return self.feeds[path.lstrip("/")]

    def hits(self, path: str) -> list[dict[str, str]]:
        return [headers for p, headers in self.requests if p == path.lstrip("/")]

    async def wait_for_request(self, path: str) -> None:
        """Until a request for `path` has arrived (and is, for a feed with a delay, being held)."""
        while not self.hits(path):
            self._arrived.clear()
            await self._arrived.wait()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        self.requests.append((path, dict(request.headers)))
        self._arrived.set()
        feed = self.feeds.get(path)
        if feed is None and path in self.files:
            body, content_type = self.files[path]
            return web.Response(body=body, headers={"Content-Type": content_type})
        if feed is None:
            return web.Response(status=404, text="no such feed")
        if feed.delay:
            await asyncio.sleep(feed.delay)
        if feed.redirect:
            raise web.HTTPFound(feed.redirect)
        if feed.status != 200:
            return web.Response(status=feed.status, text="failing on purpose")
        body = feed.body if feed.body is not None else rss(feed)
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if feed.conditional and request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        headers = {"ETag": etag} if feed.conditional else {}
        return web.Response(body=body, headers={**headers, "Content-Type": feed.content_type})


def rsshub_settings(feeds: FeedServer) -> dict[str, Any]:
    """Settings overrides that make this server the bot's RSSHub (its /instagram/user/... paths)."""
    from bot.domain.socials import default_templates

    base = feeds.url("").rstrip("/")
    return {"rsshub_base": base, "social_feed_templates": tuple(default_templates(base).items())}
