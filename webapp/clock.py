"""The one reading of the clock: the current instant in UTC, to the second."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current instant in UTC, to the second (the contract stores seconds)."""
    return datetime.now(UTC).replace(microsecond=0)
