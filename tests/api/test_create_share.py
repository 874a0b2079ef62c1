"""POST /api/v3/shares against every rule of the create body (docs/contract.md)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from tests import factories
from tests.conftest import make_app
from tests.contract import SHARE_KEYS, bearer
from webapp.enums import PeriodType, Role, SourceType
from webapp.expiry import resolve_expiry, to_utc_z
from webapp.extensions import db

URL = "/api/v3/shares"
VALID = {"profile_id": "profile-1", "source_id": 12, "source_type": "reward"}
MELBOURNE = "Australia/Melbourne"

# The create body's fields, in the contract's order.
BODY_FIELDS = [
    "profile_id", "source_id", "source_type", "code", "timezone", "period", "period_type",
    "absolute_expiry", "expires_at", "quantity", "remaining_quantity", "meta", "is_cloneable",
]  # fmt: skip
# Written out from the contract rather than read from the enum, so a drifted enum fails here.
SOURCE_TYPES = [
    "profile", "product", "transaction", "reward", "benefit", "point", "user", "tenant", "list",
    "listItem", "target", "automation", "trigger", "aggregation", "comms_attribute",
    "appearance_attribute", "webhook", "identity", "tier", "address", "location",
    "product_variant", "benefit_definition", "reward_definition", "tier_definition",
    "transaction_item", "order", "redemption", "tier_point", "interaction", "status",
    "organisation", "role_definition", "credit_definition", "credit", "product_list_reservation",
]  # fmt: skip
UTC_Z_SECOND = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
URL_SAFE = re.compile(r"[A-Za-z0-9_-]{22,}")


def create(api, **fields):
    """POST the minimal valid body with ``fields`` merged in (a None value is sent as null)."""
    return api.post(URL, json={**VALID, **fields})


def created(api, **fields) -> dict:
    """Create a share that must succeed and return its Share object."""
    response = create(api, **fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def assert_invalid(response, *fields: str) -> dict:
    """A 422 whose ``errors`` names exactly ``fields``, each with messages; returns errors."""
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert isinstance(body["message"], str) and body["message"]
    assert set(body["errors"]) == set(fields)
    for messages in body["errors"].values():
        assert messages and all(isinstance(m, str) and m for m in messages)
    return body["errors"]


def client_with_token(app):
    """A test client for ``app`` sending a fresh bearer token (like the ``api`` fixture)."""
    plain = factories.token(app, "other-app", Role.AGENT)
    client = app.test_client()

    class Api:
        def post(self, path, **kwargs):
            return client.post(path, headers=bearer(plain), **kwargs)

    return Api()


# --- success: the Share object -------------------------------------------------------------


def test_create_returns_201_the_share_and_its_location(app, api):
    response = create(api)

    assert response.status_code == 201
    assert set(response.get_json()) == {"data"}
    data = response.get_json()["data"]
    assert set(data) == SHARE_KEYS
    assert type(data["id"]) is int
    assert response.headers["Location"] == f"/api/v3/shares/{data['id']}"
    assert data["profile_id"] == "profile-1"
    assert data["source_type"] == "reward"
    assert type(data["source_id"]) is int and data["source_id"] == 12
    assert data["source"] == {"type": "reward", "id": 12}
    assert type(data["quantity"]) is int and data["quantity"] == 1
    assert data["is_cloneable"] is False
    assert URL_SAFE.fullmatch(data["handle"])
    for key in ("created_at", "updated_at"):
        assert UTC_Z_SECOND.fullmatch(data[key]), data[key]
    assert factories.share_count(app) == 1
    row = factories.share_row(app, data["id"])
    assert row["handle"] == data["handle"]
    assert row["created_at"].microsecond == 0
    assert to_utc_z(row["created_at"]) == data["created_at"]


def test_location_serves_the_same_share(api):
    response = create(api)
    fetched = api.get(response.headers["Location"])
    assert fetched.status_code == 200
    assert fetched.get_json() == response.get_json()


def test_handles_and_ids_are_unique_across_creates(app, api):
    shares = [created(api) for _ in range(25)]
    assert len({s["handle"] for s in shares}) == 25
    assert len({s["id"] for s in shares}) == 25
    assert all(URL_SAFE.fullmatch(s["handle"]) for s in shares)
    assert factories.share_count(app) == 25


def test_omneo_example_body_is_stored_as_given(app, api):
    # reference/omneo-add-share.txt, placeholders filled in.
    body = {
        "profile_id": "omneo-profile-42",
        "source_id": 123,
        "source_type": "profile",
        "code": "SECRET-CODE",
        "timezone": MELBOURNE,
        "period": 123,
        "period_type": "days",
        "absolute_expiry": "12-25",
        "expires_at": "2023-11-07T05:31:56Z",
        "remaining_quantity": 123,
        "quantity": "1",
        "meta": ["campaign:summer", "channel:app"],
        "is_cloneable": True,
    }
    response = api.post(URL, json=body)

    assert response.status_code == 201, response.get_json()
    data = response.get_json()["data"]
    expected = {**body, "quantity": 1}
    assert {key: data[key] for key in body} == expected
    assert data["source"] == {"type": "profile", "id": 123}
    row = factories.share_row(app, data["id"])
    assert row["profile_id"] == "omneo-profile-42"
    assert row["source_type"] is SourceType.PROFILE
    assert row["source_id"] == 123
    assert row["code"] == "SECRET-CODE"
    assert row["timezone"] == MELBOURNE
    assert (row["period"], row["period_type"]) == (123, PeriodType.DAYS)
    assert row["absolute_expiry"] == "12-25"
    assert row["expires_at"] == datetime(2023, 11, 7, 5, 31, 56, tzinfo=UTC)
    assert (row["quantity"], row["remaining_quantity"]) == (1, 123)
    assert row["meta"] == ["campaign:summer", "channel:app"]
    assert row["is_cloneable"] is True


# --- defaults ------------------------------------------------------------------------------


@pytest.mark.parametrize("timezone", ["omitted", None, ""])
def test_missing_timezone_stores_the_default_utc(app, api, timezone):
    fields = {} if timezone == "omitted" else {"timezone": timezone}
    data = created(api, **fields)
    assert data["timezone"] == "UTC"
    assert factories.share_row(app, data["id"])["timezone"] == "UTC"


@pytest.mark.parametrize("timezone", ["omitted", None, ""])
def test_missing_timezone_stores_the_configured_default(tmp_path, timezone):
    (tmp_path / "melbourne").mkdir()
    app = make_app(tmp_path / "melbourne", DEFAULT_TIMEZONE=MELBOURNE)
    fields = {} if timezone == "omitted" else {"timezone": timezone}
    data = created(client_with_token(app), **fields, period=1)
    assert data["timezone"] == MELBOURNE
    assert factories.share_row(app, data["id"])["timezone"] == MELBOURNE
    # The expiry is 23:59:59 in that default zone.
    local = datetime.fromisoformat(data["expires_at"]).astimezone(ZoneInfo(MELBOURNE))
    assert local.time() == time(23, 59, 59)
    with app.app_context():
        db.engine.dispose()


def test_explicit_timezone_is_stored(app, api):
    data = created(api, timezone="America/New_York")
    assert factories.share_row(app, data["id"])["timezone"] == "America/New_York"


@pytest.mark.parametrize(
    ("fields", "remaining"),
    [
        ({}, 1),
        ({"remaining_quantity": None}, 1),
        ({"is_cloneable": False}, 1),
        ({"is_cloneable": True}, None),
        ({"is_cloneable": True, "remaining_quantity": None}, None),
        ({"remaining_quantity": 0}, 0),
        ({"remaining_quantity": 1}, 1),
        ({"is_cloneable": True, "remaining_quantity": 5}, 5),
        ({"is_cloneable": True, "remaining_quantity": "7"}, 7),
    ],
)
def test_remaining_quantity_default(app, api, fields, remaining):
    data = created(api, **fields)
    assert data["remaining_quantity"] == remaining
    assert factories.share_row(app, data["id"])["remaining_quantity"] == remaining


@pytest.mark.parametrize(("value", "expected"), [(None, False), (False, False), (True, True)])
def test_is_cloneable_null_means_false(app, api, value, expected):
    data = created(api, is_cloneable=value)
    assert data["is_cloneable"] is expected
    assert factories.share_row(app, data["id"])["is_cloneable"] is expected


@pytest.mark.parametrize("quantity", [None, 1, "1"])
def test_quantity_defaults_to_and_accepts_only_one(app, api, quantity):
    data = created(api, quantity=quantity)
    assert data["quantity"] == 1
    assert factories.share_row(app, data["id"])["quantity"] == 1


def test_period_without_period_type_is_stored_as_days(app, api):
    data = created(api, period=3)
    row = factories.share_row(app, data["id"])
    assert (row["period"], row["period_type"]) == (3, PeriodType.DAYS)
    assert data["period_type"] == "days"
    expected = resolve_expiry(created_at=row["created_at"], tz="UTC", period=3, period_type="days")
    assert row["expires_at"] == expected


@pytest.mark.parametrize("field", ["code", "absolute_expiry"])
def test_empty_string_means_null(app, api, field):
    data = created(api, **{field: ""})
    assert data[field] is None
    assert factories.share_row(app, data["id"])[field] is None


def test_nothing_set_means_never_expires(app, api):
    data = created(api)
    assert data["expires_at"] is None
    row = factories.share_row(app, data["id"])
    assert (row["period"], row["period_type"], row["expires_at"]) == (None, None, None)


# --- integer fields ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "expected", "extra"),
    [
        ("source_id", "12", 12, {}),
        ("source_id", 9_223_372_036_854_775_807, 9_223_372_036_854_775_807, {}),
        ("period", "12", 12, {}),
        ("period", 0, 0, {}),
        ("period", 36500, 36500, {}),
        ("quantity", "1", 1, {}),
        ("remaining_quantity", "12", 12, {"is_cloneable": True}),
        ("remaining_quantity", "0", 0, {}),
    ],
)
def test_integer_fields_accept_digit_strings(app, api, field, value, expected, extra):
    data = created(api, **extra, **{field: value})
    assert data[field] == expected and type(data[field]) is int
    assert factories.share_row(app, data["id"])[field] == expected


INTEGER_FIELDS = ["source_id", "period", "quantity", "remaining_quantity"]
NOT_INTEGERS = [
    12.5, 1.0, True, False, -1, "-1", "+1", " 12", "12 ", "1e3", "12.5", "0x10", "", "١٢",
    "99999999999999999999", [], [12], {}, {"value": 12},
]  # fmt: skip


@pytest.mark.parametrize("field", INTEGER_FIELDS)
@pytest.mark.parametrize("value", NOT_INTEGERS, ids=lambda value: repr(value)[:24])
def test_integer_fields_reject_everything_but_digits(app, api, field, value):
    # A cloneable share, so remaining_quantity is not refused for being above 1.
    errors = assert_invalid(create(api, is_cloneable=True, **{field: value}), field)
    assert errors[field][0].startswith(f"The {field.replace('_', ' ')} field must be")
    assert factories.share_count(app) == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("source_id", 0, "The source id field must be between 1 and"),
        ("source_id", 2**63, "The source id field must be between 1 and"),
        ("period", 36501, "The period field must be between 0 and 36500."),
        ("period", "36501", "The period field must be between 0 and 36500."),
        ("remaining_quantity", 2**31, "The remaining quantity field must be between 0 and"),
    ],
)
def test_integer_ranges(app, api, field, value, message):
    errors = assert_invalid(create(api, is_cloneable=True, **{field: value}), field)
    assert errors[field][0].startswith(message)
    assert factories.share_count(app) == 0


@pytest.mark.parametrize("remaining", [2, "2", 100])
def test_non_cloneable_share_takes_at_most_one_claim(app, api, remaining):
    errors = assert_invalid(create(api, remaining_quantity=remaining), "remaining_quantity")
    assert errors["remaining_quantity"] == [
        "The remaining quantity field must be 0 or 1 when the share is not cloneable."
    ]
    assert factories.share_count(app) == 0


@pytest.mark.parametrize("quantity", [0, 2, "2", "0"])
def test_quantity_other_than_one_is_refused(app, api, quantity):
    errors = assert_invalid(create(api, quantity=quantity), "quantity")
    assert errors["quantity"] == ["The quantity field must be 1."]
    assert factories.share_count(app) == 0


# --- strings and enums ---------------------------------------------------------------------


@pytest.mark.parametrize("source_type", SOURCE_TYPES)
def test_every_contract_source_type_is_accepted(app, api, source_type):
    assert len(SOURCE_TYPES) == 36
    data = created(api, source_type=source_type)
    assert data["source_type"] == source_type
    assert data["source"] == {"type": source_type, "id": 12}
    assert factories.share_row(app, data["id"])["source_type"].value == source_type


@pytest.mark.parametrize(
    "source_type",
    ["Reward", "REWARD", "LIST_ITEM", "list_item", "listitem", " reward", "reward ", "coupon"],
)
def test_source_type_outside_the_enum_is_refused(app, api, source_type):
    errors = assert_invalid(create(api, source_type=source_type), "source_type")
    assert errors["source_type"] == ["The selected source type is invalid."]
    assert factories.share_count(app) == 0


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"profile_id": None}, "profile_id", "The profile id field is required."),
        ({"profile_id": ""}, "profile_id", "The profile id field is required."),
        ({"profile_id": "   "}, "profile_id", "The profile id field is required."),
        ({"profile_id": "\t\n"}, "profile_id", "The profile id field is required."),
        (
            {"profile_id": "p" * 256},
            "profile_id",
            "The profile id field must not be greater than 255 characters.",
        ),
        ({"source_id": None}, "source_id", "The source id field is required."),
        ({"source_type": None}, "source_type", "The source type field is required."),
        # Only code, absolute_expiry and timezone read "" as null; "" is no source type.
        ({"source_type": ""}, "source_type", "The selected source type is invalid."),
        ({"code": "c" * 256}, "code", "The code field must not be greater than 255 characters."),
        # A code of spaces could never be claimed (a claim's code must not be blank).
        (
            {"code": "   "},
            "code",
            "The code field must not be only spaces: leave it empty for none.",
        ),
        ({"code": "\t"}, "code", "The code field must not be only spaces"),
        ({"period_type": "fortnights"}, "period_type", "The selected period type is invalid."),
        ({"period_type": "Weeks", "period": 1}, "period_type", "The selected period type is"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "The timezone field must be a valid IANA"),
        ({"timezone": "utc"}, "timezone", "The timezone field must be a valid IANA"),
        ({"timezone": "+10:00"}, "timezone", "The timezone field must be a valid IANA"),
    ],
)
def test_string_and_enum_rules(app, api, fields, field, message):
    errors = assert_invalid(api.post(URL, json={**VALID, **fields}), field)
    assert errors[field][0].startswith(message)
    assert factories.share_count(app) == 0


def test_profile_id_is_trimmed_and_may_be_255_chars(app, api):
    data = created(api, profile_id="  customer-7  ")
    assert factories.share_row(app, data["id"])["profile_id"] == "customer-7"
    data = created(api, profile_id="p" * 255, code="c" * 255)
    row = factories.share_row(app, data["id"])
    assert (len(row["profile_id"]), len(row["code"])) == (255, 255)


@pytest.mark.parametrize(
    ("period_type", "absolute_expiry"),
    [
        ("days", None),
        ("weeks", None),
        ("months", None),
        ("years", None),
        ("absolute_date", "12-25"),
        ("absolute_week", "5"),
        ("absolute_month", "31"),
    ],
)
def test_every_period_type_is_accepted(app, api, period_type, absolute_expiry):
    data = created(api, period=1, period_type=period_type, absolute_expiry=absolute_expiry)
    assert data["period_type"] == period_type
    row = factories.share_row(app, data["id"])
    assert (row["period_type"].value, row["absolute_expiry"]) == (period_type, absolute_expiry)
    assert row["expires_at"] is not None


# --- meta ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        (["m"] * 101, "The meta field must not have more than 100 items."),
        (["ok", "x" * 1001], "Meta item 2 must not be greater than 1000 characters."),
        ([1], "The meta field must be an array of strings."),
        (["a", None], "The meta field must be an array of strings."),
        ([["nested"]], "The meta field must be an array of strings."),
        ([{"k": "v"}], "The meta field must be an array of strings."),
        ("not-a-list", "The meta field must be an array of strings."),
        ({"k": "v"}, "The meta field must be an array of strings."),
        (True, "The meta field must be an array of strings."),
    ],
)
def test_bad_meta_is_refused(app, api, meta, message):
    assert assert_invalid(create(api, meta=meta), "meta") == {"meta": [message]}
    assert factories.share_count(app) == 0


@pytest.mark.parametrize(
    "meta", [None, [], ["m"] * 100, ["x" * 1000], ["line one\nline two", " spaced "]]
)
def test_meta_within_limits_is_stored_unchanged(app, api, meta):
    data = created(api, meta=meta)
    assert data["meta"] == meta
    assert factories.share_row(app, data["id"])["meta"] == meta


# --- ignored fields ------------------------------------------------------------------------


def test_unknown_and_server_owned_fields_are_ignored(app, api):
    first = created(api)
    data = created(
        api,
        id=first["id"],
        handle="my-own-handle-that-is-long-enough",
        created_at="2000-01-01T00:00:00Z",
        updated_at="2000-01-01T00:00:00Z",
        status="expired",
        source={"type": "tier", "id": 99},
        colour="blue",
    )
    assert data["id"] != first["id"]
    assert data["handle"] != "my-own-handle-that-is-long-enough"
    assert not data["created_at"].startswith("2000")
    assert not data["updated_at"].startswith("2000")
    assert data["source"] == {"type": "reward", "id": 12}
    assert "colour" not in data and "status" not in data
    assert factories.share_count(app) == 2
    row = factories.share_row(app, data["id"])
    assert row["created_at"].year != 2000 and row["handle"] == data["handle"]


# --- expiry, computed by the server --------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"expires_at": "2026-12-01T10:00:00+10:00"}, "2026-12-01T00:00:00Z"),
        ({"expires_at": "2026-12-01T10:00:00Z"}, "2026-12-01T10:00:00Z"),
        ({"expires_at": "2026-12-01T10:00:00.987Z"}, "2026-12-01T10:00:00Z"),
        ({"expires_at": "2026-12-01T10:00:00-05:30"}, "2026-12-01T15:30:00Z"),
        # No offset: wall-clock time in the share's zone (AEDT, +11:00 in December).
        ({"expires_at": "2026-12-01T10:00:00", "timezone": MELBOURNE}, "2026-11-30T23:00:00Z"),
        ({"expires_at": "2026-07-01T10:00:00", "timezone": MELBOURNE}, "2026-07-01T00:00:00Z"),
        ({"expires_at": "2026-12-01T10:00:00"}, "2026-12-01T10:00:00Z"),
        # Date only: 23:59:59 that day in the share's zone.
        ({"expires_at": "2026-12-01", "timezone": MELBOURNE}, "2026-12-01T12:59:59Z"),
        ({"expires_at": "2026-12-01"}, "2026-12-01T23:59:59Z"),
        # An explicit expiry wins over the period fields.
        (
            {"expires_at": "2030-01-01T00:00:00Z", "period": 2, "period_type": "weeks"},
            "2030-01-01T00:00:00Z",
        ),
        # In the past: accepted, the share is born expired.
        ({"expires_at": "2020-01-01T00:00:00Z"}, "2020-01-01T00:00:00Z"),
        ({"period_type": "absolute_date", "absolute_expiry": "2027-06-30", "timezone": MELBOURNE},
         "2027-06-30T13:59:59Z"),
    ],
)  # fmt: skip
def test_explicit_expiry_is_stored_in_utc(app, api, fields, expected):
    data = created(api, **fields)
    assert data["expires_at"] == expected
    assert to_utc_z(factories.share_row(app, data["id"])["expires_at"]) == expected


@pytest.mark.parametrize(
    ("period", "period_type", "absolute_expiry"),
    [
        (2, "weeks", None),
        (30, "days", None),
        (3, "months", None),
        (1, "years", None),
        (None, "absolute_month", None),
        (None, "absolute_month", "15"),
        (0, "absolute_week", "1"),
        (1, "absolute_week", None),
        (None, "absolute_date", "12-25"),
        (0, "days", None),
    ],
)
def test_period_expiry_follows_the_rules_from_the_stored_creation_instant(
    app, api, period, period_type, absolute_expiry
):
    data = created(
        api,
        timezone=MELBOURNE,
        period=period,
        period_type=period_type,
        absolute_expiry=absolute_expiry,
    )
    row = factories.share_row(app, data["id"])
    expected = resolve_expiry(
        created_at=row["created_at"],
        tz=MELBOURNE,
        period=period,
        period_type=period_type,
        absolute_expiry=absolute_expiry,
    )
    assert row["expires_at"] == expected
    assert data["expires_at"] == to_utc_z(expected)
    local = expected.astimezone(ZoneInfo(MELBOURNE))
    assert local.time() == time(23, 59, 59)
    assert local.date() >= row["created_at"].astimezone(ZoneInfo(MELBOURNE)).date()


ABS_MUST_BE = "The absolute expiry field must be"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"period_type": "weeks"}, "period", "The period field is required when the period type"),
        ({"period_type": "days", "period": None}, "period", "The period field is required"),
        ({"period_type": "absolute_date"}, "absolute_expiry", "The absolute expiry field is"),
        (
            {"period_type": "absolute_date", "absolute_expiry": "12/25"},
            "absolute_expiry",
            ABS_MUST_BE,
        ),
        (
            {"period_type": "absolute_date", "absolute_expiry": "02-30"},
            "absolute_expiry",
            ABS_MUST_BE,
        ),
        ({"period_type": "absolute_week", "absolute_expiry": "8"}, "absolute_expiry", ABS_MUST_BE),
        (
            {"period_type": "absolute_month", "absolute_expiry": "32"},
            "absolute_expiry",
            ABS_MUST_BE,
        ),
        ({"period": 36500, "period_type": "years"}, "period", "The resulting expiry is past"),
        ({"expires_at": "tomorrow"}, "expires_at", "The expires at field must be a valid ISO"),
        ({"expires_at": "2026-02-30"}, "expires_at", "The expires at field must be a valid ISO"),
        ({"expires_at": "2026-12-01T25:00:00"}, "expires_at", "The expires at field must be"),
        ({"expires_at": "10000-01-01"}, "expires_at", "The expires at field must be a valid ISO"),
    ],
)
def test_expiry_rule_violations_are_field_errors(app, api, fields, field, message):
    errors = assert_invalid(api.post(URL, json={**VALID, **fields}), field)
    assert errors[field][0].startswith(message)
    assert factories.share_count(app) == 0


# --- 422 shape -----------------------------------------------------------------------------


def test_a_422_names_every_bad_field_at_once(app, api):
    body = {
        "profile_id": "   ",
        "source_id": "twelve",
        "source_type": "Reward",
        "code": "c" * 256,
        "timezone": "Nowhere/City",
        "period_type": "fortnights",
        "quantity": 2,
        "remaining_quantity": -1,
        "meta": [1, 2],
        "is_cloneable": "yes",
    }
    response = api.post(URL, json=body)

    errors = assert_invalid(response, *body)
    message = response.get_json()["message"]
    assert message.startswith(errors["profile_id"][0])
    assert errors["profile_id"] == ["The profile id field is required."]
    assert errors["source_id"] == ["The source id field must be an integer."]
    assert errors["source_type"] == ["The selected source type is invalid."]
    assert errors["is_cloneable"] == ["The is cloneable field must be true or false."]
    assert errors["remaining_quantity"] == [
        "The remaining quantity field must be between 0 and 2147483647."
    ]
    assert factories.share_count(app) == 0


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"timezone": "Nowhere/City", "period_type": "weeks"},
            {"timezone": "The timezone field must be a valid IANA",
             "period": "The period field is required when the period type is weeks."},
        ),
        (
            {"expires_at": "soon", "period_type": "absolute_date"},
            {"expires_at": "The expires at field must be a valid ISO 8601 date-time.",
             "absolute_expiry": "The absolute expiry field is required when the period type"},
        ),
    ],
)  # fmt: skip
def test_a_bad_zone_or_expiry_does_not_hide_the_period_errors(app, api, fields, expected):
    errors = assert_invalid(create(api, **fields), *expected)
    for field, message in expected.items():
        assert len(errors[field]) == 1 and errors[field][0].startswith(message)
    assert factories.share_count(app) == 0


def test_a_422_for_a_missing_body_names_the_required_fields(app, api):
    response = api.post(URL, json={})
    errors = assert_invalid(response, "profile_id", "source_id", "source_type")
    assert errors == {
        "profile_id": ["The profile id field is required."],
        "source_id": ["The source id field is required."],
        "source_type": ["The source type field is required."],
    }
    assert isinstance(response.get_json()["message"], str)
    assert factories.share_count(app) == 0


# --- other error statuses ------------------------------------------------------------------


ERROR_REQUESTS = {
    # id: (method, path, request kwargs builder taking the token, expected status)
    "invalid-json": ("post", URL, lambda t: {"data": '{"profile_id": ', "headers": bearer(t),
                                             "content_type": "application/json"}, 400),
    "json-array": ("post", URL, lambda t: {"json": [VALID], "headers": bearer(t)}, 400),
    "json-string": ("post", URL, lambda t: {"json": "profile-1", "headers": bearer(t)}, 400),
    "json-number": ("post", URL, lambda t: {"json": 12, "headers": bearer(t)}, 400),
    "json-null": ("post", URL, lambda t: {"data": "null", "headers": bearer(t),
                                          "content_type": "application/json"}, 400),
    "empty-body": ("post", URL, lambda t: {"data": "", "headers": bearer(t),
                                           "content_type": "application/json"}, 400),
    "not-utf8": ("post", URL, lambda t: {"data": b'{"a": "\xff"}', "headers": bearer(t),
                                         "content_type": "application/json"}, 400),
    "deeply-nested": ("post", URL, lambda t: {"data": "[" * 20000 + "]" * 20000,
                                              "headers": bearer(t),
                                              "content_type": "application/json"}, 400),
    "no-auth-header": ("post", URL, lambda t: {"json": VALID}, 401),
    "basic-scheme": ("post", URL, lambda t: {"json": VALID,
                                             "headers": {"Authorization": f"Basic {t}"}}, 401),
    "token-only": ("post", URL, lambda t: {"json": VALID, "headers": {"Authorization": t}}, 401),
    "bad-token": ("post", URL, lambda t: {"json": VALID, "headers": bearer(t + "x")}, 401),
    "empty-bearer": ("post", URL, lambda t: {"json": VALID,
                                             "headers": {"Authorization": "Bearer "}}, 401),
    "too-large": ("post", URL, lambda t: {"json": {**VALID, "meta": ["x" * 1000] * 70},
                                          "headers": bearer(t)}, 413),
    "text-plain": ("post", URL, lambda t: {"data": '{"profile_id": "p"}', "headers": bearer(t),
                                           "content_type": "text/plain"}, 415),
    "form-encoded": ("post", URL, lambda t: {"data": {k: str(v) for k, v in VALID.items()},
                                             "headers": bearer(t)}, 415),
    "no-content-type": ("post", URL, lambda t: {"data": '{"profile_id": "p"}',
                                                "headers": bearer(t)}, 415),
    "missing-share": ("get", f"{URL}/999999", lambda t: {"headers": bearer(t)}, 404),
    "non-numeric-id": ("get", f"{URL}/abc", lambda t: {"headers": bearer(t)}, 404),
    "unknown-api-route": ("get", "/api/v3/nothing-here", lambda t: {"headers": bearer(t)},
                          404),
    "unknown-api-post": ("post", "/api/v3/profiles", lambda t: {"json": VALID,
                                                               "headers": bearer(t)}, 404),
    "patch-collection": ("patch", URL, lambda t: {"json": VALID, "headers": bearer(t)}, 405),
    "put-collection": ("put", URL, lambda t: {"json": VALID, "headers": bearer(t)}, 405),
}  # fmt: skip


@pytest.mark.parametrize("case", ERROR_REQUESTS)
def test_errors_are_json_with_a_message_and_change_nothing(app, api, client, token, case):
    method, path, build, status = ERROR_REQUESTS[case]
    created(api)  # an existing share, so a 404 is about the id and not an empty table
    before = factories.share_count(app)

    response = getattr(client, method)(path, **build(token))

    assert response.status_code == status
    assert response.is_json
    body = response.get_json()
    assert isinstance(body["message"], str) and body["message"]
    assert "errors" not in body
    assert "Traceback" not in response.get_data(as_text=True)
    assert factories.share_count(app) == before == 1


def test_revoked_token_is_refused(app, api):
    created(api)
    result = app.test_cli_runner().invoke(args=["tokens", "revoke", "tests"])
    assert result.exit_code == 0, result.output

    response = create(api)

    assert response.status_code == 401
    assert isinstance(response.get_json()["message"], str)
    assert api.get(f"{URL}/1").status_code == 401
    assert factories.share_count(app) == 1


# --- no input gives a 500 ------------------------------------------------------------------

ODD_VALUES = [
    None, True, False, 0, -1, 1, 2**64, -(2**63), 1.5, 1e308, math.inf, math.nan, "", " ",
    "0", "\x00", "\ud800", "💥", "x" * 5000, "2026-13-45", "NaN", "null", [], [None], ["x"],
    [[]], {}, {"a": 1},
]  # fmt: skip


@pytest.mark.parametrize("field", BODY_FIELDS)
@pytest.mark.parametrize("value", ODD_VALUES, ids=lambda value: repr(value)[:24])
def test_no_input_gives_a_500(app, api, field, value):
    response = create(api, **{field: value})

    assert response.status_code in (201, 422), response.get_data(as_text=True)[:500]
    body = response.get_json()
    if response.status_code == 201:
        assert set(body["data"]) == SHARE_KEYS
        assert factories.share_count(app) == 1
    else:
        assert isinstance(body["message"], str)
        assert field in body["errors"]
        assert factories.share_count(app) == 0
