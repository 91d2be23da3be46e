"""Poll rules at their edges: limits, line breaks, clamped bars, named winners, leaderboard length."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.domain.polls import (
    BAR_WIDTH,
    CollabPoll,
    LeaderboardRow,
    Pairing,
    PollOption,
    bar,
    check_max_choices,
    check_options,
    clean_project,
    clean_question,
    pairing_label,
    parse_duration,
    parse_pairings,
    rank_leaderboard,
    tally,
)
from bot.errors import UserError
from bot.i18n import Catalogues
from cogs._poll_views import winner_sentence

ENGLISH = Catalogues.load().english


def test_fans_voted_is_the_number_of_voters_not_of_votes():
    result = tally(["A", "B"], {0: 2, 1: 1}, voters=2)
    assert (result.total_votes, result.voters) == (3, 2)
    assert tally(["A", "B"], {0: 2, 1: 1}).voters == 3  # one vote a fan, when the caller does not say


def test_shares_are_of_all_votes_and_percentages_round():
    result = tally(["A", "B", "C"], {0: 2, 1: 1, 7: 5})  # a count for a position the poll does not have
    assert result.total_votes == 3
    assert [o.percent for o in result.options] == [67, 33, 0]
    assert [o.position for o in result.options] == [0, 1, 2]


def test_a_single_winner_is_no_tie_and_names_can_replace_labels():
    result = tally(["A", "B"], {0: 1})
    assert not result.is_tie and [w.label for w in result.winners] == ["A"]
    assert winner_sentence(result, ENGLISH, names=["Song Hye-kyo × Han So-hee"]) == (
        "Winner: Song Hye-kyo × Han So-hee (1 vote, 100%)")
    tie = tally(["A", "B"], {0: 3, 1: 3})
    assert winner_sentence(tie, ENGLISH, names=["X", "Y"]) == "Tie between X and Y (3 votes each)"


@pytest.mark.parametrize(("share", "full"), [(-0.5, 0), (1.5, BAR_WIDTH), (0.04, 1), (0.9, BAR_WIDTH - 1)])
def test_bars_are_clamped_and_any_vote_shows(share, full):
    assert bar(share) == "█" * full + "░" * (BAR_WIDTH - full)
    assert bar(0.5, width=4) == "██░░"


def test_the_leaderboard_shows_the_top_ten_unless_asked_for_fewer():
    rows = [LeaderboardRow(Pairing(1, n), wins=0, votes=n, proposals=0) for n in range(2, 14)]
    ranked = rank_leaderboard(rows)
    assert len(ranked) == 10 and ranked[0].pairing == Pairing(1, 13) and ranked[-1].pairing == Pairing(1, 4)
    assert [r.pairing for r in rank_leaderboard(rows, limit=2)] == [Pairing(1, 13), Pairing(1, 12)]
    tied = [LeaderboardRow(Pairing(2, 3), 1, 5, 1), LeaderboardRow(Pairing(1, 3), 1, 5, 1)]
    assert [r.pairing for r in rank_leaderboard(tied)] == [Pairing(1, 3), Pairing(2, 3)]  # pairing order


def test_max_choices_must_be_at_least_one():
    check_max_choices(1, 2)
    with pytest.raises(UserError) as caught:
        check_max_choices(0, 2)
    assert caught.value.code == "max_choices.too_few"


def test_a_repeated_option_is_named_by_its_number():
    with pytest.raises(UserError) as repeated:
        check_options([Pairing(1, 2), Pairing(1, 3), Pairing.of(3, 1)])
    assert (repeated.value.code, repeated.value.data) == ("pairings.repeated", {"number": 3})
    with pytest.raises(UserError) as too_many:
        check_options([Pairing(1, n) for n in range(2, 28)])
    assert (too_many.value.code, too_many.value.data["n"]) == ("pairings.too_many", 26)


def test_a_bad_pairing_is_named_by_its_number_and_shown_without_control_characters():
    with pytest.raises(UserError) as bad:
        parse_pairings("Song Hye-kyo x Kim Go-eun; Han\x07 So-hee")
    assert (bad.value.code, bad.value.data) == ("pairing.not_two_stars", {"number": 2, "text": "Han So-hee"})
    with pytest.raises(UserError) as none:
        parse_pairings(" ; ")
    assert none.value.code == "pairings.none"
    long_name = "N" * 100
    with pytest.raises(UserError) as caught:
        parse_pairings(long_name)
    assert caught.value.data["text"] == "N" * 60


@pytest.mark.parametrize("text", [None, ""])
def test_no_pairings_at_all_ask_for_pairings(text):
    with pytest.raises(UserError) as caught:
        parse_pairings(text)
    assert caught.value.code == "pairings.none"


def test_too_few_pairings_say_how_many_were_given_and_how_many_are_needed():
    with pytest.raises(UserError) as caught:
        check_options([Pairing(1, 2)])
    assert (caught.value.code, caught.value.data) == ("pairings.too_few", {"n": 1, "minimum": 2})


def test_a_duration_not_understood_is_quoted_back_without_control_characters_and_cut_to_twenty():
    with pytest.raises(UserError) as caught:
        parse_duration("  \x1b[2Jsoon, " + "very " * 10)
    assert (caught.value.code, caught.value.data) == ("duration.invalid", {"text": "[2Jsoon, very very v"})


@pytest.mark.parametrize("text", [None, "", "  \n\t "])
def test_an_empty_question_is_refused_as_empty(text):
    with pytest.raises(UserError) as caught:
        clean_question(text)
    assert caught.value.code == "question.empty"


def test_question_line_breaks_are_kept_but_never_more_than_one_blank_line():
    assert clean_question("Who?\n\n\n\nReally who?") == "Who?\n\nReally who?"
    assert clean_question("Who?\nReally") == "Who?\nReally"
    assert clean_question("a\tb") == "a b"


def test_project_of_exactly_80_characters_is_kept_and_control_characters_become_spaces():
    assert clean_project("y" * 80) == "y" * 80
    assert clean_project("a\x00b") == "a b"
    with pytest.raises(UserError) as caught:
        clean_project("y" * 81)
    assert caught.value.data == {"length": 81, "limit": 80}


def test_a_poll_lists_its_labels_and_shows_counts_unless_hidden_while_open():
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    options = (PollOption(0, pairing_label("A", "B"), Pairing(1, 2)), PollOption(1, "C × D", Pairing(3, 4)))
    poll = CollabPoll(1, 1, "q", 1, start, start + timedelta(hours=1), None, 1, False, False, None, None, options)
    assert poll.labels == ["A × B", "C × D"]
    assert poll.shows_counts(start)
    closed = CollabPoll(1, 1, "q", 1, start, start + timedelta(hours=1), start, 1, False, True, None, None, options)
    assert not closed.is_open(start) and closed.shows_counts(start)


def test_an_empty_pairing_between_two_others_is_skipped():
    assert parse_pairings("A x B;; ;C x D") == [("A", "B"), ("C", "D")]
