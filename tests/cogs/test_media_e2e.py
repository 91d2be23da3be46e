"""End to end through the Discord double: the media library, the submission queue and the daily posts."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from tests.discord_double import Perm

KITTEN = "https://www.youtube.com/watch?v=kitten123"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(300)


async def _ready(start_bot, server, **overrides):
    bot = await start_bot(**overrides)
    await server.configure(bot)
    await server.invoke(server.mod, "stars follow", name="Song Hye-kyo")
    await server.invoke(server.mod, "stars follow", name="Han So-hee")
    return bot


def _custom_ids(message):
    return [c["custom_id"] for row in message["components"] for c in row.get("components", []) if "custom_id" in c]


def _file_requests(double, attachment):
    return [r for r in double.requests if attachment["id"] in r.path]


async def test_moderator_adds_a_video_link_and_a_photo_and_fans_find_them(start_bot, server, double):
    bot = await _ready(start_bot, server)
    video = await server.invoke(server.mod, "media add", title="Hye-kyo plays with a kitten", url=KITTEN + "&utm_source=tw",
                                star="Song Hye-kyo", tags="kitten, cute")
    assert video.ephemeral and "Added #1" in video.content
    photo_file = double.attach_file("airport.png", "image/png", PNG)
    photo = await server.invoke(server.mod, "media add", title="Airport fashion 공항패션", file=photo_file,
                                star="Song Hye-kyo", tags="fashion")
    await photo.wait_done()
    assert photo.ephemeral and "Added #2" in photo.all_text
    assert len(_file_requests(double, photo_file)) == 1  # downloaded once, through the fetcher
    stored = list((bot.settings.media_path).rglob("*.png"))
    assert len(stored) == 1 and stored[0].read_bytes() == PNG
    sohee = await server.invoke(server.mod, "media add", title="So-hee at the premiere", url="https://example.com/p.jpg",
                                star="Han So-hee", tags="premiere")
    assert "Added #3" in sohee.content

    dup = await server.invoke(server.mod, "media add", title="Same kitten", url="HTTPS://WWW.YouTube.com/watch/?v=kitten123&fbclid=abc")
    assert dup.ephemeral and "already in the library" in dup.content

    by_hangul = await server.invoke(server.fan, "media search", query="송혜교")
    text = by_hangul.embeds[0]["description"]
    assert "kitten" in text and "Airport" in text and "premiere" not in text
    by_tag = await server.invoke(server.fan, "media search", query="kitten")
    assert "#1" in by_tag.embeds[0]["description"] and "#2" not in by_tag.embeds[0]["description"]
    korean_title = await server.invoke(server.fan, "media search", query="공항")
    assert "Airport" in korean_title.embeds[0]["description"]
    nothing = await server.invoke(server.fan, "media search", query="zzz")
    assert nothing.ephemeral and "Nothing" in nothing.content

    tagged = await server.invoke(server.fan, "media random", tag="#Kitten")
    assert not tagged.ephemeral and KITTEN in tagged.content  # videos go in the content so Discord unfurls a player
    for _ in range(4):
        starred = await server.invoke(server.fan, "media random", star="Han So-hee")
        assert starred.embeds[0]["image"]["url"] == "https://example.com/p.jpg"
    seen = set()
    for _ in range(12):
        anything = await server.invoke(server.fan, "media random")
        await anything.wait_done()
        seen.add(anything.all_text.split("#")[1][0] if "#" in anything.all_text else "")
    assert seen <= {"1", "2", "3"} and len(seen) >= 2

    choices = await server.autocomplete(server.fan, "media show", "item", "airport")
    assert [c["value"] for c in choices] == ["id:2"]
    shown = await server.invoke(server.fan, "media show", item="id:2")
    await shown.wait_done()
    message = (shown.followups or [shown.original])[0]
    assert message["attachments"][0]["filename"] == "2.png"
    assert double.attachment_data(message["attachments"][0]) == PNG  # re-uploaded from the bot's own copy
    assert message["embeds"][0]["image"]["url"] == "attachment://2.png"

    removed = await server.invoke(server.mod, "media remove", item="id:2")
    assert "Removed #2" in removed.content
    assert not stored[0].exists()
    gone = await server.invoke(server.fan, "media show", item="id:2")
    assert gone.ephemeral and "no such item" in gone.content


async def test_spoilers_are_hidden(start_bot, server, double):
    bot = await _ready(start_bot, server)
    await server.invoke(server.mod, "media add", title="Ending scene", url="https://example.com/end.jpg", spoiler=True)
    link = await server.invoke(server.fan, "media show", item="id:1")
    assert "||https://example.com/end.jpg||" in link.content and "||Ending scene||" in link.content
    assert not link.embeds  # an embed image cannot be hidden
    clip = double.attach_file("finale.mp4", "video/mp4", MP4)
    added = await server.invoke(server.mod, "media add", title="Finale", file=clip, spoiler=True)
    await added.wait_done()
    shown = await server.invoke(server.fan, "media show", item="id:2")
    await shown.wait_done()
    message = (shown.followups or [shown.original])[0]
    assert message["attachments"][0]["filename"] == "SPOILER_2.mp4"
    found = await server.invoke(server.fan, "media search", query="finale")
    assert "||Finale||" in found.embeds[0]["description"]
    for path in bot.settings.media_path.rglob("*.mp4"):
        path.unlink()  # an operator cleaned the folder by hand
    lost = await server.invoke(server.fan, "media show", item="id:2")
    assert lost.ephemeral and "missing" in lost.content


async def test_fan_submission_is_approved_rejected_and_fans_cannot_decide(start_bot, server, double):
    bot = await _ready(start_bot, server)
    sub = await server.invoke(server.fan, "media submit", title="Kitten again", url=KITTEN, star="Song Hye-kyo",
                              tags="kitten")
    await sub.wait_done()
    assert sub.ephemeral and "waiting for a moderator" in sub.all_text
    card = server.messages("modlog")[-1]
    assert _custom_ids(card) == ["media:approve:1", "media:reject:1"]

    refused = await server.click(server.fan, card, "media:approve:1")
    assert refused.ephemeral and "Only moderators" in refused.content
    assert await bot.services.media.repo.count(int(server.guild.id)) == 0
    assert _custom_ids(server.messages("modlog")[-1]) == ["media:approve:1", "media:reject:1"]

    approved = await server.click(server.mod, card, "media:approve:1")
    assert approved.response_type == 7  # the card itself is updated
    card = server.messages("modlog")[-1]
    assert card["components"] == [] and "Approved by" in card["embeds"][0]["fields"][-1]["value"]
    told = await double.wait_for_message(server.channels["media"].id, lambda m: server.fan.id in m["content"])
    assert told["allowed_mentions"] == {"parse": [], "users": [int(server.fan.id)]}
    assert KITTEN in told["content"]
    found = await server.invoke(server.fan, "media search", query="kitten")
    assert "Kitten again" in found.embeds[0]["description"]

    dup = await server.invoke(server.new_fan(), "media submit", title="Same", url="http://WWW.youtube.com/watch?v=kitten123&utm_campaign=x")
    await dup.wait_done()
    assert dup.ephemeral and "already in the library" in dup.all_text

    other = server.new_fan()
    second = await server.invoke(other, "media submit", title="Blurry photo", url="https://example.com/blurry.jpg")
    await second.wait_done()
    card2 = server.messages("modlog")[-1]
    rejected = await server.click(server.mod, card2, "media:reject:2")
    assert rejected.response_type == 7
    note = await double.wait_for_message(server.channels["media"].id, lambda m: other.id in m["content"])
    assert "did not add" in note["content"] and note["allowed_mentions"] == {"parse": [], "users": [int(other.id)]}
    nothing = await server.invoke(server.fan, "media search", query="blurry")
    assert "Nothing" in nothing.content


async def test_buttons_survive_a_restart_and_two_moderators_race(start_bot, server, double):
    bot = await _ready(start_bot, server)
    clip = double.attach_file("clip.mp4", "video/mp4", MP4)
    sub = await server.invoke(server.fan, "media submit", title="Fan cam", file=clip)
    await sub.wait_done()
    card = server.messages("modlog")[-1]
    assert card["attachments"][0]["filename"] == "submission-1.mp4"
    bot = await start_bot.restart(bot)
    mod2 = server.guild.add_member("mod2", permissions=Perm.MANAGE_GUILD)
    first = await double.click(card, "media:approve:1", server.mod)
    second = await double.click(card, "media:approve:1", mod2)
    await asyncio.gather(first.wait_response(), second.wait_response())
    winners = [h for h in (first, second) if h.response_type == 7]
    losers = [h for h in (first, second) if h.response_type != 7]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0].ephemeral and "already approved" in losers[0].content
    assert await bot.services.media.repo.count(int(server.guild.id)) == 1
    told = await double.wait_for_message(server.channels["media"].id, lambda m: server.fan.id in m["content"])
    assert told["attachments"][0]["filename"] == "1.mp4"

    photo = double.attach_file("photo.png", "image/png", PNG)
    sub = await server.invoke(server.fan, "media submit", title="Photo", file=photo)
    await sub.wait_done()
    assert len(list(bot.settings.media_path.rglob("*.png"))) == 1
    await server.click(server.mod, server.messages("modlog")[-1], "media:reject:2")
    assert list(bot.settings.media_path.rglob("*.png")) == []  # a rejected file is not kept
    assert len(list(bot.settings.media_path.rglob("*.mp4"))) == 1


async def test_bad_input_gets_a_short_private_error_and_changes_nothing(start_bot, server, double):
    bot = await _ready(start_bot, server, media_max_bytes=1024 * 1024)
    gid = int(server.guild.id)
    for url in ("javascript:alert(1)", "file:///etc/passwd", "data:text/html,hi", "https://x.com/" + "a" * 2000):
        ix = await server.invoke(server.mod, "media add", title="Bad", url=url)
        assert ix.ephemeral and len(ix.content) < 200, ix.content
    huge = double.attach_file("huge.mp4", "video/mp4", MP4)
    huge["size"] = 200 * 1024 * 1024
    ix = await server.invoke(server.mod, "media add", title="Huge", file=huge)
    await ix.wait_done()
    assert ix.ephemeral and "limit" in ix.all_text
    assert _file_requests(double, huge) == []  # refused by the declared size, never downloaded
    sneaky = double.attach_file("big.png", "image/png", PNG + bytes(2 * 1024 * 1024))  # lies about its size
    sneaky["size"] = 1000
    ix = await server.invoke(server.mod, "media add", title="Sneaky", file=sneaky)
    await ix.wait_done()
    assert ix.ephemeral and "too large" in ix.all_text
    fake = double.attach_file("cat.png", "image/png", b"<html><script>alert(1)</script></html>")
    ix = await server.invoke(server.fan, "media submit", title="Cat", file=fake)
    await ix.wait_done()
    assert ix.ephemeral and "not a picture" in ix.all_text
    neither = await server.invoke(server.fan, "media submit", title="Nothing attached")
    await neither.wait_done()
    assert neither.ephemeral and "either a link" in neither.all_text
    assert await bot.services.media.repo.count(gid) == 0
    assert await bot.services.media.repo.pending_count(gid) == 0
    assert list(bot.settings.media_path.rglob("*.*")) == []
    assert server.messages("modlog") == []

    rude = await server.invoke(server.mod, "media add", title="@everyone look [free nitro](https://evil.example)",
                               url="https://example.com/ok")
    assert "@\u200beveryone" in rude.content
    shown = await server.invoke(server.fan, "media show", item="id:1")
    title = shown.embeds[0]["title"]
    assert "@everyone" not in title and "\\[free nitro\\]" in title
    assert double.messages.by_id[shown.original_id]["allowed_mentions"]["parse"] == []
    not_a_mod = await server.invoke(server.fan, "media show", item="id:99")
    assert not_a_mod.ephemeral


async def test_media_of_the_day_and_birthday_post_once_even_after_restart(start_bot, server, double, clock):
    clock.set(datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc))  # 11:00 on her birthday in Seoul
    bot = await _ready(start_bot, server)
    await server.invoke(server.mod, "media add", title="Kitten", url=KITTEN)
    await server.invoke(server.mod, "media add", title="Premiere", url="https://example.com/p.jpg")

    await bot.scheduler.run_once()
    greetings = server.messages("birthdays")
    assert len(greetings) == 1 and "Song Hye-kyo" in greetings[0]["content"] and "turns 45" in greetings[0]["content"]
    assert not [m for m in server.messages("media") if "Media of the day" in (m["content"] or "")]

    clock.set(datetime(2026, 11, 22, 3, 1, tzinfo=timezone.utc))  # 12:01 KST: past the media hour
    await bot.scheduler.run_once()

    def daily():
        return [m for m in server.messages("media") if "Media of the day" in (m["content"] or "")]
    assert len(daily()) == 1
    first_pick = daily()[0]["content"]
    clock.advance(120)
    await bot.scheduler.run_once(force=True)
    bot = await start_bot.restart(bot)
    clock.advance(120)
    await bot.scheduler.run_once(force=True)
    assert len(daily()) == 1 and len(server.messages("birthdays")) == 1

    clock.advance(timedelta(days=3))  # down for days: only today is posted, once
    bot = await start_bot.restart(bot)
    await bot.scheduler.run_once(force=True)
    await bot.scheduler.run_once(force=True)
    assert len(daily()) == 2 and len(server.messages("birthdays")) == 1
    assert daily()[1]["content"] != first_pick  # the item not shown recently
    assert all(m["allowed_mentions"]["parse"] == [] for m in server.messages("media") + server.messages("birthdays"))


async def test_media_hour_and_time_zone_are_the_servers(start_bot, server, clock):
    clock.set(datetime(2026, 7, 1, 12, 30, tzinfo=timezone.utc))  # 08:30 in New York (EDT)
    bot = await _ready(start_bot, server)
    await server.invoke(server.mod, "config timezone", tz="America/New_York")
    await server.invoke(server.mod, "config media-hour", hour=9)
    await server.invoke(server.mod, "media add", title="Kitten", url=KITTEN)
    await bot.scheduler.run_once(force=True)
    assert server.messages("media") == []
    clock.set(datetime(2026, 7, 1, 13, 0, tzinfo=timezone.utc))  # 09:00 EDT
    await bot.scheduler.run_once(force=True)
    assert len(server.messages("media")) == 1


async def test_a_submission_stored_before_a_crash_still_reaches_the_moderators(start_bot, server, double, clock):
    bot = await _ready(start_bot, server)
    gid = int(server.guild.id)
    # As if the bot died between storing the submission and posting its card.
    await bot.services.media.submit(gid, int(server.fan.id), title="Lost card", url="https://example.com/lost")
    bot = await start_bot.restart(bot)
    await bot.scheduler.run_once(force=True)
    assert server.messages("modlog") == []  # too recent: a /media submit may still be posting it
    clock.advance(180)
    await bot.scheduler.run_once(force=True)
    await bot.scheduler.run_once(force=True)
    cards = server.messages("modlog")
    assert len(cards) == 1 and _custom_ids(cards[0]) == ["media:approve:1", "media:reject:1"]
    approved = await server.click(server.mod, cards[0], "media:approve:1")
    assert approved.response_type == 7


async def test_without_a_mod_log_channel_submissions_are_refused_up_front(start_bot, server):
    bot = await start_bot()
    ix = await server.invoke(server.fan, "media submit", title="Kitten", url=KITTEN)
    assert ix.ephemeral and "mod-log" in ix.content
    assert await bot.services.media.repo.pending_count(int(server.guild.id)) == 0
