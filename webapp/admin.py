"""Admin pages: staff accounts, API tokens and the audit trail; and the public health check."""

from __future__ import annotations

from datetime import UTC, datetime, time

import sqlalchemy as sa
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from wtforms import DateField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice, enum_choices, enum_coerce
from wtforms.validators import Optional, ValidationError

from .audit import ACTIONS
from .auth import requires
from .enums import Role
from .extensions import db
from .forms import Form, QueryForm, max_length, required, strip
from .models import ApiToken, AuditEvent, Staff, storable, utcnow

bp = Blueprint("admin", __name__, url_prefix="/admin")
health = Blueprint("health", __name__)

AUDIT_PAGE_SIZE = 50


def role_field(label="Role"):
    return SelectField(
        label,
        choices=enum_choices(Role, label=lambda m: m.label),
        coerce=enum_coerce(Role),
        default=Role.VIEWER,
        invalid_value_message="Choose a role: viewer, agent or admin.",
        invalid_choice_message="Choose a role: viewer, agent or admin.",
    )


def check_password_length(form, field):
    if field.data and len(field.data) < Staff.MIN_PASSWORD:
        raise ValidationError(f"The password must be at least {Staff.MIN_PASSWORD} characters.")


class StaffForm(Form):
    email = EmailField("Email", filters=[strip], validators=[required, max_length(254)])
    role = role_field()
    password = PasswordField(
        "Password",
        validators=[required, check_password_length],
        description=f"At least {Staff.MIN_PASSWORD} characters; share it with them privately.",
    )

    def validate_email(self, field):
        if field.data and len(Staff.normalise_email(field.data)) > 254:
            # Lowercasing can lengthen text ("İ" becomes two characters).
            raise ValidationError("The email field must not be greater than 254 characters.")
        if field.data and "@" not in field.data:
            raise ValidationError("The email field must be an email address.")
        if field.data and Staff.by_email(field.data):
            raise ValidationError("A staff account with this email exists already.")


class StaffRoleForm(Form):
    role = role_field()


class TokenForm(Form):
    name = StringField(
        "Name",
        filters=[strip],
        validators=[required, max_length(100)],
        description="Who or what uses it, e.g. nightly-import.",
    )
    role = role_field()

    def validate_name(self, field):
        if field.data and db.session.scalar(sa.select(ApiToken).where(ApiToken.name == field.data)):
            raise ValidationError("A token with this name exists already (names are never reused).")


class AuditFilterForm(QueryForm):
    actor = StringField("Actor", filters=[strip])
    action = SelectField(
        "Action",
        choices=[SelectChoice("", "Any action")] + [SelectChoice(a) for a in ACTIONS],
        default="",
    )
    since = DateField("From", validators=[Optional()])
    until = DateField("To", validators=[Optional()])


@health.get("/healthz")
def healthz():
    """Liveness and database reachability, for load balancers; no credentials needed."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok", "database": "reachable"}


@bp.route("/staff", methods=["GET", "POST"])
@requires(Role.ADMIN)
def staff():
    """List staff and add an account."""
    form = StaffForm()
    if form.validate_on_submit():
        member = Staff(email=Staff.normalise_email(form.email.data), role=form.role.data)
        member.set_password(form.password.data)
        db.session.add(member)
        db.session.commit()
        flash(f"Staff account {member.email} created ({member.role.label}).", "success")
        return redirect(url_for("admin.staff"))
    members = db.session.scalars(sa.select(Staff).order_by(Staff.email)).all()
    status = 422 if form.is_submitted() else 200
    role_forms = {
        m.id: StaffRoleForm(formdata=None, data={"role": m.role}, meta={"csrf": False})
        for m in members
    }
    return render_template(
        "admin/staff.html", form=form, members=members, role_forms=role_forms
    ), status


@bp.post("/staff/<int:staff_id>")
@requires(Role.ADMIN)
def update_staff(staff_id: int):
    """Change a member's role, or deactivate / reactivate them."""
    member = db.get_or_404(Staff, staff_id)
    if member.id == g.staff.id:
        flash("You cannot change your own role or deactivate yourself.", "error")
        return redirect(url_for("admin.staff"))
    if "active" in request.form:
        member.is_active = request.form["active"] == "1"
        state = "reactivated" if member.is_active else "deactivated"
        flash(f"Staff account {member.email} {state}.", "success")
    else:
        form = StaffRoleForm()
        if not form.validate_on_submit():
            flash("Choose a valid role.", "error")
            return redirect(url_for("admin.staff"))
        member.role = form.role.data
        flash(f"{member.email} is now {member.role.label}.", "success")
    db.session.commit()
    return redirect(url_for("admin.staff"))


@bp.route("/tokens", methods=["GET", "POST"])
@requires(Role.ADMIN)
def tokens():
    """List API tokens and create one (shown once)."""
    form = TokenForm()
    created = None
    if form.validate_on_submit():
        token, created = ApiToken.issue(form.name.data, form.role.data)
        db.session.add(token)
        db.session.commit()
        form = TokenForm(formdata=None)
    rows = db.session.scalars(sa.select(ApiToken).order_by(ApiToken.created_at.desc())).all()
    status = 422 if form.errors else 200
    return render_template("admin/tokens.html", form=form, rows=rows, created=created), status


@bp.post("/tokens/<int:token_id>/revoke")
@requires(Role.ADMIN)
def revoke_token(token_id: int):
    """Revoke a token: requests with it get 401 from now on."""
    token = db.get_or_404(ApiToken, token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.commit()
    flash(f"Token {token.name} revoked.", "success")
    return redirect(url_for("admin.tokens"))


@bp.get("/audit")
@requires(Role.ADMIN)
def audit():
    """Every recorded change, newest first, filtered by actor, action and dates."""
    form = AuditFilterForm(request.args)
    query = sa.select(AuditEvent).order_by(AuditEvent.id.desc())
    if form.validate():
        if form.actor.data:
            actor = form.actor.data
            # Text with U+0000 is in no database (and PostgreSQL could not even compare it).
            query = query.where(AuditEvent.actor == actor if storable(actor) else sa.false())
        if form.action.data:
            query = query.where(AuditEvent.action == form.action.data)
        if form.since.data:
            query = query.where(AuditEvent.at >= datetime.combine(form.since.data, time.min, UTC))
        if form.until.data:
            query = query.where(AuditEvent.at <= datetime.combine(form.until.data, time.max, UTC))
    page = db.paginate(query, per_page=AUDIT_PAGE_SIZE, error_out=False)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    status = 200 if not form.errors else 422
    return render_template("admin/audit.html", form=form, page=page, args=args), status
