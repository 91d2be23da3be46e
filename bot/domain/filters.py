"""A feed subscription's story filter: words and phrases a story must (include) or must not (exclude) contain.

Phrases are matched on the words the star matcher cuts (bot.domain.matcher): case-insensitive whole words,
spaces and hyphens alike ("red carpet" is in "red-carpet"), and a Hangul word may carry a particle or
ending as a Hangul name may (드라마 in 드라마에서) but is never part of a longer word (드라마 is not in
드라마틱). No typo tolerance: a filter means what the moderator typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..errors import UserError
from .matcher import TOKENS, particles_only
from .text import fold, is_hangul, name_key, plain_text

MAX_PHRASES = 25  # per list; a filter of 100 words is a sign of a wrong tool, not a filter
MAX_PHRASE_LENGTH = 60
MAX_INPUT_LENGTH = 1000  # the option's own limit, so a refusal names it
_SEPARATOR = "\n"  # stored form: phrases may not contain a newline, the input's commas split them


def parse_phrases(text: str | None, *, which: str) -> tuple[str, ...]:
    """A comma-separated list as typed, as clean phrases (duplicates dropped, order kept); empty clears.

    UserError codes: filter.{which}_too_long (the whole value), filter.{which}_too_many,
    filter.phrase_too_long, filter.no_letters (a phrase with nothing to match); `which` is "include"
    or "exclude"."""
    if text is None or not text.strip():
        return ()
    if len(text) > MAX_INPUT_LENGTH:
        raise UserError(f"filter.{which}_too_long", limit=MAX_INPUT_LENGTH)
    phrases: dict[str, str] = {}
    for raw in text.replace("\n", ",").split(","):
        phrase = " ".join(fold(raw).split())
        if not phrase:
            continue
        if len(phrase) > MAX_PHRASE_LENGTH:
            raise UserError("filter.phrase_too_long", phrase=phrase[:40], limit=MAX_PHRASE_LENGTH)
        key = name_key(phrase)
        if not key:
            raise UserError("filter.no_letters", phrase=phrase[:40])
        phrases.setdefault(key, phrase)
    if len(phrases) > MAX_PHRASES:
        raise UserError(f"filter.{which}_too_many", n=len(phrases), limit=MAX_PHRASES)
    return tuple(phrases.values())


def stored(phrases: tuple[str, ...]) -> str:
    return _SEPARATOR.join(phrases)


def from_stored(text: str | None) -> tuple[str, ...]:
    return tuple(p for p in (text or "").split(_SEPARATOR) if p)


@dataclass(frozen=True, slots=True)
class StoryFilter:
    """Include and exclude phrases of one subscription; an empty filter lets every story through."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.include or self.exclude)

    def allows(self, text: str) -> bool:
        """True when `text` (a story's title and summary) has an include phrase (if any are set) and no
        exclude phrase."""
        if not self.active:
            return True
        tokens = words(text)
        if self.exclude and _compiled(self.exclude).found_in(tokens):
            return False
        return not self.include or _compiled(self.include).found_in(tokens)

    def explain(self, text: str) -> tuple[str | None, str | None]:
        """(the include phrase found, the exclude phrase found), each None when none was."""
        tokens = words(text)
        inc = _compiled(self.include).first_in(tokens) if self.include else None
        exc = _compiled(self.exclude).first_in(tokens) if self.exclude else None
        return inc, exc


def words(text: str) -> list[str]:
    """The text's words as the matcher cuts them: Latin words lower-cased, Hangul runs as they are."""
    return [t.lower() for t in TOKENS.findall(fold(plain_text(text)))]


class _Phrases:
    """Phrases indexed by their first word, so a text is read once whatever the number of phrases."""

    def __init__(self, phrases: tuple[str, ...]) -> None:
        self._latin: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        self._hangul: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for phrase in phrases:
            parts = words(phrase)
            if not parts:
                continue
            table = self._hangul if is_hangul(parts[0]) else self._latin
            table.setdefault(parts[0], []).append((phrase, tuple(parts[1:])))
        self._hangul_sizes = sorted({len(k) for k in self._hangul}, reverse=True)

    def found_in(self, tokens: list[str]) -> bool:
        return self.first_in(tokens) is not None

    def first_in(self, tokens: list[str]) -> str | None:
        for i, token in enumerate(tokens):
            for phrase, rest, head_rest in self._starting(token):
                if not rest:
                    if _whole(head_rest):
                        return phrase
                elif head_rest == "" and _rest_matches(rest, tokens, i + 1):
                    return phrase
        return None

    def _starting(self, token: str):
        for phrase, rest in self._latin.get(token, ()):
            yield phrase, rest, ""
        if self._hangul and token[0] >= "\uac00":
            for size in self._hangul_sizes:
                if size <= len(token):
                    for phrase, rest in self._hangul.get(token[:size], ()):
                        yield phrase, rest, token[size:]


def _whole(hangul_tail: str) -> bool:
    """A Hangul word ends where a particle or ending may follow, never inside a longer word."""
    return particles_only(hangul_tail)


def _rest_matches(rest: tuple[str, ...], tokens: list[str], start: int) -> bool:
    if start + len(rest) > len(tokens):
        return False
    *middle, last = rest
    if any(tokens[start + j] != word for j, word in enumerate(middle)):
        return False
    found = tokens[start + len(middle)]
    if found == last:
        return True
    # The phrase's last word may carry a particle when it is Hangul: "신작 드라마에서" has "신작 드라마".
    return is_hangul(last) and found.startswith(last) and particles_only(found[len(last):])


@lru_cache(maxsize=4096)
def _compiled(phrases: tuple[str, ...]) -> _Phrases:
    # Many subscriptions share a filter; each distinct list is indexed once.
    return _Phrases(phrases)
