"""The app's clock: aware UTC datetimes. Imports nothing of the app, so every domain can use it."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
