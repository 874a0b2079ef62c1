"""First answers kept for ``Idempotency-Key`` retries: a retry with the same key and body within
24 hours gets the first answer back instead of a second change."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import sqlalchemy as sa

from .clock import utcnow
from .models import IdempotencyKey

LIFETIME = timedelta(hours=24)
_KEYS = IdempotencyKey.__table__


def fingerprint(payload: dict) -> str:
    """The body's SHA-256, the same for the same JSON whatever its key order or spacing."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # surrogatepass: JSON may carry a lone surrogate ("\ud800"), which strict UTF-8 refuses.
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def find(connection: sa.Connection, token_id: int, key: str) -> sa.Row | None:
    """The live record for this token and key (an expired one is as good as none)."""
    row = connection.execute(
        sa.select(_KEYS).where(_KEYS.c.token_id == token_id, _KEYS.c.key == key)
    ).first()
    if row is not None and utcnow() - row.created_at > LIFETIME:
        return None
    return row


def record(connection: sa.Connection, **values) -> None:
    """Store a first answer on ``connection``, in the change's transaction, in place of an
    expired record of the same key. A live one makes the INSERT fail (IntegrityError)."""
    connection.execute(
        sa.delete(_KEYS).where(
            _KEYS.c.token_id == values["token_id"],
            _KEYS.c.key == values["key"],
            _KEYS.c.created_at < utcnow() - LIFETIME,
        )
    )
    connection.execute(sa.insert(_KEYS), values)
