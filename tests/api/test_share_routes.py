"""GET, PUT, DELETE one share and POST its claim (docs/contract.md: Edit body, rule 7, Claim)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests import factories
from tests.conftest import assert_invalid
from tests.contract import CLAIM_KEYS, SHARE_KEYS
from webapp.clock import utcnow
from webapp.enums import PeriodType, SourceType
from webapp.expiry import to_utc_z

URL = "/api/v3/shares"
MELBOURNE = "Australia/Melbourne"
# The contract's worked examples: created 2026-11-29 10:00 in Melbourne, a Sunday.
CREATED = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)
UTC_Z_SECOND = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
EXPLICIT = datetime(2030, 1, 1, tzinfo=UTC)
#: This module's shares are stored in the worked examples' zone, at their creation instant.
EXAMPLE = {"timezone": MELBOURNE, "created_at": CREATED, "updated_at": CREATED}


def assert_ordered_invalid(response, errors: dict[str, list[str]]) -> None:
    """A 422 naming exactly ``errors``, in the contract's order."""
    assert_invalid(response, errors, in_order=True)


# --- GET one -------------------------------------------------------------------------------


def test_get_one_returns_the_share_object(app, api):
    share_id = factories.share(
        app,
        **EXAMPLE,
        code="SECRET",
        period=2,
        period_type=PeriodType.WEEKS,
        expires_at=datetime(2026, 12, 13, 12, 59, 59, tzinfo=UTC),
        meta=["a", "b"],
        source_type=SourceType.LIST_ITEM,
    )

    response = api.get(f"{URL}/{share_id}")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"data"}
    data = body["data"]
    assert set(data) == SHARE_KEYS
    row = factories.share_row(app, share_id)
    assert data == {
        "id": share_id,
        "profile_id": "owner-1",
        "source_type": "listItem",
        "source_id": 42,
        "handle": row["handle"],
        "code": "SECRET",
        "timezone": MELBOURNE,
        "period": 2,
        "period_type": "weeks",
        "absolute_expiry": None,
        "expires_at": "2026-12-13T12:59:59Z",
        "quantity": 1,
        "remaining_quantity": 1,
        "meta": ["a", "b"],
        "is_cloneable": False,
        "source": {"type": "listItem", "id": 42},
        "created_at": "2026-11-28T23:00:00Z",
        "updated_at": "2026-11-28T23:00:00Z",
    }


@pytest.mark.parametrize("path", [f"{URL}/999", f"{URL}/0", f"{URL}/abc", f"{URL}/-1"])
def test_get_missing_share_is_404_json(app, api, path):
    factories.share(app, **EXAMPLE)

    response = api.get(path)

    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.get_json() == {"message": "Not found."}


# --- PUT: what may change ------------------------------------------------------------------


def test_put_changes_only_the_editable_fields(app, api):
    share_id = factories.share(
        app,
        **EXAMPLE,
        code="OLD",
        period=2,
        period_type=PeriodType.WEEKS,
        meta=["old"],
        is_cloneable=False,
    )
    before = factories.share_row(app, share_id)
    body = {
        "code": "NEW",
        "period": 30,
        "period_type": "days",
        "absolute_expiry": "ignored-for-days",
        "meta": ["x", "y"],
        # Not editable: all of these are ignored.
        "id": 999,
        "profile_id": "thief",
        "source_type": "product",
        "source_id": 7,
        "timezone": "UTC",
        "quantity": 5,
        "remaining_quantity": 99,
        "is_cloneable": True,
        "handle": "my-own-handle-0000000000",
        "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2020-01-01T00:00:00Z",
        "source": {"type": "product", "id": 7},
    }

    response = api.put(f"{URL}/{share_id}", json=body)

    assert response.status_code == 200, response.get_json()
    data = response.get_json()["data"]
    assert set(response.get_json()) == {"data"} and set(data) == SHARE_KEYS
    after = factories.share_row(app, share_id)
    assert (after["code"], after["period"], after["period_type"]) == ("NEW", 30, PeriodType.DAYS)
    assert after["absolute_expiry"] == "ignored-for-days"
    assert after["meta"] == ["x", "y"]
    assert to_utc_z(after["expires_at"]) == "2026-12-29T12:59:59Z"
    for name in (
        "id",
        "profile_id",
        "source_type",
        "source_id",
        "timezone",
        "quantity",
        "remaining_quantity",
        "is_cloneable",
        "handle",
        "created_at",
    ):
        assert after[name] == before[name], name
    assert after["updated_at"] > before["updated_at"]
    assert data["id"] == share_id and data["handle"] == before["handle"]
    assert data["created_at"] == "2026-11-28T23:00:00Z"
    assert data == api.get(f"{URL}/{share_id}").get_json()["data"]
    assert factories.share_count(app) == 1


@pytest.mark.parametrize(
    ("body", "changed"),
    [
        ({"code": "NEW"}, {"code": "NEW"}),
        ({"code": None}, {"code": None}),
        ({"code": ""}, {"code": None}),
        ({"meta": ["m1"]}, {"meta": ["m1"]}),
        ({"meta": None}, {"meta": None}),
        ({"meta": []}, {"meta": []}),
        ({}, {}),
        ({"unknown": 1, "profile_id": "x"}, {}),
    ],
)
def test_put_absent_fields_keep_their_value(app, api, body, changed):
    share_id = factories.share(
        app,
        **EXAMPLE,
        code="KEEP",
        period=2,
        period_type=PeriodType.ABSOLUTE_WEEK,
        absolute_expiry="3",
        expires_at=EXPLICIT,
        meta=["keep"],
    )
    before = factories.share_row(app, share_id)

    response = api.put(f"{URL}/{share_id}", json=body)

    assert response.status_code == 200, response.get_json()
    after = factories.share_row(app, share_id)
    for name in ("code", "period", "period_type", "absolute_expiry", "expires_at", "meta"):
        assert after[name] == changed.get(name, before[name]), name
    assert response.get_json()["data"]["expires_at"] == "2030-01-01T00:00:00Z"
    assert response.get_json()["data"]["code"] == changed.get("code", "KEEP")


# --- PUT: expiry rule 7 --------------------------------------------------------------------

TWO_WEEKS = {"period": 2, "period_type": PeriodType.WEEKS, "expires_at": None}
TWO_WEEKS["expires_at"] = datetime(2026, 12, 13, 12, 59, 59, tzinfo=UTC)
EXPLICIT_TWO_WEEKS = {"period": 2, "period_type": PeriodType.WEEKS, "expires_at": EXPLICIT}
NOTHING = {}
EXPLICIT_ONLY = {"expires_at": EXPLICIT}


@pytest.mark.parametrize(
    ("initial", "body", "expected"),
    [
        # A new expires_at wins, whatever else the body holds.
        (
            TWO_WEEKS,
            {"expires_at": "2027-03-01T00:00:00Z"},
            (2, "weeks", None, "2027-03-01T00:00:00Z"),
        ),
        (
            TWO_WEEKS,
            {"expires_at": "2027-03-01T10:00:00+10:00", "period": 30, "period_type": "days"},
            (30, "days", None, "2027-03-01T00:00:00Z"),
        ),
        (TWO_WEEKS, {"expires_at": "2026-12-01"}, (2, "weeks", None, "2026-12-01T12:59:59Z")),
        (
            TWO_WEEKS,
            {"expires_at": "2026-12-01T10:00:00"},
            (2, "weeks", None, "2026-11-30T23:00:00Z"),
        ),
        (
            TWO_WEEKS,
            {"expires_at": "2020-01-01T00:00:00Z"},
            (2, "weeks", None, "2020-01-01T00:00:00Z"),
        ),
        # expires_at: null recomputes from the period fields and the creation instant.
        (EXPLICIT_TWO_WEEKS, {"expires_at": None}, (2, "weeks", None, "2026-12-13T12:59:59Z")),
        (EXPLICIT_ONLY, {"expires_at": None}, (None, None, None, None)),
        (EXPLICIT_ONLY, {"expires_at": ""}, (None, None, None, None)),
        # The contract's worked examples, recomputed on edit.
        (
            TWO_WEEKS,
            {"period": 30, "period_type": "days"},
            (30, "days", None, "2026-12-29T12:59:59Z"),
        ),
        (
            TWO_WEEKS,
            {"period": 3, "period_type": "months"},
            (3, "months", None, "2027-02-28T12:59:59Z"),
        ),
        (
            TWO_WEEKS,
            {"period": 1, "period_type": "years"},
            (1, "years", None, "2027-11-29T12:59:59Z"),
        ),
        (
            TWO_WEEKS,
            {"period": None, "period_type": "absolute_month"},
            (None, "absolute_month", None, "2026-11-30T12:59:59Z"),
        ),
        (
            TWO_WEEKS,
            {"period_type": "absolute_month"},
            (2, "absolute_month", None, "2027-01-31T12:59:59Z"),
        ),
        (
            TWO_WEEKS,
            {"period": 0, "period_type": "absolute_week"},
            (0, "absolute_week", None, "2026-11-29T12:59:59Z"),
        ),
        (
            TWO_WEEKS,
            {"period": 1, "period_type": "absolute_week"},
            (1, "absolute_week", None, "2026-12-06T12:59:59Z"),
        ),
        (
            TWO_WEEKS,
            {"period": 0, "period_type": "absolute_week", "absolute_expiry": "1"},
            (0, "absolute_week", "1", "2026-11-30T12:59:59Z"),
        ),
        (
            TWO_WEEKS,
            {"period": None, "period_type": "absolute_month", "absolute_expiry": "15"},
            (None, "absolute_month", "15", "2026-12-15T12:59:59Z"),
        ),
        (
            TWO_WEEKS,
            {"period": None, "period_type": "absolute_date", "absolute_expiry": "12-25"},
            (None, "absolute_date", "12-25", "2026-12-25T12:59:59Z"),
        ),
        (
            TWO_WEEKS,
            {"period": None, "period_type": "absolute_date", "absolute_expiry": "06-30"},
            (None, "absolute_date", "06-30", "2027-06-30T13:59:59Z"),
        ),
        (TWO_WEEKS, {"period": 5}, (5, "weeks", None, "2027-01-03T12:59:59Z")),
        # Any of period / period_type / absolute_expiry, even with its old value, recomputes.
        (EXPLICIT_TWO_WEEKS, {"period": 2}, (2, "weeks", None, "2026-12-13T12:59:59Z")),
        (EXPLICIT_TWO_WEEKS, {"period_type": "weeks"}, (2, "weeks", None, "2026-12-13T12:59:59Z")),
        (
            EXPLICIT_TWO_WEEKS,
            {"absolute_expiry": None},
            (2, "weeks", None, "2026-12-13T12:59:59Z"),
        ),
        (
            {
                **EXPLICIT_TWO_WEEKS,
                "period_type": PeriodType.ABSOLUTE_MONTH,
                "period": None,
                "absolute_expiry": "15",
            },
            {"absolute_expiry": "15"},
            (None, "absolute_month", "15", "2026-12-15T12:59:59Z"),
        ),  # fmt: skip
        (
            {**EXPLICIT_TWO_WEEKS, "period_type": PeriodType.ABSOLUTE_WEEK, "period": 0},
            {"absolute_expiry": "1"},
            (0, "absolute_week", "1", "2026-11-30T12:59:59Z"),
        ),
        # Clearing every period field: the share never expires.
        (TWO_WEEKS, {"period": None, "period_type": None}, (None, None, None, None)),
        (EXPLICIT_TWO_WEEKS, {"period": None, "period_type": None}, (None, None, None, None)),
        # Period alone on a share with no period type stores days.
        (NOTHING, {"period": 30}, (30, "days", None, "2026-12-29T12:59:59Z")),
        (EXPLICIT_ONLY, {"period": 1}, (1, "days", None, "2026-11-30T12:59:59Z")),
        (TWO_WEEKS, {"period": 4, "period_type": None}, (4, "days", None, "2026-12-03T12:59:59Z")),
        # None of them: the stored explicit expiry is kept.
        (
            EXPLICIT_TWO_WEEKS,
            {"code": "C", "meta": ["m"]},
            (2, "weeks", None, "2030-01-01T00:00:00Z"),
        ),
        (EXPLICIT_ONLY, {}, (None, None, None, "2030-01-01T00:00:00Z")),
        (TWO_WEEKS, {"code": None}, (2, "weeks", None, "2026-12-13T12:59:59Z")),
    ],
)
def test_put_expiry_rule_7(app, api, initial, body, expected):
    share_id = factories.share(app, **EXAMPLE, **initial)

    response = api.put(f"{URL}/{share_id}", json=body)

    assert response.status_code == 200, response.get_json()
    data = response.get_json()["data"]
    period, period_type, absolute_expiry, expires_at = expected
    assert (data["period"], data["period_type"], data["absolute_expiry"], data["expires_at"]) == (
        period,
        period_type,
        absolute_expiry,
        expires_at,
    )
    row = factories.share_row(app, share_id)
    assert row["period"] == period
    assert row["period_type"] == (PeriodType(period_type) if period_type else None)
    assert row["absolute_expiry"] == absolute_expiry
    assert to_utc_z(row["expires_at"]) == expires_at
    assert row["created_at"] == CREATED


def test_put_recomputes_from_the_creation_day_in_the_share_zone(app, api):
    """Created 2026-11-29T14:30:00Z is already 30 Nov in Melbourne: 1 day is 1 Dec."""
    share_id = factories.share(
        app, timezone=MELBOURNE, created_at=datetime(2026, 11, 29, 14, 30, tzinfo=UTC)
    )

    response = api.put(f"{URL}/{share_id}", json={"period": 1, "period_type": "days"})

    assert response.status_code == 200
    assert response.get_json()["data"]["expires_at"] == "2026-12-01T12:59:59Z"
    assert to_utc_z(factories.share_row(app, share_id)["expires_at"]) == "2026-12-01T12:59:59Z"


def test_put_counts_from_creation_not_from_now(app, api):
    created = utcnow() - timedelta(days=40)
    share_id = factories.share(app, timezone="UTC", created_at=created)

    response = api.put(f"{URL}/{share_id}", json={"period": 30, "period_type": "days"})

    assert response.status_code == 200
    expected = datetime.combine(created.date() + timedelta(days=30), datetime.max.time())
    assert response.get_json()["data"]["expires_at"] == expected.strftime("%Y-%m-%dT%H:%M:%SZ")
    # 30 days from a creation 40 days ago is in the past: the share is now expired.
    assert api.get(f"{URL}?filter[status]=expired").get_json()["meta"]["total"] == 1


# --- PUT: validation -----------------------------------------------------------------------

PERIOD_INT = "The period field must be an integer."
BAD_EXPIRES_AT = "The expires at field must be a valid ISO 8601 date-time."
PERIOD_RANGE = "The period field must be between 0 and 36500."


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"period": -1}, {"period": [PERIOD_RANGE]}),
        ({"period": 36501}, {"period": [PERIOD_RANGE]}),
        ({"period": "x"}, {"period": [PERIOD_INT]}),
        ({"period": "-1"}, {"period": [PERIOD_RANGE]}),
        ({"period": 1.5}, {"period": [PERIOD_INT]}),
        ({"period": True}, {"period": [PERIOD_INT]}),
        ({"period": [1]}, {"period": [PERIOD_INT]}),
        ({"period": ""}, {"period": [PERIOD_INT]}),
        ({"period_type": "fortnights"}, {"period_type": ["The selected period type is invalid."]}),
        ({"period_type": 5}, {"period_type": ["The period type field must be a string."]}),
        (
            {"code": "x" * 256},
            {"code": ["The code field must not be greater than 255 characters."]},
        ),
        ({"code": 5}, {"code": ["The code field must be a string."]}),
        ({"code": {"a": 1}}, {"code": ["The code field must be a string."]}),
        ({"code": "\ud800"}, {"code": ["The code field must be a string."]}),
        ({"expires_at": "tomorrow"}, {"expires_at": [BAD_EXPIRES_AT]}),
        ({"expires_at": "2026-02-30"}, {"expires_at": [BAD_EXPIRES_AT]}),
        ({"expires_at": 1700000000}, {"expires_at": ["The expires at field must be a string."]}),
        ({"meta": "m"}, {"meta": ["The meta field must be an array of strings."]}),
        ({"meta": [1]}, {"meta": ["The meta field must be an array of strings."]}),
        ({"meta": ["a"] * 101}, {"meta": ["The meta field must not have more than 100 items."]}),
        (
            {"meta": ["x" * 1001]},
            {"meta": ["Meta item 1 must not be greater than 1000 characters."]},
        ),
        (
            {"period": None},
            {"period": ["The period field is required when the period type is weeks."]},
        ),
        (
            {"period_type": "absolute_date"},
            {
                "absolute_expiry": [
                    "The absolute expiry field is required when the period type is absolute_date."
                ]
            },
        ),
        (
            {"period_type": "absolute_week", "absolute_expiry": "8"},
            {
                "absolute_expiry": [
                    "The absolute expiry field must be an ISO weekday from 1 (Monday) to 7 "
                    "(Sunday) when the period type is absolute_week."
                ]
            },
        ),
        (
            {"period_type": "absolute_month", "absolute_expiry": "32"},
            {
                "absolute_expiry": [
                    "The absolute expiry field must be a day of the month from 1 to 31 "
                    "when the period type is absolute_month."
                ]
            },
        ),
        (
            {"period_type": "absolute_date", "absolute_expiry": "02-30"},
            {
                "absolute_expiry": [
                    "The absolute expiry field must be a real date written YYYY-MM-DD or MM-DD "
                    "(for example 2026-12-25 or 12-25) when the period type is absolute_date."
                ]
            },
        ),
        (
            {"code": "  "},
            {"code": ["The code field must not be only spaces: leave it empty for none."]},
        ),
        (
            {"period": "x", "code": 5, "meta": "m", "expires_at": "nope", "period_type": "z"},
            {
                "code": ["The code field must be a string."],
                "period": [PERIOD_INT],
                "period_type": ["The selected period type is invalid."],
                "expires_at": [BAD_EXPIRES_AT],
                "meta": ["The meta field must be an array of strings."],
            },
        ),
    ],
)
def test_put_validation_names_every_bad_field_and_changes_nothing(app, api, body, errors):
    share_id = factories.share(
        app,
        **EXAMPLE,
        code="KEEP",
        period=2,
        period_type=PeriodType.WEEKS,
        expires_at=datetime(2026, 12, 13, 12, 59, 59, tzinfo=UTC),
        meta=["keep"],
    )
    before = factories.share_row(app, share_id)

    assert_ordered_invalid(api.put(f"{URL}/{share_id}", json=body), errors)
    assert factories.share_row(app, share_id) == before
    assert factories.share_count(app) == 1


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"expires_at": "2027-03-01T00:00:00Z", "period": None},
            {"period": ["The period field is required when the period type is weeks."]},
        ),
        (
            {"expires_at": "2027-03-01T00:00:00Z", "period_type": "absolute_date"},
            {
                "absolute_expiry": [
                    "The absolute expiry field is required when the period type is absolute_date."
                ]
            },
        ),
        (
            {"expires_at": "2027-03-01", "period_type": "absolute_week", "absolute_expiry": "9"},
            {
                "absolute_expiry": [
                    "The absolute expiry field must be an ISO weekday from 1 (Monday) to 7 "
                    "(Sunday) when the period type is absolute_week."
                ]
            },
        ),
    ],
)
def test_put_with_a_new_expires_at_still_checks_the_period_fields(app, api, body, errors):
    """The explicit expiry wins, but the period fields it is stored beside must still be valid.

    Otherwise the share keeps fields that no later edit can recompute from.
    """
    share_id = factories.share(app, **EXAMPLE, **TWO_WEEKS)
    before = factories.share_row(app, share_id)

    assert_ordered_invalid(api.put(f"{URL}/{share_id}", json=body), errors)
    assert factories.share_row(app, share_id) == before
    # The share stays editable.
    assert api.put(f"{URL}/{share_id}", json={"code": "NEW"}).status_code == 200


@pytest.mark.parametrize(
    ("kwargs", "status", "message"),
    [
        (
            {"data": "{not json", "content_type": "application/json"},
            400,
            "The request body must be a JSON object.",
        ),
        ({"json": [1, 2]}, 400, "The request body must be a JSON object."),
        ({"json": "code"}, 400, "The request body must be a JSON object."),
        (
            {"data": "", "content_type": "application/json"},
            400,
            "The request body must be a JSON object.",
        ),
        (
            {"data": "code=NEW", "content_type": "application/x-www-form-urlencoded"},
            415,
            "The content type must be application/json.",
        ),
        (
            {"data": '{"code": "NEW"}', "content_type": "text/plain"},
            415,
            "The content type must be application/json.",
        ),
        ({"json": {"code": "NEW", "pad": "x" * 70_000}}, 413, "The request body is too large."),
        (
            {"json": {"code": "NEW"}, "headers": {"Authorization": "Bearer wrong"}},
            401,
            "Unauthenticated. Send 'Authorization: Bearer <token>'.",
        ),
        (
            {"json": {"code": "NEW"}, "headers": {"Authorization": ""}},
            401,
            "Unauthenticated. Send 'Authorization: Bearer <token>'.",
        ),
    ],
)
def test_put_refusals_change_nothing(app, api, kwargs, status, message):
    share_id = factories.share(app, **EXAMPLE, code="KEEP")
    before = factories.share_row(app, share_id)

    response = api.put(f"{URL}/{share_id}", **kwargs)

    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.get_json() == {"message": message}
    assert factories.share_row(app, share_id) == before


def test_put_missing_share_is_404(app, api):
    share_id = factories.share(app, **EXAMPLE, code="KEEP")
    before = factories.share_row(app, share_id)

    response = api.put(f"{URL}/{share_id + 1}", json={"code": "NEW"})

    assert response.status_code == 404
    assert response.get_json() == {"message": "Not found."}
    assert factories.share_row(app, share_id) == before


# --- DELETE --------------------------------------------------------------------------------


def test_delete_is_204_with_an_empty_body_and_the_row_is_gone(app, api):
    share_id = factories.share(app, **EXAMPLE)
    other = factories.share(app, **EXAMPLE)

    response = api.delete(f"{URL}/{share_id}")

    assert response.status_code == 204
    assert response.data == b""
    assert factories.share_row(app, share_id) is None
    assert factories.share_row(app, other) is not None
    assert api.get(f"{URL}/{share_id}").status_code == 404
    again = api.delete(f"{URL}/{share_id}")
    assert again.status_code == 404
    assert again.get_json() == {"message": "Not found."}
    assert api.put(f"{URL}/{share_id}", json={"code": "x"}).status_code == 404
    assert (
        api.post(f"{URL}/{share_id}/claim", json={"profile_id": "c", "code": "x"}).status_code
        == 404
    )
    assert factories.share_count(app) == 1


def test_delete_keeps_the_claim_records(app, api):
    share_id = factories.share(
        app,
        **EXAMPLE,
        code="C",
        is_cloneable=True,
        remaining_quantity=None,
        source_type=SourceType.BENEFIT,
        source_id=77,
    )
    handle = factories.handle_of(app, share_id)
    for claimer in ("claimer-1", "claimer-2"):
        response = api.post(
            f"{URL}/{share_id}/claim", json={"profile_id": claimer, "code": "C", "meta": ["k"]}
        )
        assert response.status_code == 201
    before = factories.claim_rows(app, share_id)

    assert api.delete(f"{URL}/{share_id}").status_code == 204

    after = factories.claim_rows(app, share_id)
    assert after == before
    assert [row["profile_id"] for row in after] == ["claimer-1", "claimer-2"]
    for row in after:
        assert row["share_id"] == share_id
        assert row["share_handle"] == handle
        assert row["share_profile_id"] == "owner-1"
        assert row["created_source_type"] is SourceType.BENEFIT
        assert row["created_source_id"] == 77
        assert row["is_cloned"] is True
        assert row["meta"] == ["k"]
    # A new share never takes the deleted share's id, so the kept claims stay unambiguous.
    assert factories.share(app, **EXAMPLE) > share_id


def test_delete_needs_a_token(app, client):
    share_id = factories.share(app, **EXAMPLE)

    response = client.delete(f"{URL}/{share_id}")

    assert response.status_code == 401
    assert factories.share_row(app, share_id) is not None


# --- claim ---------------------------------------------------------------------------------


def claim(api, share_id: int, **body):
    return api.post(f"{URL}/{share_id}/claim", json=body)


@pytest.mark.parametrize("cloneable", [True, False])
def test_claim_returns_the_share_claim(app, api, cloneable):
    share_id = factories.share(
        app,
        **EXAMPLE,
        code="SECRET",
        is_cloneable=cloneable,
        remaining_quantity=3 if cloneable else 1,
        source_type=SourceType.LIST_ITEM,
        source_id=5150,
    )

    response = claim(api, share_id, profile_id="claimer-9", code="SECRET", meta=["via:test"])

    assert response.status_code == 201, response.get_json()
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"data"}
    data = body["data"]
    assert set(data) == CLAIM_KEYS
    assert type(data["id"]) is int
    assert data["share_id"] == share_id
    assert data["share_handle"] == factories.handle_of(app, share_id)
    assert data["share_profile_id"] == "owner-1"
    assert data["profile_id"] == "claimer-9"
    assert data["created_source_type"] == "listItem"
    assert data["created_source_id"] == 5150
    assert data["is_cloned"] is cloneable
    assert data["meta"] == ["via:test"]
    for key in ("claimed_at", "created_at", "updated_at"):
        assert UTC_Z_SECOND.fullmatch(data[key]), data[key]
    assert factories.share_row(app, share_id)["remaining_quantity"] == (2 if cloneable else 0)
    rows = factories.claim_rows(app)
    assert len(rows) == 1
    row = rows[0]
    assert row["id"] == data["id"]
    assert row["share_handle"] == factories.handle_of(app, share_id)
    assert row["profile_id"] == "claimer-9" and row["share_profile_id"] == "owner-1"
    assert row["created_source_type"] is SourceType.LIST_ITEM and row["created_source_id"] == 5150
    assert row["is_cloned"] is cloneable
    assert to_utc_z(row["claimed_at"]) == data["claimed_at"]
    assert api.get(f"{URL}/{share_id}").get_json()["data"]["remaining_quantity"] == (
        2 if cloneable else 0
    )


def test_claim_without_meta_stores_null(app, api):
    share_id = factories.share(app, **EXAMPLE, code="C")

    response = claim(api, share_id, profile_id="c", code="C")

    assert response.status_code == 201
    assert response.get_json()["data"]["meta"] is None
    assert factories.claim_rows(app)[0]["meta"] is None


def test_unlimited_stays_unlimited(app, api):
    share_id = factories.share(app, **EXAMPLE, is_cloneable=True, remaining_quantity=None, code="C")

    for n in range(3):
        response = claim(api, share_id, profile_id=f"c-{n}", code="C")
        assert response.status_code == 201
        assert factories.share_row(app, share_id)["remaining_quantity"] is None
    assert len(factories.claim_rows(app, share_id)) == 3
    assert api.get(f"{URL}/{share_id}").get_json()["data"]["remaining_quantity"] is None


def test_claim_with_the_handle_when_the_share_has_no_code(app, api):
    share_id = factories.share(app, **EXAMPLE, code=None)
    handle = factories.handle_of(app, share_id)

    response = claim(api, share_id, profile_id="claimer", code=handle)

    assert response.status_code == 201
    assert factories.share_row(app, share_id)["remaining_quantity"] == 0
    assert len(factories.claim_rows(app)) == 1


def test_cloneable_share_counts_down_to_zero_then_refuses(app, api):
    share_id = factories.share(app, **EXAMPLE, is_cloneable=True, remaining_quantity=2, code="C")

    assert claim(api, share_id, profile_id="a", code="C").status_code == 201
    assert claim(api, share_id, profile_id="b", code="C").status_code == 201
    assert_ordered_invalid(
        claim(api, share_id, profile_id="c", code="C"),
        {"share": ["The share has no claims left."]},
    )
    assert factories.share_row(app, share_id)["remaining_quantity"] == 0
    assert [row["profile_id"] for row in factories.claim_rows(app)] == ["a", "b"]


def test_non_cloneable_share_is_claimed_once_only(app, api):
    response = api.post(
        URL, json={"profile_id": "owner", "source_id": 3, "source_type": "reward", "code": "ONE"}
    )
    share_id = response.get_json()["data"]["id"]
    assert response.get_json()["data"]["remaining_quantity"] == 1

    first = claim(api, share_id, profile_id="first", code="ONE")
    second = claim(api, share_id, profile_id="second", code="ONE")
    again = claim(api, share_id, profile_id="first", code="ONE")

    assert first.status_code == 201
    assert first.get_json()["data"]["is_cloned"] is False
    assert_ordered_invalid(second, {"share": ["The share has no claims left."]})
    assert_ordered_invalid(again, {"share": ["The share has no claims left."]})
    assert factories.share_row(app, share_id)["remaining_quantity"] == 0
    assert [row["profile_id"] for row in factories.claim_rows(app)] == ["first"]


WRONG_CODE = "The code is wrong: give the share's code."
WRONG_HANDLE = "The code is wrong: give the share's handle."
OWN = "A profile cannot claim its own share."
EXPIRED = "The share has expired."
NONE_LEFT = "The share has no claims left."
PAST = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("share", "body", "errors"),
    [
        ({"code": "SECRET"}, {"profile_id": "c", "code": "nope"}, {"code": [WRONG_CODE]}),
        ({"code": "SECRET"}, {"profile_id": "c", "code": "secret"}, {"code": [WRONG_CODE]}),
        ({"code": "SECRET"}, {"profile_id": "c", "code": "SECRET "}, {"code": [WRONG_CODE]}),
        ({"code": "SECRET"}, {"profile_id": "c", "code": "HANDLE"}, {"code": [WRONG_CODE]}),
        ({"code": None}, {"profile_id": "c", "code": "not-the-handle"}, {"code": [WRONG_HANDLE]}),
        ({"code": None}, {"profile_id": "c", "code": "HANDLE-PREFIX"}, {"code": [WRONG_HANDLE]}),
        ({"code": "SECRET"}, {"profile_id": "owner-1", "code": "SECRET"}, {"profile_id": [OWN]}),
        (
            {"code": "SECRET", "expires_at": PAST},
            {"profile_id": "c", "code": "SECRET"},
            {"share": [EXPIRED]},
        ),
        (
            {
                "code": None,
                "period_type": PeriodType.ABSOLUTE_DATE,
                "absolute_expiry": "2026-01-01",
                "expires_at": datetime(2026, 1, 1, 12, 59, 59, tzinfo=UTC),
            },
            {"profile_id": "c", "code": "HANDLE"},
            {"share": [EXPIRED]},
        ),  # fmt: skip
        (
            {"code": "SECRET", "remaining_quantity": 0},
            {"profile_id": "c", "code": "SECRET"},
            {"share": [NONE_LEFT]},
        ),
        (
            {"code": "SECRET", "remaining_quantity": 0, "expires_at": PAST},
            {"profile_id": "c", "code": "SECRET"},
            {"share": [EXPIRED]},
        ),
        (
            {"code": "SECRET", "remaining_quantity": 0, "expires_at": PAST},
            {"profile_id": "owner-1", "code": "bad"},
            {"code": [WRONG_CODE], "profile_id": [OWN], "share": [EXPIRED]},
        ),
        (
            {"code": None, "remaining_quantity": 0},
            {"profile_id": "owner-1", "code": "bad"},
            {"code": [WRONG_HANDLE], "profile_id": [OWN], "share": [NONE_LEFT]},
        ),
        (
            {"code": "SECRET"},
            {"profile_id": "owner-1", "code": "x"},
            {"code": [WRONG_CODE], "profile_id": [OWN]},
        ),
    ],
)
def test_refused_claims_change_nothing(app, api, share, body, errors):
    share_id = factories.share(app, **EXAMPLE, **share)
    handle = factories.handle_of(app, share_id)
    body = {
        key: value.replace("HANDLE-PREFIX", handle[:-1]).replace("HANDLE", handle)
        for key, value in body.items()
    }
    before = factories.share_row(app, share_id)

    assert_ordered_invalid(claim(api, share_id, **body), errors)
    assert factories.share_row(app, share_id) == before
    assert factories.claim_rows(app) == []


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {},
            {
                "profile_id": ["The profile id field is required."],
                "code": ["The code field is required."],
            },
        ),
        ({"code": "C"}, {"profile_id": ["The profile id field is required."]}),
        ({"profile_id": "c"}, {"code": ["The code field is required."]}),
        ({"profile_id": "   ", "code": "C"}, {"profile_id": ["The profile id field is required."]}),
        ({"profile_id": None, "code": "C"}, {"profile_id": ["The profile id field is required."]}),
        ({"profile_id": "c", "code": None}, {"code": ["The code field is required."]}),
        ({"profile_id": "c", "code": ""}, {"code": ["The code field is required."]}),
        (
            {"profile_id": 5, "code": "C"},
            {"profile_id": ["The profile id field must be a string."]},
        ),
        ({"profile_id": "c", "code": ["C"]}, {"code": ["The code field must be a string."]}),
        (
            {"profile_id": "x" * 256, "code": "C"},
            {"profile_id": ["The profile id field must not be greater than 255 characters."]},
        ),
        (
            {"profile_id": "c", "code": "C", "meta": "m"},
            {"meta": ["The meta field must be an array of strings."]},
        ),
        (
            {"profile_id": "c", "code": "C", "meta": ["a"] * 101},
            {"meta": ["The meta field must not have more than 100 items."]},
        ),
    ],
)
def test_claim_body_validation(app, api, body, errors):
    share_id = factories.share(app, **EXAMPLE, code="C")
    before = factories.share_row(app, share_id)

    assert_ordered_invalid(claim(api, share_id, **body), errors)
    assert factories.share_row(app, share_id) == before
    assert factories.claim_rows(app) == []


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": "nope", "content_type": "application/json"}, 400),
        ({"json": ["c", "C"]}, 400),
        ({"data": "profile_id=c&code=C", "content_type": "application/x-www-form-urlencoded"}, 415),
        ({"json": {"profile_id": "c", "code": "C"}, "headers": {"Authorization": "Bearer x"}}, 401),
    ],
)
def test_claim_transport_refusals(app, api, kwargs, status):
    share_id = factories.share(app, **EXAMPLE, code="C")
    before = factories.share_row(app, share_id)

    response = api.post(f"{URL}/{share_id}/claim", **kwargs)

    assert response.status_code == status
    assert set(response.get_json()) == {"message"}
    assert factories.share_row(app, share_id) == before
    assert factories.claim_rows(app) == []


def test_claim_on_a_missing_share_is_404(app, api):
    response = claim(api, 12345, profile_id="c", code="C")

    assert response.status_code == 404
    assert response.get_json() == {"message": "Not found."}
    assert factories.claim_rows(app) == []
