"""How stories read in replies (/news latest, /stars info): linked headlines kept whole within Discord's limits."""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain.discord_text import neutralise, truncate
from bot.i18n import Lang
from bot.storage.news import NewsStory


def whole_lines(lines: Iterable[str], limit: int) -> str:
    """As many whole lines as fit in limit characters: a line cut short could end inside a masked link
    and show as raw markdown. A first line too long on its own is shortened instead."""
    kept: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + (1 if kept else 0) > limit:
            if not kept:
                kept.append(truncate(line, limit))
            break
        size += len(line) + (1 if kept else 0)
        kept.append(line)
    return "\n".join(kept)


def story_line(story: NewsStory, lang: Lang) -> str:
    """One story as a line of Discord text: the headline (linked, made inert), source and time."""
    title = neutralise(truncate(story.title, 200))
    if story.link:
        # A masked link's target ends at ")"; percent-encode it so a hostile link cannot break out.
        target = story.link.replace(")", "%29").replace("(", "%28").replace(" ", "%20")
        if len(target) > 500:
            pass  # too long to be worth the characters; the headline stands alone
        elif "://" in title:
            # Discord will not render a masked link whose text holds a URL; link beside it instead.
            word = lang._("link")
            title = f"{title} ([{word}]({target}))"
        else:
            title = f"[{title}]({target})"
    when = story.published_at or story.discovered_at
    source = f" — {neutralise(story.source_name[:80])}" if story.source_name else ""
    return f"• {title}{source} <t:{int(when.timestamp())}:R>"


def story_lines(stories: Iterable[NewsStory], limit: int, lang: Lang) -> str:
    return whole_lines((story_line(s, lang) for s in stories), limit)
