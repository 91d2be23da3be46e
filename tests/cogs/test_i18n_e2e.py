"""Korean and English through the double: what is synced, and who reads which language."""

from __future__ import annotations

from typing import Any

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


async def test_ja_and_pt_br_fans_read_english_and_a_ko_fan_reads_korean(start_bot, server: FanServer):
    await start_bot()
    for locale in ("ja", "zh-TW", "pt-BR", "en-US"):
        fan = server.guild.add_member(f"fan-{locale}", locale=locale)
        ix = await server.invoke(fan, "config show")  # a moderator command: refused, in the reader's language
        assert ix.ephemeral and ix.content.startswith("Only moderators"), (locale, ix.content)
    ko_fan = server.guild.add_member("korean-fan", locale="ko")
    ix = await server.invoke(ko_fan, "config show")
    assert ix.ephemeral and ix.content.startswith("관리자만"), ix.content
