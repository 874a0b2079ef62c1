"""A support person creates a share in a real browser."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect


def test_create_share_with_dropdowns_and_live_preview(page: Page):
    page.goto("/shares")
    page.get_by_role("link", name="Create the first share").click()
    expect(page).to_have_url(re.compile(r"/shares/new$"))

    page.get_by_label("Profile ID").fill("cust-e2e-1")
    page.get_by_label("Source type").select_option("reward")
    page.get_by_label("Source ID").fill("42")
    page.get_by_label("Time zone").fill("Australia/Melbourne")
    page.get_by_label("Period type").select_option("weeks")

    preview = page.locator("#expiry-preview")
    # Weeks without a period: the preview says what is missing.
    expect(preview).to_contain_text("The period field is required when the period type is weeks")

    page.get_by_label("Period", exact=True).fill("2")
    expect(preview.get_by_test_id("preview-utc")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\dT"))
    first = preview.get_by_test_id("preview-utc").inner_text()
    expect(preview).to_contain_text("Australia/Melbourne")
    expect(preview).to_contain_text("23:59:59")

    # Changing the period moves the expiry a week further before anything is saved.
    page.get_by_label("Period", exact=True).fill("3")
    expect(preview.get_by_test_id("preview-utc")).not_to_have_text(first)
    expect(preview).to_contain_text("in 2")  # "in 2 weeks" worth of days, relative text

    page.get_by_label("Code").fill("SECRET-1")
    page.get_by_label("Meta").fill("first\nsecond")
    page.get_by_role("button", name="Create share").click()

    expect(page).to_have_url(re.compile(r"/shares/\d+$"))
    expect(page.get_by_role("status")).to_contain_text("created for profile cust-e2e-1")
    expect(page.locator("dl.fields")).to_contain_text("SECRET-1")
    expect(page.locator("dl.fields")).to_contain_text("Reward")

    page.get_by_role("link", name="All shares").click()
    row = page.get_by_role("row", name=re.compile("cust-e2e-1"))
    expect(row).to_contain_text("Reward #42")
    expect(row).to_contain_text("SECRET-1")


def test_empty_required_fields_show_inline_errors(page: Page, console_errors):
    # The form comes back with 422, which Chromium logs; that one entry is expected, no other.
    console_errors.expect_status(422)
    page.goto("/shares/new")
    page.get_by_label("Source ID").fill("7")
    page.get_by_role("button", name="Create share").click()

    expect(page.get_by_role("alert")).to_contain_text("The share was not saved")
    profile = page.get_by_label("Profile ID")
    expect(profile).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#profile_id-error")).to_have_text("The profile id field is required.")
    expect(page.locator("#source_type-error")).to_have_text("The source type field is required.")
    # What the user typed is kept.
    expect(page.get_by_label("Source ID")).to_have_value("7")
