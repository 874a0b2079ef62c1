"""Property tests of the JSON adapter: no JSON value in any field reaches a 5xx or changes data.

Each test builds its app once and drives many Hypothesis examples through it, so the share
count and rows can be compared before and after every request.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories
from tests.contract import bearer
from webapp.enums import PeriodType, Role

EXAMPLES = 150
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

VALID_CREATE = {"profile_id": "cust-1", "source_type": "reward", "source_id": 42}
CREATE_FIELDS = [
    "profile_id", "source_id", "source_type", "code", "timezone", "period", "period_type",
    "absolute_expiry", "expires_at", "quantity", "remaining_quantity", "meta", "is_cloneable",
    "id", "handle", "created_at", "unknown",
]  # fmt: skip
EDIT_FIELDS = [
    "code", "period", "period_type", "absolute_expiry", "expires_at", "meta",
    "profile_id", "source_id", "timezone", "remaining_quantity", "is_cloneable",
]  # fmt: skip
CLAIM_FIELDS = ["profile_id", "code", "meta", "share_id", "unknown"]
SHARE_CODE = "SECRET-1"

#: Requests sent per test, for the closing summary.
sent: Counter = Counter()

# Lone surrogates are legal in JSON text ("\ud800") but cannot be stored as UTF-8.
surrogates = st.builds(
    lambda head, bad: head + bad, st.text(max_size=5), st.sampled_from(["\ud800", "\udfff"])
)
# Values near the rules, so that some bodies pass and the edges of each type are hit often.
edges = surrogates | st.sampled_from(
    [
        "", " ", "12", "007", "-1", "1.0", "1e3", "reward", "days", "absolute_date", "12-25",
        "2026-12-01", "2026-12-01T10:00:00Z", "2026-13-45", "Australia/Melbourne", "Mars/Base",
        "\u0661\u0662", "\x00", 0, 1, 2, 36500, 36501, 2**31, 2**63 - 1, 2**63, 10**30,
        -(2**63), 1.0, 12.5, 1e308, float("inf"), float("nan"), True, False, [], {}, ["a", "b"],
    ]
)  # fmt: skip
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**53, max_value=2**70)
    | st.floats()
    | st.text()
)
texts = st.text() | surrogates
children = st.recursive(
    scalars | edges,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(texts | st.sampled_from(CREATE_FIELDS), inner, max_size=5)
    ),
    max_leaves=12,
)
containers = st.lists(children, max_size=5) | st.dictionaries(texts, children, max_size=5)
#: Any JSON value: edge values, plain scalars (huge ints, floats, text) and nested lists/objects.
json_values = edges | scalars | containers
json_objects = st.dictionaries(
    st.sampled_from(CREATE_FIELDS + CLAIM_FIELDS) | texts, json_values, max_size=8
)


@pytest.fixture(scope="module", autouse=True)
def summary():
    """Print how many requests the module sent (``pytest -s`` shows it)."""
    yield
    print(f"\nJSON adapter properties: {sum(sent.values())} requests")
    for test, count in sent.items():
        print(f"  {test}: {count}")


@pytest.fixture
def prop_app(app_with):
    return app_with(API_RATE_LIMIT="100000 per minute")


@pytest.fixture
def send(prop_app):
    """``send(method, path, body, test)``: a JSON request with an agent token, counted."""
    client = prop_app.test_client()
    headers = bearer(factories.token(prop_app, "props", Role.AGENT))

    def call(method: str, path: str, body, test: str):
        sent[test] += 1
        # json.dumps escapes non-ASCII (lone surrogates too), so the bytes are always sendable.
        return client.open(
            path, method=method, data=json.dumps(body), headers=headers,
            content_type="application/json",
        )  # fmt: skip

    return call


def assert_error_shape(response):
    """4xx JSON with a string message; a 422 names fields with lists of strings."""
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data()[:500])
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"]
    if response.status_code == 422:
        errors = body.get("errors")
        assert isinstance(errors, dict) and errors
        for name, messages in errors.items():
            assert isinstance(name, str)
            assert isinstance(messages, list) and messages
            assert all(isinstance(m, str) and m for m in messages)


def check_create(app, send, body, test: str) -> None:
    before = factories.share_count(app)
    response = send("POST", "/api/v3/shares", body, test)
    if response.status_code == 201:
        data = response.get_json()["data"]
        assert factories.share_count(app) == before + 1
        assert factories.share_data(app, data["id"]) == data
        assert response.headers["Location"] == f"/api/v3/shares/{data['id']}"
    else:
        assert_error_shape(response)
        assert factories.share_count(app) == before


def test_create_with_any_value_in_one_field(prop_app, send):
    @PROPERTY
    @given(field=st.sampled_from(CREATE_FIELDS), value=json_values)
    def run(field, value):
        check_create(prop_app, send, {**VALID_CREATE, field: value}, "create: one field")

    run()
    assert sent["create: one field"] >= EXAMPLES
    # The valid base body with a harmless value (unknown field, null code, ...) is created.
    assert factories.share_count(prop_app) > 0


def test_create_with_any_json_object(prop_app, send):
    @PROPERTY
    @given(body=json_objects)
    def run(body):
        check_create(prop_app, send, body, "create: any object")

    run()
    assert sent["create: any object"] >= EXAMPLES


def test_create_with_any_json_document(prop_app, send):
    """Not an object at all (a list, a number, null): 400, never 5xx."""

    @PROPERTY
    @given(body=json_values.filter(lambda v: not isinstance(v, dict)))
    def run(body):
        before = factories.share_count(prop_app)
        response = send("POST", "/api/v3/shares", body, "create: any document")
        assert response.status_code == 400
        assert_error_shape(response)
        assert factories.share_count(prop_app) == before

    run()
    assert sent["create: any document"] >= EXAMPLES


def test_create_with_any_raw_body(prop_app, send):
    """Bytes that may not be JSON at all, or JSON nested past the parser's limit."""
    client = prop_app.test_client()
    headers = bearer(factories.token(prop_app, "raw", Role.AGENT))
    deep = st.builds(lambda n: "[" * n + "]" * n, st.integers(1, 200_000))
    deep_object = st.builds(lambda n: '{"meta":' * n + "1" + "}" * n, st.integers(1, 50_000))

    @PROPERTY
    @given(raw=st.binary() | (st.text() | deep | deep_object).map(str.encode))
    def run(raw):
        before = factories.share_count(prop_app)
        sent["create: raw body"] += 1
        response = client.post(
            "/api/v3/shares", data=raw, headers=headers, content_type="application/json"
        )
        assert_error_shape(response)
        assert factories.share_count(prop_app) == before

    run()
    assert sent["create: raw body"] >= EXAMPLES


def check_edit(app, send, share_id: int, body, test: str) -> None:
    before = factories.share_data(app, share_id)
    count = factories.share_count(app)
    response = send("PUT", f"/api/v3/shares/{share_id}", body, test)
    assert factories.share_count(app) == count
    if response.status_code == 200:
        data = response.get_json()["data"]
        assert data == factories.share_data(app, share_id)
        # Only the editable fields (and what follows from them) may change.
        for fixed in ("id", "profile_id", "source_type", "source_id", "handle", "timezone",
                      "quantity", "remaining_quantity", "is_cloneable", "created_at"):  # fmt: skip
            assert data[fixed] == before[fixed], fixed
    else:
        assert_error_shape(response)
        assert factories.share_data(app, share_id) == before


def test_edit_with_any_value_in_one_field(prop_app, send):
    share_id = factories.share(prop_app, period=2, period_type=PeriodType.WEEKS, code="OLD")

    @PROPERTY
    @given(field=st.sampled_from(EDIT_FIELDS), value=json_values)
    def run(field, value):
        check_edit(prop_app, send, share_id, {field: value}, "edit: one field")

    run()
    assert sent["edit: one field"] >= EXAMPLES


def test_edit_with_any_json_object(prop_app, send):
    share_id = factories.share(prop_app, period=1, period_type=PeriodType.MONTHS)

    @PROPERTY
    @given(body=json_objects)
    def run(body):
        check_edit(prop_app, send, share_id, body, "edit: any object")

    run()
    assert sent["edit: any object"] >= EXAMPLES


def check_claim(app, send, share_id: int, body, test: str) -> int:
    before = factories.share_data(app, share_id)
    claims = len(factories.claim_rows(app))
    response = send("POST", f"/api/v3/shares/{share_id}/claim", body, test)
    if response.status_code == 201:
        data = response.get_json()["data"]
        assert data["share_id"] == share_id and data["is_cloned"] == before["is_cloneable"]
        assert len(factories.claim_rows(app)) == claims + 1
    else:
        assert_error_shape(response)
        assert len(factories.claim_rows(app)) == claims
        assert factories.share_data(app, share_id) == before
    return response.status_code


def test_claim_with_any_value_in_one_field(prop_app, send):
    # Cloneable and unlimited, so every valid claim succeeds and the next example still can.
    share_id = factories.share(
        prop_app, code=SHARE_CODE, is_cloneable=True, remaining_quantity=None
    )
    statuses = Counter()

    @PROPERTY
    @given(field=st.sampled_from(CLAIM_FIELDS), value=json_values)
    def run(field, value):
        body = {"profile_id": "claimer", "code": SHARE_CODE, field: value}
        statuses[check_claim(prop_app, send, share_id, body, "claim: one field")] += 1

    run()
    assert sent["claim: one field"] >= EXAMPLES
    assert statuses[201] > 0 and statuses[422] > 0, statuses


def test_claim_with_any_json_object(prop_app, send):
    share_id = factories.share(
        prop_app, code=SHARE_CODE, is_cloneable=True, remaining_quantity=None
    )

    @PROPERTY
    @given(body=json_objects)
    def run(body):
        check_claim(prop_app, send, share_id, body, "claim: any object")

    run()
    assert sent["claim: any object"] >= EXAMPLES


def test_claim_of_a_single_share_changes_it_once(prop_app, send):
    """A non-cloneable share: whatever the bodies, at most one claim, remaining never below 0."""
    share_id = factories.share(prop_app, code=SHARE_CODE, is_cloneable=False, remaining_quantity=1)

    @PROPERTY
    @given(field=st.sampled_from(CLAIM_FIELDS), value=json_values)
    def run(field, value):
        body = {"profile_id": "claimer", "code": SHARE_CODE, field: value}
        check_claim(prop_app, send, share_id, body, "claim: single share")
        assert factories.share_data(prop_app, share_id)["remaining_quantity"] in (0, 1)
        assert (
            len(factories.claim_rows(prop_app))
            + factories.share_data(prop_app, share_id)["remaining_quantity"]
            == 1
        )

    run()
    assert sent["claim: single share"] >= EXAMPLES
    assert len(factories.claim_rows(prop_app)) == 1
