"""What operators watch, through gunicorn as `make serve` runs it: /metrics adds up both
workers' counts, and with WEBAPP_LOG_FORMAT=json every line of the server's log is a JSON object
that names its request."""

from __future__ import annotations

import json
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

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


def sign_ins_counted(base: str) -> float:
    """``sharedesk_http_requests_total`` for GET /sign-in 200, read with prometheus_client's own
    parser from whichever worker answers."""
    status, _headers, text = get(base + "/metrics")
    assert status == 200
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "sharedesk_http_requests_total" and sample.labels == {
                "endpoint": "auth.sign_in",
                "method": "GET",
                "status": "200",
            }:
                return sample.value
    return 0


def test_metrics_count_the_requests_of_both_workers(gunicorn_server):
    server, _token, _app = gunicorn_server
    sent = 0
    with ThreadPoolExecutor(max_workers=8) as pool:
        # Concurrent requests on fresh connections, until both workers have answered some.
        while len(set(server.answered_by("GET", "/sign-in", 200))) < server.workers:
            assert sent < 20 * BATCH, "one worker answered every request"
            answers = list(pool.map(lambda _: get(server.base + "/sign-in"), range(BATCH)))
            assert [status for status, _, _ in answers] == [200] * BATCH
            sent += BATCH
            time.sleep(0.2)  # a request's line is written once its body is sent
    assert sorted(set(server.answered_by("GET", "/sign-in", 200))) == sorted(server.worker_pids())
    # Counted when each body was done: wait for the last to be sent.
    deadline = time.monotonic() + 10
    while (counted := sign_ins_counted(server.base)) < sent and time.monotonic() < deadline:
        time.sleep(0.1)
    assert counted == sent
    assert server.log_errors() == []


def test_without_a_metrics_directory_each_server_makes_its_own_and_removes_it(tmp_path):
    """As `make serve` runs: gunicorn.conf.py makes a directory for the workers' counts, and the
    server removes it when it stops."""
    app = make_app(tmp_path)
    env = server_env(app, tmp_path, PROMETHEUS_MULTIPROC_DIR="", PYTHONUNBUFFERED="1")
    server = Gunicorn(free_port(), env, tmp_path)
    try:
        server.start()
        for _ in range(BATCH):
            get(server.base + "/sign-in")
        # The workers map their count files into memory: that is where the directory is.
        mapped = {
            Path(line.split()[-1]).parent
            for pid in server.worker_pids()
            for line in Path(f"/proc/{pid}/maps").read_text().splitlines()
            if line.endswith(".db")
        }
        (directory,) = mapped
        assert directory.name.startswith("share-desk-metrics-")
        deadline = time.monotonic() + 10
        while sign_ins_counted(server.base) < BATCH and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sign_ins_counted(server.base) == BATCH
        assert list(directory.glob("counter_*.db"))  # a file per worker that has answered
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()
    assert not directory.exists()
    assert server.log_errors() == []


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
