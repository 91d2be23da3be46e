"""The sentence for each error code, per language: the core raises codes with data, this writes the words."""

from __future__ import annotations

from datetime import date
from typing import Any

from .domain.discord_text import neutralise, truncate
from .i18n import N_, Lang, Nn_

# code -> English source sentence; its {fields} are the error's data, rendered by field_text().
ERROR_TEXT: dict[str, str | tuple[str, str]] = {
    "generic": N_("Something went wrong on fanbot's side; nothing was changed. Please try again later."),
    "not_moderator": N_("Only moderators can do this (Manage Server permission or the server's moderator role)."),
    "guild_only": N_("fanbot's commands work inside a server, not in direct messages."),
    "check_failed": N_("You cannot use this command here."),
    "cooldown": N_("Slow down: try again in {seconds} s."),
    "bad_value": N_("'{value}' is not a valid {type} here."),
}

# What a Discord option holds, for "'x' is not a valid ... here".
OPTION_TYPES = {
    "string": N_("text"), "integer": N_("whole number"), "number": N_("number"), "boolean": N_("yes or no"),
    "user": N_("member"), "channel": N_("channel"), "role": N_("role"), "mentionable": N_("member or role"),
    "attachment": N_("file"),
}


def field_text(lang: Lang, value: Any) -> str:
    """Data from an error made readable and inert: stars by this language's name, dates as it writes them."""
    if hasattr(value, "hangul") and hasattr(value, "name"):
        return neutralise(lang.star(value))
    if isinstance(value, date):
        return lang.date(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return truncate(neutralise(str(value)), 200)
    return str(value)


def error_text(lang: Lang, code: str, data: dict[str, Any] | None = None) -> str:
    template = ERROR_TEXT.get(code)
    if template is None:
        # Not a code: a sentence raised by code that predates the catalogues. Shown as it was written.
        return code
    data = data or {}
    if isinstance(template, tuple):  # a count: the error's `n` picks the form
        fields = {k: field_text(lang, v) for k, v in data.items() if k != "n"}
        return lang.n_(template[0], template[1], int(data["n"]), **fields)
    return lang._(template, **{k: field_text(lang, v) for k, v in data.items()})
