"""Parallel sign-ins against gunicorn (2 workers, 8 threads each): the lock-out counts every
attempt before its password is checked, so forty at once check no more than the limit."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests
import sqlalchemy as sa

from tests import factories
from tests.pages import csrf_in
from webapp.extensions import db
from webapp.models import SignInFailure

ATTEMPTS = 40
EMAIL = "target@example.com"


def signing_in(base: str) -> tuple[requests.Session, str]:
    """A browser on the sign-in page: its session cookie and the form's CSRF token."""
    browser = requests.Session()
    page = browser.get(f"{base}/sign-in", timeout=30)
    assert page.status_code == 200
    return browser, csrf_in(page.text)


def post(browser: requests.Session, base: str, csrf: str, password: str) -> int:
    answer = browser.post(
        f"{base}/sign-in",
        data={"csrf_token": csrf, "email": EMAIL, "password": password},
        allow_redirects=False,
        timeout=60,
    )
    return answer.status_code


def test_forty_parallel_wrong_passwords_check_no_more_than_the_limit(gunicorn_server):
    server, _token, app = gunicorn_server
    factories.staff(app, EMAIL, "admin")
    limit = app.config["SIGN_IN_MAX_FAILURES"]
    browsers = [signing_in(server.base) for _ in range(ATTEMPTS)]
    start = threading.Barrier(ATTEMPTS)

    def attempt(number: int) -> int:
        browser, csrf = browsers[number]
        start.wait()
        return post(browser, server.base, csrf, f"wrong password {number}")

    with ThreadPoolExecutor(max_workers=ATTEMPTS) as pool:
        statuses = list(pool.map(attempt, range(ATTEMPTS)))

    # 422: the password was checked (and wrong); 429: refused before any check.
    assert statuses.count(422) == limit, statuses
    assert statuses.count(429) == ATTEMPTS - limit, statuses
    with app.app_context():
        stored = db.session.scalar(sa.select(sa.func.count(SignInFailure.id)))
    assert stored == limit
    # And the right password, from the same address, is refused until the window passes.
    browser, csrf = signing_in(server.base)
    assert post(browser, server.base, csrf, factories.STAFF_PASSWORD) == 429
    assert server.log_errors() == []
