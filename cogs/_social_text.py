"""How a star's own accounts read in Discord: platform names per language, and /stars info's lines."""

from __future__ import annotations

from bot.i18n import Lang
from bot.services.socials import Account, platform_name

from ._common import safe

__all__ = ["account_handle", "account_line", "platform_name"]
RSSHUB_PLATFORMS = ("instagram", "x", "weibo")


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
