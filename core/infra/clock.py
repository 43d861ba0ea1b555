"""Time, in one place, so that deadlines and tests agree on what "now" is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    """The current time as an aware UTC datetime; naive times never enter the record."""
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """Treat a naive datetime as UTC (SQLite hands them back naive)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z`, the form every export and notice uses."""
    value = as_utc(value)
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def human(value: datetime) -> str:
    """A date and time for people to read, always in UTC and saying so."""
    value = as_utc(value) or value
    return value.strftime("%A %d %B %Y, %H:%M UTC")


def human_exact(value: datetime) -> str:
    """Like `human`, but with the seconds whenever they are not zero.

    Used where a time is a promise (an appeal deadline), so the words a person
    reads are exactly the time the record holds, never a rounded one.
    """
    value = as_utc(value) or value
    if value.second == 0 and value.microsecond == 0:
        return human(value)
    return value.strftime("%A %d %B %Y, %H:%M:%S UTC")


def ceil_time(value: datetime, step: timedelta) -> datetime:
    """Round a time up to a whole `step` (a minute, a second), never down.

    Rounding a promised deadline up keeps it both exact in words and never
    shorter than the window it promises.
    """
    value = as_utc(value) or value
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    remainder = (value - epoch) % step
    return value if not remainder else value + (step - remainder)


def count_text(value: float) -> str:
    """A duration count as people write it: `30`, not `30.0`; fractions stay (`0.5`)."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
