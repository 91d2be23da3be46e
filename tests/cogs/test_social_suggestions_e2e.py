"""Her posts become media suggestions, through the Discord double: carded once, approved into the library."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import assert_no_pings
from tests.feedserver import FeedServer, Item, rsshub_settings

MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(3000)
HTML = b"<!doctype html><html><body>not a video</body></html>"
CARD_WAIT = timedelta(minutes=5, seconds=1)  # the card job's period, past the 2-minute grace


def _post(feeds: FeedServer, n: int, caption: str, *, file: str, length: int) -> Item:
    """An Instagram post as RSSHub renders it: the video in HTML (with its poster) and as an enclosure."""
    media = feeds.url(f"cdn/{file}")
    html = f'<video controls poster="https://cdn.example/p/{n}.jpg"><source src="{media}"></video><br>{caption}'
    link = f"https://www.instagram.com/p/Post{n}/"
    return Item(caption, link, link, html, enclosure=(media, "video/mp4", length))


async def _setup(start_bot, server, feeds: FeedServer):
    insta = feeds.feed("instagram/user/xeesoxee")
    bot = await start_bot(**rsshub_settings(feeds))
    for kind in ("news", "modlog", "media"):
        await server.invoke(server.mod, "config channel", kind=kind, channel=server.channels[kind])
    await server.invoke(server.mod, "stars follow", name="Han So-hee")
    await bot.scheduler.run_once()  # her existing posts: recorded silently, never suggested
    return bot, insta


async def test_her_video_post_is_announced_carded_approved_and_found(start_bot, server, double, clock):
    feeds = await FeedServer().start()
    try:
        feeds.files["cdn/kitten.mp4"] = (MP4, "video/mp4")
        bot, insta = await _setup(start_bot, server, feeds)
        listed = await server.invoke(server.mod, "feeds list")
        assert feeds.url("instagram/user/xeesoxee") in listed.all_text
        insta.items[:0] = [_post(feeds, 1, "Look who joined the family: our new kitten", file="kitten.mp4",
                                 length=len(MP4))]
        clock.advance(700)
        await bot.scheduler.run_once()
        [news] = server.messages("news")
        assert news["embeds"][0]["author"]["name"] == "Han So-hee posted on Instagram"

        # A restart between the poll and the card: nothing is announced or carded twice.
        bot = await start_bot.restart(bot)
        for _ in range(3):
            clock.advance(CARD_WAIT)
            await bot.scheduler.run_once()
        assert len(server.messages("news")) == 1
        [card] = server.messages("modlog")
        embed = card["embeds"][0]
        assert "Look who joined the family" in embed["title"]
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        assert fields["From"] == "her post on Instagram @xeesoxee"
        assert fields["Post"] == "https://www.instagram.com/p/Post1/"
        assert fields["Star"] == "Han So-hee"
        assert card["attachments"][0]["filename"] == "submission-1.mp4"
        assert double.attachment_data(card["attachments"][0]) == MP4  # the bot kept the file itself

        fan_press = await server.click(server.fan, card, "media:approve:1")
        assert fan_press.ephemeral and "Only moderators" in fan_press.content
        approved = await server.click(server.mod, card, "media:approve:1")
        assert approved.response_type == 7
        assert server.messages("media") == []  # no fan to thank: nobody is pinged

        found = await server.invoke(server.fan, "media search", query="kitten")
        assert "Look who joined the family" in found.all_text and "Instagram @xeesoxee" in found.all_text
        shown = await server.invoke(server.fan, "media show", item="1")
        await shown.wait_done()
        message = (shown.followups or [shown.original])[0]
        assert message["attachments"][0]["filename"] == "1.mp4"
        assert double.attachment_data(message["attachments"][0]) == MP4
        assert "<https://www.instagram.com/p/Post1/>" in message["content"] and "Han So-hee" in message["content"]
        assert_no_pings(double, allowed_roles=set())
    finally:
        await feeds.stop()


async def test_a_post_carried_by_two_feeds_is_suggested_once(start_bot, server, clock):
    feeds = await FeedServer().start()
    try:
        feeds.files["cdn/a.mp4"] = (MP4, "video/mp4")
        bot, insta = await _setup(start_bot, server, feeds)
        mirror = feeds.feed("twitter/user/xeesoxee")
        await server.invoke(server.mod, "feeds add-social", star="Han So-hee", platform="x", handle="xeesoxee")
        await bot.scheduler.run_once()
        post = _post(feeds, 2, "Same clip, two accounts", file="a.mp4", length=len(MP4))
        insta.items[:0] = [post]
        mirror.items[:0] = [post]
        clock.advance(700)
        await bot.scheduler.run_once()
        clock.advance(CARD_WAIT)
        await bot.scheduler.run_once()
        assert len(server.messages("news")) == 1
        assert len(server.messages("modlog")) == 1
        assert await bot.services.media.pending_count(int(server.guild.id)) == 1
    finally:
        await feeds.stop()


async def test_a_huge_enclosure_or_a_web_page_keeps_the_link_only(start_bot, server, clock):
    feeds = await FeedServer().start()
    try:
        feeds.files["cdn/page.mp4"] = (HTML, "text/html")
        feeds.files["cdn/huge.mp4"] = (MP4, "video/mp4")
        bot, insta = await _setup(start_bot, server, feeds)
        insta.items[:0] = [_post(feeds, 3, "A very long film", file="huge.mp4", length=2 * 1024**3),
                           _post(feeds, 4, "Not really a video", file="page.mp4", length=50_000)]
        clock.advance(700)
        await bot.scheduler.run_once()
        clock.advance(CARD_WAIT)
        await bot.scheduler.run_once()
        cards = server.messages("modlog")
        assert len(cards) == 2 and all(not c.get("attachments") for c in cards)
        posts = sorted(f["value"] for c in cards for f in c["embeds"][0]["fields"] if f["name"] == "Post")
        assert posts == ["https://www.instagram.com/p/Post3/", "https://www.instagram.com/p/Post4/"]
        assert feeds.hits("cdn/huge.mp4") == []  # 2 GB by the feed's word: not a byte fetched
        assert len(feeds.hits("cdn/page.mp4")) == 1

        card = next(c for c in cards if "A very long film" in c["embeds"][0]["title"])
        sub_id = next(b["custom_id"] for row in card["components"] for b in row["components"]).rsplit(":", 1)[1]
        await server.click(server.mod, card, f"media:approve:{sub_id}")
        found = await server.invoke(server.fan, "media search", query="long film")
        assert "A very long film" in found.all_text
        shown = await server.invoke(server.fan, "media show", item="A very long film")
        await shown.wait_done()
        message = (shown.followups or [shown.original])[0]
        assert message["embeds"][0]["url"] == "https://www.instagram.com/p/Post3/" and not message.get("attachments")
    finally:
        await feeds.stop()
