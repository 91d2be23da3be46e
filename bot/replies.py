"""Answering interactions: one place for ephemeral errors, in the reader's language, with safe defaults."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from .error_text import OPTION_TYPES, error_text
from .errors import DatabaseUnavailable, UserError
from .i18n import Lang
from .i18n.choose import reader_lang

log = logging.getLogger(__name__)


class CodedCheckFailure(app_commands.CheckFailure):
    """A refused check that says why with an error code (rendered in the reader's language)."""

    code = "check_failed"

    def __init__(self) -> None:
        super().__init__(self.code)


def user_message_for(error: BaseException, lang: Lang) -> str | None:
    """The text a user should see for an error, or None if it is a bug to log."""
    if isinstance(error, (app_commands.CommandInvokeError, app_commands.TransformerError)):
        inner = error.__cause__ if isinstance(error, app_commands.TransformerError) else error.original
        if isinstance(inner, UserError):
            return error_text(lang, inner.code, inner.data)
        if isinstance(inner, DatabaseUnavailable):
            return error_text(lang, DatabaseUnavailable.code)
        if isinstance(error, app_commands.TransformerError):
            kind = OPTION_TYPES.get(error.type.name.lower(), OPTION_TYPES["string"])
            return error_text(lang, "bad_value", {"value": str(error.value)[:50], "type": lang._(kind)})
        return None
    if isinstance(error, UserError):
        return error_text(lang, error.code, error.data)
    if isinstance(error, DatabaseUnavailable):
        return error_text(lang, DatabaseUnavailable.code)
    if isinstance(error, app_commands.CommandOnCooldown):
        return error_text(lang, "cooldown", {"seconds": round(error.retry_after)})
    if isinstance(error, CodedCheckFailure):
        return error_text(lang, error.code)
    if isinstance(error, app_commands.CheckFailure):
        return error_text(lang, "check_failed")
    return None


async def send_ephemeral(interaction: discord.Interaction, text: str) -> None:
    text = text[:1900]
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())
        else:
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
    except discord.HTTPException:
        log.warning("could not deliver an error message to the user", exc_info=True)


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Answer the user with a short ephemeral message; log anything that is not the user's doing."""
    lang = reader_lang(interaction)
    message = user_message_for(error, lang)
    cause = getattr(error, "original", error)
    if isinstance(cause, DatabaseUnavailable):
        # An outage, not a bug: one line, no traceback per click while the server restarts.
        log.warning("database unavailable while answering an interaction: %s", cause)
    if message is None:
        name = interaction.command.qualified_name if interaction.command else (interaction.data or {}).get("custom_id")
        log.error("interaction %s failed", name, exc_info=error)
        message = error_text(lang, "generic")
    await send_ephemeral(interaction, message)
