"""Real `python -m bot` processes on one PostgreSQL against the Discord double, with their output read
as it comes so a test can wait for what a process says (and kill it without waiting for it)."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path

from tests.cli.test_roles import clean_env


class BotProcess:
    def __init__(self, name: str, proc: asyncio.subprocess.Process) -> None:
        self.name = name
        self.proc = proc
        self.lines: list[tuple[float, str]] = []  # (monotonic time read, line)
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, name: str, cwd: Path, **env: str) -> "BotProcess":
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=cwd, env=clean_env(**env),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        return cls(name, proc)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            self.lines.append((time.monotonic(), raw.decode(errors="replace").rstrip("\n")))
            self._changed.set()
        self._changed.set()

    @property
    def output(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def count(self, text: str) -> int:
        return sum(text in line for _, line in self.lines)

    async def wait_for_line(self, text: str, *, count: int = 1, timeout: float = 30.0) -> float:
        """The time the `count`-th line containing `text` was read."""
        deadline = time.monotonic() + timeout
        while True:
            hits = [t for t, line in self.lines if text in line]
            if len(hits) >= count:
                return hits[count - 1]
            if self._reader.done():
                raise AssertionError(f"{self.name} ended before saying {text!r}:\n{self.output}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                raise AssertionError(f"{self.name} never said {text!r} ({count}×):\n{self.output}") from None

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)

    async def stop(self) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.proc.wait(), 30)
        await self._reader
        return code
