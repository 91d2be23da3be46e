"""Star name, alias, Hangul and birthday rules."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.stars import Star, clean_hangul, clean_name, merge_aliases, name_key, parse_aliases, parse_birthday
from bot.errors import UserError

TODAY = date(2026, 11, 29)


def test_name_key_ignores_case_spaces_and_hyphens():
    assert name_key("Song Hye-kyo") == name_key("song hye kyo") == name_key("SongHyeKyo") == "songhyekyo"
    assert name_key("송혜교") == "송혜교"


@pytest.mark.parametrize(
    "bad",
    ["", "   ", "x" * 101, "@everyone", "Song @here", "<@123456789012345678>", "<@&123456789012345678>",
     "[click](https://evil.example)", "**bold**", "a`b", "Song\u0000Hye"],
)
def test_bad_names_are_refused(bad):
    with pytest.raises(UserError):
        clean_name(bad)


def test_good_names_are_kept_tidy():
    assert clean_name("  Song   Hye-kyo ") == "Song Hye-kyo"
    assert clean_name("D.O.") == "D.O."
    assert clean_name("한소희") == "한소희"


def test_hangul_must_be_hangul():
    assert clean_hangul(" 송혜교 ") == "송혜교"
    assert clean_hangul("") is None
    for bad in ("Song", "송혜교@", "송혜교!"):
        with pytest.raises(UserError):
            clean_hangul(bad)


def test_aliases_split_dedupe_and_validate():
    assert parse_aliases("Song Hye Kyo, song hye-kyo , Hye-kyo") == ("Song Hye Kyo", "Hye-kyo")
    with pytest.raises(UserError):
        parse_aliases("fine, @everyone")
    with pytest.raises(UserError):
        parse_aliases(",".join(f"n{i}" for i in range(21)))


def test_birthdays_must_be_real_past_dates():
    assert parse_birthday("1981-11-22", today=TODAY) == date(1981, 11, 22)
    for bad in ("1981-02-30", "22/11/1981", "2027-01-01", "1800-01-01", "soon"):
        with pytest.raises(UserError):
            parse_birthday(bad, today=TODAY)


def test_merge_aliases_drops_repeats_of_the_name():
    assert merge_aliases(("Song Hye Kyo", "Hye-kyo"), ("hye kyo",), exclude=("Song Hye-kyo",)) == ("Hye-kyo",)


def test_age_counts_whole_years():
    star = Star(id=1, guild_id=1, name="Han So-hee", birthday=date(1994, 11, 18))
    assert star.age_on(date(2026, 11, 17)) == 31
    assert star.age_on(date(2026, 11, 18)) == 32


def test_name_key_is_the_one_the_matcher_and_catalogue_use_so_accents_fold():
    from bot.domain import text

    assert name_key is text.name_key
    assert name_key("Zoë Saldaña") == name_key("Zoe Saldana") == "zoesaldana"
    assert name_key("ＳＯＮＧ Hye-kyo") == "songhyekyo"  # full-width letters fold too


def test_errors_carry_a_code_and_the_limit_not_a_sentence():
    with pytest.raises(UserError) as caught:
        parse_aliases(",".join(f"n{i}" for i in range(21)))
    assert caught.value.code == "aliases.too_many" and caught.value.data == {"n": 21, "limit": 20}
    with pytest.raises(UserError) as caught:
        clean_name("bad alias!", what="alias")
    assert caught.value.code == "alias.bad_character" and caught.value.data == {"character": "'!'"}


def test_a_ref_is_an_autocomplete_id_or_the_text_typed():
    from bot.domain.refs import Ref

    assert Ref.parse("id:12") == Ref("id:12", 12)
    assert Ref.parse("  Song Hye-kyo ") == Ref("Song Hye-kyo")
    assert Ref.parse("id:12x").id is None and Ref.parse("id:" + "9" * 19).id is None
    assert Ref.parse(None) == Ref("") and Ref.parse(Ref("x", 3)) == Ref("x", 3)
