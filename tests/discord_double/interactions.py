"""Interactions: payloads typed from the synced command schema, and the handle that collects the bot's answers."""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import TYPE_CHECKING, Any

from .messages import EPHEMERAL, LOADING
from .models import Channel, Guild, Member, Perm, Role, User, snowflake

if TYPE_CHECKING:
    from .server import DiscordDouble

APPLICATION_COMMAND, COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 3, 4, 5, 6, 7, 8, 9, 10, 11
ATTACHMENT_SIZE_LIMIT = 25 * 1024 * 1024


class DoubleUsageError(Exception):
    """The test asked for something Discord would not let a user do (unknown command, missing option...)."""


class InteractionHandle:
    """One interaction the double sent; fills in as the bot answers."""

    def __init__(self, double: DiscordDouble, payload: dict[str, Any], guild: Guild | None,
                 channel: Channel, user: User) -> None:
        self.double = double
        self.payload = payload
        self.id: str = payload["id"]
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.guild, self.channel, self.user = guild, channel, user
        self.sent_at = time.monotonic()
        self.response: dict[str, Any] | None = None  # the initial callback body: {"type": ..., "data": ...}
        self.response_files: list = []
        self.response_latency: float | None = None
        self.original_id: str | None = None
        self.followup_ids: list[str] = []
        # Set by the callback route, so a waiter wakes for its own answer only (under a burst of
        # thousands of clicks, re-checking every waiter on every change swamped the event loop).
        self.responded = asyncio.Event()

    # -- what the bot answered ----------------------------------------------------------------
    @property
    def response_type(self) -> int | None:
        return None if self.response is None else self.response.get("type")

    @property
    def data(self) -> dict[str, Any]:
        return (self.response or {}).get("data") or {}

    @property
    def original(self) -> dict[str, Any] | None:
        """The @original message as it is now (after edits), or None (not sent, deleted)."""
        return self.double.messages.by_id.get(self.original_id) if self.original_id else None

    @property
    def followups(self) -> list[dict[str, Any]]:
        return [m for i in self.followup_ids if (m := self.double.messages.by_id.get(i)) is not None]

    @property
    def content(self) -> str | None:
        message = self.original
        return message["content"] if message else self.data.get("content")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        message = self.original
        return message["embeds"] if message else self.data.get("embeds") or []

    @property
    def components(self) -> list[dict[str, Any]]:
        message = self.original
        return message["components"] if message else self.data.get("components") or []

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.data.get("flags") or 0) & EPHEMERAL)

    @property
    def deferred(self) -> bool:
        return self.response_type in (5, 6)

    @property
    def choices(self) -> list[dict[str, Any]] | None:
        return self.data.get("choices") if self.response_type == 8 else None

    @property
    def all_text(self) -> str:
        """Every text the user saw (original and follow-ups, contents and embed texts), for loose asserts."""
        parts: list[str] = []
        for message in ([self.original] if self.original else [self.data]) + self.followups:
            parts.append(message.get("content") or "")
            for embed in message.get("embeds") or []:
                parts += [embed.get("title") or "", embed.get("description") or ""]
                parts += [f"{f.get('name')} {f.get('value')}" for f in embed.get("fields") or []]
        return "\n".join(p for p in parts if p)

    # -- waiting -------------------------------------------------------------------------------
    async def wait_response(self, timeout: float = 5.0) -> dict[str, Any]:
        try:
            await asyncio.wait_for(self.responded.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"discord double: timed out after {timeout}s waiting for a response to {self.describe()}") from None
        assert self.response is not None
        return self.response

    async def wait_followups(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        return await self.double.changes.wait_for(
            lambda: self.followups if len(self.followups) >= count else None, timeout,
            f"{count} follow-up(s) to {self.describe()}")

    async def wait_done(self, timeout: float = 5.0) -> dict[str, Any]:
        """The initial response, and for a deferred message the edit that fills it in."""
        await self.wait_response(timeout)

        def filled() -> bool:
            if self.response_type != 5:
                return True
            original = self.original
            return original is None or not original["flags"] & LOADING or bool(self.followup_ids)
        await self.double.changes.wait_for(filled, timeout, f"the deferred answer to {self.describe()}")
        return self.response or {}

    def describe(self) -> str:
        data = self.payload.get("data") or {}
        return f"interaction {self.id} ({data.get('name') or data.get('custom_id')})"

    def __repr__(self) -> str:
        return f"<InteractionHandle {self.describe()} response_type={self.response_type}>"


# -- payload builders ------------------------------------------------------------------------------
def base_payload(double: DiscordDouble, kind: int, guild: Guild | None, channel: Channel,
                 who: Member | User, locale: str) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": snowflake(), "application_id": double.application_id, "type": kind,
        "token": "ixtok-" + secrets.token_urlsafe(24), "version": 1, "locale": locale,
        "entitlements": [], "entitlement_sku_ids": [], "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        "channel_id": channel.id,
    }
    if guild is None:
        user = who.user if isinstance(who, Member) else who
        payload.update(user=user.payload(), context=1, channel=channel.payload(),
                       app_permissions=str(Perm.EVERYONE_DEFAULT),
                       authorizing_integration_owners={"0": "0"})
        return payload
    if not isinstance(who, Member):
        raise DoubleUsageError("a guild interaction needs a Member of that guild")
    perms = guild.permissions_in(who, channel)
    payload.update(
        guild_id=guild.id, guild_locale=guild.preferred_locale,
        guild={"id": guild.id, "locale": guild.preferred_locale, "features": []},
        member={**who.payload(), "permissions": str(perms)}, context=0,
        channel={**channel.payload(), "permissions": str(perms)},
        app_permissions=str(guild.permissions_in(guild.me, channel)),
        authorizing_integration_owners={"0": guild.id},
    )
    return payload


def find_command(double: DiscordDouble, guild: Guild | None, name: str) -> tuple[dict[str, Any], bool]:
    """(schema, is_guild_command) of a synced chat-input command."""
    if guild is not None and name in double.commands.get(guild.id, {}):
        return double.commands[guild.id][name], True
    if name in double.commands.get(None, {}):
        return double.commands[None][name], False
    scope = f"guild {guild.name} or globally" if guild else "globally"
    raise DoubleUsageError(f"/{name} is not synced {scope}; synced: {double.synced_names()}")


def check_visible(command: dict[str, Any], guild: Guild | None, who: Member | User) -> None:
    """Discord hides commands a user cannot use; the double refuses to invoke them."""
    contexts = command.get("contexts")
    if guild is None and (command.get("dm_permission") is False or (contexts is not None and 1 not in contexts)):
        raise DoubleUsageError(f"/{command['name']} is not available in DMs")
    required = command.get("default_member_permissions")
    if guild is not None and required not in (None, "") and isinstance(who, Member):
        have = guild.base_permissions(who)
        if int(required) & ~have and not have & Perm.ADMINISTRATOR:
            raise DoubleUsageError(f"/{command['name']} is hidden from {who.user.username} "
                                   f"(needs permissions {required})")


def command_data(double: DiscordDouble, guild: Guild | None, who: Member | User, path: str,
                 values: dict[str, Any], focused: str | None = None) -> dict[str, Any]:
    parts = path.strip().lstrip("/").split()
    command, is_guild = find_command(double, guild, parts[0])
    if double.enforce_command_visibility:
        check_visible(command, guild, who)
    chain: list[dict[str, Any]] = []
    schema = command.get("options") or []
    for part in parts[1:]:
        sub = next((o for o in schema if o["name"] == part and o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)), None)
        if sub is None:
            raise DoubleUsageError(f"/{path}: no subcommand {part!r} (have {[o['name'] for o in schema]})")
        chain.append(sub)
        schema = sub.get("options") or []
    if any(o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in schema):
        raise DoubleUsageError(f"/{path} is a group; name a subcommand")
    resolved: dict[str, dict[str, Any]] = {}
    leaf = [_option(guild, who, _schema_option(schema, name, path), value, resolved, name == focused)
            for name, value in values.items()]
    missing = [o["name"] for o in schema if o.get("required") and o["name"] not in values]
    if missing and focused is None:
        raise DoubleUsageError(f"/{path}: missing required option(s) {missing}")
    options = leaf
    for sub in reversed(chain):
        options = [{"name": sub["name"], "type": sub["type"], "options": options}]
    data: dict[str, Any] = {"id": command["id"], "name": command["name"], "type": 1, "options": options}
    if resolved:
        data["resolved"] = resolved
    if is_guild and guild is not None:
        data["guild_id"] = guild.id
    return data


def _schema_option(schema: list[dict[str, Any]], name: str, path: str) -> dict[str, Any]:
    for option in schema:
        if option["name"] == name:
            return option
    raise DoubleUsageError(f"/{path} has no option {name!r} (has {[o['name'] for o in schema]})")


def _option(guild: Guild | None, who: Member | User, schema: dict[str, Any], value: Any,
            resolved: dict[str, dict[str, Any]], focused: bool) -> dict[str, Any]:
    kind = schema["type"]
    option: dict[str, Any] = {"name": schema["name"], "type": kind}
    if focused:
        option.update(value=value, focused=True)
        return option
    if kind == STRING:
        value = str(value)
    elif kind == INTEGER:
        value = int(value)
    elif kind == NUMBER:
        value = float(value)
    elif kind == BOOLEAN:
        value = bool(value)
    elif kind == ATTACHMENT:
        if not isinstance(value, dict) or "id" not in value:
            raise DoubleUsageError(f"option {schema['name']!r}: pass an attachment from double.attach_file()")
        resolved.setdefault("attachments", {})[value["id"]] = value
        value = value["id"]
    else:
        value = _resolve_entity(guild, who, schema, value, resolved)
    choices = schema.get("choices")
    if choices and value not in [c["value"] for c in choices]:
        raise DoubleUsageError(f"option {schema['name']!r}: {value!r} is not one of the choices {choices}")
    option["value"] = value
    return option


def _resolve_entity(guild: Guild | None, who: Member | User, schema: dict[str, Any], value: Any,
                    resolved: dict[str, dict[str, Any]]) -> str:
    kind, name = schema["type"], schema["name"]
    if guild is None:
        if isinstance(value, (User, Member)) and kind in (USER, MENTIONABLE):
            user = value.user if isinstance(value, Member) else value
            resolved.setdefault("users", {})[user.id] = user.payload()
            return user.id
        raise DoubleUsageError(f"option {name!r}: channels and roles need a guild interaction")
    target = _lookup(guild, value)
    if isinstance(target, Channel) and kind == CHANNEL:
        types = schema.get("channel_types")
        if types and target.type not in types:
            raise DoubleUsageError(f"option {name!r}: channel type {target.type} not in {types}")
        perms = guild.permissions_in(who, target) if isinstance(who, Member) else 0
        resolved.setdefault("channels", {})[target.id] = {
            "id": target.id, "name": target.name, "type": target.type, "permissions": str(perms),
            "parent_id": None, "guild_id": guild.id, "nsfw": False, "position": target.position,
            "topic": target.topic, "flags": 0, "last_message_id": None, "rate_limit_per_user": 0}
        return target.id
    if isinstance(target, Role) and kind in (ROLE, MENTIONABLE):
        resolved.setdefault("roles", {})[target.id] = target.payload()
        return target.id
    if isinstance(target, Member) and kind in (USER, MENTIONABLE):
        resolved.setdefault("users", {})[target.id] = target.user.payload()
        resolved.setdefault("members", {})[target.id] = {
            **target.payload(with_user=False), "permissions": str(guild.base_permissions(target))}
        return target.id
    raise DoubleUsageError(f"option {name!r} (type {kind}) cannot take {value!r}")


def _lookup(guild: Guild, value: Any) -> Channel | Role | Member | None:
    key = str(getattr(value, "id", value))
    return guild.channels.get(key) or guild.roles.get(key) or guild.members.get(key)


def find_component(components: list[dict[str, Any]], custom_id: str) -> dict[str, Any] | None:
    for component in components:
        if component.get("custom_id") == custom_id:
            return component
        inner = find_component(component.get("components") or [], custom_id)
        if inner is None and isinstance(component.get("accessory"), dict):
            inner = find_component([component["accessory"]], custom_id)
        if inner is not None:
            return inner
    return None


def all_custom_ids(components: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for component in components:
        if component.get("custom_id"):
            found.append(component["custom_id"])
        found += all_custom_ids(component.get("components") or [])
    return found
