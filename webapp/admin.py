"""Admin pages: staff accounts, API tokens and the audit trail; and the public health check."""

from __future__ import annotations

from datetime import UTC, datetime, time

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy.exc import IntegrityError

from . import accounts, once
from .auth import requires
from .db.types import storable
from .enums import AuditAction, AuditKind, Role
from .errors import database_unavailable
from .extensions import db
from .forms.admin import PasswordResetForm, StaffForm, StaffRoleForm, TokenForm
from .forms.filters import AuditFilterForm
from .listing import existing_share_ids
from .models import ApiToken, AuditEvent, Staff

bp = Blueprint("admin", __name__, url_prefix="/admin")
health = Blueprint("health", __name__)

AUDIT_PAGE_SIZE = 50


@health.get("/healthz")
def healthz():
    """Liveness and database reachability, for load balancers; no credentials needed.

    The query names a table (and reads no row), so a database without the app's tables (never
    initialised, or its file replaced under the server) is not reported healthy while every
    other request fails.
    """
    try:
        db.session.execute(sa.select(sa.literal(1)).select_from(Staff).where(sa.false()))
    except (sa.exc.OperationalError, sa.exc.ProgrammingError) as error:
        if isinstance(error, sa.exc.OperationalError) and database_unavailable(error):
            return {"status": "error", "database": "unreachable"}, 503
        current_app.logger.error("Health check: the database has no tables? %s", error.orig)
        return {"status": "error", "database": "not initialised: run init-db"}, 503
    except sa.exc.SQLAlchemyError:
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok", "database": "reachable"}


@bp.route("/staff", methods=["GET", "POST"])
@requires(Role.ADMIN)
def staff():
    """List staff and add an account (once, however often the form is sent)."""
    if request.method == "POST" and (answer := once.replay()) is not None:
        return answer
    form = StaffForm()
    if form.validate_on_submit():
        email = Staff.normalise_email(form.email.data)
        member = accounts.create_staff(email, form.role.data, form.password.data)
        message = f"Staff account {member.email} created ({member.role.label})."
        return once.done(url_for("admin.staff"), message)
    members = db.session.scalars(sa.select(Staff).order_by(Staff.email)).all()
    status = 422 if form.is_submitted() else 200
    role_forms = {
        m.id: StaffRoleForm(formdata=None, data={"role": m.role}, meta={"csrf": False})
        for m in members
    }
    return render_template(
        "admin/staff.html",
        form=form,
        members=members,
        role_forms=role_forms,
        min_password=Staff.MIN_PASSWORD,
    ), status


@bp.get("/staff/<int:staff_id>/deactivate")
@requires(Role.ADMIN)
def deactivate_staff(staff_id: int):
    """Ask before deactivating a member, as before revoking a token: it signs them out at once,
    and revoking the tokens they made with it cannot be undone. The answer posts to
    ``update_staff``."""
    member = db.get_or_404(Staff, staff_id)
    if member.id == g.staff.id:
        flash("You cannot change your own role or deactivate yourself.", "error")
        return redirect(url_for("admin.staff"))
    if not member.is_active:
        flash(f"Staff account {member.email} is deactivated already.", "info")
        return redirect(url_for("admin.staff"))
    return render_template(
        "admin/deactivate.html", member=member, tokens=accounts.live_tokens_made_by(member)
    )


@bp.post("/staff/<int:staff_id>")
@requires(Role.ADMIN)
def update_staff(staff_id: int):
    """Change a member's role, or deactivate / reactivate them."""
    member = db.get_or_404(Staff, staff_id)
    if member.id == g.staff.id:
        flash("You cannot change your own role or deactivate yourself.", "error")
        return redirect(url_for("admin.staff"))
    if "active" in request.form:
        _set_active(member, request.form["active"] == "1")
    else:
        form = StaffRoleForm()
        if not form.validate_on_submit():
            flash("Choose a valid role.", "error")
            return redirect(url_for("admin.staff"))
        if accounts.update_staff(member, role=form.role.data):
            flash(f"{member.email} is now {member.role.label}; they sign in again.", "success")
        else:
            flash(f"{member.email} is {member.role.label} already.", "info")
    db.session.commit()
    return redirect(url_for("admin.staff"))


def _set_active(member: Staff, active: bool) -> None:
    """Reactivate, or deactivate and (when the form asks) revoke the tokens the member made."""
    if not accounts.update_staff(member, is_active=active):
        state = "active" if active else "deactivated"
        flash(f"Staff account {member.email} is {state} already.", "info")
        return
    if active:
        flash(f"Staff account {member.email} reactivated; they sign in again.", "success")
        return
    message = f"Staff account {member.email} deactivated; their sessions have ended."
    tokens = accounts.live_tokens_made_by(member)
    names = ", ".join(token.name for token in tokens)
    if tokens and request.form.get("revoke_tokens") == "1":
        for token in tokens:
            accounts.revoke_token(token)
        message += f" The API tokens they made are revoked: {names}."
    elif tokens:
        message += f" The API tokens they made still work: {names}."
    flash(message, "success")


@bp.post("/staff/<int:staff_id>/password")
@requires(Role.ADMIN)
def reset_password(staff_id: int):
    """Give a member a temporary password: their sessions end, and they choose their own at
    their next sign-in."""
    member = db.get_or_404(Staff, staff_id)
    if member.id == g.staff.id:
        flash("Change your own password on the Password page.", "error")
        return redirect(url_for("admin.staff"))
    form = PasswordResetForm()
    if not form.validate_on_submit():
        flash(" ".join(form.password.errors) or "Give a temporary password.", "error")
        return redirect(url_for("admin.staff"))
    accounts.reset_password(member, form.password.data)
    db.session.commit()
    flash(
        f"{member.email} has the temporary password now: give it to them privately. Their "
        "sessions have ended, and they choose their own password when they next sign in.",
        "success",
    )
    return redirect(url_for("admin.staff"))


@bp.route("/tokens", methods=["GET", "POST"])
@requires(Role.ADMIN)
def tokens():
    """List API tokens and create one (shown once; made once, however often the form is sent)."""
    if request.method == "POST" and (answer := once.replay()) is not None:
        return answer
    form = TokenForm()
    created = None
    if form.validate_on_submit():
        token, created = accounts.issue_token(form.name.data, form.role.data, g.staff)
        once.remember(
            url_for("admin.tokens"),
            f"Token {token.name} was created by the first of two sends of its form, and its value "
            "was shown only in answer to that one. If you did not copy it, revoke the token and "
            "create another.",
        )
        try:
            db.session.commit()
        except IntegrityError as error:
            return once.after_conflict(error)
        form = TokenForm(formdata=None)
    rows = db.session.scalars(sa.select(ApiToken).order_by(ApiToken.created_at.desc())).all()
    made_by = {row.creator_id for row in rows} - {None}
    inactive = set(
        db.session.scalars(
            sa.select(Staff.id).where(Staff.id.in_(made_by), Staff.is_active.is_(False))
        )
    )
    status = 422 if form.errors else 200
    return render_template(
        "admin/tokens.html", form=form, rows=rows, created=created, inactive=inactive
    ), status


@bp.route("/tokens/<int:token_id>/revoke", methods=["GET", "POST"])
@requires(Role.ADMIN)
def revoke_token(token_id: int):
    """Revoke a token, asked first (it cannot be undone): requests with it get 401 from now
    on."""
    token = db.get_or_404(ApiToken, token_id)
    if request.method == "GET":
        if token.revoked_at is not None:
            flash(f"Token {token.name} is revoked already.", "info")
            return redirect(url_for("admin.tokens"))
        return render_template("admin/revoke.html", token=token)
    if accounts.revoke_token(token):
        db.session.commit()
    flash(f"Token {token.name} revoked.", "success")
    return redirect(url_for("admin.tokens"))


@bp.get("/audit")
@requires(Role.ADMIN)
def audit():
    """Every recorded event, newest first, filtered by actor, kind, action and dates."""
    form = AuditFilterForm(request.args)
    query = sa.select(AuditEvent).order_by(AuditEvent.id.desc())
    valid = form.validate()
    if valid:
        if form.actor.data:
            actor = form.actor.data
            # Text with U+0000 is in no database (and PostgreSQL could not even compare it).
            query = query.where(AuditEvent.actor == actor if storable(actor) else sa.false())
        if form.kind.data:
            kind = AuditKind(form.kind.data)
            actions = [action.value for action in AuditAction if action.kind is kind]
            query = query.where(AuditEvent.action.in_(actions))
        if form.action.data:
            query = query.where(AuditEvent.action == form.action.data)
        if form.since.data:
            query = query.where(AuditEvent.at >= datetime.combine(form.since.data, time.min, UTC))
        if form.until.data:
            query = query.where(AuditEvent.at <= datetime.combine(form.until.data, time.max, UTC))
    number = (form.page.data or 1) if valid else 1
    page = db.paginate(query, page=number, per_page=AUDIT_PAGE_SIZE, error_out=False)
    status = 200 if valid else 422
    linked = existing_share_ids(event.share_id for event in page.items if event.share_id)
    return render_template(
        "admin/audit.html", form=form, page=page, args=form.active_args(), linked=linked
    ), status
