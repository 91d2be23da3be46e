"""Story filters: phrases parsed from what a moderator types, matched as whole words in English and Korean."""

from __future__ import annotations

import pytest

from bot.domain.filters import MAX_PHRASES, StoryFilter, from_stored, parse_phrases, stored
from bot.errors import UserError


def include(text: str) -> StoryFilter:
    return StoryFilter(include=parse_phrases(text, which="include"))


def exclude(text: str) -> StoryFilter:
    return StoryFilter(exclude=parse_phrases(text, which="exclude"))


def test_phrases_are_split_at_commas_trimmed_and_deduplicated_in_order():
    assert parse_phrases(" Drama ,red  carpet,, drama, 열애설 ", which="include") == ("Drama", "red carpet", "열애설")
    assert parse_phrases("", which="include") == () and parse_phrases(None, which="exclude") == ()
    assert from_stored(stored(("a b", "c"))) == ("a b", "c") and from_stored("") == ()


@pytest.mark.parametrize(("text", "code"), [
    (", ".join(f"word{i}" for i in range(100)), "filter.include_too_many"),
    ("x" * 1001, "filter.include_too_long"),
    ("fine, " + "y" * 61, "filter.phrase_too_long"),
    ("drama, !!!", "filter.no_letters"),
])
def test_bad_filters_are_refused_with_a_code(text: str, code: str):
    with pytest.raises(UserError) as refused:
        parse_phrases(text, which="include")
    assert refused.value.code == code


def test_exactly_the_limit_of_phrases_is_accepted():
    assert len(parse_phrases(", ".join(f"w{i}" for i in range(MAX_PHRASES)), which="exclude")) == MAX_PHRASES


@pytest.mark.parametrize(("text", "allowed"), [
    ("Her new DRAMA is confirmed", True),      # case-insensitive
    ("A drama-filled week", True),             # a hyphen splits words as a space does
    ("Dramatic scenes at the airport", False),  # not inside a longer word
    ("Melodrama of the year", False),
    ("On the red carpet in Cannes", True),     # a phrase
    ("Red-carpet looks", True),
    ("The red velvet carpet", False),          # a phrase's words must be together
    ("<b>Drama</b> &amp; more", True),         # HTML and entities as the matcher reads them
    ("Café drama", True),
])
def test_english_phrases_are_whole_words(text: str, allowed: bool):
    assert include("drama, red carpet").allows(text) is allowed


@pytest.mark.parametrize(("text", "allowed"), [
    ("송혜교 새 드라마 확정", True),
    ("송혜교, 드라마에서 만나요", True),        # a particle may follow
    ("한소희 드라마로 복귀", True),
    ("드라마틱한 변신", False),                 # inside a longer word
    ("막장드라마 논란", False),                 # a Hangul word must start its run
])
def test_korean_words_take_particles_but_never_sit_inside_longer_words(text: str, allowed: bool):
    assert include("드라마").allows(text) is allowed


@pytest.mark.parametrize(("text", "allowed"), [
    ("신작 드라마에서 주연", True),   # a Korean phrase, its last word with a particle
    ("신작 드라마 공개", True),
    ("신작은 드라마", False),         # only the last word may carry one
    ("신작 드라마틱", False),
])
def test_korean_phrases_keep_their_words_together(text: str, allowed: bool):
    assert include("신작 드라마").allows(text) is allowed


def test_exclude_keeps_a_story_out_even_when_an_include_word_is_there():
    both = StoryFilter(include=("drama",), exclude=("rumor", "광고"))
    assert both.allows("New drama announced")
    assert not both.allows("Drama rumor denied")
    assert not both.allows("drama 광고 촬영 현장")
    assert both.allows("drama 광고모델")  # 광고모델 is another word
    assert not both.allows("Nothing about it")
    assert exclude("rumor").allows("Nothing about it")
    assert StoryFilter().allows("anything") and not StoryFilter().active


def test_explain_names_the_phrases_that_decided():
    both = StoryFilter(include=("drama", "film"), exclude=("rumor",))
    assert both.explain("A film and a drama") == ("film", None)  # the first found in the text
    assert both.explain("A rumor about a film") == ("film", "rumor")
    assert both.explain("Nothing") == (None, None)
