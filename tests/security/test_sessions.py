"""Sign-in, sessions, lock-out, CSRF, security headers and the staff command line."""

from __future__ import annotations

import getpass
import re
import time
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from werkzeug.security import check_password_hash

from tests import factories
from tests.conftest import make_app
from tests.contract import bearer
from tests.factories import STAFF_PASSWORD
from tests.pages import csrf_in, csrf_token, form_post
from tests.security.helpers import (
    SECURED,
    events_after,
    failures,
    fingerprint,
    last_event_id,
    sign_in,
    staff_row,
)
from webapp.enums import Role
from webapp.extensions import db
from webapp.models import ShareClaim, SignInFailure, Staff

NOT_RIGHT = "The email or password is not right."
INACTIVE = "You were signed out after a period of inactivity. Please sign in again."
EMAIL = "ann@example.com"
#: Routes served by GET that are not HTML pages: files, the health check, Prometheus' metrics.
NOT_PAGES = ("static", "health.healthz", "metrics.metrics")


def session_of(client) -> dict:
    with client.session_transaction() as session:
        return dict(session)


def location(response) -> str:
    target = urlsplit(response.headers["Location"])
    return target.path + (f"?{target.query}" if target.query else "")


def sign_in_target(response) -> str:
    """The page a redirect to the sign-in page will return to."""
    target = urlsplit(response.headers["Location"])
    assert target.path == "/sign-in"
    return parse_qs(target.query)["next"][0]


def error_text(response) -> str:
    match = re.search(r'id="sign-in-error">([^<]*)<', response.get_data(as_text=True))
    assert match, "no sign-in error shown"
    return match[1]


# --- sign-in -------------------------------------------------------------------------------


def test_right_password_signs_in_and_starts_a_session(app, anon_client):
    staff_id = factories.staff(app, EMAIL, "agent")
    response = sign_in(anon_client, "  Ann@Example.COM ", STAFF_PASSWORD)
    assert response.status_code == 302
    assert location(response) == "/"  # the home page
    session = session_of(anon_client)
    assert session["staff_id"] == staff_id
    assert abs(session["seen"] - time.time()) < 5
    assert staff_row(app, EMAIL).last_sign_in_at is not None
    assert failures(app) == []
    page = anon_client.get("/shares")
    assert page.status_code == 200
    assert "Signed in as ann@example.com (Agent)." in page.get_data(as_text=True)


def test_sign_in_replaces_the_session_it_came_with(app, anon_client):
    """No session fixation: values set before sign-in do not survive it."""
    factories.staff(app, EMAIL, "viewer")
    with anon_client.session_transaction() as session:
        session["planted"] = "by an attacker"
    assert sign_in(anon_client, EMAIL, STAFF_PASSWORD).status_code == 302
    assert "planted" not in session_of(anon_client)


@pytest.mark.parametrize(
    ("email", "password"),
    [(EMAIL, "wrong password"), ("nobody@example.com", STAFF_PASSWORD), (EMAIL, "")],
    ids=["wrong-password", "unknown-email", "empty-password"],
)
def test_a_failed_sign_in_says_the_same_thing_and_is_recorded(app, anon_client, email, password):
    factories.staff(app, EMAIL, "admin")
    response = sign_in(anon_client, email, password)
    assert response.status_code == 422
    assert "staff_id" not in session_of(anon_client)
    if password:
        assert error_text(response) == NOT_RIGHT
        assert failures(app) == [(email, "127.0.0.1")]
    else:
        # A blank field is a form error, not a guess: nothing to count.
        assert "The password field is required." in response.get_data(as_text=True)
        assert failures(app) == []
    assert staff_row(app, EMAIL).last_sign_in_at is None


def test_deactivated_staff_cannot_sign_in(app, anon_client):
    factories.staff(app, EMAIL, "admin")
    with app.app_context():
        Staff.by_email(EMAIL).is_active = False
        db.session.commit()
    response = sign_in(anon_client, EMAIL, STAFF_PASSWORD)
    assert response.status_code == 422
    assert error_text(response) == NOT_RIGHT
    assert "staff_id" not in session_of(anon_client)
    assert failures(app) == [(EMAIL, "127.0.0.1")]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/shares/7?filter%5Bsearch%5D=a", "/shares/7?filter%5Bsearch%5D=a"),
        ("/admin/audit", "/admin/audit"),
        ("//evil.example", "/"),
        ("//evil.example/shares", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("evil.example", "/"),
        ("/\t/evil.example", "/"),  # browsers drop the tab: //evil.example
        ("/\\evil.example", "/"),  # browsers read \ as /: //evil.example
        ("/\r\n/evil.example", "/"),  # must not become a header injection or a 500
        ("", "/"),
    ],
)
def test_next_is_honoured_only_for_same_site_paths(app, anon_client, target, expected):
    factories.staff(app, EMAIL, "admin")
    response = sign_in(anon_client, EMAIL, STAFF_PASSWORD, query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == expected
    assert session_of(anon_client)["staff_id"]


def test_the_sign_in_redirect_keeps_the_page_asked_for(app, anon_client):
    factories.staff(app, EMAIL, "admin")
    response = anon_client.get("/admin/audit?action=edit")
    assert sign_in_target(response) == "/admin/audit?action=edit"
    # The form posts back to the same URL, next included.
    page = anon_client.get(location(response)).get_data(as_text=True)
    assert '<form method="post"' in page
    response = sign_in(
        anon_client, EMAIL, STAFF_PASSWORD, query_string={"next": "/admin/audit?action=edit"}
    )
    assert location(response) == "/admin/audit?action=edit"


def set_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    return cookies[0]


def test_the_session_cookie_is_httponly_and_samesite_lax(app, anon_client):
    factories.staff(app, EMAIL, "admin")
    cookie = set_cookie(sign_in(anon_client, EMAIL, STAFF_PASSWORD))
    attributes = [part.strip() for part in cookie.split(";")]
    assert "HttpOnly" in attributes
    assert "SameSite=Lax" in attributes
    assert "Secure" not in attributes  # plain HTTP in development
    # It lives no longer than the idle limit.
    assert any(part.startswith("Expires=") for part in attributes)


def test_the_session_cookie_is_secure_over_https(app, anon_client):
    factories.staff(app, EMAIL, "admin")
    page = anon_client.get("/sign-in", base_url="https://localhost").get_data(as_text=True)
    response = anon_client.post(
        "/sign-in",
        data={"csrf_token": csrf_in(page), "email": EMAIL, "password": STAFF_PASSWORD},
        base_url="https://localhost",
        # Over HTTPS, Flask-WTF also insists on a same-origin Referer.
        headers={"Referer": "https://localhost/sign-in"},
    )
    assert response.status_code == 302
    attributes = [part.strip() for part in set_cookie(response).split(";")]
    assert {"Secure", "HttpOnly", "SameSite=Lax"} <= set(attributes)


def test_an_idle_session_expires_with_a_message(app, client_as):
    client = client_as("admin")
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    with client.session_transaction() as session:
        session["seen"] = int(time.time()) - idle - 60
    response = client.get("/shares")
    assert response.status_code == 302
    assert sign_in_target(response) == "/shares"
    assert "staff_id" not in session_of(client)
    page = client.get(location(response))
    assert INACTIVE in page.get_data(as_text=True)
    # Still signed out afterwards.
    assert client.get("/shares").status_code == 302


def test_an_active_session_is_kept_alive(app, client_as):
    client = client_as("viewer")
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    with client.session_transaction() as session:
        session["seen"] = int(time.time()) - idle + 120
    assert client.get("/shares").status_code == 200
    assert abs(session_of(client)["seen"] - time.time()) < 5


def test_a_session_is_marked_seen_at_most_once_a_minute(app, client_as):
    """Marking it seen writes a new cookie: a request within the minute sends none."""
    client = client_as("viewer")
    client.get("/shares")  # the session's CSRF token, which a first page stores in it
    recent = int(time.time()) - 30
    with client.session_transaction() as session:
        session["seen"] = recent
    response = client.get("/shares")
    assert response.status_code == 200
    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert session_of(client)["seen"] == recent
    with client.session_transaction() as session:
        session["seen"] = int(time.time()) - 61
    response = client.get("/shares")
    assert set_cookie(response)
    assert abs(session_of(client)["seen"] - time.time()) < 5


def test_sign_out_clears_the_session(app, client_as):
    client = client_as("viewer")
    response = form_post(client, "/sign-out")
    assert response.status_code == 302
    assert location(response) == "/sign-in"
    assert "staff_id" not in session_of(client)
    assert "You are signed out." in client.get("/sign-in").get_data(as_text=True)
    response = client.get("/shares")
    assert response.status_code == 302
    assert sign_in_target(response) == "/shares"


def test_a_copied_cookie_stops_working_after_sign_out(app, client_as):
    """The cookie is signed, not stored: sign-out moves the epoch so old copies are refused."""
    client = client_as("agent")
    copy = app.test_client()
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    copy.set_cookie(cookie.key, cookie.value)
    assert copy.get("/shares").status_code == 200

    form_post(client, "/sign-out")
    response = copy.get("/shares")
    assert response.status_code == 302
    assert sign_in_target(response) == "/shares"


def member_id_of(client) -> int:
    return session_of(client)["staff_id"]


def test_a_deactivated_member_stays_signed_out_when_reactivated(app, client, client_as):
    """Deactivation ends their sessions for good: a reactivation revives none of them."""
    member = client_as("agent")
    member_id = member_id_of(member)
    assert member.get("/shares").status_code == 200
    response = form_post(client, f"/admin/staff/{member_id}", active="0")
    assert response.status_code == 302
    page = client.get("/admin/staff").get_data(as_text=True)
    assert "deactivated; their sessions have ended." in page
    assert form_post(client, f"/admin/staff/{member_id}", active="1").status_code == 302
    response = member.get("/shares")
    assert response.status_code == 302
    assert sign_in_target(response) == "/shares"
    # Signing in again works, as it should for an active account.
    email = staff_row_by_id(app, member_id).email
    assert sign_in(app.test_client(), email, STAFF_PASSWORD).status_code == 302


def staff_row_by_id(app, member_id: int) -> Staff:
    with app.app_context():
        member = db.session.get(Staff, member_id)
        db.session.expunge(member)
        return member


@pytest.mark.parametrize(("before", "after"), [("agent", "viewer"), ("viewer", "admin")])
def test_a_role_change_ends_the_members_sessions(app, client, client_as, before, after):
    """Down or up: they sign in again, as what they now are."""
    member = client_as(before)
    member_id = member_id_of(member)
    copy = app.test_client()
    cookie = member.get_cookie(app.config["SESSION_COOKIE_NAME"])
    copy.set_cookie(cookie.key, cookie.value)
    assert form_post(client, f"/admin/staff/{member_id}", role=after).status_code == 302
    assert "sign in again" in client.get("/admin/staff").get_data(as_text=True)
    for browser in (member, copy):
        response = browser.get("/shares")
        assert response.status_code == 302
        assert sign_in_target(response) == "/shares"
    assert staff_row_by_id(app, member_id).role.value == after
    # Setting the same role again changes nothing and ends nothing.
    fresh = app.test_client()
    assert sign_in(fresh, staff_row_by_id(app, member_id).email, STAFF_PASSWORD).status_code == 302
    assert form_post(client, f"/admin/staff/{member_id}", role=after).status_code == 302
    assert f"is {after.capitalize()} already." in client.get("/admin/staff").get_data(as_text=True)
    assert fresh.get("/shares").status_code == 200


def test_a_session_in_constant_use_ends_after_twelve_hours(app, client_as):
    client = client_as("viewer")
    with client.session_transaction() as session:
        session["started"] = int(time.time()) - 12 * 3600 + 120
    assert client.get("/shares").status_code == 200  # kept alive: seen just now
    with client.session_transaction() as session:
        session["started"] = int(time.time()) - 12 * 3600 - 60
    response = client.get("/shares")
    assert response.status_code == 302
    assert sign_in_target(response) == "/shares"
    assert "staff_id" not in session_of(client)
    page = client.get(location(response)).get_data(as_text=True)
    assert "Sessions last 12 hours at most. Please sign in again." in page


def test_the_session_lifetime_comes_from_the_config_and_starts_at_sign_in(app_with):
    app = app_with(SESSION_MAX_HOURS=1)
    factories.staff(app, EMAIL, "viewer")
    client = app.test_client()
    assert sign_in(client, EMAIL, STAFF_PASSWORD).status_code == 302
    assert abs(session_of(client)["started"] - time.time()) < 5
    with client.session_transaction() as session:
        session["started"] -= 3600 + 60
    response = client.get("/shares")
    assert response.status_code == 302
    page = client.get(location(response)).get_data(as_text=True)
    assert "Sessions last 1 hour at most. Please sign in again." in page


def test_lock_out_counts_the_forwarded_address_only_behind_trusted_proxies(tmp_path):
    """With TRUSTED_PROXIES set, the client address comes from X-Forwarded-For."""
    app = make_app(tmp_path, TRUSTED_PROXIES=1)
    factories.staff(app, "proxied@example.com", "viewer")
    client = app.test_client()
    for _ in range(5):
        sign_in(client, "nobody@example.com", "wrong", headers={"X-Forwarded-For": "203.0.113.9"})
    with app.app_context():
        addresses = set(db.session.scalars(sa.select(SignInFailure.address)))
    assert addresses == {"203.0.113.9"}
    # Another client behind the same proxy is not locked out.
    response = sign_in(
        client, "proxied@example.com", STAFF_PASSWORD, headers={"X-Forwarded-For": "198.51.100.7"}
    )
    assert response.status_code == 302


def test_sign_out_by_get_is_not_allowed(client):
    """Signing out changes state, so a link or an image cannot do it."""
    assert client.get("/sign-out").status_code == 405
    assert client.get("/shares").status_code == 200


# --- lock-out ------------------------------------------------------------------------------


def locked_message(minutes: int) -> str:
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed sign-ins. Try again in {minutes} {unit}."


def test_five_failures_for_one_email_from_one_address_lock_it_even_with_the_right_password(
    app, anon_client
):
    factories.staff(app, EMAIL, "admin")
    for n in range(5):
        response = sign_in(anon_client, EMAIL, f"guess {n}", address="10.0.0.1")
        assert response.status_code == 422
        assert error_text(response) == NOT_RIGHT
    response = sign_in(anon_client, EMAIL, STAFF_PASSWORD, address="10.0.0.1")
    assert response.status_code == 429
    assert error_text(response) == locked_message(15)
    assert 14 * 60 < int(response.headers["Retry-After"]) <= 15 * 60
    assert "staff_id" not in session_of(anon_client)
    assert staff_row(app, EMAIL).last_sign_in_at is None
    assert len(failures(app)) == 5
    # Other accounts are not affected.
    factories.staff(app, "bob@example.com", "viewer")
    bob = sign_in(app.test_client(), "bob@example.com", STAFF_PASSWORD, address="10.0.0.1")
    assert bob.status_code == 302


def test_a_stranger_cannot_keep_an_admin_out(app, anon_client):
    """Failures for an admin's email from elsewhere (one address or many) lock only those
    addresses: the admin still signs in from their own."""
    factories.staff(app, EMAIL, "admin")
    for n in range(5):
        sign_in(anon_client, EMAIL, f"guess {n}", address="203.0.113.66")
    for n in range(10):
        sign_in(anon_client, EMAIL, f"guess {n}", address=f"198.51.100.{n}")
    assert sign_in(anon_client, EMAIL, STAFF_PASSWORD, address="203.0.113.66").status_code == 429
    admin = app.test_client()
    assert sign_in(admin, EMAIL, STAFF_PASSWORD, address="192.0.2.1").status_code == 302
    assert session_of(admin)["staff_id"]


def test_four_failures_do_not_lock(app, anon_client):
    factories.staff(app, EMAIL, "admin")
    for n in range(4):
        assert sign_in(anon_client, EMAIL, f"guess {n}").status_code == 422
    assert sign_in(anon_client, EMAIL, STAFF_PASSWORD).status_code == 302


def test_twenty_failures_from_one_address_lock_that_address(app, anon_client):
    """Whatever emails they name: the address-wide limit, larger than the per-email one."""
    factories.staff(app, EMAIL, "admin")
    assert app.config["SIGN_IN_MAX_ADDRESS_FAILURES"] == 20
    for n in range(20):
        response = sign_in(anon_client, f"guess{n}@example.com", "guess", address="10.0.0.7")
        assert response.status_code == 422
    assert failures(app) == [(f"guess{n}@example.com", "10.0.0.7") for n in range(20)]
    response = sign_in(anon_client, EMAIL, STAFF_PASSWORD, address="10.0.0.7")
    assert response.status_code == 429
    assert error_text(response) == locked_message(15)
    assert "staff_id" not in session_of(anon_client)
    # The account itself is not locked: from another address it signs in.
    other = app.test_client()
    assert sign_in(other, EMAIL, STAFF_PASSWORD, address="10.0.0.8").status_code == 302


def age_failures(app, minutes: int) -> None:
    """Move every recorded failure ``minutes`` into the past."""
    with app.app_context():
        for row in db.session.scalars(sa.select(SignInFailure)):
            row.at -= timedelta(minutes=minutes)
        db.session.commit()


def test_the_lock_counts_down_and_lifts_after_the_window(app, anon_client):
    factories.staff(app, EMAIL, "admin")
    for n in range(5):
        sign_in(anon_client, EMAIL, f"guess {n}")
    age_failures(app, 14)
    response = sign_in(anon_client, EMAIL, STAFF_PASSWORD)
    assert response.status_code == 429
    assert error_text(response) == locked_message(1)
    age_failures(app, 2)  # now 16 minutes old: outside the 15-minute window
    response = sign_in(anon_client, EMAIL, STAFF_PASSWORD)
    assert response.status_code == 302
    assert session_of(anon_client)["staff_id"]


def test_lock_out_limits_come_from_the_config(tmp_path):
    app = make_app(tmp_path, SIGN_IN_MAX_FAILURES=2, SIGN_IN_WINDOW_MINUTES=3)
    factories.staff(app, EMAIL, "admin")
    client = app.test_client()
    for n in range(2):
        sign_in(client, EMAIL, f"guess {n}")
    response = sign_in(client, EMAIL, STAFF_PASSWORD)
    assert response.status_code == 429
    assert error_text(response) == locked_message(3)


# --- CSRF ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/shares/new", {"profile_id": "p", "source_type": "reward", "source_id": "1"}),
        ("/shares/{share_id}/claim", {"profile_id": "claimer", "code": "SECRET-1"}),
        ("/shares/{share_id}/delete", {}),
        ("/shares/{share_id}/edit", {"code": "CHANGED"}),
        ("/sign-in", {"email": "admin-csrf@example.com", "password": STAFF_PASSWORD}),
        ("/sign-out", {}),
        ("/admin/tokens", {"name": "sneaky", "role": "admin"}),
        ("/admin/staff", {"email": "x@example.com", "role": "admin", "password": "x" * 20}),
    ],
)
@pytest.mark.parametrize("token", ["missing", "forged"])
def test_a_post_without_a_valid_csrf_token_is_refused(app, client, path, data, token):
    share_id = factories.share(app, **SECURED)
    factories.staff(app, "admin-csrf@example.com", "admin")
    csrf_token(client)  # the session holds a real token; the post does not send it
    if token == "forged":
        data = {**data, "csrf_token": "forged-token"}
    before = fingerprint(app)
    session_before = session_of(client)
    response = client.post(path.format(share_id=share_id), data=data)
    assert response.status_code == 400
    message = "The CSRF token is missing." if token == "missing" else "The CSRF token is invalid."
    assert message in response.get_data(as_text=True)
    assert fingerprint(app) == before
    assert session_of(client)["staff_id"] == session_before["staff_id"]


def test_a_csrf_token_from_another_session_is_refused(app, client, client_as):
    other = client_as("admin")
    csrf_token(client)
    response = client.post(
        "/admin/tokens", data={"csrf_token": csrf_token(other), "name": "x", "role": "admin"}
    )
    assert response.status_code == 400
    assert "The CSRF tokens do not match." in response.get_data(as_text=True)


def test_htmx_sends_the_csrf_token_in_a_header(app, client_as):
    """hx-headers carries X-CSRFToken, so htmx posts pass and stray posts do not."""
    client = client_as("agent")
    page = client.get("/shares/new").get_data(as_text=True)
    token = csrf_in(page, hx_headers=True)
    headers = {"HX-Request": "true"}
    data = {"period": "3", "period_type": "days"}
    assert client.post("/shares/preview", data=data, headers=headers).status_code == 400
    headers["X-CSRFToken"] = token
    assert client.post("/shares/preview", data=data, headers=headers).status_code == 200


def test_a_claim_with_the_csrf_token_works(app, client_as):
    """The control for the CSRF refusals: the same post with the token succeeds."""
    share_id = factories.share(app, **SECURED)
    client = client_as("agent")
    response = form_post(client, f"/shares/{share_id}/claim", profile_id="claimer", code="SECRET-1")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ShareClaim.id))) == 1


# --- security headers and inline scripts ---------------------------------------------------


def assert_security_headers(response) -> None:
    csp = response.headers["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives["script-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    policy = dict(
        part.strip().split("=", 1) for part in response.headers["Permissions-Policy"].split(",")
    )
    assert {"camera", "microphone", "geolocation", "payment", "usb"} <= set(policy)
    assert set(policy.values()) == {"()"}


@pytest.mark.parametrize(
    ("who", "method", "path", "status"),
    [
        ("admin", "GET", "/shares", 200),
        ("anonymous", "GET", "/sign-in", 200),
        ("anonymous", "GET", "/shares", 302),
        ("viewer", "GET", "/admin/audit", 403),
        ("admin", "GET", "/no-such-page", 404),
        ("anonymous", "GET", "/static/js/app.js", 200),
        ("anonymous", "GET", "/healthz", 200),
        ("token", "GET", "/api/v3/shares", 200),
        ("token", "GET", "/api/v3/shares/999", 404),
        ("anonymous", "GET", "/api/v3/shares", 401),
        ("token", "POST", "/api/v3/shares", 422),
    ],
)
def test_security_headers_on_every_kind_of_response(
    app, anon_client, client_as, token, who, method, path, status
):
    headers = {}
    if who == "token":
        client, headers = anon_client, bearer(token)
    elif who == "anonymous":
        client = anon_client
    else:
        client = client_as(who)
    json = {} if method == "POST" else None
    response = client.open(path, method=method, headers=headers, json=json)
    assert response.status_code == status
    assert_security_headers(response)
    # No cache keeps a copy of anything but the static files.
    if path.startswith("/static/"):
        assert "no-store" not in response.headers.get("Cache-Control", "")
    else:
        assert response.headers["Cache-Control"] == "no-store"
    # Plain HTTP here: no HSTS (a browser would ignore it, and it would break a dev server).
    assert "Strict-Transport-Security" not in response.headers


def test_the_pages_that_hold_secrets_are_never_cached(app, client, token):
    """A token shown once, the CSV of every share and code, a share's page, the API."""
    share_id = factories.share(app, **SECURED)
    made = form_post(client, "/admin/tokens", name="t", role="agent")
    assert 'id="new-token"' in made.get_data(as_text=True)
    responses = {
        "new token": made,
        "csv": client.get("/shares/export.csv"),
        "share page": client.get(f"/shares/{share_id}"),
        "api share": client.get(f"/api/v3/shares/{share_id}", headers=bearer(token)),
        "results fragment": client.get("/shares/results", headers={"HX-Request": "true"}),
    }
    for name, response in responses.items():
        assert response.status_code == 200, name
        assert response.headers["Cache-Control"] == "no-store", name


@pytest.mark.parametrize(
    ("config", "request_kwargs", "hsts"),
    [
        ({}, {"base_url": "https://localhost"}, True),
        ({}, {"base_url": "http://localhost"}, False),
        # A client's own X-Forwarded-Proto is not trusted ...
        ({}, {"headers": {"X-Forwarded-Proto": "https"}}, False),
        # ... a trusted proxy's is.
        ({"TRUSTED_PROXIES": 1}, {"headers": {"X-Forwarded-Proto": "https"}}, True),
        ({"TRUSTED_PROXIES": 1}, {"headers": {"X-Forwarded-Proto": "http"}}, False),
    ],
)
def test_hsts_only_over_https_or_behind_a_trusted_proxy_that_says_so(
    app_with, config, request_kwargs, hsts
):
    app = app_with(**config)
    for path in ("/sign-in", "/static/css/app.css", "/api/v3/shares"):
        response = app.test_client().get(path, **request_kwargs)
        assert response.status_code in (200, 401), path
        if hsts:
            assert response.headers["Strict-Transport-Security"] == "max-age=31536000", path
        else:
            assert "Strict-Transport-Security" not in response.headers, path


class PageAudit(HTMLParser):
    """Collects what a strict CSP would block: inline scripts, handlers, styles, js: links."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script":
            self.scripts += 1
            if not names.get("src"):
                self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("inline <style>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name == "style":
                self.problems.append(f"<{tag} style=...>")
            if name in ("href", "src", "action") and (value or "").lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"<{tag} {name}=javascript:...>")


def page_problems(html: str) -> tuple[list[str], int]:
    parser = PageAudit()
    parser.feed(html)
    return parser.problems, parser.scripts


def test_no_page_has_inline_script_or_style(app, client_as, anon_client, token):
    """Every page of the app, with data in it, keeps to the CSP: scripts only from files."""
    app.config["SHARE_LINK_TEMPLATE"] = "https://shop.example.com/s/{handle}"
    share_id = factories.share(app, **SECURED, meta=["a", "b"])
    admin, viewer = client_as("admin"), client_as("viewer")
    admin.post(
        f"/shares/{share_id}/claim",
        data={"csrf_token": csrf_token(admin), "profile_id": "claimer", "code": "SECRET-1"},
    )
    admin.post(
        "/admin/tokens", data={"csrf_token": csrf_token(admin), "name": "t", "role": "agent"}
    )
    admin.post(f"/shares/{share_id}/edit", data={"csrf_token": csrf_token(admin), "period": "3"})
    # Every HTML page the URL map serves by GET, so a new page is checked without listing it.
    ids = {
        "share_id": share_id,
        "staff_id": 1,
        "token_id": 1,
        "import_id": factories.pending_import(app),
        "job_id": factories.bulk_job(app, "expire", [share_id], state="failed"),
    }
    pages = {}
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint not in NOT_PAGES:
            if rule.rule.startswith("/api/"):
                continue
            path = re.sub(r"<int:(\w+)>", lambda m: str(ids[m[1]]), rule.rule)
            response = admin.get(path, follow_redirects=True)
            assert response.status_code == 200, path
            if response.mimetype == "image/svg+xml":  # a share's QR code: no script in it
                assert b"<script" not in response.data, path
            elif response.mimetype not in ("text/csv", "application/json"):
                pages[path] = response
    assert len(pages) >= 10
    pages |= {
        "sign-in": anon_client.get("/sign-in"),
        "sign-in 422": anon_client.post(
            "/sign-in", data={"csrf_token": csrf_token(anon_client), "email": "x@example.com"}
        ),
        "list 422": admin.get("/shares?sort=nonsense"),
        "new 422": admin.post("/shares/new", data={"csrf_token": csrf_token(admin)}),
        "preview": admin.post(
            "/shares/preview", data={"csrf_token": csrf_token(admin), "period": "2"}
        ),
        "tokens with a new one": admin.post(
            "/admin/tokens", data={"csrf_token": csrf_token(admin), "name": "u", "role": "agent"}
        ),
        "403": viewer.get("/admin/audit"),
        "404": admin.get("/shares/999999"),
        "405": admin.get("/sign-out"),
        "400": admin.post("/shares/new"),
    }
    full_pages = 0
    for name, response in pages.items():
        assert response.mimetype == "text/html", name
        problems, scripts = page_problems(response.get_data(as_text=True))
        assert problems == [], name
        full_pages += scripts > 0
    assert full_pages >= 15  # the full pages load htmx and app.js from files


# --- accounts and the command line ---------------------------------------------------------


def run(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def staff_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Staff.id)))


def test_a_fresh_database_has_no_staff_and_init_db_says_how_to_make_one(bare_app):
    # An empty database, as on a first `make run`: init-db makes the schema.
    app = bare_app
    result = run(app, "init-db")
    assert result.exit_code == 0, result.output
    assert staff_count(app) == 0
    assert "No staff account yet." in result.output
    assert "staff create you@example.com --role admin" in result.output
    # With no account, nobody gets in.
    assert sign_in(app.test_client(), "admin@example.com", "admin").status_code == 422
    assert sign_in(app.test_client(), "admin", "admin").status_code == 422
    factories.staff(app, EMAIL, "admin")
    result = run(app, "init-db")
    assert result.exit_code == 0
    assert "staff create" not in result.output


def test_staff_create_stores_a_scrypt_hash_and_the_account_signs_in(app):
    password = "a very long passphrase"
    before = last_event_id(app)
    result = run(app, "staff", "create", " New.Admin@Example.com", "--role", "admin",
                 input=f"{password}\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Staff account new.admin@example.com created (admin)." in result.output
    assert password not in result.output
    member = staff_row(app, "new.admin@example.com")
    assert member.role is Role.ADMIN and member.is_active
    assert member.password_hash.startswith(factories.APP_HASH_PREFIX)
    assert password not in member.password_hash
    assert check_password_hash(member.password_hash, password)
    assert events_after(app, before) == [
        {
            "action": "staff",
            "actor": f"cli:{getpass.getuser()}",
            "share_id": None,
            "share_handle": None,
            "changes": {
                "email": [None, "new.admin@example.com"],
                "role": [None, "admin"],
                "is_active": [None, True],
            },
        }
    ]
    client = app.test_client()
    assert sign_in(client, "new.admin@example.com", password).status_code == 302
    assert client.get("/admin/staff").status_code == 200


def test_staff_create_refuses_a_short_password(app):
    result = run(app, "staff", "create", EMAIL, "--role", "agent", input="short pass\n")
    assert result.exit_code == 1
    assert "Error: The password must be at least 12 characters." in result.output
    assert "Traceback" not in result.output
    assert staff_count(app) == 0


def test_staff_create_refuses_an_empty_standard_input(app):
    result = run(app, "staff", "create", EMAIL, "--role", "agent", input="")
    assert result.exit_code == 1
    assert "The password must be at least 12 characters." in result.output
    assert staff_count(app) == 0


def test_staff_create_refuses_a_duplicate(app):
    factories.staff(app, EMAIL, "viewer")
    old_hash = staff_row(app, EMAIL).password_hash
    result = run(app, "staff", "create", "ANN@example.com", "--role", "admin",
                 input="another long password\n")  # fmt: skip
    assert result.exit_code == 1
    assert f"Error: A staff account for {EMAIL} exists already." in result.output
    member = staff_row(app, EMAIL)
    assert member.role is Role.VIEWER and member.password_hash == old_hash
    assert staff_count(app) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "superuser"], "Invalid value for '--role'"),
        (["--role", "Admin"], "Invalid value for '--role'"),
        ([], "Missing option '--role'"),
    ],
)
def test_staff_create_refuses_a_bad_role(app, args, message):
    result = run(app, "staff", "create", EMAIL, *args, input="a long enough password\n")
    assert result.exit_code == 2
    assert message in result.output
    assert staff_count(app) == 0


#: Not an email address: what would print as two lines, drive a terminal or hide a space.
BAD_EMAILS = ["not-an-email", "who@", "@example.com", "a@b@example.com", "two words@example.com",
              "tab\t@example.com", "esc\x1b[2J@example.com", "line\u2028@example.com"]  # fmt: skip


@pytest.mark.parametrize("email", BAD_EMAILS)
def test_staff_create_refuses_a_bad_email(app, email):
    result = run(app, "staff", "create", email, "--role", "admin",
                 input="a long enough password\n")  # fmt: skip
    assert result.exit_code == 2
    assert "Invalid value for EMAIL: must be an email address" in result.output
    assert staff_count(app) == 0


@pytest.mark.parametrize("email", BAD_EMAILS)
def test_the_staff_page_refuses_a_bad_email_as_the_cli_does(client, email):
    before = staff_count(client.application)
    response = form_post(
        client, "/admin/staff", email=email, role="viewer", password="a long enough password"
    )
    assert response.status_code == 422
    assert "The email field must be an email address." in response.get_data(as_text=True)
    assert staff_count(client.application) == before


def test_sign_in_records_the_address_it_came_from(app, anon_client):
    sign_in(anon_client, "who@example.com", "guess", address="192.0.2.10")
    assert failures(app) == [("who@example.com", "192.0.2.10")]
    # A spoofed X-Forwarded-For is not trusted for the lock-out count.
    sign_in(
        anon_client, "who@example.com", "guess", address="192.0.2.10",
        headers={"X-Forwarded-For": "203.0.113.5"},
    )  # fmt: skip
    assert failures(app)[-1] == ("who@example.com", "192.0.2.10")


def test_the_locked_message_is_not_a_sign_in(app, anon_client):
    """A 429 page offers the form again but sets no session and records nothing new."""
    factories.staff(app, EMAIL, "admin")
    for n in range(5):
        sign_in(anon_client, EMAIL, f"guess {n}")
    response = sign_in(anon_client, EMAIL, STAFF_PASSWORD)
    assert response.status_code == 429
    assert 'name="password"' in response.get_data(as_text=True)
    assert len(failures(app)) == 5
    assert sign_in_target(anon_client.get("/shares")) == "/shares"


def test_an_email_that_lowercasing_lengthens_is_measured_after_it(client):
    """ "İ".lower() is two characters: the limit applies to what is stored."""
    email = "İ" * 125 + "@example.com"  # 137 characters typed, 250 + 12 once lowercased
    response = form_post(
        client, "/admin/staff", email=email, role="viewer", password="a long enough password"
    )
    assert response.status_code == 422
    assert "must not be greater than 254 characters" in response.get_data(as_text=True)
    assert staff_row(client.application, email.lower()) is None


def test_sign_in_failures_fit_their_columns_whatever_is_sent(tmp_path):
    """A long lowercased email or forwarded address is counted, not a database error."""
    app = make_app(tmp_path, TRUSTED_PROXIES=1)
    client = app.test_client()
    email = "İ" * 200 + "@example.com"
    response = sign_in(client, email, "wrong", headers={"X-Forwarded-For": "9" * 300})
    assert response.status_code == 422
    assert [(len(email), len(address)) for email, address in failures(app)] == [(254, 64)]
