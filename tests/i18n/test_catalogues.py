"""Catalogues: compiled from the .po at start, English for locales we do not translate, and never a crash."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import discord
import pytest
from discord import app_commands
from discord.app_commands import TranslationContext, TranslationContextLocation

from bot.domain.stars import Star
from bot.i18n import Catalogues, display_width, pad
from bot.i18n.choose import server_lang_from
from bot.i18n.tools import po_path
from bot.i18n.translator import FanbotTranslator

GENERIC = "Something went wrong on fanbot's side; nothing was changed. Please try again later."


@pytest.fixture(scope="module")
def catalogues() -> Catalogues:
    return Catalogues.load()


@pytest.mark.parametrize("locale", ["ja", "zh-TW", "pt-BR", "en-GB", "en-US", "", None, "xx"])
def test_locales_we_do_not_translate_read_english(catalogues, locale):
    lang = catalogues.get(locale)
    assert lang.code == "en" and lang._(GENERIC) == GENERIC


def test_korean_readers_get_the_korean_catalogue(catalogues):
    lang = catalogues.get("ko")
    assert lang.korean and lang._(GENERIC) != GENERIC and "fanbot" in lang._(GENERIC)


def test_korean_counts_use_one_form_and_english_picks_its_plural(catalogues):
    en, ko = catalogues.get("en-US"), catalogues.get("ko")
    assert en.n_("{n} vote", "{n} votes", 1) == "1 vote"
    assert en.n_("{n} vote", "{n} votes", 0) == "0 votes"
    assert en.n_("{n} vote", "{n} votes", 21) == "21 votes"
    assert ko.n_("{n} vote", "{n} votes", 5) == "5표" and ko.n_("{n} vote", "{n} votes", 1) == "1표"
    assert ko.n_("{n} fan voted", "{n} fans voted", 3) == "3명 투표"


def _copy_catalogue(tmp_path: Path, text: bytes | None) -> Path:
    folder = tmp_path / "ko" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    if text is not None:
        (folder / "fanbot.po").write_bytes(text)
    return tmp_path


@pytest.mark.parametrize("content", [None, b"msgid \"unterminated\nmsgstr 12 garbage\n\xff\xfe", b"\x00\x01\x02"],
                         ids=["missing", "corrupt", "binary"])
def test_a_missing_or_corrupt_catalogue_means_english_and_one_warning(tmp_path, caplog, content):
    folder = _copy_catalogue(tmp_path, content)
    with caplog.at_level(logging.WARNING, logger="bot.i18n.catalogues"):
        loaded = Catalogues.load(folder)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "English" in warnings[0].getMessage()
    ko = loaded.get("ko")
    assert ko._(GENERIC) == GENERIC
    assert ko.n_("{n} vote", "{n} votes", 2) == "2 votes"


def test_the_committed_catalogue_loads_without_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="bot.i18n.catalogues"):
        Catalogues.load()
    assert not caplog.records
    assert po_path("ko").is_file() and not po_path("ko").with_suffix(".mo").exists()


def test_a_translated_template_with_everyone_is_still_just_text(tmp_path):
    """Translations are data too: a hostile catalogue cannot ping, because no send opts in to @everyone."""
    po = (f'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
          f'msgid "{GENERIC}"\nmsgstr "@everyone 모두 모여요"\n').encode()
    ko = Catalogues.load(_copy_catalogue(tmp_path, po)).get("ko")
    assert ko._(GENERIC) == "@everyone 모두 모여요"  # rendering it is the send's job: allowed_mentions none


def test_stars_are_named_in_hangul_in_korean_and_dates_read_naturally(catalogues):
    star = Star(1, 1, "Song Hye-kyo", hangul="송혜교")
    no_hangul = Star(2, 1, "Kim Go-eun")
    ko, en = catalogues.get("ko"), catalogues.get("en-US")
    assert ko.star(star) == "송혜교" and en.star(star) == "Song Hye-kyo" and ko.star(no_hangul) == "Kim Go-eun"
    assert ko.date(date(2026, 12, 1)) == "2026년 12월 1일"
    assert en.date(date(2026, 12, 1)) == "2026-12-01"


def test_hangul_counts_double_in_display_width():
    assert display_width("송혜교") == 6 and display_width("Song") == 4
    assert display_width(pad("송혜교", 10)) == 10 and pad("5", 3, right=True) == "  5"


@pytest.mark.parametrize(("setting", "guild_locale", "expected"), [
    ("auto", "ko", "ko"), ("auto", "en-US", "en"), ("auto", "ja", "en"), ("auto", None, "en"),
    ("en", "ko", "en"), ("ko", "en-US", "ko"),
])
def test_server_language_follows_the_setting_then_the_guild_locale(catalogues, setting, guild_locale, expected):
    assert server_lang_from(catalogues, setting, guild_locale).code == expected


async def test_the_translator_localises_for_korean_only(catalogues):
    translator = FanbotTranslator(catalogues)
    description = TranslationContext(TranslationContextLocation.command_description, None)
    option = TranslationContext(TranslationContextLocation.parameter_name, None)
    command = TranslationContext(TranslationContextLocation.command_name, None)
    text = app_commands.locale_str("Stop following a star")
    assert await translator.translate(text, discord.Locale.korean, description) == "스타 팔로우를 그만해요"
    assert await translator.translate(text, discord.Locale.japanese, description) is None
    assert await translator.translate(app_commands.locale_str("star"), discord.Locale.korean, option) == "스타"
    # Command names stay the canonical English ones.
    assert await translator.translate(app_commands.locale_str("list"), discord.Locale.korean, command) is None
