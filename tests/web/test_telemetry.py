"""What operators watch, in process: Server-Timing and X-Request-ID on every response."""

from __future__ import annotations

import re

import pytest

from tests import factories
from tests.conftest import signed_in
from webapp.auth import requires
from webapp.enums import Role

SERVER_TIMING = re.compile(
    r'app;dur=(?P<app>\d+\.\d{3}), db;dur=(?P<db>\d+\.\d{3});desc="(?P<queries>\d+) quer(y|ies)"'
)
GENERATED_ID = re.compile(r"[0-9a-f]{32}")


def timing_of(response) -> tuple[float, float, int]:
    """(app ms, db ms, queries) from the response's Server-Timing header."""
    found = SERVER_TIMING.fullmatch(response.headers["Server-Timing"])
    assert found, response.headers["Server-Timing"]
    return float(found["app"]), float(found["db"]), int(found["queries"])


def finished(response):
    """The response with its body read and closed, as a server does."""
    response.get_data()
    response.close()
    return response


# --- Server-Timing and X-Request-ID ---------------------------------------------------------


def test_every_kind_of_response_carries_server_timing_and_a_request_id(
    app, client, anon_client, api
):
    share_id = factories.share(app)
    responses = {
        "page": client.get("/shares"),
        "detail": client.get(f"/shares/{share_id}"),
        "csv stream": client.get("/shares/export.csv"),
        "redirect to sign-in": anon_client.get("/shares"),
        "sign-in page": anon_client.get("/sign-in"),
        "html 404": client.get("/no-such-page"),
        "html 405": client.put("/shares"),
        "static file": anon_client.get("/static/css/app.css"),
        "health": anon_client.get("/healthz"),
        "api list": api.get("/api/v3/shares"),
        "api 401": anon_client.get("/api/v3/shares"),
        "api 422": api.post("/api/v3/shares", json={}),
        "api 404": api.get("/api/v3/shares/424242"),
    }
    ids = set()
    for name, response in responses.items():
        finished(response)
        app_ms, db_ms, queries = timing_of(response)
        assert app_ms > 0, name
        assert 0 <= db_ms <= app_ms, name
        request_id = response.headers["X-Request-ID"]
        assert GENERATED_ID.fullmatch(request_id), (name, request_id)
        ids.add(request_id)
    assert len(ids) == len(responses), "a request id was used twice"
    # The database's share counts what was asked of it.
    assert timing_of(responses["health"])[2] == 1  # SELECT 1
    assert timing_of(responses["static file"])[1:] == (0.0, 0)
    assert timing_of(responses["page"])[2] >= 3  # the staff member, the total, the rows


def test_a_view_cannot_forge_the_timing_or_the_id(app_with):
    app = app_with()

    @requires(Role.VIEWER)
    def forged():
        return "", 204, {"Server-Timing": "app;dur=0", "X-Request-ID": "forged"}

    app.add_url_rule("/forged", "forged", forged)
    response = finished(signed_in(app, Role.VIEWER).get("/forged"))
    assert response.status_code == 204
    (server_timing,) = response.headers.getlist("Server-Timing")
    assert SERVER_TIMING.fullmatch(server_timing)
    (request_id,) = response.headers.getlist("X-Request-ID")
    assert GENERATED_ID.fullmatch(request_id)


def test_a_request_id_from_a_trusted_proxy_is_kept(app_with):
    client = app_with(TRUSTED_PROXIES=1).test_client()
    given = "req-2026-12-01T10:00:00Z/abc+1=="
    response = finished(client.get("/healthz", headers={"X-Request-ID": given}))
    assert response.headers["X-Request-ID"] == given


@pytest.mark.parametrize(
    "given",
    ["has space", "x" * 201, "tab\there", "é-accented", ""],
    ids=["space", "201 chars", "tab", "non-ascii", "empty"],
)
def test_a_request_id_a_proxy_should_not_send_is_replaced(app_with, given):
    client = app_with(TRUSTED_PROXIES=1).test_client()
    response = finished(client.get("/healthz", headers={"X-Request-ID": given}))
    assert GENERATED_ID.fullmatch(response.headers["X-Request-ID"])


def test_a_request_id_from_the_client_itself_is_not_trusted(anon_client):
    # No proxy is trusted by default: anyone could write anything into the logs.
    response = finished(anon_client.get("/healthz", headers={"X-Request-ID": "mine-123"}))
    assert GENERATED_ID.fullmatch(response.headers["X-Request-ID"])
