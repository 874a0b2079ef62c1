"""Helpers for the security tests: their share, sign-in, audit events and database snapshots."""

from __future__ import annotations

import sqlalchemy as sa

from tests.pages import csrf_token
from webapp.enums import AuditAction, PeriodType
from webapp.extensions import db
from webapp.models import (
    ApiToken,
    AuditEvent,
    BulkJob,
    Share,
    ShareClaim,
    ShareImport,
    SignInFailure,
    Staff,
)

SHARE_CODE = "SECRET-1"
#: The security tests' share: a code to claim it with, and two days to live.
SECURED = {"code": SHARE_CODE, "period": 2, "period_type": PeriodType.DAYS}


def sign_in(client, email: str, password: str, address: str = "127.0.0.1", **kwargs):
    """POST the sign-in form from ``address`` with a valid CSRF token."""
    data = {"csrf_token": csrf_token(client), "email": email, "password": password}
    return client.post("/sign-in", data=data, environ_base={"REMOTE_ADDR": address}, **kwargs)


def last_event_id(app) -> int:
    """The id of the newest audit event (0 when there is none)."""
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(AuditEvent.id), 0)))


def events_after(app, event_id: int) -> list[dict]:
    """Audit events newer than ``event_id``, oldest first, as plain dicts."""
    with app.app_context():
        rows = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.id > event_id).order_by(AuditEvent.id)
        ).all()
        return [
            {
                "action": row.action,
                "actor": row.actor,
                "share_id": row.share_id,
                "share_handle": row.share_handle,
                **({"claim_id": row.claim_id} if row.claim_id is not None else {}),
                "changes": row.changes,
            }
            for row in rows
        ]


def failures(app) -> list[tuple[str, str]]:
    """Every recorded failed sign-in as (email, address)."""
    with app.app_context():
        rows = db.session.scalars(sa.select(SignInFailure).order_by(SignInFailure.id)).all()
        return [(row.email, row.address) for row in rows]


def staff_row(app, email: str) -> Staff | None:
    with app.app_context():
        member = Staff.by_email(email)
        if member is not None:
            db.session.expunge(member)
        return member


#: Security events that record an access (a sign-in, a sign-out, an export), not a change.
ACCESS_EVENTS = (
    AuditAction.SIGN_IN,
    AuditAction.SIGN_IN_FAILED,
    AuditAction.LOCK_OUT,
    AuditAction.SIGN_OUT,
    AuditAction.EXPORT,
)


def fingerprint(app) -> dict:
    """Everything a request could change, to prove that a refused one changed nothing.

    Token ``last_used_at`` is left out: authenticating is not a change; nor are the audit
    trail's records of an access (``ACCESS_EVENTS``).
    """
    with app.app_context():

        def rows(query):
            return [tuple(row) for row in db.session.execute(query)]

        return {
            "shares": rows(
                sa.select(
                    Share.id,
                    Share.code,
                    Share.period,
                    Share.expires_at,
                    Share.remaining_quantity,
                    Share.meta,
                    Share.updated_at,
                ).order_by(Share.id)
            ),
            "claims": rows(sa.select(ShareClaim.id, ShareClaim.share_id).order_by(ShareClaim.id)),
            "staff": rows(
                sa.select(
                    Staff.id,
                    Staff.email,
                    Staff.role,
                    Staff.is_active,
                    Staff.password_hash,
                    Staff.timezone,
                ).order_by(Staff.id)
            ),
            "tokens": rows(
                sa.select(ApiToken.id, ApiToken.name, ApiToken.role, ApiToken.revoked_at).order_by(
                    ApiToken.id
                )
            ),
            "audit": rows(
                sa.select(AuditEvent.id)
                .where(AuditEvent.action.not_in([a.value for a in ACCESS_EVENTS]))
                .order_by(AuditEvent.id)
            ),
            "sign_in_failures": rows(sa.select(SignInFailure.id).order_by(SignInFailure.id)),
            "imports": rows(
                sa.select(ShareImport.id, ShareImport.imported_at).order_by(ShareImport.id)
            ),
            "bulk_jobs": rows(
                sa.select(BulkJob.id, BulkJob.state, BulkJob.done).order_by(BulkJob.id)
            ),
        }
