"""Schemathesis against the app's own OpenAPI document: no 5xx, and every answer as documented.

Every operation, positive and negative cases, all of schemathesis' default checks; a fixed seed
and derandomized generation, so a run sends the same requests each time.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests import factories
from tests.conftest import make_app
from tests.contract import bearer
from webapp.enums import Role, SourceType
from webapp.extensions import db
from webapp.models import Share

SEED = 20261129
SEEDED_SHARES = 20
MAX_EXAMPLES = 400
#: Requests each operation's test must send (400 examples give 400 to 600 of them).
MIN_REQUESTS = 300
#: Of them, with an id past what an id column holds.
MIN_BEYOND_RANGE = 10

#: Status codes seen per operation.
calls: dict[str, Counter] = defaultdict(Counter)
#: Status codes of the requests whose id was past what an id column holds.
beyond: Counter = Counter()


def _fuzz_app():
    """A fresh app with a generous rate limit, an admin token, and shares and claims for {id} to
    find."""
    directory = Path(tempfile.mkdtemp(prefix="share-desk-fuzz-"))
    app = make_app(directory, API_RATE_LIMIT="100000 per minute", WTF_CSRF_ENABLED=False)
    made = factories.shares(
        app,
        *(
            {
                "profile_id": f"owner-{n}",
                "source_type": list(SourceType)[n % len(SourceType)],
                "source_id": n,
                "code": "0" if n % 2 else None,
                "is_cloneable": n % 3 != 0,
                "remaining_quantity": None if n % 3 else 1,
            }
            for n in range(1, SEEDED_SHARES + 1)
        ),
    )
    for share_id in made:
        factories.claim(app, share_id, f"claimer-{share_id}")
    return app, directory, factories.token(app, "fuzz", Role.ADMIN)


def _remove_fuzz_app() -> None:
    with APP.app_context():
        db.engine.dispose()
    shutil.rmtree(DIRECTORY, ignore_errors=True)


# The schema is loaded at collection time (schemathesis' lazy `from_fixture` does not run
# under pytest 9), so the app is made on import and removed when the run ends, even if none of
# this module's tests was selected.
APP, DIRECTORY, TOKEN = _fuzz_app()
atexit.register(_remove_fuzz_app)
AUTH = bearer(TOKEN)
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        # A body over the size limit is refused with the contract's 413 before it is read.
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]
            }
        },
    }
)
schema = schemathesis.openapi.from_wsgi("/api/v3/openapi.json", APP, headers=AUTH, config=CONFIG)
schema.config.update(headers=AUTH)


#: Past the largest id an id column holds: PostgreSQL's INTEGER's (2**31 - 1) and SQLite's.
PAST_POSTGRESQL, PAST_SQLITE = 2**31, 2**63


@schema.hook
def map_path_parameters(context, path_parameters):
    # Most ids land on a seeded share; one in eight goes past SQLite's 64-bit range and one in
    # eight past PostgreSQL's 32-bit ids (each must be a 404 like any missing share); the rest
    # still meet the 404 path.
    value = (path_parameters or {}).get("id")
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        if value % 8 == 0:
            path_parameters["id"] = PAST_SQLITE + value
        elif value % 8 == 4:
            path_parameters["id"] = PAST_POSTGRESQL + value
        else:
            path_parameters["id"] = (value - 1) % (SEEDED_SHARES + 5) + 1
    return path_parameters


@schema.hook
def map_case(context, case):
    """Half the schema-valid claims give the share's real code, so claims also succeed."""
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if not (positive and case.operation.path.endswith("/claim")):
        return case
    share_id, body = case.path_parameters.get("id"), case.body
    known = isinstance(share_id, int) and share_id < PAST_POSTGRESQL
    if known and isinstance(body, dict) and isinstance(body.get("code"), str):
        with APP.app_context():
            share = db.session.get(Share, share_id)
            if share is not None and len(body["code"]) % 2 == 0:
                body["code"] = share.code if share.code is not None else share.handle
    return case


#: Rules across fields, or against stored data, that a JSON Schema cannot state. A schema-valid
#: body may meet a 422 for these fields only; any other field named means the document is wrong.
CROSS_FIELD_RULES = {
    # Idempotency-Key: the same key sent earlier with another body.
    "addShare": {
        "timezone",
        "period",
        "period_type",
        "absolute_expiry",
        "expires_at",
        "remaining_quantity",
        "Idempotency-Key",
    },
    "editShare": {"period", "period_type", "absolute_expiry", "expires_at"},
    # code: must match the share's; profile_id: the owner's own; share: expired or used up.
    "claimShare": {"code", "profile_id", "share", "Idempotency-Key"},
}


def schema_valid_body_accepted(ctx, response, case):
    """A schema-valid body is refused only for a rule the schema cannot state."""
    mode = case.meta.generation.mode if case.meta else None
    if mode is None or not mode.is_positive or response.status_code != 422:
        return None
    named = set(response.json().get("errors", {}))
    # JSON Schema counts 10.0 as an integer; the contract refuses it (the document says so).
    floats = {k for k, v in case.body.items() if isinstance(v, float)}
    unexpected = named - floats - CROSS_FIELD_RULES[case.operation.definition.raw["operationId"]]
    assert not unexpected, f"schema-valid value refused for {sorted(unexpected)}: {response.text}"
    return None


def validate(case):
    """Send the case and run the checks; count its status."""
    operation_id = case.operation.definition.raw["operationId"]
    if operation_id in CROSS_FIELD_RULES:
        # "Schema-valid data is accepted" cannot hold where cross-field rules refuse it: the
        # narrower check above stands in for it (and still catches a mis-described field).
        response = case.call_and_validate(
            headers=AUTH,
            excluded_checks=[positive_data_acceptance],
            additional_checks=[schema_valid_body_accepted],
        )
    else:
        response = case.call_and_validate(headers=AUTH)
    calls[case.operation.label][response.status_code] += 1
    share_id = (case.path_parameters or {}).get("id")
    if isinstance(share_id, int) and share_id >= PAST_POSTGRESQL:
        beyond[response.status_code] += 1


FUZZ_TESTS = {"test_api_conforms", "test_delete_conforms"}


@pytest.fixture(autouse=True)
def enough_requests(request):
    """Each operation's test sends at least ``MIN_REQUESTS`` requests, counted within the test
    itself, so the check holds in any order and on any pytest-xdist worker."""
    if request.node.originalname not in FUZZ_TESTS:
        yield
        return
    sent_before = sum(sum(statuses.values()) for statuses in calls.values())
    beyond_before = beyond.copy()
    yield
    sent = sum(sum(statuses.values()) for statuses in calls.values()) - sent_before
    assert sent >= MIN_REQUESTS, f"only {sent} generated requests"
    if "{id}" in request.node.name:
        # Ids past an id column's range were sent, and each found nothing (never a 5xx).
        assert (beyond - beyond_before)[404] >= MIN_BEYOND_RANGE, beyond - beyond_before


@schema.exclude(method="DELETE").parametrize()
def test_api_conforms(case):
    """Every operation but delete first, so the seeded shares are there to be read and claimed."""
    validate(case)


@schema.include(method="DELETE").parametrize()
def test_delete_conforms(case):
    """Delete last: it removes the seeded shares the other operations use."""
    validate(case)


def test_every_operation_is_fuzzed():
    """The two tests above cover every operation of the document, and there are six."""
    operations = [result.ok().label for result in schema.get_all_operations()]
    assert sorted(operations) == [
        "DELETE /api/v3/shares/{id}",
        "GET /api/v3/claims",
        "GET /api/v3/claims/{id}",
        "GET /api/v3/events",
        "GET /api/v3/shares",
        "GET /api/v3/shares/{id}",
        "POST /api/v3/shares",
        "POST /api/v3/shares/{id}/claim",
        "POST /api/v3/shares/{id}/claim-check",
        "POST /api/v3/shares/{id}/expire",
        "PUT /api/v3/shares/{id}",
    ]
