"""Finds which stars a news text names, in one pass over the text, however many names there are.

How it works (SPEC §2, "Matching a story to a star"):
- The text is cleaned (HTML, entities, accents) and cut into Latin word tokens and Hangul runs by one
  regular expression.
- A Latin name is stored under its key: lower case, letters and digits only ("songhyekyo"), with the
  places where its parts may be split ("song|hye|kyo"). At each token the matcher joins up to k
  following tokens and looks them up in a dict, so "Song Hye-kyo", "SONG HYE KYO", "#SongHyeKyo" and
  "Park ShinHye" all hit, while a split the name does not have ("Hang a in" for "Han Ga-in") does not.
  The longest name wins, so "Song Joong-ki" is never "Song" of anything.
- A Hangul name must start a Hangul run, and the rest of the run must be particles (가, 의, 와의,
  에게서도 ...). So 송혜교가 and 송혜교♥ match; 퐁혜교, 루지현 and 한 매체 do not.
- Ambiguous names (IU is also Indiana University) can be case-sensitive and can be vetoed by words
  elsewhere in the text (NameRule).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

from .text import fold, is_hangul, name_key, plain_text

__all__ = ["NameRule", "StarMatcher", "plain_text", "HANGUL_PARTICLES"]

_TOKENS = re.compile(r"[A-Za-z0-9]+|[\uac00-\ud7a3]+")
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_NAME_PARTS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+|[\uac00-\ud7a3]+")

# Endings that may follow a Hangul name inside the same word. A run matches when its rest is a chain of
# these (와+의, 에게+서+도). Kept short on purpose: a one-syllable ending that is also a common last
# syllable of names (인, 라, 나, 아) would let 윤아 match 윤아라.
HANGUL_PARTICLES = frozenset(
    """가 이 의 와 과 는 은 를 을 도 에 에게 에게서 한테 한테서 께 께서 랑 이랑 하고 측 씨 님 로 으로
    로서 로써 만 까지 부터 처럼 보다 마저 조차 밖에 뿐 에서 서 라고 이라고 라는 이라는 이란 이다 였다
    이었다 였던 이었던 이며 이자 표 네 양 언니 누나 부부 커플 효과 주연 등""".split()
)
_MAX_PARTICLE = max(map(len, HANGUL_PARTICLES))
# A bare Hangul name followed by one of these is a byline ("[스포츠조선 김지원 기자]"), not the star.
_BYLINE = frozenset("기자 특파원 인턴기자 객원기자 통신원 작가 아나운서".split())


@dataclass(frozen=True, slots=True)
class NameRule:
    """A name with care instructions.

    case_sensitive: the text must spell it with the same capitals ("IU", not "iu" or "Iu").
    unless: words that, anywhere in the same text, mean the name is someone or something else
    ("Hoosiers" for IU). Compared as name keys (Latin) or as the start of a Hangul word.
    not_a_unit: the name is also a unit of measure ("4,000 IU per day"), so it does not count right
    after a number, unless the number looks like a year in a title ("2024 IU H.E.R. World Tour").
    """

    text: str
    case_sensitive: bool = False
    unless: tuple[str, ...] = ()
    not_a_unit: bool = False


@dataclass(frozen=True, slots=True)
class _Entry:
    key: Hashable  # the star
    boundaries: frozenset[int]  # offsets in the name key where the text may put a word break
    exact: str | None  # letters as written, for case-sensitive names
    unless: frozenset[str]
    not_a_unit: bool = False


def _default_rule(name: str) -> NameRule:
    # Short all-caps names (IU) are acronyms of other things far more often than in lower case.
    letters = "".join(ch for ch in name if ch.isalnum())
    return NameRule(name, case_sensitive=letters.isascii() and letters.isupper() and len(letters) <= 3)


def _particles_only(rest: str) -> bool:
    """True when rest is empty or a chain of allowed particles."""
    if not rest:
        return True
    for size in range(min(_MAX_PARTICLE, len(rest)), 0, -1):
        if rest[:size] in HANGUL_PARTICLES and _particles_only(rest[size:]):
            return True
    return False


class StarMatcher:
    """Immutable index of star names; build once when names change, then call match() per text."""

    def __init__(self) -> None:
        self._latin: dict[str, list[_Entry]] = {}
        self._prefixes: set[str] = set()  # name-key prefixes ending at an allowed word break
        self._hangul: dict[str, list[_Entry]] = {}
        self._hangul_sizes: tuple[int, ...] = ()
        self._size = 0

    @classmethod
    def build(
        cls,
        stars: Iterable[tuple[Hashable, Iterable[str | NameRule]]],
        rules: Mapping[str, NameRule] | None = None,
    ) -> StarMatcher:
        """Index every star's names. rules: care instructions for plain-string names, by name_key."""
        self = cls()
        by_key = {name_key(k): v for k, v in (rules or {}).items()}
        sizes: set[int] = set()
        for star, names in stars:
            for name in names:
                if isinstance(name, NameRule):
                    rule = name
                else:
                    rule = (by_key.get(name_key(name)) if by_key else None) or _default_rule(name)
                added = self._add(star, rule)
                if added and is_hangul(added):
                    sizes.add(len(added))
        self._hangul_sizes = tuple(sorted(sizes, reverse=True))
        return self

    def _add(self, star: Hashable, rule: NameRule) -> str | None:
        folded = fold(rule.text).strip().lstrip("#@")
        key = "".join(ch for ch in folded.casefold() if ch.isalnum())  # name_key, without folding twice
        if not key:
            return None
        unless = frozenset(u if is_hangul(u) else name_key(u) for u in rule.unless)
        hangul_only = "".join(folded.split())
        if is_hangul(hangul_only):
            # Spaces inside a Hangul name ("송 혜교") are not worth supporting; index it glued.
            self._hangul.setdefault(hangul_only, []).append(_Entry(star, frozenset(), None, unless, rule.not_a_unit))
            self._size += 1
            return hangul_only
        if not key.isascii():
            return None  # other scripts (カタカナ, 漢字) are not matched; see the module docstring
        parts = [p.lower() for p in _NAME_PARTS.findall(folded)]
        bounds, offset = set(), 0
        for part in parts[:-1]:
            offset += len(part)
            bounds.add(offset)
        exact = "".join(ch for ch in folded if ch.isalnum()) if rule.case_sensitive else None
        entries = self._latin.setdefault(key, [])
        entries.append(_Entry(star, frozenset(bounds), exact, unless, rule.not_a_unit))
        self._prefixes.update(key[:b] for b in bounds)
        self._size += 1
        return key

    def __len__(self) -> int:
        return self._size

    def match(self, text: str) -> list[Hashable]:
        """Stars named in text (HTML allowed), in order of first mention, without repeats."""
        clean = fold(plain_text(text))
        if not clean:
            return []
        tokens = self._tokenise(clean)
        found: list[tuple[_Entry, ...]] = []
        n = len(tokens)
        i = 0
        latin, prefixes = self._latin, self._prefixes
        while i < n:
            low, orig, hangul = tokens[i]
            if hangul:
                hit = self._match_hangul(low)
                byline = hit and i + 1 < n and tokens[i + 1][0] in _BYLINE and low in self._hangul
                if hit and not byline:
                    found.append(hit)
                i += 1
                continue
            # Join tokens while the joined text is still the start of some name at a word break.
            best: tuple[int, list[_Entry]] | None = None
            joined, exact, cuts, j = "", "", [], i
            while j < n and not tokens[j][2]:
                joined += tokens[j][0]
                exact += tokens[j][1]
                entries = latin.get(joined)
                if entries:
                    ok = [
                        e
                        for e in entries
                        if cuts_ok(cuts, e)
                        and (e.exact is None or e.exact == exact)
                        and not (e.not_a_unit and _after_quantity(tokens, i, j + 1))
                    ]
                    if ok:
                        best = (j + 1, ok)
                if joined not in prefixes:
                    break
                cuts.append(len(joined))
                j += 1
            if best:
                found.append(tuple(best[1]))
                i = best[0]
            else:
                i += 1
        return self._resolve(found, tokens)

    @staticmethod
    def _tokenise(clean: str) -> list[tuple[str, str, bool]]:
        """(lower, original, is_hangul) per token; hashtags and handles are split at their capitals."""
        out: list[tuple[str, str, bool]] = []
        for m in _TOKENS.finditer(clean):
            tok = m.group()
            if tok[0] >= "\uac00":
                out.append((tok, tok, True))
            elif m.start() and clean[m.start() - 1] in "#@" and not tok.islower() and not tok.isupper():
                out.extend((p.lower(), p, False) for p in _CAMEL.findall(tok))
            else:
                out.append((tok.lower(), tok, False))
        return out

    def _match_hangul(self, run: str) -> tuple[_Entry, ...] | None:
        for size in self._hangul_sizes:
            if size > len(run):
                continue
            entries = self._hangul.get(run[:size])
            if entries and _particles_only(run[size:]):
                return tuple(entries)
        return None

    @staticmethod
    def _resolve(found: list[tuple[_Entry, ...]], tokens: list[tuple[str, str, bool]]) -> list[Hashable]:
        words: set[str] | None = None
        stars: dict[Hashable, None] = {}
        for entries in found:
            for e in entries:
                if e.key in stars:
                    continue
                if e.unless:
                    if words is None:
                        words = {t[0] for t in tokens}
                    if _vetoed(e.unless, words):
                        continue
                stars[e.key] = None
        return list(stars)


def cuts_ok(cuts: list[int], entry: _Entry) -> bool:
    """The text may split a name only where the name itself has a word break."""
    return all(c in entry.boundaries for c in cuts)


_UNIT_FOLLOWERS = frozenset("per of daily a each day week".split())


def _after_quantity(tokens: list[tuple[str, str, bool]], start: int, end: int) -> bool:
    """True for '1000 IU', '4,000 IU' and '2000 IU daily'; False for '2024 IU H.E.R. World Tour'."""
    if start == 0 or not tokens[start - 1][0].isdigit():
        return False
    number = tokens[start - 1][0]
    year_like = len(number) == 4 and number[:2] in ("19", "20") and not (start > 1 and tokens[start - 2][0].isdigit())
    followed = end < len(tokens) and tokens[end][0] in _UNIT_FOLLOWERS
    return not year_like or followed


def _vetoed(unless: frozenset[str], words: set[str]) -> bool:
    for w in unless:
        if is_hangul(w):
            if any(t.startswith(w) for t in words):
                return True
        elif w in words:
            return True
    return False
