"""Each person's own time zone (issue 19): chosen on their settings page or detected from their
browser once; History, Audit, Claims and every created/updated time show in it, with UTC on
hover; a share's expiry stays in the share's zone. And "just now" for the current second."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests import factories
from tests.pages import csrf_in, csrf_token
from webapp.extensions import db
from webapp.models import AuditEvent, Staff
from webapp.templating import relative_time, when

CREATED = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)  # 10:00 AEDT, 08:00 JST the next day


def text(response) -> str:
    return response.get_data(as_text=True)


def staff_zone(app, email: str) -> str | None:
    with app.app_context():
        return db.session.scalar(db.select(Staff.timezone).where(Staff.email == email))


def email_of(client) -> str:
    page = text(client.get("/account"))
    return re.search(r"Signed in as <strong>([^<]+)</strong>", page)[1]


def choose(client, zone: str):
    return client.post(
        "/account", data={"csrf_token": csrf_token(client, "/account"), "timezone": zone}
    )


@pytest.fixture
def agent(client_as):
    return client_as("agent")


@pytest.fixture
def history_share(app, agent):
    """A Melbourne share made at CREATED, with a claim an hour later."""
    share_id = factories.share(
        app,
        timezone="Australia/Melbourne",
        code="C",
        created_at=CREATED,
        updated_at=CREATED,
        expires_at=datetime(2026, 12, 13, 12, 59, 59, tzinfo=UTC),
    )
    factories.claim(app, share_id, "cust-3", claimed_at=CREATED + timedelta(hours=1))
    return share_id


def test_until_a_zone_is_chosen_times_show_in_utc_and_the_page_asks_the_browser(agent):
    page = text(agent.get("/shares"))
    assert 'data-detect-zone="/account/zone/detected"' in page
    assert ">Time zone: UTC</a>" in page


def test_a_chosen_zone_is_kept_and_shown_everywhere(app, agent, history_share):
    email = email_of(agent)
    response = choose(agent, "Asia/Tokyo")
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert staff_zone(app, email) == "Asia/Tokyo"
    page = text(agent.get(f"/shares/{history_share}"))

    assert "data-detect-zone" not in page
    assert ">Time zone: Asia/Tokyo</a>" in page
    # Created, updated and the claim: Tokyo, with the UTC instant on hover.
    assert (
        '<time datetime="2026-11-28T23:00:00Z" title="UTC: 2026-11-28T23:00:00Z">'
        "2026-11-29 08:00:00 JST</time>"
    ) in page
    claims = page.split('<table class="claims">', 1)[1].split("</table>", 1)[0]
    assert "Claimed (Asia/Tokyo)" in claims and "2026-11-29 09:00:00 JST" in claims
    # History too.
    history = page.split('<table class="audit">', 1)[1].split("</table>", 1)[0]
    assert "When (Asia/Tokyo)" in history and " JST</time>" in history
    # The expiry stays in the share's own zone.
    expires = re.search(r'<dd data-testid="share-expires">(.*?)</dd>', page, re.S)[1]
    assert "Sunday 2026-12-13 23:59:59 AEDT" in expires and "JST" not in expires


def test_the_claims_list_the_audit_page_and_a_customer_page_use_the_zone(
    app, client, history_share
):
    assert choose(client, "Asia/Tokyo").status_code == 302
    for path in ("/claims", "/profiles/cust-3"):
        page = text(client.get(path))
        assert "Claimed (Asia/Tokyo)" in page, path
        assert (
            '<time datetime="2026-11-29T00:00:00Z" title="UTC: 2026-11-29T00:00:00Z">'
            "2026-11-29 09:00:00 JST</time>"
        ) in page, path
    audit = text(client.get("/admin/audit"))
    assert "When (Asia/Tokyo)" in audit and " JST</time>" in audit
    listing = text(client.get("/shares"))
    assert "2026-11-29 08:00:00 JST</time>" in listing


@pytest.mark.parametrize("zone", ["Mars/Olympus", "utc/x", "Asia/Tokyo\x00", "A" * 300])
def test_a_zone_that_is_not_one_is_refused_and_changes_nothing(app, agent, zone):
    email = email_of(agent)
    choose(agent, "Europe/Paris")

    response = choose(agent, zone)

    assert response.status_code == 422
    assert "must be a valid IANA time zone" in text(response)
    assert staff_zone(app, email) == "Europe/Paris"


def test_the_settings_form_needs_its_csrf_token(app, agent):
    email = email_of(agent)
    response = agent.post("/account", data={"timezone": "Asia/Tokyo"})
    assert response.status_code == 400
    assert staff_zone(app, email) is None


def test_the_browser_zone_is_taken_once_and_never_over_a_chosen_one(app, agent):
    email = email_of(agent)
    token = csrf_token(agent)

    sent = agent.post("/account/zone/detected", data={"timezone": "Australia/Perth"},
                      headers={"X-CSRFToken": token})  # fmt: skip
    again = agent.post("/account/zone/detected", data={"timezone": "Europe/Berlin"},
                       headers={"X-CSRFToken": token})  # fmt: skip

    assert (sent.status_code, again.status_code) == (204, 204)
    assert staff_zone(app, email) == "Australia/Perth"
    with app.app_context():
        event = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert (event.action, event.actor) == ("staff", email)
        assert event.changes["timezone"] == [None, "Australia/Perth"]


@pytest.mark.parametrize(
    ("kept", "sent", "zone"),
    [
        (None, "Australia/Perth", "Australia/Perth"),  # a first sign-in: the browser's zone
        (None, "Etc/Unknown", None),  # not a zone: left for the page to ask
        (None, "", None),  # no script ran: the same
        ("Asia/Tokyo", "Australia/Perth", "Asia/Tokyo"),  # a chosen zone stays
    ],
)
def test_the_sign_in_brings_the_browsers_zone_for_the_first_page(
    app, anon_client, kept, sent, zone
):
    email = f"zone-{kept}-{sent}@example.com".lower().replace("/", "-")
    factories.staff(app, email, "viewer")
    with app.app_context():
        db.session.execute(db.update(Staff).where(Staff.email == email).values(timezone=kept))
        db.session.commit()
    page = text(anon_client.get("/sign-in"))
    # static/js/app.js fills it in.
    assert '<input data-browser-zone="" id="zone" name="zone" type="hidden" value="">' in page

    response = anon_client.post(
        "/sign-in",
        data={
            "csrf_token": csrf_in(page),
            "email": email,
            "password": factories.STAFF_PASSWORD,
            "zone": sent,
        },
    )

    assert response.status_code == 302
    assert staff_zone(app, email) == zone
    first = text(anon_client.get(response.headers["Location"]))
    assert f"Time zone: {zone or 'UTC'}</a>" in first
    assert ("data-detect-zone" in first) is (zone is None)


def test_a_browser_zone_we_do_not_know_becomes_utc_so_it_is_asked_once(app, agent):
    email = email_of(agent)
    response = agent.post(
        "/account/zone/detected",
        data={"timezone": "Etc/Unknown"},
        headers={"X-CSRFToken": csrf_token(agent)},
    )
    assert response.status_code == 204
    assert staff_zone(app, email) == "UTC"
    assert "data-detect-zone" not in text(agent.get("/shares"))


def test_the_detected_zone_needs_a_csrf_token(app, agent):
    email = email_of(agent)
    response = agent.post("/account/zone/detected", data={"timezone": "Asia/Tokyo"})
    assert response.status_code == 400
    assert staff_zone(app, email) is None


# --- "just now" --------------------------------------------------------------------------------


def test_an_instant_of_the_current_second_is_just_now_not_the_future():
    stored = datetime(2026, 11, 29, 10, 0, 0, tzinfo=UTC)
    assert relative_time(stored, stored + timedelta(microseconds=400_000)) == "just now"
    assert relative_time(stored, stored) == "just now"
    assert relative_time(stored, stored + timedelta(seconds=59)) == "just now"
    assert relative_time(stored, stored + timedelta(seconds=61)) == "1 minute ago"
    assert relative_time(stored + timedelta(seconds=30), stored) == "in less than a minute"
    assert relative_time(stored + timedelta(days=2, hours=1), stored) == "in 2 days"


def test_a_share_created_this_second_reads_just_now_in_the_list(app, client_as):
    with time_machine.travel(datetime(2026, 11, 29, 10, 0, 0, 400_000, tzinfo=UTC), tick=False):
        client = client_as("viewer")
        factories.share(app)
        page = text(client.get("/shares"))
    assert "<small>just now</small>" in page
    assert "in less than a minute" not in page


def test_a_stored_zone_this_machine_no_longer_knows_reads_as_utc(app, agent):
    email = email_of(agent)
    with app.app_context():
        member = db.session.scalar(db.select(Staff).where(Staff.email == email))
        member.timezone = "Atlantis/Capital"  # a zone since dropped from the time zone data
        db.session.commit()

    response = agent.get("/claims")

    assert response.status_code == 200
    assert ">Time zone: UTC</a>" in text(response)


def test_a_share_expiry_names_its_zone_once():
    instant = datetime(2026, 12, 13, 12, 59, 59, tzinfo=UTC)
    assert str(when(instant, "UTC")) == (
        '<time datetime="2026-12-13T12:59:59Z" title="UTC: 2026-12-13T12:59:59Z">'
        "2026-12-13 12:59:59 UTC</time>"
    )
    assert str(when(instant, "Australia/Melbourne")).endswith(
        '2026-12-13 23:59:59 AEDT <span class="zone">Australia/Melbourne</span></time>'
    )
