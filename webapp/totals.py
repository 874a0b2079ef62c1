"""Exact list totals whose cost does not grow with the number of shares.

Read from ``share_tallies`` (kept by the triggers of ``db.tallies``): a total costs a few index
lookups, however many shares exist. Status depends on the clock, so it is tallied by expiry day
(UTC): the shares expired by ``now`` are those of the days before today, from the tallies, plus
today's so far, counted through the ``expires_at`` index.

Only totals a tally answers exactly use one (no filter, one tallied filter, or the status alone);
any other combination is counted from the rows, through the index of its narrowest filter.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from .db.tallies import TALLIED_FILTERS
from .db.types import Unindexed, storable
from .enums import ShareStatus
from .models import Share, ShareTally


def _sum(*conditions):
    """The tallies' sum over some rows (PostgreSQL's sum of bigints is numeric: cast back)."""
    summed = sa.func.coalesce(sa.func.sum(ShareTally.shares), 0)
    return sa.select(sa.cast(summed, sa.BigInteger)).where(*conditions).scalar_subquery()


def _tally(dimension: str, value: str = ""):
    return _sum(ShareTally.dimension == dimension, ShareTally.value == value)


def _expiring_rows(start: datetime, end: datetime) -> sa.Select:
    """A count of the shares with ``start <= expires_at < end``, through the expires_at index."""
    return sa.select(sa.func.count()).where(Share.expires_at >= start, Share.expires_at < end)


def _expired(now: datetime, exhausted: bool):
    """Shares with ``expires_at < now`` (and no claims left, when ``exhausted``).

    Whole days come from the tallies; today's so far from the ``expires_at`` index.
    """
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    dimension = "exhausted_expires_on" if exhausted else "expires_on"
    days = _sum(ShareTally.dimension == dimension, ShareTally.value < midnight.date().isoformat())
    today = _expiring_rows(midnight, now)
    if exhausted:
        # Through the expires_at range (today's), not every exhausted share's remaining_quantity.
        today = today.where(Unindexed(Share.remaining_quantity) == 0)
    return days + today.scalar_subquery()


def status_total(status: ShareStatus, now: datetime):
    """SQL for the number of shares with ``status`` at ``now`` (contract expiry rule 6)."""
    expired = _expired(now, exhausted=False)
    if status is ShareStatus.EXPIRED:
        return expired
    # Exhausted: no claims left and not expired.
    exhausted = _tally("exhausted") - _expired(now, exhausted=True)
    if status is ShareStatus.EXHAUSTED:
        return exhausted
    return _tally("all") - expired - exhausted


def claims_total(filters: dict[str, object]):
    """SQL for the exact total of the claims list: every claim from its tally, else None (a
    filtered list is counted from its rows, through its filter's index)."""
    return None if filters else _tally("claims")


def total(filters: dict[str, object], now: datetime):
    """SQL for the exact total of a list with these filters, or None when no tally answers it.

    ``filters`` maps the given filter names to their values (``is_cloneable``: True/False;
    ``status``: a ShareStatus; enums for the enum filters).
    """
    if not filters:
        return _tally("all")
    if len(filters) != 1:
        return None
    ((name, value),) = filters.items()
    if name == "status":
        return status_total(value, now)
    if name not in TALLIED_FILTERS or not storable(value):
        return None
    if isinstance(value, bool):
        value = "true" if value else "false"
    return _tally(name, getattr(value, "value", value))


def expiring_total(start: datetime, end: datetime):
    """SQL for the number of shares with ``start <= expires_at < end`` (what the list's
    ``filter[expires_at][gte]`` and ``[lt]`` find): whole UTC days from the tallies, the parts
    of a day at either end through the ``expires_at`` index."""
    first = start.replace(hour=0, minute=0, second=0, microsecond=0)
    if first < start:
        first += timedelta(days=1)
    last = end.replace(hour=0, minute=0, second=0, microsecond=0)
    if last <= first:
        return _expiring_rows(start, end).scalar_subquery()
    days = _sum(
        ShareTally.dimension == "expires_on",
        ShareTally.value >= first.date().isoformat(),
        ShareTally.value < last.date().isoformat(),
    )
    edges = _expiring_rows(start, first).scalar_subquery()
    return edges + days + _expiring_rows(last, end).scalar_subquery()
