"""First answers, kept so that a change asked for twice happens once: an API create or claim
retried with its ``Idempotency-Key``, a page's form sent twice with its one-time form id.

A first answer is written in the change's own transaction, unique per scope (``token:<id>``,
``staff:<id>``), route and key: of two concurrent requests with one key, one commits and the
other, when it tries to write the same key, fails and answers as the first did. Answers live 24
hours; a key used again after that starts afresh.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import sqlalchemy as sa

from .clock import utcnow
from .models import IdempotencyKey

LIFETIME = timedelta(hours=24)
#: The header (``true``) on a first answer given again; the OpenAPI document declares it from
#: here.
REPLAYED = "Idempotent-Replayed"
_KEYS = IdempotencyKey.__table__


def fingerprint(payload) -> str:
    """The body's SHA-256, the same for the same JSON whatever its key order or spacing."""
    # default=str: an integer too long for int() (forms.adapter.LongInteger) as its digits. A
    # field refuses those digits as a number and as text, and an unknown field is ignored
    # either way, so the two bodies this cannot tell apart are the same request.
    canonical = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    # surrogatepass: JSON may carry a lone surrogate ("\ud800"), which strict UTF-8 refuses.
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def find(connection: sa.Connection, scope: str, route: str, key: str) -> sa.Row | None:
    """The live first answer for this scope, route and key (an expired one is as good as none)."""
    row = connection.execute(
        sa.select(_KEYS).where(_KEYS.c.scope == scope, _KEYS.c.route == route, _KEYS.c.key == key)
    ).first()
    if row is not None and utcnow() - row.created_at > LIFETIME:
        return None
    return row


def record(connection: sa.Connection, **values) -> None:
    """Store a first answer (``scope``, ``route``, ``key``, ``fingerprint``, ``status``,
    ``response``, ``location``) on ``connection``, in the change's transaction, in place of an
    expired one of the same key. A live one makes the INSERT fail (IntegrityError)."""
    connection.execute(
        sa.delete(_KEYS).where(
            _KEYS.c.scope == values["scope"],
            _KEYS.c.route == values["route"],
            _KEYS.c.key == values["key"],
            _KEYS.c.created_at < utcnow() - LIFETIME,
        )
    )
    connection.execute(sa.insert(_KEYS), {"created_at": utcnow(), **values})
