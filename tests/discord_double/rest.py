"""REST API v10 routes: identity, commands, interaction callbacks and webhooks, channels and messages, guilds."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from .interactions import APPLICATION_COMMAND, AUTOCOMPLETE, COMPONENT, MODAL_SUBMIT
from .messages import EPHEMERAL, LOADING
from .models import snowflake

if TYPE_CHECKING:
    from .recorder import RecordedRequest
    from .server import DiscordDouble


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def missing_permissions() -> ApiError:
    return ApiError(403, 50013, "Missing Permissions")


UNKNOWN = {
    "channel": (10003, "Unknown Channel"), "guild": (10004, "Unknown Guild"), "member": (10007, "Unknown Member"),
    "message": (10008, "Unknown Message"), "role": (10011, "Unknown Role"), "webhook": (10015, "Unknown Webhook"),
    "interaction": (10062, "Unknown interaction"), "user": (10013, "Unknown User"), "command": (10063, "Unknown application command"),
}


def unknown(what: str) -> ApiError:
    code, message = UNKNOWN[what]
    return ApiError(404, code, message)


Handler = Callable[..., Awaitable[Any]]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []
NO_CONTENT = object()


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    regex = re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")

    def register(handler: Handler) -> Handler:
        ROUTES.append((method, regex, handler))
        return handler
    return register


def match(method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
    for route_method, regex, handler in ROUTES:
        found = regex.match(path)
        if found and route_method == method:
            return handler, found.groupdict()
    return None


def needs_auth(path: str) -> bool:
    return not path.startswith(("/interactions/", "/webhooks/"))


# -- identity and gateway ------------------------------------------------------------------------
@route("GET", "/users/@me")
async def get_me(d: DiscordDouble, req: RecordedRequest) -> Any:
    return {**d.bot_user.payload(), "verified": True, "mfa_enabled": False, "locale": "en-US"}


@route("GET", "/oauth2/applications/@me")
async def get_application(d: DiscordDouble, req: RecordedRequest) -> Any:
    return {"id": d.application_id, "name": d.bot_user.username, "description": "", "icon": None,
            "bot_public": True, "bot_require_code_grant": False, "verify_key": "0" * 64, "flags": 0,
            "owner": d.owner_user.payload(), "team": None, "summary": "", "rpc_origins": [],
            "bot": d.bot_user.payload(), "interactions_endpoint_url": None, "tags": [],
            "redirect_uris": [], "approximate_guild_count": len(d.guilds)}


@route("GET", "/gateway")
async def get_gateway(d: DiscordDouble, req: RecordedRequest) -> Any:
    return {"url": d.gateway_url}


@route("GET", "/gateway/bot")
async def get_gateway_bot(d: DiscordDouble, req: RecordedRequest) -> Any:
    started = sum(1 for attempt in d.gateway.identify_log if attempt.accepted)
    return {"url": d.gateway_url, "shards": d.shards, "session_start_limit": {
        "total": 1000, "remaining": max(0, 1000 - started), "reset_after": 86_400_000 if started else 0,
        "max_concurrency": d.max_concurrency}}


# -- application commands ------------------------------------------------------------------------
def _check_app(d: DiscordDouble, app: str) -> None:
    if app != d.application_id:
        raise ApiError(403, 50001, "Missing Access")


def _scope(d: DiscordDouble, guild: str | None) -> dict[str, dict[str, Any]]:
    if guild is not None and guild not in d.guilds:
        raise unknown("guild")
    return d.commands.setdefault(guild, {})


# Discord's locales for localisations, and its rule for command and option names (localised ones too):
# https://discord.com/developers/docs/interactions/application-commands#localization and #application-command-naming
LOCALES = frozenset({
    "id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu", "nl", "no", "pl", "pt-BR",
    "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru", "uk", "hi", "th", "zh-CN", "ja", "zh-TW", "ko",
})
NAME_RULE = re.compile(r"^[-_'\w]{1,32}$")


def _check_localisations(item: dict[str, Any], *, names_are_commands: bool) -> None:
    """Raise 50035 as Discord does for an unknown locale, a bad localised name or an over-long description."""
    for key in ("name_localizations", "description_localizations"):
        for locale, text in (item.get(key) or {}).items():
            if locale not in LOCALES:
                raise ApiError(400, 50035, f"Invalid Form Body: {key}.{locale}: not a valid locale")
            if key == "description_localizations" and not 1 <= len(text) <= 100:
                raise ApiError(400, 50035, f"Invalid Form Body: {key}.{locale}: 1 to 100 characters")
            if key == "name_localizations":
                limit_ok = 1 <= len(text) <= (100 if not names_are_commands else 32)
                if not limit_ok or (names_are_commands and (not NAME_RULE.match(text) or text != text.lower())):
                    raise ApiError(400, 50035, f"Invalid Form Body: {key}.{locale}: {text!r} is not a valid name")
    for option in item.get("options") or []:
        _check_localisations(option, names_are_commands=True)
        for choice in option.get("choices") or []:
            _check_localisations(choice, names_are_commands=False)


def _store_command(d: DiscordDouble, guild: str | None, body: dict[str, Any],
                   old: dict[str, dict[str, Any]]) -> dict[str, Any]:
    previous = old.get(body["name"])
    command = {"type": 1, "description": "", "options": [], "default_member_permissions": None,
               "nsfw": False, **body, "id": previous["id"] if previous else snowflake(),
               "application_id": d.application_id, "version": snowflake()}
    if guild is not None:
        command["guild_id"] = guild
    return command


@route("GET", "/applications/{app}/commands")
@route("GET", "/applications/{app}/guilds/{guild}/commands")
async def get_commands(d: DiscordDouble, req: RecordedRequest, app: str, guild: str | None = None) -> Any:
    _check_app(d, app)
    return list(_scope(d, guild).values())


@route("PUT", "/applications/{app}/commands")
@route("PUT", "/applications/{app}/guilds/{guild}/commands")
async def put_commands(d: DiscordDouble, req: RecordedRequest, app: str, guild: str | None = None) -> Any:
    _check_app(d, app)
    old = _scope(d, guild)
    for command in req.json or []:
        _check_localisations(command, names_are_commands=True)
    new = {c["name"]: _store_command(d, guild, c, old) for c in req.json or []}
    d.commands[guild] = new
    d.sync_count += 1
    d.changes.notify()
    return list(new.values())


@route("POST", "/applications/{app}/commands")
@route("POST", "/applications/{app}/guilds/{guild}/commands")
async def post_command(d: DiscordDouble, req: RecordedRequest, app: str, guild: str | None = None) -> Any:
    _check_app(d, app)
    scope = _scope(d, guild)
    scope[req.json["name"]] = command = _store_command(d, guild, req.json, scope)
    return command


# -- interaction callbacks and webhooks ----------------------------------------------------------
@route("POST", "/interactions/{ix_id}/{token}/callback")
async def interaction_callback(d: DiscordDouble, req: RecordedRequest, ix_id: str, token: str) -> Any:
    handle = d.interactions.get(ix_id)
    if handle is None or handle.token != token:
        raise unknown("interaction")
    if handle.response is not None:
        raise ApiError(400, 40060, "Interaction has already been acknowledged.")
    if d.interaction_deadline is not None and d.now() - handle.sent_at > d.interaction_deadline:
        raise unknown("interaction")
    body = req.json or {}
    kind, data = body.get("type"), body.get("data") or {}
    ephemeral = bool(int(data.get("flags") or 0) & EPHEMERAL)
    source = handle.payload.get("message")
    message = None
    if kind in (4, 5) and handle.type in (APPLICATION_COMMAND, COMPONENT, MODAL_SUBMIT):
        content = data if kind == 4 else {"flags": data.get("flags")}
        message, _ = d.messages.create(
            handle.channel.id, handle.guild.id if handle.guild else None, content, req.files,
            message_type=20 if handle.type == APPLICATION_COMMAND else 0, ephemeral=ephemeral,
            extra={"webhook_id": d.application_id, "application_id": d.application_id,
                   "interaction_metadata": {"id": handle.id, "type": handle.type, "user": handle.user.payload(),
                                            "authorizing_integration_owners": {}}})
        if kind == 5:
            message["flags"] |= LOADING
    elif kind in (6, 7) and source is not None:
        message = d.messages.by_id.get(source["id"])
        if message is None:
            raise unknown("message")
        if kind == 7:
            d.messages.edit(message, data, req.files)
    elif kind == 8 and handle.type == AUTOCOMPLETE or kind == 9 and handle.type != MODAL_SUBMIT:
        pass
    else:
        raise ApiError(400, 50035, f"Invalid Form Body: callback type {kind} for interaction type {handle.type}")
    handle.response, handle.response_files = body, req.files
    handle.response_latency = d.now() - handle.sent_at
    handle.original_id = message["id"] if message is not None else None
    handle.responded.set()
    d.changes.notify()
    resource: dict[str, Any] = {"type": kind}
    if message is not None and kind != 6:
        resource["message"] = message
    return {"interaction": {"id": handle.id, "type": handle.type, "response_message_id": handle.original_id,
                            "response_message_loading": kind == 5, "response_message_ephemeral": ephemeral},
            "resource": resource}


def _webhook_handle(d: DiscordDouble, app: str, token: str) -> Any:
    handle = d.interactions_by_token.get(token)
    if app != d.application_id or handle is None or handle.response is None:
        raise unknown("webhook")
    return handle


def _webhook_message(d: DiscordDouble, handle: Any, message_id: str) -> dict[str, Any]:
    wanted = handle.original_id if message_id == "@original" else message_id
    if wanted is None or (wanted != handle.original_id and wanted not in handle.followup_ids):
        raise unknown("message")
    message = d.messages.by_id.get(wanted)
    if message is None:
        raise unknown("message")
    return message


@route("POST", "/webhooks/{app}/{token}")
async def execute_webhook(d: DiscordDouble, req: RecordedRequest, app: str, token: str) -> Any:
    handle = _webhook_handle(d, app, token)
    body = req.json or {}
    original = handle.original
    if handle.response_type == 5 and original is not None and original["flags"] & LOADING:
        # Discord's first follow-up after a deferred reply fills in the "thinking" message.
        message = d.messages.edit(original, {k: v for k, v in body.items() if k != "flags"}, req.files)
    else:
        ephemeral = bool(int(body.get("flags") or 0) & EPHEMERAL)
        message, _ = d.messages.create(handle.channel.id, handle.guild.id if handle.guild else None, body,
                                       req.files, ephemeral=ephemeral, extra={"webhook_id": d.application_id,
                                                                              "application_id": d.application_id})
    handle.followup_ids.append(message["id"])
    d.changes.notify()
    return message if req.query.get("wait") in ("1", "true", "True") else NO_CONTENT


@route("GET", "/webhooks/{app}/{token}/messages/{message_id}")
async def get_webhook_message(d: DiscordDouble, req: RecordedRequest, app: str, token: str, message_id: str) -> Any:
    return _webhook_message(d, _webhook_handle(d, app, token), message_id)


@route("PATCH", "/webhooks/{app}/{token}/messages/{message_id}")
async def edit_webhook_message(d: DiscordDouble, req: RecordedRequest, app: str, token: str, message_id: str) -> Any:
    message = _webhook_message(d, _webhook_handle(d, app, token), message_id)
    return d.messages.edit(message, req.json or {}, req.files)


@route("DELETE", "/webhooks/{app}/{token}/messages/{message_id}")
async def delete_webhook_message(d: DiscordDouble, req: RecordedRequest, app: str, token: str,
                                 message_id: str) -> Any:
    d.messages.delete(_webhook_message(d, _webhook_handle(d, app, token), message_id))
    return NO_CONTENT
