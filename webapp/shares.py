"""Every change to a share or a claim: create, edit, claim, expire, extend and delete, each with
its audit event; and the claim check, which changes nothing.

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

#: Built once: the API's busiest write runs it.
_INSERT_SHARE = sa.insert(Share.__table__)
#: Every column, for the columns a create leaves out (NULL, as the database stores them).
_NULLS = dict.fromkeys(Share.__table__.columns.keys())
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
    audit.record(connection, AuditAction.CREATE, changes, share.id, share.handle)
    return share


def _change(share: Share, action: AuditAction, values: dict) -> dict[str, list]:
    """Set ``values`` on ``share`` and record what changed (nothing changed: no event)."""
    before = share.to_dict()
    for name, value in values.items():
        setattr(share, name, value)
    db.session.flush()
    changes = audit.differences(before, share.to_dict())
    if changes:
        audit.record(db.session.connection(), action, changes, share.id, share.handle)
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
    return _change(share, AuditAction.EXPIRE, {"expires_at": clock.utcnow()})


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
    audit.record(connection, AuditAction.CLAIM, changes, share.id, share.handle, record.id)
    return record


def delete(share: Share) -> None:
    """Delete ``share``; its claims stay, and its delete event keeps its last values."""
    values = share.to_dict()
    share_id, handle = share.id, share.handle
    db.session.delete(share)
    db.session.flush()
    changes = audit.removed(values)
    audit.record(db.session.connection(), AuditAction.DELETE, changes, share_id, handle)
