"""Fixtures around the app factory: a fresh file database per test, CSRF on unless a test says."""

from __future__ import annotations

import pytest

from webapp import create_app
from webapp.extensions import db
from webapp.models import ApiToken, Share

TEST_SECRET = "test-secret-key-not-for-production"


def make_app(tmp_path, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'test.sqlite3'}",
        "WTF_CSRF_ENABLED": True,
    }
    config.update(overrides)
    app = create_app(config)
    with app.app_context():
        db.create_all()
    return app


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield


@pytest.fixture
def token(app) -> str:
    """A live API token's plain value."""
    with app.app_context():
        row, plain = ApiToken.issue("tests")
        db.session.add(row)
        db.session.commit()
    return plain


@pytest.fixture
def api(client, token):
    """The test client with the bearer token sent on every request."""

    class Api:
        headers = {"Authorization": f"Bearer {token}"}

        def __getattr__(self, method):
            def call(path, **kwargs):
                headers = {**self.headers, **kwargs.pop("headers", {})}
                return getattr(client, method)(path, headers=headers, **kwargs)

            return call

    return Api()


def share_count(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(Share.id)))
