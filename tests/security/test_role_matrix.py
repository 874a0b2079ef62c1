"""Who may reach which route: every route of the app against anonymous, viewer, agent and admin.

The matrix below is the one list of routes and the least role each needs; a test walks the
app's URL map so that a new route fails the suite until it is added here.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import pytest

from tests import factories
from tests.conftest import make_app, signed_in
from tests.contract import bearer
from tests.database import unreachable_url
from tests.factories import STAFF_PASSWORD
from tests.pages import csrf_token
from tests.security.helpers import SECURED, SHARE_CODE, fingerprint
from webapp import create_app
from webapp.auth import PUBLIC_ENDPOINTS
from webapp.enums import Role
from webapp.extensions import db
from webapp.models import ApiToken, Share, Staff

ANONYMOUS = "anonymous"
WHO = [ANONYMOUS, *(role.value for role in Role)]
API_401 = "Unauthenticated. Send 'Authorization: Bearer <token>'."
HTML_403 = "You are not allowed to do this."


@dataclass(frozen=True)
class Case:
    """One route and method, the least role it needs, and what success looks like."""

    method: str
    rule: str
    endpoint: str
    role: Role
    ok: int
    body: dict | None = None
    changes: bool = False
    location: str | None = None  # regex for the path a successful 302 points to
    content_type: str = "text/html"
    extra: dict = field(default_factory=dict)

    @property
    def api(self) -> bool:
        return self.rule.startswith("/api/")

    def path(self, world: dict) -> str:
        return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(world[m[1]]), self.rule)

    def __str__(self) -> str:
        return f"{self.method} {self.rule}"


NEW_SHARE = {"profile_id": "new-1", "source_type": "reward", "source_id": "5", "timezone": "UTC"}
EDIT = {"code": SHARE_CODE, "period": "3", "period_type": "days"}
CLAIM = {"profile_id": "claimer-1", "code": SHARE_CODE}
CHECK = {"check-profile_id": "claimer-1", "check-code": SHARE_CODE}
NEW_STAFF = {"email": "new.staff@example.com", "role": "agent", "password": "a long password!"}
NEW_PASSWORD = {
    "current_password": STAFF_PASSWORD,
    "new_password": "another long password",
    "confirm": "another long password",
}
JSON = "application/json"
IMPORT_CSV = factories.IMPORT_CSV.replace(b"imported-1", b"uploaded-1")
#: Every share of the world (it has one), with the count its confirmation named.
BULK_ALL = {"all": "1", "count": "1", "form_id": "role-matrix-form"}
V, AG, AD = Role.VIEWER, Role.AGENT, Role.ADMIN

CASES = [
    Case("GET", "/", "shares.index", V, 200),
    Case("GET", "/account", "account.settings", V, 200),
    Case("POST", "/account", "account.settings", V, 302, {"timezone": "Asia/Tokyo"}, True,
         "/account"),
    Case("POST", "/account/zone/detected", "account.detected_zone", V, 204,
         {"timezone": "Asia/Tokyo"}, True),
    Case("GET", "/shares/<int:share_id>/qr.svg", "shares.share_qr", V, 200,
         content_type="image/svg+xml"),
    Case("GET", "/docs/api/reference", "docs.api_reference", V, 200),
    Case("GET", "/docs/api/openapi.json", "docs.openapi_document", V, 200,
         content_type=JSON),
    Case("GET", "/shares", "shares.list_shares", V, 200),
    Case("GET", "/shares/results", "shares.list_results", V, 200),
    Case("GET", "/shares/export.csv", "shares.export_csv", V, 200, content_type="text/csv"),
    Case("GET", "/docs/api", "docs.api_docs", V, 200),
    Case("GET", "/shares/<int:share_id>", "shares.show_share", V, 200),
    Case("GET", "/shares/new", "shares.new_share", AG, 200),
    Case("POST", "/shares/new", "shares.new_share", AG, 302, NEW_SHARE, True, r"/shares/\d+"),
    Case("POST", "/shares/preview", "shares.preview_expiry", AG, 200, {"period": "3"}),
    Case("POST", "/shares/<int:share_id>/preview", "shares.preview_expiry", AG, 200, EDIT),
    Case("GET", "/shares/<int:share_id>/edit", "shares.edit_share", AG, 200),
    Case("POST", "/shares/<int:share_id>/edit", "shares.edit_share", AG, 302, EDIT, True,
         r"/shares/\d+"),
    Case("POST", "/shares/<int:share_id>/claim", "shares.claim", AG, 302, CLAIM, True,
         r"/shares/\d+"),
    Case("POST", "/shares/<int:share_id>/claim-check", "shares.claim_check", V, 200, CHECK),
    Case("GET", "/shares/<int:share_id>/expire", "shares.expire_share", AG, 200),
    Case("POST", "/shares/<int:share_id>/expire", "shares.expire_share", AG, 302, {}, True,
         r"/shares/\d+"),
    Case("POST", "/shares/<int:share_id>/extend", "shares.extend_share", AG, 302, {}, True,
         r"/shares/\d+"),
    Case("GET", "/claims", "people.list_claims", V, 200),
    Case("GET", "/claims/results", "people.claims_results", V, 200),
    Case("GET", "/profiles", "people.profile_by_query", V, 200),
    Case("GET", "/profiles/<path:profile_id>", "people.profile", V, 200),
    Case("GET", "/shares/<int:share_id>/delete", "shares.delete_share", AD, 200),
    Case("POST", "/shares/<int:share_id>/delete", "shares.delete_share", AD, 302, {}, True,
         "/shares"),
    Case("POST", "/sign-out", "auth.sign_out", V, 302, {}, location="/sign-in"),
    Case("GET", "/account/password", "auth.change_password", V, 200),
    Case("POST", "/account/password", "auth.change_password", V, 302, NEW_PASSWORD, True,
         "/shares"),
    Case("GET", "/admin/staff", "admin.staff", AD, 200),
    Case("POST", "/admin/staff", "admin.staff", AD, 302, NEW_STAFF, True, "/admin/staff"),
    Case("POST", "/admin/staff/<int:staff_id>", "admin.update_staff", AD, 302, {"role": "agent"},
         True, "/admin/staff"),
    Case("GET", "/admin/staff/<int:staff_id>/deactivate", "admin.deactivate_staff", AD, 200),
    Case("POST", "/admin/staff/<int:staff_id>/password", "admin.reset_password", AD, 302,
         {"password": "a temporary password"}, True, "/admin/staff"),
    Case("GET", "/admin/tokens", "admin.tokens", AD, 200),
    Case("POST", "/admin/tokens", "admin.tokens", AD, 200, {"name": "made", "role": "viewer"},
         True),
    Case("GET", "/admin/tokens/<int:token_id>/revoke", "admin.revoke_token", AD, 200),
    Case("POST", "/admin/tokens/<int:token_id>/revoke", "admin.revoke_token", AD, 302, {}, True,
         "/admin/tokens"),
    Case("GET", "/admin/audit", "admin.audit", AD, 200),
    Case("GET", "/api/v3/openapi.json", "api.openapi_document", V, 200, content_type=JSON),
    Case("GET", "/api/v3/shares", "api.list_shares", V, 200, content_type=JSON),
    Case("GET", "/api/v3/shares/<int:share_id>", "api.get_share", V, 200, content_type=JSON),
    Case("POST", "/api/v3/shares", "api.create_share", AG, 201,
         {"profile_id": "new-1", "source_type": "reward", "source_id": 5}, True,
         content_type=JSON),
    Case("PUT", "/api/v3/shares/<int:share_id>", "api.update_share", AG, 200, {"period": 3}, True,
         content_type=JSON),
    Case("POST", "/api/v3/shares/<int:share_id>/claim", "api.claim", AG, 201, CLAIM, True,
         content_type=JSON),
    Case("DELETE", "/api/v3/shares/<int:share_id>", "api.delete_share", AD, 204, None, True,
         content_type=""),
    Case("POST", "/api/v3/shares/<int:share_id>/claim-check", "api.claim_check", V, 200, CLAIM,
         content_type=JSON),
    Case("POST", "/api/v3/shares/<int:share_id>/expire", "api.expire_share", AG, 200, {}, True,
         content_type=JSON),
    Case("GET", "/api/v3/claims", "api.list_claims", V, 200, content_type=JSON),
    Case("GET", "/api/v3/claims/<int:claim_id>", "api.get_claim", V, 200, content_type=JSON),
    Case("GET", "/api/v3/events", "api.list_events", V, 200, content_type=JSON),
    Case("GET", "/shares/import", "imports.new_import", AG, 200),
    Case("POST", "/shares/import", "imports.upload", AG, 200, {"file": IMPORT_CSV}, True),
    Case("GET", "/shares/import/template.csv", "imports.template", AG, 200,
         content_type="text/csv"),
    Case("GET", "/shares/import/<int:import_id>", "imports.show_import", AG, 200),
    Case("POST", "/shares/import/<int:import_id>", "imports.confirm_import", AG, 302,
         {"form_id": "role-matrix-form"}, True, r"/shares/import/\d+"),
    # Without a selection, the confirmation sends back to the list.
    Case("GET", "/shares/bulk/expire", "bulk.expire", AG, 302, location="/shares"),
    Case("POST", "/shares/bulk/expire", "bulk.expire", AG, 302, BULK_ALL, True,
         r"/shares/bulk/jobs/\d+"),
    Case("GET", "/shares/bulk/delete", "bulk.delete", AD, 302, location="/shares"),
    Case("POST", "/shares/bulk/delete", "bulk.delete", AD, 302, BULK_ALL, True,
         r"/shares/bulk/jobs/\d+"),
    Case("GET", "/shares/bulk/jobs/<int:job_id>", "bulk.show_job", AG, 200),
    Case("GET", "/shares/bulk/jobs/<int:job_id>/progress", "bulk.job_progress", AG, 200),
    Case("POST", "/shares/bulk/jobs/<int:job_id>/resume", "bulk.resume_job", AG, 302, {}, True,
         r"/shares/bulk/jobs/\d+"),
]  # fmt: skip


@pytest.fixture
def world(app) -> dict:
    """A share, a viewer who is not the caller, and a live token for the routes that need ids;
    share links on, so a share has a QR code."""
    app.config["SHARE_LINK_TEMPLATE"] = "https://shop.example.com/s/{handle}"
    share_id = factories.share(app, **SECURED)
    staff_id = factories.staff(app, "target@example.com", Role.VIEWER)
    factories.token(app, "target-token", Role.VIEWER)
    with app.app_context():
        token_id = db.session.scalar(db.select(ApiToken.id).where(ApiToken.name == "target-token"))
    claim_id = factories.claim(app, share_id, "claimer-0")
    return {
        "import_id": factories.pending_import(app),
        "job_id": factories.bulk_job(app, "expire", [share_id], state="failed"),
        "share_id": share_id,
        "staff_id": staff_id,
        "token_id": token_id,
        "claim_id": claim_id,
        "profile_id": "owner-1",
    }


def location_path(response) -> str:
    return urlsplit(response.headers["Location"]).path


def send(app, client, case: Case, world: dict, token: str | None):
    """Make the case's request: JSON with a bearer token, or a form with a valid CSRF token."""
    kwargs: dict = {}
    if case.api:
        if token:
            kwargs["headers"] = bearer(token)
        if case.body is not None:
            kwargs["json"] = case.body
    elif case.method == "POST":
        # A file travels as an upload, made afresh for each request.
        body = {
            name: (io.BytesIO(value), "shares.csv") if isinstance(value, bytes) else value
            for name, value in (case.body or {}).items()
        }
        kwargs["data"] = {"csrf_token": csrf_token(client), **body}
    return client.open(case.path(world), method=case.method, **kwargs)


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_route_answers_according_to_role(app, anon_client, client_as, token_for, world, case, who):
    """Anonymous: sign-in or 401; below the route's role: 403; at or above: its own status."""
    token = None
    if who == ANONYMOUS or case.api:
        client = anon_client
        token = token_for(who) if case.api and who != ANONYMOUS else None
    else:
        client = client_as(who)
    before = fingerprint(app)
    response = send(app, client, case, world, token)
    after = fingerprint(app)
    path = case.path(world)

    if who == ANONYMOUS:
        assert after == before
        if case.api:
            assert response.status_code == 401
            assert response.get_json() == {"message": API_401}
            assert response.headers["WWW-Authenticate"] == "Bearer"
        else:
            assert response.status_code == 302
            target = urlsplit(response.headers["Location"])
            assert target.path == "/sign-in"
            assert parse_qs(target.query) == {"next": [path]}
        return

    if not Role(who).allows(case.role):
        assert response.status_code == 403
        assert after == before
        if case.api:
            assert response.get_json() == {"message": f"This token's role ({who}) may not do this."}
        else:
            page = response.get_data(as_text=True)
            assert "403" in page and HTML_403 in page
        return

    assert response.status_code == case.ok, response.get_data(as_text=True)[:2000]
    if case.ok == 204:
        assert response.data == b""
    else:
        assert response.mimetype == (case.content_type if case.ok != 302 else "text/html")
    if case.location:
        assert re.fullmatch(case.location, location_path(response))
    assert (after != before) == case.changes, (before, after)


def test_every_routed_endpoint_is_in_the_matrix(app, world):
    """A new route fails here until it is added to CASES with the role it needs."""
    routed = {
        (rule.endpoint, rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in PUBLIC_ENDPOINTS
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    covered = {(case.endpoint, case.rule, case.method) for case in CASES}
    assert routed - covered == set(), "routes missing from the role matrix"
    assert covered - routed == set(), "matrix cases for routes that do not exist"
    adapter = app.url_map.bind("localhost")
    for case in CASES:
        endpoint, _ = adapter.match(case.path(world), method=case.method)
        assert endpoint == case.endpoint
        # The decorator and the matrix agree on the least role.
        assert app.view_functions[case.endpoint].required_role is case.role, case


def test_only_sign_in_static_health_and_metrics_answer_without_credentials(app, anon_client, world):
    """Every other rule of the URL map sends an anonymous caller to sign in, or answers 401.

    The metrics decide for themselves (this machine or their token: tests/web/test_telemetry.py).
    """
    assert {"auth.sign_in", "static", "health.healthz", "metrics.metrics"} == PUBLIC_ENDPOINTS
    token = csrf_token(anon_client)
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        path = re.sub(r"<int:(\w+)>", lambda m: str(world[m[1]]), rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            data = {"csrf_token": token} if method == "POST" else None
            response = anon_client.open(path, method=method, data=data)
            if rule.rule.startswith("/api/"):
                assert response.status_code == 401, (method, path)
                assert response.get_json() == {"message": API_401}
            else:
                assert response.status_code == 302, (method, path)
                assert location_path(response) == "/sign-in"
            checked += 1
    assert checked == len(CASES)

    response = anon_client.get("/sign-in")
    assert response.status_code == 200
    assert "Sign in to Share Desk" in response.get_data(as_text=True)
    response = anon_client.get("/static/css/app.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    response = anon_client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "reachable"}
    response = anon_client.get("/metrics")  # the test client asks from 127.0.0.1
    assert response.status_code == 200
    assert response.mimetype == "text/plain"


def test_healthz_says_when_the_database_is_unreachable(tmp_path):
    """503 with JSON, not a 500 page, when the database cannot be opened."""
    broken = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": unreachable_url(tmp_path),
        }
    )
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unreachable"}


def test_healthz_says_when_the_database_has_no_tables(bare_app):
    """A database never initialised, or a file replaced under the running server: every other
    request would fail, so the health check must not say all is well."""
    response = bare_app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "not initialised: run init-db"}


def test_the_api_ignores_a_session_cookie(client, world):
    """A signed-in browser cannot use the API without a token (so no CSRF through the API)."""
    response = client.get("/api/v3/shares")
    assert response.status_code == 401
    assert response.get_json() == {"message": API_401}
    response = client.delete(f"/api/v3/shares/{world['share_id']}")
    assert response.status_code == 401


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer sd_not-a-token", "Basic abc", "sd_x"])
def test_a_bad_bearer_token_is_401(app, anon_client, world, header):
    response = anon_client.get("/api/v3/shares", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json() == {"message": API_401}


def test_htmx_requests_without_a_session_are_told_to_go_to_sign_in(anon_client):
    """An htmx fragment request gets HX-Redirect (a 200) instead of a sign-in page to swap in."""
    response = anon_client.get("/shares/results", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.get_data(as_text=True) == ""
    target = urlsplit(response.headers["HX-Redirect"])
    assert target.path == "/sign-in"
    assert parse_qs(target.query) == {"next": ["/shares/results"]}


def test_an_endpoint_without_requires_is_for_admins_only(tmp_path):
    """Deny by default: a view that states no role is refused to viewers and agents."""
    app = make_app(tmp_path)
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret admin thing")
    for role, status in (("viewer", 403), ("agent", 403), ("admin", 200)):
        response = signed_in(app, role).get("/forgotten")
        assert response.status_code == status, role
        assert ("secret admin thing" in response.get_data(as_text=True)) == (status == 200)
    response = app.test_client().get("/forgotten")
    assert response.status_code == 302
    assert location_path(response) == "/sign-in"


def test_a_role_change_or_deactivation_takes_effect_on_the_next_request(app, client_as):
    """Roles are read from the database on every request, not cached in the session."""
    agent = client_as("agent")
    assert agent.get("/shares/new").status_code == 200
    with app.app_context():
        member = db.session.scalar(db.select(Staff).where(Staff.role == Role.AGENT))
        member.role = Role.VIEWER
        db.session.commit()
        member_id = member.id
    assert agent.get("/shares/new").status_code == 403
    with app.app_context():
        db.session.get(Staff, member_id).is_active = False
        db.session.commit()
    response = agent.get("/shares")
    assert response.status_code == 302
    assert location_path(response) == "/sign-in"


# --- what each role is shown ---------------------------------------------------------------


def hrefs(page: str) -> set[str]:
    return set(re.findall(r'\b(?:href|action)="([^"]+)"', page))


@pytest.mark.parametrize("who", ["viewer", "agent", "admin"])
def test_pages_show_only_what_the_role_may_use(app, client_as, who):
    share_id = factories.share(app, **SECURED)
    client = client_as(who)
    role = Role(who)
    listing = client.get("/shares").get_data(as_text=True)
    detail = client.get(f"/shares/{share_id}").get_data(as_text=True)

    may_edit, may_delete, is_admin = role.allows(AG), role.allows(AD), role is AD
    assert ("/shares/new" in hrefs(listing)) == may_edit
    assert ("New share" in listing) == may_edit
    assert (f"/shares/{share_id}/edit" in hrefs(detail)) == may_edit
    assert (">Edit</a>" in detail) == may_edit
    assert (f"/shares/{share_id}/claim" in hrefs(detail)) == may_edit
    assert ("Claim this share" in detail) == may_edit
    assert ('name="profile_id"' in detail) == may_edit
    assert (f"/shares/{share_id}/delete" in hrefs(detail)) == may_delete
    assert (">Delete</a>" in detail) == may_delete
    admin_links = {"/admin/staff", "/admin/tokens", "/admin/audit"}
    for page in (listing, detail):
        shown = hrefs(page) & admin_links
        assert shown == (admin_links if is_admin else set())
        assert (">Staff</a>" in page) == is_admin
        assert (">API tokens</a>" in page) == is_admin
        assert (">Audit</a>" in page) == is_admin
        # Everyone sees who they are and can sign out.
        assert 'action="/sign-out"' in page
        assert f"· {role.label}</span>" in page


def test_a_viewer_is_not_offered_to_create_the_first_share(client_as):
    page = client_as("viewer").get("/shares").get_data(as_text=True)
    assert "No shares yet." in page
    assert "Create the first share" not in page
    page = client_as("agent").get("/shares").get_data(as_text=True)
    assert "Create the first share" in page


def test_the_sign_in_page_shows_no_navigation(anon_client):
    page = anon_client.get("/sign-in").get_data(as_text=True)
    assert 'aria-label="Main"' not in page
    assert "Sign out" not in page
    assert not hrefs(page) & {"/shares/new", "/admin/staff", "/admin/tokens", "/admin/audit"}


def test_shares_survive_a_refused_delete(app, client_as, world):
    """Belt and braces for the most destructive route: an agent's delete leaves the row."""
    agent = client_as("agent")
    response = agent.post(
        f"/shares/{world['share_id']}/delete", data={"csrf_token": csrf_token(agent)}
    )
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(Share, world["share_id"]) is not None
