"""Test data, made one way: shares, claims, staff, API tokens, pending CSV imports and bulk jobs
with one set of defaults, and readers of the rows the tests look at.

Every factory takes the app and opens its own app context, so it works for the per-test ``app``,
an app a test makes for itself and the end-to-end tests' session app alike. A test that needs
other values passes them at the call; no other module keeps defaults of its own.
"""

from __future__ import annotations

import functools

import sqlalchemy as sa
from werkzeug.datastructures import MultiDict
from werkzeug.security import generate_password_hash

import webapp.shares
from webapp import imports, jobs
from webapp.clock import utcnow
from webapp.enums import AuditAction, JobState, PeriodType, Role, SourceType
from webapp.expiry import resolve_expiry
from webapp.extensions import db
from webapp.forms.filters import ShareFilterForm
from webapp.models import ApiToken, Share, ShareClaim, Staff

#: A share unless the test says otherwise: one claim left, no code, no period, so it never
#: expires.
SHARE = {
    "profile_id": "owner-1",
    "source_type": SourceType.REWARD,
    "source_id": 42,
    "timezone": "UTC",
    "quantity": 1,
    "remaining_quantity": 1,
    "is_cloneable": False,
}
STAFF_PASSWORD = "correct horse battery staple"


def share_values(**fields) -> dict:
    """A share's column values: ``SHARE`` with ``fields`` over it, and its expiry computed by the
    app's rules from the period fields and creation instant unless ``expires_at`` is given (None
    too). ``shares`` stores them; a test uses them itself only to write a share in a transaction
    of its own."""
    values = {**SHARE, "created_at": utcnow(), **fields}
    values["source_type"] = SourceType(values["source_type"])
    if values.get("period_type") is not None:
        values["period_type"] = PeriodType(values["period_type"])
    if "expires_at" not in fields:
        values["expires_at"] = resolve_expiry(
            created_at=values["created_at"],
            tz=values["timezone"],
            period=values.get("period"),
            period_type=values.get("period_type"),
            absolute_expiry=values.get("absolute_expiry"),
        )
    return values


def shares(app, *rows: dict) -> list[int]:
    """Store a share per row (``share_values``) through the app's own write path, in one
    commit, so the audit trail records each create by ``system``; their ids, in order.

    The one place the tests write shares.
    """
    with app.app_context():
        made = [webapp.shares.create(share_values(**row)) for row in rows]
        db.session.commit()
        return [made_share.id for made_share in made]


def share(app, **fields) -> int:
    """Store one share (``shares``); its id."""
    (share_id,) = shares(app, fields)
    return share_id


def claim(app, share_id: int, profile_id: str, **fields) -> int:
    """Store a claim of the share by ``profile_id`` straight into the database, as a successful
    claim copies it (no count taken off the share); its id."""
    with app.app_context():
        claimed = db.session.get(Share, share_id)
        row = ShareClaim(
            share_id=claimed.id,
            share_handle=claimed.handle,
            share_profile_id=claimed.profile_id,
            profile_id=profile_id,
            created_source_type=claimed.source_type,
            created_source_id=claimed.source_id,
            is_cloned=claimed.is_cloneable,
            **fields,
        )
        db.session.add(row)
        db.session.commit()
        return row.id


#: The accounts the tests make are signed in to hundreds of times a run, and checking a hash at
#: the app's own cost (werkzeug's scrypt, N=2**15) takes 0.1 s: theirs is scrypt at N=2**10.
#: The app checks a hash at the cost the hash names; accounts made through the app (the staff
#: page, ``flask staff create``) keep the full cost, as tests/security/test_sessions.py shows.
TEST_HASH_METHOD = "scrypt:1024:8:1"
#: What werkzeug's "scrypt" stands for: the app's own hashes start with it.
APP_HASH_PREFIX = "scrypt:32768:8:1$"


@functools.cache
def password_hash() -> str:
    """One hash per test run, reused by every staff account the tests make."""
    return generate_password_hash(STAFF_PASSWORD, method=TEST_HASH_METHOD)


def staff(app, email: str, role: Role | str) -> int:
    """A staff account with ``role`` whose password is ``STAFF_PASSWORD``; its id."""
    with app.app_context():
        member = Staff(email=email, role=Role(role), password_hash=password_hash())
        db.session.add(member)
        db.session.commit()
        return member.id


def token(app, name: str, role: Role | str) -> str:
    """A live API token with ``role``; its plain value (only the hash is stored)."""
    with app.app_context():
        row, plain = ApiToken.issue(name, Role(role))
        db.session.add(row)
        db.session.commit()
    return plain


IMPORT_CSV = b"profile_id,source_id,source_type\nimported-1,42,reward\n"


def pending_import(app, data: bytes = IMPORT_CSV, filename: str = "shares.csv") -> int:
    """A checked CSV file kept for its confirmation, as the Import page keeps it; its id."""
    with app.app_context():
        kept = imports.keep(data, filename)
        db.session.commit()
        return kept.id


def bulk_job(
    app,
    action: AuditAction | str,
    share_ids: list[int] | None,
    state: JobState | str = "running",
    runner: str = "gone",
) -> int:
    """A bulk job over ``share_ids`` (None: every share), held by ``runner`` (nobody runs it;
    its heartbeat is fresh), in ``state``: a failed one says why; its id."""
    with app.test_request_context():
        filters = ShareFilterForm(MultiDict())
        filters.validate()
        job = jobs.start(AuditAction(action), filters, share_ids, utcnow(), runner)
        job.state = JobState(state)
        if job.state is JobState.FAILED:
            job.runner, job.error = None, "RuntimeError: a test stopped it"
        db.session.commit()
        return job.id


# --- readers -------------------------------------------------------------------------------


def share_row(app, share_id: int) -> dict | None:
    """The share's row as column values (enum members, aware datetimes), or None when gone."""
    with app.app_context():
        found = db.session.get(Share, share_id)
        if found is None:
            return None
        return {column.key: getattr(found, column.key) for column in Share.__table__.columns}


def share_data(app, share_id: int) -> dict | None:
    """The share as the API shows it (the contract's Share object), or None when gone."""
    with app.app_context():
        found = db.session.get(Share, share_id)
        return found.to_dict() if found is not None else None


def handle_of(app, share_id: int) -> str:
    return share_row(app, share_id)["handle"]


def share_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Share.id)))


def stored_shares(app) -> list[Share]:
    """Every stored share, oldest first, detached from the session."""
    with app.app_context():
        found = db.session.scalars(sa.select(Share).order_by(Share.id)).all()
        db.session.expunge_all()
        return list(found)


def claim_rows(app, share_id: int | None = None) -> list[dict]:
    """The stored claims (of one share, if given) as column values, oldest first."""
    with app.app_context():
        query = sa.select(ShareClaim).order_by(ShareClaim.id)
        if share_id is not None:
            query = query.where(ShareClaim.share_id == share_id)
        return [
            {column.key: getattr(row, column.key) for column in ShareClaim.__table__.columns}
            for row in db.session.scalars(query)
        ]
