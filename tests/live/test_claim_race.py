"""Concurrent claims against a real server: the decrement is atomic."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from tests.contract import bearer
from webapp.db import tallies
from webapp.extensions import db
from webapp.models import Share, ShareClaim

CLAIMERS = 60
CLAIMS_LEFT = 10


def call(base: str, token: str, method: str, path: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        method=method,
        headers=bearer(token, **{"Content-Type": "application/json"}),
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_concurrent_claims_never_overdraw(server):
    base, token, app = server
    status, created = call(
        base,
        token,
        "POST",
        "/api/v3/shares",
        {
            "profile_id": "owner",
            "source_type": "reward",
            "source_id": 9,
            "code": "RACE",
            "is_cloneable": True,
            "remaining_quantity": CLAIMS_LEFT,
        },
    )
    assert status == 201
    share_id = created["data"]["id"]

    start = threading.Barrier(CLAIMERS)

    def claim(n: int):
        start.wait()
        return call(
            base,
            token,
            "POST",
            f"/api/v3/shares/{share_id}/claim",
            {"profile_id": f"claimer-{n}", "code": "RACE"},
        )

    with ThreadPoolExecutor(max_workers=CLAIMERS) as pool:
        results = list(pool.map(claim, range(CLAIMERS)))

    statuses = [status for status, _ in results]
    assert statuses.count(201) == CLAIMS_LEFT
    assert statuses.count(422) == CLAIMERS - CLAIMS_LEFT
    refused = [body for status, body in results if status == 422]
    assert all(body["errors"] == {"share": ["The share has no claims left."]} for body in refused)
    with app.app_context():
        assert db.session.get(Share, share_id).remaining_quantity == 0
        claims = db.session.scalars(db.select(ShareClaim).where(ShareClaim.share_id == share_id))
        claimers = {claim.profile_id for claim in claims}
    winners = {body["data"]["profile_id"] for status, body in results if status == 201}
    assert claimers == winners and len(claimers) == CLAIMS_LEFT
    # The last claim made the share exhausted, once: the status total says so.
    with app.app_context(), db.engine.connect() as connection:
        tallied = tallies.stored(connection)
        assert tallied == tallies.counted(connection) and tallied[("exhausted", "")] == 1
