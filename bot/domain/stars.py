"""Stars a server follows: the Star record and the rules for names, aliases and birthdays."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from ..errors import UserError
from .text import name_key

__all__ = ["Star", "StarDraft", "name_key", "clean_name", "clean_hangul", "parse_aliases", "parse_birthday",
           "merge_aliases"]

MAX_NAME = 100
MAX_ALIASES = 20
_ALLOWED_PUNCT = set(" -'’.·")
_MENTION = re.compile(r"@(everyone|here)|<[@#][!&]?\d+>|<@", re.IGNORECASE)
_HANGUL_SYLLABLE = re.compile(r"^[\uac00-\ud7a3]+( [\uac00-\ud7a3]+)*$")


@dataclass(frozen=True, slots=True)
class Star:
    """A star a server follows: her names, Hangul, birthday and notify role."""

    id: int
    guild_id: int
    name: str
    hangul: str | None = None
    aliases: tuple[str, ...] = ()
    birthday: date | None = None
    notify_role_id: int | None = None
    from_catalogue: bool = False
    followed: bool = True

    @property
    def all_names(self) -> tuple[str, ...]:
        names = [self.name, *self.aliases]
        if self.hangul:
            names.append(self.hangul)
        seen: dict[str, None] = {}
        for n in names:
            seen.setdefault(n, None)
        return tuple(seen)

    def age_on(self, day: date) -> int | None:
        if self.birthday is None:
            return None
        years = day.year - self.birthday.year
        if (day.month, day.day) < (self.birthday.month, self.birthday.day):
            years -= 1
        return years


@dataclass(frozen=True, slots=True)
class StarDraft:
    """Validated user input for following or editing a star."""

    name: str
    hangul: str | None = None
    aliases: tuple[str, ...] = field(default_factory=tuple)
    birthday: date | None = None


def clean_name(raw: str, *, what: str = "name") -> str:
    """A star's name or alias as stored; `what` ("name" or "alias") says which, in the error codes."""
    text = unicodedata.normalize("NFC", " ".join(raw.split()))
    if not text:
        raise UserError(f"{what}.empty")
    if len(text) > MAX_NAME:
        raise UserError(f"{what}.too_long", length=len(text), limit=MAX_NAME)
    if _MENTION.search(text) or "@" in text:
        raise UserError(f"{what}.mention")
    for ch in text:
        if ch in _ALLOWED_PUNCT:
            continue
        category = unicodedata.category(ch)
        if category[0] not in "LMN":
            raise UserError(f"{what}.bad_character", character=repr(ch))
    if not any(ch.isalnum() for ch in text):
        raise UserError(f"{what}.no_letter")
    return text


def clean_hangul(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    text = " ".join(unicodedata.normalize("NFC", raw).split())
    if len(text) > 20 or not _HANGUL_SYLLABLE.match(text):
        raise UserError("hangul.invalid")
    return text


def parse_aliases(raw: str | None) -> tuple[str, ...]:
    if raw is None or not raw.strip():
        return ()
    parts = [p for p in (s.strip() for s in raw.split(",")) if p]
    if len(parts) > MAX_ALIASES:
        raise UserError("aliases.too_many", n=len(parts), limit=MAX_ALIASES)
    out: dict[str, str] = {}
    for part in parts:
        alias = clean_name(part, what="alias")
        out.setdefault(name_key(alias), alias)
    return tuple(out.values())


def parse_birthday(raw: str | None, *, today: date) -> date | None:
    if raw is None or not raw.strip():
        return None
    try:
        value = date.fromisoformat(raw.strip())
    except ValueError:
        raise UserError("birthday.invalid") from None
    if value.year < 1900 or value > today:
        raise UserError("birthday.out_of_range")
    return value


def merge_aliases(*groups: tuple[str, ...] | list[str], exclude: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Aliases from several sources, first spelling kept, none repeating a name in `exclude`."""
    seen = {name_key(n) for n in exclude}
    out = []
    for group in groups:
        for alias in group:
            key = name_key(alias)
            if key and key not in seen:
                seen.add(key)
                out.append(alias)
    return tuple(out[:MAX_ALIASES * 2])
