"""Work in bulk in a real browser (issue 16, "Done when"): a CSV import with two bad rows, fixed
and confirmed, then refused the second time; a filtered "select all matching" expire with its
progress; and a viewer, who is offered none of it."""

from __future__ import annotations

import re
import threading

import pytest
from playwright.sync_api import Page, expect

from tests import bulk, factories
from tests.bulk import csv_file, vip_rows
from tests.factories import STAFF_PASSWORD
from webapp import jobs
from webapp.clock import utcnow


def choose_file(page: Page, data: bytes, name: str = "vip.csv") -> None:
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": data}]
    )
    page.get_by_role("button", name="Check the file").click()


def test_import_two_bad_rows_then_the_fixed_file_once(page: Page, live_app, console_errors):
    rows = vip_rows(6)
    rows[1]["source_id"] = "x"
    rows[4]["source_type"] = "nope"
    page.goto("/shares")
    page.get_by_role("link", name="Import CSV").click()
    expect(page.get_by_role("heading", name="Import shares from a CSV file")).to_be_visible()

    console_errors.expect_status(422)
    choose_file(page, csv_file(*rows))

    expect(page.get_by_role("status").first).to_have_text("4 valid, 2 with errors")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Row 3, source_id: The source id field must be an integer.")
    expect(alert).to_contain_text("Row 6, source_type: The selected source type is invalid.")
    expect(page.locator("#row-3")).to_contain_text("The source id field must be an integer.")
    expect(page.get_by_role("button", name=re.compile("^Create"))).to_have_count(0)
    assert factories.share_count(live_app) == 0

    fixed = csv_file(*vip_rows(6))
    page.get_by_role("link", name="Upload the corrected file").click()
    choose_file(page, fixed)
    expect(page.get_by_role("status").first).to_have_text("6 valid, 0 with errors")
    expect(page.locator("#row-2")).to_contain_text("AEDT")
    assert factories.share_count(live_app) == 0
    page.get_by_role("button", name="Create 6 shares").click()

    expect(page.get_by_role("status").first).to_have_text("6 shares created from vip.csv.")
    stored = factories.stored_shares(live_app)
    assert [share.profile_id for share in stored] == [f"vip-{n}" for n in range(1, 7)]
    assert [share_id for share_id, _ in bulk.events_of(live_app, "create")] == [
        share.id for share in stored
    ]
    page.get_by_role("link", name="See the shares").click()
    expect(page.locator("#results tbody tr")).to_have_count(6)

    console_errors.expect_status(409)
    page.goto("/shares/import")
    choose_file(page, fixed, "vip-again.csv")
    expect(page.get_by_role("alert")).to_contain_text("This file was imported already")
    expect(page.get_by_role("alert")).to_contain_text(f"ids {stored[0].id}–{stored[-1].id}")
    assert factories.share_count(live_app) == 6


@pytest.fixture
def held_after_first_chunk(live_app, monkeypatch):
    """Bulk jobs in chunks of 5, whose background chunks wait (before their transaction) until
    the test lets them go: the progress page is seen part-way, whatever the machine's speed."""
    monkeypatch.setitem(live_app.config, "BULK_CHUNK_SIZE", 5)
    go = threading.Event()
    real = jobs.run_chunk

    def run_chunk(job_id, runner):
        if threading.current_thread().name.startswith("bulk-job-"):
            assert go.wait(timeout=30), "the test never let the job go on"
        return real(job_id, runner)

    monkeypatch.setattr(jobs, "run_chunk", run_chunk)
    yield go
    go.set()


def test_filter_select_all_matching_expire_with_progress(
    page: Page, live_app, make_share, held_after_first_chunk
):
    leaked = factories.shares(
        live_app, *({"profile_id": f"leak-{n}", "code": "LEAK"} for n in range(30))
    )
    others = factories.shares(
        live_app, *({"profile_id": f"safe-{n}", "code": "SAFE"} for n in range(3))
    )
    untouched = [factories.share_row(live_app, share_id) for share_id in others]
    page.goto("/shares")
    page.get_by_text("More filters").click()
    page.get_by_label("Code").fill("LEAK")
    page.get_by_label("Code").press("Enter")
    expect(page.locator("#results tbody tr")).to_have_count(25)  # a page of 30

    page.get_by_label("Select all 30 shares matching these filters").check()
    page.get_by_role("button", name="Expire now…").click()

    expect(page.get_by_role("heading", name="Expire 30 shares now?")).to_be_visible()
    expect(page.locator("main")).to_contain_text("these filters: Code: LEAK (30 now)")
    page.get_by_role("button", name="Expire 30 shares now").click()

    # The first chunk is done in the request; the rest waits, with its progress on show.
    expect(page.get_by_test_id("job-count")).to_have_text("5 of 30 done")
    # What it says of the job is now, not a count from when it started that would go stale.
    expect(page.get_by_role("status")).to_have_text(
        "Bulk expire of 30 shares under way: see its progress."
    )
    expect(page.get_by_label("Progress")).to_have_attribute("value", "5")
    expect(page.locator("main")).to_contain_text("You may leave this page")
    job_page = page.url

    page.get_by_role("link", name="Back to the list").click()
    expect(page.locator("main")).to_contain_text("Bulk expire of 30 shares")
    held_after_first_chunk.set()
    page.get_by_role("link", name="See its progress").click()
    expect(page).to_have_url(job_page)
    expect(page.get_by_test_id("job-summary")).to_have_text("Done: 30 of 30 shares expired.")

    now = utcnow()
    assert all(factories.share_row(live_app, i)["expires_at"] <= now for i in leaked)
    assert [factories.share_row(live_app, i) for i in others] == untouched
    assert sorted(share_id for share_id, _ in bulk.events_of(live_app, "expire")) == leaked


def test_a_viewer_is_offered_no_bulk_work(browser, base_url, live_app, make_share, console_errors):
    make_share(profile_id="seen-1")
    factories.staff(live_app, "bulk-viewer@example.com", "viewer")
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    page.on(
        "console", lambda msg: console_errors.seen.append(msg.text) if msg.type == "error" else None
    )
    page.goto("/shares")
    page.get_by_label("Email").fill("bulk-viewer@example.com")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.get_by_role("checkbox")).to_have_count(0)
    expect(page.get_by_role("button", name="Expire now…")).to_have_count(0)
    expect(page.get_by_role("link", name="Import")).to_have_count(0)
    expect(page.get_by_role("link", name="Import CSV")).to_have_count(0)

    console_errors.expect_status(403)
    page.goto("/shares/bulk/expire?all=1")
    expect(page.get_by_role("heading")).to_contain_text("403")
    console_errors.expect_status(403)
    page.goto("/shares/import")
    expect(page.get_by_role("heading")).to_contain_text("403")
    assert (
        factories.share_row(live_app, factories.stored_shares(live_app)[0].id)["expires_at"] is None
    )
    context.close()


def test_a_running_jobs_progress_is_polled_without_dimming_the_page(
    page: Page, live_app, make_share
):
    """The progress asks for itself every second: nothing the person waits for, so its part of
    the page is not marked busy (dimmed, its grey help text below the contrast rule) meanwhile."""
    job = factories.bulk_job(live_app, "expire", [make_share(profile_id="poll-1")])
    held = []
    page.route("**/progress", lambda route: held.append(route))
    with page.expect_request(re.compile(r"/progress$")):
        page.goto(f"/shares/bulk/jobs/{job}")

    progress = page.locator("#job-progress")
    expect(progress).to_be_visible()
    assert held, "the poll is held while the page is looked at"
    expect(progress).not_to_have_attribute("aria-busy", "true")
    assert page.evaluate("getComputedStyle(document.getElementById('job-progress')).opacity") == "1"
    for route in held:
        route.continue_()
