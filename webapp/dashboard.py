"""The home page's figures: shares by status, what expires this week, claims and new shares per
day, the latest changes.

Every figure comes from the tallies (``totals``, ``db.tallies``) or from a bounded range of an
index, so the page costs the same with ten thousand shares or a million (``make bench``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from . import totals
from .enums import SHARE_ACTIONS, ShareStatus
from .extensions import db
from .listing import existing_share_ids
from .models import AuditEvent, ShareTally

#: How far back the charts look, in UTC days (today included).
CHART_DAYS = 30
#: The "expiring soon" window, and the claims trend's two halves.
WEEK = timedelta(days=7)
LATEST_EVENTS = 8


@dataclass(frozen=True)
class Trend:
    """Claims in the last 7 UTC days (today included) against the 7 days before them."""

    recent: int
    before: int

    @property
    def change(self) -> int | None:
        """The change in percent, rounded; None when there were none before to compare with."""
        if not self.before:
            return None
        return round((self.recent - self.before) * 100 / self.before)

    @property
    def direction(self) -> str:
        if self.recent == self.before:
            return "level"
        return "up" if self.recent > self.before else "down"


@dataclass(frozen=True)
class Dashboard:
    now: datetime
    by_status: dict[ShareStatus, int]
    total: int
    expiring: int
    claims_per_day: tuple[tuple[date, int], ...]
    created_per_day: tuple[tuple[date, int], ...]
    events: list[AuditEvent]
    #: Which of the events' shares still exist (a deleted share has no page to link to).
    existing: set[int]

    @property
    def expiring_until(self) -> datetime:
        return self.now + WEEK

    @property
    def trend(self) -> Trend:
        counts = [count for _day, count in self.claims_per_day]
        return Trend(recent=sum(counts[-7:]), before=sum(counts[-14:-7]))


def per_day(dimension: str, first: date, last: date) -> tuple[tuple[date, int], ...]:
    """``(day, count)`` for every UTC day from ``first`` to ``last``, zeros included, from a
    daily tally (``created_on``: shares made; ``claimed_on``: claims made). A tuple, so that a
    chart of it can be kept by it (``charts.drawn``)."""
    rows = db.session.execute(
        sa.select(ShareTally.value, ShareTally.shares).where(
            ShareTally.dimension == dimension,
            ShareTally.value >= first.isoformat(),
            ShareTally.value <= last.isoformat(),
        )
    )
    counts = {value: int(count) for value, count in rows}
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return tuple((day, counts.get(day.isoformat(), 0)) for day in days)


def latest_events(limit: int = LATEST_EVENTS) -> list[AuditEvent]:
    """The newest changes to shares, newest first (the events feed's events)."""
    actions = [action.value for action in SHARE_ACTIONS]
    query = sa.select(AuditEvent).where(AuditEvent.action.in_(actions))
    return list(db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)))


@functools.cache
def _counts() -> sa.Select:
    """One row: the shares of each status, every share, and those expiring within a week of
    ``:now``. Built once, with bind parameters: building it cost ten times running it."""
    return totals.status_totals(totals.Moment.bound()).add_columns(
        totals.Span.bound("week").total()
    )


def summary(now: datetime) -> Dashboard:
    """Everything the home page shows, as of ``now``."""
    statuses = list(ShareStatus)
    # A week always holds a whole day, so the span is never None.
    week = totals.Span.values(now, now + WEEK, "week")
    counts = db.session.execute(_counts(), {**totals.Moment.values(now), **week}).one()
    today = now.date()
    first = today - timedelta(days=CHART_DAYS - 1)
    events = latest_events()
    return Dashboard(
        now=now,
        by_status={status: int(count) for status, count in zip(statuses, counts, strict=False)},
        total=int(counts[len(statuses)]),
        expiring=int(counts[-1]),
        claims_per_day=per_day("claimed_on", first, today),
        created_per_day=per_day("created_on", first, today),
        events=events,
        existing=existing_share_ids(event.share_id for event in events),
    )
