"""Every error has a page in the app's layout with a way back (JSON under /api/)."""

from __future__ import annotations

import re
import sqlite3

import pytest
import sqlalchemy as sa

from tests import factories
from tests.conftest import make_app, signed_in
from tests.contract import bearer
from tests.pages import csrf_token
from webapp.api import shares as api_module
from webapp.auth import requires
from webapp.enums import Role
from webapp.errors import API_MESSAGES, NOT_SET_UP, RETRY_AFTER_UNAVAILABLE
from webapp.extensions import db

BACK_LINK = 'href="/shares">← Back to the shares</a>'


def assert_in_layout(response, status: int, words: str) -> str:
    page = response.get_data(as_text=True)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert '<header class="site-header">' in page  # the app's own layout
    assert BACK_LINK in page
    assert words in page
    assert "Traceback" not in page
    return page


def test_404_page(client):
    assert_in_layout(client.get("/shares/424242"), 404, "There is no page here.")


#: Ids no id column holds: 2**31 (one past PostgreSQL's INTEGER), 2**63 - 1, 2**63 (one past
#: SQLite's), 2**64 and a 31-digit number.
IDS_OUT_OF_RANGE = (
    "2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616",
    "1" + "0" * 30,
)


@pytest.mark.parametrize("share_id", IDS_OUT_OF_RANGE)
def test_an_id_past_the_64_bit_range_is_not_found_on_every_route(app, client, token, share_id):
    """Every route with an id in its path, by every method it takes, page or API: 404 (the id
    names nothing), never the 500 of an integer the database cannot take, nor a 405."""
    auth = bearer(token)
    checked = 0
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        path = re.sub(r"<int:\w+>", share_id, rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            api = path.startswith("/api/")
            response = client.open(path, method=method, headers=auth if api else {})
            assert response.status_code == 404, (method, path)
            if api:
                assert response.get_json() == {"message": "Not found."}
            else:
                assert_in_layout(response, 404, "There is no page here.")
            checked += 1
    assert checked >= 12


def test_the_largest_id_a_database_holds_is_looked_up_and_not_found(client, api):
    largest = 2**31 - 1
    assert_in_layout(client.get(f"/shares/{largest}"), 404, "There is no page here.")
    response = api.get(f"/api/v3/shares/{largest}")
    assert response.status_code == 404
    assert response.get_json() == {"message": "Not found."}


def test_403_page(client_as):
    assert_in_layout(client_as("viewer").get("/shares/new"), 403, "You are not allowed to do this.")


def test_405_page(client):
    assert_in_layout(client.put("/shares"), 405, "does not accept that kind of request")


def test_422_page(client):
    response = client.get("/shares/export.csv?filter%5Bstatus%5D=bogus")
    assert_in_layout(response, 422, "could not be processed")


@pytest.fixture
def broken_app(tmp_path):
    """An app of its own: routes can only be added before an app serves its first request."""

    @requires(Role.VIEWER)
    def explode():
        raise RuntimeError("secret internals")

    app = make_app(tmp_path)
    app.add_url_rule("/explode", "explode", explode)
    return app


def test_500_page_hides_the_error(broken_app):
    client = signed_in(broken_app, Role.ADMIN)
    page = assert_in_layout(client.get("/explode"), 500, "Something went wrong on our side")
    assert "secret internals" not in page


def test_api_500_is_json_without_internals(api, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(api_module, "fetch_page", explode)
    response = api.get("/api/v3/shares")
    assert response.status_code == 500
    assert response.mimetype == "application/json"
    assert set(response.get_json()) == {"message"}
    assert "secret internals" not in response.get_data(as_text=True)


# --- a busy or unreachable database: 503 with Retry-After, nothing changed ------------------


@pytest.fixture
def locked_app(tmp_path):
    """An app on a SQLite file whose writes wait 50 ms, and a way to lock that file.

    ``lock()`` opens a write transaction from another program (a plain sqlite3 connection),
    which the app's writers cannot outwait.
    """
    path = tmp_path / "locked.sqlite3"
    app = make_app(
        tmp_path,
        DATABASE_URL=f"sqlite:///{path}",
        SQLITE_BUSY_TIMEOUT_MS=50,
        WTF_CSRF_ENABLED=False,
    )
    other = sqlite3.connect(path, isolation_level=None)

    def lock():
        other.execute("BEGIN IMMEDIATE")

    yield app, lock, other
    other.close()
    with app.app_context():
        db.engine.dispose()


SHARE = {"profile_id": "customer-9", "source_type": "reward", "source_id": 77}


def test_api_answers_503_with_retry_after_while_the_database_is_locked(locked_app):
    app, lock, other = locked_app
    headers = bearer(factories.token(app, "script", "agent"))
    client = app.test_client()
    lock()
    response = client.post("/api/v3/shares", json=SHARE, headers=headers)
    assert response.status_code == 503
    assert response.get_json() == {"message": API_MESSAGES[503]}
    assert response.headers["Retry-After"] == str(RETRY_AFTER_UNAVAILABLE)
    other.execute("ROLLBACK")
    assert factories.share_count(app) == 0
    # The retry the 503 asks for succeeds.
    assert client.post("/api/v3/shares", json=SHARE, headers=headers).status_code == 201
    assert factories.share_count(app) == 1


def test_page_answers_503_with_retry_after_while_the_database_is_locked(locked_app):
    app, lock, other = locked_app
    client = signed_in(app, "agent")
    lock()
    response = client.post("/shares/new", data=SHARE)
    assert_in_layout(response, 503, "The database is busy or out of reach. Try again in a few")
    assert response.headers["Retry-After"] == str(RETRY_AFTER_UNAVAILABLE)
    other.execute("ROLLBACK")
    assert factories.share_count(app) == 0


def test_every_request_says_when_the_database_has_no_tables(bare_app):
    """Not a 500 with a traceback: the 503 that /healthz gives, in the contract's error shape,
    saying what to run; not the busy 503 either (no Retry-After: waiting will not cure it)."""
    api = bare_app.test_client().get("/api/v3/shares", headers={"Authorization": "Bearer x"})
    assert api.status_code == 503
    assert api.get_json() == {"message": NOT_SET_UP}
    assert "Retry-After" not in api.headers
    browser = bare_app.test_client()
    assert browser.get("/sign-in").status_code == 200  # the sign-in form reads nothing
    signing_in = browser.post(
        "/sign-in",
        data={"csrf_token": csrf_token(browser, "/sign-in"), "email": "a@b.c", "password": "p"},
    )
    assert_in_layout(signing_in, 503, "The database is not set up for this version of Share Desk.")
    assert "Retry-After" not in signing_in.headers


def test_a_request_says_so_when_the_database_is_behind_the_code(app):
    """A column this version reads is missing (the code upgraded, init-db not run)."""
    token = factories.token(app, "behind", Role.VIEWER)

    def rename(old: str, new: str) -> None:
        with app.app_context():
            # SQLite checks an ALTER TABLE against the schema its connection last read: a pooled
            # connection from before the first rename would not find the renamed column.
            db.engine.dispose()
            db.session.execute(sa.text(f"ALTER TABLE shares RENAME COLUMN {old} TO {new}"))
            db.session.commit()

    # Renamed, then back: on PostgreSQL the next test reuses this schema.
    rename("meta", "meta_before")
    try:
        response = app.test_client().get("/api/v3/shares", headers=bearer(token))
    finally:
        rename("meta_before", "meta")
    assert response.status_code == 503
    assert response.get_json() == {"message": NOT_SET_UP}
