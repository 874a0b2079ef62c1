"""The desk's claim routes (docs/contract.md, part 2): the claims list and one claim, the claim
check, expire now, and claims retried with an Idempotency-Key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests import factories
from tests.conftest import assert_invalid
from tests.contract import CLAIM_KEYS, bearer
from webapp.clock import utcnow
from webapp.expiry import to_utc_z

CLAIMS = "/api/v3/claims"
SHARES = "/api/v3/shares"
DAY = timedelta(days=1)


def claim(api, share_id: int, profile_id: str, code: str = "OPEN", **headers):
    return api.post(
        f"{SHARES}/{share_id}/claim",
        json={"profile_id": profile_id, "code": code},
        headers=headers,
    )


@pytest.fixture
def open_share(app) -> int:
    """A cloneable share with unlimited claims and the code OPEN, owned by owner-1."""
    return factories.share(app, code="OPEN", is_cloneable=True, remaining_quantity=None)


# --- the claims list ---------------------------------------------------------------------------


def test_the_claims_list_pages_newest_first_with_links_and_meta(app, api, open_share):
    ids = [factories.claim(app, open_share, f"c-{n}") for n in range(5)]

    response = api.get(CLAIMS, query_string={"page[size]": 2})

    assert response.status_code == 200
    body = response.get_json()
    assert [c["id"] for c in body["data"]] == ids[::-1][:2]
    assert set(body["data"][0]) == CLAIM_KEYS
    assert body["data"][0]["share_handle"] == factories.handle_of(app, open_share)
    assert body["meta"] == {
        "current_page": 1,
        "from": 1,
        "last_page": 3,
        "per_page": 2,
        "to": 2,
        "total": 5,
        "path": "http://localhost/api/v3/claims",
    }
    assert (
        body["links"]["next"]
        == "http://localhost/api/v3/claims?page%5Bsize%5D=2&page%5Bnumber%5D=2"
    )
    assert body["links"]["prev"] is None
    last = api.get(body["links"]["last"]).get_json()
    assert [c["id"] for c in last["data"]] == [ids[0]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"filter[profile_id]": "c-1"}, ["a1", "b1"]),
        ({"filter[share_profile_id]": "owner-b"}, ["b0", "b1"]),
        ({"filter[share_id]": "B"}, ["b0", "b1"]),
        ({"filter[share_handle]": "A"}, ["a0", "a1"]),
        ({"filter[profile_id]": "c-0", "filter[share_profile_id]": "owner-b"}, ["b0"]),
        ({"filter[profile_id]": "nobody"}, []),
    ],
)
def test_the_claims_list_filters_exactly(app, api, params, expected):
    shares = {
        "a": factories.share(app, code="OPEN", remaining_quantity=None, is_cloneable=True),
        "b": factories.share(
            app, profile_id="owner-b", code="OPEN", remaining_quantity=None, is_cloneable=True
        ),
    }
    made = {
        f"{name}{n}": factories.claim(app, share_id, f"c-{n}")
        for name, share_id in shares.items()
        for n in range(2)
    }
    values = {"A": factories.handle_of(app, shares["a"]), "B": str(shares["b"])}
    query = {key: values.get(value, value) for key, value in params.items()}

    body = api.get(CLAIMS, query_string=query).get_json()

    assert [c["id"] for c in body["data"]] == sorted((made[n] for n in expected), reverse=True)
    assert body["meta"]["total"] == len(expected)


def test_claimed_at_ranges_include_gte_and_exclude_lt(app, api, open_share):
    base = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    at = {
        n: factories.claim(app, open_share, f"c-{n}", claimed_at=base + n * DAY) for n in range(4)
    }

    def found(**params):
        body = api.get(CLAIMS, query_string=params).get_json()
        assert body["meta"]["total"] == len(body["data"])
        return sorted(c["id"] for c in body["data"])

    assert found(**{"filter[claimed_at][gte]": to_utc_z(base + DAY)}) == [at[1], at[2], at[3]]
    assert found(**{"filter[claimed_at][lt]": to_utc_z(base + DAY)}) == [at[0]]
    # A date is 00:00 UTC that day; an offset is honoured.
    assert found(**{"filter[claimed_at][gte]": "2026-03-12"}) == [at[2], at[3]]
    assert found(
        **{
            "filter[claimed_at][gte]": "2026-03-11T22:00:00+10:00",  # 12:00 UTC on the 11th
            "filter[claimed_at][lt]": "2026-03-13",
        }
    ) == [at[1], at[2]]


@pytest.mark.parametrize("sort", ["claimed_at", "-claimed_at", "id", "-id"])
def test_claims_sort_with_ties_broken_by_id_in_the_same_direction(app, api, open_share, sort):
    same = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    first = factories.claim(app, open_share, "a", claimed_at=same + DAY)
    tied = [factories.claim(app, open_share, name, claimed_at=same) for name in ("b", "c")]

    body = api.get(CLAIMS, query_string={"sort": sort}).get_json()

    ascending = [*tied, first] if sort.endswith("claimed_at") else [first, *tied]
    expected = ascending[::-1] if sort.startswith("-") else ascending
    assert [c["id"] for c in body["data"]] == expected


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        (
            {"filter[claimed_at][gt]": "2026-01-01"},
            {
                "filter[claimed_at][gt]": [
                    "The filter claimed at gt parameter is not a known filter."
                ]
            },
        ),
        (
            {"filter[status]": "active"},
            {"filter[status]": ["The filter status parameter is not a known filter."]},
        ),
        (
            {"filter[claimed_at][gte]": "2026-01-01T10:00:00"},
            {
                "filter[claimed_at][gte]": [
                    "The filter claimed at gte parameter must be a date (2026-12-01) or an ISO "
                    "8601 instant with Z or an offset (2026-12-01T10:00:00Z)."
                ]
            },
        ),
        (
            {"sort": "expires_at"},
            {
                "sort": [
                    "The sort parameter must be one of id, claimed_at, optionally prefixed "
                    "with - for descending."
                ]
            },
        ),
        (
            {"filter[share_id]": "x"},
            {"filter[share_id]": ["The filter share id parameter must be an integer."]},
        ),
        (
            {"page[size]": "101"},
            {"page[size]": ["The page size parameter must be between 1 and 100."]},
        ),
        (
            {"filter[profile_id]": ["c-1", "c-2"]},
            {
                "filter[profile_id]": [
                    "The filter profile id parameter must be given once, not 2 times."
                ]
            },
        ),
    ],
)
def test_bad_claims_list_parameters_are_a_422_naming_them(api, params, errors):
    assert_invalid(api.get(CLAIMS, query_string=params), errors)


def test_one_claim_and_the_claims_of_a_deleted_share_stay_readable(app, api, open_share):
    handle = factories.handle_of(app, open_share)
    made = claim(api, open_share, "cust-9").get_json()["data"]
    assert api.delete(f"{SHARES}/{open_share}").status_code == 204

    one = api.get(f"{CLAIMS}/{made['id']}")
    listed = api.get(CLAIMS, query_string={"filter[share_id]": open_share}).get_json()

    assert one.status_code == 200
    assert one.get_json() == {"data": made}
    assert made["share_handle"] == handle and made["profile_id"] == "cust-9"
    assert [c["id"] for c in listed["data"]] == [made["id"]]


def test_a_missing_claim_is_a_json_404(api):
    response = api.get(f"{CLAIMS}/999999")
    assert response.status_code == 404
    assert response.get_json() == {"message": "Not found."}


def test_viewers_read_claims_and_the_feed_but_do_not_claim_or_expire(app, client, token_for):
    share_id = factories.share(app, code="OPEN")
    viewer = bearer(token_for("viewer"))
    for path in (CLAIMS, "/api/v3/events"):
        assert client.get(path, headers=viewer).status_code == 200
    check = client.post(
        f"{SHARES}/{share_id}/claim-check",
        json={"profile_id": "c", "code": "OPEN"},
        headers=viewer,
    )
    assert check.status_code == 200
    for action in ("claim", "expire"):
        refused = client.post(
            f"{SHARES}/{share_id}/{action}",
            json={"profile_id": "c", "code": "OPEN"},
            headers=viewer,
        )
        assert refused.status_code == 403
    assert factories.share_row(app, share_id)["expires_at"] is None
    assert factories.claim_rows(app) == []


# --- the claim check ---------------------------------------------------------------------------


def check(api, share_id: int, **body):
    return api.post(f"{SHARES}/{share_id}/claim-check", json=body)


def test_a_claim_that_would_succeed_is_claimable_and_nothing_changes(app, api):
    share_id = factories.share(app, code="OPEN", remaining_quantity=1)
    before = factories.share_row(app, share_id)

    response = check(api, share_id, profile_id="c-1", code="OPEN")

    assert response.status_code == 200
    assert response.get_json() == {"data": {"claimable": True, "errors": {}}}
    assert factories.share_row(app, share_id) == before
    assert factories.claim_rows(app) == []


@pytest.mark.parametrize(
    ("share", "body", "errors"),
    [
        (
            {"code": "OPEN"},
            {"profile_id": "c", "code": "WRONG"},
            {"code": ["The code is wrong: give the share's code."]},
        ),
        (
            {},
            {"profile_id": "c", "code": "WRONG"},
            {"code": ["The code is wrong: give the share's handle."]},
        ),
        (
            {"code": "OPEN"},
            {"profile_id": "owner-1", "code": "OPEN"},
            {"profile_id": ["A profile cannot claim its own share."]},
        ),
        (
            {"code": "OPEN", "remaining_quantity": 0},
            {"profile_id": "c", "code": "OPEN"},
            {"share": ["The share has no claims left."]},
        ),
        (
            {"code": "OPEN", "expires_at": datetime(2020, 1, 1, tzinfo=UTC)},
            {"profile_id": "owner-1", "code": "nope"},
            {
                "code": ["The code is wrong: give the share's code."],
                "profile_id": ["A profile cannot claim its own share."],
                "share": ["The share has expired."],
            },
        ),
    ],
)
def test_the_claim_check_answers_what_the_claim_would(app, api, share, body, errors):
    share_id = factories.share(app, **share)
    checked = check(api, share_id, **body)
    before = factories.share_row(app, share_id)

    claimed = api.post(f"{SHARES}/{share_id}/claim", json=body)

    assert checked.status_code == 200
    assert checked.get_json() == {"data": {"claimable": False, "errors": errors}}
    # Exactly the map the claim itself answers with, in its 422.
    assert claimed.status_code == 422 and claimed.get_json()["errors"] == errors
    assert factories.share_row(app, share_id) == before


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"code": "OPEN"}, {"profile_id": ["The profile id field is required."]}),
        ({"profile_id": "c", "code": 5}, {"code": ["The code field must be a string."]}),
    ],
)
def test_a_malformed_claim_check_is_the_claims_422(app, api, body, errors):
    share_id = factories.share(app, code="OPEN")
    assert_invalid(check(api, share_id, **body), errors)


def test_a_claim_check_of_a_missing_share_is_404(api):
    assert check(api, 999999, profile_id="c", code="x").status_code == 404


# --- expire now --------------------------------------------------------------------------------


def test_expire_now_sets_the_expiry_to_this_second_and_refuses_claims(app, api):
    share_id = factories.share(app, code="OPEN", period=30, period_type="days")
    moment = datetime(2026, 12, 1, 9, 30, 15, 400000, tzinfo=UTC)

    with time_machine.travel(moment, tick=False):
        response = api.post(f"{SHARES}/{share_id}/expire", json={"anything": "ignored"})
        refused = claim(api, share_id, "c-1")

    assert response.status_code == 200
    assert response.get_json()["data"]["expires_at"] == "2026-12-01T09:30:15Z"
    assert response.get_json()["data"] == factories.share_data(app, share_id)
    # Expired the moment it is set, within the same second too.
    assert refused.status_code == 422
    assert refused.get_json()["errors"] == {"share": ["The share has expired."]}


def test_expire_without_a_body_and_again_changes_nothing_more(app, api):
    share_id = factories.share(app, code="OPEN")
    first = api.post(f"{SHARES}/{share_id}/expire")
    stored = factories.share_row(app, share_id)

    again = api.post(f"{SHARES}/{share_id}/expire")

    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json()
    assert factories.share_row(app, share_id) == stored


def test_an_expired_share_keeps_its_earlier_expiry(app, api):
    past = datetime(2025, 6, 1, 13, 59, 59, tzinfo=UTC)
    share_id = factories.share(app, expires_at=past)

    response = api.post(f"{SHARES}/{share_id}/expire")

    assert response.status_code == 200
    assert response.get_json()["data"]["expires_at"] == "2025-06-01T13:59:59Z"


def test_a_later_edit_with_period_fields_recomputes_the_expiry_again(app, api):
    share_id = factories.share(app, period=2, period_type="weeks")
    computed = factories.share_data(app, share_id)["expires_at"]
    api.post(f"{SHARES}/{share_id}/expire")

    edited = api.put(f"{SHARES}/{share_id}", json={"period": 2}).get_json()["data"]

    assert edited["expires_at"] == computed


def test_expiring_a_missing_share_is_404(api):
    assert api.post(f"{SHARES}/999999/expire").status_code == 404


# --- claims retried with an Idempotency-Key ----------------------------------------------------


def test_a_retried_claim_with_its_key_gets_the_first_answer_and_claims_once(app, api):
    share_id = factories.share(app, code="OPEN", is_cloneable=True, remaining_quantity=5)

    first = claim(api, share_id, "c-1", **{"Idempotency-Key": "claim-1"})
    again = claim(api, share_id, "c-1", **{"Idempotency-Key": "claim-1"})

    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(factories.claim_rows(app)) == 1
    assert factories.share_row(app, share_id)["remaining_quantity"] == 4


def test_a_refused_claim_is_kept_as_the_first_answer_too(app, api):
    share_id = factories.share(app, code="OPEN", remaining_quantity=0)

    first = claim(api, share_id, "c-1", **{"Idempotency-Key": "k"})
    with_more = factories.share(app, code="OPEN", remaining_quantity=1)  # unrelated share
    again = claim(api, share_id, "c-1", **{"Idempotency-Key": "k"})

    assert first.status_code == again.status_code == 422
    assert (
        again.get_json()
        == first.get_json()
        == {
            "message": "The share has no claims left.",
            "errors": {"share": ["The share has no claims left."]},
        }
    )
    assert again.headers["Idempotent-Replayed"] == "true"
    assert factories.share_row(app, with_more)["remaining_quantity"] == 1


def test_the_same_key_with_another_body_is_a_422_naming_the_header(app, api, open_share):
    assert claim(api, open_share, "c-1", **{"Idempotency-Key": "k"}).status_code == 201

    response = claim(api, open_share, "c-2", **{"Idempotency-Key": "k"})

    assert_invalid(
        response,
        {
            "Idempotency-Key": [
                "The Idempotency-Key header was already used with a different request."
            ]
        },
    )
    assert [row["profile_id"] for row in factories.claim_rows(app)] == ["c-1"]


def test_the_same_key_and_body_sent_to_another_share_is_a_422_and_claims_nothing(app, api):
    first = factories.share(app, code="OPEN", is_cloneable=True, remaining_quantity=None)
    second = factories.share(app, code="OPEN", is_cloneable=True, remaining_quantity=None)
    assert claim(api, first, "c-1", **{"Idempotency-Key": "k"}).status_code == 201

    response = claim(api, second, "c-1", **{"Idempotency-Key": "k"})

    assert_invalid(
        response,
        {
            "Idempotency-Key": [
                "The Idempotency-Key header was already used with a different request."
            ]
        },
    )
    assert [(row["share_id"], row["profile_id"]) for row in factories.claim_rows(app)] == [
        (first, "c-1")
    ]


def test_a_retried_claim_gets_its_first_answer_after_the_share_is_deleted(
    app, api, client, token_for, open_share
):
    first = claim(api, open_share, "c-1", **{"Idempotency-Key": "k"})
    admin = bearer(token_for("admin"))
    assert client.delete(f"{SHARES}/{open_share}", headers=admin).status_code == 204

    again = claim(api, open_share, "c-1", **{"Idempotency-Key": "k"})

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    # Without its key, a claim of the deleted share is refused as before.
    assert claim(api, open_share, "c-1").status_code == 404


def test_a_key_belongs_to_one_route_and_one_token(app, api, client, token_for, open_share):
    created = api.post(
        SHARES,
        json={"profile_id": "p", "source_type": "reward", "source_id": 1},
        headers={"Idempotency-Key": "same"},
    )
    claimed = claim(api, open_share, "c-1", **{"Idempotency-Key": "same"})
    other = bearer(token_for("agent"), **{"Idempotency-Key": "same"})
    by_another_token = client.post(
        f"{SHARES}/{open_share}/claim", json={"profile_id": "c-1", "code": "OPEN"}, headers=other
    )

    assert (created.status_code, claimed.status_code, by_another_token.status_code) == (
        201,
        201,
        201,
    )
    assert "Idempotent-Replayed" not in claimed.headers
    assert "Idempotent-Replayed" not in by_another_token.headers
    assert len(factories.claim_rows(app)) == 2


def test_a_claim_key_is_forgotten_after_24_hours(app, api, open_share):
    with time_machine.travel(utcnow() - timedelta(hours=25)):
        assert claim(api, open_share, "c-1", **{"Idempotency-Key": "old"}).status_code == 201
    again = claim(api, open_share, "c-1", **{"Idempotency-Key": "old"})
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers
    assert len(factories.claim_rows(app)) == 2
