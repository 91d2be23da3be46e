"""Running as one of several processes: the shards (`ShardScope`, from bot/domain/shards.py), the roles,
the refusal of a split on SQLite, and when a shard may IDENTIFY."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from .domain.shards import ALL_SHARDS, ShardScope, shard_of
from .settings import PROCESS_ROLES, Settings

__all__ = ["ALL_SHARDS", "IdentifyCoordinator", "LocalIdentifyCoordinator", "ProcessRoles", "ShardScope",
           "identify_coordinator_for", "scope_of", "shard_of", "single_process_problem"]

# Discord allows one IDENTIFY per rate-limit bucket every 5 seconds (Gateway docs, "Max Concurrency").
IDENTIFY_INTERVAL = 5.0
# Discord times an IDENTIFY when it arrives, a little after the hook let it go; one arriving sooner after
# its predecessor than the one before it did would otherwise land just inside the 5 s and get op 9.
IDENTIFY_MARGIN = 0.25


def scope_of(settings: Settings) -> ShardScope:
    count = settings.shard_count or 1
    return ShardScope(count, settings.shard_ids or tuple(range(count)))


@dataclass(frozen=True, slots=True)
class ProcessRoles:
    """gateway: connects its shards, answers commands, does the outbound work for its servers.
    feeds: polls feeds (needs no token). leader: command sync and other once-per-bot work."""

    roles: frozenset[str] = frozenset(PROCESS_ROLES)

    @property
    def gateway(self) -> bool:
        return "gateway" in self.roles

    @property
    def feeds(self) -> bool:
        return "feeds" in self.roles

    @property
    def leader(self) -> bool:
        return "leader" in self.roles

    @property
    def all(self) -> bool:
        return self.roles == frozenset(PROCESS_ROLES)

    @property
    def needs_token(self) -> bool:
        return self.gateway or self.leader


def single_process_problem(settings: Settings) -> str | None:
    """Why these settings would need several processes on SQLite, which cannot share one file safely
    across processes (every exactly-once promise rests on one writer); None when they do not.

    A process that connects only some shards, or plays only some roles, implies others doing the
    rest. With DATABASE_URL (PostgreSQL) set, any split is fine."""
    if settings.database_url is not None or settings.sqlite_split_for_tests:
        return None
    scope = scope_of(settings)
    roles = ProcessRoles(settings.process_roles)
    if scope.everything and roles.all:
        return None
    what = []
    if not scope.everything:
        what.append(f"SHARD_IDS={','.join(map(str, scope.shard_ids))} of SHARD_COUNT={scope.shard_count}")
    if not roles.all:
        what.append(f"PROCESS_ROLES={','.join(sorted(roles.roles))}")
    return (f"{' and '.join(what)} means several processes, and SQLite serves one: set DATABASE_URL to a "
            "PostgreSQL database, or unset SHARD_IDS and PROCESS_ROLES to run everything in this process.")


class IdentifyCoordinator(Protocol):
    """Spaces IDENTIFYs to Discord's limit: one per bucket (`shard_id % max_concurrency`) per interval,
    across every process of the bot.

    `wait_turn` returns when `shard_id` may IDENTIFY now, and counts that IDENTIFY as sent (the
    caller sends it right away). The in-process `LocalIdentifyCoordinator` is enough for one process.
    On PostgreSQL, `PostgresIdentifyCoordinator` (bot/storage/coordination.py) does the same for every
    process: in a transaction it takes `pg_advisory_xact_lock(<bot key>, bucket)`, reads the bucket's
    last IDENTIFY time (bot_state `identify_bucket:<n>`, by the database's clock so the processes'
    clocks need not agree), sleeps holding the lock until the interval has passed, writes the time,
    commits. The lock serialises processes on one bucket; different buckets never wait for each other.
    """

    async def wait_turn(self, shard_id: int, max_concurrency: int) -> None: ...


class LocalIdentifyCoordinator:
    """IDENTIFY spacing for the shards of this one process."""

    def __init__(self, interval: float = IDENTIFY_INTERVAL, *, margin: float = IDENTIFY_MARGIN,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> None:
        self.interval = interval + margin
        self._monotonic = monotonic
        self._sleep = sleep
        self._last: dict[int, float] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    async def wait_turn(self, shard_id: int, max_concurrency: int) -> None:
        bucket = shard_id % max(1, max_concurrency)
        async with self._locks.setdefault(bucket, asyncio.Lock()):
            last = self._last.get(bucket)
            if last is not None:
                wait = last + self.interval - self._monotonic()
                if wait > 0:
                    await self._sleep(wait)
            self._last[bucket] = self._monotonic()


def identify_coordinator_for(settings: Settings, db: object) -> IdentifyCoordinator:
    """Across processes on PostgreSQL, in memory on SQLite (one process)."""
    from .storage.postgres import PostgresDatabase

    interval = settings.test_identify_seconds or IDENTIFY_INTERVAL
    if isinstance(db, PostgresDatabase):
        from .storage.coordination import PostgresIdentifyCoordinator

        return PostgresIdentifyCoordinator(db, interval + IDENTIFY_MARGIN)
    return LocalIdentifyCoordinator(interval)
