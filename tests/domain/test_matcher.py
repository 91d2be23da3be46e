"""The star-name matcher: SPEC §2 rules, one by one, and precision/recall on real headlines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.domain.catalogue import Catalogue
from bot.domain.matcher import NameRule, StarMatcher, plain_text
from tests.conftest import CORPUS

EXTRA = Path(__file__).resolve().parent / "data" / "headlines_extra.jsonl"
# The labelled sets name only these stars; matches of other catalogue stars are neither right nor wrong.
LABELLED = {"Song Hye-kyo", "Han So-hee", "Kim Go-eun", "Jun Ji-hyun", "Park Shin-hye", "IU", "Suzy"}


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.load()


@pytest.fixture  # built in each test, so each test's run of the matcher's code is its own
def matcher(catalogue: Catalogue) -> StarMatcher:
    return catalogue.matcher()


def small(**stars: list) -> StarMatcher:
    return StarMatcher.build(stars.items())


def shk() -> StarMatcher:
    return small(shk=["Song Hye-kyo", "송혜교", "Hye-kyo"], psh=["Park Shin-hye", "박신혜"], hsh=["Han So-hee", "한소희"])


# --- Latin names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Song Hye-kyo returns",
        "Song Hye Kyo returns",
        "SongHyeKyo returns",
        "SONG HYE-KYO BIG SCREEN COMEBACK",
        "song hye kyo",
        "#SongHyeKyo trends",
        "#songhyekyo",
        "#SongHyeKyoFans gather",
        "Song Hye-kyo’s agency",
        "Song Hye Kyo's new drama",
        "“Song Hye-kyo” says",
        "Söng Hyé-kyó, accents folded",
        "Ｓｏｎｇ Ｈｙｅ－ｋｙｏ in full width",
        "Song Hye–kyo with an en dash",
        "(Song Hye-kyo)",
    ],
)
def test_latin_name_variants_match(text: str) -> None:
    assert shk().match(text) == ["shk"]


@pytest.mark.parametrize("text", ["Park ShinHye gets an offer", "Park Shin-hye", "PARK SHIN HYE", "#ParkShinHye"])
def test_split_or_glued_syllables_match(text: str) -> None:
    assert shk().match(text) == ["psh"]


@pytest.mark.parametrize(
    "text",
    [
        "Song Joong-ki cast in a new movie",
        "Song Seung-hun and Song Ji-hyo",
        "Songhyekyoish is not a word",
        "XSong Joong-ki",
        "Park Shin-yang returns",
        "Hans Ohee",
        "Han Ga-in and Han Ji-eun",
        "Song Hye",
    ],
)
def test_other_people_and_inner_words_do_not_match(text: str) -> None:
    assert shk().match(text) == []


@pytest.mark.parametrize("text", ["SongHyeKyoFans gather at #kdrama", "Look: SongHyeKyoFans at #kdrama", "Meet SongHyeKyoFans @ the show"])
def test_only_a_hashtag_or_handle_is_split_at_its_capitals(text: str) -> None:
    # A '#' or '@' elsewhere in the text must not make every glued word a run of names.
    assert shk().match(text) == []
    assert shk().match(text.replace("SongHyeKyo", "#SongHyeKyo", 1)) == ["shk"]


@pytest.mark.parametrize("written", ["#송혜교", "@송혜교", "#Song Hye-kyo"])
def test_a_name_written_as_a_hashtag_or_handle_matches_the_bare_name(written: str) -> None:
    matcher = small(shk=[written])
    assert matcher.match("배우 송혜교가 돌아왔다" if "송" in written else "Song Hye-kyo returns") == ["shk"]


def test_names_in_other_scripts_or_without_letters_are_left_out_not_an_error() -> None:
    matcher = small(shk=["Song Hye-kyo", "ソン・ヘギョ", "宋慧喬", "---"])
    assert matcher.match("Song Hye-kyo returns") == ["shk"]
    assert matcher.match("ソン・ヘギョ 宋慧喬") == []


def test_text_may_only_split_a_name_where_the_name_has_a_break() -> None:
    m = small(hgi=["Han Ga-in"])
    assert m.match("Han Ga In and Han Gain") == ["hgi"]
    assert m.match("they hang a in the hall") == []


def test_given_name_alias_matches_alone_and_inside_the_full_name_once() -> None:
    assert shk().match("Hye-kyo smiles") == ["shk"]
    assert shk().match("Song Hye-kyo, or Hye-kyo to friends") == ["shk"]


def test_order_of_first_mention_without_repeats() -> None:
    text = "Han So-hee and Song Hye-kyo; later Song Hye-kyo and 한소희"
    assert shk().match(text) == ["hsh", "shk"]


# --- Hangul names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "송혜교가 복귀",
        "송혜교의 선택",
        "송혜교와 한소희",
        "배우 송혜교는",
        "송혜교를 만났다",
        "송혜교도 왔다",
        "송혜교에게 물었다",
        "송혜교한테",
        "송혜교랑 같이",
        "송혜교 측은",
        "송혜교측 입장",
        "송혜교씨",
        "송혜교와의 만남",
        "송혜교에게서도",
        "한소희♥송혜교",
        "류준열♡송혜교",
        "송혜교·한소희",
        "'송혜교'",
        "“송혜교”",
        "[송혜교]",
        "<송혜교>",
        "송혜교, 복귀",
        "새 영화 촬영을 마친 송혜교",
        "송혜교!",
    ],
)
def test_hangul_name_with_particle_or_punctuation_matches(text: str) -> None:
    assert "shk" in shk().match(text)


@pytest.mark.parametrize(
    "text",
    ["퐁혜교와 루지현", "송혜교수님", "오송혜교가", "송혜교정", "한 매체는", "한소희망"],
)
def test_hangul_inside_longer_words_does_not_match(text: str) -> None:
    assert shk().match(text) == []


def test_hangul_byline_is_not_the_star() -> None:
    m = small(kjw=["김지원"])
    assert m.match("[스포츠조선 김지원 기자] 배우 누구가") == []
    assert m.match("김지원이 출연한다") == ["kjw"]


def test_given_name_of_a_hangul_star_inside_another_full_name_does_not_match() -> None:
    m = small(yoona=["윤아", "임윤아"])
    assert m.match("김윤아가 노래했다") == []
    assert m.match("윤아가 노래했다") == ["yoona"]


# --- HTML and odd input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Song Hye&#8209;kyo",
        "Song&nbsp;Hye&#45;kyo",
        "<b>Song Hye-kyo</b> returns",
        "&lt;b&gt;Song Hye-kyo&lt;/b&gt;",
        "&amp;lt;p&amp;gt;Song Hye-kyo",
        "<p>송혜교</p>가",
        "<a href='https://x/song-joong-ki'>Song Hye-kyo</a>",
    ],
)
def test_html_is_stripped_and_entities_decoded(text: str) -> None:
    assert shk().match(text) == ["shk"]


def test_plain_text_keeps_korean_title_brackets_and_collapses_space() -> None:
    assert plain_text("<p>송혜교 &lt;더 글로리&gt;\n\n  복귀</p>") == "송혜교 <더 글로리> 복귀"
    assert plain_text("AT&amp;amp;T") == "AT&T"


@pytest.mark.parametrize("text", ["", "   ", "<br/>", "&nbsp;", "!!!", "123"])
def test_empty_or_nameless_text(text: str) -> None:
    assert shk().match(text) == []


def test_empty_matcher_matches_nothing() -> None:
    assert StarMatcher.build([]).match("Song Hye-kyo") == []


# --- Ambiguous names -----------------------------------------------------------------------------------


def test_short_all_caps_alias_is_case_sensitive_by_default() -> None:
    m = small(iu=["IU", "아이유"])
    assert m.match("IU drops a single") == ["iu"]
    assert m.match("iu drops a single") == []
    assert m.match("Iu") == []


def test_unless_words_veto_an_ambiguous_alias_but_not_her_other_names() -> None:
    rule = NameRule("IU", case_sensitive=True, unless=("Hoosiers", "기자"))
    m = small(iu=[rule, "아이유"])
    assert m.match("The Hoosiers beat Purdue: IU's first win") == []
    assert m.match("IU and the Hoosiers? 아이유 says hi") == ["iu"]


def test_unit_rule_ignores_quantities_but_not_titles() -> None:
    m = small(iu=[NameRule("IU", case_sensitive=True, not_a_unit=True)])
    assert m.match("take 1000 IU a day") == []
    assert m.match("4,000 IU per day") == []
    assert m.match("2000 IU daily is safe") == []
    assert m.match("2024 IU H.E.R. World Tour") == ["iu"]


def test_rules_can_be_given_for_plain_string_names() -> None:
    m = StarMatcher.build([("suzy", ["Suzy", "Bae Suzy"])], rules={"Suzy": NameRule("Suzy", unless=("Menkes",))})
    assert m.match("Suzy Menkes reviews the show") == []
    assert m.match("Bae Suzy meets Suzy Menkes") == ["suzy"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("IU to begin her world tour", ["IU"]),
        ("Hoosiers: IU's first win over Purdue", []),
        ("Suzi Quatro rocks", []),
        ("Suzy Menkes at Paris fashion week", []),
        ("지난해 경상수지 흑자가", []),
        ("서비스 수지 적자", []),
        ("배우 김혜수, 수지 등", ["Kim Hye-soo", "Suzy"]),
        ("소희가 BH와 계약", []),
        ("[팬봇일보 이지은 기자] 배우 송혜교가", ["Song Hye-kyo"]),
    ],
)
def test_catalogue_rules_for_ambiguous_names(matcher: StarMatcher, text: str, expected: list[str]) -> None:
    assert matcher.match(text) == expected


# --- Scale ---------------------------------------------------------------------------------------------


def test_five_thousand_aliases_build_and_each_is_found() -> None:
    syllables = "ba bo chan da do eun ga go ha hee hye hyun ja ji jin jo ju ki kyo mi min na ra seo so su ta won ye yu".split()
    surnames = "Kim Lee Park Choi Jung Kang Cho Yoon Jang Lim Han Oh Seo Shin Kwon Hwang Ahn Song Jeon Hong".split()
    stars = []
    for n in range(1000):
        a, b = syllables[n % len(syllables)], syllables[(n // len(syllables)) % len(syllables)]
        family = surnames[n % len(surnames)]
        names = [f"{family} {a.title()}-{b}{n}", f"{family} {a} {b}{n}", f"{a.title()}{b}{n} {family}", f"X{n}", chr(0xAC00 + n) + "수아"]
        stars.append((n, names))
    # Speed is measured in benchmarks/bench_matcher.py, not asserted here: timed tests flake under load.
    m = StarMatcher.build(stars)
    assert len(m) == 5000
    assert m.match("Kim Ba-ba0 and X1 and Lee Bo-ba1") == [0, 1]
    assert m.match(chr(0xAC00 + 7) + "수아가 왔다") == [7]


# --- Real headlines ------------------------------------------------------------------------------------


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def score(matcher: StarMatcher, rows: list[dict]) -> tuple[float, float, list[str]]:
    """Precision and recall over "mentions". A star in "partial" is named by surname or given name
    only ("Han took the part", "So-hee says"): out of recall, and matching her is no false alarm."""
    tp = fp = fn = 0
    misses = []
    for row in rows:
        got = {s for s in matcher.match(row["text"]) if s in LABELLED} - set(row.get("partial", ()))
        want = set(row["mentions"])
        tp, fp, fn = tp + len(got & want), fp + len(got - want), fn + len(want - got)
        if got != want:
            misses.append(f"{sorted(got)} != {sorted(want)}: {row['text'][:80]}")
    return tp / ((tp + fp) or 1), tp / ((tp + fn) or 1), misses


def dev_rows() -> list[dict]:
    path = CORPUS / "headlines-dev.jsonl"
    if not path.exists():
        pytest.skip(f"shared corpus not found at {path} (only present in the project workplace)")
    return load(path)


def test_dev_corpus_precision_and_recall(matcher: StarMatcher) -> None:
    precision, recall, misses = score(matcher, dev_rows())
    assert precision >= 0.99, misses
    assert recall >= 0.97, misses


def test_dev_corpus_every_line(matcher: StarMatcher) -> None:
    for row in dev_rows():
        got = [s for s in matcher.match(row["text"]) if s in LABELLED]
        assert sorted(got) == sorted(row["mentions"]), (row["text"], row.get("note"))


def test_extra_headlines_precision_and_recall(matcher: StarMatcher) -> None:
    # Measured: precision 1.000, recall 0.994. The one miss is labelled: a published typo ("Jun Ji
    # Huun") whose slip spells Korean syllables, which the matcher reads as another person's name.
    rows = load(EXTRA)
    assert len(rows) >= 300
    assert sum(1 for row in rows if not row["mentions"]) >= 100  # negatives and near-misses
    precision, recall, misses = score(matcher, rows)
    assert precision >= 0.99, misses
    assert recall >= 0.97, misses


def test_extra_headlines_only_miss_the_lines_marked_as_known_misses(matcher: StarMatcher) -> None:
    for row in load(EXTRA):
        got = sorted(s for s in matcher.match(row["text"]) if s in LABELLED and s not in row.get("partial", ()))
        if got != sorted(row["mentions"]):
            assert "known miss" in row.get("note", ""), (row["text"], got, row["mentions"])


def test_extra_headlines_are_labelled_by_the_convention() -> None:
    for row in load(EXTRA):
        assert set(row) <= {"text", "lang", "mentions", "partial", "source", "note"}, row
        assert row["source"].startswith("paraphrase of http"), row
        assert set(row["mentions"]) | set(row.get("partial", ())) <= LABELLED, row
        assert not set(row["mentions"]) & set(row.get("partial", ())), row
