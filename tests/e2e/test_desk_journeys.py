"""A desk people enjoy (issue 19), as a person uses it: the home page's numbers and where they
lead, copying values, one's own time zone, a failed or slow htmx request, and the interactive
API reference under the page's CSP."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.contract import bearer
from tests.factories import STAFF_PASSWORD
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.models import Share, Staff


@pytest.fixture
def api_token(live_app) -> str:
    return factories.token(live_app, f"e2e-{secrets.token_hex(4)}", "viewer")


@pytest.fixture
def clipboard(page: Page, base_url):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    return lambda: page.evaluate("navigator.clipboard.readText()")


def test_the_home_page_numbers_match_the_api_and_expiring_leads_to_exactly_those(
    page: Page, make_share, api_token
):
    now = utcnow()
    soon = [
        make_share(profile_id="soon-1", expires_at=now + timedelta(days=1)),
        make_share(profile_id="soon-2", expires_at=now + timedelta(days=6), remaining_quantity=0),
    ]
    make_share(profile_id="later-1", expires_at=now + timedelta(days=9))
    make_share(profile_id="gone-1", expires_at=now - timedelta(days=1))
    make_share(profile_id="used-1", remaining_quantity=0)
    make_share(profile_id="never-1")

    page.goto("/")
    expect(page.get_by_role("heading", name="What is happening")).to_be_visible()
    headers = bearer(api_token)
    for test_id, query in (
        ("total", {}),
        ("status-active", {"filter[status]": "active"}),
        ("status-expired", {"filter[status]": "expired"}),
        ("status-exhausted", {"filter[status]": "exhausted"}),
    ):
        answer = page.request.get("/api/v3/shares", params=query, headers=headers).json()
        shown = page.get_by_test_id(test_id).locator(".tile-number")
        expect(shown).to_have_text(str(answer["meta"]["total"]))
    expect(page.get_by_test_id("total").locator(".tile-number")).to_have_text("6")
    expect(page.get_by_test_id("expiring").locator(".tile-number")).to_have_text("2")

    page.get_by_test_id("expiring").click()

    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(2)
    links = rows.locator("a:has(code)")  # each row's handle, linked to its share
    assert sorted(links.evaluate_all("els => els.map(a => a.getAttribute('href'))")) == sorted(
        f"/shares/{share_id}" for share_id in soon
    )
    expect(page.get_by_label("Expires from")).to_have_value(re.compile(r"Z$"))


def test_each_copy_button_copies_its_value_and_keeps_its_label(
    page: Page, make_share, live_app, share_links, clipboard
):
    share_id = make_share(profile_id="copy-1", code="WELCOME-7")
    handle = factories.handle_of(live_app, share_id)
    page.goto(f"/shares/{share_id}")

    for what, label, value in (
        ("Handle", "Copy handle", handle),
        ("Code", "Copy code", "WELCOME-7"),
        ("ID", "Copy ID", str(share_id)),
        ("Link", "Copy link", share_links.format(handle=handle)),
    ):
        button = page.locator(f'button[data-copy-what="{what}"]')
        expect(button).to_have_text(label)
        button.click()
        expect(button).to_have_text("Copied")
        assert clipboard() == value, label
        expect(button).to_have_text(label)  # back to its own label (after 2 s), not another's
        expect(page.locator("#announcer")).to_have_text(f"{what} copied.")

    # In the list, each row's copy menu.
    page.goto("/shares")
    row = page.locator("#results tbody tr").first
    row.locator("summary", has_text="Copy").click()
    for what, value in (("Code", "WELCOME-7"), ("Handle", handle), ("ID", str(share_id)),
                        ("Link", share_links.format(handle=handle))):  # fmt: skip
        button = row.locator(f'button[data-copy-what="{what}"]')
        expect(button).to_have_text(what)
        button.click()
        expect(button).to_have_text("Copied")
        assert clipboard() == value, what
        expect(button).to_have_text(what)


def test_the_token_copy_button_is_still_copy_token_after_copying(page: Page, clipboard):
    page.goto("/admin/tokens")
    page.get_by_label("Name").fill(f"copy-me-{secrets.token_hex(3)}")
    # The token page is the answer to a POST, not a goto: wait for its deferred script, or the
    # click below can land before the copy handler is there and do nothing.
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Create token").click()
    token = page.locator("#new-token").input_value()
    button = page.locator('button[data-copy-target="new-token"]')
    expect(button).to_have_text("Copy token")

    button.click()

    expect(button).to_have_text("Copied")
    assert clipboard() == token
    expect(button).to_have_text("Copy token", timeout=5000)  # not "Copy handle"


def test_changing_the_display_zone_changes_history(page: Page, make_share, live_app):
    share_id = make_share(profile_id="zone-1", timezone="Australia/Melbourne", period=3,
                          period_type="days")  # fmt: skip
    with live_app.app_context():
        created = db.session.get(Share, share_id).created_at
    page.goto(f"/shares/{share_id}")
    first = page.locator("table.audit tbody tr").first.locator("time")
    expires_before = page.get_by_test_id("share-expires").inner_text()

    page.get_by_role("link", name=re.compile("^Time zone:")).click()
    page.get_by_label("Display time zone").fill("Asia/Kolkata")
    page.get_by_role("button", name="Save time zone").click()
    expect(page.locator(".flash")).to_contain_text("Times now show in Asia/Kolkata")
    page.goto(f"/shares/{share_id}")

    india = created + timedelta(hours=5, minutes=30)
    expect(first).to_have_text(india.strftime("%Y-%m-%d %H:%M:%S IST"))
    expect(first).to_have_attribute("title", f"UTC: {created:%Y-%m-%dT%H:%M:%SZ}")
    expect(page.locator("table.audit thead")).to_contain_text("When (Asia/Kolkata)")
    # The expiry still reads in the share's own zone.
    expect(page.get_by_test_id("share-expires")).to_have_text(expires_before)
    page.goto("/account")
    page.get_by_label("Display time zone").fill("UTC")
    page.get_by_role("button", name="Save time zone").click()
    expect(page.get_by_role("link", name="Time zone: UTC")).to_be_visible()


def test_a_new_person_gets_their_browsers_zone_once(browser, base_url, live_app):
    email = f"zone-{secrets.token_hex(3)}@example.com"
    factories.staff(live_app, email, "viewer")

    def zone() -> str | None:
        with live_app.app_context():
            return db.session.scalar(db.select(Staff.timezone).where(Staff.email == email))

    for browser_zone in ("Australia/Perth", "Europe/Berlin"):
        context = browser.new_context(base_url=base_url, timezone_id=browser_zone)
        page = context.new_page()
        page.goto("/sign-in")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(STAFF_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="What is happening")).to_be_visible()
        # The sign-in brought it: the very first page reads in it. Taken once: the second
        # browser's zone does not replace the first.
        expect(page.get_by_role("link", name="Time zone: Australia/Perth")).to_be_visible()
        assert zone() == "Australia/Perth"
        context.close()


def test_a_503_during_the_preview_says_so_and_retry_works(page: Page, console_errors):
    failing = {"on": False}

    def preview(route):
        if failing["on"]:
            route.fulfill(status=503, headers={"Retry-After": "5"}, body="busy")
        else:
            route.continue_()

    page.route("**/shares/preview", preview)
    page.goto("/shares/new")
    page.get_by_label("Time zone").fill("UTC")
    page.get_by_label("Period", exact=True).fill("1")
    # Only the request sent after the last keystroke can say "Expires": once it shows, no
    # preview is on its way, and the one below is the only one that fails (one 503, one log).
    shown = page.get_by_test_id("preview-utc")
    expect(shown).to_be_visible()
    before = shown.text_content()

    failing["on"] = True
    console_errors.expect_status(503)
    console_errors.expect("Response Status Error Code 503 from /shares/preview")
    with page.expect_response("**/shares/preview") as refused:
        page.get_by_label("Period", exact=True).fill("2")

    assert refused.value.status == 503
    problem = page.get_by_role("alert").filter(has_text="could not be updated")
    expect(problem).to_contain_text("the server answered 503 Service Unavailable")
    expect(problem).to_contain_text("busy or its database is out of reach")
    expect(problem).to_contain_text("Try again in 5 seconds.")
    expect(shown).to_have_text(before)  # nothing swapped
    failing["on"] = False
    with page.expect_response("**/shares/preview") as retried:
        page.get_by_role("button", name="Retry").click()

    assert retried.value.status == 200
    expect(shown).not_to_have_text(before)  # the 2-day expiry, not the 1-day one
    expect(page.locator("#request-problem")).to_be_empty()
    expect(page.locator("#request-problem")).to_be_hidden()


def test_a_slow_request_shows_loading_until_it_answers(page: Page, make_share):
    make_share(profile_id="slow-1")
    held = []
    page.route("**/shares/results*", lambda route: held.append(route))
    page.goto("/shares")
    loading = page.locator("#loading")
    expect(loading).to_be_hidden()

    page.get_by_label("Status").select_option("active")

    expect(loading).to_be_visible()
    expect(loading).to_have_text(re.compile("Loading"))
    expect(page.locator("#results")).to_have_attribute("aria-busy", "true")
    held[0].continue_()
    expect(loading).to_be_hidden()
    expect(page.locator("#results")).not_to_have_attribute("aria-busy", "true")


def test_the_interactive_reference_loads_and_tries_a_call_within_its_csp(
    page: Page, api_token, make_share
):
    make_share(profile_id="tried-1")
    page.add_init_script(
        "window.cspViolations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " e => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    response = page.goto("/docs/api")
    strict = response.headers["content-security-policy"]
    page.get_by_role("link", name="Open the interactive reference").click()
    # 1.7 MB of viewer to parse: on a busy machine that can take a while.
    expect(page.locator(".opblock").first).to_be_visible(timeout=30_000)
    assert page.evaluate("document.querySelector('meta[name=csrf-token]') !== null")
    # The viewer draws a <main> of its own: one landmark all the same, the page's.
    expect(page.locator("#swagger-ui main")).to_have_count(1)
    expect(page.get_by_role("main")).to_have_count(1)

    page.get_by_role("button", name="Authorize").first.click()
    page.locator(".modal-ux input").fill(api_token)
    page.locator(".modal-ux button.authorize").click()
    page.locator(".modal-ux button.btn-done").click()
    page.locator("#operations-default-listShares .opblock-summary-control").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()

    answer = page.locator(".live-responses-table .response-col_status").nth(1)
    expect(answer).to_have_text("200")
    expect(page.locator(".live-responses-table")).to_contain_text("tried-1")
    assert page.evaluate("window.cspViolations") == []
    reference = page.request.get("/docs/api/reference")
    assert reference.headers["content-security-policy"] == strict
