"""The kinds of automatic posts, each with a channel of its own (SPEC §6)."""

from __future__ import annotations

from enum import Enum


class ChannelKind(str, Enum):
    """A kind of automatic post; its value is what /config channel shows and the database stores."""

    news = "news"
    polls = "polls"
    media = "media"
    birthdays = "birthdays"
    modlog = "modlog"


CHANNEL_KINDS: tuple[str, ...] = tuple(kind.value for kind in ChannelKind)
