"""Concurrent creates with one Idempotency-Key against a real server: exactly one share."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from tests.contract import bearer
from webapp.extensions import db
from webapp.models import IdempotencyKey, Share

SENDERS = 20
BODY = {"profile_id": "race-owner", "source_type": "reward", "source_id": 77, "code": "ONCE"}


def post(base: str, token: str, key: str, body: dict) -> tuple[int, dict, dict]:
    request = urllib.request.Request(
        base + "/api/v3/shares",
        data=json.dumps(body).encode(),
        method="POST",
        headers=bearer(token, **{"Content-Type": "application/json", "Idempotency-Key": key}),
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_concurrent_creates_with_one_key_make_one_share(server):
    base, token, app = server
    start = threading.Barrier(SENDERS)

    def send(_: int):
        start.wait()
        return post(base, token, "race-key-1", BODY)

    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        results = list(pool.map(send, range(SENDERS)))

    statuses = [status for status, _, _ in results]
    assert statuses == [201] * SENDERS, [body for _, _, body in results]
    ids = {body["data"]["id"] for _, _, body in results}
    assert len(ids) == 1
    handles = {body["data"]["handle"] for _, _, body in results}
    assert len(handles) == 1
    locations = {headers["Location"] for _, headers, _ in results}
    assert locations == {f"/api/v3/shares/{ids.pop()}"}
    # Exactly one answer is the original; every other one is a replay of it.
    replayed = [headers.get("Idempotent-Replayed") for _, headers, _ in results]
    assert replayed.count(None) == 1 and replayed.count("true") == SENDERS - 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Share.id))) == 1
        assert db.session.scalar(sa.select(sa.func.count(IdempotencyKey.id))) == 1


def test_concurrent_creates_with_one_key_and_different_bodies(server):
    """One body wins; the others are told the key was used with another body; one share."""
    base, token, app = server
    start = threading.Barrier(SENDERS)

    def send(n: int):
        start.wait()
        return post(base, token, "race-key-2", {**BODY, "source_id": 1000 + n})

    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        results = list(pool.map(send, range(SENDERS)))

    statuses = [status for status, _, _ in results]
    assert statuses.count(201) == 1 and statuses.count(422) == SENDERS - 1, statuses
    refused = [body for status, _, body in results if status == 422]
    assert all(list(body["errors"]) == ["Idempotency-Key"] for body in refused)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Share.id))) == 1
