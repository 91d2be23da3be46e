"""Korean and English through the double: what is synced, and who reads which language."""

from __future__ import annotations

from typing import Any

import pytest
from discord import app_commands

from tests.conftest import FanServer


def _unlocalised(item: dict[str, Any], path: str) -> list[str]:
    """Every command, subcommand, option and choice under `item` that has no Korean."""
    missing = [] if "ko" in (item.get("description_localizations") or {}) else [path]
    for choice in item.get("choices") or []:
        if "ko" not in (choice.get("name_localizations") or {}):
            missing.append(f"{path} choice {choice['name']}")
    for option in item.get("options") or []:
        missing += _unlocalised(option, f"{path} {option['name']}")
    return missing


async def test_every_synced_command_option_and_choice_carries_korean(start_bot, double):
    await start_bot()
    synced = double.commands[None]
    assert len(synced) >= 8, "the commands were not synced"
    missing = [p for name, command in synced.items() for p in _unlocalised(command, f"/{name}")]
    assert not missing, missing
    star = synced["stars"]["options"]
    info = next(o for o in star if o["name"] == "info")
    assert info["options"][0]["name_localizations"]["ko"] == "스타"
    assert "name_localizations" not in synced["stars"] or not (synced["stars"].get("name_localizations") or {})


async def test_a_changed_translation_is_synced_again(start_bot, double, monkeypatch):
    bot = await start_bot()
    before = double.sync_count
    assert not await bot.sync_commands(force=False)  # same tree, same translations
    lang = bot.i18n.get("ko")
    monkeypatch.setitem(lang._cache, "Stop following a star", "스타 언팔로우")
    assert await bot.sync_commands(force=False) and double.sync_count == before + 1


async def test_a_sync_sends_the_payload_it_hashed_and_translates_the_tree_once(start_bot, double):
    bot = await start_bot()
    translator = bot.tree.translator
    asked = 0
    translate = translator.translate

    async def counting(*args: Any) -> str | None:
        nonlocal asked
        asked += 1
        return await translate(*args)

    translator.translate = counting  # discord.py calls self.translate, so the instance attribute wins
    payload = await bot.tree.payload(None)
    per_build, asked = asked, 0
    assert await bot.sync_commands(force=True)
    assert per_build > 1000 and asked == per_build  # one build for the hash and the PUT, not one each
    sent = double.find_requests("PUT", r"/applications/\d+/commands")[-1]
    assert sent.json == payload and double.commands[None]["stars"]["description"] == "The stars this server follows"


async def test_a_translation_discord_refuses_fails_the_sync_naming_the_command(start_bot, double, monkeypatch):
    bot = await start_bot()
    before = double.sync_count
    # Discord refuses an option name with a space in it (50035), as the double does.
    monkeypatch.setitem(bot.i18n.get("ko")._cache, ("option name", "star"), "두 단어")
    with pytest.raises(app_commands.CommandSyncFailure) as caught:
        await bot.sync_commands(force=True)
    assert caught.value.status == 400 and caught.value.code == 50035
    assert double.sync_count == before and "스타" in str(double.commands[None])  # the old commands stand


async def test_ja_and_pt_br_fans_read_english_and_a_ko_fan_reads_korean(start_bot, server: FanServer):
    await start_bot()
    for locale in ("ja", "zh-TW", "pt-BR", "en-US"):
        fan = server.guild.add_member(f"fan-{locale}", locale=locale)
        ix = await server.invoke(fan, "config show")  # a moderator command: refused, in the reader's language
        assert ix.ephemeral and ix.content.startswith("Only moderators"), (locale, ix.content)
    ko_fan = server.guild.add_member("korean-fan", locale="ko")
    ix = await server.invoke(ko_fan, "config show")
    assert ix.ephemeral and ix.content.startswith("관리자만"), ix.content


_LATIN_WORD = __import__("re").compile(r"[A-Za-z]{3,}")


def english_words(text: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """Latin words in a Korean reply, other than names, commands and markup we expect there."""
    for keep in allowed:
        text = text.replace(keep, "")
    text = __import__("re").sub(r"/[a-z-]+( [a-z-]+)?|<[^>]+>|https?://\S+|fanbot", "", text)
    return _LATIN_WORD.findall(text)


async def test_a_korean_fan_and_an_english_fan_read_stars_in_their_own_language(start_bot, server: FanServer):
    await start_bot()
    await server.invoke(server.mod, "stars follow", name="Song Hye-kyo")
    ko_fan = server.guild.add_member("지민", locale="ko")
    en_fan = server.guild.add_member("sam", locale="en-US")

    ko = await server.invoke(ko_fan, "stars list")
    text = ko.all_text
    assert "송혜교" in text and "1981년 11월 22일생" in text and "팔로우 중인 스타 (1명)" in text
    assert not english_words(text, ("Song Hye-kyo",)), text
    en = await server.invoke(en_fan, "stars list")
    assert "Followed stars (1)" in en.all_text and "**Song Hye-kyo** (송혜교) · born 1981-11-22" in en.all_text

    info = await server.invoke(ko_fan, "stars info", star="송혜교")  # typed in Hangul
    assert info.embeds[0]["title"] == "송혜교"
    fields = {f["name"]: f["value"] for f in info.embeds[0]["fields"]}
    assert fields["생일"] == "1981년 11월 22일 (만 45세)" and fields["영어 이름"] == "Song Hye-kyo"
    assert fields["최근 뉴스"] == "아직 기사가 없어요." and fields["자료"].startswith("자료 0개")

    missing = await server.invoke(ko_fan, "stars info", star="@everyone 김고은")
    assert missing.ephemeral and "팔로우하지 않아요" in missing.content and "@everyone" not in missing.content
    assert missing.data["allowed_mentions"]["parse"] == []


async def test_autocomplete_on_a_hangul_prefix_shows_the_reader_s_first_name(start_bot, server: FanServer):
    await start_bot()
    await server.invoke(server.mod, "stars follow", name="Song Hye-kyo")
    await server.invoke(server.mod, "stars follow", name="Han So-hee")
    ko_fan = server.guild.add_member("지민", locale="ko")
    [choice] = await server.autocomplete(ko_fan, "stars info", "star", "송")
    assert choice["name"] == "송혜교 (Song Hye-kyo)"
    [choice] = await server.autocomplete(server.fan, "stars info", "star", "한소")
    assert choice["name"] == "Han So-hee (한소희)"
    catalogue = await server.autocomplete(server.mod, "stars follow", "name", "김고")
    assert catalogue and all("김고" in c["name"] for c in catalogue)


async def test_korean_moderator_errors_and_notify_replies(start_bot, server: FanServer):
    await start_bot()
    ko_mod = server.guild.add_member("운영자", permissions=0x20, locale="ko")  # Manage Server
    bad = await server.invoke(ko_mod, "stars follow", name="Song Hye-kyo", birthday="22/11/1981")
    assert bad.ephemeral and bad.content.startswith("생일은 YYYY-MM-DD"), bad.content
    ok = await server.invoke(ko_mod, "stars follow", name="Song Hye-kyo")
    assert ok.content.startswith("이제 **송혜교** (Song Hye-kyo)님을 팔로우해요. 생일: 1981년 11월 22일."), ok.content
    again = await server.invoke(ko_mod, "stars follow", name="song hye kyo")
    assert again.ephemeral and "이미 송혜교님을 팔로우" in again.content

    ko_fan = server.guild.add_member("지민", locale="ko")
    added = await server.invoke(ko_fan, "notify add", star="송혜교")
    assert "완료!" in added.all_text and "송혜교님 뉴스" in added.all_text
    listed = await server.invoke(ko_fan, "notify list")
    assert "알림 받는 스타:" in listed.all_text and "송혜교" in listed.all_text
    stop = await server.invoke(ko_fan, "notify remove", star="송혜교")
    assert "이제 송혜교님 알림을 받지 않아요" in stop.all_text
    nothing = await server.invoke(ko_fan, "notify remove", star="송혜교")
    assert nothing.ephemeral and "송혜교님 알림을 받고 있지 않아서" in nothing.content


async def test_an_accented_spelling_is_the_same_star_not_a_second_one(start_bot, server: FanServer):
    bot = await start_bot()
    await server.invoke(server.mod, "stars follow", name="Zoë Saldaña")
    again = await server.invoke(server.mod, "stars follow", name="Zoe Saldana")
    assert again.ephemeral and "already follows Zoë Saldaña" in again.content
    assert [s.name for s in await bot.services.stars.list(int(server.guild.id))] == ["Zoë Saldaña"]
    info = await server.invoke(server.fan, "stars info", star="zoe saldana")
    assert info.embeds[0]["title"] == "Zoë Saldaña"


async def test_config_language_is_stored_shown_and_validated(start_bot, server: FanServer):
    bot = await start_bot()
    gid = int(server.guild.id)
    assert (await bot.services.guilds.get(gid)).language == "auto"
    shown = await server.invoke(server.mod, "config show")
    fields = {f["name"]: f["value"] for f in shown.embeds[0]["fields"]}
    assert fields["Language of automatic posts"] == "English (auto, from the server's Discord language)"

    ko_mod = server.guild.add_member("운영자", permissions=0x20, locale="ko")
    set_ko = await server.invoke(ko_mod, "config language", language="ko")
    assert set_ko.content == "이제 자동 게시물은 한국어로 올라가요."
    assert (await bot.services.guilds.get(gid)).language == "ko"
    shown = await server.invoke(ko_mod, "config show")
    fields = {f["name"]: f["value"] for f in shown.embeds[0]["fields"]}
    assert fields["자동 게시물 언어"] == "한국어" and "**뉴스 게시물**: 채널이 없어서 올리지 않아요" in fields["채널"]
    back = await server.invoke(server.mod, "config language", language="auto")
    assert back.content.startswith("Automatic posts will be written in English.")


async def test_auto_follows_the_guild_locale_korean_server(start_bot, double, server: FanServer):
    server.guild.set_preferred_locale("ko")
    bot = await start_bot()
    from bot.i18n.choose import server_lang

    assert (await server_lang(bot, int(server.guild.id))).code == "ko"
    shown = await server.invoke(server.mod, "config show")  # an en-US moderator still reads English
    fields = {f["name"]: f["value"] for f in shown.embeds[0]["fields"]}
    assert fields["Language of automatic posts"] == "Korean (auto, from the server's Discord language)"
    await bot.services.guilds.set_language(int(server.guild.id), "en")
    assert (await server_lang(bot, int(server.guild.id))).code == "en"


async def test_a_guild_update_changes_the_auto_language(start_bot, double, server: FanServer):
    bot = await start_bot()
    from bot.i18n.choose import server_lang

    gid = int(server.guild.id)
    assert (await server_lang(bot, gid)).code == "en"
    server.guild.set_preferred_locale("ko")
    await double.wait_for(lambda: bot.get_guild(gid).preferred_locale.value == "ko", what="the GUILD_UPDATE")
    assert (await server_lang(bot, gid)).code == "ko"


async def test_status_in_korean_has_no_english_labels(start_bot, server: FanServer):
    await start_bot()
    ko_mod = server.guild.add_member("운영자", permissions=0x20, locale="ko")
    status = await server.invoke(ko_mod, "fanbot status")
    names = [f["name"] for f in status.embeds[0]["fields"]]
    assert "버전" in names and "피드" in names and "오늘의 자료" in names
    assert not english_words(" ".join(names)), names
    values = {f["name"]: f["value"] for f in status.embeds[0]["fields"]}
    assert values["팔로우 중인 스타"] == "0명" and values["자료실"] == "0개"
    assert values["피드"] == "없음 (/feeds add로 추가해 보세요)"


async def test_a_korean_server_receives_korean_announcements_and_digests(start_bot, double, server: FanServer, clock):
    server.guild.set_preferred_locale("ko")
    bot = await start_bot()
    await server.configure(bot)
    gid = int(server.guild.id)
    song = await bot.services.stars.follow(gid, "Song Hye-kyo")
    repo = bot.services.announcer.repo
    for n in range(7):
        await repo.record_story(gid, title=f"송혜교 새 드라마 소식 {n} @everyone" if n else "", now=clock.now(),
                                star_ids=[song.id], link=f"https://news.example/{n}", source_name="연합뉴스")
    assert await bot.services.announcer.deliver_pending(clock.now()) == 7
    messages = server.messages("news")
    first = messages[0]["embeds"][0]
    assert first["title"] == "제목 없는 기사"
    fields = {f["name"]: f["value"] for f in first["fields"]}
    assert fields == {"스타": "송혜교", "출처": "연합뉴스"}
    second = messages[1]["embeds"][0]
    assert second["title"].startswith("송혜교 새 드라마 소식 1 @\u200beveryone")
    digest = messages[-1]["embeds"][0]
    assert digest["title"] == "기사 2개 더" and "송혜교" in digest["description"]
    assert all(not m["mention_everyone"] for m in messages)

    # An English server beside it reads the same kind of post in English.
    other = double.add_guild("English fans")
    news = other.add_text_channel("news")
    await bot.services.guilds.set_channel(int(other.id), "news", int(news.id))
    await double.wait_for(lambda: bot.get_guild(int(other.id)), what="the second guild")
    star = await bot.services.stars.follow(int(other.id), "Song Hye-kyo")
    await repo.record_story(int(other.id), title="", now=clock.now(), star_ids=[star.id],
                            link="https://news.example/en")
    await bot.services.announcer.deliver_pending(clock.now())
    [posted] = double.channel_messages(news.id)
    assert posted["embeds"][0]["title"] == "Untitled story"
    assert {f["name"]: f["value"] for f in posted["embeds"][0]["fields"]} == {"Stars": "Song Hye-kyo"}


async def test_a_korean_fan_reads_feeds_replies_in_korean(start_bot, server: FanServer):
    await start_bot()
    ko_mod = server.guild.add_member("운영자", permissions=0x20, locale="ko")
    empty = await server.invoke(ko_mod, "feeds list")
    assert empty.content == "이 서버는 아직 읽는 피드가 없어요. /feeds add로 추가해 보세요."
    bad = await server.invoke(ko_mod, "feeds add", url="javascript:alert(1)")
    assert bad.ephemeral and bad.content.startswith("http와 https 링크만")
    none = await server.invoke(ko_mod, "news latest")
    assert none.content == "아직 기사가 없어요."


async def test_a_korean_server_gets_a_korean_poll_and_results_and_each_voter_reads_their_language(
        start_bot, double, server: FanServer, clock):
    from tests.cogs.test_polls_e2e import button_for, custom_ids

    server.guild.set_preferred_locale("ko")
    bot = await start_bot()
    await server.configure(bot)
    bot.get_cog("PollsCog").live.interval = 0.05
    for name in ("Song Hye-kyo", "Han So-hee", "Kim Go-eun"):
        await server.invoke(server.mod, "stars follow", name=name)
    created = await server.invoke(server.mod, "poll create", question="누구랑 찍었으면 좋겠어요? @everyone",
                                  pairings="송혜교 x 한소희; 송혜교 x 김고은", duration="1h")
    assert created.ephemeral and created.content.startswith("Poll #")  # the en-US moderator's own reply
    [message] = [m for m in server.messages("polls") if m["embeds"]]
    embed = message["embeds"][0]
    assert embed["title"].startswith("꿈의 조합 투표 #")
    assert "@\u200beveryone" in embed["description"] and not message["mention_everyone"]
    assert "하나만 선택" in embed["footer"]["text"] and "0명 투표" in embed["footer"]["text"]
    assert "`░░░░░░░░░░░░   0%` 0표" in embed["description"]

    ko_fan = server.guild.add_member("지민", locale="ko")
    en_fan = server.guild.add_member("sam", locale="en-US")
    ja_fan = server.guild.add_member("hana", locale="ja")
    # Options name the stars in Hangul on a Korean server's poll, buttons included.
    assert "**1.** 송혜교 × 한소희" in embed["description"]
    ko_vote = await server.click(ko_fan, message, button_for(message, "한소희"))
    assert ko_vote.content.startswith("**송혜교 × 한소희**에 투표했어요!"), ko_vote.content
    en_vote = await server.click(en_fan, message, button_for(message, "한소희"))
    assert en_vote.content.startswith("Your vote for **송혜교 × 한소희** is counted.")
    ja_vote = await server.click(ja_fan, message, button_for(message, "김고은"))
    assert ja_vote.content.startswith("Your vote for")
    poll_id = int(custom_ids(message)[0].split(":")[2])

    closed = await server.invoke(server.mod, "poll close", poll=str(poll_id))
    assert "is closed" in closed.all_text
    results = [m for m in server.messages("polls") if m["embeds"] and m["embeds"][0]["title"].startswith("결과")]
    [result] = results
    shown = result["embeds"][0]
    fields = {f["name"]: f["value"] for f in shown["fields"]}
    assert fields["우승"] == "우승: 송혜교 × 한소희 (2표, 67%)"
    assert "`████████░░░░  67%` 2표" in shown["description"] and "`████░░░░░░░░  33%` 1표" in shown["description"]
    assert shown["footer"]["text"] == "3명 투표 · 마감됨"
    assert all(not m["mention_everyone"] for m in server.messages("polls"))

    proposed = await server.invoke(ko_fan, "collab propose", star_a="한소희", star_b="김고은", project="스릴러")
    assert proposed.content.startswith("**한소희 × 김고은** 조합으로 스릴러을(를) 제안했어요.") or \
        proposed.content.startswith("**김고은 × 한소희** 조합으로 스릴러을(를) 제안했어요."), proposed.content
    assert proposed.content.endswith("지금까지 1명이 이 조합을 제안했어요.")
    board = await server.invoke(ko_fan, "collab leaderboard")
    lines = board.embeds[0]["description"].splitlines()
    spans = [line.split("`")[1] for line in lines]
    from bot.i18n import display_width

    assert len({display_width(span) for span in spans}) == 1, spans  # columns line up, Hangul counted double
    assert spans[0].startswith("1. 1승 · 2표") and lines[0].endswith("` 송혜교 × 한소희")
    en_board = await server.invoke(en_fan, "collab leaderboard")
    en_spans = [line.split("`")[1] for line in en_board.embeds[0]["description"].splitlines()]
    assert len({len(s) for s in en_spans}) == 1 and en_spans[0].startswith("1.  1 win · 2 votes")
    assert en_board.embeds[0]["description"].splitlines()[0].endswith("` Song Hye-kyo × Han So-hee")


async def test_a_korean_server_gets_korean_cards_outcomes_and_daily_posts(start_bot, double, server: FanServer, clock):
    from datetime import datetime, timezone

    clock.set(datetime(2026, 11, 22, 3, 1, tzinfo=timezone.utc))  # 12:01 in Seoul, on Song Hye-kyo's birthday
    server.guild.set_preferred_locale("ko")
    bot = await start_bot()
    await server.configure(bot)
    await server.invoke(server.mod, "stars follow", name="Song Hye-kyo")
    ko_fan = server.guild.add_member("지민", locale="ko")
    sub = await server.invoke(ko_fan, "media submit", title="고양이랑 노는 혜교", url="https://www.youtube.com/watch?v=k1",
                              star="송혜교", tags="고양이, 귀여움")
    assert sub.all_text.startswith("고마워요! 제안 #1 “고양이랑 노는 혜교”이(가) 관리자 검토를")
    card = server.messages("modlog")[-1]
    embed = card["embeds"][0]
    assert embed["title"] == "제안 #1: 고양이랑 노는 혜교"
    assert {f["name"] for f in embed["fields"]} >= {"보낸 사람", "링크", "스타", "태그"}
    assert [c["label"] for row in card["components"] for c in row["components"]] == ["승인", "거절"]
    assert {f["name"]: f["value"] for f in embed["fields"]}["스타"] == "송혜교"

    await server.click(server.mod, card, "media:approve:1")  # an en-US moderator: the card stays Korean
    card = server.messages("modlog")[-1]
    assert card["embeds"][0]["fields"][-1]["value"] == f"<@{server.mod.id}>님이 승인했어요. 이제 자료실 #1이에요."
    told = await double.wait_for_message(server.channels["media"].id, lambda m: ko_fan.id in (m["content"] or ""))
    assert "고마워요! 제안한 자료가 자료실에 들어갔어요" in told["content"]

    found = await server.invoke(ko_fan, "media search", query="고양이")  # Hangul search
    assert found.embeds[0]["title"] == "“고양이” 검색 결과" and "고양이랑 노는 혜교" in found.embeds[0]["description"]
    en_found = await server.invoke(server.fan, "media search", query="귀여움")  # Hangul tag, English reader
    assert en_found.embeds[0]["title"] == "Media matching “귀여움”"

    await bot.scheduler.run_once(force=True)
    [greeting] = server.messages("birthdays")
    assert greeting["content"].startswith("🎂 **송혜교 (Song Hye-kyo)**님, 생일 축하해요! 오늘 만 45세가 됐어요.")
    daily = [m for m in server.messages("media") if "오늘의 자료" in (m["content"] or "")]
    assert len(daily) == 1 and daily[0]["content"].startswith("🌸 **오늘의 자료**")


async def test_the_id_transformer_hands_services_a_ref_from_the_autocomplete_value(start_bot, server: FanServer):
    bot = await start_bot()
    star = await bot.services.stars.follow(int(server.guild.id), "Han So-hee")
    by_id = await server.invoke(server.fan, "stars info", star=f"id:{star.id}")
    assert by_id.embeds[0]["title"] == "Han So-hee"
    typed = await server.invoke(server.fan, "stars info", star=f"id:{star.id + 50}")  # an id that is not hers
    assert typed.ephemeral and "does not follow a star called 'id:" in typed.content
