"""Pictures and publishers end to end: feeds served locally, announcements as the double stores them."""

from __future__ import annotations

from email.utils import format_datetime

from tests.feedserver import FeedServer

MEDIA = 'xmlns:media="http://search.yahoo.com/mrss/" xmlns:content="http://purl.org/rss/1.0/modules/content/"'


def rss(title: str, items: str) -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" {MEDIA}><channel><title>{title}</title>'
            f"<link>https://news.example/</link>{items}</channel></rss>").encode()


async def following_han_so_hee(start_bot, server, feeds: FeedServer, **named_paths: str):
    """A bot whose server posts news, follows Han So-hee and reads one empty feed per name (path=name)."""
    bot = await start_bot()
    await server.invoke(server.mod, "config channel", kind="news", channel=server.channels["news"])
    await server.invoke(server.mod, "stars follow", name="Han So-hee")
    served = {}
    for path, name in named_paths.items():
        served[path] = feeds.feed(f"{path}.xml", body=rss(name, ""))
        await server.invoke(server.mod, "feeds add", url=feeds.url(f"{path}.xml"), name=name)
    return bot, served


def item(title: str, link: str, extra: str = "", when: str = "") -> str:
    date = f"<pubDate>{when}</pubDate>" if when else ""
    return f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>{date}{extra}</item>"


async def test_each_place_a_feed_puts_a_picture_reaches_the_announcement(start_bot, server, clock):
    feeds = await FeedServer().start()
    try:
        bot, served = await following_han_so_hee(start_bot, server, feeds, wire="Wire")
        wire = served["wire"]
        wire.body = rss("Wire", "".join([
            item("Han So-hee in a media:content story", "https://wire.example/1",
                 '<media:content url="https://img.example/content.jpg" medium="image" width="800" height="600"/>'),
            item("Han So-hee in a thumbnail story", "https://wire.example/2",
                 '<media:thumbnail url="https://img.example/thumb.jpg"/>'),
            item("Han So-hee in an enclosure story", "https://wire.example/3",
                 '<enclosure url="https://img.example/enclosed.png" type="image/png" length="2000"/>'),
            item("Han So-hee in an HTML story", "https://wire.example/4",
                 '<description><![CDATA[<img src="https://stats.wp.com/b.gif" width="1" height="1">'
                 '<img src="javascript:alert(1)"><p>Text</p><img src="/pics/inline.webp">]]></description>'),
            item("Han So-hee with no picture", "https://wire.example/5",
                 '<description><![CDATA[<img src="data:image/png;base64,AAAA">]]></description>'),
        ]))
        clock.advance(700)
        await bot.scheduler.run_once()
        images = {m["embeds"][0]["title"]: (m["embeds"][0].get("image") or {}).get("url")
                  for m in server.messages("news")}
        assert images == {
            "Han So-hee in a media:content story": "https://img.example/content.jpg",
            "Han So-hee in a thumbnail story": "https://img.example/thumb.jpg",
            "Han So-hee in an enclosure story": "https://img.example/enclosed.png",
            # Relative to the feed's own address; beacons, scripts and data: URLs are never taken.
            "Han So-hee in an HTML story": feeds.url("pics/inline.webp"),
            "Han So-hee with no picture": None,
        }
    finally:
        await feeds.stop()


async def test_a_google_news_story_and_the_publishers_own_item_are_posted_once(start_bot, server, clock):
    feeds = await FeedServer().start()
    try:
        bot, served = await following_han_so_hee(start_bot, server, feeds, google="Google News",
                                                  fandaily="Fan Daily")
        google, own = served["google"], served["fandaily"]
        when = format_datetime(clock.now())
        google.body = rss('"Han So-hee" - Google News', item(
            "Han So-hee cast in a new mystery series - Fan Daily", "https://news.google.com/rss/articles/CBMiOne?oc=5",
            '<source url="https://fandaily.example">Fan Daily</source>', when))
        own.body = rss("Fan Daily", item("Han So-hee cast in a new mystery series",
                                         "https://fandaily.example/2026/12/mystery", "", when))
        clock.advance(700)
        await bot.scheduler.run_once()
        clock.advance(700)
        await bot.scheduler.run_once()
        [post] = server.messages("news")
        [embed] = post["embeds"]
        assert embed["title"] == "Han So-hee cast in a new mystery series"  # the publisher's suffix dropped
        assert "Fan Daily" in str(embed)  # named once, as the source
        assert embed["title"].count("Fan Daily") == 0
    finally:
        await feeds.stop()
