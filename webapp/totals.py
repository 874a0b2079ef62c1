"""Exact list totals whose cost does not grow with the number of shares.

Read from ``share_tallies`` (kept by the triggers of ``db.tallies``): a total costs a few index
lookups, however many shares exist. Status depends on the clock, so it is tallied by expiry day
(UTC): the shares expired by ``now`` are those of the days before today, from the tallies, plus
today's so far, counted through the ``expires_at`` index.

Only totals a tally answers exactly use one (no filter, one tallied filter, or the status alone);
any other combination is counted from the rows, through the index of its narrowest filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from .db.tallies import TALLIED_FILTERS
from .db.types import Unindexed, UTCDateTime, storable
from .enums import ShareStatus
from .models import Share, ShareTally


def _sum(*conditions):
    """The tallies' sum over some rows (PostgreSQL's sum of bigints is numeric: cast back)."""
    summed = sa.func.coalesce(sa.func.sum(ShareTally.shares), 0)
    return sa.select(sa.cast(summed, sa.BigInteger)).where(*conditions).scalar_subquery()


def _tally(dimension: str, value: str = ""):
    return _sum(ShareTally.dimension == dimension, ShareTally.value == value)


def _expiring_rows(start, end) -> sa.Select:
    """A count of the shares with ``start <= expires_at < end``, through the expires_at index."""
    return sa.select(sa.func.count()).where(Share.expires_at >= start, Share.expires_at < end)


@dataclass(frozen=True)
class Moment:
    """The instants a total at ``now`` depends on: ``now``, the UTC midnight before it and that
    day's date as the tallies write it (``2026-12-02``).

    Values (``Moment.at(now)``) make SQL for one instant. Bind parameters (``Moment.bound()``)
    make SQL that a page builds once and runs at any instant with ``values(now)``: building
    the home page's totals cost more than running them (1.3 ms against 0.13 ms).
    """

    now: Any
    midnight: Any
    today: Any

    @classmethod
    def at(cls, now: datetime) -> Moment:
        return cls(**cls.values(now))

    @classmethod
    def bound(cls) -> Moment:
        return cls(
            now=sa.bindparam("now", type_=UTCDateTime()),
            midnight=sa.bindparam("midnight", type_=UTCDateTime()),
            today=sa.bindparam("today", type_=sa.String()),
        )

    @staticmethod
    def values(now: datetime) -> dict:
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return {"now": now, "midnight": midnight, "today": midnight.date().isoformat()}


def _moment(now: datetime | Moment) -> Moment:
    return now if isinstance(now, Moment) else Moment.at(now)


def _expired(moment: Moment, exhausted: bool):
    """Shares with ``expires_at < now`` (and no claims left, when ``exhausted``).

    Whole days come from the tallies; today's so far from the ``expires_at`` index.
    """
    dimension = "exhausted_expires_on" if exhausted else "expires_on"
    days = _sum(ShareTally.dimension == dimension, ShareTally.value < moment.today)
    today = _expiring_rows(moment.midnight, moment.now)
    if exhausted:
        # Through the expires_at range (today's), not every exhausted share's remaining_quantity.
        today = today.where(Unindexed(Share.remaining_quantity) == 0)
    return days + today.scalar_subquery()


def status_total(status: ShareStatus, now: datetime | Moment):
    """SQL for the number of shares with ``status`` at ``now`` (contract expiry rule 6)."""
    moment = _moment(now)
    expired = _expired(moment, exhausted=False)
    if status is ShareStatus.EXPIRED:
        return expired
    # Exhausted: no claims left and not expired.
    exhausted = _tally("exhausted") - _expired(moment, exhausted=True)
    if status is ShareStatus.EXHAUSTED:
        return exhausted
    return _tally("all") - expired - exhausted


def status_totals(now: datetime | Moment) -> sa.Select:
    """One row: the number of shares of each status at ``now`` (``ShareStatus`` order), then of
    every share. ``status_total`` for each would read the expired shares three times and the
    exhausted ones twice: here each part is read once, in a MATERIALIZED CTE (inlined, the
    database would copy its parts into every expression that names them)."""
    moment = _moment(now)
    parts = (
        sa.select(
            _tally("all").label("every"),
            _expired(moment, exhausted=False).label("expired"),
            (_tally("exhausted") - _expired(moment, exhausted=True)).label("exhausted"),
        )
        .cte("status_parts")
        .prefix_with("MATERIALIZED")
    )
    by_status = {
        ShareStatus.ACTIVE: parts.c.every - parts.c.expired - parts.c.exhausted,
        ShareStatus.EXPIRED: parts.c.expired,
        ShareStatus.EXHAUSTED: parts.c.exhausted,
    }
    return sa.select(*(by_status[status] for status in ShareStatus), parts.c.every)


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


@dataclass(frozen=True)
class Span:
    """``start <= expires_at < end`` cut at the UTC midnights inside it: ``[start, first)`` and
    ``[last, end)`` are counted through the ``expires_at`` index, the whole days between
    (``first_day`` up to ``last_day``) come from the tallies. As values, or as bind parameters
    (named ``<name>_start`` ...) for SQL built once, as ``Moment``."""

    start: Any
    first: Any
    last: Any
    end: Any
    first_day: Any
    last_day: Any

    @staticmethod
    def values(start: datetime, end: datetime, name: str = "") -> dict | None:
        """The span's values (keyed ``<name>_<field>`` when named); None when it holds no
        whole day."""
        first = start.replace(hour=0, minute=0, second=0, microsecond=0)
        if first < start:
            first += timedelta(days=1)
        last = end.replace(hour=0, minute=0, second=0, microsecond=0)
        if last <= first:
            return None
        values = {
            "start": start,
            "first": first,
            "last": last,
            "end": end,
            "first_day": first.date().isoformat(),
            "last_day": last.date().isoformat(),
        }
        return {f"{name}_{key}": value for key, value in values.items()} if name else values

    @classmethod
    def bound(cls, name: str) -> Span:
        """A span of at least one whole day, as bind parameters ``<name>_start`` ..."""
        instant, day = UTCDateTime(), sa.String()
        return cls(
            **{
                key: sa.bindparam(f"{name}_{key}", type_=day if key.endswith("_day") else instant)
                for key in ("start", "first", "last", "end", "first_day", "last_day")
            }
        )

    def total(self):
        """SQL for the number of shares in the span."""
        days = _sum(
            ShareTally.dimension == "expires_on",
            ShareTally.value >= self.first_day,
            ShareTally.value < self.last_day,
        )
        edges = _expiring_rows(self.start, self.first).scalar_subquery()
        return edges + days + _expiring_rows(self.last, self.end).scalar_subquery()


def expiring_total(start: datetime, end: datetime):
    """SQL for the number of shares with ``start <= expires_at < end`` (what the list's
    ``filter[expires_at][gte]`` and ``[lt]`` find): whole UTC days from the tallies, the parts
    of a day at either end through the ``expires_at`` index."""
    values = Span.values(start, end)
    if values is None:
        return _expiring_rows(start, end).scalar_subquery()
    return Span(**values).total()
