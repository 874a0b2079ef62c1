"""GET /api/v3/events (docs/contract.md, part 2, Events): every change to a share, in commit
order, as a feed a script follows with ``links.next``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests import factories
from tests.conftest import assert_invalid
from tests.pages import csrf_token
from webapp.extensions import db
from webapp.models import Staff

EVENTS = "/api/v3/events"
SHARES = "/api/v3/shares"
EVENT_KEYS = {"id", "occurred_at", "action", "share_id", "claim_id", "actor", "changes"}
NEW = {"profile_id": "cust-1", "source_type": "reward", "source_id": 7, "code": "OPEN"}


def feed(api, **params) -> dict:
    response = api.get(EVENTS, query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_every_kind_of_change_comes_in_order_with_its_changes(app, api):
    created = api.post(SHARES, json={**NEW, "is_cloneable": True}).get_json()["data"]
    share_id = created["id"]
    api.put(f"{SHARES}/{share_id}", json={"code": "NEW"})
    claim = api.post(f"{SHARES}/{share_id}/claim", json={"profile_id": "c-9", "code": "NEW"})
    api.post(f"{SHARES}/{share_id}/expire")
    last = factories.share_data(app, share_id)
    api.delete(f"{SHARES}/{share_id}")

    events = feed(api)["data"]

    assert [e["action"] for e in events] == ["create", "edit", "claim", "expire", "delete"]
    assert all(set(e) == EVENT_KEYS for e in events)
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    assert {e["share_id"] for e in events} == {share_id}
    assert all(e["actor"] == {"type": "token", "name": "tests"} for e in events)
    assert all(e["occurred_at"].endswith("Z") for e in events)
    create, edit, claimed, expire, delete = events
    # A create lists every field of the new Share object that is not null, old values null.
    assert create["changes"] == {k: [None, v] for k, v in created.items() if v is not None}
    assert edit["changes"]["code"] == ["OPEN", "NEW"]
    assert claimed["claim_id"] == claim.get_json()["data"]["id"]
    assert create["claim_id"] is None and edit["claim_id"] is None
    assert "remaining_quantity" not in claimed["changes"]  # unlimited, before and after
    assert expire["changes"]["expires_at"] == [None, last["expires_at"]]
    # A delete lists every field the share had, new values null.
    assert delete["changes"] == {k: [v, None] for k, v in last.items() if v is not None}


def test_the_actor_is_the_staff_member_the_token_or_the_system(app, api, client):
    system = factories.share(app)
    token = csrf_token(client, "/shares/new")
    page = client.post(
        "/shares/new",
        data={"csrf_token": token, "profile_id": "p", "source_type": "reward", "source_id": "1"},
    )
    assert page.status_code == 302
    api.post(SHARES, json=NEW)

    events = feed(api)["data"]

    with client.session_transaction() as session:
        staff_id = session["staff_id"]
    with app.app_context():
        email = db.session.get(Staff, staff_id).email
    assert [e["actor"] for e in events] == [
        {"type": "system", "name": "system"},
        {"type": "staff", "name": email},
        {"type": "token", "name": "tests"},
    ]
    assert events[0]["share_id"] == system


def test_pages_follow_links_next_and_say_whether_more_wait(app, api):
    made = factories.shares(app, *({"profile_id": f"p-{n}"} for n in range(5)))

    first = feed(api, **{"page[size]": 2})
    second = api.get(first["links"]["next"]).get_json()
    third = api.get(second["links"]["next"]).get_json()
    fourth = api.get(third["links"]["next"]).get_json()

    assert [e["share_id"] for e in first["data"]] == made[:2]
    assert first["meta"] == {"has_more": True}
    assert [e["share_id"] for e in second["data"]] == made[2:4]
    assert [e["share_id"] for e in third["data"]] == made[4:]
    assert third["meta"] == {"has_more": False}
    # Nothing new: no events, and the next link asks from the same place again.
    assert fourth["data"] == [] and fourth["meta"] == {"has_more": False}
    assert fourth["links"]["next"] == third["links"]["next"]
    after = third["data"][-1]["id"]
    assert third["links"]["next"] == (
        f"http://localhost/api/v3/events?page%5Bsize%5D=2&page%5Bafter%5D={after}"
    )
    # What comes later is on the same link.
    later = factories.share(app, profile_id="later")
    assert [e["share_id"] for e in api.get(third["links"]["next"]).get_json()["data"]] == [later]


def test_the_feed_starts_after_the_id_given_and_defaults_to_a_hundred(app, api):
    factories.shares(app, *({"profile_id": f"p-{n}"} for n in range(105)))
    everything = feed(api)
    assert len(everything["data"]) == 100 and everything["meta"]["has_more"] is True

    after = everything["data"][49]["id"]
    rest = feed(api, **{"page[after]": after, "page[size]": 1000})

    assert rest["data"][0]["id"] > after
    assert len(rest["data"]) == 55 and rest["meta"]["has_more"] is False


def test_filters_narrow_the_feed_to_a_share_or_an_action(app, api):
    one = api.post(SHARES, json=NEW).get_json()["data"]["id"]
    two = api.post(SHARES, json=NEW).get_json()["data"]["id"]
    api.put(f"{SHARES}/{two}", json={"code": "OTHER"})

    of_two = feed(api, **{"filter[share_id]": two})["data"]
    edits = feed(api, **{"filter[action]": "edit"})["data"]
    creates_of_one = feed(api, **{"filter[action]": "create", "filter[share_id]": one})["data"]

    assert [(e["share_id"], e["action"]) for e in of_two] == [(two, "create"), (two, "edit")]
    assert [(e["share_id"], e["action"]) for e in edits] == [(two, "edit")]
    assert [(e["share_id"], e["action"]) for e in creates_of_one] == [(one, "create")]


def test_links_next_keeps_the_filters_and_nothing_else_of_the_query(app, api):
    share_id = api.post(SHARES, json=NEW).get_json()["data"]["id"]
    query = "_method=DELETE&_external=0&utm_source=x&filter[action]=create&page[size]=5"

    body = api.get(f"{EVENTS}?{query}").get_json()

    (event,) = body["data"]
    assert event["share_id"] == share_id
    assert body["links"]["next"] == (
        "http://localhost/api/v3/events?filter%5Baction%5D=create&page%5Bsize%5D=5"
        f"&page%5Bafter%5D={event['id']}"
    )


def test_staff_and_token_administration_is_not_in_the_feed(app, api, client):
    token = csrf_token(client, "/admin/tokens")
    assert (
        client.post(
            "/admin/tokens", data={"csrf_token": token, "name": "made", "role": "viewer"}
        ).status_code
        == 200
    )
    assert feed(api)["data"] == []


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        (
            {"filter[action]": "staff"},
            {
                "filter[action]": [
                    "The filter action parameter must be one of create, edit, claim, expire, "
                    "delete."
                ]
            },
        ),
        (
            {"page[size]": "1001"},
            {"page[size]": ["The page size parameter must be between 1 and 1000."]},
        ),
        (
            {"page[after]": "-1"},
            {"page[after]": ["The page after parameter must be between 0 and 2147483647."]},
        ),
        (
            {"page[number]": "2"},
            {"page[number]": ["The page number parameter is not a known filter."]},
        ),
        (
            {"filter[profile_id]": "x"},
            {"filter[profile_id]": ["The filter profile id parameter is not a known filter."]},
        ),
        (
            {"page[after]": ["10", "20"]},
            {"page[after]": ["The page after parameter must be given once, not 2 times."]},
        ),
    ],
)
def test_bad_feed_parameters_are_a_422_naming_them(api, params, errors):
    assert_invalid(api.get(EVENTS, query_string=params), errors)


def test_changes_carry_values_as_the_share_object_shows_them(app, api):
    """Instants as UTC ``Z`` to the second, whatever instant the share was made with."""
    factories.share(app, created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    [event] = feed(api)["data"]
    assert event["changes"]["created_at"] == [None, "2026-01-02T03:04:05Z"]
