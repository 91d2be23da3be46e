"""Answering interactions: one place for ephemeral errors and safe defaults."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from .errors import DatabaseUnavailable, UserError

log = logging.getLogger(__name__)

GENERIC_FAILURE = "Something went wrong on fanbot's side; nothing was changed. Please try again later."


def user_message_for(error: BaseException) -> str | None:
    """The text a user should see for an error, or None if it is a bug to log."""
    if isinstance(error, (app_commands.CommandInvokeError, app_commands.TransformerError)):
        inner = error.__cause__ if isinstance(error, app_commands.TransformerError) else error.original
        if isinstance(inner, UserError):
            return inner.message
        if isinstance(inner, DatabaseUnavailable):
            return DatabaseUnavailable.message
        if isinstance(error, app_commands.TransformerError):
            return f"'{str(error.value)[:50]}' is not a valid {error.type.name.lower().replace('_', ' ')} here."
        return None
    if isinstance(error, UserError):
        return error.message
    if isinstance(error, DatabaseUnavailable):
        return DatabaseUnavailable.message
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.CheckFailure):
        text = str(error)
        return text if text else "You cannot use this command here."
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
    message = user_message_for(error)
    cause = getattr(error, "original", error)
    if isinstance(cause, DatabaseUnavailable):
        # An outage, not a bug: one line, no traceback per click while the server restarts.
        log.warning("database unavailable while answering an interaction: %s", cause)
    if message is None:
        name = interaction.command.qualified_name if interaction.command else (interaction.data or {}).get("custom_id")
        log.error("interaction %s failed", name, exc_info=error)
        message = GENERIC_FAILURE
    await send_ephemeral(interaction, message)
