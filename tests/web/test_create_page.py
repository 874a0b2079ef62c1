"""The HTML pages through the test client, with CSRF on (the conftest default)."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from tests import factories
from tests.conftest import make_app, signed_in
from tests.pages import csrf_token
from webapp.clock import utcnow
from webapp.enums import PeriodType, SourceType
from webapp.expiry import resolve_expiry, to_utc_z
from webapp.extensions import db

MELBOURNE = "Australia/Melbourne"
FIELD_NAMES = [
    "profile_id", "source_id", "source_type", "code", "timezone", "period", "period_type",
    "absolute_expiry", "expires_at", "quantity", "remaining_quantity", "meta", "is_cloneable",
]  # fmt: skip
# quantity is always 1, so the form may leave it out; every other field must be there.
FORM_FIELDS = [name for name in FIELD_NAMES if name != "quantity"]
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
XSS = "<script>alert(1)</script>"


def valid_form(**overrides) -> dict:
    form = {
        "profile_id": "customer-9",
        "source_type": "reward",
        "source_id": "77",
        "timezone": MELBOURNE,
        "period": "2",
        "period_type": "weeks",
        "absolute_expiry": "",
        "expires_at": "",
        "code": "WELCOME",
        "remaining_quantity": "",
        "meta": "campaign:summer\n\n   channel:app  \r\nthird",
    }
    form.update(overrides)
    return form


def post_form(client, data: dict, path: str = "/shares/new"):
    return client.post(path, data={"csrf_token": csrf_token(client, "/shares/new"), **data})


def field_block(page: str, name: str) -> str:
    """The ``<div class="field ...">`` chunk holding the control named ``name``."""
    chunks = page.split('<div class="field')
    found = [chunk for chunk in chunks[1:] if f'name="{name}"' in chunk]
    assert len(found) == 1, f"no single field container for {name}"
    return found[0]


def control(page: str, name: str) -> str:
    """The opening tag of the input, select or textarea named ``name``."""
    match = re.search(rf'<(?:input|select|textarea)\b[^>]*\bname="{name}"[^>]*>', page)
    assert match, f"no control named {name}"
    return match[0]


def selected_value(page: str, name: str) -> str | None:
    """The value of the selected option in the select named ``name``."""
    select = re.search(rf'<select\b[^>]*\bname="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select, f"no select named {name}"
    chosen = re.search(r'<option\b(?=[^>]*\bselected\b)[^>]*\bvalue="([^"]*)"', select[1])
    return chosen[1] if chosen else None


def input_value(page: str, name: str) -> str | None:
    """The value of the input named ``name`` (the time zone is a text box with a datalist)."""
    box = re.search(rf'<input\b[^>]*\bname="{name}"[^>]*>', page)
    assert box, f"no input named {name}"
    value = re.search(r'\bvalue="([^"]*)"', box[0])
    return value[1] if value else None


# --- the create form -----------------------------------------------------------------------


def test_new_page_shows_every_contract_field(client):
    response = client.get("/shares/new")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for name in FORM_FIELDS:
        assert f'name="{name}"' in page, name
    assert 'name="csrf_token"' in page


def test_new_page_offers_every_source_type_and_period_type(client):
    page = client.get("/shares/new").get_data(as_text=True)

    source_select = re.search(r'<select[^>]*name="source_type".*?</select>', page, re.S)[0]
    values = re.findall(r'<option[^>]*value="([^"]+)"', source_select)
    assert values == [member.value for member in SourceType]
    assert len(values) == 36 and "listItem" in values
    period_select = re.search(r'<select[^>]*name="period_type".*?</select>', page, re.S)[0]
    assert re.findall(r'<option[^>]*value="([^"]+)"', period_select) == [
        "days", "weeks", "months", "years", "absolute_date", "absolute_week", "absolute_month",
    ]  # fmt: skip
    assert len(PeriodType) == 7


def test_new_page_preselects_the_default_zone(client, tmp_path):
    assert input_value(client.get("/shares/new").get_data(as_text=True), "timezone") == "UTC"

    (tmp_path / "melbourne").mkdir()
    app = make_app(tmp_path / "melbourne", DEFAULT_TIMEZONE=MELBOURNE)
    page = signed_in(app, "agent").get("/shares/new").get_data(as_text=True)
    assert input_value(page, "timezone") == MELBOURNE
    assert 'value="Pacific/Auckland"' in page
    with app.app_context():
        db.engine.dispose()


def test_new_page_marks_the_required_fields(client):
    page = client.get("/shares/new").get_data(as_text=True)
    for name in ("profile_id", "source_type", "source_id"):
        assert re.search(r"\brequired\b", control(page, name)), name
        assert 'class="req"' in field_block(page, name), name
    for name in ("code", "period", "meta"):
        assert not re.search(r"\brequired\b", control(page, name)), name


@pytest.mark.parametrize("token", [None, "", "not-a-real-token"])
def test_post_without_a_valid_csrf_token_is_refused(app, client, token):
    data = valid_form()
    if token is not None:
        data["csrf_token"] = token
    client.get("/shares/new")  # a session exists, so only the token is missing

    response = client.post("/shares/new", data=data)

    assert response.status_code == 400
    assert "text/html" in response.content_type
    assert factories.share_count(app) == 0


def test_valid_post_redirects_to_the_share_with_a_flash(app, client):
    response = post_form(client, valid_form(is_cloneable="y"))

    assert response.status_code == 302
    [share] = factories.stored_shares(app)
    assert response.headers["Location"] == f"/shares/{share.id}"
    assert share.profile_id == "customer-9"
    assert share.source_type is SourceType.REWARD and share.source_id == 77
    assert share.timezone == MELBOURNE
    assert (share.period, share.period_type) == (2, PeriodType.WEEKS)
    assert share.code == "WELCOME"
    assert share.meta == ["campaign:summer", "channel:app", "third"]
    assert share.is_cloneable is True and share.remaining_quantity is None
    assert share.absolute_expiry is None
    expected = resolve_expiry(created_at=share.created_at, tz=MELBOURNE, period=2,
                              period_type="weeks")  # fmt: skip
    assert share.expires_at == expected

    detail = client.get(response.headers["Location"])
    page = detail.get_data(as_text=True)
    assert detail.status_code == 200
    assert f"Share {share.handle} created for profile customer-9." in page
    assert share.handle in page and to_utc_z(share.expires_at) in page
    # The flash is shown once.
    assert "created for profile" not in client.get(f"/shares/{share.id}").get_data(as_text=True)


def test_valid_post_applies_the_contract_defaults(app, client):
    data = valid_form(timezone="", period="", period_type="", code="", meta="")
    response = post_form(client, data)

    assert response.status_code == 302
    [share] = factories.stored_shares(app)
    assert share.timezone == "UTC"
    assert (share.period, share.period_type, share.expires_at) == (None, None, None)
    assert share.code is None and share.meta is None
    assert share.is_cloneable is False and share.remaining_quantity == 1
    assert share.quantity == 1


INVALID = {
    "profile_id": ("   ", "The profile id field is required."),
    "source_id": ("-5", "The source id field must be between 1 and 9223372036854775807."),
    "code": ("c" * 256, "The code field must not be greater than 255 characters."),
    "period": ("", "The period field is required when the period type is weeks."),
    "remaining_quantity": ("3", "must be 0 or 1 when the share is not cloneable."),
    "timezone": ("Mars/Olympus_Mons", "The timezone field must be a valid IANA time zone"),
}


def test_invalid_post_renders_each_error_next_to_its_field(app, client):
    data = valid_form(**{name: value for name, (value, _) in INVALID.items()})

    response = post_form(client, data)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for name, (_, message) in INVALID.items():
        block = field_block(page, name)
        error = re.search(r'<p class="error" id="([^"]+)">(.*?)</p>', block, re.S)
        assert error, f"no error next to {name}"
        assert message in html.unescape(error[2]), name
        tag = control(block, name)
        described_by = re.search(r'aria-describedby="([^"]*)"', tag)
        assert described_by and error[1] in described_by[1].split(), name
        assert 'aria-invalid="true"' in tag
    assert factories.share_count(app) == 0


def test_invalid_post_keeps_the_typed_values(app, client):
    data = valid_form(profile_id="keep-me", source_id="abc", source_type="listItem",
                      code="KEEP", meta="one\ntwo", is_cloneable="y")  # fmt: skip
    data["timezone"] = "America/New_York"

    response = post_form(client, data)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="keep-me"' in control(page, "profile_id")
    assert 'value="abc"' in control(page, "source_id")
    assert 'value="KEEP"' in control(page, "code")
    assert 'value="2"' in control(page, "period")
    assert selected_value(page, "source_type") == "listItem"
    assert selected_value(page, "period_type") == "weeks"
    assert input_value(page, "timezone") == "America/New_York"
    assert re.search(r"\bchecked\b", control(page, "is_cloneable"))
    assert re.search(r'<textarea[^>]*name="meta"[^>]*>\s*one\ntwo</textarea>', page)
    assert "The source id field must be an integer." in field_block(page, "source_id")
    assert factories.share_count(app) == 0


# --- the list and detail pages -------------------------------------------------------------


def test_home_is_the_dashboard_with_a_way_to_the_list(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>What is happening</h1>" in page
    assert 'href="/shares"' in page


def test_list_page_when_empty(client):
    response = client.get("/shares")
    assert response.status_code == 200
    assert "No shares yet." in response.get_data(as_text=True)


def test_list_shows_newest_first_with_handle_profile_and_expiry(app, client):
    expires_at = utcnow() + timedelta(days=13, hours=2)
    made = factories.shares(
        app, *({"profile_id": f"profile-{n:02d}", "expires_at": expires_at} for n in range(1, 31))
    )

    first = client.get("/shares")

    assert first.status_code == 200
    page = first.get_data(as_text=True)
    shown = re.findall(r"profile-(\d\d)", page)
    assert shown[0] == "30"
    assert shown == sorted(shown, reverse=True)
    newest = made[-1]
    assert factories.handle_of(app, newest) in page
    assert f'href="/shares/{newest}"' in page
    assert "in 13 days" in page
    next_link = re.search(r'<a\s[^>]*?href="([^"]+)"[^>]*\brel="next"', page)
    assert next_link, "no link to the next page"
    assert "2" in next_link[1]

    second = client.get(html.unescape(next_link[1]))
    assert second.status_code == 200
    older = re.findall(r"profile-(\d\d)", second.get_data(as_text=True))
    assert older and older == sorted(older, reverse=True) and "01" in older
    assert not set(older) & set(shown)
    assert set(shown) | set(older) == {f"{n:02d}" for n in range(1, 31)}


def table_row(page: str, text: str) -> str:
    """The ``<tr>`` of the list table that contains ``text``."""
    rows = [row for row in re.findall(r"<tr>.*?</tr>", page, re.S) if text in row]
    assert len(rows) == 1, f"no single row with {text}"
    return rows[0]


def test_list_shows_never_and_past_expiries(app, client):
    factories.share(app, profile_id="forever-01")
    lapsed = utcnow() - timedelta(days=2, hours=1)
    factories.share(app, profile_id="lapsed-01", expires_at=lapsed)
    soon = utcnow() + timedelta(hours=5, minutes=10)
    factories.share(app, profile_id="soon-01", expires_at=soon)
    page = client.get("/shares").get_data(as_text=True)
    assert "never" in table_row(page, "forever-01")
    assert "expired 2 days ago" in table_row(page, "lapsed-01")
    assert "in 5 hours" in table_row(page, "soon-01")


def test_detail_page_404_for_a_missing_share(client):
    response = client.get("/shares/4242")
    assert response.status_code == 404
    assert "text/html" in response.content_type


def test_output_is_escaped(app, client):
    response = post_form(client, valid_form(profile_id=XSS, code=XSS, meta=XSS))
    assert response.status_code == 302
    [share] = factories.stored_shares(app)
    assert share.profile_id == XSS

    for path in ("/shares", f"/shares/{share.id}"):
        page = client.get(path).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path
        assert XSS not in page, path


# --- the expiry preview fragment -----------------------------------------------------------


def preview(client, data: dict, **kwargs):
    return client.post("/shares/preview", data=data, **kwargs)


def expected_expiry(period: int, period_type: str, tz: str):
    """The expiry of a share created now with these period fields."""
    return resolve_expiry(created_at=utcnow(), tz=tz, period=period, period_type=period_type)


def assert_preview_shows(page: str, expires_at, tz: str) -> None:
    local = expires_at.astimezone(ZoneInfo(tz))
    text = f"{WEEKDAYS[local.weekday()]} {local:%Y-%m-%d %H:%M:%S %Z}"
    assert text in page
    assert to_utc_z(expires_at) in page


@pytest.mark.parametrize("send_token", ["form", "header"])
def test_preview_shows_local_expiry_utc_instant_and_weekday(app, client, send_token):
    token = csrf_token(client, "/shares/new")
    fields = {"timezone": MELBOURNE, "period": "2", "period_type": "weeks"}
    data = {**fields, "csrf_token": token} if send_token == "form" else fields
    headers = {"X-CSRFToken": token} if send_token == "header" else {}

    before = expected_expiry(2, "weeks", MELBOURNE)
    response = preview(client, data, headers=headers)
    after = expected_expiry(2, "weeks", MELBOURNE)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<html" not in page  # a fragment, not a page
    shown = [value for value in {before, after} if to_utc_z(value) in page]
    assert len(shown) == 1, page
    assert_preview_shows(page, shown[0], MELBOURNE)
    assert "23:59:59" in page
    assert factories.share_count(app) == 0


def test_preview_of_an_explicit_expiry(client):
    token = csrf_token(client, "/shares/new")
    data = {"csrf_token": token, "timezone": MELBOURNE, "expires_at": "2026-12-13T23:59:59"}
    page = preview(client, data).get_data(as_text=True)
    assert "2026-12-13T12:59:59Z" in page
    assert "Sunday 2026-12-13 23:59:59 AEDT" in page


@pytest.mark.parametrize(("days", "warned"), [(-1, True), (1, False)])
def test_preview_warns_that_a_past_expiry_makes_a_share_born_expired(client, days, warned):
    token = csrf_token(client, "/shares/new")
    day = (utcnow() + timedelta(days=days)).date().isoformat()
    page = preview(client, {"csrf_token": token, "expires_at": day}).get_data(as_text=True)
    warning = "This date is in the past: the share will be born expired."
    assert (warning in page) is warned


def test_preview_names_the_missing_period(app, client):
    data = {"csrf_token": csrf_token(client, "/shares/new"), "period_type": "weeks", "period": ""}

    response = preview(client, data)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "The period field is required when the period type is weeks." in page
    assert not re.search(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z", page)
    assert factories.share_count(app) == 0


def test_preview_with_a_full_valid_form_stores_nothing(app, client):
    data = {"csrf_token": csrf_token(client, "/shares/new"), **valid_form()}
    response = preview(client, data)
    assert response.status_code == 200
    assert factories.share_count(app) == 0


def test_preview_needs_the_csrf_token(app, client):
    client.get("/shares/new")
    response = preview(client, {"timezone": MELBOURNE, "period": "2", "period_type": "weeks"})
    assert response.status_code == 400
    assert factories.share_count(app) == 0
