"""Range filters on the share list (docs/contract.md, part 2): ``filter[<field>][gte|lt]`` for
created_at, updated_at and expires_at, with exact totals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests import factories
from tests.conftest import assert_invalid
from webapp.expiry import to_utc_z

URL = "/api/v3/shares"
DAY = timedelta(days=1)
BASE = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def ids(api, **params) -> list[int]:
    body = api.get(URL, query_string={"sort": "id", **params}).get_json()
    assert body["meta"]["total"] == len(body["data"]), "the total counts exactly what matches"
    return [share["id"] for share in body["data"]]


@pytest.fixture
def dated(app) -> dict[int, int]:
    """Shares made, updated and expiring on consecutive days; one never expires."""
    made = {
        n: factories.share(
            app,
            profile_id=f"p-{n % 2}",
            created_at=BASE + n * DAY,
            updated_at=BASE + n * DAY + timedelta(hours=1),
            expires_at=BASE + (10 + n) * DAY,
        )
        for n in range(4)
    }
    made[4] = factories.share(app, profile_id="p-0", created_at=BASE + 4 * DAY, expires_at=None)
    return made


@pytest.mark.parametrize("field", ["created_at", "updated_at"])
def test_gte_includes_its_instant_and_lt_excludes_it(api, dated, field):
    start = BASE + DAY + (timedelta(hours=1) if field == "updated_at" else timedelta())

    assert ids(api, **{f"filter[{field}][gte]": to_utc_z(start)}) == [
        dated[1],
        dated[2],
        dated[3],
        dated[4],
    ]
    assert ids(api, **{f"filter[{field}][lt]": to_utc_z(start)}) == [dated[0]]
    assert ids(
        api,
        **{
            f"filter[{field}][gte]": to_utc_z(start),
            f"filter[{field}][lt]": to_utc_z(start + 2 * DAY),
        },
    ) == [dated[1], dated[2]]


def test_a_date_means_midnight_utc_and_an_offset_is_honoured(api, dated):
    # 2026-06-12 00:00 UTC: the shares made at noon on the 12th and later.
    assert ids(api, **{"filter[created_at][gte]": "2026-06-12"}) == [dated[2], dated[3], dated[4]]
    # 22:00 on the 11th at +10:00 is 12:00 UTC on the 11th: that share is in.
    assert ids(api, **{"filter[created_at][gte]": "2026-06-11T22:00:00+10:00"})[0] == dated[1]


def test_a_share_that_never_expires_is_in_no_expires_at_range(api, dated):
    late = to_utc_z(BASE + 100 * DAY)
    early = to_utc_z(BASE)
    assert ids(api, **{"filter[expires_at][lt]": late}) == [dated[n] for n in range(4)]
    assert ids(api, **{"filter[expires_at][gte]": early}) == [dated[n] for n in range(4)]


def test_ranges_combine_with_other_filters_and_keep_the_total_exact(api, dated):
    found = ids(
        api,
        **{"filter[created_at][gte]": to_utc_z(BASE + DAY), "filter[profile_id]": "p-0"},
    )
    assert found == [dated[2], dated[4]]
    body = api.get(
        URL,
        query_string={"filter[expires_at][gte]": to_utc_z(BASE + 11 * DAY), "page[size]": 1},
    ).get_json()
    assert body["meta"]["total"] == 3 and body["meta"]["last_page"] == 3


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        (
            {"filter[created_at][gt]": "2026-01-01"},
            {
                "filter[created_at][gt]": [
                    "The filter created at gt parameter is not a known filter."
                ]
            },
        ),
        (
            {"filter[period][gte]": "2"},
            {"filter[period][gte]": ["The filter period gte parameter is not a known filter."]},
        ),
        (
            {"filter[expires_at][lt]": "tomorrow"},
            {
                "filter[expires_at][lt]": [
                    "The filter expires at lt parameter must be a date (2026-12-01) or an ISO "
                    "8601 instant with Z or an offset (2026-12-01T10:00:00Z)."
                ]
            },
        ),
        (
            {"filter[updated_at][gte]": "2026-02-30"},
            {
                "filter[updated_at][gte]": [
                    "The filter updated at gte parameter must be a date (2026-12-01) or an ISO "
                    "8601 instant with Z or an offset (2026-12-01T10:00:00Z)."
                ]
            },
        ),
    ],
)
def test_any_other_operator_field_or_value_is_a_422(api, params, errors):
    assert_invalid(api.get(URL, query_string=params), errors)
