"""Dream-collaboration polls, pure: pairings, durations, poll text rules, tallies, bars and winners."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..errors import UserError
from .discord_text import display_text

MIN_OPTIONS = 2
MAX_OPTIONS = 25
MAX_BUTTONS = 5  # more options than this are shown as a select menu
MAX_QUESTION = 200
MAX_PROJECT = 80
MIN_DURATION = timedelta(minutes=1)
MAX_DURATION = timedelta(days=32)
DEFAULT_DURATION = timedelta(days=1)
BAR_WIDTH = 12
PAIR_SIGN = "×"

# "A x B", "A X B", "A × B": an x only counts as the separator with spaces around it, so names
# containing an x ("Alexa", "Xiumin") stay whole; × needs no spaces.
_PAIR_SEPARATOR = re.compile(r"\s+[xX]\s+|\s*×\s*")
_DURATION = re.compile(r"(\d{1,6})\s*(m|min|mins|minutes?|h|hrs?|hours?|d|days?)", re.IGNORECASE)
_DURATION_WHOLE = re.compile(rf"(?:{_DURATION.pattern}\s*)+", re.IGNORECASE)
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Pairing:
    """Two different stars, in a fixed order (lower id first) so "A x B" and "B x A" are one pairing."""

    star_low: int
    star_high: int

    @classmethod
    def of(cls, star_a: int, star_b: int) -> "Pairing":
        if star_a == star_b:
            raise UserError("pairing.same_star")
        return cls(min(star_a, star_b), max(star_a, star_b))

    @property
    def key(self) -> tuple[int, int]:
        return (self.star_low, self.star_high)


def pairing_label(name_a: str, name_b: str) -> str:
    return f"{name_a} {PAIR_SIGN} {name_b}"


def parse_pairings(text: str) -> list[tuple[str, str]]:
    """`A x B; C × D` → [("A", "B"), ("C", "D")] as typed; stars are resolved by the service."""
    pairs: list[tuple[str, str]] = []
    for number, chunk in enumerate((text or "").split(";"), start=1):
        chunk = chunk.strip()
        if not chunk:
            continue
        parts = [p.strip() for p in _PAIR_SEPARATOR.split(chunk)]
        if len(parts) != 2 or not all(parts):
            shown = _CONTROL.sub("", chunk)[:60]
            raise UserError("pairing.not_two_stars", number=number, text=shown)
        pairs.append((parts[0], parts[1]))
    if not pairs:
        raise UserError("pairings.none")
    return pairs


def check_options(pairings: Sequence[Pairing]) -> None:
    """2 to 25 options, none repeated (in either order)."""
    if len(pairings) < MIN_OPTIONS:
        raise UserError("pairings.too_few", n=len(pairings), minimum=MIN_OPTIONS)
    if len(pairings) > MAX_OPTIONS:
        raise UserError("pairings.too_many", n=len(pairings), limit=MAX_OPTIONS)
    seen: set[tuple[int, int]] = set()
    for number, pairing in enumerate(pairings, start=1):
        if pairing.key in seen:
            raise UserError("pairings.repeated", number=number)
        seen.add(pairing.key)


def parse_duration(text: str | None) -> timedelta:
    """`30m`, `6h`, `3d` (also `1d12h`, `90 min`): from 1 minute to 32 days. None or empty: one day."""
    if text is None or not text.strip():
        return DEFAULT_DURATION
    cleaned = text.strip().lower()
    if not _DURATION_WHOLE.fullmatch(cleaned):
        shown = _CONTROL.sub("", text.strip())[:20]
        raise UserError("duration.invalid", text=shown)
    total = sum(int(m.group(1)) * _UNIT_SECONDS[m.group(2)[0]] for m in _DURATION.finditer(cleaned))
    duration = timedelta(seconds=total)
    if duration < MIN_DURATION or duration > MAX_DURATION:
        raise UserError("duration.out_of_range")
    return duration


def clean_question(text: str) -> str:
    """The question as stored: trimmed, one line breaks kept, no control characters, ≤ 200 characters.

    Markdown and mentions are kept as typed and neutralised whenever shown."""
    cleaned = display_text((text or "").strip(), multiline=True)
    cleaned = re.sub(r"\n{3,}", "\n\n", cleaned).strip()
    if not cleaned:
        raise UserError("question.empty")
    if len(cleaned) > MAX_QUESTION:
        raise UserError("question.too_long", length=len(cleaned), limit=MAX_QUESTION)
    return cleaned


def clean_project(text: str | None) -> str | None:
    """A proposal's project idea ("thriller drama"): one line, ≤ 80 characters, or None."""
    if text is None:
        return None
    cleaned = display_text(text)
    if not cleaned:
        return None
    if len(cleaned) > MAX_PROJECT:
        raise UserError("project.too_long", length=len(cleaned), limit=MAX_PROJECT)
    return cleaned


def check_max_choices(max_choices: int, option_count: int) -> None:
    if max_choices < 1:
        raise UserError("max_choices.too_few")
    if max_choices > option_count:
        raise UserError("max_choices.too_many", chosen=max_choices, options=option_count)


# -- voting -----------------------------------------------------------------------------------
def toggle_choice(current: Iterable[int], option: int, max_choices: int) -> tuple[frozenset[int], str]:
    """A button press: (the voter's new choices, what happened: "set", "same", "added", "removed", "full").

    With one choice, pressing another option moves the vote and pressing the same one keeps it;
    with several, a press adds or removes that option, up to max_choices."""
    chosen = frozenset(current)
    if max_choices == 1:
        if chosen == {option}:
            return chosen, "same"
        return frozenset({option}), "set"
    if option in chosen:
        return chosen - {option}, "removed"
    if len(chosen) >= max_choices:
        return chosen, "full"
    return chosen | {option}, "added"


# -- tallies -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OptionResult:
    """One poll option's votes, share and percentage."""

    position: int
    label: str
    votes: int
    share: float  # of all votes cast, 0..1

    @property
    def percent(self) -> int:
        return round(self.share * 100)


@dataclass(frozen=True, slots=True)
class Tally:
    """A poll's counts: every option's result, the voters and the winners."""

    options: tuple[OptionResult, ...]
    total_votes: int
    voters: int

    @property
    def winners(self) -> tuple[OptionResult, ...]:
        """Every option with the most votes (more than one is a tie); none when nobody voted."""
        if self.total_votes == 0:
            return ()
        top = max(o.votes for o in self.options)
        return tuple(o for o in self.options if o.votes == top)

    @property
    def is_tie(self) -> bool:
        return len(self.winners) > 1


def tally(labels: Sequence[str], counts: dict[int, int], voters: int | None = None) -> Tally:
    """Results for options in position order; `counts` maps position → votes (missing: 0)."""
    total = sum(counts.get(i, 0) for i in range(len(labels)))
    results = tuple(
        OptionResult(i, label, counts.get(i, 0), (counts.get(i, 0) / total) if total else 0.0)
        for i, label in enumerate(labels)
    )
    return Tally(results, total, total if voters is None else voters)


def bar(share: float, width: int = BAR_WIDTH) -> str:
    """A text bar: `share` of `width` cells full, rounded, with at least one cell for any vote."""
    share = min(max(share, 0.0), 1.0)
    full = round(share * width)
    if share > 0 and full == 0:
        full = 1
    return "█" * full + "░" * (width - full)


# -- leaderboard -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LeaderboardRow:
    """A pairing's wins, votes and proposals, before ranking."""

    pairing: Pairing
    wins: int
    votes: int
    proposals: int


def rank_leaderboard(rows: Iterable[LeaderboardRow], limit: int = 10) -> list[LeaderboardRow]:
    """Most wins first, then most votes in closed polls, then most proposals; ties keep pairing order."""
    ordered = sorted(rows, key=lambda r: (-r.wins, -r.votes, -r.proposals, r.pairing.key))
    return [r for r in ordered if r.wins or r.votes or r.proposals][:limit]


# -- records -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PollOption:
    """One option of a poll: its position and label."""

    position: int
    label: str
    pairing: Pairing


@dataclass(frozen=True, slots=True)
class CollabPoll:
    """A dream-collaboration poll and its rules (closing time, choices, anonymity, hidden results)."""

    id: int
    guild_id: int
    question: str
    created_by: int
    created_at: datetime
    closes_at: datetime
    closed_at: datetime | None
    max_choices: int
    anonymous: bool
    hide_results: bool
    channel_id: int | None
    message_id: int | None
    options: tuple[PollOption, ...]

    def is_open(self, now: datetime) -> bool:
        """Open until closed, and never past its closing time even before the timer has run."""
        return self.closed_at is None and now < self.closes_at

    @property
    def labels(self) -> list[str]:
        return [o.label for o in self.options]

    def shows_counts(self, now: datetime) -> bool:
        return not self.hide_results or not self.is_open(now)
