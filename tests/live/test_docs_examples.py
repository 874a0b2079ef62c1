"""Every example on the API page, run as written (curl in bash, Python in a fresh interpreter)
against a live server, answers as the page shows: the same fields and values, where only ids,
handles, times and the server's address may differ."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from tests import factories
from tests.live.helpers import call
from webapp.enums import Role
from webapp.extensions import db
from webapp.openapi.examples import CLAIM_BODY, EXAMPLES, SERVER, SHARE_BODY, Example

#: Values that differ from run to run; the page's answer and the server's must agree on their
#: type only. (A create event's ``changes`` lists them too, under the same names.)
VARYING = {
    "id",
    "share_id",
    "claim_id",
    "handle",
    "share_handle",
    "created_at",
    "updated_at",
    "expires_at",
    "claimed_at",
    "occurred_at",
    "next",
}
#: The example token's name, as the documented events name their actor.
TOKEN_NAME = "nightly-import"


def same(documented, actual, base: str, where: str = "") -> list[str]:
    """Where ``actual`` differs from the documented answer (empty: it answers as shown)."""
    if isinstance(documented, dict):
        if not isinstance(actual, dict) or list(documented) != list(actual):
            return [f"{where}: fields {list(documented)} != {actual!r}"]
        found = []
        for key, value in documented.items():
            if key in VARYING:
                if type(value) is not type(actual[key]):
                    found.append(f"{where}.{key}: {value!r} and {actual[key]!r} differ in type")
            else:
                found += same(value, actual[key], base, f"{where}.{key}")
        return found
    if isinstance(documented, list):
        if not isinstance(actual, list) or len(documented) != len(actual):
            return [f"{where}: {documented!r} != {actual!r}"]
        pairs = enumerate(zip(documented, actual, strict=True))
        return [p for n, (a, b) in pairs for p in same(a, b, base, f"{where}[{n}]")]
    if isinstance(documented, str):
        documented = documented.replace(SERVER, base)
    return [] if documented == actual else [f"{where}: {documented!r} != {actual!r}"]


def fresh_data(app) -> None:
    """No shares, claims, events or kept answers: each run starts as the page's example does."""
    with app.app_context():
        for table in ("share_claims", "shares", "audit_events", "idempotency_keys"):
            db.session.execute(sa.text(f"DELETE FROM {table}"))
        db.session.commit()


def given(base: str, token: str, example: Example) -> dict[str, str]:
    """Make what the example needs (the example share, cust-2's claim); the variables naming it."""
    names = {}
    if "share" in example.given:
        status, body = call(base, token, "POST", "/api/v3/shares", SHARE_BODY)
        assert status == 201, body
        names["SHARE_ID"] = str(body["data"]["id"])
    if "claim" in example.given:
        # As on the page, the claim comes later than the create: a claim in the create's own
        # second would leave updated_at as it was, and its event would not list it.
        time.sleep(1 - time.time() % 1 + 0.05)
        path = f"/api/v3/shares/{names['SHARE_ID']}/claim"
        status, body = call(base, token, "POST", path, CLAIM_BODY)
        assert status == 201, body
        names["CLAIM_ID"] = str(body["data"]["id"])
    return names


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: example.operation)
def test_the_example_answers_as_the_page_shows(server, example):
    base, _agent_token, app = server
    token = factories.token(app, TOKEN_NAME, Role.ADMIN)
    for language, argv in (
        ("curl", ["bash", "-c", example.curl()]),
        ("python", [sys.executable, "-c", example.python()]),
    ):
        fresh_data(app)
        env = {**os.environ, "BASE": base, "TOKEN": token, **given(base, token, example)}
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{language}: {done.stderr}"
        output = done.stdout.strip()
        if example.response is None:
            assert output == str(example.status), language
            continue
        differences = same(example.response, json.loads(output), base)
        assert differences == [], f"{example.operation} in {language}: {differences}"
