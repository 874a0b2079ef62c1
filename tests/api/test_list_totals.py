"""List totals from the tallies: always what counting the rows would say (contract: List, meta).

The tallies are kept by database triggers (``webapp/tallies.py``), so every way of writing a
share is checked here: the API's create, edit, claim and delete, a rolled-back write, raw SQL;
and the status totals at instants around midnight, where whole expiry days and today's part meet.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from tests import factories
from webapp import totals
from webapp.db import tallies
from webapp.enums import PeriodType, ShareStatus, SourceType
from webapp.extensions import db
from webapp.forms.filters import ShareFilterForm
from webapp.listing import fetch_page, share_query, status_condition
from webapp.models import Share

URL = "/api/v3/shares"
NOW = datetime(2026, 11, 29, 14, 30, tzinfo=UTC)
MIDNIGHT = datetime(2026, 11, 29, tzinfo=UTC)


def stored_and_counted(app) -> tuple[dict, dict]:
    with app.app_context(), db.engine.connect() as connection:
        return tallies.stored(connection), tallies.counted(connection)


def assert_tallies_true(app) -> dict:
    """The kept tallies equal a count of the shares; returns them."""
    stored, counted = stored_and_counted(app)
    assert stored == counted
    return stored


def create(api, **fields) -> dict:
    body = {"profile_id": "owner", "source_type": "reward", "source_id": 7, **fields}
    response = api.post(URL, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def total_of(api, query: str = "") -> int:
    response = api.get(f"{URL}?{query}" if query else URL)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["meta"]["total"]


def test_every_api_write_keeps_the_tallies_true(app, api):
    assert assert_tallies_true(app) == {}
    plain = create(api, period=2, period_type="weeks", timezone="Australia/Melbourne")
    cloneable = create(api, source_type="benefit", is_cloneable=True, code="CLONE")
    last_one = create(api, source_type="list", code="LAST", remaining_quantity=1)
    create(api, source_type="list", period=3)  # a period alone means days

    tallied = assert_tallies_true(app)
    assert tallied[("all", "")] == 4
    assert tallied[("source_type", "list")] == 2
    assert tallied[("period_type", "weeks")] == 1 and tallied[("period_type", "days")] == 1
    assert tallied[("is_cloneable", "true")] == 1 and tallied[("is_cloneable", "false")] == 3
    assert tallied[("timezone", "Australia/Melbourne")] == 1
    assert ("exhausted", "") not in tallied

    # An edit moves the share from one period type and expiry day to another.
    edited = api.put(f"{URL}/{plain['id']}", json={"period": 1, "period_type": "months"})
    assert edited.status_code == 200, edited.get_json()
    tallied = assert_tallies_true(app)
    assert tallied[("period_type", "months")] == 1 and ("period_type", "weeks") not in tallied

    # A claim of an unlimited share changes no tally; the last claim of another exhausts it.
    claim = {"profile_id": "claimer", "code": "CLONE"}
    assert api.post(f"{URL}/{cloneable['id']}/claim", json=claim).status_code == 201
    claim = {"profile_id": "claimer", "code": "LAST"}
    assert api.post(f"{URL}/{last_one['id']}/claim", json=claim).status_code == 201
    tallied = assert_tallies_true(app)
    assert tallied[("exhausted", "")] == 1
    assert total_of(api, "filter[status]=exhausted") == 1
    assert total_of(api, "filter[status]=active") == 3

    assert api.delete(f"{URL}/{last_one['id']}").status_code == 204
    tallied = assert_tallies_true(app)
    assert tallied[("all", "")] == 3 and ("exhausted", "") not in tallied
    assert total_of(api) == 3
    assert total_of(api, "filter[source_type]=list") == 1


def test_a_rolled_back_write_leaves_the_tallies_as_they_were(app):
    factories.share(app, **_row(1, None))
    before = stored_and_counted(app)[0]
    with app.app_context():
        listed = factories.share_values(**_row(2, None, source_type=SourceType.LIST))
        db.session.add(Share(**listed))
        db.session.flush()  # the trigger has run in this transaction...
        db.session.rollback()  # ...and its counts go with it
    assert assert_tallies_true(app) == before
    assert before[("all", "")] == 1 and ("source_type", "list") not in before


def test_raw_sql_writes_are_tallied_too(app):
    with app.app_context():
        db.session.execute(
            sa.text(
                "INSERT INTO shares (profile_id, source_type, source_id, handle, timezone,"
                " quantity, remaining_quantity, is_cloneable, created_at, updated_at)"
                " VALUES ('raw', 'coupon', 1, 'raw-handle', 'UTC', 1, 0, false,"
                " '2026-11-28 23:00:00', '2026-11-28 23:00:00')"
            )
        )
        db.session.execute(sa.text("UPDATE shares SET timezone = 'Europe/London'"))
        db.session.commit()
    tallied = assert_tallies_true(app)
    assert tallied[("timezone", "Europe/London")] == 1 and ("timezone", "UTC") not in tallied
    assert tallied[("exhausted", "")] == 1
    with app.app_context():
        db.session.execute(sa.text("DELETE FROM shares"))
        db.session.commit()
    assert assert_tallies_true(app) == {}


def _row(n: int, expires_at, remaining=1, **fields) -> dict:
    """Share ``n``'s values: its expiry and claims left, created a month before ``MIDNIGHT``."""
    return {
        "profile_id": f"p{n}",
        "source_id": n,
        "expires_at": expires_at,
        "remaining_quantity": remaining,
        "is_cloneable": remaining is None,
        "created_at": MIDNIGHT - timedelta(days=30),
        **fields,
    }


#: Expiries around the instants below: days before, earlier today, later today, days after.
EXPIRIES = [
    None,
    MIDNIGHT - timedelta(days=3),
    MIDNIGHT - timedelta(seconds=1),
    MIDNIGHT,
    MIDNIGHT + timedelta(hours=9),
    NOW - timedelta(seconds=1),
    NOW,
    NOW + timedelta(seconds=1),
    MIDNIGHT + timedelta(days=1) - timedelta(seconds=1),
    MIDNIGHT + timedelta(days=1),
    MIDNIGHT + timedelta(days=40),
]


@pytest.mark.parametrize(
    "now",
    [MIDNIGHT, MIDNIGHT + timedelta(seconds=1), NOW, MIDNIGHT + timedelta(days=1, seconds=-1)],
    ids=["midnight", "a second after midnight", "mid-afternoon", "a second before midnight"],
)
def test_status_totals_equal_counting_at_any_instant(app, now):
    factories.shares(
        app,
        *(
            _row(n * 3 + k, expires_at, remaining, period_type=PeriodType.DAYS)
            for n, expires_at in enumerate(EXPIRIES)
            for k, remaining in enumerate((1, 0, None))
        ),
    )
    with app.app_context():
        shares = db.session.scalars(sa.select(Share).order_by(Share.id)).all()
        every_count = []
        for status in ShareStatus:
            counted = db.session.scalar(
                sa.select(sa.func.count()).select_from(Share).where(status_condition(status, now))
            )
            by_rule = sum(share.status(now) is status for share in shares)
            assert db.session.scalar(sa.select(totals.status_total(status, now))) == counted
            assert counted == by_rule, status
            every_count.append(counted)
        # All three at once (the home page and /metrics), and every share.
        assert list(db.session.execute(totals.status_totals(now)).one()) == [
            *every_count,
            len(shares),
        ]


FILTER_CASES = [
    "",
    "filter[source_type]=benefit",
    "filter[period_type]=weeks",
    "filter[is_cloneable]=1",
    "filter[is_cloneable]=false",
    "filter[timezone]=Australia/Perth",
    "filter[timezone]=Nowhere/Else",
    "filter[status]=active",
    "filter[status]=expired",
    "filter[status]=exhausted",
    # Not tallied: counted from the rows.
    "filter[source_type]=benefit&filter[status]=active",
    "filter[profile_id]=p1",
    "filter[search]=p1",
]


@pytest.mark.parametrize("query", FILTER_CASES, ids=lambda q: q or "no filter")
def test_meta_total_equals_the_matching_rows(app, query):
    factories.shares(
        app,
        *(
            _row(
                n,
                EXPIRIES[n % len(EXPIRIES)],
                remaining=(1, 0, None)[n % 3],
                period_type=(PeriodType.WEEKS, None, PeriodType.DAYS)[n % 3],
            )
            for n in range(40)
        ),
    )
    with app.app_context():
        for n, share in enumerate(db.session.scalars(sa.select(Share)).all()):
            share.source_type = (SourceType.BENEFIT, SourceType.REWARD)[n % 2]
            share.timezone = ("Australia/Perth", "UTC", "Asia/Tokyo")[n % 3]
        db.session.commit()
        with app.test_request_context(f"/?{query}"):
            form = ShareFilterForm(MultiDict(parse(query)))
            assert form.validate()
            matching = share_query(form, NOW).order_by(None).subquery()
            counted = db.session.scalar(sa.select(sa.func.count()).select_from(matching))
            page = fetch_page(form, NOW)
    assert page.total == counted
    if query in ("filter[source_type]=benefit", "filter[status]=expired"):
        assert counted > 0  # the cases are not all empty


def parse(query: str) -> list[tuple[str, str]]:
    return [tuple(pair.split("=", 1)) for pair in query.split("&") if pair]


def test_the_tallies_are_rebuilt_from_the_shares(app):
    """``recount`` (run by the migration that brought the tallies) restores lost counts."""
    factories.shares(app, *(_row(n, EXPIRIES[n % len(EXPIRIES)]) for n in range(12)))
    with app.app_context():
        expected = stored_and_counted(app)[1]
        db.session.execute(sa.text("UPDATE share_tallies SET shares = shares + 5"))
        db.session.commit()
        assert stored_and_counted(app)[0] != expected
        tallies.recount(db.session.connection())
        db.session.commit()
    assert assert_tallies_true(app) == expected
