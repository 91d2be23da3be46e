"""What the double remembers about the traffic: every request, uploaded files, and a change signal to wait on."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

T = TypeVar("T")


@dataclass
class RecordedFile:
    field: str
    filename: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class RecordedRequest:
    method: str
    path: str  # below the API base, e.g. "/channels/123/messages"
    query: dict[str, str]
    headers: dict[str, str]
    json: Any = None  # the JSON body, or multipart payload_json
    files: list[RecordedFile] = field(default_factory=list)
    time: float = field(default_factory=time.monotonic)
    status: int = 0
    response: Any = None

    @property
    def authorized(self) -> bool:
        return "Authorization" in self.headers

    def matches(self, method: str | None = None, path: str | None = None) -> bool:
        """`path` is a regular expression that must match the whole path."""
        if method is not None and self.method != method.upper():
            return False
        return path is None or re.fullmatch(path, self.path) is not None


class Recorder:
    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []

    def add(self, request: RecordedRequest) -> None:
        self.requests.append(request)

    def find(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        return [r for r in self.requests if r.matches(method, path)]

    def clear(self) -> None:
        self.requests.clear()


class Changes:
    """Wakes every waiter whenever the double's state changes; waiters re-check their condition then, and
    every few milliseconds anyway, so a condition may also look at the bot's own state (its cache)."""

    POLL_S = 0.005

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_for(self, check: Callable[[], T | None], timeout: float, what: str) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = check()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"discord double: timed out after {timeout}s waiting for {what}")
            try:
                await asyncio.wait_for(self._event.wait(), min(remaining, self.POLL_S))
            except asyncio.TimeoutError:
                pass
