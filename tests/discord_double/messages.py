"""Messages the bot sent: building them from request bodies (JSON or multipart), edits, deletes, nonces, files."""

from __future__ import annotations

import json
import mimetypes
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .models import iso_now, snowflake
from .recorder import RecordedFile

if TYPE_CHECKING:
    from .server import DiscordDouble

EPHEMERAL, LOADING, CROSSPOSTED = 1 << 6, 1 << 7, 1 << 0
NONCE_WINDOW_S = 300.0
_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


@dataclass
class StoredFile:
    id: str
    filename: str
    content_type: str
    data: bytes


async def read_body(request: web.Request) -> tuple[Any, list[RecordedFile]]:
    """The JSON body, or for multipart the payload_json plus files[n] parts."""
    if not request.body_exists:
        return None, []
    if request.content_type.startswith("multipart/"):
        payload: Any = None
        files: list[RecordedFile] = []
        reader = await request.multipart()
        async for part in reader:
            data = await part.read()
            if part.name == "payload_json":
                payload = json.loads(data)
            else:
                files.append(RecordedFile(part.name or "", part.filename or "", part.headers.get(
                    "Content-Type", "application/octet-stream"), bytes(data)))
        return payload, files
    raw = await request.read()
    return (json.loads(raw) if raw else None), []


class MessageStore:
    def __init__(self, double: DiscordDouble) -> None:
        self.double = double
        self.by_channel: dict[str, dict[str, dict[str, Any]]] = {}
        self.by_id: dict[str, dict[str, Any]] = {}  # every message, ephemeral ones too
        self.files: dict[str, StoredFile] = {}
        self._nonces: dict[tuple[str, str], tuple[str, float]] = {}

    # -- files ---------------------------------------------------------------------------------
    def store_file(self, filename: str, content_type: str | None, data: bytes, channel_id: str = "0",
                   **extra: Any) -> dict[str, Any]:
        file_id = snowflake()
        content_type = content_type if content_type and content_type != "application/octet-stream" else (
            mimetypes.guess_type(filename)[0] or "application/octet-stream")
        self.files[file_id] = StoredFile(file_id, filename, content_type, data)
        url = f"{self.double.base_url}/attachments/{channel_id}/{file_id}/{filename}"
        return {"id": file_id, "filename": filename, "size": len(data), "url": url, "proxy_url": url,
                "content_type": content_type, "flags": 0, **extra}

    def _attachments(self, body: dict[str, Any], files: list[RecordedFile], channel_id: str,
                     existing: list[dict[str, Any]]) -> list[dict[str, Any]]:
        wanted = body.get("attachments")
        if wanted is None and not files:
            return existing
        by_index = {f"files[{i}]": f for i, f in enumerate(files)}
        kept_ids = {str(a.get("id")) for a in wanted or []}
        result = [a for a in existing if wanted is None or a["id"] in kept_ids]
        described = {f"files[{a.get('id')}]": a for a in wanted or [] if f"files[{a.get('id')}]" in by_index}
        for field_name, upload in by_index.items():
            meta = described.get(field_name, {})
            extra = {"description": meta["description"]} if meta.get("description") else {}
            result.append(self.store_file(meta.get("filename") or upload.filename, upload.content_type,
                                          upload.data, channel_id, **extra))
        return result

    # -- messages ------------------------------------------------------------------------------
    def create(self, channel_id: str, guild_id: str | None, body: dict[str, Any], files: list[RecordedFile], *,
               message_type: int = 0, ephemeral: bool = False, extra: dict[str, Any] | None = None,
               ) -> tuple[dict[str, Any], bool]:
        """Store a new message; returns (message, created). A repeated enforced nonce returns the original."""
        nonce = body.get("nonce")
        key = (channel_id, str(nonce))
        if nonce is not None and body.get("enforce_nonce"):
            previous = self._nonces.get(key)
            if previous and time.monotonic() - previous[1] < NONCE_WINDOW_S and previous[0] in self.by_id:
                return self.by_id[previous[0]], False
        flags = int(body.get("flags") or 0) | (EPHEMERAL if ephemeral else 0)
        message: dict[str, Any] = {
            "id": snowflake(), "channel_id": channel_id, "author": self.double.bot_user.payload(),
            "content": body.get("content") or "", "timestamp": iso_now(), "edited_timestamp": None,
            "tts": bool(body.get("tts")), "mention_everyone": False, "mentions": [], "mention_roles": [],
            "mention_channels": [], "attachments": [], "embeds": body.get("embeds") or [], "reactions": [],
            "pinned": False, "type": message_type, "flags": flags, "components": body.get("components") or [],
            "sticker_items": [], "nonce": nonce, "allowed_mentions": body.get("allowed_mentions"),
            **(extra or {}),
        }
        if guild_id is not None:
            message["guild_id"] = guild_id
        if body.get("message_reference"):
            message["message_reference"] = body["message_reference"]
        message["attachments"] = self._attachments(body, files, channel_id, [])
        self._fill_mentions(message)
        self.by_id[message["id"]] = message
        if not ephemeral:
            self.by_channel.setdefault(channel_id, {})[message["id"]] = message
            self.double.gateway.message_event("MESSAGE_CREATE", message, guild_id)
        if nonce is not None:
            self._nonces[key] = (message["id"], time.monotonic())
        self.double.changes.notify()
        return message, True

    def edit(self, message: dict[str, Any], body: dict[str, Any], files: list[RecordedFile]) -> dict[str, Any]:
        for name, empty in (("content", ""), ("embeds", []), ("components", []), ("allowed_mentions", None)):
            if name in body:
                message[name] = body[name] if body[name] is not None else empty
        if "flags" in body and body["flags"] is not None:
            message["flags"] = int(body["flags"]) | (message["flags"] & EPHEMERAL)
        message["flags"] &= ~LOADING
        message["attachments"] = self._attachments(body, files, message["channel_id"], message["attachments"])
        message["edited_timestamp"] = iso_now()
        self._fill_mentions(message)
        if not message["flags"] & EPHEMERAL:
            self.double.gateway.message_event("MESSAGE_UPDATE", message, message.get("guild_id"))
        self.double.changes.notify()
        return message

    def delete(self, message: dict[str, Any]) -> None:
        self.by_id.pop(message["id"], None)
        channel = self.by_channel.get(message["channel_id"], {})
        if channel.pop(message["id"], None) is not None:
            data = {"id": message["id"], "channel_id": message["channel_id"]}
            if message.get("guild_id"):
                data["guild_id"] = message["guild_id"]
            self.double.gateway.message_event("MESSAGE_DELETE", data, message.get("guild_id"))
        self.double.changes.notify()

    def in_channel(self, channel_id: str) -> list[dict[str, Any]]:
        return list(self.by_channel.get(str(channel_id), {}).values())

    def get(self, channel_id: str, message_id: str) -> dict[str, Any] | None:
        return self.by_channel.get(channel_id, {}).get(message_id)

    def _fill_mentions(self, message: dict[str, Any]) -> None:
        content = message["content"]
        # Look up only the ids the content names: scanning every member per message made a
        # 10,000-member benchmark measure the double instead of the bot.
        found = (self.double.find_user(i) for i in dict.fromkeys(_USER_MENTION.findall(content)))
        message["mentions"] = [u.payload() for u in found if u is not None]
        message["mention_roles"] = list(dict.fromkeys(_ROLE_MENTION.findall(content)))
        message["mention_everyone"] = "@everyone" in content or "@here" in content
