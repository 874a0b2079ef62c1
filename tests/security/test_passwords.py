"""Passwords: staff change their own (the current one required), admins reset a member's to a
temporary one that must be replaced, and the command line sets one; each ends the sessions."""

from __future__ import annotations

import re

import pytest

from tests import factories
from tests.factories import STAFF_PASSWORD
from tests.pages import csrf_token
from tests.security.helpers import events_after, failures, fingerprint, last_event_id, sign_in
from webapp.extensions import db
from webapp.models import Staff

EMAIL = "ann@example.com"
NEW = "a brand new passphrase"
TEMPORARY = "temporary passphrase 1"


def session_staff_id(client) -> int:
    with client.session_transaction() as session:
        return session["staff_id"]


def member(app, staff_id: int) -> Staff:
    with app.app_context():
        row = db.session.get(Staff, staff_id)
        db.session.expunge(row)
        return row


def change(client, current: str, new: str = NEW, confirm: str | None = None, **kwargs):
    data = {
        "csrf_token": csrf_token(client, "/account/password"),
        "current_password": current,
        "new_password": new,
        "confirm": new if confirm is None else confirm,
    }
    return client.post("/account/password", data=data, **kwargs)


def signed_in_as(app, email: str = EMAIL, password: str = STAFF_PASSWORD):
    client = app.test_client()
    assert sign_in(client, email, password).status_code == 302
    return client


def copy_of(app, client):
    """Another browser holding the same session cookie."""
    other = app.test_client()
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    other.set_cookie(cookie.key, cookie.value)
    return other


def field_error(response, field: str) -> str:
    match = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', response.get_data(True))
    assert match, f"no error shown for {field}"
    return match[1]


# --- one's own password --------------------------------------------------------------------


def test_a_member_changes_their_own_password_and_their_other_sessions_end(app):
    staff_id = factories.staff(app, EMAIL, "agent")
    client = signed_in_as(app)
    elsewhere = signed_in_as(app)
    mark = last_event_id(app)

    response = change(client, STAFF_PASSWORD)

    assert response.status_code == 302
    assert response.headers["Location"] == "/shares"
    page = client.get("/shares")
    assert page.status_code == 200  # this session goes on
    assert "Your password is changed. Any other session of yours has ended." in page.get_data(True)
    assert elsewhere.get("/shares").status_code == 302  # every other one has ended
    assert sign_in(app.test_client(), EMAIL, STAFF_PASSWORD).status_code == 422
    assert sign_in(app.test_client(), EMAIL, NEW).status_code == 302
    assert member(app, staff_id).check_password(NEW)
    events = events_after(app, mark)
    assert events[0] == {
        "action": "password",
        "actor": EMAIL,
        "share_id": None,
        "share_handle": None,
        "changes": {"email": [EMAIL, EMAIL], "password": [None, "changed"]},
    }
    assert NEW not in str(events) and STAFF_PASSWORD not in str(events)


@pytest.mark.parametrize(
    ("current", "new", "confirm", "field", "message"),
    [
        ("", NEW, NEW, "current_password", "The current password field is required."),
        (STAFF_PASSWORD, "short", "short", "new_password", "at least 12 characters"),
        (STAFF_PASSWORD, NEW, NEW + "!", "confirm", "The two new passwords differ."),
        (STAFF_PASSWORD, STAFF_PASSWORD, STAFF_PASSWORD, "new_password", "must differ"),
    ],
)
def test_a_bad_password_change_is_422_and_changes_nothing(
    app, current, new, confirm, field, message
):
    factories.staff(app, EMAIL, "viewer")
    client = signed_in_as(app)
    before = fingerprint(app)
    response = change(client, current, new, confirm)
    assert response.status_code == 422
    assert message in field_error(response, field)
    assert fingerprint(app) == before
    assert NEW not in response.get_data(True)  # a password field never comes back filled


def test_a_wrong_current_password_is_refused_recorded_and_counts_toward_the_lock_out(app):
    staff_id = factories.staff(app, EMAIL, "viewer")
    client = signed_in_as(app)
    mark = last_event_id(app)
    for n in range(5):
        response = change(client, f"guess {n}")
        assert response.status_code == 422
        assert field_error(response, "current_password") == "The current password is not right."
    response = change(client, STAFF_PASSWORD)
    assert response.status_code == 429
    assert "Too many wrong passwords. Try again in 15 minutes." in response.get_data(True)
    assert 14 * 60 < int(response.headers["Retry-After"]) <= 15 * 60
    assert member(app, staff_id).check_password(STAFF_PASSWORD)
    assert failures(app) == [(EMAIL, "127.0.0.1")] * 5
    actions = [(e["action"], e["changes"].get("password")) for e in events_after(app, mark)]
    refused = ("password", [None, "not changed: the current password was wrong"])
    assert actions == [refused] * 4 + [refused, ("lock_out", None)]


# --- an admin's reset ----------------------------------------------------------------------


def reset(admin, staff_id: int, password: str = TEMPORARY):
    data = {"csrf_token": csrf_token(admin, "/admin/staff"), "password": password}
    return admin.post(f"/admin/staff/{staff_id}/password", data=data)


def test_an_admin_resets_a_password_and_the_member_must_choose_their_own(app, client):
    staff_id = factories.staff(app, EMAIL, "agent")
    old_session = signed_in_as(app)
    mark = last_event_id(app)

    response = reset(client, staff_id)

    assert response.status_code == 302
    page = client.get("/admin/staff").get_data(True)
    assert f"{EMAIL} has the temporary password now: give it to them privately." in page
    assert "password reset: to be changed at next sign-in" in page
    assert old_session.get("/shares").status_code == 302  # their sessions have ended
    assert sign_in(app.test_client(), EMAIL, STAFF_PASSWORD).status_code == 422
    # Signed in with the temporary password, every page leads to the password page first.
    fresh = signed_in_as(app, password=TEMPORARY)
    for path in ("/shares", "/shares/new", "/docs/api"):
        response = fresh.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == "/account/password"
    htmx = fresh.get("/shares/results", headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"] == "/account/password"
    page = fresh.get("/account/password").get_data(True)
    assert "An admin has reset your password. Choose your own to go on." in page
    assert change(fresh, TEMPORARY).status_code == 302
    assert fresh.get("/shares/new").status_code == 200
    assert not member(app, staff_id).must_change_password
    admin_email = member(app, session_staff_id(client)).email
    reset_by_admin = [None, "reset, to be changed at the next sign-in"]
    assert [(e["action"], e["actor"], e["changes"]) for e in events_after(app, mark)] == [
        ("password", admin_email, {"email": [EMAIL, EMAIL], "password": reset_by_admin}),
        ("sign_in_failed", EMAIL, {"address": [None, "127.0.0.1"]}),  # the old password
        ("sign_in", EMAIL, {"address": [None, "127.0.0.1"]}),
        ("password", EMAIL, {"email": [EMAIL, EMAIL], "password": [None, "changed"]}),
    ]


def test_a_reset_password_member_may_still_sign_out(app, client):
    staff_id = factories.staff(app, EMAIL, "viewer")
    assert reset(client, staff_id).status_code == 302
    fresh = signed_in_as(app, password=TEMPORARY)
    token = csrf_token(fresh, "/account/password")
    assert fresh.post("/sign-out", data={"csrf_token": token}).headers["Location"] == "/sign-in"


@pytest.mark.parametrize(
    ("password", "message"),
    [("", "The password field is required."), ("short", "at least 12 characters")],
)
def test_a_bad_temporary_password_changes_nothing(app, client, password, message):
    staff_id = factories.staff(app, EMAIL, "viewer")
    before = fingerprint(app)
    assert reset(client, staff_id, password).status_code == 302
    assert message in client.get("/admin/staff").get_data(True)
    assert fingerprint(app) == before
    assert not member(app, staff_id).must_change_password


def test_an_admin_resets_no_password_of_their_own_or_of_no_one(app, client):
    before = fingerprint(app)
    assert reset(client, session_staff_id(client)).status_code == 302
    assert "Change your own password on the Password page." in client.get("/admin/staff").get_data(
        True
    )
    assert reset(client, 424242).status_code == 404
    assert fingerprint(app) == before


def test_every_page_links_to_the_password_page(client):
    page = client.get("/shares").get_data(True)
    assert '<a href="/account/password">Password</a>' in page


# --- the command line ----------------------------------------------------------------------


@pytest.mark.parametrize("must_change", [False, True])
def test_the_command_line_sets_a_password(app, must_change):
    staff_id = factories.staff(app, EMAIL, "admin")
    old_session = signed_in_as(app)
    args = ["staff", "set-password", "ANN@example.com", *(["--must-change"] if must_change else [])]
    result = app.test_cli_runner().invoke(args=args, input=f"{NEW}\n")
    assert result.exit_code == 0, result.output
    assert f"Password of {EMAIL} set; their sessions have ended." in result.output
    assert NEW not in result.output
    assert old_session.get("/shares").status_code == 302
    row = member(app, staff_id)
    assert row.check_password(NEW) and row.must_change_password is must_change


def test_the_command_line_refuses_an_unknown_account_or_a_short_password(app):
    factories.staff(app, EMAIL, "admin")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["staff", "set-password", "nobody@example.com"], input=f"{NEW}\n")
    assert result.exit_code == 1
    assert "No staff account for nobody@example.com." in result.output
    result = runner.invoke(args=["staff", "set-password", EMAIL], input="short\n")
    assert result.exit_code == 1
    assert "The password must be at least 12 characters." in result.output
    assert sign_in(app.test_client(), EMAIL, STAFF_PASSWORD).status_code == 302
