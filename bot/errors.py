"""The project's own exceptions; the client's error handler turns UserError into an ephemeral reply."""

from __future__ import annotations


class FanbotError(Exception):
    """Base class for every error fanbot raises on purpose."""


class UserError(FanbotError):
    """Something the user asked for cannot be done: `code` says what, `data` the details (which star,
    which limit). The core never writes the sentence; bot/error_text.py has one per code and language.
    """

    def __init__(self, code: str, /, **data: object) -> None:
        super().__init__(code, data)
        self.code = code
        self.data = data

    @property
    def message(self) -> str:
        """For logs and stored reasons: the code and its data, in no one's language."""
        return str(self)

    def __str__(self) -> str:
        details = ", ".join(f"{k}={v!r}" for k, v in self.data.items())
        return f"{self.code} ({details})" if details else self.code


class NotFound(UserError):
    """A thing the user named does not exist in this server."""


class Conflict(UserError):
    """The thing already exists, or the change would break a uniqueness rule."""


class NotAllowed(UserError):
    """The user lacks the permission the action needs."""


class DiagnosedError(FanbotError):
    """A failure with an English diagnosis for logs (`str(exc)`) and, for people, a `code` and its `data`
    (an address, a status, a limit) that bot/error_text.py writes in the reader's language. Without a
    code (code not yet converted), people read the English message as it is."""

    def __init__(self, message: str, code: str | None = None, /, **data: object) -> None:
        super().__init__(message)
        self.code = code
        self.data = data


class FetchError(DiagnosedError):
    """A URL could not be fetched, or was refused; the message is safe to show a moderator."""


class UnsafeURL(FetchError):
    """A URL points somewhere fanbot refuses to go (bad scheme, private address, ...)."""


class FeedError(DiagnosedError):
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
    is all or nothing, so the user can simply try again. The reply's words are bot/error_text.py's `code`."""

    code = "db.unavailable"
