"""Pictures and publishers of feed items: the four places a picture comes from, beacons refused,
Google News titles and sources, on fixtures shaped like YouTube, RSSHub and Google News feeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.feeds import normalise_title, parse_feed, strip_source_suffix

FIXTURES = Path(__file__).parent / "data" / "feeds"


def rss(items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>Fan news</title><link>https://news.example/</link>{items}</channel></rss>"
    ).encode("utf-8")


def image_of(item_xml: str) -> str | None:
    return parse_feed(rss(f"<item><title>Story</title>{item_xml}</item>"), url="https://news.example/rss").items[0].image_url


def test_picture_from_media_content():
    assert image_of('<media:content url="https://img.example/a.jpg" medium="image" width="800" height="600"/>') == (
        "https://img.example/a.jpg"
    )


def test_picture_from_media_thumbnail():
    assert image_of('<media:thumbnail url="https://img.example/t.jpg"/>') == "https://img.example/t.jpg"


def test_picture_from_an_image_enclosure_but_not_a_video_enclosure():
    assert image_of('<enclosure url="https://img.example/e.png" type="image/png" length="1000"/>') == (
        "https://img.example/e.png"
    )
    assert image_of('<enclosure url="https://img.example/clip.mp4" type="video/mp4" length="1000"/>') is None


def test_picture_from_the_first_img_of_the_summary_made_absolute():
    assert image_of("<description>&lt;p&gt;Hi&lt;img src=\"/pics/b.jpg\"&gt;&lt;img src=\"/pics/c.jpg\"&gt;</description>") == (
        "https://news.example/pics/b.jpg"
    )


def test_picture_from_the_first_img_of_content_encoded():
    assert image_of(
        '<description>plain</description><content:encoded><![CDATA[<figure><img src="https://img.example/d.webp"></figure>]]></content:encoded>'
    ) == "https://img.example/d.webp"


@pytest.mark.parametrize(
    "img",
    [
        '<img src="javascript:alert(1)">',
        '<img src="data:image/png;base64,iVBORw0KGgo=">',
        '<img src="https://img.example/p.gif" width="1" height="1">',
        '<img src="https://img.example/p.gif" width="1px" height="1px">',
        '<img src="https://feeds.feedburner.com/~r/fan/~4/abc">',
        '<img src="https://pixel.wp.com/g.gif?blog=1">',
        '<img src="ftp://img.example/a.jpg">',
        "<img>",
    ],
)
def test_never_a_script_data_url_or_tracking_pixel(img: str):
    assert image_of(f"<description><![CDATA[{img}]]></description>") is None


def test_a_beacon_is_skipped_for_the_real_picture_after_it():
    html = '<img src="https://stats.wp.com/b.gif" width="1" height="1"><img src="https://img.example/real.jpg" width="640">'
    assert image_of(f"<description><![CDATA[{html}]]></description>") == "https://img.example/real.jpg"


def test_a_stated_one_pixel_media_content_is_no_picture():
    assert image_of('<media:content url="https://img.example/p.gif" medium="image" width="1" height="1"/>') is None


def test_youtube_channel_feed_gives_the_video_thumbnail():
    feed = parse_feed((FIXTURES / "youtube_channel.xml").read_bytes(), url="https://www.youtube.com/feeds/videos.xml?channel_id=x")
    (video,) = feed.items
    assert video.link == "https://www.youtube.com/watch?v=AbCdEfGhIj0"
    assert video.image_url == "https://i1.ytimg.com/vi/AbCdEfGhIj0/hqdefault.jpg"
    assert video.title == "Behind the scenes with my new kitten"


def test_rsshub_instagram_feed_gives_the_video_poster_and_the_first_real_img():
    feed = parse_feed((FIXTURES / "rsshub_instagram.xml").read_bytes(), url="http://127.0.0.1:1200/instagram/user/test.actress")
    video_post, photo_post = feed.items
    assert video_post.image_url == "https://scontent.cdninstagram.example/v/kitten-poster.jpg"
    assert photo_post.image_url == "https://scontent.cdninstagram.example/p/morning.jpg"
    assert "Look who joined the family" in video_post.summary


def test_google_news_items_name_the_publisher_and_drop_its_suffix():
    feed = parse_feed((FIXTURES / "google_news.xml").read_bytes(), url="https://news.google.com/rss/search?q=x")
    first, second = feed.items
    assert (first.title, first.source_name) == ("Han So-hee cast in a new mystery series", "Fan Daily")
    # Only the publisher's own suffix goes; dashes inside the headline stay.
    assert (second.title, second.source_name) == ("Interview: the year of Han So-hee - Screen - Weekly", "Screen Weekly")
    assert normalise_title(first.title, first.source_name) == normalise_title(
        "Han So-hee Cast in a New Mystery Series", "Fan Daily"
    )


def test_a_title_that_is_only_the_publisher_is_kept():
    assert strip_source_suffix(" - Fan Daily", "Fan Daily") == " - Fan Daily"
    assert strip_source_suffix("Headline — Fan Daily", "Fan Daily") == "Headline"
    assert strip_source_suffix("Headline - Fan Daily Extra", "Fan Daily") == "Headline - Fan Daily Extra"
