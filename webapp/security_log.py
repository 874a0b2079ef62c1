"""Security events in the audit trail, where an admin sees them (the Audit page, "Security
events"): sign-ins, failed sign-ins, lock-outs, sign-outs and CSV exports.

They change no share and no account. Each is written through ``audit.record`` on the session,
and its caller commits it with whatever else the request changed.
"""

from __future__ import annotations

from datetime import datetime

from . import audit
from .enums import AuditAction
from .extensions import db
from .models import Staff


def _record(action: AuditAction, details: dict, actor: str | None = None) -> None:
    """One event; ``details`` are shown as values that came to be (``[None, value]``)."""
    changes = audit.created({name: audit.plain(value) for name, value in details.items()})
    audit.record(db.session.connection(), action, changes, actor=actor)


def signed_in(member: Staff, address: str) -> None:
    _record(AuditAction.SIGN_IN, {"address": address}, actor=member.email)


def sign_in_failed(email: str, address: str) -> None:
    """A wrong password, an unknown email or a deactivated account: the event names the email
    as it was given (the page says the same thing for each, and so does this)."""
    _record(AuditAction.SIGN_IN_FAILED, {"address": address}, actor=email)


def locked_out(email: str, address: str, scope: str, until: datetime) -> None:
    """The failure that locked sign-in: for ``email`` from ``address``, or for the address."""
    details = {"address": address, "locked": scope, "until": until}
    _record(AuditAction.LOCK_OUT, details, actor=email)


def signed_out() -> None:
    _record(AuditAction.SIGN_OUT, {})


def exported(filters: str) -> None:
    """A CSV export, with the filters it was made with, in words (empty: every share)."""
    _record(AuditAction.EXPORT, {"filters": filters or "none: every share"})
