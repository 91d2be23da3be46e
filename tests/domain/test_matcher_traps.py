"""Issue 11 traps, one test each: ambiguous names decided by context, Hangul endings, one-letter typos."""

from __future__ import annotations

import pytest

from bot.domain.catalogue import Catalogue
from bot.domain.matcher import NameRule, StarMatcher
from bot.domain.typos import one_edit, spells_korean_syllables


@pytest.fixture  # built in each test, so each test's run of the matcher's code is its own
def matcher() -> StarMatcher:
    return Catalogue.load().matcher()


# --- Hangul names followed by endings -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "star"),
    [
        ("한소희다, 역시", "Han So-hee"),
        ("한소희만의 분위기", "Han So-hee"),
        ("김고은님도 참석했다", "Kim Go-eun"),
        ("아이유만의 음색으로 재해석", "IU"),
        ("이번 주인공은 송혜교입니다", "Song Hye-kyo"),
        ("역시 한소희예요", "Han So-hee"),
        ("송혜교만큼 바쁜 배우도", "Song Hye-kyo"),
        ("김고은이었다", "Kim Go-eun"),
        ("한소희에겐 특별한 작품", "Han So-hee"),
        ("송혜교이지만", "Song Hye-kyo"),
    ],
)
def test_hangul_name_followed_by_a_copula_or_longer_ending_matches(matcher: StarMatcher, text: str, star: str) -> None:
    assert matcher.match(text) == [star]


def test_suzy_as_a_word_in_suji_majda_a_lucky_break_is_not_her(matcher: StarMatcher) -> None:
    assert matcher.match("이번 거래로 수지맞다는 평가") == []


def test_sujitasan_profit_and_loss_is_not_her(matcher: StarMatcher) -> None:
    assert matcher.match("원가가 올라 수지타산이 맞지 않는다") == []
    assert matcher.match("수지 타산을 따져 보면") == []  # written apart: the refuting word decides


def test_han_sohee_inside_a_longer_word_is_not_her(matcher: StarMatcher) -> None:
    assert matcher.match("한소희망 나눔 캠페인") == []


def test_go_eun_the_poet_is_not_kim_go_eun(matcher: StarMatcher) -> None:
    assert matcher.match("고은 시인의 만인보 완간") == []
    assert matcher.match("김고은행 지점") == []  # 김고 + 은행, not 김고은 + an ending


# --- Ambiguous names decided by context -----------------------------------------------------------------


def test_iu_in_college_sports_results_is_indiana_university(matcher: StarMatcher) -> None:
    assert matcher.match("IU went on a 10-0 run and the Boilermakers never caught up") == []
    assert matcher.match("Cignetti: IU will not take a back seat to anybody") == []


def test_iu_with_entertainment_words_is_the_singer(matcher: StarMatcher) -> None:
    assert matcher.match("IU drops the teaser for her new single") == ["IU"]


def test_context_comes_from_the_whole_item_not_the_title_alone(matcher: StarMatcher) -> None:
    title = "IU tops the list again"
    assert matcher.match(f"{title}\nThe Hoosiers climbed to No. 3 in the AP poll.") == []
    assert matcher.match(f"{title}\nHer album stayed first on the chart for a third week.") == ["IU"]


def test_as_many_refuting_words_as_confirming_ones_mean_no(matcher: StarMatcher) -> None:
    assert matcher.match("IU concert band plays at Indiana halftime") == []


def test_iu_as_a_unit_is_not_the_singer(matcher: StarMatcher) -> None:
    assert matcher.match("Take 1000 IU every morning") == []


def test_suji_district_of_yongin_and_its_housing_districts_are_not_suzy(matcher: StarMatcher) -> None:
    assert matcher.match("용인 수지 2지구에서 아파트 6천 가구 분양") == []
    assert matcher.match("분당과 수지는 집값이 올랐다") == []
    assert matcher.match("수지구청 앞") == []


def test_balance_of_payments_is_not_suzy(matcher: StarMatcher) -> None:
    assert matcher.match("5월 경상수지 89억 달러 흑자") == []
    assert matcher.match("서비스 수지 적자 확대") == []


def test_suzy_with_korean_entertainment_words_is_her(matcher: StarMatcher) -> None:
    assert matcher.match("수지가 인스타그램에 파리 사진을 올렸다") == ["Suzy"]
    assert matcher.match("배우 수지, 차기작 확정") == ["Suzy"]


def test_other_women_named_suzy_are_not_her(matcher: StarMatcher) -> None:
    assert matcher.match("Suzy Menkes reviews the Paris drama of the season") == []
    assert matcher.match("Suzy Welch on careers") == []
    assert matcher.match("Suzy, a restless and romantic critic, arrives late") == []  # no context: not enough


def test_english_suzy_needs_a_confirming_word(matcher: StarMatcher) -> None:
    assert matcher.match("Suzy to star in a new Netflix drama") == ["Suzy"]
    assert matcher.match("Suzy stuns at the airport") == []


def test_another_star_in_the_same_item_confirms_an_ambiguous_name(matcher: StarMatcher) -> None:
    assert matcher.match("Suzy and Park Shin-hye at the airport") == ["Suzy", "Park Shin-hye"]


def test_her_unambiguous_names_count_whatever_the_context() -> None:
    m = StarMatcher.build([("iu", [NameRule("IU", case_sensitive=True, unless=("Hoosiers",)), "아이유"])])
    assert m.match("Hoosiers fans sing along as IU (아이유) performs") == ["iu"]


def test_needs_context_without_any_word_does_not_match() -> None:
    m = StarMatcher.build([("s", [NameRule("Suzy", needs_context=True, confirm=("drama",))])])
    assert m.match("Suzy smiles") == []
    assert m.match("Suzy smiles in the drama") == ["s"]
    m = StarMatcher.build([("s", [NameRule("수지", needs_context=True, confirm=("드라마",))])])
    assert m.match("수지가 웃었다") == [] and m.match("수지가 드라마에서 웃었다") == ["s"]


# --- One-letter typos in multi-word names ---------------------------------------------------------------


def typo_matcher() -> StarMatcher:
    return StarMatcher.build(
        [
            ("shk", ["Song Hye-kyo", "Hye-kyo"]),
            ("psh", ["Park Shin-hye"]),
            ("jjh", ["Jun Ji-hyun"]),
            ("kge", ["Kim Go-eun"]),
            ("suzy", ["Suzy", "Bae Suzy"]),
            ("kjw", ["Kim Ji-won"]),
            ("kjo", ["Kim Ji-woo"]),
        ]
    )


@pytest.mark.parametrize(
    ("text", "star"),
    [
        ("Song Hey-kyo returns", "shk"),  # neighbours swapped
        ("Song Hyy-kyo returns", "shk"),  # one letter wrong
        ("Park Shin-hey wedding photos", "psh"),
        ("Jun Ji-hyn returns", "jjh"),  # one letter missing
        ("Kim Go-eunn on set", "kge"),  # one letter too many
        ("SONG HYY KYO", "shk"),
        ("Song Hyekyp", "shk"),
    ],
)
def test_one_wrong_letter_in_one_word_matches_when_the_rest_is_exact(text: str, star: str) -> None:
    assert typo_matcher().match(text) == [star]


def test_typo_explanation_names_the_star_and_the_spelling() -> None:
    [why] = typo_matcher().explain("Song Hey-kyo returns")
    assert (why.star, why.name, why.written, why.how, why.matched) == ("shk", "Song Hye-kyo", "Song Hey kyo", "typo", True)


def test_no_typo_in_single_word_names() -> None:
    assert typo_matcher().match("Suzi smiles") == [] and typo_matcher().match("Suzzy smiles") == []
    assert typo_matcher().match("Hye-kyp smiles") == []  # one word, however many syllables


def test_no_typo_in_the_first_word_of_a_name() -> None:
    assert typo_matcher().match("Pakr Shin-hye") == [] and typo_matcher().match("Kin Go-eun") == []


def test_two_wrong_letters_do_not_match() -> None:
    assert typo_matcher().match("Song Hyy-kyp") == []


def test_a_slip_that_spells_korean_syllables_is_another_person() -> None:
    assert typo_matcher().match("Song Hye-kyu") == [] and typo_matcher().match("Kim Go-un") == [] and typo_matcher().match("Park Shin-ae") == []


def test_never_when_the_text_is_another_catalogued_person() -> None:
    assert typo_matcher().match("Kim Ji-woo cast") == ["kjo"] and typo_matcher().match("Kim Ji-won cast") == ["kjw"]


def test_a_slip_of_two_stars_names_is_nobodys() -> None:
    assert typo_matcher().match("Kim Ji-wox cast") == []  # one letter from Kim Ji-won and from Kim Ji-woo


def test_a_given_name_of_fewer_than_four_letters_gets_no_typo() -> None:
    m = StarMatcher.build([("a", ["Kang Jin"]), ("b", ["Han Ga-in"])])
    assert m.match("Kang Jix") == [] and m.match("Kang Jinx") == []  # "jin": too likely another name
    assert m.match("Han Ga-ix") == ["b"]


def test_edit_and_syllable_helpers() -> None:
    assert one_edit("hyekyo", "heykyo") and one_edit("jihyun", "jihyn") and one_edit("goeun", "goeunn")
    assert not one_edit("hyekyo", "hyekyo") and not one_edit("hyekyo", "hykyp") and not one_edit("ab", "abcd")
    assert spells_korean_syllables("hyekyo") and spells_korean_syllables("minah") and spells_korean_syllables("jiwoo")
    assert not spells_korean_syllables("hyykyo") and not spells_korean_syllables("sony")


def test_building_leaves_the_garbage_collector_as_it_was() -> None:
    import gc

    assert gc.isenabled()
    StarMatcher.build([("a", ["Song Hye-kyo"])])
    assert gc.isenabled()
    with pytest.raises(TypeError):
        StarMatcher.build([("a", [None])])  # type: ignore[list-item]
    assert gc.isenabled()
    gc.disable()
    try:
        StarMatcher.build([("a", ["Song Hye-kyo"])])
        assert not gc.isenabled()
    finally:
        gc.enable()


# --- Edges found by mutation testing (mutmut on bot/domain/matcher.py) ----------------------------------


def test_short_all_caps_rule_ignores_punctuation_and_stops_at_three_letters() -> None:
    m = StarMatcher.build([("iu", ["I.U."]), ("exid", ["EXID"]), ("ses", ["S.E.S."])])
    assert m.match("I.U. sings") == ["iu"] and m.match("i.u. sings") == []
    assert m.match("S.E.S. sings") == ["ses"] and m.match("Ses sings") == []  # three capitals still count
    assert m.match("Exid sings") == ["exid"]  # four capitals: an ordinary name


def test_a_hangul_name_followed_by_a_particle_and_then_more_is_a_longer_word() -> None:
    m = StarMatcher.build([("hsh", ["한소희"]), ("shk", ["송혜교"])])
    assert m.match("한소희가족 사진") == [] and m.match("송혜교가정") == []  # 가 + 족, 가 + 정


def test_longest_hangul_name_wins_over_a_shorter_one_plus_a_particle() -> None:
    m = StarMatcher.build([("short", ["이지"]), ("iu", ["이지은"])])
    assert m.match("이지은이 노래했다") == ["iu"]  # not 이지 + 은


def test_a_hangul_name_written_with_a_space_is_indexed_glued() -> None:
    assert StarMatcher.build([("x", ["송 혜교"])]).match("송혜교가 왔다") == ["x"]


def test_a_matcher_never_built_matches_nothing() -> None:
    assert StarMatcher().match("송혜교가 Song Hye-kyo") == []


def test_names_starting_with_x_keep_their_first_letter() -> None:
    assert StarMatcher.build([("x", ["Xu Kai"])]).match("Xu Kai stars") == ["x"]


def test_a_byline_at_the_very_end_is_still_a_byline() -> None:
    assert StarMatcher.build([("k", ["김지원"])]).match("스포츠조선 김지원 기자") == []


def test_case_sensitive_names_compare_every_token_and_get_no_typo() -> None:
    m = StarMatcher.build([("s", [NameRule("Bae Suzy", case_sensitive=True)])])
    assert m.match("Bae Suzy smiles") == ["s"] and m.match("bae Suzy smiles") == []
    assert m.match("Bae Suzi smiles") == []


def test_names_of_fewer_than_seven_letters_get_no_typo() -> None:
    assert StarMatcher.build([("x", ["Oh Suzy"])]).match("Oh Suzi smiles") == []


def test_every_anchor_of_a_typo_is_tried_longest_first() -> None:
    m = StarMatcher.build([("a", ["Han So-hee"]), ("b", ["Hanso Park"])])
    assert m.match("Han So Hex") == ["a"]  # "hanso" is tried first and fails
    assert m.match("Han So Pakr") == ["b"]  # the second anchor, "hanso", after "han"


def test_a_given_name_split_into_three_tokens_gets_no_typo() -> None:
    assert typo_matcher().match("Song Hy e kyp") == []


def test_explanations_give_the_written_span_and_how_it_matched() -> None:
    m = StarMatcher.build([("shk", ["Song Hye-kyo", "송혜교"]), ("s", [NameRule("Suzy", confirm=("drama",))])])
    assert [(e.name, e.written, e.how) for e in m.explain("배우 송혜교가 왔다")] == [("송혜교", "송혜교가", "name")]
    assert [(e.written, e.how) for e in m.explain("SONG Hye-kyo")] == [("SONG Hye kyo", "name")]
    assert [(e.how, e.matched) for e in m.explain("Suzy smiles")] == [("context", True)]  # confirm-only: still context


def test_hashtags_and_handles_split_at_capitals_and_hangul_after_them_is_hangul() -> None:
    m = StarMatcher.build([("hsh", ["Han So-hee", "한소희"]), ("gain", ["가인"])])
    assert m.match("@HanSoHeeFans say hi") == ["hsh"]
    assert m.match("#팬 한소희가 왔다") == ["hsh"]
    assert m.match("가인이 왔다") == ["gain"] and m.match("#태그 가인이 왔다") == ["gain"]  # 가 is U+AC00


def test_quantity_rule_edges() -> None:
    m = StarMatcher.build([("iu", [NameRule("IU", case_sensitive=True, not_a_unit=True)])])
    assert m.match("Best of 1999 IU") == ["iu"]  # a 19xx year, too
    assert m.match("2024 IU Tour 2") == ["iu"]
    assert m.match("12,2024 IU") == []  # a number's last four digits are no year
    assert m.match("The label says 1000 IU") == []  # the unit last in the text
    assert m.match("Take 2000 IU Daily") == []  # a year-like number, but a unit word follows
