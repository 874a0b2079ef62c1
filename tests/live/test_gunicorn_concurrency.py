"""gunicorn as `make serve` runs it: health, and many creates at once across its workers."""

from __future__ import annotations

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from tests import database
from tests.conftest import TEST_SECRET
from tests.live.helpers import Gunicorn, call, free_port, share_body
from webapp.db import tallies
from webapp.extensions import db
from webapp.models import AuditEvent, Share

CLIENTS = 50
CREATES_EACH = 4  # 200 creates in all


def test_healthz_reports_the_database_reachable(gunicorn_server):
    server, _, _ = gunicorn_server
    assert call(server.base, None, "GET", "/healthz") == (
        200,
        {"status": "ok", "database": "reachable"},
    )
    assert len(server.members()) == 1 + server.workers  # the master and its workers
    assert server.log_errors() == []


def test_healthz_reports_an_unreachable_database(tmp_path):
    # The same check through gunicorn, with a database that cannot be opened: 503, not 200.
    env = {
        "PATH": "/usr/bin:/bin",
        "WEBAPP_DATABASE_URL": database.unreachable_url(tmp_path),
        "WEBAPP_SECRET_KEY": TEST_SECRET,
        "WEBAPP_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    server = Gunicorn(free_port(), env, tmp_path, workers=1, threads=2)
    try:
        assert server.start() == (503, {"status": "error", "database": "unreachable"})
    finally:
        server.stop()


def test_concurrent_creates_through_gunicorn_are_all_stored(gunicorn_server):
    server, token, app = gunicorn_server
    run = f"gunicorn-{secrets.token_hex(4)}"
    start = threading.Barrier(CLIENTS)

    def client(number: int) -> list[tuple[int, dict]]:
        start.wait(timeout=30)
        return [
            call(server.base, token, "POST", "/api/v3/shares", share_body(f"{run}-{number}-{n}"))
            for n in range(CREATES_EACH)
        ]

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = [answer for answers in pool.map(client, range(CLIENTS)) for answer in answers]

    total = CLIENTS * CREATES_EACH
    assert [status for status, _ in results] == [201] * total, [
        body for status, body in results if status != 201
    ][:3]
    answered = {(body["data"]["id"], body["data"]["handle"]) for _, body in results}
    assert len({share_id for share_id, _ in answered}) == total
    assert len({handle for _, handle in answered}) == total
    with app.app_context():
        stored = db.session.execute(
            sa.select(Share.id, Share.handle).where(Share.profile_id.startswith(run))
        ).all()
        audited = db.session.scalars(
            sa.select(AuditEvent.share_id).where(
                AuditEvent.action == "create", AuditEvent.share_id.in_([i for i, _ in answered])
            )
        ).all()
    assert {tuple(row) for row in stored} == answered
    assert sorted(audited) == sorted(share_id for share_id, _ in answered)
    # Concurrent writers kept the list totals' tallies exact (and, on PostgreSQL, deadlock-free).
    with app.app_context(), db.engine.connect() as connection:
        tallied = tallies.stored(connection)
        assert tallied == tallies.counted(connection) and tallied[("all", "")] == total

    assert server.log_errors() == []
    creates = server.answered_by("POST", "/api/v3/shares", 201)
    assert len(creates) == total
    # Both workers answered: the writes really did meet across processes.
    assert len(set(creates)) == server.workers
