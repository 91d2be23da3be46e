"""Feed parsing: the whole corpus, hostile documents, encodings, and the fields news items end up with."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.domain.feeds import (
    SUMMARY_LIMIT,
    TITLE_LIMIT,
    canonical_link,
    normalise_title,
    parse_feed,
)
from bot.errors import FeedError
from tests.conftest import CORPUS as SHARED_CORPUS

FEEDS = SHARED_CORPUS / "feeds"
CORPUS = sorted(p for p in FEEDS.glob("*/*") if not p.name.endswith(".src.txt")) if FEEDS.is_dir() else []
TAG = re.compile(r"</?(p|b|i|a|div|span|br|img|script|pre)\b", re.IGNORECASE)
needs_corpus = pytest.mark.skipif(not CORPUS, reason=f"feed corpus not found at {FEEDS}")


def corpus_file(name: str) -> bytes:
    matches = [p for p in CORPUS if p.name == name]
    if not matches:
        pytest.skip(f"corpus feed {name} not found under {FEEDS}")
    return matches[0].read_bytes()


def rss(items: str, head: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    return f"""{head}
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>
<title>Fan news</title><link>https://news.example/</link>
{items}
</channel></rss>""".encode("utf-8")


@needs_corpus
@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_every_corpus_feed_parses_into_sane_items_or_is_refused(path: Path):
    try:
        feed = parse_feed(path.read_bytes(), url="https://feeds.example/feed.xml")
    except FeedError as refused:
        assert str(refused)
        return
    assert len(feed.title) <= TITLE_LIMIT
    for item in feed.items:
        assert item.guid and item.title
        assert len(item.title) <= TITLE_LIMIT and len(item.summary) <= SUMMARY_LIMIT
        assert not TAG.search(item.summary) and not TAG.search(item.title)  # no markup survives
        assert "&amp;" not in item.title and "&lt;" not in item.title
        for link in (item.link, item.image_url):
            if link is not None:
                assert urlsplit(link).scheme in ("http", "https") and urlsplit(link).hostname
        if item.published is not None:
            assert item.published.tzinfo is not None and item.published.utcoffset().total_seconds() == 0


@needs_corpus
def test_euc_kr_feeds_give_correct_hangul():
    assert parse_feed(corpus_file("encoding__euc-kr.xml"), url="https://k.example/").title == "년"
    item = parse_feed(corpus_file("encoding__euc-kr-item.xml"), url="https://k.example/").items[0]
    assert item.summary == "년"
    # No encoding declared anywhere: feedparser alone would read it as windows-1252.
    item = parse_feed(corpus_file("illformed__chardet__euckr.xml"), url="https://k.example/").items[0]
    assert item.title == "EUC-KR 에서 TypeKey 한글닉네임 표시하기"


@needs_corpus
def test_accepts_ill_formed_feeds_that_still_have_content():
    feed = parse_feed(corpus_file("illformed__rss_item_link_corrupted_ampersands.xml"), url="https://x.example/")
    assert feed.items[0].link == "http://link/get?a=1&b=2"
    assert parse_feed(corpus_file("illformed__undeclared_namespace.xml"), url="https://x.example/").items == []


@needs_corpus
def test_reads_real_world_feeds():
    guardian = parse_feed(corpus_file("rss-parser__guardian.rss"), url="https://www.theguardian.com/us/rss")
    assert guardian.title == "The Guardian" and len(guardian.items) > 20
    first = guardian.items[0]
    assert first.link.startswith("https://www.theguardian.com/")
    assert first.image_url and first.image_url.startswith("https://i.guim.co.uk/")
    assert first.published == datetime(2018, 1, 31, 7, 26, 5, tzinfo=timezone.utc)
    portuguese = parse_feed(corpus_file("rss-parser__encoding.rss"), url="http://feeds.jn.pt/JN-ULTIMAS")
    assert portuguese.title.startswith("Jornal de Notícias")
    youtube = parse_feed(corpus_file("feedjira__youtube_atom.xml"), url="https://www.youtube.com/feeds/videos.xml")
    assert youtube.items[0].image_url.startswith("https://i2.ytimg.com/")


def entity_bomb(encoding: str = "utf-8") -> bytes:
    payload = "A" * 50_000
    uses = "&big;" * 2_000
    doc = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        f'<!DOCTYPE rss [<!ENTITY big "{payload}">]>\n'
        f"<rss version=\"2.0\"><channel><title>{uses}</title></channel></rss>"
    )
    return doc.encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-le", "utf-16-be"])
def test_refuses_an_entity_bomb_fast(encoding):
    body = entity_bomb(encoding)
    with pytest.raises(FeedError, match="declares XML entities"):
        parse_feed(body, url="https://bomb.example/")


def test_a_long_comment_does_not_hide_a_doctype():
    body = b"<!--" + b"x" * 200_000 + b'-->\n<!DOCTYPE rss [<!ENTITY a "b">]><rss version="2.0"/>'
    with pytest.raises(FeedError, match="entities"):
        parse_feed(body, url="https://bomb.example/")


def test_entity_text_inside_an_article_is_not_a_declaration():
    body = rss("<item><title>XXE explained</title><description><![CDATA[Never trust <!ENTITY x>]]></description></item>")
    assert parse_feed(body, url="https://sec.example/").items[0].summary.startswith("Never trust")


def test_an_external_doctype_without_a_subset_is_fine():
    head = '<?xml version="1.0"?>\n<!DOCTYPE rss PUBLIC "-//Netscape//DTD RSS 0.91//EN" "http://my.netscape.com/rss-0.91.dtd">'
    feed = parse_feed(rss("<item><title>Old school</title></item>", head=head), url="https://o.example/")
    assert feed.items[0].title == "Old school"


def test_refuses_an_html_page_clearly():
    page = b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>Hello</p></body></html>"
    with pytest.raises(FeedError, match="web page"):
        parse_feed(page, url="https://site.example/", content_type="text/html; charset=utf-8")
    with pytest.raises(FeedError, match="not an RSS or Atom feed"):
        parse_feed(b'{"items": []}', url="https://api.example/", content_type="application/json")
    with pytest.raises(FeedError, match="empty"):
        parse_feed(b"  \n", url="https://site.example/")


def test_never_reads_a_body_that_looks_like_a_path_or_url_as_one():
    for body in (b"/etc/passwd", b"http://127.0.0.1/feed"):
        with pytest.raises(FeedError, match="not an RSS or Atom feed"):
            parse_feed(body, url="https://site.example/")


def test_mentions_and_markdown_come_through_as_plain_text():
    body = rss(
        "<item><title>@everyone &lt;@&amp;123&gt; [text](https://evil.example) news</title>"
        "<link>https://news.example/a</link></item>"
    )
    item = parse_feed(body, url="https://news.example/rss").items[0]
    # Neutralising is the announcer's job (bot.domain.discord_text.neutralise); here it is plain text.
    assert item.title == "@everyone <@&123> [text](https://evil.example) news"


def test_html_is_stripped_entities_decoded_whitespace_collapsed_and_lengths_capped():
    long_title = "Song Hye-kyo " * 40
    summary = "<p>Han So-hee &amp; Song Hye-kyo</p>\n\n<script>alert(1)</script><b>star</b> " + "word " * 300
    body = rss(f"<item><title>{long_title}</title><description><![CDATA[{summary}]]></description></item>")
    item = parse_feed(body, url="https://news.example/rss").items[0]
    assert len(item.title) <= TITLE_LIMIT and item.title.endswith("…")
    assert item.summary.startswith("Han So-hee & Song Hye-kyo star word")
    assert "alert" not in item.summary and "<" not in item.summary
    assert len(item.summary) <= SUMMARY_LIMIT and item.summary.endswith("…")


def test_relative_links_become_absolute_and_bad_schemes_are_dropped():
    body = rss(
        "<item><title>Relative</title><link>/news/1?x=1</link></item>"
        "<item><title>Script</title><link>javascript:alert(1)</link>"
        '<media:content url="javascript:alert(2)" medium="image"/></item>'
        '<item><title>Data</title><link>data:text/html,hi</link><enclosure url="img/p.jpg" type="image/jpeg" length="1"/></item>'
    )
    items = parse_feed(body, url="https://site.example/feeds/all.xml").items
    assert items[0].link == "https://site.example/news/1?x=1"
    assert items[1].link is None and items[1].image_url is None
    assert items[2].link is None and items[2].image_url == "https://site.example/feeds/img/p.jpg"


def test_guid_falls_back_to_link_then_to_a_content_hash():
    body = rss(
        "<item><guid isPermaLink='false'>abc-1</guid><title>A</title></item>"
        "<item><title>B</title><link>https://news.example/b</link></item>"
        "<item><title>C</title><description>same</description></item>"
        "<item><title>C</title><description>same</description></item>"
    )
    items = parse_feed(body, url="https://news.example/rss").items
    assert items[0].guid == "abc-1"
    assert items[1].guid == "https://news.example/b"
    assert items[2].guid.startswith("sha256:") and items[2].guid == items[3].guid


def test_dates_are_aware_utc_or_none():
    body = rss(
        "<item><title>Dated</title><pubDate>Tue, 03 Feb 2026 09:30:00 +0900</pubDate></item>"
        "<item><title>Undated</title></item>"
        "<item><title>Garbage</title><pubDate>sometime soon</pubDate></item>"
    )
    items = parse_feed(body, url="https://news.example/rss").items
    assert items[0].published == datetime(2026, 2, 3, 0, 30, tzinfo=timezone.utc)
    assert items[1].published is None and items[2].published is None


def test_image_from_media_thumbnail_and_source_from_the_item():
    body = rss(
        '<item><title>Song Hye-kyo at Cannes - Soompi</title><link>https://news.google.com/rss/articles/CBMi?oc=5</link>'
        '<source url="https://www.soompi.com">Soompi</source>'
        '<media:thumbnail url="https://img.example/t.jpg"/></item>'
    )
    item = parse_feed(body, url="https://news.google.com/rss/search?q=x").items[0]
    assert item.image_url == "https://img.example/t.jpg"
    assert item.source_name == "Soompi"
    assert normalise_title(item.title, item.source_name) == normalise_title("Song Hye-kyo at Cannes!")
    assert canonical_link(item.link) == "https://news.google.com/rss/articles/CBMi?oc=5"


def test_source_name_falls_back_to_the_feed_title():
    body = rss("<item><title>A story</title></item>")
    assert parse_feed(body, url="https://news.example/rss").items[0].source_name == "Fan news"


def test_canonical_link_drops_tracking_and_noise():
    assert canonical_link("HTTPS://News.Example:443/a/b/?utm_source=x&id=2&fbclid=y#top") == (
        "https://news.example/a/b?id=2"
    )


def test_normalise_title_ignores_case_width_accents_and_punctuation():
    assert normalise_title("SONG HYE-KYO’s new drama!") == normalise_title("Song Hye-kyo's  new drama")
    assert normalise_title("ＩＵ　콘서트") == normalise_title("iu 콘서트")
    assert normalise_title("Café") == normalise_title("cafe")
    assert normalise_title("송혜교 새 드라마") != normalise_title("송혜교 새 영화")
