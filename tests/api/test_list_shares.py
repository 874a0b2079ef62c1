"""GET /api/v3/shares: pagination, links, meta, every filter, search and sort (contract: List)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests import factories
from tests.conftest import assert_invalid
from tests.contract import SHARE_KEYS
from webapp.clock import utcnow
from webapp.enums import PeriodType, SourceType
from webapp.extensions import db
from webapp.models import Share

URL = "/api/v3/shares"
PATH = "http://localhost/api/v3/shares"
META_KEYS = {"current_page", "from", "last_page", "per_page", "to", "total", "path"}
SORT_MESSAGE = (
    "The sort parameter must be one of id, created_at, updated_at, expires_at, "
    "remaining_quantity, optionally prefixed with - for descending."
)
BASE = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def listing(api, query: str = "") -> dict:
    """GET the list with a raw query string; it must succeed with the contract's shape."""
    response = api.get(f"{URL}?{query}" if query else URL)
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"data", "links", "meta"}
    assert set(body["links"]) == {"first", "last", "prev", "next"}
    assert set(body["meta"]) == META_KEYS
    assert body["meta"]["path"] == PATH
    for item in body["data"]:
        assert set(item) == SHARE_KEYS
    return body


def ids(body: dict) -> list[int]:
    return [item["id"] for item in body["data"]]


def link(url: str | None) -> dict | None:
    """A link URL as its query parameters (first value each); asserts it points at the list."""
    if url is None:
        return None
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == PATH
    return {key: values[0] for key, values in parse_qs(parts.query).items()}


# --- default page, shape, pagination -------------------------------------------------------


def test_default_is_15_newest_first_with_links_and_meta(app, api):
    created = factories.shares(app, *({"profile_id": f"p-{n}"} for n in range(20)))

    body = listing(api)

    assert ids(body) == sorted(created, reverse=True)[:15]
    assert body["meta"] == {
        "current_page": 1,
        "from": 1,
        "last_page": 2,
        "per_page": 15,
        "to": 15,
        "total": 20,
        "path": PATH,
    }
    assert link(body["links"]["first"]) == {"page[number]": "1"}
    assert link(body["links"]["last"]) == {"page[number]": "2"}
    assert body["links"]["prev"] is None
    assert link(body["links"]["next"]) == {"page[number]": "2"}
    assert factories.share_count(app) == 20


def test_each_item_is_the_same_share_object_as_get_one(app, api):
    share_id = api.post(
        URL,
        json={
            "profile_id": "owner-9",
            "source_id": 5,
            "source_type": "listItem",
            "code": "C-1",
            "period": 2,
            "period_type": "weeks",
            "meta": ["a", "b"],
            "is_cloneable": True,
        },
    ).get_json()["data"]["id"]

    body = listing(api)

    assert body["data"] == [api.get(f"{URL}/{share_id}").get_json()["data"]]
    item = body["data"][0]
    assert item["source"] == {"type": "listItem", "id": 5}
    assert item["remaining_quantity"] is None and item["is_cloneable"] is True
    with app.app_context():
        assert db.session.get(Share, share_id).to_dict() == item


def test_empty_list_has_null_from_and_to(api):
    body = listing(api)

    assert body["data"] == []
    assert body["meta"] == {
        "current_page": 1,
        "from": None,
        "last_page": 1,
        "per_page": 15,
        "to": None,
        "total": 0,
        "path": PATH,
    }
    assert link(body["links"]["first"]) == {"page[number]": "1"}
    assert link(body["links"]["last"]) == {"page[number]": "1"}
    assert body["links"]["prev"] is None
    assert body["links"]["next"] is None


@pytest.mark.parametrize(
    ("total", "number", "size", "want", "meta", "prev", "next_"),
    [
        # want: positions (0 = newest) on the page; meta: current_page, from, last_page, to.
        (7, 1, 3, [0, 1, 2], (1, 1, 3, 3), None, 2),
        (7, 2, 3, [3, 4, 5], (2, 4, 3, 6), 1, 3),
        (7, 3, 3, [6], (3, 7, 3, 7), 2, None),
        (7, 1, 7, [0, 1, 2, 3, 4, 5, 6], (1, 1, 1, 7), None, None),
        (7, 1, 100, [0, 1, 2, 3, 4, 5, 6], (1, 1, 1, 7), None, None),
        (7, 2, 6, [6], (2, 7, 2, 7), 1, None),
        (7, 1, 1, [0], (1, 1, 7, 1), None, 2),
        (7, 7, 1, [6], (7, 7, 7, 7), 6, None),
        (3, 9, 2, [], (9, None, 2, None), "any", None),
    ],
)
def test_page_number_and_size(app, api, total, number, size, want, meta, prev, next_):
    created = sorted(factories.shares(app, *({} for _ in range(total))), reverse=True)

    body = listing(api, f"page[number]={number}&page[size]={size}")

    assert ids(body) == [created[i] for i in want]
    current, first, last, to = meta
    assert body["meta"] == {
        "current_page": current,
        "from": first,
        "last_page": last,
        "per_page": size,
        "to": to,
        "total": total,
        "path": PATH,
    }
    keep = {} if size == 15 else {"page[size]": str(size)}
    assert link(body["links"]["first"]) == {**keep, "page[number]": "1"}
    assert link(body["links"]["last"]) == {**keep, "page[number]": str(last)}
    if prev != "any":  # past the last page the contract says nothing about prev
        expected_prev = None if prev is None else {**keep, "page[number]": str(prev)}
        assert link(body["links"]["prev"]) == expected_prev
    expected_next = None if next_ is None else {**keep, "page[number]": str(next_)}
    assert link(body["links"]["next"]) == expected_next


def test_page_size_100_is_the_maximum(app, api):
    created = sorted(factories.shares(app, *({} for _ in range(101))), reverse=True)

    body = listing(api, "page[size]=100")
    assert ids(body) == created[:100]
    assert body["meta"]["last_page"] == 2 and body["meta"]["to"] == 100
    assert ids(listing(api, "page[size]=100&page[number]=2")) == created[100:]

    assert_invalid(
        api.get(f"{URL}?page[size]=101"),
        {"page[size]": ["The page size parameter must be between 1 and 100."]},
    )


def test_links_keep_the_filters_sort_and_size(app, api):
    factories.shares(app, *({"profile_id": "keep", "code": "K"} for _ in range(5)))
    factories.share(app, profile_id="other")

    body = listing(
        api, "filter[profile_id]=keep&filter[code]=K&sort=created_at&page[size]=2&page[number]=2"
    )

    keep = {
        "filter[profile_id]": "keep",
        "filter[code]": "K",
        "sort": "created_at",
        "page[size]": "2",
    }
    assert body["meta"]["total"] == 5
    assert link(body["links"]["first"]) == {**keep, "page[number]": "1"}
    assert link(body["links"]["prev"]) == {**keep, "page[number]": "1"}
    assert link(body["links"]["next"]) == {**keep, "page[number]": "3"}
    assert link(body["links"]["last"]) == {**keep, "page[number]": "3"}
    # Following a link gives the page it names.
    following = api.get(body["links"]["next"])
    assert following.status_code == 200
    assert following.get_json()["meta"]["current_page"] == 3
    assert len(following.get_json()["data"]) == 1


def test_links_keep_an_explicit_page_size_even_the_default(app, api):
    factories.shares(app, *({} for _ in range(20)))

    body = listing(api, "page[size]=15")

    assert body["meta"]["per_page"] == 15
    assert link(body["links"]["next"]) == {"page[size]": "15", "page[number]": "2"}


SIZE_RANGE = "The page size parameter must be between 1 and 100."
SIZE_INT = "The page size parameter must be an integer."
NUMBER_RANGE = "The page number parameter must be between 1 and 1000000000."
NUMBER_INT = "The page number parameter must be an integer."
UNKNOWN_X = "The filter x parameter is not a known filter."


def twice(name: str, times: int) -> str:
    return f"The {name} parameter must be given once, not {times} times."


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("page[size]=0", {"page[size]": [SIZE_RANGE]}),
        ("page[size]=101", {"page[size]": [SIZE_RANGE]}),
        ("page[size]=-1", {"page[size]": [SIZE_RANGE]}),
        ("page[size]=x", {"page[size]": [SIZE_INT]}),
        ("page[size]=1.5", {"page[size]": [SIZE_INT]}),
        ("page[size]=+5", {"page[size]": [SIZE_INT]}),
        ("page[size]=%205", {"page[size]": [SIZE_INT]}),
        ("page[number]=0", {"page[number]": [NUMBER_RANGE]}),
        ("page[number]=-1", {"page[number]": [NUMBER_RANGE]}),
        ("page[number]=x", {"page[number]": [NUMBER_INT]}),
        ("page[number]=1e3", {"page[number]": [NUMBER_INT]}),
        ("page[number]=1000000001", {"page[number]": [NUMBER_RANGE]}),
        ("page[number]=99999999999999999999", {"page[number]": [NUMBER_RANGE]}),
        ("page[size]=0&page[number]=x", {"page[number]": [NUMBER_INT], "page[size]": [SIZE_RANGE]}),
    ],
)
def test_bad_page_values_are_422_naming_the_parameter(app, api, query, errors):
    factories.share(app)

    assert_invalid(api.get(f"{URL}?{query}"), errors)
    assert factories.share_count(app) == 1


# --- filters -------------------------------------------------------------------------------

NOW = utcnow()
PAST = NOW - timedelta(days=3)
FUTURE = NOW + timedelta(days=3)

# name -> column values; every filterable field differs between some of them.
DATASET = {
    "alice-reward": {
        "profile_id": "alice",
        "source_type": SourceType.REWARD,
        "source_id": 10,
        "code": "SUMMER",
        "period": 2,
        "period_type": PeriodType.WEEKS,
        "timezone": "Australia/Melbourne",
        "is_cloneable": True,
        "remaining_quantity": None,
        "expires_at": FUTURE,
    },
    "alice-list-item": {
        "profile_id": "alice",
        "source_type": SourceType.LIST_ITEM,
        "source_id": 10,
        "code": "summer",
        "period": 5,
        "period_type": PeriodType.DAYS,
        "timezone": "Australia/Melbourne",
        "remaining_quantity": 0,
        "expires_at": FUTURE,
    },
    "bob-benefit": {
        "profile_id": "bob",
        "source_type": SourceType.BENEFIT,
        "source_id": 20,
        "code": None,
        "timezone": "UTC",
        "expires_at": PAST,
    },
    "carol-reward": {
        "profile_id": "carol",
        "source_type": SourceType.REWARD,
        "source_id": 30,
        "code": "WINTER",
        "period_type": PeriodType.ABSOLUTE_MONTH,
        "timezone": "Europe/London",
        "is_cloneable": True,
        "remaining_quantity": 4,
        "expires_at": PAST,
    },
}


@pytest.fixture
def dataset(app) -> dict[str, int]:
    return dict(zip(DATASET, factories.shares(app, *DATASET.values()), strict=True))


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("filter[profile_id]=alice", {"alice-reward", "alice-list-item"}),
        ("filter[profile_id]=ali", set()),
        ("filter[profile_id]=Alice", set()),
        ("filter[source_type]=reward", {"alice-reward", "carol-reward"}),
        ("filter[source_type]=listItem", {"alice-list-item"}),
        ("filter[source_type]=product", set()),
        ("filter[source_id]=10", {"alice-reward", "alice-list-item"}),
        ("filter[source_id]=020", {"bob-benefit"}),
        ("filter[source_id]=99", set()),
        ("filter[code]=SUMMER", {"alice-reward"}),
        ("filter[code]=summer", {"alice-list-item"}),
        ("filter[code]=SUM", set()),
        ("filter[period_type]=weeks", {"alice-reward"}),
        ("filter[period_type]=absolute_month", {"carol-reward"}),
        ("filter[period_type]=years", set()),
        ("filter[is_cloneable]=true", {"alice-reward", "carol-reward"}),
        ("filter[is_cloneable]=1", {"alice-reward", "carol-reward"}),
        ("filter[is_cloneable]=false", {"alice-list-item", "bob-benefit"}),
        ("filter[is_cloneable]=0", {"alice-list-item", "bob-benefit"}),
        ("filter[timezone]=Australia/Melbourne", {"alice-reward", "alice-list-item"}),
        ("filter[timezone]=Europe/London", {"carol-reward"}),
        ("filter[timezone]=Australia", set()),
        ("filter[handle]=no-such-handle", set()),
        ("filter[status]=active", {"alice-reward"}),
        ("filter[status]=exhausted", {"alice-list-item"}),
        ("filter[status]=expired", {"bob-benefit", "carol-reward"}),
        # Empty values do not filter (the HTML form sends every field).
        ("filter[profile_id]=&filter[status]=&filter[is_cloneable]=", set(DATASET)),
        # Filters combine with AND.
        ("filter[profile_id]=alice&filter[source_type]=reward", {"alice-reward"}),
        (
            "filter[source_type]=reward&filter[is_cloneable]=1&filter[status]=expired",
            {"carol-reward"},
        ),
        ("filter[profile_id]=bob&filter[code]=SUMMER", set()),
    ],
)
def test_each_filter(api, dataset, query, names):
    body = listing(api, query)

    assert ids(body) == sorted((dataset[name] for name in names), reverse=True)
    assert body["meta"]["total"] == len(names)


def test_filter_by_handle_is_exact(app, api, dataset):
    with app.app_context():
        handle = db.session.get(Share, dataset["bob-benefit"]).handle

    assert ids(listing(api, f"filter[handle]={handle}")) == [dataset["bob-benefit"]]
    assert ids(listing(api, f"filter[handle]={handle[:-1]}")) == []


def test_filter_by_code_and_profile_are_url_decoded(app, api):
    wanted, _ = factories.shares(
        app, {"profile_id": "a b&c", "code": "x+y=z"}, {"profile_id": "a b", "code": "x y=z"}
    )

    assert ids(listing(api, "filter[profile_id]=a%20b%26c")) == [wanted]
    assert ids(listing(api, "filter[code]=x%2By%3Dz")) == [wanted]


def test_status_filters_partition_shares_created_through_the_api(app, api):
    """Rule 6: exactly one status each; an expired share with none left is only expired."""
    past = "2020-01-01T00:00:00Z"
    bodies = {
        "active": {"remaining_quantity": 1},
        "active-never-expires-unlimited": {"is_cloneable": True},
        "active-future": {"expires_at": "2099-01-01T00:00:00Z", "remaining_quantity": 1},
        "exhausted": {"remaining_quantity": 0},
        "exhausted-future": {"remaining_quantity": 0, "period": 30},
        "expired": {"expires_at": past},
        "expired-and-empty": {"expires_at": past, "remaining_quantity": 0},
        "expired-fixed-date": {"period_type": "absolute_date", "absolute_expiry": "2021-03-04"},
        "expired-unlimited": {"expires_at": past, "is_cloneable": True},
    }
    made = {}
    for name, extra in bodies.items():
        response = api.post(
            URL, json={"profile_id": name, "source_id": 1, "source_type": "reward", **extra}
        )
        assert response.status_code == 201, response.get_json()
        made[name] = response.get_json()["data"]["id"]

    seen = {}
    for status in ("active", "exhausted", "expired"):
        found = set(ids(listing(api, f"filter[status]={status}")))
        assert found == {made[n] for n in bodies if n.startswith(status)}, status
        with app.app_context():
            for share_id in found:
                assert db.session.get(Share, share_id).status().value == status
        seen[status] = found
    assert set().union(*seen.values()) == set(made.values())
    assert sum(len(found) for found in seen.values()) == len(made)


def test_status_follows_the_expiry_instant(app, api):
    """Expired is now > expires_at: one second either side of now."""
    now = utcnow()
    just_gone, still_live = factories.shares(
        app,
        {"expires_at": now - timedelta(seconds=5)},
        {"expires_at": now + timedelta(hours=1)},
    )

    assert ids(listing(api, "filter[status]=expired")) == [just_gone]
    assert ids(listing(api, "filter[status]=active")) == [still_live]


# --- search --------------------------------------------------------------------------------

SEARCH_SET = {
    "s1": {"handle": "AbcHandle0000000000000001", "code": "PROMO10", "profile_id": "cust-100"},
    "s2": {"handle": "abcHandle0000000000000002", "code": "promo", "profile_id": "Cust-200"},
    "s3": {"handle": "zzzHandle0000000000000003", "code": None, "profile_id": "cust-1"},
    "s4": {"handle": "yyyHandle0000000000000004", "code": "PROMO", "profile_id": "other"},
    "s5": {"handle": "xxxHandle0000000000000005", "code": "a_c%", "profile_id": "emoji-😀"},
}


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("PROMO", {"s1", "s4"}),  # starts with (s1) and equals (s4)
        ("promo", {"s2"}),  # case-sensitive
        ("PROMO10", {"s1"}),
        ("PROMO100", set()),
        ("ROMO", set()),  # contains is not enough
        ("cust-1", {"s1", "s3"}),
        ("Cust", {"s2"}),
        ("cust", {"s1", "s3"}),
        ("Abc", {"s1"}),
        ("abc", {"s2"}),
        ("zzzHandle0000000000000003", {"s3"}),
        ("Handle", set()),
        ("a_c%", {"s5"}),
        ("a_", {"s5"}),
        ("abc_", set()),  # no LIKE wildcards
        ("%", set()),
        ("_", set()),
        ("emoji-😀", {"s5"}),
        ("emoji-", {"s5"}),
        ("", {"s1", "s2", "s3", "s4", "s5"}),
    ],
)
def test_search_equals_or_starts_with_case_sensitive(app, api, text, names):
    made = dict(zip(SEARCH_SET, factories.shares(app, *SEARCH_SET.values()), strict=True))

    body = listing(api, "filter[search]=" + quote(text, safe=""))

    assert ids(body) == sorted((made[n] for n in names), reverse=True)


def test_search_combines_with_other_filters(app, api):
    made = dict(zip(SEARCH_SET, factories.shares(app, *SEARCH_SET.values()), strict=True))

    body = listing(api, "filter[search]=cust&filter[code]=PROMO10")

    assert ids(body) == [made["s1"]]


# --- filter validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("filter[x]=1", {"filter[x]": ["The filter x parameter is not a known filter."]}),
        ("filter[name]=a", {"filter[name]": ["The filter name parameter is not a known filter."]}),
        (
            "filter[expires_at]=2026-01-01",
            {"filter[expires_at]": ["The filter expires at parameter is not a known filter."]},
        ),
        (
            "filter[Status]=active",
            {"filter[Status]": ["The filter Status parameter is not a known filter."]},
        ),
        ("page[foo]=1", {"page[foo]": ["The page foo parameter is not a known filter."]}),
        (
            "filter[is_cloneable]=yes",
            {
                "filter[is_cloneable]": [
                    "The filter is cloneable parameter must be true, false, 1 or 0."
                ]
            },
        ),
        (
            "filter[is_cloneable]=2",
            {
                "filter[is_cloneable]": [
                    "The filter is cloneable parameter must be true, false, 1 or 0."
                ]
            },
        ),
        (
            "filter[is_cloneable]=no",
            {
                "filter[is_cloneable]": [
                    "The filter is cloneable parameter must be true, false, 1 or 0."
                ]
            },
        ),
        ("filter[status]=gone", {"filter[status]": ["The selected filter status is invalid."]}),
        ("filter[status]=Active", {"filter[status]": ["The selected filter status is invalid."]}),
        (
            "filter[source_type]=bogus",
            {"filter[source_type]": ["The selected filter source type is invalid."]},
        ),
        (
            "filter[source_type]=list_item",
            {"filter[source_type]": ["The selected filter source type is invalid."]},
        ),
        (
            "filter[period_type]=fortnights",
            {"filter[period_type]": ["The selected filter period type is invalid."]},
        ),
        (
            "filter[source_id]=abc",
            {"filter[source_id]": ["The filter source id parameter must be an integer."]},
        ),
        (
            "filter[source_id]=-3",
            {
                "filter[source_id]": [
                    "The filter source id parameter must be between 1 and 9223372036854775807."
                ]
            },
        ),
        (
            "filter[source_id]=0",
            {
                "filter[source_id]": [
                    "The filter source id parameter must be between 1 and 9223372036854775807."
                ]
            },
        ),
    ],
)
def test_bad_filters_are_422_naming_the_parameter(app, api, query, errors):
    factories.share(app)

    assert_invalid(api.get(f"{URL}?{query}"), errors)
    assert factories.share_count(app) == 1


# --- sort ----------------------------------------------------------------------------------

# Created out of id order, with ties and NULLs in the nullable columns.
SORT_ROWS = [
    {"created_at": BASE + timedelta(days=3), "updated_at": BASE + timedelta(days=9),
     "expires_at": BASE + timedelta(days=20), "remaining_quantity": 1},
    {"created_at": BASE + timedelta(days=1), "updated_at": BASE + timedelta(days=8),
     "expires_at": None, "remaining_quantity": None, "is_cloneable": True},
    {"created_at": BASE + timedelta(days=5), "updated_at": BASE + timedelta(days=7),
     "expires_at": BASE + timedelta(days=10), "remaining_quantity": 0},
    {"created_at": BASE + timedelta(days=2), "updated_at": BASE + timedelta(days=11),
     "expires_at": BASE + timedelta(days=10), "remaining_quantity": 7, "is_cloneable": True},
    {"created_at": BASE + timedelta(days=4), "updated_at": BASE + timedelta(days=10),
     "expires_at": None, "remaining_quantity": 1},
    {"created_at": BASE + timedelta(days=6), "updated_at": BASE + timedelta(days=6),
     "expires_at": BASE + timedelta(days=30), "remaining_quantity": None, "is_cloneable": True},
]  # fmt: skip


def expected_order(made: list[int], field: str, descending: bool) -> list[int]:
    """NULL (never / unlimited) counts as the largest value; ties go by id the same way."""

    def key(pair):
        share_id, row = pair
        if field == "id":
            return (share_id,)
        value = row[field]
        return (value is None, value if value is not None else 0, share_id)

    ordered = sorted(zip(made, SORT_ROWS, strict=True), key=key, reverse=descending)
    return [share_id for share_id, _ in ordered]


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize(
    "field", ["id", "created_at", "updated_at", "expires_at", "remaining_quantity"]
)
def test_sort_each_field_both_ways(app, api, field, descending):
    made = factories.shares(app, *SORT_ROWS)
    sort = f"-{field}" if descending else field

    body = listing(api, f"sort={sort}")

    assert ids(body) == expected_order(made, field, descending)
    # The order holds across pages, and the links keep the sort.
    first = listing(api, f"sort={sort}&page[size]=4")
    second = listing(api, f"sort={sort}&page[size]=4&page[number]=2")
    assert ids(first) + ids(second) == ids(body)
    keep = {} if sort == "-id" else {"sort": sort}  # the default sort is left out
    assert link(first["links"]["next"]) == {**keep, "page[size]": "4", "page[number]": "2"}


@pytest.mark.parametrize("descending", [False, True], ids=["soonest first", "latest first"])
@pytest.mark.parametrize("status", ["active", "exhausted"])
def test_a_status_sorted_by_expiry_pages_through_dated_and_undated_shares(
    app, api, status, descending
):
    """This one combination reads two index ranges (dated, never expiring) merged in order."""
    now = utcnow()
    rows = [
        {"expires_at": now + timedelta(days=days) if days is not None else None,
         "remaining_quantity": left, "is_cloneable": left is None}
        for days in (-3, -1, 1, 2, 2, 5, None, None)
        for left in (1, 0, None)
    ]  # fmt: skip
    made = factories.shares(app, *rows)
    with app.app_context():
        shares = db.session.scalars(db.select(Share).where(Share.id.in_(made))).all()
        wanted = sorted(
            (share for share in shares if share.status(now).value == status),
            key=lambda s: (s.expires_at is None, s.expires_at or now, s.id),
            reverse=descending,
        )
    sort = "-expires_at" if descending else "expires_at"

    pages = [
        listing(api, f"filter[status]={status}&sort={sort}&page[size]=4&page[number]={number}")
        for number in (1, 2, 3, 4)
    ]

    assert [share_id for page in pages for share_id in ids(page)] == [s.id for s in wanted]
    assert {page["meta"]["total"] for page in pages} == {len(wanted)}


def test_default_sort_is_minus_id_and_is_left_out_of_links(app, api):
    made = factories.shares(app, *SORT_ROWS)

    body = listing(api, "sort=-id")

    assert ids(body) == sorted(made, reverse=True) == ids(listing(api))
    assert link(body["links"]["first"]) == {"page[number]": "1"}


@pytest.mark.parametrize(
    "sort",
    [
        "name",
        "--id",
        "-+id",
        "+id",
        "id desc",
        "ID",
        "-",
        "",
        "expires_at,id",
        "profile_id",
        "handle",
    ],
)
def test_bad_sort_is_422(app, api, sort):
    factories.share(app)

    assert_invalid(api.get(URL, query_string={"sort": sort}), {"sort": [SORT_MESSAGE]})
    assert factories.share_count(app) == 1


def test_several_bad_parameters_are_all_named(app, api):
    factories.share(app)

    response = api.get(
        f"{URL}?page[size]=0&page[number]=x&filter[x]=1&sort=bad&filter[is_cloneable]=yes"
        "&filter[status]=gone&filter[source_id]=z"
    )

    assert_invalid(
        response,
        {
            "filter[source_id]": ["The filter source id parameter must be an integer."],
            "filter[is_cloneable]": [
                "The filter is cloneable parameter must be true, false, 1 or 0."
            ],
            "filter[status]": ["The selected filter status is invalid."],
            "sort": [SORT_MESSAGE],
            "page[number]": [NUMBER_INT],
            "page[size]": [SIZE_RANGE],
            "filter[x]": ["The filter x parameter is not a known filter."],
        },
    )
    assert response.get_json()["message"].endswith(" (and 6 more errors)")
    assert factories.share_count(app) == 1


# --- odd query strings ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "status", "error_keys"),
    [
        ("", 200, None),
        ("filter", 200, None),
        ("filter=1", 200, None),
        ("page=2", 200, None),
        ("&&&", 200, None),
        ("=", 200, None),
        ("unknown=1", 200, None),
        ("filter[]=1", 422, {"filter[]"}),
        ("filter[status][]=active", 422, {"filter[status][]"}),
        ("filter[[status]]=active", 422, {"filter[[status]]"}),
        ("page[size][]=1", 422, {"page[size][]"}),
        ("page[]=1", 422, {"page[]"}),
        ("page[size]=%00", 422, {"page[size]"}),
        ("page[size]=%EF%BC%91%EF%BC%90", 422, {"page[size]"}),  # fullwidth digits
        ("page[number]=%D9%A3", 422, {"page[number]"}),  # Arabic-Indic digit
        ("page[number]=%FF", 422, {"page[number]"}),
        ("filter[source_id]=99999999999999999999999", 422, {"filter[source_id]"}),
        ("filter[source_id]=9223372036854775808", 422, {"filter[source_id]"}),
        ("filter[source_id]=9223372036854775807", 200, None),
        ("filter[search]=%00", 200, None),
        ("filter[search]=%FF%FE", 200, None),
        ("filter[search]=%F4%8F%BF%BF", 200, None),
        ("filter[search]=%ED%A0%80", 200, None),
        ("filter[search]=" + "x" * 5000, 200, None),
        ("filter[code]=%27%3B%20DROP%20TABLE%20shares%3B--", 200, None),
        ("filter[timezone]=..%2F..%2Fetc%2Fpasswd", 200, None),
        ("filter[is_cloneable]=%E2%80%8B", 422, {"filter[is_cloneable]"}),
        ("filter[status]=%00", 422, {"filter[status]"}),
        ("filter[source_type]=__class__", 422, {"filter[source_type]"}),
        ("filter[period_type]=DAYS", 422, {"filter[period_type]"}),
        ("sort=%00", 422, {"sort"}),
        ("sort=-__class__", 422, {"sort"}),
        ("page[number]=1000000000&page[size]=100", 200, None),
        # Given twice: which value counts would be a guess (contract, List).
        ("sort=id&sort=bogus", 422, {"sort"}),
        ("page[number]=2&page[number]=x", 422, {"page[number]"}),
        ("filter[status]=active&filter[status]=nope", 422, {"filter[status]"}),
    ],
)
def test_odd_query_strings_never_500(app, api, query, status, error_keys):
    factories.share(app, code="C")

    response = api.get(f"{URL}?{query}")

    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    if status == 200:
        assert set(body) == {"data", "links", "meta"}
    else:
        assert set(body["errors"]) == error_keys
        assert body["message"] == body["errors"][next(iter(error_keys))][0]
    assert factories.share_count(app) == 1


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("page[size]=&page[size]=junk", {"page[size]": [twice("page size", 2)]}),
        ("page[size]=10&page[size]=20", {"page[size]": [twice("page size", 2)]}),
        ("page[size]=10&page[size]=10", {"page[size]": [twice("page size", 2)]}),
        ("sort=id&sort=-id&sort=id", {"sort": [twice("sort", 3)]}),
        (
            "filter[profile_id]=a&filter[profile_id]=b&page[number]=1&page[number]=2",
            {
                "filter[profile_id]": [twice("filter profile id", 2)],
                "page[number]": [twice("page number", 2)],
            },
        ),
        ("page[size]=x&page[size]=5", {"page[size]": [SIZE_INT, twice("page size", 2)]}),
        ("filter[x]=1&filter[x]=2", {"filter[x]": [UNKNOWN_X, twice("filter x", 2)]}),
        ("utm_source=a&utm_source=b", {"utm_source": [twice("utm source", 2)]}),
    ],
)
def test_a_parameter_given_twice_is_422_naming_it(app, api, query, errors):
    factories.share(app)

    assert_invalid(api.get(f"{URL}?{query}"), errors)
    assert factories.share_count(app) == 1


def test_list_needs_a_token(app, client):
    factories.share(app)

    response = client.get(URL)

    assert response.status_code == 401
    assert response.get_json() == {
        "message": "Unauthenticated. Send 'Authorization: Bearer <token>'."
    }
