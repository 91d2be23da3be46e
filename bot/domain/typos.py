"""What counts as a typo in a romanised Korean name, and what is more likely another person's name.

"Song Hyy-kyo" and "Han So He" are one letter off and spell no Korean syllable, so a reader (and the
matcher) takes them for the star. "Song Hye-kyu" and "Kim Ji-woo" are also one letter off, but they
spell real syllables (규, 우): that is how other people are named, so the matcher leaves them alone.
"""

from __future__ import annotations

import re

# Revised Romanisation plus the older spellings the press still prints (Kyo, Hee, Soo, Shin, Joo,
# Woo, Choi). Syllable = initial + vowel + final, each optional except the vowel.
_INITIALS = "g k kk n d t tt r l m b p pp s ss sh j jj ch h y w".split()
# "ah" as in Min-ah, Ah-in; not h as a final, which would make "Sohhee" read as soh + hee.
_VOWELS = (
    "a ae ya yae eo e yeo ye o wa wae oe yo u wo we wi yu eu ui i "
    "oo ee ou oi eui ea uh ah"
).split()
_FINALS = "k g n t d l r m p b ng s".split()


def _pattern(parts: list[str]) -> str:
    return "(?:" + "|".join(sorted(filter(None, parts), key=len, reverse=True)) + ")"


# One regular expression, so the check runs in C: it is made on every near-miss name in every text.
_SPELLS_SYLLABLES = re.compile(
    f"(?:{_pattern(_INITIALS)}?{_pattern(_VOWELS)}{_pattern(_FINALS)}?)+"
)


def spells_korean_syllables(word: str) -> bool:
    """True when word (lower-case letters) splits into romanised Korean syllables: 'hyekyo', 'jiwoo'."""
    return _SPELLS_SYLLABLES.fullmatch(word) is not None


def one_edit(a: str, b: str) -> bool:
    """True when a and b differ by exactly one insertion, deletion, substitution or swap of neighbours."""
    if a == b:
        return False
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True  # substitution
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    if la > lb:
        return a[i + 1 :] == b[i:]
    return a[i:] == b[i + 1 :]


def deletions(word: str) -> set[str]:
    """word with one letter removed, every way."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}
