"""Who may do what: staff sign-in, API tokens, roles, lock-out and security headers.

Every endpoint states the role it needs with ``@requires``; an endpoint that states none is
refused to everyone but admins (deny by default), so a new route cannot be left open by mistake.
"""

from __future__ import annotations

import functools
import math
import secrets
import time
from datetime import timedelta

import sqlalchemy as sa
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy.engine import Row
from werkzeug.security import check_password_hash, generate_password_hash

from . import ratelimit
from .clock import utcnow
from .enums import Role
from .errors import ApiError, wants_json
from .extensions import db
from .forms.auth import SignInForm
from .models import SignInFailure, Staff

bp = Blueprint("auth", __name__)

#: Endpoints anyone may reach: the sign-in page, static files and the health check.
PUBLIC_ENDPOINTS = {"auth.sign_in", "static", "health.healthz"}


@functools.cache
def _dummy_hash() -> str:
    """Checked when the email is unknown, so a wrong email costs as long as a wrong password."""
    return generate_password_hash(secrets.token_hex(16), method="scrypt")


def requires(role: Role):
    """Mark a view with the least role that may use it."""

    def mark(view):
        view.required_role = role
        return view

    return mark


def can(role: Role | str) -> bool:
    """Whether the current user or token has ``role``; templates hide what they cannot use."""
    current = g.get("role")
    return current is not None and current.allows(Role(role))


def _required_role() -> Role:
    view = current_app.view_functions.get(request.endpoint)
    return getattr(view, "required_role", Role.ADMIN)


def _api_identity() -> Row:
    """The bearer token's row, with this request counted against its rate limit; or a 401."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    found = ratelimit.count_hit(token.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        raise ApiError(401)
    g.role, g.actor, g.api_token = found.role, f"token:{found.name}", found
    return found


def _staff_identity() -> Staff | None:
    staff_id = session.get("staff_id")
    if staff_id is None:
        return None
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    seen = session.get("seen", 0)
    staff = db.session.get(Staff, staff_id)
    # A cookie from before the last sign-out (or deactivation) carries an older epoch.
    stale = staff is None or not staff.is_active or session.get("epoch") != staff.session_epoch
    if time.time() - seen > idle or stale:
        session.clear()
        if time.time() - seen > idle:
            flash("You were signed out after a period of inactivity. Please sign in again.", "info")
        return None
    session["seen"] = int(time.time())
    return staff


def check_access():
    """Before every request: establish who is asking and whether their role allows it."""
    g.role = None
    if request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if request.blueprint == "api":
        token = _api_identity()
        if not g.role.allows(_required_role()):
            raise ApiError(403, f"This token's role ({g.role.value}) may not do this.")
        ratelimit.enforce(token)
        return None
    staff = _staff_identity()
    if staff is None:
        target = url_for("auth.sign_in", next=request.full_path.rstrip("?"))
        if request.headers.get("HX-Request"):
            # htmx follows HX-Redirect; a 200 keeps the expected redirect out of the console.
            return "", 200, {"HX-Redirect": target}
        return redirect(target)
    g.staff, g.role, g.actor = staff, staff.role, staff.email
    if not staff.role.allows(_required_role()):
        abort(403)
    return None


def _locked_out(email: str, address: str) -> int:
    """Minutes left of a lock-out for this email or address, or 0 when sign-in may proceed."""
    window = timedelta(minutes=current_app.config["SIGN_IN_WINDOW_MINUTES"])
    since = utcnow() - window
    limit = current_app.config["SIGN_IN_MAX_FAILURES"]
    for column, value in ((SignInFailure.email, email), (SignInFailure.address, address)):
        times = db.session.scalars(
            sa.select(SignInFailure.at)
            .where(column == value, SignInFailure.at > since)
            .order_by(SignInFailure.at.desc())
            .limit(limit)
        ).all()
        if len(times) >= limit:
            # Locked until the oldest of the last `limit` failures leaves the window.
            left = (times[-1] + window - utcnow()).total_seconds()
            return max(1, math.ceil(left / 60))
    return 0


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so the sign-in page cannot be used to redirect elsewhere."""
    # Browsers drop tabs and newlines and read a backslash as "/": "/<tab>/evil" is "//evil".
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and target.isprintable()
    ):
        return target
    return url_for("shares.index")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """The sign-in page; five failures in fifteen minutes lock the account and the address."""
    form = SignInForm()
    if not form.validate_on_submit():
        return render_template("auth/sign_in.html", form=form), 422 if form.is_submitted() else 200
    email = Staff.normalise_email(form.email.data)
    # Failures are counted under what their columns hold: lowercasing can lengthen an email,
    # and a proxy's X-Forwarded-For may send anything.
    failed_as = (email[:254], (request.remote_addr or "unknown")[:64])
    minutes = _locked_out(*failed_as)
    if minutes:
        form.form_errors.append(
            f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        )
        return render_template("auth/sign_in.html", form=form), 429
    staff = Staff.by_email(email)
    valid = check_password_hash(staff.password_hash if staff else _dummy_hash(), form.password.data)
    if not (staff and valid and staff.is_active):
        db.session.add(SignInFailure(email=failed_as[0], address=failed_as[1]))
        db.session.commit()
        form.form_errors.append("The email or password is not right.")
        return render_template("auth/sign_in.html", form=form), 422
    staff.last_sign_in_at = utcnow()
    db.session.commit()
    session.clear()  # a fresh session: no fixation of a cookie set before sign-in
    session.permanent = True
    session["staff_id"] = staff.id
    session["epoch"] = staff.session_epoch
    session["seen"] = int(time.time())
    flash(f"Signed in as {staff.email} ({staff.role.label}).", "success")
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/sign-out")
@requires(Role.VIEWER)
def sign_out():
    """End the session, and every copy of its cookie: the cookie is signed, not stored, so
    sign-out moves the staff member's epoch on and older cookies stop being accepted."""
    g.staff.session_epoch += 1
    db.session.commit()
    session.clear()
    flash("You are signed out.", "success")
    return redirect(url_for("auth.sign_in"))


class SessionInterface(SecureCookieSessionInterface):
    """Staff sessions: the cookie is ``Secure`` whenever the request came over HTTPS.

    API requests carry a bearer token instead, so they neither read nor set the cookie.
    """

    def open_session(self, app: Flask, request):
        if wants_json():
            return self.make_null_session(app)
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'self'; object-src 'none'; "
    "frame-ancestors 'none'"
)


SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
)


def security_headers(response):
    """Only the app's own scripts and styles, no framing, no MIME sniffing (unless a view chose
    its own)."""
    headers = response.headers
    for name, value in SECURITY_HEADERS:
        if name not in headers:
            headers.add(name, value)
    return response


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.permanent_session_lifetime = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    app.before_request(check_access)
    app.after_request(security_headers)
    app.after_request(ratelimit.headers)
    app.jinja_env.globals["can"] = can
    app.register_blueprint(bp)
