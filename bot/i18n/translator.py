"""discord.py's app_commands.Translator over fanbot's catalogues: command, option and choice names and descriptions."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation as Where

from .catalogues import Catalogues

# Names are short words that also occur in sentences ("star", "list"), so they get a gettext context of their
# own: translating the option name "star" must not change the word in a reply, and the reverse.
# Command names stay English everywhere (SPEC §8); option and choice names are localised where natural.
NAME_CONTEXTS = {
    Where.parameter_name: "option name",
    Where.choice_name: "choice name",
}


class FanbotTranslator(app_commands.Translator):
    """Localisations for every language fanbot has a catalogue for; None (Discord shows English) otherwise."""

    def __init__(self, catalogues: Catalogues) -> None:
        # discord.py asks once per string and Discord locale, and most locales have no catalogue:
        # one dict lookup answers those.
        self._langs = {locale: lang for locale in discord.Locale
                       if (lang := catalogues.exact(locale.value)) is not None}

    async def translate(self, string: app_commands.locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContextTypes) -> str | None:
        lang = self._langs.get(locale)
        if lang is None:
            return None
        if context.location in (Where.command_name, Where.group_name):
            return None
        where = NAME_CONTEXTS.get(context.location)
        text = lang.p_(where, string.message) if where else lang._(string.message)
        return text if text != string.message else None
