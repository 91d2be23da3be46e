"""Daily posts: which local day is due in a server's time zone, and whose birthday it is."""

from __future__ import annotations

import calendar
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TZ = "Asia/Seoul"


def zone(name: str | None) -> ZoneInfo:
    """The server's zone; an unknown name (a zone removed from tzdata) falls back to the default."""
    try:
        return ZoneInfo(name or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TZ)


def local_date(now: datetime, tz: str | None) -> date:
    return now.astimezone(zone(tz)).date()


def due_date(now: datetime, tz: str | None, hour: int) -> date | None:
    """The local date whose daily post is due at `now`, or None before the hour.

    Only today is ever due: a day missed while the bot was down is not posted later, so coming back
    after an outage never posts two days at once. On a spring-forward day an hour that does not
    exist (02:00 in New York) is reached at the first local time past it (03:00); on a fall-back day
    the repeated hour is the same date, which the caller has already recorded.
    """
    local = now.astimezone(zone(tz))
    return local.date() if local.hour >= hour else None


def is_birthday(birthday: date, day: date) -> bool:
    """True on her birthday; a 29 February birthday is celebrated on 28 February in other years."""
    if (birthday.month, birthday.day) == (day.month, day.day):
        return True
    return (birthday.month, birthday.day) == (2, 29) and (day.month, day.day) == (2, 28) and not calendar.isleap(day.year)


def age_turning(birthday: date, day: date) -> int:
    """The age she turns on the birthday celebrated on `day` (also on 28 February for a leap-day birthday)."""
    return day.year - birthday.year
