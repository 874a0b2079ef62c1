"""Support staff find, edit, claim and delete shares in a real browser."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests import factories


def rows(page: Page):
    return page.locator("#results tbody tr")


def test_search_narrows_the_list_as_you_type(page: Page, make_share):
    make_share(profile_id="alice-1", code="SUMMER")
    make_share(profile_id="alice-2", code="WINTER")
    make_share(profile_id="bob-1", code="SPRING")
    page.goto("/shares")
    expect(rows(page)).to_have_count(3)

    page.get_by_label("Search").press_sequentially("ali", delay=50)
    expect(rows(page)).to_have_count(2)
    expect(page).to_have_url(re.compile(r"filter%5Bsearch%5D=ali"))
    page.get_by_label("Search").press_sequentially("ce-2", delay=50)
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("WINTER")
    # Search is case-sensitive and matches codes too.
    page.get_by_label("Search").fill("SP")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("bob-1")
    page.get_by_label("Search").fill("nobody")
    expect(page.locator("#results")).to_contain_text("No shares match these filters.")


def test_filter_then_back_restores_the_previous_view(page: Page, make_share):
    make_share(profile_id="live-1")
    make_share(profile_id="used-1", remaining_quantity=0)
    page.goto("/shares")
    expect(rows(page)).to_have_count(2)

    page.get_by_label("Status").select_option("exhausted")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("used-1")
    expect(rows(page).first).to_contain_text("Exhausted")
    expect(page).to_have_url(re.compile(r"filter%5Bstatus%5D=exhausted"))

    page.go_back()
    expect(page).to_have_url(re.compile(r"/shares$"))
    expect(rows(page)).to_have_count(2)
    expect(page.get_by_label("Status")).to_have_value("")

    page.go_forward()
    expect(rows(page)).to_have_count(1)
    expect(page.get_by_label("Status")).to_have_value("exhausted")

    # The bookmarked URL shows the same view on its own.
    page.goto(page.url)
    expect(rows(page)).to_have_count(1)


def test_sorting_and_csv_export_keep_the_filters(page: Page, make_share):
    make_share(profile_id="sort-a", remaining_quantity=0)
    make_share(profile_id="sort-b", remaining_quantity=1)
    make_share(profile_id="other", remaining_quantity=1)
    page.goto("/shares?filter%5Bsearch%5D=sort-")
    page.get_by_role("link", name="Claims left").click()
    expect(page).to_have_url(re.compile(r"sort=remaining_quantity"))
    expect(rows(page).first).to_contain_text("sort-a")
    page.get_by_role("link", name=re.compile("Claims left")).click()
    expect(page).to_have_url(re.compile(r"sort=-remaining_quantity"))
    expect(rows(page).first).to_contain_text("sort-b")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    lines = download_info.value.path().read_text().splitlines()
    assert len(lines) == 3  # header + the two filtered rows
    assert "sort-b" in lines[1] and "sort-a" in lines[2]


def test_edit_shows_the_new_expiry_before_saving(page: Page, make_share, live_app):
    share_id = make_share(timezone="Australia/Melbourne", period=2, period_type="weeks")
    handle = factories.handle_of(live_app, share_id)
    page.goto(f"/shares/{share_id}")
    old = page.get_by_test_id("share-expires").locator("code").inner_text()
    page.get_by_role("link", name="Edit").click()

    preview = page.locator("#expiry-preview")
    expect(preview.get_by_test_id("preview-utc")).to_have_text(old)
    page.get_by_label("Period", exact=True).fill("3")
    expect(preview.get_by_test_id("preview-utc")).not_to_have_text(old)
    previewed = preview.get_by_test_id("preview-utc").inner_text()
    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_role("status")).to_contain_text(f"Share {handle} updated.")
    expect(page.get_by_test_id("share-expires").locator("code")).to_have_text(previewed)


def test_claim_reduces_claims_left_and_is_listed(page: Page, make_share):
    share_id = make_share(code="OPEN-SESAME", is_cloneable=True, remaining_quantity=3)
    page.goto(f"/shares/{share_id}")
    expect(page.get_by_test_id("claims-left")).to_have_text("3")
    page.get_by_label("Claimer profile ID").fill("claimer-7")
    page.get_by_label("Code").fill("OPEN-SESAME")
    page.get_by_role("button", name="Claim share").click()

    expect(page.get_by_role("status")).to_contain_text("claimed by profile claimer-7")
    expect(page.get_by_test_id("claims-left")).to_have_text("2")
    expect(page.locator("table.claims tbody tr")).to_have_count(1)
    expect(page.locator("table.claims")).to_contain_text("claimer-7")


def test_wrong_code_shows_the_error(page: Page, make_share, console_errors):
    console_errors.expect_status(422)
    share_id = make_share(code="RIGHT")
    page.goto(f"/shares/{share_id}")
    page.get_by_label("Claimer profile ID").fill("claimer-8")
    page.get_by_label("Code").fill("WRONG")
    page.get_by_role("button", name="Claim share").click()

    expect(page.locator("#code-error")).to_have_text("The code is wrong: give the share's code.")
    expect(page.get_by_label("Code")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("claims-left")).to_have_text("1")
    expect(page.get_by_text("No claims yet.")).to_be_visible()


def test_delete_asks_then_removes_the_row(page: Page, make_share, live_app):
    make_share(profile_id="keeper")
    share_id = make_share(profile_id="goner")
    handle = factories.handle_of(live_app, share_id)
    page.goto(f"/shares/{share_id}")
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading")).to_contain_text(f"Delete share {handle}?")
    page.get_by_role("button", name="Delete share").click()

    expect(page).to_have_url(re.compile(r"/shares$"))
    flash = page.get_by_role("status").first
    expect(flash).to_contain_text(f"Share {handle} of profile goner deleted.")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("keeper")
