"""Deciding ambiguous names from the words around them, and telling a moderator why.

A hit of an unambiguous name settles its star. An ambiguous one (IU, Suzy, 수지) counts when more of
its confirming words than its refuting words occur anywhere in the item; another star named firmly
in the same item is one confirming word. With neither kind, it counts unless it needs context.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .text import is_hangul

if TYPE_CHECKING:
    from .matcher import _Entry

# One hit: the entries for one name found in the text, its token span, and whether it was a typo.
Hit = tuple[tuple["_Entry", ...], int, int, bool]
Tokens = list[tuple[str, str, bool]]


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a star was (not) matched: the name found, as written, and what decided."""

    star: Hashable
    name: str  # the name as catalogued
    written: str  # as the text spells it
    matched: bool
    how: str  # "name", "typo" or "context"
    decided_by: tuple[str, ...] = ()  # the context words that decided, for ambiguous names
    reason: str = ""


def decide(hits: list[Hit], tokens: Tokens) -> list[Explanation]:
        """One explanation per star, in order of first mention: her first hit that counts, or why none did."""
        firm: dict[Hashable, Explanation] = {}
        for entries, start, end, typo in hits:
            for e in entries:
                if not e.ambiguous and e.key not in firm:
                    written = _written(tokens, start, end)
                    why = "one letter off her name, the rest exact" if typo else "her name"
                    firm[e.key] = Explanation(e.key, e.name, written, True, "typo" if typo else "name", (), why)
        words: set[str] | None = None
        out: dict[Hashable, Explanation] = {}
        for entries, start, end, _typo in hits:
            for e in entries:
                if e.key in firm:
                    out.setdefault(e.key, firm[e.key])
                    continue
                if out.get(e.key) is not None and out[e.key].matched:
                    continue
                if words is None:
                    # Single tokens and neighbouring pairs, so a two-word context ("miss A", "K-pop") counts.
                    words = {t[0] for t in tokens}
                    words.update(a[0] + b[0] for a, b in zip(tokens, tokens[1:], strict=False) if not a[2] and not b[2])
                refuted = sorted(_present(e.unless, words))
                confirmed = sorted(_present(e.confirm, words))
                if any(k != e.key for k in firm):
                    confirmed.append("(another star named)")
                if len(confirmed) > len(refuted):
                    ok, by, why = True, confirmed, "confirmed"
                elif refuted:
                    why = "refuted by as many words as confirm it, or more" if confirmed else "refuted"
                    ok, by = False, refuted
                else:
                    why = "no context words" + (", and it needs some" if e.needs_context else "")
                    ok, by = not e.needs_context, []
                out[e.key] = Explanation(e.key, e.name, _written(tokens, start, end), ok, "context", tuple(by), why)
        return list(out.values())


def _written(tokens: Tokens, start: int, end: int) -> str:
    return " ".join(t[1] for t in tokens[start:end])


def _present(context: frozenset[str], words: set[str]) -> set[str]:
    """The context words in the text: Latin ones as one or two whole tokens, Hangul ones as the start
    of a word."""
    found = set()
    for w in context:
        if is_hangul(w):
            if any(t.startswith(w) for t in words):
                found.add(w)
        elif w in words:
            found.add(w)
    return found
