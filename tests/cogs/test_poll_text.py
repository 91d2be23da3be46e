"""How poll outcomes read: winners, ties and no votes, in English and Korean."""

from __future__ import annotations

from bot.domain.polls import tally
from bot.i18n import Catalogues
from cogs._poll_views import winner_sentence

ENGLISH, KOREAN = Catalogues.load().get("en"), Catalogues.load().get("ko")


def test_tally_counts_shares_and_a_single_winner():
    result = tally(["A", "B", "C"], {0: 3, 2: 1})
    assert [o.votes for o in result.options] == [3, 0, 1]
    assert [o.percent for o in result.options] == [75, 0, 25]
    assert result.total_votes == 4
    assert [w.label for w in result.winners] == ["A"]
    assert not result.is_tie
    assert winner_sentence(result, ENGLISH) == "Winner: A (3 votes, 75%)"
    assert winner_sentence(result, KOREAN) == "우승: A (3표, 75%)"


def test_tie_is_stated_as_a_tie():
    result = tally(["A", "B", "C"], {0: 2, 1: 2, 2: 1})
    assert result.is_tie
    assert [w.label for w in result.winners] == ["A", "B"]
    assert winner_sentence(result, ENGLISH) == "Tie between A and B (2 votes each)"
    assert winner_sentence(result, KOREAN) == "공동 우승: A, B (각 2표)"
    three = tally(["A", "B", "C"], {0: 1, 1: 1, 2: 1})
    assert winner_sentence(three, ENGLISH) == "Tie between A, B and C (1 vote each)"


def test_no_votes_has_no_winner():
    result = tally(["A", "B"], {})
    assert result.winners == ()
    assert winner_sentence(result, ENGLISH) == "No votes were cast."
    assert all(o.share == 0 for o in result.options)
