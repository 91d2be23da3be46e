"""What differs between SQLite and PostgreSQL, in one place: the repositories write one SQL for both."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_UNIQUE_PREFIX = "UNIQUE constraint failed: "
_PG_KEY = re.compile(r"Key \(([^)]*)\)")


@dataclass(frozen=True)
class Dialect:
    """What differs between SQLite and PostgreSQL for the same SQL: placeholders and row locks."""

    name: str  # "sqlite" or "postgres"
    # Appended to a SELECT inside a transaction: lock the rows read until commit (for_update), or claim
    # them so other processes skip them (skip_locked). SQLite's one writer already excludes the others.
    for_update: str = ""
    skip_locked: str = ""
    _cache: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_postgres(self) -> bool:
        return self.name == "postgres"

    def sql(self, text: str) -> str:
        """The statement as this engine takes it: repositories write `?`, PostgreSQL wants `$1, $2, ...`."""
        if not self.is_postgres:
            return text
        done = self._cache.get(text)
        if done is None:
            done = self._cache[text] = _numbered(text)
        return done

    def joined(self, column: str, source: str, separator: str, *, order_by: str | None = None) -> str:
        """A scalar subquery joining `column` over `FROM source` with `separator` (NULL when no rows),
        in `order_by` order if given: SQLite's group_concat takes its order from a subquery (3.40 has
        no ORDER BY inside aggregates), PostgreSQL's string_agg takes it inside."""
        sep = f"'{separator}'" if separator.isprintable() and separator != "'" else (
            f"{'chr' if self.is_postgres else 'char'}({ord(separator)})")
        if self.is_postgres:
            order = f" ORDER BY {order_by}" if order_by else ""
            return f"(SELECT string_agg({column}, {sep}{order}) FROM {source})"
        if order_by:
            return f"(SELECT group_concat(v, {sep}) FROM (SELECT {column} AS v FROM {source} ORDER BY {order_by}))"
        return f"(SELECT group_concat({column}, {sep}) FROM {source})"


SQLITE = Dialect("sqlite")


def postgres() -> Dialect:
    # One per database: the translation cache is per Dialect object, and never shared with SQLite's.
    return Dialect("postgres", for_update=" FOR UPDATE", skip_locked=" FOR UPDATE SKIP LOCKED")


def _numbered(text: str) -> str:
    """`?` to `$n`, leaving quoted strings and identifiers alone."""
    out: list[str] = []
    number = 0
    quote: str | None = None
    for char in text:
        if quote is not None:
            if char == quote:
                quote = None
        elif char in ("'", '"'):
            quote = char
        elif char == "?":
            number += 1
            out.append(f"${number}")
            continue
        out.append(char)
    return "".join(out)


def sqlite_unique_columns(message: str) -> tuple[str, ...] | None:
    """The columns of SQLite's 'UNIQUE constraint failed: t.a, t.b' (None: another integrity error)."""
    if not message.startswith(_UNIQUE_PREFIX):
        return None
    return tuple(part.strip().rsplit(".", 1)[-1] for part in message[len(_UNIQUE_PREFIX):].split(","))


def postgres_unique_columns(detail: str | None) -> tuple[str, ...]:
    """The columns of PostgreSQL's 'Key (a, b)=(1, 2) already exists.'"""
    found = _PG_KEY.search(detail or "")
    return tuple(c.strip() for c in found.group(1).split(",")) if found else ()
