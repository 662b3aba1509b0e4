"""Timestamps as newswire keeps them: timezone-aware UTC, written as ISO 8601 with an offset."""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(value: datetime) -> datetime:
    """An aware datetime in UTC; a naive one is taken to be UTC already (SQLite keeps no offset)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime | None, timespec: str = "auto") -> str | None:
    """ISO 8601 with its offset, or None."""
    return value.isoformat(timespec=timespec) if value is not None else None
