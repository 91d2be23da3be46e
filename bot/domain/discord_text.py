"""Make untrusted text (feed titles, user submissions) safe and readable in Discord messages and embeds."""

from __future__ import annotations

import re
import unicodedata

ZWSP = "\u200b"
ELLIPSIS = "…"

# @everyone / @here ping the whole server when the bot may mention everyone.
_MASS_MENTION = re.compile(r"@(everyone|here)", re.IGNORECASE)
# <@id>, <@!id>, <@&id> (role), <#id> (channel), </cmd:id> (slash command): Discord renders them.
_ENTITY_MENTION = re.compile(r"<(?=[@#/])")
# Links are left as they are (escaping "_" inside one would break it); a bracket always ends one,
# so "[text](https://evil)" masked-link syntax outside it is still escaped.
_URL = re.compile(r"https?://[^\s<>\[\]]+")
_MARKDOWN = re.compile(r"([\\*_~`|\[\]()])")
# Headings ("# ", "-# "), block quotes and list markers only count at the start of a line.
_LINE_START = re.compile(r"^(\s*)(#{1,3} |-# |>>> |> |[-*+] |\d+[.)] )", re.MULTILINE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
# For text we store and show later (feed names, titles, poll questions): control characters become a
# space, so words they separated stay apart; direction marks, embeddings, overrides and isolates are
# dropped, since U+202E alone turns the rest of a line around ("gpj.exe" shows as "exe.jpg").
_CONTROLS_TO_SPACE = {c: " " for c in [*range(0x20), *range(0x7F, 0xA0)]}
_DIRECTION_MARKS = {c: None for c in [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]}
_ONE_LINE = str.maketrans(_CONTROLS_TO_SPACE | _DIRECTION_MARKS)
_MULTI_LINE = str.maketrans(_CONTROLS_TO_SPACE | _DIRECTION_MARKS | {0x0A: "\n"})


def _escape_markdown(text: str) -> str:
    out: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        out.append(_MARKDOWN.sub(r"\\\1", text[last : match.start()]))
        out.append(match.group())
        last = match.end()
    out.append(_MARKDOWN.sub(r"\\\1", text[last:]))
    escaped = "".join(out)
    return _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)


def display_text(raw: str | None, *, multiline: bool = False) -> str:
    """Text as stored for display: no control or direction characters, NFC; on one line with single
    spaces unless multiline (then line breaks stay and the caller decides how many)."""
    if not raw:
        return ""
    text = unicodedata.normalize("NFC", raw.translate(_MULTI_LINE if multiline else _ONE_LINE))
    return text if multiline else " ".join(text.split())


def neutralise(text: str) -> str:
    """Untrusted text shown literally: no mentions, no markdown, no control or direction characters.

    Defence in depth: the real guard against pings is allowed_mentions=none on every send.
    """
    if not text:
        return ""
    text = _CONTROL.sub("", text)
    text = _escape_markdown(text)
    text = _MASS_MENTION.sub(lambda m: f"@{ZWSP}{m.group(1)}", text)
    return _ENTITY_MENTION.sub(f"<{ZWSP}", text)


def truncate(text: str, limit: int) -> str:
    """At most `limit` characters, ending in "…" when cut; never splits a character from its accents.

    Cuts at a space when one is near the end, so words stay whole.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    # Do not leave a base character without its combining marks, joiners or variation selectors
    # (they would attach to the ellipsis), nor half an escape.
    while cut and (
        unicodedata.combining(text[len(cut)]) or text[len(cut)] in "\u200d\ufe0e\ufe0f"
    ):
        cut = cut[:-1]
    space = cut.rfind(" ")
    if space >= len(cut) - 15 and space > len(cut) // 2:
        cut = cut[:space]
    cut = cut.rstrip()
    if cut.endswith("\\") and not cut.endswith("\\\\"):
        cut = cut[:-1]
    return cut + ELLIPSIS
