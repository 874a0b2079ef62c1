"""End-to-end fixtures: the app on a real port in a thread, driven by Debian's Chromium."""

from __future__ import annotations

import functools
import os
import shutil
import threading

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from tests import factories
from tests.conftest import make_app
from tests.factories import STAFF_PASSWORD
from webapp.extensions import db
from webapp.models import AuditEvent, BulkJob, BulkJobItem, Share, ShareClaim, ShareImport

# Two xdist workers share two cores with their Chromiums, servers, PostgreSQL and the fuzzers:
# a form post and its redirect have been seen to take over five seconds there (a keyboard claim
# on PostgreSQL in CI). An expectation waits up to 15 s for what it asserts, not Playwright's 5 s;
# a passing test is no slower for it.
expect.set_options(timeout=15_000)


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        pytest.exit(f"Chromium not found at {path}: run 'make test', which installs it.", 2)
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args():
    # Playwright cannot download its own browsers here, so it drives Debian's Chromium.
    return {
        "executable_path": chromium_path(),
        "args": [
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("e2e"))


@pytest.fixture(scope="session")
def live_server(live_app):
    """The app served by werkzeug on a free port for the whole session."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server


ADMIN_EMAIL = "e2e-admin@example.com"


@pytest.fixture(scope="session")
def signed_in_state(live_server, live_app, browser, tmp_path_factory):
    """Sign in once through the real sign-in page; every test's context reuses the cookie."""
    factories.staff(live_app, ADMIN_EMAIL, "admin")
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    page.goto("/shares")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Shares").wait_for()
    path = tmp_path_factory.mktemp("state") / "admin.json"
    context.storage_state(path=str(path))
    context.close()
    return str(path)


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, signed_in_state):
    return {**browser_context_args, "storage_state": signed_in_state}


@pytest.fixture(autouse=True)
def empty_database(live_app):
    """Each test starts with no shares, imports or bulk jobs (staff accounts live for the
    session)."""
    with live_app.app_context():
        for model in (AuditEvent, ShareClaim, Share, ShareImport, BulkJobItem, BulkJob):
            db.session.execute(db.delete(model))
        db.session.commit()


class ConsoleErrors:
    """Browser console errors seen by a test; a test may expect exact ones (a deliberate 422)."""

    def __init__(self):
        self.seen: list[str] = []
        self.expected: list[str] = []

    def expect_status(self, status: int) -> None:
        """Chromium logs every 4xx response; a test that provokes one on purpose says so."""
        self.expected.append(f"the server responded with a status of {status} (")

    def expect(self, fragment: str) -> None:
        """Another error a test provokes on purpose (htmx logs a failed request too)."""
        self.expected.append(fragment)

    def unexpected(self) -> list[str]:
        left = list(self.seen)
        for fragment in self.expected:
            match = next((text for text in left if fragment in text), None)
            assert match, f"expected a console error with {fragment!r}, saw {self.seen}"
            left.remove(match)
        return left


@pytest.fixture(autouse=True)
def console_errors(page):
    """Fail the test on any browser console error or uncaught page exception it did not expect."""
    errors = ConsoleErrors()
    page.on("console", lambda msg: errors.seen.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.seen.append(f"page error: {exc}"))
    yield errors
    assert errors.unexpected() == [], f"browser console errors: {errors.seen}"


@pytest.fixture
def make_share(live_app):
    """``make_share(**fields)``: ``factories.share`` on the served app; the share's id."""
    return functools.partial(factories.share, live_app)


@pytest.fixture
def share_links(live_app):
    """Share links on (WEBAPP_SHARE_LINK_TEMPLATE), for this test only."""
    live_app.config["SHARE_LINK_TEMPLATE"] = "https://shop.example.com/s/{handle}"
    yield live_app.config["SHARE_LINK_TEMPLATE"]
    live_app.config["SHARE_LINK_TEMPLATE"] = ""
