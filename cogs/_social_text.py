"""How a star's own accounts read in Discord: platform names per language, and /stars info's lines."""

from __future__ import annotations

from bot.i18n import N_, Lang
from bot.services.socials import Account

from ._common import safe

PLATFORM_NAMES = {"instagram": N_("Instagram"), "youtube": N_("YouTube"), "x": N_("X"), "weibo": N_("Weibo")}
RSSHUB_PLATFORMS = ("instagram", "x", "weibo")


def platform_name(platform: str, lang: Lang) -> str:
    source = PLATFORM_NAMES.get(platform)
    return lang._(source) if source else platform


def account_handle(account: Account) -> str:
    at = "@" if account.platform in ("instagram", "x") else ""
    return safe(f"{at}{account.handle}", 120)


def account_line(account: Account, lang: Lang) -> str:
    where = f"{platform_name(account.platform, lang)} {account_handle(account)}"
    if account.followed:
        state = lang._("followed")
    elif account.feed is not None:
        state = lang._("feed disabled (see /feeds list)")
    elif account.feed_url is not None:
        state = lang._("not followed (a moderator can use /feeds add-social)")
    elif account.platform in RSSHUB_PLATFORMS:
        state = lang._("no feed: the bot's operator can set RSSHUB_BASE (see the README)")
    else:
        state = lang._("no feed: the bot's operator can add it to SOCIAL_FEED_TEMPLATES")
    return f"• {where}: {state}"
