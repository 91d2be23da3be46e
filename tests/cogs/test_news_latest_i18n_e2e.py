"""/news latest names each story's stars as the reader's language does: Hangul for Korean readers."""

from __future__ import annotations


async def test_news_latest_names_stars_in_hangul_for_a_korean_fan_and_by_display_name_in_english(
        start_bot, server, clock):
    bot = await start_bot()
    await server.configure(bot)
    gid = int(server.guild.id)
    song = await bot.services.stars.follow(gid, "Song Hye-kyo")
    han = await bot.services.stars.follow(gid, "Han So-hee")
    await bot.services.announcer.repo.record_story(gid, title="Two stars at one premiere", now=clock.now(),
                                                   star_ids=[song.id, han.id], link="https://news.example/p")
    await bot.scheduler.run_once(force=True)
    assert len(server.messages("news")) == 1

    ko_fan = server.guild.add_member("ko-fan", locale="ko")
    korean = await server.invoke(ko_fan, "news latest")
    assert "Two stars at one premiere" in korean.all_text
    assert "송혜교, 한소희" in korean.all_text or "한소희, 송혜교" in korean.all_text
    assert "Song Hye-kyo" not in korean.all_text
    english = await server.invoke(server.fan, "news latest")
    assert "Han So-hee, Song Hye-kyo" in english.all_text and "송혜교" not in english.all_text
