"""Helpers for the security tests: CSRF tokens, stored shares, sign-in and database snapshots."""

from __future__ import annotations

import re

import sqlalchemy as sa

from webapp import expiry, shares
from webapp.enums import PeriodType, SourceType
from webapp.extensions import db
from webapp.models import ApiToken, AuditEvent, Share, ShareClaim, SignInFailure, Staff, utcnow

CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
SHARE_CODE = "SECRET-1"


def csrf_token(client) -> str:
    """The CSRF token of this client's session, from the sign-in page's hidden input."""
    response = client.get("/sign-in")
    assert response.status_code == 200
    match = CSRF_INPUT.search(response.get_data(as_text=True))
    assert match, "no csrf_token input on the sign-in page"
    return match[1]


def sign_in(client, email: str, password: str, address: str = "127.0.0.1", **kwargs):
    """POST the sign-in form from ``address`` with a valid CSRF token."""
    data = {"csrf_token": csrf_token(client), "email": email, "password": password}
    return client.post("/sign-in", data=data, environ_base={"REMOTE_ADDR": address}, **kwargs)


def store_share(app, **fields) -> tuple[int, str]:
    """Store a share directly (audited as ``system``); returns its id and handle.

    Defaults: code SECRET-1, 2 days from now, one claim left.
    """
    now = utcnow()
    values = {
        "profile_id": "owner-1",
        "source_type": SourceType.REWARD,
        "source_id": 1,
        "timezone": "UTC",
        "code": SHARE_CODE,
        "period": 2,
        "period_type": PeriodType.DAYS,
        "remaining_quantity": 1,
        "created_at": now,
        "updated_at": now,
    }
    values.update(fields)
    if "expires_at" not in fields:
        values["expires_at"] = expiry.resolve_expiry(
            created_at=values["created_at"],
            tz=values["timezone"],
            period=values["period"],
            period_type=values["period_type"],
            absolute_expiry=values.get("absolute_expiry"),
        )
    with app.app_context():
        share = shares.create(values)
        db.session.commit()
        return share.id, share.handle


def get_share(app, share_id: int) -> dict | None:
    with app.app_context():
        share = db.session.get(Share, share_id)
        return share.to_dict() if share else None


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


def fingerprint(app) -> dict:
    """Everything a request could change, to prove that a refused one changed nothing.

    Token ``last_used_at`` is left out: authenticating is not a change.
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
                sa.select(Staff.id, Staff.email, Staff.role, Staff.is_active).order_by(Staff.id)
            ),
            "tokens": rows(
                sa.select(ApiToken.id, ApiToken.name, ApiToken.role, ApiToken.revoked_at).order_by(
                    ApiToken.id
                )
            ),
            "audit": rows(sa.select(AuditEvent.id).order_by(AuditEvent.id)),
            "sign_in_failures": rows(sa.select(SignInFailure.id).order_by(SignInFailure.id)),
        }
