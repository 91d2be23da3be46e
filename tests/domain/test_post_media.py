"""Which photo or video a post carries, from real-shaped YouTube and RSSHub feeds and media:content."""

from __future__ import annotations

from pathlib import Path

from bot.domain.feeds import parse_feed

DATA = Path(__file__).parent / "data" / "feeds"


def _items(name: str):
    return parse_feed((DATA / name).read_bytes(), url="http://127.0.0.1:1200/feed").items


def test_an_rsshub_video_post_names_its_file_and_size():
    video = _items("rsshub_instagram.xml")[0].media
    assert (video.kind, video.file_url, video.length) == (
        "video", "https://scontent.cdninstagram.example/v/kitten.mp4", 5242880)


def test_a_youtube_video_has_no_file_only_its_watch_page():
    item = _items("youtube_channel.xml")[0]
    assert item.media is not None and item.media.kind == "video" and item.media.file_url is None
    assert item.link.startswith("https://www.youtube.com/watch?v=")


def test_media_content_and_unsafe_urls():
    feed = b"""<?xml version="1.0"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>t</title>
    <item><title>photo</title><link>https://a.example/1</link>
      <media:content url="javascript:alert(1)" type="image/jpeg"/>
      <media:content url="https://cdn.example/1.jpg" medium="image" fileSize="1234"/></item>
    <item><title>nothing</title><link>https://a.example/2</link><enclosure url="data:video/mp4;base64,AAAA" type="video/mp4" length="4"/></item>
    <item><title>audio</title><link>https://a.example/3</link><enclosure url="https://cdn.example/a.mp3" type="audio/mpeg" length="4"/></item>
    </channel></rss>"""
    photo, nothing, audio = parse_feed(feed, url="https://a.example/rss").items
    assert (photo.media.kind, photo.media.file_url, photo.media.length) == ("image", "https://cdn.example/1.jpg", 1234)
    assert nothing.media is None and audio.media is None
