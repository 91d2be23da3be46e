"""A notice for a server's moderators, as data: the presentation layer writes it in the server's language."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Notice:
    """`code` says what happened (see bot/notice_text.py); `data` holds the details its sentence needs."""

    code: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChannelMention:
    """A channel shown as <#id> in a notice or an error."""

    channel_id: int


@dataclass(frozen=True, slots=True)
class UserMention:
    """A member shown as <@id> (never a ping: notices and errors allow no mentions)."""

    user_id: int


@dataclass(frozen=True, slots=True)
class RoleMention:
    """A role shown as <@&id> in a notice or an error (never a ping: those messages allow no mentions)."""

    role_id: int
