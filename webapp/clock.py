"""The one reading of the clock: the current instant in UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current instant in UTC, to the second: what is stored (the contract keeps seconds)."""
    return datetime.now(UTC).replace(microsecond=0)


def now() -> datetime:
    """The current instant in UTC, to the microsecond: what an expiry is compared with, so that a
    share expired at 12:00:00 is expired at 12:00:00.4 (rule 6: once now > expires_at)."""
    return datetime.now(UTC)
