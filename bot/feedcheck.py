"""`fanbot check-feed`: fetch one feed with the bot's fetcher, parser and matcher, and show what matches."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Hashable, Iterable
from typing import TextIO

from .domain.catalogue import Catalogue
from .domain.feeds import ParsedFeed, parse_feed
from .domain.filters import StoryFilter, parse_phrases
from .domain.matcher import Explanation, NameRule, StarMatcher
from .domain.text import name_key
from .domain.urls import check_http_url
from .error_text import error_text
from .errors import BadLink, FeedError, FetchError, UserError
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
    explain: bool = False,
    include: str | None = None,
    exclude: str | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    catalogue: Catalogue | None = None,
    i18n: Catalogues | None = None,
) -> int:
    english = (i18n or Catalogues.load()).english  # the command line speaks the catalogue's source text
    try:
        story_filter = StoryFilter(parse_phrases(include, which="include"), parse_phrases(exclude, which="exclude"))
    except UserError as exc:
        print(f"fanbot: {error_text(english, exc.code, exc.data)}", file=err)
        return 2
    matcher = matcher_for(catalogue or Catalogue.load(), star_names)
    try:
        feed = await fetch_and_parse(settings, url)
    except BadLink as exc:
        # The command line speaks English: the catalogue's source text, no Discord locale here.
        print(f"fanbot: {error_text(english, exc.code, exc.data)}", file=err)
        return 1
    except (FetchError, FeedError) as exc:
        print(f"fanbot: cannot read {url[:200]}: {exc}", file=err)
        return 1
    matched = announced = 0
    for item in feed.items:
        text = f"{item.title}\n{item.summary}"
        # explain() decides exactly as match() does; it also keeps the names that did not count.
        reasons = matcher.explain(text) if explain else []
        stars = [str(r.star) for r in reasons if r.matched] if explain else [str(s) for s in matcher.match(text)]
        matched += bool(stars)
        found_in, found_out = story_filter.explain(text) if story_filter.active else (None, None)
        # What the bot would do with this item on a subscription with this filter.
        passes = bool(stars) and story_filter.allows(text)
        announced += passes
        published = item.published.isoformat() if item.published else None
        if as_json:
            row = {"title": item.title, "link": item.link, "published": published, "stars": stars}
            if explain:
                row["explain"] = [_reason_json(r) for r in reasons]
            if story_filter.active:
                row["filter"] = {"announced": passes, "included_by": found_in, "excluded_by": found_out}
            print(json.dumps(row, ensure_ascii=False), file=out)
        else:
            print(f"{published or '(no date)':25}  {item.title}", file=out)
            print(f"{'':25}  {item.link or '(no link)'}", file=out)
            print(f"{'':25}  stars: {', '.join(stars) if stars else '-'}", file=out)
            for r in reasons:
                print(f"{'':25}    {_reason_line(r)}", file=out)
            if story_filter.active and stars:
                print(f"{'':25}  filter: {_filter_line(story_filter, found_in, found_out)}", file=out)
    if not as_json:
        title = feed.title or url
        summary = f"{title}: {len(feed.items)} items, {matched} naming a star"
        if story_filter.active:
            summary += f", {announced} passing the filter"
        print(summary, file=out)
    return 0


def _filter_line(story_filter: StoryFilter, found_in: str | None, found_out: str | None) -> str:
    if found_out is not None:
        return f"kept out by '{found_out}'"
    if story_filter.include and found_in is None:
        return "kept out: none of the words to include"
    return f"announced (has '{found_in}')" if found_in else "announced"


def _reason_json(r: Explanation) -> dict[str, object]:
    return {"star": str(r.star), "matched": r.matched, "name": r.name, "written": r.written, "how": r.how,
            "decided_by": list(r.decided_by), "reason": r.reason}


def _reason_line(r: Explanation) -> str:
    """"IU: not announced: 'IU' refuted by purdue" - what a moderator needs to see why."""
    verdict = "matched" if r.matched else "not announced"
    spelled = f"'{r.written}'" + ("" if name_key(r.written) == name_key(r.name) else f" for '{r.name}'")
    words = f" by {', '.join(r.decided_by)}" if r.decided_by else ""
    return f"{r.star}: {verdict}: {spelled}, {r.reason}{words}"
