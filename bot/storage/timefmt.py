"""How times are stored: fixed-width UTC ISO strings, so SQL can compare them as text."""

from __future__ import annotations

from datetime import datetime, timezone

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def to_db(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("store aware datetimes only")
    return moment.astimezone(timezone.utc).strftime(_FORMAT)


def from_db(text: str | None) -> datetime | None:
    if text is None:
        return None
    if text.endswith("Z") and "." in text:
        return datetime.strptime(text, _FORMAT).replace(tzinfo=timezone.utc)
    # Rows written by SQLite's own strftime defaults carry no fraction.
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
