"""The Gateway websocket: HELLO, heartbeats, IDENTIFY/READY/GUILD_CREATE, RESUME with replay, and event dispatch."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .models import shard_of

if TYPE_CHECKING:
    from .models import Guild
    from .server import DiscordDouble

log = logging.getLogger(__name__)

DISPATCH, HEARTBEAT, IDENTIFY, RESUME, RECONNECT, REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = (
    0, 1, 2, 6, 7, 8, 9, 10, 11)
INTENT_GUILDS, INTENT_MEMBERS, INTENT_GUILD_MESSAGES = 1 << 0, 1 << 1, 1 << 9
HEARTBEAT_INTERVAL_MS = 41250
REPLAY_LIMIT = 2000
CLOSE_INVALID_SHARD = 4010


@dataclass
class Connection:
    ws: web.WebSocketResponse
    path: str
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)


@dataclass(frozen=True)
class IdentifyAttempt:
    """One IDENTIFY with a good token: when (monotonic), for which shard, and whether its bucket allowed it."""

    time: float
    shard: tuple[int, int]
    accepted: bool


def _valid_shard(raw: Any) -> bool:
    if raw is None:
        return True
    if not isinstance(raw, (list, tuple)) or len(raw) != 2 or not all(isinstance(v, int) for v in raw):
        return False
    shard_id, count = raw
    return count >= 1 and 0 <= shard_id < count


@dataclass
class Session:
    """One identified bot session; it outlives a dropped socket so that RESUME can replay missed events."""

    id: str
    identify: dict[str, Any]
    seq: int = 0
    connection: Connection | None = None
    ended: bool = False  # superseded by a later IDENTIFY while disconnected: nothing more is sent to it
    replay: list[dict[str, Any]] = field(default_factory=list)
    guild_ids: set[str] = field(default_factory=set)

    @property
    def intents(self) -> int:
        return int(self.identify.get("intents", 0))

    @property
    def shard(self) -> tuple[int, int]:
        """[shard_id, num_shards] from IDENTIFY; a session without one gets every guild, as shard [0, 1]."""
        shard_id, count = self.identify.get("shard") or (0, 1)
        return int(shard_id), int(count)

    def owns(self, guild_id: str) -> bool:
        shard_id, count = self.shard
        return shard_of(guild_id, count) == shard_id

    def dispatch(self, event: str, data: Any) -> None:
        self.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": self.seq, "d": data}
        self.replay.append(frame)
        del self.replay[:-REPLAY_LIMIT]
        if self.connection is not None:
            self.connection.queue.put_nowait(frame)


class Gateway:
    def __init__(self, double: DiscordDouble) -> None:
        self.double = double
        self.sessions: list[Session] = []
        self.identifies: list[dict[str, Any]] = []  # IDENTIFY payloads, token masked
        self.resumes: list[dict[str, Any]] = []  # {"session_id", "seq", "path"}
        self.heartbeats = 0
        self.connections: list[Connection] = []
        self.identify_log: list[IdentifyAttempt] = []
        self._bucket_last: dict[int, float] = {}  # rate_limit_key -> time of its last accepted IDENTIFY

    # -- sending -------------------------------------------------------------------------------
    @property
    def active_sessions(self) -> list[Session]:
        return [s for s in self.sessions if not s.ended]

    def current_session(self) -> Session:
        """The newest session that has not ended (replayed to if it is mid-resume)."""
        active = self.active_sessions
        if not active:
            raise RuntimeError("discord double: no bot is connected to the gateway")
        return active[-1]

    def session_for(self, guild_id: str | None) -> Session:
        """The session an interaction goes to: the newest one on the guild's shard, preferring one whose socket
        is open. DMs go to shard 0, as Discord sends them (Gateway docs, Sharding)."""
        owners = [s for s in self.active_sessions if (s.shard[0] == 0 if guild_id is None else s.owns(guild_id))]
        if not owners:
            where = "DMs" if guild_id is None else f"guild {guild_id}"
            raise RuntimeError(f"discord double: no connected session owns {where} (check SHARD_IDS)")
        connected = [s for s in owners if s.connection is not None]
        return (connected or owners)[-1]

    def guild_event(self, guild: Guild, event: str, data: Any, *, member_event: bool = False) -> None:
        if guild.id not in self.double.guilds:
            return  # still being built
        for session in self.active_sessions:
            if guild.id not in session.guild_ids:
                continue
            if member_event:
                is_me = data.get("user", {}).get("id") == self.double.bot_user.id
                if not (session.intents & INTENT_MEMBERS or is_me):
                    continue
            elif not session.intents & INTENT_GUILDS:
                continue
            session.dispatch(event, data)
        self.double.changes.notify()

    def message_event(self, event: str, data: dict[str, Any], guild_id: str | None) -> None:
        for session in self.active_sessions:
            if guild_id is None and session.shard[0] == 0:
                session.dispatch(event, data)
            elif guild_id in session.guild_ids and session.intents & INTENT_GUILD_MESSAGES:
                session.dispatch(event, data)

    def join_guild(self, guild: Guild) -> None:
        for session in self.active_sessions:
            if session.owns(guild.id):
                self._send_guild(session, guild)

    def _send_guild(self, session: Session, guild: Guild) -> None:
        session.guild_ids.add(guild.id)
        session.dispatch("GUILD_CREATE", guild.create_payload(with_members=bool(session.intents & INTENT_MEMBERS)))

    async def drop(self, code: int = 4000) -> None:
        """Close every socket abnormally; discord.py reconnects to resume_gateway_url and sends RESUME."""
        for connection in list(self.connections):
            await connection.ws.close(code=code, message=b"dropped by the discord double")

    def send_reconnect(self) -> None:
        for session in self.active_sessions:
            if session.connection is not None:
                session.connection.queue.put_nowait({"op": RECONNECT, "d": None})

    async def close_all(self) -> None:
        for connection in list(self.connections):
            await connection.ws.close(code=1001, message=b"discord double stopping")

    # -- the websocket -------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(timeout=2.0, max_msg_size=0, autoping=True)
        await ws.prepare(request)
        connection = Connection(ws, request.path)
        self.connections.append(connection)
        await ws.send_str(json.dumps({"op": HELLO, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}}))
        writer = asyncio.create_task(self._write(connection))
        session: Session | None = None
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                session = self._receive(connection, frame, session) or session
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            self.connections.remove(connection)
            if session is not None and session.connection is connection:
                # discord.py's own close() ends up sending 4000, so a closed socket leaves the session
                # resumable, as on Discord; a later IDENTIFY ends it (see _identify).
                session.connection = None
            self.double.changes.notify()
        return ws

    async def _write(self, connection: Connection) -> None:
        while True:
            frame = await connection.queue.get()
            try:
                await connection.ws.send_str(json.dumps(frame))
            except ConnectionError:
                return

    def _receive(self, connection: Connection, frame: dict[str, Any], session: Session | None) -> Session | None:
        op, data = frame.get("op"), frame.get("d")
        if op == HEARTBEAT:
            self.heartbeats += 1
            connection.queue.put_nowait({"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            return self._identify(connection, data)
        elif op == RESUME:
            return self._resume(connection, data)
        elif op == REQUEST_MEMBERS and session is not None:
            self._members_chunk(session, data)
        return None

    def _identify(self, connection: Connection, data: dict[str, Any]) -> Session | None:
        self.identifies.append({**data, "token": "<masked>"})
        if data.get("token") != self.double.token:
            connection.queue.put_nowait({"op": INVALID_SESSION, "d": False})
            self.double.changes.notify()
            return None
        if not _valid_shard(data.get("shard")):
            # Discord closes with 4010 "Invalid shard" (Gateway docs, close event codes).
            asyncio.get_running_loop().create_task(
                connection.ws.close(code=CLOSE_INVALID_SHARD, message=b"Invalid shard"))
            return None
        session = Session(secrets.token_hex(16), data)
        if not self._bucket_allows(session.shard):
            connection.queue.put_nowait({"op": INVALID_SESSION, "d": False})
            self.double.changes.notify()
            return None
        for older in self.sessions:
            if older.connection is None and older.shard == session.shard:
                older.ended = True  # a restart of this shard took over; nothing more goes to the old one
        self.sessions.append(session)
        session.connection = connection
        double = self.double
        session.dispatch("READY", {
            "v": 10, "user": {**double.bot_user.payload(), "verified": True, "mfa_enabled": False},
            "guilds": [{"id": g, "unavailable": True} for g in double.guilds if session.owns(g)],
            "session_id": session.id, "session_type": "normal",
            "resume_gateway_url": double.resume_gateway_url, "shard": list(session.shard),
            "application": {"id": double.application_id, "flags": 0},
            "private_channels": [], "relationships": [], "presences": [], "guild_join_requests": [],
            "geo_ordered_rtc_regions": [], "user_settings": {}, "_trace": ["discord-double"],
        })
        for guild in double.guilds.values():
            if session.owns(guild.id):
                self._send_guild(session, guild)
        double.changes.notify()
        return session

    def _bucket_allows(self, shard: tuple[int, int]) -> bool:
        """Discord lets one IDENTIFY per rate_limit_key = shard_id % max_concurrency through every 5 s and
        answers an earlier one with op 9 (Gateway docs, Identifying and Max Concurrency). The spacing is
        the double's `identify_interval` (None: not enforced) so that tests stay fast."""
        now, interval = self.double.now(), self.double.identify_interval
        key = shard[0] % self.double.max_concurrency
        last = self._bucket_last.get(key)
        accepted = interval is None or last is None or now - last >= interval
        self.identify_log.append(IdentifyAttempt(now, shard, accepted))
        if accepted:
            self._bucket_last[key] = now
        return accepted

    def _resume(self, connection: Connection, data: dict[str, Any]) -> Session | None:
        self.resumes.append({"session_id": data.get("session_id"), "seq": data.get("seq"), "path": connection.path})
        session = next((s for s in self.sessions if s.id == data.get("session_id") and not s.ended), None)
        if session is None or data.get("token") != self.double.token:
            connection.queue.put_nowait({"op": INVALID_SESSION, "d": False})
            self.double.changes.notify()
            return None
        session.connection = connection
        seen = data.get("seq") or 0
        for frame in session.replay:
            if frame["s"] > seen:
                connection.queue.put_nowait(frame)
        session.dispatch("RESUMED", {"_trace": ["discord-double"]})
        self.double.changes.notify()
        return session

    def _members_chunk(self, session: Session, data: dict[str, Any]) -> None:
        guild = self.double.guilds.get(str(data.get("guild_id")))
        if guild is None:
            return
        wanted = {str(u) for u in data.get("user_ids") or []}
        query = (data.get("query") or "").lower()
        if wanted:
            members = [m for m in guild.members.values() if m.id in wanted]
        else:
            members = [m for m in guild.members.values() if m.user.username.lower().startswith(query)]
        limit = data.get("limit") or 0
        if limit:
            members = members[:limit]
        payload = {"guild_id": guild.id, "members": [m.payload() for m in members], "chunk_index": 0,
                   "chunk_count": 1, "not_found": [], "presences": []}
        if data.get("nonce"):
            payload["nonce"] = data["nonce"]
        session.dispatch("GUILD_MEMBERS_CHUNK", payload)
