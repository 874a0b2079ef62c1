"""The questions support staff are asked every day, answered from the pages alone (issue 15):
whose claim is this, why can't this customer claim, stop this code now, what expires this week;
and a double click that never makes two of anything."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests import factories
from webapp.clock import utcnow

AXE = Axe()


def assert_accessible(page: Page) -> None:
    results = AXE.run(page)
    assert results.violations_count == 0, results.generate_report()


def test_did_customer_x_claim_the_reward_their_friend_sent(page: Page, live_app, make_share):
    friend = make_share(profile_id="friend-1", code="GIFT", is_cloneable=True, remaining_quantity=3)
    other = make_share(profile_id="someone-else", code="X")
    factories.claim(live_app, friend, "cust-42")
    factories.claim(live_app, other, "cust-7")

    page.goto("/claims")
    expect(page.locator("#results tbody tr")).to_have_count(2)
    page.get_by_label("Claimer").fill("cust-42")
    page.get_by_label("Claimer").press("Enter")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("friend-1")
    assert_accessible(page)

    # From the claim to the share it claimed, and to the customer's whole story.
    rows.first.get_by_role("link", name=factories.handle_of(live_app, friend)).click()
    expect(page).to_have_url(re.compile(rf"/shares/{friend}$"))
    page.locator("table.claims").get_by_role("link", name="cust-42").click()
    expect(page.get_by_role("heading", name="Customer cust-42")).to_be_visible()
    expect(page.locator("table.claims tbody tr")).to_have_count(1)
    expect(page.locator("table.claims tbody tr").first).to_contain_text("friend-1")
    assert_accessible(page)


def test_why_cant_this_customer_claim_it(page: Page, live_app, make_share):
    share_id = make_share(profile_id="owner-9", code="RIGHT", remaining_quantity=0)
    page.goto(f"/shares/{share_id}")

    page.get_by_label("Customer's profile ID").fill("owner-9")
    page.get_by_label("Secret they give").fill("WRONG")
    page.get_by_role("button", name="Check", exact=True).click()

    answer = page.locator("#claim-check-result")
    expect(answer).to_contain_text("This claim would be refused: no claims left; wrong code;")
    expect(answer).to_contain_text("the owner cannot claim their own share.")
    # Asking changed nothing.
    expect(page.get_by_test_id("claims-left")).to_have_text("0")
    assert factories.claim_rows(live_app) == []

    factories.share(live_app)  # unrelated: the check reads only this share
    page.get_by_label("Customer's profile ID").fill("cust-1")
    page.get_by_label("Secret they give").fill("RIGHT")
    page.get_by_role("button", name="Check", exact=True).click()
    expect(answer).to_contain_text("no claims left.")
    expect(answer).not_to_contain_text("wrong code")
    assert_accessible(page)


def test_this_code_leaked_stop_it_now_then_give_it_a_week(page: Page, live_app, make_share):
    share_id = make_share(code="LEAKED", period=30, period_type="days", timezone="UTC")
    page.goto(f"/shares/{share_id}")

    page.get_by_role("link", name="Expire now").click()
    expect(page.get_by_role("heading", name=re.compile("now?"))).to_be_visible()
    expect(page.locator("main")).to_contain_text("every claim is refused as expired")
    assert_accessible(page)
    page.get_by_role("button", name="Expire now").click()

    expect(page.get_by_role("status").first).to_contain_text("no claim succeeds from now on")
    expect(page.locator("h1 .badge")).to_have_text("Expired")
    history = page.locator("table.audit tbody tr")
    expect(history.first).to_contain_text("expire")
    expect(page.get_by_role("link", name="Expire now")).to_have_count(0)

    page.get_by_role("button", name="Extend by 7 days").click()
    expect(page.get_by_role("status").first).to_contain_text("now expires on")
    expect(page.locator("h1 .badge")).to_have_text("Active")
    expect(history.first).to_contain_text("edit")


def test_what_expires_this_week(page: Page, live_app, make_share):
    now = utcnow()
    soon = make_share(profile_id="soon-1", expires_at=now + timedelta(days=2))
    make_share(profile_id="later-1", expires_at=now + timedelta(days=20))
    make_share(profile_id="never-1")
    page.goto("/shares")
    expect(page.locator("#results tbody tr")).to_have_count(3)

    page.get_by_role("link", name="Expiring in the next 7 days").click()

    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("soon-1")
    expect(rows.first.locator("a:has(code)")).to_have_attribute("href", f"/shares/{soon}")
    # The range it set shows, in the filters it belongs to.
    expect(page.locator("details.more-filters")).to_have_attribute("open", "")
    expect(page.get_by_label("Expires from")).to_have_value(re.compile(r"Z$"))
    assert_accessible(page)


def test_a_double_click_on_create_share_makes_one_share(page: Page, live_app):
    page.goto("/shares/new")
    page.get_by_label("Profile ID").fill("double-1")
    page.get_by_label("Source type").select_option("reward")
    page.get_by_label("Source ID").fill("9")

    page.get_by_role("button", name="Create share").dblclick()

    expect(page.get_by_role("status").first).to_contain_text("created for profile double-1")
    assert [share.profile_id for share in factories.stored_shares(live_app)] == ["double-1"]


def test_a_double_click_on_claim_share_claims_once(page: Page, live_app, make_share):
    share_id = make_share(code="TWICE", is_cloneable=True, remaining_quantity=5)
    page.goto(f"/shares/{share_id}")
    page.get_by_label("Claimer profile ID").fill("cust-double")
    page.get_by_label("Code", exact=True).fill("TWICE")

    page.get_by_role("button", name="Claim share").dblclick()

    expect(page.get_by_role("status").first).to_contain_text("claimed by profile cust-double")
    expect(page.get_by_test_id("claims-left")).to_have_text("4")
    expect(page.locator("table.claims tbody tr")).to_have_count(1)
    assert len(factories.claim_rows(live_app)) == 1


@pytest.mark.parametrize(
    "path, field, value",
    [("/shares", "Search", "enter-1"), ("/claims", "Claimer", "enter-1")],
)
def test_enter_in_a_filter_asks_for_the_results_once(
    page: Page, live_app, make_share, path, field, value
):
    """Enter in a text field fires change and submit; the list asked twice, and the second, late
    answer replaced the results again, unticking what was ticked on the first (a flaky e2e test
    saw "select all" undone that way)."""
    factories.claim(live_app, make_share(profile_id=value), value)
    make_share(profile_id="someone-else")
    page.goto(path)
    page.evaluate(
        """() => { window.triggered = 0;
                  document.querySelector("form[role=search]")
                    .addEventListener("htmx:trigger", () => { window.triggered += 1; }); }"""
    )
    box = page.get_by_label(field, exact=True)
    with page.expect_response(re.compile(r"/results\?")):
        box.fill(value)  # typing asks by itself, 300 ms after the last key
    page.evaluate("window.triggered = 0")
    with page.expect_response(re.compile(r"/results\?")) as answered:
        box.press("Enter")

    assert answered.value.status == 200
    expect(page.locator("#results tbody tr")).to_have_count(1)
    # Both of Enter's events came before the request they caused: one request for one Enter.
    assert page.evaluate("window.triggered") == 1
