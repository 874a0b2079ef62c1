"""The audit trail, written by one flush listener so that no code path can forget it.

Whatever changes a share (a page, the API, the CLI) goes through the session; after each flush
this listener inserts an ``AuditEvent`` per created, edited, claimed or deleted share, on the same
connection and so in the same transaction: a change that rolls back leaves no audit row.
Staff and API token changes are recorded the same way. The one write outside the unit of work,
``Share.create`` (the busiest), records its event itself through ``share_created``.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask import g, has_app_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from . import expiry
from .models import BODY_FIELDS, ApiToken, AuditEvent, Share, ShareClaim, Staff, StoredShare, utcnow

#: Share fields whose changes are recorded (timestamps and ids speak for themselves).
SHARE_FIELDS = ("handle", *BODY_FIELDS)
STAFF_FIELDS = ("email", "role", "is_active")
TOKEN_FIELDS = ("name", "role", "revoked_at")

ACTIONS = ("create", "edit", "claim", "delete", "staff", "token")


def current_actor() -> str:
    """Who is acting: a staff email, ``token:NAME``, ``cli:USER``, or ``system``."""
    if has_app_context():
        return g.get("actor") or "system"
    return "system"


def _plain(value):
    """A JSON-safe copy of a column value."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return expiry.to_utc_z(value)
    if isinstance(value, list):
        return list(value)
    return value


def _changes(obj, fields) -> dict[str, list]:
    """``{field: [old, new]}`` for the fields this flush changes."""
    state = inspect(obj)
    found = {}
    for name in fields:
        history = state.attrs[name].history
        if not history.has_changes():
            continue
        old = _plain(history.deleted[0]) if history.deleted else None
        new = _plain(history.added[0]) if history.added else None
        if old != new:
            found[name] = [old, new]
    return found


def _snapshot(obj, fields, created: bool) -> dict[str, list]:
    values = {name: _plain(getattr(obj, name)) for name in fields}
    if created:
        return {name: [None, value] for name, value in values.items() if value is not None}
    return {name: [value, None] for name, value in values.items() if value is not None}


def _event(action, changes, share=None, share_id=None, handle=None) -> dict:
    """One ``audit_events`` row."""
    return {
        "at": utcnow(),
        "actor": current_actor(),
        "action": action,
        "changes": changes,
        "share_id": share.id if share is not None else share_id,
        "share_handle": share.handle if share is not None else handle,
    }


def _created(share) -> dict:
    return _event("create", _snapshot(share, SHARE_FIELDS, created=True), share=share)


def _events(session: Session) -> list[dict]:
    events = []

    def add(*args, **kwargs):
        events.append(_event(*args, **kwargs))

    for obj in session.new:
        if isinstance(obj, Share):
            events.append(_created(obj))
        elif isinstance(obj, ShareClaim):
            # The conditional UPDATE already ran in this transaction: read its result.
            left = session.connection().scalar(
                sa.select(Share.remaining_quantity).where(Share.id == obj.share_id)
            )
            add(
                "claim",
                {
                    "claim_id": [None, obj.id],
                    "claimer_profile_id": [None, obj.profile_id],
                    "remaining_quantity": [None if left is None else left + 1, left],
                },
                share_id=obj.share_id,
                handle=obj.share_handle,
            )
        elif isinstance(obj, Staff):
            add("staff", _snapshot(obj, STAFF_FIELDS, created=True))
        elif isinstance(obj, ApiToken):
            add("token", _snapshot(obj, TOKEN_FIELDS, created=True))
    for obj in session.dirty:
        if isinstance(obj, Share):
            changes = _changes(obj, SHARE_FIELDS)
            if changes:
                add("edit", changes, share=obj)
        elif isinstance(obj, Staff | ApiToken):
            fields = STAFF_FIELDS if isinstance(obj, Staff) else TOKEN_FIELDS
            changes = _changes(obj, fields)
            if changes:
                label = (
                    {"email": [obj.email] * 2}
                    if isinstance(obj, Staff)
                    else {"name": [obj.name] * 2}
                )
                add("staff" if isinstance(obj, Staff) else "token", {**label, **changes})
    for obj in session.deleted:
        if isinstance(obj, Share):
            add("delete", _snapshot(obj, SHARE_FIELDS, created=False), share=obj)
    return events


#: Built once: every create runs it.
_INSERT = sa.insert(AuditEvent)


@event.listens_for(Session, "after_flush")
def _write_audit(session: Session, _flush_context) -> None:
    events = _events(session)
    if events:
        session.connection().execute(_INSERT, events)


def share_created(connection: sa.Connection, share: StoredShare) -> None:
    """The create event of a share inserted outside the unit of work (``Share.create``), on the
    insert's own connection and so in its transaction."""
    connection.execute(_INSERT, _created(share))
