"""The project's own exceptions; the client's error handler turns UserError into an ephemeral reply."""

from __future__ import annotations


class FanbotError(Exception):
    """Base class for every error fanbot raises on purpose."""


class UserError(FanbotError):
    """Something the user asked for cannot be done; the message is shown to them as it is.

    Keep the message short, and say what to do instead.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(UserError):
    """A thing the user named does not exist in this server."""


class Conflict(UserError):
    """The thing already exists, or the change would break a uniqueness rule."""


class NotAllowed(UserError):
    """The user lacks the permission the action needs."""


class FetchError(FanbotError):
    """A URL could not be fetched, or was refused; the message is safe to show a moderator."""


class UnsafeURL(FetchError):
    """A URL points somewhere fanbot refuses to go (bad scheme, private address, ...)."""


class FeedError(FanbotError):
    """A document is not a usable RSS/Atom feed; the message is safe to show a moderator."""


class BadLink(UserError):
    """A link someone gave is not an http(s) URL fanbot accepts (bad scheme, too long, no host)."""


class StorageError(FanbotError):
    """A database failure the callers handle on purpose, raised the same way on SQLite and PostgreSQL."""


class ConstraintViolation(StorageError):
    """A write broke a constraint of the schema (CHECK, FOREIGN KEY, NOT NULL, UNIQUE)."""


class UniqueViolation(ConstraintViolation):
    """A write broke a UNIQUE constraint or index; `columns` names the columns it covers."""

    def __init__(self, columns: tuple[str, ...], detail: str) -> None:
        super().__init__(detail)
        self.columns = columns


class DatabaseUnavailable(StorageError):
    """The database server cannot be reached right now (restarting, network). A transaction cut off
    is all or nothing, so the user can simply try again."""

    # Not "nothing was changed": a connection lost during COMMIT leaves that unknown (though never half-done).
    message = "fanbot could not reach its database just now. Please try again in a minute."
