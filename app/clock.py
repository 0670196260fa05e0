"""The app's clock: aware UTC datetimes, and the programme's calendar day. Imports nothing of
the app, so every domain can use it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# The programme's calendar: "7 days before the deadline" is a day in the Netherlands.
PROGRAMME_TIMEZONE = "Europe/Amsterdam"


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A stored moment as an aware UTC datetime: SQLite hands back naive ones, and everything
    is stored in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def programme_today() -> date:
    """Today in the programme's time zone (UTC where the system has no time zone data: a
    difference of an hour or two at midnight)."""
    try:
        return datetime.now(ZoneInfo(PROGRAMME_TIMEZONE)).date()
    except ZoneInfoNotFoundError:
        return datetime.now(UTC).date()
