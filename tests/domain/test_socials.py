"""Her own accounts: which handles may go into a feed URL, and the feed URL each platform gets."""

from __future__ import annotations

import pytest

from bot.domain.catalogue import Catalogue, CatalogueError
from bot.domain.socials import check_handle, default_templates, feed_url
from bot.errors import UserError


@pytest.mark.parametrize("handle", ["a/b", "..", "x..y", "a?b=1", "a#b", "two words", "a\tb", "a%2Fb", "a&b", "@", ""])
def test_handles_that_could_leave_their_url_segment_are_refused(handle):
    with pytest.raises(UserError) as caught:
        check_handle(handle)
    assert caught.value.code in {"social.handle_invalid", "social.handle_empty"}


def test_a_plain_handle_is_kept_and_a_leading_at_dropped():
    assert check_handle("xeesoxee") == "xeesoxee"
    assert check_handle(" @kyo1122 ") == "kyo1122"
    assert check_handle("UCabc-DEF_123") == "UCabc-DEF_123"
    with pytest.raises(UserError):
        check_handle("a" * 101)


def test_youtube_needs_no_bridge_and_the_others_need_rsshub():
    assert default_templates(None) == {"youtube": "https://www.youtube.com/feeds/videos.xml?channel_id={handle}"}
    templates = default_templates("https://rsshub.example.org/")
    assert feed_url(templates, "instagram", "xeesoxee") == "https://rsshub.example.org/instagram/user/xeesoxee"
    assert feed_url(templates, "x", "someone") == "https://rsshub.example.org/twitter/user/someone"
    assert feed_url(templates, "weibo", "123") == "https://rsshub.example.org/weibo/user/123"
    assert feed_url(default_templates(None), "instagram", "xeesoxee") is None


def test_the_catalogue_names_only_the_sourced_instagram_accounts():
    catalogue = Catalogue.load()
    assert catalogue.find("Han So-hee").socials == (("instagram", "xeesoxee"),)
    assert catalogue.find("Song Hye-kyo").socials == (("instagram", "kyo1122"),)
    assert all(not s.socials for s in catalogue if s.name not in {"Han So-hee", "Song Hye-kyo"})


def test_a_bad_catalogue_account_names_the_star():
    doc = {"version": 1, "stars": [{"name": "Test Star", "socials": {"myspace": "x"}}]}
    with pytest.raises(CatalogueError, match="Test Star"):
        Catalogue.from_dict(doc)
    doc["stars"][0]["socials"] = {"instagram": "a/b"}
    with pytest.raises(CatalogueError, match="Test Star"):
        Catalogue.from_dict(doc)


def test_her_own_post_renders_as_hers_and_a_press_story_does_not():
    from bot.domain.announcements import MatchedStar, Story, render_post

    her = MatchedStar(1, "Han So-hee @everyone", hangul="한소희")
    own = render_post(Story("Morning light", "https://www.instagram.com/p/A/", stars=(her,), platform="instagram"))
    assert own.platform == "instagram" and "@everyone" not in (own.posted_by or "x@everyone")
    assert own.posted_by.startswith("Han So-hee")
    korean = render_post(Story("Morning light", stars=(her,), platform="instagram"), name_of=lambda s: s.hangul)
    assert korean.posted_by == "한소희"
    press = render_post(Story("Han So-hee cast", stars=(her,)))
    assert press.platform is None and press.posted_by is None
    orphan = render_post(Story("A post whose star is gone", platform="instagram"))
    assert orphan.platform is None  # no star to name: it reads as an ordinary story
