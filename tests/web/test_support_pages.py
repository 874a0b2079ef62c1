"""The support desk's pages (issue 15): claims, a customer's page, the claim check, expire now and
extend, the list's filters and quick ranges, and forms that act once however often they are sent."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from tests import factories
from tests.pages import csrf_in, csrf_token, form_id_in
from webapp.clock import utcnow
from webapp.expiry import to_utc_z
from webapp.extensions import db
from webapp.models import ApiToken, Staff

DAY = timedelta(days=1)
MELBOURNE = "Australia/Melbourne"


def text(response) -> str:
    return response.get_data(as_text=True)


def rows(page: str, table: str) -> list[str]:
    body = page.split(f'<table class="{table}">', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S)


# --- claims ------------------------------------------------------------------------------------


def test_the_claims_page_lists_claims_newest_first_linked_to_people_and_shares(app, client):
    share_id = factories.share(app, profile_id="owner-7", code="X")
    gone = factories.share(app, profile_id="owner-8")
    first = factories.claim(app, share_id, "cust-1")
    factories.claim(app, gone, "cust-2")
    client.post(f"/shares/{gone}/delete", data={"csrf_token": csrf_token(client, "/shares")})

    page = text(client.get("/claims"))

    found = rows(page, "claims")
    assert len(found) == 2
    assert 'href="/profiles/cust-2"' in found[0] and "(share deleted)" in found[0]
    assert f'href="/shares/{gone}"' not in found[0]
    assert 'href="/profiles/cust-1"' in found[1] and 'href="/profiles/owner-7"' in found[1]
    assert f'href="/shares/{share_id}"' in found[1]
    assert "2 claims" in page
    assert first


@pytest.mark.parametrize(
    ("params", "claimers"),
    [
        ({"filter[profile_id]": "cust-1"}, ["cust-1"]),
        ({"filter[share_profile_id]": "owner-b"}, ["cust-3"]),
        ({"filter[claimed_at][gte]": "2026-03-11"}, ["cust-3", "cust-2"]),
        ({"filter[claimed_at][lt]": "2026-03-11"}, ["cust-1"]),
    ],
)
def test_the_claims_page_finds_by_claimer_owner_and_date(app, client, params, claimers):
    a = factories.share(app, code="X", is_cloneable=True, remaining_quantity=None)
    b = factories.share(app, profile_id="owner-b")
    base = datetime(2026, 3, 10, 12, tzinfo=UTC)
    factories.claim(app, a, "cust-1", claimed_at=base)
    factories.claim(app, a, "cust-2", claimed_at=base + DAY)
    factories.claim(app, b, "cust-3", claimed_at=base + 2 * DAY)

    page = text(client.get("/claims", query_string=params))

    found = [re.search(r'href="/profiles/([^"]+)"', row)[1] for row in rows(page, "claims")]
    assert found == claimers


def test_the_claims_page_finds_by_share_handle_and_offers_quick_ranges(app, client):
    share_id = factories.share(app)
    factories.claim(app, share_id, "cust-1")
    factories.claim(app, factories.share(app), "cust-2")
    handle = factories.handle_of(app, share_id)
    today = utcnow().date()
    monday = today - timedelta(days=today.weekday())

    with time_machine.travel(utcnow(), tick=False):  # the same day, now and as checked
        page = text(client.get("/claims", query_string={"filter[share_handle]": handle}))

    assert len(rows(page, "claims")) == 1 and "cust-1" in page
    week = f'href="/claims?filter%5Bclaimed_at%5D%5Bgte%5D={monday.isoformat()}"'
    assert f"{week}>Claimed this week" in page
    assert (
        f'href="/claims?filter%5Bclaimed_at%5D%5Bgte%5D={today.isoformat()}">Claimed today' in page
    )


def test_quick_ranges_are_the_readers_own_days(app, client_as):
    """The pages show a Melbourne reader times in Melbourne, so their "today" starts at
    midnight there: a claim at 09:00 there (22:00 UTC the day before) is today's."""
    share_id = factories.share(app)
    at = datetime(2026, 12, 1, 22, tzinfo=UTC)  # Wednesday 2 December, 09:00 AEDT
    factories.claim(app, share_id, "this-morning", claimed_at=at)
    factories.claim(app, share_id, "last-night", claimed_at=at - timedelta(hours=10))
    day = "2026-12-02T00:00:00%2B11:00"
    monday = "2026-11-30T00:00:00%2B11:00"

    # Signed in at that time too: a session cookie signed later would not be taken.
    with time_machine.travel(at + timedelta(hours=3), tick=False):
        client = client_as("agent")
        with app.app_context():
            db.session.execute(sa.update(Staff).values(timezone="Australia/Melbourne"))
            db.session.commit()
        page = text(client.get("/claims"))
        shares_page = text(client.get("/shares"))
        listed = text(client.get(f"/claims?filter%5Bclaimed_at%5D%5Bgte%5D={day}"))

    assert f'href="/claims?filter%5Bclaimed_at%5D%5Bgte%5D={day}">Claimed today' in page
    assert f'href="/claims?filter%5Bclaimed_at%5D%5Bgte%5D={monday}">Claimed this week' in page
    assert f'href="/shares?filter%5Bcreated_at%5D%5Bgte%5D={day}">Created today' in shares_page
    (row,) = rows(listed, "claims")
    assert "this-morning" in row


def test_bad_claims_filters_say_what_is_wrong_with_a_422(client):
    response = client.get("/claims", query_string={"filter[claimed_at][gte]": "soon"})
    assert response.status_code == 422
    assert "The filter claimed at gte parameter must be a date" in text(response)


def test_the_claims_results_fragment_pushes_the_full_pages_url(client):
    response = client.get("/claims/results", query_string={"filter[profile_id]": "c"})
    assert response.status_code == 200
    assert "<html" not in text(response)
    assert response.headers["HX-Push-Url"] == "/claims?filter%5Bprofile_id%5D=c"


# --- a customer's page -------------------------------------------------------------------------


def test_a_customers_page_shows_what_they_own_with_status_and_what_they_claimed(app, client):
    mine = factories.share(app, profile_id="cust-1", remaining_quantity=0)
    theirs = factories.share(app, profile_id="cust-2", code="X")
    factories.claim(app, theirs, "cust-1")

    page = text(client.get("/profiles/cust-1"))

    assert "<h1>Customer <code>cust-1</code></h1>" in page
    [owned] = rows(page, "shares")
    assert f'href="/shares/{mine}"' in owned and "Exhausted" in owned
    [claimed] = rows(page, "claims")
    assert f'href="/shares/{theirs}"' in claimed and 'href="/profiles/cust-2"' in claimed


def test_a_profile_nobody_has_says_so_and_odd_ids_still_have_a_page(app, client):
    empty = text(client.get("/profiles/nobody"))
    assert "They own no shares." in empty and "They made no claims." in empty
    factories.share(app, profile_id="..")
    factories.share(app, profile_id="a/b")
    dots = client.get("/profiles", query_string={"id": ".."})
    slash = client.get("/profiles/a/b")
    assert dots.status_code == slash.status_code == 200
    assert len(rows(text(dots), "shares")) == 1 and len(rows(text(slash), "shares")) == 1
    # Every profile id on a page links to its customer page, by path or by query.
    share_page = text(client.get(f"/shares/{factories.share(app, profile_id='..')}"))
    assert 'href="/profiles?id=..">..</a>' in share_page


def test_the_list_the_edit_page_and_the_bulk_confirmation_link_each_owner(app, client):
    share_id = factories.share(app, profile_id="owner/1")
    link = '<a href="/profiles/owner/1">owner/1</a>'

    (row,) = rows(text(client.get("/shares")), "shares")
    assert link in row
    assert link in text(client.get(f"/shares/{share_id}/edit"))
    confirmation = client.get("/shares/bulk/expire", query_string={"id": share_id})
    assert link in text(confirmation)


def test_the_profiles_page_without_an_id_asks_for_one(client):
    page = text(client.get("/profiles"))
    assert "<h1>Find a customer</h1>" in page and 'name="id"' in page


# --- the claim check ---------------------------------------------------------------------------


def check(client, share_id: int, profile_id: str, code: str, htmx: bool = True):
    page = text(client.get(f"/shares/{share_id}"))
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        f"/shares/{share_id}/claim-check",
        data={
            "check-csrf_token": csrf_in(page),  # any of the session's tokens will do
            "check-profile_id": profile_id,
            "check-code": code,
        },
        headers={"X-CSRFToken": csrf_in(page, hx_headers=True), **headers},
    )


@pytest.mark.parametrize(
    ("share", "profile_id", "code", "answer"),
    [
        ({"code": "OPEN"}, "cust-1", "OPEN", "This claim would succeed."),
        ({"code": "OPEN"}, "cust-1", "nope", "This claim would be refused: wrong code."),
        ({}, "cust-1", "nope", "This claim would be refused: wrong handle (it has no code)."),
        (
            {"code": "OPEN"},
            "owner-1",
            "OPEN",
            "This claim would be refused: the owner cannot claim their own share.",
        ),
        (
            {"code": "OPEN", "remaining_quantity": 0},
            "cust-1",
            "OPEN",
            "This claim would be refused: no claims left.",
        ),
        (
            {
                "code": "OPEN",
                "timezone": MELBOURNE,
                "expires_at": datetime(2026, 11, 30, 12, 59, 59, tzinfo=UTC),
            },
            "owner-1",
            "OPEN",
            "This claim would be refused: expired on Monday 30 Nov 2026 23:59:59 AEDT; "
            "the owner cannot claim their own share.",
        ),
    ],
)
def test_the_claim_check_answers_in_plain_words_and_changes_nothing(
    app, client_as, share, profile_id, code, answer
):
    viewer = client_as("viewer")
    share_id = factories.share(app, **share)
    before = factories.share_row(app, share_id)

    response = check(viewer, share_id, profile_id, code)

    assert response.status_code == 200
    page = text(response)
    assert "<html" not in page
    assert answer in page
    assert factories.share_row(app, share_id) == before
    assert factories.claim_rows(app) == []


def test_the_claim_check_works_without_script_too(app, client):
    share_id = factories.share(app, code="OPEN")
    response = check(client, share_id, "cust-1", "OPEN", htmx=False)
    assert response.status_code == 200
    assert "<html" in text(response) and "This claim would succeed." in text(response)


def test_the_claim_check_names_a_missing_field(app, client):
    share_id = factories.share(app, code="OPEN")
    page = text(check(client, share_id, "", "OPEN"))
    assert "The profile id field is required." in page
    assert "would" not in page.split('id="claim-check-result"', 1)[1]


# --- expire now and extend ---------------------------------------------------------------------


def test_expire_asks_first_then_stops_the_share_and_history_says_so(app, client):
    share_id = factories.share(app, code="OPEN", timezone=MELBOURNE, period=30, period_type="days")

    ask = text(client.get(f"/shares/{share_id}/expire"))
    assert "From then on every claim is refused as expired" in ask
    assert "with 1 claim left" in ask
    assert factories.share_row(app, share_id)["expires_at"] > utcnow()

    done = client.post(
        f"/shares/{share_id}/expire", data={"csrf_token": csrf_in(ask)}, follow_redirects=True
    )

    page = text(done)
    assert "expired: no claim succeeds from now on." in page
    assert '<span class="badge badge-expired">Expired</span>' in page
    assert "<td>expire</td>" in page.split('id="history-title"', 1)[1]
    assert factories.share_row(app, share_id)["expires_at"] <= utcnow()
    assert f'href="/shares/{share_id}/expire"' not in page  # nothing left to stop


def test_expiring_an_expired_share_changes_nothing(app, client):
    past = datetime(2025, 1, 1, tzinfo=UTC)
    share_id = factories.share(app, expires_at=past)
    ask = text(client.get(f"/shares/{share_id}/expire"))
    assert "there is nothing to stop" in ask and "<button" not in ask.split("<main", 1)[1]
    response = client.post(
        f"/shares/{share_id}/expire", data={"csrf_token": csrf_token(client, "/shares")}
    )
    assert response.status_code == 302
    assert factories.share_row(app, share_id)["expires_at"] == past


def test_extend_adds_seven_days_to_the_expiry_or_to_now_once_it_has_passed(app, client):
    soon = utcnow() + DAY
    live = factories.share(app, expires_at=soon)
    gone = factories.share(app, expires_at=utcnow() - 30 * DAY)
    token = csrf_token(client, "/shares")

    client.post(f"/shares/{live}/extend", data={"csrf_token": token})
    before = utcnow()
    client.post(f"/shares/{gone}/extend", data={"csrf_token": token})

    assert factories.share_row(app, live)["expires_at"] == soon + 7 * DAY
    renewed = factories.share_row(app, gone)["expires_at"]
    assert before + 7 * DAY <= renewed <= utcnow() + 7 * DAY


def test_a_share_that_never_expires_has_nothing_to_extend(app, client):
    share_id = factories.share(app)
    assert "Extend by 7 days" not in text(client.get(f"/shares/{share_id}"))
    response = client.post(
        f"/shares/{share_id}/extend",
        data={"csrf_token": csrf_token(client, "/shares")},
        follow_redirects=True,
    )
    assert "The share never expires: there is nothing to extend." in text(response)
    assert factories.share_row(app, share_id)["expires_at"] is None


# --- the list's filters and quick ranges -------------------------------------------------------


def test_the_list_page_offers_every_api_filter_and_quick_ranges(client):
    now = utcnow()
    with time_machine.travel(now, tick=False):
        page = text(client.get("/shares"))
    for name in (
        "filter[profile_id]", "filter[source_id]", "filter[handle]", "filter[code]",
        "filter[period_type]", "filter[timezone]", "filter[created_at][gte]",
        "filter[created_at][lt]", "filter[updated_at][gte]", "filter[updated_at][lt]",
        "filter[expires_at][gte]", "filter[expires_at][lt]", "filter[search]",
        "filter[source_type]", "filter[status]", "filter[is_cloneable]",
    ):  # fmt: skip
        assert f'name="{name}"' in page, name
    soon = (
        f"filter%5Bexpires_at%5D%5Bgte%5D={to_utc_z(now)}"
        f"&amp;filter%5Bexpires_at%5D%5Blt%5D={to_utc_z(now + 7 * DAY)}"
    )
    assert f'href="/shares?{soon}">Expiring in the next 7 days' in page
    created = f"filter%5Bcreated_at%5D%5Bgte%5D={now.date().isoformat()}"
    assert f'href="/shares?{created}">Created today' in page


def test_expiring_in_the_next_7_days_shows_exactly_those(app, client):
    now = utcnow()
    inside = factories.share(app, expires_at=now + 3 * DAY)
    factories.share(app, expires_at=now + 8 * DAY)
    factories.share(app, expires_at=now - DAY)
    factories.share(app)
    params = {
        "filter[expires_at][gte]": to_utc_z(now),
        "filter[expires_at][lt]": to_utc_z(now + 7 * DAY),
    }

    page = text(client.get("/shares", query_string=params))

    found = rows(page, "shares")
    assert len(found) == 1 and f'href="/shares/{inside}"' in found[0]


# --- forms act once ----------------------------------------------------------------------------


def create_form(page: str, **fields) -> dict:
    return {
        "csrf_token": csrf_in(page),
        "form_id": form_id_in(page),
        "profile_id": "cust-1",
        "source_type": "reward",
        "source_id": "5",
        "timezone": "UTC",
        **fields,
    }


def test_a_create_form_sent_twice_creates_once_and_both_land_on_the_share(app, client):
    page = text(client.get("/shares/new"))
    form = create_form(page)

    first = client.post("/shares/new", data=form)
    second = client.post("/shares/new", data=form)

    assert first.status_code == second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert factories.share_count(app) == 1
    assert "created for profile cust-1" in text(client.get(second.headers["Location"]))


def test_the_same_form_sent_again_with_other_values_is_a_new_create(app, client):
    page = text(client.get("/shares/new"))
    assert client.post("/shares/new", data=create_form(page)).status_code == 302
    assert client.post("/shares/new", data=create_form(page, source_id="6")).status_code == 302
    assert factories.share_count(app) == 2


def test_a_claim_form_sent_twice_claims_once(app, client):
    share_id = factories.share(app, code="X", is_cloneable=True, remaining_quantity=5)
    page = text(client.get(f"/shares/{share_id}"))
    claim_form = page.split(f'action="/shares/{share_id}/claim"', 1)[1]
    form = {
        "csrf_token": csrf_in(claim_form),
        "form_id": form_id_in(claim_form),
        "profile_id": "cust-1",
        "code": "X",
    }

    first = client.post(f"/shares/{share_id}/claim", data=form)
    second = client.post(f"/shares/{share_id}/claim", data=form)

    assert first.status_code == second.status_code == 302
    assert len(factories.claim_rows(app)) == 1
    assert factories.share_row(app, share_id)["remaining_quantity"] == 4


@pytest.mark.parametrize(
    ("path", "fields", "count"),
    [
        ("/admin/tokens", {"name": "twice", "role": "viewer"}, "tokens"),
        (
            "/admin/staff",
            {"email": "twice@example.com", "role": "agent", "password": "a long password!"},
            "staff",
        ),
    ],
)
def test_token_and_staff_forms_sent_twice_make_one(app, client, path, fields, count):
    page = text(client.get(path))
    form = {"csrf_token": csrf_in(page), "form_id": form_id_in(page), **fields}

    first = client.post(path, data=form)
    second = client.post(path, data=form)

    assert first.status_code in (200, 302)
    assert second.status_code == 302 and second.headers["Location"] == path
    model = ApiToken if count == "tokens" else Staff
    column = model.name if count == "tokens" else model.email
    with app.app_context():
        made = db.session.scalars(db.select(model).where(column == next(iter(fields.values()))))
        assert len(made.all()) == 1
    if count == "tokens":
        assert "was created by the first of two sends of its form" in text(client.get(path))
