"""Every page passes axe-core, and screenshots of the main pages are kept for review."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests import factories
from tests.bulk import csv_file, vip_rows
from tests.factories import STAFF_PASSWORD
from webapp.clock import utcnow

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
AXE = Axe()
# WCAG 2.1 A and AA plus axe's best practices: contrast, labels, landmarks, headings.
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}


#: Swagger UI, the vendored viewer of the interactive reference, draws a <main> of its own and
#: buttons inside buttons; axe checks the page around it, not the viewer's markup.
VIEWER = {"exclude": [["#swagger-ui"]]}


def assert_accessible(page: Page) -> None:
    results = AXE.run(page, context=VIEWER, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def seeded(make_share, live_app):
    """A share with a claim and some history, and an empty-handed one."""
    from webapp import shares
    from webapp.extensions import db
    from webapp.models import Share

    share_id = make_share(
        profile_id="cust-1001",
        code="WELCOME",
        timezone="Australia/Melbourne",
        period=2,
        period_type="months",
        is_cloneable=True,
        remaining_quantity=5,
        meta=["vip", "spring"],
    )
    make_share(profile_id="cust-1002", remaining_quantity=0)
    with live_app.app_context():
        shares.claim(db.session.get(Share, share_id), "cust-2002", "WELCOME", ["from-store"])
        db.session.commit()
    return share_id


def busy_days(live_app) -> None:
    """A month of history for the home page: shares made and claims made on many days."""
    now = utcnow()
    share_id = factories.share(live_app, profile_id="popular", is_cloneable=True,
                               remaining_quantity=None)  # fmt: skip
    factories.shares(
        live_app,
        *({"profile_id": f"cust-{n}", "created_at": now - timedelta(days=n % 29, hours=n)}
          for n in range(40)),
    )  # fmt: skip
    for n in range(60):
        factories.claim(live_app, share_id, f"claimer-{n}", claimed_at=now - timedelta(days=n % 23))


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 390])
def test_main_pages_pass_axe_and_are_photographed(
    page: Page, seeded, width, scheme, console_errors, live_app, share_links
):
    """Light and dark (the system's setting), wide and narrow: every main page passes axe."""
    page.emulate_media(color_scheme=scheme)
    page.set_viewport_size({"width": width, "height": 900})
    suffix = f"{width}px" + ("-dark" if scheme == "dark" else "")
    busy_days(live_app)

    page.goto("/")
    expect(page.get_by_test_id("claims-chart")).to_be_visible()
    assert_accessible(page)
    shoot(page, f"dashboard-{suffix}")

    page.goto("/docs/api")
    expect(page.locator("#addShare pre").first).to_be_visible()
    assert_accessible(page)
    shoot(page, f"api-docs-{suffix}")

    page.goto("/account")
    assert_accessible(page)

    page.goto("/shares")
    expect(page.locator("#results tbody tr")).to_have_count(25)
    page.locator("#results tbody tr").first.locator("summary", has_text="Copy").click()
    assert_accessible(page)
    shoot(page, f"list-{suffix}")

    page.goto("/shares/new")
    page.get_by_label("Time zone").fill("Australia/Melbourne")
    page.get_by_label("Period", exact=True).fill("2")
    page.get_by_label("Period type").select_option("absolute_month")
    expect(page.locator("#expiry-preview")).to_contain_text("end of the month 2 months after")
    assert_accessible(page)
    shoot(page, f"create-with-preview-{suffix}")

    page.goto(f"/shares/{seeded}")
    expect(page.locator("table.claims tbody tr")).to_have_count(1)
    expect(page.locator(".qr svg")).to_be_visible()
    assert_accessible(page)
    shoot(page, f"share-with-qr-{suffix}")

    page.goto(f"/shares/{seeded}/edit")
    expect(page.get_by_test_id("preview-utc")).to_be_visible()
    assert_accessible(page)
    shoot(page, f"edit-{suffix}")

    # Narrow screens must not scroll sideways on the page itself (tables scroll in their box).
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0


@pytest.mark.parametrize("width", [1280, 390])
def test_bulk_pages_pass_axe_and_are_photographed(
    page: Page, live_app, seeded, width, console_errors
):
    """The Import page and its previews, a bulk confirmation and a job's progress."""
    page.set_viewport_size({"width": width, "height": 900})
    suffix = f"{width}px"
    running = factories.bulk_job(live_app, "expire", [seeded], state="running")
    failed = factories.bulk_job(live_app, "delete", [seeded], state="failed")
    bad = vip_rows(3)
    bad[1]["source_id"] = "x"

    def upload(data: bytes) -> None:
        page.goto("/shares/import")
        page.get_by_label("CSV file").set_input_files(
            files=[{"name": "vip.csv", "mimeType": "text/csv", "buffer": data}]
        )
        page.get_by_role("button", name="Check the file").click()

    page.goto("/shares/import")
    check(page, f"import-{suffix}")
    console_errors.expect_status(422)
    upload(csv_file(*bad))
    expect(page.get_by_role("alert")).to_contain_text("Row 3, source_id")
    check(page, f"import-errors-{suffix}")
    upload(csv_file(*vip_rows(3)))
    expect(page.get_by_role("button", name="Create 3 shares")).to_be_visible()
    check(page, f"import-preview-{suffix}")

    page.goto("/shares/bulk/expire?all=1")
    expect(page.get_by_role("heading", name="Expire 2 shares now?")).to_be_visible()
    check(page, f"bulk-confirm-{suffix}")
    page.goto(f"/shares/bulk/jobs/{running}")
    expect(page.get_by_label("Progress")).to_be_visible()
    check(page, f"bulk-job-running-{suffix}")
    page.goto(f"/shares/bulk/jobs/{failed}")
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    check(page, f"bulk-job-failed-{suffix}")


def check(page: Page, name: str) -> None:
    """axe finds nothing, the page does not scroll sideways, and a screenshot is kept."""
    assert_accessible(page)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"
    shoot(page, name)


def test_every_other_page_passes_axe(page: Page, seeded, console_errors):
    for path in (
        "/shares?filter%5Bsearch%5D=nothing-matches",
        f"/shares/{seeded}/delete",
        "/admin/staff",
        "/admin/tokens",
        "/admin/audit",
        "/admin/audit?kind=security",
        "/account/password",
        "/docs/api",
        "/docs/api/reference",
        "/shares/999999",
    ):
        page.goto(path)
        assert_accessible(page)
    console_errors.expect_status(404)

    # The create form with every error showing.
    console_errors.expect_status(422)
    page.goto("/shares/new")
    page.get_by_role("button", name="Create share").click()
    expect(page.locator("#profile_id-error")).to_be_visible()
    assert_accessible(page)


def test_pages_are_readable_at_360px_without_sideways_scrolling(page: Page, live_app, seeded):
    page.set_viewport_size({"width": 360, "height": 740})
    job = factories.bulk_job(live_app, "delete", [seeded], state="failed")
    for path in (
        "/",
        "/account",
        "/shares/import",
        "/shares/bulk/expire?all=1",
        f"/shares/bulk/jobs/{job}",
        "/shares",
        "/shares/new",
        f"/shares/{seeded}",
        f"/shares/{seeded}/edit",
        "/admin/staff",
        "/admin/tokens",
        "/admin/audit",
        "/account/password",
        "/docs/api",
    ):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 360px"


def test_the_empty_list_invites_a_first_share(page: Page):
    page.goto("/shares")
    expect(page.get_by_text("No shares yet.")).to_be_visible()
    expect(page.get_by_role("link", name="Create the first share")).to_be_visible()
    assert_accessible(page)


def test_sign_in_and_forbidden_pages_pass_axe(browser, base_url, live_app):
    factories.staff(live_app, "a11y-viewer@example.com", "viewer")
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    page.goto("/shares")
    expect(page).to_have_url(f"{base_url}/sign-in?next=/shares")
    assert_accessible(page)
    page.get_by_label("Email").fill("a11y-viewer@example.com")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Shares")).to_be_visible()
    page.goto("/shares/new")
    expect(page.get_by_role("heading")).to_contain_text("403")
    expect(page.get_by_role("link", name="Back to the shares")).to_be_visible()
    assert_accessible(page)
    context.close()


def test_the_staff_page_with_every_form_of_a_row_passes_axe(page: Page, live_app):
    """Another admin who made a live token: their row carries the role and temporary-password
    forms and the link to deactivate, and still fits 360 px; the confirmation it opens offers
    to revoke the token, passes axe too, and deactivates them."""
    import secrets

    from webapp import accounts
    from webapp.enums import Role
    from webapp.extensions import db
    from webapp.models import Staff

    email = f"maker-{secrets.token_hex(3)}@example.com"
    member_id = factories.staff(live_app, email, "admin")
    with live_app.app_context():
        accounts.issue_token(f"made-by-{email}", Role.AGENT, db.session.get(Staff, member_id))
        db.session.commit()
    page.goto("/admin/staff")
    expect(page.get_by_label(f"Temporary password for {email}")).to_be_visible()
    assert_accessible(page)
    page.set_viewport_size({"width": 360, "height": 740})
    # The row's visually hidden labels must stay inside the table's own scrolling box.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the staff page scrolls sideways by {overflow}px at 360px"

    page.get_by_role("link", name=f"Deactivate {email}…").click()
    expect(page.get_by_role("heading", name=f"Deactivate {email}?")).to_be_visible()
    expect(page.get_by_role("checkbox", name=f"made-by-{email}")).to_be_checked()
    assert_accessible(page)
    page.get_by_role("button", name=f"Deactivate {email}").click()
    expect(page.locator(".flash-success")).to_contain_text(
        f"The API tokens they made are revoked: made-by-{email}."
    )
    expect(page.get_by_role("button", name=f"Reactivate {email}")).to_be_visible()
