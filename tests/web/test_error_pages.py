"""Every error has a page in the app's layout with a way back (JSON under /api/)."""

from __future__ import annotations

import pytest

from webapp import api as api_module
from webapp.auth import requires
from webapp.enums import Role

BACK_LINK = 'href="/shares">← Back to the shares</a>'


def assert_in_layout(response, status: int, words: str) -> str:
    page = response.get_data(as_text=True)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert '<header class="site-header">' in page  # the app's own layout
    assert BACK_LINK in page
    assert words in page
    assert "Traceback" not in page
    return page


def test_404_page(client):
    assert_in_layout(client.get("/shares/424242"), 404, "There is no page here.")


def test_403_page(client_as):
    assert_in_layout(client_as("viewer").get("/shares/new"), 403, "You are not allowed to do this.")


def test_405_page(client):
    assert_in_layout(client.put("/shares"), 405, "does not accept that kind of request")


def test_422_page(client):
    response = client.get("/shares/export.csv?filter%5Bstatus%5D=bogus")
    assert_in_layout(response, 422, "could not be processed")


@pytest.fixture
def broken_app(app):
    @requires(Role.VIEWER)
    def explode():
        raise RuntimeError("secret internals")

    app.add_url_rule("/explode", "explode", explode)
    return app


def test_500_page_hides_the_error(broken_app, client):
    page = assert_in_layout(client.get("/explode"), 500, "Something went wrong on our side")
    assert "secret internals" not in page


def test_api_500_is_json_without_internals(api, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(api_module, "fetch_page", explode)
    response = api.get("/api/v3/shares")
    assert response.status_code == 500
    assert response.mimetype == "application/json"
    assert set(response.get_json()) == {"message"}
    assert "secret internals" not in response.get_data(as_text=True)
