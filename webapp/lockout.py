"""Sign-in lock-out: after too many failed sign-ins for one email from one address, or from one
address for any emails, sign-in from there waits until the oldest of them leaves the window.

An attempt is counted before its password is checked, and atomically: the count takes the row
lock of its address's ``SignInGate`` (an upsert, on SQLite and PostgreSQL alike), so attempts
from one address are counted one at a time by every worker and server, and however many arrive
together, no more passwords are checked than the limit allows. The attempt is stored as a failure
at once; a right password takes it back (``succeeded``).

The limits are per email and address, and (larger) per address: a stranger can lock out only the
address they come from, never keep an admin out who signs in from anywhere else.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from .clock import utcnow
from .extensions import db
from .models import SignInFailure, SignInGate

_FAILURES = SignInFailure.__table__
_GATES = SignInGate.__table__


class LockedOut(Exception):
    """Sign-in from here is locked for ``seconds`` more."""

    def __init__(self, seconds: int):
        super().__init__(seconds)
        self.seconds = seconds

    @property
    def retry(self) -> str:
        """When to try again, for people: ``Try again in 15 minutes.``"""
        minutes = max(1, math.ceil(self.seconds / 60))
        return f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."


@dataclass(frozen=True)
class Attempt:
    """A counted attempt: its failure row and, when it took the last place under a limit, what
    a wrong password locks (``scope``) and until when."""

    failure_id: int
    email: str
    address: str
    scope: str | None = None
    locks_until: datetime | None = None


@functools.cache
def _take_gate(dialect: str) -> sa.Insert:
    """Insert or touch the address's gate row: either way, this transaction holds its lock."""
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(_GATES)
    return insert.on_conflict_do_update(
        index_elements=[_GATES.c.address], set_={"at": insert.excluded.at}
    )


def _recent(connection: sa.Connection, since: datetime, limit: int, *where) -> list[datetime]:
    """The times of the newest ``limit`` failures since ``since`` that match ``where``."""
    query = (
        sa.select(_FAILURES.c.at)
        .where(*where, _FAILURES.c.at > since)
        .order_by(_FAILURES.c.at.desc())
        .limit(limit)
    )
    return list(connection.execute(query).scalars())


def begin(email: str, address: str) -> Attempt:
    """Count an attempt to sign in as ``email`` from ``address`` (committed at once), or raise
    ``LockedOut`` with the time left."""
    config = current_app.config
    window = timedelta(minutes=config["SIGN_IN_WINDOW_MINUTES"])
    limits = (
        (
            "this email from this address",
            config["SIGN_IN_MAX_FAILURES"],
            (_FAILURES.c.email == email,),
        ),
        ("this address, any email", config["SIGN_IN_MAX_ADDRESS_FAILURES"], ()),
    )
    now = utcnow()
    since = now - window
    here = _FAILURES.c.address == address
    with db.engine.begin() as connection:
        connection.execute(_take_gate(connection.dialect.name), {"address": address, "at": now})
        # Failures that left the window count for nothing any more (the audit trail keeps them).
        connection.execute(sa.delete(_FAILURES).where(here, _FAILURES.c.at <= since))
        left, lock = 0.0, {}
        for scope, limit, where in limits:
            times = _recent(connection, since, limit, here, *where)
            if len(times) >= limit:
                # Locked until the oldest of the last `limit` failures leaves the window.
                left = max(left, (times[-1] + window - now).total_seconds())
            elif len(times) + 1 == limit:
                # The last place: a wrong password locks until the oldest of these leaves.
                until = (times[-1] if times else now) + window
                if not lock or until > lock["locks_until"]:
                    lock = {"scope": scope, "locks_until": until}
        if left > 0:
            raise LockedOut(math.ceil(left))  # rolls the transaction back: nothing counted
        failure_id = connection.execute(
            sa.insert(_FAILURES)
            .values(email=email, address=address, at=now)
            .returning(_FAILURES.c.id)
        ).scalar_one()
    return Attempt(failure_id, email, address, **lock)


def succeeded(attempt: Attempt) -> None:
    """The password was right: the attempt is no failure (in the caller's transaction)."""
    db.session.execute(sa.delete(_FAILURES).where(_FAILURES.c.id == attempt.failure_id))
