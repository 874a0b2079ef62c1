"""Stored XSS: hostile text in a share is shown as text on every page, never run."""

from __future__ import annotations

import secrets
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.contract import bearer

PAYLOADS = (
    "<img src=x onerror=alert(1)>",
    "<script>alert(2)</script>",
    '"><svg onload=alert(3)>',
)


@pytest.fixture
def dialogs(page: Page) -> list[str]:
    """Every alert/confirm/prompt the page opens (dismissed, so the test goes on)."""
    seen: list[str] = []

    def record(dialog):
        seen.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    return seen


@pytest.fixture
def hostile(live_app, page: Page, make_share) -> dict[str, int]:
    """One share per payload in profile_id, code and meta; two made through the API.

    The first share is claimed by a hostile profile and edited, so claims and history carry
    the payloads too. Returns share ids by payload.
    """
    token = factories.token(live_app, f"xss-{secrets.token_hex(3)}", "admin")
    headers = bearer(token)
    ids = {}
    for payload in PAYLOADS[:2]:
        body = {
            "profile_id": payload, "source_type": "reward", "source_id": 1, "code": payload,
            "meta": [payload, f"tag:{payload}"], "is_cloneable": True, "remaining_quantity": 5,
        }  # fmt: skip
        response = page.request.post("/api/v3/shares", data=body, headers=headers)
        assert response.status == 201, response.text()
        ids[payload] = response.json()["data"]["id"]
    ids[PAYLOADS[2]] = make_share(
        profile_id=PAYLOADS[2], code=PAYLOADS[2], meta=[PAYLOADS[2], f"tag:{PAYLOADS[2]}"]
    )
    first = ids[PAYLOADS[0]]
    claim = {"profile_id": PAYLOADS[2], "code": PAYLOADS[0], "meta": [PAYLOADS[1]]}
    response = page.request.post(f"/api/v3/shares/{first}/claim", data=claim, headers=headers)
    assert response.status == 201, response.text()
    response = page.request.put(
        f"/api/v3/shares/{first}", data={"meta": list(PAYLOADS)}, headers=headers
    )
    assert response.status == 200, response.text()
    return ids


def assert_inert(page: Page, dialogs: list[str]) -> None:
    """Nothing ran and no hostile element was built (console errors fail the test anyway)."""
    page.wait_for_load_state("networkidle")
    assert dialogs == []
    assert page.locator("main img, main svg, main script, main iframe").count() == 0
    assert page.evaluate("document.querySelectorAll('[onerror], [onload]').length") == 0


def test_the_list_shows_hostile_text_literally(page: Page, hostile, dialogs):
    page.goto("/shares")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(3)
    for payload in PAYLOADS:
        # Profile and code cells hold the payload as text.
        expect(page.locator("#results tbody td").filter(has_text=payload)).to_have_count(2)
        expect(page.get_by_role("cell", name=payload, exact=True)).to_have_count(2)
    assert_inert(page, dialogs)


@pytest.mark.parametrize("which", range(len(PAYLOADS)))
def test_the_detail_page_shows_hostile_text_literally(page: Page, hostile, dialogs, which):
    payload = PAYLOADS[which]
    page.goto(f"/shares/{hostile[payload]}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Share")
    fields = page.locator("dl.fields")
    expect(fields).to_contain_text(payload)
    expect(fields.locator("dd code").filter(has_text=payload)).to_have_text(payload)
    meta = fields.locator("dd li")
    if which == 0:
        # Edited through the API to hold all three; claimed by a hostile profile.
        expect(meta).to_have_text(list(PAYLOADS))
        claims = page.locator("table.claims tbody tr")
        expect(claims).to_have_count(1)
        expect(claims.locator("td").nth(1)).to_have_text(PAYLOADS[2])
        expect(claims.locator("td").nth(4)).to_have_text(PAYLOADS[1])
    else:
        expect(meta).to_have_text([payload, f"tag:{payload}"])
    # The history repeats the hostile values, still as text.
    history = page.locator("table.audit")
    expect(history).to_contain_text(payload)
    assert_inert(page, dialogs)


def test_the_edit_form_keeps_hostile_values_inside_its_fields(page: Page, hostile, dialogs):
    for payload in PAYLOADS:
        page.goto(f"/shares/{hostile[payload]}/edit")
        # '"><svg' must not break out of the value attribute.
        expect(page.get_by_label("Code", exact=True)).to_have_value(payload)
        expect(page.get_by_label("Meta", exact=True)).to_have_value(
            "\n".join(PAYLOADS) if payload == PAYLOADS[0] else f"{payload}\ntag:{payload}"
        )
        assert_inert(page, dialogs)


def test_the_audit_page_shows_hostile_text_literally(page: Page, hostile, dialogs):
    page.goto("/admin/audit")
    table = page.locator("table.audit")
    for payload in PAYLOADS:
        expect(table).to_contain_text(payload)
    assert_inert(page, dialogs)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_hostile_search_is_echoed_as_text(page: Page, hostile, dialogs, payload):
    """The search box echoes the query: reflected XSS through the URL stays inert too."""
    page.goto(f"/shares?filter%5Bsearch%5D={quote(payload)}")
    expect(page.get_by_label("Search")).to_have_value(payload)
    expect(page.locator("#results tbody tr")).not_to_have_count(0)
    expect(page.locator("#results")).to_contain_text(payload)
    assert_inert(page, dialogs)
