"""DiscordDouble: the aiohttp server, its state, failure injection and the waits tests use."""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any, Callable

from aiohttp import web

from . import rest_guilds  # noqa: F401  (registers the channel, guild and role routes)
from .actions import Actions
from .gateway import Gateway
from .interactions import InteractionHandle
from .messages import MessageStore, read_body
from .models import DM, Channel, Guild, Member, Perm, User, snowflake, snowflake_on_shard
from .recorder import Changes, RecordedRequest, Recorder
from .rest import NO_CONTENT, ApiError, match, needs_auth

log = logging.getLogger(__name__)
API_PREFIX = "/api/v10"
FAILURE_CODES = {403: (50013, "Missing Permissions"), 404: (10003, "Unknown Channel"),
                 500: (0, "500: Internal Server Error")}


@dataclass
class RateLimitRule:
    method: str | None
    path: str
    retry_after: float
    remaining: int
    is_global: bool


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    if body is NO_CONTENT:
        return web.Response(status=204, headers=headers)
    # Exactly "application/json": discord.py treats "application/json; charset=utf-8" as text.
    return web.Response(status=status, body=json.dumps(body).encode(),
                        headers={"Content-Type": "application/json", **(headers or {})})


class DiscordDouble(Actions):
    """A local Discord (REST v10 + Gateway) that an unmodified discord.py client can log in to."""

    def __init__(self, *, bot_name: str = "fanbot", token: str = "double-token", application_id: str | None = None,
                 interaction_deadline: float | None = 3.0, shards: int = 1, max_concurrency: int = 1,
                 identify_interval: float | None = None) -> None:
        if shards < 1 or max_concurrency < 1:
            raise ValueError("shards and max_concurrency must be at least 1")
        self.token = token
        self.shards = shards  # what GET /gateway/bot recommends
        self.max_concurrency = max_concurrency
        # Discord spaces IDENTIFYs 5 s per bucket; None leaves them unlimited (most tests restart bots quickly).
        self.identify_interval = identify_interval
        self.bot_user = User(application_id or snowflake(), bot_name, bot=True)
        self.application_id = self.bot_user.id
        self.owner_user = User(snowflake(), "app-owner")
        self.interaction_deadline = interaction_deadline  # seconds to the first response; None: no limit
        self.enforce_command_visibility = True
        self.guilds: dict[str, Guild] = {}
        self.dm_channels: dict[str, Channel] = {}
        self.commands: dict[str | None, dict[str, dict[str, Any]]] = {}  # guild id (None: global) -> name -> schema
        self.sync_count = 0
        self.nonce_hits = 0
        self.interactions: dict[str, InteractionHandle] = {}
        self.interactions_by_token: dict[str, InteractionHandle] = {}
        self.errors: list[BaseException] = []  # the double's own bugs (answered 400 and recorded here)
        self.changes = Changes()
        self.recorder = Recorder()
        self.messages = MessageStore(self)
        self.gateway = Gateway(self)
        self._channel_failures: dict[str, tuple[int, frozenset[str]]] = {}
        self._rate_limits: list[RateLimitRule] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> DiscordDouble:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/gateway-resume", self.gateway.handle)
        app.router.add_get("/attachments/{channel}/{file_id}/{filename}", self._serve_file)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._api)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.host, self.port = host, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordDouble:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway-resume"

    @staticmethod
    def now() -> float:
        return time.monotonic()

    # -- the world -----------------------------------------------------------------------------
    def add_guild(self, name: str, *, owner: str = "owner", bot_permissions: int = Perm.BOT_DEFAULT,
                  shard: tuple[int, int] | None = None) -> Guild:
        """A guild with @everyone, an owner and the bot (its role carries bot_permissions); bots see it at once.
        `shard=(i, n)` gives it an id on shard i of n."""
        guild_id = snowflake_on_shard(*shard) if shard is not None else None
        guild = Guild(self, name, owner_name=owner, bot_permissions=bot_permissions, guild_id=guild_id)
        self.guilds[guild.id] = guild
        self.gateway.join_guild(guild)
        self.changes.notify()
        return guild

    def known_users(self) -> list[User]:
        users = {self.bot_user.id: self.bot_user}
        for guild in self.guilds.values():
            users.update({m.id: m.user for m in guild.members.values()})
        return list(users.values())

    def find_user(self, user_id: str) -> User | None:
        if user_id == self.bot_user.id:
            return self.bot_user
        for guild in self.guilds.values():
            member = guild.members.get(user_id)
            if member is not None:
                return member.user
        return None

    def find_channel(self, channel_id: Any) -> tuple[Guild | None, Channel] | None:
        key = str(getattr(channel_id, "id", channel_id))
        for guild in self.guilds.values():
            if key in guild.channels:
                return guild, guild.channels[key]
        for channel in self.dm_channels.values():
            if channel.id == key:
                return None, channel
        return None

    def dm_channel(self, user: User | Member) -> Channel:
        user = user.user if isinstance(user, Member) else user
        if user.id not in self.dm_channels:
            self.dm_channels[user.id] = Channel(snowflake(), "", DM, recipients=[user])
        return self.dm_channels[user.id]

    def attach_file(self, filename: str, content_type: str, data: bytes) -> dict[str, Any]:
        """An uploaded attachment (as a user would attach it to a command option); its url serves the bytes."""
        return self.messages.store_file(filename, content_type, data, ephemeral=True)

    def attachment_data(self, attachment: dict[str, Any] | str) -> bytes:
        url = attachment if isinstance(attachment, str) else attachment["url"]
        file_id = url.rstrip("/").split("/")[-2]
        return self.messages.files[file_id].data

    def synced_names(self) -> dict[str, list[str]]:
        return {("global" if g is None else g): sorted(c) for g, c in self.commands.items()}

    # -- records -------------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        return self.recorder.requests

    def find_requests(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """Recorded requests; `path` is a regex over the path below the API base (e.g. r"/channels/\\d+/messages")."""
        return self.recorder.find(method, path)

    @property
    def identifies(self) -> list[dict[str, Any]]:
        return self.gateway.identifies

    def channel_messages(self, channel: Any) -> list[dict[str, Any]]:
        """Messages now in the channel (edits applied, deletions removed), oldest first."""
        return self.messages.in_channel(str(getattr(channel, "id", channel)))

    # -- waiting -------------------------------------------------------------------------------
    async def wait_for_message(self, channel: Any, predicate: Callable[[dict[str, Any]], bool] | None = None,
                               timeout: float = 5.0) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next((m for m in self.channel_messages(channel) if predicate is None or predicate(m)), None)
        return await self.changes.wait_for(found, timeout, f"a message in channel {getattr(channel, 'id', channel)}")

    async def wait_for(self, check: Callable[[], Any], timeout: float = 5.0, what: str = "a condition") -> Any:
        """Wait until check() returns something truthy (re-checked after every request and gateway event)."""
        return await self.changes.wait_for(check, timeout, what)

    async def wait_for_identify(self, count: int = 1, timeout: float = 10.0) -> dict[str, Any]:
        ids = self.gateway.identifies
        await self.changes.wait_for(lambda: len(ids) >= count, timeout, f"IDENTIFY #{count}")
        return ids[count - 1]

    async def wait_ready(self, count: int = 1, timeout: float = 10.0) -> None:
        """Until session #count got READY and every GUILD_CREATE onto its socket."""
        def sent() -> bool:
            sessions = self.gateway.sessions
            if len(sessions) < count:
                return False
            connection = sessions[count - 1].connection
            return connection is not None and connection.queue.empty()
        await self.changes.wait_for(sent, timeout, f"READY of session #{count}")

    async def wait_for_resume(self, count: int = 1, timeout: float = 10.0) -> dict[str, Any]:
        resumes = self.gateway.resumes
        await self.changes.wait_for(lambda: len(resumes) >= count, timeout, f"RESUME #{count}")
        return resumes[count - 1]

    async def drop_gateway(self) -> None:
        await self.gateway.drop()

    # -- failure injection ---------------------------------------------------------------------
    def fail_channel(self, channel: Any, status: int | None = 403, methods: tuple[str, ...] = ("POST",)) -> None:
        """Answer later requests to /channels/{id}/... with status (403 Missing Permissions, 404 Unknown Channel,
        500...); status None clears. 5xx makes discord.py retry for ~25 s, so prefer 4xx."""
        key = str(getattr(channel, "id", channel))
        if status is None:
            self._channel_failures.pop(key, None)
        else:
            self._channel_failures[key] = (status, frozenset(m.upper() for m in methods))

    def clear_channel_failure(self, channel: Any) -> None:
        self.fail_channel(channel, None)

    def rate_limit(self, path: str, *, method: str | None = None, retry_after: float = 0.05, times: int = 1,
                   is_global: bool = False) -> None:
        """The next `times` matching requests get 429 with retry_after (path: regex below the API base)."""
        self._rate_limits.append(RateLimitRule(method and method.upper(), path, retry_after, times, is_global))

    def _injected(self, rec: RecordedRequest) -> tuple[int, Any, dict[str, str]] | None:
        for rule in self._rate_limits:
            if rule.remaining > 0 and rec.matches(rule.method, rule.path):
                rule.remaining -= 1
                return 429, {"message": "You are being rate limited.", "retry_after": rule.retry_after,
                             "global": rule.is_global}, {"Via": "1.1 google", "Retry-After": str(rule.retry_after),
                                                         "X-RateLimit-Scope": "user"}
        found = re.match(r"/channels/(\d+)(/|$)", rec.path)
        if found and found.group(1) in self._channel_failures:
            status, methods = self._channel_failures[found.group(1)]
            if rec.method in methods:
                code, message = FAILURE_CODES.get(status, (0, f"{status}: injected failure"))
                return status, {"message": message, "code": code}, {}
        return None

    # -- HTTP ----------------------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        rec = RecordedRequest(request.method, path, dict(request.query), dict(request.headers))
        self.recorder.add(rec)
        headers: dict[str, str] = {}
        try:
            rec.json, rec.files = await read_body(request)
            injected = self._injected(rec)
            if injected is not None:
                status, result, headers = injected
            else:
                status, result = await self._route(rec)
        except ApiError as error:
            status, result = error.status, {"message": error.message, "code": error.code}
        except Exception as error:  # a bug in the double: answer 4xx so discord.py does not retry for 25 s
            log.exception("discord double failed on %s %s", request.method, path)
            self.errors.append(error)
            status, result = 400, {"message": f"discord double error: {error!r}", "code": 0}
        rec.status, rec.response = (204 if result is NO_CONTENT else status), result
        self.changes.notify()
        return _json_response(status, result, headers)

    async def _route(self, rec: RecordedRequest) -> tuple[int, Any]:
        if needs_auth(rec.path) and rec.headers.get("Authorization") != f"Bot {self.token}":
            raise ApiError(401, 0, "401: Unauthorized")
        found = match(rec.method, rec.path)
        if found is None:
            raise ApiError(404, 0, "404: Not Found")
        handler, params = found
        return 200, await handler(self, rec, **params)

    async def _serve_file(self, request: web.Request) -> web.Response:
        self.recorder.add(RecordedRequest("GET", request.path, dict(request.query), dict(request.headers),
                                          status=200))
        stored = self.messages.files.get(request.match_info["file_id"])
        if stored is None:
            return web.Response(status=404, text="not found")
        return web.Response(body=stored.data, headers={"Content-Type": stored.content_type})
