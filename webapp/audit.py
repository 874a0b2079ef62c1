"""The audit trail: one event per change, written by the code that makes the change, on its
connection and so in its transaction; a change that rolls back leaves no event.

``shares`` records every change to a share or claim, ``accounts`` every staff and token change;
nothing else writes events. Each event names who acted, what happened and ``{field: [old, new]}``
with values as the Share object shows them (for staff and tokens, their recorded fields).
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask import g, has_app_context

from . import expiry
from .clock import utcnow
from .enums import SHARE_ACTIONS, AuditAction
from .models import AuditEvent

STAFF_FIELDS = ("email", "role", "is_active", "timezone")
TOKEN_FIELDS = ("name", "role", "revoked_at")

#: Built once: every create runs it.
_INSERT = sa.insert(AuditEvent)
#: The PostgreSQL advisory lock that hands out event ids in commit order (see ``record``).
EVENTS_LOCK = 0x5D_E7E7
_COLUMNS = ("at", "actor", "action", "changes", "share_id", "share_handle", "claim_id")
#: ``_INSERT`` on PostgreSQL for the feed's events: the lock first, in the same statement (one
#: round trip, not two, on every change to a share). A MATERIALIZED CTE is read before the row
#: it feeds is made, so the id (the sequence's next value) is only drawn under the lock.
_locked = sa.select(sa.func.pg_advisory_xact_lock(EVENTS_LOCK)).cte("events_lock")
_locked = _locked.prefix_with("MATERIALIZED", dialect="postgresql")
_INSERT_LOCKED = sa.insert(AuditEvent).from_select(
    _COLUMNS,
    sa.select(
        *(sa.bindparam(name, type_=AuditEvent.__table__.c[name].type) for name in _COLUMNS)
    ).select_from(_locked),
)


def current_actor() -> str:
    """Who is acting: a staff email, ``token:NAME``, ``cli:USER``, or ``system``."""
    if has_app_context():
        return g.get("actor") or "system"
    return "system"


def plain(value):
    """A JSON-safe copy of a column value."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return expiry.to_utc_z(value)
    if isinstance(value, list):
        return list(value)
    return value


def snapshot(row, fields) -> dict:
    """The recorded fields of ``row`` as plain values."""
    return {name: plain(getattr(row, name)) for name in fields}


def created(values: dict) -> dict[str, list]:
    """The changes of a row that came to be: ``[None, value]`` for each field with a value."""
    return {name: [None, value] for name, value in values.items() if value is not None}


def removed(values: dict) -> dict[str, list]:
    """The changes of a row that went: ``[value, None]`` for each field it had a value in."""
    return {name: [value, None] for name, value in values.items() if value is not None}


def differences(before: dict, after: dict) -> dict[str, list]:
    """``{field: [old, new]}`` for each field whose value changed."""
    return {name: [before[name], after[name]] for name in before if before[name] != after[name]}


def record(
    connection: sa.Connection,
    action: AuditAction,
    changes: dict,
    share_id: int | None = None,
    share_handle: str | None = None,
    claim_id: int | None = None,
    actor: str | None = None,
    at: datetime | None = None,
) -> None:
    """Write one event on ``connection``, in the transaction of the change it describes.

    ``actor`` names who acted when no one is signed in yet (the email a sign-in gave); ``at``
    is the change's own time stamp where it has one (a share's ``created_at``), so that History
    and the share agree to the second."""
    record_many(connection, action, [(changes, share_id, share_handle, claim_id)], actor, at)


#: One event for ``record_many``: (changes, share id, share handle, claim id).
Event = tuple[dict, int | None, str | None, int | None]


def record_many(
    connection: sa.Connection,
    action: AuditAction,
    events: list[Event],
    actor: str | None = None,
    at: datetime | None = None,
) -> None:
    """Write events of one action on ``connection`` in one statement (an executemany), in the
    transaction of the changes they describe, in the order given.

    The events feed's ids must be handed out in commit order, or a reader that saw id 11 would
    never see an id 10 committed after it. SQLite writes one transaction at a time, so they are.
    PostgreSQL hands out sequence values before commit: there a transaction takes an advisory
    lock before its first share event and holds it until it ends, so no other transaction gets
    a share event id until this one has committed or rolled back. Other events are not in the
    feed, so a sign-in never waits for a long change to shares.
    """
    if not events:
        return
    in_feed = connection.dialect.name == "postgresql" and action in SHARE_ACTIONS
    at, actor = at or utcnow(), actor or current_actor()
    connection.execute(
        _INSERT_LOCKED if in_feed else _INSERT,
        [
            {
                "at": at,
                "actor": actor,
                "action": action.value,
                "changes": changes,
                "share_id": share_id,
                "share_handle": share_handle,
                "claim_id": claim_id,
            }
            for changes, share_id, share_handle, claim_id in events
        ],
    )
