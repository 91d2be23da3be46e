"""The SQL form of "does this process own the guild": a predicate the queries that select due work add,
so that a process never loads the rows of another process's servers."""

from __future__ import annotations

from ..domain.shards import ShardScope


def owned(scope: ShardScope, column: str = "guild_id") -> str:
    """A WHERE predicate on `column`, true for rows of the scope's servers ("1 = 1" for every shard).

    The numbers come from validated settings, never from users, so they are written into the text:
    the same SQL then runs on SQLite and PostgreSQL (both shift and take % of 64-bit integers) with
    no placeholders of either dialect. Discord ids stay below 2**63, so the shift never sees a sign."""
    if scope.everything:
        return "1 = 1"
    ids = ", ".join(str(int(i)) for i in sorted(set(scope.shard_ids)))
    return f"(({column} >> 22) % {int(scope.shard_count)}) IN ({ids})"
