"""Every change to a staff account or an API token, each with its audit event.

The admin pages and the command line call these; like ``shares``, each writes on the session
and leaves the commit to its caller, so the change and its event commit together.
"""

from __future__ import annotations

import sqlalchemy as sa

from . import audit
from .clock import utcnow
from .enums import AuditAction, Role
from .extensions import db
from .models import ApiToken, Staff


def create_staff(email: str, role: Role, password: str) -> Staff:
    """A new staff account (the email as given, normalised by the caller's form)."""
    member = Staff(email=email, role=role, is_active=True)
    member.set_password(password)
    db.session.add(member)
    db.session.flush()
    changes = audit.created(audit.snapshot(member, audit.STAFF_FIELDS))
    audit.record(db.session.connection(), AuditAction.STAFF, changes)
    return member


def end_sessions(member: Staff) -> None:
    """End every session of ``member`` for good: their cookies carry an older epoch from now on
    (``auth``), and no later change (a reactivation, a role given back) makes them valid again.
    """
    member.session_epoch += 1


#: The changes to a member after which their sessions end.
SESSION_ENDING = frozenset({"role", "is_active"})


def update_staff(member: Staff, **values) -> dict[str, list]:
    """Change a member's ``role``, ``is_active`` or display ``timezone``; records what changed,
    under their email.

    A change of role or of active ends the member's sessions: they sign in again as what they
    now are. Their display zone is theirs to change and ends nothing.
    """
    before = audit.snapshot(member, audit.STAFF_FIELDS)
    for name, value in values.items():
        setattr(member, name, value)
    changes = audit.differences(before, audit.snapshot(member, audit.STAFF_FIELDS))
    if changes:
        if changes.keys() & SESSION_ENDING:
            end_sessions(member)
        db.session.flush()
        labelled = {"email": [member.email, member.email], **changes}
        audit.record(db.session.connection(), AuditAction.STAFF, labelled)
    return changes


def _password_event(member: Staff, what: str) -> None:
    """A password event: what happened, never the password or its hash."""
    changes = {"email": [member.email, member.email], "password": [None, what]}
    audit.record(db.session.connection(), AuditAction.PASSWORD, changes)


def change_password(member: Staff, password: str) -> None:
    """The member's own new password (the caller has checked the current one); every session
    of theirs ends (the caller keeps the one it is answering)."""
    member.set_password(password)
    member.must_change_password = False
    end_sessions(member)
    db.session.flush()
    _password_event(member, "changed")


def password_change_refused(member: Staff) -> None:
    """A change refused because the current password given was wrong."""
    _password_event(member, "not changed: the current password was wrong")


def reset_password(member: Staff, password: str, must_change: bool = True) -> None:
    """A password set for the member by someone else (an admin, the command line): their
    sessions end, and with ``must_change`` they choose their own at their next sign-in."""
    member.set_password(password)
    member.must_change_password = must_change
    end_sessions(member)
    db.session.flush()
    _password_event(member, "reset, to be changed at the next sign-in" if must_change else "set")


def issue_token(name: str, role: Role, creator: Staff | None = None) -> tuple[ApiToken, str]:
    """A new token row, and the plain token to show once (only its hash is stored). It records
    who made it: ``creator``, or the command line's user."""
    token, plain = ApiToken.issue(name, role)
    token.created_by = audit.current_actor()
    token.creator_id = creator.id if creator else None
    db.session.add(token)
    db.session.flush()
    changes = audit.created(audit.snapshot(token, audit.TOKEN_FIELDS))
    audit.record(db.session.connection(), AuditAction.TOKEN, changes)
    return token, plain


def live_tokens_made_by(member: Staff) -> list[ApiToken]:
    """The tokens ``member`` made that still work, by name."""
    return db.session.scalars(
        sa.select(ApiToken)
        .where(ApiToken.creator_id == member.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.name)
    ).all()


def revoke_token(token: ApiToken) -> bool:
    """Revoke ``token`` (requests with it get 401 from then on); False when it was already."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    db.session.flush()
    revoked = audit.plain(token.revoked_at)
    changes = {"name": [token.name, token.name], "revoked_at": [None, revoked]}
    audit.record(db.session.connection(), AuditAction.TOKEN, changes)
    return True
