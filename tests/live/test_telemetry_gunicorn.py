"""What operators watch, through gunicorn as `make serve` runs it: with WEBAPP_LOG_FORMAT=json
every line of the server's log is a JSON object that names its request."""

from __future__ import annotations

import json
import time
import urllib.request

from tests.conftest import make_app
from tests.live.conftest import server_env
from tests.live.helpers import Gunicorn, free_port
from webapp.extensions import db

BATCH = 16


def get(url: str, headers: dict[str, str] | None = None):
    """One GET on a connection of its own (so the kernel may hand it to either worker)."""
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.headers, response.read().decode()


def test_json_logs_through_gunicorn_name_each_request(tmp_path):
    app = make_app(tmp_path)
    env = server_env(
        app, tmp_path, WEBAPP_LOG_FORMAT="json", WEBAPP_TRUSTED_PROXIES="1", PYTHONUNBUFFERED="1"
    )
    server = Gunicorn(free_port(), env, tmp_path)
    try:
        server.start()
        status, headers, _ = get(server.base + "/sign-in", {"X-Request-ID": "proxy-req-0001"})
        assert status == 200
        assert headers["X-Request-ID"] == "proxy-req-0001"
        assert headers["Server-Timing"].startswith("app;dur=")
        deadline = time.monotonic() + 10
        while "proxy-req-0001" not in server.log() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()
    lines = [json.loads(line) for line in server.log().splitlines() if line.strip()]
    assert all({"time", "level", "logger", "pid", "message"} <= set(line) for line in lines)
    (request_line,) = [line for line in lines if line.get("request_id") == "proxy-req-0001"]
    assert request_line["logger"] == "webapp.request"
    assert (request_line["method"], request_line["path"]) == ("GET", "/sign-in")
    assert (request_line["status"], request_line["actor"]) == (200, None)
    assert request_line["duration_ms"] > 0
    assert request_line["pid"] in {
        line["pid"] for line in lines if "Booting worker" in line["message"]
    }
    # gunicorn's own lines are JSON too, and there is no second (access) line for the request.
    assert any(line["logger"] == "gunicorn.error" for line in lines)
    assert not [
        line for line in lines if "/sign-in" in line["message"] and line is not request_line
    ]
    assert [line for line in lines if line["level"] in ("ERROR", "CRITICAL")] == []
