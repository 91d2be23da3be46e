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
- Ambiguous names (IU is also Indiana University, 수지 is also a district and a balance) can be
  case-sensitive and are decided by context words from the whole item (NameRule): words that refute
  ("Hoosiers", "흑자") against words that confirm ("concert", "드라마", her works, another star named).
  The words are looked up in the tokens already cut, and only when an ambiguous name was found.
- A multi-word Latin name with one wrong letter in one word after the first ("Song Hyy-kyo", "Han So
  He") matches when the rest is exact, the corrected name is one star only, and the wrong word does
  not spell Korean syllables (then it is more likely another person: "Song Hye-kyu"). See typos.py.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

from .evidence import Explanation, Hit, decide
from .text import fold, is_hangul, name_key, plain_text
from .typos import deletions, one_edit, spells_korean_syllables

__all__ = ["Explanation", "NameRule", "StarMatcher", "plain_text", "HANGUL_PARTICLES", "TOKENS", "particles_only"]

_TOKENS = TOKENS = re.compile(r"[A-Za-z0-9]+|[\uac00-\ud7a3]+")
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_NAME_PARTS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+|[\uac00-\ud7a3]+")

# Endings that may follow a Hangul name inside the same word. A run matches when its rest is a chain of
# these (와+의, 에게+서+도). Kept short on purpose: a one-syllable ending that is also a common last
# syllable of names (인, 라, 나, 아) would let 윤아 match 윤아라.
# Copulas and endings (다, 입니다, 이에요, 만큼) chain like particles: 한소희다, 한소희만의, 김고은님도.
HANGUL_PARTICLES = frozenset(
    """가 이 의 와 과 는 은 를 을 도 에 에게 에게서 한테 한테서 께 께서 랑 이랑 하고 측 씨 님 로 으로
    로서 로써 만 까지 부터 처럼 보다 마저 조차 밖에 뿐 에서 서 라고 이라고 라는 이라는 이란 란 이다 였다
    이었다 였던 이었던 이며 이자 표 네 양 언니 누나 부부 커플 효과 주연 등 다 입니다 이에요 예요 야 이야
    만큼 이나 에겐 한텐 께선 에게로 로부터 으로부터 이고 이지만 인데 이라서""".split()
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
    confirm: words that, anywhere in the same text, show it is her ("concert", "드라마", her works).
    The name counts when it has more confirming than refuting words; with none of either it counts
    unless needs_context, and another star named in the same text is one confirming word.
    """

    text: str
    case_sensitive: bool = False
    unless: tuple[str, ...] = ()
    not_a_unit: bool = False
    confirm: tuple[str, ...] = ()
    needs_context: bool = False


@dataclass(frozen=True, slots=True)
class _Entry:
    key: Hashable  # the star
    boundaries: frozenset[int]  # offsets in the name key where the text may put a word break
    exact: str | None  # letters as written, for case-sensitive names
    unless: frozenset[str]
    not_a_unit: bool = False
    name: str = ""  # as catalogued, for explanations
    confirm: frozenset[str] = frozenset()
    needs_context: bool = False
    ambiguous: bool = False  # decided by context words (set by _add)


_Hit = Hit
_TYPO_MIN_REST = 4  # letters after the exact words: "Han So He" (sohee) yes, "Song Hye Ky" (kyo) no
_TYPO_MIN_KEY = 7
_NOT_ALNUM = re.compile(r"[\W_]+")
_NONE: frozenset[str] = frozenset()
_NO_BOUNDS: frozenset[int] = frozenset()


def _default_rule(name: str) -> NameRule:
    # Short all-caps names (IU) are acronyms of other things far more often than in lower case.
    letters = _NOT_ALNUM.sub("", name)
    return NameRule(name, case_sensitive=len(letters) <= 3 and letters.isascii() and letters.isupper())


def _particles_only(rest: str) -> bool:
    """True when rest is empty or a chain of allowed particles."""
    if not rest:
        return True
    for size in range(min(_MAX_PARTICLE, len(rest)), 0, -1):
        if rest[:size] in HANGUL_PARTICLES and _particles_only(rest[size:]):
            return True
    return False


particles_only = _particles_only  # story filters read Hangul words by the same rule (bot.domain.filters)


class StarMatcher:
    """Immutable index of star names; build once when names change, then call match() per text."""

    def __init__(self) -> None:
        self._latin: dict[str, list[_Entry]] = {}
        # Name-key prefixes ending at an allowed word break -> True when a typo may follow there.
        self._prefixes: dict[str, bool] = {}
        self._hangul: dict[str, list[_Entry]] = {}
        self._hangul_sizes: tuple[int, ...] = ()
        # First word of a multi-word name -> {its other words, or them less one letter -> (entries, rest)}.
        self._typos: dict[str, dict[str, list[tuple[tuple[_Entry, ...], str]]]] = {}
        # First word -> what a slip of one of its rests can look like: its length, and its first two or
        # last two letters (a letter wrong, missing or extra in four or more leaves one of the pairs as
        # it was; so does a swap, except of the middle two of exactly four letters).
        self._rest_shapes: dict[str, tuple[set[int], set[str]]] = {}
        self._size = 0
        self._person: Mapping[Hashable, Hashable] = {}

    @classmethod
    def build(
        cls,
        stars: Iterable[tuple[Hashable, Iterable[str | NameRule]]],
        rules: Mapping[str, NameRule] | None = None,
        *,
        person: Mapping[Hashable, Hashable] | None = None,
    ) -> StarMatcher:
        """Index every star's names. rules: care instructions for plain-string names, by name_key.
        person: who a key is, when several keys are one woman (the same star indexed for servers that
        edited her names differently); a slip of one person's names is still hers (see _typo)."""
        # The index is tens of thousands of small objects that all live as long as it does: a cyclic
        # garbage collection in the middle of building would walk every one of them for nothing.
        paused = gc.isenabled()
        gc.disable()
        try:
            self = cls._build(stars, rules)
            if person:
                self._person = person
            return self
        finally:
            if paused:
                gc.enable()

    @classmethod
    def _build(
        cls,
        stars: Iterable[tuple[Hashable, Iterable[str | NameRule]]],
        rules: Mapping[str, NameRule] | None,
    ) -> StarMatcher:
        self = cls()
        by_key = {name_key(k): v for k, v in (rules or {}).items()}
        sizes: set[int] = set()
        typo_names: dict[tuple[str, int], list[_Entry]] = {}
        for star, names in stars:
            for name in names:
                if isinstance(name, NameRule):
                    rule = name
                else:
                    rule = (by_key.get(name_key(name)) if by_key else None) or _default_rule(name)
                added = self._add(star, rule, typo_names)
                if added and not added.isascii():  # a Hangul name
                    sizes.add(len(added))
        self._hangul_sizes = tuple(sorted(sizes, reverse=True))
        self._index_typos(typo_names)
        return self

    def _add(self, star: Hashable, rule: NameRule, typo_names: dict[tuple[str, int], list[_Entry]]) -> str | None:
        folded = fold(rule.text).strip().lstrip("#@")
        key = _NOT_ALNUM.sub("", folded.casefold())  # name_key, without folding twice
        if not key:
            return None
        unless = frozenset(u if is_hangul(u) else name_key(u) for u in rule.unless) if rule.unless else _NONE
        confirm = frozenset(c if is_hangul(c) else name_key(c) for c in rule.confirm) if rule.confirm else _NONE
        ambiguous = bool(unless or confirm or rule.needs_context)
        if not key.isascii():
            hangul_only = "".join(folded.split())
            if not is_hangul(hangul_only):
                return None  # other scripts (カタカナ, 漢字) are not matched; see the module docstring
            # Spaces inside a Hangul name ("송 혜교") are not worth supporting; index it glued.
            entry = _Entry(
                star, _NO_BOUNDS, None, unless, rule.not_a_unit, rule.text, confirm, rule.needs_context, ambiguous
            )
            self._hangul.setdefault(hangul_only, []).append(entry)
            self._size += 1
            return hangul_only
        parts = _NAME_PARTS.findall(folded)
        bounds, offset = set(), 0
        for part in parts[:-1]:
            offset += len(part)
            bounds.add(offset)
        exact = _NOT_ALNUM.sub("", folded) if rule.case_sensitive else None
        entry = _Entry(
            star, frozenset(bounds), exact, unless, rule.not_a_unit, rule.text, confirm, rule.needs_context, ambiguous
        )
        self._latin.setdefault(key, []).append(entry)
        for b in bounds:
            self._prefixes.setdefault(key[:b], False)
        if exact is None and len(key) >= _TYPO_MIN_KEY and " " in folded:
            first = len(_NOT_ALNUM.sub("", folded.split(None, 1)[0]))
            if len(key) - first >= _TYPO_MIN_REST:
                typo_names.setdefault((key, first), []).append(entry)
        self._size += 1
        return key

    def _index_typos(self, typo_names: dict[tuple[str, int], list[_Entry]]) -> None:
        """After every exact name is known: the ways one letter can go wrong after the first word.

        Symmetric deletion: a slip in the text and the name agree once one letter is dropped from
        either, so the index holds each rest and the rest less each letter; one_edit() confirms."""
        for (key, end), entries in typo_names.items():
            prefix, rest = key[:end], key[end:]
            self._prefixes[prefix] = True
            sizes, ends = self._rest_shapes.setdefault(prefix, (set(), set()))
            sizes.update((len(rest) - 1, len(rest), len(rest) + 1))
            ends.update(("<" + rest[:2], rest[-2:] + ">"))
            table = self._typos.setdefault(prefix, {})
            hit = (tuple(entries), rest)
            for i in range(len(rest) + 1):
                # i == len(rest) adds the rest itself; a repeated letter ("hee") gives one variant twice,
                # which costs nothing: hits are collected by identity.
                table.setdefault(rest[:i] + rest[i + 1 :], []).append(hit)

    def __len__(self) -> int:
        return self._size

    def match(self, text: str) -> list[Hashable]:
        """Stars named in text (HTML allowed), in order of first mention, without repeats."""
        hits, tokens = self._scan(text)
        if not hits:
            return []
        if not any(e.ambiguous for entries, _, _, _ in hits for e in entries):
            return list(dict.fromkeys(e.key for entries, _, _, _ in hits for e in entries))
        return [x.star for x in decide(hits, tokens) if x.matched]

    def explain(self, text: str) -> list[Explanation]:
        """Every star whose name was found, matched or not, with the name, the spelling and the reason."""
        hits, tokens = self._scan(text)
        return decide(hits, tokens) if hits else []

    def _scan(self, text: str) -> tuple[list[_Hit], list[tuple[str, str, bool]]]:
        clean = fold(plain_text(text))
        if not clean:
            return [], []
        tokens = self._tokenise(clean)
        found: list[_Hit] = []
        n = len(tokens)
        i = 0
        latin, prefixes = self._latin, self._prefixes
        while i < n:
            low, orig, hangul = tokens[i]
            if hangul:
                hit = self._match_hangul(low)
                byline = hit and i + 1 < n and tokens[i + 1][0] in _BYLINE and low in self._hangul
                if hit and not byline:
                    found.append((hit, i, i + 1, False))
                i += 1
                continue
            # Join tokens while the joined text is still the start of some name at a word break.
            best: tuple[int, list[_Entry]] | None = None
            anchors: list[tuple[int, str]] | None = None
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
                typo_after = prefixes.get(joined)
                if typo_after is None:
                    break
                if typo_after:
                    anchors = [(j + 1, joined)] if anchors is None else [(j + 1, joined), *anchors]
                cuts.append(len(joined))
                j += 1
            if best:
                found.append((tuple(best[1]), i, best[0], False))
                i = best[0]
            elif anchors and (typo := self._typo(tokens, anchors)):
                found.append((typo[0], i, typo[1], True))
                i = typo[1]
            else:
                i += 1
        return found, tokens

    def _typo(
        self, tokens: list[tuple[str, str, bool]], anchors: list[tuple[int, str]]
    ) -> tuple[tuple[_Entry, ...], int] | None:
        """One wrong letter in the words after an exact first word: one star's entries, and where they end."""
        n = len(tokens)
        for start, prefix in anchors:
            table = self._typos[prefix]
            sizes, ends = self._rest_shapes[prefix]
            written, k = "", start
            # A given name is one or two tokens in the text ("Hye-kyo", "Hyekyo").
            while k < n and k < start + 2 and not tokens[k][2]:
                written += tokens[k][0]
                k += 1
                if len(written) not in sizes or ("<" + written[:2] not in ends and written[-2:] + ">" not in ends):
                    continue
                if spells_korean_syllables(written):
                    continue  # a real syllable spelling ("Hye-kyu") is more likely another person than a slip
                found: dict[int, tuple[tuple[_Entry, ...], str]] = {}
                for variant in (written, *deletions(written)):
                    for hit in table.get(variant, ()):
                        if one_edit(written, hit[1]):
                            found[id(hit)] = hit
                if not found:
                    continue
                person = self._person
                stars = {person.get(e.key, e.key) for entries, _ in found.values() for e in entries}
                # A slip of more than one star's name is nobody's. Precision first.
                if len(stars) == 1 and prefix + written not in self._latin:
                    return tuple(e for entries, _ in found.values() for e in entries), k
                return None
        return None

    @staticmethod
    def _tokenise(clean: str) -> list[tuple[str, str, bool]]:
        """(lower, original, is_hangul) per token; hashtags and handles are split at their capitals."""
        if "#" not in clean and "@" not in clean:  # most texts: no capitals to split at
            return [(t.lower(), t, t[0] >= "\uac00") for t in _TOKENS.findall(clean)]
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
