"""Every change to a share or a claim: create, edit, claim, expire, extend and delete, each with
its audit event; the same for many shares at once (``create_many``, ``expire_many``,
``delete_many``: an import, a bulk job's chunk); and the claim check, which changes nothing.

Views, the API and the command line call these; nothing else writes shares or claims. Each
function writes on the session's connection (or, for ``create``, the connection it is given) and
leaves the commit to its caller, so that a change, its audit event and whatever a request stores
beside it (an idempotency key) commit or roll back together.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

import sqlalchemy as sa

from . import audit, clock
from .enums import AuditAction, ShareStatus
from .extensions import db
from .models import Share, ShareClaim, StoredShare

_SHARES = Share.__table__
#: Built once: the API's busiest write runs it.
_INSERT_SHARE = sa.insert(_SHARES)
#: Many creates, in multi-row statements (SQLAlchemy's insertmanyvalues); each row's id comes
#: back with its handle, which ``create_many`` makes and which is unique.
_INSERT_SHARES = _INSERT_SHARE.returning(_SHARES.c.handle, _SHARES.c.id)
#: Every column, for the columns a create leaves out (NULL, as the database stores them).
_NULLS = dict.fromkeys(_SHARES.columns.keys())
#: The columns with a default (handle, timestamps, quantity, cloneable) and how to make it.
_DEFAULTS = {
    column.key: column.default
    for column in _SHARES.columns
    if column.default is not None and not column.primary_key
}
#: How far "extend" moves a share's expiry.
EXTENSION = timedelta(days=7)


class ClaimRefused(Exception):
    """A claim the rules refuse; ``errors`` maps contract fields to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def create(values: dict, connection: sa.Connection | None = None) -> StoredShare:
    """Insert a share from its column values (``ShareForm.share_values``) and its create event.

    One prepared INSERT rather than the session's unit of work, which costs more than the
    insert itself on the API's busiest write; the API passes a connection of its own.
    """
    connection = connection or db.session.connection()
    result = connection.execute(_INSERT_SHARE, values)
    stored = {**_NULLS, **result.last_inserted_params(), "id": result.inserted_primary_key[0]}
    share = StoredShare(**stored)
    changes = audit.created(share.to_dict())
    audit.record(
        connection, AuditAction.CREATE, changes, share.id, share.handle, at=share.created_at
    )
    return share


def create_many(values_list: list[dict], connection: sa.Connection | None = None) -> list[int]:
    """Insert shares from their column values (``ShareForm.share_values``), in order, each with
    its create event, as ``create`` would; their ids, in the same order.

    One INSERT for the shares, batched into multi-row statements, and one executemany for
    their events: an import of thousands of rows costs a few statements.
    """
    if not values_list:
        return []
    connection = connection or db.session.connection()
    rows = [_with_defaults(values) for values in values_list]
    ids = dict(connection.execute(_INSERT_SHARES, rows).all())
    stored = [StoredShare(**{**_NULLS, **row, "id": ids[row["handle"]]}) for row in rows]
    events = [(audit.created(share.to_dict()), share.id, share.handle, None) for share in stored]
    audit.record_many(connection, AuditAction.CREATE, events)
    return [share.id for share in stored]


def _with_defaults(values: dict) -> dict:
    """``values`` with the column defaults the INSERT would give filled in, so that the event
    knows them and every row of one executemany names the same columns."""
    row = dict(values)
    for name, default in _DEFAULTS.items():
        if name not in row:
            row[name] = default.arg(None) if default.is_callable else default.arg
    return row


def _change(share: Share, action: AuditAction, values: dict) -> dict[str, list]:
    """Set ``values`` on ``share`` and record what changed (nothing changed: no event)."""
    before = share.to_dict()
    for name, value in values.items():
        setattr(share, name, value)
    db.session.flush()
    changes = audit.differences(before, share.to_dict())
    if changes:
        connection = db.session.connection()
        audit.record(connection, action, changes, share.id, share.handle, at=share.updated_at)
    return changes


def edit(share: Share, values: dict, recompute_expiry: bool = False) -> dict[str, list]:
    """Set ``values`` on ``share``; with ``recompute_expiry``, its expiry follows the period
    fields again (rule 7). Records an edit event when anything changed, and returns the changes.
    """
    if recompute_expiry:
        probe = Share(**{**_fields(share), **values})
        values = {**values, "expires_at": probe.computed_expiry()}
    return _change(share, AuditAction.EDIT, values)


def _fields(share: Share) -> dict:
    """The period fields and creation instant that an expiry is computed from."""
    names = ("created_at", "timezone", "period", "period_type", "absolute_expiry")
    return {name: getattr(share, name) for name in names}


def expire(share: Share) -> dict[str, list]:
    """Stop ``share`` now: its expiry becomes the current second, so no claim succeeds from then
    on. A share already expired keeps its expiry (and no event is written)."""
    if share.status(clock.now()) is ShareStatus.EXPIRED:
        return {}
    stamp = clock.utcnow()
    return _change(share, AuditAction.EXPIRE, {"expires_at": stamp, "updated_at": stamp})


def _rows_of(ids: list[int], connection: sa.Connection, *conditions) -> dict[int, StoredShare]:
    """The shares of ``ids`` that still exist and meet ``conditions``, by id; on PostgreSQL
    locked until the transaction ends, so what their events say they were is what they were.
    (On SQLite a transaction that has written holds the only write turn.)"""
    query = sa.select(_SHARES).where(_SHARES.c.id.in_(ids), *conditions)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    return {row.id: StoredShare(**row._mapping) for row in connection.execute(query)}


def expire_many(ids: list[int], connection: sa.Connection | None = None) -> list[int]:
    """``expire`` each share of ``ids``, by its rules: one that has not expired gets the current
    second as its expiry and an expire event; one already expired stays as it was, with no event;
    one deleted meanwhile is skipped. The ids of the shares it expired."""
    connection = connection or db.session.connection()
    now, stamp = clock.now(), clock.utcnow()
    live = sa.or_(_SHARES.c.expires_at.is_(None), _SHARES.c.expires_at >= now)
    before = _rows_of(ids, connection, live)
    if not before:
        return []
    expired = connection.execute(
        sa.update(_SHARES)
        .where(_SHARES.c.id.in_(before), live)
        .values(expires_at=stamp, updated_at=stamp)
        .returning(_SHARES.c.id)
    ).scalars()
    when, events = audit.plain(stamp), []
    for share_id in sorted(expired):
        old = before[share_id].to_dict()
        changes = audit.differences(old, {**old, "expires_at": when, "updated_at": when})
        if changes:  # as ``_change``: nothing changed, no event
            events.append((changes, share_id, old["handle"], None))
    audit.record_many(connection, AuditAction.EXPIRE, events, at=stamp)
    return [event[1] for event in events]


def delete_many(ids: list[int], connection: sa.Connection | None = None) -> list[int]:
    """``delete`` each share of ``ids`` that still exists (one deleted meanwhile is skipped):
    its claims stay, and its delete event keeps its last values. The ids of the shares it
    deleted."""
    connection = connection or db.session.connection()
    before = _rows_of(ids, connection)
    if not before:
        return []
    deleted = connection.execute(
        sa.delete(_SHARES).where(_SHARES.c.id.in_(before)).returning(_SHARES.c.id)
    ).scalars()
    events = []
    for share_id in sorted(deleted):
        values = before[share_id].to_dict()
        events.append((audit.removed(values), share_id, values["handle"], None))
    audit.record_many(connection, AuditAction.DELETE, events)
    return [event[1] for event in events]


def extend(share: Share) -> dict[str, list]:
    """Move ``share``'s expiry ``EXTENSION`` later (from now, if it has passed); an edit.

    A share that never expires has nothing to extend: ``ValueError``.
    """
    if share.expires_at is None:
        raise ValueError("The share never expires: there is nothing to extend.")
    start = max(share.expires_at, clock.utcnow())
    return _change(share, AuditAction.EDIT, {"expires_at": start + EXTENSION})


def claim_errors(share: Share, profile_id: str, code: str, now: datetime) -> dict[str, list[str]]:
    """Every reason the rules refuse this claim at ``now``; empty when it would succeed.

    The claim check answers with exactly these, and changes nothing.
    """
    errors: dict[str, list[str]] = {}
    expected = share.code if share.code is not None else share.handle
    if not hmac.compare_digest(code.encode(), expected.encode()):
        what = "code" if share.code is not None else "handle"
        errors["code"] = [f"The code is wrong: give the share's {what}."]
    if profile_id == share.profile_id:
        errors["profile_id"] = ["A profile cannot claim its own share."]
    status = share.status(now)
    if status is ShareStatus.EXPIRED:
        errors["share"] = ["The share has expired."]
    elif status is ShareStatus.EXHAUSTED:
        errors["share"] = ["The share has no claims left."]
    return errors


def claim(share: Share, profile_id: str, code: str, meta: list[str] | None) -> ShareClaim:
    """Claim ``share`` for ``profile_id``; raises ``ClaimRefused`` naming every reason.

    The decrement is one conditional UPDATE, so concurrent claims can never take
    ``remaining_quantity`` below zero, and the claim row is written in the same transaction.
    A refused claim leaves nothing behind: it rolls back what its transaction began.
    """
    now, stamp = clock.now(), clock.utcnow()
    errors = claim_errors(share, profile_id, code, now)
    if errors:
        raise ClaimRefused(errors)
    before = share.to_dict()
    left = db.session.execute(
        sa.update(Share)
        .where(
            Share.id == share.id,
            sa.or_(Share.remaining_quantity.is_(None), Share.remaining_quantity > 0),
            sa.or_(Share.expires_at.is_(None), Share.expires_at >= now),
        )
        # NULL (unlimited) stays NULL: NULL - 1 is NULL.
        .values(remaining_quantity=Share.remaining_quantity - 1, updated_at=stamp)
        .returning(Share.remaining_quantity)
        .execution_options(synchronize_session=False)
    ).first()
    if left is None:
        # Another claim took the last one (or the share expired) between the check and now.
        db.session.rollback()
        raise ClaimRefused({"share": ["The share has no claims left."]})
    db.session.expire(share, ["remaining_quantity", "updated_at"])
    record = ShareClaim(
        share_id=share.id,
        share_handle=share.handle,
        share_profile_id=share.profile_id,
        profile_id=profile_id,
        claimed_at=stamp,
        created_source_type=share.source_type,
        created_source_id=share.source_id,
        is_cloned=share.is_cloneable,
        meta=meta,
        created_at=stamp,
        updated_at=stamp,
    )
    db.session.add(record)
    db.session.flush()
    after = {
        **before,
        "remaining_quantity": left.remaining_quantity,
        "updated_at": audit.plain(stamp),
    }
    changes = audit.differences(before, after)
    connection = db.session.connection()
    audit.record(
        connection, AuditAction.CLAIM, changes, share.id, share.handle, record.id, at=stamp
    )
    return record


def delete(share: Share) -> None:
    """Delete ``share``; its claims stay, and its delete event keeps its last values."""
    values = share.to_dict()
    share_id, handle = share.id, share.handle
    db.session.delete(share)
    db.session.flush()
    changes = audit.removed(values)
    audit.record(db.session.connection(), AuditAction.DELETE, changes, share_id, handle)
