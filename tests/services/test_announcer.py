"""Announcement rendering and the per-minute rate/digest decision, on a real temp database and a ManualClock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.clock import ManualClock
from bot.domain.announcements import (
    DIGEST_MAX,
    MatchedStar,
    Story,
    http_link,
    plan_delivery,
    render_digest,
    render_post,
    retry_delay,
)
from bot.i18n import Catalogues
from bot.services.announcer import NEWS_COLOUR, OWN_POST_COLOUR, Announcer, digest_embed, pings, post_embed
from bot.services.guilds import GuildConfigService
from bot.storage.announcements import AnnouncementRepository
from bot.storage.guilds import GuildRepository

GUILD, CHANNEL = 10, 555
T0 = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
ENGLISH = Catalogues.load().english
SONG = MatchedStar(1, "Song Hye-kyo", 901)
HAN = MatchedStar(2, "Han So-hee", 902)
NO_ROLE = MatchedStar(3, "Kim Go-eun", None)


# -- rendering -------------------------------------------------------------------------------------
def test_a_post_carries_title_link_source_time_image_stars_and_a_short_summary():
    story = Story(title="Song Hye-kyo's new film", link="https://news.example/a", source_name="Korea Daily",
                  summary="Line one.\n\nLine two " + "word " * 200, image_url="https://img.example/a.jpg",
                  published_at=T0 - timedelta(hours=1), discovered_at=T0, stars=(SONG, NO_ROLE))
    post = render_post(story)
    assert post.title == "Song Hye-kyo's new film" and post.url == "https://news.example/a"
    assert post.source == "Korea Daily" and post.timestamp == T0 - timedelta(hours=1)
    assert post.image_url == "https://img.example/a.jpg"
    assert post.stars == "Song Hye-kyo, Kim Go-eun"
    assert post.description.startswith("Line one. Line two") and len(post.description) <= 300
    assert post.content == "<@&901>" and post.role_ids == (901,)
    embed = post_embed(post, ENGLISH).to_dict()
    assert embed["title"] == post.title and embed["image"]["url"] == post.image_url
    assert embed["timestamp"].startswith("2026-11-29T02:00")


def test_her_own_post_stands_apart_in_colour_from_a_press_story():
    own = post_embed(render_post(Story(title="New photos", platform="instagram", stars=(SONG,))), ENGLISH)
    press = post_embed(render_post(Story(title="Song Hye-kyo's new film", stars=(SONG,))), ENGLISH)
    assert own.colour == OWN_POST_COLOUR and press.colour == NEWS_COLOUR and OWN_POST_COLOUR != NEWS_COLOUR


def test_without_a_publish_date_the_discovery_time_is_shown():
    assert render_post(Story(title="t", discovered_at=T0)).timestamp == T0


def test_feed_text_is_inert_and_never_reaches_the_content():
    story = Story(title="@everyone <@&902> [win](https://evil.example) # Heading\u202e",
                  summary="@here <@123> `code` ||spoiler||", source_name="<@&902> Daily", stars=(SONG,))
    post = render_post(story)
    assert post.content == "<@&901>"  # only the matched star's role
    for text in (post.title, post.description, post.source):
        assert "@everyone" not in text and "@here" not in text and "<@&902>" not in text and "<@123>" not in text
    assert "\u202e" not in post.title and "\\[win\\]" in post.title
    assert "\\`code\\`" in post.description and "\\|\\|spoiler\\|\\|" in post.description


def test_long_titles_fit_discord_limits():
    post = render_post(Story(title="송혜교 " * 200, stars=(SONG,) * 3))
    assert len(post.title) <= 256 and post.title.endswith("…")
    embed = post_embed(post, ENGLISH)
    assert len(embed) <= 6000


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://x.example/a", "https://x.example/a b",
                                 "data:image/png;base64,AAAA", "//x.example/a", "", None, "https://" + "a" * 2100])
def test_only_plain_http_links_are_kept(url):
    assert http_link(url) is None


def test_parentheses_cannot_end_a_markdown_link_early():
    assert http_link("https://x.example/a_(b)") == "https://x.example/a_%28b%29"


def test_deleted_roles_are_not_pinged():
    post = render_post(Story(title="t", stars=(SONG, HAN)), allowed_roles={902})
    assert post.content == "<@&902>" and post.role_ids == (902,)
    assert pings(post.role_ids).to_dict() == {"parse": [], "roles": [902]}
    assert pings(()).to_dict() == {"parse": []}


def test_a_digest_lists_linked_titles_and_pings_the_union_of_roles():
    stories = [Story(title=f"Story {n} [x](https://evil.example)", link=f"https://news.example/{n}",
                     stars=(SONG,) if n % 2 else (HAN, SONG)) for n in range(3)]
    digest = render_digest(stories)
    lines = digest.description.splitlines()
    assert digest_embed(digest, ENGLISH).title == "3 more stories" and len(lines) == 3
    assert lines[0].startswith("• [Story 0 \\[x\\]") and "](https://news.example/0)" in lines[0]
    assert "[x](https://evil.example)" not in digest.description
    assert set(digest.role_ids) == {901, 902} and digest.content.count("<@&") == 2
    assert len(digest_embed(digest, ENGLISH)) <= 6000


def test_a_digest_lists_at_most_twenty_and_stays_under_the_description_limit():
    stories = [Story(title="x" * 256, link="https://news.example/" + "p" * 300) for _ in range(40)]
    digest = render_digest(stories)
    assert len(digest.description.splitlines()) <= DIGEST_MAX and len(digest.description) <= 4096


# -- the rate / digest decision ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "due, sent, digests, expected",
    [
        (3, 0, 0, (3, 0)),
        (8, 0, 0, (5, 3)),  # five posts and one digest of the rest
        (8, 3, 0, (2, 6)),
        (8, 5, 0, (0, 8)),
        (8, 5, 1, (0, 0)),  # budget spent and a digest already went out this minute: wait
        (30, 0, 0, (5, 20)),  # a digest lists at most twenty; the rest wait for the next minute
        (0, 0, 0, (0, 0)),
        (4, 9, 0, (0, 4)),
    ],
)
def test_plan_delivery(due, sent, digests, expected):
    plan = plan_delivery(due, sent, digests)
    assert (plan.send, plan.digest) == expected


def test_retry_delay_grows_and_is_capped():
    delays = [retry_delay(n).total_seconds() for n in range(1, 10)]
    assert delays[:4] == [30, 60, 120, 240] and max(delays) == 1800


@pytest.fixture
async def journal(any_db):
    return any_db


async def test_the_minute_budget_is_counted_from_the_journal(journal):
    clock = ManualClock(T0)
    repo = AnnouncementRepository(journal)
    announcer = Announcer(repo, GuildConfigService(GuildRepository(journal)), clock)
    ids = [await repo.record_story(GUILD, title=f"S{n}", link=f"https://n.example/{n}", now=clock.now())
           for n in range(8)]

    singles, overflow = await announcer.next_batch(GUILD, CHANNEL, clock.now())
    assert [a.id for a in singles] == ids[:5] and [a.id for a in overflow] == ids[5:]
    for a in singles:
        await repo.begin_send(a.id, CHANNEL, clock.now())
        await repo.record_sent(a.id, CHANNEL, 1000 + a.id, clock.now())
    job = await repo.begin_digest(GUILD, CHANNEL, [a.id for a in overflow], clock.now())
    await repo.record_digest_sent(job.id, CHANNEL, 2000, clock.now())

    clock.advance(30)
    more = [await repo.record_story(GUILD, title=f"M{n}", link=f"https://n.example/m{n}", now=clock.now())
            for n in range(7)]
    assert await announcer.next_batch(GUILD, CHANNEL, clock.now()) == ([], [])  # both budgets spent
    assert await announcer.next_batch(GUILD, CHANNEL + 1, clock.now()) != ([], [])  # per channel

    clock.advance(30)  # exactly a minute: the first sends are no longer "within the last 60 s"
    singles, overflow = await announcer.next_batch(GUILD, CHANNEL, clock.now())
    assert [a.id for a in singles] == more[:5] and [a.id for a in overflow] == more[5:]


async def test_without_a_bound_bot_nothing_is_sent_and_nothing_changes(journal):
    clock = ManualClock(T0)
    repo = AnnouncementRepository(journal)
    announcer = Announcer(repo, GuildConfigService(GuildRepository(journal)), clock)
    await repo.record_story(GUILD, title="S", link="https://n.example/s", now=clock.now())
    assert await announcer.deliver_pending(clock.now()) == 0
    assert await repo.stats(GUILD) == (1, None)
    assert await announcer.stats(GUILD) == (1, None)
