"""What operators watch, in process: Server-Timing and X-Request-ID on every response, log
lines with the request's id (text and JSON), and /metrics (who may read it, what it counts).

The same through gunicorn, with its two workers: tests/live/test_telemetry_gunicorn.py.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests import factories
from tests.conftest import TEST_SECRET, signed_in
from tests.contract import bearer
from tests.database import unreachable_url
from webapp import create_app
from webapp.auth import requires
from webapp.clock import utcnow
from webapp.enums import Role
from webapp.telemetry import logs

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
    """The response with its body read and closed, as a server does: its log line and metrics
    are written then."""
    response.get_data()
    response.close()
    return response


# --- Server-Timing and X-Request-ID ---------------------------------------------------------


def test_every_kind_of_response_carries_server_timing_and_a_request_id(
    app, client, anon_client, api
):
    share_id = factories.share(app)
    # Each read to its end as it comes, as a browser would: a stream still open keeps its
    # request, and a request sent meanwhile would run inside it.
    responses = {
        "page": finished(client.get("/shares")),
        "detail": finished(client.get(f"/shares/{share_id}")),
        "csv stream": finished(client.get("/shares/export.csv")),
        "redirect to sign-in": finished(anon_client.get("/shares")),
        "sign-in page": finished(anon_client.get("/sign-in")),
        "html 404": finished(client.get("/no-such-page")),
        "html 405": finished(client.put("/shares")),
        "static file": finished(anon_client.get("/static/css/app.css")),
        "health": finished(anon_client.get("/healthz")),
        "metrics": finished(anon_client.get("/metrics")),
        "api list": finished(api.get("/api/v3/shares")),
        "api 401": finished(anon_client.get("/api/v3/shares")),
        "api 422": finished(api.post("/api/v3/shares", json={})),
        "api 404": finished(api.get("/api/v3/shares/424242")),
    }
    ids = set()
    for name, response in responses.items():
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


# --- log lines --------------------------------------------------------------------------------


@pytest.fixture
def log_format(app):
    """``log_format("json")``: this process logs a line per request in that format until the
    test ends."""

    def switch(name: str):
        app.config.update(LOG_FORMAT=name, LOG_LEVEL="INFO")
        logs.init_app(app)

    yield switch
    app.config.update(LOG_FORMAT="text", LOG_LEVEL="WARNING")
    logs.init_app(app)


def test_text_request_lines_carry_the_request_id_and_who_asked(client, log_format, capsys):
    log_format("text")
    capsys.readouterr()
    response = finished(client.get("/shares?filter[search]=SECRET-CODE"))
    lines = capsys.readouterr().err.splitlines()
    request_id = response.headers["X-Request-ID"]
    (line,) = [line for line in lines if request_id in line]
    assert "INFO in webapp.request (pid " in line
    assert re.search(
        rf"request {request_id}\): GET /shares 200 in \d+\.\d ms "
        r"\(db \d+\.\d ms, \d+ quer(y|ies)\) by admin-\w+@example\.com from 127\.0\.0\.1$",
        line,
    ), line
    assert "SECRET-CODE" not in line  # the query string stays out of the logs


def test_json_request_lines_parse_and_carry_the_request_id(client, api, log_format, capsys):
    log_format("json")
    capsys.readouterr()
    page = finished(client.get("/shares"))
    listed = finished(api.get("/api/v3/shares"))
    missing = finished(client.get("/no-such-page"))
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    by_id = {line["request_id"]: line for line in lines}
    line = by_id[page.headers["X-Request-ID"]]
    assert set(line) >= {
        "time",
        "level",
        "logger",
        "pid",
        "message",
        "request_id",
        "method",
        "path",
        "status",
        "duration_ms",
        "db_ms",
        "queries",
        "endpoint",
        "actor",
        "remote_addr",
    }
    assert line["level"] == "INFO"
    assert line["logger"] == "webapp.request"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00", line["time"])
    assert (line["method"], line["path"], line["status"]) == ("GET", "/shares", 200)
    assert line["endpoint"] == "shares.list_shares"
    assert line["actor"].endswith("@example.com")
    assert line["remote_addr"] == "127.0.0.1"
    assert line["duration_ms"] >= line["db_ms"] > 0
    assert line["queries"] >= 3
    assert by_id[listed.headers["X-Request-ID"]]["actor"] == "token:tests"
    assert by_id[missing.headers["X-Request-ID"]]["status"] == 404
    assert by_id[missing.headers["X-Request-ID"]]["endpoint"] is None


def test_a_warning_within_a_request_carries_its_request_id(tmp_path, log_format, capsys):
    # The database cannot be opened: errors.py warns, then answers 503.
    broken = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": TEST_SECRET,
            "DATABASE_URL": unreachable_url(tmp_path),
            "LOG_FORMAT": "json",
        }
    )
    capsys.readouterr()
    response = finished(
        broken.test_client().get("/api/v3/shares", headers={"Authorization": "Bearer sd_x"})
    )
    assert response.status_code == 503
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    request_id = response.headers["X-Request-ID"]
    (warning,) = [line for line in lines if line["level"] == "WARNING"]
    assert warning["request_id"] == request_id
    assert warning["message"].startswith("Database unavailable on GET /api/v3/shares")
    assert (warning["method"], warning["path"]) == ("GET", "/api/v3/shares")
    (request_line,) = [line for line in lines if line["logger"] == "webapp.request"]
    assert (request_line["request_id"], request_line["status"]) == (request_id, 503)


def test_a_json_line_outside_any_request_says_so_in_its_request_id(app_with, capsys):
    """gunicorn's own lines (booting a worker, a signal) belong to no request: the field is
    there all the same, as ``-``, so a log collector can rely on it."""
    app = app_with(LOG_FORMAT="json")
    capsys.readouterr()
    app.logger.warning("outside any request")
    (line,) = [json.loads(text) for text in capsys.readouterr().err.splitlines()]
    assert (line["message"], line["request_id"]) == ("outside any request", "-")
    assert "method" not in line


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"LOG_FORMAT": "yaml"}, "LOG_FORMAT 'yaml' is not one of text, json"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL 'loud' is not one of DEBUG, INFO, WARNING, ERROR"),
    ],
)
def test_an_unknown_log_format_or_level_stops_the_app(app_with, setting, message):
    with pytest.raises(RuntimeError, match=message):
        app_with(**setting)


def test_at_warning_level_requests_write_no_line(client, log_format, capsys):
    log_format("text")
    capsys.readouterr()
    client.application.config["LOG_LEVEL"] = "WARNING"
    finished(client.get("/shares"))
    assert capsys.readouterr().err == ""
    client.application.config["LOG_LEVEL"] = "INFO"
    finished(client.get("/shares"))
    assert "GET /shares 200 in " in capsys.readouterr().err


# --- /metrics ---------------------------------------------------------------------------------


def scrape(client, **kwargs) -> dict:
    """/metrics parsed by prometheus_client's own parser: {(name, labels): value}."""
    response = finished(client.get("/metrics", **kwargs))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-store"
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def requests_counted(samples: dict, endpoint: str, status: str, method: str = "GET") -> float:
    labels = (("endpoint", endpoint), ("method", method), ("status", status))
    return samples.get(("sharedesk_http_requests_total", labels), 0)


def test_metrics_count_requests_by_endpoint_and_status(client, anon_client):
    before = scrape(anon_client)
    for _ in range(3):
        finished(client.get("/shares"))
    finished(client.get("/shares/424242"))
    finished(client.get("/no-such-page"))
    finished(client.open("/shares", method="BREW"))
    after = scrape(anon_client)

    def added(endpoint, status, method="GET"):
        return requests_counted(after, endpoint, status, method) - requests_counted(
            before, endpoint, status, method
        )

    assert added("shares.list_shares", "200") == 3
    assert added("shares.show_share", "404") == 1
    assert added("unmatched", "404") == 1
    # Neither a label per odd method nor per path that matched no route.
    assert added("unmatched", "405", method="other") == 1
    assert added("metrics.metrics", "200") == 1  # the first scrape, counted once it was sent
    buckets = {
        dict(labels)["le"]: value
        for (name, labels), value in after.items()
        if name == "sharedesk_http_request_duration_seconds_bucket"
        and dict(labels)["endpoint"] == "shares.list_shares"
        and dict(labels)["status"] == "200"
    }
    assert buckets["+Inf"] >= 3
    assert list(buckets.values()) == sorted(buckets.values())  # cumulative, as Prometheus reads
    labels = (("endpoint", "shares.list_shares"), ("method", "GET"))
    database = "sharedesk_http_request_database_seconds_total"
    assert after[(database, labels)] > before.get((database, labels), 0)


def test_metrics_show_shares_by_status_and_the_last_days_claims(app, anon_client):
    now = utcnow()
    factories.shares(
        app,
        {},  # active, never expires
        {"expires_at": now + timedelta(days=3)},
        {"expires_at": now - timedelta(days=3)},  # expired
        {"expires_at": now - timedelta(minutes=5)},  # expired today
        {"remaining_quantity": 0},  # exhausted
    )
    share_id = factories.share(app, is_cloneable=True, remaining_quantity=None)
    factories.claim(app, share_id, "claimer-1")
    factories.claim(app, share_id, "claimer-2")
    factories.claim(app, share_id, "claimer-old", claimed_at=now - timedelta(hours=25))
    samples = scrape(anon_client)
    assert samples[("sharedesk_shares", (("status", "active"),))] == 3
    assert samples[("sharedesk_shares", (("status", "expired"),))] == 2
    assert samples[("sharedesk_shares", (("status", "exhausted"),))] == 1
    assert samples[("sharedesk_claims_last_24_hours", ())] == 2
    assert samples[("sharedesk_database_up", ())] == 1


def test_metrics_without_the_database_still_answer(tmp_path):
    broken = create_app(
        {"TESTING": True, "SECRET_KEY": TEST_SECRET, "DATABASE_URL": unreachable_url(tmp_path)}
    )
    samples = scrape(broken.test_client())
    assert samples[("sharedesk_database_up", ())] == 0
    assert not [name for name, _ in samples if name == "sharedesk_shares"]


ELSEWHERE = {"REMOTE_ADDR": "203.0.113.7"}


def test_metrics_refuse_other_machines(anon_client):
    response = finished(anon_client.get("/metrics", environ_base=ELSEWHERE))
    assert response.status_code == 403
    assert "sharedesk_" not in response.get_data(as_text=True)


def test_metrics_refuse_a_request_forwarded_by_an_untrusted_proxy(anon_client):
    # A proxy on this machine passes on requests from anywhere: with no proxy trusted, a
    # forwarded request is not taken for a local one.
    response = finished(anon_client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}))
    assert response.status_code == 403


def test_metrics_behind_a_trusted_proxy_go_by_the_clients_address(app_with):
    client = app_with(TRUSTED_PROXIES=1).test_client()
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    outsider = client.get("/metrics", environ_base=proxy, headers={"X-Forwarded-For": "8.8.8.8"})
    assert finished(outsider).status_code == 403
    local = client.get("/metrics", environ_base=proxy, headers={"X-Forwarded-For": "127.0.0.1"})
    assert finished(local).status_code == 200


def test_metrics_token_lets_other_machines_in(app_with):
    token = "metrics-" + "k" * 24
    client = app_with(METRICS_TOKEN=token).test_client()
    for header in (None, "Bearer wrong-token-of-some-length", f"Basic {token}", token):
        headers = {"Authorization": header} if header else {}
        response = finished(client.get("/metrics", environ_base=ELSEWHERE, headers=headers))
        assert response.status_code == 401, header
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert "sharedesk_" not in response.get_data(as_text=True)
    samples = scrape(client, environ_base=ELSEWHERE, headers=bearer(token))
    assert ("sharedesk_database_up", ()) in samples
    # This machine needs no token.
    assert scrape(client)[("sharedesk_database_up", ())] == 1


def test_a_short_metrics_token_stops_the_app(app_with):
    with pytest.raises(RuntimeError, match="METRICS_TOKEN must be at least 16 characters"):
        app_with(METRICS_TOKEN="short")
