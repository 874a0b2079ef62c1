"""gunicorn killed mid-stream (SIGKILL): every acknowledged create survives, and retries with
the same Idempotency-Key settle every unanswered one exactly once."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from tests import factories
from tests.live.helpers import NO_ANSWER, call, share_body
from webapp.db import tallies
from webapp.extensions import db
from webapp.models import AuditEvent, Share

CLIENTS = 6
MAX_EACH = 500  # a bound, never reached: the stream stops soon after the kill
ACKED_BEFORE_KILL = 60


@dataclass
class Attempt:
    profile_id: str  # unique per attempt, and its Idempotency-Key
    status: int | None  # None: no answer (refused, reset, cut short)
    share_id: int | None = None
    handle: str | None = None
    sent_when_down: bool = False  # sent once no gunicorn process was left


def create(server, token, profile_id: str, timeout: float = 5) -> tuple[int, dict]:
    return call(
        server.base,
        token,
        "POST",
        "/api/v3/shares",
        share_body(profile_id),
        timeout,
        headers={"Idempotency-Key": profile_id},
    )


def shares_of_run(app, run: str) -> dict[int, Share]:
    """The stored shares of this run (their profile ids start with ``run``), by id."""
    return {s.id: s for s in factories.stored_shares(app) if s.profile_id.startswith(run)}


def database_is_sound(app) -> None:
    """SQLite's own integrity check; on PostgreSQL, which checks itself, a consistency query."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            assert db.session.execute(sa.text("PRAGMA integrity_check")).scalars().all() == ["ok"]
            assert db.session.execute(sa.text("PRAGMA foreign_key_check")).all() == []
        else:
            rows, ids, handles = db.session.execute(
                sa.select(
                    sa.func.count(), sa.func.count(Share.id.distinct()), sa.func.count(Share.handle)
                )
            ).one()
            assert rows == ids == handles
        # Every share has the audit row its create wrote in the same transaction.
        unaudited = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Share)
            .where(
                ~sa.exists().where(AuditEvent.share_id == Share.id, AuditEvent.action == "create")
            )
        )
        assert unaudited == 0
        # The list totals' tallies moved in the same transactions as the shares they count.
        with db.engine.connect() as connection:
            assert tallies.stored(connection) == tallies.counted(connection)
        db.session.remove()


@pytest.mark.parametrize("crash", ["master", "group"])
def test_acknowledged_creates_survive_a_crash(gunicorn_server, crash):
    """``master``: SIGKILL the master alone; ``group``: the master and its workers at once."""
    server, token, app = gunicorn_server
    run = f"faults-{secrets.token_hex(4)}"
    attempts: list[Attempt] = []
    record = threading.Lock()
    down, stop = threading.Event(), threading.Event()
    deadline = time.monotonic() + 30  # for the stream; the whole test stays under a minute
    give_up = time.monotonic() + 55

    def client(number: int) -> None:
        for n in range(MAX_EACH):
            if stop.is_set() or time.monotonic() > deadline:
                return
            attempt = Attempt(f"{run}-{number}-{n}", None, sent_when_down=down.is_set())
            try:
                status, body = create(server, token, attempt.profile_id)
            except NO_ANSWER:
                time.sleep(0.05)  # the server is gone: do not spin
            else:
                attempt.status = status
                if status == 201:
                    attempt.share_id, attempt.handle = body["data"]["id"], body["data"]["handle"]
            with record:
                attempts.append(attempt)

    def acknowledged() -> int:
        with record:
            return sum(a.status == 201 for a in attempts)

    def clients_that_met_the_dead_server() -> set[str]:
        with record:
            return {a.profile_id.rsplit("-", 1)[0] for a in attempts if a.sent_when_down}

    clients = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in clients:
        thread.start()
    try:
        while acknowledged() < ACKED_BEFORE_KILL and time.monotonic() < deadline:
            time.sleep(0.01)
        assert acknowledged() >= ACKED_BEFORE_KILL, "the stream never got going"
        assert len(server.members()) == 1 + server.workers
        if crash == "master":
            # Orphaned workers see their parent gone, answer what they hold and leave by
            # themselves within a second or so; none is left to kill.
            assert server.kill_master() == []
        else:
            server.kill_group()
        assert server.members() == []
        down.set()
        everyone = {f"{run}-{n}" for n in range(CLIENTS)}
        while clients_that_met_the_dead_server() < everyone and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        for thread in clients:
            thread.join(timeout=15)
    assert not any(thread.is_alive() for thread in clients)

    # What the crash left, before a server opens the database again.
    database_is_sound(app)
    assert {a.status for a in attempts} <= {201, None}
    assert clients_that_met_the_dead_server() == everyone
    assert {a.status for a in attempts if a.sent_when_down} == {None}
    acked = {a.share_id: a for a in attempts if a.status == 201}
    assert len(acked) == acknowledged()  # no id answered twice

    assert server.start() == (200, {"status": "ok", "database": "reachable"})
    stored = shares_of_run(app, run)
    for share_id, attempt in acked.items():
        assert share_id in stored, f"acknowledged create {attempt} is lost"
        assert (stored[share_id].handle, stored[share_id].profile_id) == (
            attempt.handle,
            attempt.profile_id,
        )
    # A row nobody was told about may exist (committed, then the answer was lost), but only for
    # a request that got no answer at all. Its client retries with the same Idempotency-Key and
    # gets that row back; a create that never committed is made now.
    unanswered = [a for a in attempts if a.status is None]
    by_profile = {row.profile_id: share_id for share_id, row in stored.items()}
    assert set(by_profile) - {a.profile_id for a in acked.values()} <= {
        a.profile_id for a in unanswered
    }
    for attempt in unanswered:
        assert time.monotonic() < give_up, "retries are too slow"
        status, body = create(server, token, attempt.profile_id)
        assert status == 201, body
        if attempt.profile_id in by_profile:
            assert body["data"]["id"] == by_profile[attempt.profile_id]

    # Every attempt now has exactly one share, and the restarted server wrote the missing ones.
    stored = shares_of_run(app, run)
    assert sorted(row.profile_id for row in stored.values()) == sorted(
        a.profile_id for a in attempts
    )
    database_is_sound(app)
    assert server.log_errors() == []
