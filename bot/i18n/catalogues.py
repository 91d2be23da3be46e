"""Catalogues compiled from the .po files at start (never a committed .mo), with cached lookups per language."""

from __future__ import annotations

import gettext
import io
import logging
import unicodedata
from datetime import date
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

DOMAIN = "fanbot"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"
ENGLISH = "en"
SUPPORTED = (ENGLISH, "ko")


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined; it is translated where it is shown."""
    return message


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """N_ for a message with a count: both English forms, chosen where it is shown."""
    return singular, plural


class Named(Protocol):
    """Anything with a display name and an optional Hangul name."""

    name: str
    hangul: str | None


class Lang:
    """One language: lookups (cached; a miss falls back to the English source) and locale-aware formatting.

    Fields are filled in with str.format after the lookup, so a translation can reorder them."""

    def __init__(self, code: str, translations: gettext.NullTranslations) -> None:
        self.code = code
        self._translations = translations
        self._cache: dict[object, str] = {}

    @property
    def korean(self) -> bool:
        return self.code == "ko"

    def _(self, message: str, /, **fields: object) -> str:
        text = self._cache.get(message)
        if text is None:
            text = self._cache[message] = self._translations.gettext(message)
        return text.format(**fields) if fields else text

    def n_(self, singular: str, plural: str, n: int, /, **fields: object) -> str:
        """A count in words: English picks singular or plural; Korean has one form with its counter."""
        key = (singular, plural, n if n in (0, 1, 2) else 3)  # plural rules of en and ko only look this far
        text = self._cache.get(key)
        if text is None:
            text = self._cache[key] = self._translations.ngettext(singular, plural, n)
        return text.format(n=n, **fields)

    def p_(self, context: str, message: str, /, **fields: object) -> str:
        key = (context, message)
        text = self._cache.get(key)
        if text is None:
            text = self._cache[key] = self._translations.pgettext(context, message)
        return text.format(**fields) if fields else text

    def star(self, star: Named) -> str:
        """How this language names her: the Hangul name in Korean text, the display name otherwise."""
        return star.hangul if self.korean and star.hangul else star.name

    def date(self, day: date) -> str:
        if self.korean:
            return f"{day.year}년 {day.month}월 {day.day}일"
        return day.isoformat()  # unambiguous for every English reader, and what fans type in /stars follow

    def translated(self, message: str) -> bool:
        return self._translations.gettext(message) != message

    def __repr__(self) -> str:
        return f"<Lang {self.code}>"


class Catalogues:
    """Every language fanbot speaks; English is the code's own text and never needs a file."""

    def __init__(self, langs: dict[str, Lang]) -> None:
        self._langs = langs
        self.english = langs[ENGLISH]

    @classmethod
    def load(cls, directory: Path = LOCALES_DIR) -> "Catalogues":
        langs = {ENGLISH: Lang(ENGLISH, gettext.NullTranslations())}
        for code in SUPPORTED[1:]:
            langs[code] = Lang(code, _compile(directory / code / "LC_MESSAGES" / f"{DOMAIN}.po", code))
        return cls(langs)

    def get(self, code: str | None) -> Lang:
        """The language for a Discord locale ('ko', 'en-US', 'ja', ...): ours when we have it, else English."""
        if not code:
            return self.english
        return self._langs.get(str(code).split("-")[0].lower(), self.english)

    def exact(self, code: str) -> Lang | None:
        lang = self._langs.get(str(code))
        return None if lang is None or lang is self.english else lang

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self._langs)


def _compile(po_path: Path, code: str) -> gettext.NullTranslations:
    """The .po compiled in memory with Babel; a missing or broken file means English, with one warning."""
    try:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=code, abort_invalid=True)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        return gettext.GNUTranslations(buffer)
    except Exception as exc:  # any unreadable catalogue must leave the bot running, in English
        log.warning("the %s catalogue %s could not be loaded (%s); using English instead", code, po_path, exc)
        return gettext.NullTranslations()


def display_width(text: str) -> int:
    """Columns a monospace font gives the text: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int, *, right: bool = False) -> str:
    """Text padded with spaces to `width` columns, measured with display_width."""
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill
