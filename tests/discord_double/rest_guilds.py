"""REST routes for channels, messages, guilds, roles and members (registered into rest.ROUTES on import)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .messages import CROSSPOSTED
from .models import ANNOUNCEMENT, Channel, Guild, Member, Perm, Role
from .rest import NO_CONTENT, ApiError, missing_permissions, route, unknown

if TYPE_CHECKING:
    from .recorder import RecordedRequest
    from .server import DiscordDouble


def _channel(d: DiscordDouble, channel_id: str) -> tuple[Guild | None, Channel]:
    found = d.find_channel(channel_id)
    if found is None:
        raise unknown("channel")
    return found


def _require(guild: Guild | None, channel: Channel | None, bits: int) -> None:
    if guild is None:
        return
    perms = guild.permissions_in(guild.me, channel) if channel is not None else guild.base_permissions(guild.me)
    if perms & bits != bits:
        raise missing_permissions()


def _message(d: DiscordDouble, channel_id: str, message_id: str) -> dict[str, Any]:
    message = d.messages.get(channel_id, message_id)
    if message is None:
        raise unknown("message")
    return message


# -- channels and messages -----------------------------------------------------------------------
@route("GET", "/channels/{channel_id}")
async def get_channel(d: DiscordDouble, req: RecordedRequest, channel_id: str) -> Any:
    return _channel(d, channel_id)[1].payload()


@route("GET", "/users/{user_id}")
async def get_user(d: DiscordDouble, req: RecordedRequest, user_id: str) -> Any:
    user = d.find_user(user_id)
    if user is None:
        raise unknown("user")
    return user.payload()


@route("POST", "/users/@me/channels")
async def open_dm(d: DiscordDouble, req: RecordedRequest) -> Any:
    user = d.find_user(str((req.json or {}).get("recipient_id")))
    if user is None:
        raise ApiError(400, 50033, "Invalid Recipient(s)")
    return d.dm_channel(user).payload()


@route("POST", "/channels/{channel_id}/messages")
async def create_message(d: DiscordDouble, req: RecordedRequest, channel_id: str) -> Any:
    guild, channel = _channel(d, channel_id)
    body = req.json or {}
    _require(guild, channel, Perm.VIEW_CHANNEL | Perm.SEND_MESSAGES | (Perm.ATTACH_FILES if req.files else 0))
    if not (body.get("content") or body.get("embeds") or body.get("components") or req.files
            or body.get("sticker_ids") or body.get("poll")):
        raise ApiError(400, 50006, "Cannot send an empty message")
    message, created = d.messages.create(channel.id, guild.id if guild else None, body, req.files)
    if not created:
        d.nonce_hits += 1
    return message


@route("GET", "/channels/{channel_id}/messages")
async def list_messages(d: DiscordDouble, req: RecordedRequest, channel_id: str) -> Any:
    guild, channel = _channel(d, channel_id)
    _require(guild, channel, Perm.VIEW_CHANNEL | Perm.READ_MESSAGE_HISTORY)
    messages = sorted(d.messages.in_channel(channel.id), key=lambda m: int(m["id"]), reverse=True)
    limit = max(1, min(100, int(req.query.get("limit", 50))))
    if "before" in req.query:
        messages = [m for m in messages if int(m["id"]) < int(req.query["before"])]
    if "after" in req.query:
        messages = [m for m in messages if int(m["id"]) > int(req.query["after"])][-limit:]
    if "around" in req.query:
        pivot = int(req.query["around"])
        messages = sorted(messages, key=lambda m: abs(int(m["id"]) - pivot))[:limit]
        messages.sort(key=lambda m: int(m["id"]), reverse=True)
    return messages[:limit]


@route("GET", "/channels/{channel_id}/messages/{message_id}")
async def get_message(d: DiscordDouble, req: RecordedRequest, channel_id: str, message_id: str) -> Any:
    guild, channel = _channel(d, channel_id)
    _require(guild, channel, Perm.VIEW_CHANNEL | Perm.READ_MESSAGE_HISTORY)
    return _message(d, channel.id, message_id)


@route("PATCH", "/channels/{channel_id}/messages/{message_id}")
async def edit_message(d: DiscordDouble, req: RecordedRequest, channel_id: str, message_id: str) -> Any:
    guild, channel = _channel(d, channel_id)
    _require(guild, channel, Perm.VIEW_CHANNEL)
    return d.messages.edit(_message(d, channel.id, message_id), req.json or {}, req.files)


@route("DELETE", "/channels/{channel_id}/messages/{message_id}")
async def delete_message(d: DiscordDouble, req: RecordedRequest, channel_id: str, message_id: str) -> Any:
    guild, channel = _channel(d, channel_id)
    _require(guild, channel, Perm.VIEW_CHANNEL)
    d.messages.delete(_message(d, channel.id, message_id))
    return NO_CONTENT


@route("POST", "/channels/{channel_id}/messages/{message_id}/crosspost")
async def crosspost(d: DiscordDouble, req: RecordedRequest, channel_id: str, message_id: str) -> Any:
    guild, channel = _channel(d, channel_id)
    message = _message(d, channel.id, message_id)
    if channel.type != ANNOUNCEMENT:
        raise ApiError(400, 50024, "Cannot execute action on this channel type")
    _require(guild, channel, Perm.VIEW_CHANNEL | Perm.SEND_MESSAGES)
    if message["flags"] & CROSSPOSTED:
        raise ApiError(400, 40033, "This message has already been crossposted.")
    message["flags"] |= CROSSPOSTED
    d.gateway.message_event("MESSAGE_UPDATE", message, guild.id if guild else None)
    d.changes.notify()
    return message


# -- guilds, roles, members ----------------------------------------------------------------------
def _guild(d: DiscordDouble, guild_id: str) -> Guild:
    guild = d.guilds.get(guild_id)
    if guild is None:
        raise unknown("guild")
    return guild


def _role(guild: Guild, role_id: str) -> Role:
    role = guild.roles.get(role_id)
    if role is None:
        raise unknown("role")
    return role


def _member(guild: Guild, user_id: str) -> Member:
    member = guild.members.get(user_id)
    if member is None:
        raise unknown("member")
    return member


def _manageable(guild: Guild, role: Role) -> None:
    """Discord lets the bot manage only roles below its highest role, and never @everyone or managed roles."""
    _require(guild, None, Perm.MANAGE_ROLES)
    if role.id == guild.id or role.managed or role.position >= guild.top_role_position(guild.me):
        raise missing_permissions()


@route("GET", "/guilds/{guild_id}")
async def get_guild(d: DiscordDouble, req: RecordedRequest, guild_id: str) -> Any:
    guild = _guild(d, guild_id)
    return {**guild.payload(), "approximate_member_count": len(guild.members), "approximate_presence_count": 0}


@route("GET", "/guilds/{guild_id}/channels")
async def get_guild_channels(d: DiscordDouble, req: RecordedRequest, guild_id: str) -> Any:
    return [c.payload() for c in _guild(d, guild_id).channels.values()]


@route("GET", "/guilds/{guild_id}/roles")
async def get_roles(d: DiscordDouble, req: RecordedRequest, guild_id: str) -> Any:
    return [r.payload() for r in _guild(d, guild_id).roles.values()]


@route("POST", "/guilds/{guild_id}/roles")
async def create_role(d: DiscordDouble, req: RecordedRequest, guild_id: str) -> Any:
    guild = _guild(d, guild_id)
    _require(guild, None, Perm.MANAGE_ROLES)
    body = req.json or {}
    permissions = int(body.get("permissions") or 0)
    if permissions & ~guild.base_permissions(guild.me):
        raise missing_permissions()  # a bot cannot grant bits it does not hold
    color = body.get("color") or (body.get("colors") or {}).get("primary_color") or 0
    role = guild.add_role(body.get("name") or "new role", permissions, color=color,
                          mentionable=bool(body.get("mentionable")), hoist=bool(body.get("hoist")))
    return role.payload()


@route("PATCH", "/guilds/{guild_id}/roles/{role_id}")
async def edit_role(d: DiscordDouble, req: RecordedRequest, guild_id: str, role_id: str) -> Any:
    guild = _guild(d, guild_id)
    role = _role(guild, role_id)
    _manageable(guild, role)
    body = req.json or {}
    for name in ("name", "color", "hoist", "mentionable"):
        if body.get(name) is not None:
            setattr(role, name, body[name])
    if body.get("permissions") is not None:
        role.permissions = int(body["permissions"])
    d.gateway.guild_event(guild, "GUILD_ROLE_UPDATE", {"guild_id": guild.id, "role": role.payload()})
    return role.payload()


@route("DELETE", "/guilds/{guild_id}/roles/{role_id}")
async def delete_role(d: DiscordDouble, req: RecordedRequest, guild_id: str, role_id: str) -> Any:
    guild = _guild(d, guild_id)
    role = _role(guild, role_id)
    _manageable(guild, role)
    del guild.roles[role.id]
    for member in guild.members.values():
        if role.id in member.roles:
            member.roles.remove(role.id)
    d.gateway.guild_event(guild, "GUILD_ROLE_DELETE", {"guild_id": guild.id, "role_id": role.id})
    return NO_CONTENT


@route("GET", "/guilds/{guild_id}/members")
async def list_members(d: DiscordDouble, req: RecordedRequest, guild_id: str) -> Any:
    members = sorted(_guild(d, guild_id).members.values(), key=lambda m: int(m.id))
    after = int(req.query.get("after", 0))
    limit = int(req.query.get("limit", 1))
    return [m.payload() for m in members if int(m.id) > after][:limit]


@route("GET", "/guilds/{guild_id}/members/{user_id}")
async def get_member(d: DiscordDouble, req: RecordedRequest, guild_id: str, user_id: str) -> Any:
    return _member(_guild(d, guild_id), user_id).payload()


async def _change_member_role(d: DiscordDouble, guild_id: str, user_id: str, role_id: str, add: bool) -> Any:
    guild = _guild(d, guild_id)
    member = _member(guild, user_id)
    role = _role(guild, role_id)
    _manageable(guild, role)
    if add and role.id not in member.roles:
        member.roles.append(role.id)
    elif not add and role.id in member.roles:
        member.roles.remove(role.id)
    d.gateway.guild_event(guild, "GUILD_MEMBER_UPDATE", {"guild_id": guild.id, **member.payload()},
                          member_event=True)
    return NO_CONTENT


@route("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
async def add_member_role(d: DiscordDouble, req: RecordedRequest, guild_id: str, user_id: str, role_id: str) -> Any:
    return await _change_member_role(d, guild_id, user_id, role_id, add=True)


@route("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
async def remove_member_role(d: DiscordDouble, req: RecordedRequest, guild_id: str, user_id: str,
                             role_id: str) -> Any:
    return await _change_member_role(d, guild_id, user_id, role_id, add=False)

