"""Two app servers behind one load balancer: each gunicorn (2 workers) on the same database.

No per-process state may matter: the API rate limit counts once for all of them, and a session
made on one server is good on the other until it signs out on either.
"""

from __future__ import annotations

import pytest
import requests

from tests import factories
from tests.conftest import make_app
from tests.contract import bearer
from tests.factories import STAFF_PASSWORD
from tests.live.conftest import server_env
from tests.live.helpers import Gunicorn, free_port
from tests.pages import csrf_in
from webapp.enums import Role
from webapp.extensions import db
from webapp.models import ApiToken

LIMIT = 12


@pytest.fixture
def two_servers(tmp_path):
    """Two gunicorn servers on one database; yields (servers, token, app)."""
    app = make_app(tmp_path)
    token = factories.token(app, "shared-state", Role.AGENT)
    env = server_env(
        app,
        tmp_path,
        WEBAPP_API_RATE_LIMIT=f"{LIMIT} per minute",
        PYTHONUNBUFFERED="1",  # the request lines, read below
    )
    servers = []
    try:
        for number in (1, 2):
            logs = tmp_path / f"server-{number}"
            logs.mkdir()
            server = Gunicorn(free_port(), env, logs, workers=2, threads=4)
            servers.append(server)
            status, body = server.start()
            assert status == 200, body
        yield servers, token, app
    finally:
        for server in servers:
            server.stop()
        with app.app_context():
            db.engine.dispose()


def test_the_rate_limit_counts_once_across_servers_and_workers(two_servers):
    servers, token, app = two_servers
    headers = bearer(token)
    statuses = []
    for number in range(3 * LIMIT):
        # A new connection each time, to one server and then the other.
        server = servers[number % 2]
        response = requests.get(f"{server.base}/api/v3/shares", headers=headers, timeout=30)
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.json()["message"]
            assert int(response.headers["Retry-After"]) >= 1

    # Counting per process, four processes would have allowed up to four times the limit.
    assert statuses[:LIMIT] == [200] * LIMIT
    assert statuses[LIMIT:] == [429] * (2 * LIMIT)
    served = {
        (server.base, pid)
        for server in servers
        for pid in server.answered_by("GET", "/api/v3/shares", 200)
    }
    assert {base for base, _pid in served} == {server.base for server in servers}
    with app.app_context():
        (stored,) = db.session.scalars(db.select(ApiToken)).all()
        assert stored.window_hits == 3 * LIMIT
    for server in servers:
        assert server.log_errors() == []


def test_a_session_from_one_server_works_on_the_other_until_sign_out(two_servers):
    servers, _token, app = two_servers
    first, second = (server.base for server in servers)
    factories.staff(app, "agent@example.com", Role.AGENT)
    browser = requests.Session()
    page = browser.get(f"{first}/sign-in", timeout=30)
    csrf = csrf_in(page.text)
    signed_in = browser.post(
        f"{first}/sign-in",
        data={"email": "agent@example.com", "password": STAFF_PASSWORD, "csrf_token": csrf},
        timeout=30,
    )
    assert signed_in.status_code == 200 and "Signed in as agent@example.com" in signed_in.text
    copied = dict(browser.cookies)

    on_second = browser.get(f"{second}/shares", allow_redirects=False, timeout=30)
    assert on_second.status_code == 200 and "agent@example.com" in on_second.text

    csrf = csrf_in(on_second.text)
    out = browser.post(f"{second}/sign-out", data={"csrf_token": csrf}, timeout=30)
    assert out.status_code == 200 and "You are signed out." in out.text
    # The copy of the cookie taken before sign-out is refused by the first server too.
    stale = requests.get(f"{first}/shares", cookies=copied, allow_redirects=False, timeout=30)
    assert stale.status_code == 302 and "/sign-in" in stale.headers["Location"]
