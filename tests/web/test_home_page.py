"""The home page (issue 19): counts by status that equal the lists' totals, what expires this
week linked to exactly that list, claims and new shares per UTC day as accessible charts, the
claims trend, and the latest changes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests import factories
from tests.contract import bearer
from tests.pages import form_post
from webapp import dashboard, totals
from webapp.db import tallies
from webapp.extensions import db
from webapp.models import Share

DAY = timedelta(days=1)
#: Mid-afternoon UTC, so "the next 7 days" starts and ends inside a day, not on a midnight.
NOW = datetime(2026, 11, 29, 15, 30, 20, tzinfo=UTC)


def text(response) -> str:
    return response.get_data(as_text=True)


def tile(page: str, name: str) -> tuple[int, str]:
    """(number, href) of a home page tile."""
    match = re.search(
        rf'<a class="tile[^"]*" href="([^"]+)" data-testid="{name}">\s*'
        r'<span class="tile-number">(\d+)</span>',
        page,
    )
    assert match, f"no tile {name}"
    return int(match[2]), match[1].replace("&amp;", "&")


@pytest.fixture(autouse=True)
def at_now():
    """The clock stopped at NOW, before any session or CSRF token is made."""
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def desk(app, at_now):
    """Shares of every status, expiring either side of the week's edges, and some claims."""
    made = factories.shares(
        app,
        {"profile_id": "never"},
        {"profile_id": "gone", "expires_at": NOW - 2 * DAY},
        {"profile_id": "today-past", "expires_at": NOW - timedelta(minutes=5)},
        {"profile_id": "used-up", "remaining_quantity": 0},
        {"profile_id": "soon", "expires_at": NOW + timedelta(hours=2)},
        {"profile_id": "week-in", "expires_at": NOW + 7 * DAY - timedelta(seconds=1)},
        {"profile_id": "week-out", "expires_at": NOW + 7 * DAY},
        {"profile_id": "mid-week", "expires_at": NOW + 3 * DAY, "remaining_quantity": 0},
        {"profile_id": "later", "expires_at": NOW + 30 * DAY},
        {"profile_id": "old", "created_at": NOW - 5 * DAY},
    )
    for when in (NOW - 10 * DAY, NOW - 9 * DAY, NOW - DAY, NOW - DAY, NOW, NOW):
        factories.claim(app, made[0], "cust-9", claimed_at=when)
    return made


def test_every_number_equals_the_total_of_the_list_it_links_to(app, client, token, desk):
    page = text(client.get("/"))

    headers = bearer(token)
    for name in ("total", "status-active", "status-expired", "status-exhausted", "expiring"):
        number, href = tile(page, name)
        api_path = href.replace("/shares", "/api/v3/shares", 1)
        answer = client.get(api_path, headers=headers).get_json()
        assert number == answer["meta"]["total"], name
    assert tile(page, "total")[0] == 10
    assert tile(page, "status-expired")[0] == 2
    assert tile(page, "status-exhausted")[0] == 2
    assert tile(page, "status-active")[0] == 6


def test_expiring_this_week_is_exactly_the_linked_list(app, client, desk):
    page = text(client.get("/"))

    number, href = tile(page, "expiring")
    listed = text(client.get(href))
    shown = set(re.findall(r'<td><a href="/profiles/[^"]+">([^<]+)</a></td>', listed))
    shown |= set(re.findall(r"<td>([\w-]+)</td>\s*<td>Reward", listed))
    assert number == 3
    assert {"soon", "week-in", "mid-week"} <= shown
    assert not {"week-out", "later", "never", "gone", "today-past"} & shown
    assert "filter%5Bexpires_at%5D%5Bgte%5D=2026-11-29T15:30:20Z" in href
    assert "filter%5Bexpires_at%5D%5Blt%5D=2026-12-06T15:30:20Z" in href


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (NOW, NOW + 7 * DAY),  # mid-day to mid-day
        (NOW.replace(hour=0, minute=0, second=0), NOW + 7 * DAY),  # from a midnight
        (NOW, (NOW + 7 * DAY).replace(hour=0, minute=0, second=0)),  # to a midnight
        (NOW, NOW + timedelta(hours=3)),  # inside one day
        (NOW, NOW + DAY),  # across one midnight, no whole day
    ],
)
def test_the_expiring_total_counts_whole_days_from_tallies_and_edges_from_rows(app, start, end):
    instants = [start + timedelta(hours=h, seconds=s) for h in range(-30, 200, 7) for s in (0, 1)]
    instants += [start, end, end - timedelta(seconds=1), start - timedelta(seconds=1)]
    factories.shares(app, *({"expires_at": when} for when in instants), {})

    with app.app_context():
        counted = db.session.scalar(
            db.select(db.func.count())
            .select_from(Share)
            .where(Share.expires_at >= start, Share.expires_at < end)
        )
        assert db.session.scalar(db.select(totals.expiring_total(start, end))) == counted
    assert counted > 0


def test_claims_and_new_shares_per_utc_day_come_from_the_tallies(app, desk):
    with app.app_context():
        summary = dashboard.summary(NOW)
        with db.engine.connect() as connection:
            assert tallies.stored(connection) == tallies.counted(connection)
    claims = dict(summary.claims_per_day)
    assert len(summary.claims_per_day) == 30
    assert summary.claims_per_day[-1][0] == NOW.date()
    assert claims[NOW.date()] == 2 and claims[(NOW - DAY).date()] == 2
    assert claims[(NOW - 9 * DAY).date()] == 1 and claims[(NOW - 10 * DAY).date()] == 1
    assert sum(claims.values()) == 6
    created = dict(summary.created_per_day)
    assert created[NOW.date()] == 9 and created[(NOW - 5 * DAY).date()] == 1
    # Last 7 days (4) against the 7 before (2): up 100%.
    assert (summary.trend.recent, summary.trend.before) == (4, 2)
    assert (summary.trend.direction, summary.trend.change) == ("up", 100)


def test_a_deleted_claim_or_share_leaves_the_daily_tallies(app, desk):
    with app.app_context():
        db.session.execute(db.text("DELETE FROM share_claims"))
        db.session.commit()
        summary = dashboard.summary(NOW)
        with db.engine.connect() as connection:
            assert tallies.stored(connection) == tallies.counted(connection)
    assert sum(count for _day, count in summary.claims_per_day) == 0


def test_the_charts_are_svg_with_a_title_a_description_and_their_numbers(client, desk):
    page = text(client.get("/"))

    for chart, title, total in (("claims-chart", "Claims per day", 6), ("created-chart", None, 10)):
        svg = re.search(
            rf'<svg class="chart-svg"[^>]*data-testid="{chart}">(.*?)</svg>', page, re.S
        )
        assert svg, chart
        assert f'aria-labelledby="{chart}-title {chart}-desc"' in page
        if title:
            assert f'<title id="{chart}-title">{title}</title>' in svg[1]
        assert f"{total} " in re.search(r"<desc[^>]*>(.*?)</desc>", svg[1])[1]
        assert len(re.findall(r'<rect class="chart-bar"', svg[1])) == 30
    # The numbers behind each chart, a row a day, behind "Show data".
    tables = re.findall(r"<summary>Show data.*?<tbody>(.*?)</tbody>", page, re.S)
    assert len(tables) == 2
    assert all(len(re.findall(r"<tr>", body)) == 30 for body in tables)
    assert "<tr><td>2026-11-29</td><td>2</td></tr>" in tables[0]


def test_a_chart_is_drawn_again_when_its_counts_change(app, client, desk):
    """Charts are kept once drawn (webapp/charts.py): a new claim must still show at once."""
    today = "<tr><td>2026-11-29</td><td>{}</td></tr>"
    assert today.format(2) in text(client.get("/"))
    factories.claim(app, factories.share(app), "one-more", claimed_at=NOW)

    page = text(client.get("/"))

    assert today.format(3) in page
    assert "7 claims in all" in re.sub(r"\s+", " ", page)


def test_the_claims_trend_says_up_or_down_in_words(app, client, at_now):
    share_id = factories.share(app)
    for days in (8, 9, 10):
        factories.claim(app, share_id, f"c-{days}", claimed_at=NOW - days * DAY)
    factories.claim(app, share_id, "c-now", claimed_at=NOW)

    number, href = tile(text(client.get("/")), "claims-week")

    assert number == 1
    assert "down 67% on the 7 days before (3)" in text(client.get("/"))
    assert href == "/claims?filter%5Bclaimed_at%5D%5Bgte%5D=2026-11-23"


def test_the_latest_changes_link_to_shares_and_customers(app, client, at_now):
    kept = factories.share(app, profile_id="owner-1", code="C1")
    gone = factories.share(app, profile_id="owner-2")
    form_post(client, f"/shares/{kept}/claim", profile_id="cust-5", code="C1")
    form_post(client, f"/shares/{gone}/delete")

    page = text(client.get("/"))

    events = re.search(r'<ol class="events"[^>]*>(.*?)</ol>', page, re.S)[1]
    items = re.findall(r"<li>(.*?)</li>", events, re.S)
    assert [re.search(r"<strong>(\w+)</strong>", item)[1] for item in items] == [
        "deleted",
        "claimed",
        "created",
        "created",
    ]
    assert f'href="/shares/{gone}"' not in events and "(deleted)" in items[0]
    assert f'href="/shares/{kept}"' in items[1] and 'href="/profiles/cust-5"' in items[1]
    assert 'href="/profiles/owner-1"' in items[3]
    assert 'href="/admin/audit"' in page


def test_an_empty_desk_says_so_and_invites_a_first_share(client_as):
    page = text(client_as("agent").get("/"))
    assert "Nothing has happened yet." in page
    assert "Create the first share" in page
    assert "No claims in these 30 days." in page
    assert 'href="/admin/audit"' not in page
    assert "Create the first share" not in text(client_as("viewer").get("/"))


def test_signing_in_opens_the_home_page(app, client_as):
    page = text(client_as("viewer").get("/"))
    assert '<a href="/">Home</a>' in page
    assert "What is happening" in page
