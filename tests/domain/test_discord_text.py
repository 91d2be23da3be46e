"""Untrusted text made inert for Discord: no pings, no markdown, sensible truncation."""

from __future__ import annotations

import pytest

from bot.domain.discord_text import ELLIPSIS, ZWSP, neutralise, truncate


@pytest.mark.parametrize("text", ["@everyone", "@here", "hey @Everyone!"])
def test_breaks_mass_mentions(text):
    out = neutralise(text)
    assert "@everyone" not in out.lower() and "@here" not in out.lower()
    assert out.replace(ZWSP, "") == text


@pytest.mark.parametrize("text", ["<@123>", "<@!123>", "<@&456>", "<#789>", "</vote:123>"])
def test_breaks_user_role_channel_and_command_mentions(text):
    out = neutralise(text)
    assert out == "<" + ZWSP + text[1:]


def test_masked_links_and_emphasis_do_not_render():
    out = neutralise("[click me](https://evil.example) **bold** __u__ ~~s~~ `code` ||spoiler||")
    assert "[click me](" not in out and "\\[click me\\]" in out
    for raw in ("**", "__", "~~", "`", "||"):
        assert raw not in out.replace("\\" + raw[0], "")


def test_plain_links_stay_clickable():
    assert neutralise("see https://example.com/a_b_c?x=1") == "see https://example.com/a_b_c?x=1"


def test_headings_quotes_and_lists_at_line_start_are_escaped():
    assert neutralise("# Big\n> quote\n- item\n-# small") == "\\# Big\n\\> quote\n\\- item\n\\-# small"
    assert neutralise("Song Hye-kyo - new drama # 1") == "Song Hye-kyo - new drama # 1"


def test_strips_control_and_direction_override_characters():
    assert neutralise("evil\u202etxt.exe\x00") == "eviltxt.exe"


def test_korean_text_passes_unchanged():
    assert neutralise("송혜교, 새 드라마 <더 글로리> 공개") == "송혜교, 새 드라마 <더 글로리> 공개"


def test_truncate_keeps_short_text_and_cuts_long_text_with_an_ellipsis():
    assert truncate("short", 10) == "short"
    assert truncate("exactly10!", 10) == "exactly10!"
    out = truncate("Song Hye-kyo and Han So-hee star in a new thriller", 30)
    assert len(out) <= 30 and out.endswith(ELLIPSIS) and out == "Song Hye-kyo and Han So-hee…"


def test_truncate_never_separates_a_character_from_its_accents():
    text = "e\u0301" * 10  # e + combining acute
    out = truncate(text, 6)
    assert len(out) <= 6 and out.endswith(ELLIPSIS)
    assert out[:-1].endswith("\u0301")  # the last "e" kept its accent or was dropped whole


def test_truncate_hangul_and_emoji():
    assert truncate("송혜교" * 100, 10) == "송혜교송혜교송혜교" + ELLIPSIS
    assert len(truncate("👩‍👩‍👧" * 50, 20)) <= 20


# --- Stored display texts (issue 11) -------------------------------------------------------------------


def test_display_text_drops_direction_marks_and_turns_controls_into_single_spaces() -> None:
    from bot.domain.discord_text import display_text

    assert display_text("Press\x00A\u202e gpj.exe\u2066\u2069\u200f\u061c") == "Press A gpj.exe"
    assert display_text("a\tb\r\nc\x85d\x7f") == "a b c d"
    assert display_text(None) == "" and display_text("\u202e") == ""
    assert display_text("line one\nline\u202e two\r\n", multiline=True) == "line one\nline two \n"
    assert display_text("e\u0301") == "é"  # NFC, as stored names are compared


def test_poll_and_media_texts_use_the_same_cleaning() -> None:
    from bot.domain.media import clean_title
    from bot.domain.polls import clean_project, clean_question

    assert clean_question("Who\u202e should\nstar?\x00") == "Who should\nstar?"
    assert clean_project("thriller\u202e drama\x00") == "thriller drama"
    assert clean_title("BTS\u2067 clip\x00") == "BTS clip"
