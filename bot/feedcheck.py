"""`fanbot check-feed`: fetch one feed with the bot's fetcher, parser and matcher, and show what matches."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Hashable, Iterable
from typing import TextIO

from .domain.catalogue import Catalogue
from .domain.feeds import ParsedFeed, parse_feed
from .domain.matcher import NameRule, StarMatcher
from .domain.urls import check_http_url
from .error_text import error_text
from .errors import BadLink, FeedError, FetchError
from .i18n import Catalogues
from .net.addresses import AddressPolicy
from .net.fetcher import Fetcher, FetchLimits, create_session
from .settings import Settings


def matcher_for(catalogue: Catalogue, names: list[str]) -> StarMatcher:
    """The whole catalogue, or the named stars: a catalogued name brings all her names and rules;
    any other name is matched as given."""
    if not names:
        return catalogue.matcher()
    entries: dict[Hashable, Iterable[str | NameRule]] = {}
    for name in names:
        known = catalogue.find(name)
        if known is not None:
            entries[known.name] = known.match_names()
        elif name.strip():
            entries[name.strip()] = (name.strip(),)
    return StarMatcher.build(entries.items())


async def fetch_and_parse(settings: Settings, url: str) -> ParsedFeed:
    url = check_http_url(url)
    session = create_session(AddressPolicy(allow_private=settings.feed_allow_private_networks))
    try:
        result = await Fetcher(session, FetchLimits(max_bytes=settings.feed_max_bytes)).fetch(url)
    finally:
        await session.close()
    return await asyncio.to_thread(parse_feed, result.body, url=result.final_url, content_type=result.content_type)


async def run_check(
    settings: Settings,
    url: str,
    star_names: list[str],
    as_json: bool,
    *,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    catalogue: Catalogue | None = None,
) -> int:
    matcher = matcher_for(catalogue or Catalogue.load(), star_names)
    try:
        feed = await fetch_and_parse(settings, url)
    except BadLink as exc:
        # The command line speaks English: the catalogue's source text, no Discord locale here.
        print(f"fanbot: {error_text(Catalogues.load().english, exc.code, exc.data)}", file=err)
        return 1
    except (FetchError, FeedError) as exc:
        print(f"fanbot: cannot read {url[:200]}: {exc}", file=err)
        return 1
    matched = 0
    for item in feed.items:
        stars = [str(s) for s in matcher.match(f"{item.title}\n{item.summary}")]
        matched += bool(stars)
        published = item.published.isoformat() if item.published else None
        if as_json:
            row = {"title": item.title, "link": item.link, "published": published, "stars": stars}
            print(json.dumps(row, ensure_ascii=False), file=out)
        else:
            print(f"{published or '(no date)':25}  {item.title}", file=out)
            print(f"{'':25}  {item.link or '(no link)'}", file=out)
            print(f"{'':25}  stars: {', '.join(stars) if stars else '-'}", file=out)
    if not as_json:
        title = feed.title or url
        print(f"{title}: {len(feed.items)} items, {matched} naming a star", file=out)
    return 0
