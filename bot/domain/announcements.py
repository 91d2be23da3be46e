"""What a news announcement says and how many may go out now: pure data and decisions, no Discord."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .discord_text import neutralise, truncate

PER_MINUTE = 5  # SPEC §3: at most 5 announcements per channel per minute
WINDOW = timedelta(seconds=60)
DIGEST_MAX = 20  # titles one digest lists; the rest wait for the next one
TITLE_LIMIT = 256
SUMMARY_LIMIT = 300
FIELD_LIMIT = 1024
DESCRIPTION_LIMIT = 4096
CONTENT_LIMIT = 2000
MAX_LINK = 2000
_UNSAFE_IN_LINK = re.compile(r"[\s\x00-\x1f\x7f<>\"\\]")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class MatchedStar:
    """A star a story names, with her notify role and Hangul name when the server has them."""

    star_id: int
    name: str
    role_id: int | None = None  # her notify role, when the server has one
    hangul: str | None = None


NameOf = Callable[[MatchedStar], str]  # which of her names a post uses (the server's language decides)


def display_name(star: MatchedStar) -> str:
    return star.name


@dataclass(frozen=True, slots=True)
class Story:
    """A recorded story as the announcer needs it; every text field came from a feed and is untrusted."""

    title: str
    link: str | None = None
    source_name: str | None = None
    summary: str | None = None
    image_url: str | None = None
    published_at: datetime | None = None
    discovered_at: datetime | None = None
    stars: tuple[MatchedStar, ...] = ()
    platform: str | None = None  # set when it is one of her own posts (her account's feed brought it)

    @property
    def role_ids(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(s.role_id for s in self.stars if s.role_id))


@dataclass(frozen=True, slots=True)
class Post:
    """One announcement, rendered: every text is inert and within Discord's limits."""

    title: str
    url: str | None
    description: str | None
    source: str | None
    timestamp: datetime | None
    image_url: str | None
    stars: str | None
    content: str  # role mentions only: never text from the feed
    role_ids: tuple[int, ...]
    platform: str | None = None  # her own post: announced as hers, by `posted_by`
    posted_by: str | None = None


@dataclass(frozen=True, slots=True)
class Digest:
    """Several stories in one message, for the overflow of a minute's budget."""

    count: int  # stories listed; the title ("3 more stories") is the presentation's
    description: str
    content: str
    role_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class DeliveryPlan:
    """How many due stories to send alone now, and how many to gather into one digest."""

    send: int  # how many of the due stories (oldest first) to post on their own now
    digest: int  # how many of the next ones to gather into one digest now


def _one_line(text: str) -> str:
    """Feed text is stored as plain text (ingestion strips markup); only its layout is flattened here."""
    return _SPACE.sub(" ", text).strip()


def http_link(url: str | None) -> str | None:
    """The link if it is a plain absolute http(s) URL safe to put in an embed or a masked link."""
    if not url or len(url) > MAX_LINK or _UNSAFE_IN_LINK.search(url):
        return None
    if not re.match(r"^https?://[^/?#\s]+", url, re.IGNORECASE):
        return None
    # Parentheses would end a markdown link target early.
    return url.replace("(", "%28").replace(")", "%29")


def role_mentions(role_ids: tuple[int, ...] | list[int]) -> tuple[str, tuple[int, ...]]:
    """Content that pings exactly these roles, and the roles that fit in one message."""
    kept: list[int] = []
    length = 0
    for role_id in dict.fromkeys(role_ids):
        piece = len(f"<@&{role_id}> ")
        if length + piece > CONTENT_LIMIT:
            break
        kept.append(int(role_id))
        length += piece
    return " ".join(f"<@&{r}>" for r in kept), tuple(kept)


def _star_names(stars: tuple[MatchedStar, ...], limit: int, name_of: NameOf) -> str | None:
    if not stars:
        return None
    return truncate(", ".join(neutralise(name_of(s)) for s in stars), limit)


def render_post(story: Story, *, allowed_roles: set[int] | None = None, untitled: str = "Untitled story",
                name_of: NameOf = display_name) -> Post:
    """The embed data and pings for one story. `allowed_roles`, when given, drops roles that no longer exist;
    `untitled` and `name_of` come from the server's language."""
    title = truncate(neutralise(_one_line(story.title)) or untitled, TITLE_LIMIT)
    summary = _one_line(story.summary or "")
    description = truncate(neutralise(summary), SUMMARY_LIMIT) if summary else None
    source = truncate(neutralise(_one_line(story.source_name or "")), FIELD_LIMIT) or None
    roles = [r for r in story.role_ids if allowed_roles is None or r in allowed_roles]
    content, kept = role_mentions(roles)
    own = story.platform is not None and bool(story.stars)
    return Post(
        title=title,
        url=http_link(story.link),
        description=description,
        source=source,
        timestamp=story.published_at or story.discovered_at,
        image_url=http_link(story.image_url),
        stars=_star_names(story.stars, FIELD_LIMIT, name_of),
        content=content,
        role_ids=kept,
        platform=story.platform if own else None,
        posted_by=truncate(neutralise(name_of(story.stars[0])), 100) if own else None,
    )


def render_digest(stories: list[Story], *, allowed_roles: set[int] | None = None, untitled: str = "Untitled story",
                  name_of: NameOf = display_name) -> Digest:
    """One message listing the stories that did not fit in the minute's budget.

    It pings the union of their stars' roles: a fan who opted in to a star should hear about her
    story even when it arrived in a flood, and one digest a minute pings each role at most once."""
    lines: list[str] = []
    used = 0
    for story in stories[:DIGEST_MAX]:
        title = truncate(neutralise(_one_line(story.title)) or untitled, 150)
        link = http_link(story.link)
        line = f"• [{title}]({link})" if link else f"• {title}"
        names = _star_names(story.stars, 80, name_of)
        if names:
            line += f" · {names}"
        if used + len(line) + 1 > DESCRIPTION_LIMIT - 100:
            break
        lines.append(line)
        used += len(line) + 1
    roles = [r for s in stories[: len(lines)] for r in s.role_ids if allowed_roles is None or r in allowed_roles]
    content, kept = role_mentions(roles)
    return Digest(
        count=len(lines),
        description="\n".join(lines),
        content=content,
        role_ids=kept,
    )


def digest_capacity(stories: list[Story]) -> int:
    """How many of these stories one digest can list (by count and by the description limit)."""
    return len(render_digest(stories).description.splitlines())


def plan_delivery(due: int, sent_in_window: int, digests_in_window: int, *, per_minute: int = PER_MINUTE,
                  digest_max: int = DIGEST_MAX) -> DeliveryPlan:
    """Send what the minute's budget allows; gather the overflow into one digest unless one went out
    in the last minute (then the overflow waits, still pending, for the next minute)."""
    budget = max(0, per_minute - sent_in_window)
    send = min(due, budget)
    overflow = due - send
    digest = min(overflow, digest_max) if overflow and digests_in_window == 0 else 0
    return DeliveryPlan(send, digest)


def retry_delay(attempts: int) -> timedelta:
    """Back-off after a server error: 30 s, 1 min, 2 min ... up to 30 min; never give up (never lost)."""
    return timedelta(seconds=min(30 * 2 ** max(0, attempts - 1), 1800))
