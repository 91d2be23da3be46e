"""Which channels a story goes to and whom each of its posts pings (SPEC §10), as pure decisions."""

from __future__ import annotations

from bot.domain.announcements import MatchedStar, Story
from bot.domain.routing import Routing

NEWS, SONG_CH, HAN_CH = 1, 2, 3
SONG, HAN, KIM = 10, 20, 30


def test_each_star_goes_to_her_route_else_the_news_channel_once_per_channel():
    routing = Routing(NEWS, {SONG: SONG_CH, HAN: HAN_CH})
    assert routing.targets([SONG]) == ((SONG_CH,), False)
    assert routing.targets([SONG, HAN]) == ((SONG_CH, HAN_CH), False)
    assert routing.targets([SONG, KIM]) == ((NEWS, SONG_CH), False)
    assert routing.targets([]) == ((NEWS,), False)  # a story naming no star: the news channel
    assert Routing(NEWS, {SONG: SONG_CH, HAN: SONG_CH}).targets([SONG, HAN]) == ((SONG_CH,), False)
    assert Routing(SONG_CH, {SONG: SONG_CH}).targets([SONG, KIM]) == ((SONG_CH,), False)  # one post there
    assert routing.channels == {NEWS, SONG_CH, HAN_CH}


def test_without_a_news_channel_only_the_unrouted_part_waits():
    routing = Routing(None, {SONG: SONG_CH})
    assert routing.targets([SONG, KIM]) == ((SONG_CH,), True)
    assert routing.targets([KIM]) == ((), True)
    assert routing.targets([]) == ((), True)
    assert routing.channels == {SONG_CH}


def test_a_post_names_every_star_and_pings_only_those_whose_news_goes_there():
    story = Story(title="t", stars=(MatchedStar(SONG, "Song", 100), MatchedStar(HAN, "Han", 200),
                                    MatchedStar(KIM, "Kim", 300)))
    routing = Routing(NEWS, {SONG: SONG_CH, HAN: SONG_CH})
    in_song = routing.pinged_in(SONG_CH, story)
    assert [s.name for s in in_song.stars] == ["Song", "Han", "Kim"] and in_song.role_ids == (100, 200)
    assert routing.pinged_in(NEWS, story).role_ids == (300,)
    assert routing.pinged_in(HAN_CH, story).role_ids == ()  # not a destination: pings nobody
    assert Routing(NEWS, {}).pinged_in(NEWS, story) is story
