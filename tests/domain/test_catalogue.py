"""The shipped star catalogue: it loads, its facts are well formed, lookup and autocomplete work."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bot.domain.catalogue import Catalogue, CatalogueError


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.load()


def test_ships_enough_stars_with_hangul_names(catalogue: Catalogue) -> None:
    assert len(catalogue) >= 30
    assert all(s.hangul for s in catalogue)


@pytest.mark.parametrize(
    ("name", "hangul", "birthday"),
    [("Song Hye-kyo", "송혜교", date(1981, 11, 22)), ("Han So-hee", "한소희", date(1994, 11, 18))],
)
def test_seed_facts(catalogue: Catalogue, name: str, hangul: str, birthday: date) -> None:
    star = catalogue.find(name)
    assert star is not None and star.hangul == hangul and star.birthday == birthday


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("song hye kyo", "Song Hye-kyo"),
        ("SONG HYE-GYO", "Song Hye-kyo"),
        ("송혜교", "Song Hye-kyo"),
        ("Gianna Jun", "Jun Ji-hyun"),
        ("Jeon Ji-hyun", "Jun Ji-hyun"),
        ("suzy bae", "Suzy"),
        ("Bae Suzy", "Suzy"),
        ("아이유", "IU"),
        ("Lee Ji-eun", "IU"),
        ("kimgoeun", "Kim Go-eun"),
    ],
)
def test_find_by_any_name(catalogue: Catalogue, query: str, name: str) -> None:
    star = catalogue.find(query)
    assert star is not None and star.name == name


@pytest.mark.parametrize("query", ["", None, "So-hee", "Song", "Somebody Else"])
def test_find_refuses_partial_or_unknown_names(catalogue: Catalogue, query: str | None) -> None:
    assert catalogue.find(query) is None


def test_search_puts_prefix_matches_first_and_respects_limit(catalogue: Catalogue) -> None:
    names = [s.name for s in catalogue.search("song")]
    assert names[:2] == ["Song Hye-kyo", "Song Ji-hyo"]
    assert [s.name for s in catalogue.search("hye-kyo")][0] == "Song Hye-kyo"
    assert len(catalogue.search("", limit=25)) == 25
    assert len(catalogue.search("kim", limit=3)) == 3


def test_ambiguous_aliases_carry_rules(catalogue: Catalogue) -> None:
    rules = catalogue.rules
    assert rules["IU"].case_sensitive and "Hoosiers" in rules["IU"].unless and rules["IU"].not_a_unit
    assert "Menkes" in rules["Suzy"].unless


def test_no_name_belongs_to_two_stars(tmp_path: Path) -> None:
    doc = {"version": 1, "stars": [{"name": "A Bc", "aliases": ["X Y"]}, {"name": "D Ef", "aliases": ["x-y"]}]}
    with pytest.raises(CatalogueError, match="both"):
        Catalogue.from_dict(doc)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"name": "A", "birthday": "1990-13-01"}, "birthday"),
        ({"name": "A", "hangul": "abc"}, "hangul"),
        ({"name": "A", "aliases": "B"}, "aliases"),
        ({"name": ""}, "no name"),
        ({"name": "A", "ambiguous_aliases": [{"name": "Z"}]}, "not one of her names"),
    ],
)
def test_bad_rows_are_refused_with_the_star_and_field(row: dict, message: str) -> None:
    with pytest.raises(CatalogueError, match=message):
        Catalogue.from_dict({"version": 1, "stars": [row]})


def test_missing_file_and_wrong_version(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="not found"):
        Catalogue.load(tmp_path / "nope.json")
    path = tmp_path / "stars.json"
    path.write_text(json.dumps({"version": 2, "stars": []}), encoding="utf-8")
    with pytest.raises(CatalogueError, match="version"):
        Catalogue.load(path)


def _one_rule(rule: dict, **context: list) -> Catalogue:
    star = {"name": "Suzy", "hangul": "수지", "aliases": ["Bae Suzy"], "ambiguous_aliases": [rule]}
    return Catalogue.from_dict({"version": 1, "context_words": context, "stars": [star]})


def test_context_words_are_shared_by_name_and_spelled_out_in_the_rule() -> None:
    cat = _one_rule(
        {"name": "Suzy", "confirm": ["@ent", "miss A"], "unless": ["Menkes"], "needs_context": True},
        ent=["drama", "K-pop"],
    )
    (rule,) = cat.rules.values()
    assert rule.confirm == ("drama", "K-pop", "miss A") and rule.unless == ("Menkes",) and rule.needs_context
    m = cat.matcher()
    assert m.match("Suzy, ex-miss A, smiles") == ["Suzy"]  # a two-word context word
    assert m.match("Suzy loves K-pop") == ["Suzy"] and m.match("Suzy smiles") == []


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"name": "Suzy", "confirm": ["@nope"]}, "refers to @nope"),
        ({"name": "Suzy", "confirm": ["Lee Jong-suk"]}, "one or two words"),
        ({"name": "Suzy", "unless": ["경상 수지"]}, "one or two words"),
        ({"name": "Suzy", "confirm": "drama"}, "list of non-empty strings"),
    ],
)
def test_bad_context_words_are_refused(rule: dict, message: str) -> None:
    with pytest.raises(CatalogueError, match=message):
        _one_rule(rule)


def test_context_words_must_be_lists() -> None:
    with pytest.raises(CatalogueError, match="context_words"):
        Catalogue.from_dict({"version": 1, "context_words": ["drama"], "stars": []})
