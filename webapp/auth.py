"""Who may do what: staff sign-in, API tokens, roles, lock-out and security headers.

Every endpoint states the role it needs with ``@requires``; an endpoint that states none is
refused to everyone but admins (deny by default), so a new route cannot be left open by mistake.
"""

from __future__ import annotations

import functools
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

from . import accounts, lockout, ratelimit, security_log
from .clock import utcnow
from .enums import Role
from .errors import ApiError, wants_json
from .extensions import db
from .forms.auth import PasswordChangeForm, SignInForm
from .forms.fields import is_zone
from .models import Staff

bp = Blueprint("auth", __name__)

#: Endpoints anyone may reach: the sign-in page, static files and the health check; and the
#: metrics, which check for themselves who asks (this machine, or the metrics token).
PUBLIC_ENDPOINTS = {"auth.sign_in", "static", "health.healthz", "metrics.metrics"}


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


#: How often a session in use is marked as seen, in seconds. Marking it writes a new signed
#: cookie; once a minute spares every other request that work and its ``Set-Cookie``, at the
#: cost of an idle session ending up to a minute early.
SEEN_EVERY = 60


#: What every signed-in page reads of the person asking: the columns the checks and the pages
#: use, by one statement built once. Not the ``Staff`` entity: the ORM's identity work and a
#: new statement's cache key cost every page about 90 us more (``signed_in_member`` loads the
#: entity for the few views that change the account).
_WHO = sa.select(
    *(
        Staff.__table__.c[name]
        for name in (
            "id",
            "email",
            "role",
            "is_active",
            "session_epoch",
            "must_change_password",
            "timezone",
        )
    )
).where(Staff.__table__.c.id == sa.bindparam("staff_id"))


def signed_in_member() -> Staff:
    """The signed-in person's own account, to change it (``g.staff`` is what was read)."""
    return db.session.get_one(Staff, g.staff.id)


def _staff_identity() -> Row | None:
    staff_id = session.get("staff_id")
    if staff_id is None:
        return None
    config, now = current_app.config, time.time()
    idle = now - session.get("seen", 0) > config["SESSION_IDLE_MINUTES"] * 60
    # However busy, a session ends this long after its sign-in (a cookie without a start is
    # from before there was a limit).
    hours = config["SESSION_MAX_HOURS"]
    ended = now - session.get("started", 0) > hours * 3600
    staff = db.session.connection().execute(_WHO, {"staff_id": staff_id}).first()
    # A cookie from before the last sign-out, deactivation, role or password change carries an
    # older epoch (accounts.end_sessions).
    stale = staff is None or not staff.is_active or session.get("epoch") != staff.session_epoch
    if idle or ended or stale:
        session.clear()
        if idle:
            flash("You were signed out after a period of inactivity. Please sign in again.", "info")
        elif ended and not stale:
            unit = "hour" if hours == 1 else "hours"
            flash(f"Sessions last {hours} {unit} at most. Please sign in again.", "info")
        return None
    if now - session.get("seen", 0) >= SEEN_EVERY:
        session["seen"] = int(now)
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
        return _go_to(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
    g.staff, g.role, g.actor = staff, staff.role, staff.email
    if staff.must_change_password and request.endpoint not in PASSWORD_FIRST:
        return _go_to(url_for("auth.change_password"))
    if not staff.role.allows(_required_role()):
        abort(403)
    return None


#: What a member whose password an admin reset may reach before choosing their own.
PASSWORD_FIRST = {"auth.change_password", "auth.sign_out"}


def _go_to(target: str):
    """A redirect; for htmx, the header it follows (a 200 keeps the expected redirect out of
    the console)."""
    if request.headers.get("HX-Request"):
        return "", 200, {"HX-Redirect": target}
    return redirect(target)


def _locked_headers(locked: lockout.LockedOut) -> dict[str, str]:
    """When to retry, for a client that reads headers rather than the page."""
    return {"Retry-After": str(locked.seconds)}


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
    """The sign-in page; too many failures lock sign-in from that address (``lockout``)."""
    form = SignInForm()
    if not form.validate_on_submit():
        return render_template("auth/sign_in.html", form=form), 422 if form.is_submitted() else 200
    email = Staff.normalise_email(form.email.data)
    # Failures are counted under what their columns hold: lowercasing can lengthen an email,
    # and a proxy's X-Forwarded-For may send anything.
    try:
        attempt = lockout.begin(email[:254], _client_address())
    except lockout.LockedOut as locked:
        form.form_errors.append(f"Too many failed sign-ins. {locked.retry}")
        return render_template("auth/sign_in.html", form=form), 429, _locked_headers(locked)
    staff = Staff.by_email(email)
    valid = check_password_hash(staff.password_hash if staff else _dummy_hash(), form.password.data)
    if not (staff and valid and staff.is_active):
        security_log.sign_in_failed(attempt.email, attempt.address)
        if attempt.locks_until:
            security_log.locked_out(
                attempt.email, attempt.address, attempt.scope, attempt.locks_until
            )
        db.session.commit()
        form.form_errors.append("The email or password is not right.")
        return render_template("auth/sign_in.html", form=form), 422
    lockout.succeeded(attempt)
    security_log.signed_in(staff, attempt.address)
    staff.last_sign_in_at = utcnow()
    if staff.timezone is None and is_zone(form.zone.data):
        # The browser's zone, sent with the sign-in: the first page already shows it.
        g.actor = staff.email  # their own setting, as when a page detects it
        accounts.update_staff(staff, timezone=form.zone.data)
    db.session.commit()
    session.clear()  # a fresh session: no fixation of a cookie set before sign-in
    session.permanent = True
    session["staff_id"] = staff.id
    session["epoch"] = staff.session_epoch
    session["seen"] = session["started"] = int(time.time())
    flash(f"Signed in as {staff.email} ({staff.role.label}).", "success")
    return redirect(_safe_next(request.args.get("next")))


def _client_address() -> str:
    """The address lock-outs count under, as its column holds it (a proxy's X-Forwarded-For
    may send anything)."""
    return (request.remote_addr or "unknown")[:64]


@bp.route("/account/password", methods=["GET", "POST"])
@requires(Role.VIEWER)
def change_password():
    """Change one's own password. The current one is checked as at sign-in, lock-out included;
    every other session of theirs ends, this one goes on."""
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("auth/password.html", form=form), status
    member = signed_in_member()
    try:
        attempt = lockout.begin(member.email, _client_address())
    except lockout.LockedOut as locked:
        form.current_password.errors.append(f"Too many wrong passwords. {locked.retry}")
        return render_template("auth/password.html", form=form), 429, _locked_headers(locked)
    if not member.check_password(form.current_password.data):
        accounts.password_change_refused(member)
        if attempt.locks_until:
            security_log.locked_out(
                member.email, attempt.address, attempt.scope, attempt.locks_until
            )
        db.session.commit()
        form.current_password.errors.append("The current password is not right.")
        return render_template("auth/password.html", form=form), 422
    lockout.succeeded(attempt)
    accounts.change_password(member, form.new_password.data)
    db.session.commit()
    session["epoch"] = member.session_epoch
    flash("Your password is changed. Any other session of yours has ended.", "success")
    return redirect(url_for("shares.list_shares"))


@bp.post("/sign-out")
@requires(Role.VIEWER)
def sign_out():
    """End the session, and every copy of its cookie: the cookie is signed, not stored, so
    sign-out moves the staff member's epoch on and older cookies stop being accepted."""
    accounts.end_sessions(signed_in_member())
    security_log.signed_out()
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


#: Browser features no page of the desk uses, refused to it and to anything it could embed
#: (only names Chromium knows: an unknown one is a console error on every page).
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)

SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", PERMISSIONS_POLICY),
)
#: Browsers that saw the desk over HTTPS keep to HTTPS for a year.
HSTS = "max-age=31536000"


def security_headers(response):
    """Only the app's own scripts and styles, no framing, no MIME sniffing, no unused browser
    features; no copy in any cache of anything but static files (share codes, a token shown
    once, the CSV of every share); HTTPS only, once seen over HTTPS. A view may choose its own.
    """
    headers = response.headers
    for name, value in SECURITY_HEADERS:
        if name not in headers:
            headers.add(name, value)
    if request.endpoint != "static" and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    # is_secure: HTTPS here, or an X-Forwarded-Proto from a trusted proxy (TRUSTED_PROXIES).
    if request.is_secure and "Strict-Transport-Security" not in headers:
        headers["Strict-Transport-Security"] = HSTS
    return response


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.permanent_session_lifetime = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    app.before_request(check_access)
    app.after_request(security_headers)
    app.after_request(ratelimit.headers)
    app.jinja_env.globals["can"] = can
    app.register_blueprint(bp)
