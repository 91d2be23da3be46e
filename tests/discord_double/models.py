"""The double's world: snowflakes, users, roles, channels, members and guilds, and their API payloads."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import DiscordDouble

DISCORD_EPOCH_MS = 1420070400000
_increment = itertools.count()


def snowflake() -> str:
    """A fresh id carrying the current time, as Discord sends it (a string)."""
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return str((ms << 22) | (1 << 17) | (next(_increment) & 0xFFF))


def shard_of(guild_id: str | int, shard_count: int) -> int:
    """The shard a guild's events go to: Discord's `(guild_id >> 22) % num_shards` (Gateway docs, Sharding)."""
    return (int(guild_id) >> 22) % shard_count


def snowflake_on_shard(shard_id: int, shard_count: int) -> str:
    """A fresh id whose timestamp puts it on that shard (at most shard_count - 1 ms earlier than now)."""
    fresh = int(snowflake())
    ms, low = fresh >> 22, fresh & ((1 << 22) - 1)
    ms -= (ms - shard_id) % shard_count
    return str((ms << 22) | low)


def iso_now() -> str:
    return datetime.now(timezone.utc).isoformat()


class Perm:
    """Permission bits the double itself checks or hands out by default."""

    CREATE_INSTANT_INVITE = 1 << 0
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CHANGE_NICKNAME = 1 << 26
    MANAGE_ROLES = 1 << 28
    USE_APPLICATION_COMMANDS = 1 << 31
    ALL = (1 << 51) - 1

    EVERYONE_DEFAULT = (
        CREATE_INSTANT_INVITE | ADD_REACTIONS | VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES
        | READ_MESSAGE_HISTORY | USE_EXTERNAL_EMOJIS | CHANGE_NICKNAME | USE_APPLICATION_COMMANDS
    )
    BOT_DEFAULT = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES | READ_MESSAGE_HISTORY | MANAGE_ROLES


@dataclass
class User:
    id: str
    username: str
    bot: bool = False
    global_name: str | None = None
    # The client language Discord puts in each interaction this user starts (never in user objects).
    locale: str = "en-US"

    def payload(self) -> dict[str, Any]:
        data = {
            "id": self.id, "username": self.username, "discriminator": "0", "global_name": self.global_name,
            "avatar": None, "public_flags": 0, "flags": 0, "banner": None, "accent_color": None,
            "avatar_decoration_data": None,
        }
        if self.bot:
            data["bot"] = True
        return data

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass
class Role:
    id: str
    guild_id: str
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False

    def payload(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "permissions": str(self.permissions), "position": self.position,
            "color": self.color, "colors": {"primary_color": self.color, "secondary_color": None,
                                            "tertiary_color": None},
            "hoist": self.hoist, "managed": self.managed, "mentionable": self.mentionable, "icon": None,
            "unicode_emoji": None, "flags": 0,
        }

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"


@dataclass
class Overwrite:
    id: str
    type: int  # 0 role, 1 member
    allow: int = 0
    deny: int = 0

    def payload(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "allow": str(self.allow), "deny": str(self.deny)}


TEXT, DM, ANNOUNCEMENT = 0, 1, 5


@dataclass
class Channel:
    id: str
    name: str
    type: int = TEXT
    guild_id: str | None = None
    position: int = 0
    topic: str | None = None
    overwrites: dict[str, Overwrite] = field(default_factory=dict)
    recipients: list[User] = field(default_factory=list)  # DM channels only

    def payload(self) -> dict[str, Any]:
        if self.type == DM:
            return {"id": self.id, "type": DM, "last_message_id": None, "flags": 0,
                    "recipients": [u.payload() for u in self.recipients]}
        return {
            "id": self.id, "type": self.type, "guild_id": self.guild_id, "name": self.name,
            "position": self.position, "parent_id": None, "topic": self.topic, "nsfw": False,
            "last_message_id": None, "rate_limit_per_user": 0, "flags": 0,
            "permission_overwrites": [o.payload() for o in self.overwrites.values()],
        }

    def set_overwrite(self, target: Role | Member, *, allow: int = 0, deny: int = 0) -> None:
        """Allow or deny bits for a role or member here (before the bot connects, or then call refresh)."""
        target_type = 0 if isinstance(target, Role) else 1
        self.overwrites[target.id] = Overwrite(target.id, target_type, allow, deny)

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"


@dataclass
class Member:
    user: User
    guild_id: str
    roles: list[str] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso_now)

    @property
    def id(self) -> str:
        return self.user.id

    @property
    def mention(self) -> str:
        return self.user.mention

    def payload(self, *, with_user: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": list(self.roles), "nick": self.nick, "avatar": None, "banner": None, "joined_at": self.joined_at,
            "premium_since": None, "deaf": False, "mute": False, "flags": 0, "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        return data


class Guild:
    """A guild in the double; tests build the server with its add_* methods."""

    def __init__(self, double: DiscordDouble, name: str, *, owner_name: str, bot_permissions: int,
                 guild_id: str | None = None) -> None:
        self.double = double
        self.id = guild_id or snowflake()
        self.name = name
        # Discord's "Server Primary Language" (Community servers); sent as preferred_locale and guild_locale.
        self.preferred_locale = "en-US"
        self.roles: dict[str, Role] = {}
        self.channels: dict[str, Channel] = {}
        self.members: dict[str, Member] = {}
        self.roles[self.id] = Role(self.id, self.id, "@everyone", Perm.EVERYONE_DEFAULT, position=0)
        self.owner = self.add_member(owner_name)
        self.owner_id = self.owner.id
        bot_role = self.add_role(double.bot_user.username, permissions=bot_permissions, managed=True)
        self.bot_role = bot_role
        self.me = Member(double.bot_user, self.id, roles=[bot_role.id])
        self.members[self.me.id] = self.me

    @property
    def everyone(self) -> Role:
        return self.roles[self.id]

    # -- building the server -------------------------------------------------------------------
    def add_role(self, name: str, permissions: int = 0, *, position: int | None = None, color: int = 0,
                 mentionable: bool = False, hoist: bool = False, managed: bool = False) -> Role:
        """A new role; like Discord it goes just above @everyone unless a position is given."""
        position = 1 if position is None else position
        for other in self.roles.values():
            if other.id != self.id and other.position >= position:
                other.position += 1
        role = Role(snowflake(), self.id, name, int(permissions), position, color, hoist, mentionable, managed)
        self.roles[role.id] = role
        self.double.gateway.guild_event(self, "GUILD_ROLE_CREATE", {"guild_id": self.id, "role": role.payload()})
        return role

    def add_text_channel(self, name: str, *, announcement: bool = False, topic: str | None = None) -> Channel:
        channel = Channel(snowflake(), name, ANNOUNCEMENT if announcement else TEXT, self.id,
                          position=len(self.channels), topic=topic)
        self.channels[channel.id] = channel
        self.double.gateway.guild_event(self, "CHANNEL_CREATE", channel.payload())
        return channel

    def delete_channel(self, channel: Channel) -> None:
        """The channel disappears: later requests to it get 404 Unknown Channel."""
        del self.channels[channel.id]
        self.double.gateway.guild_event(self, "CHANNEL_DELETE", channel.payload())

    def add_member(self, name: str, *, permissions: int | None = None, roles: list[Role] | None = None,
                   bot: bool = False, locale: str = "en-US") -> Member:
        """A member; `permissions` gives them a role of their own carrying exactly those bits; `locale` is
        their Discord client's language, sent in the interactions they start."""
        member = Member(User(snowflake(), name, bot=bot, locale=locale), self.id, roles=[r.id for r in roles or []])
        if permissions is not None:
            member.roles.append(self.add_role(f"{name} permissions", int(permissions)).id)
        self.members[member.id] = member
        self.double.gateway.guild_event(self, "GUILD_MEMBER_ADD", {"guild_id": self.id, **member.payload()},
                                        member_event=True)
        return member

    def refresh(self) -> None:
        """Resend this guild to connected bots (GUILD_UPDATE-like) after editing objects directly."""
        for channel in self.channels.values():
            self.double.gateway.guild_event(self, "CHANNEL_UPDATE", channel.payload())
        for role in self.roles.values():
            self.double.gateway.guild_event(self, "GUILD_ROLE_UPDATE", {"guild_id": self.id, "role": role.payload()})

    # -- permissions ---------------------------------------------------------------------------
    def base_permissions(self, member: Member) -> int:
        if member.id == self.owner_id:
            return Perm.ALL
        perms = self.everyone.permissions
        for role_id in member.roles:
            role = self.roles.get(role_id)
            if role is not None:
                perms |= role.permissions
        return Perm.ALL if perms & Perm.ADMINISTRATOR else perms

    def permissions_in(self, member: Member, channel: Channel | None) -> int:
        perms = self.base_permissions(member)
        if perms & Perm.ADMINISTRATOR or channel is None:
            return perms
        everyone = channel.overwrites.get(self.id)
        if everyone:
            perms = (perms & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for role_id in member.roles:
            ow = channel.overwrites.get(role_id)
            if ow:
                allow, deny = allow | ow.allow, deny | ow.deny
        perms = (perms & ~deny) | allow
        own = channel.overwrites.get(member.id)
        if own:
            perms = (perms & ~own.deny) | own.allow
        return perms if perms & Perm.VIEW_CHANNEL else 0

    def top_role_position(self, member: Member) -> int:
        if member.id == self.owner_id:
            return 1 << 30
        return max((self.roles[r].position for r in member.roles if r in self.roles), default=0)

    def set_preferred_locale(self, locale: str) -> None:
        """A moderator changes the server's primary language: Discord tells connected bots with GUILD_UPDATE."""
        self.preferred_locale = locale
        self.double.gateway.guild_event(self, "GUILD_UPDATE", self.payload())

    # -- payloads ------------------------------------------------------------------------------
    def payload(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "owner_id": self.owner_id, "icon": None, "splash": None,
            "discovery_splash": None, "banner": None, "description": None, "features": [],
            "roles": [r.payload() for r in self.roles.values()], "emojis": [], "stickers": [],
            "verification_level": 0, "default_message_notifications": 0, "explicit_content_filter": 0,
            "mfa_level": 0, "nsfw_level": 0, "premium_tier": 0, "premium_subscription_count": 0,
            "preferred_locale": self.preferred_locale, "afk_channel_id": None, "afk_timeout": 300, "system_channel_id": None,
            "system_channel_flags": 0, "rules_channel_id": None, "public_updates_channel_id": None,
            "vanity_url_code": None, "application_id": None, "max_members": 500000,
            "premium_progress_bar_enabled": False, "widget_enabled": False,
        }

    def create_payload(self, *, with_members: bool) -> dict[str, Any]:
        """GUILD_CREATE: without the members intent Discord sends only the bot's own member."""
        members = self.members.values() if with_members else [self.me]
        return {
            **self.payload(), "unavailable": False, "large": False, "member_count": len(self.members),
            "joined_at": self.me.joined_at, "channels": [c.payload() for c in self.channels.values()],
            "members": [m.payload() for m in members], "threads": [], "voice_states": [], "presences": [],
            "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
        }
