"""What a user typed to name one thing (a star, a feed, a media item): an autocomplete id or free text."""

from __future__ import annotations

from dataclasses import dataclass

_ID_PREFIX = "id:"
_MAX_ID_DIGITS = 18  # a SQLite rowid fits in 19 digits; fewer keeps every parsed id a valid one


@dataclass(frozen=True, slots=True)
class Ref:
    """`id` is set when the text is an autocomplete value ("id:12"); `text` is always what was typed."""

    text: str
    id: int | None = None

    @classmethod
    def parse(cls, value: "str | Ref | None") -> "Ref":
        if isinstance(value, Ref):
            return value
        text = (value or "").strip()
        digits = text[len(_ID_PREFIX):] if text.startswith(_ID_PREFIX) else ""
        if digits.isdigit() and len(digits) <= _MAX_ID_DIGITS:
            return cls(text, int(digits))
        return cls(text)
