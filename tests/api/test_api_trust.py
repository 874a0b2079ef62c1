"""What a script can rely on: idempotent creates, limits, one JSON error shape, the API document."""

from __future__ import annotations

import io
import json
import re
import sqlite3
import sys
from datetime import timedelta

import jsonschema_rs
import pytest
import sqlalchemy as sa

from tests import factories
from tests.conftest import make_app
from tests.contract import bearer
from webapp.clock import utcnow
from webapp.enums import PeriodType, Role, SourceType
from webapp.extensions import db
from webapp.models import ApiToken, IdempotencyKey, Share
from webapp.ratelimit import Rate

URL = "/api/v3/shares"
BODY = {"profile_id": "cust-1", "source_type": "reward", "source_id": 42}


def idempotent_post(client, token: str, key: str, body: dict):
    return client.post(URL, json=body, headers=bearer(token, **{"Idempotency-Key": key}))


def assert_json_error(response, status: int) -> dict:
    """The contract's error shape: JSON with a string message."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body, dict)
    assert isinstance(body["message"], str) and body["message"]
    return body


# --- Idempotency-Key ---------------------------------------------------------------------


def test_same_key_and_body_returns_the_first_share(app, client, token):
    first = idempotent_post(client, token, "order-1", BODY)
    again = idempotent_post(client, token, "order-1", BODY)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert factories.share_count(app) == 1


def test_same_key_with_reordered_keys_is_the_same_body(app, client, token):
    first = idempotent_post(client, token, "order-2", BODY)
    again = idempotent_post(client, token, "order-2", dict(reversed(list(BODY.items()))))
    assert again.status_code == 201
    assert again.get_json()["data"]["id"] == first.get_json()["data"]["id"]
    assert factories.share_count(app) == 1


def test_a_lone_surrogate_in_a_keyed_body_is_answered_not_a_500(app, client, token):
    """JSON allows "\ud800"; the key's fingerprint must cope with it."""
    raw = json.dumps({**BODY, "ignored": "\ud800"})
    response = client.post(
        URL,
        data=raw,
        content_type="application/json",
        headers=bearer(token, **{"Idempotency-Key": "surrogate-1"}),
    )
    assert response.status_code == 201
    raw = json.dumps({**BODY, "profile_id": "a\ud800"})
    response = client.post(
        URL,
        data=raw,
        content_type="application/json",
        headers=bearer(token, **{"Idempotency-Key": "surrogate-2"}),
    )
    assert_json_error(response, 422)
    assert factories.share_count(app) == 1


def test_same_key_with_another_body_is_refused(app, client, token):
    first = idempotent_post(client, token, "order-3", BODY)
    assert first.status_code == 201
    other = idempotent_post(client, token, "order-3", {**BODY, "source_id": 43})
    body = assert_json_error(other, 422)
    assert list(body["errors"]) == ["Idempotency-Key"]
    assert "Idempotency-Key" in body["message"]
    assert factories.share_count(app) == 1


def test_key_older_than_a_day_creates_a_new_share(app, client, token):
    first = idempotent_post(client, token, "order-4", BODY).get_json()["data"]
    with app.app_context():
        row = db.session.scalar(sa.select(IdempotencyKey).where(IdempotencyKey.key == "order-4"))
        row.created_at = row.created_at - timedelta(hours=24, seconds=1)
        db.session.commit()
    later = idempotent_post(client, token, "order-4", BODY)
    assert later.status_code == 201
    assert "Idempotent-Replayed" not in later.headers
    assert later.get_json()["data"]["id"] != first["id"]
    assert factories.share_count(app) == 2
    # The new answer is what the key replays from now on.
    replay = idempotent_post(client, token, "order-4", BODY)
    assert replay.get_json()["data"]["id"] == later.get_json()["data"]["id"]
    assert factories.share_count(app) == 2


def test_key_younger_than_a_day_still_replays(app, client, token):
    first = idempotent_post(client, token, "order-5", BODY).get_json()["data"]
    with app.app_context():
        row = db.session.scalar(sa.select(IdempotencyKey).where(IdempotencyKey.key == "order-5"))
        row.created_at = row.created_at - timedelta(hours=23, minutes=59)
        db.session.commit()
    again = idempotent_post(client, token, "order-5", BODY)
    assert again.get_json()["data"]["id"] == first["id"]
    assert factories.share_count(app) == 1


def test_keys_are_per_token(app, client, token, token_for):
    other = token_for("agent")
    mine = idempotent_post(client, token, "shared-key", BODY)
    theirs = idempotent_post(client, other, "shared-key", BODY)
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.get_json()["data"]["id"] != mine.get_json()["data"]["id"]
    assert factories.share_count(app) == 2


@pytest.mark.parametrize("key", ["k" * 256, "k" * 1000])
def test_key_longer_than_255_characters_is_refused(app, client, token, key):
    body = assert_json_error(idempotent_post(client, token, key, BODY), 422)
    assert list(body["errors"]) == ["Idempotency-Key"]
    assert factories.share_count(app) == 0


def test_key_of_255_characters_is_accepted(app, client, token):
    key = "k" * 255
    first = idempotent_post(client, token, key, BODY)
    again = idempotent_post(client, token, key, BODY)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert factories.share_count(app) == 1


def test_invalid_body_with_a_key_is_not_remembered(app, client, token):
    bad = idempotent_post(client, token, "order-6", {**BODY, "source_type": "nope"})
    assert_json_error(bad, 422)
    good = idempotent_post(client, token, "order-6", BODY)
    assert good.status_code == 201
    assert "Idempotent-Replayed" not in good.headers
    assert factories.share_count(app) == 1


def test_without_a_key_every_post_creates(app, client, token):
    for _ in range(2):
        assert client.post(URL, json=BODY, headers=bearer(token)).status_code == 201
    assert factories.share_count(app) == 2


# --- size and rate limits ----------------------------------------------------------------


def test_body_over_64_kib_is_413(app, client, token):
    body = {**BODY, "meta": ["x" * 1000] * 70}
    response = client.post(URL, json=body, headers=bearer(token))
    assert len(json.dumps(body)) > 64 * 1024
    assert_json_error(response, 413)
    assert factories.share_count(app) == 0


def test_invalid_json_over_the_limit_is_413_not_400(app, client, token):
    """The size is checked before the body is parsed."""
    raw = b"{" + b"x" * (64 * 1024 + 1)
    response = client.post(URL, data=raw, headers=bearer(token), content_type="application/json")
    assert_json_error(response, 413)
    # The same invalid JSON under the limit is the 400.
    small = client.post(URL, data=b"{xx", headers=bearer(token), content_type="application/json")
    assert_json_error(small, 400)


def test_body_of_exactly_the_limit_is_read(app, client, token):
    raw = _exactly_64_kib()
    assert len(raw) == 64 * 1024
    response = client.post(URL, data=raw, headers=bearer(token), content_type="application/json")
    assert response.status_code == 201
    assert factories.share_count(app) == 1


def _exactly_64_kib() -> bytes:
    pad = 64 * 1024 - len(json.dumps({**BODY, "unknown": ""}))
    return json.dumps({**BODY, "unknown": "x" * pad}).encode()


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (json.dumps(BODY).encode(), 201),
        (_exactly_64_kib(), 201),
        # The first 64 KiB alone are a valid object: the body must not be cut there and used.
        (_exactly_64_kib() + b" ", 413),
        (_exactly_64_kib() + b" " * 10_000, 413),
        (b"{" + b"x" * (64 * 1024 + 1), 413),
        (b"{" + b"x" * 2_000_000, 413),
    ],
    ids=["small", "exactly-64-KiB", "one-byte-over", "10-KB-over", "invalid-over", "2-MB"],
)
def test_chunked_body_without_content_length_is_held_to_the_limit(app, client, token, raw, status):
    """Transfer-Encoding: chunked sends no Content-Length; the limit still holds."""
    response = client.post(
        URL,
        input_stream=io.BytesIO(raw),
        headers=bearer(token, **{"Transfer-Encoding": "chunked"}),
        content_type="application/json",
        environ_overrides={"wsgi.input_terminated": True},
    )
    if status == 201:
        assert response.status_code == 201
        assert factories.share_count(app) == 1
    else:
        assert_json_error(response, 413)
        assert factories.share_count(app) == 0


def test_put_and_claim_bodies_over_the_limit_are_413(app, client, token):
    share_id = client.post(URL, json=BODY, headers=bearer(token)).get_json()["data"]["id"]
    raw = b"[" + b"0," * (40 * 1024) + b"0]"
    for path, method in ((f"{URL}/{share_id}", "PUT"), (f"{URL}/{share_id}/claim", "POST")):
        response = client.open(
            path, method=method, data=raw, headers=bearer(token), content_type="application/json"
        )
        assert_json_error(response, 413)


@pytest.fixture
def limited(app_with):
    """An app that lets each token make three API requests a minute."""
    return app_with(API_RATE_LIMIT="3 per minute")


def test_fourth_request_in_a_minute_is_429(limited):
    client = limited.test_client()
    token = factories.token(limited, "limited", Role.AGENT)
    for _ in range(3):
        response = client.get(URL, headers=bearer(token))
        assert response.status_code == 200
        assert "Retry-After" not in response.headers
    refused = client.get(URL, headers=bearer(token))
    body = assert_json_error(refused, 429)
    assert "Retry-After" in body["message"]
    retry_after = refused.headers["Retry-After"]
    assert retry_after.isdigit() and 0 < int(retry_after) <= 60


def test_rate_limit_counts_per_token(limited):
    client = limited.test_client()
    first = factories.token(limited, "first", Role.AGENT)
    second = factories.token(limited, "second", Role.AGENT)
    for _ in range(3):
        assert client.get(URL, headers=bearer(first)).status_code == 200
    assert client.get(URL, headers=bearer(first)).status_code == 429
    response = client.get(URL, headers=bearer(second))
    assert response.status_code == 200
    assert "Retry-After" not in response.headers


def test_rate_limit_covers_writes_and_refuses_them_unchanged(limited):
    client = limited.test_client()
    token = factories.token(limited, "writer", Role.AGENT)
    for _ in range(3):
        assert client.post(URL, json=BODY, headers=bearer(token)).status_code == 201
    assert_json_error(client.post(URL, json=BODY, headers=bearer(token)), 429)
    assert factories.share_count(limited) == 3


def _window(app, name: str) -> tuple[int, object]:
    with app.app_context():
        row = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == name))
        return row.window_hits, row.window_ends_at


def test_counted_responses_say_where_the_token_stands(limited):
    client = limited.test_client()
    token = factories.token(limited, "pacer", Role.AGENT)
    before = utcnow()
    answers = [client.get(URL, headers=bearer(token)) for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-RateLimit-Limit"] for a in answers] == ["3"] * 4
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    resets = {int(a.headers["X-RateLimit-Reset"]) for a in answers}
    assert len(resets) == 1, "one window"
    (reset,) = resets
    assert before.timestamp() + 59 <= reset <= utcnow().timestamp() + 60
    assert int(answers[-1].headers["Retry-After"]) == pytest.approx(
        reset - utcnow().timestamp(), abs=2
    )
    # The refused request counted too, as Flask-Limiter counted it.
    assert _window(limited, "pacer")[0] == 4


def test_a_new_window_starts_once_the_last_one_ended(limited):
    client = limited.test_client()
    token = factories.token(limited, "patient", Role.AGENT)
    for _ in range(3):
        client.get(URL, headers=bearer(token))
    assert client.get(URL, headers=bearer(token)).status_code == 429
    with limited.app_context():
        row = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "patient"))
        row.window_ends_at = utcnow() - timedelta(seconds=1)
        db.session.commit()

    response = client.get(URL, headers=bearer(token))

    assert response.status_code == 200
    assert response.headers["X-RateLimit-Remaining"] == "2"
    hits, ends = _window(limited, "patient")
    assert hits == 1 and ends > utcnow() + timedelta(seconds=58)


def test_unknown_and_revoked_tokens_are_refused_before_anything_is_counted(limited):
    client = limited.test_client()
    token = factories.token(limited, "gone", Role.AGENT)
    client.get(URL, headers=bearer(token))
    with limited.app_context():
        row = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "gone"))
        row.revoked_at = utcnow()
        db.session.commit()

    for headers in (bearer(token), bearer("sd_unknown"), {}):
        response = client.get(URL, headers=headers)
        assert_json_error(response, 401)
        assert "X-RateLimit-Remaining" not in response.headers
    assert _window(limited, "gone")[0] == 1


WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def statements_that_write(app, make_request) -> list[tuple[list[str], int]]:
    """The writing statements (INSERT, UPDATE, DELETE) that ``make_request()`` ran, each as its
    first two words and the number of rows it changed."""
    seen: list[tuple[list[str], int]] = []

    def listen(_connection, cursor, statement, _parameters, _context, _many):
        if statement.lstrip().upper().startswith(WRITES):
            seen.append((statement.split()[:2], cursor.rowcount))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "after_cursor_execute", listen)
    try:
        make_request()
    finally:
        sa.event.remove(engine, "after_cursor_execute", listen)
    return seen


def test_an_unknown_or_revoked_token_costs_no_write(app, token, token_for):
    revoked = token_for("agent")
    with app.app_context():
        gone = sa.update(ApiToken).where(ApiToken.name != "tests").values(revoked_at=utcnow())
        db.session.execute(gone)
        db.session.commit()
        dialect = db.engine.dialect.name
    client = app.test_client()
    junk = (
        bearer("sd_" + "x" * 43),
        bearer(revoked),
        bearer(""),
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {},
    )
    before = _tokens(app)
    for headers in junk:

        def refused(headers=headers):
            assert_json_error(client.get(URL, headers=headers), 401)

        written = statements_that_write(app, refused)
        if dialect == "sqlite" or not headers.get("Authorization", "").startswith("Bearer sd_"):
            # On SQLite even an UPDATE that matches no row takes the file's one write lock.
            assert written == [], headers
        else:
            # On PostgreSQL the count is the lookup: an UPDATE that matches no row, which writes
            # and locks nothing.
            assert written == [(["UPDATE", "api_tokens"], 0)], headers
    assert _tokens(app) == before
    # The control: a live token's request is counted, in one UPDATE of its row.
    hits = _window(app, "tests")[0]
    counted = statements_that_write(app, lambda: client.get(URL, headers=bearer(token)))
    assert [words for words, _rows in counted] == [["UPDATE", "api_tokens"]]
    assert _window(app, "tests")[0] == hits + 1


def _tokens(app) -> list[tuple]:
    """Every token row as it stands (its counts and last use included)."""
    with app.app_context():
        return [tuple(row) for row in db.session.execute(sa.select(ApiToken.__table__)).all()]


def test_junk_tokens_do_not_wait_for_the_write_lock(tmp_path):
    """While another program holds SQLite's write lock, a request with a junk token is refused
    at once (it used to queue for the lock, and then answer 503); a live token's must wait."""
    path = tmp_path / "busy.sqlite3"
    app = make_app(tmp_path, DATABASE_URL=f"sqlite:///{path}", SQLITE_BUSY_TIMEOUT_MS=50)
    live = factories.token(app, "live", Role.AGENT)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        client = app.test_client()
        assert_json_error(client.get(URL, headers=bearer("sd_junk")), 401)
        assert_json_error(client.get(URL, headers=bearer(live)), 503)
        other.execute("ROLLBACK")
        assert client.get(URL, headers=bearer(live)).status_code == 200
    finally:
        other.close()
        with app.app_context():
            db.engine.dispose()


def test_pages_carry_no_rate_limit_headers(client):
    response = client.get("/sign-in")
    assert response.status_code == 200
    assert not [name for name, _ in response.headers.items() if name.startswith("X-RateLimit")]


@pytest.mark.parametrize(
    "text, hits, seconds",
    [
        ("1200 per minute", 1200, 60),
        ("100 per 10 seconds", 100, 10),
        ("5000/hour", 5000, 3600),
        (" 7 PER Minutes ", 7, 60),
        ("1 per 2 days", 1, 172_800),
    ],
)
def test_the_rate_reads_like_flask_limiter_wrote_it(text, hits, seconds):
    assert Rate.parse(text) == Rate(hits, seconds)


@pytest.mark.parametrize(
    "value",
    ["", "1200", 1200, "0 per minute", "many per minute", "5 per fortnight", "5 per 0 hours"],
)
def test_a_wrong_rate_stops_the_app_at_start_with_the_setting_named(tmp_path, value):
    with pytest.raises(RuntimeError, match="WEBAPP_API_RATE_LIMIT"):
        make_app(tmp_path, API_RATE_LIMIT=value)


@pytest.mark.parametrize(
    "call",
    [
        lambda c, h: c.get(URL, headers=h),
        lambda c, h: c.get(f"{URL}/999", headers=h),
        lambda c, h: c.post(URL, json={}, headers=h),
        lambda c, h: c.post(URL, data="x", headers=h, content_type="text/plain"),
        lambda c, h: c.get(URL, headers={"Authorization": "Bearer wrong"}),
        lambda c, h: c.patch(URL, headers=h),
    ],
    ids=["200", "404", "422", "415", "401", "405"],
)
def test_non_429_responses_carry_no_retry_after(app, token, call):
    response = call(app.test_client(), bearer(token))
    assert response.status_code != 429
    assert "Retry-After" not in response.headers


# --- one JSON error shape ----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v3/nope",
        "/api/v3/shares/abc",
        "/api/v3/shares/1/nope",
        "/api/v3/shares/-1",
        "/api/v2/shares",
        "/api/",
        "/api/v3/shares/1/claim/extra",
    ],
)
def test_unknown_api_routes_are_json_404(client, token, path):
    assert_json_error(client.get(path, headers=bearer(token)), 404)


def test_unknown_api_route_is_json_404_without_a_token(app):
    assert_json_error(app.test_client().get("/api/v3/nope"), 404)


def test_missing_share_is_json_404(client, token):
    for method in ("GET", "PUT", "DELETE"):
        response = client.open(f"{URL}/999", method=method, json={}, headers=bearer(token))
        assert_json_error(response, 404)
    claim = client.post(f"{URL}/999/claim", json={"profile_id": "p", "code": "c"},
                        headers=bearer(token))  # fmt: skip
    assert_json_error(claim, 404)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PATCH", URL, {"GET", "POST"}),
        ("DELETE", URL, {"GET", "POST"}),
        ("PUT", URL, {"GET", "POST"}),
        ("PATCH", f"{URL}/1", {"GET", "PUT", "DELETE"}),
        ("POST", f"{URL}/1", {"GET", "PUT", "DELETE"}),
        ("GET", f"{URL}/1/claim", {"POST"}),
    ],
)
def test_wrong_method_is_json_405_with_allow(client, token, method, path, allowed):
    response = client.open(path, method=method, headers=bearer(token))
    assert_json_error(response, 405)
    listed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed <= listed
    assert listed - allowed <= {"HEAD", "OPTIONS"}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic dXNlcjpwYXNz"},
     {"Authorization": "Bearer"}, {"Authorization": ""}],
    ids=["none", "unknown", "basic", "empty-bearer", "blank"],
)  # fmt: skip
def test_no_or_bad_token_is_json_401(app, headers):
    response = app.test_client().get(URL, headers=headers)
    assert_json_error(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_revoked_token_is_401(app, token):
    with app.app_context():
        for row in db.session.scalars(sa.select(ApiToken)):
            row.revoked_at = utcnow()
        db.session.commit()
    assert_json_error(app.test_client().get(URL, headers=bearer(token)), 401)


def test_a_session_cookie_is_not_enough_for_the_api(client):
    """The signed-in admin's browser session does not open the API: scripts use tokens."""
    assert_json_error(client.get(URL), 401)


def test_viewer_token_may_not_write_json_403(app, token_for):
    viewer = token_for("viewer")
    response = app.test_client().post(URL, json=BODY, headers=bearer(viewer))
    body = assert_json_error(response, 403)
    assert "viewer" in body["message"]
    assert factories.share_count(app) == 0


@pytest.mark.parametrize(
    ("data", "content_type"),
    [("profile_id=x", "application/x-www-form-urlencoded"), ("{}", "text/plain"),
     (json.dumps(BODY), "text/json"), (json.dumps(BODY), None)],
)  # fmt: skip
def test_body_that_is_not_json_typed_is_415(app, client, token, data, content_type):
    kwargs = {"content_type": content_type} if content_type else {}
    response = client.post(URL, data=data, headers=bearer(token), **kwargs)
    assert_json_error(response, 415)
    assert factories.share_count(app) == 0


def test_json_with_a_charset_is_accepted(app, client, token):
    response = client.post(URL, data=json.dumps(BODY), headers=bearer(token),
                           content_type="application/json; charset=utf-8")  # fmt: skip
    assert response.status_code == 201


@pytest.mark.parametrize(
    "raw", [b"", b"{", b"[]", b"null", b"42", b'"text"', b"[" * 5000 + b"]" * 5000, b"\xff\xfe"]
)
def test_body_that_is_not_a_json_object_is_400(app, client, token, raw):
    response = client.post(URL, data=raw, headers=bearer(token), content_type="application/json")
    assert_json_error(response, 400)
    assert factories.share_count(app) == 0


#: The most digits int() reads from text (4,300 unless configured), which keeps it linear.
INT_DIGITS = sys.get_int_max_str_digits()


def _with_integer(body: dict, digits: int, sign: str = "") -> bytes:
    """``body`` as JSON, with each "@" in it an integer of ``digits`` digits."""
    return json.dumps(body).replace('"@"', sign + "9" * digits).encode()


@pytest.mark.parametrize(
    ("field", "value", "sign", "message"),
    [
        ("source_id", "@", "", "The source id field must be between 1 and 9223372036854775807."),
        ("period", "@", "", "The period field must be between 0 and 36500."),
        (
            "remaining_quantity",
            "@",
            "-",
            "The remaining quantity field must be between 0 and 2147483647.",
        ),
        ("code", "@", "", "The code field must be a string."),
        ("meta", ["@"], "", "The meta field must be an array of strings."),
        ("is_cloneable", "@", "-", "The is cloneable field must be true or false."),
    ],
)
def test_an_integer_too_long_for_int_is_its_fields_422(
    app, client, token, field, value, sign, message
):
    """JSON puts no limit on an integer's digits: past int()'s, the body is still a JSON object
    (not the 400), and the field is refused as a shorter integer out of its range is."""
    for digits in (INT_DIGITS - 1, INT_DIGITS + 1, 60_000):
        raw = _with_integer({**BODY, field: value}, digits, sign)
        assert len(raw) < 64 * 1024
        # With a key too: its fingerprint is of the body as read.
        headers = bearer(token, **{"Idempotency-Key": f"long-{digits}"})
        response = client.post(URL, data=raw, headers=headers, content_type="application/json")
        assert_json_error(response, 422)
        assert response.get_json()["errors"] == {field: [message]}, digits
    assert factories.share_count(app) == 0


@pytest.mark.parametrize(
    ("method", "path", "body", "field", "message"),
    [
        ("put", "", {"period": "@"}, "period", "The period field must be between 0 and 36500."),
        ("post", "/claim", {"profile_id": "@", "code": "C"}, "profile_id",
         "The profile id field must be a string."),
        ("post", "/claim", {"profile_id": "c", "code": "C", "meta": ["@"]}, "meta",
         "The meta field must be an array of strings."),
        ("post", "/claim-check", {"profile_id": "c", "code": "@"}, "code",
         "The code field must be a string."),
    ],
)  # fmt: skip
def test_every_json_route_names_the_field_of_a_too_long_integer(
    app, client, token, method, path, body, field, message
):
    share_id = factories.share(app, code="C", is_cloneable=True, remaining_quantity=None)
    before = factories.share_data(app, share_id)
    headers = bearer(token, **{"Idempotency-Key": "long"})

    response = getattr(client, method)(
        f"{URL}/{share_id}{path}",
        data=_with_integer(body, INT_DIGITS + 1),
        headers=headers,
        content_type="application/json",
    )

    assert_json_error(response, 422)
    assert response.get_json()["errors"] == {field: [message]}
    assert factories.share_data(app, share_id) == before
    assert factories.claim_rows(app) == []


def test_an_unknown_field_may_hold_an_integer_too_long_for_int(app, client, token):
    raw = _with_integer({**BODY, "note": "@"}, INT_DIGITS + 1)
    headers = bearer(token, **{"Idempotency-Key": "long-note"})

    first, again = (
        client.post(URL, data=raw, headers=headers, content_type="application/json")
        for _ in range(2)
    )

    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert factories.share_count(app) == 1


# --- the OpenAPI document ----------------------------------------------------------------

CONTRACT_ROUTES = {
    "/api/v3/shares": {"get", "post"},
    "/api/v3/shares/{id}": {"get", "put", "delete"},
    "/api/v3/shares/{id}/claim": {"post"},
    # Part 2: the support desk's own routes.
    "/api/v3/shares/{id}/claim-check": {"post"},
    "/api/v3/shares/{id}/expire": {"post"},
    "/api/v3/claims": {"get"},
    "/api/v3/claims/{id}": {"get"},
    "/api/v3/events": {"get"},
}
CREATE_FIELDS = [
    "profile_id", "source_id", "source_type", "code", "timezone", "period", "period_type",
    "absolute_expiry", "expires_at", "quantity", "remaining_quantity", "meta", "is_cloneable",
]  # fmt: skip


@pytest.fixture
def document(app, token_for) -> dict:
    response = app.test_client().get("/api/v3/openapi.json", headers=bearer(token_for("viewer")))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def _resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _enum_values(schema: dict) -> set:
    """Every enum value a (possibly nullable) schema allows, null left out."""
    values = set(schema.get("enum", []))
    for part in schema.get("anyOf", []):
        values |= _enum_values(part)
    return values - {None}


def test_document_is_openapi_3_1_with_every_contract_route(document):
    assert document["openapi"] == "3.1.0"
    for path, methods in CONTRACT_ROUTES.items():
        assert path in document["paths"], path
        listed = set(document["paths"][path]) - {"parameters"}
        assert listed == methods, path
    assert set(document["paths"]) == set(CONTRACT_ROUTES)


def test_document_declares_bearer_security(document):
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    assert document["security"] == [{"bearer": []}]


def test_document_lists_errors_as_the_json_shape(document):
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["message"]
    assert error["properties"]["message"] == {"type": "string"}
    create = document["paths"]["/api/v3/shares"]["post"]["responses"]
    assert {"201", "400", "401", "403", "413", "415", "422", "429"} <= set(create)


def test_document_describes_the_429_as_it_is_sent(document, limited):
    refused = document["components"]["responses"]["TooManyRequests"]
    client = limited.test_client()
    token = factories.token(limited, "described", Role.AGENT)
    for _ in range(3):
        client.get(URL, headers=bearer(token))
    answer = client.get(URL, headers=bearer(token))

    assert answer.status_code == 429
    assert set(refused["headers"]) == {
        "Retry-After",
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
    }
    assert all(answer.headers[name].isdigit() for name in refused["headers"])
    for path in document["paths"].values():
        for method, operation in path.items():
            if method != "parameters":
                assert operation["responses"]["429"]["$ref"].endswith("/TooManyRequests")


RATE_LIMIT_HEADERS = {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}


def _operations(doc: dict) -> dict[str, dict]:
    """Every operation of the document, by its operationId."""
    return {
        operation["operationId"]: operation
        for item in doc["paths"].values()
        for method, operation in item.items()
        if method != "parameters"
    }


def _answer(doc: dict, operation: dict, status: str) -> dict:
    """An operation's response for ``status``, a shared one (``$ref``) looked up."""
    response = operation["responses"][status]
    if "$ref" in response:
        return doc["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    return response


def test_document_says_which_answers_carry_the_rate_limit_headers(document):
    """Every answer but the 401 and 403, which come before the count, and the 503, which may."""
    for operation_id, operation in _operations(document).items():
        for status in operation["responses"]:
            headers = _answer(document, operation, status).get("headers", {})
            declared = RATE_LIMIT_HEADERS & set(headers)
            if status in {"401", "403", "503"}:
                assert declared == set(), (operation_id, status)
            else:
                assert declared == RATE_LIMIT_HEADERS, (operation_id, status)
            for name in declared:
                assert headers[name]["schema"] == {"type": "integer", "minimum": 0}


def test_the_rate_limit_headers_are_sent_where_the_document_says(app, api, document, token_for):
    share_id = factories.share(app, code="C", is_cloneable=True, remaining_quantity=None)
    claim_id = factories.claim(app, share_id, "claimer-0")
    share = f"{URL}/{share_id}"
    claim = {"profile_id": "claimer-1", "code": "C"}
    viewer = bearer(token_for("viewer"))
    raw = {"headers": api.headers, "content_type": "application/json"}
    client = app.test_client()
    requests = {
        ("listShares", "200"): lambda: api.get(URL),
        ("addShare", "201"): lambda: api.post(URL, json=BODY),
        ("addShare", "400"): lambda: client.post(URL, data="{", **raw),
        ("addShare", "401"): lambda: client.post(URL, json=BODY),
        ("addShare", "403"): lambda: client.post(URL, json=BODY, headers=viewer),
        ("addShare", "413"): lambda: api.post(URL, json={**BODY, "meta": ["x" * 1000] * 70}),
        ("addShare", "415"): lambda: api.post(URL, data="{}", content_type="text/plain"),
        ("addShare", "422"): lambda: api.post(URL, json={}),
        ("getShare", "200"): lambda: api.get(share),
        ("getShare", "404"): lambda: api.get(f"{URL}/999999"),
        ("editShare", "200"): lambda: api.put(share, json={"meta": ["x"]}),
        ("claimShare", "201"): lambda: api.post(f"{share}/claim", json=claim),
        ("claimShare", "422"): lambda: api.post(f"{share}/claim", json={**claim, "code": "D"}),
        ("checkClaim", "200"): lambda: api.post(f"{share}/claim-check", json=claim),
        ("listClaims", "200"): lambda: api.get("/api/v3/claims"),
        ("getClaim", "200"): lambda: api.get(f"/api/v3/claims/{claim_id}"),
        ("listEvents", "200"): lambda: api.get("/api/v3/events"),
        ("expireShare", "200"): lambda: api.post(f"{share}/expire"),
        ("deleteShare", "204"): lambda: api.delete(share),
    }
    operations = _operations(document)

    for (operation_id, status), send in requests.items():
        response = send()
        assert response.status_code == int(status), (operation_id, response.get_json())
        documented = _answer(document, operations[operation_id], status).get("headers", {})
        sent = {name for name in RATE_LIMIT_HEADERS if name in response.headers}
        assert sent == RATE_LIMIT_HEADERS & set(documented), (operation_id, status)
        assert all(response.headers[name].isdigit() for name in sent)


def test_document_says_which_answers_can_be_replayed(app, api, document):
    """A create's first answer (the share) and a claim's (the claim, or the rules' 422) come
    again to a retry with the same Idempotency-Key, saying so."""
    operations = _operations(document)
    replayable = {
        (operation_id, status)
        for operation_id, operation in operations.items()
        for status in operation["responses"]
        if "Idempotent-Replayed" in _answer(document, operation, status).get("headers", {})
    }
    assert replayable == {("addShare", "201"), ("claimShare", "201"), ("claimShare", "422")}
    created = operations["addShare"]["responses"]["201"]["headers"]
    assert set(created) == {"Location", "Idempotent-Replayed", *RATE_LIMIT_HEADERS}

    share_id = factories.share(app, code="C", is_cloneable=True, remaining_quantity=None)
    claim = f"{URL}/{share_id}/claim"
    requests = {
        ("addShare", "201"): lambda key: api.post(URL, json=BODY, headers=key),
        ("claimShare", "201"): lambda key: api.post(
            claim, json={"profile_id": "c", "code": "C"}, headers=key
        ),
        ("claimShare", "422"): lambda key: api.post(
            claim, json={"profile_id": "c", "code": "D"}, headers=key
        ),
    }
    for (operation_id, status), send in requests.items():
        key = {"Idempotency-Key": f"{operation_id}-{status}"}
        first, again = send(key), send(key)
        assert first.status_code == again.status_code == int(status)
        assert again.get_json() == first.get_json()
        assert "Idempotent-Replayed" not in first.headers
        header = _answer(document, operations[operation_id], status)["headers"]
        validator = jsonschema_rs.validator_for(header["Idempotent-Replayed"]["schema"])
        assert validator.is_valid(again.headers["Idempotent-Replayed"])
    assert factories.share_count(app) == 2
    assert len(factories.claim_rows(app)) == 1


def test_document_enums_come_from_the_enums(document):
    schemas = document["components"]["schemas"]
    create = schemas["ShareCreate"]["properties"]
    source_types = _enum_values(create["source_type"])
    period_types = _enum_values(create["period_type"])
    assert source_types == {member.value for member in SourceType}
    assert len(source_types) == 36
    assert period_types == {member.value for member in PeriodType}
    assert len(period_types) == 7
    share = schemas["Share"]["properties"]
    assert _enum_values(share["source_type"]) == source_types
    assert _enum_values(share["period_type"]) == period_types
    assert _enum_values(schemas["ShareEdit"]["properties"]["period_type"]) == period_types
    params = {p["name"]: p for p in document["paths"]["/api/v3/shares"]["get"]["parameters"]}
    assert _enum_values(params["filter[source_type]"]["schema"]) - {""} == source_types


def test_document_create_body_has_every_field(document):
    operation = document["paths"]["/api/v3/shares"]["post"]
    body = _resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])
    assert list(body["properties"]) == CREATE_FIELDS
    assert body["required"] == ["profile_id", "source_id", "source_type"]
    assert operation["requestBody"]["required"] is True
    header = {p["name"]: p for p in operation["parameters"]}["Idempotency-Key"]
    assert header["in"] == "header" and header["schema"]["maxLength"] == 255


def test_document_edit_and_claim_bodies(document):
    schemas = document["components"]["schemas"]
    assert set(schemas["ShareEdit"]["properties"]) == {
        "code", "period", "period_type", "absolute_expiry", "expires_at", "meta",
    }  # fmt: skip
    assert "required" not in schemas["ShareEdit"]
    assert set(schemas["ClaimRequest"]["properties"]) == {"profile_id", "code", "meta"}
    assert schemas["ClaimRequest"]["required"] == ["profile_id", "code"]


def test_document_digit_strings_match_what_the_api_accepts(document):
    """Integer fields also take ASCII digits; the document's pattern is the API's rule."""
    create = document["components"]["schemas"]["ShareCreate"]["properties"]

    def digits(schema: dict) -> re.Pattern:
        for part in schema.get("anyOf", []):
            if part.get("type") == "string":
                return re.compile(part["pattern"])
            if "anyOf" in part:
                return digits(part)
        raise AssertionError(f"no digits form in {schema}")

    source_id = digits(create["source_id"])
    assert source_id.search("12") and source_id.search("0012")
    assert not any(source_id.search(s) for s in ("0", "-1", "", "1.0", " 1", "\u0661"))
    assert source_id.search(str(2**63 - 1)) and not source_id.search(str(2**63))
    quantity = digits(create["quantity"])
    assert quantity.search("1") and quantity.search("01") and not quantity.search("2")
    period = digits(create["period"])
    assert period.search("0") and period.search("36500") and not period.search("36501")


@pytest.mark.parametrize(
    ("text", "blank"),
    [("\x1f", True), ("\x1c \x85", True), ("\u3000\t", True), (" ", True), ("\ufeff", False)],
)
def test_document_calls_blank_what_the_api_calls_blank(document, client, token, text, blank):
    """A required text field blank after trimming (str.strip()) is missing, and the document
    says so as a JSON Schema validator reads it (whose \\s lacks U+001F, which a fuzzer sent
    as a valid profile id, and has U+FEFF, which strip() keeps)."""
    required = document["components"]["schemas"]["ShareCreate"]["properties"]["profile_id"]
    assert jsonschema_rs.validator_for(required).is_valid(text) is not blank
    response = client.post(URL, json={**BODY, "profile_id": text}, headers=bearer(token))
    if blank:
        assert response.status_code == 422
        assert response.get_json()["errors"] == {
            "profile_id": ["The profile id field is required."]
        }
    else:
        assert response.status_code == 201


def test_document_without_a_token_is_401(app):
    assert_json_error(app.test_client().get("/api/v3/openapi.json"), 401)


def test_document_matches_the_code_that_builds_it(app, document):
    from webapp import openapi

    with app.test_request_context():
        assert document == json.loads(json.dumps(openapi.document()))


def test_docs_page_lists_every_operation_for_a_viewer(client_as, document):
    page = client_as("viewer").get("/docs/api")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            assert f'id="{operation["operationId"]}"' in html
            assert f"{method.upper()} {path}" in html
    for field in CREATE_FIELDS:
        assert f"<code>{field}</code>" in html
    assert "product_list_reservation" in html


def test_docs_page_needs_a_session(anon_client):
    response = anon_client.get("/docs/api")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")
    assert "next=/docs/api" in response.headers["Location"].replace("%2F", "/")


def test_share_row_is_untouched_by_refused_requests(app, client, token):
    """No error changes stored data: one row, then a battery of refused writes."""
    created = client.post(URL, json={**BODY, "code": "KEEP"}, headers=bearer(token))
    share_id = created.get_json()["data"]["id"]
    with app.app_context():
        before = db.session.get(Share, share_id).to_dict()
    refused = [
        client.put(f"{URL}/{share_id}", data="{", headers=bearer(token),
                   content_type="application/json"),
        client.put(f"{URL}/{share_id}", json={"code": "x" * 256}, headers=bearer(token)),
        client.put(f"{URL}/{share_id}", data="code=x", headers=bearer(token),
                   content_type="application/x-www-form-urlencoded"),
        client.put(f"{URL}/{share_id}", json={"code": "NEW"}, headers=bearer("nope")),
        client.delete(f"{URL}/{share_id}", headers=bearer(factories.token(app, "v", Role.AGENT))),
    ]  # fmt: skip
    assert [r.status_code for r in refused] == [400, 422, 415, 401, 403]
    with app.app_context():
        assert db.session.get(Share, share_id).to_dict() == before
