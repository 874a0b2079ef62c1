"""Fixtures around the app factory: a fresh database per test, CSRF on unless a test says.

The database is a SQLite file, or with WEBAPP_TEST_DATABASE_URL an emptied PostgreSQL schema
(tests/database.py).
"""

from __future__ import annotations

import functools
import secrets
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests import database, factories
from tests.contract import bearer
from webapp import create_app
from webapp.enums import Role
from webapp.extensions import db
from webapp.models import create_tables

TEST_SECRET = "test-secret-key-not-for-production"
#: The slow layers, slowest first: each folder's tests carry its marker, so ``-m "not e2e"``
#: and the like work.
SLOW_LAYERS = ("fuzz", "e2e", "live")


def pytest_collection_modifyitems(config, items):
    """Mark the slow layers' tests, and run them first (each folder in its own order).

    ``make test`` hands tests to its workers one at a time, in this order: the long ones start
    at once, and the many short ones fill in around them, so that the workers finish together
    rather than one of them running the last fuzzing or browser tests alone (Makefile)."""
    tests = Path(__file__).parent
    rank = {}
    for item in items:
        layer = item.path.relative_to(tests).parts[0]
        if layer in SLOW_LAYERS:
            item.add_marker(layer)
        rank[item] = SLOW_LAYERS.index(layer) if layer in SLOW_LAYERS else len(SLOW_LAYERS)
    items.sort(key=rank.__getitem__)


def make_app(tmp_path, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'test.sqlite3'}",
        "WTF_CSRF_ENABLED": True,
        # No line per request: a server thread's lines between tests would reach the terminal.
        # tests/web/test_telemetry.py turns them on where it reads them.
        "LOG_LEVEL": "WARNING",
    }
    config.update(overrides)
    # On PostgreSQL, an app gets an emptied schema of the test database, also when a test names
    # that database outright; another URL (a SQLite file) is used as given.
    if database.on_postgres() and overrides.get("DATABASE_URL", database.URL) == database.URL:
        return database.POOL.lease(lambda url: create_app({**config, "DATABASE_URL": url}))
    path = database.sqlite_path(config["DATABASE_URL"])
    if path is not None and not path.exists():
        database.copy_schema(path)
    app = create_app(config)
    with app.app_context(), db.engine.begin() as connection:
        create_tables(connection)  # another database, or a file that existed: what is missing
    return app


@pytest.fixture(autouse=True)
def _database_schemas():
    """On PostgreSQL, the schemas a test's apps leased are handed back when it ends."""
    with database.POOL.test():
        yield


@pytest.fixture
def fresh_database_url(tmp_path):
    """A database without tables, for tests of the migrations and ``init-db``."""
    with database.fresh_database(tmp_path) as url:
        yield url


@pytest.fixture
def bare_app(fresh_database_url):
    """An app whose database has no tables yet (as on a first ``make run``)."""
    app = create_app(
        {"TESTING": True, "SECRET_KEY": TEST_SECRET, "DATABASE_URL": fresh_database_url}
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def table_names(app) -> set[str]:
    with app.app_context():
        return set(sa.inspect(db.engine).get_table_names())


@pytest.fixture
def app_with(tmp_path):
    """``app_with(**config)``: an app of its own with those settings and a database of its own;
    its connections are closed when the test ends."""
    made = []

    def make(**overrides):
        directory = tmp_path / f"app-{len(made)}"
        directory.mkdir()
        made.append(make_app(directory, **overrides))
        return made[-1]

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def _session_app(tmp_path_factory):
    """The one app of this test process: building an app costs more than most tests."""
    app = make_app(tmp_path_factory.mktemp("app"))
    yield app
    with app.app_context():
        db.engine.dispose()


def _join_bulk_jobs(timeout: float = 30) -> None:
    """Wait for the bulk jobs a test started in threads (webapp/jobs.py) to end: one still
    running would write into the next test's rows."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread.name.startswith("bulk-job-"):
            thread.join(max(0, deadline - time.monotonic()))
            assert not thread.is_alive(), f"{thread.name} still running {timeout} s after its test"


@pytest.fixture
def app(_session_app):
    """The app, with an empty database and its configuration as made: whatever a test writes
    or changes in it is gone before the next test."""
    config = dict(_session_app.config)
    database.reset(_session_app)
    yield _session_app
    _join_bulk_jobs()
    with _session_app.app_context():
        db.engine.dispose()
    _session_app.config.clear()
    _session_app.config.update(config)


def signed_in(app, role: Role | str):
    """A test client whose session belongs to a staff member with ``role``."""
    staff_id = factories.staff(app, f"{Role(role).value}-{secrets.token_hex(3)}@example.com", role)
    client = app.test_client()
    with client.session_transaction() as session:
        session["staff_id"] = staff_id
        session["epoch"] = 0
        session["seen"] = session["started"] = int(time.time())
    return client


@pytest.fixture
def client(app):
    """A test client signed in as an admin (CSRF still on)."""
    return signed_in(app, Role.ADMIN)


@pytest.fixture
def anon_client(app):
    """A test client with no session."""
    return app.test_client()


@pytest.fixture
def client_as(app):
    """``client_as("viewer")``: a client signed in with that role."""
    return functools.partial(signed_in, app)


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield


@pytest.fixture
def token(app) -> str:
    """A live admin API token's plain value."""
    return factories.token(app, "tests", Role.ADMIN)


@pytest.fixture
def token_for(app):
    """``token_for("viewer")``: the plain value of a new token with that role."""
    return lambda role: factories.token(app, f"{role}-{secrets.token_hex(3)}", role)


@pytest.fixture
def api(client, token):
    """The test client with the bearer token sent on every request."""

    class Api:
        headers = bearer(token)

        def __getattr__(self, method):
            def call(path, **kwargs):
                headers = {**self.headers, **kwargs.pop("headers", {})}
                return getattr(client, method)(path, headers=headers, **kwargs)

            return call

    return Api()


def assert_invalid(response, errors: dict[str, list[str]], in_order: bool = False) -> None:
    """A 422 naming exactly ``errors``; the message is the first one, with a count of the rest."""
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"message", "errors"}
    assert body["errors"] == errors
    if in_order:
        assert list(body["errors"]) == list(errors)
    messages = [m for field_messages in errors.values() for m in field_messages]
    expected = messages[0]
    if len(messages) > 1:
        others = len(messages) - 1
        expected += f" (and {others} more error{'s' if others > 1 else ''})"
    assert body["message"] == expected
