"""Support staff can do the whole job with the keyboard alone."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect


def tab_to(page: Page, target: Locator, limit: int = 80) -> None:
    """Press Tab until ``target`` has focus; fail if it never does (unreachable by keyboard)."""
    for _ in range(limit):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{target} never received focus by Tab")


def test_create_find_edit_and_claim_with_the_keyboard_only(page: Page):
    page.goto("/shares")

    # Create.
    tab_to(page, page.get_by_role("link", name="New share").first)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/shares/new$"))
    tab_to(page, page.get_by_label("Profile ID"))
    page.keyboard.type("kbd-customer")
    page.keyboard.press("Tab")
    page.keyboard.type("Reward")  # type-ahead in the focused dropdown
    expect(page.get_by_label("Source type")).to_have_value("reward")
    page.keyboard.press("Tab")
    page.keyboard.type("77")
    page.keyboard.press("Tab")
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("Europe/Paris")
    expect(page.get_by_label("Time zone")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.type("2")
    page.keyboard.press("Tab")
    page.keyboard.type("Weeks")
    expect(page.get_by_label("Period type")).to_have_value("weeks")
    expect(page.locator("#expiry-preview")).to_contain_text("2 weeks after")
    expect(page.locator("#expiry-preview")).to_contain_text("Europe/Paris")
    tab_to(page, page.get_by_label("Code"))
    page.keyboard.type("KEYS")
    tab_to(page, page.get_by_role("button", name="Create share"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("created for profile kbd-customer")
    handle = page.get_by_label("Handle").input_value()

    # Find: "/" jumps to the search box on the list.
    tab_to(page, page.get_by_role("link", name="Shares", exact=True))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Shares")).to_be_visible()
    # The "/" shortcut lives in a deferred script: the heading can show before it has run.
    page.wait_for_load_state("domcontentloaded")
    page.keyboard.press("/")
    expect(page.get_by_label("Search")).to_be_focused()
    page.keyboard.type(handle[:8])
    expect(page.locator("#results tbody tr")).to_have_count(1)
    link = page.locator("#results tbody tr").first.locator("a:has(code)")  # the row's handle
    tab_to(page, link)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/shares/\d+$"))

    # Edit.
    tab_to(page, page.get_by_role("link", name="Edit"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_label("Period", exact=True))
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("3")
    expect(page.locator("#expiry-preview")).to_contain_text("3 weeks after")
    tab_to(page, page.get_by_role("button", name="Save changes"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text(f"Share {handle} updated.")

    # Claim.
    tab_to(page, page.get_by_label("Claimer profile ID"))
    page.keyboard.type("kbd-claimer")
    page.keyboard.press("Tab")
    page.keyboard.type("KEYS")
    tab_to(page, page.get_by_role("button", name="Claim share"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("claimed by profile kbd-claimer")
    expect(page.get_by_test_id("claims-left")).to_have_text("0")
