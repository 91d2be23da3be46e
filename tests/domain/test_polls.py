"""Poll rules without Discord: pairings, durations, question text, votes, tallies, bars and ties."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.domain.polls import (
    BAR_WIDTH,
    CollabPoll,
    LeaderboardRow,
    Pairing,
    bar,
    check_max_choices,
    check_options,
    clean_project,
    clean_question,
    parse_duration,
    parse_pairings,
    rank_leaderboard,
    toggle_choice,
)
from bot.errors import UserError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("6h", timedelta(hours=6)),
        ("3d", timedelta(days=3)),
        ("1m", timedelta(minutes=1)),
        ("32d", timedelta(days=32)),
        (" 1d12h ", timedelta(days=1, hours=12)),
        ("90 min", timedelta(minutes=90)),
        ("2 hours", timedelta(hours=2)),
        ("6H", timedelta(hours=6)),
        (None, timedelta(days=1)),
        ("", timedelta(days=1)),
    ],
)
def test_duration_parses_minutes_hours_days(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["0m", "33d", "32d1m", "abc", "5", "m", "-3d", "3w", "1.5h", "3d abc"])
def test_duration_outside_one_minute_to_32_days_or_unreadable_is_refused(text):
    with pytest.raises(UserError):
        parse_duration(text)


def test_pairings_split_on_semicolons_and_x_in_any_spelling():
    text = "Song Hye-kyo x Han So-hee; Song Hye-kyo × Kim Go-eun ;Han So-hee X Kim Go-eun;IU×Suzy;"
    assert parse_pairings(text) == [
        ("Song Hye-kyo", "Han So-hee"),
        ("Song Hye-kyo", "Kim Go-eun"),
        ("Han So-hee", "Kim Go-eun"),
        ("IU", "Suzy"),
    ]


def test_an_x_inside_a_name_is_not_a_separator():
    assert parse_pairings("Alexa x Xiumin") == [("Alexa", "Xiumin")]


@pytest.mark.parametrize("text", ["Song Hye-kyo", "A x B x C", " x B", ";;", "", "Song Hye-kyo and Han So-hee"])
def test_a_pairing_that_is_not_two_names_is_refused(text):
    with pytest.raises(UserError):
        parse_pairings(text)


def test_pairing_is_the_same_in_either_order_and_never_one_star_twice():
    assert Pairing.of(7, 3) == Pairing.of(3, 7) == Pairing(3, 7)
    with pytest.raises(UserError, match="pairing.same_star"):
        Pairing.of(4, 4)


def test_options_need_two_to_25_distinct_pairings():
    check_options([Pairing(1, 2), Pairing(1, 3)])
    with pytest.raises(UserError, match="pairings.too_few"):
        check_options([Pairing(1, 2)])
    with pytest.raises(UserError, match="pairings.repeated"):
        check_options([Pairing(1, 2), Pairing.of(2, 1)])
    many = [Pairing(1, n) for n in range(2, 28)]
    with pytest.raises(UserError, match="pairings.too_many"):
        check_options(many)
    check_options(many[:25])


def test_max_choices_cannot_exceed_the_options():
    check_max_choices(3, 3)
    with pytest.raises(UserError, match=r"max_choices.too_many \(chosen=4, options=3\)"):
        check_max_choices(4, 3)


def test_question_is_trimmed_kept_literal_and_at_most_200_characters():
    assert clean_question("  Who should star with **her**? @everyone  ") == "Who should star with **her**? @everyone"
    assert clean_question("x" * 200) == "x" * 200
    with pytest.raises(UserError, match="length=201"):
        clean_question("x" * 201)
    with pytest.raises(UserError):
        clean_question("   ")
    assert clean_question("a\x00b") == "a b"


def test_project_is_one_line_up_to_80_characters():
    assert clean_project("  thriller \n drama ") == "thriller drama"
    assert clean_project("   ") is None
    assert clean_project(None) is None
    with pytest.raises(UserError):
        clean_project("y" * 81)


def test_single_choice_press_moves_the_vote_and_repeating_it_changes_nothing():
    assert toggle_choice([], 2, 1) == (frozenset({2}), "set")
    assert toggle_choice([2], 0, 1) == (frozenset({0}), "set")
    assert toggle_choice([2], 2, 1) == (frozenset({2}), "same")


def test_multi_choice_press_adds_and_removes_up_to_the_limit():
    assert toggle_choice([0], 1, 2) == (frozenset({0, 1}), "added")
    assert toggle_choice([0, 1], 2, 2) == (frozenset({0, 1}), "full")
    assert toggle_choice([0, 1], 0, 2) == (frozenset({1}), "removed")


def test_bars_fill_in_proportion_and_show_any_vote():
    assert bar(0) == "░" * BAR_WIDTH
    assert bar(1) == "█" * BAR_WIDTH
    assert bar(0.5) == "█" * (BAR_WIDTH // 2) + "░" * (BAR_WIDTH // 2)
    assert bar(0.001).startswith("█") and bar(0.001).count("█") == 1
    assert all(len(bar(s / 10)) == BAR_WIDTH for s in range(11))


def test_leaderboard_orders_by_wins_then_votes_then_proposals_and_drops_empty_rows():
    rows = [
        LeaderboardRow(Pairing(1, 2), wins=0, votes=10, proposals=5),
        LeaderboardRow(Pairing(1, 3), wins=1, votes=3, proposals=0),
        LeaderboardRow(Pairing(2, 3), wins=0, votes=10, proposals=7),
        LeaderboardRow(Pairing(3, 4), wins=0, votes=0, proposals=0),
    ]
    ranked = rank_leaderboard(rows)
    assert [r.pairing for r in ranked] == [Pairing(1, 3), Pairing(2, 3), Pairing(1, 2)]


def test_a_poll_past_its_closing_time_is_not_open_even_before_the_timer_runs():
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    poll = CollabPoll(1, 1, "q", 1, start, start + timedelta(hours=1), None, 1, False, True, None, None, ())
    assert poll.is_open(start + timedelta(minutes=59))
    assert not poll.is_open(start + timedelta(hours=1))
    assert not poll.shows_counts(start)
    assert poll.shows_counts(start + timedelta(hours=2))
