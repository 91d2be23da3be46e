"""Words for the server-level things automatic posts and settings name: kinds of posts, languages, pause reasons."""

from __future__ import annotations

from .domain.channels import ChannelKind
from .domain.notices import Notice
from .error_text import field_text
from .i18n import N_, Lang

KIND_NAMES = {
    ChannelKind.news: N_("news posts"),
    ChannelKind.polls: N_("poll posts"),
    ChannelKind.media: N_("media posts"),
    ChannelKind.birthdays: N_("birthday greetings"),
    ChannelKind.modlog: N_("mod-log notices"),
}
LANGUAGE_NAMES = {"en": N_("English"), "ko": N_("Korean")}
# Poster.pause stores one of these codes; a reason stored before the codes existed is shown as it is.
BLOCKED_REASONS = {
    "channel_gone": N_("the channel no longer exists"),
    "no_permission": N_("fanbot lacks permission there"),
}


def kind_name(lang: Lang, kind: ChannelKind | str) -> str:
    return lang._(KIND_NAMES[ChannelKind(kind)])


def language_name(lang: Lang, code: str) -> str:
    return lang._(LANGUAGE_NAMES[code])


def blocked_reason_text(lang: Lang, reason: str) -> str:
    template = BLOCKED_REASONS.get(reason)
    return lang._(template) if template else reason

NOTICES = {
    "channel_paused": N_("fanbot stopped posting {kinds} to {channel}: {reason}. "
                         "Fix it, then run /config channel again to resume."),
    "feed_disabled": N_("fanbot stopped polling the feed {feed} after {failures} failures in a row. "
                        "Last error: {error}. Check the address, then run /feeds add with the same URL to turn it "
                        "back on."),
}


def notice_text(lang: Lang, notice: Notice) -> str:
    data = dict(notice.data)
    if "kinds" in data:
        data["kinds"] = ", ".join(kind_name(lang, k) for k in data["kinds"])
    if "reason" in data:
        data["reason"] = blocked_reason_text(lang, data["reason"])
    fields = {k: v if k in ("kinds", "reason") else field_text(lang, v) for k, v in data.items()}
    return lang._(NOTICES[notice.code], **fields)
