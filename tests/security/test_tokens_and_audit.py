"""API tokens managed in the browser and the CLI, and the audit trail of every change."""

from __future__ import annotations

import getpass
import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from tests.contract import bearer
from tests.factories import STAFF_PASSWORD
from tests.pages import csrf_token, form_post
from tests.security.helpers import (
    SECURED,
    SHARE_CODE,
    events_after,
    fingerprint,
    last_event_id,
    sign_in,
)
from webapp.enums import PeriodType, Role
from webapp.expiry import resolve_expiry, to_utc_z
from webapp.extensions import db
from webapp.models import ApiToken, AuditEvent, Staff

CLI_ACTOR = f"cli:{getpass.getuser()}"
NEW_TOKEN = re.compile(r'<input id="new-token" value="([^"]+)" readonly>')


def staff_email(app, client) -> str:
    with client.session_transaction() as session:
        staff_id = session["staff_id"]
    with app.app_context():
        return db.session.get(Staff, staff_id).email


def token_row(app, name: str) -> ApiToken:
    with app.app_context():
        row = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == name))
        db.session.expunge(row)
        return row


def created(share: dict) -> dict:
    """The changes a create records (docs/contract.md, Events): every field of the new Share
    object that has a value, with null as its old value."""
    return {name: [None, value] for name, value in share.items() if value is not None}


def deleted(share: dict) -> dict:
    """The changes a delete records: every field the Share object had, with null as new."""
    return {name: [value, None] for name, value in share.items() if value is not None}


def touched(old: dict, new: dict) -> dict:
    """``updated_at``'s change, when the change fell in a later second than the last one."""
    if old["updated_at"] == new["updated_at"]:
        return {}
    return {"updated_at": [old["updated_at"], new["updated_at"]]}


# --- tokens in the browser -----------------------------------------------------------------


def create_token_in_browser(client, name: str, role: str = "viewer") -> tuple[object, str]:
    response = form_post(client, "/admin/tokens", name=name, role=role)
    assert response.status_code == 200
    match = NEW_TOKEN.search(response.get_data(as_text=True))
    assert match, "the new token is not shown"
    return response, match[1]


def test_a_token_made_in_the_browser_is_shown_once_and_works_with_its_role(app, client):
    response, plain = create_token_in_browser(client, "nightly-import", "viewer")
    page = response.get_data(as_text=True)
    assert "Token created. Copy it now: it is not shown again." in page
    assert plain.startswith("sd_") and len(plain) > 40
    row = token_row(app, "nightly-import")
    assert row.role is Role.VIEWER and row.revoked_at is None
    # Only the hash is stored.
    assert row.token_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert plain not in row.token_hash
    # Never shown again.
    later = client.get("/admin/tokens").get_data(as_text=True)
    assert plain not in later and 'id="new-token"' not in later
    assert "nightly-import" in later

    api = app.test_client()
    assert api.get("/api/v3/shares", headers=bearer(plain)).status_code == 200
    refused = api.post(
        "/api/v3/shares",
        json={"profile_id": "p", "source_type": "reward", "source_id": 1},
        headers=bearer(plain),
    )
    assert refused.status_code == 403
    assert refused.get_json() == {"message": "This token's role (viewer) may not do this."}
    assert factories.share_count(app) == 0


def test_the_token_list_shows_name_role_created_and_last_use(app, client):
    _, plain = create_token_in_browser(client, "reporting", "agent")

    def row_html() -> str:
        page = client.get("/admin/tokens").get_data(as_text=True)
        match = re.search(r"<tr>\s*<td>reporting</td>(.*?)</tr>", page, re.S)
        assert match, "no row for the token"
        return match[1]

    created_at = to_utc_z(token_row(app, "reporting").created_at)
    row = row_html()
    assert "<td>Agent</td>" in row
    # Shown in the reader's zone (UTC until they choose one), the UTC instant on hover.
    shown = token_row(app, "reporting").created_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert f'<time datetime="{created_at}" title="UTC: {created_at}">{shown}</time>' in row
    assert "<td>never</td>" in row
    assert "Revoke reporting" in row

    assert app.test_client().get("/api/v3/shares", headers=bearer(plain)).status_code == 200
    used = token_row(app, "reporting").last_used_at
    assert used is not None
    row = row_html()
    assert f'<td><time datetime="{to_utc_z(used)}"' in row
    assert "<td>never</td>" not in row


def token_cells(client, name: str) -> list[str]:
    """The cells of a token's row on the tokens page."""
    page = client.get("/admin/tokens").get_data(as_text=True)
    match = re.search(rf"<tr>\s*<td>{re.escape(name)}</td>(.*?)</tr>", page, re.S)
    assert match, f"no row for {name}"
    return [cell.strip() for cell in re.findall(r"<td>(.*?)</td>", match[1], re.S)]


def test_the_token_list_shows_who_made_each_token_beside_its_last_use(app, client):
    admin = staff_email(app, client)
    create_token_in_browser(client, "web-made", "viewer")
    result = app.test_cli_runner().invoke(args=["tokens", "create", "cli-made"])
    assert result.exit_code == 0, result.output
    factories.token(app, "made-before", Role.AGENT)  # as a token made before creators counted

    web, cli, older = (token_cells(client, n) for n in ("web-made", "cli-made", "made-before"))
    # Role, created, created by, last used, status.
    assert web[2:4] == [admin, "never"]
    assert cli[2:4] == [CLI_ACTOR, "never"]
    assert older[2:4] == ["not recorded", "never"]
    assert token_row(app, "web-made").creator_id == staff_id_of(client)
    assert token_row(app, "cli-made").creator_id is None
    listing = app.test_cli_runner().invoke(args=["tokens", "list"]).output
    assert re.search(rf"web-made\s+viewer\s+\S+ \S+\s+{re.escape(admin)}\s", listing)
    assert "CREATED BY" in listing


def staff_id_of(client) -> int:
    with client.session_transaction() as session:
        return session["staff_id"]


def test_deactivating_an_admin_offers_to_revoke_the_tokens_they_made(app, client, client_as):
    other = client_as("admin")
    other_id = staff_id_of(other)
    _, first = create_token_in_browser(other, "first-script", "agent")
    _, second = create_token_in_browser(other, "second-script", "viewer")
    create_token_in_browser(client, "mine", "viewer")
    # The staff page links to a confirmation; deactivating is asked, as revoking a token is.
    staff_page = client.get("/admin/staff").get_data(as_text=True)
    asking = f"/admin/staff/{other_id}/deactivate"
    assert f'<a href="{asking}">Deactivate ' in staff_page
    assert 'name="active" value="0"' not in staff_page
    page = client.get(asking).get_data(as_text=True)
    offer = re.findall(
        r'<input type="checkbox" name="revoke_tokens" value="1" checked>\s*([^<]*)<', page
    )
    assert [" ".join(text.split()) for text in offer] == [
        "and revoke the API tokens they made, for good: first-script, second-script"
    ]
    assert f'action="/admin/staff/{other_id}"' in page and 'name="active" value="0"' in page
    mark = last_event_id(app)

    response = form_post(client, f"/admin/staff/{other_id}", active="0", revoke_tokens="1")

    assert response.status_code == 302
    assert (
        "deactivated; their sessions have ended. The API tokens they made are revoked: "
        "first-script, second-script." in client.get("/admin/staff").get_data(as_text=True)
    )
    api = app.test_client()
    for plain in (first, second):
        assert api.get("/api/v3/shares", headers=bearer(plain)).status_code == 401
    assert token_row(app, "mine").revoked_at is None
    events = events_after(app, mark)
    assert [e["action"] for e in events] == ["staff", "token", "token"]
    assert [e["changes"]["name"][0] for e in events[1:]] == ["first-script", "second-script"]
    # Deactivated already: no second confirmation; the page marks their maker as deactivated.
    again = client.get(asking, follow_redirects=True).get_data(as_text=True)
    assert "is deactivated already." in again and 'name="revoke_tokens"' not in again
    assert token_cells(client, "first-script")[2].endswith("(deactivated)")


def test_the_deactivate_confirmation_offers_no_tokens_when_they_made_none(app, client, client_as):
    other_id = staff_id_of(client_as("agent"))
    before = fingerprint(app)
    page = client.get(f"/admin/staff/{other_id}/deactivate").get_data(as_text=True)
    assert 'name="revoke_tokens"' not in page
    assert "They are signed out at once" in page
    assert fingerprint(app) == before  # asking changes nothing


def test_an_admin_is_not_asked_to_deactivate_themselves(app, client):
    response = client.get(f"/admin/staff/{staff_id_of(client)}/deactivate")
    assert response.status_code == 302
    page = client.get("/admin/staff").get_data(as_text=True)
    assert "You cannot change your own role or deactivate yourself." in page
    assert client.get("/admin/staff/999999/deactivate").status_code == 404


def test_deactivating_without_the_offer_keeps_the_tokens_and_says_so(app, client, client_as):
    other = client_as("admin")
    _, plain = create_token_in_browser(other, "keeps-running", "agent")
    response = form_post(client, f"/admin/staff/{staff_id_of(other)}", active="0")
    assert response.status_code == 302
    assert "The API tokens they made still work: keeps-running." in client.get(
        "/admin/staff"
    ).get_data(as_text=True)
    assert app.test_client().get("/api/v3/shares", headers=bearer(plain)).status_code == 200


def test_a_token_name_is_never_reused(app, client):
    create_token_in_browser(client, "once")
    before = fingerprint(app)
    response = form_post(client, "/admin/tokens", name="once", role="admin")
    assert response.status_code == 422
    assert "A token with this name exists already (names are never reused)." in (
        response.get_data(as_text=True)
    )
    assert 'id="new-token"' not in response.get_data(as_text=True)
    assert fingerprint(app) == before


@pytest.mark.parametrize("name", ["nl\nhere", "tab\there", "esc\x1b[31mred", "ls\u2028here"])
def test_a_token_name_is_one_line_without_control_characters(app, client, name):
    """A line break or a tab would break the row of the page and of ``tokens list``; the
    command line refuses the same names with the same message (tests/unit/test_cli.py)."""
    before = fingerprint(app)

    response = form_post(client, "/admin/tokens", name=name, role="agent")

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The name field must not contain control characters (tabs, line breaks)." in page
    assert 'id="new-token"' not in page
    assert fingerprint(app) == before


def test_revoking_in_the_browser_stops_the_token_at_once(app, client):
    _, plain = create_token_in_browser(client, "to-revoke", "admin")
    api = app.test_client()
    assert api.get("/api/v3/shares", headers=bearer(plain)).status_code == 200
    row = token_row(app, "to-revoke")
    before = last_event_id(app)

    response = form_post(client, f"/admin/tokens/{row.id}/revoke")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/tokens"
    assert "Token to-revoke revoked." in client.get("/admin/tokens").get_data(as_text=True)
    revoked = token_row(app, "to-revoke").revoked_at
    assert revoked is not None

    response = api.get("/api/v3/shares", headers=bearer(plain))
    assert response.status_code == 401
    assert response.get_json() == {
        "message": "Unauthenticated. Send 'Authorization: Bearer <token>'."
    }
    assert events_after(app, before) == [
        {
            "action": "token",
            "actor": staff_email(app, client),
            "share_id": None,
            "share_handle": None,
            "changes": {
                "name": ["to-revoke", "to-revoke"],
                "revoked_at": [None, to_utc_z(revoked)],
            },
        }
    ]
    # Revoking again changes nothing and records nothing.
    mark = last_event_id(app)
    assert form_post(client, f"/admin/tokens/{row.id}/revoke").status_code == 302
    assert token_row(app, "to-revoke").revoked_at == revoked
    assert events_after(app, mark) == []
    page = client.get("/admin/tokens").get_data(as_text=True)
    assert f'revoked <time datetime="{to_utc_z(revoked)}"' in page
    assert "Revoke to-revoke" not in page


def test_revoking_a_missing_token_is_404(client):
    assert form_post(client, "/admin/tokens/999/revoke").status_code == 404
    assert client.get("/admin/tokens/999/revoke").status_code == 404


def test_revoking_asks_first_and_the_question_changes_nothing(app, client, client_as):
    create_token_in_browser(client, "nightly", "agent")
    row = token_row(app, "nightly")
    page = client.get("/admin/tokens").get_data(as_text=True)
    assert f'active · <a href="/admin/tokens/{row.id}/revoke">Revoke nightly…</a>' in page
    before = last_event_id(app)

    question = client.get(f"/admin/tokens/{row.id}/revoke")

    assert question.status_code == 200
    asked = question.get_data(as_text=True)
    assert "<h1>Revoke token nightly?</h1>" in asked and "it has never been used" in asked
    assert f'action="/admin/tokens/{row.id}/revoke"' in asked and ">Keep it</a>" in asked
    assert token_row(app, "nightly").revoked_at is None
    assert last_event_id(app) == before
    assert client_as("agent").get(f"/admin/tokens/{row.id}/revoke").status_code == 403

    assert form_post(client, f"/admin/tokens/{row.id}/revoke").status_code == 302
    # Asked again once revoked: back to the tokens page, which says so.
    again = client.get(f"/admin/tokens/{row.id}/revoke")
    assert again.headers["Location"] == "/admin/tokens"
    assert "Token nightly is revoked already." in client.get("/admin/tokens").get_data(as_text=True)


def test_revoking_from_the_cli_stops_the_token_at_once(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tokens", "create", "script", "--role", "agent"])
    assert result.exit_code == 0, result.output
    plain = result.output.strip().splitlines()[-1]
    api = app.test_client()
    assert api.get("/api/v3/shares", headers=bearer(plain)).status_code == 200
    before = last_event_id(app)

    result = runner.invoke(args=["tokens", "revoke", "script"])
    assert result.exit_code == 0, result.output
    assert "Token 'script' revoked." in result.output
    assert api.get("/api/v3/shares", headers=bearer(plain)).status_code == 401
    [event] = events_after(app, before)
    assert event["action"] == "token" and event["actor"] == CLI_ACTOR
    assert event["changes"]["revoked_at"][0] is None
    assert event["changes"]["name"] == ["script", "script"]

    result = runner.invoke(args=["tokens", "revoke", "script"])
    assert result.exit_code == 1
    assert "No active token named 'script'." in result.output


# --- the audit trail of share changes ------------------------------------------------------

NEW_FORM = {"profile_id": "new-1", "source_type": "reward", "source_id": "5", "timezone": "UTC"}
NEW_JSON = {"profile_id": "new-1", "source_type": "reward", "source_id": 5}


@pytest.fixture
def agent(client_as):
    return client_as("agent")


@pytest.fixture
def agent_token(app):
    """An agent token called ``robot``."""
    return factories.token(app, "robot", Role.AGENT)


@pytest.mark.parametrize("surface", ["html", "api"])
def test_create_writes_one_event(app, agent, agent_token, surface):
    before = last_event_id(app)
    if surface == "html":
        response = form_post(agent, "/shares/new", **NEW_FORM)
        assert response.status_code == 302
        share_id = int(response.headers["Location"].rsplit("/", 1)[1])
        actor = staff_email(app, agent)
    else:
        response = app.test_client().post(
            "/api/v3/shares", json=NEW_JSON, headers=bearer(agent_token)
        )
        assert response.status_code == 201
        share_id = response.get_json()["data"]["id"]
        actor = "token:robot"
    share = factories.share_data(app, share_id)
    [event] = events_after(app, before)
    assert event == {
        "action": "create",
        "actor": actor,
        "share_id": share_id,
        "share_handle": share["handle"],
        "changes": created(share),
    }
    assert event["changes"]["profile_id"] == [None, "new-1"]
    assert event["changes"]["source_type"] == [None, "reward"]
    assert event["changes"]["remaining_quantity"] == [None, 1]


def test_an_idempotent_replay_writes_no_second_event(app, agent_token):
    api = app.test_client()
    headers = {**bearer(agent_token), "Idempotency-Key": "create-once"}
    before = last_event_id(app)
    first = api.post("/api/v3/shares", json=NEW_JSON, headers=headers)
    again = api.post("/api/v3/shares", json=NEW_JSON, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert [e["action"] for e in events_after(app, before)] == ["create"]
    assert factories.share_count(app) == 1


@pytest.mark.parametrize("surface", ["html", "api"])
def test_edit_writes_one_event_with_the_diff(app, agent, agent_token, surface):
    share_id = factories.share(app, **SECURED)
    handle = factories.handle_of(app, share_id)
    old = factories.share_data(app, share_id)
    before = last_event_id(app)
    if surface == "html":
        form = {"code": SHARE_CODE, "period": "3", "period_type": "days", "absolute_expiry": "",
                "expires_at": "", "meta": ""}  # fmt: skip
        response = form_post(agent, f"/shares/{share_id}/edit", **form)
        assert response.status_code == 302
        actor = staff_email(app, agent)
    else:
        response = app.test_client().put(
            f"/api/v3/shares/{share_id}", json={"period": 3}, headers=bearer(agent_token)
        )
        assert response.status_code == 200
        actor = "token:robot"
    new = factories.share_data(app, share_id)
    expected = resolve_expiry(
        created_at=datetime.fromisoformat(old["created_at"]), tz="UTC", period=3,
        period_type=PeriodType.DAYS, absolute_expiry=None,
    )  # fmt: skip
    assert new["expires_at"] == to_utc_z(expected) != old["expires_at"]
    assert events_after(app, before) == [
        {
            "action": "edit",
            "actor": actor,
            "share_id": share_id,
            "share_handle": handle,
            "changes": {
                "period": [2, 3],
                "expires_at": [old["expires_at"], new["expires_at"]],
                **touched(old, new),
            },
        }
    ]


@pytest.mark.parametrize("surface", ["html", "api"])
def test_an_edit_that_changes_nothing_writes_no_event(app, agent, agent_token, surface):
    share_id = factories.share(app, **SECURED, meta=["a"])
    before = last_event_id(app)
    if surface == "html":
        form = {"code": SHARE_CODE, "period": "2", "period_type": "days", "absolute_expiry": "",
                "expires_at": "", "meta": "a"}  # fmt: skip
        assert form_post(agent, f"/shares/{share_id}/edit", **form).status_code == 302
    else:
        response = app.test_client().put(
            f"/api/v3/shares/{share_id}", json={"period": 2, "meta": ["a"]},
            headers=bearer(agent_token),
        )  # fmt: skip
        assert response.status_code == 200
    assert events_after(app, before) == []


@pytest.mark.parametrize("surface", ["html", "api"])
def test_claim_writes_one_event_with_the_claimer_and_count(app, agent, agent_token, surface):
    share_id = factories.share(app, **SECURED, is_cloneable=True, remaining_quantity=5)
    handle = factories.handle_of(app, share_id)
    old = factories.share_data(app, share_id)
    before = last_event_id(app)
    claim = {"profile_id": "claimer-9", "code": SHARE_CODE}
    if surface == "html":
        response = form_post(agent, f"/shares/{share_id}/claim", **claim)
        assert response.status_code == 302
        actor = staff_email(app, agent)
    else:
        response = app.test_client().post(
            f"/api/v3/shares/{share_id}/claim", json=claim, headers=bearer(agent_token)
        )
        assert response.status_code == 201
        actor = "token:robot"
    new = factories.share_data(app, share_id)
    assert new["remaining_quantity"] == 4
    [event] = events_after(app, before)
    # The event names the claim it made (whose record holds the claimer) and what the claim did
    # to the share.
    [claimed] = factories.claim_rows(app, share_id)
    assert claimed["profile_id"] == "claimer-9"
    assert event == {
        "action": "claim",
        "actor": actor,
        "share_id": share_id,
        "share_handle": handle,
        "claim_id": claimed["id"],
        "changes": {"remaining_quantity": [5, 4], **touched(old, new)},
    }


def test_a_claim_of_an_unlimited_share_records_no_count(app, agent):
    share_id = factories.share(app, **SECURED, is_cloneable=True, remaining_quantity=None)
    before = last_event_id(app)
    assert (
        form_post(agent, f"/shares/{share_id}/claim", profile_id="c", code=SHARE_CODE).status_code
        == 302
    )
    [event] = events_after(app, before)
    assert "remaining_quantity" not in event["changes"]  # unlimited before and after
    assert event["claim_id"] == factories.claim_rows(app, share_id)[0]["id"]


@pytest.mark.parametrize("surface", ["html", "api"])
def test_delete_writes_one_event_with_what_went(app, client, token, surface):
    share_id = factories.share(app, **SECURED, meta=["kept in the trail"])
    handle = factories.handle_of(app, share_id)
    old = factories.share_data(app, share_id)
    before = last_event_id(app)
    if surface == "html":
        response = form_post(client, f"/shares/{share_id}/delete")
        assert response.status_code == 302
        actor = staff_email(app, client)
    else:
        response = app.test_client().delete(f"/api/v3/shares/{share_id}", headers=bearer(token))
        assert response.status_code == 204
        actor = "token:tests"
    assert factories.share_data(app, share_id) is None
    [event] = events_after(app, before)
    assert event == {
        "action": "delete",
        "actor": actor,
        "share_id": share_id,
        "share_handle": handle,
        "changes": deleted(old),
    }
    assert event["changes"]["meta"] == [["kept in the trail"], None]
    assert event["changes"]["code"] == [SHARE_CODE, None]


# Failed actions: (who, method, path, body) with {id} for the share; each must leave no trace.
FAILED = {
    "html create 422": ("agent", "POST", "/shares/new", {"profile_id": "", "source_id": "x"}, 422),
    "api create 422": ("robot", "POST", "/api/v3/shares", {"profile_id": "p"}, 422),
    "api create 403": ("viewer-token", "POST", "/api/v3/shares", NEW_JSON, 403),
    "html edit 422": ("agent", "POST", "/shares/{id}/edit",
                      {"code": SHARE_CODE, "period": "three", "period_type": "days"}, 422),
    "api edit 422": ("robot", "PUT", "/api/v3/shares/{id}", {"period": "three"}, 422),
    "html claim wrong code": ("agent", "POST", "/shares/{id}/claim",
                              {"profile_id": "c", "code": "WRONG"}, 422),
    "api claim own share": ("robot", "POST", "/api/v3/shares/{id}/claim",
                            {"profile_id": "owner-1", "code": SHARE_CODE}, 422),
    "api claim wrong code": ("robot", "POST", "/api/v3/shares/{id}/claim",
                             {"profile_id": "c", "code": "WRONG"}, 422),
    "html delete by agent": ("agent", "POST", "/shares/{id}/delete", {}, 403),
    "api delete by agent": ("robot", "DELETE", "/api/v3/shares/{id}", None, 403),
    "html claim by viewer": ("viewer", "POST", "/shares/{id}/claim",
                             {"profile_id": "c", "code": SHARE_CODE}, 403),
}  # fmt: skip


@pytest.mark.parametrize("case", FAILED.values(), ids=FAILED.keys())
def test_a_failed_action_writes_no_audit_row(app, client_as, agent_token, token_for, case):
    who, method, path, body, status = case
    share_id = factories.share(app, **SECURED)
    path = path.format(id=share_id)
    if who in ("robot", "viewer-token"):
        plain = agent_token if who == "robot" else token_for("viewer")
        client, kwargs = app.test_client(), {"headers": bearer(plain), "json": body}
    else:
        client = client_as(who)
        kwargs = {"data": {"csrf_token": csrf_token(client), **(body or {})}}
    before, mark = fingerprint(app), last_event_id(app)
    response = client.open(path, method=method, **kwargs)
    assert response.status_code == status
    assert events_after(app, mark) == []
    assert fingerprint(app) == before


def test_a_claim_that_runs_out_writes_no_audit_row(app, agent):
    share_id = factories.share(app, **SECURED, remaining_quantity=0)
    mark = last_event_id(app)
    response = form_post(agent, f"/shares/{share_id}/claim", profile_id="c", code=SHARE_CODE)
    assert response.status_code == 422
    assert "The share has no claims left." in response.get_data(as_text=True)
    assert events_after(app, mark) == []


def test_the_detail_page_shows_the_share_history(app, agent):
    share_id = factories.share(app, **SECURED)
    form = {"code": SHARE_CODE, "period": "3", "period_type": "days"}
    assert form_post(agent, f"/shares/{share_id}/edit", **form).status_code == 302
    assert (
        form_post(agent, f"/shares/{share_id}/claim", profile_id="c-1", code=SHARE_CODE).status_code
        == 302
    )
    page = agent.get(f"/shares/{share_id}").get_data(as_text=True)
    history = page.split('id="history-title"', 1)[1]
    rows = re.findall(r"<tr>\s*<td><time.*?</tr>", history, re.S)
    assert len(rows) == 3  # create (by system), edit, claim; newest first
    email = staff_email(app, agent)
    assert f"<td>{email}</td>" in rows[0] and "<td>claim</td>" in rows[0]
    assert 'by <a href="/profiles/c-1">c-1</a>' in rows[0]  # the claimer, linked
    assert "<strong>remaining_quantity</strong>: 1 → 0" in rows[0]
    assert f"<td>{email}</td>" in rows[1] and "<td>edit</td>" in rows[1]
    assert "<strong>period</strong>: 2 → 3" in rows[1]
    assert "<td>system</td>" in rows[2] and "<td>create</td>" in rows[2]


def test_history_survives_the_share(app, client):
    """After a delete the events stay, and the id is never reused by a new share."""
    share_id = factories.share(app, **SECURED)
    assert form_post(client, f"/shares/{share_id}/delete").status_code == 302
    new_id = factories.share(app, **SECURED)
    assert new_id != share_id
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.share_id == share_id)
        ).all()
    assert actions == ["create", "delete"]
    page = client.get(f"/shares/{new_id}").get_data(as_text=True)
    assert "<td>delete</td>" not in page


# --- the audit page ------------------------------------------------------------------------


def audit_rows(response) -> list[str]:
    page = response.get_data(as_text=True)
    if "No events match." in page:
        return []
    body = re.search(r'<table class="audit">.*?<tbody>(.*?)</tbody>', page, re.S)[1]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def bulk_shares(app, count: int, actor: str) -> None:
    """``count`` create events by ``actor``: shares made (audited as ``system``), then their
    events handed to ``actor``."""
    made = factories.shares(
        app, *({"profile_id": f"bulk-{n}", "source_id": n + 1} for n in range(count))
    )
    with app.app_context():
        db.session.execute(
            sa.update(AuditEvent).where(AuditEvent.share_id.in_(made)).values(actor=actor)
        )
        db.session.commit()


def test_the_audit_page_pages_through_many_events(app, client):
    bulk_shares(app, 55, "bulk@example.com")
    with app.app_context():
        total = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    first = client.get("/admin/audit?actor=bulk%40example.com")
    assert first.status_code == 200
    rows = audit_rows(first)
    assert len(rows) == 50
    assert all("<td>bulk@example.com</td>" in row and "<td>create</td>" in row for row in rows)
    page = first.get_data(as_text=True)
    assert "Page 1 of 2 (55 events)" in page
    assert 'href="/admin/audit?page=2&amp;actor=bulk@example.com" rel="next"' in page
    # Newest first: bulk-54 leads page one, bulk-0 ends page two.
    assert "bulk-54" in rows[0]
    second = client.get("/admin/audit?page=2&actor=bulk%40example.com")
    rows = audit_rows(second)
    assert len(rows) == 5
    assert "bulk-0" in rows[-1]
    assert 'rel="prev"' in second.get_data(as_text=True)
    assert 'rel="next"' not in second.get_data(as_text=True)
    # Unfiltered, every event counts.
    assert f"({total} events)" in client.get("/admin/audit").get_data(as_text=True)
    # A page past the end is empty, not an error.
    beyond = client.get("/admin/audit?page=9&actor=bulk%40example.com")
    assert beyond.status_code == 200
    assert audit_rows(beyond) == []


def test_the_audit_page_filters_by_actor_action_and_dates(app, client, agent):
    share_id = factories.share(app, **SECURED, is_cloneable=True, remaining_quantity=None)
    assert (
        form_post(agent, f"/shares/{share_id}/claim", profile_id="c-1", code=SHARE_CODE).status_code
        == 302
    )
    assert (
        form_post(agent, f"/shares/{share_id}/claim", profile_id="c-2", code=SHARE_CODE).status_code
        == 302
    )
    bulk_shares(app, 3, "old@example.com")
    with app.app_context():
        for event in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.actor == "old@example.com")
        ):
            event.at = datetime(2024, 1, 10, 12, 0, tzinfo=UTC)
        db.session.commit()
    email = staff_email(app, agent)

    rows = audit_rows(client.get("/admin/audit", query_string={"actor": email}))
    assert len(rows) == 2 and all("<td>claim</td>" in row for row in rows)
    rows = audit_rows(client.get("/admin/audit?action=claim"))
    assert len(rows) == 2 and all(f"<td>{email}</td>" in row for row in rows)
    rows = audit_rows(client.get("/admin/audit?action=create&since=2024-01-10&until=2024-01-10"))
    assert len(rows) == 3 and all("<td>old@example.com</td>" in row for row in rows)
    rows = audit_rows(client.get("/admin/audit?until=2024-01-09"))
    assert rows == []
    rows = audit_rows(client.get("/admin/audit?since=2024-01-11&action=create"))
    assert len(rows) == 1 and "<td>system</td>" in rows[0]
    response = client.get("/admin/audit?actor=nobody")
    assert response.status_code == 200
    assert "No events match." in response.get_data(as_text=True)


def test_the_audit_page_links_each_share_to_its_page_or_says_it_was_deleted(app, client):
    kept, gone = factories.shares(app, {"profile_id": "kept"}, {"profile_id": "gone"})
    kept_handle, gone_handle = factories.handle_of(app, kept), factories.handle_of(app, gone)
    assert form_post(client, f"/shares/{gone}/delete").status_code == 302

    rows = audit_rows(client.get("/admin/audit?kind=share"))
    cells = [re.findall(r"<td>(.*?)</td>", row, re.S)[3] for row in rows]
    link = f'<a href="/shares/{kept}"><code>{kept_handle}</code></a>'
    deleted = f'<code>{gone_handle}</code> <span class="muted">(deleted)</span>'
    assert cells == [deleted, deleted, link]  # newest first: the delete, then both creates
    # On a share's own page its History names it without a link to itself.
    history = client.get(f"/shares/{kept}").get_data(as_text=True).split('id="history-title"')[1]
    assert f"<td><code>{kept_handle}</code></td>" in history


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("since=yesterday", "Not a valid date value."),
        ("action=drop", "Not a valid choice."),
        ("page=99999999999999999999999", "The page field must be between 1 and 1000000000."),
        ("page=0", "The page field must be between 1 and 1000000000."),
        ("page=-1", "The page field must be between 1 and 1000000000."),
        ("page=2&page=3", "The page parameter must be given once, not 2 times."),
        ("actor=a&actor=b", "The actor parameter must be given once, not 2 times."),
    ],
)
def test_a_bad_audit_filter_is_422_with_the_reason(client, query, message):
    response = client.get(f"/admin/audit?{query}")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_audit_page_links_keep_only_the_filters(app, client):
    """Other parameters (even url_for's own, such as ``_method``) are not carried into links."""
    bulk_shares(app, 55, "bulk@example.com")
    response = client.get("/admin/audit?actor=bulk%40example.com&_method=DELETE&_anchor=x")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'href="/admin/audit?page=2&amp;actor=bulk@example.com" rel="next"' in page
    # The last page a number can name is simply empty.
    beyond = client.get("/admin/audit?page=1000000000")
    assert beyond.status_code == 200
    assert audit_rows(beyond) == []


# --- staff and token changes are audited ---------------------------------------------------


def test_staff_changes_are_audited(app, client):
    admin = staff_email(app, client)
    mark = last_event_id(app)
    response = form_post(
        client, "/admin/staff", email="New@Example.com", role="agent", password="a long password!"
    )
    assert response.status_code == 302
    assert "Staff account new@example.com created (Agent)." in (
        client.get("/admin/staff").get_data(as_text=True)
    )
    with app.app_context():
        member = Staff.by_email("new@example.com")
        member_id, password_hash = member.id, member.password_hash
    assert password_hash.startswith(factories.APP_HASH_PREFIX)
    assert form_post(client, f"/admin/staff/{member_id}", role="admin").status_code == 302
    assert form_post(client, f"/admin/staff/{member_id}", active="0").status_code == 302
    assert form_post(client, f"/admin/staff/{member_id}", active="1").status_code == 302
    events = events_after(app, mark)
    assert all(e["actor"] == admin and e["action"] == "staff" for e in events)
    assert [e["changes"] for e in events] == [
        {"email": [None, "new@example.com"], "role": [None, "agent"], "is_active": [None, True]},
        {"email": ["new@example.com"] * 2, "role": ["agent", "admin"]},
        {"email": ["new@example.com"] * 2, "is_active": [True, False]},
        {"email": ["new@example.com"] * 2, "is_active": [False, True]},
    ]
    # No password or hash in the trail.
    assert all("password" not in str(e["changes"]) for e in events)
    # The page names the member once, not as a change from their email to itself.
    row = audit_rows(client.get("/admin/audit?action=staff"))[0]
    assert "<strong>email</strong>: new@example.com</li>" in row
    assert "<strong>is_active</strong>: False → True</li>" in row


def test_an_admin_cannot_change_themselves_and_nothing_is_recorded(app, client):
    with client.session_transaction() as session:
        own_id = session["staff_id"]
    before = fingerprint(app)
    response = form_post(client, f"/admin/staff/{own_id}", active="0")
    assert response.status_code == 302
    assert "You cannot change your own role or deactivate yourself." in (
        client.get("/admin/staff").get_data(as_text=True)
    )
    assert form_post(client, f"/admin/staff/{own_id}", role="viewer").status_code == 302
    assert fingerprint(app) == before


def test_a_bad_staff_form_is_422_and_records_nothing(app, client):
    factories.staff(app, "taken@example.com", "viewer")
    before = fingerprint(app)
    for data, message in [
        ({"email": "taken@example.com", "role": "agent", "password": "a long password!"},
         "A staff account with this email exists already."),
        ({"email": "short@example.com", "role": "agent", "password": "short"},
         "The password must be at least 12 characters."),
        ({"email": "role@example.com", "role": "owner", "password": "a long password!"},
         "Choose a role: viewer, agent or admin."),
    ]:  # fmt: skip
        response = form_post(client, "/admin/staff", **data)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert fingerprint(app) == before


def test_token_changes_are_audited_from_the_browser_and_the_cli(app, client):
    admin = staff_email(app, client)
    mark = last_event_id(app)
    create_token_in_browser(client, "web-made", "viewer")
    result = app.test_cli_runner().invoke(args=["tokens", "create", "cli-made", "--role", "admin"])
    assert result.exit_code == 0
    events = events_after(app, mark)
    assert events == [
        {"action": "token", "actor": admin, "share_id": None, "share_handle": None,
         "changes": {"name": [None, "web-made"], "role": [None, "viewer"]}},
        {"action": "token", "actor": CLI_ACTOR, "share_id": None, "share_handle": None,
         "changes": {"name": [None, "cli-made"], "role": [None, "admin"]}},
    ]  # fmt: skip
    # No token or hash in the trail.
    with app.app_context():
        hashes = db.session.scalars(sa.select(ApiToken.token_hash)).all()
    assert not any(h in str(events) for h in hashes)


def test_using_a_token_is_not_a_change(app, token):
    mark = last_event_id(app)
    assert app.test_client().get("/api/v3/shares", headers=bearer(token)).status_code == 200
    assert events_after(app, mark) == []


def test_signing_in_is_a_security_event_not_a_change(app):
    """A sign-in is recorded (issue 17), as itself: no staff change is written for it."""
    factories.staff(app, "quiet@example.com", "viewer")
    mark = last_event_id(app)
    assert sign_in(app.test_client(), "quiet@example.com", STAFF_PASSWORD).status_code == 302
    assert events_after(app, mark) == [
        {"action": "sign_in", "actor": "quiet@example.com", "share_id": None,
         "share_handle": None, "changes": {"address": [None, "127.0.0.1"]}},
    ]  # fmt: skip


# --- security events -----------------------------------------------------------------------


def test_sign_ins_failures_lock_outs_sign_outs_and_exports_are_in_the_trail(app, client):
    factories.staff(app, "ann@example.com", "viewer")
    mark = last_event_id(app)
    stranger = app.test_client()
    for n in range(5):
        assert (
            sign_in(stranger, "ann@example.com", f"guess {n}", address="203.0.113.9").status_code
            == 422
        )
    # Locked: refused before any check, and not recorded again for every knock.
    assert (
        sign_in(stranger, "ann@example.com", STAFF_PASSWORD, address="203.0.113.9").status_code
        == 429
    )
    ann = app.test_client()
    assert sign_in(ann, "ann@example.com", STAFF_PASSWORD, address="192.0.2.7").status_code == 302
    assert ann.get("/shares/export.csv?filter%5Bstatus%5D=active").status_code == 200
    assert ann.post("/sign-out", data={"csrf_token": csrf_token(ann)}).status_code == 302

    events = events_after(app, mark)
    assert [(e["action"], e["actor"]) for e in events] == [
        *[("sign_in_failed", "ann@example.com")] * 5,
        ("lock_out", "ann@example.com"),
        ("sign_in", "ann@example.com"),
        ("export", "ann@example.com"),
        ("sign_out", "ann@example.com"),
    ]
    assert events[0]["changes"] == {"address": [None, "203.0.113.9"]}
    lock = events[5]["changes"]
    assert lock["address"] == [None, "203.0.113.9"]
    assert lock["locked"] == [None, "this email from this address"]
    until = datetime.fromisoformat(lock["until"][1])
    assert timedelta(minutes=14) < until - datetime.now(UTC) <= timedelta(minutes=15)
    assert events[6]["changes"] == {"address": [None, "192.0.2.7"]}
    # The filters as people read them, not a query string.
    assert events[7]["changes"] == {"filters": [None, "Status: Active"]}
    assert events[8]["changes"] == {}
    assert all(e["share_id"] is None for e in events)
    # Nothing secret in them: no password tried, no token.
    assert "guess" not in str(events) and STAFF_PASSWORD not in str(events)


def test_an_export_is_audited_with_its_filters_in_words(app, client):
    mark = last_event_id(app)
    assert client.get("/shares/export.csv").status_code == 200
    query = "filter%5Bsource_type%5D=reward&filter%5Bcode%5D=A%26B&sort=-id&page%5Bsize%5D=5"
    assert client.get(f"/shares/export.csv?{query}").status_code == 200
    filters = [event["changes"]["filters"][1] for event in events_after(app, mark)]
    # What chose the rows, as the bulk confirmation says it: not the sort or the page size.
    assert filters == ["none: every share", "Source type: Reward; Code: A&B"]


def test_the_audit_page_shows_security_events_on_their_own(app, client):
    factories.share(app)
    sign_in(app.test_client(), "nobody@example.com", "guess")
    security = audit_rows(client.get("/admin/audit?kind=security"))
    assert len(security) == 1
    assert "<td>sign_in_failed</td>" in security[0] and "<td>nobody@example.com</td>" in security[0]
    shares = audit_rows(client.get("/admin/audit?kind=share"))
    assert len(shares) == 1 and "<td>create</td>" in shares[0]
    page = client.get("/admin/audit").get_data(as_text=True)
    assert '<option value="security">Security events</option>' in page
    assert '<option value="sign_in_failed">sign_in_failed</option>' in page
    response = client.get("/admin/audit?kind=everything")
    assert response.status_code == 422
    assert "Not a valid choice." in response.get_data(as_text=True)
