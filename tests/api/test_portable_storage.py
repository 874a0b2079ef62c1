"""Behaviour that must not depend on the database (SQLite or PostgreSQL, ``make test-postgres``).

Search compares code point by code point whatever the database's collation, and text that
PostgreSQL cannot hold (U+0000) is refused as input, or finds nothing when looked up, everywhere.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
import sqlalchemy as sa

from tests import factories
from tests.api.test_list_shares import ids, listing
from tests.pages import csrf_token, form_post
from tests.security.helpers import sign_in
from webapp.extensions import db
from webapp.listing import prefix_successor
from webapp.models import ApiToken, SignInFailure, Staff

URL = "/api/v3/shares"
NUL = "\x00"
NUL_MESSAGE = "field must not contain the NUL character (U+0000)."

# --- search: binary order on every database --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "successor"),
    [
        ("a", "b"),
        ("ab", "ac"),
        ("Z", "["),
        ("a\U0010ffff", "b"),
        ("\U0010ffff\U0010ffff", None),
        ("\ud7ff", "\ue000"),  # the surrogates are skipped
        ("emoji-\U0001f600", "emoji-\U0001f601"),
    ],
)
def test_prefix_successor(text, successor):
    assert prefix_successor(text) == successor


CODES = {
    "lower": "ab",
    "upper": "AB",
    "title": "Ab",
    "longer": "abc",
    "last_char": "ab\U0010ffff",
    "after_last": "ab\U0010ffffz",
    "next": "ac",
    "accent": "áb",
}
# Handles and profile ids that no search below finds (random handles could).
ORDER_SET = {
    name: {"code": code, "handle": f"h-{n:020d}", "profile_id": f"p-{n}"}
    for n, (name, code) in enumerate(CODES.items())
}


@pytest.mark.parametrize(
    ("text", "names"),
    [
        # A linguistic collation sorts "ab" < "Ab" < "AB" < "abc": a range over it would find
        # "Ab" and "AB" too.
        ("ab", {"lower", "longer", "last_char", "after_last"}),
        ("a", {"lower", "longer", "last_char", "after_last", "next"}),
        ("A", {"upper", "title"}),
        ("AB", {"upper"}),
        ("ab\U0010ffff", {"last_char", "after_last"}),
        ("\U0010ffff", set()),
        ("á", {"accent"}),
    ],
)
def test_search_is_case_and_accent_sensitive_on_every_database(app, api, text, names):
    made = dict(zip(ORDER_SET, factories.shares(app, *ORDER_SET.values()), strict=True))

    body = listing(api, "filter[search]=" + quote(text, safe=""))

    assert ids(body) == sorted((made[n] for n in names), reverse=True)


# --- U+0000: refused as input, found nowhere -------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("profile_id", "cust\x00-1"), ("code", NUL), ("absolute_expiry", "12-25\x00")],
)
def test_a_create_with_nul_in_text_is_422_naming_the_field(app, api, field, value):
    body = {"profile_id": "cust-1", "source_type": "reward", "source_id": 1, field: value}

    response = api.post(URL, json=body)

    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert errors[field] == [f"The {field.replace('_', ' ')} {NUL_MESSAGE}"]
    assert factories.share_count(app) == 0


def test_the_document_says_text_holds_no_nul(api):
    document = api.get("/api/v3/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    create = schemas["ShareCreate"]["properties"]

    assert create["profile_id"]["pattern"] == "^[^\\u0000]*$"
    assert create["profile_id"]["maxLength"] == 255
    for body in ("ShareCreate", "ShareEdit", "ClaimRequest"):
        meta = schemas[body]["properties"]["meta"]
        assert meta["items"] == {"type": "string", "maxLength": 1000, "pattern": "^[^\\u0000]*$"}


@pytest.mark.parametrize("field", ["profile_id", "code"])
def test_a_claim_with_nul_is_422(app, api, field):
    share_id = factories.share(app, code="C", is_cloneable=True, remaining_quantity=None)
    body = {"profile_id": "claimer", "code": "C", field: f"x{NUL}"}

    response = api.post(f"{URL}/{share_id}/claim", json=body)

    assert response.status_code == 422
    assert field in response.get_json()["errors"]


META_NUL_MESSAGE = "Meta item 2 must not contain the NUL character (U+0000)."


@pytest.mark.parametrize("path", ["claim", "claim-check"])
def test_a_claim_with_nul_in_meta_is_422(app, api, path):
    share_id = factories.share(app, code="C", is_cloneable=True, remaining_quantity=None)
    body = {"profile_id": "claimer", "code": "C", "meta": ["a", f"b{NUL}"]}

    response = api.post(f"{URL}/{share_id}/{path}", json=body)

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"meta": [META_NUL_MESSAGE]}
    assert factories.claim_rows(app) == []


def test_the_claim_page_refuses_nul_in_meta(app, client):
    share_id = factories.share(app, code="C", is_cloneable=True, remaining_quantity=None)
    token = csrf_token(client, f"/shares/{share_id}")
    form = {"csrf_token": token, "profile_id": "claimer", "code": "C", "meta": f"a\nb{NUL}"}

    response = client.post(f"/shares/{share_id}/claim", data=form)

    assert response.status_code == 422
    assert META_NUL_MESSAGE in response.get_data(as_text=True)
    assert factories.claim_rows(app) == []


def test_share_meta_with_nul_is_422_on_create_and_edit(app, api):
    share_id = factories.share(app, meta=["kept"])
    body = {"profile_id": "cust-1", "source_type": "reward", "source_id": 1}

    created = api.post(URL, json={**body, "meta": ["a", f"b{NUL}"]})
    edited = api.put(f"{URL}/{share_id}", json={"meta": ["a", NUL]})

    for response in (created, edited):
        assert response.status_code == 422
        assert response.get_json()["errors"] == {"meta": [META_NUL_MESSAGE]}
    assert factories.share_count(app) == 1
    assert factories.share_data(app, share_id)["meta"] == ["kept"]


FILTER_VALUES = {
    "profile_id": "cust",
    "handle": "h" * 22,
    "code": "PROMO",
    "timezone": "UTC",
    "search": "PRO",
}


@pytest.mark.parametrize("name", FILTER_VALUES)
def test_a_filter_with_nul_finds_nothing(app, api, name):
    share_id = factories.share(app, profile_id="cust", code="PROMO", handle="h" * 22)
    value = FILTER_VALUES[name]

    assert ids(listing(api, f"filter[{name}]={value}")) == [share_id]
    assert ids(listing(api, f"filter[{name}]={value}%00")) == []
    assert ids(listing(api, f"filter[{name}]=%00{value}")) == []


def test_an_idempotency_key_with_nul_is_422(app, api):
    body = {"profile_id": "cust-1", "source_type": "reward", "source_id": 1}

    response = api.post(URL, json=body, headers={"Idempotency-Key": "key\x00"})

    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["Idempotency-Key"]
    assert factories.share_count(app) == 0


def test_sign_in_with_nul_in_the_email_is_refused_and_not_counted(app, anon_client):
    response = sign_in(anon_client, f"admin{NUL}@example.com", "whatever")

    assert response.status_code == 422
    assert f"The email {NUL_MESSAGE}" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(SignInFailure.id))) == 0


def test_staff_and_token_forms_refuse_nul(app, client):
    staff = form_post(
        client,
        "/admin/staff",
        email=f"new{NUL}@example.com",
        role="viewer",
        password="a long enough password",
    )
    token = form_post(client, "/admin/tokens", name=NUL, role="agent")

    assert staff.status_code == 422 and f"The email {NUL_MESSAGE}" in staff.get_data(as_text=True)
    assert token.status_code == 422 and f"The name {NUL_MESSAGE}" in token.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Staff.id))) == 1  # the admin
        assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


def test_the_audit_filter_with_nul_finds_nothing(app, client):
    factories.share(app)

    response = client.get("/admin/audit", query_string={"actor": f"system{NUL}"})

    assert response.status_code == 200
    assert "No events match." in response.get_data(as_text=True)
