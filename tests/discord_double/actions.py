"""What a test's users do: run slash commands, type into autocomplete, press buttons, pick from selects."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    COMPONENT,
    MODAL_SUBMIT,
    DoubleUsageError,
    InteractionHandle,
    all_custom_ids,
    base_payload,
    command_data,
    find_component,
)
from .models import Channel, Guild, Member, User

if TYPE_CHECKING:
    from .server import DiscordDouble


def locale_of(who: Member | User) -> str:
    return (who.user if isinstance(who, Member) else who).locale


class Actions:
    async def invoke(self: DiscordDouble, guild: Guild | None, who: Member | User, channel: Channel | None,
                     path: str, /, **options: Any) -> InteractionHandle:
        """Run "/path" ("stars info", "config channel") as `who`; guild None means a DM with the bot.

        Options are typed from the synced schema: pass str/int/float/bool, Channel/Role/Member objects (or ids)
        and attachments from attach_file(). Raises DoubleUsageError for what Discord's UI would not allow."""
        return await self._command(APPLICATION_COMMAND, guild, who, channel, path, options, None, locale_of(who))

    async def invoke_localized(self: DiscordDouble, locale: str, guild: Guild | None, who: Member | User,
                               channel: Channel | None, path: str, /, **options: Any) -> InteractionHandle:
        return await self._command(APPLICATION_COMMAND, guild, who, channel, path, options, None, locale)

    async def autocomplete(self: DiscordDouble, guild: Guild | None, who: Member | User, channel: Channel | None,
                           path: str, /, focused: str, value: Any = "", timeout: float = 5.0,
                           **options: Any) -> list[dict[str, Any]]:
        """The choices the bot offers while `who` types `value` into option `focused`."""
        handle = await self._command(AUTOCOMPLETE, guild, who, channel, path, {**options, focused: value},
                                     focused, locale_of(who))
        await handle.wait_response(timeout)
        if handle.response_type != 8:
            raise AssertionError(f"autocomplete answered with callback type {handle.response_type}")
        return handle.choices or []

    async def click(self: DiscordDouble, message: dict[str, Any] | str, custom_id: str, who: Member | User,
                    /) -> InteractionHandle:
        """Press the button `custom_id` on a message the bot sent (a message dict or its id)."""
        return await self._component(message, custom_id, who, None)

    async def select(self: DiscordDouble, message: dict[str, Any] | str, custom_id: str, values: list[str],
                     who: Member | User, /) -> InteractionHandle:
        """Pick `values` in the select menu `custom_id` on a message the bot sent."""
        return await self._component(message, custom_id, who, [str(v) for v in values])

    async def submit_modal(self: DiscordDouble, opened_by: InteractionHandle, values: dict[str, str],
                           /) -> InteractionHandle:
        """Fill in the modal the bot opened (callback type 9) with {text input custom_id: value}."""
        if opened_by.response_type != 9:
            raise DoubleUsageError(f"{opened_by.describe()} did not open a modal")
        modal = opened_by.data
        rows = [{"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]} for k, v in values.items()]
        who: Member | User = opened_by.user
        if opened_by.guild is not None:
            who = opened_by.guild.members[opened_by.user.id]
        payload = base_payload(self, MODAL_SUBMIT, opened_by.guild, opened_by.channel, who, locale_of(who))
        payload["data"] = {"custom_id": modal["custom_id"], "components": rows}
        if opened_by.payload.get("message"):
            payload["message"] = opened_by.payload["message"]
        return self._send_interaction(payload, opened_by.guild, opened_by.channel, who)

    # -- internals ---------------------------------------------------------------------------
    async def _command(self: DiscordDouble, kind: int, guild: Guild | None, who: Member | User,
                       channel: Channel | None, path: str, options: dict[str, Any], focused: str | None,
                       locale: str) -> InteractionHandle:
        if guild is not None and channel is None:
            raise DoubleUsageError("a guild command needs the channel it is run in")
        if guild is None:
            channel = self.dm_channel(who.user if isinstance(who, Member) else who)
        assert channel is not None
        payload = base_payload(self, kind, guild, channel, who, locale)
        payload["data"] = command_data(self, guild, who, path, options, focused)
        return self._send_interaction(payload, guild, channel, who)

    async def _component(self: DiscordDouble, message: dict[str, Any] | str, custom_id: str, who: Member | User,
                         values: list[str] | None) -> InteractionHandle:
        message_id = message if isinstance(message, str) else message["id"]
        stored = self.messages.by_id.get(message_id)
        if stored is None:
            raise DoubleUsageError(f"message {message_id} is not (or no longer) in the double")
        component = find_component(stored["components"], custom_id)
        if component is None:
            raise DoubleUsageError(f"no component {custom_id!r} on message {message_id}; "
                                   f"has {all_custom_ids(stored['components'])}")
        if component.get("disabled"):
            raise DoubleUsageError(f"component {custom_id!r} is disabled")
        if (values is None) != (component["type"] == 2):
            raise DoubleUsageError(f"component {custom_id!r} has type {component['type']}: use "
                                   f"{'click' if component['type'] == 2 else 'select'}()")
        found = self.find_channel(stored["channel_id"])
        if found is None:
            raise DoubleUsageError(f"the channel of message {message_id} is gone")
        guild, channel = found
        payload = base_payload(self, COMPONENT, guild, channel, who, locale_of(who))
        payload["message"] = stored
        payload["data"] = {"custom_id": custom_id, "component_type": component["type"]}
        if values is not None:
            payload["data"]["values"] = values
        return self._send_interaction(payload, guild, channel, who)

    def _send_interaction(self: DiscordDouble, payload: dict[str, Any], guild: Guild | None, channel: Channel,
                          who: Member | User) -> InteractionHandle:
        user = who.user if isinstance(who, Member) else who
        handle = InteractionHandle(self, payload, guild, channel, user)
        self.interactions[handle.id] = handle
        self.interactions_by_token[handle.token] = handle
        self.gateway.session_for(guild.id if guild is not None else None).dispatch("INTERACTION_CREATE", payload)
        return handle
