"""A real server process on a real port, for tests that need true concurrency."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import TEST_SECRET, make_app
from webapp.extensions import db
from webapp.models import ApiToken


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """`flask run` with threads, on SQLite in WAL mode; yields (base_url, token, app)."""
    database = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    app = make_app(tmp_path, DATABASE_URL=database)
    with app.app_context():
        row, token = ApiToken.issue("live-tests")
        db.session.add(row)
        db.session.commit()
        assert db.session.execute(db.text("PRAGMA journal_mode")).scalar() == "wal"
    port = free_port()
    env = {
        **os.environ,
        "WEBAPP_DATABASE_URL": database,
        "WEBAPP_SECRET_KEY": TEST_SECRET,
        "WEBAPP_INSTANCE_PATH": str(tmp_path / "instance"),
    }
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
        stderr=subprocess.PIPE,
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
                pytest.fail(f"server did not start: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)
    yield base, token, app
    process.terminate()
    process.wait(timeout=10)
    with app.app_context():
        db.engine.dispose()
