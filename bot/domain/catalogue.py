"""The shipped star catalogue (data/stars.json): loading, validation, lookup and autocomplete search."""

from __future__ import annotations

import json
import re
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import FanbotError, UserError
from .matcher import NameRule, StarMatcher
from .socials import PLATFORMS, check_handle, check_platform, ordered
from .text import is_hangul, name_key

_WORD = re.compile(r"[A-Za-z0-9]+")
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "data" / "stars.json"
SUPPORTED_VERSION = 1


class CatalogueError(FanbotError):
    """data/stars.json is missing or malformed; the message names the star and the field."""


@dataclass(frozen=True, slots=True)
class CatalogueStar:
    """A star of the shipped catalogue: her names, Hangul, aliases, misspellings and birthday."""

    name: str
    hangul: str | None
    aliases: tuple[str, ...]  # every other name the press prints, ambiguous ones and misspellings included
    birthday: date | None
    rules: tuple[NameRule, ...] = ()  # care instructions for the ambiguous names among name/hangul/aliases
    misspellings: tuple[str, ...] = ()  # also in aliases; listed so a UI can leave them out
    # Her own accounts, (platform, handle), only where a public source names them.
    socials: tuple[tuple[str, str], ...] = ()

    @property
    def all_names(self) -> tuple[str, ...]:
        names = [self.name, *([self.hangul] if self.hangul else []), *self.aliases]
        return tuple(dict.fromkeys(names))

    def match_names(self) -> tuple[str | NameRule, ...]:
        """Names ready for StarMatcher.build: ambiguous ones replaced by their rules."""
        by_key = {name_key(r.text): r for r in self.rules}
        return tuple(by_key.get(name_key(n), n) for n in self.all_names)


class Catalogue:
    """The stars fanbot knows before anyone types their names."""

    def __init__(self, stars: Iterable[CatalogueStar]) -> None:
        self._stars = tuple(stars)
        self._by_key: dict[str, CatalogueStar] = {}
        for star in self._stars:
            for n in star.all_names:
                key = name_key(n)
                other = self._by_key.setdefault(key, star)
                if other is not star:
                    raise CatalogueError(f"The name {n!r} is given to both {other.name} and {star.name}.")

    @classmethod
    def load(cls, path: str | Path | None = None) -> Catalogue:
        target = Path(path) if path is not None else DEFAULT_PATH
        try:
            doc = json.loads(target.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CatalogueError(f"Star catalogue not found at {target}.") from None
        except (OSError, ValueError) as exc:
            raise CatalogueError(f"Star catalogue {target} is unreadable: {exc}") from exc
        return cls.from_dict(doc)

    @classmethod
    def from_dict(cls, doc: Any) -> Catalogue:
        if not isinstance(doc, dict) or doc.get("version") != SUPPORTED_VERSION:
            raise CatalogueError(f"Star catalogue must be an object with \"version\": {SUPPORTED_VERSION}.")
        rows = doc.get("stars")
        if not isinstance(rows, list):
            raise CatalogueError("Star catalogue needs a \"stars\" list.")
        vocab = doc.get("context_words", {})
        if not isinstance(vocab, dict):
            raise CatalogueError("Star catalogue: \"context_words\" must map names to lists of words.")
        words = {name: _strings(v, "context_words", name) for name, v in vocab.items()}
        return cls(_parse_star(row, i, words) for i, row in enumerate(rows))

    def __iter__(self) -> Iterator[CatalogueStar]:
        return iter(self._stars)

    def __len__(self) -> int:
        return len(self._stars)

    @property
    def rules(self) -> dict[str, NameRule]:
        """Care instructions for ambiguous names, by name; pass to StarMatcher.build(rules=...)."""
        return {r.text: r for s in self._stars for r in s.rules}

    def find(self, query: str | None) -> CatalogueStar | None:
        """The star one of whose names is query, ignoring case, spaces and hyphens."""
        if not query:
            return None
        return self._by_key.get(name_key(query))

    def search(self, text: str, limit: int = 25) -> list[CatalogueStar]:
        """Autocomplete: stars whose name starts with text first, then those containing it anywhere."""
        key = name_key(text or "")
        if not key:
            return list(self._stars[:limit])
        starts, contains = [], []
        for star in self._stars:
            keys = [name_key(n) for n in star.all_names if n not in star.misspellings]
            if any(k.startswith(key) for k in keys):
                starts.append(star)
            elif any(key in k for k in keys):
                contains.append(star)
        return (starts + contains)[:limit]

    def matcher(self, stars: Iterable[CatalogueStar] | None = None) -> StarMatcher:
        """A matcher over the given stars (default: all), keyed by display name."""
        chosen: Iterable[CatalogueStar] = self._stars if stars is None else stars
        entries: list[tuple[Hashable, Iterable[str | NameRule]]] = [(s.name, s.match_names()) for s in chosen]
        return StarMatcher.build(entries)


def _parse_star(row: Any, index: int, vocab: dict[str, tuple[str, ...]]) -> CatalogueStar:
    where = f"star #{index + 1}"
    if not isinstance(row, dict):
        raise CatalogueError(f"{where} is not an object.")
    name = row.get("name")
    if not isinstance(name, str) or not name.strip():
        raise CatalogueError(f"{where} has no name.")
    where = f"{where} ({name})"
    hangul = row.get("hangul")
    if hangul is not None and (not isinstance(hangul, str) or not is_hangul(hangul.replace(" ", ""))):
        raise CatalogueError(f"{where}: hangul must be Hangul syllables.")
    aliases = _strings(row.get("aliases", []), where, "aliases")
    misspellings = _strings(row.get("misspellings", []), where, "misspellings")
    rules = tuple(_parse_rule(r, where, vocab) for r in row.get("ambiguous_aliases", []))
    known = {name_key(n) for n in (name, hangul or "", *aliases)}
    for rule in rules:
        if name_key(rule.text) not in known:
            raise CatalogueError(f"{where}: ambiguous alias {rule.text!r} is not one of her names.")
    return CatalogueStar(
        name=name.strip(),
        hangul=hangul,
        aliases=tuple(dict.fromkeys(aliases + misspellings)),
        birthday=_parse_birthday(row.get("birthday"), where),
        rules=rules,
        misspellings=misspellings,
        socials=_parse_socials(row.get("socials", {}), where),
    )


def _parse_socials(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise CatalogueError(f"{where}: socials must map platforms to handles.")
    out = []
    for platform, handle in value.items():
        try:
            out.append((check_platform(platform), check_handle(handle if isinstance(handle, str) else None)))
        except UserError:
            raise CatalogueError(f"{where}: socials {platform!r} must be one of {', '.join(PLATFORMS)} with a "
                                 "plain handle.") from None
    return tuple(ordered(out))


def _strings(value: Any, where: str, field: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CatalogueError(f"{where}: {field} must be a list of non-empty strings.")
    return tuple(v.strip() for v in value)


def _parse_rule(value: Any, where: str, vocab: dict[str, tuple[str, ...]]) -> NameRule:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise CatalogueError(f"{where}: each ambiguous alias needs a name.")
    return NameRule(
        value["name"],
        case_sensitive=bool(value.get("case_sensitive", False)),
        unless=_context(value.get("unless", []), where, "unless", vocab),
        not_a_unit=bool(value.get("not_a_unit", False)),
        confirm=_context(value.get("confirm", []), where, "confirm", vocab),
        needs_context=bool(value.get("needs_context", False)),
    )


def _context(value: Any, where: str, field: str, vocab: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """Context words, with "@name" standing for the shared list context_words[name]."""
    out: list[str] = []
    for word in _strings(value, where, field):
        if word.startswith("@"):
            if word[1:] not in vocab:
                raise CatalogueError(f"{where}: {field} refers to {word}, which context_words does not define.")
            out.extend(vocab[word[1:]])
        else:
            out.append(word)
    for word in out:
        # The matcher compares context words with one token or two neighbouring ones ("miss A").
        if not (is_hangul(word) or (word.isascii() and 1 <= len(_WORD.findall(word)) <= 2)):
            raise CatalogueError(f"{where}: {field} word {word!r} must be one or two words of letters or digits.")
    return tuple(dict.fromkeys(out))


def _parse_birthday(value: Any, where: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise CatalogueError(f"{where}: birthday must be YYYY-MM-DD or null, not {value!r}.") from None
