"""The support desk's promises under real concurrency, against gunicorn as `make serve` runs it
(2 workers x 8 threads), on SQLite or PostgreSQL: a claim retried many times at once with one
Idempotency-Key claims once, and the events feed misses nothing and repeats nothing while many
writers commit."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from tests import factories
from tests.live.helpers import call, share_body
from webapp.enums import SHARE_ACTIONS
from webapp.extensions import db
from webapp.models import AuditEvent

SENDERS = 20
WRITERS = 8
#: The writers write until the reader has seen this many events (or time runs out): on a loaded
#: machine that takes longer, never fewer events.
EVENTS = 150
PATIENCE = 90  # seconds


def test_concurrent_claims_with_one_key_claim_once(gunicorn_server):
    server, token, app = gunicorn_server
    share_id = factories.share(app, code="ONCE", is_cloneable=True, remaining_quantity=5)
    start = threading.Barrier(SENDERS)
    body = {"profile_id": "racer", "code": "ONCE"}

    def send(_: int):
        start.wait()
        return call(
            server.base,
            token,
            "POST",
            f"/api/v3/shares/{share_id}/claim",
            body,
            timeout=60,
            headers={"Idempotency-Key": "claim-race"},
        )

    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        results = list(pool.map(send, range(SENDERS)))

    assert [status for status, _ in results] == [201] * SENDERS, results
    assert len({answer["data"]["id"] for _, answer in results}) == 1
    [claimed] = factories.claim_rows(app)
    assert claimed["id"] == results[0][1]["data"]["id"]
    assert factories.share_row(app, share_id)["remaining_quantity"] == 4
    assert server.log_errors() == []


def _noting_failures(work):
    """Run ``work(*args, errors)`` in a thread, and note whatever ends it early in ``errors``:
    an exception in a thread is otherwise lost, and the test would fail later, unexplained."""

    def run(*args):
        errors = args[-1]
        try:
            work(*args)
        except BaseException as error:  # noqa: BLE001 (noted, then the test fails on it)
            errors.append((work.__name__, repr(error)))

    return run


@_noting_failures
def _writer(base: str, token: str, number: int, stop: threading.Event, errors: list) -> None:
    """Make, edit, claim and expire shares until told to stop."""
    iteration = 0
    while not stop.is_set():
        body = {**share_body(f"writer-{number}-{iteration}"), "code": "C", "is_cloneable": True}
        status, created = call(base, token, "POST", "/api/v3/shares", body)
        if status != 201:
            errors.append((status, created))
            return
        share = f"/api/v3/shares/{created['data']['id']}"
        for method, path, payload, ok in (
            ("PUT", share, {"meta": [f"edit-{iteration}"]}, 200),
            ("POST", f"{share}/claim", {"profile_id": f"c-{number}", "code": "C"}, 201),
            ("POST", f"{share}/expire", None, 200),
        ):
            status, answer = call(base, token, method, path, payload)
            if status != ok:
                errors.append((status, answer))
                return
        iteration += 1


@_noting_failures
def _follow(base: str, token: str, stop: threading.Event, seen: list[int], errors: list) -> None:
    """A sync script: keep the next link, ask it again and again, note every event."""
    following = "/api/v3/events?page%5Bsize%5D=7"
    while True:
        # Read before asking: an empty answer to a request sent before the last write was
        # answered says nothing about that write (the test once lost its last event so).
        writers_done = stop.is_set()
        status, page = call(base, token, "GET", following)
        if status != 200:
            errors.append((status, page))
            return
        seen.extend(event["id"] for event in page["data"])
        following = page["links"]["next"].removeprefix(base)
        if writers_done and not page["data"] and not page["meta"]["has_more"]:
            return
        if not page["data"]:
            time.sleep(0.01)


def test_the_events_feed_misses_nothing_and_repeats_nothing_under_concurrent_writers(
    gunicorn_server,
):
    server, token, app = gunicorn_server
    stop, done_writing = threading.Event(), threading.Event()
    errors: list = []
    seen: list[int] = []
    writers = [
        threading.Thread(target=_writer, args=(server.base, token, n, stop, errors))
        for n in range(WRITERS)
    ]
    reader = threading.Thread(target=_follow, args=(server.base, token, done_writing, seen, errors))
    reader.start()
    for writer in writers:
        writer.start()
    deadline = time.monotonic() + PATIENCE
    while len(seen) < EVENTS and time.monotonic() < deadline and not errors:
        time.sleep(0.1)
    stop.set()
    for writer in writers:
        writer.join(60)
    # The reader may stop at an empty page once every write has been answered.
    still_writing = sum(writer.is_alive() for writer in writers)
    done_writing.set()
    reader.join(60)

    assert errors == [], server.log_errors()
    assert still_writing == 0, "a writer was still writing a minute after it was told to stop"
    assert not reader.is_alive()
    with app.app_context():
        trail = db.session.scalars(
            sa.select(AuditEvent.id)
            .where(AuditEvent.action.in_([action.value for action in SHARE_ACTIONS]))
            .order_by(AuditEvent.id)
        ).all()
    assert len(trail) >= EVENTS, "the writers wrote too little for a fair test"
    assert len(seen) == len(set(seen)), "an event came twice"
    assert seen == trail, "the feed missed an event (or served one out of order)"
    assert server.log_errors() == []
