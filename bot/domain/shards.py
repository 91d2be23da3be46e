"""Which servers a process serves: a server belongs to shard `(guild_id >> 22) % shard_count`
(Discord's rule), and a process serves the servers of the shards it connects."""

from __future__ import annotations

from dataclasses import dataclass


def shard_of(guild_id: int, shard_count: int) -> int:
    return (guild_id >> 22) % shard_count


@dataclass(frozen=True, slots=True)
class ShardScope:
    """The shards this process connects, out of all the bot's shards: the one answer to
    "does this process own guild G" (`owns`; storage turns it into SQL)."""

    shard_count: int = 1
    shard_ids: tuple[int, ...] = (0,)

    def __post_init__(self) -> None:
        if self.shard_count < 1 or not self.shard_ids or any(not 0 <= i < self.shard_count for i in self.shard_ids):
            raise ValueError(f"shards {self.shard_ids} are not among 0..{self.shard_count - 1}")

    @property
    def everything(self) -> bool:
        return len(set(self.shard_ids)) == self.shard_count

    def owns(self, guild_id: int) -> bool:
        return self.everything or shard_of(guild_id, self.shard_count) in self.shard_ids


ALL_SHARDS = ShardScope()
