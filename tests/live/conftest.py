"""A real server process on a real port, for tests that need true concurrency."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import urllib.request

import pytest

from tests import factories
from tests.conftest import TEST_SECRET, make_app
from tests.live.helpers import Gunicorn, free_port
from webapp.enums import Role
from webapp.extensions import db


def server_env(app, tmp_path, **extra: str) -> dict[str, str]:
    """The environment of a server process on ``app``'s database, as a deployment sets it."""
    return {
        **os.environ,
        "WEBAPP_DATABASE_URL": app.config["DATABASE_URL"],
        "WEBAPP_SECRET_KEY": TEST_SECRET,
        "WEBAPP_INSTANCE_PATH": str(tmp_path / "instance"),
        **extra,
    }


@pytest.fixture
def server(tmp_path):
    """`flask run` with threads, on the test app's database; yields (base_url, token, app).

    SQLite runs in WAL mode; with WEBAPP_TEST_DATABASE_URL, both use the same PostgreSQL schema.
    """
    app = make_app(tmp_path)
    token = factories.token(app, "live-tests", Role.AGENT)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            assert db.session.execute(db.text("PRAGMA journal_mode")).scalar() == "wal"
    port = free_port()
    env = server_env(app, tmp_path)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "webapp",
            "run",
            "--port",
            str(port),
            "--with-threads",
            "--no-reload",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        # A file, not a pipe: nobody drains a pipe, and a full one would block the server.
        stderr=(log := (tmp_path / "flask-run.log").open("wb")),
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(base + "/shares", timeout=1)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                text = (tmp_path / "flask-run.log").read_text(errors="replace")
                pytest.fail(f"server did not start: {text[-2000:]}")
            time.sleep(0.1)
    yield base, token, app
    process.terminate()
    process.wait(timeout=10)
    log.close()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def gunicorn_server(tmp_path):
    """gunicorn as `make serve` runs it (2 workers, 8 threads each) on the test app's database
    (a SQLite file, or a PostgreSQL schema); yields (Gunicorn, agent token, app), serving."""
    app = make_app(tmp_path)
    token = factories.token(app, f"gunicorn-{secrets.token_hex(4)}", Role.AGENT)
    env = server_env(
        app,
        tmp_path,
        # These tests load the server, not the rate limiter.
        WEBAPP_API_RATE_LIMIT="100000 per minute",
        PYTHONUNBUFFERED="1",
    )
    server = Gunicorn(free_port(), env, tmp_path)
    try:
        status, body = server.start()
        if status != 200:
            pytest.fail(f"/healthz answered {status} {body}:\n{server.log()[-3000:]}")
        yield server, token, app
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()
