"""Her own accounts through the Discord double: followed with her, listed, added by hand, refused when unsafe."""

from __future__ import annotations

from tests.conftest import assert_no_pings
from tests.discord_double import Perm
from tests.feedserver import FeedServer, Item, rsshub_settings


async def test_following_han_so_hee_follows_her_instagram_through_rsshub(start_bot, server):
    feeds = await FeedServer().start()
    try:
        feeds.feed("instagram/user/xeesoxee")
        await start_bot(**rsshub_settings(feeds))
        followed = await server.invoke(server.mod, "stars follow", name="Han So-hee")
        assert "Her 1 own account is followed too." in followed.content

        listed = await server.invoke(server.mod, "feeds list")
        assert feeds.url("instagram/user/xeesoxee") in listed.all_text
        assert "Han So-hee · Instagram @xeesoxee" in listed.all_text
        assert "Her own Instagram account" in listed.all_text

        info = await server.invoke(server.fan, "stars info", star="Han So-hee")
        assert "Her accounts" in info.all_text and "Instagram @xeesoxee: followed" in info.all_text

        ko_fan = server.guild.add_member("ko-fan", locale="ko")
        ko_info = await server.invoke(ko_fan, "stars info", star="Han So-hee")
        assert "본인 계정" in ko_info.all_text and "인스타그램 @xeesoxee: 팔로우 중" in ko_info.all_text

        await server.invoke(server.mod, "stars unfollow", star="Han So-hee")
        after = await server.invoke(server.mod, "feeds list")
        assert "xeesoxee" not in after.all_text  # her account feeds leave with her
    finally:
        await feeds.stop()


async def test_without_rsshub_info_says_how_to_enable_instagram(start_bot, server):
    await start_bot()
    await server.invoke(server.mod, "stars follow", name="Song Hye-kyo")
    info = await server.invoke(server.fan, "stars info", star="Song Hye-kyo")
    assert "Instagram @kyo1122: no feed: the bot's operator can set RSSHUB_BASE" in info.all_text
    listed = await server.invoke(server.mod, "feeds list")
    assert "kyo1122" not in listed.all_text

    refused = await server.invoke(server.mod, "feeds add-social", star="Song Hye-kyo", platform="instagram",
                                  handle="kyo1122")
    assert refused.ephemeral and "RSSHUB_BASE" in refused.content


async def test_add_social_by_hand_and_what_it_refuses(start_bot, server):
    feeds = await FeedServer().start()
    try:
        await start_bot(**rsshub_settings(feeds))
        await server.invoke(server.mod, "stars follow", name="Kim Go-eun")  # no account in the catalogue
        info = await server.invoke(server.fan, "stars info", star="Kim Go-eun")
        assert "Her accounts" not in info.all_text

        for bad in ("a/b", "../admin", "me?x=1", "me#top", "two words", "https://instagram.com/x"):
            refused = await server.invoke(server.mod, "feeds add-social", star="Kim Go-eun", platform="x", handle=bad)
            assert refused.ephemeral and "without /, ?, #" in refused.content, bad
        fan = await server.invoke(server.fan, "feeds add-social", star="Kim Go-eun", platform="x", handle="someone")
        assert fan.ephemeral and "Only moderators" in fan.content
        listed = await server.invoke(server.mod, "feeds list")
        assert "This server reads no feeds yet" in listed.content  # nothing was stored by the refusals

        added = await server.invoke(server.mod, "feeds add-social", star="Kim Go-eun", platform="youtube",
                                    handle="UCtestChannel123")
        assert added.ephemeral and "Following Kim Go-eun's YouTube account" in added.content
        again = await server.invoke(server.mod, "feeds add-social", star="Kim Go-eun", platform="youtube",
                                    handle="UCtestChannel123")
        assert "already reads" in again.content
        listed = await server.invoke(server.mod, "feeds list")
        assert "https://www.youtube.com/feeds/videos.xml?channel_id=UCtestChannel123" in listed.all_text
        info = await server.invoke(server.fan, "stars info", star="Kim Go-eun")
        assert "YouTube UCtestChannel123: followed" in info.all_text

        ko_mod = server.guild.add_member("ko-mod", permissions=Perm.MANAGE_GUILD, locale="ko")
        ko = await server.invoke(ko_mod, "feeds add-social", star="Kim Go-eun", platform="weibo", handle="a/b")
        assert ko.ephemeral and "핸들에는 계정 이름만" in ko.content
    finally:
        await feeds.stop()


def _post(n: int, caption: str, *, video: bool = True) -> Item:
    """An Instagram post as RSSHub renders it: HTML with the video (and its poster) or a photo, an enclosure."""
    media = f"https://cdn.example/v/{n}.mp4"
    poster = f"https://cdn.example/p/{n}.jpg"
    html = (f'<video controls poster="{poster}"><source src="{media}" type="video/mp4"></video><br>{caption}' if video
            else f'<img src="{poster}"><br>{caption}')
    return Item(caption, f"https://www.instagram.com/p/Post{n}/", f"https://www.instagram.com/p/Post{n}/", html,
                enclosure=(media, "video/mp4", 5_242_880) if video else (poster, "image/jpeg", 200_000))


async def test_her_new_post_is_announced_as_hers_with_its_thumbnail(start_bot, server, double, clock):
    feeds = await FeedServer().start()
    try:
        insta = feeds.feed("instagram/user/xeesoxee", _post(1, "An old post"))
        bot = await start_bot(**rsshub_settings(feeds))
        await server.invoke(server.mod, "config channel", kind="news", channel=server.channels["news"])
        await server.invoke(server.mod, "stars follow", name="Han So-hee")
        await bot.scheduler.run_once()  # the first look records what is there, silently
        assert server.messages("news") == []

        insta.items[:0] = [_post(2, "Look who joined the family 🐱 @everyone")]  # never names her
        clock.advance(700)
        await bot.scheduler.run_once()
        [message] = server.messages("news")
        embed = message["embeds"][0]
        assert embed["author"]["name"] == "Han So-hee posted on Instagram"
        assert embed["title"].startswith("Look who joined the family")
        assert embed["url"] == "https://www.instagram.com/p/Post2/"
        assert embed["image"]["url"] == "https://cdn.example/p/2.jpg"  # the video's poster
        assert not any(f["name"] in ("Stars", "Source") for f in embed.get("fields", []))
        assert_no_pings(double, allowed_roles=set())

        # A press story about her in the same channel still reads as press.
        wire = feeds.feed("wire.xml")
        await server.invoke(server.mod, "feeds add", url=feeds.url("wire.xml"), name="Wire")
        wire.items[:0] = [Item("Han So-hee cast in a new film", "http://wire.example/1", "1")]
        clock.advance(700)
        await bot.scheduler.run_once()
        press = server.messages("news")[-1]["embeds"][0]
        assert "author" not in press and any(f["name"] == "Stars" for f in press["fields"])
    finally:
        await feeds.stop()


async def test_a_korean_server_reads_her_post_in_korean(start_bot, server, double, clock):
    feeds = await FeedServer().start()
    try:
        insta = feeds.feed("instagram/user/xeesoxee")
        bot = await start_bot(**rsshub_settings(feeds))
        await server.invoke(server.mod, "config channel", kind="news", channel=server.channels["news"])
        await server.invoke(server.mod, "config language", language="ko")
        await server.invoke(server.mod, "stars follow", name="Han So-hee")
        await bot.scheduler.run_once()
        insta.items[:0] = [_post(3, "Morning light", video=False)]
        clock.advance(700)
        await bot.scheduler.run_once()
        [message] = server.messages("news")
        assert message["embeds"][0]["author"]["name"] == "한소희 님이 인스타그램에 올렸어요"
        assert message["embeds"][0]["image"]["url"] == "https://cdn.example/p/3.jpg"
    finally:
        await feeds.stop()
